/* Deterministic random numbers: xoshiro256** seeded through splitmix64 from (seed, stream). */
#include <math.h>
#include <string.h>

#include "common/clones.h"
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

uint64_t nadi_rng_u64(nadi_rng *r) {
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

double nadi_rng_uniform(nadi_rng *r) { return (double)(nadi_rng_u64(r) >> 11) * 0x1.0p-53; }

double nadi_rng_normal(nadi_rng *r) {
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double u, v, s;
  do {
    u = 2.0 * nadi_rng_uniform(r) - 1.0;
    v = 2.0 * nadi_rng_uniform(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double m = sqrt(-2.0 * log(s) / s);
  r->spare = v * m;
  r->has_spare = 1;
  return u * m;
}

void nadi_rng_fill_uniform(nadi_rng *r, float *x, int64_t n, double lo, double hi) {
  for (int64_t i = 0; i < n; i++)
    x[i] = (float)(lo + (hi - lo) * nadi_rng_uniform(r));
}

/* Bulk normals: the draws of nadi_rng_normal, in the same order, in two passes over blocks of
 * pairs. The first walks the generator and keeps the accepted (u, v, s) without a branch; the
 * second computes the polar factor sqrt(-2 log s / s) of the whole block with no dependency
 * between pairs, vectorised (NADI_CLONES: AVX2, AVX-512F copies). Its logarithm is fdlibm's
 * (e_log.c, < 1 ulp) inlined; glibc's is correctly rounded in nearly every case, and the two
 * differ in the last bit for 7 % of arguments: after the rounding to float the values were the
 * same in 2·10⁷ draws tested (a double 1 ulp off crosses a float rounding boundary with
 * probability about 2⁻²⁹).
 * ResNet18 draws 11.7 M weights a network: issue 19 §4 measured the scalar loop at about
 * 40 % of a gradient-mode network's CPU time. */
enum { FILL_PAIRS = 256 };

static void accepted_pairs(nadi_rng *r, double *u, double *v, double *s, int64_t want) {
  int64_t k = 0;
  while (k < want) {
    const double a = 2.0 * nadi_rng_uniform(r) - 1.0, b = 2.0 * nadi_rng_uniform(r) - 1.0;
    const double q = a * a + b * b;
    u[k] = a;
    v[k] = b;
    s[k] = q;
    k += q < 1.0 && q != 0.0; /* a rejected pair is overwritten by the next one */
  }
}

static inline double bits_double(uint64_t b) {
  double x;
  memcpy(&x, &b, sizeof x);
  return x;
}

static inline uint64_t double_bits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

/* log(x) for a normal x > 0: fdlibm's __ieee754_log without its special cases, both of its
 * final forms computed and one selected by a mask (no branch, so the loop vectorises). */
static inline double log_normal_pos(double xin) {
  const uint64_t b = double_bits(xin);
  int32_t hx = (int32_t)(b >> 32), k = (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const int32_t i = (hx + 0x95f64) & 0x100000; /* mantissa above sqrt(2): halve it */
  const double x = bits_double(((uint64_t)(uint32_t)(hx | (i ^ 0x3ff00000)) << 32) |
                               (b & 0xffffffffu));
  k += i >> 20;
  const double f = x - 1.0, dk = (double)k, ln2_hi = 6.93147180369123816490e-01,
               ln2_lo = 1.90821492927058770002e-10;
  const double s = f / (2.0 + f), z = s * s, w = z * z;
  const double t1 = w * (3.999999999940941908e-01 +
                         w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
  const double t2 = z * (6.666666666666735130e-01 +
                         w * (2.857142874366239149e-01 +
                              w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
  const double rr = t2 + t1, hfsq = 0.5 * f * f;
  const double with_hfsq = dk * ln2_hi - ((hfsq - (s * (hfsq + rr) + dk * ln2_lo)) - f);
  const double without = dk * ln2_hi - ((s * (f - rr) - dk * ln2_lo) - f);
  const uint64_t use = (uint64_t)0 - (uint64_t)(((hx - 0x6147a) | (0x6b851 - hx)) > 0);
  return bits_double((double_bits(with_hfsq) & use) | (double_bits(without) & ~use));
}

NADI_CLONES static void polar_factors(double *s, int64_t n) {
  for (int64_t k = 0; k < n; k++)
    s[k] = sqrt(-2.0 * log_normal_pos(s[k]) / s[k]);
}

void nadi_rng_fill_normal(nadi_rng *r, float *x, int64_t n, double mean, double std) {
  int64_t i = 0;
  if (n > 0 && r->has_spare) {
    x[i++] = (float)(mean + std * r->spare);
    r->has_spare = 0;
  }
  double u[FILL_PAIRS], v[FILL_PAIRS], s[FILL_PAIRS];
  while (i < n) {
    const int64_t left = (n - i + 1) / 2, want = left < FILL_PAIRS ? left : FILL_PAIRS;
    accepted_pairs(r, u, v, s, want);
    polar_factors(s, want);
    const int64_t whole = (n - i) / 2 < want ? (n - i) / 2 : want; /* pairs that both fit */
    for (int64_t k = 0; k < whole; k++) {
      x[i + 2 * k] = (float)(mean + std * (u[k] * s[k]));
      x[i + 2 * k + 1] = (float)(mean + std * (v[k] * s[k]));
    }
    i += 2 * whole;
    if (whole < want) { /* odd count: the last pair's second normal waits, as in nadi_rng_normal */
      x[i++] = (float)(mean + std * (u[whole] * s[whole]));
      r->spare = v[whole] * s[whole];
      r->has_spare = 1;
    }
  }
}
