/* safetensors.c - reading (mmap, fully validated) and writing (atomic) safetensors.
 *
 * Format: u64 little-endian header length N, N bytes of JSON, then the byte buffer.
 * The JSON maps tensor names to {dtype, shape, data_offsets: [begin, end]} relative to
 * the buffer, plus an optional "__metadata__" object of strings. As the reference
 * implementation demands, the buffer must be covered exactly: no gaps, no overlaps. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sk_io.h"

#define MAX_HEADER (100u << 20) /* the reference implementation's limit */

static const struct {
    const char *name;
    size_t size;
} DTYPES[SK_DT_COUNT] = {
    [SK_DT_F64] = {"F64", 8},   [SK_DT_F32] = {"F32", 4},   [SK_DT_F16] = {"F16", 2},
    [SK_DT_BF16] = {"BF16", 2}, [SK_DT_I64] = {"I64", 8},   [SK_DT_I32] = {"I32", 4},
    [SK_DT_I16] = {"I16", 2},   [SK_DT_I8] = {"I8", 1},     [SK_DT_U64] = {"U64", 8},
    [SK_DT_U32] = {"U32", 4},   [SK_DT_U16] = {"U16", 2},   [SK_DT_U8] = {"U8", 1},
    [SK_DT_BOOL] = {"BOOL", 1}, [SK_DT_F8_E4M3] = {"F8_E4M3", 1}, [SK_DT_F8_E5M2] = {"F8_E5M2", 1},
};

const char *sk_dtype_name(SkDtype d) { return d < SK_DT_COUNT ? DTYPES[d].name : "?"; }
size_t sk_dtype_size(SkDtype d) { return d < SK_DT_COUNT ? DTYPES[d].size : 0; }

float sk_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) {
                man <<= 1;
                exp--;
            }
            man &= 0x3ff;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t sk_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t man = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    if (exp >= 0x1f) return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = sign | ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)h;
}

float sk_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t sk_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

static int parse_dtype(const char *s, SkDtype *out) {
    for (int i = 0; i < SK_DT_COUNT; i++)
        if (strcmp(s, DTYPES[i].name) == 0) {
            *out = (SkDtype)i;
            return 0;
        }
    return -1;
}

static int cmp_by_offset(const void *a, const void *b) {
    const SkStTensor *x = *(const SkStTensor *const *)a, *y = *(const SkStTensor *const *)b;
    const char *px = x->data, *py = y->data;
    return px < py ? -1 : px > py;
}

/* Reads a JSON number that must be a non-negative integer below 2^53. */
static int json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (d < 0 || d > 9007199254740992.0 || d != (double)(uint64_t)d) return -1;
    *out = (uint64_t)d;
    return 0;
}

static int parse_header(SkStFile *f, const char *json, size_t json_len, const char *buf,
                        size_t buf_len, SkError *err) {
    const char *path = f->path;
    cJSON *root = cJSON_ParseWithLength(json, json_len);
    if (!root) return sk_err(err, "%s: header is not valid JSON", path);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sk_err(err, "%s: header is not a JSON object", path);
    }
    int count = 0;
    for (cJSON *e = root->child; e; e = e->next)
        if (strcmp(e->string, "__metadata__") != 0) count++;
    f->tensors = calloc(count ? (size_t)count : 1, sizeof(SkStTensor));
    if (!f->tensors) {
        cJSON_Delete(root);
        return sk_err(err, "%s: out of memory", path);
    }
    int rc = -1;
    for (cJSON *e = root->child; e; e = e->next) {
        const char *name = e->string;
        if (strcmp(name, "__metadata__") == 0) {
            if (!cJSON_IsObject(e)) {
                sk_err(err, "%s: __metadata__ is not an object", path);
                goto done;
            }
            for (cJSON *m = e->child; m; m = m->next)
                if (!cJSON_IsString(m)) {
                    sk_err(err, "%s: __metadata__ field %s is not a string", path, m->string);
                    goto done;
                }
            f->metadata = cJSON_Duplicate(e, 1);
            continue;
        }
        SkStTensor *t = &f->tensors[f->n];
        t->name = strdup(name);
        f->n++;
        if (!t->name) {
            sk_err(err, "%s: out of memory", path);
            goto done;
        }
        if (!cJSON_IsObject(e)) {
            sk_err(err, "%s: tensor %s: entry is not an object", path, name);
            goto done;
        }
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsString(dt)) {
            sk_err(err, "%s: tensor %s: field dtype missing or not a string", path, name);
            goto done;
        }
        if (parse_dtype(dt->valuestring, &t->dtype) != 0) {
            sk_err(err, "%s: tensor %s: unknown dtype \"%s\"", path, name, dt->valuestring);
            goto done;
        }
        if (!cJSON_IsArray(shape)) {
            sk_err(err, "%s: tensor %s: field shape missing or not an array", path, name);
            goto done;
        }
        int nd = cJSON_GetArraySize(shape);
        if (nd > SK_ST_MAX_DIMS) {
            sk_err(err, "%s: tensor %s: %d dimensions (at most %d supported)", path, name, nd,
                   SK_ST_MAX_DIMS);
            goto done;
        }
        t->ndim = nd;
        uint64_t numel = 1;
        int i = 0;
        for (const cJSON *d = shape->child; d; d = d->next, i++) {
            uint64_t v;
            if (json_uint(d, &v) != 0) {
                sk_err(err, "%s: tensor %s: shape[%d] is not a non-negative integer", path, name, i);
                goto done;
            }
            t->shape[i] = (int64_t)v;
            if (v && numel > UINT64_MAX / v) {
                sk_err(err, "%s: tensor %s: shape overflows", path, name);
                goto done;
            }
            numel *= v;
        }
        t->numel = (size_t)numel;
        uint64_t b0, b1;
        if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
            json_uint(cJSON_GetArrayItem(offs, 0), &b0) != 0 ||
            json_uint(cJSON_GetArrayItem(offs, 1), &b1) != 0) {
            sk_err(err, "%s: tensor %s: data_offsets must be [begin, end] integers", path, name);
            goto done;
        }
        if (b1 < b0) {
            sk_err(err, "%s: tensor %s: data_offsets end %llu before begin %llu", path, name,
                   (unsigned long long)b1, (unsigned long long)b0);
            goto done;
        }
        if (b1 > buf_len) {
            sk_err(err,
                   "%s: tensor %s: data_offsets [%llu, %llu] beyond the data (%zu bytes; file "
                   "truncated?)",
                   path, name, (unsigned long long)b0, (unsigned long long)b1, buf_len);
            goto done;
        }
        if (numel > UINT64_MAX / sk_dtype_size(t->dtype)) {
            sk_err(err, "%s: tensor %s: shape overflows", path, name);
            goto done;
        }
        uint64_t want = numel * sk_dtype_size(t->dtype);
        if (b1 - b0 != want) {
            sk_err(err, "%s: tensor %s: %llu bytes for shape of %llu %s values (needs %llu)", path,
                   name, (unsigned long long)(b1 - b0), (unsigned long long)numel,
                   sk_dtype_name(t->dtype), (unsigned long long)want);
            goto done;
        }
        t->nbytes = (size_t)want;
        t->data = buf + b0;
    }
    /* coverage: sorted by offset, each tensor starts where the previous ended */
    if (f->n > 0) {
        SkStTensor **order = malloc((size_t)f->n * sizeof *order);
        if (!order) {
            sk_err(err, "%s: out of memory", path);
            goto done;
        }
        for (int i = 0; i < f->n; i++) order[i] = &f->tensors[i];
        qsort(order, (size_t)f->n, sizeof *order, cmp_by_offset);
        size_t expect = 0;
        for (int i = 0; i < f->n; i++) {
            size_t begin = (size_t)((const char *)order[i]->data - buf);
            if (begin != expect) {
                sk_err(err, "%s: tensor %s: data starts at byte %zu, expected %zu (%s)", path,
                       order[i]->name, begin, expect,
                       begin < expect ? "overlaps the previous tensor" : "gap in the data");
                free(order);
                goto done;
            }
            expect = begin + order[i]->nbytes;
        }
        free(order);
        if (expect != buf_len) {
            sk_err(err, "%s: %zu bytes of data after the last tensor", path, buf_len - expect);
            goto done;
        }
    } else if (buf_len != 0) {
        sk_err(err, "%s: %zu bytes of data but no tensors", path, buf_len);
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

int sk_st_open(SkStFile *f, const char *path, SkError *err) {
    memset(f, 0, sizeof *f);
    f->path = strdup(path);
    if (!f->path) return sk_err(err, "%s: out of memory", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        sk_err(err, "%s: %s", path, strerror(errno));
        sk_st_close(f);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        sk_err(err, "%s: not a regular file", path);
        sk_st_close(f);
        return -1;
    }
    f->size = (size_t)st.st_size;
    if (f->size < 8) {
        close(fd);
        sk_err(err, "%s: truncated (%zu bytes; a safetensors file starts with an 8-byte header "
                    "length)", path, f->size);
        sk_st_close(f);
        return -1;
    }
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        sk_err(err, "%s: cannot map: %s", path, strerror(errno));
        sk_st_close(f);
        return -1;
    }
    const unsigned char *p = f->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen > f->size - 8) {
        sk_err(err, "%s: header length %llu runs past the end of the file (%zu bytes; truncated "
                    "or not a safetensors file)", path, (unsigned long long)hlen, f->size);
        sk_st_close(f);
        return -1;
    }
    if (hlen > MAX_HEADER) {
        sk_err(err, "%s: header length %llu is larger than 100 MB", path, (unsigned long long)hlen);
        sk_st_close(f);
        return -1;
    }
    const char *json = (const char *)p + 8;
    if (parse_header(f, json, (size_t)hlen, json + hlen, f->size - 8 - (size_t)hlen, err) != 0) {
        sk_st_close(f);
        return -1;
    }
    return 0;
}

void sk_st_close(SkStFile *f) {
    if (f->map) munmap(f->map, f->size);
    for (int i = 0; i < f->n; i++) free(f->tensors[i].name);
    free(f->tensors);
    free(f->path);
    cJSON_Delete(f->metadata);
    memset(f, 0, sizeof *f);
}

const SkStTensor *sk_st_find(const SkStFile *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

int sk_st_read_f32(const SkStFile *f, const SkStTensor *t, float *out, SkError *err) {
    const unsigned char *src = t->data;
    switch (t->dtype) {
    case SK_DT_F32:
        memcpy(out, src, t->nbytes);
        return 0;
    case SK_DT_F64:
        for (size_t i = 0; i < t->numel; i++) {
            double d;
            memcpy(&d, src + 8 * i, 8);
            out[i] = (float)d;
        }
        return 0;
    case SK_DT_F16:
        for (size_t i = 0; i < t->numel; i++)
            out[i] = sk_f16_to_f32((uint16_t)(src[2 * i] | (src[2 * i + 1] << 8)));
        return 0;
    case SK_DT_BF16:
        for (size_t i = 0; i < t->numel; i++)
            out[i] = sk_bf16_to_f32((uint16_t)(src[2 * i] | (src[2 * i + 1] << 8)));
        return 0;
    default:
        return sk_err(err, "%s: tensor %s has dtype %s; weights must be F32, F16 or BF16",
                      f ? f->path : "?", t->name, sk_dtype_name(t->dtype));
    }
}

int sk_st_write(const char *path, const SkStWriteTensor *t, int n, const cJSON *metadata,
                SkError *err) {
    cJSON *hdr = cJSON_CreateObject();
    if (!hdr) return sk_err(err, "%s: out of memory", path);
    if (metadata) cJSON_AddItemToObject(hdr, "__metadata__", cJSON_Duplicate(metadata, 1));
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (t[i].dtype != SK_DT_F32 && t[i].dtype != SK_DT_F16 && t[i].dtype != SK_DT_BF16) {
            cJSON_Delete(hdr);
            return sk_err(err, "%s: tensor %s: can only write F32, F16 or BF16", path, t[i].name);
        }
        size_t numel = 1;
        cJSON *e = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *offs = cJSON_CreateArray();
        for (int d = 0; d < t[i].ndim; d++) {
            numel *= (size_t)t[i].shape[d];
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].shape[d]));
        }
        size_t nb = numel * sk_dtype_size(t[i].dtype);
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + nb)));
        cJSON_AddStringToObject(e, "dtype", sk_dtype_name(t[i].dtype));
        cJSON_AddItemToObject(e, "shape", shape);
        cJSON_AddItemToObject(e, "data_offsets", offs);
        cJSON_AddItemToObject(hdr, t[i].name, e);
        off += nb;
    }
    char *json = cJSON_PrintUnformatted(hdr);
    cJSON_Delete(hdr);
    if (!json) return sk_err(err, "%s: out of memory", path);
    size_t jlen = strlen(json), padded = (jlen + 7) & ~(size_t)7; /* 8-byte aligned data */
    size_t total = 8 + padded + off;
    unsigned char *buf = malloc(total);
    if (!buf) {
        free(json);
        return sk_err(err, "%s: out of memory (%zu bytes)", path, total);
    }
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(buf + 8, json, jlen);
    memset(buf + 8 + jlen, ' ', padded - jlen);
    free(json);
    unsigned char *dst = buf + 8 + padded;
    for (int i = 0; i < n; i++) {
        size_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) numel *= (size_t)t[i].shape[d];
        if (t[i].dtype == SK_DT_F32) {
            memcpy(dst, t[i].data, numel * 4);
            dst += numel * 4;
        } else {
            for (size_t k = 0; k < numel; k++) {
                uint16_t h = t[i].dtype == SK_DT_F16 ? sk_f32_to_f16(t[i].data[k])
                                                     : sk_f32_to_bf16(t[i].data[k]);
                *dst++ = (unsigned char)(h & 0xff);
                *dst++ = (unsigned char)(h >> 8);
            }
        }
    }
    int rc = sk_write_file_atomic(path, buf, total, err);
    free(buf);
    return rc;
}
