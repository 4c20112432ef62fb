/* pretokenize.c - GPT-2's pre-tokenizer, the regex
 *     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * written out as a scanner (alternatives tried in order at each position, greedy),
 * so that it runs in linear time with no regex engine. */
#include <stdbool.h>

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

/* Llama 3's pre-tokenizer, the Split regex
 *     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * and Qwen2's, the same with \p{N} for \p{N}{1,3} (one digit a pre-token), as a scanner in
 * the same way: alternatives in order, each as the regex engine (leftmost first, greedy
 * with backtracking) would match it. */
static uint32_t fold(uint32_t c) { /* the case folding the contractions need */
    if (c >= 'A' && c <= 'Z') return c + 32;
    return c == 0x17F ? 's' : c; /* U+017F LATIN SMALL LETTER LONG S folds to s */
}

static bool is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }

static size_t split_next(const unsigned char *s, size_t len, size_t i, int max_digits) {
    uint32_t cp;
    int n = sk_utf8_decode(s + i, len - i, &cp);
    if (cp == '\'' && i + 1 < len) { /* (?i:'s|'t|'re|'ve|'m|'ll|'d) */
        uint32_t c1, c2 = 0;
        int n1 = sk_utf8_decode(s + i + 1, len - i - 1, &c1), n2 = 0;
        if (i + 1 + (size_t)n1 < len) n2 = sk_utf8_decode(s + i + 1 + n1, len - i - 1 - (size_t)n1, &c2);
        uint32_t a = fold(c1), b = n2 ? fold(c2) : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 1 + (size_t)n1;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 1 + (size_t)(n1 + n2);
    }
    SkUniClass cls = sk_uni_class(cp);
    if (cls == SK_UC_LETTER) return run_end(s, len, i, SK_UC_LETTER); /* [^...]?\p{L}+ with no prefix */
    int m;
    if (cls != SK_UC_NUMBER && !is_crlf(cp) && i + (size_t)n < len && class_at(s, len, i + (size_t)n, &m) == SK_UC_LETTER)
        return run_end(s, len, i + (size_t)n, SK_UC_LETTER); /* one non-letter, non-digit, then letters */
    if (cls == SK_UC_NUMBER) { /* \p{N}{1,max_digits} */
        size_t j = i;
        for (int k = 0; k < max_digits && j < len && class_at(s, len, j, &m) == SK_UC_NUMBER; k++) j += (size_t)m;
        return j;
    }
    size_t j = i; /* ' ?[^\s\p{L}\p{N}]+[\r\n]*' */
    if (cp == ' ' && i + 1 < len && class_at(s, len, i + 1, &m) == SK_UC_OTHER) j = i + 1;
    if (class_at(s, len, j, &m) == SK_UC_OTHER) {
        j = run_end(s, len, j, SK_UC_OTHER);
        while (j < len && (s[j] == '\r' || s[j] == '\n')) j++;
        return j;
    }
    /* whitespace: \s*[\r\n]+ ends after the run's last \r or \n; else \s+(?!\S) leaves the
     * run's last character to what follows it, and a lone one is \s+ */
    size_t end = i, last_nl = 0, last = i;
    bool nl = false;
    while (end < len) {
        uint32_t c;
        int k = sk_utf8_decode(s + end, len - end, &c);
        if (sk_uni_class(c) != SK_UC_SPACE) break;
        if (is_crlf(c)) nl = true, last_nl = end;
        last = end;
        end += (size_t)k;
    }
    if (nl) return last_nl + 1;
    if (end == len || last == i) return end;
    return last;
}

size_t sk_pretok_llama3_next(const unsigned char *s, size_t len, size_t i) { return split_next(s, len, i, 3); }
size_t sk_pretok_qwen2_next(const unsigned char *s, size_t len, size_t i) { return split_next(s, len, i, 1); }

/* SmolLM's (and StarCoder's) pre-tokenizer, Sequence[Digits, ByteLevel]: numeric
 * characters are split out first, each on its own (individual_digits) or as runs, and
 * GPT-2's pattern then runs on each stretch between them as on a text of its own (its
 * lookahead ends at the stretch's end). Numeric is Unicode's N, as Rust's is_numeric. */
static size_t digits_gpt2_next(const unsigned char *s, size_t len, size_t i, bool individual) {
    int n;
    if (class_at(s, len, i, &n) == SK_UC_NUMBER) return individual ? i + (size_t)n : run_end(s, len, i, SK_UC_NUMBER);
    size_t end = i;
    while (end < len && class_at(s, len, end, &n) != SK_UC_NUMBER) end += (size_t)n;
    return sk_pretok_gpt2_next(s, end, i);
}

size_t sk_pretok_digit_each_next(const unsigned char *s, size_t len, size_t i) { return digits_gpt2_next(s, len, i, true); }
size_t sk_pretok_digit_runs_next(const unsigned char *s, size_t len, size_t i) { return digits_gpt2_next(s, len, i, false); }
