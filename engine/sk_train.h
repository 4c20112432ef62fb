/* sk_train.h - training and evaluating a method + head on a data set: AdamW, linear
 * schedule with warmup, gradient clipping and accumulation, evaluation, metrics,
 * a NaN/Inf guard, run logs, adapter files. Deterministic: the same seed on the same
 * machine and thread count gives the same loss curve bit for bit. */
#ifndef SK_TRAIN_H
#define SK_TRAIN_H

#include "sk_data.h"
#include "sk_peft.h"

typedef struct SkMetrics {
    int n, n_classes;
    bool regression;
    double loss;
    double accuracy, f1, mcc;         /* classification (macro-F1, multiclass MCC) */
    double pearson, spearman, mse;    /* regression */
    int confusion[SK_MAX_CLASSES * SK_MAX_CLASSES]; /* [gold][pred] */
} SkMetrics;

void sk_metrics_classify(const int *pred, const int *gold, int n, int n_classes, SkMetrics *m);
void sk_metrics_regress(const float *pred, const float *gold, int n, SkMetrics *m);
/* "accuracy", "f1", "mcc", "pearson", "spearman", "mse", "loss"; NAN when unknown. */
double sk_metrics_get(const SkMetrics *m, const char *name);
cJSON *sk_metrics_to_json(const SkMetrics *m, bool confusion);

/* ---- SK-Tuning's four claims (sk-tuning.md), from what each method reached ---- */
typedef struct SkMethodResult {
    bool present;           /* the method was run */
    double params;          /* trainable parameters */
    double steps_to_target; /* steps to the target accuracy; < 0: not reached */
    double accuracy;        /* final validation accuracy (a mean over seeds, say) */
    double ms_per_step;
} SkMethodResult;
#define SK_CLAIM_EQUAL 0.005 /* accuracies this close count as equal */
typedef struct SkClaims {
    int holds[4];       /* 1 true, 0 false, -1 not tested (a method missing) */
    char text[4][400];  /* "claim N: ...: TRUE (numbers)" */
} SkClaims;
/* 1 fewer parameters and 2 faster convergence than prefix tuning, 3 accuracy at least
 * prefix and prompt tuning's, 4 faster steps than prefix tuning. prompt may be absent. */
void sk_claims_judge(const SkMethodResult *sk_prefix, const SkMethodResult *prefix_tuning,
                     const SkMethodResult *prompt_tuning, SkClaims *out);

typedef struct SkTrainConfig {
    int steps;            /* optimizer steps; 0 = evaluate the untrained method */
    int batch;            /* examples per micro-batch */
    int accum;            /* micro-batches per step */
    float lr;
    float warmup;         /* < 1: fraction of steps; >= 1: steps */
    float weight_decay;   /* on matrices */
    float clip;           /* global gradient norm; 0 = off */
    uint64_t seed;
    int eval_every;       /* 0 = only at the end */
    int eval_batch;
    int max_len;          /* tokens per sequence (input truncated to fit) */
    double target;        /* stop when the target metric reaches it (0 = off) */
    char target_metric[16];
    char out_dir[1024];   /* run folder ("" = none) */
    SkProgressFn progress; /* tokenizing the data sets (may be NULL) */
    void *progress_ctx;
} SkTrainConfig;

void sk_train_config_default(SkTrainConfig *c);
cJSON *sk_train_config_to_json(const SkTrainConfig *c);

typedef struct SkHistoryEntry {
    int step;
    double loss;          /* mean training loss of the step (NAN on an evaluation-only entry) */
    double lr;
    double seconds;       /* since the start of training */
    double grad_norm;
    bool evaluated;
    SkMetrics metrics;
} SkHistoryEntry;

typedef struct SkRunResult {
    SkHistoryEntry *history;
    int n_history, cap_history;
    SkMetrics final;
    int steps_done;
    double seconds;
    int64_t params;
    bool failed;          /* stopped by the NaN/Inf guard */
    char stop_reason[256];
    char out_dir[1024];
} SkRunResult;

void sk_run_result_free(SkRunResult *r);
/* "runs/<yyyymmdd-hhmmss>-<method>" (with -2, -3, ... when that folder exists): where a
 * run goes when the caller names no folder. */
void sk_train_default_out(char *buf, size_t cap, const char *method);

/* Called after each step (and evaluation); return nonzero to stop training. */
typedef int (*SkStepFn)(void *ctx, const SkHistoryEntry *ev);

typedef struct SkTask {
    SkModel *model;
    SkTokenizer *tok;
    SkMethod *method;
    SkHead *head;
} SkTask;

int sk_train(const SkTask *t, const SkDataset *train, const SkDataset *eval,
             const SkTrainConfig *cfg, SkStepFn on_step, void *ctx, SkRunResult *out,
             SkError *err);

/* One optimizer step at a time, on pre-tokenized examples (what sk_train runs, for
 * clients that drive training themselves: the benchmark, the workbench). */
typedef struct SkTrainer SkTrainer;
int sk_trainer_new(const SkTask *t, const SkTrainConfig *cfg, int max_tokens, SkTrainer **out,
                   SkError *err);
void sk_trainer_free(SkTrainer *tr);
int64_t sk_trainer_params(const SkTrainer *tr);
/* batch * accum examples: ids[i] of len[i] tokens (prompt, input and template already
 * joined), labels (classification) or targets (regression). Non-finite loss or
 * gradient: returns 0 without updating; the caller checks *loss and *grad_norm. */
int sk_trainer_step(SkTrainer *tr, const int32_t *const *ids, const int *len, const int *labels,
                    const float *targets, double *loss, double *grad_norm, double *lr, SkError *err);

/* Scores a data set: metrics, and optionally per-example predicted class (or value)
 * and class probabilities [n, n_outputs]. */
int sk_evaluate(const SkTask *t, const SkDataset *ds, int batch, int max_len, SkMetrics *out,
                int *pred, float *probs, SkError *err);
/* The same, telling fn after each batch how many examples are scored and how many of them
 * are right (batches go shortest examples first); fn returning nonzero stops the work, and
 * then 1 is returned with out not filled. Evaluation holds one layer's activations. */
typedef int (*SkEvalFn)(void *ctx, int done, int total, int correct);
int sk_evaluate_progress(const SkTask *t, const SkDataset *ds, int batch, int max_len, SkMetrics *out, int *pred,
                         float *probs, SkEvalFn fn, void *ctx, SkError *err);

/* ---- causal language-model pretraining ----------------------------------------------
 * Every weight trains on next-token prediction over windows of `seq` tokens drawn at
 * seeded random offsets from one token stream. Evaluation: mean loss (and perplexity)
 * over fixed, evenly spaced windows of the validation stream. With out_dir set, a
 * checkpoint (weights, AdamW moments, RNG and step) is written atomically every
 * checkpoint_every steps and at the end; resume continues a run from its checkpoint
 * exactly as if it had not stopped (same machine and thread count). */
typedef struct SkPretrainConfig {
    int steps, batch, seq;
    float lr, warmup, weight_decay, clip, min_lr; /* min_lr: fraction of lr at the end */
    uint64_t seed;
    int eval_every, eval_windows;
    int checkpoint_every;
    bool resume;
    char out_dir[1024];
} SkPretrainConfig;

void sk_pretrain_config_default(SkPretrainConfig *c);
/* History entries carry the training loss; evaluated ones carry metrics.loss (mean
 * validation loss, perplexity = exp(loss)). */
int sk_pretrain(SkModel *m, const int32_t *train, size_t n_train, const int32_t *val, size_t n_val,
                const SkPretrainConfig *cfg, SkStepFn on_step, void *ctx, SkRunResult *out, SkError *err);
/* Mean next-token loss of the model over n_windows evenly spaced windows of seq tokens. */
int sk_lm_eval(SkModel *m, const int32_t *ids, size_t n, int seq, int n_windows, int batch, double *loss,
               SkError *err);

/* ---- adapter files ------------------------------------------------------------------
 * One safetensors file: the method's and head's tensors; metadata holds the method
 * and head configuration, the prompt, the class names and the model's identity. */
int sk_adapter_save(const char *path, const SkTask *t, const char *const *labels, int n_labels,
                    SkError *err);
/* Creates the method and head stored in path, for model m (refused when the file was
 * trained for another model). labels: malloc'ed copies (caller frees). */
int sk_adapter_load(const char *path, SkModel *m, SkTokenizer *tok, int max_batch,
                    SkMethod **method, SkHead **head, char ***labels, int *n_labels, SkError *err);
/* "gpt2/12x768/h12/v50257/p1024": what an adapter must match. */
void sk_model_identity(const SkModel *m, char *buf, size_t cap);

#endif
