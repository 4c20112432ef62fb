/* prefix_tuning.c - prefix tuning (Li & Liang 2021) and P-Tuning v2: learned keys and
 * values placed before every layer's, as PEFT's PrefixEncoder builds them.
 *   projection (prefix_tuning default): E [m, d] -> Linear(d, h) -> tanh ->
 *                                        Linear(h, 2 L kv) -> table [m, 2 L kv]
 *   no projection (p_tuning_v2):         table [m, 2 L kv] directly
 * Layer l's keys are table[:, 2l kv .. (2l+1) kv], its values the next kv columns
 * (PEFT's layout). kv = n_kv_head * head_dim. Keys are used as given (not rotated). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft/method_internal.h"

typedef struct {
    int m, L, kv, h, d;
    SkTrainable *table;          /* no projection */
    SkTrainable *E, *W1, *b1, *W2, *b2;
    float *pre, *act, *out;      /* [m, h], [m, h], [m, 2 L kv] */
    float *dout, *dact;
} PrefixTuning;

static int pt_init(SkMethod *me, SkError *err) {
    PrefixTuning *s = calloc(1, sizeof *s);
    if (!s) return sk_err(err, "out of memory");
    me->impl = s;
    const SkModelConfig *c = sk_model_config(me->model);
    s->m = me->cfg.n_virtual ? me->cfg.n_virtual : 20;
    s->L = c->n_layer, s->kv = c->n_kv_head * c->head_dim, s->d = c->d_model;
    int width = 2 * s->L * s->kv;
    bool proj = me->cfg.kind == SK_M_PREFIX_TUNING && me->cfg.projection;
    if (sk_method_alloc_prefix(me, s->m, err) != 0) return -1;
    if (!proj) {
        if (!(s->table = sk_method_add(me, "prefix", 2, s->m, width, false))) return sk_err(err, "out of memory");
        sk_init_normal(&me->rng, s->table->w, s->table->numel, 1.0f); /* nn.Embedding default */
    } else {
        s->h = me->cfg.hidden ? me->cfg.hidden : 512;
        s->E = sk_method_add(me, "embedding", 2, s->m, s->d, false);
        s->W1 = sk_method_add(me, "W1", 2, s->h, s->d, true);
        s->b1 = sk_method_add(me, "b1", 1, s->h, 1, false);
        s->W2 = sk_method_add(me, "W2", 2, width, s->h, true);
        s->b2 = sk_method_add(me, "b2", 1, width, 1, false);
        s->pre = calloc((size_t)s->m * s->h, sizeof(float));
        s->act = calloc((size_t)s->m * s->h, sizeof(float));
        s->dact = calloc((size_t)s->m * s->h, sizeof(float));
        s->out = calloc((size_t)s->m * width, sizeof(float));
        s->dout = calloc((size_t)s->m * width, sizeof(float));
        if (!s->E || !s->W1 || !s->b1 || !s->W2 || !s->b2 || !s->pre || !s->act || !s->dact ||
            !s->out || !s->dout)
            return sk_err(err, "out of memory");
        sk_init_normal(&me->rng, s->E->w, s->E->numel, 1.0f);
        sk_init_kaiming_uniform(&me->rng, s->W1->w, s->W1->numel, s->d);
        sk_init_kaiming_uniform(&me->rng, s->b1->w, s->b1->numel, s->d);
        sk_init_kaiming_uniform(&me->rng, s->W2->w, s->W2->numel, s->h);
        sk_init_kaiming_uniform(&me->rng, s->b2->w, s->b2->numel, s->h);
    }
    snprintf(me->desc, sizeof me->desc, "%s: %d learned key/value prefix positions in each of %d layers%s",
             sk_method_name(me->cfg.kind), s->m, s->L,
             proj ? " through a tanh MLP reparameterisation" : "");
    return 0;
}

static int pt_forward(SkMethod *me, SkError *err) {
    (void)err;
    PrefixTuning *s = me->impl;
    int width = 2 * s->L * s->kv;
    const float *tab = s->table ? s->table->w : s->out;
    if (!s->table) {
        /* pre[m,h] = E W1^T + b1; act = tanh(pre); out[m,width] = act W2^T + b2 */
        sk_linear_forward(s->pre, s->E->w, s->W1->w, s->b1->w, s->m, s->d, s->h, false);
        for (size_t i = 0; i < (size_t)s->m * s->h; i++) s->act[i] = tanhf(s->pre[i]);
        sk_linear_forward(s->out, s->act, s->W2->w, s->b2->w, s->m, s->h, width, false);
    }
    for (int l = 0; l < s->L; l++)
        for (int i = 0; i < s->m; i++) {
            const float *row = tab + (size_t)i * width;
            memcpy(me->pk[l] + (size_t)i * s->kv, row + (size_t)2 * l * s->kv, (size_t)s->kv * sizeof(float));
            memcpy(me->pv[l] + (size_t)i * s->kv, row + (size_t)(2 * l + 1) * s->kv, (size_t)s->kv * sizeof(float));
        }
    return 0;
}

static void pt_backward(SkMethod *me) {
    PrefixTuning *s = me->impl;
    int width = 2 * s->L * s->kv;
    float *dtab = s->table ? s->table->g : s->dout;
    if (!s->table) memset(s->dout, 0, (size_t)s->m * width * sizeof(float));
    for (int l = 0; l < s->L; l++)
        for (int i = 0; i < s->m; i++) {
            float *row = dtab + (size_t)i * width;
            const float *dk = me->dpk[l] + (size_t)i * s->kv, *dv = me->dpv[l] + (size_t)i * s->kv;
            for (int j = 0; j < s->kv; j++) {
                row[(size_t)2 * l * s->kv + j] += dk[j];
                row[(size_t)(2 * l + 1) * s->kv + j] += dv[j];
            }
        }
    if (s->table) return;
    memset(s->dact, 0, (size_t)s->m * s->h * sizeof(float));
    sk_linear_backward(s->dact, s->W2->g, s->b2->g, s->dout, s->act, s->W2->w, s->m, s->h, width);
    for (size_t i = 0; i < (size_t)s->m * s->h; i++) s->dact[i] *= 1.0f - s->act[i] * s->act[i];
    sk_linear_backward(s->E->g, s->W1->g, s->b1->g, s->dact, s->E->w, s->W1->w, s->m, s->d, s->h);
}

static void pt_release(SkMethod *me) {
    PrefixTuning *s = me->impl;
    if (!s) return;
    free(s->pre), free(s->act), free(s->out), free(s->dout), free(s->dact);
    free(s);
}

const SkMethodOps sk_ops_prefix_tuning = {
    .init = pt_init, .forward = pt_forward, .backward = pt_backward, .release = pt_release};
