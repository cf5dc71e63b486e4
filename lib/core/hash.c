/* FNV-1a: the hash of run identities (graph fingerprints, evaluation points, fixed parameters).
 * Not cryptographic: it tells runs apart, it does not defend against forgeries. */
#include "core/core.h"

uint64_t nadi_fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
