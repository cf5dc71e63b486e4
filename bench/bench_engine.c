/* Engine benchmark (issue 2): sgemm peak, then forward + input-backward of LeNet (batch 2048,
 * 1x32x32) and ResNet18 (batch 64), and ResNet18's convolutions alone, all in one run so the
 * ratios are meaningful on a shared, noisy machine. Prints GFLOP/s and fraction of sgemm peak.
 * Usage: bench_engine [--quick] */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "kernels/kernels.h"
#include "blas_line.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
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
      size_t need = nadi_conv2d_ops.workspace(l, batch);
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
      double t = BEST_OF(reps, nadi_conv2d_ops.forward(l, params + l->param_off, ins, out, &ctx));
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
  int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  int reps = quick ? 1 : 3;
  bench_print_blas(stdout);
  double peak = sgemm_peak(quick ? 512 : 2048, reps);
  printf("sgemm %d^3 peak: %.1f GFLOP/s\n", quick ? 512 : 2048, peak);
  net_bench("lenet", quick ? 256 : 2048, reps, peak);
  net_bench("resnet18", quick ? 4 : 64, reps, peak);
  return 0;
}
