/* One line naming the BLAS a benchmark ran on (nad_blas_info): vendor, kernel set, threads, and
 * the warning when the kernels are weaker than the CPU allows. Every benchmark prints it (issue
 * 7: a figure without its BLAS kernel cannot be compared). */
#ifndef NAD_BENCH_BLAS_LINE_H
#define NAD_BENCH_BLAS_LINE_H
#include <stdio.h>

#include <nad/nad.h>

static inline void bench_print_blas(FILE *f) {
  const char *w = nad_blas_info(NAD_BLAS_WARNING);
  fprintf(f, "BLAS: %s, %s kernels (CPU %s, best %s), %d threads%s%s\n",
          nad_blas_info(NAD_BLAS_VENDOR), nad_blas_info(NAD_BLAS_CORE), nad_blas_info(NAD_BLAS_CPU),
          nad_blas_info(NAD_BLAS_BEST_CORE)[0] ? nad_blas_info(NAD_BLAS_BEST_CORE) : "?",
          (int)nad_blas_threads(), w[0] ? "; warning: " : "", w);
}
#endif
