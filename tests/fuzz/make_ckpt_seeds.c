/* Writes the seed corpus of fuzz_checkpoint at build time (the checkpoint format belongs to the
 * library version being built, so its seeds are made by it rather than committed): a finished
 * run of 3 networks, one of 70 (a full accumulator block and pending rows), and a cancelled one.
 *   usage: make_ckpt_seeds OUT_FILE...   (one checkpoint per file, in that order) */
#include <stdio.h>

#include <nad/nad.h>

#include "fuzz_ckpt.h"

static int cancel_at_5(void *ud, int64_t done, int64_t total) {
  (void)ud, (void)total;
  return done >= 5;
}

int main(int argc, char **argv) {
  static const int64_t networks[] = {3, 70, 100};
  nad_arch *a = NULL;
  if (nad_arch_create_spec(FUZZ_CKPT_SPEC, 1, 4, 4, &a) != NAD_OK)
    return fprintf(stderr, "%s\n", nad_last_error()), 1;
  for (int i = 1; i < argc && i <= 3; i++) {
    nad_estimator *e = NULL;
    nad_estimator_create(a, &e);
    nad_estimator_set_int(e, NAD_OPT_SEED, FUZZ_CKPT_SEED);
    nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, networks[i - 1]);
    if (i == 3)
      nad_estimator_set_progress(e, cancel_at_5, NULL);
    nad_status st = nad_estimator_run(e);
    if ((st != NAD_OK && !(i == 3 && st == NAD_ERR_CANCELLED)) ||
        nad_estimator_save(e, argv[i]) != NAD_OK)
      return fprintf(stderr, "%s: %s\n", argv[i], nad_last_error()), 1;
    nad_estimator_destroy(e);
  }
  nad_arch_destroy(a);
  return 0;
}
