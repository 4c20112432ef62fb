/* pretokenize.c - GPT-2's pre-tokenizer, the regex
 *     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * written out as a scanner (alternatives tried in order at each position, greedy),
 * so that it runs in linear time with no regex engine. */
#include "tokenizer/tokenizer_internal.h"

static SkUniClass class_at(const unsigned char *s, size_t len, size_t i, int *n) {
    uint32_t cp;
    *n = sk_utf8_decode(s + i, len - i, &cp);
    return sk_uni_class(cp);
}

/* End of the run of class `cls` starting at i. */
static size_t run_end(const unsigned char *s, size_t len, size_t i, SkUniClass cls) {
    while (i < len) {
        int n;
        if (class_at(s, len, i, &n) != cls) break;
        i += (size_t)n;
    }
    return i;
}

size_t sk_pretok_gpt2_next(const unsigned char *s, size_t len, size_t i) {
    if (s[i] == '\'' && i + 1 < len) {
        unsigned char a = s[i + 1], b = i + 2 < len ? s[i + 2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    int n;
    if (s[i] == ' ' && i + 1 < len) {
        SkUniClass next = class_at(s, len, i + 1, &n);
        if (next != SK_UC_SPACE) return run_end(s, len, i + 1, next);
    }
    SkUniClass cls = class_at(s, len, i, &n);
    if (cls != SK_UC_SPACE) return run_end(s, len, i, cls);
    /* whitespace: \s+(?!\S) takes the run but leaves its last character to the
     * token that follows; a single whitespace character before text is \s+ alone */
    size_t last = i, j = i;
    while (j < len) {
        int m;
        if (class_at(s, len, j, &m) != SK_UC_SPACE) break;
        last = j;
        j += (size_t)m;
    }
    if (j == len || last == i) return j;
    return last;
}
