/* test_metrics.c - metrics against values worked out by hand (binary) and with the
 * textbook formulas (multiclass MCC as Gorodkin 2004 / scikit-learn, Spearman with
 * average ranks for ties). */
#include "sk_train.h"
#include "testutil.h"

static bool near(double a, double b) { return fabs(a - b) < 1e-9; }

int main(void) {
    SkMetrics m = {0};
    int g2[8] = {1, 1, 1, 0, 0, 0, 1, 0}, p2[8] = {1, 0, 1, 0, 0, 1, 1, 0};
    sk_metrics_classify(p2, g2, 8, 2, &m);
    /* TP 3, FN 1, FP 1, TN 3 */
    CHECK(near(m.accuracy, 0.75) && near(m.f1, 0.75) && near(m.mcc, 0.5), "binary: acc %g f1 %g mcc %g",
          m.accuracy, m.f1, m.mcc);
    CHECK(m.confusion[1 * 2 + 1] == 3 && m.confusion[1 * 2 + 0] == 1 && m.confusion[0 * 2 + 1] == 1,
          "binary confusion [gold][pred]");
    int g3[8] = {0, 1, 2, 0, 1, 2, 2, 1}, p3[8] = {0, 1, 1, 0, 2, 2, 2, 1};
    sk_metrics_classify(p3, g3, 8, 3, &m);
    CHECK(near(m.accuracy, 0.75) && near(m.f1, 0.7777777777777777) && near(m.mcc, 0.6190476190476191),
          "3 classes: acc %g f1 %.12g mcc %.12g", m.accuracy, m.f1, m.mcc);
    int all[4] = {1, 1, 1, 1};
    sk_metrics_classify(all, all, 4, 2, &m);
    CHECK(near(m.accuracy, 1) && near(m.f1, 1) && near(m.mcc, 0), "one class only: MCC 0, F1 over present classes");
    float x[5] = {1, 2, 2, 3, 5}, y[5] = {1, 3, 2, 4, 4};
    sk_metrics_regress(x, y, 5, &m);
    CHECK(near(m.pearson, 0.8344408667498864) && near(m.spearman, 0.9473684210526315),
          "pearson %.12g spearman %.12g", m.pearson, m.spearman);
    CHECK(near(m.mse, (0 + 1 + 0 + 1 + 1) / 5.0), "mse %g", m.mse);
    CHECK(near(sk_metrics_get(&m, "spearman"), m.spearman) && isnan(sk_metrics_get(&m, "nope")), "metric by name");
    return tu_finish("test_metrics");
}
