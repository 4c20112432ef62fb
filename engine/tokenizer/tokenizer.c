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
    t->bos = t->eos = t->unk = -1;
    t->pretok = sk_pretok_gpt2_next;
    t->byte_level = true;
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
    free(t->chat_template);
    sk_strmap_free(&t->cache);
    sk_ids_free(&t->cache_ids);
    pthread_mutex_destroy(&t->cache_mu);
    free(t);
}

/* Reads {"piece": id, ...} into the vocabulary. */
int sk_tokenizer_read_vocab(SkTokenizer *t, const cJSON *vocab, const char *where, SkError *err) {
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

int sk_tokenizer_add_token(SkTokenizer *t, const char *content, int32_t id, bool special, SkError *err) {
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
    a->lstrip = a->rstrip = false;
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
    return sk_tokenizer_add_token(t, content, id, true, err);
}

int32_t sk_tokenizer_token_id(const SkTokenizer *t, const char *s) {
    int32_t id;
    for (int i = 0; i < t->n_added; i++)
        if (strcmp(t->added[i].content, s) == 0) return t->added[i].id;
    return sk_strmap_get(&t->vocab, s, strlen(s), &id) ? id : -1;
}

/* tokenizer_config.json: bos_token / eos_token as a string or {"content": ...}; for the
 * Llama tokenizer classes, add_bos_token / add_eos_token (defaults true / false) decide what
 * encoding adds, as transformers' LlamaTokenizerFast rebuilds its post-processor from them. */
static int read_tokenizer_config(SkTokenizer *t, const char *dir, SkError *err) {
    char path[2048];
    cJSON *j;
    if (sk_path_join(path, sizeof path, dir, "tokenizer_config.json", err) != 0) return -1;
    if (!sk_file_exists(path)) return 0;
    if (sk_json_load(path, &j, err) != 0) return -1;
    const char *keys[2] = {"bos_token", "eos_token"};
    int32_t *dst[2] = {&t->bos, &t->eos};
    for (int k = 0; k < 2; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
        if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
        if (cJSON_IsString(v)) {
            int32_t id = sk_tokenizer_token_id(t, v->valuestring);
            if (id >= 0) *dst[k] = id;
        }
    }
    /* chat_template: a string, or (older configs) a list of {name, template}: the "default" one */
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(j, "chat_template");
    if (cJSON_IsArray(ct)) {
        const cJSON *pick = NULL, *e;
        cJSON_ArrayForEach(e, ct) {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
            if (!pick || (cJSON_IsString(name) && !strcmp(name->valuestring, "default"))) pick = e;
        }
        ct = pick ? cJSON_GetObjectItemCaseSensitive(pick, "template") : NULL;
    }
    if (cJSON_IsString(ct) && !(t->chat_template = strdup(ct->valuestring))) {
        cJSON_Delete(j);
        return sk_err(err, "out of memory");
    }
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(j, "tokenizer_class");
    static const char *llama_classes[] = {"LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer",
                                          "CodeLlamaTokenizerFast"};
    bool llama = false;
    for (size_t k = 0; k < sizeof llama_classes / sizeof *llama_classes && cJSON_IsString(cls); k++)
        llama |= !strcmp(cls->valuestring, llama_classes[k]);
    int rc = 0;
    if (llama) {
        bool add_bos = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "add_bos_token"));
        bool add_eos = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "add_eos_token"));
        if ((add_bos && t->bos < 0) || (add_eos && t->eos < 0))
            rc = sk_err(err, "%s: add_%s_token is true but %s_token is not a token", path, add_bos && t->bos < 0 ? "bos" : "eos",
                        add_bos && t->bos < 0 ? "bos" : "eos");
        t->prefix.n = t->suffix.n = 0;
        if (rc == 0 && ((add_bos && sk_ids_push(&t->prefix, t->bos) != 0) || (add_eos && sk_ids_push(&t->suffix, t->eos) != 0)))
            rc = sk_err(err, "out of memory");
    }
    cJSON_Delete(j);
    return rc;
}

static int load_vocab_merges(SkTokenizer *t, const char *vocab_path, const char *merges_path,
                             SkError *err) {
    cJSON *vocab;
    if (sk_json_load(vocab_path, &vocab, err) != 0) return -1;
    int rc = sk_tokenizer_read_vocab(t, vocab, vocab_path, err);
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
        if (sk_tokenizer_add_token(t, "<|endoftext|>", eot, true, err) != 0) return -1;
        t->bos = t->eos = eot;
    }
    snprintf(t->kind, sizeof t->kind, "byte-level BPE (vocab.json + merges.txt)");
    return 0;
}

/* A GGUF file's tokenizer (tokenizer_gguf.c); the mapping is closed before returning. */
static int load_gguf(const char *path, SkTokenizer **out, SkError *err) {
    SkGgufFile f;
    if (sk_gguf_open(&f, path, err) != 0) return -1;
    SkTokenizer *t = sk_tokenizer_new_empty();
    int rc = t ? sk_tokenizer_read_gguf(t, &f, err) : sk_err(err, "out of memory");
    sk_gguf_close(&f);
    if (rc != 0) {
        sk_tokenizer_free(t);
        return -1;
    }
    t->from_gguf = true;
    snprintf(t->source, sizeof t->source, "%s", path);
    *out = t;
    return 0;
}

int sk_tokenizer_load(const char *dir, SkTokenizer **out, SkError *err) {
    char tj[2048], vj[2048], mt[2048], gguf[sizeof ((SkTokenizer *)0)->source];
    if (sk_path_join(tj, sizeof tj, dir, "tokenizer.json", err) ||
        sk_path_join(vj, sizeof vj, dir, "vocab.json", err) ||
        sk_path_join(mt, sizeof mt, dir, "merges.txt", err))
        return -1;
    /* a .gguf file, or a folder without config.json holding one; a folder with several GGUF
     * files is an error unless it has Hugging Face tokenizer files, which keep working */
    int g = sk_gguf_resolve(dir, gguf, sizeof gguf, err);
    if (g == 1) return load_gguf(gguf, out, err);
    if (g < 0 && !sk_file_exists(tj) && !sk_file_exists(vj)) return -1;
    SkTokenizer *t = sk_tokenizer_new_empty();
    if (!t) return sk_err(err, "out of memory");
    int rc;
    if (sk_file_exists(tj)) {
        rc = sk_tokenizer_read_json(t, tj, err);
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
        int32_t eot = sk_tokenizer_token_id(t, "<|endoftext|>");
        if (t->bos < 0) t->bos = eot;
        if (t->eos < 0) t->eos = eot;
    }
    if (read_tokenizer_config(t, dir, err) != 0) {
        sk_tokenizer_free(t);
        return -1;
    }
    snprintf(t->source, sizeof t->source, "%s", dir);
    *out = t;
    return 0;
}

/* Whether the word-start marker goes before a section: as the tokenizer says, or forced on
 * or off (a verbalizer's label word with or without the marker). */
typedef enum { MARK_AS_CONFIGURED, MARK_ALWAYS, MARK_NEVER } Mark;

static bool marker_first(const SkTokenizer *t, const unsigned char *s, size_t len, bool at_start, Mark mark) {
    if (mark != MARK_AS_CONFIGURED) return mark == MARK_ALWAYS;
    bool marked = (len > 0 && s[0] == ' ' && t->spaces_to_marker) || (len >= 3 && !memcmp(s, SK_MARKER, 3));
    switch (t->prepend) {
    case SK_PREPEND_ALWAYS: return true;
    case SK_PREPEND_UNMARKED: return !marked;
    case SK_PREPEND_FIRST_UNMARKED: return at_start && !marked;
    default: return false;
    }
}

/* Encodes a section of text (no added tokens in it): normalizer (NFC; SentencePiece's
 * marker), pre-tokenizer, BPE. at_start: the section begins the text. */
static int encode_section(SkTokenizer *t, const unsigned char *s, size_t len, bool at_start, Mark mark,
                          SkIds *out, SkError *err) {
    if (len == 0) return 0;
    char *nfc = NULL, *sp = NULL;
    if (t->nfc) {
        size_t n;
        if (sk_utf8_nfc((const char *)s, len, &nfc, &n) != 0) return sk_err(err, "out of memory while tokenizing");
        s = (const unsigned char *)nfc, len = n;
    }
    if (sk_tokenizer_marks_words(t) || (!t->byte_level && mark == MARK_ALWAYS)) {
        if (!(sp = malloc(len * 3 + 4))) {
            free(nfc);
            return sk_err(err, "out of memory while tokenizing");
        }
        size_t n = 0;
        if (marker_first(t, s, len, at_start, mark)) memcpy(sp, SK_MARKER, 3), n = 3;
        for (size_t i = 0; i < len; i++)
            if (s[i] == ' ' && t->spaces_to_marker) memcpy(sp + n, SK_MARKER, 3), n += 3;
            else sp[n++] = (char)s[i];
        s = (const unsigned char *)sp, len = n;
    }
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        size_t j = t->pretok ? t->pretok(s, len, i) : len;
        if (sk_bpe_encode_word(t, s + i, j - i, out) != 0) rc = sk_err(err, "out of memory while tokenizing");
        i = j;
    }
    free(nfc), free(sp);
    return rc;
}

static bool is_space_at(const unsigned char *s, size_t len, size_t i, int *n) {
    uint32_t cp;
    *n = sk_utf8_decode(s + i, len - i, &cp);
    return sk_uni_class(cp) == SK_UC_SPACE;
}

/* Added tokens are split out first (longest match wins), the sections between them are
 * encoded on their own; an lstrip/rstrip token swallows the whitespace beside it. */
static int encode_text(SkTokenizer *t, const char *text, size_t len, bool add_special, Mark mark, SkIds *out,
                       SkError *err) {
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
                if (a->len <= len - i && memcmp(s + i, a->content, a->len) == 0 && (!hit || a->len > hit->len))
                    hit = a;
            }
        if (!hit) {
            i++;
            continue;
        }
        size_t end = i;
        if (hit->lstrip) { /* the section ends after its last non-space character */
            size_t last = start;
            for (size_t k = start; k < i;) {
                int n;
                bool space = is_space_at(s, len, k, &n);
                k += (size_t)n;
                if (!space) last = k;
            }
            end = last;
        }
        if (encode_section(t, s + start, end - start, start == 0, mark, out, err) != 0) return -1;
        if (sk_ids_push(out, hit->id) != 0) return sk_err(err, "out of memory");
        i += hit->len;
        if (hit->rstrip)
            for (int n; i < len && is_space_at(s, len, i, &n);) i += (size_t)n;
        start = i;
    }
    if (encode_section(t, s + start, len - start, start == 0, mark, out, err) != 0) return -1;
    if (add_special)
        for (int k = 0; k < t->suffix.n; k++)
            if (sk_ids_push(out, t->suffix.ids[k]) != 0) return sk_err(err, "out of memory");
    return 0;
}

int sk_tokenizer_encode(SkTokenizer *t, const char *text, size_t len, bool add_special, SkIds *out, SkError *err) {
    return encode_text(t, text, len, add_special, MARK_AS_CONFIGURED, out, err);
}

bool sk_tokenizer_marks_words(const SkTokenizer *t) {
    return !t->byte_level && (t->spaces_to_marker || t->prepend != SK_PREPEND_NONE);
}

int sk_tokenizer_encode_word(SkTokenizer *t, const char *word, bool space, SkIds *out, SkError *err) {
    if (sk_tokenizer_marks_words(t))
        return encode_text(t, word, strlen(word), false, space ? MARK_ALWAYS : MARK_NEVER, out, err);
    size_t n = strlen(word);
    char *text = malloc(n + 2);
    if (!text) return sk_err(err, "out of memory");
    snprintf(text, n + 2, "%s%s", space ? " " : "", word);
    int rc = encode_text(t, text, strlen(text), false, MARK_AS_CONFIGURED, out, err);
    free(text);
    return rc;
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
    if (!t->byte_level) { /* characters as they are, "▁" as a space, <0xNN> as its byte */
        if (t->byte_fallback && plen == 6 && t->fallback_id[strtol((const char *)p + 3, NULL, 16) & 0xff] == id) {
            if (cap < 1) return -1;
            buf[0] = (char)strtol((const char *)p + 3, NULL, 16);
            return 1;
        }
        for (size_t i = 0; i < plen;) {
            bool marker = t->spaces_to_marker && plen - i >= 3 && !memcmp(p + i, SK_MARKER, 3);
            size_t m = marker ? 3 : 1;
            if (n + 1 > cap) return -1;
            buf[n++] = marker ? ' ' : (char)p[i];
            i += m;
        }
        return (int)n;
    }
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
    size_t strip = 0; /* the decoder's Strip: spaces the text's first word mark stood for */
    while ((int)strip < t->strip_start && strip < used && buf[strip] == ' ') strip++;
    memmove(buf, buf + strip, used - strip);
    used -= strip;
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
