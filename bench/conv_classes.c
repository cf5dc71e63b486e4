/* Per-layer-class convolution throughput (part of bench_engine): every convolution of an
 * architecture, forward, timed once per distinct shape and weighted by how often the shape
 * occurs, grouped into classes (kernel, stride, output map). For each class: the im2col path
 * (what training uses), each eval-mode algorithm that applies, and conv2d's eval dispatch.
 * Throughput is "effective GFLOP/s" = direct-convolution FLOPs (2·O·OH·OW·C·k² per image, the
 * graph's convention without bias) / time, so an algorithm that multiplies less can exceed the
 * sgemm peak. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conv_classes.h"
#include "graph/graph.h"
#include "kernels/conv_algo.h"

enum { A_IM2COL, A_WINO2, A_WINO4, A_TINY, A_DISPATCH, A_COUNT };
static const char *const algo_name[A_COUNT] = {"im2col", "F(2x2)", "F(4x4)", "tiny", "dispatch"};

/* Wall clock, or the process's CPU time (bench_engine --cputime: a single-threaded measurement
 * that other jobs on a shared machine disturb less). */
int conv_class_cputime;

static double now(void) {
  struct timespec t;
  clock_gettime(conv_class_cputime ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct cls {
  char name[40];
  int64_t layers;
  double flop;          /* direct-convolution FLOPs for the batch */
  double t[A_COUNT];    /* seconds for the batch, summed over the class's layers */
  int has[A_COUNT];     /* algorithm applies to every layer of the class */
} cls;

#define MAX_CLS 32

static void class_name(const nadi_layer *l, char *out, size_t n) {
  int64_t c = l->in_shape[0][0];
  if (c <= 3) /* the stem reads the image: few channels, its own class */
    snprintf(out, n, "%dx%d s%d stem C=%lld", (int)l->k, (int)l->k, (int)l->stride, (long long)c);
  else
    snprintf(out, n, "%dx%d s%d -> %lldx%lld", (int)l->k, (int)l->k, (int)l->stride, (long long)l->out_shape[1],
             (long long)l->out_shape[2]);
}

static void run(int algo, const nadi_layer *l, float *w, const float *x, float *y, int64_t batch,
                float *ws) {
  const float *bias = l->bias ? w + l->out_shape[0] * l->in_shape[0][0] * l->k * l->k : NULL;
  nadi_ctx ctx = {.batch = batch, .training = 0, .ws = ws, .state = NULL, .rng = NULL,
                  .forward_only = algo == A_DISPATCH};
  const float *xs[1] = {x};
  switch (algo) {
  case A_WINO2:
    nadi_wino_forward(l, 2, w, bias, x, y, batch, ws);
    break;
  case A_WINO4:
    nadi_wino_forward(l, 4, w, bias, x, y, batch, ws);
    break;
  case A_TINY:
    nadi_tiny_forward(l, w, bias, x, y, batch, ws);
    break;
  default: /* im2col, or the dispatch of a forward-only executor */
    nadi_ops(NADI_CONV2D)->forward(l, w, xs, y, &ctx);
  }
}

static int applies(int algo, const nadi_layer *l) {
  if (algo == A_WINO2 || algo == A_WINO4)
    return nadi_wino_applicable(l);
  if (algo == A_TINY)
    return nadi_tiny_applicable(l);
  return 1;
}

static size_t ws_size(int algo, const nadi_layer *l, int64_t batch) {
  switch (algo) {
  case A_WINO2:
    return nadi_wino_workspace(l, 2, batch);
  case A_WINO4:
    return nadi_wino_workspace(l, 4, batch);
  case A_TINY:
    return nadi_tiny_workspace(l);
  default:
    return nadi_ops(NADI_CONV2D)->workspace(l, batch);
  }
}

static int same_shape(const nadi_layer *a, const nadi_layer *b) {
  return memcmp(a->in_shape[0], b->in_shape[0], sizeof a->in_shape[0]) == 0 &&
         memcmp(a->out_shape, b->out_shape, sizeof a->out_shape) == 0 && a->k == b->k &&
         a->stride == b->stride && a->pad == b->pad && a->bias == b->bias;
}

void conv_class_bench(const char *arch, int64_t channels, int64_t batch, int reps, double peak) {
  nadi_graph *g;
  if (nadi_builtin_build(arch, channels, 32, 32, 1, &g) != NAD_OK) {
    printf("%s: %s\n", arch, nad_last_error());
    return;
  }
  float *params = nadi_alloc((size_t)g->n_params, 4);
  nadi_rng r;
  nadi_rng_init(&r, 1, 0);
  nadi_graph_init_params(g, params, &r);
  cls classes[MAX_CLS];
  int n_cls = 0;
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    if (l->kind != NADI_CONV2D)
      continue;
    int dup = 0; /* timed already with an earlier layer of the same shape */
    for (int64_t j = 0; j < i && !dup; j++)
      dup = g->layers[j].kind == NADI_CONV2D && same_shape(&g->layers[j], l);
    int64_t count = 0;
    for (int64_t j = i; j < g->n_layers; j++)
      count += g->layers[j].kind == NADI_CONV2D && same_shape(&g->layers[j], l);
    if (dup)
      continue;
    char name[40];
    class_name(l, name, sizeof name);
    int k = 0;
    while (k < n_cls && strcmp(classes[k].name, name) != 0)
      k++;
    if (k == n_cls) {
      if (n_cls == MAX_CLS)
        continue;
      memset(&classes[k], 0, sizeof classes[k]);
      snprintf(classes[k].name, sizeof classes[k].name, "%s", name);
      for (int a = 0; a < A_COUNT; a++)
        classes[k].has[a] = 1;
      n_cls++;
    }
    cls *c = &classes[k];
    c->layers += count;
    int64_t insz = l->in_shape[0][0] * l->in_shape[0][1] * l->in_shape[0][2];
    int64_t outsz = l->out_shape[0] * l->out_shape[1] * l->out_shape[2];
    c->flop += (double)count * 2.0 * (double)batch * (double)outsz *
               (double)(l->in_shape[0][0] * l->k * l->k);
    float *in = nadi_alloc((size_t)(batch * insz), 4), *out = nadi_alloc((size_t)(batch * outsz), 4);
    nadi_rng_fill_normal(&r, in, batch * insz, 0, 1);
    for (int a = 0; a < A_COUNT; a++) {
      if (!applies(a, l)) {
        c->has[a] = 0;
        continue;
      }
      float *ws = nadi_alloc(ws_size(a, l, batch) + 1, 4);
      double best = 1e30;
      for (int rep = 0; rep < reps; rep++) {
        double t0 = now();
        run(a, l, params + l->param_off, in, out, batch, ws);
        double dt = now() - t0;
        best = dt < best ? dt : best;
      }
      c->t[a] += (double)count * best;
      nadi_free(ws);
    }
    nadi_free(in), nadi_free(out);
  }
  printf("%s %lldx32x32, batch %lld: convolution forward by layer class, effective GFLOP/s "
         "(direct-conv FLOPs / time; sgemm peak %.1f)\n",
         arch, (long long)channels, (long long)batch, peak);
  printf("  %-22s %6s %8s", "class", "layers", "GFLOP");
  for (int a = 0; a < A_COUNT; a++)
    printf(" %16s", algo_name[a]);
  printf(" %8s\n", "speed-up");
  double tot_f = 0, tot_i = 0, tot_d = 0;
  for (int k = 0; k < n_cls; k++) {
    cls *c = &classes[k];
    printf("  %-22s %6lld %8.2f", c->name, (long long)c->layers, c->flop / 1e9);
    for (int a = 0; a < A_COUNT; a++) {
      if (c->has[a])
        printf(" %7.1fms %6.1f", c->t[a] * 1e3, c->flop / c->t[a] / 1e9);
      else
        printf(" %16s", "-");
    }
    printf(" %7.2fx\n", c->t[A_IM2COL] / c->t[A_DISPATCH]);
    tot_f += c->flop, tot_i += c->t[A_IM2COL], tot_d += c->t[A_DISPATCH];
  }
  printf("  %-22s %6s %8.2f  im2col %.1f ms = %.1f GFLOP/s (%.0f%% of sgemm peak)  dispatch %.1f "
         "ms = %.1f GFLOP/s (%.0f%%)  speed-up %.2fx\n",
         "all convolutions", "", tot_f / 1e9, tot_i * 1e3, tot_f / tot_i / 1e9,
         100 * tot_f / tot_i / 1e9 / peak, tot_d * 1e3, tot_f / tot_d / 1e9,
         100 * tot_f / tot_d / 1e9 / peak, tot_i / tot_d);
  nadi_free(params);
  nadi_graph_destroy(g);
}

/* ---- threading: BLAS threads inside one network's GEMMs, or one network per thread ---------- */

typedef struct net_job {
  const nadi_graph *g;
  float *params;
  int64_t batch;
  int algo, reps;
  float *in, *out, *ws; /* own buffers: the largest layer's */
} net_job;

/* Every convolution of the graph, in order, reps times (inputs are whatever the buffers hold:
 * the cost does not depend on the values). */
static void *run_convs(void *arg) {
  net_job *j = arg;
  for (int r = 0; r < j->reps; r++)
    for (int64_t i = 0; i < j->g->n_layers; i++) {
      const nadi_layer *l = &j->g->layers[i];
      if (l->kind == NADI_CONV2D)
        run(j->algo, l, j->params + l->param_off, j->in, j->out, j->batch, j->ws);
    }
  return NULL;
}

void conv_threading_bench(const char *arch, int64_t channels, int64_t batch, int threads,
                          int reps) {
  nadi_graph *g;
  if (threads < 2 || nadi_builtin_build(arch, channels, 32, 32, 1, &g) != NAD_OK)
    return;
  float *params = nadi_alloc((size_t)g->n_params, 4);
  nadi_rng r;
  nadi_rng_init(&r, 1, 0);
  nadi_graph_init_params(g, params, &r);
  int64_t in_max = 0, out_max = 0;
  size_t ws_max = 0;
  double flop = 0;
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    if (l->kind != NADI_CONV2D)
      continue;
    int64_t insz = l->in_shape[0][0] * l->in_shape[0][1] * l->in_shape[0][2];
    int64_t outsz = l->out_shape[0] * l->out_shape[1] * l->out_shape[2];
    in_max = insz > in_max ? insz : in_max;
    out_max = outsz > out_max ? outsz : out_max;
    size_t w = nadi_ops(NADI_CONV2D)->workspace(l, batch);
    ws_max = w > ws_max ? w : ws_max;
    flop += 2.0 * (double)batch * (double)outsz * (double)(l->in_shape[0][0] * l->k * l->k);
  }
  net_job jobs[16];
  if (threads > 16)
    threads = 16;
  for (int t = 0; t < threads; t++) {
    jobs[t] = (net_job){.g = g, .params = params, .batch = batch, .reps = reps,
                        .in = nadi_alloc((size_t)(batch * in_max), 4),
                        .out = nadi_alloc((size_t)(batch * out_max), 4),
                        .ws = nadi_alloc(ws_max + 1, 4)};
    nadi_rng_fill_normal(&r, jobs[t].in, batch * in_max, 0, 1);
  }
  printf("%s %lldx32x32, batch %lld, all convolutions x %d, wall clock: %d BLAS threads in one "
         "network vs %d networks of 1 BLAS thread each (effective GFLOP/s)\n",
         arch, (long long)channels, (long long)batch, reps, threads, threads);
  const int algos[2] = {A_IM2COL, A_DISPATCH};
  for (int a = 0; a < 2; a++) {
    for (int t = 0; t < threads; t++)
      jobs[t].algo = algos[a];
    int old = nadi_blas_set_threads(threads);
    run_convs(&jobs[0]); /* warm-up: page faults, BLAS buffers */
    int saved = conv_class_cputime;
    conv_class_cputime = 0;
    double t0 = now();
    run_convs(&jobs[0]);
    double t_blas = now() - t0;
    nadi_blas_set_threads(1);
    pthread_t th[16];
    t0 = now();
    for (int t = 0; t < threads; t++)
      pthread_create(&th[t], NULL, run_convs, &jobs[t]);
    for (int t = 0; t < threads; t++)
      pthread_join(th[t], NULL);
    double t_nets = now() - t0;
    conv_class_cputime = saved;
    nadi_blas_set_threads(old);
    printf("  %-9s BLAS-parallel %7.1f GFLOP/s   network-parallel %7.1f GFLOP/s   ratio %.2f\n",
           algo_name[algos[a]], flop * reps / t_blas / 1e9, flop * reps * threads / t_nets / 1e9,
           t_blas * threads / t_nets);
  }
  for (int t = 0; t < threads; t++)
    nadi_free(jobs[t].in), nadi_free(jobs[t].out), nadi_free(jobs[t].ws);
  nadi_free(params);
  nadi_graph_destroy(g);
}
