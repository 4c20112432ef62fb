/* adapter.c - SK-Tuning's trainable refinement of the prompt states, g = A(h).
 * Every kind starts as the identity (its last matrix is zero), so step 0 is exactly
 * zero-shot prompting.
 *   lowrank: g = h + (h U) V        U [d, r] random, V [r, d] = 0
 *   linear:  g = h + h W            W [d, d] = 0
 *   mlp:     g = h + gelu(h W1) W2  W1 [d, r] random, W2 [r, d] = 0
 *   none:    g = G                  G [m, d] = h at the start */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft/method_internal.h"

int sk_adapter_init(SkMethod *me, SkAdapter *a, const char *prefix, SkAdapterKind kind, int m,
                    int d, int r, const float *h0, SkError *err) {
    memset(a, 0, sizeof *a);
    a->kind = kind, a->m = m, a->d = d, a->r = r;
    char name[96];
    switch (kind) {
    case SK_ADAPTER_LOWRANK:
    case SK_ADAPTER_MLP:
        snprintf(name, sizeof name, "%s.%s", prefix, kind == SK_ADAPTER_LOWRANK ? "U" : "W1");
        a->a = sk_method_add(me, name, 2, d, r, true);
        snprintf(name, sizeof name, "%s.%s", prefix, kind == SK_ADAPTER_LOWRANK ? "V" : "W2");
        a->b = a->a ? sk_method_add(me, name, 2, r, d, true) : NULL;
        if (!a->a || !a->b) return sk_err(err, "out of memory");
        sk_init_kaiming_uniform(&me->rng, a->a->w, a->a->numel, d);
        a->t = calloc((size_t)m * r, sizeof(float));
        a->pre = calloc((size_t)m * r, sizeof(float));
        a->dt = calloc((size_t)m * r, sizeof(float));
        a->dpre = calloc((size_t)m * r, sizeof(float));
        if (!a->t || !a->pre || !a->dt || !a->dpre) return sk_err(err, "out of memory");
        break;
    case SK_ADAPTER_LINEAR:
        snprintf(name, sizeof name, "%s.W", prefix);
        if (!(a->a = sk_method_add(me, name, 2, d, d, true))) return sk_err(err, "out of memory");
        break;
    case SK_ADAPTER_NONE:
        snprintf(name, sizeof name, "%s.G", prefix);
        if (!(a->a = sk_method_add(me, name, 2, m, d, false))) return sk_err(err, "out of memory");
        memcpy(a->a->w, h0, (size_t)m * d * sizeof(float));
        break;
    }
    return 0;
}

void sk_adapter_forward(SkAdapter *a, const float *h, float *g) {
    int m = a->m, d = a->d, r = a->r;
    if (a->kind == SK_ADAPTER_NONE) {
        memcpy(g, a->a->w, (size_t)m * d * sizeof(float));
        return;
    }
    memcpy(g, h, (size_t)m * d * sizeof(float));
    if (a->kind == SK_ADAPTER_LINEAR) { /* g += h[m,d] @ W[d,d] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, d, d, 1.0f, h, d, a->a->w, d,
                    1.0f, g, d);
        return;
    }
    /* t[m,r] = h @ U (mlp: gelu(h @ W1));  g += t @ V */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, r, d, 1.0f, h, d, a->a->w, r, 0.0f,
                a->pre, r);
    if (a->kind == SK_ADAPTER_MLP) sk_activation_forward(NULL, SK_ACT_GELU_TANH, a->t, a->pre, (size_t)m * r);
    else memcpy(a->t, a->pre, (size_t)m * r * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, d, r, 1.0f, a->t, r, a->b->w, d,
                1.0f, g, d);
}

void sk_adapter_backward(SkAdapter *a, const float *h, const float *dg) {
    int m = a->m, d = a->d, r = a->r;
    switch (a->kind) {
    case SK_ADAPTER_NONE: /* dG += dg */
        for (size_t i = 0; i < (size_t)m * d; i++) a->a->g[i] += dg[i];
        return;
    case SK_ADAPTER_LINEAR: /* dW[d,d] += h^T dg */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, m, 1.0f, h, d, dg, d, 1.0f,
                    a->a->g, d);
        return;
    default:
        break;
    }
    /* dV[r,d] += t^T dg;  dt[m,r] = dg V^T;  (mlp: dpre = gelu'(pre) dt);  dU[d,r] += h^T dpre */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, d, m, 1.0f, a->t, r, dg, d, 1.0f,
                a->b->g, d);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, r, d, 1.0f, dg, d, a->b->w, d, 0.0f,
                a->dt, r);
    const float *dpre = a->dt;
    if (a->kind == SK_ADAPTER_MLP) {
        memset(a->dpre, 0, (size_t)m * r * sizeof(float));
        sk_activation_backward(NULL, SK_ACT_GELU_TANH, a->dpre, a->pre, a->dt, (size_t)m * r);
        dpre = a->dpre;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, r, m, 1.0f, h, d, dpre, r, 1.0f,
                a->a->g, r);
}

void sk_adapter_free(SkAdapter *a) {
    free(a->t), free(a->pre), free(a->dt), free(a->dpre);
    a->t = a->pre = a->dt = a->dpre = NULL;
}
