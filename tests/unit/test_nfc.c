/* test_nfc.c - sk_utf8_nfc against the Unicode conformance file NormalizationTest.txt
 * (Debian's unicode-data, decompressed by the build): for every line c1;c2;c3;c4;c5,
 * c2 == NFC(c1) == NFC(c2) == NFC(c3) and c4 == NFC(c4) == NFC(c5); every code point not
 * listed in Part 1 is its own NFC. Invalid bytes pass through unchanged. */
#include <stdbool.h>
#include <stdint.h>

#include "testutil.h"
#include "tokenizer/unicode.h"

/* "0044 0307" -> UTF-8 */
static size_t parse_field(const char *f, const char *end, char *out) {
    size_t n = 0;
    while (f < end) {
        char *next;
        unsigned long cp = strtoul(f, &next, 16);
        if (next == f) break;
        n += (size_t)sk_utf8_encode(out + n, (uint32_t)cp);
        f = next;
        while (f < end && *f == ' ') f++;
    }
    out[n] = 0;
    return n;
}

static bool nfc_is(const char *in, size_t in_len, const char *want, size_t want_len) {
    char *got;
    size_t got_len;
    if (sk_utf8_nfc(in, in_len, &got, &got_len) != 0) return false;
    bool ok = got_len == want_len && memcmp(got, want, want_len) == 0;
    free(got);
    return ok;
}

int main(int argc, char **argv) {
    REQUIRE(argc > 2, "usage: test_nfc FIXTURES NormalizationTest.txt");
    FILE *f = fopen(argv[2], "r");
    REQUIRE(f, "cannot open %s", argv[2]);
    static bool listed[0x110000];
    char line[4096], c[5][512];
    size_t cl[5];
    int part = -1, lines = 0, wrong = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '@') {
            part = atoi(line + 5);
            continue;
        }
        if (line[0] == '#' || line[0] == '\n') continue;
        const char *p = line;
        for (int k = 0; k < 5; k++) {
            const char *semi = strchr(p, ';');
            REQUIRE(semi, "line without five fields: %s", line);
            cl[k] = parse_field(p, semi, c[k]);
            p = semi + 1;
        }
        if (part == 1) {
            uint32_t cp;
            sk_utf8_decode((const unsigned char *)c[0], cl[0], &cp);
            listed[cp] = true;
        }
        bool ok = nfc_is(c[0], cl[0], c[1], cl[1]) && nfc_is(c[1], cl[1], c[1], cl[1]) &&
                  nfc_is(c[2], cl[2], c[1], cl[1]) && nfc_is(c[3], cl[3], c[3], cl[3]) &&
                  nfc_is(c[4], cl[4], c[3], cl[3]);
        if (!ok && wrong++ < 10) printf("FAIL NFC conformance: %s", line);
        lines++;
    }
    fclose(f);
    CHECK(lines > 15000, "only %d conformance lines read", lines);
    CHECK(wrong == 0, "%d of %d conformance lines wrong", wrong, lines);
    int invariant_wrong = 0, invariant = 0;
    for (uint32_t cp = 1; cp < 0x110000; cp++) {
        if (listed[cp] || (cp >= 0xd800 && cp <= 0xdfff)) continue;
        char s[8];
        size_t n = (size_t)sk_utf8_encode(s, cp);
        invariant++;
        if (!nfc_is(s, n, s, n) && invariant_wrong++ < 10) printf("FAIL U+%04X is not its own NFC\n", cp);
    }
    CHECK(invariant_wrong == 0, "%d of %d unlisted code points changed", invariant_wrong, invariant);
    const char raw[] = "e\xcc\x81\xff\x80x\xcc\x81"; /* e + acute, two invalid bytes, x + acute */
    CHECK(nfc_is(raw, sizeof raw - 1, "\xc3\xa9\xff\x80x\xcc\x81", 7), "invalid bytes pass through");
    printf("  %d conformance lines, %d unlisted code points unchanged\n", lines, invariant);
    return tu_finish("nfc");
}
