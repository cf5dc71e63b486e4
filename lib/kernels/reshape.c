/* Shape-only nodes: flatten ((C,H,W) -> (C*H*W,1,1), NCHW order, so a copy) and global average
 * pooling ((C,H,W) -> (C,1,1), mean over H*W, accumulated in double). */
#include <string.h>

#include "kernels/kernels.h"

static int64_t per_sample(const int64_t s[3]) { return s[0] * s[1] * s[2]; }

static void flatten_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                            nadi_ctx *ctx) {
  (void)params;
  memcpy(y, xs[0], (size_t)(ctx->batch * per_sample(l->in_shape[0])) * sizeof(float));
}

static void flatten_backward(const nadi_layer *l, const float *params, const float *const *xs,
                             const float *y, const float *dy, float *const *dxs, float *dparams,
                             nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  float *dx = dxs ? dxs[0] : NULL;
  if (!dx)
    return;
  int64_t n = ctx->batch * per_sample(l->in_shape[0]);
  for (int64_t i = 0; i < n; i++)
    dx[i] += dy[i];
}

static void gap_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                        nadi_ctx *ctx) {
  (void)params;
  int64_t planes = ctx->batch * l->in_shape[0][0];
  int64_t hw = l->in_shape[0][1] * l->in_shape[0][2];
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *xp = xs[0] + pl * hw;
    double s = 0.0;
    for (int64_t q = 0; q < hw; q++)
      s += xp[q];
    y[pl] = (float)(s / (double)hw);
  }
}

static void gap_backward(const nadi_layer *l, const float *params, const float *const *xs,
                         const float *y, const float *dy, float *const *dxs, float *dparams,
                         nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  float *dx = dxs ? dxs[0] : NULL;
  if (!dx)
    return;
  int64_t planes = ctx->batch * l->in_shape[0][0];
  int64_t hw = l->in_shape[0][1] * l->in_shape[0][2];
  for (int64_t pl = 0; pl < planes; pl++) {
    float d = (float)(dy[pl] / (double)hw);
    float *dxp = dx + pl * hw;
    for (int64_t q = 0; q < hw; q++)
      dxp[q] += d;
  }
}

const nadi_layer_ops nadi_flatten_ops = {
    .name = "flatten",
    .workspace = NULL,
    .state_size = NULL,
    .forward = flatten_forward,
    .backward = flatten_backward,
};

const nadi_layer_ops nadi_gap_ops = {
    .name = "gap",
    .workspace = NULL,
    .state_size = NULL,
    .forward = gap_forward,
    .backward = gap_backward,
};
