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

/* The keys/values every layer has seen so far: the prompt's, then one row per generated
 * token. A step runs the newest token alone with them as prefix columns (already in key
 * space, rotated where the model rotates) at positions after them, which is exactly the
 * attention a full rerun would compute for that token. */
typedef struct {
    int L, K;         /* layers, key/value width */
    float *k, *v;     /* [L][cap, K] */
    float **pk, **pv; /* per-layer pointers for SkHooks */
    size_t cap;
} KvCache;

static int cache_new(KvCache *c, const SkModelConfig *cfg, int cap) {
    c->L = cfg->n_layer, c->K = cfg->n_kv_head * cfg->head_dim, c->cap = (size_t)cap;
    c->k = malloc((size_t)c->L * c->cap * c->K * sizeof(float));
    c->v = malloc((size_t)c->L * c->cap * c->K * sizeof(float));
    c->pk = malloc((size_t)c->L * sizeof *c->pk);
    c->pv = malloc((size_t)c->L * sizeof *c->pv);
    if (!c->k || !c->v || !c->pk || !c->pv) return -1;
    for (int l = 0; l < c->L; l++)
        c->pk[l] = c->k + (size_t)l * c->cap * c->K, c->pv[l] = c->v + (size_t)l * c->cap * c->K;
    return 0;
}

static void cache_free(KvCache *c) { free(c->k), free(c->v), free(c->pk), free(c->pv); }

/* Appends rows [from, from + n) of the last pass's own keys/values (after its P prefix columns). */
static void cache_append(KvCache *c, const SkModel *m, const SkActs *a, int P, int from, int n) {
    for (int l = 0; l < c->L; l++) {
        const float *k, *v;
        sk_acts_layer_kv(m, a, l, &k, &v);
        memcpy(c->pk[l] + (size_t)from * c->K, k + (size_t)P * c->K, (size_t)n * c->K * sizeof(float));
        memcpy(c->pv[l] + (size_t)from * c->K, v + (size_t)P * c->K, (size_t)n * c->K * sizeof(float));
    }
}

int sk_model_generate(SkModel *m, const int32_t *prompt, int n, const SkGenerateOptions *o,
                      int32_t *out, int *n_out, SkTokenFn on_token, void *ctx, SkError *err) {
    const SkModelConfig *c = sk_model_config(m);
    *n_out = 0;
    if (n < 1) return sk_err(err, "generate: the prompt has no tokens");
    if (n >= c->max_seq) return sk_err(err, "generate: the prompt fills all %d positions", c->max_seq);
    int total = n + o->max_tokens < c->max_seq ? n + o->max_tokens : c->max_seq;
    float *logits = malloc((size_t)c->vocab_size * sizeof *logits);
    Cand *cand = malloc((size_t)c->vocab_size * sizeof *cand);
    SkActs *first = NULL, *step = NULL;
    KvCache kv = {0};
    int rc = logits && cand && cache_new(&kv, c, total) == 0 ? 0 : sk_err(err, "out of memory");
    if (rc == 0) rc = sk_acts_new(m, &(SkActsShape){.B = 1, .T = n}, &first, err);
    if (rc == 0) rc = sk_acts_new(m, &(SkActsShape){.B = 1, .T = 1, .n_prefix = total}, &step, err);
    SkRng rng;
    sk_rng_seed(&rng, o->seed);
    /* the prompt in one pass; then each new token alone against the cache */
    if (rc == 0) rc = sk_model_forward(m, first, &(SkBatch){.B = 1, .T = n, .ids = prompt}, NULL, err);
    if (rc == 0) {
        cache_append(&kv, m, first, 0, 0, n);
        sk_model_lm_logits(m, sk_acts_hidden(first) + (size_t)(n - 1) * c->d_model, 1, logits);
    }
    for (int len = n; rc == 0 && len < total;) {
        int32_t id = pick(logits, c->vocab_size, o, &rng, cand);
        out[(*n_out)++] = id;
        if (id == o->stop_id || (on_token && on_token(ctx, id)) || ++len == total) break;
        int past = len - 1;
        SkHooks h = {.n_prefix = past, .prefix_k = kv.pk, .prefix_v = kv.pv, .pos_offset = past};
        if ((rc = sk_model_forward(m, step, &(SkBatch){.B = 1, .T = 1, .ids = &id}, &h, err)) != 0) break;
        cache_append(&kv, m, step, past, past, 1);
        sk_model_lm_logits(m, sk_acts_hidden(step), 1, logits);
    }
    sk_acts_free(first), sk_acts_free(step);
    cache_free(&kv);
    free(logits), free(cand);
    return rc;
}
