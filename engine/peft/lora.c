/* lora.c - LoRA (Hu et al. 2021): on each target projection of every layer,
 * out += (alpha / r) * (x A^T) B^T with A [r, in] (Kaiming-uniform, as PEFT) and
 * B [out, r] = 0, so step 0 is the frozen model. Targets and their names follow PEFT:
 * GPT-2's c_attn (the fused q/k/v; PEFT's default), attn.c_proj, mlp.c_fc, mlp.c_proj;
 * Llama's q_proj, k_proj, v_proj (q_proj and v_proj by default), o_proj, gate_proj,
 * up_proj, down_proj, or one delta on the fused q|k|v ("c_attn"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft/method_internal.h"

typedef struct {
    SkLowRank *deltas; /* [L * SK_PROJ_COUNT] */
} Lora;

/* PEFT's module names, per architecture, by slot (NULL: the architecture has no such map). */
static const char *const GPT2_NAMES[SK_PROJ_COUNT] = {"c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"};
static const char *const LLAMA_NAMES[SK_PROJ_COUNT] = {
    "self_attn.qkv", "self_attn.o_proj", "mlp.gate_proj", "mlp.down_proj",
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.up_proj"};

static bool is_llama(const SkModel *m) { return !strcmp(sk_model_config(m)->arch, "llama"); }

int sk_lora_default_targets(const SkModel *m) {
    return is_llama(m) ? (1 << SK_PROJ_Q) | (1 << SK_PROJ_V) : 1 << SK_PROJ_QKV;
}

int sk_lora_all_targets(const SkModel *m, bool attention_only) {
    int attn = is_llama(m) ? (1 << SK_PROJ_Q) | (1 << SK_PROJ_K) | (1 << SK_PROJ_V) | (1 << SK_PROJ_ATTN_OUT)
                           : (1 << SK_PROJ_QKV) | (1 << SK_PROJ_ATTN_OUT);
    int mlp = (1 << SK_PROJ_FC) | (1 << SK_PROJ_MLP_OUT) | (is_llama(m) ? 1 << SK_PROJ_UP : 0);
    return attention_only ? attn : attn | mlp;
}

static int lora_init(SkMethod *me, SkError *err) {
    Lora *s = calloc(1, sizeof *s);
    if (!s) return sk_err(err, "out of memory");
    me->impl = s;
    const SkModelConfig *c = sk_model_config(me->model);
    bool llama = is_llama(me->model);
    const char *const *names = llama ? LLAMA_NAMES : GPT2_NAMES;
    int L = c->n_layer, d = c->d_model, r = me->cfg.lora_rank, F = c->d_ff;
    int q = c->n_head * c->head_dim, kv = c->n_kv_head * c->head_dim;
    /* in, out of each slot; a q/k/v part writes its columns of the fused output (rows q+2kv apart) */
    int dims[SK_PROJ_COUNT][2] = {{d, q + 2 * kv}, {q, d}, {d, F}, {F, d}, {d, q}, {d, kv}, {d, kv}, {d, F}};
    int targets = me->cfg.lora_targets ? me->cfg.lora_targets : sk_lora_default_targets(me->model);
    for (int p = 0; p < SK_PROJ_COUNT; p++)
        if ((targets & (1 << p)) && !names[p])
            return sk_err(err, "lora: %s has no %s of its own (its attn.c_attn holds q, k and v: target c_attn)",
                          c->arch, sk_lora_target_name((SkProj)p));
    if (llama && (targets & (1 << SK_PROJ_QKV)) && (targets & ((1 << SK_PROJ_Q) | (1 << SK_PROJ_K) | (1 << SK_PROJ_V))))
        return sk_err(err, "lora: c_attn (a delta on the fused q|k|v) and q_proj/k_proj/v_proj deltas both chosen");
    s->deltas = calloc((size_t)L * SK_PROJ_COUNT, sizeof *s->deltas);
    me->lora = calloc((size_t)L * SK_PROJ_COUNT, sizeof *me->lora);
    if (!s->deltas || !me->lora) return sk_err(err, "out of memory");
    char list[200] = "";
    for (int l = 0; l < L; l++)
        for (int p = 0; p < SK_PROJ_COUNT; p++) {
            if (!(targets & (1 << p))) continue;
            size_t n = strlen(list);
            if (l == 0) snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", names[p]);
            int in = dims[p][0], out = dims[p][1];
            char name[96];
            snprintf(name, sizeof name, llama ? "layers.%d.%s.lora_A" : "h.%d.%s.lora_A", l, names[p]);
            SkTrainable *A = sk_method_add(me, name, 2, r, in, true);
            name[strlen(name) - 1] = 'B';
            SkTrainable *B = A ? sk_method_add(me, name, 2, out, r, true) : NULL;
            if (!A || !B) return sk_err(err, "out of memory");
            sk_init_kaiming_uniform(&me->rng, A->w, A->numel, in);
            SkLowRank *lr = &s->deltas[l * SK_PROJ_COUNT + p];
            bool part = p == SK_PROJ_Q || p == SK_PROJ_K || p == SK_PROJ_V;
            *lr = (SkLowRank){.r = r, .scale = me->cfg.lora_alpha / (float)r, .A = A->w, .B = B->w,
                              .dA = A->g, .dB = B->g, .out_rs = part ? q + 2 * kv : 0};
            me->lora[l * SK_PROJ_COUNT + p] = lr;
        }
    me->lora_rank = r;
    snprintf(me->desc, sizeof me->desc, "lora: rank-%d updates (alpha %g%s) on %s of each of %d layers", r,
             me->cfg.lora_alpha, me->cfg.lora_dropout > 0 ? ", dropout" : "", list, L);
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
