/* layernorm.c - LayerNorm over the last dimension, rows in parallel. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

#define ROWS_PER_TASK 16

typedef struct {
    float *out, *mean, *rstd, *dinp, *dw, *db;
    const float *inp, *w, *b, *dout, *cmean, *crstd;
    int N, C;
    float eps;
} LnCtx;

static void ln_fwd_task(void *vctx, int task) {
    LnCtx *c = vctx;
    int n0 = task * ROWS_PER_TASK, n1 = n0 + ROWS_PER_TASK < c->N ? n0 + ROWS_PER_TASK : c->N;
    int C = c->C;
    for (int n = n0; n < n1; n++) {
        const float *x = c->inp + (size_t)n * C;
        float *y = c->out + (size_t)n * C;
        double m = 0.0;
        for (int i = 0; i < C; i++) m += x[i];
        m /= C;
        double v = 0.0;
        for (int i = 0; i < C; i++) {
            double d = x[i] - m;
            v += d * d;
        }
        v /= C;
        float s = (float)(1.0 / sqrt(v + c->eps));
        float mf = (float)m;
        for (int i = 0; i < C; i++) y[i] = (x[i] - mf) * s * c->w[i] + c->b[i];
        c->mean[n] = mf;
        c->rstd[n] = s;
    }
}

void sk_layernorm_forward(SkPool *pool, float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C, float eps) {
    LnCtx c = {.out = out, .mean = mean, .rstd = rstd, .inp = inp, .w = w, .b = b, .N = N, .C = C,
               .eps = eps};
    sk_pool_run(pool, (N + ROWS_PER_TASK - 1) / ROWS_PER_TASK, ln_fwd_task, &c);
}

/* dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dout * w */
static void ln_bwd_input_task(void *vctx, int task) {
    LnCtx *c = vctx;
    int n0 = task * ROWS_PER_TASK, n1 = n0 + ROWS_PER_TASK < c->N ? n0 + ROWS_PER_TASK : c->N;
    int C = c->C;
    for (int n = n0; n < n1; n++) {
        const float *x = c->inp + (size_t)n * C, *dy = c->dout + (size_t)n * C;
        float *dx = c->dinp + (size_t)n * C;
        float m = c->cmean[n], s = c->crstd[n];
        float gm = 0.0f, gxm = 0.0f;
        for (int i = 0; i < C; i++) {
            float g = dy[i] * c->w[i];
            gm += g;
            gxm += g * (x[i] - m) * s;
        }
        gm /= C;
        gxm /= C;
        for (int i = 0; i < C; i++) {
            float xhat = (x[i] - m) * s;
            dx[i] += s * (dy[i] * c->w[i] - gm - xhat * gxm);
        }
    }
}

/* Weight gradients: each task owns a slice of columns, so the sums stay in a fixed
 * order (bit-for-bit repeatable) with no atomics. */
#define COLS_PER_TASK 64
static void ln_bwd_weight_task(void *vctx, int task) {
    LnCtx *c = vctx;
    int c0 = task * COLS_PER_TASK, c1 = c0 + COLS_PER_TASK < c->C ? c0 + COLS_PER_TASK : c->C;
    int C = c->C;
    for (int n = 0; n < c->N; n++) {
        const float *x = c->inp + (size_t)n * C, *dy = c->dout + (size_t)n * C;
        float m = c->cmean[n], s = c->crstd[n];
        for (int i = c0; i < c1; i++) {
            if (c->dw) c->dw[i] += dy[i] * (x[i] - m) * s;
            if (c->db) c->db[i] += dy[i];
        }
    }
}

void sk_layernorm_backward(SkPool *pool, float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean, const float *rstd,
                           int N, int C) {
    LnCtx c = {.dinp = dinp, .dw = dw, .db = db, .dout = dout, .inp = inp, .w = w, .cmean = mean,
               .crstd = rstd, .N = N, .C = C};
    if (dinp) sk_pool_run(pool, (N + ROWS_PER_TASK - 1) / ROWS_PER_TASK, ln_bwd_input_task, &c);
    if (dw || db) sk_pool_run(pool, (C + COLS_PER_TASK - 1) / COLS_PER_TASK, ln_bwd_weight_task, &c);
}
