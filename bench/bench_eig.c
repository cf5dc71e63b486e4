/* Top-k eigensolver benchmark: LAPACK's dsyevr (range: the top k) against the block Krylov method
 * (lib/estimator/topk.c) on one synthetic covariance, side by side in one run, with the accuracy
 * of the Krylov pairs against dsyevr's (largest relative eigenvalue error, top-k subspace
 * overlap) and the work done (cycles, block products).
 *   build/bench/bench_eig [D [K [ALPHA [RANK]]]]      default 3072 64 1.0 D/2
 *   build/bench/bench_eig D K ALPHA RANK --krylov-only  (skip dsyevr: D = 12,288 takes minutes)
 *   ... --guard G --steps S                             override the Krylov parameters
 * BLAS threads: as the library sets them (OPENBLAS_NUM_THREADS to change). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/linalg/synth_cov.h"
#include "linalg/linalg.h"
#include "bench.h"

static double cpu(void) { return (double)clock() / CLOCKS_PER_SEC; }

int main(int argc, char **argv) {
  int64_t d = 3072, k = 64, rank = -1;
  double alpha = 1.0;
  int krylov_only = 0;
  nadi_topk_params p;
  int64_t guard = -1, steps = -1;
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--krylov-only") == 0)
      krylov_only = 1;
    else if (strcmp(argv[i], "--guard") == 0 && i + 1 < argc)
      guard = atoll(argv[++i]);
    else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc)
      steps = atoll(argv[++i]);
    else if (npos == 0 && ++npos)
      d = atoll(argv[i]);
    else if (npos == 1 && ++npos)
      k = atoll(argv[i]);
    else if (npos == 2 && ++npos)
      alpha = atof(argv[i]);
    else if (npos == 3 && ++npos)
      rank = atoll(argv[i]);
  }
  if (rank < 0)
    rank = d / 2;
  if (d < 2 || k < 1 || k >= d || rank < 1) {
    fprintf(stderr, "usage: bench_eig [D [K [ALPHA [RANK]]]] [--krylov-only] [--guard G] [--steps S]\n");
    return 2;
  }
  nadi_topk_default_params(d, k, &p);
  if (guard >= 0)
    p.guard = guard;
  if (steps > 0)
    p.steps = steps;
  printf("D = %lld, K = %lld, spectrum (j+1)^-%.2f of rank %lld + 1e-9 floor\n", (long long)d,
         (long long)k, alpha, (long long)rank);
  double t0 = bench_wall();
  double *c = synth_cov(rank, d, alpha, 1e-9, 1);
  printf("matrix built in %.1f s\n", bench_wall() - t0);
  double *ev_k = malloc(sizeof(double) * (size_t)k), *ev_l = malloc(sizeof(double) * (size_t)k);
  double *v_k = malloc(sizeof(double) * (size_t)(k * d)), *v_l = malloc(sizeof(double) * (size_t)(k * d));
  nadi_topk_info info;
  t0 = bench_wall();
  double c0 = cpu();
  nad_status st = nadi_eig_topk_krylov(c, d, k, &p, ev_k, v_k, &info);
  double tk = bench_wall() - t0, ck = cpu() - c0;
  if (st != NAD_OK) {
    fprintf(stderr, "krylov: %s\n", nad_last_error());
    return 1;
  }
  printf("block Krylov: %.2f s wall, %.2f s CPU (block %lld, %lld steps/cycle, %lld cycles, %lld products, "
         "residual %.2g of λ1)\n",
         tk, ck, (long long)info.block, (long long)info.steps, (long long)info.cycles,
         (long long)info.products, info.max_residual);
  if (!krylov_only) {
    t0 = bench_wall();
    c0 = cpu();
    st = nadi_eig_top(c, d, k, ev_l, v_l); /* destroys c */
    double tl = bench_wall() - t0, cl = cpu() - c0;
    if (st != NAD_OK) {
      fprintf(stderr, "dsyevr: %s\n", nad_last_error());
      return 1;
    }
    double emax = 0;
    for (int64_t i = 0; i < k; i++)
      emax = fmax(emax, fabs(ev_k[i] - ev_l[i]) / fabs(ev_l[i]));
    double ov = nadi_overlap_orthonormal(v_k, v_l, k, d);
    printf("dsyevr (top %lld): %.2f s wall, %.2f s CPU\n", (long long)k, tl, cl);
    printf("ratio dsyevr / Krylov: %.1f× wall, %.1f× CPU; eigenvalues max rel err %.2g; top-%lld overlap %.8f\n",
           tl / tk, cl / ck, emax, (long long)k, ov);
  }
  printf("λ1 = %.4g, λK = %.4g, λK/λ1 = %.3g\n", ev_k[0], ev_k[k - 1], ev_k[k - 1] / ev_k[0]);
  free(c);
  free(ev_k);
  free(ev_l);
  free(v_k);
  free(v_l);
  return 0;
}
