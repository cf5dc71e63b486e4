/* Finalize + convergence of a real estimator at D = 12,288 (issue 12's goal: <= 20 s on 2 cores
 * for K = 64): a small conv net on 3×64×64, N networks accumulated once (not timed in the goal),
 * then the top-K finalize and the convergence check of `nad estimate` (k = 1 and 10), timed;
 * with --full, the same with all D eigenpairs (dsyevr) for comparison.
 *   build/bench/bench_finalize [N [K]] [--full]      default N = 300, K = 64 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nad/nad.h>

#include "bench.h"

static double cpu(void) { return (double)clock() / CLOCKS_PER_SEC; }

int main(int argc, char **argv) {
  int64_t n = 300, k = 64;
  int full = 0, npos = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--full") == 0)
      full = 1;
    else if (npos++ == 0)
      n = atoll(argv[i]);
    else
      k = atoll(argv[i]);
  }
  nad_arch *a = NULL;
  BENCH_TRY(nad_arch_create_spec("conv 8 k5; relu; maxpool 2; conv 16 k5; relu; maxpool 2; fc 1", 3,
                           64, 64, &a));
  nad_estimator *e = NULL;
  BENCH_TRY(nad_estimator_create(a, &e));
  BENCH_TRY(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, n));
  BENCH_TRY(nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, 2));
  BENCH_TRY(nad_estimator_set_int(e, NAD_OPT_TOP_K, k));
  double t0 = bench_wall();
  BENCH_TRY(nad_estimator_accumulate(e));
  printf("D = 12288 (3x64x64 conv net), %lld networks accumulated in %.1f s\n", (long long)n,
         bench_wall() - t0);
  for (int pass = 0; pass < 1 + full; pass++) {
    if (pass == 1) { /* all D eigenpairs: dsyevr */
      nad_estimator *f = NULL;
      void *buf = NULL;
      size_t len = 0;
      BENCH_TRY(nad_estimator_save_buffer(e, &buf, &len));
      BENCH_TRY(nad_estimator_create(a, &f));
      BENCH_TRY(nad_estimator_load_buffer(f, buf, len));
      nad_free(buf);
      nad_estimator_destroy(e);
      e = f;
    }
    double ov1, c1, ov10, c10;
    t0 = bench_wall();
    double c0 = cpu();
    BENCH_TRY(nad_estimator_finalize(e));
    const double tf = bench_wall() - t0, cf = cpu() - c0;
    t0 = bench_wall();
    c0 = cpu();
    BENCH_TRY(nad_estimator_convergence(e, 1, &ov1, &c1));
    BENCH_TRY(nad_estimator_convergence(e, 10, &ov10, &c10));
    const double tc = bench_wall() - t0, cc = cpu() - c0;
    printf("%s: finalize %.1f s + convergence (k = 1, 10) %.1f s = %.1f s wall; CPU %.1f + %.1f "
           "= %.1f s (overlaps %.3f %.3f, spectrum corr %.4f)\n",
           pass ? "all D pairs (dsyevr)" : "top K (dispatcher)", tf, tc, tf + tc, cf, cc, cf + cc,
           ov1, ov10, c1);
  }
  nad_estimator_destroy(e);
  nad_arch_destroy(a);
  return 0;
}
