/* Shape-only nodes: flatten ((C,H,W) -> (C*H*W,1,1), NCHW order, so a copy) and global average
 * pooling ((C,H,W) -> (C,1,1), mean over H*W, accumulated in double). */
#include <stdio.h>
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

static const nadi_layer_ops flatten_ops = {
    .name = "flatten",
    .workspace = NULL,
    .state_size = NULL,
    .forward = flatten_forward,
    .backward = flatten_backward,
};

static const nadi_layer_ops gap_ops = {
    .name = "gap",
    .workspace = NULL,
    .state_size = NULL,
    .forward = gap_forward,
    .backward = gap_backward,
};

/* ---- descriptions ---------------------------------------------------------------------------- */

static nad_status flatten_shape(nadi_layer *l, int64_t index) {
  (void)index;
  snprintf(l->desc, sizeof l->desc, "flatten");
  /* no overflow: the producer's size was checked */
  l->out_dims = nadi_dims_chw(nadi_dims_numel(&l->in_dims[0]), 1, 1, 1);
  return NAD_OK;
}

static nad_status gap_shape(nadi_layer *l, int64_t index) {
  int64_t s[3];
  NADI_TRY(nadi_kind_map_chw(l, index, 0, s));
  snprintf(l->desc, sizeof l->desc, "gap");
  l->out_dims = nadi_dims_chw(s[0], 1, 1, 0);
  return NAD_OK;
}

static int64_t gap_flops(const nadi_layer *l) { return nadi_dims_numel(&l->in_dims[0]); }

const nadi_kind_desc nadi_kind_flatten = {
    .ops = &flatten_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = flatten_shape,
    .flops = nadi_kind_flops_none,
    .view = 1, /* NCHW order kept */
};

const nadi_kind_desc nadi_kind_gap = {
    .ops = &gap_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = gap_shape,
    .flops = gap_flops,
    .delta = NADI_DELTA_GLOBAL,
};
