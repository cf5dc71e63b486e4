/* Fully connected layer (PyTorch Linear on the flattened input): y[B, O] = x[B, F] W[O, F]^T + b.
 * The bias is broadcast into y first and the GEMM accumulates onto it (addmm's form). */
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

const nadi_layer_ops nadi_linear_ops = {
    .name = "linear",
    .workspace = NULL,
    .state_size = NULL,
    .forward = linear_forward,
    .backward = linear_backward,
};
