/* The LAPACK wrapper: symmetric eigensolver, QR and Cholesky solve; the only file that includes
 * lapacke.h.
 *
 * A symmetric row-major matrix is its own column-major transpose, so LAPACK's column-major
 * routines are called directly on it: LAPACKE's row-major path would first allocate a
 * transposed copy, another 8·D² bytes (1.2 GB at D = 12,288). */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <lapacke.h>

#include "core/core.h"
#include "core/lapack.h"

/* Make the entry of largest magnitude positive (the first one on ties): eigenvectors are
 * defined up to sign and the convention makes results comparable across runs and libraries. */
void nadi_eig_fix_sign(double *v, int64_t d) {
  int64_t best = 0;
  for (int64_t i = 1; i < d; i++)
    if (fabs(v[i]) > fabs(v[best]))
      best = i;
  if (v[best] < 0)
    for (int64_t i = 0; i < d; i++)
      v[i] = -v[i];
}

nad_status nadi_eig_top(double *a, int64_t d, int64_t k, double *evals, double *evecs) {
  if (d > INT_MAX || k < 1 || k > d)
    return nadi_fail(NAD_ERR_INVALID_ARG, "eigensolve of %lld eigenpairs of a %lld×%lld matrix",
                     (long long)k, (long long)d, (long long)d);
  for (int64_t i = 0; i < d * d; i++)
    if (!isfinite(a[i]))
      return nadi_fail(NAD_ERR_NUMERICAL, "the covariance has a non-finite entry (%lld, %lld)",
                       (long long)(i / d), (long long)(i % d));
  double *w = nadi_alloc((size_t)d, sizeof(double));
  lapack_int *isuppz = nadi_alloc(2 * (size_t)d, sizeof(lapack_int));
  if (!w || !isuppz) {
    nadi_free(w);
    nadi_free(isuppz);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "eigensolver workspace");
  }
  lapack_int m = 0;
  const lapack_int n = (lapack_int)d;
  /* range 'I' with il..iu = the k largest (LAPACK's indices are ascending, 1-based). */
  const char range = k == d ? 'A' : 'I';
  lapack_int info = LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'V', range, 'L', n, a, n, 0.0, 0.0,
                                   (lapack_int)(d - k + 1), n, 0.0, &m, w, evecs, n, isuppz);
  nad_status st = NAD_OK;
  if (info != 0 || m != (lapack_int)k) {
    st = nadi_fail(NAD_ERR_NUMERICAL, "LAPACKE_dsyevr failed (info %d, %d of %lld eigenpairs)",
                   (int)info, (int)m, (long long)k);
  } else {
    /* Column-major z (d×k) = row-major k×d with rows in ascending order: reverse them. */
    for (int64_t i = 0; i < k; i++)
      evals[i] = w[k - 1 - i];
    for (int64_t i = 0, j = k - 1; i < j; i++, j--) {
      double *ri = evecs + i * d, *rj = evecs + j * d;
      for (int64_t t = 0; t < d; t++) {
        double tmp = ri[t];
        ri[t] = rj[t];
        rj[t] = tmp;
      }
    }
    for (int64_t i = 0; i < k; i++)
      nadi_eig_fix_sign(evecs + i * d, d);
  }
  nadi_free(w);
  nadi_free(isuppz);
  return st;
}

nad_status nadi_orthonormal_rows(double *a, int64_t k, int64_t d) {
  if (d > INT_MAX || k < 1 || k > d)
    return nadi_fail(NAD_ERR_INVALID_ARG, "QR of %lld vectors of length %lld", (long long)k,
                     (long long)d);
  double *tau = nadi_alloc((size_t)k, sizeof(double));
  if (!tau)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "QR workspace");
  /* Row-major k×d = column-major d×k: the rows are the columns QR sees. */
  lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)d, (lapack_int)k, a,
                                   (lapack_int)d, tau);
  if (info == 0)
    info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)d, (lapack_int)k, (lapack_int)k, a,
                          (lapack_int)d, tau);
  nadi_free(tau);
  if (info != 0)
    return nadi_fail(NAD_ERR_NUMERICAL, "LAPACKE QR failed (info %d)", (int)info);
  return NAD_OK;
}

nad_status nadi_spd_solve(double *a, int64_t d, double *b, int64_t nrhs) {
  if (d > INT_MAX || nrhs > INT_MAX || d < 1 || nrhs < 1)
    return nadi_fail(NAD_ERR_INVALID_ARG, "solve of %lld right-hand sides of length %lld",
                     (long long)nrhs, (long long)d);
  /* The row-major lower triangle is the column-major upper one; the row-major nrhs×d right-hand
   * sides are the column-major d×nrhs matrix LAPACK expects. */
  lapack_int info = LAPACKE_dposv(LAPACK_COL_MAJOR, 'U', (lapack_int)d, (lapack_int)nrhs, a,
                                  (lapack_int)d, b, (lapack_int)d);
  if (info > 0)
    return nadi_fail(NAD_ERR_NUMERICAL,
                     "the matrix is not positive definite (LAPACKE_dposv: leading minor %d)",
                     (int)info);
  if (info < 0)
    return nadi_fail(NAD_ERR_NUMERICAL, "LAPACKE_dposv failed (info %d)", (int)info);
  return NAD_OK;
}
