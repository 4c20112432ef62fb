/* pretrain.c - full-parameter causal-LM training (what the bundled model is made
 * with): the same model, ops and AdamW as fine-tuning, plus checkpoints that resume
 * bit for bit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_io.h"
#include "sk_train.h"
#include "train/optim.h"

void sk_pretrain_config_default(SkPretrainConfig *c) {
    memset(c, 0, sizeof *c);
    c->steps = 1000, c->batch = 16, c->seq = 128;
    c->lr = 1e-3f, c->warmup = 0.02f, c->weight_decay = 0.1f, c->clip = 1.0f, c->min_lr = 0.1f;
    c->seed = 1, c->eval_every = 100, c->eval_windows = 64, c->checkpoint_every = 200;
}

/* Forward + loss (+ backward) of B windows starting at starts[]: ids[s..s+seq) predict
 * ids[s+1..s+seq]. */
typedef struct {
    SkModel *m;
    SkActs *acts;
    int B, seq, V, d;
    int32_t *x, *y;
    float *logits, *dlogits, *dhidden;
} LmBatch;

static void lm_free(LmBatch *b) {
    sk_acts_free(b->acts);
    free(b->x), free(b->y), free(b->logits), free(b->dlogits), free(b->dhidden);
}

static int lm_init(LmBatch *b, SkModel *m, int B, int seq, SkError *err) {
    memset(b, 0, sizeof *b);
    const SkModelConfig *c = sk_model_config(m);
    if (seq < 2 || seq > c->max_seq) return sk_err(err, "pretrain: seq %d (2..%d)", seq, c->max_seq);
    b->m = m, b->B = B, b->seq = seq, b->V = c->vocab_size, b->d = c->d_model;
    SkActsShape shape = {.B = B, .T = seq};
    if (sk_acts_new(m, &shape, &b->acts, err) != 0) return -1;
    size_t N = (size_t)B * seq;
    b->x = malloc(N * sizeof *b->x), b->y = malloc(N * sizeof *b->y);
    b->logits = malloc(N * b->V * sizeof(float)), b->dlogits = malloc(N * b->V * sizeof(float));
    b->dhidden = malloc(N * b->d * sizeof(float));
    if (!b->x || !b->y || !b->logits || !b->dlogits || !b->dhidden) return sk_err(err, "out of memory");
    return 0;
}

static int lm_run(LmBatch *b, const int32_t *ids, const size_t *starts, int B, bool backward, double *loss,
                  SkError *err) {
    int T = b->seq;
    for (int r = 0; r < B; r++) {
        memcpy(b->x + (size_t)r * T, ids + starts[r], (size_t)T * sizeof(int32_t));
        memcpy(b->y + (size_t)r * T, ids + starts[r] + 1, (size_t)T * sizeof(int32_t));
    }
    SkBatch batch = {.B = B, .T = T, .ids = b->x};
    if (sk_model_forward(b->m, b->acts, &batch, NULL, err) != 0) return -1;
    int N = B * T;
    sk_model_lm_logits(b->m, sk_acts_hidden(b->acts), N, b->logits);
    int counted;
    double sum = sk_cross_entropy(sk_model_pool(b->m), b->logits, b->y, N, b->V,
                                  backward ? b->dlogits : NULL, 1.0f / (float)N, &counted);
    *loss = sum / N;
    if (!backward) return 0;
    memset(b->dhidden, 0, (size_t)N * b->d * sizeof(float));
    sk_model_lm_backward(b->m, sk_acts_hidden(b->acts), b->dlogits, N, b->dhidden);
    return sk_model_backward(b->m, b->acts, &batch, NULL, b->dhidden, err);
}

static int eval_windows(LmBatch *b, const int32_t *ids, size_t n, int n_windows, double *loss, SkError *err) {
    if (n < (size_t)b->seq + 2) return sk_err(err, "pretrain: the validation text has only %zu tokens", n);
    size_t span = n - (size_t)b->seq - 1;
    size_t starts[4096];
    double sum = 0;
    int done = 0;
    while (done < n_windows) {
        int B = n_windows - done < b->B ? n_windows - done : b->B;
        for (int r = 0; r < B; r++) starts[r] = (size_t)((double)(done + r) / n_windows * span);
        double l;
        if (lm_run(b, ids, starts, B, false, &l, err) != 0) return -1;
        sum += l * B;
        done += B;
    }
    *loss = sum / n_windows;
    return 0;
}

int sk_lm_eval(SkModel *m, const int32_t *ids, size_t n, int seq, int n_windows, int batch, double *loss,
               SkError *err) {
    LmBatch b;
    int rc = lm_init(&b, m, batch > 0 ? batch : 8, seq, err);
    if (rc == 0) rc = eval_windows(&b, ids, n, n_windows > 0 ? n_windows : 64, loss, err);
    lm_free(&b);
    return rc;
}

/* ---- checkpoints: weights, AdamW moments, state ---------------------------------------- */

static int save_checkpoint(const char *dir, SkModel *m, SkAdamW *opt, const SkRng *rng, int step,
                           SkError *err) {
    char cdir[1200], path[1300];
    snprintf(cdir, sizeof cdir, "%s/checkpoint", dir);
    if (sk_mkdir_p(cdir, err) != 0) return -1;
    SkParam *ps;
    int n = sk_model_params(m, &ps);
    SkStWriteTensor *ts = calloc((size_t)n * 3, sizeof *ts);
    char (*names)[128] = calloc((size_t)n * 3, sizeof *names);
    if (!ts || !names) {
        free(ts), free(names);
        return sk_err(err, "out of memory");
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            int j = 3 * i + k;
            snprintf(names[j], sizeof names[j], "%s.%s", k == 0 ? "w" : k == 1 ? "m" : "v", ps[i].name);
            ts[j] = (SkStWriteTensor){.name = names[j], .dtype = SK_DT_F32, .ndim = 1,
                                      .data = k == 0 ? ps[i].w : k == 1 ? opt->m[i] : opt->v[i]};
            ts[j].shape[0] = (int64_t)ps[i].numel;
        }
    snprintf(path, sizeof path, "%s/state.safetensors", cdir);
    int rc = sk_st_write(path, ts, 3 * n, NULL, err);
    free(ts), free(names);
    if (rc != 0) return -1;
    /* state.json last: a checkpoint is complete only once it exists */
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", step);
    cJSON_AddNumberToObject(j, "adam_step", opt->step);
    cJSON *r = cJSON_CreateArray();
    char hex[32];
    for (int k = 0; k < 4; k++) {
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)rng->s[k]);
        cJSON_AddItemToArray(r, cJSON_CreateString(hex));
    }
    cJSON_AddItemToObject(j, "rng", r);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "%s/state.json", cdir);
    rc = text ? sk_write_file_atomic(path, text, strlen(text), err) : sk_err(err, "out of memory");
    free(text);
    return rc;
}

static int load_checkpoint(const char *dir, SkModel *m, SkAdamW *opt, SkRng *rng, int *step, SkError *err) {
    char path[1300];
    snprintf(path, sizeof path, "%s/checkpoint/state.json", dir);
    cJSON *j;
    if (sk_json_load(path, &j, err) != 0) return -1;
    const cJSON *st = cJSON_GetObjectItem(j, "step"), *as = cJSON_GetObjectItem(j, "adam_step");
    const cJSON *r = cJSON_GetObjectItem(j, "rng");
    if (!cJSON_IsNumber(st) || !cJSON_IsNumber(as) || cJSON_GetArraySize(r) != 4) {
        cJSON_Delete(j);
        return sk_err(err, "%s: fields step, adam_step, rng required", path);
    }
    *step = st->valueint;
    opt->step = as->valueint;
    for (int k = 0; k < 4; k++) rng->s[k] = strtoull(cJSON_GetArrayItem(r, k)->valuestring, NULL, 16);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "%s/checkpoint/state.safetensors", dir);
    SkStFile f;
    if (sk_st_open(&f, path, err) != 0) return -1;
    SkParam *ps;
    int n = sk_model_params(m, &ps), rc = 0;
    for (int i = 0; rc == 0 && i < n; i++)
        for (int k = 0; rc == 0 && k < 3; k++) {
            char name[128];
            snprintf(name, sizeof name, "%s.%s", k == 0 ? "w" : k == 1 ? "m" : "v", ps[i].name);
            const SkStTensor *t = sk_st_find(&f, name);
            if (!t || t->numel != ps[i].numel || t->dtype != SK_DT_F32)
                rc = sk_err(err, "%s: tensor %s missing or of the wrong size (another model?)", path, name);
            else memcpy(k == 0 ? ps[i].w : k == 1 ? opt->m[i] : opt->v[i], t->data, t->nbytes);
        }
    sk_st_close(&f);
    return rc;
}

/* Keeps the log lines of steps up to `step` (a resumed run rewrites the rest). */
static void truncate_log(const char *path, int step) {
    char *text;
    size_t len;
    if (sk_read_file(path, &text, &len, NULL) != 0) return;
    FILE *f = fopen(path, "w");
    if (!f) {
        free(text);
        return;
    }
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        cJSON *j = cJSON_Parse(line);
        const cJSON *s = j ? cJSON_GetObjectItem(j, "step") : NULL;
        if (cJSON_IsNumber(s) && s->valueint <= step) fprintf(f, "%s\n", line);
        cJSON_Delete(j);
        line = nl ? nl + 1 : NULL;
    }
    fclose(f);
    free(text);
}

static void log_entry(FILE *log, const SkHistoryEntry *h) {
    if (!log) return;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "step", h->step);
    if (isfinite(h->loss)) cJSON_AddNumberToObject(j, "loss", h->loss);
    cJSON_AddNumberToObject(j, "lr", h->lr);
    if (isfinite(h->grad_norm)) cJSON_AddNumberToObject(j, "grad_norm", h->grad_norm);
    cJSON_AddNumberToObject(j, "seconds", h->seconds);
    if (h->evaluated) {
        cJSON_AddNumberToObject(j, "val_loss", h->metrics.loss);
        cJSON_AddNumberToObject(j, "val_perplexity", exp(h->metrics.loss));
    }
    char *line = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (line) fprintf(log, "%s\n", line), fflush(log), free(line);
}

int sk_pretrain(SkModel *m, const int32_t *train, size_t n_train, const int32_t *val, size_t n_val,
                const SkPretrainConfig *cfg, SkStepFn on_step, void *ctx, SkRunResult *out, SkError *err) {
    memset(out, 0, sizeof *out);
    if (cfg->steps < 0 || cfg->batch < 1 || cfg->batch > 4096 || !(cfg->lr > 0))
        return sk_err(err, "pretrain: steps >= 0, 1 <= batch <= 4096, lr > 0 needed");
    if (n_train < (size_t)cfg->seq + 2) return sk_err(err, "pretrain: only %zu training tokens", n_train);
    const SkModelConfig *mc = sk_model_config(m);
    for (size_t i = 0; i < n_train; i++)
        if (train[i] < 0 || train[i] >= mc->vocab_size)
            return sk_err(err, "pretrain: token %d at %zu is outside the vocabulary", train[i], i);
    if (sk_model_set_trainable(m, NULL, true, err) != 0) return -1;
    SkParam *ps;
    int np = sk_model_params(m, &ps);
    SkTrainable *tr = calloc((size_t)np, sizeof *tr);
    SkTrainable **trp = calloc((size_t)np, sizeof *trp);
    LmBatch b;
    memset(&b, 0, sizeof b);
    SkAdamW opt;
    memset(&opt, 0, sizeof opt);
    FILE *log = NULL;
    int rc = tr && trp ? 0 : sk_err(err, "out of memory");
    for (int i = 0; rc == 0 && i < np; i++) {
        tr[i] = (SkTrainable){.w = ps[i].w, .g = ps[i].g, .numel = ps[i].numel, .ndim = ps[i].ndim > 2 ? 2 : ps[i].ndim,
                              .decay = ps[i].ndim >= 2};
        snprintf(tr[i].name, sizeof tr[i].name, "%s", ps[i].name);
        trp[i] = &tr[i];
        out->params += (int64_t)ps[i].numel;
    }
    if (rc == 0) rc = sk_adamw_init(&opt, trp, np, cfg->weight_decay, err);
    if (rc == 0) rc = lm_init(&b, m, cfg->batch, cfg->seq, err);
    SkRng rng;
    sk_rng_seed(&rng, cfg->seed);
    int start_step = 0;
    if (rc == 0 && cfg->out_dir[0]) {
        snprintf(out->out_dir, sizeof out->out_dir, "%s", cfg->out_dir);
        rc = sk_mkdir_p(cfg->out_dir, err);
        char path[1300];
        snprintf(path, sizeof path, "%s/checkpoint/state.json", cfg->out_dir);
        if (rc == 0 && cfg->resume && sk_file_exists(path)) {
            rc = load_checkpoint(cfg->out_dir, m, &opt, &rng, &start_step, err);
            snprintf(path, sizeof path, "%s/metrics.jsonl", cfg->out_dir);
            if (rc == 0) truncate_log(path, start_step);
        }
        snprintf(path, sizeof path, "%s/metrics.jsonl", cfg->out_dir);
        if (rc == 0 && !(log = fopen(path, start_step > 0 ? "a" : "w"))) rc = sk_err(err, "%s: cannot write", path);
    }
    if (rc != 0) goto done;
    int warmup = cfg->warmup < 1.0f ? (int)(cfg->warmup * cfg->steps + 0.5f) : (int)cfg->warmup;
    double t0 = sk_now_seconds();
    size_t starts[4096], span = n_train - (size_t)cfg->seq - 1;
    out->steps_done = start_step;
    for (int step = start_step; step < cfg->steps; step++) {
        SkHistoryEntry h;
        memset(&h, 0, sizeof h);
        h.step = step + 1;
        /* linear warmup, then linear decay to min_lr * lr */
        float base = sk_lr_at(step, cfg->steps, warmup, cfg->lr);
        h.lr = step < warmup ? base : cfg->lr * cfg->min_lr + (base / cfg->lr) * cfg->lr * (1.0f - cfg->min_lr);
        for (int r = 0; r < cfg->batch; r++) starts[r] = (size_t)sk_rng_below(&rng, (uint64_t)span + 1);
        if ((rc = lm_run(&b, train, starts, cfg->batch, true, &h.loss, err)) != 0) goto done;
        h.grad_norm = sk_grad_norm(trp, np);
        h.seconds = sk_now_seconds() - t0;
        if (!isfinite(h.loss) || !isfinite(h.grad_norm)) {
            sk_history_push(out, &h);
            log_entry(log, &h);
            out->failed = true;
            snprintf(out->stop_reason, sizeof out->stop_reason, "step %d: %s is not finite; stopped (the last "
                     "checkpoint is kept)", h.step, isfinite(h.loss) ? "the gradient norm" : "the loss");
            break;
        }
        if (cfg->clip > 0 && h.grad_norm > cfg->clip) sk_grad_scale(trp, np, (float)(cfg->clip / h.grad_norm));
        sk_adamw_step(&opt, (float)h.lr);
        sk_grad_zero(trp, np);
        out->steps_done = step + 1;
        bool last = step + 1 == cfg->steps;
        if (val && cfg->eval_every > 0 && ((step + 1) % cfg->eval_every == 0 || last)) {
            if ((rc = eval_windows(&b, val, n_val, cfg->eval_windows, &h.metrics.loss, err)) != 0) goto done;
            h.evaluated = true;
            h.seconds = sk_now_seconds() - t0;
        }
        sk_history_push(out, &h);
        log_entry(log, &h);
        if (cfg->out_dir[0] && cfg->checkpoint_every > 0 && ((step + 1) % cfg->checkpoint_every == 0 || last))
            if ((rc = save_checkpoint(cfg->out_dir, m, &opt, &rng, step + 1, err)) != 0) goto done;
        if (on_step && on_step(ctx, &h)) {
            snprintf(out->stop_reason, sizeof out->stop_reason, "stopped by the caller at step %d", h.step);
            break;
        }
    }
    out->seconds = sk_now_seconds() - t0;
    if (!out->stop_reason[0]) snprintf(out->stop_reason, sizeof out->stop_reason, "completed %d steps", out->steps_done);
done:
    if (log) fclose(log);
    lm_free(&b);
    sk_adamw_free(&opt);
    sk_model_set_trainable(m, NULL, false, NULL);
    free(tr), free(trp);
    return rc;
}
