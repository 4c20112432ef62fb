/* cli_bench.c - `sktune bench`: speed of the engine at GPT-2-small shape (random
 * weights), next to the OpenBLAS sgemm peak measured on the same machine. Compare
 * with tests/reference/bench_torch.py, which times the same passes in PyTorch. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "sk_model.h"
#include "sk_tokenizer.h"
#include "sk_train.h"

static double best_sgemm_gflops(int M, int N, int K, int reps) {
    float *A = malloc((size_t)M * K * sizeof(float)), *B = malloc((size_t)K * N * sizeof(float)),
          *C = malloc((size_t)M * N * sizeof(float));
    if (!A || !B || !C) {
        free(A), free(B), free(C);
        return 0.0;
    }
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)(i % 7) * 0.01f;
    for (size_t i = 0; i < (size_t)K * N; i++) B[i] = (float)(i % 5) * 0.01f;
    double best = 1e30;
    for (int r = 0; r < reps + 2; r++) {
        double t0 = sk_now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
        double dt = sk_now_seconds() - t0;
        if (r >= 2 && dt < best) best = dt;
    }
    free(A), free(B), free(C);
    return 2.0 * M * N * K / best / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    SkModel *m;
    SkActs *acts;
    SkBatch batch;
    int32_t *targets;
    float *logits, *dlogits, *dhidden;
    int N, V, d;
} BenchState;

static int step(BenchState *s, bool backward, SkError *err) {
    if (sk_model_forward(s->m, s->acts, &s->batch, NULL, err) != 0) return -1;
    sk_model_lm_logits(s->m, sk_acts_hidden(s->acts), s->N, s->logits);
    if (!backward) return 0;
    int counted;
    sk_cross_entropy(sk_model_pool(s->m), s->logits, s->targets, s->N, s->V, s->dlogits,
                     1.0f / (float)s->N, &counted);
    memset(s->dhidden, 0, (size_t)s->N * s->d * sizeof(float));
    sk_model_lm_backward(s->m, sk_acts_hidden(s->acts), s->dlogits, s->N, s->dhidden);
    return sk_model_backward(s->m, s->acts, &s->batch, NULL, s->dhidden, err);
}

static double time_steps(BenchState *s, bool backward, int steps, SkError *err) {
    double *t = malloc((size_t)steps * sizeof *t);
    if (!t) return -1;
    if (step(s, backward, err) != 0) { /* warm-up */
        free(t);
        return -1;
    }
    for (int i = 0; i < steps; i++) {
        double t0 = sk_now_seconds();
        if (step(s, backward, err) != 0) {
            free(t);
            return -1;
        }
        t[i] = sk_now_seconds() - t0;
    }
    qsort(t, (size_t)steps, sizeof *t, cmp_double);
    double median = t[steps / 2];
    free(t);
    return median;
}

static int arg_int(int argc, char **argv, const char *name, int def) {
    const char *v = cli_option(argc, argv, name);
    return v ? atoi(v) : def;
}

/* ---- one training step of every PEFT method (--methods) ----------------------------------- */

static const char *BENCH_PROMPT = "Classify the positive or negative sentiment from the text";

static int bench_methods(SkModel *model, const char *tok_dir, const char *list, int B, int T, int steps) {
    SkError err;
    SkTokenizer *tok = NULL;
    if (sk_tokenizer_load(tok_dir, &tok, &err) != 0) {
        fprintf(stderr, "sktune bench: %s (pass --tokenizer DIR with a GPT-2 vocabulary)\n", err.msg);
        return 1;
    }
    SkRng rng;
    sk_rng_seed(&rng, 11);
    int V = sk_model_config(model)->vocab_size;
    int32_t *pool = malloc((size_t)B * T * sizeof *pool);
    const int32_t **ids = malloc((size_t)B * sizeof *ids);
    int *len = malloc((size_t)B * sizeof *len), *labels = malloc((size_t)B * sizeof *labels);
    for (int i = 0; i < B * T; i++) pool[i] = (int32_t)sk_rng_below(&rng, (uint64_t)(V - 1));
    for (int b = 0; b < B; b++) ids[b] = pool + (size_t)b * T, len[b] = T, labels[b] = b % 2;
    printf("\none training step per method (forward, backward, AdamW), linear head on the last token,\n"
           "batch %d x %d input tokens; prompt/prefix methods add their positions:\n", B, T);
    printf("%-15s %12s %9s %10s\n", "method", "trainable", "ms/step", "tokens/s");
    int rc = 0;
    for (int k = 0; k < SK_M_COUNT && rc == 0; k++) {
        const char *name = sk_method_name((SkMethodKind)k);
        if (list && strcmp(list, "all") != 0) {
            const char *p = strstr(list, name);
            size_t n = strlen(name);
            if (!p || (p != list && p[-1] != ',') || (p[n] && p[n] != ',')) continue;
        }
        SkMethodConfig mc;
        sk_method_config_default(&mc, (SkMethodKind)k);
        if (k == SK_M_SK_PREFIX || k == SK_M_SK_PROMPT) snprintf(mc.prompt, sizeof mc.prompt, "%s", BENCH_PROMPT);
        SkMethod *me = NULL;
        SkHead *head = NULL;
        SkTrainer *tr = NULL;
        SkHeadConfig hc;
        sk_head_config_default(&hc, 2);
        SkTrainConfig tc;
        sk_train_config_default(&tc);
        tc.batch = B, tc.eval_batch = B, tc.steps = steps + 1, tc.lr = 1e-4f;
        if (sk_method_new(model, tok, &mc, &me, &err) != 0 ||
            sk_head_new(sk_method_model(me), tok, &hc, B, 1, &head, &err) != 0) {
            fprintf(stderr, "sktune bench: %s: %s\n", name, err.msg);
            rc = 1;
        } else {
            SkTask task = {.model = model, .tok = tok, .method = me, .head = head};
            if (sk_trainer_new(&task, &tc, T, &tr, &err) != 0) {
                fprintf(stderr, "sktune bench: %s: %s\n", name, err.msg);
                rc = 1;
            } else {
                double *t = malloc((size_t)steps * sizeof *t), loss, gn, lr;
                rc = sk_trainer_step(tr, ids, len, labels, NULL, &loss, &gn, &lr, &err); /* warm-up */
                for (int s = 0; rc == 0 && s < steps; s++) {
                    double t0 = sk_now_seconds();
                    rc = sk_trainer_step(tr, ids, len, labels, NULL, &loss, &gn, &lr, &err);
                    t[s] = sk_now_seconds() - t0;
                }
                if (rc != 0) fprintf(stderr, "sktune bench: %s: %s\n", name, err.msg);
                else {
                    qsort(t, (size_t)steps, sizeof *t, cmp_double);
                    printf("%-15s %12lld %9.1f %10.0f\n", name, (long long)sk_trainer_params(tr),
                           t[steps / 2] * 1e3, B * T / t[steps / 2]);
                    fflush(stdout);
                }
                free(t);
            }
        }
        sk_trainer_free(tr);
        sk_head_free(head);
        sk_method_free(me);
    }
    free(pool), free(ids), free(len), free(labels);
    sk_tokenizer_free(tok);
    return rc;
}

int cli_bench(int argc, char **argv) {
    static const char *const known[] = {"--batch", "--seq", "--steps", "--layers", "--d",
                                        "--heads", "--vocab", "--threads", "--pass", "--methods",
                                        "--tokenizer", "--arch", "--kv-heads", "--ff", "--weights", NULL};
    int rc = cli_check_options(argc, argv, known, 0);
    if (rc) return rc;
    int B = arg_int(argc, argv, "--batch", 8), T = arg_int(argc, argv, "--seq", 128);
    int steps = arg_int(argc, argv, "--steps", 5), threads = arg_int(argc, argv, "--threads", 0);
    /* --arch gpt2: GPT-2 small; llama: SmolLM-135M's shape (30 x 576, 9 heads of 64 with 3
     * key/value heads, SwiGLU 1536, vocab 49152, tied); qwen2-0.5b: Qwen2-0.5B's (24 x 896,
     * 14 heads of 64 with 2 key/value heads, q/k/v biases, SwiGLU 4864, vocab 151936, tied);
     * mistral-7b: Mistral-7B's (32 x 4096, 32 heads of 128 with 8 key/value heads, SwiGLU
     * 14336, vocab 32000, untied: 7.24B parameters, for --weights q8_0/q4_0/q4_k) */
    const char *arch = cli_option(argc, argv, "--arch");
    bool qwen = arch && !strcmp(arch, "qwen2-0.5b"), big = arch && !strcmp(arch, "mistral-7b");
    bool llama = qwen || big || (arch && !strcmp(arch, "llama"));
    if (arch && !llama && strcmp(arch, "gpt2") != 0) {
        fprintf(stderr, "sktune bench: --arch gpt2, llama, qwen2-0.5b or mistral-7b, not \"%s\"\n", arch);
        return 2;
    }
    /* how the matrices are held: fp32, 16 bits, or a GGUF quantized type */
    static const char *const holds[][2] = {{"f32", "F32"}, {"bf16", "BF16"}, {"f16", "F16"}, {"q8_0", "Q8_0"},
                                           {"q4_0", "Q4_0"}, {"q4_1", "Q4_1"}, {"q4_k", "Q4_K"}};
    const char *weights = cli_option(argc, argv, "--weights"), *held = "F32";
    for (size_t i = 0; weights && i < sizeof holds / sizeof holds[0]; i++)
        if (!strcmp(weights, holds[i][0])) held = holds[i][1], weights = NULL;
    if (weights) {
        fprintf(stderr, "sktune bench: --weights f32, bf16, f16, q8_0, q4_0, q4_1 or q4_k, not \"%s\"\n", weights);
        return 2;
    }
    SkModelConfig cfg = {.n_layer = arg_int(argc, argv, "--layers", big ? 32 : qwen ? 24 : llama ? 30 : 12),
                         .d_model = arg_int(argc, argv, "--d", big ? 4096 : qwen ? 896 : llama ? 576 : 768),
                         .n_head = arg_int(argc, argv, "--heads", big ? 32 : qwen ? 14 : llama ? 9 : 12),
                         .vocab_size = arg_int(argc, argv, "--vocab", big ? 32000 : qwen ? 151936 : llama ? 49152 : 50257),
                         .max_seq = llama ? 2048 : 1024, .norm_eps = 1e-5f, .activation = SK_ACT_GELU_TANH,
                         .tie_embeddings = !big, .qkv_bias = qwen};
    snprintf(cfg.arch, sizeof cfg.arch, "%s", llama ? "llama" : "gpt2");
    snprintf(cfg.dtype, sizeof cfg.dtype, "%s", held);
    cfg.n_kv_head = arg_int(argc, argv, "--kv-heads", big ? 8 : qwen ? 2 : llama ? 3 : cfg.n_head);
    if (B < 1 || T < 1 || steps < 1 || cfg.n_layer < 1 || cfg.d_model < 1 || cfg.n_head < 1 || cfg.n_kv_head < 1 ||
        cfg.d_model % cfg.n_head || cfg.n_head % cfg.n_kv_head || cfg.vocab_size < 2 || T > cfg.max_seq ||
        (!llama && cfg.n_kv_head != cfg.n_head)) {
        fprintf(stderr, "sktune bench: invalid sizes (need positive values, d divisible by heads, heads by "
                        "key/value heads (llama only), seq <= %d)\n", cfg.max_seq);
        return 2;
    }
    cfg.head_dim = cfg.d_model / cfg.n_head;
    cfg.d_ff = arg_int(argc, argv, "--ff", big ? 14336 : qwen ? 4864 : llama ? 1536 : 4 * cfg.d_model);
    if (llama) cfg.rope = (SkRopeConfig){.dim = cfg.head_dim, .theta = qwen ? 1000000.0 : 10000.0, .max_pos = cfg.max_seq};
    if (threads > 0) openblas_set_num_threads(threads);
    int nthreads = openblas_get_num_threads();

    double peak = best_sgemm_gflops(B * T, cfg.d_ff, cfg.d_model, 10);
    printf("sgemm peak  %.1f GFLOP/s  (OpenBLAS, %d threads, %dx%dx%d, best of 10)\n", peak,
           nthreads, B * T, cfg.d_ff, cfg.d_model);

    SkError err;
    BenchState s = {0};
    if (sk_model_new_random(&cfg, 1234, &s.m, &err) != 0) {
        fprintf(stderr, "sktune bench: %s\n", err.msg);
        return 1;
    }
    SkActsShape shape = {.B = B, .T = T};
    s.N = B * T, s.V = cfg.vocab_size, s.d = cfg.d_model;
    int32_t *ids = malloc((size_t)s.N * sizeof *ids);
    s.targets = malloc((size_t)s.N * sizeof *s.targets);
    const char *methods = cli_option(argc, argv, "--methods");
    if (!methods) { /* the LM-head passes' buffers */
        s.logits = malloc((size_t)s.N * s.V * sizeof(float));
        s.dlogits = malloc((size_t)s.N * s.V * sizeof(float));
        s.dhidden = malloc((size_t)s.N * s.d * sizeof(float));
    }
    rc = 1;
    if (!ids || !s.targets || (!methods && (!s.logits || !s.dlogits || !s.dhidden))) {
        fprintf(stderr, "sktune bench: out of memory\n");
        goto done;
    }
    SkRng rng;
    sk_rng_seed(&rng, 7);
    for (int i = 0; i < s.N; i++) ids[i] = (int32_t)sk_rng_below(&rng, (uint64_t)s.V);
    for (int i = 0; i < s.N; i++) s.targets[i] = (i + 1) % T == 0 ? -1 : ids[i + 1];
    s.batch = (SkBatch){.B = B, .T = T, .ids = ids};

    printf("model       %s %dx%d, %d heads (%d key/value), ff %d, vocab %d: %.1fM params (random weights), "
           "batch %d x %d tokens\n", cfg.arch, cfg.n_layer, cfg.d_model, cfg.n_head, cfg.n_kv_head, cfg.d_ff,
           cfg.vocab_size, (double)sk_model_config(s.m)->n_params / 1e6, B, T);
    printf("weights     held in %s: %.0f MiB\n", sk_model_held(s.m),
           sk_model_weight_bytes(s.m) / 1048576.0);
    if (methods) {
        const char *tok_dir = cli_option(argc, argv, "--tokenizer");
        rc = bench_methods(s.m, tok_dir ? tok_dir : SKTUNE_SOURCE_ROOT "/tests/fixtures/gpt2-tokenizer",
                           methods, B, T, steps);
        goto done;
    }
    if (sk_acts_new(s.m, &shape, &s.acts, &err) != 0) {
        fprintf(stderr, "sktune bench: %s\n", err.msg);
        goto done;
    }
    double F = sk_model_forward_flops(s.m, B, T, true);
    printf("\n%-34s %9s %10s %9s %7s\n", "pass (median of steps)", "ms/step", "tokens/s", "GFLOP/s",
           "%peak");
    struct {
        const char *name;
        bool backward, full;
        double flops;
    } passes[] = {
        {"forward + LM head", false, false, F},
        {"forward + backward, frozen (PEFT)", true, false, 2 * F},
        {"forward + backward, all weights", true, true, 3 * F},
    };
    const char *only = cli_option(argc, argv, "--pass"); /* forward | frozen | full */
    static const char *keys[] = {"forward", "frozen", "full"};
    for (int p = 0; p < 3; p++) {
        if (only && strcmp(only, keys[p]) != 0) continue;
        if (passes[p].full) sk_model_set_trainable(s.m, NULL, true, &err);
        sk_model_zero_grad(s.m);
        double sec = time_steps(&s, passes[p].backward, steps, &err);
        if (sec < 0) {
            fprintf(stderr, "sktune bench: %s\n", err.msg);
            goto done;
        }
        double gf = passes[p].flops / sec / 1e9;
        printf("%-34s %9.1f %10.0f %9.1f %6.0f%%\n", passes[p].name, sec * 1e3, s.N / sec, gf,
               100.0 * gf / peak);
        fflush(stdout);
    }
    printf("\nFLOPs: forward %.1f GFLOP per step (matmuls, attention, LM head); frozen backward\n"
           "counted as 1x forward (input gradients only), full backward as 2x.\n", F / 1e9);
    rc = 0;
done:;
    struct rusage ru;
    if (rc == 0 && getrusage(RUSAGE_SELF, &ru) == 0) /* Linux: kilobytes */
        printf("peak memory %.0f MiB (resident, whole process: weights, gradients when trained, activations)\n",
               ru.ru_maxrss / 1024.0);
    sk_acts_free(s.acts);
    sk_model_free(s.m);
    free(ids), free(s.targets), free(s.logits), free(s.dlogits), free(s.dhidden);
    return rc;
}
