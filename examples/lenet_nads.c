/* The shortest complete program computing LeNet's NADs through the public API:
 * create, set options, run with a progress callback, read results, destroy.
 * Usage: lenet_nads [NETWORKS]   (default 200) */
#include <stdio.h>
#include <stdlib.h>

#include <nad/nad.h>

static int progress(void *user_data, int64_t done, int64_t total) {
  (void)user_data;
  if (done == total || done % 50 == 0)
    fprintf(stderr, "\rnetworks %lld/%lld", (long long)done, (long long)total);
  return 0; /* non-zero would cancel the run */
}

static int fail(const char *what, nad_status st) {
  fprintf(stderr, "%s: %s: %s\n", what, nad_status_string(st), nad_last_error());
  return 1;
}

int main(int argc, char **argv) {
  int64_t networks = 200;
  if (argc > 1) {
    char *end;
    networks = strtoll(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0') {
      fprintf(stderr, "usage: %s [NETWORKS]\n", argv[0]);
      return 2;
    }
  } /* out-of-range values are refused by nad_estimator_set_int with a message */
  nad_arch *arch = NULL;
  nad_estimator *est = NULL;
  nad_status st;

  if ((st = nad_arch_create_builtin("lenet", 1, 32, 32, 1, &arch)) != NAD_OK)
    return fail("arch", st);
  if ((st = nad_estimator_create(arch, &est)) != NAD_OK)
    return nad_arch_destroy(arch), fail("estimator", st);
  nad_arch_destroy(arch); /* the estimator keeps its own reference */

  if ((st = nad_estimator_set_int(est, NAD_OPT_NUM_NETWORKS, networks)) != NAD_OK ||
      (st = nad_estimator_set_double(est, NAD_OPT_STEP, 100.0)) != NAD_OK ||
      (st = nad_estimator_set_int(est, NAD_OPT_SEED, 0)) != NAD_OK ||
      (st = nad_estimator_set_int(est, NAD_OPT_TOP_K, 10)) != NAD_OK ||
      (st = nad_estimator_set_progress(est, progress, NULL)) != NAD_OK)
    return nad_estimator_destroy(est), fail("options", st);

  if ((st = nad_estimator_run(est)) != NAD_OK)
    return nad_estimator_destroy(est), fail("run", st);
  fprintf(stderr, "\n");

  int64_t d, k;
  double lambda[10];
  float *nads = NULL;
  if ((st = nad_estimator_dims(est, &d, &k)) != NAD_OK ||
      (st = nad_estimator_eigenvalues(est, lambda, (size_t)k)) != NAD_OK)
    return nad_estimator_destroy(est), fail("results", st);
  nads = malloc(sizeof(float) * (size_t)(k * d));
  if (!nads || (st = nad_estimator_nads(est, nads, (size_t)(k * d))) != NAD_OK)
    return free(nads), nad_estimator_destroy(est), fail("nads", nads ? st : NAD_ERR_OUT_OF_MEMORY);

  printf("LeNet NADs from %lld networks (D = %lld)\n", (long long)networks, (long long)d);
  for (int64_t i = 0; i < k; i++)
    printf("NAD %2lld: eigenvalue %.6g, first pixels % .4f % .4f % .4f\n", (long long)i, lambda[i],
           nads[i * d], nads[i * d + 1], nads[i * d + 2]);
  free(nads);
  nad_estimator_destroy(est);
  return 0;
}
