/* Dipole probing cost per network: dense forward of the 2·D perturbed inputs against the delta
 * forward (lib/graph/delta.c), for a few chunk sizes, single thread.
 * Usage: bench_dipole [ARCH] [NETWORKS] [--delta-only]   (default lenet 20) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas_line.h"
#include "graph/graph.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  const char *arch = argc > 1 ? argv[1] : "lenet";
  int nets = argc > 2 ? atoi(argv[2]) : 20;
  int delta_only = argc > 3 && strcmp(argv[3], "--delta-only") == 0; /* for profiling */
  nadi_graph *g;
  if (nadi_builtin_build(arch, 1, 32, 32, 1, &g) != NAD_OK) {
    printf("%s\n", nad_last_error());
    return 1;
  }
  int64_t d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2], n = 2 * d;
  float *params = nadi_alloc((size_t)g->n_params, 4), *x0 = nadi_alloc((size_t)d, 4);
  float *val = nadi_alloc((size_t)n, 4), *y = nadi_alloc((size_t)n, 4);
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
  int64_t chunks[] = {64, 128, 256, 512};
  for (int c = 0; c < 4; c++) {
    int64_t cap = chunks[c];
    nadi_exec *e;
    nadi_delta *p;
    nadi_exec_create(g, cap, &e);
    nadi_delta_create(g, cap, &p);
    float *xs = nadi_alloc((size_t)(cap * d), 4);
    double t_dense = 0, t_delta = 0;
    for (int j = 0; j < nets; j++) {
      nadi_rng_init(&r, 1, (uint64_t)j);
      nadi_graph_init_params(g, params, &r);
      double t0 = now();
      for (int64_t b0 = 0; b0 < n && !delta_only; b0 += cap) {
        int64_t nb = n - b0 < cap ? n - b0 : cap;
        for (int64_t b = 0; b < nb; b++) {
          memcpy(xs + b * d, x0, (size_t)d * 4);
          xs[b * d + coord[b0 + b]] = val[b0 + b];
        }
        nadi_exec_forward(e, params, xs, nb, 0, NULL);
      }
      double t1 = now();
      nadi_delta_set_base(p, params, x0);
      for (int64_t b0 = 0; b0 < n; b0 += cap) {
        int64_t nb = n - b0 < cap ? n - b0 : cap;
        nadi_delta_forward(p, params, coord + b0, val + b0, nb, y + b0);
      }
      double t2 = now();
      t_dense += t1 - t0, t_delta += t2 - t1;
    }
    printf("chunk %5lld: dense %7.2f ms/network (%5.1f GFLOP/s)  delta %7.2f ms/network  "
           "speed-up %.2fx\n", (long long)cap, 1e3 * t_dense / nets,
           (double)g->flops * (double)n * nets / t_dense / 1e9, 1e3 * t_delta / nets,
           t_dense / t_delta);
    nadi_free(xs);
    nadi_exec_destroy(e);
    nadi_delta_destroy(p);
  }
  return 0;
}
