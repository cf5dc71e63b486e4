/* A row of the paper's Figure 1: train a fresh network on the linearly separable distribution
 * D(v) for Fourier directions v of increasing frequency and report the test accuracy. An
 * architecture learns the directions its NADs favour; the others stay near chance (50 %).
 * Usage: fourier_sweep [ARCH [SAMPLES [EPOCHS]]]   (default: the paper's lenet 10000 20, about
 * 5 minutes on 2 cores; the test runs a tiny version) */
#include <stdio.h>
#include <stdlib.h>

#include <nad/nad.h>

#define H 32
#define W 32

static int fail(const char *what, nad_status st) {
  fprintf(stderr, "%s: %s: %s\n", what, nad_status_string(st), nad_last_error());
  return 1;
}

static int parse_count(const char *s, int64_t *v) {
  char *end;
  *v = strtoll(s, &end, 10);
  return *s != '\0' && *end == '\0';
}

/* Test accuracy (percent) of `arch` trained on D(v) for the Fourier direction (fy, fx). */
static nad_status accuracy_for(const nad_arch *arch, int64_t fy, int64_t fx, int64_t samples,
                               int64_t epochs, double *accuracy) {
  float v[H * W];
  nad_dataset *train = NULL, *test = NULL;
  nad_trainer *t = NULL;
  /* the paper's D(v): epsilon 1, sigma 3; different seeds for the training and test sets */
  nad_status st = nad_direction_fourier(1, H, W, fy, fx, NAD_FOURIER_AUTO, v, H * W);
  if (st == NAD_OK)
    st = nad_dataset_create_linear(v, 1, H, W, samples, 1.0, 3.0, 1, &train);
  if (st == NAD_OK)
    st = nad_dataset_create_linear(v, 1, H, W, samples, 1.0, 3.0, 2, &test);
  if (st == NAD_OK)
    st = nad_trainer_create(arch, 0, &t);
  if (st == NAD_OK)
    st = nad_trainer_set_int(t, NAD_OPT_EPOCHS, epochs);
  if (st == NAD_OK)
    st = nad_trainer_set_int(t, NAD_OPT_NUM_THREADS, 0); /* all cores */
  if (st == NAD_OK)
    st = nad_trainer_fit(t, train, NULL);
  if (st == NAD_OK)
    st = nad_trainer_evaluate(t, test, accuracy, NULL);
  nad_trainer_destroy(t);
  nad_dataset_destroy(train);
  nad_dataset_destroy(test);
  return st;
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "lenet";
  int64_t samples = 10000, epochs = 20;
  if ((argc > 2 && !parse_count(argv[2], &samples)) || (argc > 3 && !parse_count(argv[3], &epochs))) {
    fprintf(stderr, "usage: %s [ARCH [SAMPLES [EPOCHS]]]\n", argv[0]);
    return 2;
  }
  nad_arch *arch = NULL;
  nad_status st = nad_arch_create_builtin(name, 1, H, W, 2, &arch); /* 2 logits */
  if (st != NAD_OK)
    return fail(name, st);

  printf("%s on D(v), v = Fourier (fy, 0); %lld samples, %lld epochs\n", name,
         (long long)samples, (long long)epochs);
  static const int64_t freqs[] = {0, 1, 2, 4, 8, 16};
  for (size_t i = 0; i < sizeof freqs / sizeof freqs[0]; i++) {
    double acc;
    if ((st = accuracy_for(arch, freqs[i], 0, samples, epochs, &acc)) != NAD_OK) {
      nad_arch_destroy(arch);
      return fail("training", st);
    }
    printf("fy = %2lld: test accuracy %5.1f %%\n", (long long)freqs[i], acc);
    fflush(stdout);
  }
  nad_arch_destroy(arch);
  return 0;
}
