/* The layer kinds of lib/kernels: descriptions and kernels, one kind (or a family) per file.
 * Never installed. */
#ifndef NADI_KERNELS_H
#define NADI_KERNELS_H
#include <string.h>

#include "core/blas.h"
#include "graph/layer.h"

/* The kinds' descriptions (one per file in lib/kernels/, listed in kinds.c) ... */
extern const nadi_kind_desc nadi_kind_conv2d;    /* conv2d.c */
extern const nadi_kind_desc nadi_kind_maxpool;   /* pool.c */
extern const nadi_kind_desc nadi_kind_avgpool;   /* pool.c */
extern const nadi_kind_desc nadi_kind_relu;      /* activation.c */
extern const nadi_kind_desc nadi_kind_linear;    /* linear.c */
extern const nadi_kind_desc nadi_kind_batchnorm; /* batchnorm.c */
extern const nadi_kind_desc nadi_kind_dropout;   /* dropout.c */
extern const nadi_kind_desc nadi_kind_add;       /* join.c */
extern const nadi_kind_desc nadi_kind_concat;    /* join.c */
extern const nadi_kind_desc nadi_kind_flatten;   /* reshape.c */
extern const nadi_kind_desc nadi_kind_gap;       /* reshape.c */

/* issue 17: windows */
extern const nadi_kind_desc nadi_kind_adaptive_avgpool; /* pool.c */

/* issue 17: elementwise and normalisations */
extern const nadi_kind_desc nadi_kind_clip;        /* unary.c */
extern const nadi_kind_desc nadi_kind_hardsigmoid; /* unary.c */
extern const nadi_kind_desc nadi_kind_hardswish;   /* unary.c */
extern const nadi_kind_desc nadi_kind_sigmoid;     /* unary.c */
extern const nadi_kind_desc nadi_kind_tanh;        /* unary.c */
extern const nadi_kind_desc nadi_kind_silu;        /* unary.c */
extern const nadi_kind_desc nadi_kind_gelu;        /* unary.c */
extern const nadi_kind_desc nadi_kind_erf;         /* unary.c */
extern const nadi_kind_desc nadi_kind_sqrt;        /* unary.c */
extern const nadi_kind_desc nadi_kind_reciprocal;  /* unary.c */
extern const nadi_kind_desc nadi_kind_neg;         /* unary.c */
extern const nadi_kind_desc nadi_kind_exp;         /* unary.c */
extern const nadi_kind_desc nadi_kind_arith;       /* arith.c */
extern const nadi_kind_desc nadi_kind_arith_param; /* arith.c */
extern const nadi_kind_desc nadi_kind_reducemean;  /* arith.c */
extern const nadi_kind_desc nadi_kind_layernorm;   /* norm.c */
extern const nadi_kind_desc nadi_kind_groupnorm;   /* norm.c */
extern const nadi_kind_desc nadi_kind_softmax;     /* norm.c */
/* The operation of arith and arith_param (hyper-parameter arith_op). */
typedef enum nadi_arith_op {
  NADI_ARITH_ADD = 0,
  NADI_ARITH_SUB = 1,
  NADI_ARITH_MUL = 2,
  NADI_ARITH_DIV = 3
} nadi_arith_op;

/* issue 17: tensor operations */
extern const nadi_kind_desc nadi_kind_matmul;       /* matmul.c */
extern const nadi_kind_desc nadi_kind_gemm;         /* matmul.c */
extern const nadi_kind_desc nadi_kind_transpose;    /* layout.c */
extern const nadi_kind_desc nadi_kind_reshape;      /* layout.c */
extern const nadi_kind_desc nadi_kind_flatten_axis; /* layout.c */
extern const nadi_kind_desc nadi_kind_concat_axis;  /* layout.c */
extern const nadi_kind_desc nadi_kind_slice;        /* layout.c */
extern const nadi_kind_desc nadi_kind_gather;       /* layout.c */
extern const nadi_kind_desc nadi_kind_pad;          /* layout.c */
extern const nadi_kind_desc nadi_kind_identity;     /* layout.c */
extern const nadi_kind_desc nadi_kind_constant;  /* constant.c */
extern const nadi_kind_desc nadi_kind_gather_indices; /* gather_indices.c */

/* ... and the helpers they share (kinds.c). */
/* Input j's (C, H, W) view -> chw, for the kinds that work on feature maps. */
nad_status nadi_kind_map_chw(const nadi_layer *l, int64_t index, int j, int64_t chw[3]);
/* shape() of an elementwise unary kind: the output has the input's shape; desc = the name. */
nad_status nadi_kind_same_shape(nadi_layer *l, int64_t index);
/* flops() of 1 per output element, and of none (copies, eval-mode identities). */
int64_t nadi_kind_flops_per_output(const nadi_layer *l);
int64_t nadi_kind_flops_none(const nadi_layer *l);
/* slice() of the elementwise kinds (unary, add, arith without broadcasting, identity, eval
 * dropout): sliceable along any axis when every input has the output's dims; hp unchanged. */
int nadi_kind_slice_pointwise(const nadi_layer *l, int64_t axis, nadi_hparams *hp);
/* PyTorch's default init of conv/linear (kaiming_uniform_, a = sqrt 5): n_w weights and n_b
 * biases from U(+-1/sqrt(fan_in)), drawn in that order. */
void nadi_init_fan_in_uniform(float *p, int64_t n_w, int64_t n_b, int64_t fan_in, nadi_rng *rng);
void nadi_init_fill(float *p, int64_t n, float v);
/* The weights (n_w, then n_b biases) of conv2d/linear/gemm by rule (nadi_init_rule): TORCH is
 * nadi_init_fan_in_uniform, the others as layer.h says. 0 if the rule is not one of them. */
int nadi_init_weights(int64_t rule, float *p, int64_t n_w, int64_t n_b, int64_t fan_in,
                      int64_t fan_out, nadi_rng *rng);
/* Is rule one of those nadi_init_weights draws (every rule but NORMAL_002 and CONST_1E6)? */
int nadi_init_is_weight_rule(int64_t rule);
/* init() of a parameter tensor that keeps its values under rule TORCH (arith_param, constant):
 * n values by NORMAL_002 or CONST_1E6. */
void nadi_init_tensor(const nadi_layer *l, float *p, nadi_rng *rng);
/* Output size of a window of size k, stride s over n (already padded) positions: floor mode,
 * as PyTorch. 0 when the window does not fit. */
static inline int64_t nadi_window_out(int64_t n, int64_t k, int64_t s) {
  return n < k ? 0 : (n - k) / s + 1;
}

/* ReLU as torch.relu: NaN stays NaN (a diverging network shows downstream), -0 stays -0. Written
 * as a bit mask, not `x < 0 ? 0 : x`, which compiles to a branch that mispredicts on the coin-flip
 * signs of activations (10x slower); GCC turns this form into compare-and-mask SIMD code. */
static inline float nadi_relu(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  u &= -(uint32_t)!(v < 0.0f);
  memcpy(&v, &u, sizeof v);
  return v;
}

/* The eval BatchNorm's coefficients of channel c of C (params: weight, bias, running mean,
 * running variance, C each): y = a·x + b, a = γ/√(var + eps), b = β − mean·a. The one
 * definition: the eval forward, the conv folding (fold.c) and the delta forward's patch levels
 * (delta.c) all call it, so the three use the same coefficients to the bit (folding still
 * rounds differently: it scales W by a instead of scaling W·x). */
void nadi_bn_eval_affine(const nadi_layer *l, const float *params, int64_t C, int64_t c, float *a,
                         float *b);

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

/* sum (x - m)^2 and sum dy * (x - m) over a run, written like nadi_plane_sum (8-wide bodies,
 * 8 float partial sums, the tail and the total in double); shared by batchnorm and the
 * normalisations of norm.c. */
static inline double nadi_plane_sqdev(const float *restrict x, float m, int64_t n) {
  float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      a[j] += (x[i + j] - m) * (x[i + j] - m);
  double s = 0.0;
  for (; i < n; i++)
    s += (double)(x[i] - m) * (x[i] - m);
  for (int j = 0; j < 8; j++)
    s += a[j];
  return s;
}

static inline double nadi_plane_dotdev(const float *restrict dy, const float *restrict x, float m,
                                       int64_t n) {
  float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      a[j] += dy[i + j] * (x[i + j] - m);
  double s = 0.0;
  for (; i < n; i++)
    s += (double)dy[i] * (x[i] - m);
  for (int j = 0; j < 8; j++)
    s += a[j];
  return s;
}

#endif
