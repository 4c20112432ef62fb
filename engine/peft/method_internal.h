/* method_internal.h - the common state of every method, and what each method file
 * provides (init / forward / backward). */
#ifndef SK_METHOD_INTERNAL_H
#define SK_METHOD_INTERNAL_H

#include "sk_peft.h"

typedef struct SkMethodOps {
    int (*init)(SkMethod *me, SkError *err);
    int (*forward)(SkMethod *me, SkError *err);
    void (*backward)(SkMethod *me);
    void (*release)(SkMethod *me);
    /* the prompt changed: recompute cached states (NULL: re-create the method) */
    int (*prompt_changed)(SkMethod *me, SkError *err);
} SkMethodOps;

struct SkMethod {
    SkMethodConfig cfg;
    SkModel *model;
    SkTokenizer *tok;
    const SkMethodOps *ops;
    SkTrainable *tr;
    int n_tr, cap_tr;
    SkIds prompt_ids;  /* the prompt, tokenized with the tokenizer's special tokens */
    char desc[256];
    bool training;
    SkRng rng;         /* dropout */
    /* hook storage handed to the model */
    int n_embed, n_prefix, lora_rank, pos_offset;
    float *embed, *d_embed;          /* [n_embed, d] */
    float **pk, **pv, **dpk, **dpv;  /* [n_layer] -> [n_prefix, kv] */
    SkLowRank **lora;                /* [n_layer * SK_PROJ_COUNT] */
    void *impl;
};

extern const SkMethodOps sk_ops_sk_prefix, sk_ops_sk_prompt, sk_ops_prefix_tuning,
    sk_ops_prompt_tuning, sk_ops_p_tuning, sk_ops_lora, sk_ops_head_only, sk_ops_full;

/* Adds a trainable tensor (zeroed value and gradient). The registry never moves, so
 * the pointer stays valid for the method's life. NULL on out of memory. */
SkTrainable *sk_method_add(SkMethod *me, const char *name, int ndim, int64_t rows, int64_t cols,
                           bool decay);
/* Allocates the prefix hook buffers (n_prefix rows per layer). */
int sk_method_alloc_prefix(SkMethod *me, int n, SkError *err);
int sk_method_alloc_embed(SkMethod *me, int n, SkError *err);
/* Runs the frozen model on the prompt ids alone; fills states[l] [m, d] for the
 * inputs of blocks 0..n_layer (layer n_layer = last block output). */
int sk_method_prompt_states(SkMethod *me, float **states, int n_states, SkError *err);
/* U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for nn.Linear (and LoRA's A). */
void sk_init_kaiming_uniform(SkRng *r, float *w, size_t n, int fan_in);
void sk_init_normal(SkRng *r, float *w, size_t n, float std);

/* ---- SK-Tuning adapters: g = A(h), starting as the identity ----------------------- */
typedef struct SkAdapter {
    SkAdapterKind kind;
    int m, d, r;
    SkTrainable *a, *b;  /* lowrank: U [d, r], V [r, d]; linear: W [d, d]; mlp: W1 [d, r], W2 [r, d];
                            none: G [m, d] */
    float *t, *pre;      /* intermediates: h U or act(h W1) [m, r]; mlp pre-activation [m, r] */
    float *dt, *dpre;    /* [m, r] scratch */
} SkAdapter;

int sk_adapter_init(SkMethod *me, SkAdapter *a, const char *prefix, SkAdapterKind kind, int m,
                    int d, int r, const float *h0, SkError *err);
/* g[m, d] = A(h) */
void sk_adapter_forward(SkAdapter *a, const float *h, float *g);
/* h is constant: only the adapter's own gradients accumulate. */
void sk_adapter_backward(SkAdapter *a, const float *h, const float *dg);
void sk_adapter_free(SkAdapter *a);

#endif
