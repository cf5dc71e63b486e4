/* Executor: runs a graph forward and backward on a batch, with all buffers allocated once.
 *
 * Every node output is kept (backward needs them). Gradient buffers mirror the activations;
 * backward zeroes them, then walks nodes in reverse and lets each kernel ACCUMULATE into its
 * inputs' gradients, so a node that feeds several consumers (residual blocks) sums correctly. */
#include <string.h>

#include "graph/graph.h"

struct nadi_exec {
  const nadi_graph *g;
  int64_t cap;       /* batch capacity */
  int64_t batch;     /* batch of the last forward, 0 = none */
  int training;
  nadi_rng *rng;
  const float *x;    /* input of the last forward (borrowed; must outlive backward) */
  float **act;       /* per node: cap * out size */
  float **grad;      /* per node: cap * out size */
  float **state;     /* per node: ops->state_size(l, cap) floats (may be NULL) */
  float *ws;         /* shared workspace: max over nodes of ops->workspace(l, cap) */
};

static int64_t shape_size(const int64_t s[3]) { return s[0] * s[1] * s[2]; }

nad_status nadi_exec_create(const nadi_graph *g, int64_t cap, nadi_exec **out) {
  *out = NULL;
  NADI_CHECK(cap >= 1, NAD_ERR_INVALID_ARG, "batch must be >= 1, got %lld", (long long)cap);
  nadi_exec *e = nadi_calloc(1, sizeof *e);
  if (!e)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "executor: out of memory");
  e->g = g;
  e->cap = cap;
  int64_t n = g->n_layers;
  e->act = nadi_calloc((size_t)n, sizeof *e->act);
  e->grad = nadi_calloc((size_t)n, sizeof *e->grad);
  e->state = nadi_calloc((size_t)n, sizeof *e->state);
  if (!e->act || !e->grad || !e->state)
    goto oom;
  size_t ws = 0;
  for (int64_t i = 0; i < n; i++) {
    const nadi_layer *l = &g->layers[i];
    const nadi_layer_ops *ops = nadi_ops(l->kind);
    int64_t sz;
    if (!nadi_mul_ok(cap, shape_size(l->out_shape), &sz))
      goto oom;
    e->act[i] = nadi_alloc((size_t)sz, sizeof(float));
    e->grad[i] = nadi_alloc((size_t)sz, sizeof(float));
    if (!e->act[i] || !e->grad[i])
      goto oom;
    size_t st = ops->state_size ? ops->state_size(l, cap) : 0;
    if (st) {
      e->state[i] = nadi_calloc(st, sizeof(float));
      if (!e->state[i])
        goto oom;
    }
    size_t w = ops->workspace ? ops->workspace(l, cap) : 0;
    if (w > ws)
      ws = w;
  }
  e->ws = nadi_alloc(ws ? ws : 1, sizeof(float));
  if (!e->ws)
    goto oom;
  *out = e;
  return NAD_OK;
oom:
  nadi_exec_destroy(e);
  return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "executor: out of memory for batch %lld",
                   (long long)cap);
}

void nadi_exec_destroy(nadi_exec *e) {
  if (!e)
    return;
  for (int64_t i = 0; i < e->g->n_layers; i++) {
    if (e->act)
      nadi_free(e->act[i]);
    if (e->grad)
      nadi_free(e->grad[i]);
    if (e->state)
      nadi_free(e->state[i]);
  }
  nadi_free(e->act);
  nadi_free(e->grad);
  nadi_free(e->state);
  nadi_free(e->ws);
  nadi_free(e);
}

int64_t nadi_exec_batch_cap(const nadi_exec *e) { return e->cap; }

static void make_ctx(nadi_exec *e, int64_t i, nadi_ctx *ctx) {
  ctx->batch = e->batch;
  ctx->training = e->training;
  ctx->ws = e->ws;
  ctx->state = e->state[i];
  ctx->rng = e->rng;
}

static const float *node_out(const nadi_exec *e, int32_t idx) {
  return idx == NADI_INPUT_NODE ? e->x : e->act[idx];
}

float *nadi_exec_act(nadi_exec *e, int64_t node) { return e->act[node]; }

static void run_node(nadi_exec *e, float *params, int64_t i) {
  const nadi_layer *l = &e->g->layers[i];
  const float *in[NADI_MAX_INPUTS] = {NULL, NULL};
  for (int32_t j = 0; j < l->n_in; j++)
    in[j] = node_out(e, l->in[j]);
  nadi_ctx ctx;
  make_ctx(e, i, &ctx);
  nadi_ops(l->kind)->forward(l, params + l->param_off, in, e->act[i], &ctx);
}

const float *nadi_exec_forward_range(nadi_exec *e, float *params, const float *x, int64_t start,
                                     int64_t batch, int training, nadi_rng *rng) {
  const nadi_graph *g = e->g;
  e->batch = batch;
  e->training = training;
  e->rng = rng;
  e->x = x;
  for (int64_t i = start; i < g->n_layers; i++)
    run_node(e, params, i);
  return e->act[g->n_layers - 1];
}

const float *nadi_exec_forward_node(nadi_exec *e, float *params, const float *x, int64_t node,
                                    int64_t batch) {
  e->batch = batch;
  e->training = 0;
  e->rng = NULL;
  e->x = x;
  run_node(e, params, node);
  return e->act[node];
}

const float *nadi_exec_forward(nadi_exec *e, float *params, const float *x, int64_t batch,
                               int training, nadi_rng *rng) {
  return nadi_exec_forward_range(e, params, x, 0, batch, training, rng);
}

void nadi_exec_backward(nadi_exec *e, const float *params, const float *dy, float *dx,
                        float *dparams) {
  const nadi_graph *g = e->g;
  int64_t last = g->n_layers - 1;
  for (int64_t i = 0; i < last; i++)
    memset(e->grad[i], 0, sizeof(float) * (size_t)(e->batch * shape_size(g->layers[i].out_shape)));
  memcpy(e->grad[last], dy, sizeof(float) * (size_t)(e->batch * shape_size(g->layers[last].out_shape)));
  int64_t insz = e->batch * shape_size(g->in_shape);
  if (dx)
    memset(dx, 0, sizeof(float) * (size_t)insz);
  if (dparams)
    memset(dparams, 0, sizeof(float) * (size_t)g->n_params);
  for (int64_t i = last; i >= 0; i--) {
    const nadi_layer *l = &g->layers[i];
    const float *in[NADI_MAX_INPUTS] = {NULL, NULL};
    float *din[NADI_MAX_INPUTS] = {NULL, NULL};
    for (int32_t j = 0; j < l->n_in; j++) {
      in[j] = node_out(e, l->in[j]);
      din[j] = l->in[j] == NADI_INPUT_NODE ? dx : e->grad[l->in[j]];
    }
    nadi_ctx ctx;
    make_ctx(e, i, &ctx);
    nadi_ops(l->kind)->backward(l, params + l->param_off, in, e->act[i], e->grad[i], din,
                                dparams ? dparams + l->param_off : NULL, &ctx);
  }
}
