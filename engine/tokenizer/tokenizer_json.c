/* tokenizer_json.c - reading Hugging Face's tokenizer.json: the BPE model, its normalizer,
 * pre-tokenizer, post-processor and decoder. The layouts understood are those of the
 * GPT-2 family (ByteLevel), SmolLM (Digits, then ByteLevel), Llama 3 and Qwen2 (a Split
 * regex, then ByteLevel; Qwen2 with NFC) and SentencePiece-converted BPE (Llama 2, Mistral, TinyLlama: "▁" for spaces with
 * a Prepend normalizer or a Metaspace pre-tokenizer, byte fallback). Anything else is
 * refused by name rather than approximated. */
#include <stdio.h>
#include <string.h>

#include "sk_io.h"
#include "tokenizer/tokenizer_internal.h"

static const cJSON *get(const cJSON *obj, const char *key) {
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static bool type_is(const cJSON *obj, const char *type) {
    const cJSON *ty = get(obj, "type");
    return cJSON_IsString(ty) && strcmp(ty->valuestring, type) == 0;
}

static bool str_is(const cJSON *v, const char *s) { return cJSON_IsString(v) && strcmp(v->valuestring, s) == 0; }

/* "ByteLevel" or "Sequence[Split, ByteLevel]": a component's type as a message shows it. */
static void describe(const cJSON *obj, const char *list_key, char *buf, size_t cap) {
    const cJSON *ty = get(obj, "type");
    snprintf(buf, cap, "%s", cJSON_IsString(ty) ? ty->valuestring : obj && !cJSON_IsNull(obj) ? "?" : "none");
    const cJSON *list = get(obj, list_key);
    if (!cJSON_IsArray(list)) return;
    size_t n = strlen(buf);
    n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "[");
    for (const cJSON *e = list->child; e && n < cap; e = e->next) {
        const cJSON *et = get(e, "type");
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", e == list->child ? "" : ", ",
                              cJSON_IsString(et) ? et->valuestring : "?");
    }
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* ---- normalizer: none, NFC, or SentencePiece's Prepend("▁") + Replace(" ", "▁") ---------- */

static bool read_normalizer_step(SkTokenizer *t, const cJSON *n) {
    if (type_is(n, "NFC")) return t->nfc = true;
    if (type_is(n, "Prepend") && str_is(get(n, "prepend"), SK_MARKER)) {
        t->prepend = SK_PREPEND_ALWAYS;
        return true;
    }
    if (type_is(n, "Replace") && str_is(get(get(n, "pattern"), "String"), " ") && str_is(get(n, "content"), SK_MARKER))
        return t->spaces_to_marker = true;
    return false;
}

static int read_normalizer(SkTokenizer *t, const cJSON *n, const char *path, SkError *err) {
    if (!n || cJSON_IsNull(n)) return 0;
    bool ok;
    if (type_is(n, "Sequence")) {
        const cJSON *list = get(n, "normalizers");
        ok = cJSON_IsArray(list);
        for (const cJSON *e = ok ? list->child : NULL; e && ok; e = e->next) ok = read_normalizer_step(t, e);
    } else {
        ok = read_normalizer_step(t, n);
    }
    if (ok) return 0;
    char what[256];
    describe(n, "normalizers", what, sizeof what);
    return sk_err(err, "%s: normalizer %s is not supported (NFC, or SentencePiece's Prepend(\"" SK_MARKER
                       "\") and Replace(\" \", \"" SK_MARKER "\"))", path, what);
}

/* ---- pre-tokenizer ---------------------------------------------------------------------- */

static int read_pre_tokenizer(SkTokenizer *t, const cJSON *pre, const char *path, SkError *err) {
    char what[256];
    if (!pre || cJSON_IsNull(pre)) { /* SentencePiece-converted: the whole section is one word */
        t->byte_level = false;
        t->pretok = NULL;
        return 0;
    }
    if (type_is(pre, "Metaspace")) {
        const cJSON *scheme = get(pre, "prepend_scheme"), *aps = get(pre, "add_prefix_space");
        if (!str_is(get(pre, "replacement"), SK_MARKER) || !cJSON_IsFalse(get(pre, "split")))
            return sk_err(err, "%s: pre_tokenizer Metaspace is supported with replacement \"" SK_MARKER
                               "\" and split=false only", path);
        t->byte_level = false;
        t->pretok = NULL;
        t->spaces_to_marker = true;
        if (cJSON_IsFalse(aps) || str_is(scheme, "never")) t->prepend = SK_PREPEND_NONE;
        else if (str_is(scheme, "first")) t->prepend = SK_PREPEND_FIRST_UNMARKED;
        else if (!scheme || str_is(scheme, "always")) t->prepend = SK_PREPEND_UNMARKED;
        else return sk_err(err, "%s: pre_tokenizer.prepend_scheme \"%s\" is not known", path,
                           cJSON_IsString(scheme) ? scheme->valuestring : "?");
        return 0;
    }
    const cJSON *byte_level = pre;
    if (type_is(pre, "Sequence")) { /* Llama 3, Qwen2: Split(regex) then ByteLevel; SmolLM: Digits then ByteLevel */
        const cJSON *list = get(pre, "pretokenizers");
        const cJSON *split = cJSON_GetArrayItem(list, 0), *bl = cJSON_GetArrayItem(list, 1);
        const cJSON *rx = get(get(split, "pattern"), "Regex");
        bool ok = cJSON_GetArraySize(list) == 2 && type_is(split, "Split") && type_is(bl, "ByteLevel") &&
                  str_is(get(split, "behavior"), "Isolated") && !cJSON_IsTrue(get(split, "invert")) &&
                  !cJSON_IsTrue(get(bl, "use_regex"));
        bool digits = cJSON_GetArraySize(list) == 2 && type_is(split, "Digits") && type_is(bl, "ByteLevel") &&
                      !cJSON_IsFalse(get(bl, "use_regex"));
        if (digits) t->pretok = cJSON_IsTrue(get(split, "individual_digits")) ? sk_pretok_digit_each_next
                                                                             : sk_pretok_digit_runs_next;
        else if (ok && str_is(rx, LLAMA3_PATTERN)) t->pretok = sk_pretok_llama3_next;
        else if (ok && str_is(rx, QWEN2_PATTERN)) t->pretok = sk_pretok_qwen2_next;
        else {
            describe(pre, "pretokenizers", what, sizeof what);
            return sk_err(err, "%s: pre_tokenizer %s%s%s is not supported (ByteLevel as GPT-2 has, Digits then "
                               "ByteLevel as SmolLM has, or the Split regex of Llama 3 or Qwen2 then ByteLevel)", path, what,
                          cJSON_IsString(rx) ? " with regex " : "", cJSON_IsString(rx) ? rx->valuestring : "");
        }
        byte_level = bl;
    } else if (!type_is(pre, "ByteLevel")) {
        describe(pre, "pretokenizers", what, sizeof what);
        return sk_err(err, "%s: pre_tokenizer %s is not supported (ByteLevel, Split+ByteLevel, Metaspace, or "
                           "none)", path, what);
    } else if (cJSON_IsFalse(get(pre, "use_regex"))) {
        t->pretok = NULL; /* ByteLevel without its regex: one word per section */
    }
    if (cJSON_IsTrue(get(byte_level, "add_prefix_space")))
        return sk_err(err, "%s: pre_tokenizer.add_prefix_space=true is not supported", path);
    t->byte_level = true;
    return 0;
}

/* ---- post-processor: what goes around an encoded sequence -------------------------------- */

static int read_template(SkTokenizer *t, const cJSON *pp, const char *where, SkError *err) {
    const cJSON *single = get(pp, "single"), *specials = get(pp, "special_tokens");
    if (!cJSON_IsArray(single))
        return sk_err(err, "%s: post_processor.single missing or not an array", where);
    bool after = false;
    for (const cJSON *e = single->child; e; e = e->next) {
        if (get(e, "Sequence")) {
            after = true;
            continue;
        }
        const cJSON *name = get(get(e, "SpecialToken"), "id");
        if (!cJSON_IsString(name)) return sk_err(err, "%s: post_processor.single entry not understood", where);
        const cJSON *ids = get(get(specials, name->valuestring), "ids");
        if (!cJSON_IsArray(ids))
            return sk_err(err, "%s: post_processor.special_tokens lacks \"%s\"", where, name->valuestring);
        for (const cJSON *i = ids->child; i; i = i->next)
            if (!cJSON_IsNumber(i) || sk_ids_push(after ? &t->suffix : &t->prefix, i->valueint) != 0)
                return sk_err(err, "%s: bad id for special token \"%s\"", where, name->valuestring);
    }
    return 0;
}

static int read_post_processor(SkTokenizer *t, const cJSON *pp, const char *path, SkError *err) {
    char what[256];
    if (!pp || cJSON_IsNull(pp) || type_is(pp, "ByteLevel")) return 0;
    if (type_is(pp, "TemplateProcessing")) return read_template(t, pp, path, err);
    if (type_is(pp, "Sequence")) { /* Llama 3: [ByteLevel, TemplateProcessing] */
        const cJSON *list = get(pp, "processors");
        for (const cJSON *e = cJSON_IsArray(list) ? list->child : NULL; e; e = e->next) {
            if (type_is(e, "TemplateProcessing")) {
                if (read_template(t, e, path, err) != 0) return -1;
            } else if (!type_is(e, "ByteLevel")) {
                describe(pp, "processors", what, sizeof what);
                return sk_err(err, "%s: post_processor %s is not supported", path, what);
            }
        }
        return 0;
    }
    describe(pp, "processors", what, sizeof what);
    return sk_err(err, "%s: post_processor %s is not supported", path, what);
}

/* ---- decoder ------------------------------------------------------------------------------ */

static bool read_decoder_step(SkTokenizer *t, const cJSON *d) {
    if (type_is(d, "ByteLevel") || type_is(d, "ByteFallback") || type_is(d, "Fuse")) return true;
    if (type_is(d, "Replace")) /* "▁" back to " ": what token_bytes does for these vocabularies */
        return str_is(get(get(d, "pattern"), "String"), SK_MARKER) && str_is(get(d, "content"), " ");
    if (type_is(d, "Strip")) {
        const cJSON *start = get(d, "start"), *stop = get(d, "stop");
        if (!str_is(get(d, "content"), " ") || !cJSON_IsNumber(start) || !cJSON_IsNumber(stop) || stop->valueint)
            return false;
        t->strip_start = start->valueint;
        return true;
    }
    if (type_is(d, "Metaspace")) {
        const cJSON *scheme = get(d, "prepend_scheme");
        t->strip_start = cJSON_IsFalse(get(d, "add_prefix_space")) || str_is(scheme, "never") ? 0 : 1;
        return str_is(get(d, "replacement"), SK_MARKER);
    }
    return false;
}

static int read_decoder(SkTokenizer *t, const cJSON *d, const char *path, SkError *err) {
    if (!d || cJSON_IsNull(d)) return 0;
    bool ok;
    if (type_is(d, "Sequence")) {
        const cJSON *list = get(d, "decoders");
        ok = cJSON_IsArray(list);
        for (const cJSON *e = ok ? list->child : NULL; e && ok; e = e->next) ok = read_decoder_step(t, e);
    } else {
        ok = read_decoder_step(t, d);
    }
    if (ok) return 0;
    char what[256];
    describe(d, "decoders", what, sizeof what);
    return sk_err(err, "%s: decoder %s is not supported", path, what);
}

/* ---- the model: vocabulary, merges, unk, byte fallback ------------------------------------- */

static int read_merges(SkTokenizer *t, const cJSON *merges, const char *path, SkError *err) {
    if (!cJSON_IsArray(merges)) return sk_err(err, "%s: model.merges missing or not an array", path);
    int rank = 0;
    for (const cJSON *e = merges->child; e; e = e->next, rank++) {
        const char *a, *b;
        size_t alen, blen;
        if (cJSON_IsString(e)) { /* "a b" */
            const char *sp = strchr(e->valuestring, ' ');
            if (!sp) return sk_err(err, "%s: merge %d \"%s\" is not two tokens", path, rank + 1, e->valuestring);
            a = e->valuestring, alen = (size_t)(sp - a), b = sp + 1, blen = strlen(b);
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) == 2 && cJSON_IsString(cJSON_GetArrayItem(e, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(e, 1))) {
            a = cJSON_GetArrayItem(e, 0)->valuestring, alen = strlen(a);
            b = cJSON_GetArrayItem(e, 1)->valuestring, blen = strlen(b);
        } else {
            return sk_err(err, "%s: merge %d is neither \"a b\" nor [\"a\", \"b\"]", path, rank + 1);
        }
        if (sk_bpe_add_merge(t, a, alen, b, blen, rank, err, path) != 0) return -1;
    }
    return 0;
}

static int read_model(SkTokenizer *t, const cJSON *model, const char *path, SkError *err) {
    if (!cJSON_IsObject(model)) return sk_err(err, "%s: field model missing", path);
    const cJSON *mtype = get(model, "type");
    if (mtype && !type_is(model, "BPE"))
        return sk_err(err, "%s: model.type \"%s\" is not supported (BPE only)", path,
                      cJSON_IsString(mtype) ? mtype->valuestring : "?");
    const char *affixes[2] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int k = 0; k < 2; k++) {
        const cJSON *v = get(model, affixes[k]);
        if (cJSON_IsString(v) && v->valuestring[0])
            return sk_err(err, "%s: model.%s \"%s\" is not supported", path, affixes[k], v->valuestring);
    }
    const cJSON *dropout = get(model, "dropout");
    if (cJSON_IsNumber(dropout) && dropout->valuedouble > 0)
        return sk_err(err, "%s: model.dropout %g is not supported (BPE dropout randomises tokenization)", path,
                      dropout->valuedouble);
    t->ignore_merges = cJSON_IsTrue(get(model, "ignore_merges"));
    t->byte_fallback = cJSON_IsTrue(get(model, "byte_fallback"));
    t->fuse_unk = cJSON_IsTrue(get(model, "fuse_unk"));
    if (sk_tokenizer_read_vocab(t, get(model, "vocab"), path, err) != 0) return -1;
    if (read_merges(t, get(model, "merges"), path, err) != 0) return -1;
    const cJSON *unk = get(model, "unk_token");
    if (cJSON_IsString(unk) && (t->unk = sk_tokenizer_token_id(t, unk->valuestring)) < 0)
        return sk_err(err, "%s: model.unk_token \"%s\" is not in the vocabulary", path, unk->valuestring);
    return 0;
}

static int read_added_tokens(SkTokenizer *t, const cJSON *added, const char *path, SkError *err) {
    for (const cJSON *e = cJSON_IsArray(added) ? added->child : NULL; e; e = e->next) {
        const cJSON *id = get(e, "id"), *content = get(e, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || !cJSON_IsString(content))
            return sk_err(err, "%s: added_tokens entry without id or content", path);
        if (cJSON_IsTrue(get(e, "single_word")))
            return sk_err(err, "%s: added token \"%s\" has single_word=true, which is not supported", path,
                          content->valuestring);
        if (sk_tokenizer_add_token(t, content->valuestring, id->valueint, cJSON_IsTrue(get(e, "special")), err) != 0)
            return -1;
        SkAddedToken *a = &t->added[t->n_added - 1];
        if (a->id == id->valueint) /* whitespace the token swallows on its left / right */
            a->lstrip = cJSON_IsTrue(get(e, "lstrip")), a->rstrip = cJSON_IsTrue(get(e, "rstrip"));
    }
    return 0;
}

int sk_tokenizer_read_json(SkTokenizer *t, const char *path, SkError *err) {
    cJSON *root;
    if (sk_json_load(path, &root, err) != 0) return -1;
    int rc = -1;
    if (read_normalizer(t, get(root, "normalizer"), path, err) != 0 ||
        read_pre_tokenizer(t, get(root, "pre_tokenizer"), path, err) != 0 ||
        read_model(t, get(root, "model"), path, err) != 0 ||
        read_added_tokens(t, get(root, "added_tokens"), path, err) != 0 ||
        read_post_processor(t, get(root, "post_processor"), path, err) != 0 ||
        read_decoder(t, get(root, "decoder"), path, err) != 0)
        goto done;
    if (t->byte_level && (t->spaces_to_marker || t->prepend != SK_PREPEND_NONE)) {
        sk_err(err, "%s: a byte-level pre-tokenizer with SentencePiece's \"" SK_MARKER "\" normalizer is not supported",
               path);
        goto done;
    }
    if (t->byte_level)
        snprintf(t->kind, sizeof t->kind, "byte-level BPE%s%s (tokenizer.json)",
                 t->pretok == sk_pretok_llama3_next     ? ", Llama 3 split" :
                 t->pretok == sk_pretok_qwen2_next      ? ", Qwen2 split" :
                 t->pretok == sk_pretok_digit_each_next ? ", digits apart" :
                 t->pretok == sk_pretok_digit_runs_next ? ", digit runs apart" : "",
                 t->nfc ? ", NFC" : "");
    else
        snprintf(t->kind, sizeof t->kind, "SentencePiece BPE%s%s (tokenizer.json)",
                 t->byte_fallback ? ", byte fallback" : "", t->nfc ? ", NFC" : "");
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}
