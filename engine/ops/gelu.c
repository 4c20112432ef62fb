/* gelu.c - element-wise activations (GELU tanh form as GPT-2's gelu_new, exact GELU,
 * ReLU), in parallel chunks. */
#include <math.h>

#include "ops/fastmath.h"
#include "ops/ops.h"

#define CHUNK 16384
#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */

typedef struct {
    SkActivation act;
    float *out;
    const float *inp, *dout;
    size_t n;
} ActCtx;

static void act_fwd_task(void *vctx, int task) {
    ActCtx *c = vctx;
    size_t i0 = (size_t)task * CHUNK, i1 = i0 + CHUNK < c->n ? i0 + CHUNK : c->n;
    const float *x = c->inp;
    float *y = c->out;
    switch (c->act) {
    case SK_ACT_GELU_TANH:
#pragma omp simd
        for (size_t i = i0; i < i1; i++) {
            float v = x[i];
            y[i] = 0.5f * v * (1.0f + sk_tanhf(GELU_K * (v + 0.044715f * v * v * v)));
        }
        break;
    case SK_ACT_GELU_ERF:
        for (size_t i = i0; i < i1; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
        break;
    case SK_ACT_RELU:
        for (size_t i = i0; i < i1; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    }
}

static void act_bwd_task(void *vctx, int task) {
    ActCtx *c = vctx;
    size_t i0 = (size_t)task * CHUNK, i1 = i0 + CHUNK < c->n ? i0 + CHUNK : c->n;
    const float *x = c->inp, *dy = c->dout;
    float *dx = c->out;
    switch (c->act) {
    case SK_ACT_GELU_TANH:
#pragma omp simd
        for (size_t i = i0; i < i1; i++) {
            float v = x[i];
            float u = GELU_K * (v + 0.044715f * v * v * v);
            float t = sk_tanhf(u);
            float du = GELU_K * (1.0f + 3.0f * 0.044715f * v * v);
            dx[i] += dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
        }
        break;
    case SK_ACT_GELU_ERF:
        for (size_t i = i0; i < i1; i++) {
            float v = x[i];
            float cdf = 0.5f * (1.0f + erff(v * (float)M_SQRT1_2));
            float pdf = expf(-0.5f * v * v) * 0.3989422804014327f;
            dx[i] += dy[i] * (cdf + v * pdf);
        }
        break;
    case SK_ACT_RELU:
        for (size_t i = i0; i < i1; i++) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
        break;
    }
}

void sk_activation_forward(SkPool *pool, SkActivation act, float *out, const float *inp, size_t n) {
    ActCtx c = {.act = act, .out = out, .inp = inp, .n = n};
    sk_pool_run(pool, (int)((n + CHUNK - 1) / CHUNK), act_fwd_task, &c);
}

void sk_activation_backward(SkPool *pool, SkActivation act, float *dinp, const float *inp,
                            const float *dout, size_t n) {
    ActCtx c = {.act = act, .out = dinp, .inp = inp, .dout = dout, .n = n};
    sk_pool_run(pool, (int)((n + CHUNK - 1) / CHUNK), act_bwd_task, &c);
}
