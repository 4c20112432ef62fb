/* model.c - what every architecture shares: the parameter table, loading weights
 * from a checkpoint (names, dtypes, Conv1D transposes, shape checks), random
 * initialisation, trainable flags, and dispatch to the architecture. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"
#include "sk_quant.h"

int sk_model_declare(SkModel *m, const char *name, int ndim, const int64_t *shape, SkError *err) {
    SkParam *np = realloc(m->params, (size_t)(m->n_params + 1) * sizeof *np);
    if (!np) return sk_err(err, "out of memory");
    m->params = np;
    SkParam *p = &m->params[m->n_params++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= (size_t)shape[i];
    }
    return 0;
}

static int start_pool(SkModel *m, SkError *err) {
    m->pool = sk_pool_new(0);
    return m->pool ? 0 : sk_err(err, "cannot start worker threads");
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    int pos = snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && (size_t)pos < cap; i++)
        pos += snprintf(buf + pos, cap - (size_t)pos, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if ((size_t)pos < cap) snprintf(buf + pos, cap - (size_t)pos, "]");
}

static int load_param(SkModel *m, const SkCheckpoint *ck, SkParam *p, SkError *err) {
    char names[4][160];
    bool transposed = false;
    int n = m->arch->checkpoint_names(m, p, names, 4, &transposed);
    const SkStTensor *t = NULL;
    const SkStFile *f = NULL;
    int which = 0;
    for (; which < n && !t; which++) t = sk_ckpt_find(ck, names[which], &f);
    if (!t)
        return sk_err(err, "%s: tensor %s missing from the checkpoint (looked for %s%s%s)", ck->dir,
                      p->name, names[0], n > 1 ? " and " : "", n > 1 ? names[1] : "");
    int64_t want[4];
    for (int i = 0; i < p->ndim; i++) want[i] = transposed ? p->shape[p->ndim - 1 - i] : p->shape[i];
    bool ok = t->ndim == p->ndim;
    for (int i = 0; ok && i < p->ndim; i++) ok = t->shape[i] == want[i];
    if (!ok) {
        char got[96], exp[96];
        shape_str(got, sizeof got, t->ndim, t->shape);
        shape_str(exp, sizeof exp, p->ndim, want);
        return sk_err(err, "%s: tensor %s has shape %s, expected %s from config.json", f->path,
                      t->name, got, exp);
    }
    if (t->dtype != SK_DT_F32 && t->dtype != SK_DT_F16 && t->dtype != SK_DT_BF16)
        return sk_err(err, "%s: tensor %s has dtype %s; weights must be F32, F16 or BF16", f->path,
                      t->name, sk_dtype_name(t->dtype));
    if (strcmp(p->name, "wte.weight") == 0 || m->cfg.dtype[0] == 0)
        snprintf(m->cfg.dtype, sizeof m->cfg.dtype, "%s", sk_dtype_name(t->dtype));
    int64_t rows = transposed ? t->shape[0] : 0, cols = transposed ? t->shape[1] : 0;
    if (p->w16) { /* held as stored (the holding was chosen from these dtypes) */
        if (t->dtype != (p->bf16 ? SK_DT_BF16 : SK_DT_F16))
            return sk_err(err, "%s: tensor %s is %s while the model holds %s", f->path, t->name,
                          sk_dtype_name(t->dtype), p->bf16 ? "BF16" : "F16");
        const unsigned char *src = t->data;
        for (int64_t i = 0; i < (int64_t)p->numel; i++) { /* little-endian in the file; [in, out] transposed */
            int64_t dst = transposed ? (i % cols) * rows + i / cols : i;
            p->w16[dst] = (uint16_t)(src[2 * i] | (src[2 * i + 1] << 8));
        }
        return 0;
    }
    if (!transposed) return sk_st_read_f32(f, t, p->w, err);
    /* stored [in, out] (Conv1D): read, then transpose to [out, in] */
    float *tmp = malloc(p->numel * sizeof(float));
    if (!tmp) return sk_err(err, "out of memory");
    if (sk_st_read_f32(f, t, tmp, err) != 0) {
        free(tmp);
        return -1;
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) p->w[c * rows + r] = tmp[r * cols + c];
    free(tmp);
    return 0;
}

/* How to hold the weight matrices: as the checkpoint stores them when every one of them is
 * F16 (or every one BF16), else in fp32. */
static SkDtype checkpoint_hold(const SkModel *m, const SkCheckpoint *ck) {
    SkDtype hold = SK_DT_F32;
    for (int i = 0; i < m->n_params; i++) {
        const SkParam *p = &m->params[i];
        if (p->ndim != 2) continue;
        char names[4][160];
        bool transposed;
        int n = m->arch->checkpoint_names(m, p, names, 4, &transposed);
        const SkStTensor *t = NULL;
        const SkStFile *f;
        for (int k = 0; k < n && !t; k++) t = sk_ckpt_find(ck, names[k], &f);
        if (!t || (t->dtype != SK_DT_F16 && t->dtype != SK_DT_BF16) || (hold != SK_DT_F32 && t->dtype != hold))
            return SK_DT_F32;
        hold = t->dtype;
    }
    return hold;
}

int sk_model_load(const char *dir, SkModel **out, SkError *err) {
    return sk_model_load_progress(dir, NULL, NULL, out, err);
}

int sk_model_load_progress(const char *dir, SkProgressFn progress, void *ctx, SkModel **out,
                           SkError *err) {
    SkModel *m = calloc(1, sizeof *m);
    if (!m) return sk_err(err, "out of memory");
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    SkCheckpoint ck = {0};
    char gguf[2048];
    int is_gguf = sk_gguf_resolve(dir, gguf, sizeof gguf, err);
    if (is_gguf < 0) goto fail;
    if (is_gguf) {
        if (sk_gguf_model_load(m, gguf, progress, ctx, err) != 0 || start_pool(m, err) != 0 || m->arch->bind(m, err) != 0)
            goto fail;
        *out = m;
        return 0;
    }
    if (sk_hfconfig_read(dir, &m->cfg, &m->arch, err) != 0) goto fail;
    if (sk_ckpt_open(&ck, dir, err) != 0 || m->arch->declare(m, err) != 0) goto fail;
    if (sk_weights_alloc(m, checkpoint_hold(m, &ck), err) != 0 || start_pool(m, err) != 0) goto fail;
    double total = (double)m->cfg.n_params, done = 0;
    for (int i = 0; i < m->n_params; i++) {
        if (load_param(m, &ck, &m->params[i], err) != 0) goto fail;
        done += (double)m->params[i].numel;
        if (progress) progress(ctx, "loading weights", done, total);
    }
    sk_ckpt_close(&ck);
    if (m->arch->bind(m, err) != 0) goto fail;
    *out = m;
    return 0;
fail:
    sk_ckpt_close(&ck);
    sk_model_free(m);
    return -1;
}

/* A GGUF type named by a random model's dtype ("Q8_0", "Q4_K", ...) with a quantizer, or F32. */
static uint32_t random_qtype(const char *dtype) {
    static const uint32_t types[] = {SK_GGML_Q8_0, SK_GGML_Q4_0, SK_GGML_Q4_1, SK_GGML_Q4_K};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dtype, sk_ggml_type_name(types[i]))) return types[i];
    return SK_GGML_F32;
}

/* A quantized matrix of random values: 64 rows drawn and quantized, then repeated down the
 * matrix (a 7B model's worth of normal draws and quantization would take minutes, and a
 * benchmark needs the held type and its size, not independent rows). */
static int random_quantized(SkParam *p, SkRng *rng, float std, SkError *err) {
    int64_t rows = p->shape[0], cols = p->shape[1], draw = rows < 64 ? rows : 64;
    size_t rb = sk_ggml_row_bytes(p->qtype, cols);
    float *v = malloc((size_t)cols * sizeof *v);
    if (!v) return sk_err(err, "out of memory");
    for (int64_t r = 0; r < draw; r++) {
        for (int64_t i = 0; i < cols; i++) v[i] = std * sk_rng_normal(rng);
        sk_quantize(p->qtype, v, (unsigned char *)p->wq + (size_t)r * rb, (size_t)cols);
    }
    for (int64_t r = draw; r < rows; r++)
        memcpy((unsigned char *)p->wq + (size_t)r * rb, (unsigned char *)p->wq + (size_t)(r % draw) * rb, rb);
    free(v);
    return 0;
}

int sk_model_new_random(const SkModelConfig *cfg, uint64_t seed, SkModel **out, SkError *err) {
    SkModel *m = calloc(1, sizeof *m);
    if (!m) return sk_err(err, "out of memory");
    m->cfg = *cfg;
    if (strcmp(cfg->arch, "gpt2") == 0) m->arch = &sk_arch_gpt2;
    else if (strcmp(cfg->arch, "llama") == 0) m->arch = &sk_arch_llama;
    else {
        free(m);
        return sk_err(err, "unknown architecture \"%s\"", cfg->arch);
    }
    /* cfg->dtype BF16 or F16: the matrices are held so from the start (no fp32 copy); a
     * quantized type (Q8_0, Q4_0, Q4_1, Q4_K): each matrix is held quantized */
    SkDtype hold = !strcmp(cfg->dtype, "BF16") ? SK_DT_BF16 : !strcmp(cfg->dtype, "F16") ? SK_DT_F16 : SK_DT_F32;
    uint32_t qtype = random_qtype(cfg->dtype);
    if (qtype == SK_GGML_F32) snprintf(m->cfg.dtype, sizeof m->cfg.dtype, "%s", sk_dtype_name(hold));
    if (m->arch->declare(m, err) != 0) {
        sk_model_free(m);
        return -1;
    }
    for (int i = 0; i < m->n_params && qtype != SK_GGML_F32; i++) { /* rows that are not whole */
        SkParam *p = &m->params[i];                                /* K-quant blocks: Q4_0, as */
        if (p->ndim != 2) continue;                                /* llama.cpp falls back too */
        p->qtype = sk_ggml_row_bytes(qtype, p->shape[1]) ? qtype : sk_ggml_row_bytes(SK_GGML_Q4_0, p->shape[1]) ? SK_GGML_Q4_0 : 0;
    }
    if (sk_weights_alloc(m, hold, err) != 0 || start_pool(m, err) != 0) {
        sk_model_free(m);
        return -1;
    }
    SkRng rng;
    sk_rng_seed(&rng, seed);
    /* GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 L) */
    float resid_std = 0.02f / sqrtf(2.0f * (float)cfg->n_layer);
    for (int i = 0; i < m->n_params; i++) {
        SkParam *p = &m->params[i];
        bool is_norm = strstr(p->name, "ln_") != NULL || strstr(p->name, "norm.") != NULL;
        bool is_bias = strstr(p->name, ".bias") != NULL;
        float std = strstr(p->name, "c_proj.weight") ? resid_std : 0.02f;
        if (p->wq) {
            if (random_quantized(p, &rng, std, err) != 0) {
                sk_model_free(m);
                return -1;
            }
            continue;
        }
        for (size_t k = 0; k < p->numel; k++) {
            float v = is_norm ? (is_bias ? 0.0f : 1.0f) : is_bias ? 0.0f : std * sk_rng_normal(&rng);
            if (p->w) p->w[k] = v;
            else p->w16[k] = p->bf16 ? sk_f32_to_bf16(v) : sk_f32_to_f16(v);
        }
    }
    if (m->arch->bind(m, err) != 0) {
        sk_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int sk_model_clone(const SkModel *src, SkModel **out, SkError *err) {
    SkModel *m = calloc(1, sizeof *m);
    if (!m) return sk_err(err, "out of memory");
    m->cfg = src->cfg;
    m->arch = src->arch;
    memcpy(m->dir, src->dir, sizeof m->dir);
    if (m->arch->declare(m, err) != 0) {
        sk_model_free(m);
        return -1;
    }
    for (int i = 0; i < m->n_params; i++) m->params[i].qtype = src->params[i].qtype;
    if (sk_weights_alloc(m, src->hold, err) != 0 || start_pool(m, err) != 0) {
        sk_model_free(m);
        return -1;
    }
    m->cfg = src->cfg;
    sk_weights_copy(m, src);
    if (m->arch->bind(m, err) != 0) {
        sk_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void sk_model_free(SkModel *m) {
    if (!m) return;
    for (int i = 0; i < m->n_params; i++) free(m->params[i].g);
    free(m->params);
    free(m->weights), free(m->weights16), free(m->weightsq);
    if (m->arch && m->arch->release && m->impl) m->arch->release(m);
    else free(m->impl);
    sk_pool_free(m->pool);
    free(m);
}

const SkModelConfig *sk_model_config(const SkModel *m) { return &m->cfg; }
const char *sk_model_dir(const SkModel *m) { return m->dir; }
SkPool *sk_model_pool(SkModel *m) { return m->pool; }

int sk_model_params(SkModel *m, SkParam **params) {
    *params = m->params;
    return m->n_params;
}

SkParam *sk_model_param(SkModel *m, const char *name) {
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
    return NULL;
}

SkParam *sk_model_token_embeddings(SkModel *m) {
    SkParam *p = sk_model_param(m, "wte.weight");
    return p ? p : sk_model_param(m, "embed_tokens.weight");
}

int sk_model_set_trainable(SkModel *m, const char *prefix, bool trainable, SkError *err) {
    size_t plen = prefix ? strlen(prefix) : 0;
    if (trainable && m->hold != SK_DT_F32 && sk_model_set_dtype(m, SK_DT_F32, err) != 0)
        return sk_err_prefix(err, "holding the weights in F32 to train them");
    int matched = 0;
    for (int i = 0; i < m->n_params; i++) {
        SkParam *p = &m->params[i];
        if (plen && strncmp(p->name, prefix, plen) != 0) continue;
        matched++;
        if (trainable && !p->g) {
            p->g = calloc(p->numel, sizeof(float));
            if (!p->g) return sk_err(err, "out of memory for the gradient of %s", p->name);
        } else if (!trainable) {
            free(p->g);
            p->g = NULL;
        }
    }
    if (plen && matched == 0) return sk_err(err, "no parameter name starts with \"%s\"", prefix);
    return 0;
}

void sk_model_zero_grad(SkModel *m) {
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].g) memset(m->params[i].g, 0, m->params[i].numel * sizeof(float));
}

size_t sk_acts_items(const SkActsItem *items, size_t n_items, SkArena *arena) {
    size_t total = 0;
    for (size_t i = 0; i < n_items; i++) {
        total += sk_arena_round(items[i].n * sizeof(float)) / sizeof(float);
        if (arena && !(*items[i].p = sk_arena_floats(arena, items[i].n ? items[i].n : 1))) return 0;
    }
    return total;
}

size_t sk_acts_io_floats(const SkModel *m, const SkActsShape *s) {
    return 2 * (size_t)s->B * (size_t)(s->n_embed + s->T) * (size_t)m->cfg.d_model + 64;
}

int sk_acts_io_bind(SkModel *m, SkActs *a) {
    size_t n = (size_t)a->shape.B * (size_t)(a->shape.n_embed + a->shape.T) * (size_t)m->cfg.d_model;
    a->hidden = sk_arena_floats(&a->arena, n);
    a->d_input = sk_arena_floats(&a->arena, n);
    return a->hidden && a->d_input ? 0 : -1;
}

int sk_acts_new(SkModel *m, const SkActsShape *shape, SkActs **out, SkError *err) {
    if (shape->B <= 0 || shape->T < 0 || (shape->T == 0 && shape->n_embed == 0) || shape->n_embed < 0 ||
        shape->n_prefix < 0)
        return sk_err(err, "invalid activation shape B=%d T=%d", shape->B, shape->T);
    SkActs *a = calloc(1, sizeof *a);
    if (!a) return sk_err(err, "out of memory");
    a->shape = *shape;
    size_t n = m->arch->acts_floats(m, shape);
    if (sk_arena_init(&a->arena, n * sizeof(float) + 64 * 256, err) != 0) {
        free(a);
        return sk_err_prefix(err, "activations for batch %dx%d", shape->B, shape->T);
    }
    if (m->arch->acts_bind(m, a) != 0) {
        sk_acts_free(a);
        return sk_err(err, "internal error: activation arena too small");
    }
    *out = a;
    return 0;
}

void sk_acts_free(SkActs *a) {
    if (!a) return;
    sk_arena_free(&a->arena);
    free(a->impl);
    free(a);
}

static int check_batch(SkModel *m, SkActs *a, const SkBatch *b, const SkHooks *h, SkError *err) {
    int ne = h ? h->n_embed : 0, np = h ? h->n_prefix : 0, off = h ? h->pos_offset : 0;
    if (b->B <= 0 || b->T < 0 || (b->T == 0 && ne == 0)) return sk_err(err, "empty batch");
    if (b->B > a->shape.B || b->T > a->shape.T || ne > a->shape.n_embed || np > a->shape.n_prefix)
        return sk_err(err, "batch %dx%d (+%d embedded, %d prefix) exceeds the activation shape "
                           "%dx%d (+%d, %d)", b->B, b->T, ne, np, a->shape.B, a->shape.T,
                      a->shape.n_embed, a->shape.n_prefix);
    /* learned positions end at max_seq; rotary ones go on (as in transformers) */
    if (off < 0 || (m->cfg.rope.dim == 0 && off + ne + b->T > m->cfg.max_seq))
        return sk_err(err, "sequence needs %d positions; the model has %d", off + ne + b->T,
                      m->cfg.max_seq);
    for (int i = 0; i < b->B * b->T; i++)
        if (b->ids[i] < 0 || b->ids[i] >= m->cfg.vocab_size)
            return sk_err(err, "token id %d at position %d is outside the vocabulary (%d)",
                          b->ids[i], i, m->cfg.vocab_size);
    if (h && h->lora)
        for (int i = 0; i < m->cfg.n_layer * SK_PROJ_COUNT; i++) {
            if (h->lora[i] && h->lora[i]->r > a->shape.lora_rank)
                return sk_err(err, "low-rank delta of rank %d exceeds the activation shape (%d)",
                              h->lora[i]->r, a->shape.lora_rank);
            if (h->lora[i] && h->lora[i]->dropout > 0 && !a->shape.lora_dropout)
                return sk_err(err, "low-rank dropout needs activations made with lora_dropout");
        }
    return 0;
}

int sk_model_forward(SkModel *m, SkActs *a, const SkBatch *b, const SkHooks *h, SkError *err) {
    static const SkHooks none = {0};
    if (!h) h = &none;
    if (check_batch(m, a, b, h, err) != 0) return -1;
    a->B = b->B;
    a->T = b->T;
    a->S = h->n_embed + b->T;
    a->P = h->n_prefix;
    return m->arch->forward(m, a, b, h, err);
}

int sk_model_backward(SkModel *m, SkActs *a, const SkBatch *b, const SkHooks *h,
                      const float *d_hidden, SkError *err) {
    static const SkHooks none = {0};
    if (!h) h = &none;
    if (a->shape.forward_only) return sk_err(err, "internal error: backward over forward-only activations");
    if (a->B != b->B || a->T != b->T || a->S != h->n_embed + b->T)
        return sk_err(err, "backward called with a batch that differs from the last forward");
    return m->arch->backward(m, a, b, h, d_hidden, err);
}

const float *sk_acts_hidden(const SkActs *a) { return a->hidden; }
const float *sk_acts_d_input(const SkActs *a) { return a->d_input; }

void sk_model_lm_logits(SkModel *m, const float *hidden, int n, float *logits) {
    SkMat W = m->arch->lm_head(m, NULL);
    sk_linear_forward_m(m->pool, logits, hidden, W, NULL, n, m->cfg.d_model, m->cfg.vocab_size, false);
}

void sk_model_lm_backward(SkModel *m, const float *hidden, const float *dlogits, int n,
                          float *d_hidden) {
    float *g = NULL;
    SkMat W = m->arch->lm_head(m, &g);
    sk_linear_backward_m(m->pool, d_hidden, g, NULL, dlogits, hidden, W, n, m->cfg.d_model, m->cfg.vocab_size);
}

/* The k rows of the LM head for ids, in fp32, in this thread's conversion buffer. */
static const float *lm_rows(SkModel *m, const int32_t *ids, int k, float **grad) {
    SkMat W = m->arch->lm_head(m, grad);
    size_t d = (size_t)m->cfg.d_model;
    float *rows = sk_mat_scratch((size_t)k * d);
    for (int j = 0; j < k; j++) sk_mat_read(W, (size_t)ids[j] * d, d, rows + (size_t)j * d);
    return rows;
}

void sk_model_lm_rows(SkModel *m, const float *hidden, int n, const int32_t *ids, int k, float *out) {
    int d = m->cfg.d_model;
    const float *rows = lm_rows(m, ids, k, NULL);
    sk_linear_forward(out, hidden, rows, NULL, n, d, k, false); /* out[n,k] = hidden @ rows^T */
}

void sk_model_lm_rows_backward(SkModel *m, const float *hidden, const float *dout, int n, const int32_t *ids, int k,
                               float *d_hidden) {
    int d = m->cfg.d_model;
    float *g = NULL;
    const float *rows = lm_rows(m, ids, k, &g);
    sk_linear_backward(d_hidden, NULL, NULL, dout, hidden, rows, n, d, k); /* d_hidden += dout @ rows */
    for (int j = 0; g && j < k; j++) /* a trained head: its rows' gradients (ids may repeat) */
        for (int b = 0; b < n; b++) {
            float s = dout[(size_t)b * k + j];
            float *gr = g + (size_t)ids[j] * d;
            for (int i = 0; i < d; i++) gr[i] += s * hidden[(size_t)b * d + i];
        }
}

double sk_model_forward_flops(const SkModel *m, int B, int T, bool with_lm_head) {
    const SkModelConfig *c = &m->cfg;
    double N = (double)B * T, d = c->d_model, q = (double)c->n_head * c->head_dim;
    double kv = (double)c->n_kv_head * c->head_dim, mlp_mats = c->rope.dim ? 3.0 : 2.0; /* SwiGLU: 3 */
    double per_layer = 2.0 * N * d * (q + 2 * kv) + 2.0 * N * q * d + mlp_mats * 2.0 * N * d * c->d_ff;
    /* causal attention: QK^T and AV over about T/2 keys per query */
    per_layer += 2.0 * 2.0 * B * c->n_head * (double)T * (T + 1) / 2.0 * c->head_dim;
    double f = per_layer * c->n_layer;
    if (with_lm_head) f += 2.0 * N * d * c->vocab_size;
    return f;
}

size_t sk_model_kv_scratch_floats(const SkModel *m, int n) { return m->arch->kv_scratch(m, n); }

void sk_model_kv_forward(SkModel *m, int layer, const float *g, int n, float *k, float *v,
                         float *scratch) {
    m->arch->kv_forward(m, layer, g, n, k, v, scratch);
}

void sk_model_kv_backward(SkModel *m, int layer, const float *g, int n, const float *dk,
                          const float *dv, float *dg, float *scratch) {
    m->arch->kv_backward(m, layer, g, n, dk, dv, dg, scratch);
}

void sk_acts_layer_kv(const SkModel *m, const SkActs *a, int layer, const float **k, const float **v) {
    m->arch->layer_kv(m, a, layer, k, v);
}

const float *sk_acts_block_input(const SkModel *m, const SkActs *a, int layer) {
    return m->arch->block_input(m, a, layer);
}

int sk_model_save(const SkModel *m, const char *dir, const char *dtype, SkError *err) {
    SkDtype dt = SK_DT_F32;
    if (!strcmp(dtype, "F16")) dt = SK_DT_F16;
    else if (!strcmp(dtype, "BF16")) dt = SK_DT_BF16;
    else if (strcmp(dtype, "F32") != 0) return sk_err(err, "save: dtype \"%s\" (F32, F16 or BF16)", dtype);
    if (sk_mkdir_p(dir, err) != 0) return -1;
    SkStWriteTensor *ts = calloc((size_t)m->n_params, sizeof *ts);
    char (*names)[160] = calloc((size_t)m->n_params, sizeof *names);
    float **tmp = calloc((size_t)m->n_params, sizeof *tmp);
    int rc = ts && names && tmp ? 0 : sk_err(err, "out of memory");
    for (int i = 0; rc == 0 && i < m->n_params; i++) {
        const SkParam *p = &m->params[i];
        char cand[4][160];
        bool transposed = false;
        m->arch->checkpoint_names(m, p, cand, 4, &transposed);
        memcpy(names[i], cand[0], sizeof names[i]);
        ts[i] = (SkStWriteTensor){.name = names[i], .dtype = dt, .ndim = p->ndim, .data = p->w};
        for (int k = 0; k < p->ndim; k++) ts[i].shape[k] = p->shape[k];
        if (!transposed && p->w) continue;
        if (!(tmp[i] = malloc(p->numel * sizeof(float)))) {
            rc = sk_err(err, "out of memory");
            break;
        }
        ts[i].data = tmp[i];
        if (!transposed) { /* held in 16 bits: the writer takes fp32 */
            sk_param_read(p, 0, p->numel, tmp[i]);
            continue;
        }
        int64_t rows = p->shape[0], cols = p->shape[1]; /* back to [in, out] */
        float *row = malloc((size_t)cols * sizeof(float));
        if (!row) {
            rc = sk_err(err, "out of memory");
            break;
        }
        for (int64_t r = 0; r < rows; r++) {
            sk_param_read(p, (size_t)(r * cols), (size_t)cols, row);
            for (int64_t c = 0; c < cols; c++) tmp[i][c * rows + r] = row[c];
        }
        free(row);
        ts[i].shape[0] = cols, ts[i].shape[1] = rows;
    }
    char path[2048];
    if (rc == 0 && sk_path_join(path, sizeof path, dir, "model.safetensors", err) == 0) {
        cJSON *meta = cJSON_CreateObject();
        cJSON_AddStringToObject(meta, "format", "pt");
        rc = sk_st_write(path, ts, m->n_params, meta, err);
        cJSON_Delete(meta);
    } else if (rc == 0) rc = -1;
    if (rc == 0) {
        cJSON *c = m->arch->config_json(m);
        cJSON_AddStringToObject(c, "torch_dtype", dt == SK_DT_F32 ? "float32" : dt == SK_DT_F16 ? "float16" : "bfloat16");
        char *text = cJSON_Print(c);
        cJSON_Delete(c);
        if (!text || sk_path_join(path, sizeof path, dir, "config.json", err) != 0) rc = text ? -1 : sk_err(err, "out of memory");
        else {
            size_t n = strlen(text);
            text[n] = '\n';
            rc = sk_write_file_atomic(path, text, n + 1, err);
        }
        free(text);
    }
    for (int i = 0; tmp && i < m->n_params; i++) free(tmp[i]);
    free(tmp), free(ts), free(names);
    return rc;
}
