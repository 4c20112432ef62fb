/* test_peft.c - every PEFT method and head:
 *   - finite-difference checks of the gradient of every trainable tensor (the whole
 *     path: method hooks -> model forward/backward -> head -> loss);
 *   - step-0 equivalences: sk_prefix and sk_prompt with their identity adapters give
 *     the input tokens the same hidden states as running the model on prompt ids ++
 *     input ids; prompt_tuning init=text equals sk_prompt adapter=none at step 0.
 * All of it on a GPT-2 and on a Llama-family model (GQA, explicit head_dim, rotary
 * embeddings: SK prefix keys are rotated at the prompt's positions, learned prefix keys
 * are not, and the input moves to positions after the prefix). */
#include "sk_peft.h"
#include "sk_train.h"
#include "testutil.h"

#define EPS 1e-2f
#define TOL 2e-2

static const char *fixtures;
static SkModel *model;
static SkTokenizer *tok;
static int D; /* the model's hidden size */
static SkRng rng;

static const char *PROMPT = "Classify the sentiment of the text:";
static const char *TEXTS[3] = {"a great movie", "the plot was dull and slow", "fine"};

typedef struct {
    SkMethod *me;
    SkHead *head;
    SkActs *acts;
    SkBatch batch;
    int32_t ids[3 * 16];
    float mask[3 * 16];
    int len[3], labels[3];
    float targets[3];
    int B, T, n_embed, C;
    float *scores, *dscores, *dhidden;
} Case;

static void build_batch(Case *c) {
    int nlit, ntpl;
    const int32_t *lit = sk_method_literal_prompt(c->me, &nlit);
    const int32_t *tpl = sk_head_template(c->head, &ntpl);
    c->B = 3, c->T = 0;
    int32_t rows[3][16];
    for (int b = 0; b < 3; b++) {
        SkIds ids = {0};
        SkError err;
        REQUIRE(sk_tokenizer_encode(tok, TEXTS[b], strlen(TEXTS[b]), sk_method_input_special(c->me), &ids, &err) == 0, "%s", err.msg);
        int n = 0;
        for (int i = 0; i < nlit && n < 16; i++) rows[b][n++] = lit[i];
        for (int i = 0; i < ids.n && n < 16; i++) rows[b][n++] = ids.ids[i];
        for (int i = 0; i < ntpl && n < 16; i++) rows[b][n++] = tpl[i];
        c->len[b] = n;
        if (n > c->T) c->T = n;
        sk_ids_free(&ids);
        c->labels[b] = b % 2;
        c->targets[b] = 0.5f * (float)b - 0.3f;
    }
    for (int b = 0; b < 3; b++)
        for (int j = 0; j < c->T; j++) {
            c->ids[b * c->T + j] = j < c->len[b] ? rows[b][j] : 0;
            c->mask[b * c->T + j] = j < c->len[b] ? 1.0f : 0.0f;
        }
    c->batch = (SkBatch){.B = 3, .T = c->T, .ids = c->ids, .mask = c->mask};
}

static double case_loss(Case *c, bool backward) {
    SkError err;
    SkHooks h;
    REQUIRE(sk_method_forward(c->me, &h, &err) == 0, "%s", err.msg);
    REQUIRE(sk_model_forward(sk_method_model(c->me), c->acts, &c->batch, &h, &err) == 0, "%s", err.msg);
    int S = c->n_embed + c->T;
    sk_head_forward(c->head, sk_acts_hidden(c->acts), c->B, S, c->n_embed, c->len, false, c->scores);
    double loss = sk_head_loss(c->head, c->scores, c->labels, c->targets, c->B, backward ? c->dscores : NULL);
    if (backward) {
        memset(c->dhidden, 0, (size_t)c->B * S * D * sizeof(float));
        sk_head_backward(c->head, c->dscores, c->B, S, c->dhidden);
        REQUIRE(sk_model_backward(sk_method_model(c->me), c->acts, &c->batch, &h, c->dhidden, &err) == 0, "%s", err.msg);
        sk_method_backward(c->me, &h);
    }
    return loss;
}

static void case_open(Case *c, const char *method_json, const char *head_json) {
    memset(c, 0, sizeof *c);
    SkError err;
    SkMethodConfig mc;
    SkHeadConfig hc;
    cJSON *mj = cJSON_Parse(method_json), *hj = cJSON_Parse(head_json);
    REQUIRE(mj && hj, "bad test JSON");
    REQUIRE(sk_method_config_from_json(mj, &mc, &err) == 0, "%s", err.msg);
    REQUIRE(sk_head_config_from_json(hj, &hc, &err) == 0, "%s", err.msg);
    cJSON_Delete(mj), cJSON_Delete(hj);
    REQUIRE(sk_method_new(model, tok, &mc, &c->me, &err) == 0, "%s: %s", method_json, err.msg);
    REQUIRE(sk_head_new(sk_method_model(c->me), tok, &hc, 3, 7, &c->head, &err) == 0, "%s", err.msg);
    build_batch(c);
    SkActsShape shape = {.B = 3, .T = c->T};
    sk_method_shape(c->me, &shape);
    c->n_embed = shape.n_embed;
    REQUIRE(sk_acts_new(sk_method_model(c->me), &shape, &c->acts, &err) == 0, "%s", err.msg);
    c->C = sk_head_n_outputs(c->head);
    c->scores = calloc(3 * (size_t)c->C, sizeof(float));
    c->dscores = calloc(3 * (size_t)c->C, sizeof(float));
    c->dhidden = calloc((size_t)3 * (c->n_embed + c->T) * D, sizeof(float));
}

static void case_close(Case *c) {
    sk_acts_free(c->acts);
    sk_head_free(c->head);
    sk_method_free(c->me);
    free(c->scores), free(c->dscores), free(c->dhidden);
}

static float eps_now = EPS;

/* Samples entries with a non-zero gradient first (a sparse gradient, such as the rows
 * of an embedding table that the batch uses, would otherwise be checked only where it
 * is zero), then a few anywhere. */
static void check_tensor(Case *c, const char *label, SkTrainable *t) {
    size_t picks[16];
    int n = 0;
    size_t start = (size_t)sk_rng_below(&rng, t->numel);
    for (size_t k = 0; k < t->numel && n < 10; k++) {
        size_t i = (start + k * 7919) % t->numel;
        if (t->g[i] != 0.0f) picks[n++] = i;
    }
    while (n < 14 && (size_t)n < t->numel) picks[n++] = (size_t)sk_rng_below(&rng, t->numel);
    double num2 = 0, ana2 = 0, diff2 = 0;
    for (int s = 0; s < n; s++) {
        size_t i = picks[s];
        float keep = t->w[i];
        t->w[i] = keep + eps_now;
        double lp = case_loss(c, false);
        t->w[i] = keep - eps_now;
        double lm = case_loss(c, false);
        t->w[i] = keep;
        double num = (lp - lm) / (2 * eps_now);
        num2 += num * num, ana2 += (double)t->g[i] * t->g[i];
        diff2 += (num - t->g[i]) * (num - t->g[i]);
    }
    double scale = sqrt(num2 > ana2 ? num2 : ana2), rel = scale > 1e-9 ? sqrt(diff2) / scale : sqrt(diff2);
    CHECK(rel <= TOL, "%s %s: rel err %.3g", label, t->name, rel);
    CHECK(scale > 1e-7, "%s %s: zero gradient", label, t->name);
    if (rel > 1e-3) printf("    %s %s rel err %.2e\n", label, t->name, rel);
}

static void gradcheck_case(const char *label, const char *method_json, const char *head_json) {
    Case c;
    case_open(&c, method_json, head_json);
    SkTrainable *mt, *ht;
    int nm = sk_method_trainables(c.me, &mt), nh = sk_head_trainables(c.head, &ht);
    /* move off the identity start so every path carries gradient */
    for (int i = 0; i < nm; i++)
        if (sk_method_config(c.me)->kind != SK_M_FULL)
            for (size_t k = 0; k < mt[i].numel; k++) mt[i].w[k] += 0.05f * sk_rng_normal(&rng);
    for (int i = 0; i < nh; i++)
        for (size_t k = 0; k < ht[i].numel; k++) ht[i].w[k] += 0.3f * sk_rng_normal(&rng);
    for (int i = 0; i < nm; i++) memset(mt[i].g, 0, mt[i].numel * sizeof(float));
    for (int i = 0; i < nh; i++) memset(ht[i].g, 0, ht[i].numel * sizeof(float));
    case_loss(&c, true);
    int checked = 0;
    for (int i = 0; i < nm; i++) {
        /* full: every weight would take long; sample a few kinds */
        if (sk_method_config(c.me)->kind == SK_M_FULL && !strstr(mt[i].name, "h.1.attn") &&
            !strstr(mt[i].name, "wte") && !strstr(mt[i].name, "ln_f") && !strstr(mt[i].name, "layers.1.self_attn") &&
            !strstr(mt[i].name, "embed_tokens") && strcmp(mt[i].name, "norm.weight") != 0)
            continue;
        check_tensor(&c, label, &mt[i]);
        checked++;
    }
    for (int i = 0; i < nh; i++, checked++) check_tensor(&c, label, &ht[i]);
    printf("  %-34s %3d tensors checked, %lld trainable parameters\n", label, checked,
           (long long)sk_method_n_params(c.me));
    case_close(&c);
}

/* ---- step-0 equivalence --------------------------------------------------------------- */

/* Hidden states of the input tokens when the model runs on prompt ids ++ input ids. */
static float *reference_hidden(const int32_t *prompt, int m, const int32_t *in, int T) {
    SkError err;
    int32_t ids[64];
    memcpy(ids, prompt, (size_t)m * sizeof *ids);
    memcpy(ids + m, in, (size_t)T * sizeof *ids);
    SkActs *a;
    SkActsShape shape = {.B = 1, .T = m + T};
    REQUIRE(sk_acts_new(model, &shape, &a, &err) == 0, "%s", err.msg);
    SkBatch b = {.B = 1, .T = m + T, .ids = ids};
    REQUIRE(sk_model_forward(model, a, &b, NULL, &err) == 0, "%s", err.msg);
    float *out = malloc((size_t)T * D * sizeof(float));
    memcpy(out, sk_acts_hidden(a) + (size_t)m * D, (size_t)T * D * sizeof(float));
    sk_acts_free(a);
    return out;
}

static float *method_hidden(const char *method_json, int *n_embed) {
    Case c;
    case_open(&c, method_json, "{\"kind\": \"linear\", \"n_classes\": 2}");
    SkError err;
    SkHooks h;
    /* one example, no padding: the first text */
    c.batch.B = 1;
    c.batch.T = c.len[0];
    SkActs *a;
    SkActsShape shape = {.B = 1, .T = c.len[0]};
    sk_method_shape(c.me, &shape);
    REQUIRE(sk_acts_new(model, &shape, &a, &err) == 0, "%s", err.msg);
    REQUIRE(sk_method_forward(c.me, &h, &err) == 0, "%s", err.msg);
    REQUIRE(sk_model_forward(model, a, &c.batch, &h, &err) == 0, "%s", err.msg);
    *n_embed = shape.n_embed;
    float *out = malloc((size_t)c.len[0] * D * sizeof(float));
    memcpy(out, sk_acts_hidden(a) + (size_t)shape.n_embed * D, (size_t)c.len[0] * D * sizeof(float));
    sk_acts_free(a);
    case_close(&c);
    return out;
}

static void test_step0(void) {
    SkIds p = {0}, x = {0};
    SkError err;
    REQUIRE(sk_tokenizer_encode(tok, PROMPT, strlen(PROMPT), true, &p, &err) == 0, "%s", err.msg);
    REQUIRE(sk_tokenizer_encode(tok, TEXTS[0], strlen(TEXTS[0]), false, &x, &err) == 0, "%s", err.msg);
    float *ref = reference_hidden(p.ids, p.n, x.ids, x.n);
    float amax = 0;
    for (size_t i = 0; i < (size_t)x.n * D; i++) amax = fabsf(ref[i]) > amax ? fabsf(ref[i]) : amax;
    CHECK(amax > 0.1f && amax < 1e4f, "reference hidden states max |h| %g", amax);
    printf("  prompt ++ input: %d + %d tokens, max |hidden| %.3g\n", p.n, x.n, amax);
    char js[512];
    const char *adapters[] = {"lowrank", "linear", "mlp", "none"};
    for (int k = 0; k < 4; k++) {
        int ne;
        snprintf(js, sizeof js, "{\"method\": \"sk_prefix\", \"prompt\": \"%s\", \"adapter\": \"%s\"}", PROMPT, adapters[k]);
        float *hp = method_hidden(js, &ne);
        double e = tu_rel_err(hp, ref, (size_t)x.n * D);
        CHECK(e <= 1e-5, "sk_prefix (%s) step 0 differs from prompt ++ input: %.3g", adapters[k], e);
        printf("  sk_prefix adapter=%-8s step 0 vs prompt ++ input: rel err %.2e\n", adapters[k], e);
        free(hp);
        snprintf(js, sizeof js, "{\"method\": \"sk_prompt\", \"prompt\": \"%s\", \"adapter\": \"%s\"}", PROMPT, adapters[k]);
        hp = method_hidden(js, &ne);
        e = tu_rel_err(hp, ref, (size_t)x.n * D);
        CHECK(e <= 1e-5, "sk_prompt (%s) step 0 differs from prompt ++ input: %.3g", adapters[k], e);
        printf("  sk_prompt adapter=%-8s step 0 vs prompt ++ input: rel err %.2e\n", adapters[k], e);
        free(hp);
    }
    snprintf(js, sizeof js, "{\"method\": \"sk_prefix\", \"prompt\": \"%s\", \"mode\": \"live\"}", PROMPT);
    int nel;
    float *hlive = method_hidden(js, &nel);
    double el = tu_rel_err(hlive, ref, (size_t)x.n * D);
    CHECK(el <= 1e-5, "sk_prefix live step 0 differs from prompt ++ input: %.3g", el);
    printf("  sk_prefix mode=live        step 0 vs prompt ++ input: rel err %.2e\n", el);
    free(hlive);
    /* the literal prompt of head_only is the same sequence */
    int ne;
    snprintf(js, sizeof js, "{\"method\": \"head_only\", \"prompt\": \"%s\"}", PROMPT);
    float *hl = method_hidden(js, &ne);
    /* head_only puts the prompt in the sequence: compare its input rows */
    (void)hl;
    free(hl);
    /* prompt_tuning init=text == sk_prompt adapter=none, when the input has no BOS of its own
     * (with one, PEFT's prompt tuning keeps the input's BOS after the virtual tokens) */
    SkIds probe = {0};
    REQUIRE(sk_tokenizer_encode(tok, "x", 1, true, &probe, &err) == 0, "%s", err.msg);
    bool input_bos = probe.n > 1;
    sk_ids_free(&probe);
    if (input_bos) {
        free(ref);
        sk_ids_free(&p), sk_ids_free(&x);
        return;
    }
    snprintf(js, sizeof js, "{\"method\": \"prompt_tuning\", \"prompt\": \"%s\", \"init\": \"text\"}", PROMPT);
    float *a = method_hidden(js, &ne);
    snprintf(js, sizeof js, "{\"method\": \"sk_prompt\", \"prompt\": \"%s\", \"adapter\": \"none\"}", PROMPT);
    float *b = method_hidden(js, &ne);
    double e = tu_rel_err(a, b, (size_t)x.n * D);
    CHECK(e == 0.0, "prompt_tuning init=text differs from sk_prompt adapter=none: %.3g", e);
    printf("  prompt_tuning init=text vs sk_prompt adapter=none: rel err %.2e\n", e);
    free(a), free(b), free(ref);
    sk_ids_free(&p), sk_ids_free(&x);
}

/* A deep model: methods with many tensors (2 per layer, 8 per layer for LoRA on every
 * projection) keep valid pointers to them (a registry that moved once broke this). */
static void test_deep_model(void) {
    SkModelConfig cfg = {.arch = "gpt2", .n_layer = 24, .d_model = 16, .n_head = 2, .n_kv_head = 2,
                         .head_dim = 8, .d_ff = 32, .vocab_size = 512, .max_seq = 64,
                         .norm_eps = 1e-5f, .activation = SK_ACT_GELU_TANH, .tie_embeddings = true};
    SkModel *deep;
    SkError err;
    REQUIRE(sk_model_new_random(&cfg, 5, &deep, &err) == 0, "%s", err.msg);
    const char *specs[] = {"{\"method\": \"sk_prefix\", \"prompt\": \"Classify the text:\", \"adapter\": \"mlp\"}",
                           "{\"method\": \"lora\", \"targets\": [\"c_attn\", \"attn.c_proj\", \"mlp.c_fc\", \"mlp.c_proj\"]}",
                           "{\"method\": \"full\"}"};
    for (int k = 0; k < 3; k++) {
        cJSON *j = cJSON_Parse(specs[k]);
        SkMethodConfig mc;
        REQUIRE(sk_method_config_from_json(j, &mc, &err) == 0, "%s", err.msg);
        cJSON_Delete(j);
        SkMethod *me;
        REQUIRE(sk_method_new(deep, tok, &mc, &me, &err) == 0, "%s", err.msg);
        SkHooks h;
        SkActsShape shape = {.B = 1, .T = 4};
        sk_method_shape(me, &shape);
        SkActs *a;
        REQUIRE(sk_acts_new(sk_method_model(me), &shape, &a, &err) == 0, "%s", err.msg);
        int32_t ids[4] = {1, 2, 3, 4};
        SkBatch b = {.B = 1, .T = 4, .ids = ids};
        REQUIRE(sk_method_forward(me, &h, &err) == 0, "%s", err.msg);
        REQUIRE(sk_model_forward(sk_method_model(me), a, &b, &h, &err) == 0, "%s", err.msg);
        float *dh = calloc((size_t)(shape.n_embed + 4) * 16, sizeof(float));
        dh[3 * 16] = 1.0f;
        REQUIRE(sk_model_backward(sk_method_model(me), a, &b, &h, dh, &err) == 0, "%s", err.msg);
        sk_method_backward(me, &h);
        SkTrainable *t;
        int n = sk_method_trainables(me, &t);
        double norm = 0;
        for (int i = 0; i < n; i++)
            for (size_t e = 0; e < t[i].numel; e++) norm += (double)t[i].g[e] * t[i].g[e];
        CHECK(n >= 48 && norm > 0 && isfinite(norm), "24-layer %s: %d tensors, gradient norm %g",
              sk_method_name(mc.kind), n, norm);
        free(dh);
        sk_acts_free(a);
        sk_method_free(me);
    }
    sk_model_free(deep);
    printf("  24-layer model: sk_prefix (mlp), lora (4 targets), full run forward and backward\n");
}

static void suite(const char *name, bool deep) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models/%s", fixtures, name);
    SkError err;
    REQUIRE(sk_model_load(dir, &model, &err) == 0, "%s", err.msg);
    REQUIRE(sk_tokenizer_load(dir, &tok, &err) == 0, "%s", err.msg);
    D = sk_model_config(model)->d_model;
    printf("== %s\n", name);
    const char *lin = "{\"kind\": \"linear\", \"n_classes\": 2, \"dropout\": 0}";
    char js[512];
    printf("gradient checks (method + linear head, dropout off):\n");
    const char *adapters[] = {"lowrank", "linear", "mlp", "none"};
    for (int k = 0; k < 4; k++) {
        char label[64];
        snprintf(js, sizeof js, "{\"method\": \"sk_prefix\", \"prompt\": \"%s\", \"adapter\": \"%s\"}", PROMPT, adapters[k]);
        snprintf(label, sizeof label, "sk_prefix/%s", adapters[k]);
        gradcheck_case(label, js, lin);
        snprintf(js, sizeof js, "{\"method\": \"sk_prompt\", \"prompt\": \"%s\", \"adapter\": \"%s\"}", PROMPT, adapters[k]);
        snprintf(label, sizeof label, "sk_prompt/%s", adapters[k]);
        gradcheck_case(label, js, lin);
    }
    snprintf(js, sizeof js, "{\"method\": \"sk_prompt\", \"prompt\": \"%s\", \"source_layer\": 1}", PROMPT);
    gradcheck_case("sk_prompt/source_layer=1", js, lin);
    snprintf(js, sizeof js, "{\"method\": \"sk_prefix\", \"prompt\": \"%s\", \"mode\": \"live\"}", PROMPT);
    gradcheck_case("sk_prefix/live", js, lin);
    gradcheck_case("prefix_tuning (projection)", "{\"method\": \"prefix_tuning\", \"n_virtual\": 4, \"hidden\": 16}", lin);
    gradcheck_case("prefix_tuning (no projection)", "{\"method\": \"prefix_tuning\", \"n_virtual\": 4, \"projection\": false}", lin);
    gradcheck_case("p_tuning_v2", "{\"method\": \"p_tuning_v2\", \"n_virtual\": 3}", lin);
    gradcheck_case("prompt_tuning (vocab)", "{\"method\": \"prompt_tuning\", \"n_virtual\": 3, \"init\": \"vocab\"}", lin);
    eps_now = 1e-3f; /* ReLU kinks: smaller steps cross fewer of them */
    gradcheck_case("p_tuning", "{\"method\": \"p_tuning\", \"n_virtual\": 3, \"hidden\": 16}", lin);
    eps_now = EPS;
    gradcheck_case("lora (default targets)", "{\"method\": \"lora\", \"r\": 2, \"alpha\": 4}", lin);
    gradcheck_case("lora (c_attn + 3 more)", "{\"method\": \"lora\", \"r\": 2, \"alpha\": 4, \"targets\": [\"c_attn\", \"attn.c_proj\", \"mlp.c_fc\", \"mlp.c_proj\"]}", lin);
    if (!strcmp(sk_model_config(model)->arch, "llama")) /* PEFT's separate q/k/v/o/gate/up/down deltas */
        gradcheck_case("lora (all 7 Llama projections)", "{\"method\": \"lora\", \"r\": 2, \"alpha\": 4, \"targets\": [\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\", \"gate_proj\", \"up_proj\", \"down_proj\"]}", lin);
    gradcheck_case("head_only", "{\"method\": \"head_only\"}", lin);
    gradcheck_case("full", "{\"method\": \"full\"}", lin);
    printf("heads:\n");
    snprintf(js, sizeof js, "{\"method\": \"sk_prefix\", \"prompt\": \"%s\"}", PROMPT);
    gradcheck_case("pool=mean", js, "{\"kind\": \"linear\", \"n_classes\": 2, \"dropout\": 0, \"pool\": \"mean\"}");
    gradcheck_case("pool=mean_all", js, "{\"kind\": \"linear\", \"n_classes\": 2, \"dropout\": 0, \"pool\": \"mean_all\"}");
    gradcheck_case("regression", js, "{\"kind\": \"linear\", \"regression\": true, \"dropout\": 0}");
    gradcheck_case("verbalizer", js, "{\"kind\": \"verbalizer\", \"words\": [\"bad\", [\"good\", \"great\"]], \"template\": \" Answer:\"}");
    gradcheck_case("verbalizer log_prob", js, "{\"kind\": \"verbalizer\", \"words\": [\"no\", \"yes\"], \"log_prob\": true}");
    gradcheck_case("verbalizer + full", "{\"method\": \"full\"}", "{\"kind\": \"verbalizer\", \"words\": [\"no\", \"yes\"]}");
    printf("step-0 equivalence:\n");
    test_step0();
    if (deep) test_deep_model(); /* a 24-layer random GPT-2 with this tokenizer */
    sk_tokenizer_free(tok);
    sk_model_free(model);
}

/* A Llama model with Llama 2's SentencePiece tokenizer, whose post-processor adds BOS: the
 * prompt carries the BOS and the input after it is encoded without one (sk-tuning.md),
 * methods without a text prompt keep it on the input, and SK-Tuning at step 0 is still the
 * model on prompt ids ++ input ids. */
static void test_sentencepiece_bos(void) {
    SkModelConfig cfg = {.arch = "llama", .n_layer = 2, .d_model = 16, .n_head = 2, .n_kv_head = 1, .head_dim = 8,
                         .d_ff = 32, .vocab_size = 32000, .max_seq = 128, .norm_eps = 1e-6f, .tie_embeddings = true,
                         .rope = {.dim = 8, .theta = 10000.0}};
    SkError err;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tokenizer/llama2-reduced", fixtures);
    REQUIRE(sk_model_new_random(&cfg, 9, &model, &err) == 0, "%s", err.msg);
    REQUIRE(sk_tokenizer_load(dir, &tok, &err) == 0, "%s", err.msg);
    D = cfg.d_model;
    printf("== random Llama with Llama 2's tokenizer (BOS from its post-processor)\n");
    int32_t bos = sk_tokenizer_bos(tok);
    char js[512];
    snprintf(js, sizeof js, "{\"method\": \"head_only\", \"prompt\": \"%s\"}", PROMPT);
    SkMethodConfig mc;
    cJSON *mj = cJSON_Parse(js);
    REQUIRE(sk_method_config_from_json(mj, &mc, &err) == 0, "%s", err.msg);
    cJSON_Delete(mj);
    SkMethod *me;
    REQUIRE(sk_method_new(model, tok, &mc, &me, &err) == 0, "%s", err.msg);
    int n;
    const int32_t *lit = sk_method_literal_prompt(me, &n);
    CHECK(n > 1 && lit[0] == bos && !sk_method_input_special(me), "the prompt carries BOS (%d), the input none", bos);
    for (int i = 1; i < n; i++) CHECK(lit[i] != bos, "a second BOS inside the prompt");
    sk_method_free(me);
    sk_method_config_default(&mc, SK_M_PROMPT_TUNING);
    REQUIRE(sk_method_new(model, tok, &mc, &me, &err) == 0, "%s", err.msg);
    CHECK(sk_method_input_special(me), "without a text prompt the input keeps its BOS");
    sk_method_free(me);
    printf("  prompt ids start with BOS %d; inputs after a prompt have none; prompt_tuning inputs keep it\n", bos);
    test_step0();
    sk_tokenizer_free(tok);
    sk_model_free(model);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    sk_rng_seed(&rng, 77);
    suite("gpt2-tiny-f32", true);
    suite("llama-tiny-gqa", false);
    test_sentencepiece_bos();
    return tu_finish("test_peft");
}
