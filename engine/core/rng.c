/* rng.c - xoshiro256** (Blackman & Vigna): fast, reproducible on every platform. */
#include <math.h>

#include "sk_core.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void sk_rng_seed(SkRng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

uint64_t sk_rng_u64(SkRng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sk_rng_uniform(SkRng *r) { return (double)(sk_rng_u64(r) >> 11) * 0x1.0p-53; }

float sk_rng_normal(SkRng *r) {
    double u1 = sk_rng_uniform(r), u2 = sk_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

uint64_t sk_rng_below(SkRng *r, uint64_t n) {
    if (n == 0) return 0;
    /* rejection sampling keeps the draw exactly uniform */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = sk_rng_u64(r);
    while (x >= limit);
    return x % n;
}
