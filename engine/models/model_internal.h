/* model_internal.h - what an architecture file provides to model.c. */
#ifndef SK_MODEL_INTERNAL_H
#define SK_MODEL_INTERNAL_H

#include "sk_io.h"
#include "sk_model.h"

typedef struct SkArch {
    const char *name;
    /* Fills the parameter table (names, shapes) from the config. */
    int (*declare)(SkModel *m, SkError *err);
    /* After weights are in place: wire the architecture's pointers. */
    int (*bind)(SkModel *m, SkError *err);
    /* Maps a parameter to its checkpoint tensor: name and whether it is stored
     * transposed ([in, out], GPT-2's Conv1D). Returns the number of candidate
     * names written (tried in order). */
    int (*checkpoint_names)(const SkModel *m, const SkParam *p, char names[][160], int max,
                            bool *transposed);
    size_t (*acts_floats)(const SkModel *m, const SkActsShape *s);
    int (*acts_bind)(SkModel *m, SkActs *a);
    int (*forward)(SkModel *m, SkActs *a, const SkBatch *b, const SkHooks *h, SkError *err);
    int (*backward)(SkModel *m, SkActs *a, const SkBatch *b, const SkHooks *h,
                    const float *d_hidden, SkError *err);
    SkMat (*lm_head)(const SkModel *m, float **grad);
    void (*release)(SkModel *m); /* frees impl */
    cJSON *(*config_json)(const SkModel *m); /* config.json as transformers writes it */
    const float *(*block_input)(const SkModel *m, const SkActs *a, int layer);
    void (*layer_kv)(const SkModel *m, const SkActs *a, int layer, const float **k, const float **v);
    size_t (*kv_scratch)(const SkModel *m, int n);
    void (*kv_forward)(SkModel *m, int layer, const float *g, int n, float *k, float *v,
                       float *scratch);
    void (*kv_backward)(SkModel *m, int layer, const float *g, int n, const float *dk,
                        const float *dv, float *dg, float *scratch);
} SkArch;

struct SkModel {
    SkModelConfig cfg;
    const SkArch *arch;
    char dir[1024];
    SkParam *params;
    int n_params;
    float *weights;       /* the fp32 parameters, one block */
    uint16_t *weights16;  /* the matrices held in 16 bits (hold F16/BF16), one block */
    unsigned char *weightsq; /* matrices held as a GGUF file stored them (qtype), one block */
    SkDtype hold;         /* how the other matrices are held */
    char held[48];        /* sk_model_held */
    SkPool *pool;
    void *impl;     /* architecture's view of the weights */
};

struct SkActs {
    SkActsShape shape;
    SkArena arena;
    void *impl;
    float *hidden;  /* [B, S, d] */
    float *d_input; /* [B, S, d] */
    int B, T, S, P; /* shape of the last forward (P: prefix columns) */
};

/* An architecture's activation buffers: sized once (arena NULL: returns the floats they
 * take, rounded as the arena rounds), then placed in the arena (returns 0 if it runs
 * out). Both walks use the same list, so the two can never disagree. */
typedef struct SkActsItem {
    float **p;
    size_t n;
} SkActsItem;
size_t sk_acts_items(const SkActsItem *items, size_t n_items, SkArena *arena);
/* The buffers every architecture has after its own: hidden and d_input [B*S, d]. */
size_t sk_acts_io_floats(const SkModel *m, const SkActsShape *s);
int sk_acts_io_bind(SkModel *m, SkActs *a);

/* Places the declared parameters in weight blocks held as hold (weights.c; contents
 * undefined): a matrix whose qtype the loader set before is held in that GGUF type. And
 * copies the values of a model of the same shape and holding. */
int sk_weights_alloc(SkModel *m, SkDtype hold, SkError *err);
void sk_weights_copy(SkModel *dst, const SkModel *src);

/* Adds a parameter to the table (during declare). */
int sk_model_declare(SkModel *m, const char *name, int ndim, const int64_t *shape, SkError *err);

extern const SkArch sk_arch_gpt2;
extern const SkArch sk_arch_llama;

/* A GGUF file: its metadata -> the config, its tensors -> the declared parameters (held
 * as stored), with the layouts GGUF converters change undone (gguf_model.c). */
int sk_gguf_model_load(SkModel *m, const char *path, SkProgressFn progress, void *ctx, SkError *err);

/* config.json -> SkModelConfig (and which architecture). */
int sk_hfconfig_read(const char *dir, SkModelConfig *cfg, const SkArch **arch, SkError *err);

#endif
