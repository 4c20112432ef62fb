/* rmsnorm.c - RMSNorm over the last dimension (Llama, Mistral, Qwen2), rows in parallel.
 * As Hugging Face's LlamaRMSNorm: the mean square in fp32, no mean subtraction, no bias. */
#include <math.h>

#include "ops/ops.h"

#define ROWS_PER_TASK 16

typedef struct {
    float *out, *rstd, *dinp, *dw;
    const float *inp, *w, *dout, *crstd;
    int N, C;
    float eps;
} RmsCtx;

static void fwd_task(void *vctx, int task) {
    RmsCtx *c = vctx;
    int n0 = task * ROWS_PER_TASK, n1 = n0 + ROWS_PER_TASK < c->N ? n0 + ROWS_PER_TASK : c->N;
    for (int n = n0; n < n1; n++) {
        const float *x = c->inp + (size_t)n * c->C;
        float *y = c->out + (size_t)n * c->C;
        double ss = 0.0;
        for (int i = 0; i < c->C; i++) ss += (double)x[i] * x[i];
        float s = (float)(1.0 / sqrt(ss / c->C + c->eps));
        for (int i = 0; i < c->C; i++) y[i] = x[i] * s * c->w[i];
        c->rstd[n] = s;
    }
}

void sk_rmsnorm_forward(SkPool *pool, float *out, float *rstd, const float *inp, const float *w, int N,
                        int C, float eps) {
    RmsCtx c = {.out = out, .rstd = rstd, .inp = inp, .w = w, .N = N, .C = C, .eps = eps};
    sk_pool_run(pool, (N + ROWS_PER_TASK - 1) / ROWS_PER_TASK, fwd_task, &c);
}

/* With g = dout * w and xhat = x * rstd:  dx = rstd * (g - xhat * mean(g * xhat)) */
static void bwd_task(void *vctx, int task) {
    RmsCtx *c = vctx;
    int n0 = task * ROWS_PER_TASK, n1 = n0 + ROWS_PER_TASK < c->N ? n0 + ROWS_PER_TASK : c->N;
    for (int n = n0; n < n1; n++) {
        const float *x = c->inp + (size_t)n * c->C, *dy = c->dout + (size_t)n * c->C;
        float *dx = c->dinp + (size_t)n * c->C;
        float s = c->crstd[n];
        double gx = 0.0;
        for (int i = 0; i < c->C; i++) gx += (double)dy[i] * c->w[i] * x[i] * s;
        float m = (float)(gx / c->C);
        for (int i = 0; i < c->C; i++) dx[i] += s * (dy[i] * c->w[i] - x[i] * s * m);
    }
}

void sk_rmsnorm_backward(SkPool *pool, float *dinp, float *dw, const float *dout, const float *inp,
                         const float *w, const float *rstd, int N, int C) {
    RmsCtx c = {.dinp = dinp, .inp = inp, .w = w, .dout = dout, .crstd = rstd, .N = N, .C = C};
    if (dinp) sk_pool_run(pool, (N + ROWS_PER_TASK - 1) / ROWS_PER_TASK, bwd_task, &c);
    if (dw) /* dw[i] += sum_n dout * xhat: serial over rows keeps the sum order fixed */
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
            for (int i = 0; i < C; i++) dw[i] += dy[i] * x[i] * rstd[n];
        }
}
