/* cli_generate.c - `sktune generate --model DIR [--prompt TEXT] ...`: streams a model's
 * continuation of the prompt to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sk_model.h"
#include "sk_tokenizer.h"

static int print_token(void *ctx, int32_t id) {
    char buf[1024];
    int n = sk_tokenizer_token_bytes(ctx, id, buf, sizeof buf);
    if (n > 0) fwrite(buf, 1, (size_t)n, stdout);
    fflush(stdout);
    return 0;
}

int cli_generate(int argc, char **argv) {
    static const char *const known[] = {"--model", "--prompt", "--max-tokens", "--temperature", "--top-k",
                                        "--top-p", "--seed", NULL};
    int rc = cli_check_options(argc, argv, known, 0);
    if (rc) return rc;
    const char *dir = cli_option(argc, argv, "--model");
    if (!dir) {
        fprintf(stderr, "sktune generate: --model DIR is required\n");
        return 2;
    }
    const char *prompt = cli_option(argc, argv, "--prompt");
    const char *v;
    SkGenerateOptions o = {.max_tokens = 64, .temperature = 0.0f, .top_p = 1.0f, .seed = 1};
    if ((v = cli_option(argc, argv, "--max-tokens"))) o.max_tokens = atoi(v);
    if ((v = cli_option(argc, argv, "--temperature"))) o.temperature = (float)atof(v);
    if ((v = cli_option(argc, argv, "--top-k"))) o.top_k = atoi(v);
    if ((v = cli_option(argc, argv, "--top-p"))) o.top_p = (float)atof(v);
    if ((v = cli_option(argc, argv, "--seed"))) o.seed = strtoull(v, NULL, 10);
    if (o.max_tokens < 0 || o.temperature < 0 || o.top_p <= 0 || o.top_p > 1 || o.top_k < 0) {
        fprintf(stderr, "sktune generate: need --max-tokens >= 0, --temperature >= 0, 0 < --top-p <= 1, --top-k >= 0\n");
        return 2;
    }
    SkError err;
    SkModel *m;
    SkTokenizer *t;
    if (cli_load_model("generate", dir, &m, &t) != 0) return 1;
    SkIds ids = {0};
    rc = 0;
    if (prompt && sk_tokenizer_encode(t, prompt, strlen(prompt), true, &ids, &err) != 0) rc = 1;
    if (rc == 0 && ids.n == 0) {
        if (sk_tokenizer_bos(t) < 0) {
            snprintf(err.msg, sizeof err.msg, "give --prompt: the tokenizer has no start token");
            rc = 1;
        } else sk_ids_push(&ids, sk_tokenizer_bos(t));
    }
    o.stop_id = sk_tokenizer_eos(t);
    int32_t *out = malloc((size_t)(o.max_tokens + 1) * sizeof *out);
    int n_out;
    if (rc == 0) {
        if (prompt) fputs(prompt, stdout);
        rc = sk_model_generate(m, ids.ids, ids.n, &o, out, &n_out, print_token, t, &err) != 0;
        putchar('\n');
    }
    if (rc) fprintf(stderr, "sktune generate: %s\n", err.msg);
    free(out);
    sk_ids_free(&ids);
    sk_tokenizer_free(t);
    sk_model_free(m);
    return rc;
}
