/* Fuzz target of the .npy reader (lib/io/npy_format.c) through nad_npy_read_f32. Input: the file. An
 * accepted file must describe a shape whose element count matches the buffer it returned
 * (every value readable: ASan checks the bounds). */
#include <nad/nad.h>

#include "fuzz.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[64];
  int fd = fuzz_memfile(data, size, path);
  if (fd < 0)
    return 0;
  float *x = NULL;
  int64_t shape[8];
  int32_t nd = -1;
  if (nad_npy_read_f32(path, &x, shape, &nd) == NAD_OK) {
    fuzz_accepted++;
    if (nd < 0 || nd > 8)
      __builtin_trap();
    int64_t n = 1;
    for (int32_t i = 0; i < nd; i++) {
      if (shape[i] < 0)
        __builtin_trap();
      n *= shape[i];
    }
    volatile float sink = 0; /* touch every element: out-of-bounds shows under ASan */
    for (int64_t i = 0; i < n; i++)
      sink += x[i];
    (void)sink;
  }
  nad_free(x);
  close(fd);
  return 0;
}
