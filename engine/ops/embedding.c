/* embedding.c - token (+ learned position) embeddings. */
#include <string.h>

#include "ops/ops.h"

void sk_embedding_forward(float *out, const int32_t *ids, SkMat wte, SkMat wpe, int pos0, int B, int T, int C) {
    bool positions = sk_mat_present(wpe);
    float *p = positions ? sk_mat_scratch((size_t)C) : NULL;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            sk_mat_read(wte, (size_t)ids[b * T + t] * C, (size_t)C, o);
            if (!positions) continue;
            if (wpe.f) {
                const float *pf = wpe.f + (size_t)(pos0 + t) * C;
                for (int i = 0; i < C; i++) o[i] += pf[i];
            } else {
                sk_mat_read(wpe, (size_t)(pos0 + t) * C, (size_t)C, p);
                for (int i = 0; i < C; i++) o[i] += p[i];
            }
        }
}

void sk_embedding_backward(float *dwte, float *dwpe, const float *dout, const int32_t *ids,
                           int pos0, int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            if (dwte) {
                float *g = dwte + (size_t)ids[b * T + t] * C;
                for (int i = 0; i < C; i++) g[i] += d[i];
            }
            if (dwpe) {
                float *g = dwpe + (size_t)(pos0 + t) * C;
                for (int i = 0; i < C; i++) g[i] += d[i];
            }
        }
}
