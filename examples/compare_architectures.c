/* NAD spectra of several built-in architectures side by side: for each one, the covariance's
 * Fourier power as a radial profile (low to high frequency) and the correlation of every pair
 * of log spectra. Shows what the paper's Figure 3 shows, as numbers.
 * Usage: compare_architectures [NETWORKS [ARCH...]]   (default 100 logreg lenet allconv) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nad/nad.h>

#define H 32
#define W 32
#define BANDS 4 /* radial frequency bands reported per architecture */
#define MAX_ARCHS 8

static int fail(const char *what, nad_status st) {
  fprintf(stderr, "%s: %s: %s\n", what, nad_status_string(st), nad_last_error());
  return 1;
}

/* Spectrum (fftshifted 1×H×W power) of one architecture's NAD covariance from `networks`
 * random initialisations. */
static nad_status arch_spectrum(const char *name, int64_t networks, double *power) {
  nad_arch *arch = NULL;
  nad_estimator *est = NULL;
  nad_status st = nad_arch_create_builtin(name, 1, H, W, 1, &arch);
  if (st != NAD_OK)
    return st;
  st = nad_estimator_create(arch, &est);
  nad_arch_destroy(arch); /* the estimator keeps its own reference */
  if (st == NAD_OK)
    st = nad_estimator_set_int(est, NAD_OPT_NUM_NETWORKS, networks);
  if (st == NAD_OK)
    st = nad_estimator_set_int(est, NAD_OPT_NUM_THREADS, 0); /* all cores */
  if (st == NAD_OK)
    st = nad_estimator_set_int(est, NAD_OPT_TOP_K, 1); /* the spectrum uses all D eigenpairs */
  if (st == NAD_OK)
    st = nad_estimator_run(est);
  if (st == NAD_OK)
    st = nad_estimator_spectrum(est, power, H * W);
  nad_estimator_destroy(est);
  return st;
}

/* Share of the total power in each of BANDS rings of radius |f| (cycles per image, the
 * spectrum is fftshifted so frequency 0 sits at (H/2, W/2)). */
static void radial_profile(const double *power, double share[BANDS]) {
  double total = 0, rmax = sqrt((H / 2) * (H / 2) + (W / 2) * (W / 2));
  memset(share, 0, sizeof(double) * BANDS);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double r = sqrt((double)((y - H / 2) * (y - H / 2) + (x - W / 2) * (x - W / 2)));
      int band = (int)(r / rmax * BANDS);
      share[band < BANDS ? band : BANDS - 1] += power[y * W + x];
      total += power[y * W + x];
    }
  for (int b = 0; b < BANDS; b++)
    share[b] = total > 0 ? share[b] / total : 0;
}

int main(int argc, char **argv) {
  static const char *defaults[] = {"logreg", "lenet", "allconv"};
  const char **names = defaults;
  int count = 3;
  int64_t networks = 100;
  if (argc > 1) {
    char *end;
    networks = strtoll(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0') {
      fprintf(stderr, "usage: %s [NETWORKS [ARCH...]]\n", argv[0]);
      return 2;
    }
  }
  if (argc > 2) {
    names = (const char **)(argv + 2);
    count = argc - 2 < MAX_ARCHS ? argc - 2 : MAX_ARCHS;
  }

  static double power[MAX_ARCHS][H * W];
  for (int a = 0; a < count; a++) {
    nad_status st = arch_spectrum(names[a], networks, power[a]);
    if (st != NAD_OK)
      return fail(names[a], st);
  }

  printf("covariance power by frequency band (%lld networks each, 1x%dx%d):\n",
         (long long)networks, H, W);
  printf("%-14s", "architecture");
  for (int b = 0; b < BANDS; b++)
    printf("   band %d", b);
  printf("\n");
  for (int a = 0; a < count; a++) {
    double share[BANDS];
    radial_profile(power[a], share);
    printf("%-14s", names[a]);
    for (int b = 0; b < BANDS; b++)
      printf("  %6.1f%%", 100 * share[b]);
    printf("\n");
  }

  printf("\ncorrelation of log spectra:\n%-14s", "");
  for (int b = 0; b < count; b++)
    printf(" %10.10s", names[b]);
  printf("\n");
  for (int a = 0; a < count; a++) {
    printf("%-14s", names[a]);
    for (int b = 0; b < count; b++) {
      double corr;
      nad_status st = nad_spectrum_correlation(power[a], power[b], H * W, &corr);
      if (st != NAD_OK)
        return fail("correlation", st);
      printf(" %10.3f", corr);
    }
    printf("\n");
  }
  return 0;
}
