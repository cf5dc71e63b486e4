/* Fuzz target of the checkpoint reader (lib/estimator/checkpoint.c) through nad_estimator_load
 * into an estimator of the architecture the seeds were written for (FUZZ_CKPT_SPEC on 1x4x4,
 * seed 7: make_ckpt_seeds.c). Input: the checkpoint file. An accepted checkpoint must leave an
 * estimator whose count is usable: finalize succeeds or refuses cleanly, and results, when
 * there are any, can be read. */
#include <stdlib.h>

#include <nad/nad.h>

#include "fuzz.h"
#include "fuzz_file.h"
#include "fuzz_ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static nad_arch *arch;
  if (!arch && nad_arch_create_spec(FUZZ_CKPT_SPEC, 1, 4, 4, &arch) != NAD_OK)
    __builtin_trap();
  char path[64];
  int fd = fuzz_memfile(data, size, path);
  if (fd < 0)
    return 0;
  nad_estimator *e = NULL;
  if (nad_estimator_create(arch, &e) != NAD_OK)
    __builtin_trap();
  nad_estimator_set_int(e, NAD_OPT_SEED, FUZZ_CKPT_SEED);
  if (nad_estimator_load(e, path) == NAD_OK) {
    fuzz_accepted++;
    int64_t done = -1, d = 0, k = 0;
    if (nad_estimator_networks_done(e, &done) != NAD_OK || done < 0)
      __builtin_trap();
    if (done >= 2 && nad_estimator_finalize(e) == NAD_OK &&
        nad_estimator_dims(e, &d, &k) == NAD_OK) {
      double *ev = malloc((size_t)(k > 0 ? k : 1) * sizeof(double));
      if (ev && nad_estimator_eigenvalues(e, ev, (size_t)k) != NAD_OK)
        __builtin_trap();
      free(ev);
    }
  }
  nad_estimator_destroy(e);
  close(fd);
  return 0;
}
