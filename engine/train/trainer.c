/* trainer.c - the training loop and evaluation.
 *
 * Sequence composition (sk-tuning.md): literal prompt ids (methods that place the
 * prompt text in the sequence), then the input's ids (truncated to fit), then the
 * head's template ids; rows are right-padded. Prepended embeddings and prefix
 * columns come from the method's hooks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sk_io.h"
#include "sk_train.h"
#include "train/optim.h"

void sk_train_config_default(SkTrainConfig *c) {
    memset(c, 0, sizeof *c);
    c->steps = 100;
    c->batch = 16;
    c->accum = 1;
    c->lr = 1e-3f;
    c->warmup = 0.0f;
    c->weight_decay = 0.01f;
    c->clip = 1.0f;
    c->seed = 1;
    c->eval_every = 0;
    c->eval_batch = 32;
    c->max_len = 128;
    snprintf(c->target_metric, sizeof c->target_metric, "accuracy");
}

cJSON *sk_train_config_to_json(const SkTrainConfig *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "steps", c->steps);
    cJSON_AddNumberToObject(j, "batch", c->batch);
    cJSON_AddNumberToObject(j, "accum", c->accum);
    cJSON_AddNumberToObject(j, "lr", c->lr);
    cJSON_AddNumberToObject(j, "warmup", c->warmup);
    cJSON_AddNumberToObject(j, "weight_decay", c->weight_decay);
    cJSON_AddNumberToObject(j, "clip", c->clip);
    cJSON_AddNumberToObject(j, "seed", (double)c->seed);
    cJSON_AddNumberToObject(j, "eval_every", c->eval_every);
    cJSON_AddNumberToObject(j, "eval_batch", c->eval_batch);
    cJSON_AddNumberToObject(j, "max_len", c->max_len);
    cJSON_AddNumberToObject(j, "target", c->target);
    cJSON_AddStringToObject(j, "target_metric", c->target_metric);
    return j;
}

void sk_run_result_free(SkRunResult *r) {
    free(r->history);
    memset(r, 0, sizeof *r);
}

/* ---- encoding a data set ------------------------------------------------------------ */

typedef struct {
    int32_t **ids;
    int *len, *label;
    float *target;
    int n, longest;
} Encoded;

static void encoded_free(Encoded *e) {
    for (int i = 0; e->ids && i < e->n; i++) free(e->ids[i]);
    free(e->ids), free(e->len), free(e->label), free(e->target);
    memset(e, 0, sizeof *e);
}

static int encode_set(const SkTask *t, const SkDataset *ds, int cap, Encoded *e, SkProgressFn progress,
                      void *pctx, SkError *err) {
    memset(e, 0, sizeof *e);
    int nlit, ntpl;
    const int32_t *lit = sk_method_literal_prompt(t->method, &nlit);
    const int32_t *tpl = sk_head_template(t->head, &ntpl);
    bool special = sk_method_input_special(t->method);
    if (nlit + ntpl + 1 > cap)
        return sk_err(err, "the prompt (%d tokens) and template (%d) leave no room for the input "
                           "within %d tokens", nlit, ntpl, cap);
    e->n = ds->n;
    e->ids = calloc((size_t)ds->n, sizeof *e->ids);
    e->len = calloc((size_t)ds->n, sizeof *e->len);
    e->label = calloc((size_t)ds->n, sizeof *e->label);
    e->target = calloc((size_t)ds->n, sizeof *e->target);
    if (!e->ids || !e->len || !e->label || !e->target) return sk_err(err, "out of memory");
    SkIds ids = {0};
    for (int i = 0; i < ds->n; i++) {
        const SkExample *x = &ds->ex[i];
        ids.n = 0;
        if (sk_tokenizer_encode(t->tok, x->text, strlen(x->text), special, &ids, err) != 0 ||
            (x->text_pair && sk_tokenizer_encode(t->tok, x->text_pair, strlen(x->text_pair), false, &ids, err) != 0)) {
            sk_ids_free(&ids);
            return sk_err_prefix(err, "%s: example %d", ds->source, i + 1);
        }
        int room = cap - nlit - ntpl, nin = ids.n < room ? ids.n : room;
        if (nin == 0 && nlit + ntpl == 0) { /* an empty text still needs one position */
            sk_ids_free(&ids);
            return sk_err(err, "%s: example %d has no tokens", ds->source, i + 1);
        }
        int n = nlit + nin + ntpl;
        e->ids[i] = malloc((size_t)n * sizeof(int32_t));
        if (!e->ids[i]) {
            sk_ids_free(&ids);
            return sk_err(err, "out of memory");
        }
        if (nlit) memcpy(e->ids[i], lit, (size_t)nlit * sizeof(int32_t));
        if (nin) memcpy(e->ids[i] + nlit, ids.ids, (size_t)nin * sizeof(int32_t));
        if (ntpl) memcpy(e->ids[i] + nlit + nin, tpl, (size_t)ntpl * sizeof(int32_t));
        e->len[i] = n;
        e->label[i] = x->label;
        e->target[i] = x->target;
        if (n > e->longest) e->longest = n;
        if (progress && ((i + 1) % 256 == 0 || i + 1 == ds->n)) progress(pctx, "tokenizing", i + 1, ds->n);
    }
    sk_ids_free(&ids);
    return 0;
}

/* ---- running batches ------------------------------------------------------------------ */

typedef struct {
    const SkTask *t;
    SkActs *acts;
    SkHooks hooks;
    int Bmax, Tmax, C, d, n_embed;
    int32_t *ids;
    float *mask, *scores, *dscores, *dhidden, *targets;
    int *len, *labels;
} Runner;

static void runner_free(Runner *r) {
    sk_acts_free(r->acts);
    free(r->ids), free(r->mask), free(r->scores), free(r->dscores), free(r->dhidden);
    free(r->targets), free(r->len), free(r->labels);
}

/* forward_only: activations for evaluation alone (one layer's, reused), no backward. */
static int runner_init(Runner *r, const SkTask *t, int Bmax, int Tmax, bool forward_only, SkError *err) {
    memset(r, 0, sizeof *r);
    r->t = t, r->Bmax = Bmax, r->Tmax = Tmax;
    r->C = sk_head_n_outputs(t->head);
    r->d = sk_model_config(sk_method_model(t->method))->d_model;
    SkActsShape shape = {.B = Bmax, .T = Tmax, .forward_only = forward_only};
    sk_method_shape(t->method, &shape);
    r->n_embed = shape.n_embed;
    if (sk_acts_new(sk_method_model(t->method), &shape, &r->acts, err) != 0) return -1;
    size_t S = (size_t)(shape.n_embed + Tmax);
    r->ids = calloc((size_t)Bmax * Tmax, sizeof(int32_t));
    r->mask = calloc((size_t)Bmax * Tmax, sizeof(float));
    r->scores = calloc((size_t)Bmax * r->C, sizeof(float));
    r->dscores = calloc((size_t)Bmax * r->C, sizeof(float));
    r->dhidden = forward_only ? NULL : calloc((size_t)Bmax * S * r->d, sizeof(float)); /* backward only */
    r->targets = calloc((size_t)Bmax, sizeof(float));
    r->len = calloc((size_t)Bmax, sizeof(int));
    r->labels = calloc((size_t)Bmax, sizeof(int));
    if (!r->ids || !r->mask || !r->scores || !r->dscores || (!forward_only && !r->dhidden) || !r->targets ||
        !r->len || !r->labels)
        return sk_err(err, "out of memory for batch buffers");
    return 0;
}

/* Forward (and backward) of B examples (ids/len/label/target per example); the mean
 * loss into *loss. */
static int run_batch(Runner *r, const int32_t *const *ex_ids, const int *ex_len, const int *ex_label,
                     const float *ex_target, int B, bool training, bool backward, float loss_scale,
                     double *loss, SkError *err) {
    const SkTask *t = r->t;
    int T = 1;
    for (int b = 0; b < B; b++) T = ex_len[b] > T ? ex_len[b] : T;
    if (B > r->Bmax || T > r->Tmax)
        return sk_err(err, "batch of %d x %d tokens exceeds the prepared %d x %d", B, T, r->Bmax, r->Tmax);
    for (int b = 0; b < B; b++) {
        int n = ex_len[b];
        for (int j = 0; j < T; j++) {
            r->ids[b * T + j] = j < n ? ex_ids[b][j] : 0;
            r->mask[b * T + j] = j < n ? 1.0f : 0.0f;
        }
        r->len[b] = n;
        r->labels[b] = ex_label ? ex_label[b] : 0;
        r->targets[b] = ex_target ? ex_target[b] : 0.0f;
    }
    SkBatch batch = {.B = B, .T = T, .ids = r->ids, .mask = r->mask};
    if (sk_method_forward(t->method, &r->hooks, err) != 0) return -1;
    SkModel *model = sk_method_model(t->method);
    if (sk_model_forward(model, r->acts, &batch, &r->hooks, err) != 0) return -1;
    int S = r->n_embed + T;
    sk_head_forward(t->head, sk_acts_hidden(r->acts), B, S, r->n_embed, r->len, training, r->scores);
    *loss = sk_head_loss(t->head, r->scores, r->labels, r->targets, B, backward ? r->dscores : NULL);
    if (!backward) return 0;
    for (int i = 0; i < B * r->C; i++) r->dscores[i] *= loss_scale;
    memset(r->dhidden, 0, (size_t)B * S * r->d * sizeof(float));
    sk_head_backward(t->head, r->dscores, B, S, r->dhidden);
    /* a head on a frozen model with no hooks needs nothing from the model's backward */
    if (!sk_method_needs_backward(t->method)) return 0;
    if (sk_model_backward(model, r->acts, &batch, &r->hooks, r->dhidden, err) != 0) return -1;
    sk_method_backward(t->method, &r->hooks);
    return 0;
}

/* The same for examples idx[0..B) of an encoded set. */
static int run_encoded(Runner *r, const Encoded *e, const int *idx, int B, bool training, bool backward,
                       float loss_scale, double *loss, SkError *err) {
    const int32_t *ids[4096];
    int len[4096], label[4096];
    float target[4096];
    if (B > 4096) return sk_err(err, "batch %d is larger than 4096", B);
    for (int b = 0; b < B; b++) {
        ids[b] = e->ids[idx[b]], len[b] = e->len[idx[b]];
        label[b] = e->label[idx[b]], target[b] = e->target[idx[b]];
    }
    return run_batch(r, ids, len, label, target, B, training, backward, loss_scale, loss, err);
}

static int by_length(const void *a, const void *b) {
    const int *x = a, *y = b; /* {len, index}: shorter first, then in data order */
    return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* Scores every example, in batches of similar length (shortest first: the least padding, and
 * the first results soonest); per-example outputs land at each example's own index. fn (may
 * be NULL) hears after each batch how many are done and right, and stops the work by
 * returning nonzero: then 1 is returned and out is not filled. */
static int evaluate_encoded(Runner *r, const Encoded *e, bool regression, SkMetrics *out, int *pred,
                            float *probs, SkEvalFn fn, void *ctx, SkError *err) {
    int C = r->C, n = e->n;
    int *pl = malloc((size_t)(n ? n : 1) * sizeof *pl);
    float *pv = malloc((size_t)(n ? n : 1) * sizeof *pv);
    int *idx = malloc((size_t)r->Bmax * sizeof *idx), *order = malloc((size_t)(n ? n : 1) * 2 * sizeof *order);
    if (!pl || !pv || !idx || !order) {
        free(pl), free(pv), free(idx), free(order);
        return sk_err(err, "out of memory");
    }
    for (int i = 0; i < n; i++) order[2 * i] = e->len[i], order[2 * i + 1] = i;
    qsort(order, (size_t)n, 2 * sizeof *order, by_length);
    double loss_sum = 0;
    int rc = 0, correct = 0;
    for (int i0 = 0; i0 < n && rc == 0; i0 += r->Bmax) {
        int B = n - i0 < r->Bmax ? n - i0 : r->Bmax;
        for (int b = 0; b < B; b++) idx[b] = order[2 * (i0 + b) + 1];
        double loss;
        if ((rc = run_encoded(r, e, idx, B, false, false, 1.0f, &loss, err)) != 0) break;
        loss_sum += loss * B;
        for (int b = 0; b < B; b++) {
            const float *s = r->scores + (size_t)b * C;
            int i = idx[b];
            if (regression) {
                pv[i] = s[0];
                if (pred) pred[i] = 0;
                if (probs) probs[(size_t)i] = s[0];
                continue;
            }
            int best = 0;
            for (int c = 1; c < C; c++) best = s[c] > s[best] ? c : best;
            pl[i] = best;
            correct += best == e->label[i];
            if (pred) pred[i] = best;
            if (probs) {
                double mx = s[best], z = 0;
                for (int c = 0; c < C; c++) z += exp((double)s[c] - mx);
                for (int c = 0; c < C; c++) probs[(size_t)i * C + c] = (float)(exp((double)s[c] - mx) / z);
            }
        }
        if (fn && fn(ctx, i0 + B, n, correct)) rc = 1;
    }
    if (rc == 0) {
        out->loss = n ? loss_sum / n : NAN;
        if (regression) sk_metrics_regress(pv, e->target, n, out);
        else sk_metrics_classify(pl, e->label, n, C, out);
    }
    free(pl), free(pv), free(idx), free(order);
    return rc;
}

static int position_budget(const SkTask *t, int want) {
    SkActsShape shape = {0};
    sk_method_shape(t->method, &shape);
    int budget = sk_model_config(t->model)->max_seq - shape.n_prefix - shape.n_embed;
    return want < budget ? want : budget;
}

static int check_labels(const SkTask *t, const SkDataset *ds, SkError *err) {
    const SkHeadConfig *hc = sk_head_config(t->head);
    if (hc->regression != ds->regression)
        return sk_err(err, "%s: the data is %s but the head is %s", ds->source,
                      ds->regression ? "regression" : "classification",
                      hc->regression ? "regression" : "classification");
    if (!ds->regression && ds->n_labels != hc->n_classes)
        return sk_err(err, "%s: %d classes in the data, the head has %d", ds->source, ds->n_labels,
                      hc->n_classes);
    return 0;
}

int sk_evaluate(const SkTask *t, const SkDataset *ds, int batch, int max_len, SkMetrics *out,
                int *pred, float *probs, SkError *err) {
    return sk_evaluate_progress(t, ds, batch, max_len, out, pred, probs, NULL, NULL, err);
}

int sk_evaluate_progress(const SkTask *t, const SkDataset *ds, int batch, int max_len, SkMetrics *out, int *pred,
                         float *probs, SkEvalFn fn, void *ctx, SkError *err) {
    if (check_labels(t, ds, err) != 0) return -1;
    int cap = position_budget(t, max_len > 0 ? max_len : 128);
    Encoded e;
    Runner r;
    memset(&r, 0, sizeof r);
    int rc = encode_set(t, ds, cap, &e, NULL, NULL, err);
    int B = batch > 0 ? batch : 32;
    if (rc == 0) rc = runner_init(&r, t, B < e.n ? B : e.n > 0 ? e.n : 1, e.longest, true, err);
    sk_method_set_training(t->method, false, 0);
    if (rc == 0) rc = evaluate_encoded(&r, &e, ds->regression, out, pred, probs, fn, ctx, err);
    runner_free(&r);
    encoded_free(&e);
    return rc;
}

/* ---- run logs --------------------------------------------------------------------------- */

static int write_json(const char *dir, const char *name, cJSON *j, SkError *err) {
    char path[2048];
    if (sk_path_join(path, sizeof path, dir, name, err) != 0) return -1;
    char *text = cJSON_Print(j);
    if (!text) return sk_err(err, "out of memory");
    size_t n = strlen(text);
    text[n] = '\n';
    int rc = sk_write_file_atomic(path, text, n + 1, err);
    free(text);
    return rc;
}

static cJSON *entry_json(const SkHistoryEntry *h) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", h->step);
    if (isfinite(h->loss)) cJSON_AddNumberToObject(j, "loss", h->loss);
    else if (!h->evaluated) cJSON_AddStringToObject(j, "loss", isnan(h->loss) ? "nan" : "inf");
    cJSON_AddNumberToObject(j, "lr", h->lr);
    if (isfinite(h->grad_norm)) cJSON_AddNumberToObject(j, "grad_norm", h->grad_norm);
    cJSON_AddNumberToObject(j, "seconds", h->seconds);
    if (h->evaluated) cJSON_AddItemToObject(j, "eval", sk_metrics_to_json(&h->metrics, false));
    return j;
}

static int push_history(SkRunResult *out, const SkHistoryEntry *h, FILE *log) {
    if (sk_history_push(out, h) != 0) return -1;
    if (log) {
        cJSON *j = entry_json(h);
        char *line = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (line) {
            fprintf(log, "%s\n", line);
            fflush(log); /* a failed run keeps everything logged before it */
            free(line);
        }
    }
    return 0;
}

/* ---- one optimizer step (SkTrainer) -------------------------------------------------- */

struct SkTrainer {
    SkTask task;
    SkTrainConfig cfg;
    Runner r;
    SkAdamW opt;
    SkTrainable **tr;
    int ntr, step, warmup;
    int64_t params;
};

int sk_trainer_new(const SkTask *t, const SkTrainConfig *cfg, int max_tokens, SkTrainer **out,
                   SkError *err) {
    SkTrainer *tr = calloc(1, sizeof *tr);
    if (!tr) return sk_err(err, "out of memory");
    tr->task = *t;
    tr->cfg = *cfg;
    tr->warmup = cfg->warmup < 1.0f ? (int)(cfg->warmup * cfg->steps + 0.5f) : (int)cfg->warmup;
    int Bmax = cfg->batch > cfg->eval_batch ? cfg->batch : cfg->eval_batch;
    SkTrainable *mt, *ht;
    int nm = sk_method_trainables(t->method, &mt), nh = sk_head_trainables(t->head, &ht);
    tr->tr = calloc((size_t)(nm + nh + 1), sizeof *tr->tr);
    int rc = tr->tr ? 0 : sk_err(err, "out of memory");
    for (int i = 0; rc == 0 && i < nm; i++) tr->tr[i] = &mt[i];
    for (int i = 0; rc == 0 && i < nh; i++) tr->tr[nm + i] = &ht[i];
    tr->ntr = nm + nh;
    for (int i = 0; rc == 0 && i < tr->ntr; i++) tr->params += (int64_t)tr->tr[i]->numel;
    if (rc == 0) rc = runner_init(&tr->r, &tr->task, Bmax, max_tokens, false, err);
    if (rc == 0) rc = sk_adamw_init(&tr->opt, tr->tr, tr->ntr, cfg->weight_decay, err);
    if (rc != 0) {
        sk_trainer_free(tr);
        return -1;
    }
    *out = tr;
    return 0;
}

void sk_trainer_free(SkTrainer *tr) {
    if (!tr) return;
    runner_free(&tr->r);
    sk_adamw_free(&tr->opt);
    free(tr->tr);
    free(tr);
}

int64_t sk_trainer_params(const SkTrainer *tr) { return tr->params; }

int sk_trainer_step(SkTrainer *tr, const int32_t *const *ids, const int *len, const int *labels,
                    const float *targets, double *loss, double *grad_norm, double *lr, SkError *err) {
    const SkTrainConfig *c = &tr->cfg;
    *lr = sk_lr_at(tr->step, c->steps, tr->warmup, c->lr);
    double sum = 0;
    for (int a = 0; a < c->accum; a++) {
        size_t o = (size_t)a * c->batch;
        sk_method_set_training(tr->task.method, true, (uint64_t)tr->step * 131 + (uint64_t)a);
        double l;
        if (run_batch(&tr->r, ids + o, len + o, labels ? labels + o : NULL, targets ? targets + o : NULL,
                      c->batch, true, true, 1.0f / (float)c->accum, &l, err) != 0)
            return -1;
        sum += l;
    }
    *loss = sum / c->accum;
    *grad_norm = sk_grad_norm(tr->tr, tr->ntr);
    if (!isfinite(*loss) || !isfinite(*grad_norm)) return 0; /* the caller stops */
    if (c->clip > 0 && *grad_norm > c->clip) sk_grad_scale(tr->tr, tr->ntr, (float)(c->clip / *grad_norm));
    sk_adamw_step(&tr->opt, (float)*lr);
    sk_grad_zero(tr->tr, tr->ntr);
    tr->step++;
    return 0;
}

void sk_train_default_out(char *buf, size_t cap, const char *method) {
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(buf, cap, "runs/%s-%s", stamp, method);
    struct stat st;
    for (int i = 2; stat(buf, &st) == 0 && i < 1000; i++) snprintf(buf, cap, "runs/%s-%s-%d", stamp, method, i);
}

/* ---- training ---------------------------------------------------------------------------- */

int sk_train(const SkTask *t, const SkDataset *train, const SkDataset *eval,
             const SkTrainConfig *cfg, SkStepFn on_step, void *ctx, SkRunResult *out,
             SkError *err) {
    memset(out, 0, sizeof *out);
    if (cfg->steps < 0 || cfg->batch < 1 || cfg->accum < 1 || !(cfg->lr >= 0) || cfg->eval_batch < 1)
        return sk_err(err, "train: steps >= 0, batch >= 1, accum >= 1, lr >= 0 needed");
    if (check_labels(t, train, err) != 0 || (eval && check_labels(t, eval, err) != 0)) return -1;
    if (train->n == 0) return sk_err(err, "train: the training set is empty");
    int cap = position_budget(t, cfg->max_len);
    if (cap < 1) return sk_err(err, "train: the prompt or prefix leaves no positions for the input");
    if (cfg->batch * cfg->accum > 4096) return sk_err(err, "train: batch x accum is larger than 4096");
    Encoded etr = {0}, eev = {0};
    SkTrainer *trainer = NULL;
    FILE *log = NULL;
    int *order = NULL;
    int rc = encode_set(t, train, cap, &etr, cfg->progress, cfg->progress_ctx, err);
    if (rc == 0 && eval) rc = encode_set(t, eval, cap, &eev, cfg->progress, cfg->progress_ctx, err);
    int Tmax = etr.longest > eev.longest ? etr.longest : eev.longest;
    if (rc == 0) rc = sk_trainer_new(t, cfg, Tmax, &trainer, err);
    order = malloc((size_t)train->n * sizeof *order);
    if (rc == 0 && !order) rc = sk_err(err, "out of memory");
    out->params = rc == 0 ? sk_trainer_params(trainer) : 0;
    Runner *r = trainer ? &trainer->r : NULL;
    if (rc == 0 && cfg->out_dir[0]) {
        snprintf(out->out_dir, sizeof out->out_dir, "%s", cfg->out_dir);
        rc = sk_mkdir_p(cfg->out_dir, err);
        if (rc == 0) {
            cJSON *c = cJSON_CreateObject();
            char id[128];
            sk_model_identity(t->model, id, sizeof id);
            cJSON_AddStringToObject(c, "model", sk_model_dir(t->model));
            cJSON_AddStringToObject(c, "model_identity", id);
            cJSON_AddItemToObject(c, "method", sk_method_config_to_json(sk_method_config(t->method)));
            cJSON_AddItemToObject(c, "head", sk_head_config_to_json(sk_head_config(t->head)));
            cJSON_AddItemToObject(c, "train", sk_train_config_to_json(cfg));
            cJSON_AddStringToObject(c, "train_data", train->source);
            cJSON_AddNumberToObject(c, "train_examples", train->n);
            if (eval) cJSON_AddStringToObject(c, "eval_data", eval->source);
            cJSON_AddNumberToObject(c, "threads", sk_pool_threads(sk_model_pool(t->model)));
            rc = write_json(cfg->out_dir, "config.json", c, err);
            cJSON_Delete(c);
        }
        if (rc == 0) {
            char path[2048];
            sk_path_join(path, sizeof path, cfg->out_dir, "metrics.jsonl", NULL);
            if (!(log = fopen(path, "w"))) rc = sk_err(err, "%s: cannot create", path);
        }
    }
    if (rc != 0) goto done;

    SkRng rng;
    sk_rng_seed(&rng, cfg->seed);
    int pos = train->n; /* position in the current shuffled epoch */
    double t0 = sk_now_seconds();
    const int32_t *ids[4096];
    int len[4096], labels[4096];
    float targets[4096];
    SkHistoryEntry h;
    if (eval && cfg->eval_every > 0) { /* step 0: the untrained method */
        memset(&h, 0, sizeof h);
        h.loss = NAN, h.grad_norm = NAN, h.evaluated = true;
        sk_method_set_training(t->method, false, 0);
        if ((rc = evaluate_encoded(r, &eev, eval->regression, &h.metrics, NULL, NULL, NULL, NULL, err)) != 0) goto done;
        h.seconds = sk_now_seconds() - t0;
        push_history(out, &h, log);
        if (on_step && on_step(ctx, &h)) {
            snprintf(out->stop_reason, sizeof out->stop_reason, "stopped by the caller at step 0");
            goto finish;
        }
    }
    for (int step = 0; step < cfg->steps; step++) {
        memset(&h, 0, sizeof h);
        h.step = step + 1;
        for (int b = 0; b < cfg->batch * cfg->accum; b++) {
            if (pos >= train->n) { /* new epoch: Fisher-Yates with the run's RNG */
                for (int i = 0; i < train->n; i++) order[i] = i;
                for (int i = train->n - 1; i > 0; i--) {
                    int j = (int)sk_rng_below(&rng, (uint64_t)i + 1);
                    int tmp = order[i];
                    order[i] = order[j], order[j] = tmp;
                }
                pos = 0;
            }
            int k = order[pos++];
            ids[b] = etr.ids[k], len[b] = etr.len[k], labels[b] = etr.label[k], targets[b] = etr.target[k];
        }
        if ((rc = sk_trainer_step(trainer, ids, len, labels, targets, &h.loss, &h.grad_norm, &h.lr, err)) != 0)
            goto done;
        h.seconds = sk_now_seconds() - t0;
        if (!isfinite(h.loss) || !isfinite(h.grad_norm)) {
            push_history(out, &h, log);
            out->failed = true;
            snprintf(out->stop_reason, sizeof out->stop_reason,
                     "step %d: %s is %s; training stopped (try a lower learning rate)", h.step,
                     isfinite(h.loss) ? "the gradient norm" : "the loss",
                     isnan(isfinite(h.loss) ? h.grad_norm : h.loss) ? "NaN" : "infinite");
            out->steps_done = step;
            break;
        }
        out->steps_done = step + 1;
        bool last = step + 1 == cfg->steps;
        if (eval && cfg->eval_every > 0 && ((step + 1) % cfg->eval_every == 0 || last)) {
            sk_method_set_training(t->method, false, 0);
            if ((rc = evaluate_encoded(r, &eev, eval->regression, &h.metrics, NULL, NULL, NULL, NULL, err)) != 0) goto done;
            h.evaluated = true;
            h.seconds = sk_now_seconds() - t0;
        }
        push_history(out, &h, log);
        if (on_step && on_step(ctx, &h)) {
            snprintf(out->stop_reason, sizeof out->stop_reason, "stopped by the caller at step %d", h.step);
            break;
        }
        if (h.evaluated && cfg->target > 0 && sk_metrics_get(&h.metrics, cfg->target_metric) >= cfg->target) {
            snprintf(out->stop_reason, sizeof out->stop_reason, "reached %s %.4g at step %d",
                     cfg->target_metric, sk_metrics_get(&h.metrics, cfg->target_metric), h.step);
            break;
        }
    }
finish:
    out->seconds = sk_now_seconds() - t0;
    if (eval && !out->failed) {
        sk_method_set_training(t->method, false, 0);
        const SkHistoryEntry *lastc = out->n_history ? &out->history[out->n_history - 1] : NULL;
        if (lastc && lastc->evaluated && lastc->step == out->steps_done) out->final = lastc->metrics;
        else if ((rc = evaluate_encoded(r, &eev, eval->regression, &out->final, NULL, NULL, NULL, NULL, err)) != 0)
            goto done;
    }
    if (!out->stop_reason[0]) snprintf(out->stop_reason, sizeof out->stop_reason, "completed %d steps", out->steps_done);
done:
    if (cfg->out_dir[0] && (rc == 0 || out->n_history > 0)) {
        SkError e2;
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "status", rc != 0 ? "error" : (out->failed ? "failed" : "completed"));
        cJSON_AddStringToObject(s, "stop_reason", rc != 0 ? err->msg : out->stop_reason);
        cJSON_AddStringToObject(s, "method", sk_method_name(sk_method_config(t->method)->kind));
        cJSON_AddStringToObject(s, "describe", sk_method_describe(t->method));
        cJSON_AddNumberToObject(s, "params", (double)out->params);
        cJSON_AddNumberToObject(s, "steps", out->steps_done);
        cJSON_AddNumberToObject(s, "seconds", out->seconds);
        if (eval && rc == 0 && !out->failed) cJSON_AddItemToObject(s, "final", sk_metrics_to_json(&out->final, true));
        write_json(cfg->out_dir, "summary.json", s, &e2);
        cJSON_Delete(s);
        if (rc == 0 && !out->failed) {
            char path[2048];
            sk_path_join(path, sizeof path, cfg->out_dir, "adapter.safetensors", NULL);
            rc = sk_adapter_save(path, t, (const char *const *)train->labels, train->n_labels, err);
        }
    }
    if (log) fclose(log);
    sk_trainer_free(trainer);
    free(order);
    encoded_free(&etr), encoded_free(&eev);
    return rc;
}
