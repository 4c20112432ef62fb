/* generate.c - text generation from a causal language model: greedy, temperature,
 * top-k and nucleus (top-p) sampling with a seeded RNG. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sk_model.h"

typedef struct {
    float p;
    int32_t id;
} Cand;

static int by_prob_desc(const void *a, const void *b) {
    const Cand *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id; /* ties: lower id first (repeatable) */
}

/* Picks the next token from logits[V] (modified in place). */
static int32_t pick(float *logits, int V, const SkGenerateOptions *o, SkRng *rng, Cand *cand) {
    if (o->temperature <= 0.0f) {
        int32_t best = 0;
        for (int v = 1; v < V; v++) best = logits[v] > logits[best] ? v : best;
        return best;
    }
    float mx = -INFINITY;
    for (int v = 0; v < V; v++) mx = logits[v] > mx ? logits[v] : mx;
    for (int v = 0; v < V; v++) cand[v] = (Cand){.p = expf((logits[v] - mx) / o->temperature), .id = v};
    qsort(cand, (size_t)V, sizeof *cand, by_prob_desc);
    int keep = o->top_k > 0 && o->top_k < V ? o->top_k : V;
    double total = 0;
    for (int i = 0; i < keep; i++) total += cand[i].p;
    if (o->top_p > 0.0f && o->top_p < 1.0f) { /* smallest prefix with mass >= top_p */
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += cand[i].p / total;
            if (acc >= o->top_p) {
                keep = i + 1;
                break;
            }
        }
        total = 0;
        for (int i = 0; i < keep; i++) total += cand[i].p;
    }
    double u = sk_rng_uniform(rng) * total, acc = 0;
    for (int i = 0; i < keep; i++) {
        acc += cand[i].p;
        if (u < acc) return cand[i].id;
    }
    return cand[keep - 1].id;
}

int sk_model_generate(SkModel *m, const int32_t *prompt, int n, const SkGenerateOptions *o,
                      int32_t *out, int *n_out, SkTokenFn on_token, void *ctx, SkError *err) {
    const SkModelConfig *c = sk_model_config(m);
    *n_out = 0;
    if (n < 1) return sk_err(err, "generate: the prompt has no tokens");
    if (n >= c->max_seq) return sk_err(err, "generate: the prompt fills all %d positions", c->max_seq);
    int total = n + o->max_tokens < c->max_seq ? n + o->max_tokens : c->max_seq;
    int32_t *seq = malloc((size_t)total * sizeof *seq);
    float *logits = malloc((size_t)c->vocab_size * sizeof *logits);
    Cand *cand = malloc((size_t)c->vocab_size * sizeof *cand);
    SkActs *a = NULL;
    SkActsShape shape = {.B = 1, .T = total};
    int rc = seq && logits && cand ? sk_acts_new(m, &shape, &a, err) : sk_err(err, "out of memory");
    if (rc == 0) memcpy(seq, prompt, (size_t)n * sizeof *seq);
    SkRng rng;
    sk_rng_seed(&rng, o->seed);
    int len = n;
    while (rc == 0 && len < total) {
        SkBatch b = {.B = 1, .T = len, .ids = seq};
        if ((rc = sk_model_forward(m, a, &b, NULL, err)) != 0) break;
        sk_model_lm_logits(m, sk_acts_hidden(a) + (size_t)(len - 1) * c->d_model, 1, logits);
        int32_t id = pick(logits, c->vocab_size, o, &rng, cand);
        seq[len++] = id;
        out[(*n_out)++] = id;
        if (id == o->stop_id || (on_token && on_token(ctx, id))) break;
    }
    sk_acts_free(a);
    free(seq), free(logits), free(cand);
    return rc;
}
