/* gguf_model.c - a model from a GGUF file (llama.cpp's format): the hyper-parameters from
 * its metadata, the tensors by their GGUF names, each matrix held in the type the file
 * stores it in (quantized blocks stay quantized; the products dequantize a block of rows
 * at a time), vectors in fp32.
 *
 * Architectures (the table `archs` below: each one's metadata reader and tensor names):
 * `llama` (Llama 2/3, Mistral, SmolLM, TinyLlama) and `qwen2` on the engine's Llama
 * implementation; `gpt2` on its GPT-2 one. llama.cpp's converter permutes the rows of Q and
 * K of `llama` models from Hugging Face's rotate-half layout into interleaved pairs (its
 * rotary convention); transformers undoes that when it loads a GGUF, and so does this file,
 * so the logits equal the Hugging Face model's. `qwen2` is stored unpermuted. For `gpt2` the
 * converter transposes Hugging Face's Conv1D weights ([in, out]) into ggml's usual [out, in]
 * rows, which is the layout gpt2.c holds them in, so they are read as they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"
#include "sk_quant.h"

typedef struct {
    const SkGgufFile *f;
    const char *arch; /* the metadata prefix: general.architecture */
    SkError *err;
} Meta;

static int meta_int(Meta *g, const char *suffix, int *out, bool required, int def, int lo) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", g->arch, suffix);
    int64_t v = def;
    const SkGgufKv *kv = sk_gguf_find_kv(g->f, key);
    const SkGgufValue *arr;
    if (kv && kv->value.type == SK_GGUF_ARRAY) { /* per-layer values: sktune needs them all equal */
        if (sk_gguf_get_array(g->f, key, SK_GGUF_I64, &arr, g->err) < 0) return -1;
        for (uint64_t i = 0; i < arr->arr.n; i++)
            if (i == 0) v = sk_gguf_array_int(arr, 0);
            else if (sk_gguf_array_int(arr, i) != v)
                return sk_err(g->err, "%s: key %s differs between layers, which sktune does not support", g->f->path, key);
        if (arr->arr.n == 0) return sk_err(g->err, "%s: key %s is an empty array", g->f->path, key);
    } else {
        int rc = sk_gguf_get_int(g->f, key, &v, g->err);
        if (rc < 0) return -1;
        if (rc == 0 && required) return sk_err(g->err, "%s: key %s missing", g->f->path, key);
    }
    if (v < lo || v > 1000000000)
        return sk_err(g->err, "%s: key %s is %lld (must be %d to 1e9)", g->f->path, key, (long long)v, lo);
    *out = (int)v;
    return 0;
}

static int meta_float(Meta *g, const char *suffix, double *out, double def) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", g->arch, suffix);
    *out = def;
    int rc = sk_gguf_get_float(g->f, key, out, g->err);
    if (rc < 0) return -1;
    if (rc && !(*out > 0 && *out < 1e30))
        return sk_err(g->err, "%s: key %s is %g (must be a positive number)", g->f->path, key, *out);
    return 0;
}

/* rope.scaling.type: none, linear (yarn and others are refused by name). */
static int read_rope(Meta *g, SkModelConfig *c) {
    SkRopeConfig *r = &c->rope;
    r->type = SK_ROPE_DEFAULT, r->factor = 1.0, r->max_pos = c->max_seq;
    if (meta_int(g, "rope.dimension_count", &r->dim, false, c->head_dim, 2) || meta_float(g, "rope.freq_base", &r->theta, 10000.0))
        return -1;
    if (r->dim > c->head_dim || r->dim % 2)
        return sk_err(g->err, "%s: %s.rope.dimension_count %d must be even and at most the head size %d", g->f->path,
                      g->arch, r->dim, c->head_dim);
    char key[160];
    snprintf(key, sizeof key, "%s.rope.scaling.type", g->arch);
    SkGgufStr type;
    int rc = sk_gguf_get_str(g->f, key, &type, g->err);
    if (rc < 0) return -1;
    if (rc == 0 || (type.len == 4 && !memcmp(type.s, "none", 4))) return 0;
    if (type.len == 6 && !memcmp(type.s, "linear", 6)) {
        r->type = SK_ROPE_LINEAR;
        return meta_float(g, "rope.scaling.factor", &r->factor, 1.0);
    }
    return sk_err(g->err, "%s: %s is \"%.*s\": sktune supports none and linear", g->f->path, key, (int)type.len, type.s);
}

/* Llama's (and Qwen2's) own keys: grouped-query heads, head sizes, RMSNorm, rotary
 * embeddings; the bias layout is read off which tensors are present. */
static int read_llama(Meta *g, SkModelConfig *c) {
    const SkGgufFile *f = g->f;
    if (meta_int(g, "context_length", &c->max_seq, false, 2048, 1) ||
        meta_int(g, "attention.head_count_kv", &c->n_kv_head, false, c->n_head, 1))
        return -1;
    if (c->n_head % c->n_kv_head)
        return sk_err(g->err, "%s: %s.attention.head_count %d is not a multiple of head_count_kv %d", f->path, g->arch,
                      c->n_head, c->n_kv_head);
    int value_len;
    if (meta_int(g, "attention.key_length", &c->head_dim, false, c->d_model / c->n_head, 2) ||
        meta_int(g, "attention.value_length", &value_len, false, c->head_dim, 2))
        return -1;
    if (value_len != c->head_dim)
        return sk_err(g->err, "%s: %s.attention.value_length %d differs from key_length %d", f->path, g->arch, value_len,
                      c->head_dim);
    double eps;
    if (meta_float(g, "attention.layer_norm_rms_epsilon", &eps, 1e-6)) return -1;
    c->norm_eps = (float)eps;
    c->qkv_bias = sk_gguf_find_tensor(f, "blk.0.attn_q.bias") != NULL;
    c->o_bias = sk_gguf_find_tensor(f, "blk.0.attn_output.bias") != NULL;
    c->mlp_bias = sk_gguf_find_tensor(f, "blk.0.ffn_up.bias") != NULL;
    c->activation = SK_ACT_RELU; /* unused: the MLP is SwiGLU */
    if (sk_gguf_find_tensor(f, "rope_freqs.weight"))
        return sk_err(g->err, "%s: tensor rope_freqs.weight (Llama 3.1-style rope scaling) is not supported from GGUF yet",
                      f->path);
    return read_rope(g, c);
}

/* GPT-2's: the learned position table's height (context_length, which llama.cpp requires
 * too), LayerNorm's epsilon. Heads are never grouped and always split the width evenly. */
static int read_gpt2(Meta *g, SkModelConfig *c) {
    if (meta_int(g, "context_length", &c->max_seq, true, 0, 1)) return -1;
    if (c->d_model % c->n_head)
        return sk_err(g->err, "%s: %s.embedding_length %d is not divisible by %s.attention.head_count %d", g->f->path,
                      g->arch, c->d_model, g->arch, c->n_head);
    c->n_kv_head = c->n_head;
    c->head_dim = c->d_model / c->n_head;
    double eps; /* transformers' GPT2Config default when the key is absent */
    if (meta_float(g, "attention.layer_norm_epsilon", &eps, 1e-5)) return -1;
    c->norm_eps = (float)eps;
    /* GGUF has no key for the activation: llama.cpp's gpt2 graph and transformers (its
     * GPT2Config default, gelu_new) both use GELU's tanh approximation */
    c->activation = SK_ACT_GELU_TANH;
    return 0; /* rope.dim stays 0: no rotary embeddings */
}

/* A module of the implementation's parameter names and the GGUF name it is stored under;
 * the ".weight"/".bias" after it is kept. Lists end with a NULL module. */
typedef struct {
    const char *module, *gguf;
} NameMap;

/* Everything that differs between the architectures a GGUF file can hold. */
typedef struct {
    const char *name;           /* general.architecture (and the metadata keys' prefix) */
    const SkArch *impl;         /* the engine's implementation */
    int (*read)(Meta *g, SkModelConfig *c); /* the keys beyond the ones every architecture has */
    const char *layer_prefix;   /* the implementation's per-layer parameters: "<prefix><N>.<module>.*" */
    const NameMap *globals, *layer; /* -> "<gguf>.*" and "blk.<N>.<gguf>.*" */
    /* the rows of a parameter llama.cpp permuted, as a number of heads (0: none); NULL when
     * the converter permutes nothing */
    int (*permuted_heads)(const SkModel *m, const char *param);
    const char *main_matrix;    /* the per-layer matrix whose type names the file's dtype */
} GgufArch;

/* Which heads' rows llama.cpp interleaved: q (n_head) and k (n_kv_head), weight and bias. */
static int llama_permuted_heads(const SkModel *m, const char *param) {
    if (strstr(param, ".self_attn.q_proj.")) return m->cfg.n_head;
    if (strstr(param, ".self_attn.k_proj.")) return m->cfg.n_kv_head;
    return 0;
}

static const NameMap llama_globals[] = {
    {"embed_tokens", "token_embd"}, {"norm", "output_norm"}, {"lm_head", "output"}, {NULL, NULL},
};
static const NameMap llama_layer[] = {
    {"input_layernorm", "attn_norm"},    {"self_attn.q_proj", "attn_q"},       {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},      {"self_attn.o_proj", "attn_output"}, {"post_attention_layernorm", "ffn_norm"},
    {"mlp.gate_proj", "ffn_gate"},       {"mlp.up_proj", "ffn_up"},           {"mlp.down_proj", "ffn_down"},
    {NULL, NULL},
};
/* gguf-py's MODEL_TENSORS[GPT2]: no output.weight when tied (the current converter writes
 * none; older ones wrote a copy of token_embd, which transformers then loads untied) */
static const NameMap gpt2_globals[] = {
    {"wte", "token_embd"}, {"wpe", "position_embd"}, {"ln_f", "output_norm"}, {"lm_head", "output"}, {NULL, NULL},
};
static const NameMap gpt2_layer[] = {
    {"ln_1", "attn_norm"}, {"attn.c_attn", "attn_qkv"}, {"attn.c_proj", "attn_output"},
    {"ln_2", "ffn_norm"},  {"mlp.c_fc", "ffn_up"},      {"mlp.c_proj", "ffn_down"},
    {NULL, NULL},
};

static const GgufArch archs[] = {
    {"llama", &sk_arch_llama, read_llama, "layers.", llama_globals, llama_layer, llama_permuted_heads, "mlp.up_proj"},
    {"qwen2", &sk_arch_llama, read_llama, "layers.", llama_globals, llama_layer, NULL, "mlp.up_proj"},
    {"gpt2", &sk_arch_gpt2, read_gpt2, "h.", gpt2_globals, gpt2_layer, NULL, "mlp.c_fc"},
};
#define N_ARCHS (sizeof archs / sizeof archs[0])

/* The keys and tensors every architecture shares, then the architecture's own. */
static int read_config(const SkGgufFile *f, SkModelConfig *c, const GgufArch **out, SkError *err) {
    SkGgufStr a;
    int rc = sk_gguf_get_str(f, "general.architecture", &a, err);
    if (rc <= 0) return rc < 0 ? -1 : sk_err(err, "%s: key general.architecture missing", f->path);
    char arch[32];
    snprintf(arch, sizeof arch, "%.*s", (int)(a.len < 31 ? a.len : 31), a.s);
    const GgufArch *A = NULL;
    char names[128] = "";
    for (size_t i = 0; i < N_ARCHS; i++) {
        if (a.len == strlen(archs[i].name) && !memcmp(a.s, archs[i].name, a.len)) A = &archs[i];
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", archs[i].name);
    }
    if (!A) return sk_err(err, "%s: architecture \"%s\" is not supported from GGUF (%s)", f->path, arch, names);
    memset(c, 0, sizeof *c);
    snprintf(c->arch, sizeof c->arch, "%s", A->impl->name);
    Meta g = {.f = f, .arch = A->name, .err = err};
    if (meta_int(&g, "embedding_length", &c->d_model, true, 0, 1) || meta_int(&g, "block_count", &c->n_layer, true, 0, 1) ||
        meta_int(&g, "attention.head_count", &c->n_head, true, 0, 1) ||
        meta_int(&g, "feed_forward_length", &c->d_ff, true, 0, 1))
        return -1;
    /* the vocabulary is the embedding table's height (vocab_size, when present, must agree) */
    const SkGgufTensor *emb = sk_gguf_find_tensor(f, "token_embd.weight");
    if (!emb || emb->ndim != 2)
        return sk_err(err, "%s: tensor token_embd.weight %s", f->path, emb ? "must have 2 dimensions" : "missing");
    if (emb->ne[1] > 100000000) return sk_err(err, "%s: token_embd.weight has %lld rows", f->path, (long long)emb->ne[1]);
    c->vocab_size = (int)emb->ne[1];
    int vocab;
    if (meta_int(&g, "vocab_size", &vocab, false, c->vocab_size, 1)) return -1;
    if (vocab != c->vocab_size)
        return sk_err(err, "%s: %s.vocab_size %d differs from token_embd.weight's %d rows", f->path, A->name, vocab,
                      c->vocab_size);
    c->tie_embeddings = !sk_gguf_find_tensor(f, "output.weight");
    *out = A;
    return A->read(&g, c);
}

/* The GGUF name of a parameter of the implementation ("layers.3.self_attn.q_proj.weight" ->
 * "blk.3.attn_q.weight", "h.3.attn.c_attn.bias" -> "blk.3.attn_qkv.bias"). */
static int gguf_name(const GgufArch *A, const char *param, char *out, size_t cap) {
    const NameMap *map = A->globals;
    size_t np = strlen(A->layer_prefix);
    int layer = -1, at = 0;
    if (!strncmp(param, A->layer_prefix, np)) {
        if (sscanf(param + np, "%d.%n", &layer, &at) != 1 || at == 0 || layer < 0) return -1;
        at += (int)np;
        map = A->layer;
    }
    for (; map->module; map++) {
        size_t n = strlen(map->module);
        if (strncmp(param + at, map->module, n) || param[at + n] != '.') continue;
        return layer < 0 ? snprintf(out, cap, "%s%s", map->gguf, param + at + n)
                         : snprintf(out, cap, "blk.%d.%s%s", layer, map->gguf, param + at + n);
    }
    return -1;
}

/* Row r of the Hugging Face matrix is row src_row(r) of the GGUF one: within each head of dh
 * rows, HF's rotate-half order (first halves, then second halves) was written as pairs. */
static int64_t src_row(int64_t r, int64_t dh) {
    int64_t h = r / dh, j = r % dh, half = j / (dh / 2), i = j % (dh / 2);
    return h * dh + 2 * i + half;
}

static int unreadable(const SkGgufFile *f, const SkGgufTensor *t, SkError *err) {
    return sk_err(err, "%s: tensor %s has type %s, which sktune cannot read", f->path, t->name,
                  sk_ggml_type_name(t->type) ? sk_ggml_type_name(t->type) : "?");
}

/* A matrix's rows (held as stored, or converted to fp32), or a vector's values, in the
 * Hugging Face order: q/k rows (and their biases' entries) taken back out of llama.cpp's
 * interleaved order when heads > 0. */
static int load_tensor(SkModel *m, const SkGgufFile *f, SkParam *p, const SkGgufTensor *t, int heads, SkError *err) {
    int64_t dh = m->cfg.head_dim, n = p->shape[0];
    if (heads && (n != heads * dh || dh % 2))
        return sk_err(err, "%s: tensor %s: %lld rows are not %d heads of %lld", f->path, t->name, (long long)n, heads,
                      (long long)dh);
    if (p->ndim == 1) {
        if (sk_dequantize(t->type, t->data, p->w, p->numel) != 0) return unreadable(f, t, err);
        if (!heads) return 0;
        float *tmp = malloc((size_t)n * sizeof(float));
        if (!tmp) return sk_err(err, "out of memory");
        memcpy(tmp, p->w, (size_t)n * sizeof(float));
        for (int64_t r = 0; r < n; r++) p->w[r] = tmp[src_row(r, dh)];
        free(tmp);
        return 0;
    }
    int64_t cols = p->shape[1];
    size_t row_bytes = sk_ggml_row_bytes(t->type, cols);
    for (int64_t r = 0; r < n; r++) {
        const unsigned char *src = (const unsigned char *)t->data + (size_t)(heads ? src_row(r, dh) : r) * row_bytes;
        if (p->wq) memcpy((unsigned char *)p->wq + (size_t)r * row_bytes, src, row_bytes);
        else if (sk_dequantize(t->type, src, p->w + r * cols, (size_t)cols) != 0) return unreadable(f, t, err);
    }
    return 0;
}

int sk_gguf_model_load(SkModel *m, const char *path, SkProgressFn progress, void *ctx, SkError *err) {
    SkGgufFile f;
    if (sk_gguf_open(&f, path, err) != 0) return -1;
    const GgufArch *A = NULL;
    int rc = -1;
    const SkGgufTensor **src = NULL;
    if (read_config(&f, &m->cfg, &A, err) != 0) goto done;
    m->arch = A->impl;
    if (m->arch->declare(m, err) != 0) goto done;
    if (!(src = calloc((size_t)m->n_params, sizeof *src))) {
        sk_err(err, "out of memory");
        goto done;
    }
    /* every parameter's tensor, its shape (ggml lists the row length first), its type */
    for (int i = 0; i < m->n_params; i++) {
        SkParam *p = &m->params[i];
        char name[160];
        if (gguf_name(A, p->name, name, sizeof name) < 0) {
            sk_err(err, "%s: no GGUF name for parameter %s", path, p->name);
            goto done;
        }
        const SkGgufTensor *t = sk_gguf_find_tensor(&f, name);
        if (!t) {
            sk_err(err, "%s: tensor %s missing", path, name);
            goto done;
        }
        bool ok = t->ndim == p->ndim;
        for (int k = 0; ok && k < p->ndim; k++) ok = t->ne[k] == p->shape[p->ndim - 1 - k];
        if (!ok) {
            sk_err(err, "%s: tensor %s has shape [%lld, %lld] (ggml order), expected [%lld, %lld] from the metadata", path,
                   name, (long long)t->ne[0], (long long)(t->ndim > 1 ? t->ne[1] : 1), (long long)p->shape[p->ndim - 1],
                   (long long)(p->ndim > 1 ? p->shape[0] : 1));
            goto done;
        }
        if (!sk_ggml_type_supported(t->type)) {
            unreadable(&f, t, err);
            goto done;
        }
        p->qtype = p->ndim == 2 && t->type != SK_GGML_F32 ? t->type : SK_GGML_F32;
        src[i] = t;
    }
    if (sk_weights_alloc(m, SK_DT_F32, err) != 0) goto done;
    double total = (double)m->cfg.n_params, done = 0;
    for (int i = 0; i < m->n_params; i++) {
        int heads = A->permuted_heads ? A->permuted_heads(m, m->params[i].name) : 0;
        if (load_tensor(m, &f, &m->params[i], src[i], heads, err) != 0) goto done;
        done += (double)m->params[i].numel;
        if (progress) progress(ctx, "loading weights", done, total);
    }
    /* the type most of the matrices are stored in names the file's dtype */
    const SkParam *big = NULL;
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].ndim == 2 && strstr(m->params[i].name, A->main_matrix)) big = &m->params[i];
    const char *tn = big ? sk_ggml_type_name(big->wq ? big->qtype : SK_GGML_F32) : "F32";
    snprintf(m->cfg.dtype, sizeof m->cfg.dtype, "%s", tn ? tn : "?");
    rc = 0;
done:
    free(src);
    sk_gguf_close(&f);
    return rc;
}
