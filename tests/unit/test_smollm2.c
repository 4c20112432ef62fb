/* test_smollm2.c - the real SmolLM2-135M-Instruct GGUF (scripts/setup fetches it) against
 * what transformers computes on the same file (tests/reference/gen_smollm2.py): token ids of
 * the GGUF's tokenizer, and fp32 logits at every position (512 fixed columns and each
 * position's top token) within 1e-4 relative error, with the weights held quantized as
 * stored. Skipped (exit 77) when the model has not been fetched.
 * Run: test_smollm2 FIXTURES_DIR MODEL_DIR */
#include <cJSON.h>

#include "sk_io.h"
#include "sk_model.h"
#include "sk_tokenizer.h"
#include "testutil.h"

int main(int argc, char **argv) {
    const char *fixtures = argc > 1 ? argv[1] : "tests/fixtures", *dir = argc > 2 ? argv[2] : "models/smollm2-135m-instruct";
    char gguf[2048], ref[1024];
    SkError err;
    if (sk_gguf_resolve(dir, gguf, sizeof gguf, &err) != 1) {
        printf("%s: no SmolLM2 GGUF here (scripts/setup fetches it); skipped\n", dir);
        return 77;
    }
    snprintf(ref, sizeof ref, "%s/smollm2/reference.json", fixtures);
    cJSON *root;
    REQUIRE(sk_json_load(ref, &root, &err) == 0, "%s", err.msg);
    double t0 = sk_now_seconds();
    SkModel *m;
    REQUIRE(sk_model_load(dir, &m, &err) == 0, "%s", err.msg);
    double load_s = sk_now_seconds() - t0;
    SkTokenizer *tok = NULL;
    CHECK(sk_tokenizer_load(dir, &tok, &err) == 0, "tokenizer: %s", err.msg);
    printf("loaded %s in %.2f s, held %s (%.1f MiB)\n", gguf, load_s, sk_model_held(m), sk_model_weight_bytes(m) / 1048576.0);
    CHECK(!strcmp(sk_model_held(m), "Q8_0+Q4_1"), "held %s", sk_model_held(m));
    const cJSON *cols = cJSON_GetObjectItem(root, "columns");
    int nc = cJSON_GetArraySize(cols), V = sk_model_config(m)->vocab_size, d = sk_model_config(m)->d_model;
    const cJSON *text;
    double worst = 0;
    cJSON_ArrayForEach(text, cJSON_GetObjectItem(root, "texts")) {
        const char *s = cJSON_GetObjectItem(text, "text")->valuestring;
        const cJSON *ids_j = cJSON_GetObjectItem(text, "ids");
        int T = cJSON_GetArraySize(ids_j);
        int32_t *ids = malloc((size_t)T * sizeof *ids);
        for (int i = 0; i < T; i++) ids[i] = (int32_t)cJSON_GetArrayItem(ids_j, i)->valueint;
        SkIds got = {0};
        if (tok) {
            REQUIRE(sk_tokenizer_encode(tok, s, strlen(s), true, &got, &err) == 0, "%s", err.msg);
            bool same = got.n == T;
            for (int i = 0; same && i < T; i++) same = got.ids[i] == ids[i];
            CHECK(same, "ids of \"%s\": %d tokens, transformers %d", s, got.n, T);
            sk_ids_free(&got);
        }

        SkActs *acts;
        SkActsShape shape = {.B = 1, .T = T};
        REQUIRE(sk_acts_new(m, &shape, &acts, &err) == 0, "%s", err.msg);
        SkBatch batch = {.B = 1, .T = T, .ids = ids};
        REQUIRE(sk_model_forward(m, acts, &batch, NULL, &err) == 0, "%s", err.msg);
        float *logits = malloc((size_t)T * V * sizeof(float));
        sk_model_lm_logits(m, sk_acts_hidden(acts), T, logits);
        const cJSON *rows = cJSON_GetObjectItem(text, "logits"), *top = cJSON_GetObjectItem(text, "top");
        for (int t = 0; t < T; t++) {
            float *want = malloc((size_t)nc * sizeof(float)), *have = malloc((size_t)nc * sizeof(float));
            const cJSON *row = cJSON_GetArrayItem(rows, t);
            for (int j = 0; j < nc; j++) {
                want[j] = (float)cJSON_GetArrayItem(row, j)->valuedouble;
                have[j] = logits[(size_t)t * V + cJSON_GetArrayItem(cols, j)->valueint];
            }
            double e = tu_rel_err(have, want, (size_t)nc);
            if (e > worst) worst = e;
            CHECK(e <= 1e-4, "\"%.30s...\" position %d: logits rel err %.3g", s, t, e);
            int best = 0;
            for (int v = 1; v < V; v++)
                if (logits[(size_t)t * V + v] > logits[(size_t)t * V + best]) best = v;
            CHECK(best == cJSON_GetArrayItem(top, t)->valueint, "position %d: top token %d, transformers %d", t, best,
                  cJSON_GetArrayItem(top, t)->valueint);
            free(want), free(have);
        }
        (void)d;
        free(logits), free(ids);
        sk_acts_free(acts);
    }
    printf("logits vs transformers on the same GGUF: worst rel err %.2e\n", worst);
    cJSON_Delete(root);
    if (tok) sk_tokenizer_free(tok);
    sk_model_free(m);
    return tu_finish("test_smollm2");
}
