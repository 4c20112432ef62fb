/* panel_chart.c - every run's validation accuracy (or training loss) against steps
 * (or training seconds), in the runs' colours. Loss is averaged over the steps that
 * share a chart column, so a noisy curve stays readable. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "workbench.h"

/* Averages points into at most `buckets` groups of consecutive points. */
static int smooth(float *x, float *y, int n, int buckets) {
    if (n <= buckets || buckets < 2) return n;
    int m = 0;
    for (int b = 0; b < buckets; b++) {
        int lo = (int)((long)n * b / buckets), hi = (int)((long)n * (b + 1) / buckets);
        if (hi <= lo) continue;
        double sx = 0, sy = 0;
        for (int i = lo; i < hi; i++) sx += x[i], sy += y[i];
        x[m] = (float)(sx / (hi - lo)), y[m] = (float)(sy / (hi - lo));
        m++;
    }
    return m;
}

void PanelChart_draw(Workbench *wb, Rect r, const RunView *v, int n) {
    bool focus = wb->focus == FOCUS_CHART && wb->dialog == DLG_NONE;
    char title[96];
    snprintf(title, sizeof title, "%s vs %s (l/a, t)", wb->chart_loss ? "training loss" : "validation accuracy",
             wb->chart_time ? "seconds" : "step");
    Crt_box(r.y, r.x, r.h, r.w, title, focus);
    ChartSeries s[64];
    char names[64][24];
    int ns = 0;
    for (int i = 0; i < n && ns < 64; i++) {
        float *x, *y;
        int k = Wb_series(wb, v[i].id, wb->chart_loss, wb->chart_time, &x, &y);
        if (!x || !y) {
            free(x), free(y);
            continue;
        }
        if (wb->chart_loss) k = smooth(x, y, k, (r.w - 8) * 2);
        snprintf(names[ns], sizeof names[ns], "%d %s", v[i].id, v[i].label);
        s[ns] = (ChartSeries){x, y, k, Crt_series_attr(v[i].series), names[ns]};
        ns++;
    }
    Chart_draw(r.y + 1, r.x + 1, r.h - 2, r.w - 2, s, ns, wb->chart_time ? "s" : "step", !wb->chart_loss);
    for (int i = 0; i < ns; i++) free((void *)s[i].x), free((void *)s[i].y);
}

bool PanelChart_key(Workbench *wb, int is_key, wint_t ch) {
    if (is_key) return false;
    switch (ch) {
    case 'l': wb->chart_loss = true; return true;
    case 'a': wb->chart_loss = false; return true;
    case 't': wb->chart_time = !wb->chart_time; return true;
    default: return false;
    }
}
