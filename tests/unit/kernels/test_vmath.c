/* The vectorisable elementary functions of lib/kernels/vmath.h against libm in double over dense
 * grids: the bounds vmath.h states are asserted here (relative error; a result that is 0 or
 * subnormal in float is compared absolutely, to within FLT_TRUE_MIN's scale). Also the special
 * values: NaN propagates, the tails are 0 and 1 where they must be. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "kernels/vmath.h"
#include "../check.h"

/* max |got - want| / |want| over the grid lo..hi step h of f against g; where |want| is below
 * FLT_MIN (subnormal results) the error is |got - want| / FLT_MIN. */
static double max_rel(float (*f)(float), double (*g)(double), double lo, double hi, double h,
                      double *at) {
  double worst = 0.0;
  for (double x = lo; x <= hi; x += h) {
    float xf = (float)x;
    double want = g((double)xf), got = (double)f(xf);
    double den = fabs(want) > FLT_MIN ? fabs(want) : FLT_MIN;
    double e = fabs(got - want) / den;
    if (e > worst)
      worst = e, *at = (double)xf;
  }
  return worst;
}

static float f_exp(float x) { return nadi_exp_neg(x); }
static float f_phi(float x) { return nadi_phi(x); }
static double g_phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
static float f_gelu(float x) { return x * nadi_phi(x); }
static double g_gelu(double x) { return x * g_phi(x); }

int main(void) {
  double at = 0.0, e;
  e = max_rel(f_exp, exp, -87.0, 0.0, 1.0 / 4096, &at);
  printf("exp_neg on [-87, 0]: max relative error %.3g at %g\n", e, at);
  CHECK(e <= 1.5e-7, "exp_neg: %g at %g", e, at);
  e = max_rel(f_phi, g_phi, -15.5, 15.5, 1.0 / 16384, &at);
  printf("phi on [-15.5, 15.5]: max relative error %.3g at %g\n", e, at);
  CHECK(e <= 4.5e-7, "phi: %g at %g", e, at);
  e = max_rel(f_phi, g_phi, -4.0, 4.0, 1.0 / 65536, &at);
  printf("phi on [-4, 4]: max relative error %.3g at %g\n", e, at);
  CHECK(e <= 4.5e-7, "phi: %g at %g", e, at);
  /* below x = -12.5 Phi(x) < 4e-36 loses bits to subnormal rounding (its error there is one
   * of FLT_TRUE_MIN's scale) */
  e = max_rel(f_gelu, g_gelu, -12.5, 15.0, 1.0 / 16384, &at);
  printf("gelu on [-12.5, 15]: max relative error %.3g at %g\n", e, at);
  CHECK(e <= 4.5e-7, "gelu: %g at %g", e, at);
  EXPECT(isnan(nadi_phi(NAN)));
  EXPECT(isnan(nadi_exp_neg(NAN)));
  EXPECT(nadi_phi(-INFINITY) == 0.0f);
  EXPECT(nadi_phi(-16.0f) == 0.0f);
  EXPECT(nadi_phi(INFINITY) == 1.0f);
  EXPECT(nadi_phi(9.0f) == 1.0f);
  EXPECT(nadi_phi(0.0f) == 0.5f);
  EXPECT(nadi_exp_neg(0.0f) == 1.0f);
  EXPECT(nadi_exp_neg(-INFINITY) == 0.0f);
  return check_summary();
}
