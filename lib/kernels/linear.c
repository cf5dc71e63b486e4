/* Fully connected layer (PyTorch Linear on the flattened input): y[B, O] = x[B, F] W[O, F]^T + b.
 * The bias is broadcast into y first and the GEMM accumulates onto it (addmm's form). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"

static void linear_dims(const nadi_layer *l, int64_t *f, int64_t *o) {
  *f = l->in_shape[0][0] * l->in_shape[0][1] * l->in_shape[0][2];
  *o = l->out_shape[0] * l->out_shape[1] * l->out_shape[2];
}

static void linear_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                           nadi_ctx *ctx) {
  int64_t f, o, b = ctx->batch;
  linear_dims(l, &f, &o);
  const float *wt = params;
  float beta = 0.0f;
  if (l->bias) {
    for (int64_t i = 0; i < b; i++)
      memcpy(y + i * o, params + o * f, (size_t)o * sizeof(float));
    beta = 1.0f;
  }
  nadi_sgemm(0, 1, b, o, f, 1.0f, xs[0], f, wt, f, beta, y, o);
}

static void linear_backward(const nadi_layer *l, const float *params, const float *const *xs,
                            const float *y, const float *dy, float *const *dxs, float *dparams,
                            nadi_ctx *ctx) {
  (void)y;
  int64_t f, o, b = ctx->batch;
  linear_dims(l, &f, &o);
  float *dx = dxs ? dxs[0] : NULL;
  if (dx) /* dx[B, F] += dy[B, O] W[O, F] */
    nadi_sgemm(0, 0, b, f, o, 1.0f, dy, o, params, f, 1.0f, dx, f);
  if (!dparams)
    return;
  /* dW[O, F] += dy^T[O, B] x[B, F] */
  nadi_sgemm(1, 0, o, f, b, 1.0f, dy, o, xs[0], f, 1.0f, dparams, f);
  if (l->bias) {
    float *db = dparams + o * f;
    for (int64_t j = 0; j < o; j++) {
      double s = 0.0;
      for (int64_t i = 0; i < b; i++)
        s += dy[i * o + j];
      db[j] += (float)s;
    }
  }
}

static const nadi_layer_ops linear_ops = {
    .name = "linear",
    .workspace = NULL,
    .state_size = NULL,
    .forward = linear_forward,
    .backward = linear_backward,
};

/* ---- description: flattens its input (any shape) to F features, out (1, O) ------------------ */

static nad_status linear_shape(nadi_layer *l, int64_t index) {
  NADI_CHECK(l->out_c >= 1 && l->out_c <= INT32_MAX, NAD_ERR_INVALID_ARG,
             "layer %lld: linear needs output features in [1, %d] (got %lld)", (long long)index,
             INT32_MAX, (long long)l->out_c);
  int64_t f = nadi_dims_numel(&l->in_dims[0]);
  NADI_CHECK(nadi_init_is_weight_rule(l->init), NAD_ERR_INVALID_ARG,
             "layer %lld: linear: unknown init rule %lld", (long long)index, (long long)l->init);
  l->bias = l->bias ? 1 : 0;
  snprintf(l->desc, sizeof l->desc, "linear %lld->%lld%s", (long long)f, (long long)l->out_c,
           l->bias ? "" : " nobias");
  NADI_CHECK(f < INT_MAX, NAD_ERR_UNSUPPORTED,
             "layer %lld (%s): in_features = %lld does not fit the BLAS's 32-bit int",
             (long long)index, l->desc, (long long)f);
  l->out_dims = nadi_dims_chw(l->out_c, 1, 1, 1);
  return NAD_OK;
}

static int linear_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  int64_t w = 0;
  int ok = nadi_mul_ok(l->out_c, nadi_dims_numel(&l->in_dims[0]), &w);
  t[0] = (nadi_tensor_desc){"weight", ok ? w : -1, 1};
  t[1] = (nadi_tensor_desc){"bias", l->out_c, 1};
  return l->bias ? 2 : 1;
}

static void linear_init_info(const nadi_layer *l, nadi_tensor_init_info t[NADI_MAX_TENSORS]) {
  t[0].fan_in = nadi_dims_numel(&l->in_dims[0]), t[0].fan_out = l->out_c;
}

static int64_t linear_flops(const nadi_layer *l) { /* 2*O*F + O */
  int64_t t, f;
  if (!nadi_mul_ok(l->out_c, nadi_dims_numel(&l->in_dims[0]), &t) || !nadi_mul_ok(t, 2, &f))
    return -1;
  return f + (l->bias ? l->out_c : 0);
}

static void linear_init(const nadi_layer *l, float *p, nadi_rng *rng) {
  int64_t n_w = l->n_params - (l->bias ? l->out_c : 0);
  nadi_init_weights(l->init, p, n_w, l->bias ? l->out_c : 0, nadi_dims_numel(&l->in_dims[0]),
                    l->out_c, rng);
}

const nadi_kind_desc nadi_kind_linear = {
    .ops = &linear_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = linear_shape,
    .tensors = linear_tensors,
    .flops = linear_flops,
    .init = linear_init,
    .init_info = linear_init_info,
    .delta = NADI_DELTA_LINEAR,
};
