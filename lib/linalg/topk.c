/* Top-k eigenpairs of a large symmetric positive semi-definite matrix (the covariance) by a
 * restarted randomized block Krylov method, and the choice between it and LAPACK's dsyevr.
 *
 * Why: dsyevr reduces the whole d×d matrix to tridiagonal form first, O(d³) flops of which half
 * are matrix-vector (memory-bound) work: minutes at D = 12,288 even when only 64 eigenpairs are
 * wanted. A Krylov method touches the matrix only through block products A·X (BLAS-3, X of b
 * columns), O(d²·b) each, and a few dozen of them give the top eigenpairs to working accuracy.
 *
 * Method (block Lanczos with full reorthogonalisation, Rayleigh–Ritz, restart from the Ritz
 * vectors; cf. Musco & Musco 2015, "Randomized block Krylov methods"):
 *   Q_1 = orth(random b×d), b = k + p (p guard vectors: convergence of λ_k depends on the gap to
 *   λ_{b+1}, not to λ_{k+1});
 *   Q_{j+1} = orth(Q_j A minus its components along Q_1..Q_j), j < s (twice: "twice is enough");
 *   after each step from the second on, Rayleigh–Ritz: H = Q Wᵀ with W = Q A kept from the
 *   products (one new block row per step), the top b eigenpairs (θ, z) of H (LAPACK on the small
 *   j·b × j·b problem, lib/core/lapack.c), Ritz vectors V = Z Q and A V = Z W (no extra product); stop as
 *   soon as every wanted residual ||A v_i − θ_i v_i|| <= max(tol · θ_i, floor · θ_1); after s
 *   steps without convergence, restart from V. Checking every step costs a few per cent of a
 *   product at D = 12,288 and stops at the first step that suffices.
 * The residual bounds the eigenvalue error (some eigenvalue lies within ||r|| of θ, and within
 * ||r||²/gap once separated), so tol = 1e-8 gives eigenvalues far below the 1e-6 relative the
 * estimator needs. The floor (1e-12 of θ_1, a few hundred ulps of ||A||) is what double precision
 * can resolve for eigenvalues near zero (a covariance of fewer networks than D has many, and a
 * run of fewer networks than K asks for them).
 * The start block comes from a fixed random stream, so the result depends on the matrix (and the
 * BLAS's rounding) only. If the method does not converge within MAX_CYCLES the caller falls back
 * to dsyevr. Vectors are rows (k×d row-major), as everywhere in the library. */
#include <math.h>
#include <string.h>

#include "core/blas.h"
#include "core/core.h"
#include "linalg/linalg.h"

#define TOPK_STREAM 0x746f706b /* "topk": the start block's random stream */
#define MAX_CYCLES 40

void nadi_topk_default_params(int64_t d, int64_t k, nadi_topk_params *p) {
  p->guard = k / 2 > 16 ? k / 2 : 16;
  if (p->guard > 64)
    p->guard = 64;
  p->steps = 10;
  p->tol = 1e-8;
  p->floor = 1e-12;
  (void)d;
}

/* y (b×d) -= (y qᵀ) q for the nq orthonormal rows q; c: b×nq scratch. */
static void project_out(double *y, int64_t b, const double *q, int64_t nq, int64_t d, double *c) {
  if (nq == 0)
    return;
  nadi_dgemm(0, 1, b, nq, d, 1.0, y, d, q, d, 0.0, c, nq);
  nadi_dgemm(0, 0, b, d, nq, -1.0, c, nq, q, d, 1.0, y, d);
}

/* Orthonormalise the b rows of y against the nq rows of q and among themselves. Two rounds: the
 * second repairs what cancellation lost in the first (a block that was nearly inside span(q)
 * comes out of the first QR with directions made of rounding, no longer orthogonal to q). */
static nad_status orth_against(double *y, int64_t b, const double *q, int64_t nq, int64_t d,
                               double *c) {
  for (int round = 0; round < 2; round++) {
    project_out(y, b, q, nq, d, c);
    NADI_TRY(nadi_orthonormal_rows(y, b, d));
  }
  return NAD_OK;
}

nad_status nadi_eig_topk_krylov(const double *a, int64_t d, int64_t k, const nadi_topk_params *pp,
                                double *evals, double *evecs, nadi_topk_info *info) {
  nadi_topk_params p;
  if (pp)
    p = *pp;
  else
    nadi_topk_default_params(d, k, &p);
  int64_t b = k + p.guard;
  if (b > d)
    b = d;
  int64_t s = p.steps;
  if (s * b > d)
    s = d / b;
  if (k < 1 || k > d || s < 1)
    return nadi_fail(NAD_ERR_INVALID_ARG,
                     "block Krylov: %lld eigenpairs of a %lld×%lld matrix with %lld-row blocks",
                     (long long)k, (long long)d, (long long)d, (long long)b);
  const int64_t n = s * b; /* basis size */
  if (info) {
    memset(info, 0, sizeof *info);
    info->method = NADI_EIG_KRYLOV;
    info->block = b;
    info->steps = s;
  }
  double *q = nadi_alloc((size_t)(n * d), sizeof(double));  /* basis, n rows */
  double *w = nadi_alloc((size_t)(n * d), sizeof(double));  /* w = q·A */
  double *v = nadi_alloc((size_t)(b * d), sizeof(double));  /* Ritz vectors */
  double *av = nadi_alloc((size_t)(b * d), sizeof(double)); /* A·v */
  double *c = nadi_alloc((size_t)(b * n), sizeof(double));
  double *h = nadi_alloc((size_t)(n * n), sizeof(double));
  double *hm = nadi_alloc((size_t)(n * n), sizeof(double)); /* leading block, destroyed by eig */
  double *z = nadi_alloc((size_t)(b * n), sizeof(double));
  double *theta = nadi_alloc((size_t)b, sizeof(double));
  nad_status st = NAD_OK;
  if (!q || !w || !v || !av || !c || !h || !hm || !z || !theta)
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "block Krylov workspace (%lld vectors of %lld)",
                   (long long)(2 * n + 2 * b), (long long)d);
  if (st == NAD_OK) {
    nadi_rng r;
    nadi_rng_init(&r, 0, TOPK_STREAM);
    for (int64_t i = 0; i < b * d; i++)
      q[i] = nadi_rng_normal(&r);
    st = nadi_orthonormal_rows(q, b, d);
  }
  int converged = 0;
  for (int64_t cycle = 0; st == NAD_OK && !converged && cycle < MAX_CYCLES; cycle++) {
    for (int64_t j = 0; j < s && st == NAD_OK && !converged; j++) {
      const int64_t m = (j + 1) * b; /* basis size after this step */
      /* W_j = Q_j A (A symmetric: row-major A is also its transpose). */
      nadi_dgemm(0, 0, b, d, d, 1.0, q + j * b * d, d, a, d, 0.0, w + j * b * d, d);
      if (info)
        info->products++;
      /* New block row of H = Q Wᵀ = Q A Qᵀ (n×n storage), mirrored: H stays symmetric. */
      nadi_dgemm(0, 1, b, m, d, 1.0, q + j * b * d, d, w, d, 0.0, c, m);
      for (int64_t r = 0; r < b; r++)
        for (int64_t t = 0; t < m; t++) {
          h[(j * b + r) * n + t] = c[r * m + t];
          h[t * n + j * b + r] = c[r * m + t];
        }
      if (j >= 1 || s == 1) {
        /* Rayleigh–Ritz on span(Q_1..Q_j): top b pairs of the m×m leading block of H. */
        for (int64_t r = 0; r < m; r++)
          memcpy(hm + r * m, h + r * n, (size_t)m * sizeof(double));
        if ((st = nadi_eig_top(hm, m, b, theta, z)) != NAD_OK)
          break;
        nadi_dgemm(0, 0, b, d, m, 1.0, z, m, q, d, 0.0, v, d);
        nadi_dgemm(0, 0, b, d, m, 1.0, z, m, w, d, 0.0, av, d);
        const double top = theta[0] > 0.0 ? theta[0] : 0.0;
        double worst = 0.0; /* largest residual / allowed residual over the wanted pairs */
        double max_res = 0.0;
        for (int64_t i = 0; i < k; i++) {
          double r2 = 0.0;
          const double *vi = v + i * d, *avi = av + i * d;
          for (int64_t t = 0; t < d; t++) {
            const double e = avi[t] - theta[i] * vi[t];
            r2 += e * e;
          }
          const double res = sqrt(r2);
          /* Relative to θ_i, but never below what double precision resolves next to θ_1:
           * eigenvalues at rounding level (a covariance of fewer networks than K) converge
           * only to ~1e-16·θ_1. */
          double allowed = fmax(p.tol * fabs(theta[i]), p.floor * top);
          if (!(allowed > 0.0))
            allowed = 1e-300; /* A = 0: the residual is 0 too */
          worst = fmax(worst, res / allowed);
          max_res = fmax(max_res, res);
        }
        if (info) {
          info->cycles = cycle + 1;
          info->max_residual = top > 0.0 ? max_res / top : max_res;
        }
        converged = worst <= 1.0;
      }
      if (!converged && j + 1 < s) {
        double *next = q + (j + 1) * b * d;
        memcpy(next, w + j * b * d, (size_t)(b * d) * sizeof(double));
        st = orth_against(next, b, q, (j + 1) * b, d, c);
      }
    }
    if (st == NAD_OK && !converged) {
      /* Restart from the Ritz vectors (the best b-dimensional subspace found so far). */
      memcpy(q, v, (size_t)(b * d) * sizeof(double));
      st = nadi_orthonormal_rows(q, b, d);
    }
  }
  if (st == NAD_OK && !converged)
    st = nadi_fail(NAD_ERR_NUMERICAL,
                   "block Krylov eigensolver did not converge in %d cycles (residual %.3g of the "
                   "top eigenvalue)",
                   MAX_CYCLES, info ? info->max_residual : -1.0);
  if (st == NAD_OK) {
    for (int64_t i = 0; i < k; i++) {
      evals[i] = theta[i];
      memcpy(evecs + i * d, v + i * d, (size_t)d * sizeof(double));
      nadi_eig_fix_sign(evecs + i * d, d);
    }
  }
  nadi_free(q);
  nadi_free(w);
  nadi_free(v);
  nadi_free(av);
  nadi_free(c);
  nadi_free(h);
  nadi_free(hm);
  nadi_free(z);
  nadi_free(theta);
  return st;
}

int nadi_topk_use_krylov(int64_t d, int64_t k) {
  nadi_topk_params p;
  nadi_topk_default_params(d, k, &p);
  /* dsyevr's cost hardly depends on k while the Krylov method's grows faster than linearly with
   * the block (products, reorthogonalisation and the projected problems of up to 10·b rows).
   * Measured with bench_eig (CPU time, D = 3,072, power-law spectrum): K = 64 (b = 96) 2.5 s
   * against dsyevr's 5 s, K = 128 (b = 192) 10.9 s against 5.1 s; D = 12,288, K = 64: 13.5 s
   * against 265 s. Hence block·32 <= D; small matrices go to LAPACK, cheap there anyway. */
  return d >= 512 && 32 * (k + p.guard) <= d;
}

nad_status nadi_eig_cov(double *a, int64_t d, int64_t k, double *evals, double *evecs,
                        nadi_topk_info *info) {
  if (info) {
    memset(info, 0, sizeof *info);
    info->method = NADI_EIG_LAPACK;
  }
  if (nadi_topk_use_krylov(d, k)) {
    for (int64_t i = 0; i < d * d; i++)
      if (!isfinite(a[i]))
        return nadi_fail(NAD_ERR_NUMERICAL, "the covariance has a non-finite entry (%lld, %lld)",
                         (long long)(i / d), (long long)(i % d));
    nad_status st = nadi_eig_topk_krylov(a, d, k, NULL, evals, evecs, info);
    if (st != NAD_ERR_NUMERICAL)
      return st;
    /* Not converged (a pathological spectrum): the direct solver always answers. */
    if (info)
      info->method = NADI_EIG_LAPACK_FALLBACK;
  }
  return nadi_eig_top(a, d, k, evals, evecs);
}
