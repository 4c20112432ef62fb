/* checkpoint.c - a Hugging Face model's weights: model.safetensors, or shards listed
 * by model.safetensors.index.json ({"weight_map": {tensor: file}}). */
#include <stdlib.h>
#include <string.h>

#include "sk_io.h"

int sk_json_load(const char *path, cJSON **out, SkError *err) {
    char *text;
    size_t len;
    if (sk_read_file(path, &text, &len, err) != 0) return -1;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        int line = 1;
        for (size_t i = 0; i < at && i < len; i++) line += text[i] == '\n';
        free(text);
        return sk_err(err, "%s: malformed JSON near line %d (byte %zu)", path, line, at);
    }
    free(text);
    *out = j;
    return 0;
}

static int add_shard(SkCheckpoint *c, const char *file, SkError *err) {
    for (int i = 0; i < c->n_files; i++) {
        const char *p = strrchr(c->files[i].path, '/');
        if (strcmp(p ? p + 1 : c->files[i].path, file) == 0) return 0;
    }
    if (strchr(file, '/') || strcmp(file, "..") == 0)
        return sk_err(err, "%s/model.safetensors.index.json: shard name \"%s\" must be a plain "
                           "file name", c->dir, file);
    SkStFile *nf = realloc(c->files, (size_t)(c->n_files + 1) * sizeof *nf);
    if (!nf) return sk_err(err, "out of memory");
    c->files = nf;
    char path[2048];
    if (sk_path_join(path, sizeof path, c->dir, file, err) != 0) return -1;
    if (sk_st_open(&c->files[c->n_files], path, err) != 0) return -1;
    c->n_files++;
    return 0;
}

int sk_ckpt_open(SkCheckpoint *c, const char *dir, SkError *err) {
    memset(c, 0, sizeof *c);
    if (strlen(dir) >= sizeof c->dir) return sk_err(err, "model path too long: %s", dir);
    strcpy(c->dir, dir);
    char path[2048];
    if (sk_path_join(path, sizeof path, dir, "model.safetensors.index.json", err) != 0) return -1;
    if (sk_file_exists(path)) {
        cJSON *idx;
        if (sk_json_load(path, &idx, err) != 0) return -1;
        const cJSON *wm = cJSON_GetObjectItemCaseSensitive(idx, "weight_map");
        if (!cJSON_IsObject(wm)) {
            cJSON_Delete(idx);
            return sk_err(err, "%s: field weight_map missing or not an object", path);
        }
        for (const cJSON *e = wm->child; e; e = e->next) {
            if (!cJSON_IsString(e)) {
                cJSON_Delete(idx);
                sk_ckpt_close(c);
                return sk_err(err, "%s: weight_map entry %s is not a file name", path, e->string);
            }
            if (add_shard(c, e->valuestring, err) != 0) {
                cJSON_Delete(idx);
                sk_ckpt_close(c);
                return -1;
            }
        }
        /* every tensor the index names must be in the shard it names */
        for (const cJSON *e = wm->child; e; e = e->next) {
            const SkStFile *f = NULL;
            if (!sk_ckpt_find(c, e->string, &f)) {
                sk_err(err, "%s: tensor %s is listed in %s but not found there", path, e->string,
                       e->valuestring);
                cJSON_Delete(idx);
                sk_ckpt_close(c);
                return -1;
            }
        }
        cJSON_Delete(idx);
        if (c->n_files == 0) return sk_err(err, "%s: weight_map is empty", path);
        return 0;
    }
    if (sk_path_join(path, sizeof path, dir, "model.safetensors", err) != 0) return -1;
    if (!sk_file_exists(path)) {
        char bin[2048];
        sk_path_join(bin, sizeof bin, dir, "pytorch_model.bin", NULL);
        if (sk_file_exists(bin))
            return sk_err(err, "%s: only pytorch_model.bin found; sktune reads safetensors "
                               "(convert with transformers: model.save_pretrained(dir, "
                               "safe_serialization=True))", dir);
        return sk_err(err, "%s: no model.safetensors or model.safetensors.index.json", dir);
    }
    c->files = calloc(1, sizeof *c->files);
    if (!c->files) return sk_err(err, "out of memory");
    if (sk_st_open(&c->files[0], path, err) != 0) {
        free(c->files);
        c->files = NULL;
        return -1;
    }
    c->n_files = 1;
    return 0;
}

void sk_ckpt_close(SkCheckpoint *c) {
    for (int i = 0; i < c->n_files; i++) sk_st_close(&c->files[i]);
    free(c->files);
    c->files = NULL;
    c->n_files = 0;
}

const SkStTensor *sk_ckpt_find(const SkCheckpoint *c, const char *name, const SkStFile **file) {
    for (int i = 0; i < c->n_files; i++) {
        const SkStTensor *t = sk_st_find(&c->files[i], name);
        if (t) {
            if (file) *file = &c->files[i];
            return t;
        }
    }
    return NULL;
}
