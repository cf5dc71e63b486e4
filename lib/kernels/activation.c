/* ReLU. Forward keeps NaN (as torch.relu does) so that a diverging network is detected downstream
 * instead of being silently zeroed; -0 stays -0. Backward masks with y > 0: it needs only the
 * output, and at x == 0 the gradient is 0, as in PyTorch.
 *
 * Both loops are bit masks over 8-wide bodies (forward: nadi_relu in kernels.h, which says why). */
#include <string.h>

#include "kernels/kernels.h"

static int64_t numel(const nadi_layer *l, int64_t batch) {
  return batch * l->out_shape[0] * l->out_shape[1] * l->out_shape[2];
}

/* v with all bits cleared unless keep (keep is 0 or 1) */
static inline float keep_if(float v, int keep) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  u &= -(uint32_t)keep;
  memcpy(&v, &u, sizeof v);
  return v;
}

/* (restrict only reliably reaches the vectorizer through parameters) */
static void relu_fwd_loop(const float *restrict x, float *restrict y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      y[i + j] = nadi_relu(x[i + j]);
  for (; i < n; i++)
    y[i] = nadi_relu(x[i]);
}

static void relu_bwd_loop(const float *restrict y, const float *restrict dy, float *restrict dx,
                          int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      dx[i + j] += keep_if(dy[i + j], y[i + j] > 0.0f);
  for (; i < n; i++)
    dx[i] += keep_if(dy[i], y[i] > 0.0f);
}

static void relu_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                         nadi_ctx *ctx) {
  (void)params;
  relu_fwd_loop(xs[0], y, numel(l, ctx->batch));
}

static void relu_backward(const nadi_layer *l, const float *params, const float *const *xs,
                          const float *y, const float *dy, float *const *dxs, float *dparams,
                          nadi_ctx *ctx) {
  (void)params, (void)xs, (void)dparams;
  if (dxs && dxs[0])
    relu_bwd_loop(y, dy, dxs[0], numel(l, ctx->batch));
}

static const nadi_layer_ops relu_ops = {
    .name = "relu",
    .workspace = NULL,
    .state_size = NULL,
    .forward = relu_forward,
    .backward = relu_backward,
};

const nadi_kind_desc nadi_kind_relu = {
    .ops = &relu_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = nadi_kind_same_shape,
    .flops = nadi_kind_flops_per_output,
    .delta = NADI_DELTA_POINTWISE,
    .slice = nadi_kind_slice_pointwise,
};
