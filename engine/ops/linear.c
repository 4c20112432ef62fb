/* linear.c - y = x W^T + b and its backward, all through OpenBLAS sgemm. */
#include <cblas.h>
#include <stdint.h>
#include <string.h>

#include "ops/ops.h"

/* Puts the bias into out (added, or written when not accumulating); returns the beta the
 * product then uses. */
static float add_bias(float *out, const float *b, int N, int Out, bool accumulate) {
    if (accumulate) {
        if (b)
            for (int n = 0; n < N; n++) {
                float *row = out + (size_t)n * Out;
                for (int o = 0; o < Out; o++) row[o] += b[o];
            }
        return 1.0f;
    }
    if (!b) return 0.0f;
    for (int n = 0; n < N; n++) memcpy(out + (size_t)n * Out, b, (size_t)Out * sizeof(float));
    return 1.0f;
}

void sk_linear_forward(float *out, const float *inp, const float *W, const float *b, int N, int In,
                       int Out, bool accumulate) {
    float beta = add_bias(out, b, N, Out, accumulate);
    /* out[N,Out] = inp[N,In] @ W[Out,In]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, Out, In, 1.0f, inp, In, W, In, beta, out, Out);
}

void sk_linear_backward(float *dinp, float *dW, float *db, const float *dout, const float *inp,
                        const float *W, int N, int In, int Out) {
    if (dinp) /* dinp[N,In] += dout[N,Out] @ W[Out,In] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, In, Out, 1.0f, dout, Out, W, In, 1.0f,
                    dinp, In);
    if (dW) /* dW[Out,In] += dout^T[Out,N] @ inp[N,In] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Out, In, N, 1.0f, dout, Out, inp, In, 1.0f,
                    dW, In);
    if (db)
        for (int n = 0; n < N; n++) {
            const float *row = dout + (size_t)n * Out;
            for (int o = 0; o < Out; o++) db[o] += row[o];
        }
}

void sk_linear_backward_weights(float *dW, float *db, const float *dout, int dout_rs, const float *inp, int N,
                                int In, int Out) {
    if (dW) /* dW[Out,In] += dout^T @ inp, dout rows dout_rs apart */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Out, In, N, 1.0f, dout, dout_rs, inp, In, 1.0f,
                    dW, In);
    if (db)
        for (int n = 0; n < N; n++) {
            const float *row = dout + (size_t)n * dout_rs;
            for (int o = 0; o < Out; o++) db[o] += row[o];
        }
}

static int block_rows(int In) {
    size_t rows = SK_MAT_BLOCK_FLOATS / (size_t)In;
    return rows < 1 ? 1 : rows > (size_t)INT32_MAX ? INT32_MAX : (int)rows;
}

void sk_linear_forward_m(SkPool *pool, float *out, const float *inp, SkMat W, const float *b, int N, int In,
                         int Out, bool accumulate) {
    if (W.f && !W.rest) {
        sk_linear_forward(out, inp, W.f, b, N, In, Out, accumulate);
        return;
    }
    float beta = add_bias(out, b, N, Out, accumulate);
    int rows = block_rows(In);
    float *w = sk_mat_scratch((size_t)(rows < Out ? rows : Out) * In);
    for (int r0 = 0; r0 < Out; r0 += rows) { /* out[:, r0:r0+nr] = inp @ W[r0:r0+nr]^T */
        int nr = Out - r0 < rows ? Out - r0 : rows;
        sk_mat_to_f32(pool, W, (size_t)r0 * In, (size_t)nr * In, w);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, nr, In, 1.0f, inp, In, w, In, beta, out + r0, Out);
    }
}

void sk_linear_backward_m(SkPool *pool, float *dinp, float *dW, float *db, const float *dout, const float *inp,
                          SkMat W, int N, int In, int Out) {
    if (W.f && !W.rest) {
        sk_linear_backward(dinp, dW, db, dout, inp, W.f, N, In, Out);
        return;
    }
    sk_linear_backward_weights(NULL, db, dout, Out, inp, N, In, Out); /* dW: never for 16-bit weights */
    (void)dW;
    if (!dinp) return;
    int rows = block_rows(In);
    float *w = sk_mat_scratch((size_t)(rows < Out ? rows : Out) * In);
    for (int r0 = 0; r0 < Out; r0 += rows) { /* dinp += dout[:, r0:r0+nr] @ W[r0:r0+nr] */
        int nr = Out - r0 < rows ? Out - r0 : rows;
        sk_mat_to_f32(pool, W, (size_t)r0 * In, (size_t)nr * In, w);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, In, nr, 1.0f, dout + r0, Out, w, In, 1.0f, dinp,
                    In);
    }
}

/* Whether element i survives dropout p under seed (splitmix64 hash: uniform, repeatable). */
static inline bool keep(uint64_t seed, size_t i, float p) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53 >= p;
}

void sk_lowrank_forward(SkLowRank *lr, float *out, const float *inp, int N, int In, int Out) {
    int r = lr->r;
    if (lr->dropout > 0) { /* x = dropout(inp) */
        float s = 1.0f / (1.0f - lr->dropout);
        for (size_t i = 0; i < (size_t)N * In; i++) lr->xd[i] = keep(lr->seed, i, lr->dropout) ? inp[i] * s : 0.0f;
        inp = lr->xd;
    }
    /* u[N,r] = x[N,In] @ A[r,In]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, r, In, 1.0f, inp, In, lr->A, In, 0.0f,
                lr->u, r);
    /* out[N,Out] += scale * u[N,r] @ B[Out,r]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, Out, r, lr->scale, lr->u, r, lr->B, r,
                1.0f, out, lr->out_rs ? lr->out_rs : Out);
}

void sk_lowrank_backward(SkLowRank *lr, float *dinp, const float *dout, const float *inp, int N,
                         int In, int Out) {
    int r = lr->r, ld = lr->out_rs ? lr->out_rs : Out;
    if (lr->dB) /* dB[Out,r] += scale * dout^T[Out,N] @ u[N,r] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Out, r, N, lr->scale, dout, ld, lr->u, r,
                    1.0f, lr->dB, r);
    if (!lr->dA && !dinp) return;
    /* du[N,r] = scale * dout[N,Out] @ B[Out,r] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, r, Out, lr->scale, dout, ld, lr->B, r,
                0.0f, lr->du, r);
    const float *x = lr->dropout > 0 ? lr->xd : inp;
    if (lr->dA) /* dA[r,In] += du^T[r,N] @ x[N,In] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, In, N, 1.0f, lr->du, r, x, In,
                    1.0f, lr->dA, In);
    if (!dinp) return;
    if (lr->dropout <= 0) { /* dinp[N,In] += du[N,r] @ A[r,In] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, In, r, 1.0f, lr->du, r, lr->A, In,
                    1.0f, dinp, In);
        return;
    }
    /* dx = du A (into xd, no longer needed), then through the mask */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, In, r, 1.0f, lr->du, r, lr->A, In, 0.0f,
                lr->xd, In);
    float s = 1.0f / (1.0f - lr->dropout);
    for (size_t i = 0; i < (size_t)N * In; i++)
        if (keep(lr->seed, i, lr->dropout)) dinp[i] += lr->xd[i] * s;
}
