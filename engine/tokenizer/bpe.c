/* bpe.c - byte-level BPE: the byte alphabet, merge table and the merge loop. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

/* ---- hash maps ------------------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static int strmap_grow(SkStrMap *m) {
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    SkStrMap n = {.cap = ncap};
    n.keys = calloc(ncap, sizeof *n.keys);
    n.key_len = calloc(ncap, sizeof *n.key_len);
    n.vals = calloc(ncap, sizeof *n.vals);
    if (!n.keys || !n.key_len || !n.vals) {
        free(n.keys), free(n.key_len), free(n.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = hash_bytes(m->keys[i], m->key_len[i]) & (ncap - 1);
        while (n.keys[j]) j = (j + 1) & (ncap - 1);
        n.keys[j] = m->keys[i], n.key_len[j] = m->key_len[i], n.vals[j] = m->vals[i];
    }
    n.count = m->count;
    free(m->keys), free(m->key_len), free(m->vals);
    *m = n;
    return 0;
}

int sk_strmap_put(SkStrMap *m, const char *key, size_t len, int32_t val) {
    if ((m->count + 1) * 2 > m->cap && strmap_grow(m) != 0) return -1;
    size_t j = hash_bytes(key, len) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->key_len[j] == len && memcmp(m->keys[j], key, len) == 0) {
            m->vals[j] = val;
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    char *k = malloc(len + 1);
    if (!k) return -1;
    memcpy(k, key, len);
    k[len] = 0;
    m->keys[j] = k, m->key_len[j] = (uint32_t)len, m->vals[j] = val;
    m->count++;
    return 0;
}

bool sk_strmap_get(const SkStrMap *m, const char *key, size_t len, int32_t *val) {
    if (!m->cap) return false;
    size_t j = hash_bytes(key, len) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->key_len[j] == len && memcmp(m->keys[j], key, len) == 0) {
            *val = m->vals[j];
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return false;
}

void sk_strmap_free(SkStrMap *m) {
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys), free(m->key_len), free(m->vals);
    memset(m, 0, sizeof *m);
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

int sk_pairmap_put(SkPairMap *m, int32_t a, int32_t b, int32_t rank, int32_t merged) {
    if ((m->count + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 4096;
        SkPairMap n = {.cap = ncap};
        n.keys = calloc(ncap, sizeof *n.keys);
        n.rank = malloc(ncap * sizeof *n.rank);
        n.merged = malloc(ncap * sizeof *n.merged);
        if (!n.keys || !n.rank || !n.merged) {
            free(n.keys), free(n.rank), free(n.merged);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i]) continue;
            size_t j = mix64(m->keys[i]) & (ncap - 1);
            while (n.keys[j]) j = (j + 1) & (ncap - 1);
            n.keys[j] = m->keys[i], n.rank[j] = m->rank[i], n.merged[j] = m->merged[i];
        }
        n.count = m->count;
        free(m->keys), free(m->rank), free(m->merged);
        *m = n;
    }
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    size_t j = mix64(key) & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != key) j = (j + 1) & (m->cap - 1);
    if (m->keys[j]) return 0; /* a repeated merge keeps its first (best) rank */
    m->keys[j] = key, m->rank[j] = rank, m->merged[j] = merged;
    m->count++;
    return 0;
}

bool sk_pairmap_get(const SkPairMap *m, int32_t a, int32_t b, int32_t *rank, int32_t *merged) {
    if (!m->cap) return false;
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    size_t j = mix64(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->keys[j] == key) {
            *rank = m->rank[j], *merged = m->merged[j];
            return true;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return false;
}

/* ---- the byte-level alphabet (GPT-2's bytes_to_unicode) ----------------------------- */

uint32_t sk_byte_to_char(uint8_t b) {
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) return b;
    /* the other 68 bytes map, in order, to 256, 257, ... */
    int n = 0;
    for (int x = 0; x < b; x++)
        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174)) n++;
    return 256u + (uint32_t)n;
}

int sk_bpe_add_merge(SkTokenizer *t, const char *a, size_t alen, const char *b, size_t blen,
                     int rank, SkError *err, const char *where) {
    int32_t ia, ib, im;
    if (!sk_strmap_get(&t->vocab, a, alen, &ia))
        return sk_err(err, "%s: merge %d: \"%.*s\" is not in the vocabulary", where, rank + 1,
                      (int)alen, a);
    if (!sk_strmap_get(&t->vocab, b, blen, &ib))
        return sk_err(err, "%s: merge %d: \"%.*s\" is not in the vocabulary", where, rank + 1,
                      (int)blen, b);
    char buf[1024];
    if (alen + blen >= sizeof buf) return sk_err(err, "%s: merge %d too long", where, rank + 1);
    memcpy(buf, a, alen);
    memcpy(buf + alen, b, blen);
    if (!sk_strmap_get(&t->vocab, buf, alen + blen, &im))
        return sk_err(err, "%s: merge %d: result \"%.*s\" is not in the vocabulary", where,
                      rank + 1, (int)(alen + blen), buf);
    if (sk_pairmap_put(&t->merges, ia, ib, rank, im) != 0) return sk_err(err, "out of memory");
    if (t->n_merges == t->cap_merges) {
        int ncap = t->cap_merges ? t->cap_merges * 2 : 1024;
        int32_t *l = realloc(t->merge_left, (size_t)ncap * sizeof *l);
        if (!l) return sk_err(err, "out of memory");
        t->merge_left = l;
        int32_t *r = realloc(t->merge_right, (size_t)ncap * sizeof *r);
        if (!r) return sk_err(err, "out of memory");
        t->merge_right = r;
        t->cap_merges = ncap;
    }
    t->merge_left[t->n_merges] = ia;
    t->merge_right[t->n_merges++] = ib;
    return 0;
}

/* After the vocabulary is read: the single-byte tokens and the reverse alphabet. */
int sk_bpe_finish(SkTokenizer *t, SkError *err, const char *where) {
    memset(t->char_byte, 0, sizeof t->char_byte);
    for (int b = 0; b < 256; b++) {
        char buf[4];
        uint32_t cp = sk_byte_to_char((uint8_t)b);
        t->char_byte[cp] = (uint8_t)b;
        int n = sk_utf8_encode(buf, cp);
        if (!sk_strmap_get(&t->vocab, buf, (size_t)n, &t->byte_id[b])) t->byte_id[b] = -1;
    }
    (void)err;
    (void)where;
    return 0;
}

/* Merges the bytes of one pre-token into ids, lowest-ranked pair first. */
static int bpe_merge(SkTokenizer *t, const unsigned char *s, size_t len, SkIds *out) {
    if (t->ignore_merges && len <= 256) { /* the whole pre-token, when it is a token */
        char word[512];
        size_t w = 0;
        for (size_t i = 0; i < len; i++) w += (size_t)sk_utf8_encode(word + w, sk_byte_to_char(s[i]));
        int32_t id;
        if (sk_strmap_get(&t->vocab, word, w, &id)) return sk_ids_push(out, id);
    }
    int32_t stack_syms[64];
    int32_t *sym = len <= 64 ? stack_syms : malloc(len * sizeof *sym);
    if (!sym) return -1;
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        if (t->byte_id[s[i]] < 0) {
            if (sym != stack_syms) free(sym);
            return -2;
        }
        sym[n++] = t->byte_id[s[i]];
    }
    while (n > 1) {
        int best = -1;
        int32_t best_rank = INT32_MAX, best_merged = -1;
        for (int i = 0; i + 1 < n; i++) {
            int32_t r, mg;
            if (sk_pairmap_get(&t->merges, sym[i], sym[i + 1], &r, &mg) && r < best_rank)
                best = i, best_rank = r, best_merged = mg;
        }
        if (best < 0) break;
        sym[best] = best_merged;
        memmove(sym + best + 1, sym + best + 2, (size_t)(n - best - 2) * sizeof *sym);
        n--;
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) rc = sk_ids_push(out, sym[i]);
    if (sym != stack_syms) free(sym);
    return rc;
}

#define CACHE_MAX_ENTRIES 200000
#define CACHE_MAX_WORD 256

int sk_bpe_encode_word(SkTokenizer *t, const unsigned char *s, size_t len, SkIds *out) {
    if (len > CACHE_MAX_WORD) return bpe_merge(t, s, len, out);
    int32_t off;
    pthread_mutex_lock(&t->cache_mu);
    if (sk_strmap_get(&t->cache, (const char *)s, len, &off)) {
        int rc = 0;
        for (int i = off; t->cache_ids.ids[i] >= 0 && rc == 0; i++) rc = sk_ids_push(out, t->cache_ids.ids[i]);
        pthread_mutex_unlock(&t->cache_mu);
        return rc;
    }
    pthread_mutex_unlock(&t->cache_mu);
    int start = out->n;
    int rc = bpe_merge(t, s, len, out);
    if (rc != 0) return rc;
    pthread_mutex_lock(&t->cache_mu);
    if (t->cache.count >= CACHE_MAX_ENTRIES) { /* bounded memory: start over */
        sk_strmap_free(&t->cache);
        t->cache_ids.n = 0;
    }
    int pos = t->cache_ids.n;
    bool ok = true;
    for (int i = start; i < out->n && ok; i++) ok = sk_ids_push(&t->cache_ids, out->ids[i]) == 0;
    ok = ok && sk_ids_push(&t->cache_ids, -1) == 0;
    if (ok) sk_strmap_put(&t->cache, (const char *)s, len, pos);
    pthread_mutex_unlock(&t->cache_mu);
    return 0;
}

void sk_pairmap_free(SkPairMap *m) {
    free(m->keys), free(m->rank), free(m->merged);
    memset(m, 0, sizeof *m);
}
