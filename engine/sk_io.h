/* sk_io.h - files the engine reads and writes: safetensors (validated, mmapped),
 * sharded Hugging Face checkpoints, NumPy .npy. */
#ifndef SK_IO_H
#define SK_IO_H

#include <cJSON.h>

#include "sk_core.h"

typedef enum {
    SK_DT_F64, SK_DT_F32, SK_DT_F16, SK_DT_BF16, SK_DT_I64, SK_DT_I32, SK_DT_I16, SK_DT_I8,
    SK_DT_U64, SK_DT_U32, SK_DT_U16, SK_DT_U8, SK_DT_BOOL, SK_DT_F8_E4M3, SK_DT_F8_E5M2,
    SK_DT_COUNT
} SkDtype;

const char *sk_dtype_name(SkDtype d);
size_t sk_dtype_size(SkDtype d);

#define SK_ST_MAX_DIMS 8
typedef struct SkStTensor {
    char *name;
    SkDtype dtype;
    int ndim;
    int64_t shape[SK_ST_MAX_DIMS];
    size_t numel;
    size_t nbytes;
    const void *data; /* points into the mapping */
} SkStTensor;

typedef struct SkStFile {
    char *path;
    void *map;
    size_t size;
    int n;
    SkStTensor *tensors;
    cJSON *metadata; /* the "__metadata__" object (string -> string), or NULL */
} SkStFile;

/* Maps and validates everything: header length against the file size, JSON,
 * dtypes, shapes against byte counts, offsets in range, no gaps and no overlaps. */
int sk_st_open(SkStFile *f, const char *path, SkError *err);
void sk_st_close(SkStFile *f);
const SkStTensor *sk_st_find(const SkStFile *f, const char *name);
/* Converts F32/F16/BF16 (and F64) data to float32. Other dtypes are an error. */
int sk_st_read_f32(const SkStFile *f, const SkStTensor *t, float *out, SkError *err);

typedef struct SkStWriteTensor {
    const char *name;
    SkDtype dtype; /* F32, F16 or BF16 (converted from the float32 data) */
    int ndim;
    int64_t shape[SK_ST_MAX_DIMS];
    const float *data;
} SkStWriteTensor;
/* Writes atomically. metadata: an object of string values, or NULL. */
int sk_st_write(const char *path, const SkStWriteTensor *t, int n, const cJSON *metadata,
                SkError *err);

float sk_f16_to_f32(uint16_t h);
uint16_t sk_f32_to_f16(float f);
float sk_bf16_to_f32(uint16_t h);
uint16_t sk_f32_to_bf16(float f); /* round to nearest even, as torch does */

/* ---- a model checkpoint: one file or shards listed in model.safetensors.index.json */
typedef struct SkCheckpoint {
    char dir[1024];
    int n_files;
    SkStFile *files;
} SkCheckpoint;

int sk_ckpt_open(SkCheckpoint *c, const char *dir, SkError *err);
void sk_ckpt_close(SkCheckpoint *c);
/* Finds a tensor in any shard; sets *file to the shard holding it. */
const SkStTensor *sk_ckpt_find(const SkCheckpoint *c, const char *name, const SkStFile **file);


/* ---- GGUF (llama.cpp's format, versions 2 and 3), mmapped and fully validated ----------
 * Header: magic "GGUF", version, tensor count, metadata count; then metadata key/value
 * pairs (typed; arrays of any type, nested arrays included), tensor infos (name, dims with
 * the fastest-varying first as ggml counts them, type, offset), padding to
 * general.alignment (default 32), and the tensor data. Every count, length, offset and
 * dimension is checked against the file before it is used. */
typedef enum {
    SK_GGUF_U8 = 0, SK_GGUF_I8 = 1, SK_GGUF_U16 = 2, SK_GGUF_I16 = 3, SK_GGUF_U32 = 4,
    SK_GGUF_I32 = 5, SK_GGUF_F32 = 6, SK_GGUF_BOOL = 7, SK_GGUF_STRING = 8, SK_GGUF_ARRAY = 9,
    SK_GGUF_U64 = 10, SK_GGUF_I64 = 11, SK_GGUF_F64 = 12, SK_GGUF_TYPE_COUNT
} SkGgufType;

typedef struct SkGgufStr {
    const char *s; /* points into the mapping: NOT NUL-terminated */
    size_t len;
} SkGgufStr;

typedef struct SkGgufValue {
    SkGgufType type;
    union {
        uint64_t u;  /* unsigned integer types and bool */
        int64_t i;   /* signed integer types */
        double f;    /* F32, F64 */
        SkGgufStr str;
        struct {
            SkGgufType type; /* element type */
            uint64_t n;
            const unsigned char *data; /* the raw elements in the mapping (strings: length-prefixed) */
            struct SkGgufValue *items; /* nested arrays: n decoded items; else NULL */
        } arr;
    };
} SkGgufValue;

typedef struct SkGgufKv {
    SkGgufStr key;
    SkGgufValue value;
} SkGgufKv;

typedef struct SkGgufTensor {
    char *name;         /* NUL-terminated copy */
    int ndim;
    int64_t ne[4];      /* ggml order: ne[0] is the row length (fastest varying) */
    uint32_t type;      /* SkGgmlType */
    uint64_t offset;    /* from the start of the data section */
    size_t nbytes;
    const void *data;   /* points into the mapping */
} SkGgufTensor;

typedef struct SkGgufFile {
    char *path;
    void *map;
    size_t size;
    uint32_t version;
    size_t alignment;
    int64_t n_kv;
    SkGgufKv *kv;
    int64_t n_tensors;
    SkGgufTensor *tensors;
} SkGgufFile;

/* Whether a file starts with the GGUF magic (cheap; no validation). */
bool sk_gguf_is_gguf(const char *path);
/* Where a model path points: 1 when it is a GGUF file, or a folder without config.json that
 * holds exactly one .gguf file (its path written to out); 0 when it is something else (a
 * Hugging Face folder); -1 when it cannot be used (a folder with several .gguf files and no
 * config.json: err names them). */
int sk_gguf_resolve(const char *path, char *out, size_t cap, SkError *err);
int sk_gguf_open(SkGgufFile *f, const char *path, SkError *err);
void sk_gguf_close(SkGgufFile *f);
const SkGgufKv *sk_gguf_find_kv(const SkGgufFile *f, const char *key);
/* Whether a GGUF string is c; a NUL-terminated copy for messages (at most cap - 1 bytes,
 * control bytes as '?'), returned in buf. */
bool sk_gguf_str_eq(SkGgufStr s, const char *c);
const char *sk_gguf_str_show(SkGgufStr s, char *buf, size_t cap);
const SkGgufTensor *sk_gguf_find_tensor(const SkGgufFile *f, const char *name);
/* Typed look-ups: 1 when found and converted, 0 when absent, -1 (err filled, naming the
 * file and key) when present with a type that does not convert (integers of any width
 * convert to each other when the value fits; F32/F64 to double). */
int sk_gguf_get_int(const SkGgufFile *f, const char *key, int64_t *out, SkError *err);
int sk_gguf_get_float(const SkGgufFile *f, const char *key, double *out, SkError *err);
int sk_gguf_get_bool(const SkGgufFile *f, const char *key, bool *out, SkError *err);
int sk_gguf_get_str(const SkGgufFile *f, const char *key, SkGgufStr *out, SkError *err);
/* An array of elem_type (strings: SK_GGUF_STRING) and its length. */
int sk_gguf_get_array(const SkGgufFile *f, const char *key, SkGgufType elem_type, const SkGgufValue **out,
                      SkError *err);
/* Element i of a validated array: strings walk the length prefixes once per call of
 * sk_gguf_array_strings (which fills n SkGgufStr, caller-allocated). */
int sk_gguf_array_strings(const SkGgufValue *arr, SkGgufStr *out);
int64_t sk_gguf_array_int(const SkGgufValue *arr, uint64_t i);   /* integer element types */
double sk_gguf_array_float(const SkGgufValue *arr, uint64_t i);  /* F32/F64 element types */

/* ---- NumPy .npy (float32 C order on write; f4/f8/i4/i8/u1 read as float32) -------- */
int sk_npy_save(const char *path, const float *data, int ndim, const int64_t *shape, SkError *err);
int sk_npy_load(const char *path, SkTensor *out, SkError *err);

/* ---- JSON helpers ---------------------------------------------------------------- */
int sk_json_load(const char *path, cJSON **out, SkError *err);

#endif
