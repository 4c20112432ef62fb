/* p_tuning.c - P-tuning (Liu et al. 2021) as PEFT's PromptEncoder with the MLP
 * reparameterisation: E [m, d] -> Linear(d, h) -> ReLU -> Linear(h, h) -> ReLU ->
 * Linear(h, d), the output prepended to the input's embeddings. h defaults to d. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft/method_internal.h"

typedef struct {
    int m, d, h;
    SkTrainable *E, *W1, *b1, *W2, *b2, *W3, *b3;
    float *p1, *a1, *p2, *a2;     /* [m, h] pre-activations and activations */
    float *d1, *d2;               /* [m, h] scratch */
} PTuning;

static int pt_init(SkMethod *me, SkError *err) {
    PTuning *s = calloc(1, sizeof *s);
    if (!s) return sk_err(err, "out of memory");
    me->impl = s;
    s->d = sk_model_config(me->model)->d_model;
    s->m = me->cfg.n_virtual ? me->cfg.n_virtual : 20;
    s->h = me->cfg.hidden ? me->cfg.hidden : s->d;
    int m = s->m, d = s->d, h = s->h;
    s->E = sk_method_add(me, "embedding", 2, m, d, false);
    s->W1 = sk_method_add(me, "W1", 2, h, d, true);
    s->b1 = sk_method_add(me, "b1", 1, h, 1, false);
    s->W2 = sk_method_add(me, "W2", 2, h, h, true);
    s->b2 = sk_method_add(me, "b2", 1, h, 1, false);
    s->W3 = sk_method_add(me, "W3", 2, d, h, true);
    s->b3 = sk_method_add(me, "b3", 1, d, 1, false);
    size_t mh = (size_t)m * h;
    s->p1 = calloc(mh, sizeof(float)), s->a1 = calloc(mh, sizeof(float));
    s->p2 = calloc(mh, sizeof(float)), s->a2 = calloc(mh, sizeof(float));
    s->d1 = calloc(mh, sizeof(float)), s->d2 = calloc(mh, sizeof(float));
    if (!s->E || !s->W1 || !s->b1 || !s->W2 || !s->b2 || !s->W3 || !s->b3 || !s->p1 || !s->a1 ||
        !s->p2 || !s->a2 || !s->d1 || !s->d2)
        return sk_err(err, "out of memory");
    sk_init_normal(&me->rng, s->E->w, s->E->numel, 1.0f);
    sk_init_kaiming_uniform(&me->rng, s->W1->w, s->W1->numel, d);
    sk_init_kaiming_uniform(&me->rng, s->b1->w, s->b1->numel, d);
    sk_init_kaiming_uniform(&me->rng, s->W2->w, s->W2->numel, h);
    sk_init_kaiming_uniform(&me->rng, s->b2->w, s->b2->numel, h);
    sk_init_kaiming_uniform(&me->rng, s->W3->w, s->W3->numel, h);
    sk_init_kaiming_uniform(&me->rng, s->b3->w, s->b3->numel, h);
    if (sk_method_alloc_embed(me, m, err) != 0) return -1;
    snprintf(me->desc, sizeof me->desc,
             "p_tuning: %d virtual tokens from an MLP prompt encoder (hidden %d), prepended to the input",
             m, h);
    return 0;
}

static int pt_forward(SkMethod *me, SkError *err) {
    (void)err;
    PTuning *s = me->impl;
    size_t mh = (size_t)s->m * s->h;
    sk_linear_forward(s->p1, s->E->w, s->W1->w, s->b1->w, s->m, s->d, s->h, false);
    sk_activation_forward(NULL, SK_ACT_RELU, s->a1, s->p1, mh);
    sk_linear_forward(s->p2, s->a1, s->W2->w, s->b2->w, s->m, s->h, s->h, false);
    sk_activation_forward(NULL, SK_ACT_RELU, s->a2, s->p2, mh);
    sk_linear_forward(me->embed, s->a2, s->W3->w, s->b3->w, s->m, s->h, s->d, false);
    return 0;
}

static void pt_backward(SkMethod *me) {
    PTuning *s = me->impl;
    size_t mh = (size_t)s->m * s->h;
    memset(s->d1, 0, mh * sizeof(float));
    sk_linear_backward(s->d1, s->W3->g, s->b3->g, me->d_embed, s->a2, s->W3->w, s->m, s->h, s->d);
    memset(s->d2, 0, mh * sizeof(float));
    sk_activation_backward(NULL, SK_ACT_RELU, s->d2, s->p2, s->d1, mh);
    memset(s->d1, 0, mh * sizeof(float));
    sk_linear_backward(s->d1, s->W2->g, s->b2->g, s->d2, s->a1, s->W2->w, s->m, s->h, s->h);
    memset(s->d2, 0, mh * sizeof(float));
    sk_activation_backward(NULL, SK_ACT_RELU, s->d2, s->p1, s->d1, mh);
    sk_linear_backward(s->E->g, s->W1->g, s->b1->g, s->d2, s->E->w, s->W1->w, s->m, s->d, s->h);
}

static void pt_release(SkMethod *me) {
    PTuning *s = me->impl;
    if (!s) return;
    free(s->p1), free(s->a1), free(s->p2), free(s->a2), free(s->d1), free(s->d2);
    free(s);
}

const SkMethodOps sk_ops_p_tuning = {
    .init = pt_init, .forward = pt_forward, .backward = pt_backward, .release = pt_release};
