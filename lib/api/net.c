/* Public network handle: parameters, forward, backward. */
#include <math.h>
#include <string.h>

#include "api/api.h"

#define CHECK_NET(n) NADI_CHECK((n) != NULL, NAD_ERR_INVALID_ARG, "network is NULL")

static nad_status net_alloc(const nad_arch *a, nad_net **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "out is NULL");
  *out = NULL;
  NADI_CHECK(a != NULL, NAD_ERR_INVALID_ARG, "architecture is NULL");
  nad_net *n = nadi_calloc(1, sizeof *n);
  if (!n)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory");
  n->params = nadi_alloc((size_t)a->g->n_params, sizeof(float));
  if (!n->params) {
    nadi_free(n);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory for %lld parameters",
                     (long long)a->g->n_params);
  }
  n->arch = nadi_arch_retain(a);
  nadi_rng_init(&n->rng, 0, 0);
  *out = n;
  return NAD_OK;
}

nad_status nad_net_create(const nad_arch *a, uint64_t seed, nad_net **out) {
  NADI_TRY(net_alloc(a, out));
  nadi_rng r;
  nadi_rng_init(&r, seed, 0);
  nadi_graph_init_params(a->g, (*out)->params, &r);
  return NAD_OK;
}

nad_status nad_net_create_from_params(const nad_arch *a, const float *params, size_t len,
                                      nad_net **out) {
  NADI_CHECK(params != NULL, NAD_ERR_INVALID_ARG, "params is NULL");
  if (a)
    NADI_CHECK_LEN("nad_net_create_from_params", "params", len, a->g->n_params);
  NADI_TRY(net_alloc(a, out));
  memcpy((*out)->params, params, len * sizeof(float));
  return NAD_OK;
}

static void net_free(nad_net *n) {
  nadi_exec_destroy(n->exec);
  nadi_free(n->x_copy);
  nadi_free(n->params);
  nadi_arch_release(n->arch);
  nadi_free(n);
}

/* Deferred while a call runs on another thread (lib/core/guard.h). */
void nad_net_destroy(nad_net *n) {
  if (n && nadi_guard_destroy(&n->guard))
    net_free(n);
}

nad_status nad_net_get_params(const nad_net *n, float *dst, size_t len) {
  CHECK_NET(n);
  NADI_CHECK(dst != NULL, NAD_ERR_INVALID_ARG, "dst is NULL");
  NADI_CHECK_LEN("nad_net_get_params", "dst", len, n->arch->g->n_params);
  memcpy(dst, n->params, len * sizeof(float));
  return NAD_OK;
}

nad_status nad_net_set_params(nad_net *n, const float *src, size_t len) {
  CHECK_NET(n);
  NADI_CHECK(src != NULL, NAD_ERR_INVALID_ARG, "src is NULL");
  NADI_CHECK_LEN("nad_net_set_params", "src", len, n->arch->g->n_params);
  memcpy(n->params, src, len * sizeof(float));
  n->last_batch = 0;
  return NAD_OK;
}

nad_status nad_net_set_training(nad_net *n, int32_t training, uint64_t seed) {
  CHECK_NET(n);
  NADI_CHECK(training == 0 || training == 1, NAD_ERR_INVALID_ARG,
             "training must be 0 or 1, got %d", training);
  n->training = training;
  nadi_rng_init(&n->rng, seed, 1);
  n->last_batch = 0;
  return NAD_OK;
}

/* Make sure the executor holds `batch` samples; it only grows. */
static nad_status ensure_exec(nad_net *n, int64_t batch) {
  if (n->exec && nadi_exec_batch_cap(n->exec) >= batch)
    return NAD_OK;
  nadi_exec_destroy(n->exec);
  nadi_free(n->x_copy);
  n->exec = NULL;
  n->last_batch = 0;
  n->x_copy = nadi_alloc((size_t)(batch * nadi_graph_in_size(n->arch->g)), sizeof(float));
  if (!n->x_copy)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory for a batch of %lld", (long long)batch);
  return nadi_exec_create(n->arch->g, batch, &n->exec);
}

/* The whole batch must fit the 32-bit BLAS dimensions the kernels use. */
static nad_status check_batch(const nad_net *n, int64_t batch) {
  NADI_CHECK(batch >= 1, NAD_ERR_INVALID_ARG, "batch must be >= 1, got %lld", (long long)batch);
  const nadi_graph *g = n->arch->g;
  for (int64_t i = 0; i < g->n_layers; i++) {
    const int64_t *s = g->layers[i].out_shape;
    int64_t sz;
    NADI_CHECK(nadi_mul_ok(batch, s[0] * s[1] * s[2], &sz) && sz <= INT32_MAX,
               NAD_ERR_INVALID_ARG, "batch %lld is too large for layer %lld (%s)",
               (long long)batch, (long long)i, g->layers[i].desc);
  }
  return NAD_OK;
}

static nad_status forward(nad_net *n, const float *x, int64_t batch, float *y, size_t y_len) {
  NADI_CHECK(x != NULL && y != NULL, NAD_ERR_INVALID_ARG, "x or y is NULL");
  NADI_TRY(check_batch(n, batch));
  int64_t k = n->arch->outputs;
  NADI_CHECK_LEN("nad_net_forward", "y (batch·outputs)", y_len, batch * k);
  NADI_TRY(ensure_exec(n, batch));
  /* The executor keeps a pointer to x for backward: keep a private copy so the caller's buffer
   * may change between forward and backward. */
  memcpy(n->x_copy, x, sizeof(float) * (size_t)(batch * nadi_graph_in_size(n->arch->g)));
  const float *out = nadi_exec_forward(n->exec, n->params, n->x_copy, batch, n->training, &n->rng);
  for (size_t i = 0; i < y_len; i++) { /* inf is as degenerate as NaN (issue 11) */
    if (!isfinite(out[i]))
      return nadi_fail(NAD_ERR_NUMERICAL, "forward produced %s (output %zu): the weights or "
                       "inputs are too large for float", isnan(out[i]) ? "NaN" : "inf", i);
  }
  memcpy(y, out, y_len * sizeof(float));
  n->last_batch = batch;
  return NAD_OK;
}

static nad_status backward(nad_net *n, const float *dy, size_t dy_len, float *dx, size_t dx_len,
                       float *dparams, size_t dparams_len) {
  NADI_CHECK(n->last_batch > 0, NAD_ERR_MISUSE, "nad_net_backward needs a nad_net_forward first");
  NADI_CHECK(dy != NULL, NAD_ERR_INVALID_ARG, "dy is NULL");
  const nadi_graph *g = n->arch->g;
  int64_t b = n->last_batch;
  NADI_CHECK_LEN("nad_net_backward", "dy (batch of the last forward × outputs)", dy_len,
                 b * n->arch->outputs);
  if (dx)
    NADI_CHECK_LEN("nad_net_backward", "dx (batch·c·h·w)", dx_len, b * nadi_graph_in_size(g));
  if (dparams)
    NADI_CHECK_LEN("nad_net_backward", "dparams", dparams_len, g->n_params);
  nadi_exec_backward(n->exec, n->params, dy, dx, dparams);
  return NAD_OK;
}

static nad_status input_grad(nad_net *n, const float *x, int64_t batch, const float *w,
                         size_t w_len, float *dx, size_t dx_len) {
  NADI_CHECK(w != NULL && dx != NULL && x != NULL, NAD_ERR_INVALID_ARG, "x, w or dx is NULL");
  int64_t k = n->arch->outputs;
  NADI_CHECK_LEN("nad_net_input_grad", "w (outputs)", w_len, k);
  NADI_TRY(check_batch(n, batch));
  NADI_CHECK_LEN("nad_net_input_grad", "dx (batch·c·h·w)", dx_len,
                 batch * nadi_graph_in_size(n->arch->g));
  float *buf = nadi_alloc((size_t)(2 * batch * k), sizeof(float));
  if (!buf)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory");
  float *y = buf, *dy = buf + batch * k;
  nad_status st = forward(n, x, batch, y, (size_t)(batch * k));
  if (st == NAD_OK) {
    for (int64_t b = 0; b < batch; b++)
      memcpy(dy + b * k, w, (size_t)k * sizeof(float));
    st = backward(n, dy, (size_t)(batch * k), dx, dx_len, NULL, 0);
  }
  nadi_free(buf);
  return st;
}

nad_status nad_net_forward(nad_net *n, const float *x, int64_t batch, float *y, size_t y_len) {
  CHECK_NET(n);
  NADI_GUARDED(n, "nad_net_forward", net_free, forward(n, x, batch, y, y_len));
}

nad_status nad_net_backward(nad_net *n, const float *dy, size_t dy_len, float *dx, size_t dx_len,
                            float *dparams, size_t dparams_len) {
  CHECK_NET(n);
  NADI_GUARDED(n, "nad_net_backward", net_free, backward(n, dy, dy_len, dx, dx_len, dparams, dparams_len));
}

nad_status nad_net_input_grad(nad_net *n, const float *x, int64_t batch, const float *w,
                              size_t w_len, float *dx, size_t dx_len) {
  CHECK_NET(n);
  NADI_GUARDED(n, "nad_net_input_grad", net_free, input_grad(n, x, batch, w, w_len, dx, dx_len));
}
