/* sk_peft.h - parameter-efficient methods (SK-Tuning and the baselines) and heads.
 *
 * A method owns its trainable tensors and, each step, turns them into model hooks
 * (prefix keys/values, prepended embeddings, low-rank deltas) and turns the hooks'
 * gradients back into gradients of its tensors. A head reads the model's final
 * hidden states and produces class scores (or one regression value) and a loss.
 * See ../shared/specs/sk-tuning.md for the exact definitions. */
#ifndef SK_PEFT_H
#define SK_PEFT_H

#include <cJSON.h>

#include "sk_model.h"
#include "sk_tokenizer.h"

#define SK_MAX_CLASSES 32
#define SK_MAX_WORDS 8
#define SK_WORD_LEN 48

typedef enum {
    SK_M_SK_PREFIX,
    SK_M_SK_PROMPT,
    SK_M_PREFIX_TUNING,
    SK_M_P_TUNING_V2,
    SK_M_PROMPT_TUNING,
    SK_M_P_TUNING,
    SK_M_LORA,
    SK_M_HEAD_ONLY,
    SK_M_FULL,
    SK_M_COUNT
} SkMethodKind;

typedef enum { SK_ADAPTER_LOWRANK, SK_ADAPTER_LINEAR, SK_ADAPTER_MLP, SK_ADAPTER_NONE } SkAdapterKind;
typedef enum { SK_INIT_RANDOM, SK_INIT_VOCAB, SK_INIT_TEXT } SkPromptInit;

typedef struct SkMethodConfig {
    SkMethodKind kind;
    char prompt[2048];      /* semantic prompt (sk_*), init text (prompt_tuning init=text), or
                               literal prompt tokens placed before the input (other methods) */
    int n_virtual;          /* virtual tokens (prefix/prompt methods); 0 = default */
    /* sk_prefix / sk_prompt */
    SkAdapterKind adapter;
    int rank;               /* lowrank rank (8); mlp hidden size (rank * 8) */
    bool live;              /* sk_prefix mode = "live" */
    int source_layer;       /* sk_prompt: 0 = token embeddings, k >= 1 = h_k(s) */
    /* prompt_tuning */
    SkPromptInit init;
    /* prefix_tuning */
    bool projection;
    int hidden;             /* prefix projection / p_tuning encoder hidden size */
    /* lora */
    int lora_targets;       /* bit mask of SkProj; 0: the architecture's default (PEFT's) */
    int lora_rank;
    float lora_alpha;
    float lora_dropout;
    uint64_t seed;          /* initialisation */
} SkMethodConfig;

const char *sk_method_name(SkMethodKind k);
int sk_method_kind_parse(const char *name, SkMethodKind *out);
void sk_method_config_default(SkMethodConfig *c, SkMethodKind kind);
/* A starting learning rate for AdamW: the median of the rates the sweep
 * (scripts/sweep.lua) chose on the three bundled tasks with the bundled model
 * (results/tiny-gpt2/TASK/chosen_lrs.txt); p_tuning and full were not swept. */
float sk_method_default_lr(SkMethodKind kind);
/* LoRA targets: a slot's name in configs; PEFT's default set for a model (GPT-2: c_attn;
 * Llama: q_proj and v_proj); every projection of the model, or its attention ones. */
const char *sk_lora_target_name(SkProj p);
int sk_lora_default_targets(const SkModel *m);
int sk_lora_all_targets(const SkModel *m, bool attention_only);
cJSON *sk_method_config_to_json(const SkMethodConfig *c);
/* Strict: unknown fields and wrong types are errors naming the field. */
int sk_method_config_from_json(const cJSON *j, SkMethodConfig *c, SkError *err);

/* A trainable tensor of a method or head. */
typedef struct SkTrainable {
    char name[96];
    float *w, *g;
    int ndim;
    int64_t shape[2];
    size_t numel;
    bool decay;             /* weight decay applies (matrices) */
} SkTrainable;

typedef struct SkMethod SkMethod;

int sk_method_new(SkModel *m, SkTokenizer *tok, const SkMethodConfig *cfg, SkMethod **out,
                  SkError *err);
void sk_method_free(SkMethod *me);
const SkMethodConfig *sk_method_config(const SkMethod *me);
/* The model this method runs: its own copy for `full`, else the shared frozen model.
 * Heads and the trainer use this one. */
SkModel *sk_method_model(const SkMethod *me);
const char *sk_method_describe(const SkMethod *me); /* one line: what it trains */
int sk_method_trainables(SkMethod *me, SkTrainable **list);
int64_t sk_method_n_params(const SkMethod *me);
/* Token ids placed literally before every input (NULL/0 when none). */
const int32_t *sk_method_literal_prompt(const SkMethod *me, int *n);
/* Whether inputs are encoded with the tokenizer's special tokens (no text prompt before). */
bool sk_method_input_special(const SkMethod *me);
/* What the activations must hold: prepended rows, prefix columns, low-rank rank. */
void sk_method_shape(const SkMethod *me, SkActsShape *shape);
/* Builds this step's hooks from the current tensors (prefix K/V once for the batch). */
int sk_method_forward(SkMethod *me, SkHooks *h, SkError *err);
/* Whether training needs the model's backward at all (head_only does not). */
bool sk_method_needs_backward(const SkMethod *me);
/* After sk_model_backward: the hooks' gradients into the tensors' gradients. */
void sk_method_backward(SkMethod *me, SkHooks *h);
/* Dropout and similar train/eval switches. */
void sk_method_set_training(SkMethod *me, bool training, uint64_t step_seed);
/* Editing the prompt: recomputes cached prompt states (tensors keep their values when
 * the new prompt has the same length, else are re-initialised). */
int sk_method_set_prompt(SkMethod *me, const char *prompt, SkError *err);

/* ---- heads ------------------------------------------------------------------------- */

typedef enum { SK_HEAD_LINEAR, SK_HEAD_VERBALIZER } SkHeadKind;
typedef enum { SK_POOL_LAST, SK_POOL_MEAN, SK_POOL_MEAN_ALL } SkPooling;

typedef struct SkHeadConfig {
    SkHeadKind kind;
    SkPooling pool;
    float dropout;          /* before the linear head while training (0.1) */
    bool regression;        /* one output, MSE */
    int n_classes;
    /* verbalizer */
    char words[SK_MAX_CLASSES][SK_MAX_WORDS][SK_WORD_LEN];
    int n_words[SK_MAX_CLASSES];
    char template_text[256]; /* suffix after the input, e.g. " Answer:" */
    bool log_prob;          /* score = log-softmax over the vocabulary instead of the logit */
    bool space;             /* score the word as it follows other text (" word") */
    bool space_auto;        /* "auto" (the default): " word" unless the template ends in whitespace
                               (a newline, or a chat template's "assistant\n"), then the bare word */
} SkHeadConfig;
/* Whether the verbalizer scores " word" (true) or the bare word, as the config says. */
bool sk_head_word_space(const SkHeadConfig *c);

void sk_head_config_default(SkHeadConfig *c, int n_classes);
cJSON *sk_head_config_to_json(const SkHeadConfig *c);
int sk_head_config_from_json(const cJSON *j, SkHeadConfig *c, SkError *err);

typedef struct SkHead SkHead;
int sk_head_new(SkModel *m, SkTokenizer *tok, const SkHeadConfig *cfg, int max_batch,
                uint64_t seed, SkHead **out, SkError *err);
void sk_head_free(SkHead *h);
const SkHeadConfig *sk_head_config(const SkHead *h);
int sk_head_trainables(SkHead *h, SkTrainable **list);
int sk_head_n_outputs(const SkHead *h);
/* Template ids appended after every input (NULL/0 when none). */
const int32_t *sk_head_template(const SkHead *h, int *n);
/* Scores [B, n_outputs] from hidden [B, S, d]: row b's input occupies positions
 * first..first+len[b]-1 (prepended rows before it, padding after it). */
void sk_head_forward(SkHead *h, const float *hidden, int B, int S, int first, const int *len,
                     bool training, float *scores);
/* Mean loss over the batch and d(scores) [B, n_outputs] for it. labels: class index
 * (classification) or targets (regression). */
double sk_head_loss(const SkHead *h, const float *scores, const int *labels,
                    const float *targets, int B, float *dscores);
/* d_hidden [B, S, d] += the head's backward; trainable head gradients accumulate. */
void sk_head_backward(SkHead *h, const float *dscores, int B, int S, float *d_hidden);

#endif
