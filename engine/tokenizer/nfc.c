/* nfc.c - Unicode Normalization Form C (UAX #15), as Qwen2's tokenizer.json asks for
 * with its "NFC" normalizer: decompose canonically (tables plus the Hangul algorithm),
 * put combining marks in canonical order, then compose primary composites. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/unicode.h"

enum { S_BASE = 0xAC00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11A7 };
enum { L_COUNT = 19, V_COUNT = 21, T_COUNT = 28, N_COUNT = V_COUNT * T_COUNT, S_COUNT = L_COUNT * N_COUNT };

static uint32_t ccc(uint32_t cp) {
    if (cp < 0x300) return 0;
    int lo = 0, hi = sk_uni_ccc_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < sk_uni_ccc[mid].lo) hi = mid - 1;
        else if (cp > sk_uni_ccc[mid].hi) lo = mid + 1;
        else return sk_uni_ccc[mid].ccc;
    }
    return 0;
}

static const SkUniDecomp *decomp(uint32_t cp) {
    int lo = 0, hi = sk_uni_decomp_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < sk_uni_decomp[mid].cp) hi = mid - 1;
        else if (cp > sk_uni_decomp[mid].cp) lo = mid + 1;
        else return &sk_uni_decomp[mid];
    }
    return NULL;
}

/* The primary composite of (a, b), or 0 when there is none. */
static uint32_t compose(uint32_t a, uint32_t b) {
    if (a >= L_BASE && a < L_BASE + L_COUNT && b >= V_BASE && b < V_BASE + V_COUNT)
        return S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT;
    if (a >= S_BASE && a < S_BASE + S_COUNT && (a - S_BASE) % T_COUNT == 0 && b > T_BASE &&
        b < T_BASE + T_COUNT)
        return a + (b - T_BASE);
    int lo = 0, hi = sk_uni_comp_count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const SkUniComp *c = &sk_uni_comp[mid];
        if (a < c->first || (a == c->first && b < c->second)) hi = mid - 1;
        else if (a > c->first || b > c->second) lo = mid + 1;
        else return c->composite;
    }
    return 0;
}

typedef struct CpBuf {
    uint32_t *cp;
    size_t n, cap;
} CpBuf;

static bool push(CpBuf *b, uint32_t cp) {
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        uint32_t *p = realloc(b->cp, ncap * sizeof *p);
        if (!p) return false;
        b->cp = p, b->cap = ncap;
    }
    b->cp[b->n++] = cp;
    return true;
}

/* Appends the full canonical decomposition of cp. */
static bool decompose(CpBuf *b, uint32_t cp) {
    if (cp >= S_BASE && cp < S_BASE + S_COUNT) {
        uint32_t s = cp - S_BASE, t = s % T_COUNT;
        if (!push(b, L_BASE + s / N_COUNT) || !push(b, V_BASE + (s % N_COUNT) / T_COUNT)) return false;
        return t == 0 || push(b, T_BASE + t);
    }
    const SkUniDecomp *d = decomp(cp);
    if (!d) return push(b, cp);
    return decompose(b, d->first) && (d->second == 0 || decompose(b, d->second));
}

/* Stable insertion sort of each run of non-starters by combining class. */
static void canonical_order(uint32_t *cp, size_t n) {
    for (size_t i = 1; i < n; i++) {
        uint32_t c = cp[i], k = ccc(c);
        if (k == 0) continue;
        size_t j = i;
        while (j > 0 && ccc(cp[j - 1]) > k) {
            cp[j] = cp[j - 1];
            j--;
        }
        cp[j] = c;
    }
}

/* Canonical composition in place; returns the new length. */
static size_t canonical_compose(uint32_t *cp, size_t n) {
    if (n == 0) return 0;
    size_t starter = 0, out = 1;
    bool have_starter = ccc(cp[0]) == 0; /* text may begin with marks: they compose with nothing */
    uint32_t last_class = ccc(cp[0]);
    for (size_t i = 1; i < n; i++) {
        uint32_t c = cp[i], k = ccc(c);
        /* blocked by anything between it and the starter of the same or a higher class */
        bool reachable = have_starter && (out == starter + 1 || last_class < k);
        uint32_t composite = reachable ? compose(cp[starter], c) : 0;
        if (composite) {
            cp[starter] = composite;
            continue;
        }
        if (k == 0) starter = out, have_starter = true;
        last_class = k;
        cp[out++] = c;
    }
    return out;
}

int sk_utf8_nfc(const char *s, size_t len, char **out, size_t *out_len) {
    const unsigned char *u = (const unsigned char *)s;
    bool simple = true; /* below U+0300 every character is already NFC and a starter */
    for (size_t i = 0; i < len && simple; i++) simple = u[i] < 0xcc;
    size_t cap = len * 3 + 16; /* NFC expands at most 3x (singletons, excluded composites) */
    char *dst = malloc(cap);
    if (!dst) return -1;
    if (simple) {
        memcpy(dst, s, len);
        dst[len] = 0;
        *out = dst, *out_len = len;
        return 0;
    }
    size_t o = 0, i = 0;
    CpBuf b = {0};
    while (i < len) {
        /* a segment runs up to the next invalid byte, which is copied through as it is so
         * that any byte string survives */
        b.n = 0;
        while (i < len) {
            uint32_t cp;
            int n = sk_utf8_decode(u + i, len - i, &cp);
            if (cp == 0xfffd && n == 1) break;
            if (!decompose(&b, cp)) goto oom;
            i += (size_t)n;
        }
        canonical_order(b.cp, b.n);
        size_t n = canonical_compose(b.cp, b.n);
        if (o + n * 4 + 2 > cap) {
            cap = o + n * 4 + (len - i) * 3 + 16;
            char *g = realloc(dst, cap);
            if (!g) goto oom;
            dst = g;
        }
        for (size_t k = 0; k < n; k++) o += (size_t)sk_utf8_encode(dst + o, b.cp[k]);
        if (i < len) dst[o++] = (char)u[i++];
    }
    free(b.cp);
    dst[o] = 0;
    *out = dst, *out_len = o;
    return 0;
oom:
    free(b.cp), free(dst);
    return -1;
}
