/* progress.c - terminal progress bar for long work. */
#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "sk_core.h"

void progress_init(Progress *p) {
    p->enabled = isatty(2);
    p->started = sk_now_seconds();
    p->last_draw = 0;
    p->drawn = 0;
}

void progress_update(void *ctx, const char *what, double done, double total) {
    Progress *p = ctx;
    if (!p->enabled) return;
    double now = sk_now_seconds();
    if (done < total && now - p->last_draw < 0.1) return;
    p->last_draw = now;
    double frac = total > 0 ? done / total : 1.0;
    int width = 30, fill = (int)(frac * width + 0.5);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double elapsed = now - p->started;
    double eta = frac > 0.01 ? elapsed / frac - elapsed : 0;
    fprintf(stderr, "\r%-18s [%s] %3.0f%%  %.1fs elapsed, %.1fs left ", what, bar, 100 * frac,
            elapsed, eta);
    fflush(stderr);
    p->drawn = 1;
}

void progress_done(Progress *p) {
    if (p->enabled && p->drawn) fprintf(stderr, "\r\033[K");
    p->drawn = 0;
}
