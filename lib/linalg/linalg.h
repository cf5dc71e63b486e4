/* Linear algebra above the vendor wrappers (lib/linalg/). Never installed.
 *
 * topk.c: the top-k eigenpairs of a large symmetric positive semi-definite matrix (a covariance)
 * by restarted block Krylov, and the choice between it and LAPACK's dsyevr. subspace.c: the
 * overlap of two subspaces (nad_subspace_overlap, the estimator's convergence). Both call
 * CBLAS through lib/core/blas.c and LAPACK through lib/core/lapack.c only; nothing here knows
 * the estimator. Vectors are rows (k×d row-major), signs as nadi_eig_fix_sign. */
#ifndef NADI_LINALG_H
#define NADI_LINALG_H

#include <stdint.h>

#include "core/lapack.h"

/* ---- top-k eigenpairs of a large covariance (topk.c) -------------------------------------- */
/* How eigenpairs were computed (NADI_EIG_SKETCH: from a Frequent Directions sketch, set by the
 * estimator's sketching mode). */
enum { NADI_EIG_LAPACK = 0, NADI_EIG_KRYLOV = 1, NADI_EIG_LAPACK_FALLBACK = 2, NADI_EIG_SKETCH = 3 };
typedef struct nadi_topk_params {
  int64_t guard; /* block size b = k + guard */
  int64_t steps; /* block products per restart cycle (basis of steps·b vectors) */
  double tol;    /* wanted residual ||A v − θ v|| <= max(tol · θ, floor · θ_1) */
  double floor;
} nadi_topk_params;
typedef struct nadi_topk_info {
  int method;           /* NADI_EIG_* */
  int64_t block, steps; /* Krylov: block size and steps per cycle */
  int64_t cycles, products; /* restart cycles and block products A·X done */
  double max_residual;  /* max over the k pairs of ||A v − θ v|| / θ_1 */
} nadi_topk_info;
void nadi_topk_default_params(int64_t d, int64_t k, nadi_topk_params *p);
/* Top k eigenpairs of the symmetric positive semi-definite d×d matrix a (full storage, not
 * modified) by restarted block Krylov (params NULL: defaults); evals descending, evecs k×d rows,
 * signs as nadi_eig_fix_sign. NAD_ERR_NUMERICAL when it does not converge. info may be NULL. */
nad_status nadi_eig_topk_krylov(const double *a, int64_t d, int64_t k, const nadi_topk_params *p,
                                double *evals, double *evecs, nadi_topk_info *info);
/* Whether nadi_eig_cov uses the Krylov method for (d, k). */
int nadi_topk_use_krylov(int64_t d, int64_t k);
/* Top k eigenpairs of a covariance (a: full symmetric, destroyed) by the faster of the two
 * methods, as nadi_eig_top. info (may be NULL) says which one answered. */
nad_status nadi_eig_cov(double *a, int64_t d, int64_t k, double *evals, double *evecs,
                        nadi_topk_info *info);

/* ---- subspace comparison (subspace.c) ----------------------------------------------------- */
/* ||Qaᵀ Qb||²_F / k for two sets of k orthonormal rows of length d; −1 when out of memory. */
double nadi_overlap_orthonormal(const double *qa, const double *qb, int64_t k, int64_t d);
/* The same for the spans of the first k rows of a and b (k×d floats each, finite, k <= d):
 * orthonormal bases by QR first. */
nad_status nadi_subspace_overlap(const float *a, const float *b, int64_t k, int64_t d,
                                 double *overlap);

#endif
