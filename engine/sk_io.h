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

/* ---- NumPy .npy (float32 C order on write; f4/f8/i4/i8/u1 read as float32) -------- */
int sk_npy_save(const char *path, const float *data, int ndim, const int64_t *shape, SkError *err);
int sk_npy_load(const char *path, SkTensor *out, SkError *err);

/* ---- JSON helpers ---------------------------------------------------------------- */
int sk_json_load(const char *path, cJSON **out, SkError *err);

#endif
