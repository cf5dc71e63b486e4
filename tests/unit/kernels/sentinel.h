/* Float buffers with a NaN-sentinel tail, shared by the kernel tests: a kernel that writes past
 * the n floats it was given overwrites a sentinel, which guard_ok() detects. */
#ifndef NADT_SENTINEL_H
#define NADT_SENTINEL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define GUARD 32 /* sentinel floats after every buffer handed to a kernel */

/* n floats plus the sentinels, all NaN (so that a result nobody wrote shows). */
static inline float *fbuf(int64_t n) {
  float *p = malloc((size_t)(n + GUARD) * sizeof(float));
  if (!p) {
    printf("out of memory\n");
    exit(2);
  }
  for (int64_t i = 0; i < n + GUARD; i++)
    p[i] = NAN;
  return p;
}

/* The sentinels after p's n floats are intact (NULL: nothing to check). */
static inline int guard_ok(const float *p, int64_t n) {
  if (!p)
    return 1;
  for (int64_t i = n; i < n + GUARD; i++)
    if (!isnan(p[i]))
      return 0;
  return 1;
}

#endif
