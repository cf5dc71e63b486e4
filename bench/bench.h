/* What every benchmark shares (public API only): its clocks, the check of a call, and one line
 * naming the BLAS it ran on (issue 7: a figure without its BLAS kernel cannot be compared). */
#ifndef NAD_BENCH_H
#define NAD_BENCH_H
#include <stdio.h>
#include <time.h>

#include <nad/nad.h>

/* Wall-clock seconds (monotonic). */
static inline double bench_wall(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of the whole process (all threads): on a shared machine, less inflated by load. */
static inline double bench_cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Evaluates a libnad call; on failure prints it with nad_last_error() and returns 1 from the
 * enclosing function (main). */
#define BENCH_TRY(x)                                                                               \
  do {                                                                                             \
    nad_status st_ = (x);                                                                          \
    if (st_ != NAD_OK) {                                                                           \
      fprintf(stderr, "%s: %s\n", #x, nad_last_error());                                          \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

/* vendor, kernel set, threads, and the warning when the kernels are weaker than the CPU allows */
static inline void bench_print_blas(FILE *f) {
  const char *w = nad_blas_info(NAD_BLAS_WARNING);
  fprintf(f, "BLAS: %s, %s kernels (CPU %s, best %s), %d threads%s%s\n",
          nad_blas_info(NAD_BLAS_VENDOR), nad_blas_info(NAD_BLAS_CORE), nad_blas_info(NAD_BLAS_CPU),
          nad_blas_info(NAD_BLAS_BEST_CORE)[0] ? nad_blas_info(NAD_BLAS_BEST_CORE) : "?",
          (int)nad_blas_threads(), w[0] ? "; warning: " : "", w);
}
#endif
