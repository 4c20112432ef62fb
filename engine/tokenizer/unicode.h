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

/* Canonical normalisation data (generated with the classes above). */
typedef struct SkUniCcc {
    uint32_t lo, hi, ccc; /* code points lo..hi have canonical combining class ccc */
} SkUniCcc;
typedef struct SkUniDecomp {
    uint32_t cp, first, second; /* cp -> first second (second 0: a singleton) */
} SkUniDecomp;
typedef struct SkUniComp {
    uint32_t first, second, composite;
} SkUniComp;
extern const SkUniCcc sk_uni_ccc[];
extern const SkUniDecomp sk_uni_decomp[];
extern const SkUniComp sk_uni_comp[];
extern const int sk_uni_ccc_count, sk_uni_decomp_count, sk_uni_comp_count;

/* The classes the GPT-2 pattern distinguishes: \p{L}, \p{N}, \s, everything else. */
typedef enum { SK_UC_LETTER, SK_UC_NUMBER, SK_UC_SPACE, SK_UC_OTHER } SkUniClass;

/* Decodes one code point at s[0..len); returns its byte length (>= 1). An invalid
 * byte decodes as U+FFFD of length 1, so any byte string can be walked. */
int sk_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
SkUniClass sk_uni_class(uint32_t cp);
/* Writes cp as UTF-8; returns the byte count (1..4). */
int sk_utf8_encode(char *out, uint32_t cp);

/* Unicode Normalization Form C of s[0..len) (UAX #15: canonical decomposition, canonical
 * ordering, canonical composition), malloc'ed and NUL-terminated in *out. Text that is
 * already NFC comes back unchanged; invalid bytes pass through as they are. -1 on OOM. */
int sk_utf8_nfc(const char *s, size_t len, char **out, size_t *out_len);

#endif
