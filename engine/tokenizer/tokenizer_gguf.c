/* tokenizer_gguf.c - a tokenizer from a GGUF file's metadata (llama.cpp's tokenizer.ggml.*
 * keys). The vocabulary, merges, special tokens and flags are read as transformers reads them
 * (integrations/gguf/gguf_tokenizer_mapping.py); the pre-tokenizer and normalizer are those of
 * the model's own tokenizer.json, which a GGUF only names (tokenizer.ggml.pre), because
 * transformers' rebuild loses some of them (SmolLM's digit split, Qwen2's NFC, Llama 2's legacy
 * word-start marker) and the original tokenizer.json is what the model was trained with:
 *   "gpt2"  byte-level BPE: tokens in GPT-2's byte alphabet, merges "a b";
 *   "llama" SentencePiece BPE: tokens with "▁" for spaces, scores, <0xNN> byte tokens; the
 *           merges are rebuilt from the scores exactly as transformers' generate_merges does.
 * Control and user-defined tokens are added tokens, split out before pre-tokenization. Every
 * string kept is copied: the file's mapping goes away after loading. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

#define K_MODEL "tokenizer.ggml.model"
#define K_PRE "tokenizer.ggml.pre"
#define K_TOKENS "tokenizer.ggml.tokens"
#define K_TYPES "tokenizer.ggml.token_type"
#define K_SCORES "tokenizer.ggml.scores"
#define K_MERGES "tokenizer.ggml.merges"
#define K_ADD_BOS "tokenizer.ggml.add_bos_token"
#define K_ADD_EOS "tokenizer.ggml.add_eos_token"
#define K_SPACE_PREFIX "tokenizer.ggml.add_space_prefix"

/* tokenizer.ggml.token_type values (llama.cpp's llama_token_type) */
enum { TT_UNDEFINED = 0, TT_NORMAL, TT_UNKNOWN, TT_CONTROL, TT_USER_DEFINED, TT_UNUSED, TT_BYTE };

/* The pre-tokenizers a byte-level vocabulary may name, and the tokenizer.json layout each
 * stands for (tokenizer_json.c reads the same layouts from tokenizer.json). */
typedef struct {
    const char *name;
    size_t (*pretok)(const unsigned char *s, size_t len, size_t i);
    bool nfc, ignore_merges;
} PreType;

static const PreType pre_types[] = {
    {"default", sk_pretok_gpt2_next, false, false}, /* llama.cpp and transformers: GPT-2's ByteLevel */
    {"gpt-2", sk_pretok_gpt2_next, false, false},
    {"smollm", sk_pretok_digit_each_next, false, false},  /* Sequence[Digits(individual_digits), ByteLevel] */
    {"llama3", sk_pretok_llama3_next, false, true},        /* Split(Llama 3 regex) + ByteLevel, ignore_merges */
    {"llama-v3", sk_pretok_llama3_next, false, true},
    {"llama-bpe", sk_pretok_llama3_next, false, true},
    {"qwen2", sk_pretok_qwen2_next, true, false},          /* NFC, Split(Qwen2 regex) + ByteLevel */
};
#define N_PRE_TYPES (sizeof pre_types / sizeof *pre_types)

typedef struct {
    SkTokenizer *t;
    const SkGgufFile *f;
    SkError *err;
    SkGgufStr *tok; /* [n] the token strings, in the mapping */
    int n;
    const SkGgufValue *types, *scores; /* [n] or NULL */
} Rd;


/* Code points of GPT-2's byte alphabet (the image of bytes_to_unicode). */
static bool in_byte_alphabet(uint32_t cp) {
    return (cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174 && cp <= 323);
}

static bool all_in_alphabet(SkGgufStr s) {
    for (size_t i = 0; i < s.len;) {
        uint32_t cp;
        i += (size_t)sk_utf8_decode((const unsigned char *)s.s + i, s.len - i, &cp);
        if (!in_byte_alphabet(cp)) return false; /* an invalid byte decodes as U+FFFD: not in it either */
    }
    return true;
}

/* A byte-level vocabulary's spelling of a token, as transformers makes it: the token itself when
 * every character is in the byte alphabet, else its UTF-8 bytes each spelled in the alphabet
 * (llama.cpp stores some added tokens as plain text). NULL on OOM. */
static char *byte_level_spelling(SkGgufStr s) {
    bool as_is = all_in_alphabet(s);
    char *out = malloc(as_is ? s.len + 1 : s.len * 2 + 1);
    if (!out) return NULL;
    size_t n = 0;
    if (as_is) memcpy(out, s.s, n = s.len);
    else
        for (size_t i = 0; i < s.len; i++) n += (size_t)sk_utf8_encode(out + n, sk_byte_to_char((uint8_t)s.s[i]));
    out[n] = 0;
    return out;
}

/* ---- the vocabulary --------------------------------------------------------------------- */

static int read_tokens(Rd *r) {
    const SkGgufValue *arr;
    int rc = sk_gguf_get_array(r->f, K_TOKENS, SK_GGUF_STRING, &arr, r->err);
    if (rc < 0) return -1;
    if (rc == 0) return sk_err(r->err, "%s: key %s missing: the file has no tokenizer vocabulary", r->f->path, K_TOKENS);
    if (arr->arr.n == 0) return sk_err(r->err, "%s: key %s is empty", r->f->path, K_TOKENS);
    if (arr->arr.n > (1u << 26))
        return sk_err(r->err, "%s: key %s has %llu tokens, more than %u", r->f->path, K_TOKENS,
                      (unsigned long long)arr->arr.n, 1u << 26);
    r->n = (int)arr->arr.n;
    if (!(r->tok = malloc((size_t)r->n * sizeof *r->tok))) return sk_err(r->err, "out of memory");
    if (sk_gguf_array_strings(arr, r->tok) != 0) return sk_err(r->err, "%s: key %s is not readable", r->f->path, K_TOKENS);
    for (int i = 0; i < r->n; i++)
        if (memchr(r->tok[i].s, 0, r->tok[i].len))
            return sk_err(r->err, "%s: key %s: token %d holds a NUL byte", r->f->path, K_TOKENS, i);
    return 0;
}

/* An optional per-token array: present means one entry per token. */
static int read_per_token(Rd *r, const char *key, SkGgufType type, const SkGgufValue **out) {
    int rc = sk_gguf_get_array(r->f, key, type, out, r->err);
    if (rc < 0) return -1;
    if (rc == 0) {
        *out = NULL;
        return 0;
    }
    if ((*out)->arr.n != (uint64_t)r->n)
        return sk_err(r->err, "%s: key %s has %llu entries for %d tokens (%s): one per token is needed", r->f->path, key,
                      (unsigned long long)(*out)->arr.n, r->n, K_TOKENS);
    return 0;
}

static int token_type(const Rd *r, int i) { return r->types ? (int)sk_gguf_array_int(r->types, (uint64_t)i) : TT_NORMAL; }

static int read_vocab(Rd *r, bool byte_level) {
    SkTokenizer *t = r->t;
    if (read_per_token(r, K_TYPES, SK_GGUF_I32, &r->types) != 0 || read_per_token(r, K_SCORES, SK_GGUF_F32, &r->scores) != 0)
        return -1;
    for (int i = 0; r->types && i < r->n; i++) {
        int64_t ty = sk_gguf_array_int(r->types, (uint64_t)i);
        if (ty < TT_UNDEFINED || ty > TT_BYTE)
            return sk_err(r->err, "%s: key %s: entry %d is %lld, not a token type (0-6)", r->f->path, K_TYPES, i, (long long)ty);
    }
    for (int i = 0; r->scores && i < r->n; i++)
        if (isnan(sk_gguf_array_float(r->scores, (uint64_t)i)))
            return sk_err(r->err, "%s: key %s: entry %d is not a number", r->f->path, K_SCORES, i);
    t->vocab_size = r->n;
    if (!(t->pieces = calloc((size_t)r->n, sizeof *t->pieces))) return sk_err(r->err, "out of memory");
    for (int i = 0; i < r->n; i++) {
        SkGgufStr s = r->tok[i];
        char *p = byte_level ? byte_level_spelling(s) : strndup(s.s, s.len);
        if (!p) return sk_err(r->err, "out of memory");
        t->pieces[i] = p;
        size_t len = strlen(p);
        if (len == 0) continue; /* an empty token matches nothing */
        int32_t prev;
        if (sk_strmap_get(&t->vocab, p, len, &prev)) {
            char buf[64];
            return sk_err(r->err, "%s: key %s: \"%s\" is both token %d and token %d", r->f->path, K_TOKENS,
                          sk_gguf_str_show(s, buf, sizeof buf), prev, i);
        }
        if (sk_strmap_put(&t->vocab, p, len, i) != 0) return sk_err(r->err, "out of memory");
    }
    return sk_bpe_finish(t, r->err, r->f->path);
}

/* ---- merges ---------------------------------------------------------------------------------- */

static int read_merges(Rd *r, const SkGgufValue *arr) {
    SkGgufStr *m = malloc((arr->arr.n ? (size_t)arr->arr.n : 1) * sizeof *m);
    if (!m) return sk_err(r->err, "out of memory");
    if (sk_gguf_array_strings(arr, m) != 0) {
        free(m);
        return sk_err(r->err, "%s: key %s is not readable", r->f->path, K_MERGES);
    }
    char where[1200];
    snprintf(where, sizeof where, "%s: key %s", r->f->path, K_MERGES);
    int rc = 0;
    for (uint64_t k = 0; k < arr->arr.n && rc == 0; k++) {
        char buf[64];
        /* "a b", split at the first space after the first byte, as llama.cpp splits it */
        const char *sp = m[k].len > 1 ? memchr(m[k].s + 1, ' ', m[k].len - 1) : NULL;
        if (!sp || sp + 1 == m[k].s + m[k].len) {
            rc = sk_err(r->err, "%s: merge %llu \"%s\" is not two tokens separated by a space", where,
                        (unsigned long long)k + 1, sk_gguf_str_show(m[k], buf, sizeof buf));
            break;
        }
        size_t alen = (size_t)(sp - m[k].s), blen = m[k].len - alen - 1;
        int32_t id;
        const char *side = !sk_strmap_get(&r->t->vocab, m[k].s, alen, &id) ? m[k].s :
                           !sk_strmap_get(&r->t->vocab, sp + 1, blen, &id) ? sp + 1 : NULL;
        if (side) {
            size_t slen = side == m[k].s ? alen : blen;
            rc = sk_err(r->err, "%s: merge %llu \"%s\": \"%.*s\" is not a token", where, (unsigned long long)k + 1,
                        sk_gguf_str_show(m[k], buf, sizeof buf), (int)(slen > 60 ? 60 : slen), side);
            break;
        }
        rc = sk_bpe_add_merge(r->t, m[k].s, alen, sp + 1, blen, (int)k, r->err, where);
    }
    free(m);
    return rc;
}

/* One merge a SentencePiece vocabulary implies: the piece l + r, both pieces themselves. */
typedef struct {
    int32_t l, r;
    double score;        /* the merged piece's (F32 and F64 both exact) */
    int32_t llen, rlen;  /* in characters */
    int64_t seq;         /* position before the sort (the sort is stable) */
} GenMerge;

static int cmp_local(const void *a, const void *b) { /* (id of l, id of r) ascending */
    const GenMerge *x = a, *y = b;
    if (x->l != y->l) return x->l < y->l ? -1 : 1;
    return (x->r > y->r) - (x->r < y->r);
}

static int cmp_global(const void *a, const void *b) { /* (score, llen, rlen) descending, stable */
    const GenMerge *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->llen != y->llen) return x->llen > y->llen ? -1 : 1;
    if (x->rlen != y->rlen) return x->rlen > y->rlen ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The merges of a vocabulary without any, as transformers' generate_merges(vocab, scores)
 * makes them for a GGUF: every split of every piece into two pieces, each piece's splits
 * ordered by the ids of their halves, then all of them by the merged piece's score, the longer
 * left half and then the longer right half first, in a stable sort. */
static int generate_merges(Rd *r) {
    SkTokenizer *t = r->t;
    size_t cap = 1024, n = 0;
    GenMerge *g = malloc(cap * sizeof *g);
    if (!g) return sk_err(r->err, "out of memory");
    int rc = 0;
    for (int i = 0; i < r->n && rc == 0; i++) {
        const char *p = t->pieces[i];
        size_t len = strlen(p), start = n;
        int chars = 0;
        for (size_t k = 0; k < len; chars++) {
            uint32_t cp;
            k += (size_t)sk_utf8_decode((const unsigned char *)p + k, len - k, &cp);
        }
        int c = 0;
        for (size_t k = 0; k < len && rc == 0;) {
            uint32_t cp;
            k += (size_t)sk_utf8_decode((const unsigned char *)p + k, len - k, &cp);
            c++;
            int32_t a, b;
            if (k >= len || !sk_strmap_get(&t->vocab, p, k, &a) || !sk_strmap_get(&t->vocab, p + k, len - k, &b)) continue;
            if (n == cap) {
                GenMerge *ng = realloc(g, (cap *= 2) * sizeof *g);
                if (!ng) {
                    rc = sk_err(r->err, "out of memory");
                    break;
                }
                g = ng;
            }
            g[n++] = (GenMerge){a, b, sk_gguf_array_float(r->scores, (uint64_t)i), c, chars - c, 0};
        }
        qsort(g + start, n - start, sizeof *g, cmp_local);
    }
    for (size_t k = 0; k < n; k++) g[k].seq = (int64_t)k;
    if (rc == 0) qsort(g, n, sizeof *g, cmp_global);
    char where[1200];
    snprintf(where, sizeof where, "%s: merges rebuilt from key %s", r->f->path, K_SCORES);
    for (size_t k = 0; k < n && rc == 0; k++) {
        const char *a = t->pieces[g[k].l], *b = t->pieces[g[k].r];
        rc = k >= INT32_MAX ? sk_err(r->err, "%s: too many merges", where)
                            : sk_bpe_add_merge(t, a, strlen(a), b, strlen(b), (int)k, r->err, where);
    }
    free(g);
    return rc;
}

/* ---- special tokens and flags ---------------------------------------------------------------- */

static int read_id(Rd *r, const char *key, int32_t *out) {
    int64_t v;
    int rc = sk_gguf_get_int(r->f, key, &v, r->err);
    if (rc <= 0) return rc;
    if (v < 0 || v >= r->n)
        return sk_err(r->err, "%s: key %s is %lld, outside the vocabulary of %d tokens", r->f->path, key, (long long)v, r->n);
    *out = (int32_t)v;
    return 1;
}

/* Control tokens become special added tokens and user-defined ones plain added tokens, matched
 * whole in the text, as transformers and llama.cpp treat them; in a byte-level vocabulary only
 * those spelled in the byte alphabet (transformers skips the others as mislabelled). The
 * BOS/EOS/unknown/padding tokens are special added tokens too (transformers adds its named
 * special tokens). */
static int add_tokens(Rd *r, bool byte_level, const int32_t *named, int n_named) {
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < r->n; i++) {
            int ty = token_type(r, i);
            if (ty != (pass == 0 ? TT_CONTROL : TT_USER_DEFINED) || r->tok[i].len == 0) continue;
            if (byte_level && !all_in_alphabet(r->tok[i])) continue;
            char *content = strndup(r->tok[i].s, r->tok[i].len);
            if (!content) return sk_err(r->err, "out of memory");
            int rc = sk_tokenizer_add_token(r->t, content, i, pass == 0, r->err);
            free(content);
            if (rc != 0) return -1;
        }
    for (int k = 0; k < n_named; k++) {
        if (named[k] < 0 || r->tok[named[k]].len == 0) continue;
        char *content = strndup(r->tok[named[k]].s, r->tok[named[k]].len);
        if (!content) return sk_err(r->err, "out of memory");
        int rc = sk_tokenizer_add_token(r->t, content, named[k], true, r->err);
        free(content);
        if (rc != 0) return -1;
    }
    return 0;
}

/* add_bos_token / add_eos_token: what encoding with special tokens puts around a text. Absent,
 * transformers adds BOS for SentencePiece vocabularies and nothing for byte-level ones. A flag
 * the file sets without the token's id is an error; the default is dropped, as transformers
 * drops it. */
static int read_post(Rd *r, bool spm) {
    SkTokenizer *t = r->t;
    bool add_bos = spm, add_eos = false;
    int rb = sk_gguf_get_bool(r->f, K_ADD_BOS, &add_bos, r->err), re = sk_gguf_get_bool(r->f, K_ADD_EOS, &add_eos, r->err);
    if (rb < 0 || re < 0) return -1;
    if (add_bos && t->bos < 0 && rb == 1)
        return sk_err(r->err, "%s: key %s is true but tokenizer.ggml.bos_token_id is missing", r->f->path, K_ADD_BOS);
    if (add_eos && t->eos < 0)
        return sk_err(r->err, "%s: key %s is true but tokenizer.ggml.eos_token_id is missing", r->f->path, K_ADD_EOS);
    if ((add_bos && t->bos >= 0 && sk_ids_push(&t->prefix, t->bos) != 0) || (add_eos && sk_ids_push(&t->suffix, t->eos) != 0))
        return sk_err(r->err, "out of memory");
    return 0;
}

static int read_byte_level(Rd *r) {
    SkTokenizer *t = r->t;
    SkGgufStr pre = {"default", 7}; /* no name: llama.cpp's and transformers' default */
    if (sk_gguf_get_str(r->f, K_PRE, &pre, r->err) < 0) return -1;
    const PreType *pt = NULL;
    for (size_t k = 0; k < N_PRE_TYPES && !pt; k++)
        if (sk_gguf_str_eq(pre, pre_types[k].name)) pt = &pre_types[k];
    if (!pt) {
        char names[256] = "", buf[64];
        for (size_t k = 0; k < N_PRE_TYPES; k++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "", pre_types[k].name);
        return sk_err(r->err, "%s: key %s is \"%s\", which is not supported (supported: %s)", r->f->path, K_PRE,
                      sk_gguf_str_show(pre, buf, sizeof buf), names);
    }
    t->byte_level = true;
    t->pretok = pt->pretok;
    t->nfc = pt->nfc;
    t->ignore_merges = pt->ignore_merges;
    snprintf(t->kind, sizeof t->kind, "byte-level BPE (GGUF, %s)", pt->name);
    if (read_vocab(r, true) != 0) return -1;
    const SkGgufValue *merges;
    int rc = sk_gguf_get_array(r->f, K_MERGES, SK_GGUF_STRING, &merges, r->err);
    if (rc < 0) return -1;
    if (rc == 0) return sk_err(r->err, "%s: key %s missing: a byte-level BPE vocabulary needs its merges", r->f->path, K_MERGES);
    return read_merges(r, merges);
}

/* SentencePiece BPE as transformers' LlamaTokenizer runs it, with the word-start marker of the
 * legacy Llama tokenizer.json (Prepend("▁") on every section between added tokens), which is
 * also what llama.cpp does; add_space_prefix false: no marker. */
static int read_sentencepiece(Rd *r) {
    SkTokenizer *t = r->t;
    bool prefix = true;
    if (sk_gguf_get_bool(r->f, K_SPACE_PREFIX, &prefix, r->err) < 0) return -1;
    t->byte_level = false;
    t->pretok = NULL;
    t->spaces_to_marker = true;
    t->prepend = prefix ? SK_PREPEND_ALWAYS : SK_PREPEND_NONE;
    t->strip_start = prefix ? 1 : 0;
    t->byte_fallback = true;
    t->fuse_unk = true;
    snprintf(t->kind, sizeof t->kind, "SentencePiece BPE, byte fallback (GGUF)");
    if (read_vocab(r, false) != 0) return -1;
    const SkGgufValue *merges;
    int rc = sk_gguf_get_array(r->f, K_MERGES, SK_GGUF_STRING, &merges, r->err);
    if (rc < 0) return -1;
    if (rc == 1) return read_merges(r, merges); /* transformers uses the file's merges when it has them */
    if (!r->scores)
        return sk_err(r->err, "%s: key %s missing: a SentencePiece vocabulary without %s needs its scores", r->f->path,
                      K_SCORES, K_MERGES);
    return generate_merges(r);
}

int sk_tokenizer_read_gguf(SkTokenizer *t, const SkGgufFile *f, SkError *err) {
    Rd r = {.t = t, .f = f, .err = err};
    SkGgufStr model;
    int rc = sk_gguf_get_str(f, K_MODEL, &model, err);
    if (rc < 0) return -1;
    if (rc == 0) return sk_err(err, "%s: key %s missing: the file has no tokenizer", f->path, K_MODEL);
    bool spm = sk_gguf_str_eq(model, "llama");
    if (!spm && !sk_gguf_str_eq(model, "gpt2")) {
        char buf[64];
        return sk_err(err, "%s: key %s is \"%s\", which is not supported (gpt2: byte-level BPE, llama: SentencePiece BPE)",
                      f->path, K_MODEL, sk_gguf_str_show(model, buf, sizeof buf));
    }
    if (read_tokens(&r) != 0) goto fail;
    if ((spm ? read_sentencepiece(&r) : read_byte_level(&r)) != 0) goto fail;
    int32_t named[4] = {-1, -1, -1, -1}; /* bos, eos, unknown, padding */
    static const char *keys[4] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                  "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.padding_token_id"};
    for (int k = 0; k < 4; k++)
        if (read_id(&r, keys[k], &named[k]) < 0) goto fail;
    t->bos = named[0], t->eos = named[1];
    if (spm) t->unk = named[2];
    if (add_tokens(&r, !spm, named, 4) != 0 || read_post(&r, spm) != 0) goto fail;
    SkGgufStr chat;
    rc = sk_gguf_get_str(f, "tokenizer.chat_template", &chat, err);
    if (rc < 0) goto fail;
    if (rc == 1 && !(t->chat_template = strndup(chat.s, chat.len))) {
        sk_err(err, "out of memory");
        goto fail;
    }
    free(r.tok);
    return 0;
fail:
    free(r.tok);
    return -1;
}
