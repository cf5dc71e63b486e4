/* Deterministic random numbers: xoshiro256** seeded through splitmix64 from (seed, stream). */
#include <math.h>

#include "core/core.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void nadi_rng_init(nadi_rng *r, uint64_t seed, uint64_t stream) {
  /* Mix the stream id through its own splitmix step so that nearby (seed, stream) pairs give
   * unrelated states. */
  uint64_t x = seed;
  uint64_t y = stream ^ 0x5851f42d4c957f2dULL;
  uint64_t base = splitmix64(&x) ^ splitmix64(&y);
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&base);
  r->has_spare = 0;
  r->spare = 0.0;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next(nadi_rng *r) {
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

uint64_t nadi_rng_u64(nadi_rng *r) { return next(r); }

static inline double uniform(nadi_rng *r) { return (double)(next(r) >> 11) * 0x1.0p-53; }

double nadi_rng_uniform(nadi_rng *r) { return uniform(r); }

/* The polar method's pair: (u·m, v·m). */
static inline void normal_pair(nadi_rng *r, double *a, double *b) {
  double u, v, s;
  do {
    u = 2.0 * uniform(r) - 1.0;
    v = 2.0 * uniform(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double m = sqrt(-2.0 * log(s) / s);
  *a = u * m;
  *b = v * m;
}

double nadi_rng_normal(nadi_rng *r) {
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double a;
  normal_pair(r, &a, &r->spare);
  r->has_spare = 1;
  return a;
}

void nadi_rng_fill_uniform(nadi_rng *r, float *x, int64_t n, double lo, double hi) {
  for (int64_t i = 0; i < n; i++)
    x[i] = (float)(lo + (hi - lo) * nadi_rng_uniform(r));
}

/* The values nadi_rng_normal would give one by one, a pair at a time (data sets draw millions). */
void nadi_rng_fill_normal(nadi_rng *r, float *x, int64_t n, double mean, double std) {
  int64_t i = 0;
  if (n > 0 && r->has_spare) {
    r->has_spare = 0;
    x[i++] = (float)(mean + std * r->spare);
  }
  double a, b;
  for (; i + 2 <= n; i += 2) {
    normal_pair(r, &a, &b);
    x[i] = (float)(mean + std * a);
    x[i + 1] = (float)(mean + std * b);
  }
  if (i < n) {
    normal_pair(r, &a, &r->spare);
    r->has_spare = 1;
    x[i] = (float)(mean + std * a);
  }
}
