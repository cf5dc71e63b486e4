/* The one file that talks to CBLAS (and to the vendor's own API: threads, kernel set). Callers
 * guarantee that every dimension fits in int (Debian 12's OpenBLAS and BLIS use 32-bit
 * integers); the façade checks shapes for that. */
#include <assert.h>
#include <limits.h>
#include <string.h>

#if defined(NADI_BLAS_BLIS) && defined(__GNUC__)
/* BLIS's cblas.h carries all of blis.h, whose static helpers this file does not all use. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <cblas.h>
#pragma GCC diagnostic pop
#else
#include <cblas.h>
#endif

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

void nadi_dsyrk_lower_n(int64_t n, int64_t k, double alpha, const double *a, int64_t lda,
                        double beta, double *c) {
  assert(n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX);
  if (n == 0)
    return;
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (int)n, (int)k, alpha, a, (int)lda, beta,
              c, (int)n);
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
/* OpenBLAS's own API (declared in its cblas.h on Debian, not in every cblas.h). */
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
char *openblas_get_corename(void);
char *openblas_get_config(void);

int nadi_blas_set_threads(int n) {
  int old = openblas_get_num_threads();
  openblas_set_num_threads(n);
  return old;
}

void nadi_blas_facts_get(nadi_blas_facts *f) {
  f->vendor = "OpenBLAS";
  f->version = openblas_get_config();
  f->core = openblas_get_corename();
  /* Only a DYNAMIC_ARCH build carries several kernel sets and reads OPENBLAS_CORETYPE. */
  f->select_env = strstr(f->version, "DYNAMIC_ARCH") ? "OPENBLAS_CORETYPE" : NULL;
  f->threads = openblas_get_num_threads();
}
#elif defined(NADI_BLAS_BLIS)
#ifndef BLIS_H /* a cblas.h without blis.h: BLIS's own declarations */
int64_t bli_thread_get_num_threads(void);
void bli_thread_set_num_threads(int64_t);
int bli_arch_query_id(void); /* arch_t is an int-sized enum */
const char *bli_arch_string(int id);
const char *bli_info_get_version_str(void);
#endif

int nadi_blas_set_threads(int n) {
  int old = (int)bli_thread_get_num_threads();
  bli_thread_set_num_threads(n);
  return old;
}

void nadi_blas_facts_get(nadi_blas_facts *f) {
  f->vendor = "BLIS";
  f->version = bli_info_get_version_str();
  f->core = bli_arch_string(bli_arch_query_id());
  /* BLIS 0.9.0 (Debian 12) reads BLIS_ARCH_TYPE as an index but aborts for every value
   * (measured): there is no way to select a sub-configuration from outside. */
  f->select_env = NULL;
  /* -1 = neither BLIS_NUM_THREADS nor a per-loop split is set: BLIS runs on one thread. */
  int64_t t = bli_thread_get_num_threads();
  f->threads = t < 1 ? 1 : (int)t;
}
#else
int nadi_blas_set_threads(int n) {
  (void)n;
  return 1;
}

void nadi_blas_facts_get(nadi_blas_facts *f) {
  f->vendor = "unknown";
  f->version = "";
  f->core = "";
  f->select_env = NULL;
  f->threads = 1;
}
#endif
