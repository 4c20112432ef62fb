/* optim.c - AdamW (Loshchilov & Hutter; PyTorch's torch.optim.AdamW update):
 *   w -= lr * wd * w                     (matrices only)
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) */
#include "train/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sk_adamw_init(SkAdamW *o, SkTrainable **t, int n, float weight_decay, SkError *err) {
    memset(o, 0, sizeof *o);
    o->t = t, o->n = n;
    o->beta1 = 0.9f, o->beta2 = 0.999f, o->eps = 1e-8f, o->weight_decay = weight_decay;
    o->m = calloc((size_t)(n ? n : 1), sizeof(float *));
    o->v = calloc((size_t)(n ? n : 1), sizeof(float *));
    if (!o->m || !o->v) return sk_err(err, "out of memory");
    for (int i = 0; i < n; i++) {
        o->m[i] = calloc(t[i]->numel, sizeof(float));
        o->v[i] = calloc(t[i]->numel, sizeof(float));
        if (!o->m[i] || !o->v[i]) return sk_err(err, "out of memory for optimizer state");
    }
    return 0;
}

void sk_adamw_free(SkAdamW *o) {
    for (int i = 0; i < o->n; i++) {
        if (o->m) free(o->m[i]);
        if (o->v) free(o->v[i]);
    }
    free(o->m), free(o->v);
    memset(o, 0, sizeof *o);
}

double sk_grad_norm(SkTrainable *const *t, int n) {
    double s = 0;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < t[i]->numel; k++) s += (double)t[i]->g[k] * t[i]->g[k];
    return sqrt(s);
}

void sk_grad_scale(SkTrainable *const *t, int n, float s) {
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < t[i]->numel; k++) t[i]->g[k] *= s;
}

void sk_grad_zero(SkTrainable *const *t, int n) {
    for (int i = 0; i < n; i++) memset(t[i]->g, 0, t[i]->numel * sizeof(float));
}

void sk_adamw_step(SkAdamW *o, float lr) {
    o->step++;
    double bc1 = 1.0 - pow(o->beta1, o->step), bc2 = 1.0 - pow(o->beta2, o->step);
    float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    for (int i = 0; i < o->n; i++) {
        SkTrainable *t = o->t[i];
        float *w = t->w, *g = t->g, *m = o->m[i], *v = o->v[i];
        float decay = t->decay ? 1.0f - lr * o->weight_decay : 1.0f;
        for (size_t k = 0; k < t->numel; k++) {
            w[k] *= decay;
            m[k] = o->beta1 * m[k] + (1.0f - o->beta1) * g[k];
            v[k] = o->beta2 * v[k] + (1.0f - o->beta2) * g[k] * g[k];
            w[k] -= step_size * m[k] / (sqrtf(v[k]) / bc2_sqrt + o->eps);
        }
    }
}

int sk_history_push(SkRunResult *out, const SkHistoryEntry *h) {
    if (out->n_history == out->cap_history) {
        int ncap = out->cap_history ? out->cap_history * 2 : 64;
        SkHistoryEntry *n = realloc(out->history, (size_t)ncap * sizeof *n);
        if (!n) return -1;
        out->history = n, out->cap_history = ncap;
    }
    out->history[out->n_history++] = *h;
    return 0;
}

float sk_lr_at(int step, int total, int warmup, float lr) {
    if (warmup > 0 && step < warmup) return lr * (float)(step + 1) / (float)warmup;
    if (total <= warmup) return lr;
    float frac = (float)(total - step) / (float)(total - warmup);
    return lr * (frac > 0 ? frac : 0);
}
