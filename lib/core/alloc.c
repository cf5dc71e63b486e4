/* Aligned allocation with overflow checks, and a per-thread count of the bytes it holds.
 *
 * Why count: the estimator sizes its probe batch and the number of concurrent networks to a
 * memory budget (issue 7). A probe's memory is whatever the delta forward and the executor
 * allocate, which changes with their code; measuring what creating one allocates (on the
 * creating thread, before anything is touched, so it costs address space only) stays right
 * whatever they do, where a formula kept beside them would drift. glibc knows every block's
 * size (malloc_usable_size); elsewhere nothing is counted and the budget is not enforced
 * for probes. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

#ifdef NADI_ALLOC_FAIL
/* Allocation-failure injection (meson -Dalloc_fail=true, test builds only): the k-th call of
 * nadi_alloc after nadi_alloc_fail_at(k) returns NULL, so a test can fail every allocation of a
 * call in turn and check that each failure is NAD_ERR_OUT_OF_MEMORY, leaks nothing and leaves
 * the handles usable. Process-wide; the tests that use it run single-threaded. */
static atomic_int_fast64_t g_fail_at, g_calls;

void nadi_alloc_fail_at(int64_t k) {
  atomic_store(&g_calls, 0);
  atomic_store(&g_fail_at, k);
}

int64_t nadi_alloc_calls(void) { return atomic_load(&g_calls); }
#endif

/* From this size on, buffers are aligned to 2 MiB and offered to transparent huge pages: the
 * estimator's D×D accumulators (1.2 GB at D = 12,288) otherwise cost 300,000 page faults each
 * time one is made, and their mirrored (column) accesses miss the TLB on every element.
 * Measured: making the work copy of the covariance 4.5 s of CPU with 4 KiB pages. */
#define HUGE_FROM ((size_t)32 << 20)
#define HUGE_ALIGN ((size_t)2 << 20)

void *nadi_alloc(size_t n, size_t size) {
#ifdef NADI_ALLOC_FAIL
  if (atomic_fetch_add(&g_calls, 1) + 1 == atomic_load(&g_fail_at))
    return NULL;
#endif
  if (size != 0 && n > (SIZE_MAX - HUGE_ALIGN) / size)
    return NULL;
  size_t bytes = n * size;
  if (bytes >= HUGE_FROM) {
    bytes = (bytes + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
    void *p = aligned_alloc(HUGE_ALIGN, bytes);
#ifdef MADV_HUGEPAGE
    if (p)
      (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
#ifdef COUNTED
    if (p)
      g_thread_bytes += (int64_t)malloc_usable_size(p);
#endif
    return p;
  }
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

/* Large zeroed buffers come from calloc, which hands out fresh mmap'd pages (already zero)
 * without touching them: a sketch of 3×224×224 responses is 400 MB that memset would fault in
 * and clear at creation, seconds of a short run on a virtual machine, before any is used.
 * calloc aligns them to 16 bytes only (nothing in libnad needs more: no aligned vector loads);
 * the huge-page advice covers the 2 MiB-aligned interior. */
void *nadi_calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  if (n * size < HUGE_FROM) {
    void *p = nadi_alloc(n, size);
    if (p)
      memset(p, 0, n * size);
    return p;
  }
#ifdef NADI_ALLOC_FAIL
  if (atomic_fetch_add(&g_calls, 1) + 1 == atomic_load(&g_fail_at))
    return NULL;
#endif
  void *p = calloc(n, size);
#ifdef MADV_HUGEPAGE
  if (p) {
    const uintptr_t a = ((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1);
    const uintptr_t b = ((uintptr_t)p + n * size) & ~(uintptr_t)(HUGE_ALIGN - 1);
    if (b > a)
      (void)madvise((void *)a, b - a, MADV_HUGEPAGE); /* advice only */
  }
#endif
#ifdef COUNTED
  if (p)
    g_thread_bytes += (int64_t)malloc_usable_size(p);
#endif
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
