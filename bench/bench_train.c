/* Training benchmark (issue 4), public API only: one epoch of an architecture (default LeNet)
 * over N (10,000) 1x32x32 samples of D(v), batch 128, reference optimiser settings, best of
 * REPS fits of one epoch; the evaluation of 10,000 test samples; the generation of the two
 * datasets. From these, the time of one 'nad bias' cell with the reference setup (20 epochs,
 * evaluation after each) and of a 16x16 grid. Prints one JSON line. Built and run by
 * bench/bench_train.sh (with the PyTorch side). The BLAS line goes to stderr.
 * usage: bench_train [THREADS [REPS [ARCH [N]]]] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <nad/nad.h>

#include "bench.h"

int main(int argc, char **argv) {
  bench_print_blas(stderr);
  int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 3;
  const char *name = argc > 3 ? argv[3] : "lenet";
  int64_t n = argc > 4 ? atoll(argv[4]) : 10000;
  nad_arch *a = NULL;
  BENCH_TRY(nad_arch_create_builtin(name, 1, 32, 32, 2, &a));
  float v[1024];
  BENCH_TRY(nad_direction_fourier(1, 32, 32, 1, 0, NAD_FOURIER_AUTO, v, 1024));
  nad_dataset *train = NULL, *test = NULL;
  double t0 = bench_wall();
  BENCH_TRY(nad_dataset_create_linear(v, 1, 32, 32, n, 1.0, 3.0, 1, &train));
  BENCH_TRY(nad_dataset_create_linear(v, 1, 32, 32, 10000, 1.0, 3.0, 2, &test));
  double t_data = bench_wall() - t0, best = 1e30, best_eval = 1e30, acc = 0;
  for (int r = 0; r < reps; r++) {
    nad_trainer *t = NULL;
    BENCH_TRY(nad_trainer_create(a, (uint64_t)r, &t));
    BENCH_TRY(nad_trainer_set_int(t, NAD_OPT_EPOCHS, 1));
    BENCH_TRY(nad_trainer_set_int(t, NAD_OPT_NUM_THREADS, threads));
    t0 = bench_wall();
    BENCH_TRY(nad_trainer_fit(t, train, NULL));
    double dt = bench_wall() - t0;
    best = dt < best ? dt : best;
    t0 = bench_wall();
    BENCH_TRY(nad_trainer_evaluate(t, test, &acc, NULL));
    dt = bench_wall() - t0;
    best_eval = dt < best_eval ? dt : best_eval;
    nad_trainer_destroy(t);
  }
  double cell = t_data + 20 * (best + best_eval);
  printf("{\"arch\": \"%s\", \"threads\": %d, \"samples\": %lld, \"epoch_s\": %.4f, "
         "\"eval_10k_s\": %.4f, \"data_20k_s\": %.4f, \"cell_s\": %.2f, \"grid_16x16_min\": %.1f}\n",
         name, threads, (long long)n, best, best_eval, t_data, cell, cell * 256 / 60);
  nad_dataset_destroy(train);
  nad_dataset_destroy(test);
  nad_arch_destroy(a);
  return 0;
}
