/* rope.c - rotary position embeddings as Hugging Face applies them to Llama-family
 * queries and keys: the "rotate half" layout (dimension i pairs with i + d/2, not with
 * its neighbour), inverse frequencies theta^(-2i/d) with the linear, dynamic (NTK) and
 * llama3 scalings, and angles computed as HF does in float32 (position * inv_freq
 * rounded to float, then cos/sin) so long positions match PyTorch. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

void sk_rope_inv_freq(const SkRopeConfig *c, int seq_len, float *inv_freq) {
    int half = c->dim / 2;
    double base = c->theta;
    if (c->type == SK_ROPE_DYNAMIC && seq_len > c->max_pos) /* NTK-aware: a larger base */
        base = c->theta * pow(c->factor * seq_len / c->max_pos - (c->factor - 1.0), (double)c->dim / (c->dim - 2));
    for (int i = 0; i < half; i++) {
        /* HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), in float32 */
        float expo = (float)(2 * i) / (float)c->dim;
        float f = (float)(1.0 / pow(base, expo));
        if (c->type == SK_ROPE_LINEAR) f = f / c->factor;
        if (c->type == SK_ROPE_LLAMA3) {
            double wavelen = 2.0 * M_PI / f;
            double low_wavelen = c->original_max / c->low_freq_factor;
            double high_wavelen = c->original_max / c->high_freq_factor;
            if (wavelen > low_wavelen) {
                f = f / c->factor;
            } else if (wavelen >= high_wavelen) { /* between the two: interpolate */
                double smooth = (c->original_max / wavelen - c->low_freq_factor) /
                                (c->high_freq_factor - c->low_freq_factor);
                f = (float)((1.0 - smooth) * f / c->factor + smooth * f);
            }
        }
        inv_freq[i] = f;
    }
}

/* Rows b*T + t (row stride rs) sit at position pos0 + t; each holds H heads of dh. The
 * first `dim` entries of a head rotate (partial rotary), the rest pass through. sign -1:
 * the inverse rotation, which is the backward of the forward one. */
static void rotate(float *x, int rs, int pos0, int B, int T, int H, int dh, int dim, const float *inv_freq,
                   float sign) {
    int half = dim / 2;
    float cs[SK_ROPE_MAX_DIM / 2], sn[SK_ROPE_MAX_DIM / 2];
    for (int t = 0; t < T; t++) {
        float pos = (float)(pos0 + t);
        for (int i = 0; i < half; i++) {
            float a = pos * inv_freq[i];
            cs[i] = cosf(a), sn[i] = sign * sinf(a);
        }
        for (int b = 0; b < B; b++) {
            float *row = x + ((size_t)b * T + t) * rs;
            for (int h = 0; h < H; h++) {
                float *v = row + (size_t)h * dh;
                for (int i = 0; i < half; i++) {
                    float x1 = v[i], x2 = v[i + half];
                    v[i] = x1 * cs[i] - x2 * sn[i];
                    v[i + half] = x2 * cs[i] + x1 * sn[i];
                }
            }
        }
    }
}

void sk_rope_forward(float *x, int rs, int pos0, int B, int T, int H, int dh, int dim, const float *inv_freq) {
    rotate(x, rs, pos0, B, T, H, dh, dim, inv_freq, 1.0f);
}

void sk_rope_backward(float *dx, int rs, int pos0, int B, int T, int H, int dh, int dim, const float *inv_freq) {
    rotate(dx, rs, pos0, B, T, H, dh, dim, inv_freq, -1.0f);
}
