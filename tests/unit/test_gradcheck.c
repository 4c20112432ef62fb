/* test_gradcheck.c - finite-difference checks of every op's backward, and of the
 * model's gradients into every kind of hook (prepended embeddings, prefix keys and
 * values, low-rank deltas) and into every weight.
 *
 * Each check defines a scalar L = sum(w * output) accumulated in double with a fixed
 * random w, runs backward with d(output) = w, and compares the analytic gradient
 * with central differences (L(x+h) - L(x-h)) / 2h on sampled entries. The reported
 * error is ||numeric - analytic|| / ||analytic|| over the samples. */
#include "ops/fastmath.h"
#include "ops/ops.h"
#include "sk_model.h"
#include "testutil.h"

#define EPS 1e-2f
#define TOL 1e-2

static SkRng rng;

static void fill(float *x, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) x[i] = scale * sk_rng_normal(&rng);
}

static float *randn(size_t n, float scale) {
    float *x = malloc(n * sizeof *x);
    fill(x, n, scale);
    return x;
}

static float *zeros(size_t n) { return calloc(n, sizeof(float)); }

static double dot(const float *a, const float *w, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * w[i];
    return s;
}

typedef double (*LossFn)(void *ctx);

static void gradcheck(const char *name, float *x, const float *grad, size_t n, LossFn f, void *ctx) {
    int samples = n < 24 ? (int)n : 24;
    double num2 = 0, diff2 = 0, ana2 = 0;
    for (int s = 0; s < samples; s++) {
        size_t i = n <= 24 ? (size_t)s : (size_t)sk_rng_below(&rng, n);
        float keep = x[i];
        x[i] = keep + EPS;
        double lp = f(ctx);
        x[i] = keep - EPS;
        double lm = f(ctx);
        x[i] = keep;
        double num = (lp - lm) / (2.0 * EPS);
        num2 += num * num;
        ana2 += (double)grad[i] * grad[i];
        diff2 += (num - grad[i]) * (num - grad[i]);
    }
    double scale = sqrt(ana2 > num2 ? ana2 : num2);
    double rel = scale > 1e-8 ? sqrt(diff2) / scale : sqrt(diff2);
    printf("  %-40s rel err %.2e (%d samples, |g| %.3g)\n", name, rel, samples, sqrt(ana2));
    CHECK(rel <= TOL, "%s: gradient rel err %.3g", name, rel);
    CHECK(scale > 1e-6, "%s: gradient is identically zero (check is vacuous)", name);
}

/* ---- linear + low-rank ------------------------------------------------------------- */
typedef struct {
    int N, In, Out;
    float *x, *W, *b, *y, *w;
    SkLowRank lr;
    bool use_lr;
} LinCtx;

static double lin_loss(void *v) {
    LinCtx *c = v;
    sk_linear_forward(c->y, c->x, c->W, c->b, c->N, c->In, c->Out, false);
    if (c->use_lr) sk_lowrank_forward(&c->lr, c->y, c->x, c->N, c->In, c->Out);
    return dot(c->y, c->w, (size_t)c->N * c->Out);
}

static void test_linear(bool use_lr, float dropout) {
    LinCtx c = {.N = 5, .In = 7, .Out = 6, .use_lr = use_lr};
    c.x = randn(35, 1), c.W = randn(42, 0.5f), c.b = randn(6, 0.5f), c.y = zeros(30), c.w = randn(30, 1);
    float *dx = zeros(35), *dW = zeros(42), *db = zeros(6);
    if (use_lr) {
        c.lr = (SkLowRank){.r = 3, .scale = 1.7f, .A = randn(21, 0.5f), .B = randn(18, 0.5f),
                           .dA = zeros(21), .dB = zeros(18), .u = zeros(15), .du = zeros(15),
                           .dropout = dropout, .seed = 42, .xd = zeros(35)};
    }
    lin_loss(&c);
    sk_linear_backward(dx, dW, db, c.w, c.x, c.W, c.N, c.In, c.Out);
    if (use_lr) sk_lowrank_backward(&c.lr, dx, c.w, c.x, c.N, c.In, c.Out);
    gradcheck(!use_lr ? "linear d(input)" : dropout > 0 ? "linear+lowrank(dropout) d(input)" : "linear+lowrank d(input)",
              c.x, dx, 35, lin_loss, &c);
    gradcheck("linear d(weight)", c.W, dW, 42, lin_loss, &c);
    gradcheck("linear d(bias)", c.b, db, 6, lin_loss, &c);
    if (use_lr) {
        gradcheck("lowrank d(A)", (float *)c.lr.A, c.lr.dA, 21, lin_loss, &c);
        gradcheck("lowrank d(B)", (float *)c.lr.B, c.lr.dB, 18, lin_loss, &c);
        free((float *)c.lr.A), free((float *)c.lr.B), free(c.lr.dA), free(c.lr.dB), free(c.lr.u), free(c.lr.du);
        free(c.lr.xd);
    }
    free(c.x), free(c.W), free(c.b), free(c.y), free(c.w), free(dx), free(dW), free(db);
}

/* ---- layer norm ------------------------------------------------------------------------ */
typedef struct {
    int N, C;
    float *x, *g, *b, *y, *mean, *rstd, *w;
    SkPool *pool;
} LnCtx;

static double ln_loss(void *v) {
    LnCtx *c = v;
    sk_layernorm_forward(c->pool, c->y, c->mean, c->rstd, c->x, c->g, c->b, c->N, c->C, 1e-5f);
    return dot(c->y, c->w, (size_t)c->N * c->C);
}

static void test_layernorm(SkPool *pool) {
    LnCtx c = {.N = 20, .C = 70, .pool = pool}; /* C > 64: two column tasks */
    size_t n = 1400;
    c.x = randn(n, 1), c.g = randn(70, 1), c.b = randn(70, 1), c.y = zeros(n), c.w = randn(n, 1);
    c.mean = zeros(20), c.rstd = zeros(20);
    float *dx = zeros(n), *dg = zeros(70), *db = zeros(70);
    ln_loss(&c);
    sk_layernorm_backward(pool, dx, dg, db, c.w, c.x, c.g, c.mean, c.rstd, c.N, c.C);
    gradcheck("layernorm d(input)", c.x, dx, n, ln_loss, &c);
    gradcheck("layernorm d(weight)", c.g, dg, 70, ln_loss, &c);
    gradcheck("layernorm d(bias)", c.b, db, 70, ln_loss, &c);
    free(c.x), free(c.g), free(c.b), free(c.y), free(c.w), free(c.mean), free(c.rstd);
    free(dx), free(dg), free(db);
}

/* ---- RMS norm, rotary embeddings, SwiGLU (Llama family) --------------------------------- */
typedef struct {
    int N, C;
    float *x, *g, *y, *rstd, *w;
    SkPool *pool;
} RmsCtx;

static double rms_loss(void *v) {
    RmsCtx *c = v;
    sk_rmsnorm_forward(c->pool, c->y, c->rstd, c->x, c->g, c->N, c->C, 1e-6f);
    return dot(c->y, c->w, (size_t)c->N * c->C);
}

static void test_rmsnorm(SkPool *pool) {
    RmsCtx c = {.N = 20, .C = 48, .pool = pool};
    size_t n = 960;
    c.x = randn(n, 1), c.g = randn(48, 1), c.y = zeros(n), c.w = randn(n, 1), c.rstd = zeros(20);
    float *dx = zeros(n), *dg = zeros(48);
    rms_loss(&c);
    sk_rmsnorm_backward(pool, dx, dg, c.w, c.x, c.g, c.rstd, c.N, c.C);
    gradcheck("rmsnorm d(input)", c.x, dx, n, rms_loss, &c);
    gradcheck("rmsnorm d(weight)", c.g, dg, 48, rms_loss, &c);
    free(c.x), free(c.g), free(c.y), free(c.w), free(c.rstd), free(dx), free(dg);
}

typedef struct {
    int B, T, H, dh, dim, pos0;
    float *x, *y, *w, *inv;
} RopeCtx;

static double rope_loss(void *v) {
    RopeCtx *c = v;
    size_t n = (size_t)c->B * c->T * c->H * c->dh;
    memcpy(c->y, c->x, n * sizeof *c->y);
    sk_rope_forward(c->y, c->H * c->dh, c->pos0, c->B, c->T, c->H, c->dh, c->dim, c->inv);
    return dot(c->y, c->w, n);
}

static void test_rope(SkRopeType type, int dim, const char *name) {
    RopeCtx c = {.B = 2, .T = 5, .H = 3, .dh = 8, .dim = dim, .pos0 = 7};
    size_t n = (size_t)c.B * c.T * c.H * c.dh;
    SkRopeConfig rc = {.dim = dim, .theta = 10000, .type = type, .factor = 4, .low_freq_factor = 1,
                       .high_freq_factor = 4, .original_max = 64, .max_pos = 8};
    float inv[SK_ROPE_MAX_DIM / 2];
    sk_rope_inv_freq(&rc, 12, inv);
    c.inv = inv, c.x = randn(n, 1), c.y = zeros(n), c.w = randn(n, 1);
    float *dx = malloc(n * sizeof *dx);
    rope_loss(&c);
    /* a rotation keeps every head's norm; position 0 is the identity */
    double nx = dot(c.x, c.x, n), ny = dot(c.y, c.y, n);
    CHECK(fabs(nx - ny) <= 1e-4 * nx, "%s: rotation changed the norm (%g vs %g)", name, nx, ny);
    memcpy(dx, c.w, n * sizeof *dx);
    sk_rope_backward(dx, c.H * c.dh, c.pos0, c.B, c.T, c.H, c.dh, c.dim, c.inv);
    gradcheck(name, c.x, dx, n, rope_loss, &c);
    memcpy(c.y, c.x, n * sizeof *c.y);
    sk_rope_forward(c.y, c.H * c.dh, 0, c.B, 1, c.H, c.dh, c.dim, c.inv);
    CHECK(!memcmp(c.y, c.x, (size_t)c.H * c.dh * sizeof *c.y), "%s: position 0 is not the identity", name);
    free(c.x), free(c.y), free(c.w), free(dx);
}

typedef struct {
    float *g, *u, *y, *w;
    size_t n;
} SwiCtx;

static double swi_loss(void *v) {
    SwiCtx *c = v;
    sk_swiglu_forward(c->y, c->g, c->u, c->n);
    return dot(c->y, c->w, c->n);
}

static void test_swiglu(void) {
    SwiCtx c = {.n = 200};
    c.g = randn(c.n, 2), c.u = randn(c.n, 1), c.y = zeros(c.n), c.w = randn(c.n, 1);
    float *dg = zeros(c.n), *du = zeros(c.n);
    swi_loss(&c);
    sk_swiglu_backward(dg, du, c.w, c.g, c.u, c.n);
    gradcheck("swiglu d(gate)", c.g, dg, c.n, swi_loss, &c);
    gradcheck("swiglu d(up)", c.u, du, c.n, swi_loss, &c);
    free(c.g), free(c.u), free(c.y), free(c.w), free(dg), free(du);
}

/* ---- activations ---------------------------------------------------------------------- */
typedef struct {
    SkActivation act;
    float *x, *y, *w;
    size_t n;
} ActCtx;

static double act_loss(void *v) {
    ActCtx *c = v;
    sk_activation_forward(NULL, c->act, c->y, c->x, c->n);
    return dot(c->y, c->w, c->n);
}

static void test_activation(SkActivation act, const char *name) {
    ActCtx c = {.act = act, .n = 300};
    c.x = randn(c.n, 1.5f), c.y = zeros(c.n), c.w = randn(c.n, 1);
    if (act == SK_ACT_RELU) /* keep away from the kink, where differences are meaningless */
        for (size_t i = 0; i < c.n; i++)
            if (fabsf(c.x[i]) < 0.05f) c.x[i] = 0.5f;
    float *dx = zeros(c.n);
    act_loss(&c);
    sk_activation_backward(NULL, act, dx, c.x, c.w, c.n);
    gradcheck(name, c.x, dx, c.n, act_loss, &c);
    free(c.x), free(c.y), free(c.w), free(dx);
}

/* ---- attention ------------------------------------------------------------------------ */
typedef struct {
    SkAttnShape s;
    float *q, *k, *v, *mask, *out, *att, *w, *scratch;
    int q_rs;
    SkPool *pool;
} AttCtx;

static double att_loss(void *v) {
    AttCtx *c = v;
    sk_attention_forward(c->pool, &c->s, c->out, c->att, c->q, c->q_rs, c->k, c->v, c->mask, c->scratch);
    return dot(c->out, c->w, (size_t)c->s.B * c->s.T * c->s.H * c->s.dh);
}

static void test_attention(SkPool *pool, int H, int Hkv, int P, bool masked, int window) {
    AttCtx c = {.s = {.B = 2, .T = 5, .P = P, .H = H, .Hkv = Hkv, .dh = 4, .window = window}, .pool = pool};
    int B = 2, T = 5, S = P + T, dq = H * 4, dkv = Hkv * 4;
    c.q_rs = dq + 3; /* q inside a wider row, as in a fused qkv buffer */
    size_t nq = (size_t)B * T * c.q_rs, nkv = (size_t)B * S * dkv, no = (size_t)B * T * dq;
    c.q = randn(nq, 1), c.k = randn(nkv, 1), c.v = randn(nkv, 1), c.w = randn(no, 1);
    c.out = zeros(no), c.att = zeros((size_t)B * H * T * S);
    c.scratch = zeros((size_t)B * Hkv * 4 * S);
    if (masked) {
        c.mask = malloc((size_t)B * T * sizeof(float));
        for (int i = 0; i < B * T; i++) c.mask[i] = 1.0f;
        c.mask[1 * T + 3] = c.mask[1 * T + 4] = 0.0f; /* row 1 padded */
        c.mask[0 * T + 2] = 0.0f;                     /* a hole, to test masking in general */
    }
    float *gq = zeros(nq), *gk = zeros(nkv), *gv = zeros(nkv), *datt = zeros((size_t)B * H * T * S);
    att_loss(&c);
    sk_attention_backward(pool, &c.s, gq, c.q_rs, gk, gv, datt, c.w, c.att, c.q, c.q_rs, c.k, c.v, c.scratch);
    char name[96], what[48];
    snprintf(what, sizeof what, "attention H=%d Hkv=%d P=%d%s%s", H, Hkv, P, masked ? " masked" : "",
             window ? " window" : "");
    snprintf(name, sizeof name, "%s d(q)", what);
    gradcheck(name, c.q, gq, nq, att_loss, &c);
    snprintf(name, sizeof name, "%s d(k)", what);
    gradcheck(name, c.k, gk, nkv, att_loss, &c);
    snprintf(name, sizeof name, "%s d(v)", what);
    gradcheck(name, c.v, gv, nkv, att_loss, &c);
    if (window) { /* a key window columns back from a query gets no weight from it */
        bool outside_zero = true;
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
                for (int t = 0; t < T; t++)
                    for (int j = 0; j < S; j++)
                        if (P + t - j >= window) outside_zero &= c.att[(((size_t)b * H + h) * T + t) * S + j] == 0.0f;
        CHECK(outside_zero, "%s: a key outside the window has weight", what);
    }
    if (P) { /* the prefix columns specifically */
        snprintf(name, sizeof name, "attention prefix columns d(k)");
        gradcheck(name, c.k, gk, (size_t)P * dkv, att_loss, &c);
    }
    free(c.q), free(c.k), free(c.v), free(c.w), free(c.out), free(c.att), free(c.mask), free(c.scratch);
    free(gq), free(gk), free(gv), free(datt);
}

/* ---- embeddings, cross-entropy ----------------------------------------------------------- */
typedef struct {
    int32_t ids[6];
    float *wte, *wpe, *out, *w;
} EmbCtx;

static double emb_loss(void *v) {
    EmbCtx *c = v;
    sk_embedding_forward(c->out, c->ids, sk_mat_f32(c->wte), sk_mat_f32(c->wpe), 2, 2, 3, 5);
    return dot(c->out, c->w, 30);
}

static void test_embedding(void) {
    EmbCtx c = {.ids = {3, 1, 3, 0, 7, 1}};
    c.wte = randn(40, 1), c.wpe = randn(40, 1), c.out = zeros(30), c.w = randn(30, 1);
    float *dte = zeros(40), *dpe = zeros(40);
    emb_loss(&c);
    sk_embedding_backward(dte, dpe, c.w, c.ids, 2, 2, 3, 5);
    gradcheck("embedding d(wte)", c.wte, dte, 40, emb_loss, &c);
    gradcheck("embedding d(wpe)", c.wpe, dpe, 40, emb_loss, &c);
    free(c.wte), free(c.wpe), free(c.out), free(c.w), free(dte), free(dpe);
}

typedef struct {
    float *z;
    int32_t y[4];
} CeCtx;

static double ce_loss(void *v) {
    CeCtx *c = v;
    return sk_cross_entropy(NULL, c->z, c->y, 4, 9, NULL, 1.0f, NULL);
}

static void test_cross_entropy(void) {
    CeCtx c = {.y = {2, -1, 8, 0}};
    c.z = randn(36, 2);
    float *dz = zeros(36);
    sk_cross_entropy(NULL, c.z, c.y, 4, 9, dz, 1.0f, NULL);
    gradcheck("cross-entropy d(logits)", c.z, dz, 36, ce_loss, &c);
    free(c.z), free(dz);
}

/* ---- the model with every hook ------------------------------------------------------------ */
typedef struct {
    SkModel *m;
    SkActs *a;
    SkBatch batch;
    SkHooks hooks;
    float *w; /* weights of the functional over final hidden states */
    size_t n_hidden;
    bool lm_head;
    float *logits, *wl;
} ModelCtx;

static double model_loss(void *v) {
    ModelCtx *c = v;
    SkError err;
    REQUIRE(sk_model_forward(c->m, c->a, &c->batch, &c->hooks, &err) == 0, "%s", err.msg);
    double L = dot(sk_acts_hidden(c->a), c->w, c->n_hidden);
    if (c->lm_head) {
        int n = (int)(c->n_hidden / (size_t)sk_model_config(c->m)->d_model);
        sk_model_lm_logits(c->m, sk_acts_hidden(c->a), n, c->logits);
        L += dot(c->logits, c->wl, (size_t)n * sk_model_config(c->m)->vocab_size);
    }
    return L;
}

static void test_model_hooks(void) {
    SkModelConfig cfg = {.arch = "gpt2", .n_layer = 2, .d_model = 16, .n_head = 2, .n_kv_head = 2,
                         .head_dim = 8, .d_ff = 24, .vocab_size = 23, .max_seq = 32,
                         .norm_eps = 1e-5f, .activation = SK_ACT_GELU_TANH, .tie_embeddings = true};
    SkError err;
    ModelCtx c = {0};
    REQUIRE(sk_model_new_random(&cfg, 99, &c.m, &err) == 0, "%s", err.msg);
    /* larger weights than GPT-2's 0.02 init so every path carries signal */
    SkParam *ps;
    int np = sk_model_params(c.m, &ps);
    for (int i = 0; i < np; i++)
        if (!strstr(ps[i].name, "ln_"))
            for (size_t k = 0; k < ps[i].numel; k++) ps[i].w[k] = 0.3f * sk_rng_normal(&rng);
    int B = 2, T = 4, E = 2, P = 3, L = 2, d = 16, r = 2;
    int32_t ids[8] = {1, 5, 22, 7, 3, 3, 9, 0};
    float mask[8] = {1, 1, 1, 1, 1, 1, 1, 0};
    c.batch = (SkBatch){.B = B, .T = T, .ids = ids, .mask = mask};
    SkActsShape shape = {.B = B, .T = T, .n_embed = E, .n_prefix = P, .lora_rank = r};
    REQUIRE(sk_acts_new(c.m, &shape, &c.a, &err) == 0, "%s", err.msg);

    float *embed = randn((size_t)E * d, 0.5f), *d_embed = zeros((size_t)E * d);
    float *pk[2], *pv[2], *dpk[2], *dpv[2];
    for (int l = 0; l < L; l++) {
        pk[l] = randn((size_t)P * d, 1), pv[l] = randn((size_t)P * d, 1);
        dpk[l] = zeros((size_t)P * d), dpv[l] = zeros((size_t)P * d);
    }
    enum { GPT2_PROJ = 4 }; /* the slots GPT-2 has */
    SkLowRank lr[2][GPT2_PROJ];
    SkLowRank *lrp[2 * SK_PROJ_COUNT] = {0};
    int dims[GPT2_PROJ][2] = {{d, 3 * d}, {d, d}, {d, 24}, {24, d}}; /* in, out */
    for (int l = 0; l < L; l++)
        for (int p = 0; p < GPT2_PROJ; p++) {
            int in = dims[p][0], out = dims[p][1];
            lr[l][p] = (SkLowRank){.r = r, .scale = 0.8f, .A = randn((size_t)r * in, 0.3f),
                                   .B = randn((size_t)out * r, 0.3f), .dA = zeros((size_t)r * in),
                                   .dB = zeros((size_t)out * r)};
            lrp[l * SK_PROJ_COUNT + p] = &lr[l][p];
        }
    c.hooks = (SkHooks){.n_embed = E, .embed = embed, .d_embed = d_embed, .n_prefix = P,
                        .prefix_k = pk, .prefix_v = pv, .d_prefix_k = dpk, .d_prefix_v = dpv,
                        .pos_offset = P, .lora = lrp};
    c.n_hidden = (size_t)B * (E + T) * d;
    c.w = randn(c.n_hidden, 1);
    c.lm_head = true;
    c.logits = zeros((size_t)B * (E + T) * cfg.vocab_size);
    c.wl = randn((size_t)B * (E + T) * cfg.vocab_size, 0.2f);
    REQUIRE(sk_model_set_trainable(c.m, NULL, true, &err) == 0, "%s", err.msg);

    model_loss(&c);
    float *dh = zeros(c.n_hidden);
    memcpy(dh, c.w, c.n_hidden * sizeof(float));
    sk_model_lm_backward(c.m, sk_acts_hidden(c.a), c.wl, B * (E + T), dh);
    REQUIRE(sk_model_backward(c.m, c.a, &c.batch, &c.hooks, dh, &err) == 0, "%s", err.msg);

    gradcheck("model d(prepended embeddings)", embed, d_embed, (size_t)E * d, model_loss, &c);
    for (int l = 0; l < L; l++) {
        char name[64];
        snprintf(name, sizeof name, "model d(prefix keys) layer %d", l);
        gradcheck(name, pk[l], dpk[l], (size_t)P * d, model_loss, &c);
        snprintf(name, sizeof name, "model d(prefix values) layer %d", l);
        gradcheck(name, pv[l], dpv[l], (size_t)P * d, model_loss, &c);
    }
    static const char *proj[] = {"c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"};
    for (int l = 0; l < L; l++)
        for (int p = 0; p < GPT2_PROJ; p++) {
            char name[64];
            int in = dims[p][0], out = dims[p][1];
            snprintf(name, sizeof name, "model lora A layer %d %s", l, proj[p]);
            gradcheck(name, (float *)lr[l][p].A, lr[l][p].dA, (size_t)r * in, model_loss, &c);
            snprintf(name, sizeof name, "model lora B layer %d %s", l, proj[p]);
            gradcheck(name, (float *)lr[l][p].B, lr[l][p].dB, (size_t)out * r, model_loss, &c);
        }
    for (int i = 0; i < np; i++) {
        char name[128];
        snprintf(name, sizeof name, "model weight %s", ps[i].name);
        gradcheck(name, ps[i].w, ps[i].g, ps[i].numel, model_loss, &c);
    }
    /* frozen weights get no gradient buffers at all */
    REQUIRE(sk_model_set_trainable(c.m, NULL, false, &err) == 0, "%s", err.msg);
    CHECK(sk_model_param(c.m, "h.0.attn.c_attn.weight")->g == NULL, "frozen weight has a gradient");
    REQUIRE(sk_model_set_trainable(c.m, "h.1.", true, &err) == 0, "%s", err.msg);
    CHECK(sk_model_param(c.m, "h.1.mlp.c_fc.weight")->g && !sk_model_param(c.m, "h.0.mlp.c_fc.weight")->g,
          "trainable by prefix");
    CHECK(sk_model_set_trainable(c.m, "nope.", true, &err) != 0, "unknown prefix accepted");

    free(embed), free(d_embed), free(c.w), free(dh), free(c.logits), free(c.wl);
    for (int l = 0; l < L; l++) {
        free(pk[l]), free(pv[l]), free(dpk[l]), free(dpv[l]);
        for (int p = 0; p < GPT2_PROJ; p++)
            free((float *)lr[l][p].A), free((float *)lr[l][p].B), free(lr[l][p].dA), free(lr[l][p].dB);
    }
    sk_acts_free(c.a);
    sk_model_free(c.m);
}

/* The vectorizable exp/tanh used by GELU, softmax and cross-entropy stay within a few
 * float ulps of libm over the whole range they are used on. */
static void test_fastmath(void) {
    double worst_exp = 0, worst_tanh = 0;
    for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
        double e = fabs((double)sk_expf(x) - exp((double)x)) / exp((double)x);
        if (e > worst_exp) worst_exp = e;
    }
    for (float x = -20.0f; x <= 20.0f; x += 0.00071f) {
        double e = fabs((double)sk_tanhf(x) - tanh((double)x));
        if (e > worst_tanh) worst_tanh = e;
    }
    printf("  %-40s max rel err %.2e\n", "fast exp on [-87, 88]", worst_exp);
    printf("  %-40s max abs err %.2e\n", "fast tanh on [-20, 20]", worst_tanh);
    CHECK(worst_exp < 5e-7, "fast exp rel err %.3g", worst_exp);
    CHECK(worst_tanh < 1e-6, "fast tanh abs err %.3g", worst_tanh);
    CHECK(sk_expf(-1000.0f) < 1e-37f && sk_expf(1000.0f) > 1e38f && sk_tanhf(50.0f) == 1.0f &&
              sk_tanhf(-50.0f) == -1.0f, "fast exp/tanh saturate");
}

int main(void) {
    sk_rng_seed(&rng, 2024);
    SkPool *pool = sk_pool_new(2);
    printf("ops:\n");
    test_fastmath();
    test_linear(false, 0);
    test_linear(true, 0);
    test_linear(true, 0.3f); /* the same hashed mask on every evaluation */
    test_layernorm(pool);
    test_rmsnorm(pool);
    test_rope(SK_ROPE_DEFAULT, 8, "rope d(input)");
    test_rope(SK_ROPE_DEFAULT, 4, "rope (partial rotary) d(input)");
    test_rope(SK_ROPE_LINEAR, 8, "rope (linear scaling) d(input)");
    test_rope(SK_ROPE_DYNAMIC, 8, "rope (dynamic scaling) d(input)");
    test_rope(SK_ROPE_LLAMA3, 8, "rope (llama3 scaling) d(input)");
    test_swiglu();
    test_activation(SK_ACT_GELU_TANH, "gelu (tanh)");
    test_activation(SK_ACT_GELU_ERF, "gelu (erf)");
    test_activation(SK_ACT_RELU, "relu");
    test_attention(pool, 2, 2, 0, false, 0);
    test_attention(pool, 2, 2, 3, true, 0);
    test_attention(pool, 4, 2, 2, true, 0); /* grouped-query */
    test_attention(pool, 4, 1, 1, false, 0); /* multi-query */
    test_attention(pool, 4, 2, 3, true, 3); /* sliding window over prefix and input columns */
    test_embedding();
    test_cross_entropy();
    printf("model (2 layers, all hooks, all weights trainable):\n");
    test_model_hooks();
    sk_pool_free(pool);
    return tu_finish("test_gradcheck");
}
