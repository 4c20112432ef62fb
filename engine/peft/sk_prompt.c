/* sk_prompt.c - SK-Tuning for prompt (sk-tuning.md, Variant 2).
 * source = the prompt's token embeddings E[p] (source_layer 0; GPT-2 adds position
 * embeddings when the sequence runs) or h_k(s), the frozen model's states at the input
 * of block k. g = A(source) is prepended to the input's embeddings at positions
 * 0..m-1. With the identity adapter, step 0 is exactly "prompt text + input". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft/method_internal.h"

typedef struct {
    int m, d;
    float *src; /* [m, d] */
    SkAdapter ad;
} SkPrompt;

static int read_source(SkMethod *me, SkPrompt *s, SkError *err) {
    const SkModelConfig *c = sk_model_config(me->model);
    int k = me->cfg.source_layer;
    if (k == 0) {
        SkParam *wte = sk_model_token_embeddings(me->model);
        if (!wte) return sk_err(err, "sk_prompt: the model has no token embedding table");
        for (int i = 0; i < s->m; i++)
            sk_param_read(wte, (size_t)me->prompt_ids.ids[i] * s->d, (size_t)s->d, s->src + (size_t)i * s->d);
        return 0;
    }
    if (k > c->n_layer)
        return sk_err(err, "sk_prompt: source_layer %d, but the model has %d layers", k, c->n_layer);
    float **states = calloc((size_t)k + 1, sizeof(float *));
    if (!states) return sk_err(err, "out of memory");
    int rc = 0;
    for (int l = 0; l <= k && rc == 0; l++)
        if (!(states[l] = calloc((size_t)s->m * s->d, sizeof(float)))) rc = sk_err(err, "out of memory");
    if (rc == 0) rc = sk_method_prompt_states(me, states, k + 1, err);
    if (rc == 0) memcpy(s->src, states[k], (size_t)s->m * s->d * sizeof(float));
    for (int l = 0; l <= k; l++) free(states[l]);
    free(states);
    return rc;
}

static int sk_prompt_init(SkMethod *me, SkError *err) {
    SkPrompt *s = calloc(1, sizeof *s);
    if (!s) return sk_err(err, "out of memory");
    me->impl = s;
    s->m = me->prompt_ids.n;
    s->d = sk_model_config(me->model)->d_model;
    if (s->m == 0) return sk_err(err, "sk_prompt needs a semantic prompt (prompt = \"Classify ...\")");
    s->src = calloc((size_t)s->m * s->d, sizeof(float));
    if (!s->src) return sk_err(err, "out of memory");
    if (read_source(me, s, err) != 0 || sk_method_alloc_embed(me, s->m, err) != 0) return -1;
    int r = me->cfg.adapter == SK_ADAPTER_MLP ? me->cfg.rank * 8 : me->cfg.rank;
    if (sk_adapter_init(me, &s->ad, "adapter", me->cfg.adapter, s->m, s->d, r, s->src, err) != 0)
        return -1;
    static const char *kinds[] = {"low-rank", "linear", "MLP", "free"};
    snprintf(me->desc, sizeof me->desc,
             "sk_prompt: a %s adapter on the %d-token prompt's %s, prepended to the input",
             kinds[me->cfg.adapter], s->m,
             me->cfg.source_layer ? "hidden states" : "token embeddings");
    return 0;
}

static int sk_prompt_forward(SkMethod *me, SkError *err) {
    (void)err;
    SkPrompt *s = me->impl;
    sk_adapter_forward(&s->ad, s->src, me->embed);
    return 0;
}

static void sk_prompt_backward(SkMethod *me) {
    SkPrompt *s = me->impl;
    sk_adapter_backward(&s->ad, s->src, me->d_embed);
}

static void sk_prompt_release(SkMethod *me) {
    SkPrompt *s = me->impl;
    if (!s) return;
    sk_adapter_free(&s->ad);
    free(s->src);
    free(s);
}

static int sk_prompt_prompt_changed(SkMethod *me, SkError *err) {
    SkPrompt *s = me->impl;
    if (me->prompt_ids.n != s->m)
        return sk_err(err, "sk_prompt: the new prompt has %d tokens, the adapter was built for %d; "
                           "create a new method", me->prompt_ids.n, s->m);
    return read_source(me, s, err);
}

const SkMethodOps sk_ops_sk_prompt = {.init = sk_prompt_init,
                                      .forward = sk_prompt_forward,
                                      .backward = sk_prompt_backward,
                                      .release = sk_prompt_release,
                                      .prompt_changed = sk_prompt_prompt_changed};
