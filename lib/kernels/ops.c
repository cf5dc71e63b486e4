/* The kernel table: one nadi_layer_ops per layer kind, each defined in its own file. */
#include "kernels/kernels.h"

const nadi_layer_ops *nadi_ops(nadi_kind kind) {
  static const nadi_layer_ops *const table[NADI_KIND_COUNT] = {
      [NADI_CONV2D] = &nadi_conv2d_ops,   [NADI_MAXPOOL] = &nadi_maxpool_ops,
      [NADI_AVGPOOL] = &nadi_avgpool_ops, [NADI_RELU] = &nadi_relu_ops,
      [NADI_LINEAR] = &nadi_linear_ops,   [NADI_BATCHNORM] = &nadi_batchnorm_ops,
      [NADI_DROPOUT] = &nadi_dropout_ops, [NADI_ADD] = &nadi_add_ops,
      [NADI_CONCAT] = &nadi_concat_ops,   [NADI_FLATTEN] = &nadi_flatten_ops,
      [NADI_GAP] = &nadi_gap_ops,
  };
  return (kind >= 0 && kind < NADI_KIND_COUNT) ? table[kind] : NULL;
}
