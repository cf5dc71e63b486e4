/* Subspace overlap of two NAD sets (as the reference's tools/subspace.py): mean squared cosine
 * of the principal angles between span(a[0..k)) and span(b[0..k)) = ||Qaᵀ Qb||²_F / k, with Q
 * orthonormal bases from a QR (LAPACK through lib/core/lapack.c). */
#include "core/blas.h"
#include "core/core.h"
#include "linalg/linalg.h"

double nadi_overlap_orthonormal(const double *qa, const double *qb, int64_t k, int64_t d) {
  double *m = nadi_alloc((size_t)(k * k), sizeof(double));
  if (!m)
    return -1.0;
  nadi_dgemm_nt(k, k, d, 1.0, qa, qb, 0.0, m);
  double s = 0.0;
  for (int64_t i = 0; i < k * k; i++)
    s += m[i] * m[i];
  nadi_free(m);
  return s / (double)k;
}

nad_status nadi_subspace_overlap(const float *a, const float *b, int64_t k, int64_t d,
                                 double *overlap) {
  const size_t n = (size_t)(k * d);
  double *qa = nadi_alloc(n, sizeof(double)), *qb = nadi_alloc(n, sizeof(double));
  if (!qa || !qb) {
    nadi_free(qa);
    nadi_free(qb);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "nad_subspace_overlap: %zu doubles", 2 * n);
  }
  for (size_t i = 0; i < n; i++) {
    qa[i] = (double)a[i];
    qb[i] = (double)b[i];
  }
  nad_status st = nadi_orthonormal_rows(qa, k, d);
  if (st == NAD_OK)
    st = nadi_orthonormal_rows(qb, k, d);
  if (st == NAD_OK) {
    double s = nadi_overlap_orthonormal(qa, qb, k, d);
    if (s < 0.0)
      st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "nad_subspace_overlap: workspace");
    else
      *overlap = s;
  }
  nadi_free(qa);
  nadi_free(qb);
  return st;
}
