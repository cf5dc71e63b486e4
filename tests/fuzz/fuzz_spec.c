/* Fuzz target of the architecture spec parser (lib/graph/spec.c) through nad_arch_create_spec.
 * Input: one byte choosing the input shape (c = 1 + bits 0-1, h = w = 1 + bits 2-7), then the
 * spec text (cut at the first NUL, as a C string is). An accepted spec must give an architecture
 * whose queries all succeed and whose freshly initialised network runs forward on zeros. */
#include <stdlib.h>

#include <nad/nad.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 4096)
    return 0;
  const int64_t c = 1 + (data[0] & 3), hw = 1 + (data[0] >> 2);
  char *spec = malloc(size);
  if (!spec)
    return 0;
  memcpy(spec, data + 1, size - 1);
  spec[size - 1] = '\0';
  nad_arch *a = NULL;
  if (nad_arch_create_spec(spec, c, hw, hw, &a) == NAD_OK) {
    fuzz_accepted++;
    int64_t in[3], k = 0, p = 0, layers = 0, flops = 0;
    if (nad_arch_input_shape(a, in) != NAD_OK || nad_arch_num_outputs(a, &k) != NAD_OK ||
        nad_arch_num_params(a, &p) != NAD_OK || nad_arch_num_layers(a, &layers) != NAD_OK ||
        nad_arch_flops(a, &flops) != NAD_OK || k < 1 || p < 0 || in[0] != c)
      __builtin_trap();
    nad_net *n = NULL;
    /* forward only for small networks: the fuzzer looks for parser bugs, not slow layers */
    if (p <= 1 << 20 && flops <= 1 << 24 && nad_net_create(a, 1, &n) == NAD_OK) {
      float *x = calloc((size_t)(c * hw * hw), sizeof(float)), *y = malloc((size_t)k * sizeof(float));
      if (x && y)
        (void)nad_net_forward(n, x, 1, y, (size_t)k); /* NaN/inf may be refused: not a bug */
      free(x);
      free(y);
      nad_net_destroy(n);
    }
    nad_arch_destroy(a);
  }
  free(spec);
  return 0;
}
