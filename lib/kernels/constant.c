/* constant: a parameter tensor of the node used as an activation (no input), e.g. ViT's class
 * token that an export concatenates to the patch tokens. Every sample gets the same values;
 * the gradient of the tensor is the sum over the batch. Its values are the file's (init()
 * keeps them: a random network keeps them, or a parameter source sets them), unless the init
 * rule is NORMAL_002 or CONST_1E6 (the built-ins' class token and layer scale). */
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"

static void constant_forward(const nadi_layer *l, float *params, const float *const *x, float *y,
                             nadi_ctx *ctx) {
  (void)x;
  const int64_t n = l->n_params;
  for (int64_t b = 0; b < ctx->batch; b++)
    memcpy(y + b * n, params, sizeof(float) * (size_t)n);
}

static void constant_backward(const nadi_layer *l, const float *params, const float *const *x,
                              const float *y, const float *dy, float *const *dx, float *dparams,
                              nadi_ctx *ctx) {
  (void)params, (void)x, (void)y, (void)dx;
  if (!dparams)
    return;
  const int64_t n = l->n_params;
  for (int64_t b = 0; b < ctx->batch; b++)
    for (int64_t i = 0; i < n; i++)
      dparams[i] += dy[b * n + i];
}

static const nadi_layer_ops constant_ops = {
    .name = "constant",
    .forward = constant_forward,
    .backward = constant_backward,
};

static nad_status constant_shape(nadi_layer *l, int64_t index) {
  NADI_CHECK(l->init == NADI_INIT_TORCH || l->init == NADI_INIT_NORMAL_002 ||
                 l->init == NADI_INIT_CONST_1E6,
             NAD_ERR_INVALID_ARG, "layer %lld (constant): unknown init rule %lld",
             (long long)index, (long long)l->init);
  NADI_CHECK(l->const_rank >= 1 && l->const_rank <= NADI_MAX_RANK, NAD_ERR_INVALID_ARG,
             "layer %lld (constant): rank %lld out of [1, %d]", (long long)index,
             (long long)l->const_rank, NADI_MAX_RANK);
  l->out_dims.rank = l->const_rank;
  for (int64_t i = 0; i < NADI_MAX_RANK; i++) {
    if (i >= l->const_rank)
      l->const_dims[i] = 0; /* equal layers hash equal */
    else
      NADI_CHECK(l->const_dims[i] >= 1, NAD_ERR_INVALID_ARG,
                 "layer %lld (constant): dimension %lld is %lld", (long long)index, (long long)i,
                 (long long)l->const_dims[i]);
    l->out_dims.d[i] = l->const_dims[i];
  }
  NADI_CHECK(nadi_dims_numel(&l->out_dims) > 0, NAD_ERR_OUT_OF_MEMORY,
             "layer %lld (constant): size overflows", (long long)index);
  snprintf(l->desc, sizeof l->desc, "constant %lld", (long long)nadi_dims_numel(&l->out_dims));
  return NAD_OK;
}

static int constant_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  t[0] = (nadi_tensor_desc){"", nadi_dims_numel(&l->out_dims), 1};
  return 1;
}

const nadi_kind_desc nadi_kind_constant = {
    .ops = &constant_ops,
    .n_in_min = 0,
    .n_in_max = 0,
    .shape = constant_shape,
    .tensors = constant_tensors,
    .flops = nadi_kind_flops_none,
    .init = nadi_init_tensor, /* keeps its values unless a rule says (NORMAL_002, CONST_1E6) */
};
