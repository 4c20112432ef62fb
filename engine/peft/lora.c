/* lora.c - LoRA (Hu et al. 2021): on each target projection of every layer,
 * out += (alpha / r) * (x A^T) B^T with A [r, in] (Kaiming-uniform, as PEFT) and
 * B [out, r] = 0, so step 0 is the frozen model. GPT-2 targets: c_attn (PEFT's
 * default for GPT-2, the fused q/k/v), attn.c_proj, mlp.c_fc, mlp.c_proj. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft/method_internal.h"

static const char *PROJ[SK_PROJ_COUNT] = {"c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"};

typedef struct {
    SkLowRank *deltas; /* [L * SK_PROJ_COUNT] */
} Lora;

static int lora_init(SkMethod *me, SkError *err) {
    Lora *s = calloc(1, sizeof *s);
    if (!s) return sk_err(err, "out of memory");
    me->impl = s;
    const SkModelConfig *c = sk_model_config(me->model);
    int L = c->n_layer, d = c->d_model, r = me->cfg.lora_rank;
    /* in, out: the fused q|k|v projection (GPT-2's c_attn; Llama's q/k/v_proj side by side),
     * the attention output, the MLP's first (GPT-2 c_fc; Llama gate_proj) and last maps */
    int q = c->n_head * c->head_dim, kv = c->n_kv_head * c->head_dim;
    int dims[SK_PROJ_COUNT][2] = {{d, q + 2 * kv}, {q, d}, {d, c->d_ff}, {c->d_ff, d}};
    s->deltas = calloc((size_t)L * SK_PROJ_COUNT, sizeof *s->deltas);
    me->lora = calloc((size_t)L * SK_PROJ_COUNT, sizeof *me->lora);
    if (!s->deltas || !me->lora) return sk_err(err, "out of memory");
    int n_targets = 0;
    for (int l = 0; l < L; l++)
        for (int p = 0; p < SK_PROJ_COUNT; p++) {
            if (!(me->cfg.lora_targets & (1 << p))) continue;
            if (l == 0) n_targets++;
            int in = dims[p][0], out = dims[p][1];
            char name[96];
            snprintf(name, sizeof name, "h.%d.%s.lora_A", l, PROJ[p]);
            SkTrainable *A = sk_method_add(me, name, 2, r, in, true);
            snprintf(name, sizeof name, "h.%d.%s.lora_B", l, PROJ[p]);
            SkTrainable *B = A ? sk_method_add(me, name, 2, out, r, true) : NULL;
            if (!A || !B) return sk_err(err, "out of memory");
            sk_init_kaiming_uniform(&me->rng, A->w, A->numel, in);
            SkLowRank *lr = &s->deltas[l * SK_PROJ_COUNT + p];
            *lr = (SkLowRank){.r = r, .scale = me->cfg.lora_alpha / (float)r, .A = A->w, .B = B->w,
                              .dA = A->g, .dB = B->g};
            me->lora[l * SK_PROJ_COUNT + p] = lr;
        }
    me->lora_rank = r;
    snprintf(me->desc, sizeof me->desc, "lora: rank-%d updates (alpha %g%s) on %d projection%s in each of %d layers",
             r, me->cfg.lora_alpha, me->cfg.lora_dropout > 0 ? ", dropout" : "", n_targets,
             n_targets == 1 ? "" : "s", L);
    return 0;
}

/* Dropout acts while training only, with a fresh mask each step (and each delta). */
static int lora_forward(SkMethod *me, SkError *err) {
    (void)err;
    int n = sk_model_config(me->model)->n_layer * SK_PROJ_COUNT;
    uint64_t base = sk_rng_u64(&me->rng);
    for (int i = 0; i < n; i++)
        if (me->lora[i]) {
            me->lora[i]->dropout = me->training ? me->cfg.lora_dropout : 0.0f;
            me->lora[i]->seed = base + (uint64_t)i * 0x632be59bd9b4e019ULL;
        }
    return 0;
}

static void lora_release(SkMethod *me) {
    Lora *s = me->impl;
    if (!s) return;
    free(s->deltas);
    free(s);
}

const SkMethodOps sk_ops_lora = {.init = lora_init, .forward = lora_forward, .release = lora_release};
