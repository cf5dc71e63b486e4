/* Acceptance of the directional-bias experiments (issue 4), public API only.
 *   fast: LogReg >= 95 % on 9 Fourier directions spread over the 32x32 grid (4,000 training and
 *         2,000 test samples); LeNet at reduced size (10,000 / 2,000 samples, 10 epochs):
 *         >= 70 % at (fy, fx) = (1, 0), <= 60 % at the aliased (8, 0), (0, 8), (16, 16).
 *   slow: LeNet with the reference setup (10,000 / 10,000 samples, 20 epochs): >= 70 % at
 *         (1, 0) and (0, 1), <= 60 % at (8, 0), (0, 8), (16, 16); the (2, 0), (0, 2),
 *         (2, 2) are printed, not asserted (about 66, 66 and 59 % here, as PyTorch gets with the
 *         reference code: see the report of issue 4). Then LeNet trained on D(NAD_k) of its own
 *         NADs (4,000 networks): >= 70 % for k = 0, 1, 2, <= 60 % for k >= 100, falling between.
 * Reference setup otherwise: epsilon 1, sigma 3, batch 128, lr 0.5 decayed linearly, no
 * momentum or weight decay, clip 0.5; 2 threads, seed 0 (results are deterministic for these).
 * usage: test_acceptance fast|slow */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nad/nad.h>

#include "../check.h"

typedef struct setup {
  int64_t train, test, epochs;
} setup;

/* Test accuracy of a fresh network of `arch` trained on D(v) (v of 1x32x32); -1 on error. */
static double train_on(const char *arch, const float *v, setup s) {
  nad_arch *a = NULL;
  nad_dataset *tr = NULL, *te = NULL;
  nad_trainer *t = NULL;
  double acc = -1;
  if (nad_arch_create_builtin(arch, 1, 32, 32, 2, &a) == NAD_OK &&
      nad_dataset_create_linear(v, 1, 32, 32, s.train, 1.0, 3.0, 1, &tr) == NAD_OK &&
      nad_dataset_create_linear(v, 1, 32, 32, s.test, 1.0, 3.0, 2, &te) == NAD_OK &&
      nad_trainer_create(a, 0, &t) == NAD_OK &&
      nad_trainer_set_int(t, NAD_OPT_EPOCHS, s.epochs) == NAD_OK &&
      nad_trainer_set_int(t, NAD_OPT_NUM_THREADS, 2) == NAD_OK &&
      nad_trainer_fit(t, tr, NULL) == NAD_OK && nad_trainer_evaluate(t, te, &acc, NULL) == NAD_OK) {
  } else {
    printf("error: %s\n", nad_last_error());
    acc = -1;
  }
  nad_trainer_destroy(t);
  nad_dataset_destroy(tr);
  nad_dataset_destroy(te);
  nad_arch_destroy(a);
  return acc;
}

static double fourier(const char *arch, int fy, int fx, setup s) {
  float v[1024];
  if (nad_direction_fourier(1, 32, 32, fy, fx, NAD_FOURIER_AUTO, v, 1024) != NAD_OK)
    return -1;
  double acc = train_on(arch, v, s);
  printf("%-6s (%3d, %3d): %6.2f %%\n", arch, fy, fx, acc);
  fflush(stdout);
  return acc;
}

static void fast(void) {
  const setup lr_setup = {4000, 2000, 20}, small = {10000, 2000, 10};
  const int dirs[][2] = {{0, 0}, {16, 16}, {-16, 6}, {2, -14}, {8, 8}, {-6, -10}, {12, 0},
                         {0, -4}, {5, 3}};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    double acc = fourier("logreg", dirs[i][0], dirs[i][1], lr_setup);
    CHECK(acc >= 95, "LogReg at (%d, %d): %.2f %%", dirs[i][0], dirs[i][1], acc);
  }
  double acc = fourier("lenet", 1, 0, small);
  CHECK(acc >= 70, "LeNet at (1, 0), reduced size: %.2f %%", acc);
  const int alias[][2] = {{8, 0}, {0, 8}, {16, 16}};
  for (int i = 0; i < 3; i++) {
    acc = fourier("lenet", alias[i][0], alias[i][1], small);
    CHECK(acc >= 0 && acc <= 60, "LeNet at (%d, %d), reduced size: %.2f %%", alias[i][0],
           alias[i][1], acc);
  }
}

static void slow(void) {
  const setup ref = {10000, 10000, 20};
  const int good[][2] = {{1, 0}, {0, 1}}, alias[][2] = {{8, 0}, {0, 8}, {16, 16}},
            info[][2] = {{2, 0}, {0, 2}, {2, 2}};
  for (int i = 0; i < 2; i++) {
    double acc = fourier("lenet", good[i][0], good[i][1], ref);
    CHECK(acc >= 70, "LeNet at (%d, %d): %.2f %%", good[i][0], good[i][1], acc);
  }
  for (int i = 0; i < 3; i++) {
    double acc = fourier("lenet", alias[i][0], alias[i][1], ref);
    CHECK(acc >= 0 && acc <= 60, "LeNet at (%d, %d): %.2f %%", alias[i][0], alias[i][1], acc);
  }
  for (int i = 0; i < 3; i++)
    fourier("lenet", info[i][0], info[i][1], ref); /* printed only (see the header) */

  /* LeNet's own NADs, then D(NAD_k) */
  nad_arch *a1 = NULL;
  nad_estimator *e = NULL;
  float *nads = malloc(1024 * 1024 * sizeof(float));
  if (nad_arch_create_builtin("lenet", 1, 32, 32, 1, &a1) != NAD_OK ||
      nad_estimator_create(a1, &e) != NAD_OK ||
      nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 4000) != NAD_OK ||
      nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, 2) != NAD_OK || nad_estimator_run(e) != NAD_OK ||
      nad_estimator_nads(e, nads, 1024 * 1024) != NAD_OK) {
    CHECK(0, "NAD estimation: %s", nad_last_error());
    free(nads);
    nad_estimator_destroy(e);
    nad_arch_destroy(a1);
    return;
  }
  const int ks[] = {0, 1, 2, 5, 10, 20, 50, 100, 300, 1023};
  const int nk = (int)(sizeof ks / sizeof ks[0]);
  double acc[16];
  for (int i = 0; i < nk; i++) {
    acc[i] = train_on("lenet", nads + (size_t)ks[i] * 1024, ref);
    printf("lenet  NAD %4d: %6.2f %%\n", ks[i], acc[i]);
    fflush(stdout);
  }
  for (int i = 0; i < 3; i++)
    CHECK(acc[i] >= 70, "LeNet on NAD %d: %.2f %%", ks[i], acc[i]);
  for (int i = nk - 3; i < nk; i++)
    CHECK(acc[i] >= 0 && acc[i] <= 60, "LeNet on NAD %d: %.2f %%", ks[i], acc[i]);
  /* falling: the means of the first, middle and last thirds decrease */
  double m0 = (acc[0] + acc[1] + acc[2]) / 3, m1 = (acc[3] + acc[4] + acc[5] + acc[6]) / 4,
         m2 = (acc[7] + acc[8] + acc[9]) / 3;
  CHECK(m0 > m1 + 3 && m1 > m2 + 3, "falling trend: %.1f, %.1f, %.1f %%", m0, m1, m2);
  free(nads);
  nad_estimator_destroy(e);
  nad_arch_destroy(a1);
}

int main(int argc, char **argv) {
  if (argc != 2 || (strcmp(argv[1], "fast") != 0 && strcmp(argv[1], "slow") != 0)) {
    fprintf(stderr, "usage: test_acceptance fast|slow\n");
    return 2;
  }
  if (strcmp(argv[1], "fast") == 0)
    fast();
  else
    slow();
  return check_summary();
}
