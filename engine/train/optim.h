/* optim.h - AdamW over a list of trainable tensors, with the linear schedule. */
#ifndef SK_OPTIM_H
#define SK_OPTIM_H

#include "sk_peft.h"
#include "sk_train.h"

typedef struct SkAdamW {
    SkTrainable **t;  /* the tensors (pointers into methods/heads) */
    float **m, **v;
    int n;
    float beta1, beta2, eps, weight_decay;
    int step;
} SkAdamW;

int sk_adamw_init(SkAdamW *o, SkTrainable **t, int n, float weight_decay, SkError *err);
void sk_adamw_free(SkAdamW *o);
/* Global L2 norm of the gradients (NaN/Inf propagate). */
double sk_grad_norm(SkTrainable *const *t, int n);
void sk_grad_scale(SkTrainable *const *t, int n, float s);
void sk_grad_zero(SkTrainable *const *t, int n);
void sk_adamw_step(SkAdamW *o, float lr);
/* Linear warmup to lr over `warmup` steps, then linear decay to 0 at `total`. */
float sk_lr_at(int step, int total, int warmup, float lr);

/* Appends an entry to a run's history (shared by fine-tuning and pretraining). */
int sk_history_push(SkRunResult *out, const SkHistoryEntry *h);

#endif
