/* The BLAS wrapper (lib/core/blas.c, the only file that includes cblas.h): single precision
 * for the kernels, double precision for the estimator's accumulator, BLAS's own threads and
 * what the BLAS says about itself; and the policy on its kernel set (blas_advice.c). Never
 * installed.
 *
 * Row-major throughout. Callers guarantee that every dimension fits in int (Debian 12's
 * OpenBLAS and BLIS use 32-bit integers); the façade checks shapes for that. */
#ifndef NADI_BLAS_H
#define NADI_BLAS_H

#include <stdint.h>

/* C[m,n] = alpha * op(A) op(B) + beta * C. */
void nadi_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                int64_t ldc);

/* C (n×n, lower triangle) += alpha · Aᵀ A, A is k×n (lda = n). */
void nadi_dsyrk_lower_t(int64_t n, int64_t k, double alpha, const double *a, double *c);
/* C (n×n, lower triangle) = alpha · A Aᵀ + beta · C, A is n×k (leading dimension lda). */
void nadi_dsyrk_lower_n(int64_t n, int64_t k, double alpha, const double *a, int64_t lda,
                        double beta, double *c);
/* C (n×n, lower triangle) += alpha · x xᵀ. */
void nadi_dsyr_lower(int64_t n, double alpha, const double *x, double *c);
/* C[m,n] = alpha · A · Bᵀ + beta · C, A m×k, B n×k (both row-major, leading dim k). */
void nadi_dgemm_nt(int64_t m, int64_t n, int64_t k, double alpha, const double *a,
                   const double *b, double beta, double *c);

/* C[m,n] = alpha · op(A) op(B) + beta · C in double (row-major, explicit leading dimensions):
 * the top-k eigensolver and the sketch need products with either operand transposed. */
void nadi_dgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c,
                int64_t ldc);

/* Set BLAS-internal threads (returns previous); no-op where the BLAS cannot. */
int nadi_blas_set_threads(int n);

/* What the BLAS reports about itself. Strings are the BLAS's own static storage. */
typedef struct nadi_blas_facts {
  const char *vendor;     /* "OpenBLAS", "BLIS" */
  const char *version;    /* openblas_get_config() / BLIS version */
  const char *core;       /* kernel set in use: OpenBLAS core name, BLIS sub-configuration */
  const char *select_env; /* variable that selects the kernel set when set before the BLAS
                             starts ("OPENBLAS_CORETYPE"); NULL when there is none */
  int threads;            /* BLAS-internal threads */
} nadi_blas_facts;
void nadi_blas_facts_get(nadi_blas_facts *f);

/* Kernel-set policy (lib/core/blas_advice.c), pure functions of their arguments so that tests
 * can feed any core name and CPU level. */
/* Vector level (NADI_SIMD_*) a kernel set is written for, in the vendor's naming; -2 if the
 * name is unknown (never judged). */
int nadi_blas_core_level(const char *vendor, const char *core);
/* The vendor's name of the best kernel set for a CPU level, NULL if none is better than
 * generic. */
const char *nadi_blas_core_for_level(const char *vendor, int level);
typedef enum nadi_blas_verdict {
  NADI_BLAS_OK = 0,       /* kernel set matches the CPU, or nothing is known to be better */
  NADI_BLAS_RESTART = 1,  /* weaker: set select_env=better before the BLAS starts */
  NADI_BLAS_USER_ENV = 2, /* weaker, but the user's own select_env asks for it: keep, warn */
  NADI_BLAS_STUCK = 3     /* weaker, and no variable selects another (or it was ignored) */
} nadi_blas_verdict;
/* user_value: the current value of select_env in the environment (NULL = unset). */
nadi_blas_verdict nadi_blas_advise(const char *vendor, const char *core, int cpu_level,
                                   const char *select_env, const char *user_value,
                                   const char **better);

#endif
