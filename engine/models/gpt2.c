/* gpt2.c - the GPT-2 architecture (Radford et al. 2019) as Hugging Face's GPT2Model:
 * token + learned position embeddings, pre-LN blocks with causal multi-head
 * attention and a GELU MLP, final LayerNorm, LM head tied to the token embeddings.
 *
 * Shapes: B batch rows, S = n_embed + T rows per batch row (prepended embeddings
 * first), N = B*S token rows, P prefix columns, Skv = P + S key positions,
 * d = n_embd, F = n_inner, H heads of dh. Weights are held as [out, in] (the
 * checkpoint's Conv1D [in, out] is transposed on load). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"

typedef struct {
    SkParam *ln1_w, *ln1_b, *qkv_w, *qkv_b, *o_w, *o_b, *ln2_w, *ln2_b, *fc_w, *fc_b, *p_w, *p_b;
} Gpt2Layer;

typedef struct {
    SkParam *wte, *wpe, *lnf_w, *lnf_b, *lm_head; /* lm_head NULL when tied */
    Gpt2Layer *layers;
} Gpt2;

typedef struct {
    float *x;                  /* [L+1][N, d] residual stream at each block's input */
    float *ln1, *ln1_mean, *ln1_rstd; /* [L][N, d], [L][N], [L][N] */
    float *qkv;                /* [L][N, 3d] */
    float *k, *v;              /* [L][B, Skv, d] */
    float *att;                /* [L][B, H, S, Skv] */
    float *atty;               /* [L][N, d] */
    float *x1;                 /* [L][N, d] residual after attention */
    float *ln2, *ln2_mean, *ln2_rstd;
    float *fch, *fcg;          /* [L][N, F] */
    float *lnf_mean, *lnf_rstd;/* [N] */
    float *lora_u;             /* [L][SK_PROJ_COUNT][N, r] (GPT-2 uses the first four) */
    float *mask;               /* [B, S] */
    /* backward scratch */
    float *dres, *dln, *datty; /* [N, d] */
    float *dff_a, *dff_b;      /* [N, F] */
    float *dqkv;               /* [N, 3d] */
    float *dk, *dv;            /* [B, Skv, d] */
    float *datt;               /* [B, H, S, Skv] */
    float *lora_du;            /* [N, r] */
    float *attn_scratch;       /* [B * H, dh, Skv] */
    float *lora_x;             /* [L][N, 3d + F]: dropped inputs of the four projections */
    bool one;    /* forward only: [L] buffers are [1], x is [2] (slots used in turn) */
} Gpt2Acts;

static int declare(SkModel *m, SkError *err) {
    const SkModelConfig *c = &m->cfg;
    int64_t d = c->d_model, F = c->d_ff;
    char name[96];
#define DECL(nm, ...)                                                                    \
    do {                                                                                 \
        int64_t shp[] = {__VA_ARGS__};                                                   \
        if (sk_model_declare(m, nm, (int)(sizeof shp / sizeof shp[0]), shp, err)) return -1; \
    } while (0)
    DECL("wte.weight", c->vocab_size, d);
    DECL("wpe.weight", c->max_seq, d);
    for (int l = 0; l < c->n_layer; l++) {
#define LDECL(suffix, ...)                                     \
    snprintf(name, sizeof name, "h.%d.%s", l, suffix);         \
    DECL(name, __VA_ARGS__)
        LDECL("ln_1.weight", d);
        LDECL("ln_1.bias", d);
        LDECL("attn.c_attn.weight", 3 * d, d);
        LDECL("attn.c_attn.bias", 3 * d);
        LDECL("attn.c_proj.weight", d, d);
        LDECL("attn.c_proj.bias", d);
        LDECL("ln_2.weight", d);
        LDECL("ln_2.bias", d);
        LDECL("mlp.c_fc.weight", F, d);
        LDECL("mlp.c_fc.bias", F);
        LDECL("mlp.c_proj.weight", d, F);
        LDECL("mlp.c_proj.bias", d);
#undef LDECL
    }
    DECL("ln_f.weight", d);
    DECL("ln_f.bias", d);
    if (!c->tie_embeddings) DECL("lm_head.weight", c->vocab_size, d);
#undef DECL
    return 0;
}

static int bind(SkModel *m, SkError *err) {
    Gpt2 *g = calloc(1, sizeof *g);
    if (!g) return sk_err(err, "out of memory");
    g->layers = NULL;
    m->impl = g;
    /* parameters are declared in a fixed order: wte, wpe, 12 per layer, ln_f, [lm_head] */
    SkParam *p = m->params;
    g->wte = p++;
    g->wpe = p++;
    g->layers = calloc((size_t)m->cfg.n_layer, sizeof *g->layers);
    if (!g->layers) return sk_err(err, "out of memory");
    for (int l = 0; l < m->cfg.n_layer; l++) {
        Gpt2Layer *L = &g->layers[l];
        L->ln1_w = p++, L->ln1_b = p++, L->qkv_w = p++, L->qkv_b = p++, L->o_w = p++, L->o_b = p++;
        L->ln2_w = p++, L->ln2_b = p++, L->fc_w = p++, L->fc_b = p++, L->p_w = p++, L->p_b = p++;
    }
    g->lnf_w = p++;
    g->lnf_b = p++;
    g->lm_head = m->cfg.tie_embeddings ? NULL : p++;
    return 0;
}

static int checkpoint_names(const SkModel *m, const SkParam *p, char names[][160], int max,
                            bool *transposed) {
    (void)m;
    (void)max;
    /* Conv1D weights are stored [in, out] */
    *transposed = p->ndim == 2 && strncmp(p->name, "h.", 2) == 0;
    if (strcmp(p->name, "lm_head.weight") == 0) {
        snprintf(names[0], 160, "lm_head.weight");
        return 1;
    }
    snprintf(names[0], 160, "transformer.%s", p->name);
    snprintf(names[1], 160, "%s", p->name);
    return 2;
}

/* The arena layout, walked once to size it and once to place the pointers. */
static size_t layout(const SkModel *m, const SkActsShape *s, SkArena *arena, Gpt2Acts *g) {
    const SkModelConfig *c = &m->cfg;
    size_t L = (size_t)c->n_layer, d = (size_t)c->d_model, F = (size_t)c->d_ff;
    size_t B = (size_t)s->B, S = (size_t)(s->n_embed + s->T), N = B * S;
    size_t Skv = (size_t)s->n_prefix + S, H = (size_t)c->n_head, r = (size_t)s->lora_rank;
    /* forward only (evaluation, scoring): one layer's buffers, reused by every layer, and two
     * slots of the residual stream; no backward can follow */
    size_t Lk = s->forward_only ? 1 : L, Lx = s->forward_only ? 2 : L + 1;
    SkActsItem items[] = {
        {&g->x, Lx * N * d}, {&g->ln1, Lk * N * d}, {&g->ln1_mean, Lk * N},
        {&g->ln1_rstd, Lk * N}, {&g->qkv, Lk * N * 3 * d}, {&g->k, Lk * B * Skv * d},
        {&g->v, Lk * B * Skv * d}, {&g->att, Lk * B * H * S * Skv}, {&g->atty, Lk * N * d},
        {&g->x1, Lk * N * d}, {&g->ln2, Lk * N * d}, {&g->ln2_mean, Lk * N}, {&g->ln2_rstd, Lk * N},
        {&g->fch, Lk * N * F}, {&g->fcg, Lk * N * F}, {&g->lnf_mean, N}, {&g->lnf_rstd, N},
        {&g->lora_u, Lk * SK_PROJ_COUNT * N * r}, {&g->mask, B * S}, {&g->dres, N * d},
        {&g->dln, N * d}, {&g->datty, N * d}, {&g->dff_a, N * F}, {&g->dff_b, N * F},
        {&g->dqkv, N * 3 * d}, {&g->dk, B * Skv * d}, {&g->dv, B * Skv * d},
        {&g->datt, B * H * S * Skv}, {&g->lora_du, N * r},
        {&g->attn_scratch, B * H * (size_t)c->head_dim * Skv},
        {&g->lora_x, s->lora_dropout ? Lk * N * (3 * d + F) : 0},
    };
    return sk_acts_items(items, sizeof items / sizeof items[0], arena);
}

static size_t acts_floats(const SkModel *m, const SkActsShape *s) {
    Gpt2Acts g;
    return layout(m, s, NULL, &g) + sk_acts_io_floats(m, s);
}

static int acts_bind(SkModel *m, SkActs *a) {
    Gpt2Acts *g = calloc(1, sizeof *g);
    if (!g) return -1;
    a->impl = g;
    g->one = a->shape.forward_only;
    if (layout(m, &a->shape, &a->arena, g) == 0) return -1;
    return sk_acts_io_bind(m, a);
}

/* The delta on projection p of layer l, with its dropout buffer placed (inputs of
 * c_attn, attn.c_proj and mlp.c_fc have d columns, mlp.c_proj's have F). */
static SkLowRank *lora_at(const SkModel *m, const SkActs *a, const SkHooks *h, int l, SkProj p) {
    SkLowRank *lr = h->lora ? h->lora[l * SK_PROJ_COUNT + p] : NULL;
    if (lr && lr->dropout > 0) {
        const Gpt2Acts *A = a->impl;
        size_t N = (size_t)a->B * a->S, d = (size_t)m->cfg.d_model, F = (size_t)m->cfg.d_ff;
        lr->xd = A->lora_x + (size_t)(A->one ? 0 : l) * N * (3 * d + F) + N * d * (size_t)p;
    }
    return lr;
}

/* Layer l's saved activations for a batch of N = B*S rows and Skv key columns. */
typedef struct {
    float *x, *ln1, *ln1_mean, *ln1_rstd, *qkv, *k, *v, *att, *atty, *x1;
    float *ln2, *ln2_mean, *ln2_rstd, *fch, *fcg, *u;
} LayerActs;

/* Where the residual stream at block l's input lives (forward only: two slots in turn). */
static float *stream(const Gpt2Acts *A, int l, size_t Nd) { return A->x + (size_t)(A->one ? l % 2 : l) * Nd; }

static LayerActs layer_acts(const SkModel *m, const Gpt2Acts *A, int layer, int B, int S, int Skv, int r) {
    size_t l = A->one ? 0 : (size_t)layer;
    size_t N = (size_t)B * S, d = (size_t)m->cfg.d_model, F = (size_t)m->cfg.d_ff, Nd = N * d;
    size_t kvn = (size_t)B * Skv * d;
    return (LayerActs){
        .x = stream(A, layer, Nd), .ln1 = A->ln1 + l * Nd, .ln1_mean = A->ln1_mean + l * N,
        .ln1_rstd = A->ln1_rstd + l * N, .qkv = A->qkv + l * Nd * 3, .k = A->k + l * kvn,
        .v = A->v + l * kvn, .att = A->att + (size_t)l * B * m->cfg.n_head * S * Skv,
        .atty = A->atty + l * Nd, .x1 = A->x1 + l * Nd, .ln2 = A->ln2 + l * Nd,
        .ln2_mean = A->ln2_mean + l * N, .ln2_rstd = A->ln2_rstd + l * N,
        .fch = A->fch + l * N * F, .fcg = A->fcg + l * N * F,
        .u = A->lora_u + (size_t)l * SK_PROJ_COUNT * N * r,
    };
}

static int forward(SkModel *m, SkActs *a, const SkBatch *b, const SkHooks *h, SkError *err) {
    (void)err;
    Gpt2 *g = m->impl;
    Gpt2Acts *A = a->impl;
    SkPool *pool = m->pool;
    const SkModelConfig *c = &m->cfg;
    int B = b->B, T = b->T, E = h->n_embed, S = E + T, N = B * S, P = h->n_prefix, Skv = P + S;
    int d = c->d_model, F = c->d_ff, L = c->n_layer, r = a->shape.lora_rank;
    size_t Nd = (size_t)N * d;

    /* embeddings: x0[b, j] = embed[j] + wpe[off + j];  x0[b, E + t] = wte[id] + wpe[off + E + t] */
    for (int bi = 0; bi < B; bi++) {
        float *row = A->x + (size_t)bi * S * d;
        for (int j = 0; j < E; j++) {
            const float *e = h->embed + (size_t)j * d;
            float *o = row + (size_t)j * d;
            sk_param_read(g->wpe, (size_t)(h->pos_offset + j) * d, (size_t)d, o);
            for (int i = 0; i < d; i++) o[i] += e[i];
        }
        sk_embedding_forward(row + (size_t)E * d, b->ids + (size_t)bi * T, sk_param_mat(g->wte),
                             sk_param_mat(g->wpe), h->pos_offset + E, 1, T, d);
        for (int j = 0; j < S; j++)
            A->mask[(size_t)bi * S + j] = j < E ? 1.0f : (b->mask ? b->mask[(size_t)bi * T + j - E] : 1.0f);
    }

    SkAttnShape as = {.B = B, .T = S, .P = P, .H = c->n_head, .Hkv = c->n_head, .dh = c->head_dim};
    for (int l = 0; l < L; l++) {
        Gpt2Layer *W = &g->layers[l];
        LayerActs la = layer_acts(m, A, l, B, S, Skv, r);
        float *x = la.x, *xn = stream(A, l + 1, Nd), *ln1 = la.ln1, *ln2 = la.ln2, *qkv = la.qkv;
        float *atty = la.atty, *x1 = la.x1, *k = la.k, *v = la.v, *att = la.att, *fch = la.fch;
        float *fcg = la.fcg, *u = la.u;
        SkLowRank *lr;

        /* ln1[N,d] = LN(x);  qkv[N,3d] = ln1 @ Wqkv^T + b (+ delta) */
        sk_layernorm_forward(pool, ln1, la.ln1_mean, la.ln1_rstd, x,
                             W->ln1_w->w, W->ln1_b->w, N, d, c->norm_eps);
        sk_linear_forward_m(pool, qkv, ln1, sk_param_mat(W->qkv_w), W->qkv_b->w, N, d, 3 * d, false);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_QKV))) {
            lr->u = u + (size_t)SK_PROJ_QKV * N * r;
            sk_lowrank_forward(lr, qkv, ln1, N, d, 3 * d);
        }
        /* k,v[b] = [prefix ; this row's keys/values] */
        for (int bi = 0; bi < B; bi++) {
            float *kb = k + (size_t)bi * Skv * d, *vb = v + (size_t)bi * Skv * d;
            if (P) {
                memcpy(kb, h->prefix_k[l], (size_t)P * d * sizeof(float));
                memcpy(vb, h->prefix_v[l], (size_t)P * d * sizeof(float));
            }
            for (int s = 0; s < S; s++) {
                const float *src = qkv + ((size_t)bi * S + s) * 3 * d;
                memcpy(kb + (size_t)(P + s) * d, src + d, (size_t)d * sizeof(float));
                memcpy(vb + (size_t)(P + s) * d, src + 2 * d, (size_t)d * sizeof(float));
            }
        }
        sk_attention_forward(pool, &as, atty, att, qkv, 3 * d, k, v, A->mask, A->attn_scratch);
        /* x1 = x + atty @ Wo^T + bo */
        memcpy(x1, x, Nd * sizeof(float));
        sk_linear_forward_m(pool, x1, atty, sk_param_mat(W->o_w), W->o_b->w, N, d, d, true);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_ATTN_OUT))) {
            lr->u = u + (size_t)SK_PROJ_ATTN_OUT * N * r;
            sk_lowrank_forward(lr, x1, atty, N, d, d);
        }
        /* MLP: fch = LN2(x1) @ Wfc^T + b;  fcg = act(fch);  xn = x1 + fcg @ Wp^T + bp */
        sk_layernorm_forward(pool, ln2, la.ln2_mean, la.ln2_rstd, x1,
                             W->ln2_w->w, W->ln2_b->w, N, d, c->norm_eps);
        sk_linear_forward_m(pool, fch, ln2, sk_param_mat(W->fc_w), W->fc_b->w, N, d, F, false);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_FC))) {
            lr->u = u + (size_t)SK_PROJ_FC * N * r;
            sk_lowrank_forward(lr, fch, ln2, N, d, F);
        }
        sk_activation_forward(pool, c->activation, fcg, fch, (size_t)N * F);
        memcpy(xn, x1, Nd * sizeof(float));
        sk_linear_forward_m(pool, xn, fcg, sk_param_mat(W->p_w), W->p_b->w, N, F, d, true);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_MLP_OUT))) {
            lr->u = u + (size_t)SK_PROJ_MLP_OUT * N * r;
            sk_lowrank_forward(lr, xn, fcg, N, F, d);
        }
    }
    sk_layernorm_forward(pool, a->hidden, A->lnf_mean, A->lnf_rstd, stream(A, L, Nd),
                         g->lnf_w->w, g->lnf_b->w, N, d, c->norm_eps);
    return 0;
}

static int backward(SkModel *m, SkActs *a, const SkBatch *b, const SkHooks *h,
                    const float *d_hidden, SkError *err) {
    (void)err;
    Gpt2 *g = m->impl;
    Gpt2Acts *A = a->impl;
    SkPool *pool = m->pool;
    const SkModelConfig *c = &m->cfg;
    int B = b->B, T = b->T, E = h->n_embed, S = E + T, N = B * S, P = h->n_prefix, Skv = P + S;
    int d = c->d_model, F = c->d_ff, L = c->n_layer, r = a->shape.lora_rank;
    size_t Nd = (size_t)N * d;
    SkAttnShape as = {.B = B, .T = S, .P = P, .H = c->n_head, .Hkv = c->n_head, .dh = c->head_dim};

    /* dres = d(x_L) through the final norm */
    memset(A->dres, 0, Nd * sizeof(float));
    sk_layernorm_backward(pool, A->dres, g->lnf_w->g, g->lnf_b->g, d_hidden, A->x + (size_t)L * Nd,
                          g->lnf_w->w, A->lnf_mean, A->lnf_rstd, N, d);

    for (int l = L - 1; l >= 0; l--) {
        Gpt2Layer *W = &g->layers[l];
        LayerActs la = layer_acts(m, A, l, B, S, Skv, r);
        float *x = la.x, *ln1 = la.ln1, *ln2 = la.ln2, *qkv = la.qkv, *atty = la.atty, *x1 = la.x1;
        float *k = la.k, *v = la.v, *att = la.att, *fch = la.fch, *fcg = la.fcg, *u = la.u;
        SkLowRank *lr;

        /* MLP out: xn = x1 + fcg @ Wp^T  ->  dfcg[N,F] = dres @ Wp, dres passes to x1 */
        memset(A->dff_a, 0, (size_t)N * F * sizeof(float));
        sk_linear_backward_m(pool, A->dff_a, W->p_w->g, W->p_b->g, A->dres, fcg, sk_param_mat(W->p_w), N, F, d);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_MLP_OUT))) {
            lr->u = u + (size_t)SK_PROJ_MLP_OUT * N * r, lr->du = A->lora_du;
            sk_lowrank_backward(lr, A->dff_a, A->dres, fcg, N, F, d);
        }
        memset(A->dff_b, 0, (size_t)N * F * sizeof(float));
        sk_activation_backward(pool, c->activation, A->dff_b, fch, A->dff_a, (size_t)N * F);
        memset(A->dln, 0, Nd * sizeof(float));
        sk_linear_backward_m(pool, A->dln, W->fc_w->g, W->fc_b->g, A->dff_b, ln2, sk_param_mat(W->fc_w), N, d, F);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_FC))) {
            lr->u = u + (size_t)SK_PROJ_FC * N * r, lr->du = A->lora_du;
            sk_lowrank_backward(lr, A->dln, A->dff_b, ln2, N, d, F);
        }
        sk_layernorm_backward(pool, A->dres, W->ln2_w->g, W->ln2_b->g, A->dln, x1, W->ln2_w->w,
                              la.ln2_mean, la.ln2_rstd, N, d);

        /* attention out: x1 = x + atty @ Wo^T */
        memset(A->datty, 0, Nd * sizeof(float));
        sk_linear_backward_m(pool, A->datty, W->o_w->g, W->o_b->g, A->dres, atty, sk_param_mat(W->o_w), N, d, d);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_ATTN_OUT))) {
            lr->u = u + (size_t)SK_PROJ_ATTN_OUT * N * r, lr->du = A->lora_du;
            sk_lowrank_backward(lr, A->datty, A->dres, atty, N, d, d);
        }
        memset(A->dqkv, 0, Nd * 3 * sizeof(float));
        memset(A->dk, 0, (size_t)B * Skv * d * sizeof(float));
        memset(A->dv, 0, (size_t)B * Skv * d * sizeof(float));
        sk_attention_backward(pool, &as, A->dqkv, 3 * d, A->dk, A->dv, A->datt, A->datty, att, qkv,
                              3 * d, k, v, A->attn_scratch);
        /* route key/value gradients: input columns into dqkv, prefix columns to the hook */
        for (int bi = 0; bi < B; bi++) {
            const float *dkb = A->dk + (size_t)bi * Skv * d, *dvb = A->dv + (size_t)bi * Skv * d;
            for (int s = 0; s < S; s++) {
                float *dst = A->dqkv + ((size_t)bi * S + s) * 3 * d;
                memcpy(dst + d, dkb + (size_t)(P + s) * d, (size_t)d * sizeof(float));
                memcpy(dst + 2 * d, dvb + (size_t)(P + s) * d, (size_t)d * sizeof(float));
                if (h->kv_grad_k && h->kv_grad_k[l])
                    sk_add_inplace(dst + d, h->kv_grad_k[l] + ((size_t)bi * S + s) * d, (size_t)d);
                if (h->kv_grad_v && h->kv_grad_v[l])
                    sk_add_inplace(dst + 2 * d, h->kv_grad_v[l] + ((size_t)bi * S + s) * d, (size_t)d);
            }
            if (P && h->d_prefix_k && h->d_prefix_k[l])
                sk_add_inplace(h->d_prefix_k[l], dkb, (size_t)P * d);
            if (P && h->d_prefix_v && h->d_prefix_v[l])
                sk_add_inplace(h->d_prefix_v[l], dvb, (size_t)P * d);
        }
        memset(A->dln, 0, Nd * sizeof(float));
        sk_linear_backward_m(pool, A->dln, W->qkv_w->g, W->qkv_b->g, A->dqkv, ln1, sk_param_mat(W->qkv_w), N, d, 3 * d);
        if ((lr = lora_at(m, a, h, l, SK_PROJ_QKV))) {
            lr->u = u + (size_t)SK_PROJ_QKV * N * r, lr->du = A->lora_du;
            sk_lowrank_backward(lr, A->dln, A->dqkv, ln1, N, d, 3 * d);
        }
        sk_layernorm_backward(pool, A->dres, W->ln1_w->g, W->ln1_b->g, A->dln, x, W->ln1_w->w,
                              la.ln1_mean, la.ln1_rstd, N, d);
    }
    memcpy(a->d_input, A->dres, Nd * sizeof(float));
    /* embeddings */
    for (int bi = 0; bi < B; bi++) {
        const float *drow = A->dres + (size_t)bi * S * d;
        if (E && h->d_embed) sk_add_inplace(h->d_embed, drow, (size_t)E * d);
        if (g->wpe->g && E)
            sk_add_inplace(g->wpe->g + (size_t)h->pos_offset * d, drow, (size_t)E * d);
        sk_embedding_backward(g->wte->g, g->wpe->g, drow + (size_t)E * d, b->ids + (size_t)bi * T,
                              h->pos_offset + E, 1, T, d);
    }
    return 0;
}

static SkMat lm_head(const SkModel *m, float **grad) {
    Gpt2 *g = m->impl;
    SkParam *p = g->lm_head ? g->lm_head : g->wte;
    if (grad) *grad = p->g;
    return sk_param_mat(p);
}

static void layer_kv(const SkModel *m, const SkActs *a, int layer, const float **k, const float **v) {
    const Gpt2Acts *A = a->impl;
    size_t per = (size_t)a->B * (a->S + a->P) * m->cfg.d_model; /* as forward lays them out */
    *k = A->k + (size_t)layer * per;
    *v = A->v + (size_t)layer * per;
}

static const float *block_input(const SkModel *m, const SkActs *a, int layer) {
    const Gpt2Acts *A = a->impl;
    return A->x + (size_t)layer * a->B * a->S * m->cfg.d_model;
}

/* K/V of arbitrary rows through block l's ln_1 and the key/value thirds of c_attn.
 * scratch: ln [n, d], mean [n], rstd [n], dln [n, d] */
static size_t kv_scratch(const SkModel *m, int n) { return (size_t)n * (2 * m->cfg.d_model + 2); }

static void kv_forward(SkModel *m, int layer, const float *g, int n, float *k, float *v,
                       float *scratch) {
    Gpt2 *G = m->impl;
    Gpt2Layer *W = &G->layers[layer];
    int d = m->cfg.d_model;
    float *ln = scratch, *mean = ln + (size_t)n * d, *rstd = mean + n;
    sk_layernorm_forward(m->pool, ln, mean, rstd, g, W->ln1_w->w, W->ln1_b->w, n, d, m->cfg.norm_eps);
    /* k[n,d] = ln @ Wk^T + bk, Wk = rows d..2d of c_attn; v likewise with rows 2d..3d */
    sk_linear_forward_m(m->pool, k, ln, sk_mat_offset(sk_param_mat(W->qkv_w), (size_t)d * d), W->qkv_b->w + d, n, d, d, false);
    sk_linear_forward_m(m->pool, v, ln, sk_mat_offset(sk_param_mat(W->qkv_w), (size_t)2 * d * d), W->qkv_b->w + 2 * d, n, d, d, false);
}

static void kv_backward(SkModel *m, int layer, const float *g, int n, const float *dk,
                        const float *dv, float *dg, float *scratch) {
    Gpt2 *G = m->impl;
    Gpt2Layer *W = &G->layers[layer];
    int d = m->cfg.d_model;
    float *ln = scratch, *mean = ln + (size_t)n * d, *rstd = mean + n, *dln = rstd + n;
    memset(dln, 0, (size_t)n * d * sizeof(float));
    sk_linear_backward_m(m->pool, dln, NULL, NULL, dk, ln, sk_mat_offset(sk_param_mat(W->qkv_w), (size_t)d * d), n, d, d);
    sk_linear_backward_m(m->pool, dln, NULL, NULL, dv, ln, sk_mat_offset(sk_param_mat(W->qkv_w), (size_t)2 * d * d), n, d, d);
    sk_layernorm_backward(m->pool, dg, NULL, NULL, dln, g, W->ln1_w->w, mean, rstd, n, d);
}

static cJSON *config_json(const SkModel *m) {
    const SkModelConfig *c = &m->cfg;
    static const char *acts[] = {"gelu_new", "gelu", "relu"};
    cJSON *j = cJSON_CreateObject();
    cJSON *arch = cJSON_CreateArray();
    cJSON_AddItemToArray(arch, cJSON_CreateString("GPT2LMHeadModel"));
    cJSON_AddItemToObject(j, "architectures", arch);
    cJSON_AddStringToObject(j, "model_type", "gpt2");
    cJSON_AddStringToObject(j, "activation_function", acts[c->activation]);
    cJSON_AddNumberToObject(j, "n_embd", c->d_model);
    cJSON_AddNumberToObject(j, "n_layer", c->n_layer);
    cJSON_AddNumberToObject(j, "n_head", c->n_head);
    cJSON_AddNumberToObject(j, "n_positions", c->max_seq);
    cJSON_AddNumberToObject(j, "n_ctx", c->max_seq);
    if (c->d_ff != 4 * c->d_model) cJSON_AddNumberToObject(j, "n_inner", c->d_ff);
    else cJSON_AddNullToObject(j, "n_inner");
    cJSON_AddNumberToObject(j, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(j, "layer_norm_epsilon", c->norm_eps);
    cJSON_AddBoolToObject(j, "tie_word_embeddings", c->tie_embeddings);
    cJSON_AddBoolToObject(j, "scale_attn_weights", 1);
    cJSON_AddNumberToObject(j, "attn_pdrop", 0.0);
    cJSON_AddNumberToObject(j, "embd_pdrop", 0.0);
    cJSON_AddNumberToObject(j, "resid_pdrop", 0.0);
    cJSON_AddNumberToObject(j, "initializer_range", 0.02);
    return j;
}

static void release(SkModel *m) {
    Gpt2 *g = m->impl;
    free(g->layers);
    free(g);
    m->impl = NULL;
}

const SkArch sk_arch_gpt2 = {
    .release = release,
    .config_json = config_json,
    .block_input = block_input,
    .layer_kv = layer_kv,
    .kv_scratch = kv_scratch,
    .kv_forward = kv_forward,
    .kv_backward = kv_backward,
    .name = "gpt2",
    .declare = declare,
    .bind = bind,
    .checkpoint_names = checkpoint_names,
    .acts_floats = acts_floats,
    .acts_bind = acts_bind,
    .forward = forward,
    .backward = backward,
    .lm_head = lm_head,
};
