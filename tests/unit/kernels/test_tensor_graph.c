/* The tensor-operation kinds (lib/kernels/matmul.c, layout.c) inside a graph: built with
 * nadi_add_node, initialised, run by the executor on a batch of 3, and the executor's input and
 * parameter gradients checked against central differences of its own forward, along random
 * directions. The graph is an attention-like chain and includes a matmul and a concat whose two
 * inputs are the same node (dx[0] == dx[1] in backward). Also: a batch gives each sample what it
 * gives alone, and array hyper-parameters beyond the input's rank do not change the
 * fingerprint. (Each kind against PyTorch: torch_nodes.py.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "../check.h"

static int32_t add(nadi_builder *b, nadi_kind kind, int32_t in0, int32_t in1, nadi_hparams hp) {
  int32_t in[2] = {in0, in1}, node = -1;
  nad_status st = nadi_add_node(b, kind, in, in1 == -2 ? 1 : 2, &hp, NULL, &node);
  CHECK(st == NAD_OK, "add kind %d: %s", (int)kind, nad_last_error());
  return node;
}

/* input (1, 3, 4, 4) -> ... -> (1, 2); perm_junk fills perm entries beyond the rank */
static nadi_graph *build(int perm_junk) {
  nadi_builder *b = NULL;
  if (nadi_builder_create(3, 4, 4, &b) != NAD_OK)
    return NULL;
  nadi_hparams hp = nadi_hparams_default(), h;
  h = hp, h.reshape_rank = 3, h.reshape_dims[0] = 1, h.reshape_dims[1] = 3;
  h.reshape_dims[2] = -1;
  int32_t n = add(b, NADI_RESHAPE, NADI_INPUT_NODE, -2, h); /* (1, 3, 16) */
  nadi_hparams tr = hp;
  tr.perm[0] = 0, tr.perm[1] = 2, tr.perm[2] = 1;
  if (perm_junk)
    tr.perm[3] = 5, tr.perm[5] = 9;
  n = add(b, NADI_TRANSPOSE, n, -2, tr); /* (1, 16, 3) */
  h = hp, h.out_c = 8, h.bias = 1, h.gemm_alpha = 1, h.gemm_beta = 1;
  int32_t tok = add(b, NADI_GEMM, n, -2, h);           /* (1, 16, 8) */
  int32_t tok_t = add(b, NADI_TRANSPOSE, tok, -2, tr); /* (1, 8, 16) */
  n = add(b, NADI_MATMUL, tok, tok_t, hp);             /* (1, 16, 16) */
  n = add(b, NADI_MATMUL, n, n, hp);                   /* the same node twice */
  h = hp;
  int64_t st[3] = {0, 1, 0}, en[3] = {1, 16, 16}, sp[3] = {1, 2, 3};
  memcpy(h.starts, st, sizeof st), memcpy(h.ends, en, sizeof en), memcpy(h.steps, sp, sizeof sp);
  n = add(b, NADI_SLICE, n, -2, h); /* (1, 8, 6) */
  h = hp, h.pads[1] = 1, h.pads[5] = 2, h.pad_value = 0.25;
  n = add(b, NADI_PAD, n, -2, h); /* (1, 9, 8) */
  h = hp, h.tensor_axis = 2;
  n = add(b, NADI_CONCAT_AXIS, n, n, h); /* (1, 9, 16), the same node twice */
  h = hp, h.tensor_axis = 1, h.gather_index = -2; /* row 7: not the padding */
  n = add(b, NADI_GATHER, n, -2, h); /* (1, 16) */
  h = hp, h.tensor_axis = 1;
  n = add(b, NADI_FLATTEN_AXIS, n, -2, h);
  n = add(b, NADI_IDENTITY, n, -2, hp);
  h = hp, h.out_c = 2, h.bias = 1, h.trans_b = 1, h.gemm_alpha = 0.5, h.gemm_beta = 2;
  add(b, NADI_GEMM, n, -2, h); /* (1, 2) */
  nadi_graph *g = NULL;
  nad_status s = nadi_builder_finish(b, &g);
  CHECK(s == NAD_OK, "finish: %s", nad_last_error()); /* (consumes the builder) */
  return g;
}

/* sum(dy * f(x)) in double */
static double loss(nadi_exec *e, float *p, const float *x, const float *dy, int64_t n_out) {
  const float *y = nadi_exec_forward(e, p, x, 3, 0, NULL);
  double s = 0.0;
  for (int64_t i = 0; i < n_out; i++)
    s += (double)dy[i] * y[i];
  return s;
}

/* central difference of loss along v (n floats at base) with step h */
static double central(nadi_exec *e, float *p, float *x, const float *dy, int64_t n_out,
                      float *base, const float *v, int64_t n, double h) {
  float *save = malloc((size_t)n * sizeof(float));
  memcpy(save, base, (size_t)n * sizeof(float));
  for (int64_t i = 0; i < n; i++)
    base[i] = (float)(save[i] + h * v[i]);
  double lp = loss(e, p, x, dy, n_out);
  for (int64_t i = 0; i < n; i++)
    base[i] = (float)(save[i] - h * v[i]);
  double lm = loss(e, p, x, dy, n_out);
  memcpy(base, save, (size_t)n * sizeof(float));
  free(save);
  return (lp - lm) / (2 * h);
}

/* directional derivative of loss along v (Richardson: steps h and h/2, the h^2 term cancels;
 * the chain is a quartic of the input) vs <grad, v>; relative error */
static double fd_rel(nadi_exec *e, float *p, float *x, const float *dy, int64_t n_out,
                     float *base, const float *v, int64_t n, const float *grad) {
  const double h = 2e-2;
  double dot = 0.0;
  for (int64_t i = 0; i < n; i++)
    dot += (double)grad[i] * v[i];
  double fd = (4 * central(e, p, x, dy, n_out, base, v, n, h / 2) -
               central(e, p, x, dy, n_out, base, v, n, h)) / 3;
  printf("  directional derivative %.6g, gradient %.6g\n", fd, dot);
  CHECK(fabs(dot) > 1e-3, "the gradient is (nearly) 0 along v: a test that cannot fail");
  return fabs(fd - dot) / fmax(fabs(dot), 1e-30);
}

static void fill_normal(nadi_rng *r, float *p, int64_t n, double s) {
  nadi_rng_fill_normal(r, p, n, 0.0, s);
}

static void test_graph_gradients(void) {
  nadi_graph *g = build(0);
  if (!g)
    return;
  CHECK(g->n_params == 3 * 8 + 8 + 16 * 2 + 2, "n_params %lld", (long long)g->n_params);
  CHECK(g->flops > 0, "flops %lld", (long long)g->flops);
  int64_t n_in = nadi_graph_in_size(g), n_out = nadi_graph_out_size(g);
  CHECK(n_out == 2, "output size %lld", (long long)n_out);
  nadi_rng r;
  nadi_rng_init(&r, 7, 0);
  float *p = malloc((size_t)g->n_params * sizeof(float)), *x = malloc(3 * n_in * sizeof(float));
  float *dy = malloc(3 * n_out * sizeof(float)), *dx = malloc(3 * n_in * sizeof(float));
  float *dp = malloc((size_t)g->n_params * sizeof(float));
  float *vx = malloc(3 * n_in * sizeof(float)), *vp = malloc((size_t)g->n_params * sizeof(float));
  nadi_graph_init_params(g, p, &r);
  fill_normal(&r, x, 3 * n_in, 0.5), fill_normal(&r, dy, 3 * n_out, 1.0);
  fill_normal(&r, vx, 3 * n_in, 1.0), fill_normal(&r, vp, g->n_params, 1.0);
  nadi_exec *e = NULL;
  CHECK(nadi_exec_create(g, 3, &e) == NAD_OK, "exec: %s", nad_last_error());
  if (e) {
    float y3[6];
    memcpy(y3, nadi_exec_forward(e, p, x, 3, 0, NULL), sizeof y3);
    const float *y1 = nadi_exec_forward(e, p, x + 2 * n_in, 1, 0, NULL); /* sample 2 alone */
    for (int i = 0; i < 2; i++)
      CHECK(fabsf(y1[i] - y3[4 + i]) <= 1e-5f * (fabsf(y1[i]) + 1e-3f), "sample 2 alone %g, in "
            "the batch %g", y1[i], y3[4 + i]);
    nadi_exec_forward(e, p, x, 3, 0, NULL);
    nadi_exec_backward(e, p, dy, dx, dp);
    double rx = fd_rel(e, p, x, dy, 3 * n_out, x, vx, 3 * n_in, dx);
    double rp = fd_rel(e, p, x, dy, 3 * n_out, p, vp, g->n_params, dp);
    CHECK(rx < 5e-4, "input gradient vs central difference: rel err %.2e", rx);
    CHECK(rp < 5e-4, "parameter gradient vs central difference: rel err %.2e", rp);
    nadi_exec_destroy(e);
  }
  free(p), free(x), free(dy), free(dx), free(dp), free(vx), free(vp);
  nadi_graph_destroy(g);
}

static void test_fingerprint_canonical(void) {
  nadi_graph *a = build(0), *b = build(1);
  if (a && b)
    CHECK(nadi_graph_fingerprint(a) == nadi_graph_fingerprint(b),
          "perm entries beyond the rank changed the fingerprint");
  nadi_graph_destroy(a), nadi_graph_destroy(b);
}

int main(void) {
  test_graph_gradients();
  test_fingerprint_canonical();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
