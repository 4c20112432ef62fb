/* metrics.c - accuracy, macro-F1, multiclass MCC (Gorodkin 2004), confusion matrix;
 * Pearson, Spearman (average ranks for ties) and MSE for regression. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sk_train.h"

void sk_metrics_classify(const int *pred, const int *gold, int n, int C, SkMetrics *m) {
    double loss = m->loss;
    memset(m, 0, sizeof *m);
    m->loss = loss;
    m->n = n, m->n_classes = C;
    int correct = 0;
    for (int i = 0; i < n; i++) {
        if (gold[i] >= 0 && gold[i] < C && pred[i] >= 0 && pred[i] < C) m->confusion[gold[i] * C + pred[i]]++;
        correct += pred[i] == gold[i];
    }
    m->accuracy = n ? (double)correct / n : NAN;
    double f1 = 0;
    int classes = 0;
    for (int c = 0; c < C; c++) {
        int tp = m->confusion[c * C + c], fp = 0, fn = 0;
        for (int k = 0; k < C; k++)
            if (k != c) fp += m->confusion[k * C + c], fn += m->confusion[c * C + k];
        if (tp + fp + fn == 0) continue; /* class absent from gold and predictions */
        f1 += 2.0 * tp / (2.0 * tp + fp + fn);
        classes++;
    }
    m->f1 = classes ? f1 / classes : NAN;
    /* MCC = (c s - sum_k p_k t_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)) */
    double s = n, cc = correct, pt = 0, pp = 0, tt = 0;
    for (int k = 0; k < C; k++) {
        double pk = 0, tk = 0;
        for (int j = 0; j < C; j++) pk += m->confusion[j * C + k], tk += m->confusion[k * C + j];
        pt += pk * tk, pp += pk * pk, tt += tk * tk;
    }
    double den = sqrt((s * s - pp) * (s * s - tt));
    m->mcc = den > 0 ? (cc * s - pt) / den : 0.0;
}

static void ranks(const float *x, int n, double *r) {
    int *idx = malloc((size_t)n * sizeof *idx);
    if (!idx) return;
    for (int i = 0; i < n; i++) idx[i] = i;
    /* insertion sort is fine for evaluation sets; stable and allocation-free */
    for (int i = 1; i < n; i++) {
        int v = idx[i], j = i - 1;
        while (j >= 0 && x[idx[j]] > x[v]) idx[j + 1] = idx[j], j--;
        idx[j + 1] = v;
    }
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && x[idx[j + 1]] == x[idx[i]]) j++;
        double avg = (i + j) / 2.0 + 1.0;
        for (int k = i; k <= j; k++) r[idx[k]] = avg;
        i = j + 1;
    }
    free(idx);
}

static double pearson_d(const double *a, const double *b, int n) {
    double ma = 0, mb = 0;
    for (int i = 0; i < n; i++) ma += a[i], mb += b[i];
    ma /= n, mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0.0;
}

void sk_metrics_regress(const float *pred, const float *gold, int n, SkMetrics *m) {
    double loss = m->loss;
    memset(m, 0, sizeof *m);
    m->loss = loss;
    m->n = n, m->regression = true, m->n_classes = 1;
    double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    if (!a || !b || n == 0) {
        free(a), free(b);
        m->pearson = m->spearman = m->mse = NAN;
        return;
    }
    double mse = 0;
    for (int i = 0; i < n; i++) {
        a[i] = pred[i], b[i] = gold[i];
        mse += (a[i] - b[i]) * (a[i] - b[i]);
    }
    m->mse = mse / n;
    m->pearson = pearson_d(a, b, n);
    ranks(pred, n, a);
    ranks(gold, n, b);
    m->spearman = pearson_d(a, b, n);
    free(a), free(b);
}

double sk_metrics_get(const SkMetrics *m, const char *name) {
    if (!strcmp(name, "accuracy")) return m->accuracy;
    if (!strcmp(name, "f1")) return m->f1;
    if (!strcmp(name, "mcc")) return m->mcc;
    if (!strcmp(name, "pearson")) return m->pearson;
    if (!strcmp(name, "spearman")) return m->spearman;
    if (!strcmp(name, "mse")) return m->mse;
    if (!strcmp(name, "loss")) return m->loss;
    return NAN;
}

static void add_num(cJSON *j, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(j, k, v);
    else cJSON_AddNullToObject(j, k);
}

cJSON *sk_metrics_to_json(const SkMetrics *m, bool confusion) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "n", m->n);
    add_num(j, "loss", m->loss);
    if (m->regression) {
        add_num(j, "pearson", m->pearson);
        add_num(j, "spearman", m->spearman);
        add_num(j, "mse", m->mse);
        return j;
    }
    add_num(j, "accuracy", m->accuracy);
    add_num(j, "f1", m->f1);
    add_num(j, "mcc", m->mcc);
    if (confusion) {
        cJSON *cm = cJSON_CreateArray();
        for (int g = 0; g < m->n_classes; g++) {
            cJSON *row = cJSON_CreateArray();
            for (int p = 0; p < m->n_classes; p++)
                cJSON_AddItemToArray(row, cJSON_CreateNumber(m->confusion[g * m->n_classes + p]));
            cJSON_AddItemToArray(cm, row);
        }
        cJSON_AddItemToObject(j, "confusion", cm);
    }
    return j;
}
