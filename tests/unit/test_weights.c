/* test_weights.c - weights held in 16 bits: the conversions are exact (every F16 and BF16
 * value), products over several blocks of rows equal the fp32 products, a model held in
 * BF16 computes what the same values held in fp32 compute (forward, LM head, backward),
 * saves and reloads bit for bit, and turns to fp32 when its weights train. */
#include <stdint.h>
#include <unistd.h>

#include "sk_io.h"
#include "sk_model.h"
#include "testutil.h"

static void test_conversions(void) {
    int bad16 = 0, badbf = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        uint16_t v = (uint16_t)h;
        float a, b;
        sk_half_to_f32(NULL, &v, &a, 1, false);
        b = sk_f16_to_f32(v);
        bad16 += memcmp(&a, &b, 4) != 0;
        sk_half_to_f32(NULL, &v, &a, 1, true);
        b = sk_bf16_to_f32(v);
        badbf += memcmp(&a, &b, 4) != 0;
    }
    CHECK(bad16 == 0 && badbf == 0, "F16: %d, BF16: %d of 65536 values convert differently", bad16, badbf);
    printf("  all 65536 F16 and BF16 values convert bit for bit\n");
}

static uint64_t rng = 88172645463325252ULL;
static float rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 11) * 0x1.0p-53) * 2.0f - 1.0f;
}

/* A product whose W spans several conversion blocks, held in F16 and BF16, against fp32. */
static void test_products(SkPool *pool) {
    const int N = 7, In = 300, Out = 8000; /* SK_MAT_BLOCK_FLOATS / In = 3495 rows a block: 3 blocks */
    float *x = malloc(sizeof(float) * N * In), *dy = malloc(sizeof(float) * N * Out), *b = malloc(sizeof(float) * Out);
    float *w = malloc(sizeof(float) * Out * In);
    uint16_t *h = malloc(sizeof(uint16_t) * Out * In);
    float *y32 = malloc(sizeof(float) * N * Out), *y16 = malloc(sizeof(float) * N * Out);
    float *dx32 = calloc((size_t)N * In, sizeof(float)), *dx16 = calloc((size_t)N * In, sizeof(float));
    for (int i = 0; i < N * In; i++) x[i] = rnd();
    for (int i = 0; i < N * Out; i++) dy[i] = rnd();
    for (int i = 0; i < Out; i++) b[i] = rnd();
    for (int bf = 0; bf < 2; bf++) {
        for (size_t i = 0; i < (size_t)Out * In; i++) { /* values a 16-bit type holds exactly */
            h[i] = bf ? sk_f32_to_bf16(rnd()) : sk_f32_to_f16(rnd());
            w[i] = bf ? sk_bf16_to_f32(h[i]) : sk_f16_to_f32(h[i]);
        }
        SkMat m16 = {.h = h, .bf16 = bf};
        for (int acc = 0; acc < 2; acc++) {
            for (int i = 0; i < N * Out; i++) y32[i] = y16[i] = acc ? rnd() : 0.0f;
            sk_linear_forward(y32, x, w, b, N, In, Out, acc);
            sk_linear_forward_m(pool, y16, x, m16, b, N, In, Out, acc);
            double e = tu_rel_err(y16, y32, (size_t)N * Out);
            CHECK(e <= 1e-6, "%s forward (accumulate %d): rel err %.3g", bf ? "BF16" : "F16", acc, e);
        }
        memset(dx32, 0, sizeof(float) * N * In), memset(dx16, 0, sizeof(float) * N * In);
        sk_linear_backward(dx32, NULL, NULL, dy, x, w, N, In, Out);
        sk_linear_backward_m(pool, dx16, NULL, NULL, dy, x, m16, N, In, Out);
        double e = tu_rel_err(dx16, dx32, (size_t)N * In);
        CHECK(e <= 1e-5, "%s backward: rel err %.3g", bf ? "BF16" : "F16", e);
        printf("  %s-held [%d, %d] product in 3 blocks: backward rel err %.2e vs fp32\n", bf ? "BF16" : "F16", Out, In, e);
    }
    free(x), free(dy), free(b), free(w), free(h), free(y32), free(y16), free(dx32), free(dx16);
}

/* Forward, LM head and backward of one batch; logits and d(input) returned (malloc'ed). */
static void run(SkModel *m, float **logits, float **dinp) {
    const SkModelConfig *c = sk_model_config(m);
    SkError err;
    int B = 2, T = 9, N = B * T;
    int32_t ids[18];
    for (int i = 0; i < N; i++) ids[i] = (int32_t)((i * 7919 + 13) % c->vocab_size);
    SkActs *a;
    REQUIRE(sk_acts_new(m, &(SkActsShape){.B = B, .T = T}, &a, &err) == 0, "%s", err.msg);
    SkBatch batch = {.B = B, .T = T, .ids = ids};
    REQUIRE(sk_model_forward(m, a, &batch, NULL, &err) == 0, "%s", err.msg);
    *logits = malloc(sizeof(float) * N * c->vocab_size);
    sk_model_lm_logits(m, sk_acts_hidden(a), N, *logits);
    /* the LM head on a few token ids equals those columns of the full logits */
    int32_t some[4] = {5, 17, 17, c->vocab_size - 1};
    float rows[18 * 4];
    sk_model_lm_rows(m, sk_acts_hidden(a), N, some, 4, rows);
    double worst = 0;
    for (int n = 0; n < N; n++)
        for (int j = 0; j < 4; j++)
            worst = fmax(worst, fabs(rows[n * 4 + j] - (*logits)[(size_t)n * c->vocab_size + some[j]]));
    CHECK(worst <= 1e-5, "%s: logits of chosen ids differ from the full logits by %g", c->arch, worst);
    float *dh = calloc((size_t)N * c->d_model, sizeof(float));
    float *dl = malloc(sizeof(float) * N * c->vocab_size);
    for (size_t i = 0; i < (size_t)N * c->vocab_size; i++) dl[i] = (*logits)[i] * 1e-3f;
    sk_model_lm_backward(m, sk_acts_hidden(a), dl, N, dh);
    REQUIRE(sk_model_backward(m, a, &batch, NULL, dh, &err) == 0, "%s", err.msg);
    *dinp = malloc(sizeof(float) * N * c->d_model);
    memcpy(*dinp, sk_acts_d_input(a), sizeof(float) * N * c->d_model);
    free(dh), free(dl);
    sk_acts_free(a);
}

static bool same_values(SkModel *a, SkModel *b) {
    SkParam *pa, *pb;
    int n = sk_model_params(a, &pa);
    sk_model_params(b, &pb);
    bool same = true;
    for (int i = 0; i < n && same; i++) {
        float *x = malloc(pa[i].numel * sizeof(float)), *y = malloc(pb[i].numel * sizeof(float));
        sk_param_read(&pa[i], 0, pa[i].numel, x);
        sk_param_read(&pb[i], 0, pb[i].numel, y);
        same = memcmp(x, y, pa[i].numel * sizeof(float)) == 0;
        free(x), free(y);
    }
    return same;
}

static void test_model(const char *arch) {
    SkModelConfig cfg = {.n_layer = 2, .d_model = 64, .n_head = 4, .n_kv_head = 2, .head_dim = 16, .d_ff = 96,
                         .vocab_size = 20000, .max_seq = 64, .norm_eps = 1e-5f, .tie_embeddings = true};
    snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
    if (!strcmp(arch, "gpt2")) cfg.n_kv_head = 4, cfg.activation = SK_ACT_GELU_TANH;
    else cfg.rope = (SkRopeConfig){.dim = 16, .theta = 10000.0};
    SkModel *m16, *m32;
    SkError err;
    REQUIRE(sk_model_new_random(&cfg, 3, &m16, &err) == 0, "%s", err.msg);
    size_t bytes32 = sk_model_weight_bytes(m16);
    REQUIRE(sk_model_set_dtype(m16, SK_DT_BF16, &err) == 0, "%s", err.msg);
    REQUIRE(sk_model_clone(m16, &m32, &err) == 0, "%s", err.msg);
    CHECK(sk_model_dtype_held(m32) == SK_DT_BF16, "a clone holds what its source holds");
    REQUIRE(sk_model_set_dtype(m32, SK_DT_F32, &err) == 0, "%s", err.msg);
    CHECK(same_values(m16, m32), "%s: BF16 -> F32 keeps every value", arch);
    size_t bytes16 = sk_model_weight_bytes(m16);
    CHECK(bytes16 < bytes32 * 0.51, "%s: BF16 weights take %zu bytes, F32 %zu", arch, bytes16, bytes32);
    float *l16, *d16, *l32, *d32;
    run(m16, &l16, &d16);
    run(m32, &l32, &d32);
    size_t N = 18;
    double el = tu_rel_err(l16, l32, N * cfg.vocab_size), ed = tu_rel_err(d16, d32, N * cfg.d_model);
    CHECK(el <= 1e-6 && ed <= 1e-5, "%s: BF16-held vs F32-held: logits %.3g, d(input) %.3g", arch, el, ed);
    printf("  %s: weights %zu -> %zu KB held in BF16; logits rel err %.2e, d(input) %.2e vs the same values in F32\n",
           arch, bytes32 >> 10, bytes16 >> 10, el, ed);
    free(l16), free(d16), free(l32), free(d32);

    char dir[] = "/tmp/sktune-w16-XXXXXX";
    REQUIRE(mkdtemp(dir), "mkdtemp");
    REQUIRE(sk_model_save(m16, dir, "BF16", &err) == 0, "%s", err.msg);
    SkModel *back;
    REQUIRE(sk_model_load(dir, &back, &err) == 0, "%s", err.msg);
    CHECK(sk_model_dtype_held(back) == SK_DT_BF16 && same_values(back, m16), "%s: saved BF16 reloads as it was", arch);
    sk_model_free(back);
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", dir), unlink(path);
    snprintf(path, sizeof path, "%s/config.json", dir), unlink(path);
    rmdir(dir);

    REQUIRE(sk_model_set_trainable(m16, NULL, true, &err) == 0, "%s", err.msg);
    CHECK(sk_model_dtype_held(m16) == SK_DT_F32 && same_values(m16, m32), "%s: training turns the model to F32", arch);
    CHECK(sk_model_set_dtype(m16, SK_DT_F16, &err) != 0 && strstr(err.msg, "being trained"),
          "%s: a model being trained is not turned to 16 bits", arch);
    sk_model_free(m16), sk_model_free(m32);
}

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    test_conversions();
    SkPool *pool = sk_pool_new(2); /* the conversion spread over threads */
    test_products(NULL);
    test_products(pool);
    sk_pool_free(pool);
    test_model("gpt2");
    test_model("llama");
    return tu_finish("test_weights");
}
