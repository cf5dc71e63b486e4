/* CIFAR-sized colour inputs (3x32x32, D = 3,072) for every built-in (issue 7), SLOW suite:
 *  - the memory plan of every built-in with the default settings (2 threads) fits in 2 GB;
 *  - the cheap built-ins (a dipole network below 1 TFLOP) run 2 networks end to end with
 *    finite, ordered results, and the process's peak RSS stays below 2 GB.
 * ResNet18, DenseNet121 and the VGG11 variants at 3x32x32 cost 2-120 TFLOP per network: their
 * forwards are checked in exec_forward_only and delta-forward, their full runs in
 * bench/colour_inputs.sh. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../check.h"
#include "estimator/run.h"

#define TWO_GB 2000000000LL

static double peak_rss_bytes(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (double)u.ru_maxrss * 1024.0; /* Linux: kilobytes */
}

int main(void) {
  for (int32_t i = 0; i < nad_arch_builtin_count(); i++) {
    const char *name = nad_arch_builtin_name(i);
    nad_arch *a = NULL;
    nad_estimator *e = NULL;
    if (nad_arch_create_builtin(name, 3, 32, 32, 1, &a) != NAD_OK ||
        nad_estimator_create(a, &e) != NAD_OK) {
      CHECK(0, "%s 3x32x32: %s", name, nad_last_error());
      nad_arch_destroy(a);
      continue;
    }
    nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 2);
    nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, 2);
    nad_estimator_set_int(e, NAD_OPT_TOP_K, 16);
    int64_t budget = 0, bytes = 0, batch = 0, conc = 0, flops = 0;
    nad_status st = nad_estimator_plan(e, &budget, &bytes, &batch, &conc);
    CHECK(st == NAD_OK && bytes < TWO_GB, "%s 3x32x32: plan %s, %lld bytes", name,
          st == NAD_OK ? "ok" : nad_last_error(), (long long)bytes);
    nad_arch_flops(a, &flops);
    const double tflop = (double)flops * 2 * 3072 / 1e12;
    printf("%-20s plan %7.1f MB (batch %3lld x %lld networks), %6.1f TFLOP per network", name,
           (double)bytes / 1e6, (long long)batch, (long long)conc, tflop);
    if (st == NAD_OK && tflop < 1.0) {
      st = nad_estimator_run(e);
      double ev[16] = {0};
      int64_t d = 0, k = 0;
      int ok = st == NAD_OK && nad_estimator_dims(e, &d, &k) == NAD_OK && d == 3072 && k == 16 &&
               nad_estimator_eigenvalues(e, ev, 16) == NAD_OK && ev[0] > 0;
      /* two networks: a rank-1 covariance, one positive eigenvalue and zeros up to rounding */
      for (int j = 1; ok && j < 16; j++)
        ok = isfinite(ev[j]) && fabs(ev[j]) <= 1e-9 * ev[0];
      CHECK(ok, "%s 3x32x32: run %s", name, st == NAD_OK ? "gave bad eigenvalues" : nad_last_error());
      printf(", ran: top eigenvalue %.3g, peak RSS so far %.0f MB", ev[0], peak_rss_bytes() / 1e6);
    }
    printf("\n");
    nad_estimator_destroy(e);
    nad_arch_destroy(a);
  }
  CHECK(peak_rss_bytes() < (double)TWO_GB, "peak RSS %.0f MB", peak_rss_bytes() / 1e6);
  return check_summary();
}
