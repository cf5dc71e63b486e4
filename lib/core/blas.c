/* The one file that talks to CBLAS. Callers guarantee that every dimension fits in int
 * (Debian 12's OpenBLAS and BLIS use 32-bit integers); the façade checks shapes for that. */
#include <assert.h>
#include <limits.h>

#include <cblas.h>

#include "core/blas.h"

void nadi_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                int64_t ldc) {
  assert(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX &&
         ldc <= INT_MAX);
  if (m == 0 || n == 0)
    return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

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

void nadi_dgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c,
                int64_t ldc) {
  assert(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX &&
         ldc <= INT_MAX);
  if (m == 0 || n == 0)
    return;
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

#if defined(NADI_BLAS_OPENBLAS)
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
int nadi_blas_set_threads(int n) {
  int old = openblas_get_num_threads();
  openblas_set_num_threads(n);
  return old;
}
#elif defined(NADI_BLAS_BLIS)
int64_t bli_thread_get_num_threads(void);
void bli_thread_set_num_threads(int64_t);
int nadi_blas_set_threads(int n) {
  int old = (int)bli_thread_get_num_threads();
  bli_thread_set_num_threads(n);
  return old;
}
#else
int nadi_blas_set_threads(int n) {
  (void)n;
  return 1;
}
#endif
