/* test_tokenizer_gguf.c - tokenizers read from GGUF metadata (llama.cpp's tokenizer.ggml.*
 * keys) against the ids of the original tokenizer.json files (Hugging Face's tokenizers
 * library; tests/reference/gen_gguf_tokenizers.py builds the GGUF files and records the ids):
 * GPT-2, SmolLM, Llama 3, Qwen2 and Llama 2 (SentencePiece, merges rebuilt from the scores);
 * decoding; saving to tokenizer.json and reading it back; small hand-written GGUF files for
 * added tokens, flags and the merge order; and bad metadata, each refused naming the key.
 *   test_tokenizer_gguf FIXTURES                      the fixtures
 *   test_tokenizer_gguf FIXTURES MODEL_DIR            the real SmolLM2 GGUF (exit 77 without it)
 *   test_tokenizer_gguf FIXTURES --saved-dir DIR      also keeps the saved tokenizer.json files
 *                                                     in DIR/NAME (the generator's --check-saved
 *                                                     loads them in tokenizers and transformers) */
#include <cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sk_io.h"
#include "sk_tokenizer.h"
#include "testutil.h"
#include "tokenizer/tokenizer_internal.h"

static const char *fixtures;

/* ---- a tiny GGUF writer (version 3, metadata only) --------------------------------------- */

typedef struct {
    unsigned char *buf;
    size_t n, cap;
    int n_kv;
} Gw;

static void gw_bytes(Gw *g, const void *p, size_t n) {
    if (g->n + n > g->cap) {
        while (g->n + n > g->cap) g->cap = g->cap ? g->cap * 2 : 4096;
        g->buf = realloc(g->buf, g->cap);
        REQUIRE(g->buf, "out of memory");
    }
    memcpy(g->buf + g->n, p, n);
    g->n += n;
}

static void gw_u32(Gw *g, uint32_t v) {
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    gw_bytes(g, b, 4);
}

static void gw_u64(Gw *g, uint64_t v) {
    gw_u32(g, (uint32_t)v);
    gw_u32(g, (uint32_t)(v >> 32));
}

static void gw_str(Gw *g, const char *s) {
    gw_u64(g, strlen(s));
    gw_bytes(g, s, strlen(s));
}

static void gw_key(Gw *g, const char *key, uint32_t type) {
    gw_str(g, key);
    gw_u32(g, type);
    g->n_kv++;
}

static void kv_str(Gw *g, const char *key, const char *v) {
    gw_key(g, key, SK_GGUF_STRING);
    gw_str(g, v);
}

static void kv_u32(Gw *g, const char *key, uint32_t v) {
    gw_key(g, key, SK_GGUF_U32);
    gw_u32(g, v);
}

static void kv_bool(Gw *g, const char *key, bool v) {
    gw_key(g, key, SK_GGUF_BOOL);
    unsigned char b = v;
    gw_bytes(g, &b, 1);
}

static void kv_strs(Gw *g, const char *key, const char *const *v, int n) {
    gw_key(g, key, SK_GGUF_ARRAY);
    gw_u32(g, SK_GGUF_STRING);
    gw_u64(g, (uint64_t)n);
    for (int i = 0; i < n; i++) gw_str(g, v[i]);
}

static void kv_i32s(Gw *g, const char *key, const int32_t *v, int n) {
    gw_key(g, key, SK_GGUF_ARRAY);
    gw_u32(g, SK_GGUF_I32);
    gw_u64(g, (uint64_t)n);
    for (int i = 0; i < n; i++) gw_u32(g, (uint32_t)v[i]);
}

static void kv_f32s(Gw *g, const char *key, const float *v, int n) {
    gw_key(g, key, SK_GGUF_ARRAY);
    gw_u32(g, SK_GGUF_F32);
    gw_u64(g, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &v[i], 4);
        gw_u32(g, b);
    }
}

/* Writes the file and frees the metadata. */
static void gw_write(Gw *g, const char *path) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f, "cannot write %s", path);
    unsigned char head[24] = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
    for (int i = 0; i < 8; i++) head[16 + i] = (unsigned char)((uint64_t)g->n_kv >> (8 * i)); /* 0 tensors, n_kv */
    REQUIRE(fwrite(head, 1, 24, f) == 24 && fwrite(g->buf, 1, g->n, f) == g->n, "cannot write %s", path);
    fclose(f);
    free(g->buf);
    memset(g, 0, sizeof *g);
}

/* ---- helpers ----------------------------------------------------------------------------- */

static SkTokenizer *load_path(const char *path) {
    SkTokenizer *t;
    SkError err;
    REQUIRE(sk_tokenizer_load(path, &t, &err) == 0, "%s: %s", path, err.msg);
    return t;
}

static bool ids_match_json(const SkIds *ids, const cJSON *want) {
    bool same = ids->n == cJSON_GetArraySize(want);
    int i = 0;
    for (const cJSON *w = want ? want->child : NULL; same && w; w = w->next, i++) same = ids->ids[i] == w->valueint;
    return same;
}

static bool decodes_to(SkTokenizer *t, const SkIds *ids, const char *text) {
    SkError err;
    char *back;
    size_t len;
    if (sk_tokenizer_decode(t, ids->ids, ids->n, &back, &len, &err) != 0) return false;
    bool ok = len == strlen(text) && memcmp(back, text, len) == 0;
    free(back);
    return ok;
}

/* Every golden string of a golden.json ({strings: [{text, ids, decoded?}], special: [...]})
 * gives its ids (and special ones with add_special) and decodes to the reference decoder's
 * text. Returns the number of strings. */
static int check_golden(const char *name, SkTokenizer *t, const cJSON *golden, bool verbose) {
    const cJSON *strings = cJSON_GetObjectItem(golden, "strings"), *special = cJSON_GetObjectItem(golden, "special");
    int n = 0, same = 0, dec = 0, sp = 0, nsp = 0, hf_differs = 0;
    for (const cJSON *e = strings ? strings->child : NULL; e; e = e->next, n++) {
        const char *text = cJSON_GetObjectItem(e, "text")->valuestring;
        const cJSON *decoded = cJSON_GetObjectItem(e, "decoded");
        SkIds ids = encode(t, text, false);
        if (ids_match_json(&ids, cJSON_GetObjectItem(e, "ids"))) same++;
        else if (verbose) printf("  %s: ids differ on golden %d \"%.50s\" (%d ids)\n", name, n, text, ids.n);
        if (decodes_to(t, &ids, cJSON_IsString(decoded) ? decoded->valuestring : text)) dec++;
        else if (verbose) printf("  %s: decode differs on golden %d \"%.50s\"\n", name, n, text);
        hf_differs += cJSON_GetObjectItem(e, "hf_gguf_ids") != NULL;
        sk_ids_free(&ids);
    }
    for (const cJSON *e = special ? special->child : NULL; e; e = e->next, nsp++) {
        SkIds ids = encode(t, cJSON_GetObjectItem(e, "text")->valuestring, true);
        sp += ids_match_json(&ids, cJSON_GetObjectItem(e, "ids"));
        sk_ids_free(&ids);
    }
    if (verbose)
        printf("%-8s %-40s %d/%d strings identical, %d/%d decode as the reference, %d/%d with special tokens "
               "(transformers' own GGUF conversion differs on %d)\n", name, sk_tokenizer_kind(t), same, n, dec, n, sp,
               nsp, hf_differs);
    CHECK(n >= 200 && same == n && dec == n && sp == nsp, "%s: %d/%d ids, %d/%d decodes, %d/%d with special tokens",
          name, same, n, dec, n, sp, nsp);
    return n;
}

static cJSON *load_golden(const char *path) {
    cJSON *root;
    SkError err;
    REQUIRE(sk_json_load(path, &root, &err) == 0, "%s", err.msg);
    return root;
}

static void remove_tree(const char *dir) {
    const char *files[] = {"tokenizer.json", "tokenizer_config.json", "a.gguf", "b.gguf", "t.gguf"};
    char path[1200];
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- the fixtures -------------------------------------------------------------------------- */

static const char *names[] = {"gpt2", "smollm", "llama3", "qwen2", "llama2"};
static const char *kinds[] = {"byte-level BPE (GGUF, gpt-2)", "byte-level BPE (GGUF, smollm)",
                              "byte-level BPE (GGUF, llama-bpe)", "byte-level BPE (GGUF, qwen2)",
                              "SentencePiece BPE, byte fallback (GGUF)"};

static void test_fixtures(const char *saved_dir) {
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        char dir[1024], file[1100], gpath[1100];
        snprintf(dir, sizeof dir, "%s/tokenizer/gguf/%s", fixtures, names[k]);
        snprintf(file, sizeof file, "%s/%s.gguf", dir, names[k]);
        snprintf(gpath, sizeof gpath, "%s/golden.json", dir);
        cJSON *golden = load_golden(gpath);
        /* the folder (no config.json, one .gguf in it) and the file itself */
        SkTokenizer *t = load_path(dir), *direct = load_path(file);
        CHECK(!strcmp(sk_tokenizer_kind(t), kinds[k]), "%s: kind \"%s\"", names[k], sk_tokenizer_kind(t));
        CHECK(sk_tokenizer_marks_words(t) == !strcmp(names[k], "llama2"), "%s: marks words", names[k]);
        CHECK(!strcmp(t->source, file) && !strcmp(direct->source, file), "%s: source \"%s\"", names[k], t->source);
        CHECK(sk_tokenizer_vocab_size(t) == cJSON_GetObjectItem(golden, "vocab_size")->valueint, "%s: vocab size %d",
              names[k], sk_tokenizer_vocab_size(t));
        check_golden(names[k], t, golden, true);

        /* saved as tokenizer.json (there are no files to copy) and read back */
        char tmp[] = "/tmp/sktune-ggsave-XXXXXX", out[1200];
        REQUIRE(mkdtemp(tmp), "mkdtemp");
        if (saved_dir) snprintf(out, sizeof out, "%s/%s", saved_dir, names[k]);
        else snprintf(out, sizeof out, "%s", tmp);
        SkError err;
        REQUIRE(sk_tokenizer_save(direct, out, &err) == 0, "%s: %s", names[k], err.msg);
        SkTokenizer *back = load_path(out);
        CHECK(strstr(sk_tokenizer_kind(back), "(tokenizer.json)") != NULL, "%s: reloaded kind \"%s\"", names[k],
              sk_tokenizer_kind(back));
        /* (a folder's tokenizer without a BOS falls back to <|endoftext|>, as before: Qwen2's) */
        CHECK((sk_tokenizer_bos(t) < 0 || sk_tokenizer_bos(back) == sk_tokenizer_bos(t)) &&
              sk_tokenizer_eos(back) == sk_tokenizer_eos(t), "%s: saved BOS/EOS %d/%d, was %d/%d", names[k],
              sk_tokenizer_bos(back), sk_tokenizer_eos(back), sk_tokenizer_bos(t), sk_tokenizer_eos(t));
        int n = check_golden(names[k], back, golden, false);
        printf("  saved as tokenizer.json and read back: %d strings checked (%s)\n", n, sk_tokenizer_kind(back));
        sk_tokenizer_free(back);
        remove_tree(tmp);
        sk_tokenizer_free(t), sk_tokenizer_free(direct);
        cJSON_Delete(golden);
    }
}

/* ---- small hand-written files ---------------------------------------------------------------- */

static const char *BYTES_256[256];
static char bytes_buf[256][4];

/* GPT-2's 256 single-byte tokens, as the first 256 of a byte-level vocabulary. */
static void byte_tokens(void) {
    for (int b = 0; b < 256; b++) {
        int n = sk_utf8_encode(bytes_buf[b], sk_byte_to_char((uint8_t)b));
        bytes_buf[b][n] = 0;
        BYTES_256[b] = bytes_buf[b];
    }
}

/* A byte-level vocabulary: the bytes, then extra tokens with their types. */
static void write_byte_level(const char *path, const char *pre, const char *const *extra, const int32_t *extra_types,
                             int n_extra, const char *const *merges, int n_merges, void (*more)(Gw *)) {
    const char *tokens[300];
    int32_t types[300];
    int n = 0;
    for (int b = 0; b < 256; b++) tokens[n] = BYTES_256[b], types[n++] = 1;
    for (int i = 0; i < n_extra; i++) tokens[n] = extra[i], types[n++] = extra_types[i];
    Gw g = {0};
    kv_str(&g, "general.architecture", "llama");
    kv_str(&g, "tokenizer.ggml.model", "gpt2");
    if (pre) kv_str(&g, "tokenizer.ggml.pre", pre);
    kv_strs(&g, "tokenizer.ggml.tokens", tokens, n);
    kv_i32s(&g, "tokenizer.ggml.token_type", types, n);
    kv_strs(&g, "tokenizer.ggml.merges", merges, n_merges);
    if (more) more(&g);
    gw_write(&g, path);
}

static void eos_last(Gw *g) {
    kv_u32(g, "tokenizer.ggml.bos_token_id", 260);
    kv_u32(g, "tokenizer.ggml.eos_token_id", 260);
    kv_bool(g, "tokenizer.ggml.add_bos_token", true);
    kv_bool(g, "tokenizer.ggml.add_eos_token", true);
}

/* Control tokens are special added tokens, user-defined ones plain added tokens; a control
 * token not spelled in the byte alphabet is skipped (as transformers skips it); a token stored
 * as plain text gets its byte-level spelling; no pre name means GPT-2's; add_bos/add_eos. */
static void test_byte_level_small(const char *tmp) {
    char path[1200];
    snprintf(path, sizeof path, "%s/t.gguf", tmp);
    /* 256: "ab", 257: "<think>" user-defined, 258: "<|x y|>" control with a space (not in the
     * alphabet), 259: "a b" normal with a space (plain text: spelled "aĠb"), 260: "<|end|>" control */
    const char *extra[] = {"ab", "<think>", "<|x y|>", "a b", "<|end|>"};
    const int32_t types[] = {1, 4, 3, 1, 3};
    const char *merges[] = {"a b"};
    write_byte_level(path, NULL, extra, types, 5, merges, 1, eos_last);
    SkTokenizer *t = load_path(path);
    CHECK(!strcmp(sk_tokenizer_kind(t), "byte-level BPE (GGUF, default)"), "kind \"%s\"", sk_tokenizer_kind(t));
    SkIds ids = encode(t, "ab<think>ab<|end|>", false);
    CHECK(ids_are(&ids, (int32_t[]){256, 257, 256, 260}, 4), "added tokens split out (%d ids)", ids.n);
    sk_ids_free(&ids);
    CHECK(sk_tokenizer_is_special(t, 260) && !sk_tokenizer_is_special(t, 257), "control special, user-defined not");
    ids = encode(t, "<|x y|>", false);
    CHECK(ids.n > 1, "a control token outside the byte alphabet is not an added token (%d ids)", ids.n);
    sk_ids_free(&ids);
    CHECK(!strcmp(sk_tokenizer_piece(t, 259), "a\xc4\xa0" "b"), "plain-text token respelled: \"%s\"", sk_tokenizer_piece(t, 259));
    ids = encode(t, "ab", true);
    CHECK(ids_are(&ids, (int32_t[]){260, 256, 260}, 3), "add_bos_token/add_eos_token (%d ids)", ids.n);
    CHECK(decodes_to(t, &ids, "<|end|>ab<|end|>"), "decode with special tokens");
    sk_ids_free(&ids);
    sk_tokenizer_free(t);
    /* "default" and "gpt-2" are GPT-2's pattern: " ab" is one pre-token, "ab12" two */
    write_byte_level(path, "gpt-2", extra, types, 5, merges, 1, NULL);
    t = load_path(path);
    ids = encode(t, "ab", true);
    CHECK(ids_are(&ids, (int32_t[]){256}, 1), "no BOS/EOS by default for byte-level (%d ids)", ids.n);
    sk_ids_free(&ids);
    CHECK(sk_tokenizer_bos(t) < 0, "no bos_token_id: no BOS");
    sk_tokenizer_free(t);
    unlink(path);
}

/* A SentencePiece vocabulary with scores and types, BOS 1, EOS 2, unknown 0. */
static void write_spm(const char *path, const char *const *tok, const float *scores, const int32_t *types, int n,
                      void (*more)(Gw *)) {
    Gw g = {0};
    kv_str(&g, "general.architecture", "llama");
    kv_str(&g, "tokenizer.ggml.model", "llama");
    kv_str(&g, "tokenizer.ggml.pre", "default");
    kv_strs(&g, "tokenizer.ggml.tokens", tok, n);
    kv_f32s(&g, "tokenizer.ggml.scores", scores, n);
    kv_i32s(&g, "tokenizer.ggml.token_type", types, n);
    kv_u32(&g, "tokenizer.ggml.bos_token_id", 1);
    kv_u32(&g, "tokenizer.ggml.eos_token_id", 2);
    kv_u32(&g, "tokenizer.ggml.unknown_token_id", 0);
    if (more) more(&g);
    gw_write(&g, path);
}

static void no_prefix_eos(Gw *g) {
    kv_bool(g, "tokenizer.ggml.add_space_prefix", false);
    kv_bool(g, "tokenizer.ggml.add_eos_token", true);
}

/* Merges rebuilt from scores in transformers' order: by the merged piece's score, ties by the
 * longer left half, then in vocabulary order ("ab" before "ba" at equal scores: "bab" is
 * b + ab, not ba + b); the marker before every section; add_bos by default; <0xNN> fallback. */
static void test_sentencepiece_small(const char *tmp) {
    char path[1200];
    snprintf(path, sizeof path, "%s/t.gguf", tmp);
    const char *tok[] = {"<unk>", "<s>", "</s>", "<0x0A>", "<0x63>", "\xe2\x96\x81", "a", "b", "ab", "ba", "aba",
                         "\xe2\x96\x81" "a", "\xe2\x96\x81" "ab"};
    const float scores[] = {0, 0, 0, 0, 0, -100, -101, -102, -1, -1, -2, -3, -4};
    const int32_t types[] = {2, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1};
    write_spm(path, tok, scores, types, 13, NULL);
    SkTokenizer *t = load_path(path);
    CHECK(!strcmp(sk_tokenizer_kind(t), "SentencePiece BPE, byte fallback (GGUF)"), "kind \"%s\"", sk_tokenizer_kind(t));
    /* generate_merges: ab (a b), ba (b a) at -1 in that order; aba: ab|a before a|ba; ▁a; ▁ab:
     * ▁|ab (left 1 char) after ▁a|b (left 2 chars) */
    const int32_t want[][2] = {{6, 7}, {7, 6}, {8, 6}, {6, 9}, {5, 6}, {11, 7}, {5, 8}};
    bool order = t->n_merges == 7;
    for (int i = 0; order && i < 7; i++) order = t->merge_left[i] == want[i][0] && t->merge_right[i] == want[i][1];
    CHECK(order, "rebuilt merges in transformers' order (%d merges)", t->n_merges);
    SkIds ids = encode(t, "bab", true);
    CHECK(ids_are(&ids, (int32_t[]){1, 5, 7, 8}, 4), "\"bab\" is <s> ▁ b ab (%d ids)", ids.n);
    sk_ids_free(&ids);
    ids = encode(t, "ab</s>ab\nc", false);
    CHECK(ids_are(&ids, (int32_t[]){12, 2, 12, 3, 4}, 5), "marker before each section, byte fallback (%d ids)", ids.n);
    CHECK(decodes_to(t, &ids, "ab</s> ab\nc"), "decode");
    sk_ids_free(&ids);
    sk_tokenizer_free(t);
    write_spm(path, tok, scores, types, 13, no_prefix_eos);
    t = load_path(path);
    ids = encode(t, "ab", true);
    CHECK(ids_are(&ids, (int32_t[]){1, 8, 2}, 3), "add_space_prefix false, add_eos_token (%d ids)", ids.n);
    CHECK(decodes_to(t, &ids, "<s>ab</s>"), "decode without the prefix");
    sk_ids_free(&ids);
    sk_tokenizer_free(t);
    unlink(path);
}

/* ---- bad metadata --------------------------------------------------------------------------- */

static void expect_error(const char *path, const char *needle, const char *needle2) {
    SkTokenizer *t;
    SkError err;
    int rc = sk_tokenizer_load(path, &t, &err);
    CHECK(rc != 0, "bad GGUF accepted (expected an error about %s)", needle);
    if (rc == 0) {
        sk_tokenizer_free(t);
        return;
    }
    CHECK(strstr(err.msg, needle) && (!needle2 || strstr(err.msg, needle2)) && strstr(err.msg, path),
          "error \"%s\" does not name %s%s%s and the file", err.msg, needle, needle2 ? " / " : "", needle2 ? needle2 : "");
    printf("  rejected: %s\n", err.msg);
}

typedef enum {
    B_NO_MODEL, B_BERT, B_UNKNOWN_MODEL, B_NO_TOKENS, B_TOKENS_NOT_STRINGS, B_EMPTY_TOKENS, B_TYPES_SHORT, B_SCORES_LONG,
    B_BAD_TYPE, B_MERGE_UNKNOWN, B_MERGE_NO_SPACE, B_NO_MERGES, B_PRE, B_BOS_RANGE, B_ADD_BOS_NO_ID, B_DUPLICATE,
    B_SPM_NO_SCORES, B_MODEL_NOT_STRING, B_COUNT
} Bad;

static void write_bad(const char *path, Bad b) {
    const char *tokens[] = {"a", "b", "ab", b == B_DUPLICATE ? "a" : "c"};
    const int32_t types4[] = {1, 1, 1, b == B_BAD_TYPE ? 9 : 3};
    const float scores[] = {0, 0, 0, 0, 0};
    const char *merges[] = {b == B_MERGE_UNKNOWN ? "a x" : b == B_MERGE_NO_SPACE ? "ab" : "a b"};
    bool spm = b == B_SPM_NO_SCORES;
    Gw g = {0};
    kv_str(&g, "general.architecture", "llama");
    if (b == B_MODEL_NOT_STRING) kv_u32(&g, "tokenizer.ggml.model", 2);
    else if (b != B_NO_MODEL)
        kv_str(&g, "tokenizer.ggml.model", b == B_BERT ? "bert" : b == B_UNKNOWN_MODEL ? "wordpiece9" : spm ? "llama" : "gpt2");
    kv_str(&g, "tokenizer.ggml.pre", b == B_PRE ? "mystery-bpe" : "gpt-2");
    if (b == B_TOKENS_NOT_STRINGS) kv_i32s(&g, "tokenizer.ggml.tokens", types4, 4);
    else if (b == B_EMPTY_TOKENS) kv_strs(&g, "tokenizer.ggml.tokens", tokens, 0);
    else if (b != B_NO_TOKENS) kv_strs(&g, "tokenizer.ggml.tokens", tokens, 4);
    kv_i32s(&g, "tokenizer.ggml.token_type", types4, b == B_TYPES_SHORT ? 3 : 4);
    if (b == B_SCORES_LONG) kv_f32s(&g, "tokenizer.ggml.scores", scores, 5);
    if (b != B_NO_MERGES && !spm) kv_strs(&g, "tokenizer.ggml.merges", merges, 1);
    if (b == B_ADD_BOS_NO_ID) kv_bool(&g, "tokenizer.ggml.add_bos_token", true);
    else kv_u32(&g, "tokenizer.ggml.bos_token_id", b == B_BOS_RANGE ? 4 : 3);
    gw_write(&g, path);
}

static void test_bad(const char *tmp) {
    char path[1200];
    snprintf(path, sizeof path, "%s/t.gguf", tmp);
    static const char *needles[B_COUNT][2] = {
        [B_NO_MODEL] = {"tokenizer.ggml.model missing", NULL},
        [B_BERT] = {"tokenizer.ggml.model", "\"bert\""},
        [B_UNKNOWN_MODEL] = {"tokenizer.ggml.model", "wordpiece9"},
        [B_NO_TOKENS] = {"tokenizer.ggml.tokens missing", NULL},
        [B_TOKENS_NOT_STRINGS] = {"tokenizer.ggml.tokens", "not an array of"},
        [B_EMPTY_TOKENS] = {"tokenizer.ggml.tokens is empty", NULL},
        [B_TYPES_SHORT] = {"tokenizer.ggml.token_type has 3 entries for 4 tokens", NULL},
        [B_SCORES_LONG] = {"tokenizer.ggml.scores has 5 entries for 4 tokens", NULL},
        [B_BAD_TYPE] = {"tokenizer.ggml.token_type", "entry 3 is 9"},
        [B_MERGE_UNKNOWN] = {"tokenizer.ggml.merges: merge 1 \"a x\"", "\"x\" is not a token"},
        [B_MERGE_NO_SPACE] = {"tokenizer.ggml.merges: merge 1 \"ab\"", "not two tokens"},
        [B_NO_MERGES] = {"tokenizer.ggml.merges missing", NULL},
        [B_PRE] = {"tokenizer.ggml.pre is \"mystery-bpe\"", "supported: default, gpt-2, smollm, llama3, llama-v3, llama-bpe, qwen2"},
        [B_BOS_RANGE] = {"tokenizer.ggml.bos_token_id is 4, outside the vocabulary of 4 tokens", NULL},
        [B_ADD_BOS_NO_ID] = {"tokenizer.ggml.add_bos_token is true", "bos_token_id is missing"},
        [B_DUPLICATE] = {"tokenizer.ggml.tokens", "\"a\" is both token 0 and token 3"},
        [B_SPM_NO_SCORES] = {"tokenizer.ggml.scores missing", NULL},
        [B_MODEL_NOT_STRING] = {"tokenizer.ggml.model", "not a string"},
    };
    for (int b = 0; b < B_COUNT; b++) {
        write_bad(path, (Bad)b);
        expect_error(path, needles[b][0], needles[b][1]);
    }
    unlink(path);
    /* a folder holding two GGUF files (and nothing else) is ambiguous */
    char a[1200], bpath[1200];
    snprintf(a, sizeof a, "%s/a.gguf", tmp), snprintf(bpath, sizeof bpath, "%s/b.gguf", tmp);
    write_bad(a, B_BERT), write_bad(bpath, B_BERT);
    expect_error(tmp, "a.gguf", "b.gguf");
    unlink(a), unlink(bpath);
}

/* ---- the real SmolLM2 GGUF ---------------------------------------------------------------- */

static int test_smollm2(const char *model_dir) {
    char gguf[1024];
    SkError err;
    int g = sk_gguf_resolve(model_dir, gguf, sizeof gguf, &err);
    if (g != 1) {
        printf("SKIP: no SmolLM2 GGUF in %s (%s); scripts/setup puts SmolLM2-135M-Instruct.Q4_1.gguf there\n", model_dir,
               g < 0 ? err.msg : "no .gguf file");
        return 77;
    }
    char gpath[1100];
    snprintf(gpath, sizeof gpath, "%s/tokenizer/gguf/smollm2-135m-instruct.golden.json", fixtures);
    cJSON *golden = load_golden(gpath);
    SkTokenizer *t = load_path(gguf);
    CHECK(!strcmp(sk_tokenizer_kind(t), "byte-level BPE (GGUF, smollm)"), "kind \"%s\"", sk_tokenizer_kind(t));
    CHECK(sk_tokenizer_vocab_size(t) == cJSON_GetObjectItem(golden, "vocab_size")->valueint, "vocab size %d",
          sk_tokenizer_vocab_size(t));
    CHECK(sk_tokenizer_bos(t) == 1 && sk_tokenizer_eos(t) == 2, "bos %d eos %d", sk_tokenizer_bos(t), sk_tokenizer_eos(t));
    check_golden("smollm2", t, golden, true);
    char tmp[] = "/tmp/sktune-ggsmol-XXXXXX";
    REQUIRE(mkdtemp(tmp), "mkdtemp");
    REQUIRE(sk_tokenizer_save(t, tmp, &err) == 0, "%s", err.msg);
    SkTokenizer *back = load_path(tmp);
    int n = check_golden("smollm2", back, golden, false);
    printf("  saved as tokenizer.json and read back: %d strings checked\n", n);
    sk_tokenizer_free(back);
    remove_tree(tmp);
    sk_tokenizer_free(t);
    cJSON_Delete(golden);
    return tu_finish("test_tokenizer_gguf (SmolLM2)");
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    const char *saved_dir = NULL;
    if (argc > 3 && !strcmp(argv[2], "--saved-dir")) saved_dir = argv[3];
    else if (argc > 2) return test_smollm2(argv[2]);
    byte_tokens();
    test_fixtures(saved_dir);
    char tmp[] = "/tmp/sktune-ggbad-XXXXXX";
    REQUIRE(mkdtemp(tmp), "mkdtemp");
    test_byte_level_small(tmp);
    test_sentencepiece_small(tmp);
    test_bad(tmp);
    remove_tree(tmp);
    return tu_finish("test_tokenizer_gguf");
}
