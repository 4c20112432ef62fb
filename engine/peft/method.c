/* method.c - what all methods share: configuration (defaults, JSON), the tensor
 * registry, hook buffers, the prompt's frozen states, and dispatch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peft/method_internal.h"

static const char *NAMES[SK_M_COUNT] = {"sk_prefix", "sk_prompt", "prefix_tuning", "p_tuning_v2",
                                        "prompt_tuning", "p_tuning", "lora", "head_only", "full"};
static const char *ADAPTERS[] = {"lowrank", "linear", "mlp", "none"};
static const char *INITS[] = {"random", "vocab", "text"};
/* LoRA targets as configs name them: GPT-2's module names for the four shared slots
 * (Llama's o_proj, gate_proj, down_proj are accepted for them), then Llama's own. */
static const char *const PROJ_NAMES[SK_PROJ_COUNT] = {"c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj",
                                                "q_proj", "k_proj", "v_proj", "up_proj"};
static const char *const PROJ_ALIASES[4] = {"qkv", "o_proj", "gate_proj", "down_proj"};

const char *sk_lora_target_name(SkProj p) { return p < SK_PROJ_COUNT ? PROJ_NAMES[p] : "?"; }

const char *sk_method_name(SkMethodKind k) { return k < SK_M_COUNT ? NAMES[k] : "?"; }

int sk_method_kind_parse(const char *name, SkMethodKind *out) {
    for (int i = 0; i < SK_M_COUNT; i++)
        if (!strcmp(name, NAMES[i])) {
            *out = (SkMethodKind)i;
            return 0;
        }
    return -1;
}

float sk_method_default_lr(SkMethodKind kind) {
    switch (kind) {
    case SK_M_SK_PROMPT: return 3e-2f;
    case SK_M_PREFIX_TUNING: return 3e-4f;
    case SK_M_FULL: return 1e-4f;
    default: return 1e-2f; /* sk_prefix, p_tuning_v2, prompt_tuning, p_tuning, lora, head_only */
    }
}

void sk_method_config_default(SkMethodConfig *c, SkMethodKind kind) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->adapter = SK_ADAPTER_LOWRANK;
    c->rank = 8;
    c->init = SK_INIT_RANDOM;
    c->projection = kind == SK_M_PREFIX_TUNING;
    c->hidden = 0; /* method default */
    c->lora_targets = 0; /* the architecture's default (PEFT's) */
    c->lora_rank = 8;
    c->lora_alpha = 8.0f;
    c->lora_dropout = 0.0f;
    c->seed = 1;
}

cJSON *sk_method_config_to_json(const SkMethodConfig *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "method", NAMES[c->kind]);
    cJSON_AddStringToObject(j, "prompt", c->prompt);
    cJSON_AddNumberToObject(j, "n_virtual", c->n_virtual);
    cJSON_AddStringToObject(j, "adapter", ADAPTERS[c->adapter]);
    cJSON_AddNumberToObject(j, "rank", c->rank);
    cJSON_AddStringToObject(j, "mode", c->live ? "live" : "cached");
    cJSON_AddNumberToObject(j, "source_layer", c->source_layer);
    cJSON_AddStringToObject(j, "init", INITS[c->init]);
    cJSON_AddBoolToObject(j, "projection", c->projection);
    cJSON_AddNumberToObject(j, "hidden", c->hidden);
    cJSON *t = cJSON_CreateArray();
    for (int p = 0; p < SK_PROJ_COUNT; p++)
        if (c->lora_targets & (1 << p)) cJSON_AddItemToArray(t, cJSON_CreateString(PROJ_NAMES[p]));
    if (!c->lora_targets) cJSON_AddItemToArray(t, cJSON_CreateString("default"));
    cJSON_AddItemToObject(j, "targets", t);
    cJSON_AddNumberToObject(j, "lora_rank", c->lora_rank);
    cJSON_AddNumberToObject(j, "alpha", c->lora_alpha);
    cJSON_AddNumberToObject(j, "dropout", c->lora_dropout);
    cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    return j;
}

static int pick(const char *s, const char *const *names, int n, int *out) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) {
            *out = i;
            return 0;
        }
    return -1;
}

int sk_method_config_from_json(const cJSON *j, SkMethodConfig *c, SkError *err) {
    const cJSON *mname = cJSON_GetObjectItemCaseSensitive(j, "method");
    SkMethodKind kind;
    if (!cJSON_IsString(mname) || sk_method_kind_parse(mname->valuestring, &kind) != 0)
        return sk_err(err, "method: unknown or missing method name");
    sk_method_config_default(c, kind);
    for (const cJSON *e = j->child; e; e = e->next) {
        const char *k = e->string;
        int v;
        if (!strcmp(k, "method")) continue;
#define NEED(cond, what) \
    if (!(cond)) return sk_err(err, "%s option %s: expected %s", NAMES[kind], k, what)
        if (!strcmp(k, "prompt")) {
            NEED(cJSON_IsString(e), "a string");
            if (strlen(e->valuestring) >= sizeof c->prompt)
                return sk_err(err, "%s option prompt: longer than %zu bytes", NAMES[kind], sizeof c->prompt - 1);
            strcpy(c->prompt, e->valuestring);
        } else if (!strcmp(k, "n_virtual") || !strcmp(k, "num_virtual_tokens")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble <= 4096, "an integer 0..4096");
            c->n_virtual = (int)e->valuedouble;
        } else if (!strcmp(k, "adapter")) {
            NEED(cJSON_IsString(e) && pick(e->valuestring, ADAPTERS, 4, &v) == 0,
                 "lowrank, linear, mlp or none");
            c->adapter = (SkAdapterKind)v;
        } else if (!strcmp(k, "rank")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble >= 1 && e->valuedouble <= 4096, "an integer >= 1");
            c->rank = (int)e->valuedouble;
        } else if (!strcmp(k, "mode")) {
            NEED(cJSON_IsString(e) && (!strcmp(e->valuestring, "cached") || !strcmp(e->valuestring, "live")),
                 "\"cached\" or \"live\"");
            c->live = !strcmp(e->valuestring, "live");
        } else if (!strcmp(k, "source_layer")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble <= 1000, "an integer >= 0");
            c->source_layer = (int)e->valuedouble;
        } else if (!strcmp(k, "init")) {
            NEED(cJSON_IsString(e) && pick(e->valuestring, INITS, 3, &v) == 0, "random, vocab or text");
            c->init = (SkPromptInit)v;
        } else if (!strcmp(k, "projection")) {
            NEED(cJSON_IsBool(e), "true or false");
            c->projection = cJSON_IsTrue(e);
        } else if (!strcmp(k, "hidden")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble <= 65536, "an integer >= 0");
            c->hidden = (int)e->valuedouble;
        } else if (!strcmp(k, "targets")) {
            NEED(cJSON_IsArray(e) && cJSON_GetArraySize(e) > 0, "a non-empty list of projection names");
            c->lora_targets = 0;
            for (const cJSON *t = e->child; t; t = t->next) {
                bool dflt = cJSON_IsString(t) && !strcmp(t->valuestring, "default");
                NEED(cJSON_IsString(t) && (dflt || pick(t->valuestring, PROJ_NAMES, SK_PROJ_COUNT, &v) == 0 ||
                                           pick(t->valuestring, PROJ_ALIASES, 4, &v) == 0),
                     "\"default\" or names among c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj (GPT-2), q_proj, k_proj, "
                     "v_proj, o_proj, gate_proj, up_proj, down_proj (Llama)");
                if (!dflt) c->lora_targets |= 1 << v;
            }
        } else if (!strcmp(k, "lora_rank") || !strcmp(k, "r")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble >= 1 && e->valuedouble <= 4096, "an integer >= 1");
            c->lora_rank = (int)e->valuedouble;
        } else if (!strcmp(k, "alpha")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble > 0, "a positive number");
            c->lora_alpha = (float)e->valuedouble;
        } else if (!strcmp(k, "dropout")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < 1, "a number in [0, 1)");
            c->lora_dropout = (float)e->valuedouble;
        } else if (!strcmp(k, "seed")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble >= 0, "a non-negative integer");
            c->seed = (uint64_t)e->valuedouble;
        } else {
            return sk_err(err, "%s: unknown option \"%s\"", NAMES[kind], k);
        }
#undef NEED
    }
    if (kind == SK_M_LORA && c->lora_rank > 0 && c->rank != 8 && c->lora_rank == 8) c->lora_rank = c->rank;
    return 0;
}

/* ---- registry and buffers ------------------------------------------------------------ */

SkTrainable *sk_method_add(SkMethod *me, const char *name, int ndim, int64_t rows, int64_t cols,
                           bool decay) {
    /* the registry is allocated once (sk_method_new) and never moves, so methods may
     * keep pointers to their tensors */
    if (me->n_tr == me->cap_tr) return NULL;
    SkTrainable *t = &me->tr[me->n_tr];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = rows;
    t->shape[1] = ndim > 1 ? cols : 1;
    t->numel = (size_t)rows * (size_t)(ndim > 1 ? cols : 1);
    t->decay = decay;
    t->w = calloc(t->numel, sizeof(float));
    t->g = calloc(t->numel, sizeof(float));
    if (!t->w || !t->g) {
        free(t->w), free(t->g);
        return NULL;
    }
    me->n_tr++;
    return t;
}

static void **alloc_ptrs(int n) { return calloc((size_t)n, sizeof(void *)); }

int sk_method_alloc_prefix(SkMethod *me, int n, SkError *err) {
    const SkModelConfig *c = sk_model_config(me->model);
    int L = c->n_layer;
    size_t kv = (size_t)c->n_kv_head * c->head_dim;
    me->n_prefix = n;
    me->pk = (float **)alloc_ptrs(L), me->pv = (float **)alloc_ptrs(L);
    me->dpk = (float **)alloc_ptrs(L), me->dpv = (float **)alloc_ptrs(L);
    if (!me->pk || !me->pv || !me->dpk || !me->dpv) return sk_err(err, "out of memory");
    for (int l = 0; l < L; l++) {
        me->pk[l] = calloc((size_t)n * kv, sizeof(float));
        me->pv[l] = calloc((size_t)n * kv, sizeof(float));
        me->dpk[l] = calloc((size_t)n * kv, sizeof(float));
        me->dpv[l] = calloc((size_t)n * kv, sizeof(float));
        if (!me->pk[l] || !me->pv[l] || !me->dpk[l] || !me->dpv[l]) return sk_err(err, "out of memory");
    }
    me->pos_offset = n;
    return 0;
}

int sk_method_alloc_embed(SkMethod *me, int n, SkError *err) {
    size_t d = (size_t)sk_model_config(me->model)->d_model;
    me->n_embed = n;
    me->embed = calloc((size_t)n * d, sizeof(float));
    me->d_embed = calloc((size_t)n * d, sizeof(float));
    if (!me->embed || !me->d_embed) return sk_err(err, "out of memory");
    return 0;
}

int sk_method_prompt_states(SkMethod *me, float **states, int n_states, SkError *err) {
    int m = me->prompt_ids.n, d = sk_model_config(me->model)->d_model;
    if (m == 0) return sk_err(err, "%s: the semantic prompt is empty", NAMES[me->cfg.kind]);
    SkActs *a;
    SkActsShape shape = {.B = 1, .T = m};
    if (sk_acts_new(me->model, &shape, &a, err) != 0) return -1;
    SkBatch b = {.B = 1, .T = m, .ids = me->prompt_ids.ids};
    int rc = sk_model_forward(me->model, a, &b, NULL, err);
    for (int l = 0; rc == 0 && l < n_states; l++)
        memcpy(states[l], sk_acts_block_input(me->model, a, l), (size_t)m * d * sizeof(float));
    sk_acts_free(a);
    return rc;
}

void sk_init_kaiming_uniform(SkRng *r, float *w, size_t n, int fan_in) {
    float bound = 1.0f / sqrtf((float)fan_in);
    for (size_t i = 0; i < n; i++) w[i] = (float)(2.0 * sk_rng_uniform(r) - 1.0) * bound;
}

void sk_init_normal(SkRng *r, float *w, size_t n, float std) {
    for (size_t i = 0; i < n; i++) w[i] = std * sk_rng_normal(r);
}

/* ---- dispatch -------------------------------------------------------------------------- */

static const SkMethodOps *ops_for(SkMethodKind k) {
    switch (k) {
    case SK_M_SK_PREFIX: return &sk_ops_sk_prefix;
    case SK_M_SK_PROMPT: return &sk_ops_sk_prompt;
    case SK_M_PREFIX_TUNING:
    case SK_M_P_TUNING_V2: return &sk_ops_prefix_tuning;
    case SK_M_PROMPT_TUNING: return &sk_ops_prompt_tuning;
    case SK_M_P_TUNING: return &sk_ops_p_tuning;
    case SK_M_LORA: return &sk_ops_lora;
    case SK_M_HEAD_ONLY: return &sk_ops_head_only;
    case SK_M_FULL: return &sk_ops_full;
    default: return NULL;
    }
}

static int tokenize_prompt(SkMethod *me, SkError *err) {
    me->prompt_ids.n = 0;
    if (!me->cfg.prompt[0]) return 0;
    if (!me->tok) return sk_err(err, "%s: a prompt needs the model's tokenizer", NAMES[me->cfg.kind]);
    if (sk_tokenizer_encode(me->tok, me->cfg.prompt, strlen(me->cfg.prompt), true, &me->prompt_ids, err) != 0)
        return -1;
    int max = sk_model_config(me->model)->max_seq;
    if (me->prompt_ids.n >= max)
        return sk_err(err, "the prompt is %d tokens; the model has %d positions", me->prompt_ids.n, max);
    return 0;
}

int sk_method_new(SkModel *m, SkTokenizer *tok, const SkMethodConfig *cfg, SkMethod **out,
                  SkError *err) {
    SkMethod *me = calloc(1, sizeof *me);
    if (!me) return sk_err(err, "out of memory");
    me->cfg = *cfg;
    me->model = m;
    me->tok = tok;
    me->ops = ops_for(cfg->kind);
    sk_rng_seed(&me->rng, cfg->seed ^ 0x5eedULL);
    /* room for every tensor any method makes: at most 16 per layer, plus a few */
    me->cap_tr = 16 * sk_model_config(m)->n_layer + 64;
    me->tr = calloc((size_t)me->cap_tr, sizeof *me->tr);
    if (!me->tr) {
        free(me);
        return sk_err(err, "out of memory");
    }
    if (!me->ops) {
        free(me);
        return sk_err(err, "unknown method");
    }
    if (tokenize_prompt(me, err) != 0 || me->ops->init(me, err) != 0) {
        sk_method_free(me);
        return -1;
    }
    *out = me;
    return 0;
}

void sk_method_free(SkMethod *me) {
    if (!me) return;
    if (me->ops && me->ops->release) me->ops->release(me);
    if (me->cfg.kind != SK_M_FULL)
        for (int i = 0; i < me->n_tr; i++) free(me->tr[i].w), free(me->tr[i].g);
    free(me->tr);
    sk_ids_free(&me->prompt_ids);
    free(me->embed), free(me->d_embed);
    int L = sk_model_config(me->model)->n_layer;
    for (int l = 0; l < L; l++) {
        if (me->pk) free(me->pk[l]);
        if (me->pv) free(me->pv[l]);
        if (me->dpk) free(me->dpk[l]);
        if (me->dpv) free(me->dpv[l]);
    }
    free(me->pk), free(me->pv), free(me->dpk), free(me->dpv);
    free(me->lora);
    free(me);
}

const SkMethodConfig *sk_method_config(const SkMethod *me) { return &me->cfg; }

SkModel *sk_method_model(const SkMethod *me) {
    return me->cfg.kind == SK_M_FULL && me->impl ? (SkModel *)me->impl : me->model;
}
const char *sk_method_describe(const SkMethod *me) { return me->desc; }

int sk_method_trainables(SkMethod *me, SkTrainable **list) {
    *list = me->tr;
    return me->n_tr;
}

int64_t sk_method_n_params(const SkMethod *me) {
    int64_t n = 0;
    for (int i = 0; i < me->n_tr; i++) n += (int64_t)me->tr[i].numel;
    return n;
}

const int32_t *sk_method_literal_prompt(const SkMethod *me, int *n) {
    SkMethodKind k = me->cfg.kind;
    bool literal = k == SK_M_LORA || k == SK_M_HEAD_ONLY || k == SK_M_FULL;
    *n = literal ? me->prompt_ids.n : 0;
    return *n ? me->prompt_ids.ids : NULL;
}

bool sk_method_input_special(const SkMethod *me) {
    int n;
    bool text_before = me->cfg.kind == SK_M_SK_PREFIX || me->cfg.kind == SK_M_SK_PROMPT ||
                       sk_method_literal_prompt(me, &n) != NULL;
    return !text_before;
}

void sk_method_shape(const SkMethod *me, SkActsShape *shape) {
    shape->n_embed = me->n_embed;
    shape->n_prefix = me->n_prefix;
    shape->lora_rank = me->lora_rank;
    shape->lora_dropout = me->cfg.kind == SK_M_LORA && me->cfg.lora_dropout > 0;
}

int sk_method_forward(SkMethod *me, SkHooks *h, SkError *err) {
    memset(h, 0, sizeof *h);
    if (me->ops->forward && me->ops->forward(me, err) != 0) return -1;
    const SkModelConfig *c = sk_model_config(me->model);
    size_t d = (size_t)c->d_model, kv = (size_t)c->n_kv_head * c->head_dim;
    h->n_embed = me->n_embed;
    h->embed = me->embed;
    h->d_embed = me->d_embed;
    if (me->d_embed) memset(me->d_embed, 0, (size_t)me->n_embed * d * sizeof(float));
    h->n_prefix = me->n_prefix;
    h->prefix_k = me->pk;
    h->prefix_v = me->pv;
    h->d_prefix_k = me->dpk;
    h->d_prefix_v = me->dpv;
    for (int l = 0; me->dpk && l < c->n_layer; l++) {
        memset(me->dpk[l], 0, (size_t)me->n_prefix * kv * sizeof(float));
        memset(me->dpv[l], 0, (size_t)me->n_prefix * kv * sizeof(float));
    }
    h->pos_offset = me->pos_offset;
    h->lora = me->lora;
    return 0;
}

bool sk_method_needs_backward(const SkMethod *me) { return me->cfg.kind != SK_M_HEAD_ONLY; }

void sk_method_backward(SkMethod *me, SkHooks *h) {
    (void)h;
    if (me->ops->backward) me->ops->backward(me);
}

void sk_method_set_training(SkMethod *me, bool training, uint64_t step_seed) {
    me->training = training;
    sk_rng_seed(&me->rng, me->cfg.seed * 1000003ULL + step_seed);
}

int sk_method_set_prompt(SkMethod *me, const char *prompt, SkError *err) {
    if (strlen(prompt) >= sizeof me->cfg.prompt) return sk_err(err, "prompt too long");
    if (!me->ops->prompt_changed)
        return sk_err(err, "%s: changing the prompt needs a new method", NAMES[me->cfg.kind]);
    strcpy(me->cfg.prompt, prompt);
    if (tokenize_prompt(me, err) != 0) return -1;
    return me->ops->prompt_changed(me, err);
}

/* ---- the two methods with nothing of their own --------------------------------------- */

static int head_only_init(SkMethod *me, SkError *err) {
    (void)err;
    snprintf(me->desc, sizeof me->desc, "head_only: trains the head alone on the frozen model%s",
             me->prompt_ids.n ? " (prompt text placed before the input)" : "");
    return 0;
}

const SkMethodOps sk_ops_head_only = {.init = head_only_init};

static int full_init(SkMethod *me, SkError *err) {
    SkModel *own;
    if (sk_model_clone(me->model, &own, err) != 0) return -1;
    me->impl = own;
    if (sk_model_set_trainable(own, NULL, true, err) != 0) return -1;
    SkParam *ps;
    int n = sk_model_params(own, &ps);
    for (int i = 0; i < n; i++) {
        if (me->n_tr == me->cap_tr) return sk_err(err, "full: more parameters than the registry holds");
        SkTrainable *t = &me->tr[me->n_tr++];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "model.%.80s", ps[i].name);
        t->w = ps[i].w, t->g = ps[i].g, t->numel = ps[i].numel;
        t->ndim = ps[i].ndim > 2 ? 2 : ps[i].ndim;
        t->shape[0] = ps[i].shape[0];
        t->shape[1] = ps[i].ndim > 1 ? (int64_t)(ps[i].numel / (size_t)ps[i].shape[0]) : 1;
        t->decay = ps[i].ndim >= 2;
    }
    snprintf(me->desc, sizeof me->desc,
             "full: trains every weight of (a copy of) the model and the head");
    return 0;
}

static void full_release(SkMethod *me) {
    sk_model_free(me->impl);
    me->impl = NULL;
}

const SkMethodOps sk_ops_full = {.init = full_init, .release = full_release};
