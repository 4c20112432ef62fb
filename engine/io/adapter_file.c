/* adapter_file.c - everything a method and head trained, in one safetensors file.
 * Tensors: "method.<name>" and "head.<name>" (float32). Metadata (strings):
 *   format "sktune-adapter/1", method (name), method_config, head_config (JSON),
 *   prompt, labels (JSON array), model (identity the file was trained for). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_io.h"
#include "sk_train.h"

void sk_model_identity(const SkModel *m, char *buf, size_t cap) {
    const SkModelConfig *c = sk_model_config(m);
    snprintf(buf, cap, "%s/%dx%d/h%d/kv%d/ff%d/v%d/p%d", c->arch, c->n_layer, c->d_model, c->n_head,
             c->n_kv_head, c->d_ff, c->vocab_size, c->max_seq);
}

int sk_adapter_save(const char *path, const SkTask *t, const char *const *labels, int n_labels,
                    SkError *err) {
    SkTrainable *mt, *ht;
    int nm = sk_method_trainables(t->method, &mt), nh = sk_head_trainables(t->head, &ht);
    SkStWriteTensor *ts = calloc((size_t)(nm + nh + 1), sizeof *ts);
    char (*names)[128] = calloc((size_t)(nm + nh + 1), sizeof *names);
    if (!ts || !names) {
        free(ts), free(names);
        return sk_err(err, "out of memory");
    }
    for (int i = 0; i < nm + nh; i++) {
        SkTrainable *x = i < nm ? &mt[i] : &ht[i - nm];
        snprintf(names[i], sizeof names[i], "%s.%s", i < nm ? "method" : "head", x->name);
        ts[i] = (SkStWriteTensor){.name = names[i], .dtype = SK_DT_F32, .ndim = x->ndim, .data = x->w};
        ts[i].shape[0] = x->shape[0];
        ts[i].shape[1] = x->shape[1];
    }
    cJSON *meta = cJSON_CreateObject();
    char id[128];
    sk_model_identity(t->model, id, sizeof id);
    const SkMethodConfig *mc = sk_method_config(t->method);
    cJSON_AddStringToObject(meta, "format", "sktune-adapter/1");
    cJSON_AddStringToObject(meta, "method", sk_method_name(mc->kind));
    cJSON_AddStringToObject(meta, "prompt", mc->prompt);
    cJSON_AddStringToObject(meta, "model", id);
    cJSON *j = sk_method_config_to_json(mc);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cJSON_AddStringToObject(meta, "method_config", s ? s : "{}");
    free(s);
    j = sk_head_config_to_json(sk_head_config(t->head));
    s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cJSON_AddStringToObject(meta, "head_config", s ? s : "{}");
    free(s);
    j = cJSON_CreateArray();
    for (int i = 0; i < n_labels; i++) cJSON_AddItemToArray(j, cJSON_CreateString(labels[i]));
    s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cJSON_AddStringToObject(meta, "labels", s ? s : "[]");
    free(s);
    int rc = sk_st_write(path, ts, nm + nh, meta, err);
    cJSON_Delete(meta);
    free(ts), free(names);
    return rc;
}

static const char *meta_str(const SkStFile *f, const char *key) {
    const cJSON *v = f->metadata ? cJSON_GetObjectItemCaseSensitive(f->metadata, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int fill(const SkStFile *f, const char *prefix, SkTrainable *x, int n, SkError *err) {
    for (int i = 0; i < n; i++) {
        char name[160];
        snprintf(name, sizeof name, "%s.%s", prefix, x[i].name);
        const SkStTensor *t = sk_st_find(f, name);
        if (!t) return sk_err(err, "%s: tensor %s missing", f->path, name);
        if (t->numel != x[i].numel)
            return sk_err(err, "%s: tensor %s has %zu values, the method expects %zu", f->path, name,
                          t->numel, x[i].numel);
        if (sk_st_read_f32(f, t, x[i].w, err) != 0) return -1;
    }
    return 0;
}

int sk_adapter_load(const char *path, SkModel *m, SkTokenizer *tok, int max_batch,
                    SkMethod **method, SkHead **head, char ***labels, int *n_labels, SkError *err) {
    *method = NULL, *head = NULL, *labels = NULL, *n_labels = 0;
    SkStFile f;
    if (sk_st_open(&f, path, err) != 0) return -1;
    int rc = -1;
    cJSON *mj = NULL, *hj = NULL, *lj = NULL;
    const char *fmt = meta_str(&f, "format"), *id = meta_str(&f, "model");
    const char *mcs = meta_str(&f, "method_config"), *hcs = meta_str(&f, "head_config");
    char mine[128];
    sk_model_identity(m, mine, sizeof mine);
    if (!fmt || strncmp(fmt, "sktune-adapter/", 15) != 0 || !id || !mcs || !hcs) {
        sk_err(err, "%s: not an sktune adapter (metadata format/model/method_config/head_config missing)", path);
        goto done;
    }
    if (strcmp(id, mine) != 0) {
        sk_err(err, "%s: adapter was trained for %s, model is %s", path, id, mine);
        goto done;
    }
    SkMethodConfig mc;
    SkHeadConfig hc;
    mj = cJSON_Parse(mcs), hj = cJSON_Parse(hcs);
    if (!mj || !hj) {
        sk_err(err, "%s: method_config or head_config is not valid JSON", path);
        goto done;
    }
    if (sk_method_config_from_json(mj, &mc, err) != 0 || sk_head_config_from_json(hj, &hc, err) != 0) {
        sk_err_prefix(err, "%s", path);
        goto done;
    }
    if (sk_method_new(m, tok, &mc, method, err) != 0) goto done;
    if (sk_head_new(sk_method_model(*method), tok, &hc, max_batch, mc.seed, head, err) != 0) goto done;
    SkTrainable *mt, *ht;
    int nm = sk_method_trainables(*method, &mt), nh = sk_head_trainables(*head, &ht);
    if (fill(&f, "method", mt, nm, err) != 0 || fill(&f, "head", ht, nh, err) != 0) goto done;
    const char *ls = meta_str(&f, "labels");
    lj = ls ? cJSON_Parse(ls) : NULL;
    if (cJSON_IsArray(lj)) {
        int n = cJSON_GetArraySize(lj);
        *labels = calloc((size_t)(n ? n : 1), sizeof(char *));
        if (!*labels) {
            sk_err(err, "out of memory");
            goto done;
        }
        int i = 0;
        for (cJSON *e = lj->child; e; e = e->next, i++) (*labels)[i] = strdup(cJSON_IsString(e) ? e->valuestring : "?");
        *n_labels = n;
    }
    rc = 0;
done:
    if (rc != 0) {
        sk_head_free(*head), sk_method_free(*method);
        *head = NULL, *method = NULL;
    }
    cJSON_Delete(mj), cJSON_Delete(hj), cJSON_Delete(lj);
    sk_st_close(&f);
    return rc;
}
