/* testutil.h - a minimal test harness: named checks, a failure count, relative errors. */
#ifndef SK_TESTUTIL_H
#define SK_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tu_failures = 0, tu_checks = 0;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        tu_checks++;                                                      \
        if (!(cond)) {                                                    \
            tu_failures++;                                                \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                   \
            printf(__VA_ARGS__);                                          \
            printf("\n");                                                 \
        }                                                                 \
    } while (0)

/* Stops the test program when a prerequisite fails (nothing after it can run). */
#define REQUIRE(cond, ...)                                                \
    do {                                                                  \
        if (!(cond)) {                                                    \
            printf("FATAL %s:%d: ", __FILE__, __LINE__);                  \
            printf(__VA_ARGS__);                                          \
            printf("\n");                                                 \
            exit(1);                                                      \
        }                                                                 \
    } while (0)

/* max |a - b| / max |b|: relative to the reference tensor's scale, so that
 * entries near zero do not dominate. */
static inline double tu_rel_err(const float *a, const float *b, size_t n) {
    double diff = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > diff || d != d) diff = d;
        if (fabs((double)b[i]) > scale) scale = fabs((double)b[i]);
    }
    return scale > 0 ? diff / scale : diff;
}

#ifdef SK_TOKENIZER_H
/* The ids of text (a failure to encode stops the test); whether they are want[0..n). */
static inline SkIds encode(SkTokenizer *t, const char *text, bool special) {
    SkIds ids = {0};
    SkError err;
    REQUIRE(sk_tokenizer_encode(t, text, strlen(text), special, &ids, &err) == 0, "%s", err.msg);
    return ids;
}

static inline bool ids_are(const SkIds *ids, const int32_t *want, int n) {
    bool same = ids->n == n;
    for (int i = 0; same && i < n; i++) same = ids->ids[i] == want[i];
    return same;
}
#endif

static inline int tu_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, tu_checks, tu_failures);
    return tu_failures ? 1 : 0;
}

#endif
