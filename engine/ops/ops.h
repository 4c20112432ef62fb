/* ops.h - forward/backward pairs for every layer the architectures are built from.
 *
 * Conventions (as in llm.c): every buffer is explicit and contiguous, shapes are
 * given in the comments, backward functions ACCUMULATE (+=) into their gradient
 * outputs so that several paths can feed one gradient; callers zero them first.
 * A NULL gradient pointer means "not wanted": frozen weights get no weight gradient.
 * `pool` may be NULL (serial). */
#ifndef SK_OPS_H
#define SK_OPS_H

#include <stdbool.h>

#include "sk_core.h"

/* ---- weight matrices as the model holds them ------------------------------------------
 * fp32; 16 bits as a safetensors checkpoint stored them (F16 or BF16: half the memory); or
 * a GGUF type (block-quantized rows, F16, BF16) as the GGUF file stored them. The products
 * turn a block of rows at a time into fp32. A matrix may be made of parts of different
 * types stacked by rows (Llama's fused q|k|v when a GGUF stores v in another type). */
typedef struct SkMat {
    const float *f;    /* fp32 values, or NULL */
    const uint16_t *h; /* 16-bit values when f is NULL */
    bool bf16;         /* h holds BF16, else F16 */
    const void *q;     /* GGUF-typed rows (f and h NULL) */
    uint32_t qtype;    /* their SkGgmlType */
    int64_t cols;      /* row length: needed for q and for parts */
    int64_t rows;      /* rows of this part when `rest` continues the matrix below it */
    const struct SkMat *rest;
} SkMat;
#define SK_MAT_BLOCK_FLOATS ((size_t)1 << 20) /* rows converted per block: 4 MB of fp32 */
static inline SkMat sk_mat_f32(const float *f) { return (SkMat){.f = f}; }
static inline bool sk_mat_present(SkMat m) { return m.f || m.h || m.q; }
SkMat sk_mat_offset(SkMat m, size_t off);              /* from element off on (q: a block boundary) */
void sk_mat_read(SkMat m, size_t off, size_t n, float *dst); /* dst = elements [off, off + n) */
/* The same spread over the pool (pool may be NULL): what the products call per block. */
void sk_mat_to_f32(SkPool *pool, SkMat m, size_t off, size_t n, float *dst);
void sk_half_to_f32(SkPool *pool, const uint16_t *src, float *dst, size_t n, bool bf16); /* pool may be NULL */
float *sk_mat_scratch(size_t n); /* this thread's conversion buffer (reused; aborts on OOM) */

/* ---- linear (nn.Linear layout: W is [Out, In]) -----------------------------------
 * out[N,Out] = inp[N,In] @ W[Out,In]^T + b[Out]          (accumulate: out += ... instead) */
void sk_linear_forward(float *out, const float *inp, const float *W, const float *b, int N, int In,
                       int Out, bool accumulate);
/* dinp[N,In] += dout[N,Out] @ W[Out,In];  dW[Out,In] += dout^T @ inp;  db[Out] += sum_n dout */
void sk_linear_backward(float *dinp, float *dW, float *db, const float *dout, const float *inp,
                        const float *W, int N, int In, int Out);

/* The same with W as the model holds it. A 16-bit W has no weight gradient (a model whose
 * weights train is held in fp32). */
void sk_linear_forward_m(SkPool *pool, float *out, const float *inp, SkMat W, const float *b, int N, int In,
                         int Out, bool accumulate);
void sk_linear_backward_m(SkPool *pool, float *dinp, float *dW, float *db, const float *dout, const float *inp,
                          SkMat W, int N, int In, int Out);

/* The weight and bias gradients alone, from a dout whose rows are dout_rs floats apart
 * (one part of a fused projection's output): dW += dout^T @ inp; db += sum_n dout. */
void sk_linear_backward_weights(float *dW, float *db, const float *dout, int dout_rs, const float *inp, int N,
                                int In, int Out);

/* A low-rank delta on a linear map (LoRA): out += scale * (inp @ A^T) @ B^T,
 * A [r, In], B [Out, r] as PEFT stores lora_A / lora_B. */
typedef struct SkLowRank {
    int r;
    float scale;
    const float *A, *B;
    float *dA, *dB; /* NULL when not trained */
    float *u;       /* [N, r] saved by forward for backward (caller-provided) */
    float *du;      /* [N, r] scratch for backward */
    /* dropout on the delta's input (LoRA's lora_dropout): element i is kept with
     * probability 1 - p and scaled by 1/(1-p); the mask is a hash of (seed, i), so
     * backward recomputes it instead of storing it. */
    float dropout;
    uint64_t seed;
    float *xd;      /* [N, In] dropped input (needed when dropout > 0) */
    int out_rs;     /* floats between rows of out / dout (0: Out): a delta on one part of a
                       fused projection's output (Llama's q_proj inside q|k|v) */
} SkLowRank;
/* out[N,Out] += scale * u @ B^T, u[N,r] = inp @ A^T */
void sk_lowrank_forward(SkLowRank *lr, float *out, const float *inp, int N, int In, int Out);
/* dB += scale dout^T u;  du = scale dout B;  dA += du^T inp;  dinp += du A */
void sk_lowrank_backward(SkLowRank *lr, float *dinp, const float *dout, const float *inp, int N,
                         int In, int Out);

/* ---- layer norm over the last dimension C --------------------------------------
 * out[N,C] = (inp - mean) * rstd * w + b;   saves mean[N], rstd[N] */
void sk_layernorm_forward(SkPool *pool, float *out, float *mean, float *rstd, const float *inp,
                          const float *w, const float *b, int N, int C, float eps);
/* dinp[N,C] += ...;  dw[C] += sum dout*xhat;  db[C] += sum dout   (dw/db may be NULL) */
void sk_layernorm_backward(SkPool *pool, float *dinp, float *dw, float *db, const float *dout,
                           const float *inp, const float *w, const float *mean, const float *rstd,
                           int N, int C);

/* ---- RMS norm (Llama family) ------------------------------------------------------
 * out[N,C] = inp * rstd * w,  rstd = 1 / sqrt(mean(inp^2) + eps);  saves rstd[N] */
void sk_rmsnorm_forward(SkPool *pool, float *out, float *rstd, const float *inp, const float *w, int N,
                        int C, float eps);
/* dinp[N,C] += ... (dinp may be NULL);  dw[C] += sum dout * inp * rstd (dw may be NULL) */
void sk_rmsnorm_backward(SkPool *pool, float *dinp, float *dw, const float *dout, const float *inp,
                         const float *w, const float *rstd, int N, int C);

/* ---- rotary position embeddings ----------------------------------------------------- */
typedef enum { SK_ROPE_DEFAULT, SK_ROPE_LINEAR, SK_ROPE_DYNAMIC, SK_ROPE_LLAMA3 } SkRopeType;
typedef struct SkRopeConfig {
    int dim;               /* rotated dimensions per head (head_dim, or less: partial rotary) */
    double theta;          /* rope_theta (10000) */
    SkRopeType type;
    double factor;         /* linear / dynamic / llama3 */
    double low_freq_factor, high_freq_factor; /* llama3 */
    int original_max;      /* llama3: original_max_position_embeddings */
    int max_pos;           /* dynamic: max_position_embeddings */
} SkRopeConfig;
/* inv_freq[dim/2] for sequences of seq_len positions (only dynamic scaling depends on it). */
void sk_rope_inv_freq(const SkRopeConfig *c, int seq_len, float *inv_freq);
#define SK_ROPE_MAX_DIM 1024
/* x [B, T, H*dh] (row stride rs), row (b, t) at position pos0 + t:
 * (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin) on the halves of each head's first dim
 * (<= SK_ROPE_MAX_DIM) entries. In place. Backward: the inverse rotation of the gradient. */
void sk_rope_forward(float *x, int rs, int pos0, int B, int T, int H, int dh, int dim, const float *inv_freq);
void sk_rope_backward(float *dx, int rs, int pos0, int B, int T, int H, int dh, int dim, const float *inv_freq);

/* ---- SwiGLU: out[n] = silu(gate[n]) * up[n] --------------------------------------------- */
void sk_swiglu_forward(float *out, const float *gate, const float *up, size_t n);
/* dgate += dout * up * silu'(gate); dup += dout * silu(gate)   (either may be NULL) */
void sk_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, size_t n);

/* ---- activations ---------------------------------------------------------------- */
typedef enum { SK_ACT_GELU_TANH, SK_ACT_GELU_ERF, SK_ACT_RELU } SkActivation;
/* out[n] = act(inp[n]) */
void sk_activation_forward(SkPool *pool, SkActivation act, float *out, const float *inp, size_t n);
/* dinp[n] += act'(inp[n]) * dout[n] */
void sk_activation_backward(SkPool *pool, SkActivation act, float *dinp, const float *inp,
                            const float *dout, size_t n);

/* ---- causal self-attention with optional prefix key/value columns -------------
 * Key positions: P prefix columns (always visible: their mask is all ones), then the
 * T input positions, causal. Query heads H share key/value heads Hkv (H % Hkv == 0).
 *   q    [B, T, H*dh]    with row stride q_rs (so q can live inside a fused qkv row)
 *   k, v [B, S, Hkv*dh]  S = P + T, contiguous
 *   mask [B, T]          1 = real token, 0 = padding key (NULL = all real)
 *   att  [B, H, T, S]    softmax probabilities, saved for backward
 *   out  [B, T, H*dh]
 * A query row that sees no key at all (possible only with a padding mask on the
 * first token and no prefix) outputs zeros.
 *   scratch [B * Hkv, dh, S]  working space (keys or values transposed per head)
 * window > 0: sliding-window attention (Mistral): column j is visible to query t only when
 * it is fewer than window columns back, (P + t) - j < window, prefix columns included. */
typedef struct SkAttnShape {
    int B, T, P, H, Hkv, dh;
    int window;
} SkAttnShape;
void sk_attention_forward(SkPool *pool, const SkAttnShape *s, float *out, float *att,
                          const float *q, int q_rs, const float *k, const float *v,
                          const float *mask, float *scratch);
/* dq [B,T,H*dh] (row stride dq_rs) += ..., dk, dv [B,S,Hkv*dh] += ...;
 * datt [B,H,T,S] is scratch. */
void sk_attention_backward(SkPool *pool, const SkAttnShape *s, float *dq, int dq_rs, float *dk,
                           float *dv, float *datt, const float *dout, const float *att,
                           const float *q, int q_rs, const float *k, const float *v,
                           float *scratch);

/* ---- embeddings -------------------------------------------------------------------
 * out[b, t] = wte[ids[b,t]] + wpe[pos0 + t]   (wpe may be empty: no learned positions)
 * out is [B, T, C] with row stride C per token; B rows of T tokens each. */
void sk_embedding_forward(float *out, const int32_t *ids, SkMat wte, SkMat wpe, int pos0, int B, int T, int C);
/* dwte[ids] += dout; dwpe[pos0 + t] += sum_b dout   (either may be NULL) */
void sk_embedding_backward(float *dwte, float *dwpe, const float *dout, const int32_t *ids,
                           int pos0, int B, int T, int C);

/* ---- residual --------------------------------------------------------------------- */
/* out[n] = a[n] + b[n] */
void sk_add(float *out, const float *a, const float *b, size_t n);
/* out[n] += a[n] */
void sk_add_inplace(float *out, const float *a, size_t n);

/* ---- softmax cross-entropy ----------------------------------------------------------
 * logits [N, V], targets [N] (negative = ignored). Returns the summed loss over
 * counted rows and writes their count; if dlogits is non-NULL writes (not adds)
 * dlogits[N,V] = (softmax - onehot) * dscale (zero for ignored rows). */
double sk_cross_entropy(SkPool *pool, const float *logits, const int32_t *targets, int N, int V,
                        float *dlogits, float dscale, int *counted);

#endif
