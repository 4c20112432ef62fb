/* mat.c - weight matrices as the model holds them (fp32; F16/BF16 as a safetensors
 * checkpoint stored them; GGUF's quantized blocks as the file stored them): reading any
 * range of elements as fp32, the parallel conversion the products call for each block of
 * rows, and the per-thread buffer that block goes into. Each thread has its own buffer,
 * so runs sharing one model never share one. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "sk_quant.h"

/* F16 -> F32 without branches (exponent rebias by multiplying by 2^112, which is exact for
 * normal and subnormal halves alike; infinities and NaNs keep their payload). */
static inline float f16_to_f32(uint16_t h) {
    uint32_t em = h & 0x7fffu, bits = em << 13;
    float f;
    memcpy(&f, &bits, 4);
    f *= 0x1p112f;
    memcpy(&bits, &f, 4);
    if (em >= 0x7c00u) bits = (em << 13) | 0x7f800000u;
    bits |= (uint32_t)(h & 0x8000u) << 16;
    memcpy(&f, &bits, 4);
    return f;
}

static void half_to_f32(const uint16_t *src, float *dst, size_t n, bool bf16) {
    if (bf16) {
        uint32_t *d = (uint32_t *)(void *)dst; /* BF16 is the top half of an fp32 */
        for (size_t i = 0; i < n; i++) d[i] = (uint32_t)src[i] << 16;
    } else {
        for (size_t i = 0; i < n; i++) dst[i] = f16_to_f32(src[i]);
    }
}

/* The part of a stacked matrix that holds element *off, with *off made relative to it. */
static SkMat part_at(SkMat m, size_t *off) {
    while (m.rest && *off >= (size_t)(m.rows * m.cols)) {
        *off -= (size_t)(m.rows * m.cols);
        m = *m.rest;
    }
    return m;
}

/* A GGUF-typed part's blocks from element off on (off on a block boundary). */
static const void *q_at(SkMat m, size_t off) {
    return (const char *)m.q + off / sk_ggml_block_elems(m.qtype) * sk_ggml_block_bytes(m.qtype);
}

SkMat sk_mat_offset(SkMat m, size_t off) {
    m = part_at(m, &off);
    if (m.rest) m.rows -= (int64_t)(off / (size_t)m.cols); /* offsets into stacked parts fall on rows */
    if (m.f) m.f += off;
    else if (m.h) m.h += off;
    else if (m.q) m.q = q_at(m, off);
    return m;
}

/* n elements from off of one part (no rest followed). */
static void read_part(SkMat m, size_t off, size_t n, float *dst) {
    if (m.f) {
        memcpy(dst, m.f + off, n * sizeof(float));
        return;
    }
    if (m.h) {
        half_to_f32(m.h + off, dst, n, m.bf16);
        return;
    }
    size_t blk = sk_ggml_block_elems(m.qtype), head = off % blk;
    if (head) { /* a partial first block: decode it whole, keep its tail */
        float tmp[256];
        size_t k = blk - head < n ? blk - head : n;
        sk_dequantize(m.qtype, q_at(m, off - head), tmp, blk);
        memcpy(dst, tmp + head, k * sizeof(float));
        off += k, dst += k, n -= k;
    }
    size_t whole = n / blk * blk;
    if (whole) sk_dequantize(m.qtype, q_at(m, off), dst, whole);
    if (n > whole) { /* a partial last block */
        float tmp[256];
        sk_dequantize(m.qtype, q_at(m, off + whole), tmp, blk);
        memcpy(dst + whole, tmp, (n - whole) * sizeof(float));
    }
}

void sk_mat_read(SkMat m, size_t off, size_t n, float *dst) {
    while (n) {
        m = part_at(m, &off); /* an offset at a part's end moves on to the next part */
        size_t k = m.rest && (size_t)(m.rows * m.cols) - off < n ? (size_t)(m.rows * m.cols) - off : n;
        read_part(m, off, k, dst);
        off += k, dst += k, n -= k;
    }
}

typedef struct {
    SkMat m;
    size_t off, n, per;
    float *dst;
} MatJob;

static void mat_task(void *ctx, int task) {
    MatJob *j = ctx;
    size_t a = (size_t)task * j->per, b = a + j->per < j->n ? a + j->per : j->n;
    if (a < b) sk_mat_read(j->m, j->off + a, b - a, j->dst + a);
}

/* Spread over the pool: the conversion is memory-bound (16-bit) or arithmetic-bound
 * (quantized), and a serial one would leave the other cores idle between the products.
 * Chunks are whole multiples of 256 elements, so each starts on a block of every type. */
void sk_mat_to_f32(SkPool *pool, SkMat m, size_t off, size_t n, float *dst) {
    int threads = pool ? sk_pool_threads(pool) : 1;
    if (threads < 2 || n < 65536) {
        sk_mat_read(m, off, n, dst);
        return;
    }
    size_t per = (n + (size_t)threads - 1) / (size_t)threads;
    per = (per + 255) / 256 * 256;
    MatJob j = {.m = m, .off = off, .n = n, .per = per, .dst = dst};
    sk_pool_run(pool, (int)((n + per - 1) / per), mat_task, &j);
}

void sk_half_to_f32(SkPool *pool, const uint16_t *src, float *dst, size_t n, bool bf16) {
    sk_mat_to_f32(pool, (SkMat){.h = src, .bf16 = bf16}, 0, n, dst);
}

typedef struct Scratch {
    float *p;
    size_t cap;
} Scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *v) {
    Scratch *s = v;
    free(s->p);
    free(s);
}

static void scratch_init(void) {
    if (pthread_key_create(&scratch_key, scratch_free) != 0) abort();
}

static void out_of_memory(size_t n) {
    fprintf(stderr, "sktune: out of memory for a %zu KB weight conversion buffer\n", n * sizeof(float) >> 10);
    abort(); /* a product has no way to fail; a few MB missing means nothing else can go on either */
}

/* This thread's conversion buffer of at least n floats. A product asks for one block of
 * rows (about SK_MAT_BLOCK_FLOATS), so the buffer stays a few MB per thread. */
float *sk_mat_scratch(size_t n) {
    pthread_once(&scratch_once, scratch_init);
    Scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) out_of_memory(n);
        pthread_setspecific(scratch_key, s);
    }
    if (s->cap < n) {
        float *p = realloc(s->p, n * sizeof(float));
        if (!p) out_of_memory(n);
        s->p = p, s->cap = n;
    }
    return s->p;
}
