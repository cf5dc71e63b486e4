/* The kind table: one nadi_kind_desc per layer kind, each defined next to its kernel in its own
 * file (lib/kernels/<kind>.c), and the helpers those descriptions share.
 *
 * FLOP convention (per sample, forward, eval mode; a multiply-add counts 2):
 *   conv2d     2*O*OH*OW*(I/groups)*kh*kw, plus O*OH*OW for the bias
 *   linear     2*O*F, plus O for the bias                      (F = flattened input size)
 *   maxpool    (kh*kw - 1) comparisons per output element (padding and clipping ignored)
 *   avgpool    kh*kw per output element (kh*kw - 1 additions and one scaling)
 *   adaptive_avgpool  1 per input cell read (C * sum of window heights * sum of widths)
 *   relu       1 per element
 *   batchnorm  2 per element (y = a*x + b with folded scale and shift)
 *   add        1 per output element
 *   gap        1 per input element
 *   concat, flatten, dropout: 0 (copies, or the identity in eval mode)
 *   matmul     2*M*K*N per product, times the broadcast leading count
 *   gemm       2*R*K*N, plus R*N for the bias                  (R = rows: numel / K)
 *   transpose, reshape, flatten_axis, concat_axis, slice, gather, pad, identity, constant,
 *   gather_indices: 0
 *   (copies)
 *   (issue 17, elementwise and normalisations: per output element unless said; a libm call
 *   such as exp, tanh, erf counts 1)
 *   clip 2, hardsigmoid 4, hardswish 5, sigmoid 4, silu 5, gelu 4 (erf) or 9 (tanh form),
 *   tanh, erf, sqrt, reciprocal, neg, exp 1
 *   arith, arith_param  1 (add, sub, mul or div; broadcasting is free)
 *   layernorm, groupnorm  8 (statistics 4: add; subtract, square, add; affine map 4)
 *   softmax    5 (max, subtract, exp, add, scale)
 *   reducemean 1 per INPUT element */
#include <math.h>
#include <stdio.h>

#include "kernels/kernels.h"

const nadi_kind_desc *nadi_kind_of(nadi_kind kind) {
  static const nadi_kind_desc *const table[NADI_KIND_COUNT] = {
      [NADI_CONV2D] = &nadi_kind_conv2d,   [NADI_MAXPOOL] = &nadi_kind_maxpool,
      [NADI_AVGPOOL] = &nadi_kind_avgpool, [NADI_RELU] = &nadi_kind_relu,
      [NADI_LINEAR] = &nadi_kind_linear,   [NADI_BATCHNORM] = &nadi_kind_batchnorm,
      [NADI_DROPOUT] = &nadi_kind_dropout, [NADI_ADD] = &nadi_kind_add,
      [NADI_CONCAT] = &nadi_kind_concat,   [NADI_FLATTEN] = &nadi_kind_flatten,
      [NADI_GAP] = &nadi_kind_gap,

      /* issue 17: windows */
      [NADI_ADAPTIVE_AVGPOOL] = &nadi_kind_adaptive_avgpool,

      /* issue 17: elementwise and normalisations */
      [NADI_CLIP] = &nadi_kind_clip,
      [NADI_HARDSIGMOID] = &nadi_kind_hardsigmoid,
      [NADI_HARDSWISH] = &nadi_kind_hardswish,
      [NADI_SIGMOID] = &nadi_kind_sigmoid,
      [NADI_TANH] = &nadi_kind_tanh,
      [NADI_SILU] = &nadi_kind_silu,
      [NADI_GELU] = &nadi_kind_gelu,
      [NADI_ERF] = &nadi_kind_erf,
      [NADI_SQRT] = &nadi_kind_sqrt,
      [NADI_RECIPROCAL] = &nadi_kind_reciprocal,
      [NADI_NEG] = &nadi_kind_neg,
      [NADI_EXP] = &nadi_kind_exp,
      [NADI_ARITH] = &nadi_kind_arith,
      [NADI_ARITH_PARAM] = &nadi_kind_arith_param,
      [NADI_LAYERNORM] = &nadi_kind_layernorm,
      [NADI_GROUPNORM] = &nadi_kind_groupnorm,
      [NADI_SOFTMAX] = &nadi_kind_softmax,
      [NADI_REDUCEMEAN] = &nadi_kind_reducemean,

      /* issue 17: tensor operations */
      [NADI_MATMUL] = &nadi_kind_matmul,   [NADI_GEMM] = &nadi_kind_gemm,
      [NADI_TRANSPOSE] = &nadi_kind_transpose, [NADI_RESHAPE] = &nadi_kind_reshape,
      [NADI_FLATTEN_AXIS] = &nadi_kind_flatten_axis, [NADI_CONCAT_AXIS] = &nadi_kind_concat_axis,
      [NADI_SLICE] = &nadi_kind_slice,     [NADI_GATHER] = &nadi_kind_gather,
      [NADI_PAD] = &nadi_kind_pad,         [NADI_IDENTITY] = &nadi_kind_identity,
      [NADI_CONSTANT] = &nadi_kind_constant,
      [NADI_GATHER_INDICES] = &nadi_kind_gather_indices,
  };
  return ((int)kind >= 0 && kind < NADI_KIND_COUNT) ? table[kind] : NULL;
}

const nadi_layer_ops *nadi_ops(nadi_kind kind) {
  const nadi_kind_desc *d = nadi_kind_of(kind);
  return d ? d->ops : NULL;
}

/* ---- helpers shared by the descriptions ----------------------------------------------------- */

nad_status nadi_kind_map_chw(const nadi_layer *l, int64_t index, int j, int64_t chw[3]) {
  /* the (C, H, W) view: a feature map (1, C, H, W) as it is; a vector (1, F) as (F, 1, 1), as
   * the spec language has always allowed (pooling a flattened vector with k = 1) */
  const nadi_dims *s = &l->in_dims[j];
  NADI_CHECK(s->rank != 4 || s->d[0] == 1, NAD_ERR_SHAPE,
             "layer %lld (%s): input %d has %lld samples on its batch axis, not 1",
             (long long)index, nadi_ops(l->kind)->name, j, (long long)s->d[0]);
  for (int i = 0; i < 3; i++)
    chw[i] = l->in_shape[j][i];
  return NAD_OK;
}

nad_status nadi_kind_same_shape(nadi_layer *l, int64_t index) {
  (void)index;
  snprintf(l->desc, sizeof l->desc, "%s", nadi_ops(l->kind)->name);
  l->out_dims = l->in_dims[0];
  return NAD_OK;
}

int nadi_kind_slice_pointwise(const nadi_layer *l, int64_t axis, nadi_hparams *hp) {
  for (int32_t j = 0; j < l->n_in; j++)
    if (!nadi_dims_equal(&l->in_dims[j], &l->out_dims))
      return 0;
  *hp = l->hp;
  return axis >= 0 && axis < l->out_dims.rank;
}

int64_t nadi_kind_flops_per_output(const nadi_layer *l) {
  return nadi_dims_numel(&l->out_dims);
}

int64_t nadi_kind_flops_none(const nadi_layer *l) {
  (void)l;
  return 0;
}

void nadi_init_fan_in_uniform(float *p, int64_t n_w, int64_t n_b, int64_t fan_in,
                              nadi_rng *rng) {
  double bound = 1.0 / sqrt((double)fan_in);
  nadi_rng_fill_uniform(rng, p, n_w, -bound, bound);
  if (n_b)
    nadi_rng_fill_uniform(rng, p + n_w, n_b, -bound, bound);
}

void nadi_init_fill(float *p, int64_t n, float v) {
  for (int64_t i = 0; i < n; i++)
    p[i] = v;
}

int nadi_init_is_weight_rule(int64_t rule) {
  return rule >= NADI_INIT_TORCH && rule <= NADI_INIT_XAVIER_B1E6;
}

/* trunc_normal_(std) on [-2, 2] (PyTorch's absolute bounds): redraw outside */
static void fill_trunc_normal(nadi_rng *rng, float *p, int64_t n, double std) {
  for (int64_t i = 0; i < n; i++) {
    double v;
    do
      v = std * nadi_rng_normal(rng);
    while (v < -2.0 || v > 2.0);
    p[i] = (float)v;
  }
}

int nadi_init_weights(int64_t rule, float *p, int64_t n_w, int64_t n_b, int64_t fan_in,
                      int64_t fan_out, nadi_rng *rng) {
  double xavier = sqrt(6.0 / ((double)fan_in + (double)fan_out));
  switch (rule) {
  case NADI_INIT_TORCH:
    nadi_init_fan_in_uniform(p, n_w, n_b, fan_in, rng);
    return 1;
  case NADI_INIT_FOLDED_BN:
    nadi_init_fan_in_uniform(p, n_w, 0, fan_in, rng);
    break;
  case NADI_INIT_KAIMING_OUT:
    nadi_rng_fill_normal(rng, p, n_w, 0.0, sqrt(2.0 / (double)fan_out));
    break;
  case NADI_INIT_NORMAL_001:
    nadi_rng_fill_normal(rng, p, n_w, 0.0, 0.01);
    break;
  case NADI_INIT_TRUNC_002:
    fill_trunc_normal(rng, p, n_w, 0.02);
    break;
  case NADI_INIT_TRUNC_FAN_IN:
    fill_trunc_normal(rng, p, n_w, sqrt(1.0 / (double)fan_in));
    break;
  case NADI_INIT_XAVIER:
  case NADI_INIT_XAVIER_B1E6:
    nadi_rng_fill_uniform(rng, p, n_w, -xavier, xavier);
    if (rule == NADI_INIT_XAVIER_B1E6) {
      nadi_rng_fill_normal(rng, p + n_w, n_b, 0.0, 1e-6);
      return 1;
    }
    break;
  default:
    return 0;
  }
  nadi_init_fill(p + n_w, n_b, 0.0f);
  return 1;
}

void nadi_init_tensor(const nadi_layer *l, float *p, nadi_rng *rng) {
  if (l->init == NADI_INIT_NORMAL_002)
    nadi_rng_fill_normal(rng, p, l->n_params, 0.0, 0.02);
  else if (l->init == NADI_INIT_CONST_1E6)
    nadi_init_fill(p, l->n_params, 1e-6f);
  /* else: the values stay (an imported model's, or 0) */
}
