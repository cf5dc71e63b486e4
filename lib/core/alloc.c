/* Aligned allocation with overflow checks, and a per-thread count of the bytes it holds.
 *
 * Why count: the estimator sizes its probe batch and the number of concurrent networks to a
 * memory budget (issue 7). A probe's memory is whatever the delta forward and the executor
 * allocate, which changes with their code; measuring what creating one allocates (on the
 * creating thread, before anything is touched, so it costs address space only) stays right
 * whatever they do, where a formula kept beside them would drift. glibc knows every block's
 * size (malloc_usable_size); elsewhere nothing is counted and the budget is not enforced
 * for probes. */
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#define COUNTED 1
#endif

#include "core/core.h"

#ifdef COUNTED
static _Thread_local int64_t g_thread_bytes;
#endif

int64_t nadi_alloc_thread_bytes(void) {
#ifdef COUNTED
  return g_thread_bytes;
#else
  return -1;
#endif
}

void *nadi_alloc(size_t n, size_t size) {
  if (size != 0 && n > (SIZE_MAX - 64) / size)
    return NULL;
  size_t bytes = n * size;
  bytes = (bytes + 63) & ~(size_t)63;
  if (bytes == 0)
    bytes = 64;
  void *p = aligned_alloc(64, bytes);
#ifdef COUNTED
  if (p)
    g_thread_bytes += (int64_t)malloc_usable_size(p);
#endif
  return p;
}

void *nadi_calloc(size_t n, size_t size) {
  void *p = nadi_alloc(n, size);
  if (p)
    memset(p, 0, n * size);
  return p;
}

void nadi_free(void *p) {
#ifdef COUNTED
  if (p)
    g_thread_bytes -= (int64_t)malloc_usable_size(p);
#endif
  free(p);
}

void nad_free(void *p) { nadi_free(p); }
