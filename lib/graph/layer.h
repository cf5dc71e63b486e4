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
#define NADI_MAX_RANK 6      /* dimensions of a per-sample tensor, batch axis included */

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

  /* issue 17: windows (convolution and pools with groups, dilation, ceil mode, ...) */
  NADI_ADAPTIVE_AVGPOOL, /* PyTorch AdaptiveAvgPool2d((pool_oh, pool_ow)) */

  /* issue 17: elementwise (activations, broadcasting arithmetic) and normalisations */
  NADI_CLIP,        /* min(max(x, act_lo), act_hi) (ReLU6: 0, 6) */
  NADI_HARDSIGMOID, /* max(0, min(1, act_alpha * x + act_beta)) (PyTorch: 1/6, 0.5) */
  NADI_HARDSWISH,   /* x * hardsigmoid(x), PyTorch's 1/6 and 0.5 */
  NADI_SIGMOID,
  NADI_TANH,
  NADI_SILU,        /* x * sigmoid(x) */
  NADI_GELU,        /* act_approx 0: x * Phi(x) (erf); 1: PyTorch's tanh approximation */
  NADI_ERF,
  NADI_SQRT,
  NADI_RECIPROCAL,
  NADI_NEG,
  NADI_EXP,
  NADI_ARITH,       /* a op b (arith_op: add, sub, mul, div), NumPy broadcasting of two inputs */
  NADI_ARITH_PARAM, /* x op P or P op x, P a parameter tensor of the node (arith_pshape) */
  NADI_LAYERNORM,   /* over the axes from norm_axis to the last, affine weight and bias */
  NADI_GROUPNORM,   /* norm_groups groups of the channels (axis 1), affine per channel */
  NADI_SOFTMAX,     /* along norm_axis */
  NADI_REDUCEMEAN,  /* mean over the axes of the bit mask red_axes, red_keepdims */

  /* issue 17: tensor operations (matmul, transpose, reshape, slice, gather, pad, softmax, ...) */
  NADI_MATMUL,      /* two inputs, ONNX MatMul: batched over broadcast leading dims */
  NADI_GEMM,        /* one input times a weight parameter (ONNX Gemm / MatMul by an initializer) */
  NADI_TRANSPOSE,   /* ONNX Transpose(perm) */
  NADI_RESHAPE,     /* ONNX Reshape to reshape_dims (a copy) */
  NADI_FLATTEN_AXIS, /* ONNX Flatten(axis): (prod d[:axis], prod d[axis:]) (a copy) */
  NADI_CONCAT_AXIS, /* two inputs, ONNX Concat along tensor_axis */
  NADI_SLICE,       /* ONNX Slice (starts/ends/steps over every axis) */
  NADI_GATHER,      /* ONNX Gather of one constant scalar index along tensor_axis */
  NADI_PAD,         /* ONNX Pad, constant mode */
  NADI_IDENTITY,    /* ONNX Identity (and Dropout in eval mode) */
  NADI_CONSTANT,    /* no input: a parameter tensor as an activation (ViT's class token) */
  NADI_GATHER_INDICES, /* ONNX Gather by a constant index vector (the node's parameter tensor)
                          along tensor_axis; gather_index = the number of indices (Swin) */

  NADI_KIND_COUNT
} nadi_kind;

/* A tensor's shape as ONNX sees it for ONE sample: the batch axis is kept, at size 1, where the
 * model has it (axis 0 for every built-in: a conv output is (1, C, H, W), a linear one (1, F)).
 * Imported graphs may carry the batch axis elsewhere (attention's (T, 1, E)); since a sample's
 * tensors never mix with another's in eval mode, a batch of B samples is simply B such tensors
 * one after the other. */
typedef struct nadi_dims {
  int64_t rank;
  int64_t d[NADI_MAX_RANK];
} nadi_dims;

/* The hyper-parameters of a layer, all 8-byte fields so that the struct has no padding: the
 * architecture fingerprint (checkpoint identity) hashes it WHOLE, so a field added here can
 * never be forgotten there. Which fields a kind reads is said by its description (kinds.h).
 * The list is a macro only so that nadi_layer can also expose the fields directly (l->k). */
#define NADI_HPARAM_FIELDS                                                                     \
  int64_t out_c;   /* conv/linear: output channels/features; batchnorm: channels */           \
  int64_t k;       /* conv/pool kernel size (square; legacy form, see "Windows") */          \
  int64_t stride;  /* conv/pool stride (legacy form) */                                      \
  int64_t pad;     /* conv/pool padding, all four sides (legacy form) */                      \
  int64_t bias;    /* conv/linear: has bias */                                                 \
  int64_t init;    /* nadi_init_rule of conv/linear weights */                                 \
  double eps;      /* batchnorm/normalisation eps (1e-5) */                                    \
  double momentum; /* batchnorm momentum (0.1) */                                              \
  double p;        /* dropout probability (0.5) */                                             \
  /* issue 17: windows. conv2d/maxpool/avgpool windows: see "Windows" below */                \
  int64_t kh, kw;          /* window height, width */                                          \
  int64_t sh, sw;          /* strides along height, width */                                   \
  int64_t pad_t, pad_l;    /* padding before the first row / column (top, left) */             \
  int64_t pad_b, pad_r;    /* padding after the last row / column (bottom, right) */           \
  int64_t dh, dw;          /* conv dilation (0 = 1) */                                         \
  int64_t groups;          /* conv groups (0 = 1): in and out channels split into groups */    \
  int64_t ceil_mode;       /* pools: output size rounded up, as PyTorch's ceil_mode */         \
  int64_t count_include_pad; /* avgpool: the padding counts in the divisor (ONNX default 0) */ \
  int64_t pool_oh, pool_ow;  /* adaptive average pool: output height, width */                \
                                                                                               \
  /* issue 17: elementwise and normalisations */                                               \
  double act_lo;          /* clip: lower bound (-inf: none) */                                 \
  double act_hi;          /* clip: upper bound (+inf: none) */                                 \
  double act_alpha;       /* hardsigmoid: slope (ONNX alpha; PyTorch 1/6) */                   \
  double act_beta;        /* hardsigmoid: offset (ONNX beta; PyTorch 0.5) */                   \
  int64_t act_approx;     /* gelu: 0 exact (erf), 1 tanh approximation */                      \
  int64_t arith_op;       /* arith, arith_param: nadi_arith_op (0 add, 1 sub, 2 mul, 3 div) */ \
  int64_t arith_side;     /* arith_param: 0 y = x op P, 1 y = P op x */                        \
  int64_t arith_prank;    /* arith_param: rank of P, 0 (a scalar) .. NADI_MAX_RANK */          \
  int64_t arith_pshape[NADI_MAX_RANK]; /* arith_param: P's dims */                             \
  int64_t norm_axis;      /* layernorm: first axis normalised; softmax: its axis; <0: back */  \
  int64_t norm_groups;    /* groupnorm: number of groups, dividing the channels */             \
  int64_t red_axes;       /* reducemean: bit i set = axis i reduced (axes >= 0) */             \
  int64_t red_keepdims;   /* reducemean: 1 keeps reduced axes at size 1, 0 drops them */       \
  /* issue 17: tensor operations */                                                           \
  int64_t trans_a;     /* gemm: ONNX transA (only 0 is supported) */                           \
  int64_t trans_b;     /* gemm: ONNX transB: weight stored (N, K) when 1, (K, N) when 0 */      \
  double gemm_alpha;   /* gemm: ONNX alpha, scales the product (must not be 0) */              \
  double gemm_beta;    /* gemm: ONNX beta, scales the bias (must not be 0 with a bias) */      \
  int64_t tensor_axis; /* flatten_axis, concat_axis, gather: the axis (negative: from the end) */\
  int64_t gather_index; /* gather: the constant index (negative: from the end);            \
                           gather_indices: the number of indices */                           \
  int64_t perm[NADI_MAX_RANK];         /* transpose: output axis i is input axis perm[i] */     \
  int64_t reshape_rank;                /* reshape: rank of the target shape */                  \
  int64_t reshape_dims[NADI_MAX_RANK]; /* reshape: ONNX target (0 = copy, -1 = inferred) */     \
  int64_t starts[NADI_MAX_RANK];       /* slice: per input axis, ONNX clamping */               \
  int64_t ends[NADI_MAX_RANK];                                                                 \
  int64_t steps[NADI_MAX_RANK];        /* slice: >= 1 */                                        \
  int64_t pads[2 * NADI_MAX_RANK]; /* pad: ONNX order, begin of axis i at [i], end at [rank+i] */\
  int64_t pad_mode;                /* pad: 0 = constant (the only one supported) */            \
  double pad_value;                /* pad: the constant */                                   \
  int64_t const_rank;                  /* constant: the tensor's shape */                      \
  int64_t const_dims[NADI_MAX_RANK]; /* (the list's last line: no backslash after it) */

/* Windows (conv2d, maxpool, avgpool): the general fields kh, kw, sh, sw, pad_t, pad_l, pad_b,
 * pad_r, dh, dw, groups are the truth; every kernel, the delta forward and BN folding read only
 * them. ONE rule fills them, in the kind's shape() (so an hp that went through shape() once is
 * accepted again unchanged):
 *  - legacy form, kh == kw == 0 (the built-ins, the spec language): square kernel k, stride
 *    `stride` on both axes, padding `pad` on all four sides;
 *  - general form, kh and kw >= 1: k, stride and pad must be 0 or agree with the general
 *    fields (k == kh == kw, stride == sh == sw, pad == every side);
 *  - a square window (kh == kw, sh == sw, equal paddings) gets k, stride, pad written, so that
 *    both forms of one layer end as the same hp (and the same fingerprint);
 *  - dh, dw, groups: 0 means 1 (shape() writes 1).
 * Output size per axis, PyTorch's rule: n_out = floor((n + pad_before + pad_after -
 * d*(k-1) - 1) / s) + 1, with ceil instead of floor in ceil_mode (pools), where a last window
 * that would start in the after-padding is dropped. Conv weights are (O, I/groups, kh, kw). */
typedef struct nadi_hparams {
  NADI_HPARAM_FIELDS
} nadi_hparams;

typedef struct nadi_layer {
  nadi_kind kind;
  int32_t n_in;
  int32_t in[NADI_MAX_INPUTS];          /* producer node indices, or NADI_INPUT_NODE */
  int64_t in_shape[NADI_MAX_INPUTS][3]; /* per-sample (C, H, W) views of the inputs */
  int64_t out_shape[3];                 /* per-sample (C, H, W) view of the output */
  nadi_dims in_dims[NADI_MAX_INPUTS];   /* the same tensors with their true rank */
  nadi_dims out_dims;
  union { /* hyper-parameters: as one struct (l->hp) or field by field (l->k) */
    nadi_hparams hp;
    struct {
      NADI_HPARAM_FIELDS
    };
  };
  /* parameters */
  int64_t param_off; /* offset of the first tensor in the flat array */
  int64_t n_params;  /* floats owned by this layer (all its tensors) */
  /* A ReLU fused after this eval-mode BatchNorm: y = relu(a·x + b) in one pass. Set only by
   * fold.c in the graphs it derives for the dipole, which never train nor fingerprint, hence
   * outside hp (the fingerprint, and so every checkpoint, stays as it was). */
  int32_t then_relu;
  char desc[64];     /* "conv2d 1->6 k5 s1 p0" */
  char prefix[96];   /* state_dict module name, e.g. "features.0" */
} nadi_layer;

/* The (C, H, W) view of a shape: (d0*d1, d2, d3*...*d_{r-1}) for rank >= 3, so that the
 * ONNX (1, C, H, W) of a feature map is (C, H, W); (d0*d1, 1, 1) for rank 2 ((1, F) -> (F, 1,
 * 1)); (d0, 1, 1) for rank 1. The product is always the element count. */
static inline void nadi_dims_view3(const nadi_dims *s, int64_t v[3]) {
  v[0] = s->rank >= 2 ? s->d[0] * s->d[1] : s->d[0];
  v[1] = s->rank >= 3 ? s->d[2] : 1;
  v[2] = 1;
  for (int64_t i = 3; i < s->rank; i++)
    v[2] *= s->d[i];
}

/* Whether two shapes are the same (rank and every dimension). */
static inline int nadi_dims_equal(const nadi_dims *a, const nadi_dims *b) {
  if (a->rank != b->rank)
    return 0;
  for (int64_t i = 0; i < a->rank; i++)
    if (a->d[i] != b->d[i])
      return 0;
  return 1;
}

/* Element count of a shape, -1 on overflow. */
static inline int64_t nadi_dims_numel(const nadi_dims *s) {
  int64_t n = 1;
  for (int64_t i = 0; i < s->rank; i++)
    if (!nadi_mul_ok(n, s->d[i], &n))
      return -1;
  return n;
}

/* The built-ins' shapes: (1, C, H, W), or (1, C) when H = W = 1 and flat is set. */
static inline nadi_dims nadi_dims_chw(int64_t c, int64_t h, int64_t w, int flat) {
  nadi_dims s = {flat ? 2 : 4, {1, c, h, w, 0, 0}};
  if (flat)
    s.d[2] = s.d[3] = 0;
  return s;
}

typedef enum nadi_init_rule {
  NADI_INIT_TORCH = 0,   /* kaiming_uniform(a=sqrt 5): U(+-1/sqrt(fan_in)), bias the same */
  NADI_INIT_VGG_CONV = 1, /* weight N(0, sqrt(2/(k*k*out_c))), bias 0 */
  NADI_INIT_FOLDED_BN = 2, /* PyTorch's weight init, bias 0: a convolution into which an export
                             folded a BatchNorm (whose shift is 0 at initialisation) */
  /* torchvision's own initialisations (the built-ins mobilenet-v2, convnext, vit and the spec
   * blocks written after them); conv2d, linear and gemm: the weight's law, bias 0 unless said */
  NADI_INIT_KAIMING_OUT = 3,    /* N(0, sqrt(2/fan_out)), fan_out = O*kh*kw (conv), O (linear) */
  NADI_INIT_NORMAL_001 = 4,     /* N(0, 0.01) */
  NADI_INIT_TRUNC_002 = 5,      /* trunc_normal_(std 0.02) on [-2, 2] */
  NADI_INIT_TRUNC_FAN_IN = 6,   /* trunc_normal_(std sqrt(1/fan_in)) on [-2, 2] */
  NADI_INIT_XAVIER = 7,         /* xavier_uniform_: U(+-sqrt(6/(fan_in + fan_out))) */
  NADI_INIT_XAVIER_B1E6 = 8,    /* xavier_uniform_, bias N(0, 1e-6) */
  /* parameter tensors of arith_param and constant (which otherwise keep their values:
   * g->base_params, or 0) */
  NADI_INIT_NORMAL_002 = 9,     /* N(0, 0.02) (ViT's position embedding) */
  NADI_INIT_CONST_1E6 = 10      /* every value 1e-6 (ConvNeXt's layer scale) */
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

/* ---- One description per layer kind ---------------------------------------------------------
 * Everything the library knows of a kind is its nadi_kind_desc, defined next to its kernel in
 * lib/kernels/<kind>.c and listed once in lib/kernels/kinds.c. The builder (shape, parameter
 * tensors, FLOPs), the initialisation, the executor (ops), the delta forward (delta rule), BN
 * folding (fold role), slicing (slice) and the checkpoint fingerprint (the layer's generic
 * fields, hp whole) all read it; none of them switches on the kind. Adding a kind = one kernel
 * file with its description + one line in kinds.c + tests. */

/* What the delta forward (graph/delta.c) can do with a kind when its inputs are patches. */
typedef enum nadi_delta_rule {
  NADI_DELTA_DENSE = 0, /* not local: the node runs densely on materialised inputs */
  NADI_DELTA_POINTWISE, /* output cell (c, y, x) reads only input cell (c, y, x). Relu and
                           batchnorm have their own patch code; any other pointwise kind is
                           run as its eval forward on the patch's values, so its forward must
                           be elementwise, parameter-free and need no workspace */
  NADI_DELTA_WINDOW,    /* a kh x kw window with strides, padding and dilation (conv, pools; a
                           conv is computed through its linearity, the pools by their own
                           code) */
  NADI_DELTA_JOIN,      /* two inputs read cell by cell (add, concat): the hull of both */
  NADI_DELTA_GLOBAL,    /* each output channel reads the whole plane (global average pool) */
  NADI_DELTA_LINEAR     /* fully connected: reads a patch through its weight columns */
} nadi_delta_rule;

/* Role in BatchNorm folding (graph/fold.c). */
typedef enum nadi_fold_role {
  NADI_FOLD_NONE = 0,
  NADI_FOLD_TARGET, /* linear in its weights per output channel (conv): can absorb an affine map */
  NADI_FOLD_AFFINE  /* a per-channel affine map in eval mode (batchnorm) */
} nadi_fold_role;

#define NADI_MAX_TENSORS 4
typedef struct nadi_tensor_desc {
  const char *name; /* state_dict suffix ("weight"); "" = the layer's prefix is the full name */
  int64_t numel;    /* -1 when the count overflows */
  int32_t trainable;
} nadi_tensor_desc;

/* What init rules (lib/graph/init_rules.c) need to know of a tensor: PyTorch's fans of a weight
 * (torch.nn.init._calculate_fan_in_and_fan_out of the module's tensor; 0 = not a matrix: no
 * kaiming/xavier), and folded_shift = a BatchNorm shift that an export folded into a
 * convolution (0 at initialisation whatever the rules say). */
typedef struct nadi_tensor_init_info {
  int64_t fan_in, fan_out;
  int32_t folded_shift;
} nadi_tensor_init_info;

typedef struct nadi_kind_desc {
  const nadi_layer_ops *ops; /* kernels; ops->name is the kind's name */
  int32_t n_in_min, n_in_max;
  /* Validates l->hp against l's input shapes and sets out_dims and desc. Called by the builder
   * with in_dims filled; `index` is the node's index, for messages. Must not allocate. */
  nad_status (*shape)(nadi_layer *l, int64_t index);
  /* Parameter tensors in state_dict order; returns the count. NULL: none. */
  int (*tensors)(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]);
  /* Forward FLOPs per sample (convention in lib/kernels/kinds.c); -1 on overflow. */
  int64_t (*flops)(const nadi_layer *l);
  /* PyTorch's default initialisation of the layer's tensors. NULL: none to draw. */
  void (*init)(const nadi_layer *l, float *params, nadi_rng *rng);
  /* Fans and flags of the tensors, in tensors() order, for init rules. NULL: all 0. */
  void (*init_info)(const nadi_layer *l, nadi_tensor_init_info t[NADI_MAX_TENSORS]);
  nadi_delta_rule delta;
  nadi_fold_role fold;
  /* Slicing (graph/fold.c, which pushes a Gather up the graph: ViT's class token): may the
   * node, in eval mode, be computed on ONE index of its output's axis `axis` alone, that slice
   * reading only the same slice of each input, and parameters that do not vary along `axis`?
   * If so, returns 1 and sets *hp to the node's hyper-parameters on such slices (whose rank is
   * one less; the parameters stay as they are). NULL: never. */
  int (*slice)(const nadi_layer *l, int64_t axis, nadi_hparams *hp);
  /* Is the forward a copy of input 0 in the same element order, in every mode (reshape,
   * flatten, flatten_axis, identity)? Then the full executor (graph/exec.c) gives the node its
   * input's activation and gradient buffers and runs neither of its kernels: a view, as
   * PyTorch's. 0: never. */
  int view;
} nadi_kind_desc;

/* The description of a kind (lib/kernels/kinds.c); NULL for an unknown kind. */
const nadi_kind_desc *nadi_kind_of(nadi_kind kind);
/* Shorthand for nadi_kind_of(kind)->ops. */
const nadi_layer_ops *nadi_ops(nadi_kind kind);

#endif
