/* panel_examples.c - a few validation inputs (one per class in turn) with the current
 * prompt's zero-shot prediction and its probability, next to the true label. */
#include <stdio.h>
#include <string.h>

#include "workbench.h"

void PanelExamples_draw(Workbench *wb, Rect r) {
    Crt_box(r.y, r.x, r.h, r.w, "Examples (validation, zero-shot with this prompt)", false);
    ScorerResult res;
    bool current = Wb_score(wb, &res) && res.ok;
    const SkDataset *ex = &wb->scorer.examples;
    int rows = r.h - 2;
    for (int i = 0; i < ex->n && i < rows; i++) {
        int y = r.y + 1 + i, x = r.x + 2, w = r.w - 4;
        const char *gold = ex->labels[ex->ex[i].label];
        char pred[96];
        int a = Crt_attr(CRT_DIM);
        if (current && i < res.n_examples) {
            bool ok = res.pred[i] == ex->ex[i].label;
            snprintf(pred, sizeof pred, "%-10.10s %.2f %s", ex->labels[res.pred[i]], res.prob[i], ok ? "ok " : "no ");
            a = Crt_attr(ok ? CRT_GOOD : CRT_BAD);
        } else {
            snprintf(pred, sizeof pred, "%-10.10s %4s    ", "...", "");
        }
        int used = Crt_put(y, x, w, pred, a);
        char gold_s[64];
        snprintf(gold_s, sizeof gold_s, "(%.10s) ", gold);
        used += Crt_put(y, x + used, w - used, gold_s, Crt_attr(CRT_DIM));
        char text[512];
        snprintf(text, sizeof text, "\"%s\"", ex->ex[i].text);
        for (char *p = text; *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t') *p = ' ';
        Crt_put(y, x + used, w - used, text, 0);
    }
}
