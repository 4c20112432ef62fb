/* bpe_train.c - learning a byte-level BPE vocabulary from text, as Hugging Face's
 * BpeTrainer does for GPT-2-style tokenizers: pre-tokenize with GPT-2's pattern, count
 * the pieces, start from the 256 bytes, and repeatedly merge the most frequent adjacent
 * pair (ties: the pair whose ids are smallest) until the vocabulary is full or no pair
 * occurs twice. Pair counts are updated incrementally, with a max-heap whose stale
 * entries are skipped, so training on tens of megabytes takes seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

typedef struct {
    int32_t *sym;
    int n;
    int64_t count;
    int stamp; /* last merge that visited this word */
} Word;

typedef struct {
    int32_t a, b;
    int64_t count;
    int *words; /* words that contained the pair (may hold stale entries) */
    int n_words, cap_words;
} Pair;

typedef struct {
    int64_t count;
    int pair;
} HeapItem;

typedef struct {
    Pair *pairs;
    int n, cap;
    SkPairMap index; /* (a, b) -> pair, in the rank slot */
    HeapItem *heap;
    int hn, hcap;
} Pairs;

static bool heap_less(const Pairs *P, HeapItem x, HeapItem y) { /* x below y */
    if (x.count != y.count) return x.count < y.count;
    const Pair *a = &P->pairs[x.pair], *b = &P->pairs[y.pair];
    if (a->a != b->a) return a->a > b->a;
    return a->b > b->b;
}

static int heap_push(Pairs *P, int pair) {
    if (P->hn == P->hcap) {
        int ncap = P->hcap ? P->hcap * 2 : 4096;
        HeapItem *h = realloc(P->heap, (size_t)ncap * sizeof *h);
        if (!h) return -1;
        P->heap = h, P->hcap = ncap;
    }
    int i = P->hn++;
    P->heap[i] = (HeapItem){.count = P->pairs[pair].count, .pair = pair};
    while (i > 0 && heap_less(P, P->heap[(i - 1) / 2], P->heap[i])) {
        HeapItem t = P->heap[i];
        P->heap[i] = P->heap[(i - 1) / 2], P->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
    return 0;
}

static HeapItem heap_pop(Pairs *P) {
    HeapItem top = P->heap[0];
    P->heap[0] = P->heap[--P->hn];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < P->hn && heap_less(P, P->heap[m], P->heap[l])) m = l;
        if (r < P->hn && heap_less(P, P->heap[m], P->heap[r])) m = r;
        if (m == i) break;
        HeapItem t = P->heap[i];
        P->heap[i] = P->heap[m], P->heap[m] = t;
        i = m;
    }
    return top;
}

static int pair_id(Pairs *P, int32_t a, int32_t b, bool create) {
    int32_t id, unused;
    if (sk_pairmap_get(&P->index, a, b, &id, &unused)) return id;
    if (!create) return -1;
    if (P->n == P->cap) {
        int ncap = P->cap ? P->cap * 2 : 4096;
        Pair *np = realloc(P->pairs, (size_t)ncap * sizeof *np);
        if (!np) return -2;
        P->pairs = np, P->cap = ncap;
    }
    P->pairs[P->n] = (Pair){.a = a, .b = b};
    if (sk_pairmap_put(&P->index, a, b, P->n, 0) != 0) return -2;
    return P->n++;
}

/* count += delta for pair (a, b) seen in word w. */
static int add_pair(Pairs *P, int32_t a, int32_t b, int64_t delta, int w) {
    int id = pair_id(P, a, b, delta > 0);
    if (id == -2) return -1;
    if (id < 0) return 0;
    Pair *p = &P->pairs[id];
    p->count += delta;
    if (delta > 0) {
        if (p->n_words == p->cap_words) {
            int ncap = p->cap_words ? p->cap_words * 2 : 4;
            int *nw = realloc(p->words, (size_t)ncap * sizeof *nw);
            if (!nw) return -1;
            p->words = nw, p->cap_words = ncap;
        }
        p->words[p->n_words++] = w;
        return heap_push(P, id);
    }
    return 0;
}

int sk_tokenizer_train_bpe(const char *text, size_t len, int vocab_size, const char *const *special,
                           int n_special, SkProgressFn progress, void *pctx, SkTokenizer **out,
                           SkError *err) {
    if (vocab_size < 256 + n_special + 1)
        return sk_err(err, "train_bpe: vocab_size must exceed %d (256 bytes and %d special tokens)",
                      256 + n_special, n_special);
    /* 1. count the pre-tokens */
    SkStrMap counts = {0};
    const unsigned char *s = (const unsigned char *)text;
    Word *words = NULL;
    int n_words = 0, cap_words = 0, rc = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        size_t j = sk_pretok_gpt2_next(s, len, i);
        int32_t w;
        if (sk_strmap_get(&counts, (const char *)s + i, j - i, &w)) {
            words[w].count++;
        } else {
            if (n_words == cap_words) {
                cap_words = cap_words ? cap_words * 2 : 4096;
                Word *nw = realloc(words, (size_t)cap_words * sizeof *nw);
                if (!nw) {
                    rc = sk_err(err, "out of memory");
                    break;
                }
                words = nw;
            }
            Word *x = &words[n_words];
            x->n = (int)(j - i), x->count = 1, x->stamp = -1;
            x->sym = malloc((size_t)x->n * sizeof(int32_t));
            if (!x->sym || sk_strmap_put(&counts, (const char *)s + i, j - i, n_words) != 0) {
                rc = sk_err(err, "out of memory");
                break;
            }
            for (int k = 0; k < x->n; k++) x->sym[k] = n_special + s[i + (size_t)k]; /* byte b -> id */
            n_words++;
        }
        i = j;
    }
    sk_strmap_free(&counts);
    /* 2. the vocabulary: special tokens, the 256 bytes, then merges */
    int V = 0, cap_v = vocab_size;
    char **pieces = calloc((size_t)cap_v, sizeof *pieces);
    Pairs P = {0};
    if (rc == 0 && !pieces) rc = sk_err(err, "out of memory");
    for (int k = 0; rc == 0 && k < n_special; k++) pieces[V++] = strdup(special[k]);
    for (int b = 0; rc == 0 && b < 256; b++) {
        char buf[4];
        int n = sk_utf8_encode(buf, sk_byte_to_char((uint8_t)b));
        pieces[V] = malloc((size_t)n + 1);
        if (!pieces[V]) rc = sk_err(err, "out of memory");
        else memcpy(pieces[V], buf, (size_t)n), pieces[V][n] = 0, V++;
    }
    int32_t *mleft = malloc((size_t)vocab_size * sizeof *mleft), *mright = malloc((size_t)vocab_size * sizeof *mright);
    int n_merges = 0;
    if (rc == 0 && (!mleft || !mright)) rc = sk_err(err, "out of memory");
    /* 3. initial pair counts */
    for (int w = 0; rc == 0 && w < n_words; w++)
        for (int k = 0; k + 1 < words[w].n && rc == 0; k++)
            if (add_pair(&P, words[w].sym[k], words[w].sym[k + 1], words[w].count, w) != 0) rc = sk_err(err, "out of memory");
    /* 4. merge */
    int target_merges = vocab_size - V;
    while (rc == 0 && V < vocab_size && P.hn > 0) {
        HeapItem top = heap_pop(&P);
        Pair *p = &P.pairs[top.pair];
        if (top.count != p->count) { /* stale: the count changed since this entry */
            if (p->count > 0 && top.count > p->count && heap_push(&P, top.pair) != 0)
                rc = sk_err(err, "out of memory");
            continue;
        }
        if (p->count < 2) break;
        int32_t a = p->a, b = p->b, ab = V;
        size_t la = strlen(pieces[a]), lb = strlen(pieces[b]);
        if (!(pieces[V] = malloc(la + lb + 1))) {
            rc = sk_err(err, "out of memory");
            break;
        }
        memcpy(pieces[V], pieces[a], la), memcpy(pieces[V] + la, pieces[b], lb + 1);
        V++;
        mleft[n_merges] = a, mright[n_merges] = b, n_merges++;
        /* rewrite every word that holds the pair; p->words may grow while we walk it */
        int n_list = p->n_words;
        int *list = malloc((size_t)(n_list ? n_list : 1) * sizeof *list);
        if (!list) {
            rc = sk_err(err, "out of memory");
            break;
        }
        memcpy(list, p->words, (size_t)n_list * sizeof *list);
        for (int li = 0; li < n_list && rc == 0; li++) {
            Word *x = &words[list[li]];
            if (x->stamp == n_merges) continue;
            x->stamp = n_merges;
            int k = 0, o = 0;
            while (k < x->n) {
                if (k + 1 < x->n && x->sym[k] == a && x->sym[k + 1] == b) {
                    int32_t prev = o > 0 ? x->sym[o - 1] : -1, next = k + 2 < x->n ? x->sym[k + 2] : -1;
                    int64_t c = x->count;
                    /* the pairs around the merge change */
                    if (prev >= 0) rc |= add_pair(&P, prev, a, -c, 0) | add_pair(&P, prev, ab, c, list[li]);
                    if (next >= 0) rc |= add_pair(&P, b, next, -c, 0) | add_pair(&P, ab, next, c, list[li]);
                    rc |= add_pair(&P, a, b, -c, 0);
                    x->sym[o++] = ab;
                    k += 2;
                } else {
                    x->sym[o++] = x->sym[k++];
                }
            }
            x->n = o;
        }
        free(list);
        if (rc != 0) rc = sk_err(err, "out of memory");
        if (progress && (n_merges % 100 == 0 || V == vocab_size)) progress(pctx, "learning merges", n_merges, target_merges);
    }
    /* 5. a tokenizer from pieces and merges */
    SkTokenizer *t = NULL;
    if (rc == 0) {
        t = sk_tokenizer_new_empty();
        if (!t) rc = sk_err(err, "out of memory");
    }
    if (rc == 0) {
        t->bos = t->eos = n_special > 0 ? 0 : -1;
        t->vocab_size = V;
        t->pieces = pieces;
        pieces = NULL;
        for (int i = 0; rc == 0 && i < V; i++)
            if (sk_strmap_put(&t->vocab, t->pieces[i], strlen(t->pieces[i]), i) != 0) rc = sk_err(err, "out of memory");
        if (rc == 0) sk_bpe_finish(t, err, "train_bpe");
        for (int i = 0; rc == 0 && i < n_merges; i++)
            rc = sk_bpe_add_merge(t, t->pieces[mleft[i]], strlen(t->pieces[mleft[i]]), t->pieces[mright[i]],
                                  strlen(t->pieces[mright[i]]), i, err, "train_bpe");
        for (int k = 0; rc == 0 && k < n_special; k++) rc = sk_tokenizer_add_special(t, special[k], k, err);
        snprintf(t->kind, sizeof t->kind, "byte-level BPE (trained)");
        if (rc != 0) {
            sk_tokenizer_free(t);
            t = NULL;
        }
    }
    for (int w = 0; w < n_words; w++) free(words[w].sym);
    free(words);
    for (int i = 0; pieces && i < V; i++) free(pieces[i]);
    free(pieces);
    for (int i = 0; i < P.n; i++) free(P.pairs[i].words);
    free(P.pairs), free(P.heap);
    sk_pairmap_free(&P.index);
    free(mleft), free(mright);
    if (rc == 0) *out = t;
    return rc;
}
