/* The top-k eigensolver (lib/linalg/topk.c) against LAPACK's full solve (dsyevr) on synthetic
 * covariances with NAD-like spectra (power laws, rank below D, a degenerate floor), the zero
 * matrix, non-finite input, and the dispatcher's choice. Acceptance (issue 12): top-k subspace
 * overlap >= 0.999 and eigenvalues to 1e-6 relative.
 *   test_topk            D = 1,024 (fast suite)
 *   test_topk 3072       D = 3,072, K = 64 and 16 (slow suite: dsyevr takes a while) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "synth_cov.h"
#include "linalg/linalg.h"

/* ||A v_i − λ_i v_i|| / λ_1, the largest over i < k. */
static double max_residual(const double *a, int64_t d, int64_t k, const double *ev,
                           const double *v) {
  double *av = malloc(sizeof(double) * (size_t)(k * d));
  nadi_dgemm(0, 0, k, d, d, 1.0, v, d, a, d, 0.0, av, d);
  double m = 0;
  for (int64_t i = 0; i < k; i++) {
    double r2 = 0;
    for (int64_t t = 0; t < d; t++) {
      double e = av[i * d + t] - ev[i] * v[i * d + t];
      r2 += e * e;
    }
    m = fmax(m, sqrt(r2));
  }
  free(av);
  return m / ev[0];
}

/* Krylov against dsyevr on the covariance of r rows with spectrum (j+1)^-alpha plus nu·I.
 * k_sub: how many leading pairs are well separated (their subspace is compared). */
static void compare(int64_t d, int64_t k, double alpha, int64_t r, double nu, int64_t k_sub) {
  double *c = synth_cov(r, d, alpha, nu, 3);
  double *ref = malloc(sizeof(double) * (size_t)(d * d));
  memcpy(ref, c, sizeof(double) * (size_t)(d * d));
  double *ev = malloc(sizeof(double) * (size_t)k), *ev_ref = malloc(sizeof(double) * (size_t)k);
  double *v = malloc(sizeof(double) * (size_t)(k * d)), *v_ref = malloc(sizeof(double) * (size_t)(k * d));
  nadi_topk_info info;
  nad_status st = nadi_eig_topk_krylov(c, d, k, NULL, ev, v, &info);
  CHECK(st == NAD_OK, "D %lld K %lld alpha %g: %s", (long long)d, (long long)k, alpha,
        nad_last_error());
  /* The input is not modified. */
  CHECK(memcmp(c, ref, sizeof(double) * (size_t)(d * d)) == 0, "matrix unchanged");
  const double res = max_residual(c, d, k, ev, v);
  CHECK(nadi_eig_top(ref, d, k, ev_ref, v_ref) == NAD_OK, "dsyevr");
  double emax = 0; /* relative; eigenvalues at rounding level (rank < k) absolutely, to λ1 */
  for (int64_t i = 0; i < k; i++)
    emax = fmax(emax, fabs(ev[i] - ev_ref[i]) / fmax(fabs(ev_ref[i]), 1e-9 * ev_ref[0]));
  const double ov = nadi_overlap_orthonormal(v, v_ref, k_sub, d);
  const double ov_all = nadi_overlap_orthonormal(v, v_ref, k, d);
  printf("D %lld K %lld alpha %.1f rank %lld: %lld products, %lld cycles; eig rel err %.2g, "
         "top-%lld overlap %.10f (all %lld: %.6f), residual %.2g\n",
         (long long)d, (long long)k, alpha, (long long)r, (long long)info.products,
         (long long)info.cycles, emax, (long long)k_sub, ov, (long long)k, ov_all, res);
  CHECK(emax <= 1e-6, "eigenvalues rel err %.3g > 1e-6", emax);
  CHECK(ov >= 0.999, "top-%lld overlap %.6f < 0.999", (long long)k_sub, ov);
  CHECK(res <= 1e-7, "residual %.3g", res);
  /* Descending, unit rows, sign convention. */
  int ok = 1;
  for (int64_t i = 0; i < k; i++) {
    double n2 = 0, big = 0;
    for (int64_t t = 0; t < d; t++) {
      n2 += v[i * d + t] * v[i * d + t];
      if (fabs(v[i * d + t]) > fabs(big))
        big = v[i * d + t];
    }
    ok &= fabs(n2 - 1.0) < 1e-12 && big > 0 && (i == 0 || ev[i] <= ev[i - 1]);
  }
  CHECK(ok, "descending, unit norm, largest entry positive");
  free(c);
  free(ref);
  free(ev);
  free(ev_ref);
  free(v);
  free(v_ref);
}

static void test_edges(void) {
  const int64_t d = 800, k = 8;
  double *ev = malloc(sizeof(double) * (size_t)k), *v = malloc(sizeof(double) * (size_t)(k * d));
  /* The zero matrix: eigenvalues 0, orthonormal vectors. */
  double *z = calloc((size_t)(d * d), sizeof(double));
  CHECK(nadi_eig_topk_krylov(z, d, k, NULL, ev, v, NULL) == NAD_OK, "zero matrix: %s",
        nad_last_error());
  double maxev = 0;
  for (int64_t i = 0; i < k; i++)
    maxev = fmax(maxev, fabs(ev[i]));
  CHECK(maxev == 0.0, "zero matrix eigenvalues %.3g", maxev);
  CHECK(fabs(nadi_overlap_orthonormal(v, v, k, d) - 1.0) < 1e-12, "orthonormal rows");
  /* An exactly repeated top eigenvalue: diag(5, 5, 5, 1, 1, ...) with small noise elsewhere. */
  for (int64_t i = 0; i < d; i++)
    z[i * d + i] = i < 3 ? 5.0 : 1.0 / (double)(i + 1);
  CHECK(nadi_eig_topk_krylov(z, d, 3, NULL, ev, v, NULL) == NAD_OK, "repeated eigenvalue");
  CHECK(fabs(ev[0] - 5) < 1e-12 && fabs(ev[2] - 5) < 1e-12, "repeated eigenvalue %.17g %.17g",
        ev[0], ev[2]);
  double in = 0; /* the three vectors span e_0, e_1, e_2 */
  for (int64_t i = 0; i < 3; i++)
    for (int64_t t = 0; t < 3; t++)
      in += v[i * d + t] * v[i * d + t];
  CHECK(fabs(in - 3.0) < 1e-12, "span of the repeated eigenvalue %.17g", in);
  /* Non-finite input: refused by the dispatcher with the position. */
  double *c = synth_cov(50, d, 1.0, 0.0, 5);
  c[7 * d + 3] = NAN;
  CHECK(nadi_eig_cov(c, d, k, ev, v, NULL) == NAD_ERR_NUMERICAL &&
            strstr(nad_last_error(), "(7, 3)"),
        "NaN refused: %s", nad_last_error());
  /* Dispatcher: small matrices and large k go to LAPACK, small k of a large matrix to Krylov. */
  CHECK(!nadi_topk_use_krylov(256, 4) && !nadi_topk_use_krylov(3072, 3000) &&
            !nadi_topk_use_krylov(3072, 128) && nadi_topk_use_krylov(3072, 64) &&
            nadi_topk_use_krylov(12288, 64),
        "dispatch");
  free(c);
  c = synth_cov(50, d, 1.0, 0.0, 5);
  nadi_topk_info info;
  CHECK(nadi_eig_cov(c, d, k, ev, v, &info) == NAD_OK && info.method == NADI_EIG_KRYLOV,
        "dispatcher used Krylov for D 800 K 8 (method %d)", info.method);
  free(c);
  free(z);
  free(ev);
  free(v);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    const int64_t d = atoll(argv[1]);
    compare(d, 64, 1.0, d / 2, 1e-9, 64); /* slow decay: the hard case */
    compare(d, 16, 2.0, d / 2, 1e-9, 16);
    return check_summary();
  }
  compare(1024, 32, 1.0, 512, 1e-9, 32);
  compare(1024, 10, 2.0, 800, 1e-9, 10);
  /* Rank 20 < K = 32: twelve eigenvalues sit on the (degenerate) floor; only the top 20 span a
   * defined subspace. */
  compare(1024, 32, 1.0, 20, 1e-6, 20);
  /* ... and with no floor: eigenvalues 21..32 are 0 up to rounding (fewer networks than K). */
  compare(1024, 32, 1.0, 20, 0.0, 20);
  test_edges();
  return check_summary();
}
