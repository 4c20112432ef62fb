/* test_generate.c - generation with the key/value cache gives what rerunning the whole
 * text gives: each greedy token is the argmax of a full forward pass over the prompt and
 * the tokens before it (GPT-2 with learned positions, Llama with rotary grouped-query
 * attention, Mistral with a sliding window shorter than the text). */
#include "sk_model.h"
#include "testutil.h"

static const char *fixtures;

static void check_model(const char *name) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models/%s", fixtures, name);
    SkModel *m;
    SkError err;
    REQUIRE(sk_model_load(dir, &m, &err) == 0, "%s", err.msg);
    const SkModelConfig *c = sk_model_config(m);
    enum { N = 5, GEN = 24 };
    int32_t seq[N + GEN], out[GEN];
    for (int i = 0; i < N; i++) seq[i] = (int32_t)((i * 131 + 7) % c->vocab_size);
    SkGenerateOptions o = {.max_tokens = GEN, .temperature = 0, .stop_id = -1};
    int n_out;
    REQUIRE(sk_model_generate(m, seq, N, &o, out, &n_out, NULL, NULL, &err) == 0, "%s", err.msg);
    CHECK(n_out == GEN, "%s: %d tokens generated", name, n_out);
    memcpy(seq + N, out, sizeof out);
    /* the whole text in one pass: the argmax after each prefix */
    SkActs *a;
    REQUIRE(sk_acts_new(m, &(SkActsShape){.B = 1, .T = N + GEN}, &a, &err) == 0, "%s", err.msg);
    REQUIRE(sk_model_forward(m, a, &(SkBatch){.B = 1, .T = N + GEN, .ids = seq}, NULL, &err) == 0, "%s", err.msg);
    float *logits = malloc(sizeof(float) * (size_t)(N + GEN) * c->vocab_size);
    sk_model_lm_logits(m, sk_acts_hidden(a), N + GEN, logits);
    int agree = 0;
    double margin = INFINITY; /* smallest gap between the chosen token and the runner-up */
    for (int t = 0; t < GEN; t++) {
        const float *z = logits + (size_t)(N - 1 + t) * c->vocab_size;
        int best = 0;
        for (int v = 1; v < c->vocab_size; v++) best = z[v] > z[best] ? v : best;
        float second = -INFINITY;
        for (int v = 0; v < c->vocab_size; v++)
            if (v != best && z[v] > second) second = z[v];
        agree += best == out[t];
        margin = fmin(margin, z[best] - second);
    }
    CHECK(agree == GEN, "%s: %d of %d cached greedy tokens are the full pass's argmax", name, agree, GEN);
    printf("  %-14s %d/%d tokens as a full rerun picks them (smallest argmax margin %.2g)\n", name, agree, GEN, margin);
    free(logits);
    sk_acts_free(a);
    sk_model_free(m);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    check_model("gpt2-tiny-f32");
    check_model("llama-tiny-gqa");
    check_model("mistral-tiny");
    return tu_finish("test_generate");
}
