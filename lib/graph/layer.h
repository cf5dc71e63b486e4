/* The layer description and the kernel interface: what lib/kernels needs to know of a network
 * node, and nothing of the graph around it. Never installed.
 *
 * Shapes are per sample (C, H, W); vectors are (F, 1, 1). Tensors are float32, batch-major NCHW.
 * A layer's parameters live in the network's one flat array (PyTorch state_dict order) from
 * param_off on. */
#ifndef NADI_LAYER_H
#define NADI_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define NADI_MAX_INPUTS 2
#define NADI_INPUT_NODE (-1) /* "input index" meaning the network input */

typedef enum nadi_kind {
  NADI_CONV2D,
  NADI_MAXPOOL,
  NADI_AVGPOOL,
  NADI_RELU,
  NADI_LINEAR, /* flattens its input: in (C,H,W) -> out (O,1,1), weight [O, C*H*W] */
  NADI_BATCHNORM,
  NADI_DROPOUT,
  NADI_ADD,     /* two inputs of equal shape */
  NADI_CONCAT,  /* two inputs, concatenated along channels: [in0 channels, in1 channels] */
  NADI_FLATTEN, /* (C,H,W) -> (C*H*W,1,1); a copy */
  NADI_GAP,     /* global average pool: (C,H,W) -> (C,1,1) */
  NADI_KIND_COUNT
} nadi_kind;

typedef struct nadi_layer {
  nadi_kind kind;
  int32_t n_in;
  int32_t in[NADI_MAX_INPUTS];          /* producer node indices, or NADI_INPUT_NODE */
  int64_t in_shape[NADI_MAX_INPUTS][3]; /* per-sample shapes of the inputs */
  int64_t out_shape[3];                 /* per-sample output shape */
  /* hyper-parameters (meaning depends on kind) */
  int64_t out_c;  /* conv/linear: output channels/features */
  int32_t k;      /* conv/pool kernel size */
  int32_t stride; /* conv/pool stride */
  int32_t pad;    /* conv zero padding */
  int32_t bias;   /* conv/linear: has bias */
  double eps;      /* batchnorm eps (1e-5) */
  double momentum; /* batchnorm momentum (0.1) */
  double p;        /* dropout probability (0.5) */
  int32_t init;    /* nadi_init_rule for conv weights */
  /* parameters */
  int64_t param_off; /* offset of the first tensor in the flat array */
  int64_t n_params;  /* floats owned by this layer (all its tensors) */
  char desc[64];     /* "conv2d 1->6 k5 s1 p0" */
  char prefix[48];   /* state_dict module name, e.g. "features.0" */
} nadi_layer;

typedef enum nadi_init_rule {
  NADI_INIT_TORCH = 0,   /* kaiming_uniform(a=sqrt 5): U(+-1/sqrt(fan_in)), bias the same */
  NADI_INIT_VGG_CONV = 1 /* weight N(0, sqrt(2/(k*k*out_c))), bias 0 */
} nadi_init_rule;

/* Per-node, per-call context handed to kernels. */
typedef struct nadi_ctx {
  int64_t batch;
  int training;          /* batchnorm uses batch statistics; dropout masks */
  float *ws;             /* scratch of at least ops->workspace(l, batch) floats */
  float *state;          /* per-node saved state of ops->state_size(l, batch) floats, kept
                            between forward and backward (dropout mask, BN batch mean/invstd) */
  struct nadi_rng *rng;  /* training-mode randomness (dropout) */
  int forward_only;      /* eval mode, and no backward will read this forward (forward-only
                            executor): kernels may use faster algorithms whose float rounding
                            differs from the function their backward is the exact adjoint of
                            (conv2d: Winograd, tiny maps as one GEMM; lib/kernels/conv_algo.h) */
} nadi_ctx;

/* Kernel interface, one implementation per kind (lib/kernels/<kind>.c).
 * forward: x[i] points to input i (batch * in_shape[i] floats), y to batch * out_shape floats.
 *          params points to the layer's own tensors (flat array + param_off); in training mode
 *          batchnorm updates its running statistics in place (hence non-const).
 * backward: given x, y and dy, ACCUMULATES (+=) into dx[i] (may be NULL: not needed) and into
 *          dparams (the layer's slice of the gradient array, may be NULL). */
typedef struct nadi_layer_ops {
  const char *name;
  size_t (*workspace)(const nadi_layer *l, int64_t batch);  /* floats; may be NULL = 0 */
  size_t (*state_size)(const nadi_layer *l, int64_t batch); /* floats; may be NULL = 0 */
  void (*forward)(const nadi_layer *l, float *params, const float *const *x, float *y,
                  nadi_ctx *ctx);
  void (*backward)(const nadi_layer *l, const float *params, const float *const *x,
                   const float *y, const float *dy, float *const *dx, float *dparams,
                   nadi_ctx *ctx);
} nadi_layer_ops;

/* The ops table, indexed by nadi_kind (lib/kernels/ops.c). */
const nadi_layer_ops *nadi_ops(nadi_kind kind);

#endif
