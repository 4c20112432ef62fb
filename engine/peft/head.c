/* head.c - what reads the model's final hidden states (sk-tuning.md, "Heads").
 *   linear:     scores = W pool(H) + b over the input positions; pool = last real
 *               token, masked mean, or mean over every position (mean_all, as the
 *               authors' code); dropout before W while training. regression: one
 *               output and MSE.
 *   verbalizer: class c's score = mean over its label words of the frozen LM head's
 *               logit (or log-probability) of the word's first token at the last
 *               position. No parameters: gives any prompt's zero-shot accuracy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_peft.h"

struct SkHead {
    SkHeadConfig cfg;
    SkModel *model;
    int d, C, V, max_B;
    SkTrainable tr[2];
    int n_tr;
    float *pooled, *factor, *dropped, *dpooled; /* [max_B, d]: features, dropout factors */
    float *logits, *dlogits;        /* verbalizer with log_prob: [max_B, V] */
    int32_t uniq[SK_MAX_CLASSES * SK_MAX_WORDS]; /* verbalizer: its distinct label-word tokens */
    int n_uniq;
    int col[SK_MAX_CLASSES][SK_MAX_WORDS]; /* each word's column among them */
    float *wl, *dwl;                /* verbalizer without log_prob: [max_B, n_uniq] word logits */
    double *lse;                    /* verbalizer log_prob: each row's log-sum-exp, [max_B] */
    int *first, *len;               /* the rows each batch row read, from forward */
    int B, S;
    SkIds templ;
    int32_t word_ids[SK_MAX_CLASSES][SK_MAX_WORDS];
    SkRng rng;
};

static const char *POOLS[] = {"last", "mean", "mean_all"};

void sk_head_config_default(SkHeadConfig *c, int n_classes) {
    memset(c, 0, sizeof *c);
    c->kind = SK_HEAD_LINEAR;
    c->pool = SK_POOL_LAST;
    c->dropout = 0.1f;
    c->n_classes = n_classes;
    c->space = true;
    c->space_auto = true;
}

bool sk_head_word_space(const SkHeadConfig *c) {
    if (!c->space_auto) return c->space;
    size_t n = strlen(c->template_text); /* after "Answer:" a word follows a space; after "\n" none */
    return n == 0 || !strchr(" \t\r\n", c->template_text[n - 1]);
}

cJSON *sk_head_config_to_json(const SkHeadConfig *c) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", c->kind == SK_HEAD_LINEAR ? "linear" : "verbalizer");
    cJSON_AddNumberToObject(j, "n_classes", c->n_classes);
    if (c->kind == SK_HEAD_LINEAR) {
        cJSON_AddStringToObject(j, "pool", POOLS[c->pool]);
        cJSON_AddNumberToObject(j, "dropout", c->dropout);
        cJSON_AddBoolToObject(j, "regression", c->regression);
    } else {
        cJSON *words = cJSON_CreateArray();
        for (int k = 0; k < c->n_classes; k++) {
            cJSON *w = cJSON_CreateArray();
            for (int i = 0; i < c->n_words[k]; i++) cJSON_AddItemToArray(w, cJSON_CreateString(c->words[k][i]));
            cJSON_AddItemToArray(words, w);
        }
        cJSON_AddItemToObject(j, "words", words);
        cJSON_AddBoolToObject(j, "log_prob", c->log_prob);
        if (c->space_auto) cJSON_AddStringToObject(j, "space", "auto");
        else cJSON_AddBoolToObject(j, "space", c->space);
    }
    cJSON_AddStringToObject(j, "template", c->template_text);
    return j;
}

int sk_head_config_from_json(const cJSON *j, SkHeadConfig *c, SkError *err) {
    sk_head_config_default(c, 2);
    for (const cJSON *e = j->child; e; e = e->next) {
        const char *k = e->string;
#define NEED(cond, what) \
    if (!(cond)) return sk_err(err, "head option %s: expected %s", k, what)
        if (!strcmp(k, "kind")) {
            NEED(cJSON_IsString(e) && (!strcmp(e->valuestring, "linear") || !strcmp(e->valuestring, "verbalizer")),
                 "\"linear\" or \"verbalizer\"");
            c->kind = !strcmp(e->valuestring, "linear") ? SK_HEAD_LINEAR : SK_HEAD_VERBALIZER;
        } else if (!strcmp(k, "n_classes")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble >= 1 && e->valuedouble <= SK_MAX_CLASSES,
                 "an integer 1..32");
            c->n_classes = (int)e->valuedouble;
        } else if (!strcmp(k, "pool")) {
            int found = -1;
            for (int i = 0; i < 3; i++)
                if (cJSON_IsString(e) && !strcmp(e->valuestring, POOLS[i])) found = i;
            NEED(found >= 0, "\"last\", \"mean\" or \"mean_all\"");
            c->pool = (SkPooling)found;
        } else if (!strcmp(k, "dropout")) {
            NEED(cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < 1, "a number in [0, 1)");
            c->dropout = (float)e->valuedouble;
        } else if (!strcmp(k, "regression")) {
            NEED(cJSON_IsBool(e), "true or false");
            c->regression = cJSON_IsTrue(e);
        } else if (!strcmp(k, "log_prob")) {
            NEED(cJSON_IsBool(e), "true or false");
            c->log_prob = cJSON_IsTrue(e);
        } else if (!strcmp(k, "space")) {
            NEED(cJSON_IsBool(e) || (cJSON_IsString(e) && !strcmp(e->valuestring, "auto")), "true, false or \"auto\"");
            c->space_auto = !cJSON_IsBool(e);
            c->space = cJSON_IsTrue(e);
        } else if (!strcmp(k, "template")) {
            NEED(cJSON_IsString(e) && strlen(e->valuestring) < sizeof c->template_text, "a short string");
            strcpy(c->template_text, e->valuestring);
        } else if (!strcmp(k, "words")) {
            NEED(cJSON_IsArray(e) && cJSON_GetArraySize(e) >= 1 && cJSON_GetArraySize(e) <= SK_MAX_CLASSES,
                 "one word (or a list of words) per class");
            int ci = 0;
            for (const cJSON *w = e->child; w; w = w->next, ci++) {
                c->n_words[ci] = 0;
                const cJSON *list = cJSON_IsArray(w) ? w->child : w;
                for (const cJSON *x = list; x; x = cJSON_IsArray(w) ? x->next : NULL) {
                    NEED(cJSON_IsString(x) && x->valuestring[0] && strlen(x->valuestring) < SK_WORD_LEN,
                         "non-empty words shorter than 48 bytes");
                    NEED(c->n_words[ci] < SK_MAX_WORDS, "at most 8 words per class");
                    strcpy(c->words[ci][c->n_words[ci]++], x->valuestring);
                }
                NEED(c->n_words[ci] > 0, "at least one word per class");
            }
            c->n_classes = ci;
        } else {
            return sk_err(err, "head: unknown option \"%s\"", k);
        }
#undef NEED
    }
    if (c->kind == SK_HEAD_VERBALIZER && c->n_words[0] == 0)
        return sk_err(err, "head: a verbalizer needs words = {...}, one per class");
    if (c->kind == SK_HEAD_VERBALIZER && c->regression)
        return sk_err(err, "head: a verbalizer cannot do regression");
    return 0;
}

static int add(SkHead *h, const char *name, int ndim, int64_t rows, int64_t cols, bool decay) {
    SkTrainable *t = &h->tr[h->n_tr++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim, t->shape[0] = rows, t->shape[1] = cols, t->numel = (size_t)(rows * cols);
    t->decay = decay;
    t->w = calloc(t->numel, sizeof(float));
    t->g = calloc(t->numel, sizeof(float));
    return t->w && t->g ? 0 : -1;
}

int sk_head_new(SkModel *m, SkTokenizer *tok, const SkHeadConfig *cfg, int max_batch,
                uint64_t seed, SkHead **out, SkError *err) {
    SkHead *h = calloc(1, sizeof *h);
    if (!h) return sk_err(err, "out of memory");
    h->cfg = *cfg;
    h->model = m;
    const SkModelConfig *mc = sk_model_config(m);
    h->d = mc->d_model, h->V = mc->vocab_size, h->max_B = max_batch;
    h->C = cfg->regression ? 1 : cfg->n_classes;
    sk_rng_seed(&h->rng, seed ^ 0x4ead5eedULL);
    int rc = 0;
    if (cfg->n_classes < 1 || cfg->n_classes > SK_MAX_CLASSES)
        rc = sk_err(err, "head: %d classes (1..%d supported)", cfg->n_classes, SK_MAX_CLASSES);
    h->pooled = calloc((size_t)max_batch * h->d, sizeof(float));
    h->factor = calloc((size_t)max_batch * h->d, sizeof(float));
    h->dropped = calloc((size_t)max_batch * h->d, sizeof(float));
    h->dpooled = calloc((size_t)max_batch * h->d, sizeof(float));
    h->first = calloc((size_t)max_batch, sizeof(int));
    h->len = calloc((size_t)max_batch, sizeof(int));
    if (!h->pooled || !h->factor || !h->dropped || !h->dpooled || !h->first || !h->len) rc = sk_err(err, "out of memory");
    if (rc == 0 && cfg->kind == SK_HEAD_LINEAR) {
        if (add(h, "head.weight", 2, h->C, h->d, true) || add(h, "head.bias", 1, h->C, 1, false))
            rc = sk_err(err, "out of memory");
        else
            for (size_t i = 0; i < h->tr[0].numel; i++) h->tr[0].w[i] = 0.02f * sk_rng_normal(&h->rng);
    }
    if (rc == 0 && cfg->kind == SK_HEAD_VERBALIZER) {
        if (cfg->log_prob) { /* the log-softmax needs every logit */
            h->logits = calloc((size_t)max_batch * h->V, sizeof(float));
            h->dlogits = calloc((size_t)max_batch * h->V, sizeof(float));
            h->lse = calloc((size_t)max_batch, sizeof(double));
            if (!h->logits || !h->dlogits || !h->lse) rc = sk_err(err, "out of memory");
        }
        if (rc == 0 && !tok) rc = sk_err(err, "head: a verbalizer needs the model's tokenizer");
        for (int c = 0; rc == 0 && c < cfg->n_classes; c++)
            for (int w = 0; rc == 0 && w < cfg->n_words[c]; w++) {
                SkIds ids = {0};
                if (sk_tokenizer_encode_word(tok, cfg->words[c][w], sk_head_word_space(cfg), &ids, err) != 0) rc = -1;
                else if (ids.n == 0) rc = sk_err(err, "head: label word \"%s\" has no tokens", cfg->words[c][w]);
                else if (ids.ids[0] >= h->V)
                    rc = sk_err(err, "head: label word \"%s\" is token %d, past the model's vocabulary (%d)",
                                cfg->words[c][w], ids.ids[0], h->V);
                else h->word_ids[c][w] = ids.ids[0];
                sk_ids_free(&ids);
                if (rc != 0) break;
                int k = 0; /* its column among the distinct word tokens */
                while (k < h->n_uniq && h->uniq[k] != h->word_ids[c][w]) k++;
                if (k == h->n_uniq) h->uniq[h->n_uniq++] = h->word_ids[c][w];
                h->col[c][w] = k;
            }
        if (rc == 0 && !cfg->log_prob) {
            h->wl = calloc((size_t)max_batch * h->n_uniq, sizeof(float));
            h->dwl = calloc((size_t)max_batch * h->n_uniq, sizeof(float));
            if (!h->wl || !h->dwl) rc = sk_err(err, "out of memory");
        }
    }
    if (rc == 0 && cfg->template_text[0]) {
        if (!tok) rc = sk_err(err, "head: a template needs the model's tokenizer");
        else rc = sk_tokenizer_encode(tok, cfg->template_text, strlen(cfg->template_text), false, &h->templ, err);
    }
    if (rc != 0) {
        sk_head_free(h);
        return -1;
    }
    *out = h;
    return 0;
}

void sk_head_free(SkHead *h) {
    if (!h) return;
    for (int i = 0; i < h->n_tr; i++) free(h->tr[i].w), free(h->tr[i].g);
    free(h->pooled), free(h->factor), free(h->dropped), free(h->dpooled);
    free(h->logits), free(h->dlogits), free(h->lse), free(h->wl), free(h->dwl);
    free(h->first), free(h->len);
    sk_ids_free(&h->templ);
    free(h);
}

const SkHeadConfig *sk_head_config(const SkHead *h) { return &h->cfg; }
int sk_head_n_outputs(const SkHead *h) { return h->C; }

int sk_head_trainables(SkHead *h, SkTrainable **list) {
    *list = h->tr;
    return h->n_tr;
}

const int32_t *sk_head_template(const SkHead *h, int *n) {
    *n = h->templ.n;
    return h->templ.n ? h->templ.ids : NULL;
}

void sk_head_forward(SkHead *h, const float *hidden, int B, int S, int first, const int *len,
                     bool training, float *scores) {
    int d = h->d;
    h->B = B, h->S = S;
    for (int b = 0; b < B; b++) {
        h->first[b] = first;
        h->len[b] = len[b];
        float *p = h->pooled + (size_t)b * d;
        const float *rows = hidden + (size_t)b * S * d;
        if (h->cfg.kind == SK_HEAD_VERBALIZER || h->cfg.pool == SK_POOL_LAST) {
            memcpy(p, rows + (size_t)(first + len[b] - 1) * d, (size_t)d * sizeof(float));
        } else {
            int r0 = h->cfg.pool == SK_POOL_MEAN ? first : 0;
            int r1 = h->cfg.pool == SK_POOL_MEAN ? first + len[b] : S;
            memset(p, 0, (size_t)d * sizeof(float));
            for (int r = r0; r < r1; r++)
                for (int i = 0; i < d; i++) p[i] += rows[(size_t)r * d + i];
            for (int i = 0; i < d; i++) p[i] /= (float)(r1 - r0);
        }
    }
    if (h->cfg.kind == SK_HEAD_VERBALIZER && !h->cfg.log_prob) { /* the label words' logits alone */
        sk_model_lm_rows(h->model, h->pooled, B, h->uniq, h->n_uniq, h->wl);
        for (int b = 0; b < B; b++)
            for (int c = 0; c < h->C; c++) {
                double sc = 0;
                for (int w = 0; w < h->cfg.n_words[c]; w++) sc += h->wl[(size_t)b * h->n_uniq + h->col[c][w]];
                scores[b * h->C + c] = (float)(sc / h->cfg.n_words[c]);
            }
        return;
    }
    if (h->cfg.kind == SK_HEAD_VERBALIZER) { /* log_prob: log-softmax over the whole vocabulary */
        sk_model_lm_logits(h->model, h->pooled, B, h->logits);
        for (int b = 0; b < B; b++) {
            const float *z = h->logits + (size_t)b * h->V;
            float mx = z[0];
            for (int v = 1; v < h->V; v++) mx = z[v] > mx ? z[v] : mx;
            double s = 0;
            for (int v = 0; v < h->V; v++) s += exp((double)(z[v] - mx));
            double lse = log(s) + mx;
            h->lse[b] = lse; /* kept for backward */
            for (int c = 0; c < h->C; c++) {
                double sc = 0;
                for (int w = 0; w < h->cfg.n_words[c]; w++) sc += z[h->word_ids[c][w]] - lse;
                scores[b * h->C + c] = (float)(sc / h->cfg.n_words[c]);
            }
        }
        return;
    }
    float p = training ? h->cfg.dropout : 0.0f;
    for (size_t i = 0; i < (size_t)B * d; i++) {
        h->factor[i] = p > 0 ? (sk_rng_uniform(&h->rng) < p ? 0.0f : 1.0f / (1.0f - p)) : 1.0f;
        h->dropped[i] = h->pooled[i] * h->factor[i];
    }
    /* scores[B,C] = dropped @ W^T + b */
    sk_linear_forward(scores, h->dropped, h->tr[0].w, h->tr[1].w, B, d, h->C, false);
}

double sk_head_loss(const SkHead *h, const float *scores, const int *labels,
                    const float *targets, int B, float *dscores) {
    if (h->cfg.regression) {
        double loss = 0;
        for (int b = 0; b < B; b++) {
            double e = (double)scores[b] - targets[b];
            loss += e * e;
            if (dscores) dscores[b] = (float)(2.0 * e / B);
        }
        return loss / B;
    }
    int counted; /* int and int32_t are the same type on every platform we build for */
    double sum = sk_cross_entropy(NULL, scores, (const int32_t *)labels, B, h->C, dscores,
                                  1.0f / (float)B, &counted);
    return sum / B;
}

/* A verbalizer reads each row's last token: d_hidden there += dpooled. */
static void add_to_last_rows(const SkHead *h, int B, int S, float *d_hidden) {
    int d = h->d;
    for (int b = 0; b < B; b++) {
        float *dst = d_hidden + ((size_t)b * S + h->first[b] + h->len[b] - 1) * d;
        for (int i = 0; i < d; i++) dst[i] += h->dpooled[(size_t)b * d + i];
    }
}

void sk_head_backward(SkHead *h, const float *dscores, int B, int S, float *d_hidden) {
    int d = h->d;
    if (h->cfg.kind == SK_HEAD_VERBALIZER && !h->cfg.log_prob) {
        memset(h->dwl, 0, (size_t)B * h->n_uniq * sizeof(float));
        for (int b = 0; b < B; b++)
            for (int c = 0; c < h->C; c++) {
                float g = dscores[b * h->C + c] / (float)h->cfg.n_words[c];
                for (int w = 0; w < h->cfg.n_words[c]; w++) h->dwl[(size_t)b * h->n_uniq + h->col[c][w]] += g;
            }
        memset(h->dpooled, 0, (size_t)B * d * sizeof(float));
        sk_model_lm_rows_backward(h->model, h->pooled, h->dwl, B, h->uniq, h->n_uniq, h->dpooled);
        add_to_last_rows(h, B, S, d_hidden);
        return;
    }
    if (h->cfg.kind == SK_HEAD_VERBALIZER) { /* log_prob */
        /* d logits: each class's words share its score's gradient, and the log-softmax's */
        for (int b = 0; b < B; b++) {
            float *dz = h->dlogits + (size_t)b * h->V;
            memset(dz, 0, (size_t)h->V * sizeof(float));
            double total = 0;
            for (int c = 0; c < h->C; c++) {
                float g = dscores[b * h->C + c] / (float)h->cfg.n_words[c];
                for (int w = 0; w < h->cfg.n_words[c]; w++) dz[h->word_ids[c][w]] += g;
                total += dscores[b * h->C + c];
            }
            const float *z = h->logits + (size_t)b * h->V; /* d log-softmax: - total * softmax(z) */
            for (int v = 0; v < h->V; v++) dz[v] -= (float)(total * exp((double)z[v] - h->lse[b]));
        }
        memset(h->dpooled, 0, (size_t)B * d * sizeof(float));
        sk_model_lm_backward(h->model, h->pooled, h->dlogits, B, h->dpooled);
        add_to_last_rows(h, B, S, d_hidden);
        return;
    }
    /* dW += dscores^T dropped;  db += sum dscores;  dpooled = (dscores W) * factor */
    float *dp = h->dpooled;
    sk_linear_backward(NULL, h->tr[0].g, h->tr[1].g, dscores, h->dropped, h->tr[0].w, B, d, h->C);
    memset(dp, 0, (size_t)B * d * sizeof(float));
    sk_linear_backward(dp, NULL, NULL, dscores, h->dropped, h->tr[0].w, B, d, h->C);
    for (size_t i = 0; i < (size_t)B * d; i++) dp[i] *= h->factor[i];
    for (int b = 0; b < B; b++) {
        const float *g = dp + (size_t)b * d;
        if (h->cfg.pool == SK_POOL_LAST) {
            float *dst = d_hidden + ((size_t)b * S + h->first[b] + h->len[b] - 1) * d;
            for (int i = 0; i < d; i++) dst[i] += g[i];
            continue;
        }
        int r0 = h->cfg.pool == SK_POOL_MEAN ? h->first[b] : 0;
        int r1 = h->cfg.pool == SK_POOL_MEAN ? h->first[b] + h->len[b] : S;
        float inv = 1.0f / (float)(r1 - r0);
        for (int r = r0; r < r1; r++) {
            float *dst = d_hidden + ((size_t)b * S + r) * d;
            for (int i = 0; i < d; i++) dst[i] += g[i] * inv;
        }
    }
}
