/* hfconfig.c - reads a Hugging Face config.json into SkModelConfig.
 * Unknown fields are ignored (real checkpoints carry many); fields that change the
 * computation are read, checked, and refused when they ask for what is not built. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/model_internal.h"

typedef struct {
    const char *path;
    const cJSON *root;
    SkError *err;
} Cfg;

static int get_int(Cfg *c, const char *const *names, int *out, bool required, int def, int lo) {
    for (int i = 0; names[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, names[i]);
        if (!v || cJSON_IsNull(v)) continue;
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
            v->valuedouble < lo || v->valuedouble > 1e9)
            return sk_err(c->err, "%s: field %s must be an integer >= %d", c->path, names[i], lo);
        *out = (int)v->valuedouble;
        return 0;
    }
    if (required) return sk_err(c->err, "%s: field %s missing", c->path, names[0]);
    *out = def;
    return 0;
}

static int get_float(Cfg *c, const char *name, float *out, float def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, name);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
        return sk_err(c->err, "%s: field %s must be a positive number", c->path, name);
    *out = (float)v->valuedouble;
    return 0;
}

static int get_bool(Cfg *c, const char *name, bool *out, bool def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, name);
    if (!v || cJSON_IsNull(v)) {
        *out = def;
        return 0;
    }
    if (!cJSON_IsBool(v)) return sk_err(c->err, "%s: field %s must be true or false", c->path, name);
    *out = cJSON_IsTrue(v);
    return 0;
}

static int read_gpt2(Cfg *c, SkModelConfig *cfg) {
    static const char *n_embd[] = {"n_embd", "hidden_size", NULL};
    static const char *n_layer[] = {"n_layer", "num_hidden_layers", NULL};
    static const char *n_head[] = {"n_head", "num_attention_heads", NULL};
    static const char *vocab[] = {"vocab_size", NULL};
    static const char *n_pos[] = {"n_positions", "n_ctx", "max_position_embeddings", NULL};
    static const char *n_inner[] = {"n_inner", NULL};
    if (get_int(c, n_embd, &cfg->d_model, true, 0, 1) || get_int(c, n_layer, &cfg->n_layer, true, 0, 1) ||
        get_int(c, n_head, &cfg->n_head, true, 0, 1) || get_int(c, vocab, &cfg->vocab_size, true, 0, 1) ||
        get_int(c, n_pos, &cfg->max_seq, true, 0, 1) ||
        get_int(c, n_inner, &cfg->d_ff, false, 4 * cfg->d_model, 1))
        return -1;
    if (cfg->d_model % cfg->n_head != 0)
        return sk_err(c->err, "%s: n_embd %d is not divisible by n_head %d", c->path, cfg->d_model,
                      cfg->n_head);
    cfg->n_kv_head = cfg->n_head;
    cfg->head_dim = cfg->d_model / cfg->n_head;
    if (get_float(c, "layer_norm_epsilon", &cfg->norm_eps, 1e-5f)) return -1;
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(c->root, "activation_function");
    const char *a = cJSON_IsString(act) ? act->valuestring : "gelu_new";
    if (!strcmp(a, "gelu_new") || !strcmp(a, "gelu_pytorch_tanh") || !strcmp(a, "gelu_fast"))
        cfg->activation = SK_ACT_GELU_TANH;
    else if (!strcmp(a, "gelu"))
        cfg->activation = SK_ACT_GELU_ERF;
    else if (!strcmp(a, "relu"))
        cfg->activation = SK_ACT_RELU;
    else
        return sk_err(c->err, "%s: activation_function \"%s\" is not supported (gelu_new, gelu, "
                              "relu)", c->path, a);
    bool scale_attn = true, inv_layer = false;
    if (get_bool(c, "tie_word_embeddings", &cfg->tie_embeddings, true) ||
        get_bool(c, "scale_attn_weights", &scale_attn, true) ||
        get_bool(c, "scale_attn_by_inverse_layer_idx", &inv_layer, false))
        return -1;
    if (!scale_attn)
        return sk_err(c->err, "%s: scale_attn_weights=false is not supported", c->path);
    if (inv_layer)
        return sk_err(c->err, "%s: scale_attn_by_inverse_layer_idx=true is not supported", c->path);
    return 0;
}

static double num_or(const cJSON *o, const char *name, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* rope_scaling (transformers < 4.52) or rope_parameters (newer): type and factors. */
static int read_rope(Cfg *c, SkModelConfig *cfg) {
    SkRopeConfig *r = &cfg->rope;
    r->dim = cfg->head_dim;
    r->theta = 10000.0;
    r->max_pos = cfg->max_seq;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(c->root, "rope_parameters");
    const cJSON *scaling = cJSON_GetObjectItemCaseSensitive(c->root, "rope_scaling");
    const cJSON *theta = cJSON_GetObjectItemCaseSensitive(c->root, "rope_theta");
    if (cJSON_IsObject(params) && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(params, "rope_theta")))
        theta = cJSON_GetObjectItemCaseSensitive(params, "rope_theta");
    if (theta && !cJSON_IsNull(theta)) {
        if (!cJSON_IsNumber(theta) || !(theta->valuedouble > 0))
            return sk_err(c->err, "%s: field rope_theta must be a positive number", c->path);
        r->theta = theta->valuedouble;
    }
    const cJSON *s = cJSON_IsObject(scaling) ? scaling : cJSON_IsObject(params) ? params : NULL;
    if (!s) return 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "rope_type");
    if (!cJSON_IsString(t)) t = cJSON_GetObjectItemCaseSensitive(s, "type");
    const char *type = cJSON_IsString(t) ? t->valuestring : "default";
    r->factor = num_or(s, "factor", 1.0);
    if (!strcmp(type, "default")) {
        r->type = SK_ROPE_DEFAULT;
    } else if (!strcmp(type, "linear")) {
        r->type = SK_ROPE_LINEAR;
    } else if (!strcmp(type, "dynamic")) {
        r->type = SK_ROPE_DYNAMIC;
    } else if (!strcmp(type, "llama3")) {
        r->type = SK_ROPE_LLAMA3;
        r->low_freq_factor = num_or(s, "low_freq_factor", 1.0);
        r->high_freq_factor = num_or(s, "high_freq_factor", 4.0);
        r->original_max = (int)num_or(s, "original_max_position_embeddings", 8192);
        if (!(r->high_freq_factor > r->low_freq_factor) || r->original_max < 1)
            return sk_err(c->err, "%s: rope scaling llama3 needs high_freq_factor > low_freq_factor and "
                                  "original_max_position_embeddings >= 1", c->path);
    } else {
        return sk_err(c->err, "%s: rope scaling type \"%s\" is not supported (default, linear, dynamic, llama3)",
                      c->path, type);
    }
    if (!(r->factor > 0)) return sk_err(c->err, "%s: rope scaling factor must be positive", c->path);
    const cJSON *partial = cJSON_GetObjectItemCaseSensitive(c->root, "partial_rotary_factor");
    if (cJSON_IsNumber(partial)) r->dim = 2 * (int)(cfg->head_dim * partial->valuedouble / 2);
    return 0;
}

/* Llama, Mistral, Qwen2 (and SmolLM, TinyLlama: model_type llama). */
/* Sliding-window attention: Mistral's sliding_window (every layer; null: none); Qwen2's when
 * use_sliding_window, on layers from max_window_layers on (transformers' layer_types, when
 * given, must say the same). */
static int read_window(Cfg *c, SkModelConfig *cfg, bool mistral, bool qwen2) {
    static const char *window[] = {"sliding_window", NULL}, *max_window[] = {"max_window_layers", NULL};
    bool use = mistral;
    if (qwen2 && get_bool(c, "use_sliding_window", &use, false)) return -1;
    if (!use) return 0;
    if (get_int(c, window, &cfg->sliding_window, false, 0, 1)) return -1;
    if (qwen2 && get_int(c, max_window, &cfg->window_from_layer, false, 28, 0)) return -1; /* Qwen2Config default */
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(c->root, "layer_types");
    int i = 0;
    for (const cJSON *t = cJSON_IsArray(types) ? types->child : NULL; t; t = t->next, i++) {
        bool sliding = cJSON_IsString(t) && !strcmp(t->valuestring, "sliding_attention");
        if (cfg->sliding_window && sliding != (i >= cfg->window_from_layer))
            return sk_err(c->err, "%s: layer_types puts sliding attention on layers other than %d and after, which is "
                                  "not supported", c->path, cfg->window_from_layer);
    }
    return 0;
}

static int read_llama(Cfg *c, SkModelConfig *cfg, bool mistral, bool qwen2) {
    static const char *hidden[] = {"hidden_size", NULL};
    static const char *layers[] = {"num_hidden_layers", NULL};
    static const char *heads[] = {"num_attention_heads", NULL};
    static const char *kv_heads[] = {"num_key_value_heads", NULL};
    static const char *head_dim[] = {"head_dim", NULL};
    static const char *ff[] = {"intermediate_size", NULL};
    static const char *vocab[] = {"vocab_size", NULL};
    static const char *n_pos[] = {"max_position_embeddings", NULL};
    if (get_int(c, hidden, &cfg->d_model, true, 0, 1) || get_int(c, layers, &cfg->n_layer, true, 0, 1) ||
        get_int(c, heads, &cfg->n_head, true, 0, 1) || get_int(c, ff, &cfg->d_ff, true, 0, 1) ||
        get_int(c, vocab, &cfg->vocab_size, true, 0, 1) || get_int(c, n_pos, &cfg->max_seq, false, 2048, 1) ||
        get_int(c, kv_heads, &cfg->n_kv_head, false, cfg->n_head, 1))
        return -1;
    if (cfg->d_model % cfg->n_head != 0 && !cJSON_GetObjectItemCaseSensitive(c->root, "head_dim"))
        return sk_err(c->err, "%s: hidden_size %d is not divisible by num_attention_heads %d (and no head_dim)",
                      c->path, cfg->d_model, cfg->n_head);
    if (get_int(c, head_dim, &cfg->head_dim, false, cfg->d_model / cfg->n_head, 2)) return -1;
    if (cfg->n_head % cfg->n_kv_head != 0)
        return sk_err(c->err, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", c->path,
                      cfg->n_head, cfg->n_kv_head);
    if (get_float(c, "rms_norm_eps", &cfg->norm_eps, 1e-6f)) return -1;
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(c->root, "hidden_act");
    if (cJSON_IsString(act) && strcmp(act->valuestring, "silu") != 0)
        return sk_err(c->err, "%s: hidden_act \"%s\" is not supported (silu)", c->path, act->valuestring);
    bool attention_bias = false;
    if (get_bool(c, "tie_word_embeddings", &cfg->tie_embeddings, false) ||
        get_bool(c, "attention_bias", &attention_bias, false) || get_bool(c, "mlp_bias", &cfg->mlp_bias, false))
        return -1;
    cfg->qkv_bias = qwen2 || attention_bias; /* Qwen2: q/k/v biases, none on o_proj */
    cfg->o_bias = !qwen2 && attention_bias;
    cfg->activation = SK_ACT_RELU; /* unused: the MLP is SwiGLU */
    return read_window(c, cfg, mistral, qwen2) || read_rope(c, cfg) ? -1 : 0;
}

int sk_hfconfig_read(const char *dir, SkModelConfig *cfg, const SkArch **arch, SkError *err) {
    char path[2048];
    if (sk_path_join(path, sizeof path, dir, "config.json", err) != 0) return -1;
    cJSON *root;
    if (sk_json_load(path, &root, err) != 0) return -1;
    Cfg c = {.path = path, .root = root, .err = err};
    memset(cfg, 0, sizeof *cfg);
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        sk_err(err, "%s: not a JSON object", path);
        goto done;
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    const char *type = cJSON_IsString(mt) ? mt->valuestring : NULL;
    if (!type) {
        const cJSON *archs = cJSON_GetObjectItemCaseSensitive(root, "architectures");
        const cJSON *a0 = cJSON_IsArray(archs) ? cJSON_GetArrayItem(archs, 0) : NULL;
        if (cJSON_IsString(a0) && strncmp(a0->valuestring, "GPT2", 4) == 0) type = "gpt2";
    }
    if (!type) {
        sk_err(err, "%s: field model_type missing", path);
        goto done;
    }
    if (strcmp(type, "gpt2") == 0) {
        *arch = &sk_arch_gpt2;
        snprintf(cfg->arch, sizeof cfg->arch, "gpt2");
        rc = read_gpt2(&c, cfg);
    } else if (!strcmp(type, "llama") || !strcmp(type, "mistral") || !strcmp(type, "qwen2")) {
        *arch = &sk_arch_llama;
        snprintf(cfg->arch, sizeof cfg->arch, "llama");
        rc = read_llama(&c, cfg, !strcmp(type, "mistral"), !strcmp(type, "qwen2"));
    } else {
        sk_err(err, "%s: model_type \"%s\" is not supported (supported: gpt2, llama, mistral, qwen2)", path, type);
    }
done:
    cJSON_Delete(root);
    return rc;
}
