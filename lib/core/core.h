/* Internal core utilities: errors, allocation, random numbers. Never installed. */
#ifndef NADI_CORE_H
#define NADI_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "nad/nad.h"

/* Record a formatted message as this thread's last error and return st. */
nad_status nadi_fail(nad_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Validate once at the façade: on failure record the message and return the status. */
#define NADI_CHECK(cond, st, ...)                                                                  \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      return nadi_fail((st), __VA_ARGS__);                                                         \
  } while (0)

/* Propagate a non-OK status (its message is already recorded). */
#define NADI_TRY(expr)                                                                             \
  do {                                                                                             \
    nad_status nadi_st_ = (expr);                                                                  \
    if (nadi_st_ != NAD_OK)                                                                        \
      return nadi_st_;                                                                             \
  } while (0)

/* 64-byte aligned allocation; size 0 gives a valid unique pointer. NULL on failure/overflow. */
void *nadi_alloc(size_t n_elems, size_t elem_size);
/* Zeroed; 64-byte aligned below 32 MiB, 16-byte aligned from there (lazily zeroed pages). */
void *nadi_calloc(size_t n_elems, size_t elem_size);
void nadi_free(void *p);
/* Bytes of the blocks nadi_alloc gave this thread minus those nadi_free released on it (a
 * block freed by another thread is counted there); -1 where the C library cannot tell. The
 * difference around a call is what the call allocated and kept. */
int64_t nadi_alloc_thread_bytes(void);
#ifdef NADI_ALLOC_FAIL
/* Test builds (-Dalloc_fail=true): make the k-th nadi_alloc from now fail (k <= 0: none), and
 * count the calls made since (alloc.c). */
void nadi_alloc_fail_at(int64_t k);
int64_t nadi_alloc_calls(void);
#endif

#include "common/checked.h" /* nadi_mul_ok, nadi_add_ok: overflow-checked sizes */

/* Counter-based generator: a stream is fully defined by (seed, stream id), so network j's
 * weights depend only on (seed, j) whatever the thread that builds it. splitmix64 seeding of
 * xoshiro256**. */
typedef struct nadi_rng {
  uint64_t s[4];
  int has_spare;
  double spare;
} nadi_rng;

void nadi_rng_init(nadi_rng *r, uint64_t seed, uint64_t stream);
uint64_t nadi_rng_u64(nadi_rng *r);
double nadi_rng_uniform(nadi_rng *r);         /* [0, 1) with 53 random bits */
double nadi_rng_normal(nadi_rng *r);          /* N(0, 1), Box–Muller (polar) */
void nadi_rng_fill_uniform(nadi_rng *r, float *x, int64_t n, double lo, double hi);
void nadi_rng_fill_normal(nadi_rng *r, float *x, int64_t n, double mean, double std);

/* Vector instruction level that the CPU and the OS both allow (cpu.c). Ordered: a BLAS kernel
 * written for a lower level runs, but slower. */
enum {
  NADI_SIMD_UNKNOWN = -1, /* not x86 (no opinion) */
  NADI_SIMD_BASE = 0,     /* SSE2/SSE3 only */
  NADI_SIMD_AVX = 1,
  NADI_SIMD_AVX2 = 2,     /* AVX2 and FMA3 */
  NADI_SIMD_AVX512 = 3    /* AVX-512F (with AVX2 and FMA3) */
};
int nadi_cpu_simd_level(void);
const char *nadi_cpu_simd_name(int level); /* "AVX-512", ...; static */



/* FNV-1a (64 bit) of n bytes, continuing from h (start with NADI_FNV0); lib/core/hash.c. */
#define NADI_FNV0 0xcbf29ce484222325ULL
uint64_t nadi_fnv(uint64_t h, const void *data, size_t n);

#endif
