/* Vectorisable elementary functions for the kernels (never installed): written so that GCC
 * vectorises the loops that call them (libm's expf and erfcf are a call per element), without
 * -ffast-math. Accuracy measured against libm in double over dense grids by
 * tests/unit/kernels/test_vmath.c, which asserts the bounds stated here. */
#ifndef NADI_VMATH_H
#define NADI_VMATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/clones.h"

/* c ? a : b with both computed: as bits, so that GCC cannot move the computation of a or b
 * under the condition (it may not if-convert a float operation that could trap, and the loop
 * would stay scalar) */
static inline float nadi_select_f(int c, float a, float b) {
  uint32_t ua, ub, m = -(uint32_t)c;
  memcpy(&ua, &a, sizeof ua);
  memcpy(&ub, &b, sizeof ub);
  ua = (ua & m) | (ub & ~m);
  memcpy(&a, &ua, sizeof a);
  return a;
}

/* exp(x) for x <= 0 (NaN stays NaN), written so that GCC vectorises loops calling it (libm's
 * expf is a call per element): Cephes' expf, x = n ln2 + r with |r| <= ln2/2 and a degree-6
 * polynomial of r (max relative error 1.2e-7 on [-87, 0], measured against exp in double),
 * times 2^n built from bits. Down to x = -104 the result is subnormal, as expf's (2^n is
 * applied in two halves so that each is a normal float); below, 0. No float-to-int conversion
 * (undefined for NaN): n comes out of the rounding by 1.5 * 2^23. */
static inline float nadi_exp_neg(float x) {
  const float magic = 12582912.0f; /* 1.5 * 2^23: t = v + magic rounds v to an integer */
  x = nadi_select_f(x < -104.0f, -104.0f, x); /* (a plain select lets GCC split the loop body) */
  float t = x * 1.44269504088896341f + magic, nf = t - magic;
  float r = x - nf * 0.693359375f + nf * 2.12194440e-4f;
  float z = r * r;
  float p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
              4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  int32_t ti, n1, n2;
  memcpy(&ti, &t, sizeof ti);
  n1 = (ti - 0x4B400000) / 2; /* n in [-150, 0] as n1 + n2, each in [-75, 0] */
  n2 = (ti - 0x4B400000) - n1;
  uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
  float s1, s2;
  memcpy(&s1, &b1, sizeof s1);
  memcpy(&s2, &b2, sizeof s2);
  return p * s1 * s2;
}

/* Phi(x) = erfc(-x / sqrt 2) / 2, the standard normal CDF (GELU's erf form is x * Phi(x)).
 * The tail T = erfc(a) / 2, a = |x| / sqrt 2, is exp(-x^2 / 2) * t * R(t) with t = 1 / (1 + a/2)
 * and R a degree-10 polynomial fitted here (relative least squares against erfc(a) exp(a^2) / t
 * in 50-digit arithmetic, t in [1/6.25, 1], i.e. a <= 10.5; fit error 3.8e-9). exp(-x^2 / 2) is
 * taken in two factors, x = xh + xl with xh's low 12 mantissa bits cleared (xh^2 exact), so that
 * the rounding of x^2 does not enter the tail's exponent. Phi is the tail for x < 0 and 1 - tail
 * above (tail <= 1/2: no cancellation). Max relative error of Phi over x in [-15.5, 15.5]
 * (subnormal results counted to FLT_MIN's scale): 4.0e-7, about 3 ulp, mostly the rounding of
 * t (libm's erfcf on the rounded x / sqrt 2, which this replaced: 1.2e-5 at x = -12.9, 1.1e-6
 * on [-4, 4]: the rounding of the argument grows with x^2). Beyond |x| = 15.5 the tail is 0
 * (its true value < 2.7e-54); NaN stays NaN. */
static inline float nadi_phi(float x) {
  const float sqrt1_2 = 0.70710678118654752f;
  float ax = fabsf(x);
  ax = nadi_select_f(ax > 15.5f, 15.5f, ax);
  float t = 1.0f / (1.0f + 0.5f * sqrt1_2 * ax);
  float r = 3.671173019e-02f;
  r = r * t - 1.966012862e-01f;
  r = r * t + 3.957852265e-01f;
  r = r * t - 3.109044924e-01f;
  r = r * t - 1.878729997e-03f;
  r = r * t + 2.288380579e-02f;
  r = r * t + 6.009631072e-02f;
  r = r * t + 1.841638524e-01f;
  r = r * t + 2.454257060e-01f;
  r = r * t + 2.822283532e-01f;
  r = r * t + 2.820895276e-01f;
  uint32_t u;
  memcpy(&u, &ax, sizeof u);
  u &= 0xFFFFF000u;
  float xh;
  memcpy(&xh, &u, sizeof xh);
  float e = nadi_exp_neg(-0.5f * xh * xh) * nadi_exp_neg(-0.5f * (ax - xh) * (ax + xh));
  float tail = 0.5f * t * r * e;
  return nadi_select_f(x < 0.0f, tail, 1.0f - tail);
}

#endif
