/* test_quant.c - ggml's tensor types against llama.cpp's own Python package gguf
 * (tests/reference/gen_quant.py wrote the fixtures in tests/fixtures/quant/):
 *   - the type table matches gguf.constants (numbers, names, block sizes);
 *   - every supported type dequantizes bit for bit as gguf.quants.dequantize does, from
 *     aligned and unaligned memory, without writing past its n values;
 *   - Q8_0, Q4_0, Q4_1 quantize byte for byte as gguf.quants.quantize (ggml's reference
 *     quantizers) does;
 *   - Q4_K's quantizer puts every value within half a step of its sub-block's grid, with a
 *     grid no coarser than the sub-block's range needs;
 *   - ragged lengths and unknown types are refused. */
#include <stdint.h>

#include "sk_io.h"
#include "sk_quant.h"
#include "testutil.h"

static const char *fixtures;

static char *read_fixture(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/quant/%s", fixtures, name);
    char *raw;
    SkError err;
    REQUIRE(sk_read_file(path, &raw, len, &err) == 0, "%s", err.msg);
    return raw;
}

static SkTensor load_npy(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/quant/%s", fixtures, name);
    SkTensor t;
    SkError err;
    REQUIRE(sk_npy_load(path, &t, &err) == 0, "%s", err.msg);
    return t;
}

/* ---- the type table ------------------------------------------------------------------- */

static void test_table(void) {
    size_t len;
    char *txt = read_fixture("types.txt", &len);
    bool in_gguf[256] = {false};
    int rows = 0;
    for (char *line = strtok(txt, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned num, elems, bytes;
        char name[64];
        if (line[0] == '#' || sscanf(line, "%u %63s %u %u", &num, name, &elems, &bytes) != 4) continue;
        rows++;
        if (num < 256) in_gguf[num] = true;
        const char *ours = sk_ggml_type_name(num);
        CHECK(ours && strcmp(ours, name) == 0, "type %u: named %s, gguf says %s", num, ours ? ours : "NULL", name);
        /* gguf-py's Q8_1 size is that of its old layout (fp32 d and s: 40 bytes); ggml's
         * block_q8_1 holds two fp16s and 32 int8: 36. */
        unsigned want = num == SK_GGML_Q8_1 ? 36 : bytes;
        if (num == SK_GGML_Q8_1) CHECK(bytes == 40, "gguf-py's Q8_1 is %u bytes now: drop the exception", bytes);
        CHECK(sk_ggml_block_elems(num) == elems && sk_ggml_block_bytes(num) == want,
              "%s: %zu values / %zu bytes a block, ggml has %u / %u", name, sk_ggml_block_elems(num),
              sk_ggml_block_bytes(num), elems, want);
    }
    free(txt);
    CHECK(rows >= 30, "types.txt has %d types", rows);
    /* Numbers gguf does not know are unknown here too, or the retired repacked types, which
     * ggml still names but gives no layout. */
    int extra = 0;
    for (uint32_t t = 0; t < 256; t++) {
        if (in_gguf[t] || !sk_ggml_type_name(t)) continue;
        extra++;
        CHECK(sk_ggml_block_elems(t) == 0 && sk_ggml_block_bytes(t) == 0 && !sk_ggml_type_supported(t),
              "type %u (%s) is not in gguf but has a layout", t, sk_ggml_type_name(t));
    }
    CHECK(extra == 6, "%d named types beyond gguf's (the 6 retired Q4_0_4_4 ... IQ4_NL_8_8)", extra);
    CHECK(sk_ggml_type_name(4) == NULL && sk_ggml_type_name(SK_GGML_TYPE_COUNT) == NULL &&
              sk_ggml_type_name(1000) == NULL && sk_ggml_type_name(UINT32_MAX) == NULL,
          "unknown numbers have no name");

    const uint32_t supported[] = {SK_GGML_F32, SK_GGML_F16, SK_GGML_BF16, SK_GGML_Q4_0, SK_GGML_Q4_1,
                                  SK_GGML_Q5_0, SK_GGML_Q5_1, SK_GGML_Q8_0, SK_GGML_Q2_K, SK_GGML_Q3_K,
                                  SK_GGML_Q4_K, SK_GGML_Q5_K, SK_GGML_Q6_K};
    int n_supported = 0;
    for (uint32_t t = 0; t < 1024; t++) n_supported += sk_ggml_type_supported(t);
    CHECK(n_supported == 13, "%d supported types", n_supported);
    for (size_t i = 0; i < sizeof supported / sizeof supported[0]; i++)
        CHECK(sk_ggml_type_supported(supported[i]), "%s not supported", sk_ggml_type_name(supported[i]));
    const uint32_t unsupported[] = {SK_GGML_Q8_1, SK_GGML_Q8_K, 4, 16, 20, 24, 28, 31, 34, 39, 41, 42, 1000, UINT32_MAX};
    float out[256];
    unsigned char zeros[512] = {0};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        uint32_t t = unsupported[i];
        CHECK(!sk_ggml_type_supported(t), "type %u supported", t);
        CHECK(sk_dequantize(t, zeros, out, 256) == -1, "type %u dequantized", t);
    }
    CHECK(sk_quantize(SK_GGML_F32, out, zeros, 32) == -1 && sk_quantize(SK_GGML_Q5_0, out, zeros, 32) == -1 &&
              sk_quantize(SK_GGML_Q6_K, out, zeros, 256) == -1 && sk_quantize(1000, out, zeros, 32) == -1,
          "a quantizer for a type without one");

    /* Row sizes: whole blocks only. */
    CHECK(sk_ggml_row_bytes(SK_GGML_Q4_K, 512) == 288 && sk_ggml_row_bytes(SK_GGML_Q4_0, 64) == 36 &&
              sk_ggml_row_bytes(SK_GGML_F16, 7) == 14 && sk_ggml_row_bytes(SK_GGML_F32, 3) == 12 &&
              sk_ggml_row_bytes(SK_GGML_Q6_K, 0) == 0 && sk_ggml_row_bytes(SK_GGML_Q8_0, 4096) == 4352,
          "row sizes");
    CHECK(sk_ggml_row_bytes(SK_GGML_Q4_K, 255) == 0 && sk_ggml_row_bytes(SK_GGML_Q4_K, 257) == 0 &&
              sk_ggml_row_bytes(SK_GGML_Q4_0, 33) == 0 && sk_ggml_row_bytes(SK_GGML_Q8_0, 16) == 0 &&
              sk_ggml_row_bytes(SK_GGML_Q4_0, -32) == 0,
          "a ragged row has a size");
    CHECK(sk_ggml_row_bytes(4, 32) == 0 && sk_ggml_row_bytes(31, 32) == 0 && sk_ggml_row_bytes(1000, 32) == 0,
          "an unknown type's row has a size");
    CHECK(sk_ggml_row_bytes(SK_GGML_F32, INT64_MAX) == 0, "a row bigger than memory has a size");
    CHECK(sk_dequantize(SK_GGML_Q4_0, zeros, out, 31) == -1 && sk_dequantize(SK_GGML_Q4_K, zeros, out, 32) == -1 &&
              sk_quantize(SK_GGML_Q8_0, out, zeros, 48) == -1 && sk_quantize(SK_GGML_Q4_K, out, zeros, 128) == -1,
          "a ragged length accepted");
    printf("  type table: %d types as gguf.constants numbers and sizes them (Q8_1: ggml's 36 bytes)\n", rows);
}

/* ---- dequantization ---------------------------------------------------------------------- */

/* Counts values whose bits differ (so -0 vs 0 and NaN payloads count); *max_diff is the
 * largest |difference| among those that differ and are not NaN. */
static size_t bit_diffs(const float *a, const float *b, size_t n, double *max_diff) {
    size_t bad = 0;
    *max_diff = 0;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], 4) == 0) continue;
        if (bad < 3) printf("    value %zu: %.9g, expected %.9g\n", i, (double)a[i], (double)b[i]);
        bad++;
        double d = fabs((double)a[i] - (double)b[i]);
        if (d == d && d > *max_diff) *max_diff = d;
    }
    return bad;
}

static void test_dequant(uint32_t type) {
    const char *name = sk_ggml_type_name(type);
    char fn[64];
    snprintf(fn, sizeof fn, "%s.bin", name);
    size_t len;
    char *raw = read_fixture(fn, &len);
    snprintf(fn, sizeof fn, "%s.npy", name);
    SkTensor want = load_npy(fn);
    size_t n = want.numel;
    REQUIRE(sk_ggml_row_bytes(type, (int64_t)n) == len, "%s: %zu bytes for %zu values", name, len, n);

    float *out = malloc(sizeof(float) * (n + 1));
    out[n] = 12345.0f; /* a sentinel: nothing past the n values is written */
    CHECK(sk_dequantize(type, raw, out, n) == 0, "%s: dequantize failed", name);
    double max_diff;
    size_t bad = bit_diffs(out, want.data, n, &max_diff);
    CHECK(bad == 0, "%s: %zu of %zu values differ from gguf.quants.dequantize (max |diff| %.3g)", name, bad, n,
          max_diff);
    CHECK(out[n] == 12345.0f, "%s: wrote past the end", name);

    /* The same bytes at an odd address (blocks are byte-packed; F16/BF16 take another path). */
    char *odd = malloc(len + 1);
    memcpy(odd + 1, raw, len);
    memset(out, 0, sizeof(float) * n);
    CHECK(sk_dequantize(type, odd + 1, out, n) == 0, "%s: unaligned dequantize failed", name);
    size_t bad_odd = bit_diffs(out, want.data, n, &max_diff);
    CHECK(bad_odd == 0, "%s: %zu values differ when read from an odd address", name, bad_odd);

    /* Row by row (one block at a time) gives the same values as all at once. */
    size_t be = sk_ggml_block_elems(type), bb = sk_ggml_block_bytes(type), rows_bad = 0;
    for (size_t b = 0; b < n / be; b++) {
        float blk[256];
        sk_dequantize(type, raw + b * bb, blk, be);
        rows_bad += memcmp(blk, want.data + b * be, be * sizeof(float)) != 0;
    }
    CHECK(rows_bad == 0, "%s: %zu blocks differ when dequantized one at a time", name, rows_bad);
    if (!bad && !bad_odd) printf("  %-4s: %4zu values bit for bit as gguf.quants.dequantize\n", name, n);
    free(odd), free(out), free(raw);
    sk_tensor_free(&want);
}

/* Every one of the 65536 halves, aligned and not, against the plain converter. */
static void test_f16_all(void) {
    uint16_t *h = malloc(2 * 65536 + 2);
    float *out = malloc(sizeof(float) * 65536);
    for (uint32_t i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    for (int odd = 0; odd < 2; odd++) {
        const void *src = h;
        if (odd) {
            memmove((char *)h + 1, h, 2 * 65536);
            src = (char *)h + 1;
        }
        sk_dequantize(SK_GGML_F16, src, out, 65536);
        int bad = 0;
        for (uint32_t i = 0; i < 65536; i++) {
            float want = sk_f16_to_f32((uint16_t)i);
            bad += memcmp(&out[i], &want, 4) != 0;
        }
        CHECK(bad == 0, "F16 (%s): %d of 65536 halves convert wrongly", odd ? "unaligned" : "aligned", bad);
    }
    printf("  F16 : all 65536 halves (subnormals, inf, NaN payloads), aligned and not\n");
    free(h), free(out);
}

/* ---- quantizers ------------------------------------------------------------------------- */

static void test_quantize_exact(uint32_t type) {
    const char *name = sk_ggml_type_name(type);
    char fn[64];
    snprintf(fn, sizeof fn, "%s.bin", name);
    size_t len;
    char *want = read_fixture(fn, &len);
    snprintf(fn, sizeof fn, "%s_src.npy", name);
    SkTensor src = load_npy(fn);
    size_t nbytes = sk_ggml_row_bytes(type, (int64_t)src.numel);
    REQUIRE(nbytes == len, "%s: %zu bytes expected, the fixture has %zu", name, nbytes, len);
    unsigned char *got = malloc(nbytes + 1);
    got[nbytes] = 0xA5;
    CHECK(sk_quantize(type, src.data, got, src.numel) == 0, "%s: quantize failed", name);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < nbytes; i++)
        if (got[i] != (unsigned char)want[i] && bad++ == 0) first = i;
    CHECK(bad == 0, "%s: %zu of %zu bytes differ from gguf.quants.quantize (first: byte %zu of block %zu, %02x vs %02x)",
          name, bad, nbytes, first % sk_ggml_block_bytes(type), first / sk_ggml_block_bytes(type), got[first],
          (unsigned char)want[first]);
    CHECK(got[nbytes] == 0xA5, "%s: quantize wrote past the end", name);
    if (!bad) printf("  %-4s: quantizes %zu values byte for byte as gguf.quants.quantize\n", name, src.numel);
    free(got), free(want);
    sk_tensor_free(&src);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static double uniform(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) * 0x1.0p-53;
}
static float normal(void) { return (float)(sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform())); }

static float f16_bits(const unsigned char *p) { return sk_f16_to_f32((uint16_t)(p[0] | (p[1] << 8))); }

/* Q4_K round trip: for every sub-block of 32, decoded from the bytes independently of the
 * engine (ggml's get_scale_min_k4), the grid -dm + ds * q covers the values and every
 * value comes back within half a step ds / 2 of itself (plus float rounding); and the step
 * is no coarser than the range (plus dmin's rounding) needs: ds <= (range + dmin) / 15 + d. */
static void test_q4_k(void) {
    enum { ROWS = 10, N = 1024 };
    float *x = malloc(sizeof(float) * ROWS * N), *y = malloc(sizeof(float) * ROWS * N);
    for (int r = 0; r < ROWS; r++) {
        for (int i = 0; i < N; i++) {
            float v = normal(), *p = &x[r * N + i];
            switch (r) {
            case 0: case 1: *p = v; break;
            case 2: *p = 0.0f; break;                              /* zeros */
            case 3: *p = 0.2f * v + 1.0f; break;                   /* all positive */
            case 4: *p = 0.2f * v - 1.0f; break;                   /* all negative */
            case 5: *p = i == 300 ? 1e4f : v; break;               /* an outlier */
            case 6: *p = 1e-3f * v; break;                         /* small */
            case 7: *p = 1e-6f * v; break;                         /* fp16 scales subnormal */
            case 8: *p = (i / 32) % 3 == 0 ? -0.75f : 40.0f * v; break; /* constant sub-blocks */
            default: *p = (float)(i % 32) * 0.1f * (i % 64 < 32 ? 1.0f : -1.0f); break; /* ramps */
            }
        }
    }
    size_t nbytes = sk_ggml_row_bytes(SK_GGML_Q4_K, N) * ROWS;
    unsigned char *q = malloc(nbytes);
    REQUIRE(sk_quantize(SK_GGML_Q4_K, x, q, (size_t)ROWS * N) == 0, "Q4_K quantize failed");
    REQUIRE(sk_dequantize(SK_GGML_Q4_K, q, y, (size_t)ROWS * N) == 0, "Q4_K dequantize failed");
    int bad_err = 0, bad_step = 0, bad_low = 0;
    double worst = 0, sq = 0, sx = 0; /* worst error in steps; squared error and signal of rows 0, 1 */
    for (size_t b = 0; b < nbytes / 144; b++) {
        const unsigned char *blk = q + 144 * b, *s = blk + 4;
        const float d = f16_bits(blk), dmin = f16_bits(blk + 2);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            if (j < 4) sc = s[j] & 63, m = s[j + 4] & 63;
            else sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
            const float ds = d * (float)sc, dm = dmin * (float)m;
            const float *xs = x + 256 * b + 32 * j, *ys = y + 256 * b + 32 * j;
            float lo = 0.0f, hi = xs[0], amax = 0.0f;
            for (int l = 0; l < 32; l++) {
                lo = fminf(lo, xs[l]), hi = fmaxf(hi, xs[l]), amax = fmaxf(amax, fabsf(xs[l]));
            }
            const double tol = 1e-6 * ((double)amax + dm) + 1e-30;
            for (int l = 0; l < 32; l++) {
                double e = fabs((double)ys[l] - (double)xs[l]);
                if (b < 2 * N / 256) sq += e * e, sx += (double)xs[l] * xs[l];
                if (e > 0.5 * ds + tol) {
                    if (bad_err++ < 3) printf("    block %zu sub %d value %d: %g -> %g (step %g)\n", b, j, l,
                                              (double)xs[l], (double)ys[l], (double)ds);
                }
                if (ds > 0 && e / ds > worst) worst = e / ds;
            }
            bad_step += ds > (hi - lo + dmin) / 15 + d + tol;
            bad_low += -dm > lo + tol; /* the grid's bottom is at or below the sub-block's min */
        }
    }
    CHECK(bad_err == 0, "Q4_K: %d values further than half a step from their grid", bad_err);
    CHECK(bad_step == 0, "Q4_K: %d sub-blocks with a step coarser than their range needs", bad_step);
    CHECK(bad_low == 0, "Q4_K: %d sub-blocks whose grid starts above their min", bad_low);
    /* Normal data: a sub-block spans ~4.1 sigma, a step ~1/15 of that, the rms error ~step / sqrt(12). */
    double rel = sqrt(sq / sx);
    CHECK(rel < 0.1, "Q4_K: rms error %.3g of the rms value on normal data", rel);
    printf("  Q4_K: %d values round trip within %.3f of a step (normal data: rms error %.3g of rms value)\n",
           ROWS * N, worst, rel);
    free(x), free(y), free(q);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    test_table();
    const uint32_t types[] = {SK_GGML_F32, SK_GGML_F16, SK_GGML_BF16, SK_GGML_Q4_0, SK_GGML_Q4_1,
                              SK_GGML_Q5_0, SK_GGML_Q5_1, SK_GGML_Q8_0, SK_GGML_Q2_K, SK_GGML_Q3_K,
                              SK_GGML_Q4_K, SK_GGML_Q5_K, SK_GGML_Q6_K};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) test_dequant(types[i]);
    test_f16_all();
    test_quantize_exact(SK_GGML_Q8_0);
    test_quantize_exact(SK_GGML_Q4_0);
    test_quantize_exact(SK_GGML_Q4_1);
    test_q4_k();
    return tu_finish("quant");
}
