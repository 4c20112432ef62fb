/* arena.c - one up-front allocation per model or batch shape. */
#include <stdlib.h>
#include <string.h>

#include "sk_core.h"

#define SK_ALIGN 64

size_t sk_arena_round(size_t bytes) { return (bytes + SK_ALIGN - 1) & ~(size_t)(SK_ALIGN - 1); }

int sk_arena_init(SkArena *a, size_t cap, SkError *err) {
    a->used = 0;
    a->cap = sk_arena_round(cap);
    a->base = NULL;
    if (a->cap == 0) return 0;
    if (posix_memalign((void **)&a->base, SK_ALIGN, a->cap) != 0) {
        a->base = NULL;
        return sk_err(err, "out of memory allocating %zu MiB", a->cap >> 20);
    }
    return 0;
}

void *sk_arena_alloc(SkArena *a, size_t bytes) {
    size_t n = sk_arena_round(bytes);
    if (n > a->cap - a->used) return NULL;
    void *p = a->base + a->used;
    a->used += n;
    return p;
}

float *sk_arena_floats(SkArena *a, size_t n) {
    float *p = sk_arena_alloc(a, n * sizeof(float));
    if (p) memset(p, 0, n * sizeof(float));
    return p;
}

void sk_arena_free(SkArena *a) {
    free(a->base);
    a->base = NULL;
    a->cap = a->used = 0;
}
