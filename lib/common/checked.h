/* Overflow-checked size arithmetic (lib/common): the one home for the library and the `nad`
 * tool (inline and libc-free, so no internal symbol has to be exported). Never installed. */
#ifndef NADI_CHECKED_H
#define NADI_CHECKED_H

#include <stdint.h>

/* *out = a * b: 1, or 0 (and *out = 0) on overflow or a negative operand. */
static inline int nadi_mul_ok(int64_t a, int64_t b, int64_t *out) {
  int ok = a >= 0 && b >= 0 && (a == 0 || b <= INT64_MAX / a);
  *out = ok ? a * b : 0;
  return ok;
}

/* *out = a + b: 1, or 0 (and *out = 0) on overflow or a negative operand. */
static inline int nadi_add_ok(int64_t a, int64_t b, int64_t *out) {
  int ok = a >= 0 && b >= 0 && a <= INT64_MAX - b;
  *out = ok ? a + b : 0;
  return ok;
}

/* Product of n[0..count): 1, or 0 (and *out = 0) on overflow or a negative factor. */
static inline int nadi_prod_ok(const int64_t *n, int count, int64_t *out) {
  int64_t p = 1;
  for (int i = 0; i < count; i++)
    if (!nadi_mul_ok(p, n[i], &p)) {
      *out = 0;
      return 0;
    }
  *out = p;
  return 1;
}

#endif
