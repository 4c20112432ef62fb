/* sk_tokenizer.h - Hugging Face BPE tokenizers read from tokenizer.json (byte-level: GPT-2,
 * Llama 3, Qwen2 with NFC; SentencePiece-converted: Llama 2, Mistral, TinyLlama),
 * vocab.json + merges.txt, or a GGUF file's metadata (llama.cpp's tokenizer.ggml.* keys).
 * Encoding matches tokenizer(text).input_ids of the model's tokenizer.json; decoding gives the
 * text back (for SentencePiece ones, without the space the first word's marker adds). */
#ifndef SK_TOKENIZER_H
#define SK_TOKENIZER_H

#include "sk_core.h"

typedef struct SkTokenizer SkTokenizer;

typedef struct SkIds {
    int32_t *ids;
    int n, cap;
} SkIds;

int sk_ids_push(SkIds *v, int32_t id);
void sk_ids_free(SkIds *v);

/* Loads a GGUF file's tokenizer (PATH is a .gguf file, or a folder without config.json holding
 * one), else DIR/tokenizer.json, else DIR/vocab.json + DIR/merges.txt. */
int sk_tokenizer_load(const char *path, SkTokenizer **out, SkError *err);
void sk_tokenizer_free(SkTokenizer *t);

/* Appends the ids of text[0..len) to out. add_special: the special tokens the
 * tokenizer's post-processor adds (BOS/EOS), as Hugging Face does by default. */
int sk_tokenizer_encode(SkTokenizer *t, const char *text, size_t len, bool add_special,
                        SkIds *out, SkError *err);
/* The ids of a verbalizer's label word: space = true, the word as it follows other text
 * (" word" for byte-level BPE, the word after the word-start marker "▁" for SentencePiece
 * ones); false, the bare word. */
int sk_tokenizer_encode_word(SkTokenizer *t, const char *word, bool space, SkIds *out, SkError *err);
/* Whether the tokenizer marks word starts itself (SentencePiece's "▁"). */
bool sk_tokenizer_marks_words(const SkTokenizer *t);
/* The bytes of ids (malloc'ed, NUL-terminated), as the tokenizer's decoder gives them. */
int sk_tokenizer_decode(const SkTokenizer *t, const int32_t *ids, int n, char **out, size_t *len,
                        SkError *err);
/* Bytes of one token, as it appears in decoded text; returns the byte count or -1. */
int sk_tokenizer_token_bytes(const SkTokenizer *t, int32_t id, char *buf, size_t cap);
int sk_tokenizer_vocab_size(const SkTokenizer *t); /* 1 + the largest id */
bool sk_tokenizer_is_special(const SkTokenizer *t, int32_t id);
int32_t sk_tokenizer_bos(const SkTokenizer *t); /* -1 when none */
int32_t sk_tokenizer_eos(const SkTokenizer *t);
/* e.g. "byte-level BPE (tokenizer.json)", "byte-level BPE (GGUF, smollm)" */
const char *sk_tokenizer_kind(const SkTokenizer *t);
const char *sk_tokenizer_piece(const SkTokenizer *t, int32_t id); /* vocabulary string */
/* The model's chat template (Jinja text from tokenizer_config.json or the GGUF), or NULL. */
const char *sk_tokenizer_chat_template(const SkTokenizer *t);
/* The text around one user message as the chat template renders it with the assistant's
 * turn opened (apply_chat_template(..., add_generation_prompt=True)): before the message
 * (with the template's default system message, if it adds one) and after it. Known
 * layouts: ChatML (<|im_start|>, SmolLM2, Qwen2), Llama 3 (<|start_header_id|>); another
 * template is an error naming what was looked for. */
int sk_tokenizer_chat_wrap(const SkTokenizer *t, char *before, size_t before_cap, char *after, size_t after_cap,
                           SkError *err);
/* Writes DIR/tokenizer.json (byte-level BPE, merges as pairs; a tokenizer of another
 * layout read from a folder has that folder's tokenizer files copied; one read from a GGUF is
 * written out whatever its layout, with a tokenizer_config.json naming BOS/EOS), as Hugging
 * Face's tokenizers library reads it. */
int sk_tokenizer_save(const SkTokenizer *t, const char *dir, SkError *err);
/* Learns a byte-level BPE vocabulary of vocab_size tokens from text (special tokens
 * get the first ids and are never split). */
int sk_tokenizer_train_bpe(const char *text, size_t len, int vocab_size, const char *const *special,
                           int n_special, SkProgressFn progress, void *pctx, SkTokenizer **out,
                           SkError *err);

#endif
