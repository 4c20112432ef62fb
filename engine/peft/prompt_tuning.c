/* prompt_tuning.c - prompt tuning (Lester et al. 2021): P [m, d] prepended to the
 * input's embeddings (positions 0..m-1). Initialisation as PEFT offers it:
 *   random: N(0, 1) (nn.Embedding's default, PEFT's RANDOM)
 *   vocab:  rows of the embedding table sampled from the 5,000 first token ids
 *   text:   the embeddings of the prompt text's tokens, repeated or cut to m
 *           (PEFT's TEXT); m defaults to the prompt's length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft/method_internal.h"

typedef struct {
    SkTrainable *P;
} PromptTuning;

static int ptu_init(SkMethod *me, SkError *err) {
    PromptTuning *s = calloc(1, sizeof *s);
    if (!s) return sk_err(err, "out of memory");
    me->impl = s;
    const SkModelConfig *c = sk_model_config(me->model);
    int d = c->d_model;
    SkPromptInit init = me->cfg.init;
    if (init == SK_INIT_TEXT && me->prompt_ids.n == 0)
        return sk_err(err, "prompt_tuning init=\"text\" needs prompt = \"...\"");
    int m = me->cfg.n_virtual ? me->cfg.n_virtual : (init == SK_INIT_TEXT ? me->prompt_ids.n : 20);
    if (!(s->P = sk_method_add(me, "prompt", 2, m, d, false))) return sk_err(err, "out of memory");
    SkParam *wte = sk_model_token_embeddings(me->model);
    if (init != SK_INIT_RANDOM && !wte) return sk_err(err, "prompt_tuning: no token embedding table");
    for (int i = 0; i < m; i++) {
        float *row = s->P->w + (size_t)i * d;
        if (init == SK_INIT_RANDOM) {
            sk_init_normal(&me->rng, row, (size_t)d, 1.0f);
        } else {
            int id = init == SK_INIT_TEXT ? me->prompt_ids.ids[i % me->prompt_ids.n]
                                          : (int)sk_rng_below(&me->rng, (uint64_t)(c->vocab_size < 5000 ? c->vocab_size : 5000));
            sk_param_read(wte, (size_t)id * d, (size_t)d, row);
        }
    }
    if (sk_method_alloc_embed(me, m, err) != 0) return -1;
    static const char *inits[] = {"random", "vocabulary", "text"};
    snprintf(me->desc, sizeof me->desc,
             "prompt_tuning: %d virtual token embeddings (%s init) prepended to the input", m,
             inits[init]);
    return 0;
}

static int ptu_forward(SkMethod *me, SkError *err) {
    (void)err;
    PromptTuning *s = me->impl;
    memcpy(me->embed, s->P->w, s->P->numel * sizeof(float));
    return 0;
}

static void ptu_backward(SkMethod *me) {
    PromptTuning *s = me->impl;
    for (size_t i = 0; i < s->P->numel; i++) s->P->g[i] += me->d_embed[i];
}

static void ptu_release(SkMethod *me) { free(me->impl); }

const SkMethodOps sk_ops_prompt_tuning = {
    .init = ptu_init, .forward = ptu_forward, .backward = ptu_backward, .release = ptu_release};
