/* attention.c - causal scaled dot-product attention with prefix key/value columns,
 * padding masks and grouped-query heads. One task per (batch row, key/value head):
 * the query heads of a group write disjoint dq rows and share that task's dk/dv
 * columns, so backward needs no atomics and sums in a fixed order. */
#include <math.h>
#include <string.h>

#include "ops/fastmath.h"
#include "ops/ops.h"

typedef struct {
    const SkAttnShape *s;
    float *out, *att, *dq, *dk, *dv, *datt;
    const float *q, *k, *v, *mask, *dout, *catt; /* catt: saved probabilities (backward) */
    int q_rs, dq_rs;
} AttnCtx;

/* Is key column j (0..S-1) visible to input query t? */
static inline int visible(const SkAttnShape *s, const float *mask, int b, int t, int j) {
    if (j < s->P) return 1;
    int ti = j - s->P;
    if (ti > t) return 0;
    return !mask || mask[(size_t)b * s->T + ti] != 0.0f;
}

static void attn_fwd_task(void *vctx, int task) {
    AttnCtx *c = vctx;
    const SkAttnShape *s = c->s;
    int b = task / s->Hkv, hk = task % s->Hkv, group = s->H / s->Hkv;
    int S = s->P + s->T, dh = s->dh, kv_rs = s->Hkv * dh, o_rs = s->H * dh;
    float scale = 1.0f / sqrtf((float)dh);
    const float *kb = c->k + (size_t)b * S * kv_rs + (size_t)hk * dh;
    const float *vb = c->v + (size_t)b * S * kv_rs + (size_t)hk * dh;
    for (int h = hk * group; h < (hk + 1) * group; h++)
        for (int t = 0; t < s->T; t++) {
            const float *qt = c->q + ((size_t)b * s->T + t) * c->q_rs + (size_t)h * dh;
            float *a = c->att + (((size_t)b * s->H + h) * s->T + t) * S;
            float *o = c->out + ((size_t)b * s->T + t) * o_rs + (size_t)h * dh;
            float mx = -INFINITY;
            for (int j = 0; j < S; j++) {
                if (!visible(s, c->mask, b, t, j)) {
                    a[j] = -INFINITY;
                    continue;
                }
                const float *kj = kb + (size_t)j * kv_rs;
                float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
                for (int i = 0; i < dh; i++) dot += qt[i] * kj[i];
                a[j] = dot * scale;
                if (a[j] > mx) mx = a[j];
            }
            memset(o, 0, (size_t)dh * sizeof(float));
            if (mx == -INFINITY) { /* nothing visible */
                memset(a, 0, (size_t)S * sizeof(float));
                continue;
            }
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (int j = 0; j < S; j++) {
                a[j] = a[j] == -INFINITY ? 0.0f : sk_expf(a[j] - mx);
                sum += a[j];
            }
            float inv = 1.0f / sum;
            for (int j = 0; j < S; j++) {
                if (a[j] == 0.0f) continue;
                a[j] *= inv;
                const float *vj = vb + (size_t)j * kv_rs;
                for (int i = 0; i < dh; i++) o[i] += a[j] * vj[i];
            }
        }
}

void sk_attention_forward(SkPool *pool, const SkAttnShape *s, float *out, float *att,
                          const float *q, int q_rs, const float *k, const float *v,
                          const float *mask) {
    AttnCtx c = {.s = s, .out = out, .att = att, .q = q, .q_rs = q_rs, .k = k, .v = v, .mask = mask};
    sk_pool_run(pool, s->B * s->Hkv, attn_fwd_task, &c);
}

static void attn_bwd_task(void *vctx, int task) {
    AttnCtx *c = vctx;
    const SkAttnShape *s = c->s;
    int b = task / s->Hkv, hk = task % s->Hkv, group = s->H / s->Hkv;
    int S = s->P + s->T, dh = s->dh, kv_rs = s->Hkv * dh, o_rs = s->H * dh;
    float scale = 1.0f / sqrtf((float)dh);
    size_t kv_off = (size_t)b * S * kv_rs + (size_t)hk * dh;
    const float *kb = c->k + kv_off, *vb = c->v + kv_off;
    float *dkb = c->dk + kv_off, *dvb = c->dv + kv_off;
    for (int h = hk * group; h < (hk + 1) * group; h++)
        for (int t = 0; t < s->T; t++) {
            size_t row = ((size_t)b * s->H + h) * s->T + t;
            const float *a = c->catt + row * S;
            float *da = c->datt + row * S;
            const float *qt = c->q + ((size_t)b * s->T + t) * c->q_rs + (size_t)h * dh;
            float *dqt = c->dq + ((size_t)b * s->T + t) * c->dq_rs + (size_t)h * dh;
            const float *dot_ = c->dout + ((size_t)b * s->T + t) * o_rs + (size_t)h * dh;
            /* datt[j] = dout . v_j ;  dv_j += att[j] * dout */
            float inner = 0.0f;
            for (int j = 0; j < S; j++) {
                if (a[j] == 0.0f) {
                    da[j] = 0.0f;
                    continue;
                }
                const float *vj = vb + (size_t)j * kv_rs;
                float *dvj = dvb + (size_t)j * kv_rs;
                float d = 0.0f;
#pragma omp simd reduction(+ : d)
                for (int i = 0; i < dh; i++) {
                    d += dot_[i] * vj[i];
                    dvj[i] += a[j] * dot_[i];
                }
                da[j] = d;
                inner += a[j] * d;
            }
            /* softmax backward, then the scaled dot product: dq += g k_j, dk_j += g q */
            for (int j = 0; j < S; j++) {
                if (a[j] == 0.0f) continue;
                float g = a[j] * (da[j] - inner) * scale;
                const float *kj = kb + (size_t)j * kv_rs;
                float *dkj = dkb + (size_t)j * kv_rs;
                for (int i = 0; i < dh; i++) {
                    dqt[i] += g * kj[i];
                    dkj[i] += g * qt[i];
                }
            }
        }
}

void sk_attention_backward(SkPool *pool, const SkAttnShape *s, float *dq, int dq_rs, float *dk,
                           float *dv, float *datt, const float *dout, const float *att,
                           const float *q, int q_rs, const float *k, const float *v) {
    AttnCtx c = {.s = s, .dq = dq, .dq_rs = dq_rs, .dk = dk, .dv = dv, .datt = datt, .dout = dout,
                 .catt = att, .q = q, .q_rs = q_rs, .k = k, .v = v};
    sk_pool_run(pool, s->B * s->Hkv, attn_bwd_task, &c);
}
