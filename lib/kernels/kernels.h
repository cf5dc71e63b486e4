/* Per-kind kernel tables (one definition per file in lib/kernels/). Never installed. */
#ifndef NADI_KERNELS_H
#define NADI_KERNELS_H
#include "core/blas.h"
#include "graph/layer.h"

extern const nadi_layer_ops nadi_conv2d_ops;    /* conv2d.c */
extern const nadi_layer_ops nadi_maxpool_ops;   /* pool.c */
extern const nadi_layer_ops nadi_avgpool_ops;   /* pool.c */
extern const nadi_layer_ops nadi_relu_ops;      /* activation.c */
extern const nadi_layer_ops nadi_linear_ops;    /* linear.c */
extern const nadi_layer_ops nadi_batchnorm_ops; /* batchnorm.c */
extern const nadi_layer_ops nadi_dropout_ops;   /* dropout.c */
extern const nadi_layer_ops nadi_add_ops;       /* join.c */
extern const nadi_layer_ops nadi_concat_ops;    /* join.c */
extern const nadi_layer_ops nadi_flatten_ops;   /* reshape.c */
extern const nadi_layer_ops nadi_gap_ops;       /* reshape.c */

/* Sum of one plane (at most a few thousand values) in 8 float partial sums: the 8-wide body
 * is what GCC vectorizes, and the partial sums break the latency chain of a single double
 * accumulator (4x faster); callers add planes in double. */
static inline double nadi_plane_sum(const float *restrict x, int64_t n) {
  float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      a[j] += x[i + j];
  double s = 0.0;
  for (; i < n; i++)
    s += x[i];
  for (int j = 0; j < 8; j++)
    s += a[j];
  return s;
}

#endif
