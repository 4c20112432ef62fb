/* panel_examples.c - a few validation inputs (one per class in turn) with a prediction
 * and its probability next to the true label: the current prompt's zero-shot one, or,
 * while the runs table has the focus, what the selected run predicts after training. */
#include <stdio.h>
#include <string.h>

#include "workbench.h"

void PanelExamples_draw(Workbench *wb, Rect r, const RunView *v, int n) {
    const RunView *run = wb->focus == FOCUS_RUNS && wb->sel < n && v[wb->sel].n_ex > 0 ? &v[wb->sel] : NULL;
    char title[128];
    if (run) snprintf(title, sizeof title, "Examples (validation, run %d %.40s after training)", run->id, run->label);
    else snprintf(title, sizeof title, "Examples (validation, zero-shot with this prompt)");
    Crt_box(r.y, r.x, r.h, r.w, title, false);
    ScorerResult res;
    bool current = run ? true : Wb_score(wb, &res) && res.ok;
    int n_pred = run ? run->n_ex : current ? res.n_examples : 0;
    const int *pred = run ? run->ex_pred : res.pred;
    const float *prob = run ? run->ex_prob : res.prob;
    const SkDataset *ex = &wb->scorer.examples;
    int rows = r.h - 2;
    for (int i = 0; i < ex->n && i < rows; i++) {
        int y = r.y + 1 + i, x = r.x + 2, w = r.w - 4;
        const char *gold = ex->labels[ex->ex[i].label];
        char text_pred[96];
        int a = Crt_attr(CRT_DIM);
        if (current && i < n_pred) {
            bool ok = pred[i] == ex->ex[i].label;
            snprintf(text_pred, sizeof text_pred, "%-10.10s %.2f %s", ex->labels[pred[i]], prob[i], ok ? "ok " : "no ");
            a = Crt_attr(ok ? CRT_GOOD : CRT_BAD);
        } else {
            snprintf(text_pred, sizeof text_pred, "%-10.10s %4s    ", "...", "");
        }
        int used = Crt_put(y, x, w, text_pred, a);
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
