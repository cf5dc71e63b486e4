/* Dipole probing cost per network: dense forward of the 2·D perturbed inputs against the delta
 * forward (lib/graph/delta.c), single thread, in CPU milliseconds per network.
 * The delta forward runs on the BatchNorm-folded graph, as the estimator's probe does.
 * Usage: bench_dipole [ARCH] [NETWORKS] [--chunk C] [--crossover X] [--no-fold] [--delta-only]
 *        [--dense-only]   (default lenet 20, chunks 64 128 256 512, the library's crossover) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "graph/graph.h"

/* Process CPU time, not wall time: the machine is shared, and with one BLAS thread the CPU time
 * of this process is what the work costs (set OPENBLAS_NUM_THREADS=1). */
int main(int argc, char **argv) {
  const char *arch = argc > 1 ? argv[1] : "lenet";
  int nets = argc > 2 ? atoi(argv[2]) : 20;
  int delta_only = 0, dense_only = 0, fold = 1; /* for profiling one path */
  int64_t chunks[4] = {64, 128, 256, 512}, n_chunks = 4;
  double crossover = NADI_DELTA_DEFAULT;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--delta-only") == 0)
      delta_only = 1;
    else if (strcmp(argv[i], "--dense-only") == 0)
      dense_only = 1;
    else if (strcmp(argv[i], "--no-fold") == 0)
      fold = 0;
    else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc)
      chunks[0] = atoll(argv[++i]), n_chunks = 1;
    else if (strcmp(argv[i], "--crossover") == 0 && i + 1 < argc)
      crossover = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_dipole [ARCH] [NETWORKS] [--chunk C] [--crossover X] "
                      "[--no-fold] [--delta-only] [--dense-only]\n");
      return 2;
    }
  }
  if (nets < 1 || chunks[0] < 1) {
    fprintf(stderr, "NETWORKS and C must be >= 1\n");
    return 2;
  }
  nadi_graph *g;
  if (nadi_builtin_build(arch, 1, 32, 32, 1, &g) != NAD_OK) {
    printf("%s\n", nad_last_error());
    return 1;
  }
  int64_t d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2], n = 2 * d;
  float *params = nadi_alloc((size_t)g->n_params, 4), *x0 = nadi_alloc((size_t)d, 4);
  float *val = nadi_alloc((size_t)n, 4), *y = nadi_alloc((size_t)n, 4);
  nadi_fold *f = NULL;
  if (fold && nadi_fold_create(g, &f) != NAD_OK) {
    printf("%s\n", nad_last_error());
    return 1;
  }
  const nadi_graph *dg = f ? nadi_fold_graph(f) : g; /* the graph the delta forward runs */
  float *dparams = f ? nadi_alloc((size_t)dg->n_params, 4) : params;
  int64_t *coord = nadi_alloc((size_t)n, 8);
  nadi_rng r;
  nadi_rng_init(&r, 0, 0);
  nadi_rng_fill_normal(&r, x0, d, 0, 1);
  for (int64_t i = 0; i < n; i++) {
    coord[i] = i / 2;
    val[i] = x0[i / 2] + (i % 2 ? -100.0f : 100.0f);
  }
  bench_print_blas(stdout);
  printf("%s: %lld perturbed inputs per network, %.2f MFLOP per dense forward\n", arch,
         (long long)n, (double)g->flops / 1e6);
  for (int c = 0; c < n_chunks; c++) {
    int64_t cap = chunks[c];
    nadi_exec *e = NULL;
    nadi_delta *p = NULL;
    float *xs = NULL;
    if (!delta_only && (nadi_exec_create(g, cap, &e) != NAD_OK ||
                        !(xs = nadi_alloc((size_t)(cap * d), 4)))) {
      printf("dense: %s\n", nad_last_error());
      return 1;
    }
    if (!dense_only && nadi_delta_create(dg, cap, crossover, &p) != NAD_OK) {
      printf("delta: %s\n", nad_last_error());
      return 1;
    }
    double t_dense = 0, t_delta = 0;
    for (int j = 0; j < nets; j++) {
      nadi_rng_init(&r, 1, (uint64_t)j);
      nadi_graph_init_params(g, params, &r);
      double t0 = bench_cpu();
      for (int64_t b0 = 0; b0 < n && e; b0 += cap) {
        int64_t nb = n - b0 < cap ? n - b0 : cap;
        for (int64_t b = 0; b < nb; b++) {
          memcpy(xs + b * d, x0, (size_t)d * 4);
          xs[b * d + coord[b0 + b]] = val[b0 + b];
        }
        nadi_exec_forward(e, params, xs, nb, 0, NULL);
      }
      double t1 = bench_cpu();
      if (p) {
        if (f)
          nadi_fold_params(f, params, dparams);
        nadi_delta_set_base(p, dparams, x0);
        for (int64_t b0 = 0; b0 < n; b0 += cap) {
          int64_t nb = n - b0 < cap ? n - b0 : cap;
          nadi_delta_forward(p, dparams, coord + b0, val + b0, nb, y + b0);
        }
      }
      double t2 = bench_cpu();
      t_dense += t1 - t0, t_delta += t2 - t1;
    }
    printf("chunk %5lld:", (long long)cap);
    if (e)
      printf("  dense %8.2f ms/network (%5.1f GFLOP/s)", 1e3 * t_dense / nets,
             (double)g->flops * (double)n * nets / t_dense / 1e9);
    if (p)
      printf("  delta %8.2f ms/network", 1e3 * t_delta / nets);
    if (e && p)
      printf("  speed-up %.2fx", t_dense / t_delta);
    printf("\n");
    nadi_free(xs);
    nadi_exec_destroy(e);
    nadi_delta_destroy(p);
  }
  if (f)
    nadi_free(dparams);
  nadi_fold_destroy(f);
  nadi_free(params), nadi_free(x0), nadi_free(val), nadi_free(y), nadi_free(coord);
  nadi_graph_destroy(g);
  return 0;
}
