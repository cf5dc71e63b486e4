/* Fuzz target of the CIFAR-10 loader (lib/data/cifar10.c). Input: u8 options (bits 0-2: 1..5
 * batch files; bit 7: a target size), then that many parts (u32 length + bytes). */
#include "fuzz.h"

#define MAX_FILES 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const uint8_t opt = data[0];
  const int nfiles = 1 + (opt & 7) % MAX_FILES;
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  const uint8_t *files[MAX_FILES];
  size_t lens[MAX_FILES];
  const char *names[MAX_FILES] = {"batch1", "batch2", "batch3", "batch4", "batch5"};
  for (int f = 0; f < nfiles; f++)
    fuzz_take_part(&p, &n, &files[f], &lens[f]);
  nad_dataset *d = NULL;
  if (nadi_cifar10_load(files, lens, names, nfiles, fuzz_target(opt), &d) == NAD_OK) {
    fuzz_check_dataset(d, 0.0f, 1.0f);
    if (d->c != 3 || d->num_classes != 10)
      __builtin_trap();
  }
  nadi_dataset_release(d);
  return 0;
}
