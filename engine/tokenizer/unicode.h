/* unicode.h - UTF-8 decoding and the character classes the pre-tokenizers use. */
#ifndef SK_UNICODE_H
#define SK_UNICODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct SkUniRange {
    uint32_t lo, hi;
} SkUniRange;

extern const SkUniRange sk_uni_letter[], sk_uni_number[], sk_uni_space[];
extern const int sk_uni_letter_count, sk_uni_number_count, sk_uni_space_count;

/* The classes the GPT-2 pattern distinguishes: \p{L}, \p{N}, \s, everything else. */
typedef enum { SK_UC_LETTER, SK_UC_NUMBER, SK_UC_SPACE, SK_UC_OTHER } SkUniClass;

/* Decodes one code point at s[0..len); returns its byte length (>= 1). An invalid
 * byte decodes as U+FFFD of length 1, so any byte string can be walked. */
int sk_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
SkUniClass sk_uni_class(uint32_t cp);
/* Writes cp (below U+10000) as UTF-8; returns the byte count (1..3). */
int sk_utf8_encode(char *out, uint32_t cp);

#endif
