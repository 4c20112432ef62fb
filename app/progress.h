/* progress.h - a one-line progress bar on stderr, drawn only when stderr is a terminal
 * (quiet in pipes, logs and CI). */
#ifndef SK_PROGRESS_H
#define SK_PROGRESS_H

typedef struct {
    int enabled;
    double started, last_draw;
    int drawn;
} Progress;

void progress_init(Progress *p);
/* An SkProgressFn: ctx is a Progress. */
void progress_update(void *ctx, const char *what, double done, double total);
void progress_done(Progress *p);

#endif
