/* Dropout, PyTorch semantics: identity in eval mode; in training mode each element is kept with
 * probability 1 - p and scaled by 1 / (1 - p) (p = 1 drops everything). The mask is drawn from
 * ctx->rng in element order, one nadi_rng_uniform per element, so the same generator state gives
 * the same mask.
 *
 * State (floats): batch * numel, the per-element multiplier (0 or 1/(1-p)) of the last training
 * forward, which backward applies to dy. */
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"

static int64_t numel(const nadi_layer *l, int64_t batch) {
  return batch * l->out_shape[0] * l->out_shape[1] * l->out_shape[2];
}

static size_t dropout_state_size(const nadi_layer *l, int64_t batch) {
  return (size_t)numel(l, batch);
}

static void dropout_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                            nadi_ctx *ctx) {
  (void)params;
  int64_t n = numel(l, ctx->batch);
  const float *x = xs[0];
  if (!ctx->training) {
    memcpy(y, x, (size_t)n * sizeof(float));
    return;
  }
  double keep = 1.0 - l->p;
  float scale = keep > 0.0 ? (float)(1.0 / keep) : 0.0f;
  float *mask = ctx->state;
  /* (float)(u < keep) rather than a branch: keep/drop is a coin flip */
  for (int64_t i = 0; i < n; i++)
    mask[i] = (float)(nadi_rng_uniform(ctx->rng) < keep) * scale;
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] * mask[i];
}

static void dropout_backward(const nadi_layer *l, const float *params, const float *const *xs,
                             const float *y, const float *dy, float *const *dxs, float *dparams,
                             nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  float *dx = dxs ? dxs[0] : NULL;
  if (!dx)
    return;
  int64_t n = numel(l, ctx->batch);
  if (!ctx->training) {
    for (int64_t i = 0; i < n; i++)
      dx[i] += dy[i];
    return;
  }
  const float *mask = ctx->state;
  for (int64_t i = 0; i < n; i++)
    dx[i] += dy[i] * mask[i];
}

static const nadi_layer_ops dropout_ops = {
    .name = "dropout",
    .workspace = NULL,
    .state_size = dropout_state_size,
    .forward = dropout_forward,
    .backward = dropout_backward,
};

static nad_status dropout_shape(nadi_layer *l, int64_t index) {
  /* p = 1 would need a special case (PyTorch outputs zeros); nobody wants it. */
  NADI_CHECK(l->p >= 0.0 && l->p < 1.0, NAD_ERR_INVALID_ARG,
             "layer %lld: dropout probability must be in [0, 1) (got %g)", (long long)index, l->p);
  l->out_dims = l->in_dims[0];
  snprintf(l->desc, sizeof l->desc, "dropout %g", l->p);
  return NAD_OK;
}

const nadi_kind_desc nadi_kind_dropout = {
    .ops = &dropout_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = dropout_shape,
    .flops = nadi_kind_flops_none, /* the identity in eval mode */
    .delta = NADI_DELTA_POINTWISE,
    .slice = nadi_kind_slice_pointwise, /* eval mode: the identity */
};
