/* Real-data training benchmark (issue 8), public API only: one epoch of LeNet (10 logits) over
 * the 60,000 Fashion-MNIST training images padded to 32x32, batch 128, the reference poisoning
 * script's optimiser (SGD lr 0.05, momentum 0.9, weight decay 5e-4, OneCycleLR), best of REPS
 * fits of one epoch; also the loading of both splits and one evaluation of the 10,000 test
 * images. Prints one JSON line. Run by bench/bench_fmnist.sh (with the PyTorch side).
 * usage: bench_fmnist [THREADS [REPS]] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <nad/nad.h>

#include "bench.h"

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 2;
  nad_dataset *train = NULL, *test = NULL;
  double t0 = bench_wall();
  BENCH_TRY(nad_dataset_load("fashion-mnist", NAD_SPLIT_TRAIN, 32, 32, &train));
  BENCH_TRY(nad_dataset_load("fashion-mnist", NAD_SPLIT_TEST, 32, 32, &test));
  double t_load = bench_wall() - t0, best = 1e30, best_eval = 1e30, acc = 0;
  nad_arch *a = NULL;
  BENCH_TRY(nad_arch_create_builtin("lenet", 1, 32, 32, 10, &a));
  for (int r = 0; r < reps; r++) {
    nad_trainer *t = NULL;
    BENCH_TRY(nad_trainer_create(a, (uint64_t)r, &t));
    BENCH_TRY(nad_trainer_set_int(t, NAD_OPT_EPOCHS, 1));
    BENCH_TRY(nad_trainer_set_int(t, NAD_OPT_NUM_THREADS, threads));
    BENCH_TRY(nad_trainer_set_int(t, NAD_OPT_SCHEDULE, NAD_SCHEDULE_ONECYCLE));
    BENCH_TRY(nad_trainer_set_double(t, NAD_OPT_LR, 0.05));
    BENCH_TRY(nad_trainer_set_double(t, NAD_OPT_MOMENTUM, 0.9));
    BENCH_TRY(nad_trainer_set_double(t, NAD_OPT_WEIGHT_DECAY, 5e-4));
    BENCH_TRY(nad_trainer_set_double(t, NAD_OPT_CLIP, 0.0));
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
  printf("{\"threads\": %d, \"epoch_s\": %.4f, \"eval_10k_s\": %.4f, \"load_s\": %.3f, "
         "\"test_accuracy_1_epoch\": %.2f}\n", threads, best, best_eval, t_load, acc);
  nad_dataset_destroy(train);
  nad_dataset_destroy(test);
  nad_arch_destroy(a);
  return 0;
}
