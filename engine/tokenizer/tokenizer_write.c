/* tokenizer_write.c - saving a tokenizer as Hugging Face's tokenizer.json. GPT-2's layout is
 * written from memory (the trained and GPT-2-family tokenizers). A tokenizer read from a GGUF
 * has no tokenizer files to copy, so every layout the engine holds is written out: byte-level
 * BPE with its pre-tokenizer (ByteLevel; Digits then ByteLevel; a Split regex then ByteLevel),
 * NFC, or SentencePiece BPE with byte fallback (Prepend/Replace normalizer or Metaspace, the
 * decoder that undoes them); added tokens; the post-processor's BOS/EOS as a TemplateProcessing;
 * plus a tokenizer_config.json naming BOS/EOS. Other layouts read from a folder have that
 * folder's files copied, which is exact. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

/* Copies the files a tokenizer was read from (the layouts the writer below is not used for). */
static int copy_source(const SkTokenizer *t, const char *dir, SkError *err) {
    static const char *files[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"};
    if (sk_mkdir_p(dir, err) != 0) return -1;
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        char src[2048], dst[2048], *text;
        size_t len;
        if (sk_path_join(src, sizeof src, t->source, files[k], err) || sk_path_join(dst, sizeof dst, dir, files[k], err))
            return -1;
        if (!sk_file_exists(src) || !strcmp(src, dst)) continue;
        if (sk_read_file(src, &text, &len, err) != 0) return -1;
        int rc = sk_write_file_atomic(dst, text, len, err);
        free(text);
        if (rc != 0) return -1;
    }
    return 0;
}

static const SkAddedToken *added_of(const SkTokenizer *t, int32_t id) {
    for (int k = 0; k < t->n_added; k++)
        if (t->added[k].id == id) return &t->added[k];
    return NULL;
}

/* A token's text as added tokens and the post-processor name it. */
static const char *content_of(const SkTokenizer *t, int32_t id) {
    const SkAddedToken *a = added_of(t, id);
    return a ? a->content : t->pieces[id] ? t->pieces[id] : "";
}

static cJSON *byte_level(bool use_regex) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type", "ByteLevel");
    cJSON_AddBoolToObject(b, "add_prefix_space", 0);
    cJSON_AddBoolToObject(b, "trim_offsets", 1);
    cJSON_AddBoolToObject(b, "use_regex", use_regex);
    return b;
}

static cJSON *typed(const char *type) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    return o;
}

/* {"type": "Sequence", key: [items]}, or the one item, or null. */
static cJSON *sequence(const char *key, cJSON **items, int n) {
    if (n == 0) return cJSON_CreateNull();
    if (n == 1) return items[0];
    cJSON *s = typed("Sequence"), *list = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(list, items[i]);
    cJSON_AddItemToObject(s, key, list);
    return s;
}

static cJSON *replace(const char *from, const char *to) {
    cJSON *r = typed("Replace"), *pat = cJSON_CreateObject();
    cJSON_AddStringToObject(pat, "String", from);
    cJSON_AddItemToObject(r, "pattern", pat);
    cJSON_AddStringToObject(r, "content", to);
    return r;
}

static bool metaspace(const SkTokenizer *t) {
    return !t->byte_level && (t->prepend == SK_PREPEND_UNMARKED || t->prepend == SK_PREPEND_FIRST_UNMARKED);
}

static cJSON *added_tokens_json(const SkTokenizer *t) {
    cJSON *added = cJSON_CreateArray();
    for (int i = 0; i < t->n_added; i++) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", t->added[i].id);
        cJSON_AddStringToObject(a, "content", t->added[i].content);
        cJSON_AddBoolToObject(a, "single_word", 0);
        cJSON_AddBoolToObject(a, "lstrip", t->added[i].lstrip);
        cJSON_AddBoolToObject(a, "rstrip", t->added[i].rstrip);
        /* the engine matches added tokens in the raw text; a GGUF's are not normalized (as
         * llama.cpp and transformers read them) */
        cJSON_AddBoolToObject(a, "normalized", !t->from_gguf);
        cJSON_AddBoolToObject(a, "special", t->added[i].special);
        cJSON_AddItemToArray(added, a);
    }
    return added;
}

static cJSON *normalizer_json(const SkTokenizer *t) {
    cJSON *steps[3];
    int n = 0;
    if (t->nfc) steps[n++] = typed("NFC");
    if (!t->byte_level && !metaspace(t)) {
        if (t->prepend == SK_PREPEND_ALWAYS) {
            steps[n] = typed("Prepend");
            cJSON_AddStringToObject(steps[n++], "prepend", SK_MARKER);
        }
        if (t->spaces_to_marker) steps[n++] = replace(" ", SK_MARKER);
    }
    return sequence("normalizers", steps, n);
}

static cJSON *split(const char *pattern) {
    cJSON *s = typed("Split"), *pat = cJSON_CreateObject();
    cJSON_AddStringToObject(pat, "Regex", pattern);
    cJSON_AddItemToObject(s, "pattern", pat);
    cJSON_AddStringToObject(s, "behavior", "Isolated");
    cJSON_AddBoolToObject(s, "invert", 0);
    return s;
}

static cJSON *pre_tokenizer_json(const SkTokenizer *t) {
    if (metaspace(t)) {
        cJSON *m = typed("Metaspace");
        cJSON_AddStringToObject(m, "replacement", SK_MARKER);
        cJSON_AddStringToObject(m, "prepend_scheme", t->prepend == SK_PREPEND_FIRST_UNMARKED ? "first" : "always");
        cJSON_AddBoolToObject(m, "split", 0);
        return m;
    }
    if (!t->byte_level) return cJSON_CreateNull();
    cJSON *steps[2];
    if (t->pretok == sk_pretok_gpt2_next) return byte_level(true);
    if (!t->pretok) return byte_level(false);
    if (t->pretok == sk_pretok_digit_each_next || t->pretok == sk_pretok_digit_runs_next) {
        steps[0] = typed("Digits");
        cJSON_AddBoolToObject(steps[0], "individual_digits", t->pretok == sk_pretok_digit_each_next);
        steps[1] = byte_level(true);
    } else {
        steps[0] = split(t->pretok == sk_pretok_llama3_next ? LLAMA3_PATTERN : QWEN2_PATTERN);
        steps[1] = byte_level(false);
    }
    return sequence("pretokenizers", steps, 2);
}

static void add_special(cJSON *list, cJSON *specials, const SkTokenizer *t, int32_t id, int type_id) {
    const char *name = content_of(t, id);
    cJSON *e = cJSON_CreateObject(), *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "id", name);
    cJSON_AddNumberToObject(st, "type_id", type_id);
    cJSON_AddItemToObject(e, "SpecialToken", st);
    cJSON_AddItemToArray(list, e);
    if (cJSON_GetObjectItemCaseSensitive(specials, name)) return;
    cJSON *s = cJSON_CreateObject(), *ids = cJSON_CreateArray(), *tokens = cJSON_CreateArray();
    cJSON_AddStringToObject(s, "id", name);
    cJSON_AddItemToArray(ids, cJSON_CreateNumber(id));
    cJSON_AddItemToArray(tokens, cJSON_CreateString(name));
    cJSON_AddItemToObject(s, "ids", ids);
    cJSON_AddItemToObject(s, "tokens", tokens);
    cJSON_AddItemToObject(specials, name, s);
}

static void add_sequence(cJSON *list, const char *id, int type_id) {
    cJSON *e = cJSON_CreateObject(), *sq = cJSON_CreateObject();
    cJSON_AddStringToObject(sq, "id", id);
    cJSON_AddNumberToObject(sq, "type_id", type_id);
    cJSON_AddItemToObject(e, "Sequence", sq);
    cJSON_AddItemToArray(list, e);
}

/* What encoding adds around a sequence (pairs as transformers' update_post_processor makes them). */
static cJSON *post_processor_json(const SkTokenizer *t) {
    if (t->prefix.n == 0 && t->suffix.n == 0) return t->byte_level ? byte_level(true) : cJSON_CreateNull();
    cJSON *tp = typed("TemplateProcessing"), *single = cJSON_CreateArray(), *pair = cJSON_CreateArray(),
          *specials = cJSON_CreateObject();
    for (int k = 0; k < 2; k++) {
        cJSON *list = k ? pair : single;
        for (int part = 0; part < 1 + k; part++) {
            for (int i = 0; i < t->prefix.n; i++) add_special(list, specials, t, t->prefix.ids[i], part);
            add_sequence(list, part ? "B" : "A", part);
            for (int i = 0; i < t->suffix.n; i++) add_special(list, specials, t, t->suffix.ids[i], part);
        }
    }
    cJSON_AddItemToObject(tp, "single", single);
    cJSON_AddItemToObject(tp, "pair", pair);
    cJSON_AddItemToObject(tp, "special_tokens", specials);
    return tp;
}

static cJSON *decoder_json(const SkTokenizer *t) {
    if (t->byte_level) return byte_level(true);
    cJSON *steps[4];
    int n = 0;
    steps[n++] = replace(SK_MARKER, " ");
    if (t->byte_fallback) steps[n++] = typed("ByteFallback");
    steps[n++] = typed("Fuse");
    if (t->strip_start > 0) {
        steps[n] = typed("Strip");
        cJSON_AddStringToObject(steps[n], "content", " ");
        cJSON_AddNumberToObject(steps[n], "start", t->strip_start);
        cJSON_AddNumberToObject(steps[n++], "stop", 0);
    }
    return sequence("decoders", steps, n);
}

static cJSON *model_json(const SkTokenizer *t) {
    cJSON *model = cJSON_CreateObject();
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    if (t->unk >= 0) cJSON_AddStringToObject(model, "unk_token", content_of(t, t->unk));
    else cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "");
    cJSON_AddStringToObject(model, "end_of_word_suffix", "");
    cJSON_AddBoolToObject(model, "fuse_unk", t->fuse_unk);
    cJSON_AddBoolToObject(model, "byte_fallback", t->byte_fallback);
    if (t->ignore_merges) cJSON_AddBoolToObject(model, "ignore_merges", 1);
    cJSON *vocab = cJSON_CreateObject();
    for (int i = 0; i < t->vocab_size; i++) {
        if (!t->pieces[i] || !t->pieces[i][0]) continue;
        int32_t id;
        if (added_of(t, i) && !sk_strmap_get(&t->vocab, t->pieces[i], strlen(t->pieces[i]), &id))
            continue; /* an added token beyond the model's vocabulary */
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
    return model;
}

static int write_json(cJSON *root, const char *dir, const char *name, SkError *err) {
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) return sk_err(err, "out of memory");
    char path[2048];
    int rc = sk_mkdir_p(dir, err);
    if (rc == 0) rc = sk_path_join(path, sizeof path, dir, name, err);
    if (rc == 0) rc = sk_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

/* tokenizer_config.json for a GGUF's tokenizer: the named special tokens (the file's ids have
 * no tokenizer.json field) and what encoding adds, as transformers reads them. */
static int write_config(const SkTokenizer *t, const char *dir, SkError *err) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "tokenizer_class", "PreTrainedTokenizerFast");
    const char *keys[3] = {"bos_token", "eos_token", "unk_token"};
    int32_t ids[3] = {t->bos, t->eos, t->unk};
    for (int k = 0; k < 3; k++)
        if (ids[k] >= 0 && ids[k] < t->vocab_size) cJSON_AddStringToObject(c, keys[k], content_of(t, ids[k]));
        else cJSON_AddNullToObject(c, keys[k]);
    cJSON_AddBoolToObject(c, "add_bos_token", t->prefix.n > 0);
    cJSON_AddBoolToObject(c, "add_eos_token", t->suffix.n > 0);
    cJSON_AddBoolToObject(c, "clean_up_tokenization_spaces", 0);
    return write_json(c, dir, "tokenizer_config.json", err);
}

int sk_tokenizer_save(const SkTokenizer *t, const char *dir, SkError *err) {
    bool gpt2_layout = t->pretok == sk_pretok_gpt2_next && !t->ignore_merges && t->byte_level && !t->nfc;
    if (!gpt2_layout && !t->from_gguf) {
        if (t->source[0]) return copy_source(t, dir, err);
        return sk_err(err, "%s: saving a %s tokenizer built in memory is not supported", dir, t->kind);
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON_AddItemToObject(root, "added_tokens", added_tokens_json(t));
    cJSON_AddItemToObject(root, "normalizer", normalizer_json(t));
    cJSON_AddItemToObject(root, "pre_tokenizer", pre_tokenizer_json(t));
    cJSON_AddItemToObject(root, "post_processor", post_processor_json(t));
    cJSON_AddItemToObject(root, "decoder", decoder_json(t));
    cJSON_AddItemToObject(root, "model", model_json(t));
    if (write_json(root, dir, "tokenizer.json", err) != 0) return -1;
    return t->from_gguf ? write_config(t, dir, err) : 0;
}
