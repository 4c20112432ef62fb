/* sk_model.h - loading a transformer and running it forward and backward.
 *
 * The model is frozen unless a client marks weights trainable. Parameter-efficient
 * methods plug in through SkHooks without touching architecture code:
 *   - embeddings prepended to the input (prompt tuning, SK-Tuning for prompt),
 *   - extra key/value columns per layer (prefix tuning, SK-Tuning for prefix),
 *   - low-rank deltas on the projections (LoRA),
 * and backward delivers gradients to each of them. Backward always forms the
 * activation gradients, and weight gradients only for weights marked trainable. */
#ifndef SK_MODEL_H
#define SK_MODEL_H

#include "ops/ops.h"
#include "sk_core.h"
#include "sk_io.h"

typedef struct SkModelConfig {
    char arch[32];        /* "gpt2", "llama" (Llama, Mistral, Qwen2, SmolLM) */
    int n_layer;
    int d_model;
    int n_head;
    int n_kv_head;
    int head_dim;
    int d_ff;
    int vocab_size;
    int max_seq;          /* learned positions (GPT-2 n_positions) */
    float norm_eps;
    SkActivation activation;
    bool tie_embeddings;
    /* Llama family */
    bool qkv_bias;        /* q/k/v projections have biases (Qwen2; Llama attention_bias) */
    bool o_bias;          /* o_proj has a bias (Llama attention_bias) */
    bool mlp_bias;        /* gate/up/down projections have biases (Llama mlp_bias) */
    SkRopeConfig rope;    /* rotary embeddings (dim 0: none, GPT-2) */
    int sliding_window;   /* a query sees the keys fewer than this many positions back (0: all) */
    int window_from_layer; /* ... on layers from this one on (Mistral 0; Qwen2 max_window_layers) */
    char dtype[8];        /* dtype the weights were stored in: F32, F16, BF16 */
    int64_t n_params;     /* unique parameters (tied embeddings counted once) */
} SkModelConfig;

typedef struct SkParam {
    char name[96];        /* Hugging Face name without the transformer./model. prefix */
    float *w;             /* fp32 values; NULL while the matrix is held otherwise */
    uint16_t *w16;        /* the values in 16 bits (safetensors F16/BF16), or NULL */
    bool bf16;            /* w16 holds BF16, else F16 */
    void *wq;             /* the rows as a GGUF file stored them (quantized, F16, BF16), or NULL */
    uint32_t qtype;       /* SkGgmlType of wq (0 = F32: not held so) */
    float *g;             /* gradient, NULL while frozen */
    int ndim;
    int64_t shape[4];
    size_t numel;
} SkParam;

typedef struct SkModel SkModel;

/* Loads a Hugging Face model directory (config.json + safetensors), a GGUF file, or a folder
 * holding one GGUF file (sk_gguf_resolve). */
int sk_model_load(const char *dir, SkModel **out, SkError *err);
/* The same, reporting bytes of weights read so far through progress (may be NULL). */
int sk_model_load_progress(const char *dir, SkProgressFn progress, void *ctx, SkModel **out,
                           SkError *err);
/* A model with random weights (N(0, 0.02) as GPT-2 initialises), for benchmarks and tests;
 * held in cfg->dtype when that is "BF16" or "F16", else in fp32. */
int sk_model_new_random(const SkModelConfig *cfg, uint64_t seed, SkModel **out, SkError *err);
void sk_model_free(SkModel *m);
/* Writes DIR/config.json and DIR/model.safetensors in the Hugging Face layout (GPT-2:
 * `transformer.` names, Conv1D weights [in, out]), weights as F32, F16 or BF16, both
 * files atomically. The tokenizer is not written (see sk_tokenizer_save). */
int sk_model_save(const SkModel *m, const char *dir, const char *dtype, SkError *err);
/* An independent copy (weights copied, no gradients): what full fine-tuning trains, so
 * the original stays as it was for every other run. */
int sk_model_clone(const SkModel *m, SkModel **out, SkError *err);

const SkModelConfig *sk_model_config(const SkModel *m);
const char *sk_model_dir(const SkModel *m); /* "" for a random model */
SkPool *sk_model_pool(SkModel *m);
int sk_model_params(SkModel *m, SkParam **params); /* returns the count */
SkParam *sk_model_param(SkModel *m, const char *name);
/* A parameter as the products take it, and n of its values from element off on, in fp32. */
static inline SkMat sk_param_mat(const SkParam *p) {
    if (p->w) return sk_mat_f32(p->w);
    if (p->wq) return (SkMat){.q = p->wq, .qtype = p->qtype, .cols = p->ndim ? p->shape[p->ndim - 1] : 1};
    return (SkMat){.h = p->w16, .bf16 = p->bf16};
}
void sk_param_read(const SkParam *p, size_t off, size_t n, float *dst);
/* How the weight matrices are held: F32, or F16/BF16 (half the memory, converted for each
 * product). A checkpoint stored in 16 bits loads as it is stored; marking weights
 * trainable turns the model to F32. Returns 0, or -1 (OOM; the model is unchanged). */
int sk_model_set_dtype(SkModel *m, SkDtype hold, SkError *err);
SkDtype sk_model_dtype_held(const SkModel *m); /* of the matrices not held in a GGUF type */
/* How the weight matrices are held, as a word for people: "F32", "BF16", or the GGUF types
 * of a model loaded from GGUF ("Q4_1+Q8_0"). */
const char *sk_model_held(const SkModel *m);
size_t sk_model_weight_bytes(const SkModel *m); /* memory the weights take as held */
/* The token embedding table [vocab, d] (GPT-2 wte, Llama embed_tokens). */
SkParam *sk_model_token_embeddings(SkModel *m);
/* Marks every parameter whose name starts with prefix (NULL or "" = all) trainable
 * or frozen; allocates or frees its gradient. */
int sk_model_set_trainable(SkModel *m, const char *prefix, bool trainable, SkError *err);
void sk_model_zero_grad(SkModel *m);

/* ---- a batch and the PEFT hooks -------------------------------------------------- */

typedef struct SkBatch {
    int B, T;             /* rows, input tokens per row (right-padded); T may be 0 when
                             the hooks prepend embeddings */
    const int32_t *ids;   /* [B, T] */
    const float *mask;    /* [B, T] 1 = real token, 0 = padding; NULL = all real */
} SkBatch;

/* Which linear maps of a block a low-rank delta can sit on. GPT-2 has the first four:
 * c_attn (q, k, v fused), attn.c_proj, mlp.c_fc, mlp.c_proj. Llama has all eight: the
 * fused q|k|v, o_proj, gate_proj and down_proj in those slots, then q_proj, k_proj,
 * v_proj and up_proj each on its own (PEFT's targets). */
typedef enum {
    SK_PROJ_QKV, SK_PROJ_ATTN_OUT, SK_PROJ_FC, SK_PROJ_MLP_OUT,
    SK_PROJ_Q, SK_PROJ_K, SK_PROJ_V, SK_PROJ_UP, SK_PROJ_COUNT
} SkProj;

typedef struct SkHooks {
    /* Rows prepended to the input embeddings, shared by every batch row. They take
     * positions pos_offset..pos_offset+n_embed-1; input tokens follow. */
    int n_embed;
    const float *embed;    /* [n_embed, d_model] */
    float *d_embed;        /* [n_embed, d_model] += gradient, or NULL */
    /* Key/value columns placed before every layer's keys/values, visible to all
     * queries, shared by every batch row. Already in the layer's key space (the
     * method decides how they are made: learned, or projected from states). */
    int n_prefix;
    float *const *prefix_k; /* [n_layer] -> [n_prefix, n_kv_head*head_dim] */
    float *const *prefix_v;
    float *const *d_prefix_k; /* += gradient (summed over the batch), or NULL */
    float *const *d_prefix_v;
    /* Position of the first (prepended or input) row: prefix methods shift the
     * input to positions n_prefix.., as Hugging Face does with past key/values. */
    int pos_offset;
    /* Low-rank deltas: lora[layer * SK_PROJ_COUNT + proj], NULL entries skipped. */
    SkLowRank *const *lora;
    /* Gradients to add, on backward, to each layer's own keys/values of this pass
     * ([n_layer] -> [B * (n_embed + T), n_kv_head*head_dim]; NULL = none): for a pass
     * whose keys/values feed another pass (SK-Tuning's live mode). */
    const float *const *kv_grad_k;
    const float *const *kv_grad_v;
} SkHooks;

/* Activations for one batch shape, allocated once and reused every step. */
typedef struct SkActsShape {
    int B, T;      /* maxima; a smaller batch fits */
    int n_embed;
    int n_prefix;
    int lora_rank; /* largest rank of any delta (0 = none) */
    bool lora_dropout; /* some delta uses dropout: room for its dropped inputs */
    bool forward_only; /* evaluation and scoring: one layer's activations, reused by every layer
                          (a fraction of the memory); no backward, block inputs or layer K/V after it */
} SkActsShape;

typedef struct SkActs SkActs;
int sk_acts_new(SkModel *m, const SkActsShape *shape, SkActs **out, SkError *err);
void sk_acts_free(SkActs *a);

/* Runs the blocks. The final hidden states (after the last norm) are
 * [B, n_embed + T, d_model], prepended rows first. */
int sk_model_forward(SkModel *m, SkActs *a, const SkBatch *batch, const SkHooks *hooks,
                     SkError *err);
const float *sk_acts_hidden(const SkActs *a);
/* Layer `layer`'s keys and values of the last forward (prefix columns first),
 * [B, n_prefix + n_embed + T, n_kv_head*head_dim]. */
void sk_acts_layer_kv(const SkModel *m, const SkActs *a, int layer, const float **k, const float **v);
/* The residual stream at the input of block `layer` (0 = embedding output) of the last
 * forward, [B, n_embed + T, d_model]; layer = n_layer gives the last block's output. */
const float *sk_acts_block_input(const SkModel *m, const SkActs *a, int layer);
/* Given d_hidden [B, n_embed + T, d_model], accumulates gradients into trainable
 * weights and the hooks. Afterwards sk_acts_d_input gives the gradient w.r.t. the
 * summed input embeddings [B, n_embed + T, d_model] (token + position). */
int sk_model_backward(SkModel *m, SkActs *a, const SkBatch *batch, const SkHooks *hooks,
                      const float *d_hidden, SkError *err);
const float *sk_acts_d_input(const SkActs *a);

/* The language-model head on n rows of final hidden states: logits[n, vocab]. */
void sk_model_lm_logits(SkModel *m, const float *hidden, int n, float *logits);
/* d_hidden[n, d] += dlogits @ W; the head weight's gradient if it is trainable. */
void sk_model_lm_backward(SkModel *m, const float *hidden, const float *dlogits, int n,
                          float *d_hidden);

/* ---- a block's own key/value projection, for prefixes made from hidden states --------
 * SK-Tuning's prefix: K = Wk norm_l(g), V = Wv norm_l(g) with layer l's frozen norm
 * and projections (rotary models also rotate K at positions 0..n-1).
 *   g [n, d_model] -> k, v [n, n_kv_head*head_dim]
 * scratch: sk_model_kv_scratch_floats(m, n) floats, kept from forward to backward. */
size_t sk_model_kv_scratch_floats(const SkModel *m, int n);
void sk_model_kv_forward(SkModel *m, int layer, const float *g, int n, float *k, float *v,
                         float *scratch);
/* dg[n, d_model] += d(k, v) back through the projection and the norm. */
void sk_model_kv_backward(SkModel *m, int layer, const float *g, int n, const float *dk,
                          const float *dv, float *dg, float *scratch);

/* ---- generation -------------------------------------------------------------------
 * temperature 0 = greedy (argmax); otherwise logits / temperature, then top-k (0 = off)
 * and nucleus top-p (1 = off) filtering, sampled with the seeded RNG: the same seed
 * gives the same text. Stops at max_tokens, at stop_id, at the model's last position,
 * or when on_token returns nonzero. The prompt runs once; each new token then runs alone
 * against the keys/values of all before it (a key/value cache), so a step costs one
 * token's forward pass plus attention over the text so far. */
typedef struct SkGenerateOptions {
    int max_tokens;
    float temperature;
    int top_k;
    float top_p;
    uint64_t seed;
    int32_t stop_id;  /* -1: none */
} SkGenerateOptions;

typedef int (*SkTokenFn)(void *ctx, int32_t id);
/* out receives up to o->max_tokens ids; *n_out how many were generated. */
int sk_model_generate(SkModel *m, const int32_t *prompt, int n, const SkGenerateOptions *o,
                      int32_t *out, int *n_out, SkTokenFn on_token, void *ctx, SkError *err);

/* The LM head's logits for k token ids only: out[n, k] = hidden[n, d] @ W[ids]^T (a
 * verbalizer needs its label words' logits, not the whole vocabulary's), and backward:
 * d_hidden[n, d] += dout[n, k] @ W[ids], and W's gradient rows when it trains. */
void sk_model_lm_rows(SkModel *m, const float *hidden, int n, const int32_t *ids, int k, float *out);
void sk_model_lm_rows_backward(SkModel *m, const float *hidden, const float *dout, int n, const int32_t *ids, int k,
                               float *d_hidden);

/* FLOPs of one forward pass of the blocks over B x T tokens (matmuls + attention). */
double sk_model_forward_flops(const SkModel *m, int B, int T, bool with_lm_head);

#endif
