/* dialog_compare.c - finished runs side by side: trainable parameters, best and final
 * validation accuracy, steps to a target (0.9 x the best final accuracy among them),
 * seconds per step; SK-Tuning's four claims judged from those numbers by the engine
 * (sk_claims_judge, as `sktune compare` does), on whatever runs are here; export as
 * Markdown, CSV, JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workbench.h"

#define TARGET_FRAC 0.9

typedef struct Row {
    RunView v;
    double s_per_step;
    int to_target; /* -1: not reached */
} Row;

typedef struct Table {
    Row *rows;
    int n;
    double target;
    SkClaims claims; /* the engine's rules, as `sktune compare` applies them */
} Table;

/* What one method's runs here reached, averaged over them, as the claims' rules take it
 * (steps to the target only when every run reached it). */
static SkMethodResult aggregate(const Table *t, SkMethodKind k) {
    SkMethodResult a = {0};
    int n = 0, reached = 0;
    double steps = 0;
    for (int i = 0; i < t->n; i++) {
        const Row *r = &t->rows[i];
        if (r->v.kind != k || strncmp(r->v.label, "file:", 5) == 0) continue;
        n++;
        a.params += (double)r->v.params, a.accuracy += r->v.score, a.ms_per_step += 1000 * r->s_per_step;
        if (r->to_target >= 0) reached++, steps += r->to_target;
    }
    if (n) a.params /= n, a.accuracy /= n, a.ms_per_step /= n;
    a.present = n > 0;
    a.steps_to_target = n && reached == n ? steps / n : -1;
    return a;
}

static void build(Workbench *wb, Table *t) {
    memset(t, 0, sizeof *t);
    RunView *v;
    int n = Wb_snapshot(wb, &v);
    t->rows = calloc((size_t)(n ? n : 1), sizeof *t->rows);
    double best = 0;
    for (int i = 0; t->rows && i < n; i++) {
        if ((v[i].state != RUN_DONE && v[i].state != RUN_STOPPED) || !isfinite(v[i].score)) continue;
        Row *r = &t->rows[t->n++];
        r->v = v[i];
        r->s_per_step = v[i].step > 0 ? v[i].seconds / v[i].step : NAN;
        best = fmax(best, v[i].score);
    }
    free(v);
    t->target = TARGET_FRAC * best;
    for (int i = 0; i < t->n; i++) {
        float *x, *y;
        int k = Wb_series(wb, t->rows[i].v.id, false, false, &x, &y);
        t->rows[i].to_target = -1;
        for (int j = 0; j < k; j++)
            if (y[j] >= t->target) {
                t->rows[i].to_target = (int)x[j];
                break;
            }
        free(x), free(y);
    }
    SkMethodResult sk = aggregate(t, SK_M_SK_PREFIX), pre = aggregate(t, SK_M_PREFIX_TUNING),
                   pro = aggregate(t, SK_M_PROMPT_TUNING);
    sk_claims_judge(&sk, &pre, &pro, &t->claims);
}

static void row_text(const Row *r, char *buf, size_t cap) {
    char params[16], tt[16], sps[16];
    Crt_count(params, sizeof params, (double)r->v.params);
    snprintf(tt, sizeof tt, r->to_target >= 0 ? "%d" : "-", r->to_target);
    snprintf(sps, sizeof sps, isfinite(r->s_per_step) ? "%.0f" : "-", 1000 * r->s_per_step);
    snprintf(buf, cap, "%-3d %-16.16s %7s %5.1f @%-5d %5.1f %6s %7s %6.0f", r->v.id, r->v.label, params,
             100 * r->v.best_score, r->v.best_step, 100 * r->v.score, tt, sps, r->v.seconds);
}

void DialogCompare_draw(Workbench *wb) {
    Table t;
    build(wb, &t);
    int want_h = (t.n > 0 ? t.n : 1) + 10;
    Rect r = Dialog_frame(want_h < LINES - 2 ? want_h : LINES - 2, COLS - 4 > 110 ? 110 : COLS - 4,
                          "Compare finished runs (e: export, Esc: close)");
    int x = r.x + 2, w = r.w - 4, y = r.y + 1;
    char line[256];
    snprintf(line, sizeof line, "%-3s %-16s %7s %11s %5s %6s %7s %6s", "#", "method", "params", "best @step", "final",
             "target", "ms/step", "time s");
    Crt_put(y++, x, w, line, Crt_attr(CRT_HEADER));
    int rows = r.h - 8;
    if (t.n == 0) Crt_put(y, x, w, "no finished runs yet", Crt_attr(CRT_DIM));
    for (int i = wb->compare_scroll; i < t.n && i - wb->compare_scroll < rows; i++) {
        row_text(&t.rows[i], line, sizeof line);
        Crt_put(y + i - wb->compare_scroll, x, w, line, Crt_series_attr(t.rows[i].v.series));
    }
    y = r.y + r.h - 6;
    snprintf(line, sizeof line, "target: validation accuracy %.3f (%.1f x the best final score here)", t.target, TARGET_FRAC);
    Crt_put(y++, x, w, line, Crt_attr(CRT_DIM));
    for (int c = 0; c < 4; c++)
        Crt_put(y++, x, w, t.claims.text[c],
                Crt_attr(t.claims.holds[c] < 0 ? CRT_DIM : t.claims.holds[c] ? CRT_GOOD : CRT_BAD));
    free(t.rows);
}

void DialogCompare_key(Workbench *wb, int is_key, wint_t ch) {
    if (is_key && ch == KEY_DOWN) wb->compare_scroll++;
    else if (is_key && ch == KEY_UP && wb->compare_scroll > 0) wb->compare_scroll--;
    else if (!is_key && ch == 'e') {
        char base[1024];
        SkError err;
        if (DialogCompare_export(wb, base, sizeof base, &err) != 0) Wb_status(wb, true, "export: %s", err.msg);
        else Wb_status(wb, false, "wrote %s.md, .csv and .json", base);
    } else {
        wb->dialog = DLG_NONE;
    }
}

int DialogCompare_export(Workbench *wb, char *base, size_t cap, SkError *err) {
    Table t;
    build(wb, &t);
    if (t.n == 0) {
        free(t.rows);
        return sk_err(err, "no finished runs to export");
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(base, cap, "runs/compare-%s", stamp);
    size_t big = 4096 + (size_t)t.n * 512;
    char *md = malloc(big), *csv = malloc(big);
    cJSON *js = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(js, "runs"), *claims = cJSON_AddArrayToObject(js, "claims");
    int rc = 0;
    if (!md || !csv) rc = sk_err(err, "out of memory");
    size_t m = 0, c = 0;
    if (rc == 0) {
        m += (size_t)snprintf(md + m, big - m, "model `%s`, task `%s`; target %.3f\n\n"
                              "| # | method | params | best | best step | final | steps to target | ms/step | seconds | folder |\n"
                              "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
                              wb->session.model_dir, wb->session.task_name, t.target);
        c += (size_t)snprintf(csv + c, big - c, "id,method,params,best,best_step,final,steps_to_target,ms_per_step,seconds,folder\n");
        cJSON_AddStringToObject(js, "model", wb->session.model_dir);
        cJSON_AddStringToObject(js, "task", wb->session.task_name);
        cJSON_AddNumberToObject(js, "target", t.target);
    }
    for (int i = 0; rc == 0 && i < t.n; i++) {
        const Row *r = &t.rows[i];
        m += (size_t)snprintf(md + m, big - m, "| %d | %s | %lld | %.4f | %d | %.4f | %s%d | %.0f | %.1f | %s |\n", r->v.id,
                              r->v.label, (long long)r->v.params, r->v.best_score, r->v.best_step, r->v.score,
                              r->to_target >= 0 ? "" : "not reached ", r->to_target, 1000 * r->s_per_step,
                              r->v.seconds, r->v.out_dir);
        c += (size_t)snprintf(csv + c, big - c, "%d,%s,%lld,%.6f,%d,%.6f,%d,%.1f,%.2f,%s\n", r->v.id, r->v.label,
                              (long long)r->v.params, r->v.best_score, r->v.best_step, r->v.score, r->to_target,
                              1000 * r->s_per_step, r->v.seconds, r->v.out_dir);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", r->v.id);
        cJSON_AddStringToObject(o, "method", r->v.label);
        cJSON_AddNumberToObject(o, "params", (double)r->v.params);
        cJSON_AddNumberToObject(o, "best", r->v.best_score);
        cJSON_AddNumberToObject(o, "best_step", r->v.best_step);
        cJSON_AddNumberToObject(o, "final", r->v.score);
        if (r->to_target >= 0) cJSON_AddNumberToObject(o, "steps_to_target", r->to_target);
        else cJSON_AddNullToObject(o, "steps_to_target");
        cJSON_AddNumberToObject(o, "ms_per_step", 1000 * r->s_per_step);
        cJSON_AddNumberToObject(o, "seconds", r->v.seconds);
        cJSON_AddStringToObject(o, "folder", r->v.out_dir);
        cJSON_AddItemToArray(arr, o);
    }
    if (rc == 0) {
        m += (size_t)snprintf(md + m, big - m, "\n");
        for (int k = 0; k < 4; k++) {
            m += (size_t)snprintf(md + m, big - m, "- %s\n", t.claims.text[k]);
            cJSON_AddItemToArray(claims, cJSON_CreateString(t.claims.text[k]));
        }
    }
    char *json = rc == 0 ? cJSON_Print(js) : NULL;
    char path[1100];
    if (rc == 0) snprintf(path, sizeof path, "%s.md", base), rc = sk_write_file_atomic(path, md, m, err);
    if (rc == 0) snprintf(path, sizeof path, "%s.csv", base), rc = sk_write_file_atomic(path, csv, c, err);
    if (rc == 0 && json) snprintf(path, sizeof path, "%s.json", base), rc = sk_write_file_atomic(path, json, strlen(json), err);
    free(json), free(md), free(csv), free(t.rows);
    cJSON_Delete(js);
    return rc;
}
