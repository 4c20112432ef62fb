/* test_gguf.c - GGUF files: the reader (metadata, tensor infos, bounds checks on corrupt
 * and truncated files), and models loaded from them against transformers
 * (tests/reference/gen_gguf.py): logits within 1e-4 relative error for every legacy and
 * K-quant type, held as stored, for the llama, qwen2 and gpt2 architectures; the same logits
 * after converting to fp32 or cloning. */
#include <unistd.h>

#include "sk_io.h"
#include "sk_model.h"
#include "sk_quant.h"
#include "testutil.h"

#define TOL 1e-4

static const char *fixtures;

static void fixture(char *buf, size_t cap, const char *name, const char *ext) {
    snprintf(buf, cap, "%s/gguf/%s%s", fixtures, name, ext);
}

/* Logits of the model at path on the fixture's ids [B, T]. */
static float *logits_of(SkModel *m, const SkTensor *ids_t) {
    int B = (int)ids_t->shape[0], T = (int)ids_t->shape[1], V = sk_model_config(m)->vocab_size;
    int32_t *ids = malloc((size_t)B * T * sizeof *ids);
    for (int i = 0; i < B * T; i++) ids[i] = (int32_t)ids_t->data[i];
    SkError err;
    SkActs *acts;
    SkActsShape shape = {.B = B, .T = T};
    REQUIRE(sk_acts_new(m, &shape, &acts, &err) == 0, "%s", err.msg);
    SkBatch batch = {.B = B, .T = T, .ids = ids};
    REQUIRE(sk_model_forward(m, acts, &batch, NULL, &err) == 0, "%s", err.msg);
    float *logits = malloc((size_t)B * T * V * sizeof(float));
    sk_model_lm_logits(m, sk_acts_hidden(acts), B * T, logits);
    sk_acts_free(acts);
    free(ids);
    return logits;
}

static void check_model(const char *name, const char *held) {
    char path[1024], ref[1024];
    fixture(path, sizeof path, name, ".gguf");
    SkError err;
    SkModel *m;
    REQUIRE(sk_model_load(path, &m, &err) == 0, "%s: %s", name, err.msg);
    SkTensor ids, want;
    fixture(ref, sizeof ref, name, ".ids.npy");
    REQUIRE(sk_npy_load(ref, &ids, &err) == 0, "%s", err.msg);
    fixture(ref, sizeof ref, name, ".logits.npy");
    REQUIRE(sk_npy_load(ref, &want, &err) == 0, "%s", err.msg);
    CHECK(!strcmp(sk_model_held(m), held), "%s: held %s, expected %s", name, sk_model_held(m), held);
    size_t n = want.numel, bytes_q = sk_model_weight_bytes(m);
    float *got = logits_of(m, &ids);
    double e = tu_rel_err(got, want.data, n);
    CHECK(e <= TOL, "%s: logits rel err %.3g", name, e);
    printf("%s: held %s (%.1f KiB), logits vs transformers rel err %.2e\n", name, sk_model_held(m), bytes_q / 1024.0, e);

    /* a clone holds the same blocks */
    SkModel *c;
    REQUIRE(sk_model_clone(m, &c, &err) == 0, "%s", err.msg);
    float *cl = logits_of(c, &ids);
    CHECK(tu_rel_err(cl, got, n) == 0, "%s: the clone's logits differ", name);
    CHECK(!strcmp(sk_model_held(c), held), "%s: clone held %s", name, sk_model_held(c));
    sk_model_free(c);
    /* converted to fp32: the same values, four times (or more) the memory */
    REQUIRE(sk_model_set_dtype(m, SK_DT_F32, &err) == 0, "%s", err.msg);
    CHECK(!strcmp(sk_model_held(m), "F32"), "%s: after conversion held %s", name, sk_model_held(m));
    CHECK(sk_model_weight_bytes(m) > bytes_q, "%s: fp32 takes %zu bytes, stored %zu", name, sk_model_weight_bytes(m), bytes_q);
    float *f32 = logits_of(m, &ids);
    e = tu_rel_err(f32, got, n);
    CHECK(e <= 1e-6, "%s: fp32 logits differ from the held ones by %.3g", name, e);
    /* and back to BF16 (through fp32): a model can always be re-held */
    REQUIRE(sk_model_set_dtype(m, SK_DT_BF16, &err) == 0, "%s", err.msg);
    float *b16 = logits_of(m, &ids);
    e = tu_rel_err(b16, want.data, n);
    CHECK(e <= 0.05, "%s: BF16 logits rel err %.3g", name, e);
    free(got), free(cl), free(f32), free(b16);
    sk_tensor_free(&ids), sk_tensor_free(&want);
    sk_model_free(m);
}

static void check_metadata(void) {
    char path[1024];
    fixture(path, sizeof path, "llama-legacy", ".gguf");
    SkGgufFile f;
    SkError err;
    REQUIRE(sk_gguf_open(&f, path, &err) == 0, "%s", err.msg);
    CHECK(f.version == 3, "version %u", f.version);
    SkGgufStr s;
    CHECK(sk_gguf_get_str(&f, "general.architecture", &s, &err) == 1 && s.len == 5 && !memcmp(s.s, "llama", 5),
          "general.architecture");
    int64_t v = 0;
    CHECK(sk_gguf_get_int(&f, "llama.block_count", &v, &err) == 1 && v == 2, "llama.block_count %lld", (long long)v);
    CHECK(sk_gguf_get_int(&f, "no.such.key", &v, &err) == 0, "absent key");
    CHECK(sk_gguf_get_int(&f, "general.architecture", &v, &err) == -1 && strstr(err.msg, "general.architecture"),
          "a string read as an integer: %s", err.msg);
    const SkGgufValue *arr;
    CHECK(sk_gguf_get_array(&f, "tokenizer.ggml.tokens", SK_GGUF_STRING, &arr, &err) == 1 && arr->arr.n == 96,
          "tokens array");
    SkGgufStr *toks = malloc(96 * sizeof *toks);
    CHECK(sk_gguf_array_strings(arr, toks) == 0 && toks[5].len == 4 && !memcmp(toks[5].s, "<t5>", 4), "token 5");
    free(toks);
    const SkGgufTensor *t = sk_gguf_find_tensor(&f, "blk.1.attn_v.weight");
    CHECK(t && t->type == SK_GGML_Q5_1 && t->ne[0] == 64 && t->ne[1] == 32, "attn_v tensor info");
    sk_gguf_close(&f);
}

static void write_bytes(const char *path, const unsigned char *p, size_t n) {
    FILE *o = fopen(path, "wb");
    REQUIRE(o && fwrite(p, 1, n, o) == n && fclose(o) == 0, "cannot write %s", path);
}

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Where s first occurs in p[from, n), or n. */
static size_t find_bytes(const char *p, size_t n, size_t from, const char *s) {
    size_t m = strlen(s);
    for (size_t i = from; i + m <= n; i++)
        if (!memcmp(p + i, s, m)) return i;
    return n;
}

/* gpt2's hyper-parameters come from its own keys; the activation (no key) is GELU's tanh
 * approximation, as in llama.cpp and transformers; no output.weight means tied. */
static void check_gpt2_config(void) {
    char path[1024];
    fixture(path, sizeof path, "gpt2-mixed", ".gguf");
    SkError err;
    SkModel *m;
    REQUIRE(sk_model_load(path, &m, &err) == 0, "%s", err.msg);
    const SkModelConfig *c = sk_model_config(m);
    CHECK(!strcmp(c->arch, "gpt2") && c->n_layer == 2 && c->d_model == 64 && c->n_head == 4 && c->n_kv_head == 4 &&
              c->head_dim == 16 && c->d_ff == 256 && c->vocab_size == 96 && c->max_seq == 32,
          "gpt2 config: %s L%d d%d H%d/%d dh%d F%d V%d ctx%d", c->arch, c->n_layer, c->d_model, c->n_head, c->n_kv_head,
          c->head_dim, c->d_ff, c->vocab_size, c->max_seq);
    CHECK(c->tie_embeddings && c->activation == SK_ACT_GELU_TANH && c->rope.dim == 0, "gpt2 tied/activation/rope");
    CHECK(fabsf(c->norm_eps - 1e-5f) < 1e-12f && !strcmp(c->dtype, "F16"), "gpt2 eps %g dtype %s", c->norm_eps, c->dtype);
    sk_model_free(m);

    /* copies with one name renamed in place (same length, so the file stays valid): an
     * unknown architecture, a missing key, missing tensors; each refused, naming the file */
    struct {
        const char *after, *from, *to, *expect;
    } cases[] = {
        {"general.architecture", "gpt2", "gptj", "architecture \"gptj\" is not supported from GGUF (llama, qwen2, gpt2)"},
        {NULL, "gpt2.context_length", "gpt2.context_lengtX", "key gpt2.context_length missing"},
        {NULL, "blk.1.ffn_down.bias", "blk.1.ffn_down.biaX", "tensor blk.1.ffn_down.bias missing"},
        {NULL, "position_embd.weight", "position_embd.weighX", "tensor position_embd.weight missing"},
    };
    char *data, tmp[] = "/tmp/sktune-gguf-gpt2-XXXXXX";
    size_t len;
    REQUIRE(sk_read_file(path, &data, &len, &err) == 0, "%s", err.msg);
    int fd = mkstemp(tmp);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *copy = malloc(len);
        memcpy(copy, data, len);
        size_t from = cases[k].after ? find_bytes(copy, len, 0, cases[k].after) : 0;
        size_t at = find_bytes(copy, len, from, cases[k].from);
        REQUIRE(at < len, "%s not in %s", cases[k].from, path);
        memcpy(copy + at, cases[k].to, strlen(cases[k].to));
        write_bytes(tmp, (unsigned char *)copy, len);
        int rc = sk_model_load(tmp, &m, &err);
        CHECK(rc != 0 && strstr(err.msg, tmp) && strstr(err.msg, cases[k].expect), "%s -> %s: rc %d, %s",
              cases[k].from, cases[k].to, rc, rc ? err.msg : "");
        if (rc == 0) sk_model_free(m);
        free(copy);
    }
    unlink(tmp);
    free(data);
}

/* Corrupt copies: every truncation of the header, and fields set to absurd values, each an
 * error naming the file (never a crash: this also runs under ASan/UBSan). */
static void check_corrupt(void) {
    char path[1024], tmp[] = "/tmp/sktune-gguf-XXXXXX";
    fixture(path, sizeof path, "qwen2-bias", ".gguf");
    char *data;
    size_t len;
    SkError err;
    REQUIRE(sk_read_file(path, &data, &len, &err) == 0, "%s", err.msg);
    unsigned char *b = (unsigned char *)data;
    int fd = mkstemp(tmp);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    SkGgufFile f;
    /* the header (metadata and tensor infos) ends before the first tensor: find it */
    REQUIRE(sk_gguf_open(&f, path, &err) == 0, "%s", err.msg);
    size_t header = (size_t)((const unsigned char *)f.tensors[0].data - (const unsigned char *)f.map);
    for (int64_t i = 1; i < f.n_tensors; i++) {
        size_t at = (size_t)((const unsigned char *)f.tensors[i].data - (const unsigned char *)f.map);
        if (at < header) header = at;
    }
    sk_gguf_close(&f);
    int refused = 0, tried = 0;
    for (size_t cut = 0; cut < len; cut += cut < header ? 1 : 997) {
        write_bytes(tmp, b, cut);
        tried++;
        if (sk_gguf_open(&f, tmp, &err) == 0) {
            sk_gguf_close(&f);
            continue;
        }
        refused++;
        CHECK(strstr(err.msg, tmp) != NULL, "truncated at %zu: message without the file: %s", cut, err.msg);
    }
    CHECK(refused == tried, "%d of %d truncated copies opened", tried - refused, tried);
    printf("truncations: %d of %d refused (header %zu bytes)\n", refused, tried, header);

    struct {
        size_t at;
        uint64_t v;
        int width;
        const char *expect;
    } cases[] = {
        {0, 0x46554748, 4, "not a GGUF file"},   /* magic */
        {4, 1, 4, "version 1"},
        {8, (uint64_t)1 << 60, 8, "tensor count"},
        {16, (uint64_t)1 << 60, 8, "metadata count"},
        {24, (uint64_t)1 << 62, 8, "claims"},    /* the first key's length */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        unsigned char *c = malloc(len);
        memcpy(c, b, len);
        if (cases[k].width == 8) put_u64(c + cases[k].at, cases[k].v);
        else for (int i = 0; i < 4; i++) c[cases[k].at + (size_t)i] = (unsigned char)(cases[k].v >> (8 * i));
        write_bytes(tmp, c, len);
        int rc = sk_gguf_open(&f, tmp, &err);
        CHECK(rc != 0 && strstr(err.msg, cases[k].expect), "case %zu: rc %d, %s", k, rc, err.msg);
        if (rc == 0) sk_gguf_close(&f);
        free(c);
    }
    /* random byte flips in the header: any outcome but a crash or a hang */
    uint64_t s = 12345;
    int opened = 0;
    for (int k = 0; k < 3000; k++) {
        unsigned char *c = malloc(len);
        memcpy(c, b, len);
        for (int j = 0; j < 1 + k % 4; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            c[(s >> 33) % header] = (unsigned char)(s >> 20);
        }
        write_bytes(tmp, c, len);
        if (sk_gguf_open(&f, tmp, &err) == 0) {
            opened++;
            for (int64_t i = 0; i < f.n_tensors; i++) /* what opened is in range */
                CHECK((const unsigned char *)f.tensors[i].data + f.tensors[i].nbytes <=
                          (const unsigned char *)f.map + f.size, "tensor %s out of range", f.tensors[i].name);
            sk_gguf_close(&f);
        }
        free(c);
    }
    printf("header flips: 3000 copies, %d opened, %d refused, none crashed\n", opened, 3000 - opened);
    /* a model whose tensor has another shape than its metadata says */
    unlink(tmp);
    free(data);
}

/* A metadata key given twice is refused (the check sorts the keys, so it must still find
 * two copies that are not next to each other in the file). */
static void check_duplicate_key(void) {
    unsigned char b[256];
    size_t n = 0;
    memcpy(b, "GGUF", 4), n = 4;
    uint32_t v3 = 3;
    memcpy(b + n, &v3, 4), n += 4;
    put_u64(b + n, 0), n += 8; /* tensors */
    put_u64(b + n, 3), n += 8; /* keys: a.b, c.d, a.b */
    const char *keys[3] = {"a.b", "c.d", "a.b"};
    for (int k = 0; k < 3; k++) {
        put_u64(b + n, 3), n += 8;
        memcpy(b + n, keys[k], 3), n += 3;
        uint32_t type = SK_GGUF_U32, val = (uint32_t)k;
        memcpy(b + n, &type, 4), n += 4;
        memcpy(b + n, &val, 4), n += 4;
    }
    char tmp[] = "/tmp/sktune-gguf-dup-XXXXXX";
    int fd = mkstemp(tmp);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    write_bytes(tmp, b, n);
    SkGgufFile f;
    SkError err;
    int rc = sk_gguf_open(&f, tmp, &err);
    CHECK(rc != 0 && strstr(err.msg, "metadata key a.b appears twice"), "duplicate key: rc %d, %s", rc, err.msg);
    if (rc == 0) sk_gguf_close(&f);
    unlink(tmp);
}

static void check_resolve(void) {
    char dir[1024], out[1024];
    snprintf(dir, sizeof dir, "%s/gguf", fixtures);
    SkError err;
    CHECK(sk_gguf_resolve(dir, out, sizeof out, &err) == -1 && strstr(err.msg, "GGUF files"),
          "a folder of several GGUF files: %s", err.msg);
    SkModel *m;
    CHECK(sk_model_load(dir, &m, &err) != 0 && strstr(err.msg, "name one of them"), "loading it: %s", err.msg);
    char one[] = "/tmp/sktune-gguf-dir-XXXXXX", link_path[1200], target[1024];
    REQUIRE(mkdtemp(one), "mkdtemp");
    fixture(target, sizeof target, "qwen2-bias", ".gguf");
    char abs_target[4096];
    REQUIRE(realpath(target, abs_target), "realpath");
    snprintf(link_path, sizeof link_path, "%s/model.gguf", one);
    REQUIRE(symlink(abs_target, link_path) == 0, "symlink");
    CHECK(sk_gguf_resolve(one, out, sizeof out, &err) == 1 && !strcmp(out, link_path), "a folder holding one: %s", out);
    CHECK(sk_model_load(one, &m, &err) == 0, "a folder holding one GGUF loads: %s", err.msg);
    if (!tu_failures) sk_model_free(m);
    unlink(link_path);
    rmdir(one);
    snprintf(dir, sizeof dir, "%s/models/qwen2-tiny", fixtures);
    CHECK(sk_gguf_resolve(dir, out, sizeof out, &err) == 0, "a Hugging Face folder is not GGUF");
    snprintf(dir, sizeof dir, "%s/models/qwen2-tiny/config.json", fixtures);
    CHECK(sk_gguf_resolve(dir, out, sizeof out, &err) == 0 && !sk_gguf_is_gguf(dir), "a JSON file is not GGUF");
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    check_metadata();
    check_model("llama-legacy", "Q8_0+Q4_0+Q5_1+Q4_1+Q5_0+F16+BF16");
    check_model("llama-kquant", "Q8_0+Q4_K+Q5_K+Q6_K+Q3_K+Q2_K");
    check_model("qwen2-bias", "Q8_0");
    check_model("gpt2-mixed", "Q8_0+Q4_1+F16+Q5_0");
    check_gpt2_config();
    check_resolve();
    check_duplicate_key();
    check_corrupt();
    return tu_finish("test_gguf");
}
