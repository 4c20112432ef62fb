/* residual.c - element-wise sums for residual streams. */
#include "ops/ops.h"

void sk_add(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void sk_add_inplace(float *out, const float *a, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] += a[i];
}
