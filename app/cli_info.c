/* cli_info.c - `sktune info --model DIR`. */
#include <stdio.h>

#include "cli.h"
#include "sk_model.h"
#include "sk_tokenizer.h"

int cli_info(int argc, char **argv) {
    static const char *const known[] = {"--model", NULL};
    int rc = cli_check_options(argc, argv, known, 0);
    if (rc) return rc;
    const char *dir = cli_option(argc, argv, "--model");
    if (!dir) {
        fprintf(stderr, "sktune info: --model DIR is required\n");
        return 2;
    }
    SkError err;
    SkModel *m;
    if (cli_load_model("info", dir, &m, NULL) != 0) return 1;
    const SkModelConfig *c = sk_model_config(m);
    static const char *acts[] = {"gelu (tanh)", "gelu (erf)", "relu"};
    printf("model        %s\n", dir);
    printf("arch         %s\n", c->arch);
    printf("layers       %d\n", c->n_layer);
    printf("d_model      %d\n", c->d_model);
    printf("heads        %d (key/value heads %d, head size %d)\n", c->n_head, c->n_kv_head, c->head_dim);
    if (c->rope.dim) { /* Llama family */
        static const char *types[] = {"default", "linear", "dynamic", "llama3"};
        printf("d_ff         %d (SwiGLU)\n", c->d_ff);
        printf("biases       q/k/v %s, o %s, mlp %s\n", c->qkv_bias ? "yes" : "no", c->o_bias ? "yes" : "no",
               c->mlp_bias ? "yes" : "no");
        printf("vocab        %d\n", c->vocab_size);
        printf("positions    %d (rotary, theta %g, %d of %d dims, scaling %s", c->max_seq, c->rope.theta,
               c->rope.dim, c->head_dim, types[c->rope.type]);
        if (c->rope.type != SK_ROPE_DEFAULT) printf(" x%g", c->rope.factor);
        printf(")\n");
    } else {
        printf("d_ff         %d (%s)\n", c->d_ff, acts[c->activation]);
        printf("vocab        %d\n", c->vocab_size);
        printf("positions    %d\n", c->max_seq);
    }
    printf("parameters   %lld (%.2fM)\n", (long long)c->n_params, (double)c->n_params / 1e6);
    printf("dtype        %s on disk; weight matrices held in %s in memory (%.1f MiB)\n", c->dtype,
           sk_model_held(m), sk_model_weight_bytes(m) / 1048576.0);
    if (c->sliding_window)
        printf("attention    sliding window of %d positions from layer %d on\n", c->sliding_window, c->window_from_layer);
    printf("embeddings   %s\n", c->tie_embeddings ? "tied to the LM head" : "separate LM head");
    SkTokenizer *t;
    if (sk_tokenizer_load(dir, &t, &err) != 0) {
        printf("tokenizer    none (%s)\n", err.msg);
    } else {
        printf("tokenizer    %s, %d tokens", sk_tokenizer_kind(t), sk_tokenizer_vocab_size(t));
        if (sk_tokenizer_bos(t) >= 0) printf(", BOS %d", sk_tokenizer_bos(t));
        printf("\n");
        sk_tokenizer_free(t);
    }
    sk_model_free(m);
    return 0;
}
