/* swiglu.c - the gated MLP activation of Llama-family models: out = silu(gate) * up,
 * where gate and up are the two input projections (HF: act_fn(gate_proj(x)) * up_proj(x)). */
#include <math.h>

#include "ops/ops.h"

void sk_swiglu_forward(float *out, const float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

/* d(gate) += dout * up * silu'(gate),  silu'(g) = s(g) (1 + g (1 - s(g)));  d(up) += dout * silu(gate) */
void sk_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float g = gate[i], s = 1.0f / (1.0f + expf(-g));
        if (dgate) dgate[i] += dout[i] * up[i] * s * (1.0f + g * (1.0f - s));
        if (dup) dup[i] += dout[i] * g * s;
    }
}
