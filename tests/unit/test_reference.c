/* test_reference.c - the engine against PyTorch fixtures (tests/reference/gen_gpt2.py,
 * gen_llama.py):
 * logits, final hidden states, LM loss, and the gradient of the loss w.r.t. every
 * weight and the input embeddings, each within 1e-4 relative error. */
#include "sk_io.h"
#include "sk_model.h"
#include "testutil.h"

#define TOL 1e-4

static const char *fixtures;

static int load_ref(const char *model, const char *name, SkTensor *t) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s/ref/%s", fixtures, model, name);
    SkError err;
    if (sk_npy_load(path, t, &err) != 0) {
        printf("cannot load %s: %s\n", path, err.msg);
        return -1;
    }
    return 0;
}

static void check_model(const char *name, bool grads) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models/%s", fixtures, name);
    SkError err;
    SkModel *m;
    REQUIRE(sk_model_load(dir, &m, &err) == 0, "%s: %s", name, err.msg);
    const SkModelConfig *c = sk_model_config(m);
    SkTensor ids_t, mask_t, logits_ref, hidden_ref, loss_ref, dinp_ref;
    REQUIRE(load_ref(name, "ids.npy", &ids_t) == 0 && load_ref(name, "mask.npy", &mask_t) == 0 &&
                load_ref(name, "logits.npy", &logits_ref) == 0 &&
                load_ref(name, "hidden.npy", &hidden_ref) == 0 &&
                load_ref(name, "loss.npy", &loss_ref) == 0 &&
                load_ref(name, "d_input.npy", &dinp_ref) == 0,
            "%s: fixtures missing", name);
    int B = (int)ids_t.shape[0], T = (int)ids_t.shape[1], N = B * T, V = c->vocab_size, d = c->d_model;
    int32_t *ids = malloc((size_t)N * sizeof *ids), *targets = malloc((size_t)N * sizeof *targets);
    for (int i = 0; i < N; i++) ids[i] = (int32_t)ids_t.data[i];
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            targets[b * T + t] = (t + 1 < T && mask_t.data[b * T + t + 1] != 0) ? ids[b * T + t + 1] : -1;

    const char *stored = sk_model_config(m)->dtype;
    bool half = !strcmp(stored, "BF16") || !strcmp(stored, "F16");
    CHECK(sk_model_dtype_held(m) == (half ? (stored[0] == 'B' ? SK_DT_BF16 : SK_DT_F16) : SK_DT_F32),
          "%s: stored %s, held %s", name, stored, sk_dtype_name(sk_model_dtype_held(m)));
    if (grads) REQUIRE(sk_model_set_trainable(m, NULL, true, &err) == 0, "%s", err.msg);
    if (grads) CHECK(sk_model_dtype_held(m) == SK_DT_F32, "%s: trained weights are held in F32", name);
    printf("%s: stored %s, held %s%s\n", name, stored, sk_dtype_name(sk_model_dtype_held(m)),
           grads ? " (weights trained)" : "");
    SkActs *acts;
    SkActsShape shape = {.B = B, .T = T};
    REQUIRE(sk_acts_new(m, &shape, &acts, &err) == 0, "%s", err.msg);
    SkBatch batch = {.B = B, .T = T, .ids = ids, .mask = mask_t.data};
    REQUIRE(sk_model_forward(m, acts, &batch, NULL, &err) == 0, "%s", err.msg);
    float *logits = malloc((size_t)N * V * sizeof(float)), *dlogits = malloc((size_t)N * V * sizeof(float));
    float *dhidden = calloc((size_t)N * d, sizeof(float));
    sk_model_lm_logits(m, sk_acts_hidden(acts), N, logits);
    double e = tu_rel_err(sk_acts_hidden(acts), hidden_ref.data, (size_t)N * d);
    CHECK(e <= TOL, "%s: hidden states rel err %.3g", name, e);
    printf("%s: hidden rel err %.2e\n", name, e);
    e = tu_rel_err(logits, logits_ref.data, (size_t)N * V);
    CHECK(e <= TOL, "%s: logits rel err %.3g", name, e);
    printf("%s: logits rel err %.2e\n", name, e);
    int counted;
    double sum = sk_cross_entropy(NULL, logits, targets, N, V, dlogits, 0.0f, &counted);
    sk_cross_entropy(NULL, logits, targets, N, V, dlogits, 1.0f / (float)counted, &counted);
    float loss = (float)(sum / counted);
    e = fabs(loss - loss_ref.data[0]) / fabs(loss_ref.data[0]);
    CHECK(e <= TOL, "%s: loss %.6f vs %.6f", name, loss, loss_ref.data[0]);
    printf("%s: loss %.6f (torch %.6f) rel err %.2e\n", name, loss, loss_ref.data[0], e);

    sk_model_lm_backward(m, sk_acts_hidden(acts), dlogits, N, dhidden);
    REQUIRE(sk_model_backward(m, acts, &batch, NULL, dhidden, &err) == 0, "%s", err.msg);
    e = tu_rel_err(sk_acts_d_input(acts), dinp_ref.data, (size_t)N * d);
    CHECK(e <= TOL, "%s: input-embedding gradient rel err %.3g", name, e);
    printf("%s: d(input embeddings) rel err %.2e\n", name, e);

    if (grads) {
        SkParam *ps;
        int np = sk_model_params(m, &ps);
        double worst = 0;
        const char *worst_name = "";
        for (int i = 0; i < np; i++) {
            SkTensor g;
            char fname[160];
            snprintf(fname, sizeof fname, "grad/%s.npy", ps[i].name);
            if (load_ref(name, fname, &g) != 0) {
                CHECK(0, "%s: no reference gradient for %s", name, ps[i].name);
                continue;
            }
            CHECK(g.numel == ps[i].numel, "%s: %s size %zu vs %zu", name, ps[i].name, g.numel, ps[i].numel);
            float *ref = g.data;
            float *tr = NULL;
            bool conv1d = ps[i].ndim == 2 && strncmp(ps[i].name, "h.", 2) == 0;
            if (conv1d) { /* reference is [in, out]; ours [out, in] */
                int64_t rows = g.shape[0], cols = g.shape[1];
                tr = malloc(g.numel * sizeof(float));
                for (int64_t r = 0; r < rows; r++)
                    for (int64_t cc = 0; cc < cols; cc++) tr[cc * rows + r] = g.data[r * cols + cc];
                ref = tr;
            }
            double pe = tu_rel_err(ps[i].g, ref, ps[i].numel);
            CHECK(pe <= TOL, "%s: gradient of %s rel err %.3g", name, ps[i].name, pe);
            if (pe > worst) worst = pe, worst_name = ps[i].name;
            free(tr);
            sk_tensor_free(&g);
        }
        printf("%s: %d weight gradients, worst rel err %.2e (%s)\n", name, np, worst, worst_name);
    }
    free(ids), free(targets), free(logits), free(dlogits), free(dhidden);
    sk_tensor_free(&ids_t), sk_tensor_free(&mask_t), sk_tensor_free(&logits_ref);
    sk_tensor_free(&hidden_ref), sk_tensor_free(&loss_ref), sk_tensor_free(&dinp_ref);
    sk_acts_free(acts);
    sk_model_free(m);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    check_model("gpt2-tiny-f32", true);
    check_model("gpt2-tiny-bf16", false); /* held in BF16: the products convert blocks of rows */
    check_model("gpt2-tiny-bf16", true);
    check_model("gpt2-tiny-sharded", false);
    check_model("llama-tiny-gqa", true); /* GQA, head_dim != d/H, untied, llama3 rope scaling */
    check_model("qwen2-tiny", false);    /* held in BF16 */
    check_model("qwen2-tiny", true);     /* q/k/v biases, tied + redundant lm_head, BF16, dynamic rope */
    check_model("mistral-tiny", false);  /* sliding window 4 over 9 tokens, multi-query, held in F16 */
    check_model("mistral-tiny", true);
    return tu_finish("test_reference");
}
