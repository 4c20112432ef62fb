/* tokenizer.c - loading Hugging Face byte-level BPE tokenizers and running them:
 * added/special tokens are split out first, the rest is pre-tokenized with GPT-2's
 * pattern and merged by BPE; the post-processor's special tokens go around it. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sk_io.h"
#include "tokenizer/tokenizer_internal.h"


int sk_ids_push(SkIds *v, int32_t id) {
    if (v->n == v->cap) {
        int ncap = v->cap ? v->cap * 2 : 64;
        int32_t *n = realloc(v->ids, (size_t)ncap * sizeof *n);
        if (!n) return -1;
        v->ids = n;
        v->cap = ncap;
    }
    v->ids[v->n++] = id;
    return 0;
}

void sk_ids_free(SkIds *v) {
    free(v->ids);
    memset(v, 0, sizeof *v);
}

SkTokenizer *sk_tokenizer_new_empty(void) {
    SkTokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    pthread_mutex_init(&t->cache_mu, NULL);
    t->bos = t->eos = -1;
    t->pretok = sk_pretok_gpt2_next;
    return t;
}

void sk_tokenizer_free(SkTokenizer *t) {
    if (!t) return;
    for (int i = 0; i < t->vocab_size; i++) free(t->pieces ? t->pieces[i] : NULL);
    free(t->pieces);
    sk_strmap_free(&t->vocab);
    sk_pairmap_free(&t->merges);
    free(t->merge_left), free(t->merge_right);
    for (int i = 0; i < t->n_added; i++) free(t->added[i].content);
    free(t->added);
    sk_ids_free(&t->prefix);
    sk_ids_free(&t->suffix);
    sk_strmap_free(&t->cache);
    sk_ids_free(&t->cache_ids);
    pthread_mutex_destroy(&t->cache_mu);
    free(t);
}

/* Reads {"piece": id, ...} into the vocabulary. */
static int read_vocab(SkTokenizer *t, const cJSON *vocab, const char *where, SkError *err) {
    if (!cJSON_IsObject(vocab)) return sk_err(err, "%s: vocabulary is not an object", where);
    int max_id = -1;
    for (const cJSON *e = vocab->child; e; e = e->next) {
        if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 1e8 ||
            e->valuedouble != (double)(int)e->valuedouble)
            return sk_err(err, "%s: vocabulary entry \"%s\" has no valid id", where, e->string);
        if (e->valueint > max_id) max_id = e->valueint;
    }
    if (max_id < 0) return sk_err(err, "%s: vocabulary is empty", where);
    t->vocab_size = max_id + 1;
    t->pieces = calloc((size_t)t->vocab_size, sizeof *t->pieces);
    if (!t->pieces) return sk_err(err, "out of memory");
    for (const cJSON *e = vocab->child; e; e = e->next) {
        size_t len = strlen(e->string);
        if (t->pieces[e->valueint])
            return sk_err(err, "%s: id %d is used by both \"%s\" and \"%s\"", where, e->valueint,
                          t->pieces[e->valueint], e->string);
        t->pieces[e->valueint] = strdup(e->string);
        if (!t->pieces[e->valueint] || sk_strmap_put(&t->vocab, e->string, len, e->valueint) != 0)
            return sk_err(err, "out of memory");
    }
    return sk_bpe_finish(t, err, where);
}

static int add_token(SkTokenizer *t, const char *content, int32_t id, bool special, SkError *err) {
    for (int i = 0; i < t->n_added; i++)
        if (t->added[i].id == id) return 0;
    SkAddedToken *n = realloc(t->added, (size_t)(t->n_added + 1) * sizeof *n);
    if (!n) return sk_err(err, "out of memory");
    t->added = n;
    SkAddedToken *a = &t->added[t->n_added];
    a->content = strdup(content);
    if (!a->content) return sk_err(err, "out of memory");
    a->len = strlen(content);
    if (a->len == 0) {
        free(a->content);
        return 0;
    }
    a->id = id;
    a->special = special;
    t->n_added++;
    t->added_first[(unsigned char)content[0]] = 1;
    if (id >= t->vocab_size) { /* added tokens may extend the vocabulary */
        char **np = realloc(t->pieces, (size_t)(id + 1) * sizeof *np);
        if (!np) return sk_err(err, "out of memory");
        for (int i = t->vocab_size; i <= id; i++) np[i] = NULL;
        t->pieces = np;
        t->vocab_size = id + 1;
    }
    if (!t->pieces[id]) t->pieces[id] = strdup(content);
    return 0;
}

int sk_tokenizer_add_special(SkTokenizer *t, const char *content, int32_t id, SkError *err) {
    return add_token(t, content, id, true, err);
}

static int32_t token_id(const SkTokenizer *t, const char *s) {
    int32_t id;
    for (int i = 0; i < t->n_added; i++)
        if (strcmp(t->added[i].content, s) == 0) return t->added[i].id;
    return sk_strmap_get(&t->vocab, s, strlen(s), &id) ? id : -1;
}

/* tokenizer_config.json: bos_token / eos_token as a string or {"content": ...} */
static void read_tokenizer_config(SkTokenizer *t, const char *dir) {
    char path[2048];
    cJSON *j;
    if (sk_path_join(path, sizeof path, dir, "tokenizer_config.json", NULL) != 0) return;
    if (!sk_file_exists(path) || sk_json_load(path, &j, NULL) != 0) return;
    const char *keys[2] = {"bos_token", "eos_token"};
    int32_t *dst[2] = {&t->bos, &t->eos};
    for (int k = 0; k < 2; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
        if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (cJSON_IsString(v)) {
            int32_t id = token_id(t, v->valuestring);
            if (id >= 0) *dst[k] = id;
        }
    }
    cJSON_Delete(j);
}

static int read_template(SkTokenizer *t, const cJSON *pp, const char *where, SkError *err) {
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
    if (!cJSON_IsArray(single))
        return sk_err(err, "%s: post_processor.single missing or not an array", where);
    bool after = false;
    for (const cJSON *e = single->child; e; e = e->next) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(e, "SpecialToken");
        if (cJSON_GetObjectItemCaseSensitive(e, "Sequence")) {
            after = true;
            continue;
        }
        const cJSON *name = st ? cJSON_GetObjectItemCaseSensitive(st, "id") : NULL;
        if (!cJSON_IsString(name)) return sk_err(err, "%s: post_processor.single entry not understood", where);
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(specials, name->valuestring);
        const cJSON *ids = spec ? cJSON_GetObjectItemCaseSensitive(spec, "ids") : NULL;
        if (!cJSON_IsArray(ids))
            return sk_err(err, "%s: post_processor.special_tokens lacks \"%s\"", where, name->valuestring);
        for (const cJSON *i = ids->child; i; i = i->next)
            if (!cJSON_IsNumber(i) || sk_ids_push(after ? &t->suffix : &t->prefix, i->valueint) != 0)
                return sk_err(err, "%s: bad id for special token \"%s\"", where, name->valuestring);
    }
    return 0;
}

static bool type_is(const cJSON *obj, const char *type) {
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(obj, "type");
    return cJSON_IsString(ty) && strcmp(ty->valuestring, type) == 0;
}

/* Llama 3's pre-tokenizer regex, as its tokenizer.json spells it (scanned by
 * sk_pretok_llama3_next; any other regex is refused rather than approximated). */
#define LLAMA3_PATTERN                                                                                  \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|" \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* "ByteLevel" or "Sequence[Split, ByteLevel]": a component's type as a message shows it. */
static void describe(const cJSON *obj, const char *list_key, char *buf, size_t cap) {
    const cJSON *ty = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, "type") : NULL;
    snprintf(buf, cap, "%s", cJSON_IsString(ty) ? ty->valuestring : "?");
    const cJSON *list = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, list_key) : NULL;
    if (!cJSON_IsArray(list)) return;
    size_t n = strlen(buf);
    n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "[");
    for (const cJSON *e = list->child; e && n < cap; e = e->next) {
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(e, "type");
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", e == list->child ? "" : ", ",
                              cJSON_IsString(et) ? et->valuestring : "?");
    }
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

static int load_tokenizer_json(SkTokenizer *t, const char *path, SkError *err) {
    cJSON *root;
    if (sk_json_load(path, &root, err) != 0) return -1;
    int rc = -1;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) {
        sk_err(err, "%s: field model missing", path);
        goto done;
    }
    const cJSON *mtype = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (mtype && !type_is(model, "BPE")) {
        sk_err(err, "%s: model.type \"%s\" is not supported (byte-level BPE only for now)", path,
               cJSON_IsString(mtype) ? mtype->valuestring : "?");
        goto done;
    }
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
    char what[256];
    if (norm && !cJSON_IsNull(norm)) {
        describe(norm, "normalizers", what, sizeof what);
        sk_err(err, "%s: normalizer %s is not supported yet (SentencePiece-style and NFC tokenizers such as "
                    "Llama 2, Mistral, Qwen2 are planned; GPT-2-style byte-level BPE works)", path, what);
        goto done;
    }
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
    const cJSON *byte_level = pre;
    if (cJSON_IsObject(pre) && type_is(pre, "Sequence")) { /* Llama 3: Split(regex) then ByteLevel */
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers");
        const cJSON *split = cJSON_GetArrayItem(list, 0), *bl = cJSON_GetArrayItem(list, 1);
        const cJSON *pat = cJSON_IsObject(split) ? cJSON_GetObjectItemCaseSensitive(split, "pattern") : NULL;
        const cJSON *rx = cJSON_IsObject(pat) ? cJSON_GetObjectItemCaseSensitive(pat, "Regex") : NULL;
        const cJSON *beh = cJSON_IsObject(split) ? cJSON_GetObjectItemCaseSensitive(split, "behavior") : NULL;
        bool ok = cJSON_GetArraySize(list) == 2 && type_is(split, "Split") && type_is(bl, "ByteLevel") &&
                  cJSON_IsString(rx) && !strcmp(rx->valuestring, LLAMA3_PATTERN) && cJSON_IsString(beh) &&
                  !strcmp(beh->valuestring, "Isolated") &&
                  !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(split, "invert")) &&
                  !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(bl, "use_regex"));
        if (!ok) {
            describe(pre, "pretokenizers", what, sizeof what);
            sk_err(err, "%s: pre_tokenizer %s%s%s is not supported yet (ByteLevel as GPT-2 has, or Llama 3's Split "
                        "regex then ByteLevel)", path, what, cJSON_IsString(rx) ? " with regex " : "",
                   cJSON_IsString(rx) ? rx->valuestring : "");
            goto done;
        }
        t->pretok = sk_pretok_llama3_next;
        byte_level = bl;
    } else if (!cJSON_IsObject(pre) || !type_is(pre, "ByteLevel")) {
        describe(pre, "pretokenizers", what, sizeof what);
        sk_err(err, "%s: pre_tokenizer %s is not supported yet (ByteLevel as GPT-2 has, or Llama 3's Split regex "
                    "then ByteLevel)", path, cJSON_IsObject(pre) ? what : "none");
        goto done;
    }
    const cJSON *aps = cJSON_GetObjectItemCaseSensitive(byte_level, "add_prefix_space");
    if (cJSON_IsTrue(aps)) {
        sk_err(err, "%s: pre_tokenizer.add_prefix_space=true is not supported yet", path);
        goto done;
    }
    t->ignore_merges = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "ignore_merges"));
    if (read_vocab(t, cJSON_GetObjectItemCaseSensitive(model, "vocab"), path, err) != 0) goto done;
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsArray(merges)) {
        sk_err(err, "%s: model.merges missing or not an array", path);
        goto done;
    }
    int rank = 0;
    for (const cJSON *e = merges->child; e; e = e->next, rank++) {
        const char *a, *b;
        size_t alen, blen;
        if (cJSON_IsString(e)) { /* "a b" */
            const char *sp = strchr(e->valuestring, ' ');
            if (!sp) {
                sk_err(err, "%s: merge %d \"%s\" is not two tokens", path, rank + 1, e->valuestring);
                goto done;
            }
            a = e->valuestring, alen = (size_t)(sp - a), b = sp + 1, blen = strlen(b);
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 &&
                   cJSON_IsString(cJSON_GetArrayItem(e, 0)) && cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
            a = cJSON_GetArrayItem(e, 0)->valuestring, alen = strlen(a);
            b = cJSON_GetArrayItem(e, 1)->valuestring, blen = strlen(b);
        } else {
            sk_err(err, "%s: merge %d is neither \"a b\" nor [\"a\", \"b\"]", path, rank + 1);
            goto done;
        }
        if (sk_bpe_add_merge(t, a, alen, b, blen, rank, err, path) != 0) goto done;
    }
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    for (const cJSON *e = cJSON_IsArray(added) ? added->child : NULL; e; e = e->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(e, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || !cJSON_IsString(content)) {
            sk_err(err, "%s: added_tokens entry without id or content", path);
            goto done;
        }
        if (add_token(t, content->valuestring, id->valueint,
                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "special")), err) != 0)
            goto done;
    }
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(root, "post_processor");
    if (cJSON_IsObject(pp) && type_is(pp, "Sequence")) { /* Llama 3: [ByteLevel, TemplateProcessing] */
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(pp, "processors");
        for (const cJSON *e = cJSON_IsArray(list) ? list->child : NULL; e; e = e->next) {
            if (type_is(e, "TemplateProcessing")) {
                if (read_template(t, e, path, err) != 0) goto done;
            } else if (!type_is(e, "ByteLevel")) {
                describe(pp, "processors", what, sizeof what);
                sk_err(err, "%s: post_processor %s is not supported yet", path, what);
                goto done;
            }
        }
    } else if (cJSON_IsObject(pp) && type_is(pp, "TemplateProcessing")) {
        if (read_template(t, pp, path, err) != 0) goto done;
    } else if (cJSON_IsObject(pp) && !type_is(pp, "ByteLevel")) {
        const cJSON *ty = cJSON_GetObjectItemCaseSensitive(pp, "type");
        sk_err(err, "%s: post_processor \"%s\" is not supported yet", path,
               cJSON_IsString(ty) ? ty->valuestring : "?");
        goto done;
    }
    snprintf(t->kind, sizeof t->kind, "byte-level BPE%s (tokenizer.json)",
             t->pretok == sk_pretok_llama3_next ? ", Llama 3 split" : "");
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

static int load_vocab_merges(SkTokenizer *t, const char *vocab_path, const char *merges_path,
                             SkError *err) {
    cJSON *vocab;
    if (sk_json_load(vocab_path, &vocab, err) != 0) return -1;
    int rc = read_vocab(t, vocab, vocab_path, err);
    cJSON_Delete(vocab);
    if (rc != 0) return -1;
    char *text;
    size_t len;
    if (sk_read_file(merges_path, &text, &len, err) != 0) return -1;
    int rank = 0, line_no = 0;
    char *line = text, *end = text + len;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        char *le = nl ? nl : end;
        line_no++;
        if (le > line && le[-1] == '\r') le--;
        if (le > line && !(line_no == 1 && strncmp(line, "#version", 8) == 0)) {
            char *sp = memchr(line, ' ', (size_t)(le - line));
            if (!sp) {
                sk_err(err, "%s: line %d is not two tokens separated by a space", merges_path, line_no);
                free(text);
                return -1;
            }
            if (sk_bpe_add_merge(t, line, (size_t)(sp - line), sp + 1, (size_t)(le - sp - 1), rank,
                                 err, merges_path) != 0) {
                free(text);
                return -1;
            }
            rank++;
        }
        line = nl ? nl + 1 : end;
    }
    free(text);
    /* GPT-2's tokenizer registers <|endoftext|> as its special token */
    int32_t eot;
    if (sk_strmap_get(&t->vocab, "<|endoftext|>", 13, &eot)) {
        if (add_token(t, "<|endoftext|>", eot, true, err) != 0) return -1;
        t->bos = t->eos = eot;
    }
    snprintf(t->kind, sizeof t->kind, "byte-level BPE (vocab.json + merges.txt)");
    return 0;
}

int sk_tokenizer_load(const char *dir, SkTokenizer **out, SkError *err) {
    char tj[2048], vj[2048], mt[2048];
    if (sk_path_join(tj, sizeof tj, dir, "tokenizer.json", err) ||
        sk_path_join(vj, sizeof vj, dir, "vocab.json", err) ||
        sk_path_join(mt, sizeof mt, dir, "merges.txt", err))
        return -1;
    SkTokenizer *t = sk_tokenizer_new_empty();
    if (!t) return sk_err(err, "out of memory");
    int rc;
    if (sk_file_exists(tj)) {
        rc = load_tokenizer_json(t, tj, err);
    } else if (sk_file_exists(vj)) {
        if (!sk_file_exists(mt)) {
            sk_tokenizer_free(t);
            return sk_err(err, "%s: vocab.json found but merges.txt is missing", dir);
        }
        rc = load_vocab_merges(t, vj, mt, err);
    } else {
        sk_tokenizer_free(t);
        return sk_err(err, "%s: no tokenizer.json, and no vocab.json + merges.txt", dir);
    }
    if (rc != 0) {
        sk_tokenizer_free(t);
        return -1;
    }
    if (t->bos < 0 || t->eos < 0) {
        int32_t eot = token_id(t, "<|endoftext|>");
        if (t->bos < 0) t->bos = eot;
        if (t->eos < 0) t->eos = eot;
    }
    read_tokenizer_config(t, dir);
    *out = t;
    return 0;
}

static int encode_plain(SkTokenizer *t, const unsigned char *s, size_t len, SkIds *out,
                        SkError *err) {
    size_t i = 0;
    while (i < len) {
        size_t j = t->pretok(s, len, i);
        int rc = sk_bpe_encode_word(t, s + i, j - i, out);
        if (rc == -2)
            return sk_err(err, "the vocabulary has no token for byte 0x%02x (not a byte-level "
                               "vocabulary?)", s[i]);
        if (rc != 0) return sk_err(err, "out of memory while tokenizing");
        i = j;
    }
    return 0;
}

int sk_tokenizer_encode(SkTokenizer *t, const char *text, size_t len, bool add_special,
                        SkIds *out, SkError *err) {
    const unsigned char *s = (const unsigned char *)text;
    if (add_special)
        for (int i = 0; i < t->prefix.n; i++)
            if (sk_ids_push(out, t->prefix.ids[i]) != 0) return sk_err(err, "out of memory");
    size_t start = 0, i = 0;
    while (i < len) {
        const SkAddedToken *hit = NULL;
        if (t->added_first[s[i]])
            for (int k = 0; k < t->n_added; k++) {
                const SkAddedToken *a = &t->added[k];
                if (a->len <= len - i && memcmp(s + i, a->content, a->len) == 0 &&
                    (!hit || a->len > hit->len))
                    hit = a;
            }
        if (!hit) {
            i++;
            continue;
        }
        if (encode_plain(t, s + start, i - start, out, err) != 0) return -1;
        if (sk_ids_push(out, hit->id) != 0) return sk_err(err, "out of memory");
        i += hit->len;
        start = i;
    }
    if (encode_plain(t, s + start, len - start, out, err) != 0) return -1;
    if (add_special)
        for (int k = 0; k < t->suffix.n; k++)
            if (sk_ids_push(out, t->suffix.ids[k]) != 0) return sk_err(err, "out of memory");
    return 0;
}

int sk_tokenizer_token_bytes(const SkTokenizer *t, int32_t id, char *buf, size_t cap) {
    if (id < 0 || id >= t->vocab_size || !t->pieces[id]) return -1;
    for (int k = 0; k < t->n_added; k++)
        if (t->added[k].id == id) {
            if (t->added[k].len > cap) return -1;
            memcpy(buf, t->added[k].content, t->added[k].len);
            return (int)t->added[k].len;
        }
    const unsigned char *p = (const unsigned char *)t->pieces[id];
    size_t plen = strlen(t->pieces[id]), n = 0;
    for (size_t i = 0; i < plen;) {
        uint32_t cp;
        int m = sk_utf8_decode(p + i, plen - i, &cp);
        if (n >= cap) return -1;
        if (cp < 324 && (cp == sk_byte_to_char(t->char_byte[cp]))) buf[n++] = (char)t->char_byte[cp];
        else { /* not in the byte alphabet: keep the raw bytes */
            if (n + (size_t)m > cap) return -1;
            memcpy(buf + n, p + i, (size_t)m);
            n += (size_t)m;
        }
        i += (size_t)m;
    }
    return (int)n;
}

int sk_tokenizer_decode(const SkTokenizer *t, const int32_t *ids, int n, char **out, size_t *len,
                        SkError *err) {
    size_t cap = 256, used = 0;
    char *buf = malloc(cap);
    if (!buf) return sk_err(err, "out of memory");
    for (int i = 0; i < n; i++) {
        char tmp[1024];
        int m = sk_tokenizer_token_bytes(t, ids[i], tmp, sizeof tmp);
        if (m < 0) {
            free(buf);
            return sk_err(err, "token id %d is not in the vocabulary (size %d)", ids[i], t->vocab_size);
        }
        if (used + (size_t)m + 1 > cap) {
            while (used + (size_t)m + 1 > cap) cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return sk_err(err, "out of memory");
            }
            buf = nb;
        }
        memcpy(buf + used, tmp, (size_t)m);
        used += (size_t)m;
    }
    buf[used] = 0;
    *out = buf;
    if (len) *len = used;
    return 0;
}

int sk_tokenizer_vocab_size(const SkTokenizer *t) { return t->vocab_size; }
int32_t sk_tokenizer_bos(const SkTokenizer *t) { return t->bos; }
int32_t sk_tokenizer_eos(const SkTokenizer *t) { return t->eos; }
const char *sk_tokenizer_kind(const SkTokenizer *t) { return t->kind; }

bool sk_tokenizer_is_special(const SkTokenizer *t, int32_t id) {
    for (int k = 0; k < t->n_added; k++)
        if (t->added[k].id == id) return t->added[k].special;
    return false;
}

const char *sk_tokenizer_piece(const SkTokenizer *t, int32_t id) {
    return id >= 0 && id < t->vocab_size ? t->pieces[id] : NULL;
}

int sk_tokenizer_save(const SkTokenizer *t, const char *dir, SkError *err) {
    if (t->pretok != sk_pretok_gpt2_next || t->ignore_merges) /* the writer speaks GPT-2's layout only */
        return sk_err(err, "%s: saving a %s tokenizer is not supported yet (copy its tokenizer.json instead)", dir,
                      t->kind);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *added = cJSON_CreateArray();
    for (int i = 0; i < t->n_added; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", t->added[i].id);
        cJSON_AddStringToObject(a, "content", t->added[i].content);
        cJSON_AddBoolToObject(a, "single_word", 0);
        cJSON_AddBoolToObject(a, "lstrip", 0);
        cJSON_AddBoolToObject(a, "rstrip", 0);
        cJSON_AddBoolToObject(a, "normalized", 1);
        cJSON_AddBoolToObject(a, "special", t->added[i].special);
        cJSON_AddItemToArray(added, a);
    }
    cJSON_AddItemToObject(root, "added_tokens", added);
    cJSON_AddNullToObject(root, "normalizer");
    const char *bl[] = {"pre_tokenizer", "post_processor", "decoder"};
    for (int k = 0; k < 3; k++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "type", "ByteLevel");
        cJSON_AddBoolToObject(b, "add_prefix_space", 0);
        cJSON_AddBoolToObject(b, "trim_offsets", 1);
        cJSON_AddBoolToObject(b, "use_regex", 1);
        cJSON_AddItemToObject(root, bl[k], b);
    }
    cJSON *model = cJSON_CreateObject();
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "");
    cJSON_AddStringToObject(model, "end_of_word_suffix", "");
    cJSON_AddBoolToObject(model, "fuse_unk", 0);
    cJSON_AddBoolToObject(model, "byte_fallback", 0);
    cJSON *vocab = cJSON_CreateObject();
    for (int i = 0; i < t->vocab_size; i++) {
        if (!t->pieces[i]) continue;
        bool is_added = false;
        for (int k = 0; k < t->n_added; k++) is_added |= t->added[k].id == i;
        int32_t id;
        if (is_added && !sk_strmap_get(&t->vocab, t->pieces[i], strlen(t->pieces[i]), &id)) continue;
        cJSON_AddNumberToObject(vocab, t->pieces[i], i);
    }
    cJSON_AddItemToObject(model, "vocab", vocab);
    cJSON *merges = cJSON_CreateArray();
    for (int i = 0; i < t->n_merges; i++) {
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(t->pieces[t->merge_left[i]]));
        cJSON_AddItemToArray(pair, cJSON_CreateString(t->pieces[t->merge_right[i]]));
        cJSON_AddItemToArray(merges, pair);
    }
    cJSON_AddItemToObject(model, "merges", merges);
    cJSON_AddItemToObject(root, "model", model);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) return sk_err(err, "out of memory");
    char path[2048];
    int rc = sk_mkdir_p(dir, err);
    if (rc == 0) rc = sk_path_join(path, sizeof path, dir, "tokenizer.json", err);
    if (rc == 0) rc = sk_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}
