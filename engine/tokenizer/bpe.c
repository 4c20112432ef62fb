/* bpe.c - BPE: the byte alphabet, the merge table and the merge loop, over bytes
 * (byte-level BPE) or characters with byte fallback (SentencePiece-converted BPE). */
#include <stdio.h>
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
        char fb[8]; /* SentencePiece's byte tokens */
        snprintf(fb, sizeof fb, "<0x%02X>", b);
        if (!sk_strmap_get(&t->vocab, fb, 6, &t->fallback_id[b])) t->fallback_id[b] = -1;
    }
    (void)err;
    (void)where;
    return 0;
}

/* ---- the merge loop ------------------------------------------------------------------ */

/* A candidate merge of the symbol at pos with the one after it. */
typedef struct Cand {
    int32_t rank, pos, merged;
} Cand;

static bool cand_before(Cand a, Cand b) { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos); }

static void heap_push(Cand *h, int *n, Cand c) {
    int i = (*n)++;
    while (i > 0 && cand_before(c, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = c;
}

static Cand heap_pop(Cand *h, int *n) {
    Cand top = h[0], last = h[--*n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && cand_before(h[c + 1], h[c])) c++;
        if (!cand_before(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

static void push_pair(const SkTokenizer *t, Cand *h, int *nh, const int32_t *sym, int a, int b) {
    int32_t r, mg;
    if (sk_pairmap_get(&t->merges, sym[a], sym[b], &r, &mg)) heap_push(h, nh, (Cand){r, a, mg});
}

/* Applies merges to sym[0..n) until none applies, lowest rank first and leftmost among
 * equals (as Hugging Face's BPE does, with a heap: linear-logarithmic, so a SentencePiece
 * text that is one long word stays fast). Returns the new length, or -1 on OOM. */
static int merge_symbols(const SkTokenizer *t, int32_t *sym, int n) {
    if (n < 2) return n;
    int stack_links[3 * 64];
    Cand stack_heap[3 * 64];
    int *links = n <= 64 ? stack_links : malloc((size_t)n * 3 * sizeof *links);
    Cand *heap = n <= 64 ? stack_heap : malloc((size_t)n * 3 * sizeof *heap);
    if (!links || !heap) {
        if (n > 64) free(links), free(heap);
        return -1;
    }
    int *prev = links, *next = links + n, *gone = links + 2 * n, nh = 0;
    for (int i = 0; i < n; i++) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1, gone[i] = 0;
    for (int i = 0; i + 1 < n; i++) push_pair(t, heap, &nh, sym, i, i + 1);
    while (nh > 0) {
        Cand c = heap_pop(heap, &nh);
        int j = next[c.pos];
        int32_t r, mg;
        if (gone[c.pos] || j < 0) continue;
        if (!sk_pairmap_get(&t->merges, sym[c.pos], sym[j], &r, &mg) || mg != c.merged) continue; /* stale */
        sym[c.pos] = mg;
        gone[j] = 1;
        next[c.pos] = next[j];
        if (next[j] >= 0) prev[next[j]] = c.pos;
        if (prev[c.pos] >= 0) push_pair(t, heap, &nh, sym, prev[c.pos], c.pos);
        if (next[c.pos] >= 0) push_pair(t, heap, &nh, sym, c.pos, next[c.pos]);
    }
    int k = 0;
    for (int i = 0; i >= 0; i = next[i]) sym[k++] = sym[i];
    if (n > 64) free(links), free(heap);
    return k;
}

/* The initial symbols of a pre-token, as Hugging Face's BPE makes them: each byte's token
 * (byte-level) or each character's; a character the vocabulary lacks becomes its <0xNN>
 * byte tokens (byte fallback, when all exist), else the unk token (consecutive ones fused
 * into one with fuse_unk), else nothing: Hugging Face drops it. At most len symbols. */
static int initial_symbols(const SkTokenizer *t, const unsigned char *s, size_t len, int32_t *sym) {
    int n = 0;
    bool prev_unk = false;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int m = t->byte_level ? 1 : sk_utf8_decode(s + i, len - i, &cp);
        int32_t id = -1;
        if (t->byte_level) id = t->byte_id[s[i]];
        else if (!sk_strmap_get(&t->vocab, (const char *)s + i, (size_t)m, &id)) id = -1;
        if (id < 0 && t->byte_fallback) {
            bool all = true;
            for (int k = 0; k < m && all; k++) all = t->fallback_id[s[i + (size_t)k]] >= 0;
            if (all) {
                for (int k = 0; k < m; k++) sym[n++] = t->fallback_id[s[i + (size_t)k]];
                prev_unk = false;
                i += (size_t)m;
                continue;
            }
        }
        if (id >= 0) sym[n++] = id, prev_unk = false;
        else if (t->unk >= 0 && !(prev_unk && t->fuse_unk)) sym[n++] = t->unk, prev_unk = true;
        i += (size_t)m;
    }
    return n;
}

/* Merges one pre-token into ids. */
static int bpe_merge(SkTokenizer *t, const unsigned char *s, size_t len, SkIds *out) {
    if (t->ignore_merges && len <= 256) { /* the whole pre-token, when it is a token */
        char word[1024];
        size_t w = 0;
        if (t->byte_level)
            for (size_t i = 0; i < len; i++) w += (size_t)sk_utf8_encode(word + w, sk_byte_to_char(s[i]));
        else
            memcpy(word, s, w = len);
        int32_t id;
        if (sk_strmap_get(&t->vocab, word, w, &id)) return sk_ids_push(out, id);
    }
    int32_t stack_syms[64];
    int32_t *sym = len <= 64 ? stack_syms : malloc(len * sizeof *sym);
    if (!sym) return -1;
    int n = merge_symbols(t, sym, initial_symbols(t, s, len, sym));
    int rc = n < 0 ? -1 : 0;
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
