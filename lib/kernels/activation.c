/* ReLU. Forward keeps NaN (as torch.relu does) so that a diverging network is detected downstream
 * instead of being silently zeroed. Backward masks with y > 0: it needs only the output, and at
 * x == 0 the gradient is 0, as in PyTorch. */
#include "kernels/kernels.h"

static int64_t numel(const nadi_layer *l, int64_t batch) {
  return batch * l->out_shape[0] * l->out_shape[1] * l->out_shape[2];
}

static void relu_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                         nadi_ctx *ctx) {
  (void)params;
  const float *x = xs[0];
  int64_t n = numel(l, ctx->batch);
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

static void relu_backward(const nadi_layer *l, const float *params, const float *const *xs,
                          const float *y, const float *dy, float *const *dxs, float *dparams,
                          nadi_ctx *ctx) {
  (void)params, (void)xs, (void)dparams;
  float *dx = dxs ? dxs[0] : NULL;
  if (!dx)
    return;
  int64_t n = numel(l, ctx->batch);
  for (int64_t i = 0; i < n; i++)
    dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}

const nadi_layer_ops nadi_relu_ops = {
    .name = "relu",
    .workspace = NULL,
    .state_size = NULL,
    .forward = relu_forward,
    .backward = relu_backward,
};
