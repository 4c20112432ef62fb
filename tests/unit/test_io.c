/* test_io.c - safetensors (writer round trip, every validation), half-precision
 * conversions, .npy, and model directories that are wrong in every way we know of:
 * each must fail with a message naming the file and the problem, never crash. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sk_io.h"
#include "sk_model.h"
#include "testutil.h"

static const char *fixtures;
static char tmp[64];

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    REQUIRE(f, "cannot write %s", path);
    fwrite(data, 1, n, f);
    fclose(f);
}

/* A safetensors file from a header string and a data size (data bytes are zero). */
static void write_st(const char *path, const char *header, size_t data_len) {
    size_t hl = strlen(header);
    unsigned char *buf = calloc(1, 8 + hl + data_len);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    write_bytes(path, buf, 8 + hl + data_len);
    free(buf);
}

static void expect_st_error(const char *label, const char *header, size_t data_len, const char *needle) {
    char path[128];
    snprintf(path, sizeof path, "%s/bad.safetensors", tmp);
    write_st(path, header, data_len);
    SkStFile f;
    SkError err;
    int rc = sk_st_open(&f, path, &err);
    CHECK(rc != 0, "%s: accepted", label);
    if (rc == 0) sk_st_close(&f);
    else {
        CHECK(strstr(err.msg, needle) && strstr(err.msg, "bad.safetensors"),
              "%s: message \"%s\" lacks \"%s\" or the file name", label, err.msg, needle);
        printf("  %-28s -> %s\n", label, strstr(err.msg, "bad.safetensors: ") ? strstr(err.msg, ": ") + 2 : err.msg);
    }
}

static void test_halfs(void) {
    CHECK(sk_f32_to_f16(1.0f) == 0x3c00 && sk_f16_to_f32(0x3c00) == 1.0f, "f16 1.0");
    CHECK(sk_f32_to_f16(65504.0f) == 0x7bff, "f16 max");
    CHECK(sk_f32_to_f16(-2.0f) == 0xc000, "f16 -2");
    CHECK(sk_f16_to_f32(0x0001) == 5.9604644775390625e-08f, "f16 smallest subnormal");
    CHECK(sk_f32_to_f16(1e6f) == 0x7c00, "f16 overflow to inf");
    CHECK(sk_f32_to_bf16(1.0f) == 0x3f80 && sk_bf16_to_f32(0x3f80) == 1.0f, "bf16 1.0");
    CHECK(sk_f32_to_bf16(1.00390625f) == 0x3f80, "bf16 rounds half to even");
    CHECK(sk_f32_to_bf16(1.01171875f) == 0x3f82, "bf16 rounds half to even (odd)");
    /* every f16 value survives f16 -> f32 -> f16 */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaNs */
        if (sk_f32_to_f16(sk_f16_to_f32((uint16_t)h)) != h) bad++;
    }
    CHECK(bad == 0, "%d f16 values do not round-trip", bad);
}

static void test_roundtrip(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/rt.safetensors", tmp);
    float a[6] = {1, -2, 3.5f, 0, 1e-3f, 7}, b[3] = {0.5f, -0.25f, 1024}, c[4] = {1, 2, 3, 4};
    SkStWriteTensor ts[3] = {
        {.name = "a", .dtype = SK_DT_F32, .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "b.half", .dtype = SK_DT_F16, .ndim = 1, .shape = {3}, .data = b},
        {.name = "c", .dtype = SK_DT_BF16, .ndim = 3, .shape = {1, 2, 2}, .data = c},
    };
    cJSON *meta = cJSON_CreateObject();
    cJSON_AddStringToObject(meta, "method", "sk_prefix");
    SkError err;
    REQUIRE(sk_st_write(path, ts, 3, meta, &err) == 0, "%s", err.msg);
    cJSON_Delete(meta);
    SkStFile f;
    REQUIRE(sk_st_open(&f, path, &err) == 0, "%s", err.msg);
    CHECK(f.n == 3, "3 tensors");
    const SkStTensor *t = sk_st_find(&f, "b.half");
    CHECK(t && t->dtype == SK_DT_F16 && t->ndim == 1 && t->shape[0] == 3, "b.half header");
    float out[6];
    REQUIRE(sk_st_read_f32(&f, t, out, &err) == 0, "%s", err.msg);
    CHECK(out[0] == 0.5f && out[1] == -0.25f && out[2] == 1024.0f, "f16 values");
    t = sk_st_find(&f, "a");
    sk_st_read_f32(&f, t, out, &err);
    CHECK(!memcmp(out, a, sizeof a), "f32 values");
    t = sk_st_find(&f, "c");
    sk_st_read_f32(&f, t, out, &err);
    CHECK(out[3] == 4.0f && t->ndim == 3, "bf16 values");
    const cJSON *m = cJSON_GetObjectItem(f.metadata, "method");
    CHECK(cJSON_IsString(m) && !strcmp(m->valuestring, "sk_prefix"), "metadata");
    /* the header is padded so data starts 8-byte aligned */
    CHECK(((const char *)sk_st_find(&f, "a")->data - (const char *)f.map) % 8 == 0, "aligned data");
    sk_st_close(&f);
    unlink(path);
}

static void test_bad_safetensors(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/bad.safetensors", tmp);
    SkStFile f;
    SkError err;
    write_bytes(path, "abc", 3);
    CHECK(sk_st_open(&f, path, &err) != 0 && strstr(err.msg, "truncated"), "3-byte file: %s", err.msg);
    unsigned char big[16] = {0x40, 0x42, 0x0f, 0, 0, 0, 0, 0, '{', '}'};
    write_bytes(path, big, sizeof big);
    CHECK(sk_st_open(&f, path, &err) != 0 && strstr(err.msg, "runs past the end"),
          "header length beyond file: %s", err.msg);
    expect_st_error("not JSON", "{\"a\": [", 0, "not valid JSON");
    expect_st_error("not an object", "[1, 2]", 0, "not a JSON object");
    expect_st_error("unknown dtype",
                    "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype");
    expect_st_error("missing dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype missing");
    expect_st_error("shape vs bytes",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12");
    expect_st_error("offsets out of range",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "beyond the data");
    expect_st_error("end before begin",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8, "before begin");
    expect_st_error("overlap",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps");
    expect_st_error("gap",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "gap");
    expect_st_error("trailing data",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, "after the last");
    expect_st_error("negative dim",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative");
    expect_st_error("fractional dim",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "non-negative");
    expect_st_error("bad offsets",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "data_offsets");
    expect_st_error("metadata not string",
                    "{\"__metadata__\":{\"x\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                    4, "not a string");
    expect_st_error("huge shape",
                    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
                    "overflows");
    expect_st_error("numel x size overflow",
                    "{\"a\":{\"dtype\":\"F64\",\"shape\":[1125899906842624,8192],\"data_offsets\":[0,4]}}",
                    4, "overflows");
    /* a real checkpoint cut short */
    char src[1024];
    snprintf(src, sizeof src, "%s/models/gpt2-tiny-f32/model.safetensors", fixtures);
    char *data;
    size_t len;
    REQUIRE(sk_read_file(src, &data, &len, &err) == 0, "%s", err.msg);
    write_bytes(path, data, len - 100);
    CHECK(sk_st_open(&f, path, &err) != 0 && strstr(err.msg, "truncated"), "truncated checkpoint: %s", err.msg);
    printf("  %-28s -> %s\n", "truncated checkpoint", err.msg);
    free(data);
    unlink(path);
}

static void test_npy(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/t.npy", tmp);
    float x[6] = {1, 2, 3, 4, 5, 6.5f};
    int64_t shape[2] = {2, 3};
    SkError err;
    REQUIRE(sk_npy_save(path, x, 2, shape, &err) == 0, "%s", err.msg);
    SkTensor t;
    REQUIRE(sk_npy_load(path, &t, &err) == 0, "%s", err.msg);
    CHECK(t.ndim == 2 && t.shape[0] == 2 && t.shape[1] == 3 && t.data[5] == 6.5f, "npy round trip");
    sk_tensor_free(&t);
    int64_t one[1] = {6};
    REQUIRE(sk_npy_save(path, x, 1, one, &err) == 0, "%s", err.msg);
    REQUIRE(sk_npy_load(path, &t, &err) == 0, "%s", err.msg);
    CHECK(t.ndim == 1 && t.shape[0] == 6, "1-d npy");
    sk_tensor_free(&t);
    write_bytes(path, "\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'", 26);
    CHECK(sk_npy_load(path, &t, &err) != 0, "truncated npy accepted");
    write_bytes(path, "not numpy at all", 16);
    CHECK(sk_npy_load(path, &t, &err) != 0 && strstr(err.msg, "bad magic"), "bad magic: %s", err.msg);
    unlink(path);
}

/* ---- model directories -------------------------------------------------------------- */

static char mdir[128];

static void copy_file(const char *from, const char *to) {
    char *data;
    size_t len;
    SkError err;
    REQUIRE(sk_read_file(from, &data, &len, &err) == 0, "%s", err.msg);
    write_bytes(to, data, len);
    free(data);
}

static void fresh_model_dir(void) {
    char from[1024], to[1024];
    const char *files[] = {"config.json", "model.safetensors", "tokenizer.json"};
    mkdir(mdir, 0755);
    for (int i = 0; i < 3; i++) {
        snprintf(from, sizeof from, "%s/models/gpt2-tiny-f32/%s", fixtures, files[i]);
        snprintf(to, sizeof to, "%s/%s", mdir, files[i]);
        copy_file(from, to);
    }
}

static void expect_model_error(const char *label, const char *needle) {
    SkModel *m;
    SkError err;
    int rc = sk_model_load(mdir, &m, &err);
    CHECK(rc != 0, "%s: accepted", label);
    if (rc == 0) sk_model_free(m);
    else {
        CHECK(strstr(err.msg, needle) != NULL, "%s: message \"%s\" lacks \"%s\"", label, err.msg, needle);
        printf("  %-28s -> %s\n", label, err.msg + (strncmp(err.msg, tmp, strlen(tmp)) ? 0 : strlen(tmp) + 1));
    }
}

static void set_config(const char *json) {
    char path[256];
    snprintf(path, sizeof path, "%s/config.json", mdir);
    write_bytes(path, json, strlen(json));
}

/* Rewrites model.safetensors with one tensor dropped, reshaped or retyped. */
static void rewrite_weights(const char *target, int mode) {
    char path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", mdir);
    char src[1024];
    snprintf(src, sizeof src, "%s/models/gpt2-tiny-f32/model.safetensors", fixtures);
    SkStFile f;
    SkError err;
    REQUIRE(sk_st_open(&f, src, &err) == 0, "%s", err.msg);
    SkStWriteTensor *ts = calloc((size_t)f.n, sizeof *ts);
    float **bufs = calloc((size_t)f.n, sizeof *bufs);
    int n = 0;
    for (int i = 0; i < f.n; i++) {
        const SkStTensor *t = &f.tensors[i];
        bool hit = !strcmp(t->name, target);
        if (hit && mode == 0) continue; /* drop */
        bufs[n] = malloc(t->numel * sizeof(float) + 4);
        sk_st_read_f32(&f, t, bufs[n], &err);
        ts[n] = (SkStWriteTensor){.name = t->name, .dtype = SK_DT_F32, .ndim = t->ndim, .data = bufs[n]};
        memcpy(ts[n].shape, t->shape, sizeof t->shape);
        if (hit && mode == 1) ts[n].shape[0] -= 1; /* wrong shape */
        n++;
    }
    REQUIRE(sk_st_write(path, ts, n, NULL, &err) == 0, "%s", err.msg);
    if (mode == 2) { /* retype: patch "F32" of the target into "I32" in the header */
        char *data;
        size_t len;
        sk_read_file(path, &data, &len, &err);
        char *p = strstr(data + 8, target);
        char *q = p ? strstr(p, "\"F32\"") : NULL;
        if (q) q[1] = 'I';
        write_bytes(path, data, len);
        free(data);
    }
    for (int i = 0; i < n; i++) free(bufs[i]);
    free(bufs), free(ts);
    sk_st_close(&f);
}

static void test_model_dirs(void) {
    snprintf(mdir, sizeof mdir, "%s/model", tmp);
    fresh_model_dir();
    SkModel *m;
    SkError err;
    REQUIRE(sk_model_load(mdir, &m, &err) == 0, "copied fixture does not load: %s", err.msg);
    CHECK(sk_model_config(m)->n_params == 43904, "n_params %lld", (long long)sk_model_config(m)->n_params);
    sk_model_free(m);

    set_config("{\"model_type\": \"gpt2\", \"n_embd\": 32,");
    expect_model_error("malformed config.json", "config.json: malformed JSON");
    set_config("{\"model_type\": \"gpt2\", \"n_embd\": 32, \"n_layer\": 2, \"vocab_size\": 512, \"n_positions\": 64}");
    expect_model_error("config without n_head", "config.json: field n_head missing");
    set_config("{\"model_type\": \"gpt2\", \"n_embd\": 32, \"n_layer\": 2, \"n_head\": 5, \"vocab_size\": 512, \"n_positions\": 64}");
    expect_model_error("heads do not divide", "not divisible");
    set_config("{\"model_type\": \"gpt2\", \"n_embd\": \"32\", \"n_layer\": 2, \"n_head\": 4, \"vocab_size\": 512, \"n_positions\": 64}");
    expect_model_error("n_embd is a string", "field n_embd must be an integer");
    set_config("{\"model_type\": \"mamba\"}");
    expect_model_error("unknown model_type", "model_type \"mamba\" is not supported");
    set_config("{\"model_type\": \"gpt2\", \"n_embd\": 32, \"n_layer\": 2, \"n_head\": 4, \"vocab_size\": 512, \"n_positions\": 64, \"activation_function\": \"swish\"}");
    expect_model_error("unsupported activation", "activation_function");
    set_config("{\"model_type\": \"gpt2\", \"n_embd\": 32, \"n_layer\": 3, \"n_head\": 4, \"vocab_size\": 512, \"n_positions\": 64}");
    expect_model_error("more layers than stored", "h.2.ln_1.weight missing");
    set_config("{\"model_type\": \"gpt2\", \"n_embd\": 32, \"n_layer\": 2, \"n_head\": 4, \"vocab_size\": 600, \"n_positions\": 64}");
    expect_model_error("vocab_size disagrees", "expected [600, 32]");
    set_config("{\"model_type\": \"qwen2\", \"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
               "\"intermediate_size\": 64, \"vocab_size\": 512, \"use_sliding_window\": true, \"sliding_window\": 8, "
               "\"max_window_layers\": 1, \"layer_types\": [\"sliding_attention\", \"full_attention\"]}");
    expect_model_error("sliding window on other layers", "layer_types puts sliding attention on layers other than 1");

    fresh_model_dir();
    rewrite_weights("transformer.h.1.mlp.c_fc.weight", 0);
    expect_model_error("missing tensor", "h.1.mlp.c_fc.weight missing");
    fresh_model_dir();
    rewrite_weights("transformer.h.0.attn.c_attn.weight", 1);
    expect_model_error("wrong shape", "has shape [31, 96], expected [32, 96]");
    fresh_model_dir();
    rewrite_weights("transformer.ln_f.weight", 2);
    expect_model_error("integer weights", "dtype I32");

    char path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", mdir);
    unlink(path);
    expect_model_error("no weights", "no model.safetensors");
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", mdir);
    const char *idx = "{\"weight_map\": {\"wte.weight\": \"model-00001-of-00002.safetensors\"}}";
    write_bytes(path, idx, strlen(idx));
    expect_model_error("missing shard", "model-00001-of-00002.safetensors");
    const char *evil = "{\"weight_map\": {\"wte.weight\": \"../../etc/passwd\"}}";
    write_bytes(path, evil, strlen(evil));
    expect_model_error("shard outside the folder", "plain file name");
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", mdir);
    unlink(path);
    expect_model_error("no config.json", "config.json");
    snprintf(path, sizeof path, "%s/tokenizer.json", mdir);
    unlink(path);
    rmdir(mdir);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    snprintf(tmp, sizeof tmp, "/tmp/sktune-io-XXXXXX");
    REQUIRE(mkdtemp(tmp), "mkdtemp");
    test_halfs();
    test_roundtrip();
    printf("safetensors validation:\n");
    test_bad_safetensors();
    test_npy();
    printf("model directories:\n");
    test_model_dirs();
    rmdir(tmp);
    return tu_finish("test_io");
}
