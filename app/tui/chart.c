/* chart.c - line charts in a terminal rectangle: braille dots (2x4 per cell) under a
 * UTF-8 locale, one '*' per cell otherwise; y labels on the left, x ticks below, a
 * legend on top in the series' colours. Where two series cross, the later one wins. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

typedef struct Canvas {
    int cw, ch;           /* cells */
    int sx, sy;           /* dots per cell: 2x4 braille, 1x1 ASCII */
    unsigned char *bits;  /* [ch * cw] */
    signed char *owner;   /* series drawn last in the cell, -1 none */
} Canvas;

static void dot(Canvas *c, int px, int py, int series) {
    if (px < 0 || py < 0 || px >= c->cw * c->sx || py >= c->ch * c->sy) return;
    int cx = px / c->sx, cy = py / c->sy, dx = px % c->sx, dy = py % c->sy;
    /* braille dot numbering: columns of 1,2,3,7 and 4,5,6,8 */
    static const unsigned char bit[2][4] = {{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}};
    c->bits[cy * c->cw + cx] |= c->sx == 2 ? bit[dx][dy] : 1;
    c->owner[cy * c->cw + cx] = (signed char)series;
}

static void line(Canvas *c, int x0, int y0, int x1, int y1, int series) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) { /* Bresenham */
        dot(c, x0, y0, series);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

static void fmt_num(char *buf, size_t cap, double v) {
    double a = fabs(v);
    if (a >= 1e4) snprintf(buf, cap, "%.0fk", v / 1e3);
    else if (a >= 100) snprintf(buf, cap, "%.0f", v);
    else if (a >= 10) snprintf(buf, cap, "%.1f", v);
    else snprintf(buf, cap, "%.2f", v);
}

void Chart_draw(int y, int x, int h, int w, const ChartSeries *s, int ns, const char *x_label, bool fixed_01) {
    const Glyphs *g = crt_glyphs;
    int label_w = 5, ph = h - 3, pw = w - label_w - 1;
    if (ph < 2 || pw < 8) return;
    /* legend: names when they fit on the row, else just the run numbers (the runs table
     * has the names in the same colours) */
    int lx = x + label_w + 1, need = 0;
    for (int i = 0; i < ns; i++) need += s[i].name ? Crt_width(s[i].name) + 2 : 0;
    bool full = need <= x + w - lx;
    for (int i = 0; i < ns && lx < x + w - 3; i++) {
        if (!s[i].name) continue;
        char item[96];
        if (full) snprintf(item, sizeof item, "%s%s ", crt_utf8 ? "━" : "-", s[i].name);
        else snprintf(item, sizeof item, "%s%.*s ", crt_utf8 ? "━" : "-", (int)strcspn(s[i].name, " "), s[i].name);
        lx += Crt_put(y, lx, x + w - lx, item, s[i].attr);
    }
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < s[i].n; k++) {
            if (!isfinite(s[i].x[k]) || !isfinite(s[i].y[k])) continue;
            x0 = fmin(x0, s[i].x[k]), x1 = fmax(x1, s[i].x[k]);
            y0 = fmin(y0, s[i].y[k]), y1 = fmax(y1, s[i].y[k]);
        }
    int top = y + 1;
    if (!isfinite(x0)) {
        Crt_put(top + ph / 2, x + label_w + 2, pw - 2, "no data yet: start a run with n (or F5)", Crt_attr(CRT_DIM));
        x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    }
    x0 = fmin(x0, 0);
    if (x1 <= x0) x1 = x0 + 1;
    if (fixed_01) y0 = fmin(y0, 0.0), y1 = fmax(y1, 1.0);
    if (y1 - y0 < 1e-6) y0 -= 0.5, y1 += 0.5;
    if (!fixed_01) { /* a little head room */
        double pad = 0.05 * (y1 - y0);
        y0 = y0 - pad < 0 && y0 >= 0 ? 0 : y0 - pad;
        y1 += pad;
    }
    /* axes and labels */
    int ax = x + label_w;
    int dim = Crt_attr(CRT_DIM);
    for (int r = 0; r < ph; r++) Crt_put(top + r, ax, 1, g->axis_v, dim);
    Crt_put(top + ph, ax, 1, g->axis_corner, dim);
    for (int c = 1; c <= pw; c++) Crt_put(top + ph, ax + c, 1, g->axis_h, dim);
    for (int k = 0; k < 3; k++) {
        int r = k == 0 ? 0 : k == 1 ? (ph - 1) / 2 : ph - 1;
        double v = y1 - (y1 - y0) * r / (ph > 1 ? ph - 1 : 1);
        char buf[16];
        fmt_num(buf, sizeof buf, v);
        Crt_put(top + r, ax - 1 - Crt_width(buf), label_w, buf, dim);
        Crt_put(top + r, ax, 1, g->axis_tick_v, dim);
    }
    int n_ticks = pw >= 40 ? 4 : 2;
    int last_end = -1;
    for (int k = 0; k <= n_ticks; k++) {
        int c = (int)((double)(pw - 1) * k / n_ticks);
        double v = x0 + (x1 - x0) * k / n_ticks;
        char buf[16];
        if (x1 - x0 >= 5) snprintf(buf, sizeof buf, "%.0f", v);
        else fmt_num(buf, sizeof buf, v);
        Crt_put(top + ph, ax + 1 + c, 1, g->axis_tick_h, dim);
        int bx = ax + 1 + c - Crt_width(buf) / 2;
        if (bx > last_end && bx + Crt_width(buf) <= x + w) last_end = bx + Crt_put(top + ph + 1, bx, Crt_width(buf), buf, dim);
    }
    if (x_label) {
        int lw = Crt_width(x_label);
        if (x + w - lw > last_end + 1) Crt_put(top + ph + 1, x + w - lw, lw, x_label, dim);
    }
    /* the curves */
    Canvas cv = {pw, ph, crt_utf8 ? 2 : 1, crt_utf8 ? 4 : 1, calloc((size_t)(pw * ph), 1), malloc((size_t)(pw * ph))};
    if (!cv.bits || !cv.owner) {
        free(cv.bits), free(cv.owner);
        return;
    }
    memset(cv.owner, -1, (size_t)(pw * ph));
    int W = pw * cv.sx, H = ph * cv.sy;
    for (int i = 0; i < ns; i++) {
        int px_prev = -1, py_prev = -1;
        for (int k = 0; k < s[i].n; k++) {
            if (!isfinite(s[i].x[k]) || !isfinite(s[i].y[k])) continue;
            int px = (int)lround((s[i].x[k] - x0) / (x1 - x0) * (W - 1));
            int py = (int)lround((1.0 - (s[i].y[k] - y0) / (y1 - y0)) * (H - 1));
            if (px_prev >= 0) line(&cv, px_prev, py_prev, px, py, i);
            else dot(&cv, px, py, i);
            px_prev = px, py_prev = py;
        }
    }
    for (int r = 0; r < ph; r++)
        for (int c = 0; c < pw; c++) {
            unsigned char b = cv.bits[r * pw + c];
            if (!b) continue;
            char cell[8];
            if (cv.sx == 2) { /* U+2800 + bits, as UTF-8 */
                unsigned cp = 0x2800u + b;
                cell[0] = (char)(0xE0 | (cp >> 12)), cell[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
                cell[2] = (char)(0x80 | (cp & 0x3F)), cell[3] = 0;
            } else {
                cell[0] = '*', cell[1] = 0;
            }
            Crt_put(top + r, ax + 1 + c, 1, cell, s[cv.owner[r * pw + c]].attr);
        }
    free(cv.bits), free(cv.owner);
}
