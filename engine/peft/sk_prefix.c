/* sk_prefix.c - SK-Tuning for prefix (sk-tuning.md, Variant 1).
 *
 * cached (default): the frozen model reads the prompt once; h_l(s) [m, d] is kept for
 * every block l. Each step: g_l = A_l(h_l), K_l = Wk norm_l(g_l), V_l = Wv norm_l(g_l)
 * with block l's own frozen norm and projections, used as m prefix columns; the input
 * sits at positions m.. . Backward: d(K_l, V_l) -> through Wk/Wv and norm_l -> dg_l ->
 * A_l. Nothing flows into the prompt pass.
 *
 * live (the authors' released code): P [m, d] starts as the prompt's token embeddings
 * and is run through the frozen model every step; each block's keys/values of that
 * pass are the prefix, and gradients flow back through the whole prompt pass into P.
 * (The authors' optional shared dh x dh transform on those keys/values is not offered.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft/method_internal.h"

typedef struct {
    int L, m, d;
    float **h;        /* [L] -> [m, d] prompt states (cached mode) */
    float **g;        /* [L] -> [m, d] adapter outputs */
    float **dg;       /* [L] -> [m, d] */
    float *scratch;   /* kv projection scratch, one per layer */
    size_t scratch_n;
    SkAdapter *ad;    /* [L] */
    /* live mode */
    SkTrainable *P;
    SkActs *acts;
    float *zero_hidden;
} SkPrefix;

static void free_states(SkPrefix *s) {
    for (int l = 0; l < s->L; l++) {
        if (s->h) free(s->h[l]);
        if (s->g) free(s->g[l]);
        if (s->dg) free(s->dg[l]);
        if (s->ad) sk_adapter_free(&s->ad[l]);
    }
    free(s->h), free(s->g), free(s->dg), free(s->ad), free(s->scratch);
    s->h = s->g = s->dg = NULL;
    s->ad = NULL;
    s->scratch = NULL;
}

static int alloc_states(SkMethod *me, SkPrefix *s, SkError *err) {
    s->h = calloc((size_t)s->L, sizeof(float *));
    s->g = calloc((size_t)s->L, sizeof(float *));
    s->dg = calloc((size_t)s->L, sizeof(float *));
    s->ad = calloc((size_t)s->L, sizeof(SkAdapter));
    s->scratch_n = sk_model_kv_scratch_floats(me->model, s->m);
    s->scratch = calloc(s->scratch_n * (size_t)s->L, sizeof(float));
    if (!s->h || !s->g || !s->dg || !s->ad || !s->scratch) return sk_err(err, "out of memory");
    for (int l = 0; l < s->L; l++)
        if (!(s->h[l] = calloc((size_t)s->m * s->d, sizeof(float)))) return sk_err(err, "out of memory");
    for (int l = 0; l < s->L; l++) {
        s->g[l] = calloc((size_t)s->m * s->d, sizeof(float));
        s->dg[l] = calloc((size_t)s->m * s->d, sizeof(float));
        if (!s->g[l] || !s->dg[l]) return sk_err(err, "out of memory");
    }
    return 0;
}

static int init_cached(SkMethod *me, SkPrefix *s, SkError *err) {
    if (alloc_states(me, s, err) != 0) return -1;
    if (sk_method_prompt_states(me, s->h, s->L, err) != 0) return -1;
    int r = me->cfg.adapter == SK_ADAPTER_MLP ? me->cfg.rank * 8 : me->cfg.rank;
    for (int l = 0; l < s->L; l++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "layer%d", l);
        if (sk_adapter_init(me, &s->ad[l], prefix, me->cfg.adapter, s->m, s->d, r, s->h[l], err) != 0)
            return -1;
    }
    return 0;
}

/* live: the prompt pass runs every step on P (positions 0..m-1, no input tokens). */
static int init_live(SkMethod *me, SkPrefix *s, SkError *err) {
    SkParam *wte = sk_model_token_embeddings(me->model);
    if (!wte) return sk_err(err, "sk_prefix live: the model has no token embedding table");
    s->P = sk_method_add(me, "P", 2, s->m, s->d, false);
    if (!s->P) return sk_err(err, "out of memory");
    for (int i = 0; i < s->m; i++)
        sk_param_read(wte, (size_t)me->prompt_ids.ids[i] * s->d, (size_t)s->d, s->P->w + (size_t)i * s->d);
    SkActsShape shape = {.B = 1, .T = 0, .n_embed = s->m};
    if (sk_acts_new(me->model, &shape, &s->acts, err) != 0) return -1;
    s->zero_hidden = calloc((size_t)s->m * s->d, sizeof(float));
    if (!s->zero_hidden) return sk_err(err, "out of memory");
    return 0;
}

static int live_forward(SkMethod *me, SkPrefix *s, SkError *err) {
    SkHooks h = {.n_embed = s->m, .embed = s->P->w};
    SkBatch b = {.B = 1, .T = 0};
    if (sk_model_forward(me->model, s->acts, &b, &h, err) != 0) return -1;
    const SkModelConfig *c = sk_model_config(me->model);
    size_t kv = (size_t)s->m * c->n_kv_head * c->head_dim * sizeof(float);
    for (int l = 0; l < s->L; l++) {
        const float *k, *v;
        sk_acts_layer_kv(me->model, s->acts, l, &k, &v);
        memcpy(me->pk[l], k, kv);
        memcpy(me->pv[l], v, kv);
    }
    return 0;
}

/* d(prefix keys/values) of the input pass are gradients of the prompt pass's own
 * keys/values: inject them there and run its backward down to P. */
static void live_backward(SkMethod *me, SkPrefix *s) {
    SkHooks h = {.n_embed = s->m, .embed = s->P->w, .d_embed = s->P->g,
                 .kv_grad_k = (const float *const *)me->dpk, .kv_grad_v = (const float *const *)me->dpv};
    SkBatch b = {.B = 1, .T = 0};
    SkError err;
    sk_model_backward(me->model, s->acts, &b, &h, s->zero_hidden, &err);
}

static int sk_prefix_init(SkMethod *me, SkError *err) {
    SkPrefix *s = calloc(1, sizeof *s);
    if (!s) return sk_err(err, "out of memory");
    me->impl = s;
    const SkModelConfig *c = sk_model_config(me->model);
    s->L = c->n_layer, s->d = c->d_model, s->m = me->prompt_ids.n;
    if (s->m == 0)
        return sk_err(err, "sk_prefix needs a semantic prompt (prompt = \"Classify ...\")");
    if (sk_method_alloc_prefix(me, s->m, err) != 0) return -1;
    if (me->cfg.live ? init_live(me, s, err) : init_cached(me, s, err)) return -1;
    static const char *kinds[] = {"low-rank", "linear", "MLP", "free"};
    if (me->cfg.live)
        snprintf(me->desc, sizeof me->desc,
                 "sk_prefix (live): the %d-token prompt's embeddings, run through the frozen model "
                 "every step; its keys/values in each of %d layers are the prefix", s->m, s->L);
    else
        snprintf(me->desc, sizeof me->desc,
                 "sk_prefix: %s adapters on the %d-token prompt's states in each of %d layers, used "
                 "as prefix keys/values", kinds[me->cfg.adapter], s->m, s->L);
    return 0;
}

static int sk_prefix_forward(SkMethod *me, SkError *err) {
    SkPrefix *s = me->impl;
    if (me->cfg.live) return live_forward(me, s, err);
    for (int l = 0; l < s->L; l++) {
        sk_adapter_forward(&s->ad[l], s->h[l], s->g[l]);
        sk_model_kv_forward(me->model, l, s->g[l], s->m, me->pk[l], me->pv[l],
                            s->scratch + (size_t)l * s->scratch_n);
    }
    return 0;
}

static void sk_prefix_backward(SkMethod *me) {
    SkPrefix *s = me->impl;
    if (me->cfg.live) {
        live_backward(me, s);
        return;
    }
    for (int l = 0; l < s->L; l++) {
        memset(s->dg[l], 0, (size_t)s->m * s->d * sizeof(float));
        sk_model_kv_backward(me->model, l, s->g[l], s->m, me->dpk[l], me->dpv[l], s->dg[l],
                             s->scratch + (size_t)l * s->scratch_n);
        sk_adapter_backward(&s->ad[l], s->h[l], s->dg[l]);
    }
}

static void sk_prefix_release(SkMethod *me) {
    SkPrefix *s = me->impl;
    if (!s) return;
    free_states(s);
    sk_acts_free(s->acts);
    free(s->zero_hidden);
    free(s);
}

/* A new prompt of the same length keeps the trained adapters; the states are re-read. */
static int sk_prefix_prompt_changed(SkMethod *me, SkError *err) {
    SkPrefix *s = me->impl;
    if (me->cfg.live) return sk_err(err, "sk_prefix live: changing the prompt needs a new method");
    if (me->prompt_ids.n != s->m)
        return sk_err(err, "sk_prefix: the new prompt has %d tokens, the adapters were built for "
                           "%d; create a new method", me->prompt_ids.n, s->m);
    return sk_method_prompt_states(me, s->h, s->L, err);
}

const SkMethodOps sk_ops_sk_prefix = {.init = sk_prefix_init,
                                      .forward = sk_prefix_forward,
                                      .backward = sk_prefix_backward,
                                      .release = sk_prefix_release,
                                      .prompt_changed = sk_prefix_prompt_changed};
