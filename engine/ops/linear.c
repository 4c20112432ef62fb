/* linear.c - y = x W^T + b and its backward, all through OpenBLAS sgemm. */
#include <cblas.h>
#include <string.h>

#include "ops/ops.h"

void sk_linear_forward(float *out, const float *inp, const float *W, const float *b, int N, int In,
                       int Out, bool accumulate) {
    float beta = 0.0f;
    if (accumulate) {
        beta = 1.0f;
        if (b)
            for (int n = 0; n < N; n++) {
                float *row = out + (size_t)n * Out;
                for (int o = 0; o < Out; o++) row[o] += b[o];
            }
    } else if (b) {
        for (int n = 0; n < N; n++) memcpy(out + (size_t)n * Out, b, (size_t)Out * sizeof(float));
        beta = 1.0f;
    }
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

void sk_lowrank_forward(SkLowRank *lr, float *out, const float *inp, int N, int In, int Out) {
    int r = lr->r;
    /* u[N,r] = inp[N,In] @ A[r,In]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, r, In, 1.0f, inp, In, lr->A, In, 0.0f,
                lr->u, r);
    /* out[N,Out] += scale * u[N,r] @ B[Out,r]^T */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, Out, r, lr->scale, lr->u, r, lr->B, r,
                1.0f, out, Out);
}

void sk_lowrank_backward(SkLowRank *lr, float *dinp, const float *dout, const float *inp, int N,
                         int In, int Out) {
    int r = lr->r;
    if (lr->dB) /* dB[Out,r] += scale * dout^T[Out,N] @ u[N,r] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Out, r, N, lr->scale, dout, Out, lr->u, r,
                    1.0f, lr->dB, r);
    if (!lr->dA && !dinp) return;
    /* du[N,r] = scale * dout[N,Out] @ B[Out,r] */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, r, Out, lr->scale, dout, Out, lr->B, r,
                0.0f, lr->du, r);
    if (lr->dA) /* dA[r,In] += du^T[r,N] @ inp[N,In] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, In, N, 1.0f, lr->du, r, inp, In,
                    1.0f, lr->dA, In);
    if (dinp) /* dinp[N,In] += du[N,r] @ A[r,In] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, In, r, 1.0f, lr->du, r, lr->A, In,
                    1.0f, dinp, In);
}
