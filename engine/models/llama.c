/* llama.c - the Llama architecture as Hugging Face's LlamaForCausalLM (also Mistral,
 * Qwen2, SmolLM, TinyLlama): token embeddings, pre-norm blocks with RMSNorm, rotary
 * position embeddings on queries and keys, grouped-query causal attention with optional
 * q/k/v(/o) biases, a SwiGLU MLP, a final RMSNorm and an LM head (tied or not).
 *
 * Shapes: B batch rows, S = n_embed + T rows per batch row (prepended embeddings first),
 * N = B*S token rows, P prefix columns, Skv = P + S key positions, d = hidden_size,
 * F = intermediate_size, H query heads and Hkv key/value heads of dh = head_dim each;
 * Q = H*dh, K = Hkv*dh, and a fused projection row [q (Q) | k (K) | v (K)] (the three
 * weights are declared one after the other, so they form one [Q+2K, d] matrix).
 * Row (b, s) sits at position pos_offset + s; prefix keys arrive already in key space
 * (a method rotates them or not, as its definition says). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"

typedef struct {
    SkParam *ln1, *q_w, *k_w, *v_w, *q_b, *k_b, *v_b, *o_w, *o_b, *ln2, *gate_w, *up_w, *down_w;
    SkParam *gate_b, *up_b, *down_b;
} LlamaLayer;

typedef struct {
    SkParam *embed, *norm, *lm_head; /* lm_head NULL when tied */
    LlamaLayer *layers;
    float inv_freq[SK_ROPE_MAX_DIM / 2]; /* for sequences up to max_position_embeddings */
} Llama;

typedef struct {
    float *x;                  /* [L+1][N, d] residual stream at each block's input */
    float *xn1, *rstd1;        /* [L][N, d], [L][N] */
    float *qkv;                /* [L][N, Q+2K] (q and k rotated) */
    float *k, *v;              /* [L][B, Skv, K] */
    float *att;                /* [L][B, H, S, Skv] */
    float *atty;               /* [L][N, Q] */
    float *x1;                 /* [L][N, d] */
    float *xn2, *rstd2;
    float *gate, *up, *hm;     /* [L][N, F] */
    float *rstdf;              /* [N] */
    float *lora_u;             /* [L][SK_PROJ_COUNT][N, r] */
    float *mask;               /* [B, S] */
    /* backward scratch */
    float *dres, *dln, *datty; /* [N, d] / [N, Q] */
    float *dhm, *dgate, *dup;  /* [N, F] */
    float *dqkv;               /* [N, Q+2K] */
    float *dk, *dv;            /* [B, Skv, K] */
    float *datt;               /* [B, H, S, Skv] */
    float *lora_du;            /* [N, r] */
    float *attn_scratch;       /* [B * Hkv, dh, Skv] */
    float *lora_x;             /* [L][N, 6d + Q + F]: dropped inputs of the eight projections */
    bool one;                  /* forward only: [L] above is [1], x is [2] (slots used in turn) */
} LlamaActs;

#define QDIM(c) ((c)->n_head * (c)->head_dim)
#define KDIM(c) ((c)->n_kv_head * (c)->head_dim)

static int declare(SkModel *m, SkError *err) {
    const SkModelConfig *c = &m->cfg;
    int64_t d = c->d_model, F = c->d_ff, Q = QDIM(c), K = KDIM(c);
    char name[96];
#define DECL(nm, ...)                                                                    \
    do {                                                                                 \
        int64_t shp[] = {__VA_ARGS__};                                                   \
        if (sk_model_declare(m, nm, (int)(sizeof shp / sizeof shp[0]), shp, err)) return -1; \
    } while (0)
#define LDECL(suffix, ...)                                     \
    snprintf(name, sizeof name, "layers.%d.%s", l, suffix);    \
    DECL(name, __VA_ARGS__)
    DECL("embed_tokens.weight", c->vocab_size, d);
    for (int l = 0; l < c->n_layer; l++) { /* order matters: bind() walks it */
        LDECL("input_layernorm.weight", d);
        LDECL("self_attn.q_proj.weight", Q, d); /* q, k, v adjacent: one fused matrix */
        LDECL("self_attn.k_proj.weight", K, d);
        LDECL("self_attn.v_proj.weight", K, d);
        if (c->qkv_bias) {
            LDECL("self_attn.q_proj.bias", Q);
            LDECL("self_attn.k_proj.bias", K);
            LDECL("self_attn.v_proj.bias", K);
        }
        LDECL("self_attn.o_proj.weight", d, Q);
        if (c->o_bias) {
            LDECL("self_attn.o_proj.bias", d);
        }
        LDECL("post_attention_layernorm.weight", d);
        LDECL("mlp.gate_proj.weight", F, d);
        LDECL("mlp.up_proj.weight", F, d);
        LDECL("mlp.down_proj.weight", d, F);
        if (c->mlp_bias) {
            LDECL("mlp.gate_proj.bias", F);
            LDECL("mlp.up_proj.bias", F);
            LDECL("mlp.down_proj.bias", d);
        }
    }
    DECL("norm.weight", d);
    if (!c->tie_embeddings) DECL("lm_head.weight", c->vocab_size, d);
#undef LDECL
#undef DECL
    return 0;
}

static int bind(SkModel *m, SkError *err) {
    const SkModelConfig *c = &m->cfg;
    if (c->rope.dim > SK_ROPE_MAX_DIM || c->rope.dim % 2)
        return sk_err(err, "rotary dimension %d: must be even and at most %d", c->rope.dim, SK_ROPE_MAX_DIM);
    Llama *g = calloc(1, sizeof *g);
    if (!g) return sk_err(err, "out of memory");
    m->impl = g;
    SkParam *p = m->params;
    g->embed = p++;
    g->layers = calloc((size_t)c->n_layer, sizeof *g->layers);
    if (!g->layers) return sk_err(err, "out of memory");
    for (int l = 0; l < c->n_layer; l++) {
        LlamaLayer *L = &g->layers[l];
        L->ln1 = p++, L->q_w = p++, L->k_w = p++, L->v_w = p++;
        if (c->qkv_bias) L->q_b = p++, L->k_b = p++, L->v_b = p++;
        L->o_w = p++;
        if (c->o_bias) L->o_b = p++;
        L->ln2 = p++, L->gate_w = p++, L->up_w = p++, L->down_w = p++;
        if (c->mlp_bias) L->gate_b = p++, L->up_b = p++, L->down_b = p++;
    }
    g->norm = p++;
    g->lm_head = c->tie_embeddings ? NULL : p++;
    sk_rope_inv_freq(&c->rope, c->max_seq, g->inv_freq);
    return 0;
}

static int checkpoint_names(const SkModel *m, const SkParam *p, char names[][160], int max,
                            bool *transposed) {
    (void)m, (void)max;
    *transposed = false;
    if (strcmp(p->name, "lm_head.weight") == 0) {
        snprintf(names[0], 160, "lm_head.weight");
        return 1;
    }
    snprintf(names[0], 160, "model.%s", p->name);
    snprintf(names[1], 160, "%s", p->name);
    return 2;
}

static size_t layout(const SkModel *m, const SkActsShape *s, SkArena *arena, LlamaActs *g) {
    const SkModelConfig *c = &m->cfg;
    size_t L = (size_t)c->n_layer, d = (size_t)c->d_model, F = (size_t)c->d_ff;
    size_t Q = (size_t)QDIM(c), K = (size_t)KDIM(c), R = Q + 2 * K;
    size_t B = (size_t)s->B, S = (size_t)(s->n_embed + s->T), N = B * S;
    size_t Skv = (size_t)s->n_prefix + S, H = (size_t)c->n_head, r = (size_t)s->lora_rank;
    /* forward only (evaluation, scoring): one layer's buffers, reused by every layer, and two
     * slots of the residual stream; no backward can follow */
    size_t Lk = s->forward_only ? 1 : L, Lx = s->forward_only ? 2 : L + 1;
    SkActsItem items[] = {
        {&g->x, Lx * N * d}, {&g->xn1, Lk * N * d}, {&g->rstd1, Lk * N}, {&g->qkv, Lk * N * R},
        {&g->k, Lk * B * Skv * K}, {&g->v, Lk * B * Skv * K}, {&g->att, Lk * B * H * S * Skv},
        {&g->atty, Lk * N * Q}, {&g->x1, Lk * N * d}, {&g->xn2, Lk * N * d}, {&g->rstd2, Lk * N},
        {&g->gate, Lk * N * F}, {&g->up, Lk * N * F}, {&g->hm, Lk * N * F}, {&g->rstdf, N},
        {&g->lora_u, Lk * SK_PROJ_COUNT * N * r}, {&g->mask, B * S}, {&g->dres, N * d},
        {&g->dln, N * d}, {&g->datty, N * Q}, {&g->dhm, N * F}, {&g->dgate, N * F}, {&g->dup, N * F},
        {&g->dqkv, N * R}, {&g->dk, B * Skv * K}, {&g->dv, B * Skv * K}, {&g->datt, B * H * S * Skv},
        {&g->lora_du, N * r}, {&g->attn_scratch, B * (size_t)c->n_kv_head * (size_t)c->head_dim * Skv},
        {&g->lora_x, s->lora_dropout ? Lk * N * (6 * d + Q + F) : 0},
    };
    return sk_acts_items(items, sizeof items / sizeof items[0], arena);
}

static size_t acts_floats(const SkModel *m, const SkActsShape *s) {
    LlamaActs g;
    return layout(m, s, NULL, &g) + sk_acts_io_floats(m, s);
}

static int acts_bind(SkModel *m, SkActs *a) {
    LlamaActs *g = calloc(1, sizeof *g);
    if (!g) return -1;
    a->impl = g;
    g->one = a->shape.forward_only;
    if (layout(m, &a->shape, &a->arena, g) == 0) return -1;
    return sk_acts_io_bind(m, a);
}

/* The delta on projection p of layer l (QKV: the fused q|k|v output; ATTN_OUT: o_proj;
 * FC: gate_proj; MLP_OUT: down_proj; then q_proj, k_proj, v_proj, up_proj), with its
 * dropout buffer placed: each delta drops its own copy of its input. */
static SkLowRank *lora_at(const SkModel *m, const SkActs *a, const SkHooks *h, int l, SkProj p) {
    SkLowRank *lr = h->lora ? h->lora[l * SK_PROJ_COUNT + p] : NULL;
    if (lr && lr->dropout > 0) {
        const LlamaActs *A = a->impl;
        const SkModelConfig *c = &m->cfg;
        size_t N = (size_t)a->B * a->S, d = (size_t)c->d_model, Q = (size_t)QDIM(c), F = (size_t)c->d_ff;
        size_t in_before = 2 * d + Q + F; /* inputs of the first four: d, Q, d, F */
        size_t off[SK_PROJ_COUNT] = {0, N * d, N * (d + Q), N * (2 * d + Q), N * in_before, N * (in_before + d),
                                     N * (in_before + 2 * d), N * (in_before + 3 * d)};
        lr->xd = A->lora_x + (size_t)(A->one ? 0 : l) * N * (6 * d + Q + F) + off[p];
    }
    return lr;
}

/* The columns of the fused q|k|v output that q_proj, k_proj and v_proj write. */
static const SkProj QKV_PARTS[3] = {SK_PROJ_Q, SK_PROJ_K, SK_PROJ_V};
static void qkv_part(const SkModelConfig *c, int i, int *col, int *width) {
    int Q = QDIM(c), K = KDIM(c);
    *col = i == 0 ? 0 : i == 1 ? Q : Q + K;
    *width = i == 0 ? Q : K;
}

/* Rotary inverse frequencies for a pass over n positions. Only dynamic scaling depends
 * on n, and only past max_position_embeddings: then the table is made for this pass in
 * `scratch` (transformers also goes back to the original table for shorter inputs), so
 * the model itself is never written and concurrent passes cannot disturb each other. */
static const float *inv_freq(const SkModel *m, int n, float *scratch) {
    const Llama *g = m->impl;
    if (m->cfg.rope.type != SK_ROPE_DYNAMIC || n <= m->cfg.rope.max_pos) return g->inv_freq;
    sk_rope_inv_freq(&m->cfg.rope, n, scratch);
    return scratch;
}

typedef struct {
    float *x, *xn1, *rstd1, *qkv, *k, *v, *att, *atty, *x1, *xn2, *rstd2, *gate, *up, *hm, *u;
} LayerActs;

/* Where the residual stream at block l's input lives (forward only: two slots in turn). */
static float *stream(const LlamaActs *A, int l, size_t Nd) { return A->x + (size_t)(A->one ? l % 2 : l) * Nd; }

static LayerActs layer_acts(const SkModel *m, const LlamaActs *A, int layer, int B, int S, int Skv, int r) {
    size_t l = A->one ? 0 : (size_t)layer;
    const SkModelConfig *c = &m->cfg;
    size_t N = (size_t)B * S, d = (size_t)c->d_model, F = (size_t)c->d_ff, Nd = N * d;
    size_t Q = (size_t)QDIM(c), K = (size_t)KDIM(c), kvn = (size_t)B * Skv * K;
    return (LayerActs){
        .x = stream(A, layer, Nd), .xn1 = A->xn1 + l * Nd, .rstd1 = A->rstd1 + l * N,
        .qkv = A->qkv + l * N * (Q + 2 * K), .k = A->k + l * kvn, .v = A->v + l * kvn,
        .att = A->att + (size_t)l * B * c->n_head * S * Skv, .atty = A->atty + l * N * Q,
        .x1 = A->x1 + l * Nd, .xn2 = A->xn2 + l * Nd, .rstd2 = A->rstd2 + l * N,
        .gate = A->gate + l * N * F, .up = A->up + l * N * F, .hm = A->hm + l * N * F,
        .u = A->lora_u + (size_t)l * SK_PROJ_COUNT * N * r,
    };
}

static const float *bias(const SkParam *p) { return p ? p->w : NULL; }
static float *bias_grad(const SkParam *p) { return p ? p->g : NULL; }

/* The fused [Wq; Wk; Wv] as the products take it: one matrix when the three are held
 * alike (declared side by side, so contiguous), else three stacked parts (a GGUF may store
 * v in another type than q and k, as Q4_K_M files do). parts: the caller's storage. */
static SkMat qkv_mat(const LlamaLayer *W, SkMat parts[3]) {
    SkMat q = sk_param_mat(W->q_w);
    if (W->k_w->qtype == W->q_w->qtype && W->v_w->qtype == W->q_w->qtype) return q; /* F32 (0) included */
    parts[0] = q, parts[1] = sk_param_mat(W->k_w), parts[2] = sk_param_mat(W->v_w);
    parts[0].rows = W->q_w->shape[0], parts[0].rest = &parts[1];
    parts[1].rows = W->k_w->shape[0], parts[1].rest = &parts[2];
    return parts[0];
}

static int forward(SkModel *m, SkActs *a, const SkBatch *b, const SkHooks *h, SkError *err) {
    (void)err;
    Llama *g = m->impl;
    LlamaActs *A = a->impl;
    SkPool *pool = m->pool;
    const SkModelConfig *c = &m->cfg;
    int B = b->B, T = b->T, E = h->n_embed, S = E + T, N = B * S, P = h->n_prefix, Skv = P + S;
    int d = c->d_model, F = c->d_ff, L = c->n_layer, r = a->shape.lora_rank;
    int Q = QDIM(c), K = KDIM(c), R = Q + 2 * K, dh = c->head_dim;
    size_t Nd = (size_t)N * d;
    float freq_scratch[SK_ROPE_MAX_DIM / 2];
    const float *freq = inv_freq(m, h->pos_offset + S, freq_scratch);

    /* x0[b, j] = embed[j];  x0[b, E + t] = embed_tokens[id] */
    for (int bi = 0; bi < B; bi++) {
        float *row = A->x + (size_t)bi * S * d;
        if (E) memcpy(row, h->embed, (size_t)E * d * sizeof(float));
        sk_embedding_forward(row + (size_t)E * d, b->ids + (size_t)bi * T, sk_param_mat(g->embed), (SkMat){0}, 0,
                             1, T, d);
        for (int j = 0; j < S; j++)
            A->mask[(size_t)bi * S + j] = j < E ? 1.0f : (b->mask ? b->mask[(size_t)bi * T + j - E] : 1.0f);
    }
    SkAttnShape as = {.B = B, .T = S, .P = P, .H = c->n_head, .Hkv = c->n_kv_head, .dh = dh};
    for (int l = 0; l < L; l++) {
        LlamaLayer *W = &g->layers[l];
        LayerActs la = layer_acts(m, A, l, B, S, Skv, r);
        float *xn = stream(A, l + 1, Nd);
        as.window = l >= c->window_from_layer ? c->sliding_window : 0;
        SkLowRank *lr;
        /* xn1 = RMSNorm(x);  qkv[N, Q+2K] = xn1 @ [Wq;Wk;Wv]^T + [bq;bk;bv] (+ delta) */
        sk_rmsnorm_forward(pool, la.xn1, la.rstd1, la.x, W->ln1->w, N, d, c->norm_eps);
        SkMat parts[3];
        sk_linear_forward_m(pool, la.qkv, la.xn1, qkv_mat(W, parts), bias(W->q_b), N, d, R, false);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_QKV))) {
            lr->u = la.u + (size_t)SK_PROJ_QKV * N * r;
            sk_lowrank_forward(lr, la.qkv, la.xn1, N, d, R);
        }
        for (int i = 0; i < 3; i++) /* q_proj, k_proj, v_proj deltas: their columns of qkv */
            if ((lr = lora_at(m, a, h, l, QKV_PARTS[i]))) {
                int col, width;
                qkv_part(c, i, &col, &width);
                lr->u = la.u + (size_t)QKV_PARTS[i] * N * r;
                sk_lowrank_forward(lr, la.qkv + col, la.xn1, N, d, width);
            }
        /* rotate q and k at positions pos_offset + s */
        sk_rope_forward(la.qkv, R, h->pos_offset, B, S, c->n_head, dh, c->rope.dim, freq);
        sk_rope_forward(la.qkv + Q, R, h->pos_offset, B, S, c->n_kv_head, dh, c->rope.dim, freq);
        for (int bi = 0; bi < B; bi++) { /* k, v [b] = [prefix ; this row's keys/values] */
            float *kb = la.k + (size_t)bi * Skv * K, *vb = la.v + (size_t)bi * Skv * K;
            if (P) {
                memcpy(kb, h->prefix_k[l], (size_t)P * K * sizeof(float));
                memcpy(vb, h->prefix_v[l], (size_t)P * K * sizeof(float));
            }
            for (int s = 0; s < S; s++) {
                const float *src = la.qkv + ((size_t)bi * S + s) * R;
                memcpy(kb + (size_t)(P + s) * K, src + Q, (size_t)K * sizeof(float));
                memcpy(vb + (size_t)(P + s) * K, src + Q + K, (size_t)K * sizeof(float));
            }
        }
        sk_attention_forward(pool, &as, la.atty, la.att, la.qkv, R, la.k, la.v, A->mask, A->attn_scratch);
        /* x1 = x + atty @ Wo^T (+ bo) */
        memcpy(la.x1, la.x, Nd * sizeof(float));
        sk_linear_forward_m(pool, la.x1, la.atty, sk_param_mat(W->o_w), bias(W->o_b), N, Q, d, true);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_ATTN_OUT))) {
            lr->u = la.u + (size_t)SK_PROJ_ATTN_OUT * N * r;
            sk_lowrank_forward(lr, la.x1, la.atty, N, Q, d);
        }
        /* MLP: gate, up = xn2 @ Wg^T, xn2 @ Wu^T;  hm = silu(gate) * up;  xn = x1 + hm @ Wd^T */
        sk_rmsnorm_forward(pool, la.xn2, la.rstd2, la.x1, W->ln2->w, N, d, c->norm_eps);
        sk_linear_forward_m(pool, la.gate, la.xn2, sk_param_mat(W->gate_w), bias(W->gate_b), N, d, F, false);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_FC))) {
            lr->u = la.u + (size_t)SK_PROJ_FC * N * r;
            sk_lowrank_forward(lr, la.gate, la.xn2, N, d, F);
        }
        sk_linear_forward_m(pool, la.up, la.xn2, sk_param_mat(W->up_w), bias(W->up_b), N, d, F, false);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_UP))) {
            lr->u = la.u + (size_t)SK_PROJ_UP * N * r;
            sk_lowrank_forward(lr, la.up, la.xn2, N, d, F);
        }
        sk_swiglu_forward(la.hm, la.gate, la.up, (size_t)N * F);
        memcpy(xn, la.x1, Nd * sizeof(float));
        sk_linear_forward_m(pool, xn, la.hm, sk_param_mat(W->down_w), bias(W->down_b), N, F, d, true);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_MLP_OUT))) {
            lr->u = la.u + (size_t)SK_PROJ_MLP_OUT * N * r;
            sk_lowrank_forward(lr, xn, la.hm, N, F, d);
        }
    }
    sk_rmsnorm_forward(pool, a->hidden, A->rstdf, stream(A, L, Nd), g->norm->w, N, d, c->norm_eps);
    return 0;
}

static int backward(SkModel *m, SkActs *a, const SkBatch *b, const SkHooks *h, const float *d_hidden,
                    SkError *err) {
    (void)err;
    Llama *g = m->impl;
    LlamaActs *A = a->impl;
    SkPool *pool = m->pool;
    const SkModelConfig *c = &m->cfg;
    int B = b->B, T = b->T, E = h->n_embed, S = E + T, N = B * S, P = h->n_prefix, Skv = P + S;
    int d = c->d_model, F = c->d_ff, L = c->n_layer, r = a->shape.lora_rank;
    int Q = QDIM(c), K = KDIM(c), R = Q + 2 * K, dh = c->head_dim;
    size_t Nd = (size_t)N * d;
    float freq_scratch[SK_ROPE_MAX_DIM / 2];
    const float *freq = inv_freq(m, h->pos_offset + S, freq_scratch);
    SkAttnShape as = {.B = B, .T = S, .P = P, .H = c->n_head, .Hkv = c->n_kv_head, .dh = dh};

    memset(A->dres, 0, Nd * sizeof(float));
    sk_rmsnorm_backward(pool, A->dres, g->norm->g, d_hidden, A->x + (size_t)L * Nd, g->norm->w, A->rstdf, N, d);
    for (int l = L - 1; l >= 0; l--) {
        LlamaLayer *W = &g->layers[l];
        LayerActs la = layer_acts(m, A, l, B, S, Skv, r);
        SkLowRank *lr;
        as.window = l >= c->window_from_layer ? c->sliding_window : 0;
        /* down: xn = x1 + hm @ Wd^T  ->  dhm = dres @ Wd; dres passes to x1 */
        memset(A->dhm, 0, (size_t)N * F * sizeof(float));
        sk_linear_backward_m(pool, A->dhm, W->down_w->g, bias_grad(W->down_b), A->dres, la.hm, sk_param_mat(W->down_w), N, F, d);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_MLP_OUT))) {
            lr->u = la.u + (size_t)SK_PROJ_MLP_OUT * N * r, lr->du = A->lora_du;
            sk_lowrank_backward(lr, A->dhm, A->dres, la.hm, N, F, d);
        }
        memset(A->dgate, 0, (size_t)N * F * sizeof(float));
        memset(A->dup, 0, (size_t)N * F * sizeof(float));
        sk_swiglu_backward(A->dgate, A->dup, A->dhm, la.gate, la.up, (size_t)N * F);
        memset(A->dln, 0, Nd * sizeof(float));
        sk_linear_backward_m(pool, A->dln, W->up_w->g, bias_grad(W->up_b), A->dup, la.xn2, sk_param_mat(W->up_w), N, d, F);
        sk_linear_backward_m(pool, A->dln, W->gate_w->g, bias_grad(W->gate_b), A->dgate, la.xn2, sk_param_mat(W->gate_w), N, d, F);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_FC))) {
            lr->u = la.u + (size_t)SK_PROJ_FC * N * r, lr->du = A->lora_du;
            sk_lowrank_backward(lr, A->dln, A->dgate, la.xn2, N, d, F);
        }
        if ((lr = lora_at(m, a, h, l, SK_PROJ_UP))) {
            lr->u = la.u + (size_t)SK_PROJ_UP * N * r, lr->du = A->lora_du;
            sk_lowrank_backward(lr, A->dln, A->dup, la.xn2, N, d, F);
        }
        sk_rmsnorm_backward(pool, A->dres, W->ln2->g, A->dln, la.x1, W->ln2->w, la.rstd2, N, d);
        /* attention out */
        memset(A->datty, 0, (size_t)N * Q * sizeof(float));
        sk_linear_backward_m(pool, A->datty, W->o_w->g, bias_grad(W->o_b), A->dres, la.atty, sk_param_mat(W->o_w), N, Q, d);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_ATTN_OUT))) {
            lr->u = la.u + (size_t)SK_PROJ_ATTN_OUT * N * r, lr->du = A->lora_du;
            sk_lowrank_backward(lr, A->datty, A->dres, la.atty, N, Q, d);
        }
        memset(A->dqkv, 0, (size_t)N * R * sizeof(float));
        memset(A->dk, 0, (size_t)B * Skv * K * sizeof(float));
        memset(A->dv, 0, (size_t)B * Skv * K * sizeof(float));
        sk_attention_backward(pool, &as, A->dqkv, R, A->dk, A->dv, A->datt, A->datty, la.att, la.qkv, R, la.k,
                              la.v, A->attn_scratch);
        for (int bi = 0; bi < B; bi++) { /* input columns into dqkv, prefix columns to the hook */
            const float *dkb = A->dk + (size_t)bi * Skv * K, *dvb = A->dv + (size_t)bi * Skv * K;
            for (int s = 0; s < S; s++) {
                float *dst = A->dqkv + ((size_t)bi * S + s) * R;
                memcpy(dst + Q, dkb + (size_t)(P + s) * K, (size_t)K * sizeof(float));
                memcpy(dst + Q + K, dvb + (size_t)(P + s) * K, (size_t)K * sizeof(float));
                if (h->kv_grad_k && h->kv_grad_k[l])
                    sk_add_inplace(dst + Q, h->kv_grad_k[l] + ((size_t)bi * S + s) * K, (size_t)K);
                if (h->kv_grad_v && h->kv_grad_v[l])
                    sk_add_inplace(dst + Q + K, h->kv_grad_v[l] + ((size_t)bi * S + s) * K, (size_t)K);
            }
            if (P && h->d_prefix_k && h->d_prefix_k[l]) sk_add_inplace(h->d_prefix_k[l], dkb, (size_t)P * K);
            if (P && h->d_prefix_v && h->d_prefix_v[l]) sk_add_inplace(h->d_prefix_v[l], dvb, (size_t)P * K);
        }
        /* back through the rotation of q and k, then the fused projection */
        sk_rope_backward(A->dqkv, R, h->pos_offset, B, S, c->n_head, dh, c->rope.dim, freq);
        sk_rope_backward(A->dqkv + Q, R, h->pos_offset, B, S, c->n_kv_head, dh, c->rope.dim, freq);
        memset(A->dln, 0, Nd * sizeof(float));
        SkMat parts[3];
        sk_linear_backward_m(pool, A->dln, NULL, NULL, A->dqkv, la.xn1, qkv_mat(W, parts), N, d, R); /* fused weights */
        /* weight gradients per matrix: each has its own gradient buffer */
        sk_linear_backward_weights(W->q_w->g, bias_grad(W->q_b), A->dqkv, R, la.xn1, N, d, Q);
        sk_linear_backward_weights(W->k_w->g, bias_grad(W->k_b), A->dqkv + Q, R, la.xn1, N, d, K);
        sk_linear_backward_weights(W->v_w->g, bias_grad(W->v_b), A->dqkv + Q + K, R, la.xn1, N, d, K);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_QKV))) {
            lr->u = la.u + (size_t)SK_PROJ_QKV * N * r, lr->du = A->lora_du;
            sk_lowrank_backward(lr, A->dln, A->dqkv, la.xn1, N, d, R);
        }
        for (int i = 0; i < 3; i++)
            if ((lr = lora_at(m, a, h, l, QKV_PARTS[i]))) {
                int col, width;
                qkv_part(c, i, &col, &width);
                lr->u = la.u + (size_t)QKV_PARTS[i] * N * r, lr->du = A->lora_du;
                sk_lowrank_backward(lr, A->dln, A->dqkv + col, la.xn1, N, d, width);
            }
        sk_rmsnorm_backward(pool, A->dres, W->ln1->g, A->dln, la.x, W->ln1->w, la.rstd1, N, d);
    }
    memcpy(a->d_input, A->dres, Nd * sizeof(float));
    for (int bi = 0; bi < B; bi++) {
        const float *drow = A->dres + (size_t)bi * S * d;
        if (E && h->d_embed) sk_add_inplace(h->d_embed, drow, (size_t)E * d);
        sk_embedding_backward(g->embed->g, NULL, drow + (size_t)E * d, b->ids + (size_t)bi * T, 0, 1, T, d);
    }
    return 0;
}

static SkMat lm_head(const SkModel *m, float **grad) {
    Llama *g = m->impl;
    SkParam *p = g->lm_head ? g->lm_head : g->embed;
    if (grad) *grad = p->g;
    return sk_param_mat(p);
}

static void layer_kv(const SkModel *m, const SkActs *a, int layer, const float **k, const float **v) {
    const LlamaActs *A = a->impl;
    size_t per = (size_t)a->B * (a->S + a->P) * KDIM(&m->cfg);
    *k = A->k + (size_t)layer * per;
    *v = A->v + (size_t)layer * per;
}

static const float *block_input(const SkModel *m, const SkActs *a, int layer) {
    const LlamaActs *A = a->impl;
    return A->x + (size_t)layer * a->B * a->S * m->cfg.d_model;
}

/* K/V of n rows (a prompt read at positions 0..n-1) through block l's input norm and
 * its key/value projections; keys rotated at their positions, as the block itself
 * would. scratch: xn [n, d], rstd [n], dxn [n, d], dk [n, K] */
static size_t kv_scratch(const SkModel *m, int n) { return (size_t)n * (2 * m->cfg.d_model + 1 + KDIM(&m->cfg)); }

static void kv_forward(SkModel *m, int layer, const float *g, int n, float *k, float *v, float *scratch) {
    Llama *G = m->impl;
    LlamaLayer *W = &G->layers[layer];
    const SkModelConfig *c = &m->cfg;
    int d = c->d_model, K = KDIM(c);
    float *xn = scratch, *rstd = xn + (size_t)n * d;
    sk_rmsnorm_forward(m->pool, xn, rstd, g, W->ln1->w, n, d, c->norm_eps);
    sk_linear_forward_m(m->pool, k, xn, sk_param_mat(W->k_w), bias(W->k_b), n, d, K, false);
    sk_linear_forward_m(m->pool, v, xn, sk_param_mat(W->v_w), bias(W->v_b), n, d, K, false);
    float freq[SK_ROPE_MAX_DIM / 2];
    sk_rope_forward(k, K, 0, 1, n, c->n_kv_head, c->head_dim, c->rope.dim, inv_freq(m, n, freq));
}

static void kv_backward(SkModel *m, int layer, const float *g, int n, const float *dk, const float *dv,
                        float *dg, float *scratch) {
    Llama *G = m->impl;
    LlamaLayer *W = &G->layers[layer];
    const SkModelConfig *c = &m->cfg;
    int d = c->d_model, K = KDIM(c);
    float *xn = scratch, *rstd = xn + (size_t)n * d, *dxn = rstd + n, *dkr = dxn + (size_t)n * d;
    memcpy(dkr, dk, (size_t)n * K * sizeof(float));
    float freq[SK_ROPE_MAX_DIM / 2];
    sk_rope_backward(dkr, K, 0, 1, n, c->n_kv_head, c->head_dim, c->rope.dim, inv_freq(m, n, freq));
    memset(dxn, 0, (size_t)n * d * sizeof(float));
    sk_linear_backward_m(m->pool, dxn, NULL, NULL, dkr, xn, sk_param_mat(W->k_w), n, d, K);
    sk_linear_backward_m(m->pool, dxn, NULL, NULL, dv, xn, sk_param_mat(W->v_w), n, d, K);
    sk_rmsnorm_backward(m->pool, dg, NULL, dxn, g, W->ln1->w, rstd, n, d);
}

static cJSON *config_json(const SkModel *m) {
    const SkModelConfig *c = &m->cfg;
    cJSON *j = cJSON_CreateObject();
    cJSON *arch = cJSON_CreateArray();
    bool qwen = c->qkv_bias && !c->o_bias, mistral = !qwen && c->sliding_window;
    cJSON_AddItemToArray(arch, cJSON_CreateString(qwen ? "Qwen2ForCausalLM" : mistral ? "MistralForCausalLM"
                                                                                 : "LlamaForCausalLM"));
    cJSON_AddItemToObject(j, "architectures", arch);
    cJSON_AddStringToObject(j, "model_type", qwen ? "qwen2" : mistral ? "mistral" : "llama");
    if (c->sliding_window) cJSON_AddNumberToObject(j, "sliding_window", c->sliding_window);
    if (qwen) cJSON_AddBoolToObject(j, "use_sliding_window", c->sliding_window > 0);
    if (qwen && c->sliding_window) cJSON_AddNumberToObject(j, "max_window_layers", c->window_from_layer);
    if (c->rope.dim != c->head_dim) cJSON_AddNumberToObject(j, "partial_rotary_factor", (double)c->rope.dim / c->head_dim);
    cJSON_AddNumberToObject(j, "hidden_size", c->d_model);
    cJSON_AddNumberToObject(j, "intermediate_size", c->d_ff);
    cJSON_AddNumberToObject(j, "num_hidden_layers", c->n_layer);
    cJSON_AddNumberToObject(j, "num_attention_heads", c->n_head);
    cJSON_AddNumberToObject(j, "num_key_value_heads", c->n_kv_head);
    cJSON_AddNumberToObject(j, "head_dim", c->head_dim);
    cJSON_AddNumberToObject(j, "max_position_embeddings", c->max_seq);
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(j, "rms_norm_eps", c->norm_eps);
    cJSON_AddNumberToObject(j, "rope_theta", c->rope.theta);
    cJSON_AddStringToObject(j, "hidden_act", "silu");
    cJSON_AddBoolToObject(j, "tie_word_embeddings", c->tie_embeddings);
    if (!qwen) cJSON_AddBoolToObject(j, "attention_bias", c->qkv_bias);
    cJSON_AddBoolToObject(j, "mlp_bias", c->mlp_bias);
    if (c->rope.type != SK_ROPE_DEFAULT) {
        static const char *types[] = {"default", "linear", "dynamic", "llama3"};
        cJSON *rs = cJSON_AddObjectToObject(j, "rope_scaling");
        cJSON_AddStringToObject(rs, "rope_type", types[c->rope.type]);
        cJSON_AddNumberToObject(rs, "factor", c->rope.factor);
        if (c->rope.type == SK_ROPE_LLAMA3) {
            cJSON_AddNumberToObject(rs, "low_freq_factor", c->rope.low_freq_factor);
            cJSON_AddNumberToObject(rs, "high_freq_factor", c->rope.high_freq_factor);
            cJSON_AddNumberToObject(rs, "original_max_position_embeddings", c->rope.original_max);
        }
    }
    return j;
}

static void release(SkModel *m) {
    Llama *g = m->impl;
    free(g->layers);
    free(g);
    m->impl = NULL;
}

const SkArch sk_arch_llama = {
    .name = "llama",
    .declare = declare,
    .bind = bind,
    .checkpoint_names = checkpoint_names,
    .acts_floats = acts_floats,
    .acts_bind = acts_bind,
    .forward = forward,
    .backward = backward,
    .lm_head = lm_head,
    .release = release,
    .config_json = config_json,
    .block_input = block_input,
    .layer_kv = layer_kv,
    .kv_scratch = kv_scratch,
    .kv_forward = kv_forward,
    .kv_backward = kv_backward,
};
