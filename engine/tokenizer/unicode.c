/* unicode.c - UTF-8 and character classes (tables generated from the UCD). */
#include "tokenizer/unicode.h"

int sk_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp) {
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int n;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0) n = 2, v = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0) n = 3, v = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0) n = 4, v = c & 0x07, min = 0x10000;
    else goto invalid;
    if ((size_t)n > len) goto invalid;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) goto invalid;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) goto invalid;
    *cp = v;
    return n;
invalid:
    *cp = 0xfffd;
    return 1;
}

int sk_utf8_encode(char *out, uint32_t cp) {
    if (cp < 0x80) return out[0] = (char)cp, 1;
    if (cp < 0x800) return out[0] = (char)(0xc0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static int in_ranges(const SkUniRange *r, int n, uint32_t cp) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < r[mid].lo) hi = mid - 1;
        else if (cp > r[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

SkUniClass sk_uni_class(uint32_t cp) {
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return SK_UC_LETTER;
        if (cp >= '0' && cp <= '9') return SK_UC_NUMBER;
        if (cp == ' ' || (cp >= 0x09 && cp <= 0x0d)) return SK_UC_SPACE;
        return SK_UC_OTHER;
    }
    if (in_ranges(sk_uni_letter, sk_uni_letter_count, cp)) return SK_UC_LETTER;
    if (in_ranges(sk_uni_number, sk_uni_number_count, cp)) return SK_UC_NUMBER;
    if (in_ranges(sk_uni_space, sk_uni_space_count, cp)) return SK_UC_SPACE;
    return SK_UC_OTHER;
}
