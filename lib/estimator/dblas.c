/* Double-precision CBLAS calls of the estimator: the only estimator file that includes cblas.h
 * (single precision lives in lib/kernels/blas.c). Callers guarantee every dimension fits in int
 * (Debian 12's OpenBLAS and BLIS use 32-bit integers); the façade checks D. */
#include <assert.h>
#include <limits.h>

#include "kernels/cblas_include.h"

#include "estimator/estimator.h"

void nadi_dsyrk_lower_t(int64_t n, int64_t k, double alpha, const double *a, double *c) {
  assert(n <= INT_MAX && k <= INT_MAX);
  if (n == 0 || k == 0)
    return;
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)n, (int)k, alpha, a, (int)n, 1.0, c,
              (int)n);
}

void nadi_dsyr_lower(int64_t n, double alpha, const double *x, double *c) {
  assert(n <= INT_MAX);
  if (n == 0 || alpha == 0.0)
    return;
  cblas_dsyr(CblasRowMajor, CblasLower, (int)n, alpha, x, 1, c, (int)n);
}

void nadi_dgemm_nt(int64_t m, int64_t n, int64_t k, double alpha, const double *a,
                   const double *b, double beta, double *c) {
  assert(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX);
  if (m == 0 || n == 0)
    return;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, alpha, a, (int)k,
              b, (int)k, beta, c, (int)n);
}
