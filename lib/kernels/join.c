/* Two-input nodes: elementwise sum (residual connections) and channel concatenation (dense
 * connections: per sample, x0's channels then x1's). Backward splits dy back to each input. Both
 * inputs may be the same node (dx[0] == dx[1]); each contribution is added separately, which is
 * then still correct. */
#include <stdio.h>
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

static const nadi_layer_ops add_ops = {
    .name = "add",
    .workspace = NULL,
    .state_size = NULL,
    .forward = add_forward,
    .backward = add_backward,
};

static const nadi_layer_ops concat_ops = {
    .name = "concat",
    .workspace = NULL,
    .state_size = NULL,
    .forward = concat_forward,
    .backward = concat_backward,
};

/* ---- descriptions ---------------------------------------------------------------------------- */

static void dims_text(const nadi_dims *s, char *buf, size_t n) {
  int64_t v[3];
  nadi_dims_view3(s, v);
  snprintf(buf, n, "%lldx%lldx%lld", (long long)v[0], (long long)v[1], (long long)v[2]);
}

static nad_status add_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *a = &l->in_dims[0], *b = &l->in_dims[1];
  snprintf(l->desc, sizeof l->desc, "add");
  if (!nadi_dims_equal(a, b)) {
    char ta[64], tb[64];
    dims_text(a, ta, sizeof ta), dims_text(b, tb, sizeof tb);
    return nadi_fail(NAD_ERR_SHAPE, "layer %lld (add): input shapes differ: %s (node %d) vs %s "
                     "(node %d)", (long long)index, ta, (int)l->in[0], tb, (int)l->in[1]);
  }
  l->out_dims = *a;
  return NAD_OK;
}

/* Along axis 1 (the channels of (1, C, H, W)); every other axis must agree. */
static nad_status concat_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *a = &l->in_dims[0], *b = &l->in_dims[1];
  int same = a->rank == b->rank && a->rank >= 2;
  for (int64_t i = 0; same && i < a->rank; i++)
    same = i == 1 || a->d[i] == b->d[i];
  snprintf(l->desc, sizeof l->desc, "concat");
  if (!same) {
    char ta[64], tb[64];
    dims_text(a, ta, sizeof ta), dims_text(b, tb, sizeof tb);
    return nadi_fail(NAD_ERR_SHAPE, "layer %lld (concat): spatial sizes differ: %s (node %d) vs "
                     "%s (node %d)", (long long)index, ta, (int)l->in[0], tb, (int)l->in[1]);
  }
  NADI_CHECK(a->d[1] <= INT64_MAX - b->d[1], NAD_ERR_OUT_OF_MEMORY,
             "layer %lld (concat): channel count overflows", (long long)index);
  l->out_dims = *a;
  l->out_dims.d[1] += b->d[1];
  return NAD_OK;
}

const nadi_kind_desc nadi_kind_add = {
    .ops = &add_ops,
    .n_in_min = 2,
    .n_in_max = 2,
    .shape = add_shape,
    .flops = nadi_kind_flops_per_output,
    .delta = NADI_DELTA_JOIN,
    .slice = nadi_kind_slice_pointwise,
};

const nadi_kind_desc nadi_kind_concat = {
    .ops = &concat_ops,
    .n_in_min = 2,
    .n_in_max = 2,
    .shape = concat_shape,
    .flops = nadi_kind_flops_none,
    .delta = NADI_DELTA_JOIN,
};
