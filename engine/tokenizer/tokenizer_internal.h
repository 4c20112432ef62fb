/* tokenizer_internal.h - pieces shared by the tokenizer's files. */
#ifndef SK_TOKENIZER_INTERNAL_H
#define SK_TOKENIZER_INTERNAL_H

#include <cJSON.h>
#include <pthread.h>

#include "sk_io.h"
#include "sk_tokenizer.h"
#include "tokenizer/unicode.h"

/* The Split regexes of Llama 3 and Qwen2, as their tokenizer.json files spell them (scanned by
 * pretokenize.c; read by tokenizer_json.c, written by tokenizer_write.c). */
#define LLAMA3_PATTERN                                                                                  \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|" \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define QWEN2_PATTERN                                                                                 \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|" \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* Open-addressing hash map from byte strings to int32 values. */
typedef struct SkStrMap {
    char **keys;
    uint32_t *key_len;
    int32_t *vals;
    size_t cap, count;
} SkStrMap;
int sk_strmap_put(SkStrMap *m, const char *key, size_t len, int32_t val); /* 0, or -1 OOM */
bool sk_strmap_get(const SkStrMap *m, const char *key, size_t len, int32_t *val);
void sk_strmap_free(SkStrMap *m);

/* Open-addressing hash map from a pair of ids to two int32 values; BPE merges keep
 * (left, right) -> (rank, merged id) in it. */
typedef struct SkPairMap {
    uint64_t *keys; /* (left << 32 | right) + 1; 0 = empty */
    int32_t *rank, *merged;
    size_t cap, count;
} SkPairMap;
/* Inserts (a, b); a pair already present keeps its first values. 0, or -1 OOM. */
int sk_pairmap_put(SkPairMap *m, int32_t a, int32_t b, int32_t rank, int32_t merged);
bool sk_pairmap_get(const SkPairMap *m, int32_t a, int32_t b, int32_t *rank, int32_t *merged);
void sk_pairmap_free(SkPairMap *m);

typedef struct SkAddedToken {
    char *content;
    size_t len;
    int32_t id;
    bool special;
    bool lstrip, rstrip; /* swallows the whitespace before / after it */
} SkAddedToken;

#define SK_MARKER "\xe2\x96\x81" /* U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's space */

/* When the word-start marker "▁" goes before a section of text (the text between added
 * tokens) in SentencePiece-converted tokenizers. */
typedef enum {
    SK_PREPEND_NONE,
    SK_PREPEND_ALWAYS,         /* normalizer Prepend("▁"): every section */
    SK_PREPEND_UNMARKED,       /* Metaspace "always": every section not starting with "▁" */
    SK_PREPEND_FIRST_UNMARKED, /* Metaspace "first": only the section the text begins with */
} SkPrepend;

struct SkTokenizer {
    char kind[96];
    char source[1024];      /* the folder (or GGUF file) it was read from ("" when built in memory) */
    bool from_gguf;         /* read from a GGUF: saving writes every layout out (no files to copy) */
    int vocab_size;
    char **pieces;          /* [vocab_size] vocabulary strings (byte-level alphabet) */
    SkStrMap vocab;         /* piece -> id */
    SkPairMap merges;
    int32_t *merge_left, *merge_right; /* [n_merges] in rank order (for saving) */
    int n_merges, cap_merges;
    bool byte_level;        /* symbols are bytes in GPT-2's alphabet; else characters */
    int32_t byte_id[256];   /* the token of each single byte */
    int32_t fallback_id[256]; /* the <0xNN> token of each byte (SentencePiece byte fallback) */
    bool byte_fallback;     /* characters missing from the vocabulary become <0xNN> tokens */
    int32_t unk;            /* model.unk_token, or -1 */
    bool fuse_unk;
    bool nfc;               /* normalizer NFC */
    bool spaces_to_marker;  /* " " -> "▁" (Replace normalizer or Metaspace) */
    SkPrepend prepend;
    int strip_start;        /* decoder Strip / Metaspace: leading spaces a decoded text loses */
    uint8_t char_byte[324]; /* byte-level alphabet code point -> byte (cp < 324) */
    SkAddedToken *added;
    int n_added;
    uint8_t added_first[256]; /* 1 if some added token starts with this byte */
    int32_t bos, eos;
    size_t (*pretok)(const unsigned char *s, size_t len, size_t i); /* next pre-token end; NULL: none */
    bool ignore_merges;     /* a pre-token that is itself in the vocabulary is one token */
    SkIds prefix, suffix;   /* what the post-processor adds around a sequence */
    char *chat_template;    /* the Jinja chat template (tokenizer_config.json, GGUF), or NULL */
    /* cache of pre-token -> ids; guarded because the UI and a worker may both encode */
    pthread_mutex_t cache_mu;
    SkStrMap cache;
    SkIds cache_ids;        /* concatenated ids; cache values are offsets */
};

/* An empty tokenizer with the defaults (byte-level, GPT-2 pre-tokenizer, no BOS/EOS), or NULL. */
SkTokenizer *sk_tokenizer_new_empty(void);
/* Reads a tokenizer.json into t (tokenizer_json.c). */
int sk_tokenizer_read_json(SkTokenizer *t, const char *path, SkError *err);
/* Reads the tokenizer of a GGUF file's metadata into t (tokenizer_gguf.c); copies every string
 * it keeps, so f may be closed afterwards. */
int sk_tokenizer_read_gguf(SkTokenizer *t, const SkGgufFile *f, SkError *err);
/* Vocabulary {"piece": id, ...} and added tokens (tokenizer.c). */
int sk_tokenizer_read_vocab(SkTokenizer *t, const cJSON *vocab, const char *where, SkError *err);
int sk_tokenizer_add_token(SkTokenizer *t, const char *content, int32_t id, bool special, SkError *err);
int32_t sk_tokenizer_token_id(const SkTokenizer *t, const char *s);
size_t sk_pretok_gpt2_next(const unsigned char *s, size_t len, size_t i);
size_t sk_pretok_llama3_next(const unsigned char *s, size_t len, size_t i);
size_t sk_pretok_qwen2_next(const unsigned char *s, size_t len, size_t i);
size_t sk_pretok_digit_each_next(const unsigned char *s, size_t len, size_t i); /* Digits(individual) + ByteLevel */
size_t sk_pretok_digit_runs_next(const unsigned char *s, size_t len, size_t i); /* Digits + ByteLevel */
/* Registers an added special token (split out before pre-tokenization). */
int sk_tokenizer_add_special(SkTokenizer *t, const char *content, int32_t id, SkError *err);
/* The byte-level alphabet (bytes_to_unicode of GPT-2): byte -> code point. */
uint32_t sk_byte_to_char(uint8_t b);
int sk_bpe_add_merge(SkTokenizer *t, const char *a, size_t alen, const char *b, size_t blen,
                     int rank, SkError *err, const char *where);
int sk_bpe_finish(SkTokenizer *t, SkError *err, const char *where);
int sk_bpe_encode_word(SkTokenizer *t, const unsigned char *s, size_t len, SkIds *out);

#endif
