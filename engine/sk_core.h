/* sk_core.h - the engine's foundation: errors, arenas, RNG, thread pool, tensors.
 *
 * Convention for every engine function that can fail: it returns 0 on success and
 * -1 on failure, after filling the caller's SkError with a message that names the
 * file, tensor or field at fault. The engine never prints and never exits. */
#ifndef SK_CORE_H
#define SK_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ---------------------------------------------------------------- */

typedef struct SkError {
    char msg[1024];
} SkError;

/* Formats the message into err (err may be NULL) and returns -1. */
int sk_err(SkError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends "prefix: " to an existing message (adds context as errors bubble up). */
int sk_err_prefix(SkError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- arenas ---------------------------------------------------------------- */

/* One allocation sized up front; sub-allocations are 64-byte aligned so GEMM
 * operands start on cache lines. Nothing is freed individually. */
typedef struct SkArena {
    char *base;
    size_t cap;
    size_t used;
} SkArena;

int sk_arena_init(SkArena *a, size_t cap, SkError *err);
void *sk_arena_alloc(SkArena *a, size_t bytes); /* NULL when the arena is exhausted */
float *sk_arena_floats(SkArena *a, size_t n);   /* zeroed */
void sk_arena_free(SkArena *a);
/* Bytes an arena needs to hold `bytes` after alignment padding. */
size_t sk_arena_round(size_t bytes);

/* ---- deterministic RNG (xoshiro256**, seeded through splitmix64) ------------- */

typedef struct SkRng {
    uint64_t s[4];
} SkRng;

void sk_rng_seed(SkRng *r, uint64_t seed);
uint64_t sk_rng_u64(SkRng *r);
double sk_rng_uniform(SkRng *r);            /* [0, 1) */
float sk_rng_normal(SkRng *r);              /* N(0, 1), Box-Muller */
uint64_t sk_rng_below(SkRng *r, uint64_t n); /* uniform in [0, n) */

/* ---- thread pool --------------------------------------------------------------
 * A fixed set of workers that run fn(ctx, task) for task in [0, n_tasks). The
 * caller thread takes part. One parallel-for at a time per pool: a second thread
 * calling in while the pool is busy simply runs its loop itself. */

typedef struct SkPool SkPool;
typedef void (*SkTaskFn)(void *ctx, int task);

SkPool *sk_pool_new(int n_threads); /* n_threads <= 0: one per core. NULL on failure. */
void sk_pool_free(SkPool *p);
int sk_pool_threads(const SkPool *p);
void sk_pool_run(SkPool *p, int n_tasks, SkTaskFn fn, void *ctx); /* p may be NULL */
int sk_cpu_count(void);

/* ---- tensors --------------------------------------------------------------------
 * A float32, C-order tensor that owns its data: what the engine hands to its
 * clients (Lua, the UI) and reads/writes as .npy. Internal buffers are raw floats. */

#define SK_MAX_DIMS 6
typedef struct SkTensor {
    float *data;
    int ndim;
    int64_t shape[SK_MAX_DIMS];
    size_t numel;
} SkTensor;

int sk_tensor_alloc(SkTensor *t, int ndim, const int64_t *shape, SkError *err);
void sk_tensor_free(SkTensor *t);

/* ---- progress ------------------------------------------------------------------
 * Long work (loading, tokenizing, training) reports progress through a callback the
 * client supplies; the engine never draws anything itself. */
typedef void (*SkProgressFn)(void *ctx, const char *what, double done, double total);

/* ---- files ---------------------------------------------------------------------- */

/* Reads a whole file into a NUL-terminated buffer (caller frees). */
int sk_read_file(const char *path, char **out, size_t *len, SkError *err);
/* Writes data to path atomically: a temporary file in the same folder, fsync, rename. */
int sk_write_file_atomic(const char *path, const void *data, size_t len, SkError *err);
bool sk_file_exists(const char *path);
/* dir + "/" + name into buf; error when it does not fit. */
int sk_path_join(char *buf, size_t cap, const char *dir, const char *name, SkError *err);
double sk_now_seconds(void);
/* Creates a folder and its parents (like mkdir -p). */
int sk_mkdir_p(const char *path, SkError *err);

#endif
