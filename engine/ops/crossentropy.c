/* crossentropy.c - numerically stable softmax cross-entropy over rows. */
#include <math.h>

#include "ops/fastmath.h"
#include "ops/ops.h"

/* Rows are split into at most MAX_TASKS contiguous slices; each task sums its slice in
 * row order and the slices are added in task order, so the total depends only on N
 * (repeatable) and needs no per-call allocation. */
#define MAX_TASKS 256

typedef struct {
    const float *logits;
    const int32_t *targets;
    float *dlogits;
    double task_loss[MAX_TASKS];
    int task_count[MAX_TASKS];
    int N, V, rows_per_task;
    float dscale;
} CeCtx;

static void ce_task(void *vctx, int task) {
    CeCtx *c = vctx;
    int n0 = task * c->rows_per_task, n1 = n0 + c->rows_per_task < c->N ? n0 + c->rows_per_task : c->N;
    c->task_loss[task] = 0.0;
    c->task_count[task] = 0;
    for (int n = n0; n < n1; n++) {
        const float *z = c->logits + (size_t)n * c->V;
        float *dz = c->dlogits ? c->dlogits + (size_t)n * c->V : NULL;
        int y = c->targets[n];
        if (y < 0) {
            if (dz)
                for (int v = 0; v < c->V; v++) dz[v] = 0.0f;
            continue;
        }
        float mx = z[0];
        for (int v = 1; v < c->V; v++) mx = z[v] > mx ? z[v] : mx;
        /* one exp per logit: kept in dz (when wanted) and normalised afterwards */
        double sum = 0.0;
        if (dz) {
            for (int v = 0; v < c->V; v++) {
                dz[v] = sk_expf(z[v] - mx);
                sum += dz[v];
            }
        } else {
            for (int v = 0; v < c->V; v++) sum += sk_expf(z[v] - mx);
        }
        double lse = log(sum) + mx;
        c->task_loss[task] += lse - z[y];
        c->task_count[task]++;
        if (dz) {
            float k = (float)(c->dscale / sum);
            for (int v = 0; v < c->V; v++) dz[v] *= k;
            dz[y] -= c->dscale;
        }
    }
}

double sk_cross_entropy(SkPool *pool, const float *logits, const int32_t *targets, int N, int V,
                        float *dlogits, float dscale, int *counted) {
    CeCtx c = {.logits = logits, .targets = targets, .dlogits = dlogits, .N = N, .V = V,
               .dscale = dscale};
    c.rows_per_task = N <= 8 * MAX_TASKS ? 8 : (N + MAX_TASKS - 1) / MAX_TASKS;
    int n_tasks = N > 0 ? (N + c.rows_per_task - 1) / c.rows_per_task : 0;
    sk_pool_run(pool, n_tasks, ce_task, &c);
    double total = 0.0;
    int cnt = 0;
    for (int t = 0; t < n_tasks; t++) total += c.task_loss[t], cnt += c.task_count[t];
    if (counted) *counted = cnt;
    return total;
}
