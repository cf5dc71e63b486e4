/* gather_indices: ONNX Gather by a constant vector of indices along tensor_axis (numpy's take):
 * y[..., k, ...] = x[..., idx[k], ...]. Swin's relative position bias is the export's
 * Gather(relative_position_bias_table, relative_position_index): a parameter table read through
 * a fixed index, so the table is a constant node before it and stays ONE tensor (drawn once per
 * network, every entry read wherever the index names it), as in PyTorch.
 *
 * Hyper-parameters: tensor_axis, and gather_index = the number of indices (the gather kind's
 * one index; the struct is fingerprinted whole, so no field was added for this kind). The
 * indices are the node's parameter tensor, float32 holding integers (exact below 2^24),
 * non-trainable; their values are the file's (a random network keeps them; the Python binding's
 * parameter source sets them from the module's buffer). An index that is not an integer within
 * [-n, n) makes its output rows NaN: never a read outside x, never a silent wrong value. */
#include <math.h>
#include <stdio.h>

#include "kernels/kernels.h"

/* Sizes around the axis: outer (before), n (along), inner (after). */
static void around(const nadi_dims *s, int64_t axis, int64_t *outer, int64_t *n, int64_t *inner) {
  *outer = *inner = 1;
  for (int64_t i = 0; i < s->rank; i++)
    if (i < axis)
      *outer *= s->d[i];
    else if (i > axis)
      *inner *= s->d[i];
  *n = s->d[axis];
}

/* Index k as a position along the axis of size n, or -1 when it names none. */
static int64_t position(float v, int64_t n) {
  if (!(v == floorf(v)) || v < (float)-n || v >= (float)n) /* also NaN */
    return -1;
  int64_t i = (int64_t)v;
  return i < 0 ? i + n : i;
}

/* The one loop of both directions. Forward (back = 0): row k of y = row idx[k] of x, a row of
 * NaN where idx[k] names none. Backward (back = 1): dx's row idx[k] += dy's row k (an index
 * named twice gets both rows' gradients; a row that was NaN gives none). */
static void walk(const nadi_layer *l, const float *params, const float *from, float *to,
                 int64_t batch, int back) {
  int64_t outer, n, inner, count = l->gather_index;
  around(&l->in_dims[0], l->tensor_axis, &outer, &n, &inner);
  const int64_t xs = outer * n * inner, ys = outer * count * inner;
  for (int64_t b = 0; b < batch; b++)
    for (int64_t o = 0; o < outer; o++)
      for (int64_t k = 0; k < count; k++) {
        int64_t i = position(params[k], n);
        int64_t x_at = b * xs + (o * n + (i >= 0 ? i : 0)) * inner;
        int64_t y_at = b * ys + (o * count + k) * inner;
        if (!back)
          for (int64_t r = 0; r < inner; r++)
            to[y_at + r] = i >= 0 ? from[x_at + r] : NAN;
        else if (i >= 0)
          for (int64_t r = 0; r < inner; r++)
            to[x_at + r] += from[y_at + r];
      }
}

static void gather_indices_forward(const nadi_layer *l, float *params, const float *const *x,
                                   float *y, nadi_ctx *ctx) {
  walk(l, params, x[0], y, ctx->batch, 0);
}

static void gather_indices_backward(const nadi_layer *l, const float *params,
                                    const float *const *x, const float *y, const float *dy,
                                    float *const *dx, float *dparams, nadi_ctx *ctx) {
  (void)x, (void)y, (void)dparams; /* the indices have no gradient */
  if (dx[0])
    walk(l, params, dy, dx[0], ctx->batch, 1);
}

static const nadi_layer_ops gather_indices_ops = {
    .name = "gather_indices",
    .forward = gather_indices_forward,
    .backward = gather_indices_backward,
};

static nad_status gather_indices_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *in = &l->in_dims[0];
  snprintf(l->desc, sizeof l->desc, "gather_indices");
  if (l->tensor_axis < 0)
    l->tensor_axis += in->rank;
  NADI_CHECK(l->tensor_axis >= 0 && l->tensor_axis < in->rank, NAD_ERR_INVALID_ARG,
             "layer %lld (gather_indices): axis %lld is out of range for rank %lld",
             (long long)index, (long long)l->tensor_axis, (long long)in->rank);
  NADI_CHECK(l->gather_index >= 1, NAD_ERR_INVALID_ARG,
             "layer %lld (gather_indices): %lld indices (at least 1)", (long long)index,
             (long long)l->gather_index);
  l->out_dims = *in;
  l->out_dims.d[l->tensor_axis] = l->gather_index;
  NADI_CHECK(nadi_dims_numel(&l->out_dims) > 0, NAD_ERR_SHAPE,
             "layer %lld (gather_indices): the output's size overflows", (long long)index);
  snprintf(l->desc, sizeof l->desc, "gather_indices axis %d, %lld indices", (int)l->tensor_axis,
           (long long)l->gather_index);
  return NAD_OK;
}

static int gather_indices_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  t[0] = (nadi_tensor_desc){"", l->gather_index, 0}; /* the indices: not trainable */
  return 1;
}

const nadi_kind_desc nadi_kind_gather_indices = {
    .ops = &gather_indices_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = gather_indices_shape,
    .tensors = gather_indices_tensors,
    .flops = nadi_kind_flops_none,
    /* no init(): the indices keep the file's values (g->base_params) */
    .delta = NADI_DELTA_DENSE,
};
