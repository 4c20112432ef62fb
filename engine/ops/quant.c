/* quant.c - ggml's tensor types (as GGUF files store them) to fp32, and quantizers for
 * Q8_0, Q4_0, Q4_1 (byte for byte ggml's reference ones) and Q4_K (a simple one).
 *
 * Dequantization is the hot path: a product turns ~1 MB blocks of rows at a time into
 * fp32, so every type is a loop over blocks whose inner loops have fixed trip counts, no
 * branches and one scale each, which the compiler vectorises. The arithmetic is ggml's
 * dequantize_row_*, operation for operation (the same products in the same order), so the
 * values are bit for bit ggml's and gguf-py's.
 *
 * Fused multiply-adds: every product in these formats is exact in fp32 (an fp16 scale has
 * 11 significant bits and the integer factors at most 12 together - Q6_K's 7-bit scale
 * times its 5-bit quant - so d * scale * q fits fp32's 24), only the final "+ m" or
 * "- dmin * min" rounds, and contracting it into an FMA cannot change a value. The quantizers are another matter:
 * trunc(x * id + 8.5) rounds the product, and an FMA (one rounding) lands on the other
 * side of an integer for some x (the fixtures hold such values), so contraction must stay
 * off here. GCC in ISO C mode (meson's c_std=c11) does not contract anyway; clang does by
 * default, and so would GCC in a GNU dialect - hence the pragmas. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <float.h>
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "sk_io.h"
#include "sk_quant.h"

#define QK 32   /* values per block of the legacy types (Q4_0 ... Q8_0) */
#define QK_K 256 /* values per super-block of the K-quants */

/* fp16 -> fp32, exact for every half. Subnormal halves go through an integer-to-float
 * conversion rather than a float multiply, so a denormals-are-zero FPU mode cannot zero
 * them. Called once per block, so the branches do not matter. */
static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, em = h & 0x7fffu, bits;
    float f;
    if (em < 0x0400u) { /* zero or subnormal: em * 2^-24 */
        f = (float)em * 0x1p-24f;
        memcpy(&bits, &f, 4);
        bits |= sign;
    } else if (em >= 0x7c00u) { /* inf, nan (payload kept, as numpy and F16C keep it) */
        bits = sign | 0x7f800000u | ((em & 0x03ffu) << 13);
    } else { /* normal: rebias the exponent from 15 to 127 */
        bits = sign | ((em << 13) + ((uint32_t)(127 - 15) << 23));
    }
    memcpy(&f, &bits, 4);
    return f;
}

/* The little-endian fp16 at p (blocks are byte-packed: no alignment to rely on). */
static inline float f16_at(const uint8_t *p) { return half_to_float((uint16_t)(p[0] | (p[1] << 8))); }

static inline void put_f16(uint8_t *p, uint16_t h) {
    p[0] = (uint8_t)(h & 0xff);
    p[1] = (uint8_t)(h >> 8);
}

/* ---- 16-bit and 32-bit floats ---------------------------------------------------------- */

static void deq_half(const void *src, float *dst, size_t n, bool bf16) {
    if (((uintptr_t)src & 1) == 0) { /* GGUF aligns tensor data: the usual case */
        sk_half_to_f32(NULL, src, dst, n, bf16);
        return;
    }
    const uint8_t *b = src;
    for (size_t i = 0; i < n; i++) {
        uint16_t h = (uint16_t)(b[2 * i] | (b[2 * i + 1] << 8));
        dst[i] = bf16 ? sk_bf16_to_f32(h) : half_to_float(h);
    }
}

/* ---- legacy types: blocks of 32 values, one fp16 scale (and min) -------------------------- */

/* Q4_0 (18 bytes): d (f16), qs[16]: value j in the low nibble of qs[j], value j + 16 in its
 * high nibble; y = (q - 8) * d. */
static void deq_q4_0(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 18, y += QK) {
        const float d = f16_at(x);
        const uint8_t *qs = x + 2;
        for (int j = 0; j < QK / 2; j++) y[j] = (float)((qs[j] & 0x0F) - 8) * d;
        for (int j = 0; j < QK / 2; j++) y[j + QK / 2] = (float)((qs[j] >> 4) - 8) * d;
    }
}

/* Q4_1 (20 bytes): d, m (f16), qs[16] nibbles as in Q4_0; y = q * d + m. */
static void deq_q4_1(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 20, y += QK) {
        const float d = f16_at(x), m = f16_at(x + 2);
        const uint8_t *qs = x + 4;
        for (int j = 0; j < QK / 2; j++) y[j] = (float)(qs[j] & 0x0F) * d + m;
        for (int j = 0; j < QK / 2; j++) y[j + QK / 2] = (float)(qs[j] >> 4) * d + m;
    }
}

static inline uint32_t u32_at(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Q5_0 (22 bytes): d (f16), qh (u32: bit j is the fifth bit of value j), qs[16] low nibbles
 * as in Q4_0; y = (q - 16) * d. */
static void deq_q5_0(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 22, y += QK) {
        const float d = f16_at(x);
        const uint32_t qh = u32_at(x + 2);
        const uint8_t *qs = x + 6;
        for (int j = 0; j < QK / 2; j++) {
            const int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + QK / 2)) & 1) << 4;
            y[j] = (float)(((qs[j] & 0x0F) | h0) - 16) * d;
            y[j + QK / 2] = (float)(((qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

/* Q5_1 (24 bytes): d, m (f16), qh (u32), qs[16] as in Q5_0; y = q * d + m. */
static void deq_q5_1(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 24, y += QK) {
        const float d = f16_at(x), m = f16_at(x + 2);
        const uint32_t qh = u32_at(x + 4);
        const uint8_t *qs = x + 8;
        for (int j = 0; j < QK / 2; j++) {
            const int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + QK / 2)) & 1) << 4;
            y[j] = (float)((qs[j] & 0x0F) | h0) * d + m;
            y[j + QK / 2] = (float)((qs[j] >> 4) | h1) * d + m;
        }
    }
}

/* Q8_0 (34 bytes): d (f16), qs[32] (int8); y = q * d. */
static void deq_q8_0(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 34, y += QK) {
        const float d = f16_at(x);
        const int8_t *qs = (const int8_t *)(x + 2);
        for (int j = 0; j < QK; j++) y[j] = (float)qs[j] * d;
    }
}

/* ---- K-quants: super-blocks of 256 values in sub-blocks of 16 or 32 ----------------------- */

/* Q2_K (84 bytes): scales[16] (per 16 values: low nibble scale, high nibble min), qs[64]
 * (2 bits a value), d, dmin (f16). Each 32 bytes of qs hold 128 values: bits 2s..2s+1 of
 * byte l are value 32s + l. y = d * scale * q - dmin * min. */
static void deq_q2_k(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 84) {
        const uint8_t *sc = x, *q = x + 16;
        const float d = f16_at(x + 80), dmin = f16_at(x + 82);
        for (int g = 0; g < 16; g++, y += 16) { /* 16 values: byte 16(g & 1) + 32(g / 8) on */
            const uint8_t *qg = q + 32 * (g / 8) + 16 * (g & 1);
            const int shift = 2 * ((g / 2) % 4);
            const float dl = d * (float)(sc[g] & 0x0F), ml = dmin * (float)(sc[g] >> 4);
            for (int l = 0; l < 16; l++) y[l] = dl * (float)((qg[l] >> shift) & 3) - ml;
        }
    }
}

/* Q3_K's 16 six-bit scales (12 bytes): the low four bits of scale j are the low nibble of
 * byte j (j < 8) or the high nibble of byte j - 8; its high two bits are bits 2(j/4).. of
 * byte 8 + j%4. Stored with an offset of 32. */
static inline void q3_k_scales(const uint8_t *s, int sc[16]) {
    for (int j = 0; j < 16; j++) {
        const int lo = j < 8 ? s[j] & 0x0F : s[j - 8] >> 4, hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (lo | (hi << 4)) - 32;
    }
}

/* Q3_K (110 bytes): hmask[32] (bit b of byte l: the third bit of value 32b + l), qs[64]
 * (low two bits, laid out as in Q2_K), scales[12] (16 six-bit scales, one per 16 values),
 * d (f16). q = low bits - 4 unless the hmask bit is set (the bit is "do not subtract");
 * y = d * scale * q. */
static void deq_q3_k(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 110) {
        const uint8_t *hm = x, *q = x + 32;
        const float d = f16_at(x + 108);
        int sc[16];
        q3_k_scales(x + 96, sc);
        for (int g = 0; g < 16; g++, y += 16) { /* as in Q2_K; hmask bit g / 2 */
            const uint8_t *qg = q + 32 * (g / 8) + 16 * (g & 1), *hg = hm + 16 * (g & 1);
            const int shift = 2 * ((g / 2) % 4), bit = g / 2;
            const float dl = d * (float)sc[g];
            for (int l = 0; l < 16; l++) y[l] = dl * (float)(((qg[l] >> shift) & 3) - 4 + (((hg[l] >> bit) & 1) << 2));
        }
    }
}

/* Q4_K/Q5_K's 8 six-bit (scale, min) pairs in 12 bytes (ggml's get_scale_min_k4): pairs
 * 0..3 are the low six bits of bytes j (scale) and j + 4 (min); pairs 4..7 take their low
 * four bits from the nibbles of byte j + 4 and their high two from the top bits of bytes
 * j - 4 (scale) and j (min). */
static inline void k4_scales(const uint8_t *q, int sc[8], int mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = q[j] & 63;
        mn[j] = q[j + 4] & 63;
        sc[j + 4] = (q[j + 8] & 0x0F) | ((q[j] >> 6) << 4);
        mn[j + 4] = (q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4);
    }
}

/* Q4_K (144 bytes): d, dmin (f16), scales[12] (8 six-bit scale/min pairs, one per 32
 * values), qs[128]: each 32 bytes hold 64 values, the low nibbles the first 32. y = d *
 * scale * q - dmin * min. */
static void deq_q4_k(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 144) {
        const float d = f16_at(x), dmin = f16_at(x + 2);
        const uint8_t *q = x + 16;
        int sc[8], mn[8];
        k4_scales(x + 4, sc, mn);
        for (int j = 0; j < 8; j += 2, q += 32, y += 64) {
            const float d1 = d * (float)sc[j], m1 = dmin * (float)mn[j];
            const float d2 = d * (float)sc[j + 1], m2 = dmin * (float)mn[j + 1];
            for (int l = 0; l < 32; l++) y[l] = d1 * (float)(q[l] & 0x0F) - m1;
            for (int l = 0; l < 32; l++) y[l + 32] = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

/* Q5_K (176 bytes): d, dmin (f16), scales[12] as in Q4_K, qh[32] (bit j of byte l: the fifth
 * bit of value l of sub-block j), qs[128] low nibbles as in Q4_K. */
static void deq_q5_k(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 176) {
        const float d = f16_at(x), dmin = f16_at(x + 2);
        const uint8_t *qh = x + 16, *q = x + 48;
        int sc[8], mn[8];
        k4_scales(x + 4, sc, mn);
        for (int j = 0; j < 8; j += 2, q += 32, y += 64) {
            const float d1 = d * (float)sc[j], m1 = dmin * (float)mn[j];
            const float d2 = d * (float)sc[j + 1], m2 = dmin * (float)mn[j + 1];
            for (int l = 0; l < 32; l++) y[l] = d1 * (float)((q[l] & 0x0F) | (((qh[l] >> j) & 1) << 4)) - m1;
            for (int l = 0; l < 32; l++) y[l + 32] = d2 * (float)((q[l] >> 4) | (((qh[l] >> (j + 1)) & 1) << 4)) - m2;
        }
    }
}

/* Q6_K (210 bytes): ql[128] (low four bits), qh[64] (high two bits), scales[16] (int8, one
 * per 16 values), d (f16). Each half of 128 values uses 64 bytes of ql and 32 of qh: value
 * l + 32k (l < 32, k < 4) has its low bits in nibble k/2 of ql[l + 32(k%2)] and its high
 * bits at bits 2k..2k+1 of qh[l]. y = d * scale * (q - 32). */
static void deq_q6_k(const uint8_t *restrict x, float *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += 210) {
        const float d = f16_at(x + 208);
        const uint8_t *ql = x, *qh = x + 128;
        const int8_t *sc = (const int8_t *)(x + 192);
        for (int g = 0; g < 16; g++, y += 16) { /* 16 values: scale g, value 16g on */
            const int k = (g / 2) % 4, off = 16 * (g & 1); /* the 32-value group within the half */
            const uint8_t *lg = ql + 64 * (g / 8) + 32 * (k & 1) + off, *hg = qh + 32 * (g / 8) + off;
            const int lshift = 4 * (k / 2), hshift = 2 * k;
            const float ds = d * (float)sc[g];
            for (int l = 0; l < 16; l++) y[l] = ds * (float)((((lg[l] >> lshift) & 0x0F) | (((hg[l] >> hshift) & 3) << 4)) - 32);
        }
    }
}

int sk_dequantize(uint32_t type, const void *src, float *dst, size_t n) {
    if (!sk_ggml_type_supported(type)) return -1;
    const size_t be = sk_ggml_block_elems(type), nb = n / be;
    if (n % be) return -1;
    const uint8_t *x = src;
    switch (type) {
    case SK_GGML_F32: if (n) memcpy(dst, src, n * sizeof(float)); return 0;
    case SK_GGML_F16: deq_half(src, dst, n, false); return 0;
    case SK_GGML_BF16: deq_half(src, dst, n, true); return 0;
    case SK_GGML_Q4_0: deq_q4_0(x, dst, nb); return 0;
    case SK_GGML_Q4_1: deq_q4_1(x, dst, nb); return 0;
    case SK_GGML_Q5_0: deq_q5_0(x, dst, nb); return 0;
    case SK_GGML_Q5_1: deq_q5_1(x, dst, nb); return 0;
    case SK_GGML_Q8_0: deq_q8_0(x, dst, nb); return 0;
    case SK_GGML_Q2_K: deq_q2_k(x, dst, nb); return 0;
    case SK_GGML_Q3_K: deq_q3_k(x, dst, nb); return 0;
    case SK_GGML_Q4_K: deq_q4_k(x, dst, nb); return 0;
    case SK_GGML_Q5_K: deq_q5_k(x, dst, nb); return 0;
    case SK_GGML_Q6_K: deq_q6_k(x, dst, nb); return 0;
    default: return -1; /* supported in the table but not here: a table/switch mismatch */
    }
}

/* ---- quantizers ------------------------------------------------------------------------- */

/* ggml's quantize_row_q8_0_ref: d = max |x| / 127, q = round(x / d) (halves away from zero). */
static void quant_q8_0(const float *restrict x, uint8_t *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += QK, y += 34) {
        float amax = 0.0f;
        for (int j = 0; j < QK; j++) amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
        const float d = amax / 127, id = d != 0.0f ? 1.0f / d : 0.0f;
        put_f16(y, sk_f32_to_f16(d));
        for (int j = 0; j < QK; j++) y[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
    }
}

/* ggml's quantize_row_q4_0_ref: d = -(the value of largest magnitude, the first one on a
 * tie) / 8, so that value is q = 0 exactly; q = trunc(x / d + 8.5), at most 15. */
static void quant_q4_0(const float *restrict x, uint8_t *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += QK, y += 18) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK; j++) {
            if (amax < fabsf(x[j])) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        }
        const float d = max / -8, id = d != 0.0f ? 1.0f / d : 0.0f;
        put_f16(y, sk_f32_to_f16(d));
        for (int j = 0; j < QK / 2; j++) {
            const int8_t a = (int8_t)(x[j] * id + 8.5f), b = (int8_t)(x[j + QK / 2] * id + 8.5f);
            const int q0 = a < 15 ? a : 15, q1 = b < 15 ? b : 15;
            y[2 + j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* ggml's quantize_row_q4_1_ref: m = min, d = (max - min) / 15, q = trunc((x - m) / d + 0.5),
 * at most 15. */
static void quant_q4_1(const float *restrict x, uint8_t *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += QK, y += 20) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 15, id = d != 0.0f ? 1.0f / d : 0.0f;
        put_f16(y, sk_f32_to_f16(d));
        put_f16(y + 2, sk_f32_to_f16(min));
        for (int j = 0; j < QK / 2; j++) {
            const int8_t a = (int8_t)((x[j] - min) * id + 0.5f), b = (int8_t)((x[j + QK / 2] - min) * id + 0.5f);
            const int q0 = a < 15 ? a : 15, q1 = b < 15 ? b : 15;
            y[4 + j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* The smallest finite fp16 >= v (v >= 0), capped at the largest finite one: a super-block
 * scale rounded up, so that the sub-block scales derived from it never need more than 6
 * bits. */
static uint16_t f16_at_least(float v) {
    if (!(v > 0.0f)) return 0;
    if (v >= 65504.0f) return 0x7bff;
    uint16_t h = sk_f32_to_f16(v);
    if (half_to_float(h) < v) h++; /* positive halves order as their bit patterns */
    return h;
}

/* A simple Q4_K quantizer (not ggml's make_qkx2_quants search): each sub-block of 32 is
 * covered by the grid -min + scale * q, q = 0..15, with min <= 0 as the format requires
 * (m = ceil(-lo / dmin)), the scale the smallest 6-bit multiple of d whose grid reaches the
 * sub-block's max, and every value rounded to its nearest grid point: |error| <= half a
 * step of its sub-block. dmin and d are rounded up to fp16 so no 6-bit field overflows. */
static void quant_q4_k(const float *restrict x, uint8_t *restrict y, size_t nb) {
    for (size_t i = 0; i < nb; i++, x += QK_K, y += 144) {
        float lo[8], hi[8], max_neg = 0.0f, max_range = 0.0f;
        for (int j = 0; j < 8; j++) {
            const float *xs = x + 32 * j;
            float a = 0.0f, b = xs[0];
            for (int l = 0; l < 32; l++) {
                a = xs[l] < a ? xs[l] : a;
                b = xs[l] > b ? xs[l] : b;
            }
            lo[j] = a, hi[j] = b;
            max_neg = -a > max_neg ? -a : max_neg;
            max_range = b - a > max_range ? b - a : max_range;
        }
        /* m = ceil(-lo / M) <= 63 needs M >= max(-lo) / 63; then hi + dm < range + M, and
         * sc = ceil((hi + dm) / (15 D)) <= 63 needs D >= (max range + M) / (15 * 63). */
        const uint16_t mh = f16_at_least(max_neg / 63);
        const float M = half_to_float(mh);
        const uint16_t dh = f16_at_least((max_range + M) / (15 * 63));
        const float D = half_to_float(dh);
        put_f16(y, dh);
        put_f16(y + 2, mh);
        int sc[8], mn[8];
        uint8_t L[QK_K];
        for (int j = 0; j < 8; j++) {
            int m = M > 0.0f ? (int)ceilf(-lo[j] / M) : 0;
            m = m < 0 ? 0 : m > 63 ? 63 : m;
            const float dm = M * (float)m; /* exactly what the decoder computes */
            int s = D > 0.0f ? (int)ceilf((hi[j] + dm) / (15 * D)) : 0;
            s = s < 0 ? 0 : s > 63 ? 63 : s;
            const float ds = D * (float)s, ids = ds > 0.0f ? 1.0f / ds : 0.0f;
            sc[j] = s, mn[j] = m;
            for (int l = 0; l < 32; l++) {
                const int q = (int)floorf((x[32 * j + l] + dm) * ids + 0.5f);
                L[32 * j + l] = (uint8_t)(q < 0 ? 0 : q > 15 ? 15 : q);
            }
        }
        uint8_t *s = y + 4, *q = y + 16;
        for (int j = 0; j < 4; j++) { /* the inverse of k4_scales */
            s[j] = (uint8_t)(sc[j] | ((sc[j + 4] >> 4) << 6));
            s[j + 4] = (uint8_t)(mn[j] | ((mn[j + 4] >> 4) << 6));
            s[j + 8] = (uint8_t)((sc[j + 4] & 0x0F) | ((mn[j + 4] & 0x0F) << 4));
        }
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) q[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

int sk_quantize(uint32_t type, const float *src, void *dst, size_t n) {
    const size_t be = sk_ggml_block_elems(type);
    if (!be || n % be) return -1;
    const size_t nb = n / be;
    switch (type) {
    case SK_GGML_Q8_0: quant_q8_0(src, dst, nb); return 0;
    case SK_GGML_Q4_0: quant_q4_0(src, dst, nb); return 0;
    case SK_GGML_Q4_1: quant_q4_1(src, dst, nb); return 0;
    case SK_GGML_Q4_K: quant_q4_k(src, dst, nb); return 0;
    default: return -1;
    }
}
