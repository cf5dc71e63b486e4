/* Public comparison of NAD sets: spectra from eigenpairs, the correlation of log spectra and
 * the subspace overlap. Validation here; the work in lib/estimator (spectrum.c, compare.c). */
#include <math.h>

#include "api/api.h"
#include "estimator/stats.h"
#include "linalg/linalg.h"

nad_status nad_spectrum_from_nads(const float *nads, const double *eigenvalues, int64_t count,
                                  int64_t c, int64_t h, int64_t w, double *dst, size_t dst_len) {
  NADI_CHECK(nads && eigenvalues && dst, NAD_ERR_INVALID_ARG,
             "nad_spectrum_from_nads: NULL pointer argument");
  NADI_CHECK(count >= 1 && c >= 1 && h >= 1 && w >= 1, NAD_ERR_INVALID_ARG,
             "nad_spectrum_from_nads: count, c, h, w must be >= 1 (got %lld, %lld, %lld, %lld)",
             (long long)count, (long long)c, (long long)h, (long long)w);
  int64_t hw, d, cd;
  NADI_CHECK(nadi_mul_ok(h, w, &hw) && hw <= INT32_MAX && nadi_mul_ok(c, hw, &d) &&
                 nadi_mul_ok(count, d, &cd),
             NAD_ERR_INVALID_ARG, "nad_spectrum_from_nads: sizes overflow");
  NADI_CHECK_LEN("nad_spectrum_from_nads", "dst (c·h·w)", dst_len, d);
  /* Covariance eigenvalues are >= 0 up to rounding; clamping clearly negative ones to 0 would
   * turn them into "spectrum is zero" further on (issue 11). */
  double top = 0.0, low = 0.0;
  for (int64_t i = 0; i < count; i++) {
    NADI_CHECK(isfinite(eigenvalues[i]), NAD_ERR_INVALID_ARG,
               "nad_spectrum_from_nads: eigenvalue %lld is not finite", (long long)i);
    top = fabs(eigenvalues[i]) > top ? fabs(eigenvalues[i]) : top;
    low = eigenvalues[i] < low ? eigenvalues[i] : low;
  }
  NADI_CHECK(!(low < -1e-6 * top), NAD_ERR_INVALID_ARG,
             "nad_spectrum_from_nads: eigenvalues are negative (down to %g): covariance "
             "eigenvalues are >= 0", low);
  return nadi_spectrum_eig(nads, eigenvalues, count, c, h, w, dst);
}

nad_status nad_spectrum_correlation(const double *pa, const double *pb, int64_t n,
                                    double *corr) {
  NADI_CHECK(pa && pb && corr, NAD_ERR_INVALID_ARG,
             "nad_spectrum_correlation: NULL pointer argument");
  NADI_CHECK(n >= 2, NAD_ERR_INVALID_ARG, "nad_spectrum_correlation: n = %lld, need >= 2",
             (long long)n);
  return nadi_log_spectrum_corr(pa, pb, n, corr);
}

nad_status nad_subspace_overlap(const float *a, const float *b, int64_t k, int64_t d,
                                double *overlap) {
  NADI_CHECK(a && b && overlap, NAD_ERR_INVALID_ARG,
             "nad_subspace_overlap: NULL pointer argument");
  NADI_CHECK(d >= 1 && d <= INT32_MAX, NAD_ERR_INVALID_ARG,
             "nad_subspace_overlap: d = %lld out of range", (long long)d);
  NADI_CHECK(k >= 1 && k <= d, NAD_ERR_INVALID_ARG,
             "nad_subspace_overlap: k = %lld, need 1 <= k <= d = %lld", (long long)k,
             (long long)d);
  const size_t n = (size_t)(k * d);
  for (size_t i = 0; i < n; i++)
    NADI_CHECK(isfinite(a[i]) && isfinite(b[i]), NAD_ERR_NUMERICAL,
               "nad_subspace_overlap: non-finite entry at row %zu", i / (size_t)d);
  return nadi_subspace_overlap(a, b, k, d, overlap);
}
