/* The LAPACK wrapper (lib/core/lapack.c, the only file that includes lapacke.h): symmetric
 * eigensolve, QR and a positive-definite solve, all in double precision on row-major matrices.
 * Never installed. Beside the CBLAS (core/blas.h) and FFTW (core/fft.h) wrappers; the top-k
 * Krylov eigensolver and the subspace comparison built on it are in lib/linalg/. */
#ifndef NADI_LAPACK_H
#define NADI_LAPACK_H

#include <stdint.h>

#include "nad/nad.h"

/* Top k eigenpairs of the symmetric d×d matrix a (full storage; destroyed). evals: k doubles,
 * descending. evecs: k×d row-major (row i = eigenvector i, unit norm, sign: largest-magnitude
 * entry positive). NAD_ERR_NUMERICAL on LAPACK failure. */
nad_status nadi_eig_top(double *a, int64_t d, int64_t k, double *evals, double *evecs);
/* Replace the k rows of a (k×d row-major, k <= d) by an orthonormal basis of their span
 * (Householder QR, as numpy.linalg.qr of aᵀ). */
nad_status nadi_orthonormal_rows(double *a, int64_t k, int64_t d);
/* Solve A X = B for the symmetric positive definite d×d matrix a (row-major, only its lower
 * triangle j <= i is read; destroyed: Cholesky factor) and the nrhs right-hand sides that are
 * the rows of b (nrhs×d row-major, overwritten by the solutions). NAD_ERR_NUMERICAL when a is
 * not positive definite. */
nad_status nadi_spd_solve(double *a, int64_t d, double *b, int64_t nrhs);

/* Make the entry of largest magnitude positive (the first on ties): the sign convention of every
 * eigenvector the library returns. */
void nadi_eig_fix_sign(double *v, int64_t d);

#endif
