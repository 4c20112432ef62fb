/* crossentropy.c - numerically stable softmax cross-entropy over rows. */
#include <math.h>

#include <stdlib.h>

#include "ops/fastmath.h"
#include "ops/ops.h"

#define ROWS_PER_TASK 8

typedef struct {
    const float *logits;
    const int32_t *targets;
    float *dlogits;
    double *row_loss;
    int N, V;
    float dscale;
} CeCtx;

static void ce_task(void *vctx, int task) {
    CeCtx *c = vctx;
    int n0 = task * ROWS_PER_TASK, n1 = n0 + ROWS_PER_TASK < c->N ? n0 + ROWS_PER_TASK : c->N;
    for (int n = n0; n < n1; n++) {
        const float *z = c->logits + (size_t)n * c->V;
        float *dz = c->dlogits ? c->dlogits + (size_t)n * c->V : NULL;
        int y = c->targets[n];
        if (y < 0) {
            c->row_loss[n] = 0.0;
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
        c->row_loss[n] = lse - z[y];
        if (dz) {
            float k = (float)(c->dscale / sum);
            for (int v = 0; v < c->V; v++) dz[v] *= k;
            dz[y] -= c->dscale;
        }
    }
}

double sk_cross_entropy(SkPool *pool, const float *logits, const int32_t *targets, int N, int V,
                        float *dlogits, float dscale, int *counted) {
    double stack_buf[256];
    double *row_loss = N <= 256 ? stack_buf : malloc((size_t)N * sizeof(double));
    if (!row_loss) return NAN;
    CeCtx c = {.logits = logits, .targets = targets, .dlogits = dlogits, .row_loss = row_loss,
               .N = N, .V = V, .dscale = dscale};
    sk_pool_run(pool, (N + ROWS_PER_TASK - 1) / ROWS_PER_TASK, ce_task, &c);
    double total = 0.0; /* summed in row order: repeatable */
    int cnt = 0;
    for (int n = 0; n < N; n++)
        if (targets[n] >= 0) {
            total += row_loss[n];
            cnt++;
        }
    if (row_loss != stack_buf) free(row_loss);
    if (counted) *counted = cnt;
    return total;
}
