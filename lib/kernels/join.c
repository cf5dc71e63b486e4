/* Two-input nodes: elementwise sum (residual connections) and channel concatenation (dense
 * connections: per sample, x0's channels then x1's). Backward splits dy back to each input. Both
 * inputs may be the same node (dx[0] == dx[1]); each contribution is added separately, which is
 * then still correct. */
#include <string.h>

#include "kernels/kernels.h"

static int64_t per_sample(const int64_t s[3]) { return s[0] * s[1] * s[2]; }

static void add_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                        nadi_ctx *ctx) {
  (void)params;
  int64_t n = ctx->batch * per_sample(l->out_shape);
  const float *a = xs[0], *b = xs[1];
  for (int64_t i = 0; i < n; i++)
    y[i] = a[i] + b[i];
}

static void add_backward(const nadi_layer *l, const float *params, const float *const *xs,
                         const float *y, const float *dy, float *const *dxs, float *dparams,
                         nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  if (!dxs)
    return;
  int64_t n = ctx->batch * per_sample(l->out_shape);
  for (int k = 0; k < 2; k++) {
    float *dx = dxs[k];
    if (!dx)
      continue;
    for (int64_t i = 0; i < n; i++)
      dx[i] += dy[i];
  }
}

static void concat_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                           nadi_ctx *ctx) {
  (void)params;
  int64_t n0 = per_sample(l->in_shape[0]), n1 = per_sample(l->in_shape[1]);
  for (int64_t b = 0; b < ctx->batch; b++) {
    float *yb = y + b * (n0 + n1);
    memcpy(yb, xs[0] + b * n0, (size_t)n0 * sizeof(float));
    memcpy(yb + n0, xs[1] + b * n1, (size_t)n1 * sizeof(float));
  }
}

static void concat_backward(const nadi_layer *l, const float *params, const float *const *xs,
                            const float *y, const float *dy, float *const *dxs, float *dparams,
                            nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  if (!dxs)
    return;
  int64_t n[2] = {per_sample(l->in_shape[0]), per_sample(l->in_shape[1])};
  int64_t off[2] = {0, n[0]};
  for (int k = 0; k < 2; k++) {
    float *dx = dxs[k];
    if (!dx)
      continue;
    for (int64_t b = 0; b < ctx->batch; b++) {
      const float *src = dy + b * (n[0] + n[1]) + off[k];
      float *dst = dx + b * n[k];
      for (int64_t i = 0; i < n[k]; i++)
        dst[i] += src[i];
    }
  }
}

const nadi_layer_ops nadi_add_ops = {
    .name = "add",
    .workspace = NULL,
    .state_size = NULL,
    .forward = add_forward,
    .backward = add_backward,
};

const nadi_layer_ops nadi_concat_ops = {
    .name = "concat",
    .workspace = NULL,
    .state_size = NULL,
    .forward = concat_forward,
    .backward = concat_backward,
};
