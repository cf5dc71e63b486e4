/* The BLAS wrapper (lib/core/blas.c, the only file that includes cblas.h): single precision
 * for the kernels, double precision for the estimator's accumulator, and BLAS's own threads.
 * Never installed.
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

#endif
