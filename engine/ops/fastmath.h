/* fastmath.h - branch-free exp/tanh that the compiler can vectorize (glibc's expf and
 * tanhf are scalar calls). Same code on every machine, so results do not depend on
 * which libm vector variant happens to be installed. */
#ifndef SK_FASTMATH_H
#define SK_FASTMATH_H

#include <stdint.h>

/* e^x for float x, relative error below 3e-7 on [-87, 88] (Cephes polynomial after
 * reduction by n*ln2, ln2 split in two for exactness); clamps outside that range. */
static inline float sk_expf(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    /* round to nearest by adding and subtracting 1.5 * 2^23 (no branch, no floorf,
     * so the loop vectorizes) */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * r * r + r + 1.0f;
    union {
        int32_t i;
        float f;
    } scale = {.i = ((int32_t)n + 127) << 23};
    return e * scale.f;
}

/* tanh(u) = 1 - 2 / (e^{2u} + 1): absolute error below 5e-7 everywhere. */
static inline float sk_tanhf(float u) { return 1.0f - 2.0f / (sk_expf(2.0f * u) + 1.0f); }

#endif
