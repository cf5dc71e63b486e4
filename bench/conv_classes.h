/* Per-layer-class convolution benchmark (bench/conv_classes.c), used by bench_engine. */
#ifndef NADB_CONV_CLASSES_H
#define NADB_CONV_CLASSES_H
#include <stdint.h>

/* Times every convolution of the built-in `arch` on a channels×32×32 input at `batch` (best of
 * reps) with each algorithm and prints one line per layer class against the sgemm `peak`. */
/* Time with the process CPU clock instead of the wall clock (single-threaded runs only). */
extern int conv_class_cputime;
void conv_class_bench(const char *arch, int64_t channels, int64_t batch, int reps, double peak);

/* Wall-clock throughput of all convolutions of `arch` (im2col and the forward-only dispatch):
 * one network with `threads` BLAS threads against `threads` networks in parallel threads with
 * one BLAS thread each (what the estimator's workers do); reps passes each. */
void conv_threading_bench(const char *arch, int64_t channels, int64_t batch, int threads,
                          int reps);

#endif
