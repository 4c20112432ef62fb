/* gguf.c - reading GGUF files (llama.cpp's format, versions 2 and 3): mmapped, and every
 * count, length, offset and dimension checked against the file before it is used, so a
 * corrupt or truncated file is an error naming the file and the key or tensor at fault,
 * never a crash or a huge allocation.
 *
 * Layout (all little-endian):
 *   "GGUF" u32 version u64 n_tensors u64 n_kv
 *   n_kv x { string key, u32 type, value }     string = u64 length + bytes (no NUL)
 *                                                array  = u32 elem type, u64 n, n values
 *   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset }
 *   padding to general.alignment (default 32), then the data; each tensor's offset is
 *   relative to the data's start and a multiple of the alignment. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sk_io.h"
#include "sk_quant.h"

#define MAX_DEPTH 8 /* nested arrays */

typedef struct {
    const unsigned char *p;
    size_t size, pos;
    const char *path;
    SkError *err;
} Rd;

static const char *type_names[SK_GGUF_TYPE_COUNT] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                                    "bool", "string", "array", "u64", "i64", "f64"};
static const size_t type_sizes[SK_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static int need(Rd *r, size_t n, const char *what) {
    if (r->size - r->pos < n)
        return sk_err(r->err, "%s: truncated at byte %zu while reading %s (needs %zu more bytes, %zu left)",
                      r->path, r->pos, what, n, r->size - r->pos);
    return 0;
}

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static int rd_u32(Rd *r, uint32_t *out, const char *what) {
    if (need(r, 4, what)) return -1;
    *out = (uint32_t)le(r->p + r->pos, 4);
    r->pos += 4;
    return 0;
}

static int rd_u64(Rd *r, uint64_t *out, const char *what) {
    if (need(r, 8, what)) return -1;
    *out = le(r->p + r->pos, 8);
    r->pos += 8;
    return 0;
}

static int rd_str(Rd *r, SkGgufStr *out, const char *what) {
    uint64_t n;
    if (rd_u64(r, &n, what)) return -1;
    if (n > r->size - r->pos)
        return sk_err(r->err, "%s: %s at byte %zu claims %llu bytes, only %zu left in the file", r->path, what,
                      r->pos - 8, (unsigned long long)n, r->size - r->pos);
    out->s = (const char *)r->p + r->pos, out->len = (size_t)n;
    r->pos += (size_t)n;
    return 0;
}

/* Strings are not NUL-terminated in the mapping: a copy for messages, UTF-8 kept. */
const char *sk_gguf_str_show(SkGgufStr s, char *buf, size_t cap) {
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)s.s[i] < 32 || s.s[i] == 127 ? '?' : s.s[i];
    buf[n] = 0;
    return buf;
}

static int rd_value(Rd *r, uint32_t type, SkGgufValue *v, const char *key, int depth);

static int rd_array(Rd *r, SkGgufValue *v, const char *key, int depth) {
    uint32_t et;
    uint64_t n;
    if (rd_u32(r, &et, "an array's element type") || rd_u64(r, &n, "an array's length")) return -1;
    if (et >= SK_GGUF_TYPE_COUNT)
        return sk_err(r->err, "%s: key %s: array element type %u is not a GGUF type", r->path, key, et);
    if (depth >= MAX_DEPTH)
        return sk_err(r->err, "%s: key %s: arrays nested deeper than %d", r->path, key, MAX_DEPTH);
    v->type = SK_GGUF_ARRAY;
    v->arr.type = (SkGgufType)et, v->arr.n = n, v->arr.data = r->p + r->pos, v->arr.items = NULL;
    if (type_sizes[et]) { /* fixed-size elements: one bounds check */
        if (n > (r->size - r->pos) / type_sizes[et])
            return sk_err(r->err, "%s: key %s: array of %llu %s values runs past the end of the file", r->path, key,
                          (unsigned long long)n, type_names[et]);
        r->pos += (size_t)n * type_sizes[et];
        return 0;
    }
    if (et == SK_GGUF_STRING) { /* walk the length prefixes once, so later walks need no checks */
        for (uint64_t i = 0; i < n; i++) {
            SkGgufStr s;
            if (rd_str(r, &s, "a string in an array")) return sk_err_prefix(r->err, "key %s, element %llu", key, (unsigned long long)i);
        }
        return 0;
    }
    /* nested arrays: each item is at least 12 bytes (type + length), which bounds n */
    if (n > (r->size - r->pos) / 12)
        return sk_err(r->err, "%s: key %s: array of %llu arrays runs past the end of the file", r->path, key,
                      (unsigned long long)n);
    v->arr.items = calloc(n ? (size_t)n : 1, sizeof *v->arr.items);
    if (!v->arr.items) return sk_err(r->err, "out of memory");
    for (uint64_t i = 0; i < n; i++)
        if (rd_value(r, SK_GGUF_ARRAY, &v->arr.items[i], key, depth + 1)) return -1;
    return 0;
}

static int rd_value(Rd *r, uint32_t type, SkGgufValue *v, const char *key, int depth) {
    if (type >= SK_GGUF_TYPE_COUNT)
        return sk_err(r->err, "%s: key %s has value type %u, which is not a GGUF type", r->path, key, type);
    v->type = (SkGgufType)type;
    if (type == SK_GGUF_STRING) return rd_str(r, &v->str, key);
    if (type == SK_GGUF_ARRAY) return rd_array(r, v, key, depth);
    size_t n = type_sizes[type];
    if (need(r, n, key)) return -1;
    uint64_t raw = le(r->p + r->pos, (int)n);
    r->pos += n;
    switch (type) {
    case SK_GGUF_I8: v->i = (int8_t)raw; break;
    case SK_GGUF_I16: v->i = (int16_t)raw; break;
    case SK_GGUF_I32: v->i = (int32_t)raw; break;
    case SK_GGUF_I64: v->i = (int64_t)raw; break;
    case SK_GGUF_F32: {
        uint32_t b = (uint32_t)raw;
        float f;
        memcpy(&f, &b, 4);
        v->f = f;
        break;
    }
    case SK_GGUF_F64: memcpy(&v->f, &raw, 8); break;
    case SK_GGUF_BOOL:
        if (raw > 1) return sk_err(r->err, "%s: key %s: bool value %llu is neither 0 nor 1", r->path, key, (unsigned long long)raw);
        /* fall through */
    default: v->u = raw; break;
    }
    return 0;
}

static void free_value(SkGgufValue *v) {
    if (v->type != SK_GGUF_ARRAY || !v->arr.items) return;
    for (uint64_t i = 0; i < v->arr.n; i++) free_value(&v->arr.items[i]);
    free(v->arr.items);
}

bool sk_gguf_str_eq(SkGgufStr s, const char *c) { return strlen(c) == s.len && memcmp(s.s, c, s.len) == 0; }

static int cmp_offset(const void *a, const void *b) {
    const SkGgufTensor *x = *(const SkGgufTensor *const *)a, *y = *(const SkGgufTensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(const SkGgufTensor *const *)a)->name, (*(const SkGgufTensor *const *)b)->name);
}

/* Tensor infos: names, dims (each >= 1 ... and the element count without overflow), a type
 * whose layout is known, rows a whole number of blocks. */
static int rd_tensor(Rd *r, SkGgufTensor *t, int64_t index) {
    SkGgufStr name;
    uint32_t nd, type;
    if (rd_str(r, &name, "a tensor name")) return sk_err_prefix(r->err, "tensor %lld", (long long)index);
    if (memchr(name.s, 0, name.len))
        return sk_err(r->err, "%s: tensor %lld: name contains a NUL byte", r->path, (long long)index);
    if (!(t->name = malloc(name.len + 1))) return sk_err(r->err, "out of memory");
    memcpy(t->name, name.s, name.len);
    t->name[name.len] = 0;
    if (rd_u32(r, &nd, "a tensor's dimension count")) return sk_err_prefix(r->err, "tensor %s", t->name);
    if (nd < 1 || nd > 4) return sk_err(r->err, "%s: tensor %s has %u dimensions (1 to 4 allowed)", r->path, t->name, nd);
    t->ndim = (int)nd;
    int64_t numel = 1;
    for (uint32_t i = 0; i < 4; i++) t->ne[i] = 1;
    for (uint32_t i = 0; i < nd; i++) {
        uint64_t ne;
        if (rd_u64(r, &ne, "a tensor dimension")) return sk_err_prefix(r->err, "tensor %s", t->name);
        if (ne < 1 || ne > (uint64_t)INT64_MAX / (uint64_t)numel)
            return sk_err(r->err, "%s: tensor %s: dimension %u is %llu (must be >= 1, and the element count must fit "
                                  "64 bits)", r->path, t->name, i, (unsigned long long)ne);
        t->ne[i] = (int64_t)ne;
        numel *= (int64_t)ne;
    }
    if (rd_u32(r, &type, "a tensor type") || rd_u64(r, &t->offset, "a tensor offset"))
        return sk_err_prefix(r->err, "tensor %s", t->name);
    t->type = type;
    const char *tn = sk_ggml_type_name(type);
    if (!sk_ggml_block_bytes(type)) {
        if (tn) return sk_err(r->err, "%s: tensor %s has type %s, which sktune cannot read", r->path, t->name, tn);
        return sk_err(r->err, "%s: tensor %s has type %u, which is not a ggml type sktune knows", r->path, t->name, type);
    }
    size_t row = sk_ggml_row_bytes(type, t->ne[0]);
    if (!row)
        return sk_err(r->err, "%s: tensor %s: row length %lld is not a multiple of %s's block of %zu", r->path,
                      t->name, (long long)t->ne[0], tn, sk_ggml_block_elems(type));
    uint64_t rows = (uint64_t)(numel / t->ne[0]);
    if (rows > SIZE_MAX / row) return sk_err(r->err, "%s: tensor %s is too large", r->path, t->name);
    t->nbytes = (size_t)rows * row;
    return 0;
}

bool sk_gguf_is_gguf(const char *path) {
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return false;
    struct stat st;
    char magic[4];
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 4) == 4 && !memcmp(magic, "GGUF", 4);
    close(fd);
    return ok;
}

static int map_file(SkGgufFile *f, const char *path, SkError *err) {
    int fd = open(path, O_RDONLY | O_NONBLOCK); /* a FIFO must not block the open */
    if (fd < 0) return sk_err(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sk_err(err, "%s: not a regular file", path);
    }
    f->size = (size_t)st.st_size;
    if (f->size < 24) {
        close(fd);
        return sk_err(err, "%s: %zu bytes: too short for a GGUF header (24 bytes)", path, f->size);
    }
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return sk_err(err, "%s: cannot map: %s", path, strerror(errno));
    }
    return 0;
}

static int rd_header(SkGgufFile *f, Rd *r, SkError *err) {
    if (memcmp(f->map, "GGUF", 4) != 0) return sk_err(err, "%s: not a GGUF file (no GGUF magic)", f->path);
    r->pos = 4;
    uint64_t nt, nkv;
    if (rd_u32(r, &f->version, "the version")) return -1;
    if (f->version != 2 && f->version != 3)
        return sk_err(err, "%s: GGUF version %u (sktune reads versions 2 and 3)", f->path, f->version);
    if (rd_u64(r, &nt, "the tensor count") || rd_u64(r, &nkv, "the metadata count")) return -1;
    /* each key/value takes at least 13 bytes and each tensor info 32: counts beyond what the
     * file can hold are corrupt, and are refused before anything is allocated for them */
    if (nkv > (r->size - r->pos) / 13)
        return sk_err(err, "%s: metadata count %llu is more than the file can hold", f->path, (unsigned long long)nkv);
    if (nt > (r->size - r->pos) / 32)
        return sk_err(err, "%s: tensor count %llu is more than the file can hold", f->path, (unsigned long long)nt);
    f->n_kv = (int64_t)nkv, f->n_tensors = (int64_t)nt;
    return 0;
}

static int cmp_key(const void *a, const void *b) {
    const SkGgufStr *x = &(*(const SkGgufKv *const *)a)->key, *y = &(*(const SkGgufKv *const *)b)->key;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* No key twice: sorted, so a corrupt file claiming millions of keys costs n log n, not n^2. */
static int check_unique_keys(SkGgufFile *f, SkError *err) {
    const SkGgufKv **sorted = malloc((f->n_kv ? (size_t)f->n_kv : 1) * sizeof *sorted);
    if (!sorted) return sk_err(err, "out of memory");
    for (int64_t i = 0; i < f->n_kv; i++) sorted[i] = &f->kv[i];
    qsort(sorted, (size_t)f->n_kv, sizeof *sorted, cmp_key);
    int rc = 0;
    for (int64_t i = 1; i < f->n_kv && !rc; i++)
        if (!cmp_key(&sorted[i - 1], &sorted[i])) {
            char key[128];
            rc = sk_err(err, "%s: metadata key %s appears twice", f->path,
                        sk_gguf_str_show(sorted[i]->key, key, sizeof key));
        }
    free(sorted);
    return rc;
}

static int rd_metadata(SkGgufFile *f, Rd *r, SkError *err) {
    if (!(f->kv = calloc(f->n_kv ? (size_t)f->n_kv : 1, sizeof *f->kv))) return sk_err(err, "out of memory");
    f->alignment = 32;
    for (int64_t i = 0; i < f->n_kv; i++) {
        SkGgufKv *kv = &f->kv[i];
        uint32_t type;
        char key[128];
        if (rd_str(r, &kv->key, "a metadata key")) return sk_err_prefix(err, "metadata entry %lld", (long long)i);
        sk_gguf_str_show(kv->key, key, sizeof key);
        if (rd_u32(r, &type, key) || rd_value(r, type, &kv->value, key, 0)) return -1;
        if (sk_gguf_str_eq(kv->key, "general.alignment")) {
            if (kv->value.type != SK_GGUF_U32 || kv->value.u == 0 || (kv->value.u & (kv->value.u - 1)))
                return sk_err(err, "%s: general.alignment must be a u32 power of two", f->path);
            f->alignment = (size_t)kv->value.u;
        }
    }
    return check_unique_keys(f, err);
}

/* Offsets aligned and inside the data section, and no two tensors overlapping. */
static int check_tensors(SkGgufFile *f, size_t data_start, SkError *err) {
    SkGgufTensor **byoff = malloc((f->n_tensors ? (size_t)f->n_tensors : 1) * sizeof *byoff);
    if (!byoff) return sk_err(err, "out of memory");
    int rc = 0;
    for (int64_t i = 0; i < f->n_tensors; i++) byoff[i] = &f->tensors[i];
    qsort(byoff, (size_t)f->n_tensors, sizeof *byoff, cmp_name);
    for (int64_t i = 1; i < f->n_tensors && !rc; i++)
        if (!strcmp(byoff[i]->name, byoff[i - 1]->name))
            rc = sk_err(err, "%s: tensor %s appears twice", f->path, byoff[i]->name);
    qsort(byoff, (size_t)f->n_tensors, sizeof *byoff, cmp_offset);
    size_t avail = f->size - data_start;
    for (int64_t i = 0; i < f->n_tensors && !rc; i++) {
        SkGgufTensor *t = byoff[i];
        if (t->offset % f->alignment)
            rc = sk_err(err, "%s: tensor %s: offset %llu is not a multiple of the alignment %zu", f->path, t->name,
                        (unsigned long long)t->offset, f->alignment);
        else if (t->offset > avail || t->nbytes > avail - t->offset)
            rc = sk_err(err, "%s: tensor %s: bytes %llu..%llu of the data lie past the end of the file (%zu data bytes)",
                        f->path, t->name, (unsigned long long)t->offset, (unsigned long long)(t->offset + t->nbytes),
                        avail);
        else if (i > 0 && byoff[i - 1]->offset + byoff[i - 1]->nbytes > t->offset)
            rc = sk_err(err, "%s: tensors %s and %s overlap", f->path, byoff[i - 1]->name, t->name);
        else
            t->data = (const unsigned char *)f->map + data_start + t->offset;
    }
    free(byoff);
    return rc;
}

int sk_gguf_open(SkGgufFile *f, const char *path, SkError *err) {
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) return sk_err(err, "out of memory");
    if (map_file(f, path, err) != 0) goto fail;
    Rd r = {.p = f->map, .size = f->size, .path = path, .err = err};
    if (rd_header(f, &r, err) || rd_metadata(f, &r, err)) goto fail;
    if (!(f->tensors = calloc(f->n_tensors ? (size_t)f->n_tensors : 1, sizeof *f->tensors))) {
        sk_err(err, "out of memory");
        goto fail;
    }
    for (int64_t i = 0; i < f->n_tensors; i++)
        if (rd_tensor(&r, &f->tensors[i], i)) goto fail;
    size_t data_start = (r.pos + f->alignment - 1) / f->alignment * f->alignment;
    if (f->n_tensors && data_start > f->size) {
        sk_err(err, "%s: truncated before the tensor data (header ends at byte %zu)", path, r.pos);
        goto fail;
    }
    if (f->n_tensors && check_tensors(f, data_start, err)) goto fail;
    return 0;
fail:
    sk_gguf_close(f);
    return -1;
}

void sk_gguf_close(SkGgufFile *f) {
    if (f->kv)
        for (int64_t i = 0; i < f->n_kv; i++) free_value(&f->kv[i].value);
    if (f->tensors)
        for (int64_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->kv), free(f->tensors), free(f->path);
    if (f->map) munmap(f->map, f->size);
    memset(f, 0, sizeof *f);
}

const SkGgufKv *sk_gguf_find_kv(const SkGgufFile *f, const char *key) {
    for (int64_t i = 0; i < f->n_kv; i++)
        if (sk_gguf_str_eq(f->kv[i].key, key)) return &f->kv[i];
    return NULL;
}

const SkGgufTensor *sk_gguf_find_tensor(const SkGgufFile *f, const char *name) {
    for (int64_t i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

static bool is_int(SkGgufType t) { return t <= SK_GGUF_I32 || t == SK_GGUF_U64 || t == SK_GGUF_I64; }
static bool is_signed(SkGgufType t) { return t == SK_GGUF_I8 || t == SK_GGUF_I16 || t == SK_GGUF_I32 || t == SK_GGUF_I64; }

int sk_gguf_get_int(const SkGgufFile *f, const char *key, int64_t *out, SkError *err) {
    const SkGgufKv *kv = sk_gguf_find_kv(f, key);
    if (!kv) return 0;
    const SkGgufValue *v = &kv->value;
    if (!is_int(v->type)) return sk_err(err, "%s: key %s is a %s, not an integer", f->path, key, type_names[v->type]);
    if (!is_signed(v->type) && v->u > (uint64_t)INT64_MAX)
        return sk_err(err, "%s: key %s: %llu is out of range", f->path, key, (unsigned long long)v->u);
    *out = is_signed(v->type) ? v->i : (int64_t)v->u;
    return 1;
}

int sk_gguf_get_float(const SkGgufFile *f, const char *key, double *out, SkError *err) {
    const SkGgufKv *kv = sk_gguf_find_kv(f, key);
    if (!kv) return 0;
    const SkGgufValue *v = &kv->value;
    if (v->type == SK_GGUF_F32 || v->type == SK_GGUF_F64) *out = v->f;
    else if (is_int(v->type)) *out = is_signed(v->type) ? (double)v->i : (double)v->u;
    else return sk_err(err, "%s: key %s is a %s, not a number", f->path, key, type_names[v->type]);
    return 1;
}

int sk_gguf_get_bool(const SkGgufFile *f, const char *key, bool *out, SkError *err) {
    const SkGgufKv *kv = sk_gguf_find_kv(f, key);
    if (!kv) return 0;
    if (kv->value.type != SK_GGUF_BOOL)
        return sk_err(err, "%s: key %s is a %s, not a bool", f->path, key, type_names[kv->value.type]);
    *out = kv->value.u != 0;
    return 1;
}

int sk_gguf_get_str(const SkGgufFile *f, const char *key, SkGgufStr *out, SkError *err) {
    const SkGgufKv *kv = sk_gguf_find_kv(f, key);
    if (!kv) return 0;
    if (kv->value.type != SK_GGUF_STRING)
        return sk_err(err, "%s: key %s is a %s, not a string", f->path, key, type_names[kv->value.type]);
    *out = kv->value.str;
    return 1;
}

int sk_gguf_get_array(const SkGgufFile *f, const char *key, SkGgufType elem_type, const SkGgufValue **out,
                      SkError *err) {
    const SkGgufKv *kv = sk_gguf_find_kv(f, key);
    if (!kv) return 0;
    const SkGgufValue *v = &kv->value;
    bool ok = v->type == SK_GGUF_ARRAY &&
              (v->arr.type == elem_type || (is_int(elem_type) && is_int(v->arr.type)) ||
               ((elem_type == SK_GGUF_F32 || elem_type == SK_GGUF_F64) &&
                (v->arr.type == SK_GGUF_F32 || v->arr.type == SK_GGUF_F64)));
    if (!ok)
        return sk_err(err, "%s: key %s is %s%s, not an array of %s", f->path, key,
                      v->type == SK_GGUF_ARRAY ? "an array of " : "a ",
                      type_names[v->type == SK_GGUF_ARRAY ? v->arr.type : v->type], type_names[elem_type]);
    *out = v;
    return 1;
}

int sk_gguf_array_strings(const SkGgufValue *arr, SkGgufStr *out) {
    if (arr->type != SK_GGUF_ARRAY || arr->arr.type != SK_GGUF_STRING) return -1;
    const unsigned char *p = arr->arr.data;
    for (uint64_t i = 0; i < arr->arr.n; i++) { /* lengths were checked when the file was opened */
        uint64_t n = le(p, 8);
        out[i].s = (const char *)p + 8, out[i].len = (size_t)n;
        p += 8 + n;
    }
    return 0;
}

int64_t sk_gguf_array_int(const SkGgufValue *arr, uint64_t i) {
    SkGgufType t = arr->arr.type;
    uint64_t raw = le(arr->arr.data + i * type_sizes[t], (int)type_sizes[t]);
    switch (t) {
    case SK_GGUF_I8: return (int8_t)raw;
    case SK_GGUF_I16: return (int16_t)raw;
    case SK_GGUF_I32: return (int32_t)raw;
    default: return (int64_t)raw;
    }
}

double sk_gguf_array_float(const SkGgufValue *arr, uint64_t i) {
    if (arr->arr.type == SK_GGUF_F64) {
        uint64_t raw = le(arr->arr.data + i * 8, 8);
        double d;
        memcpy(&d, &raw, 8);
        return d;
    }
    uint32_t raw = (uint32_t)le(arr->arr.data + i * 4, 4);
    float f;
    memcpy(&f, &raw, 4);
    return f;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int sk_gguf_resolve(const char *path, char *out, size_t cap, SkError *err) {
    struct stat st;
    if (stat(path, &st) != 0) return 0; /* the caller's own error names what is missing */
    if (S_ISREG(st.st_mode)) {
        if (!sk_gguf_is_gguf(path)) return 0;
        if (strlen(path) >= cap) return sk_err(err, "path too long: %s", path);
        strcpy(out, path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) return 0;
    char cfg[4096];
    if (snprintf(cfg, sizeof cfg, "%s/config.json", path) >= (int)sizeof cfg || sk_file_exists(cfg)) return 0;
    DIR *d = opendir(path);
    if (!d) return 0;
    int found = 0;
    char first[1024] = "", names[512] = "";
    for (struct dirent *e; (e = readdir(d));) {
        if (!ends_with(e->d_name, ".gguf")) continue;
        if (found++ == 0) snprintf(first, sizeof first, "%s", e->d_name);
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", e->d_name);
    }
    closedir(d);
    if (found == 0) return 0;
    if (found > 1) return sk_err(err, "%s: holds %d GGUF files (%s): name one of them", path, found, names);
    if (snprintf(out, cap, "%s/%s", path, first) >= (int)cap) return sk_err(err, "path too long: %s/%s", path, first);
    return 1;
}
