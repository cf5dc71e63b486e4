/* Per-kind kernel tables (one definition per file in lib/kernels/). Never installed. */
#ifndef NADI_KERNELS_H
#define NADI_KERNELS_H
#include "graph/graph.h"

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

#endif
