/* Aligned allocation with overflow checks. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int nadi_mul_ok(int64_t a, int64_t b, int64_t *out) {
  if (a < 0 || b < 0)
    return 0;
  if (a != 0 && b > INT64_MAX / a)
    return 0;
  *out = a * b;
  return 1;
}

void *nadi_alloc(size_t n, size_t size) {
  if (size != 0 && n > (SIZE_MAX - 64) / size)
    return NULL;
  size_t bytes = n * size;
  bytes = (bytes + 63) & ~(size_t)63;
  if (bytes == 0)
    bytes = 64;
  return aligned_alloc(64, bytes);
}

void *nadi_calloc(size_t n, size_t size) {
  void *p = nadi_alloc(n, size);
  if (p)
    memset(p, 0, n * size);
  return p;
}

void nadi_free(void *p) { free(p); }

void nad_free(void *p) { free(p); }
