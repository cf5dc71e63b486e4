/* Engine benchmark (issue 2): sgemm peak, then forward + input-backward of LeNet (batch 2048,
 * 1x32x32) and ResNet18 (batch 64), and ResNet18's convolutions alone, all in one run so the
 * ratios are meaningful on a shared, noisy machine. Prints GFLOP/s and fraction of sgemm peak.
 * Then the convolutions of ResNet18, VGG11 and DenseNet121 by layer class and algorithm
 * (bench/conv_classes.c).
 * Usage: bench_engine [--quick] [--convs-only] [--batch B] [--threads T] [--channels C]
 *                     [--cputime] [ARCH...]
 *   --convs-only  skip the whole-network part; --batch: batch of the layer-class part (64);
 *   --cputime: time by process CPU time (with --threads 1 on a busy machine);
 *   --threads: BLAS threads (default: the BLAS's own); ARCH...: architectures of the
 *   layer-class part (default resnet18 vgg11 densenet121). Without --cputime, the layer-class
 *   part ends with the threading comparison (conv_threading_bench, --threads or 2 threads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "conv_classes.h"
#include "kernels/kernels.h"
#include "bench.h"


static double now(void) {
  struct timespec t;
  clock_gettime(conv_class_cputime ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Best of `reps` timings of fn(arg). */
#define BEST_OF(reps, stmt)                                                                        \
  ({                                                                                               \
    double best_ = 1e30;                                                                           \
    for (int r_ = 0; r_ < (reps); r_++) {                                                          \
      double t0_ = now();                                                                          \
      stmt;                                                                                        \
      double dt_ = now() - t0_;                                                                    \
      if (dt_ < best_)                                                                             \
        best_ = dt_;                                                                               \
    }                                                                                              \
    best_;                                                                                         \
  })

static double sgemm_peak(int n, int reps) {
  float *a = nadi_alloc((size_t)n * n, 4), *b = nadi_alloc((size_t)n * n, 4),
        *c = nadi_alloc((size_t)n * n, 4);
  for (int64_t i = 0; i < (int64_t)n * n; i++)
    a[i] = b[i] = 1.0f / (float)(1 + i % 7);
  double t = BEST_OF(reps, nadi_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n));
  nadi_free(a), nadi_free(b), nadi_free(c);
  return 2.0 * n * n * (double)n / t / 1e9;
}

/* forward + input-backward of a whole network; returns GFLOP/s counting 2x forward flops
 * (the input-backward of conv/linear is one GEMM per layer, like the forward; no weight
 * gradients are computed). */
static double net_bench(const char *name, int64_t batch, int reps, double peak) {
  nad_arch *a;
  if (nad_arch_create_builtin(name, 1, 32, 32, 1, &a) != NAD_OK) {
    printf("%s: %s\n", name, nad_last_error());
    return 0;
  }
  const nadi_graph *g = a->g;
  float *params = nadi_alloc((size_t)g->n_params, 4);
  nadi_rng r;
  nadi_rng_init(&r, 1, 0);
  nadi_graph_init_params(g, params, &r);
  int64_t d = nadi_graph_in_size(g);
  float *x = nadi_alloc((size_t)(batch * d), 4), *dx = nadi_alloc((size_t)(batch * d), 4);
  float *dy = nadi_alloc((size_t)batch, 4);
  nadi_rng_fill_normal(&r, x, batch * d, 0, 1);
  for (int64_t i = 0; i < batch; i++)
    dy[i] = 1.0f;
  nadi_exec *e;
  nadi_exec_create(g, batch, &e);
  double tf = BEST_OF(reps, nadi_exec_forward(e, params, x, batch, 0, NULL));
  double tb = BEST_OF(reps, nadi_exec_backward(e, params, dy, dx, NULL));
  double f = (double)g->flops * (double)batch;
  printf("%-10s batch %5lld  forward %8.2f ms %6.1f GFLOP/s (%4.0f%% of sgemm)  "
         "input-backward %8.2f ms  fwd+bwd %6.1f GFLOP/s (%4.0f%%)\n",
         name, (long long)batch, tf * 1e3, f / tf / 1e9, 100 * f / tf / 1e9 / peak, tb * 1e3,
         2 * f / (tf + tb) / 1e9, 100 * 2 * f / (tf + tb) / 1e9 / peak);
  /* the convolutions alone (forward), layer by layer through the kernel table */
  if (strcmp(name, "resnet18") == 0) {
    double conv_t = 0, conv_f = 0;
    float *ws = NULL;
    size_t ws_n = 0;
    for (int64_t i = 0; i < g->n_layers; i++) {
      const nadi_layer *l = &g->layers[i];
      if (l->kind != NADI_CONV2D)
        continue;
      size_t need = nadi_ops(NADI_CONV2D)->workspace(l, batch);
      if (need > ws_n) {
        nadi_free(ws);
        ws = nadi_alloc(need, 4);
        ws_n = need;
      }
      int64_t insz = l->in_shape[0][0] * l->in_shape[0][1] * l->in_shape[0][2];
      int64_t outsz = l->out_shape[0] * l->out_shape[1] * l->out_shape[2];
      float *in = nadi_alloc((size_t)(batch * insz), 4), *out = nadi_alloc((size_t)(batch * outsz), 4);
      nadi_rng_fill_normal(&r, in, batch * insz, 0, 1);
      const float *ins[2] = {in, NULL};
      nadi_ctx ctx = {.batch = batch, .ws = ws};
      double t = BEST_OF(reps, nadi_ops(NADI_CONV2D)->forward(l, params + l->param_off, ins, out, &ctx));
      conv_t += t;
      conv_f += 2.0 * (double)batch * (double)(outsz * l->in_shape[0][0] * l->k * l->k);
      nadi_free(in), nadi_free(out);
    }
    nadi_free(ws);
    printf("%-10s convolutions forward: %8.2f ms %6.1f GFLOP/s = %4.0f%% of sgemm peak\n", name,
           conv_t * 1e3, conv_f / conv_t / 1e9, 100 * conv_f / conv_t / 1e9 / peak);
  }
  nadi_exec_destroy(e);
  nadi_free(params), nadi_free(x), nadi_free(dx), nadi_free(dy);
  nad_arch_destroy(a);
  return 2 * f / (tf + tb) / 1e9;
}

int main(int argc, char **argv) {
  int quick = 0, convs_only = 0, threads = 0;
  int64_t batch = 64, channels = 1;
  const char *archs[8];
  int n_archs = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else if (strcmp(argv[i], "--convs-only") == 0)
      convs_only = 1;
    else if (strcmp(argv[i], "--cputime") == 0)
      conv_class_cputime = 1;
    else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
      batch = atoll(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--channels") == 0 && i + 1 < argc)
      channels = atoll(argv[++i]);
    else if (argv[i][0] != '-' && n_archs < 8)
      archs[n_archs++] = argv[i];
    else {
      fprintf(stderr, "usage: bench_engine [--quick] [--convs-only] [--batch B] [--threads T] "
                      "[--channels C] [--cputime] [ARCH...]\n");
      return 2;
    }
  }
  if (batch < 1 || (channels != 1 && channels != 3)) {
    fprintf(stderr, "bench_engine: --batch must be >= 1 and --channels 1 or 3\n");
    return 2;
  }
  if (threads > 0)
    nadi_blas_set_threads(threads);
  if (n_archs == 0) {
    archs[0] = "resnet18", archs[1] = "vgg11", archs[2] = "densenet121";
    n_archs = quick ? 2 : 3;
  }
  int reps = quick ? 1 : 3;
  bench_print_blas(stdout);
  double peak = sgemm_peak(quick ? 512 : 2048, reps);
  printf("sgemm %d^3 peak: %.1f GFLOP/s\n", quick ? 512 : 2048, peak);
  if (!convs_only) {
    net_bench("lenet", quick ? 256 : 2048, reps, peak);
    net_bench("resnet18", quick ? 4 : 64, reps, peak);
  }
  for (int i = 0; i < n_archs; i++)
    conv_class_bench(archs[i], channels, quick ? 8 : batch, quick ? 1 : 2, peak);
  if (!conv_class_cputime) /* threading: wall clock by nature */
    for (int i = 0; i < n_archs; i++)
      conv_threading_bench(archs[i], channels, quick ? 8 : batch, threads > 1 ? threads : 2,
                           quick ? 1 : 2);
  return 0;
}
