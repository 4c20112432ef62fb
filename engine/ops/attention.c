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
    float *scratch; /* [B * Hkv, dh, S]: K (forward) or V (backward) transposed per task */
    int q_rs, dq_rs;
} AttnCtx;

/* Is key column j (0..S-1) visible to input query t? */
static inline int visible(const SkAttnShape *s, const float *mask, int b, int t, int j) {
    if (s->window && s->P + t - j >= s->window) return 0;
    if (j < s->P) return 1;
    int ti = j - s->P;
    if (ti > t) return 0;
    return !mask || mask[(size_t)b * s->T + ti] != 0.0f;
}

/* Scores for one query against all keys as dh rank-1 updates over a transposed copy
 * of K, so the inner loop runs over contiguous key positions and vectorizes. */
static void attn_fwd_task(void *vctx, int task) {
    AttnCtx *c = vctx;
    const SkAttnShape *s = c->s;
    int b = task / s->Hkv, hk = task % s->Hkv, group = s->H / s->Hkv;
    int S = s->P + s->T, dh = s->dh, kv_rs = s->Hkv * dh, o_rs = s->H * dh;
    float scale = 1.0f / sqrtf((float)dh);
    const float *kb = c->k + (size_t)b * S * kv_rs + (size_t)hk * dh;
    const float *vb = c->v + (size_t)b * S * kv_rs + (size_t)hk * dh;
    float *kt = c->scratch + (size_t)task * dh * S; /* kt[i][j] = k[j][i] */
    for (int j = 0; j < S; j++)
        for (int i = 0; i < dh; i++) kt[(size_t)i * S + j] = kb[(size_t)j * kv_rs + i];
    for (int h = hk * group; h < (hk + 1) * group; h++)
        for (int t = 0; t < s->T; t++) {
            const float *qt = c->q + ((size_t)b * s->T + t) * c->q_rs + (size_t)h * dh;
            float *a = c->att + (((size_t)b * s->H + h) * s->T + t) * S;
            float *o = c->out + ((size_t)b * s->T + t) * o_rs + (size_t)h * dh;
            int jmax = s->P + t + 1; /* causal: keys 0..P+t */
            for (int j = 0; j < jmax; j++) a[j] = 0.0f;
            for (int i = 0; i < dh; i++) {
                float qi = qt[i] * scale;
                const float *row = kt + (size_t)i * S;
#pragma omp simd
                for (int j = 0; j < jmax; j++) a[j] += qi * row[j];
            }
            float mx = -INFINITY;
            for (int j = 0; j < jmax; j++) {
                if (!visible(s, c->mask, b, t, j)) a[j] = -INFINITY;
                mx = a[j] > mx ? a[j] : mx;
            }
            for (int j = jmax; j < S; j++) a[j] = 0.0f;
            memset(o, 0, (size_t)dh * sizeof(float));
            if (mx == -INFINITY) { /* nothing visible */
                memset(a, 0, (size_t)S * sizeof(float));
                continue;
            }
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (int j = 0; j < jmax; j++) {
                a[j] = a[j] == -INFINITY ? 0.0f : sk_expf(a[j] - mx);
                sum += a[j];
            }
            float inv = 1.0f / sum;
            for (int j = 0; j < jmax; j++) {
                if (a[j] == 0.0f) continue;
                a[j] *= inv;
                const float *vj = vb + (size_t)j * kv_rs;
                float aj = a[j];
#pragma omp simd
                for (int i = 0; i < dh; i++) o[i] += aj * vj[i];
            }
        }
}

void sk_attention_forward(SkPool *pool, const SkAttnShape *s, float *out, float *att,
                          const float *q, int q_rs, const float *k, const float *v,
                          const float *mask, float *scratch) {
    AttnCtx c = {.s = s, .out = out, .att = att, .q = q, .q_rs = q_rs, .k = k, .v = v, .mask = mask,
                 .scratch = scratch};
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
    float *vt = c->scratch + (size_t)task * dh * S; /* vt[i][j] = v[j][i] */
    for (int j = 0; j < S; j++)
        for (int i = 0; i < dh; i++) vt[(size_t)i * S + j] = vb[(size_t)j * kv_rs + i];
    for (int h = hk * group; h < (hk + 1) * group; h++)
        for (int t = 0; t < s->T; t++) {
            size_t row = ((size_t)b * s->H + h) * s->T + t;
            const float *a = c->catt + row * S;
            float *da = c->datt + row * S;
            const float *qt = c->q + ((size_t)b * s->T + t) * c->q_rs + (size_t)h * dh;
            float *dqt = c->dq + ((size_t)b * s->T + t) * c->dq_rs + (size_t)h * dh;
            const float *dot_ = c->dout + ((size_t)b * s->T + t) * o_rs + (size_t)h * dh;
            int jmax = s->P + t + 1;
            /* datt[j] = dout . v_j  (rank-1 updates over transposed V) */
            for (int j = 0; j < jmax; j++) da[j] = 0.0f;
            for (int i = 0; i < dh; i++) {
                float di = dot_[i];
                const float *vr = vt + (size_t)i * S;
#pragma omp simd
                for (int j = 0; j < jmax; j++) da[j] += di * vr[j];
            }
            float inner = 0.0f;
#pragma omp simd reduction(+ : inner)
            for (int j = 0; j < jmax; j++) inner += a[j] * da[j];
            /* dv_j += att[j] dout;  g = softmax'(.) * scale;  dq += g k_j;  dk_j += g q */
            for (int j = 0; j < jmax; j++) {
                float aj = a[j];
                if (aj == 0.0f) continue;
                float g = aj * (da[j] - inner) * scale;
                const float *kj = kb + (size_t)j * kv_rs;
                float *dkj = dkb + (size_t)j * kv_rs, *dvj = dvb + (size_t)j * kv_rs;
#pragma omp simd
                for (int i = 0; i < dh; i++) {
                    dvj[i] += aj * dot_[i];
                    dqt[i] += g * kj[i];
                    dkj[i] += g * qt[i];
                }
            }
        }
}

void sk_attention_backward(SkPool *pool, const SkAttnShape *s, float *dq, int dq_rs, float *dk,
                           float *dv, float *datt, const float *dout, const float *att,
                           const float *q, int q_rs, const float *k, const float *v,
                           float *scratch) {
    AttnCtx c = {.s = s, .dq = dq, .dq_rs = dq_rs, .dk = dk, .dv = dv, .datt = datt, .dout = dout,
                 .catt = att, .q = q, .q_rs = q_rs, .k = k, .v = v, .scratch = scratch};
    sk_pool_run(pool, s->B * s->Hkv, attn_bwd_task, &c);
}
