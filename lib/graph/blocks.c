/* Blocks of today's architectures written with the layer kinds (issue 17): what the built-ins
 * mobilenet-v2, convnext and vit and the spec language's new items (spec.c) are made of. Every
 * block only appends existing kinds with nadi_add_node; none has a kernel of its own.
 *
 * Names follow torchvision's modules, so that a block's tensors are named and ordered as the
 * state_dict of torchvision's module (InvertedResidual, CNBlock, EncoderBlock): node order =
 * parameter order. Two tensors need more than a prefix: nn.MultiheadAttention's
 * in_proj_weight/in_proj_bias (a gemm's tensors are "weight"/"bias"; nadi_blocks_names renames
 * them once the graph is finished), and CNBlock's layer_scale, which the state_dict lists
 * before the block's convolution although it is applied last: it is a `constant` node added
 * first and multiplied in by an `arith` node at the end.
 *
 * Multi-head attention: the packed projection qkv = x W^T + b (one gemm, W (3E, E)), sliced
 * into q, k, v, each reshaped to (1, T, H, d) and transposed to heads; s = softmax(q k^T/sqrt d);
 * o = s v back to (1, T, E); out = o W_o^T + b_o. The 1/sqrt(d) costs no node of its own: the
 * packed projection is scaled by a = d^(-1/4) (gemm alpha and beta), so q k^T carries a^2 =
 * 1/sqrt(d), and the output projection divides by a again (its alpha 1/a, beta 1): the same
 * function as PyTorch's up to float rounding (tested against PyTorch float64). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"

/* ---- one node ---------------------------------------------------------------------------- */

static nad_status node1(nadi_builder *b, nadi_kind kind, int32_t in, const nadi_hparams *hp,
                        const char *prefix, int32_t *out) {
  return nadi_add_node(b, kind, &in, 1, hp, prefix, out);
}

nad_status nadi_add_conv_groups(nadi_builder *b, int32_t in, int64_t out_c, int32_t k,
                                int32_t stride, int32_t pad, int64_t groups, int32_t bias,
                                int64_t init, const char *prefix, int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  hp.out_c = out_c, hp.k = k, hp.stride = stride, hp.pad = pad, hp.bias = bias, hp.init = init;
  hp.groups = groups;
  return node1(b, NADI_CONV2D, in, &hp, prefix, node);
}

nad_status nadi_add_activation(nadi_builder *b, int32_t in, nadi_kind kind, int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  if (kind == NADI_CLIP) /* ReLU6 */
    hp.act_lo = 0.0, hp.act_hi = 6.0;
  return node1(b, kind, in, &hp, NULL, node);
}

/* A gemm of the last axis: y = alpha x W^T + beta b, W (out, K). */
static nad_status gemm(nadi_builder *b, int32_t in, int64_t out, double alpha, double beta,
                       int64_t init, const char *prefix, int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  hp.out_c = out, hp.bias = 1, hp.trans_b = 1, hp.init = init;
  hp.gemm_alpha = alpha, hp.gemm_beta = beta;
  return node1(b, NADI_GEMM, in, &hp, prefix, node);
}

static nad_status transpose(nadi_builder *b, int32_t in, const int64_t *perm, int64_t rank,
                            int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  memcpy(hp.perm, perm, sizeof(int64_t) * (size_t)rank);
  return node1(b, NADI_TRANSPOSE, in, &hp, NULL, node);
}

static nad_status reshape(nadi_builder *b, int32_t in, const int64_t *dims, int64_t rank,
                          int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  hp.reshape_rank = rank;
  memcpy(hp.reshape_dims, dims, sizeof(int64_t) * (size_t)rank);
  return node1(b, NADI_RESHAPE, in, &hp, NULL, node);
}

static nad_status binary(nadi_builder *b, nadi_kind kind, int64_t op, int32_t a, int32_t c,
                         int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  hp.arith_op = op;
  int32_t in[2] = {a, c};
  return nadi_add_node(b, kind, in, 2, &hp, NULL, node);
}

/* The dims of node `id` (or of the input). */
static nadi_dims dims_of(const nadi_builder *b, int32_t id);

nad_status nadi_add_layernorm(nadi_builder *b, int32_t in, double eps, const char *prefix,
                              int32_t *node) {
  nadi_dims d = dims_of(b, in);
  nadi_hparams hp = nadi_hparams_default();
  hp.norm_axis = -1, hp.eps = eps;
  if (d.rank != 4) /* tokens (1, T, E) or a vector (1, F): the last axis */
    return node1(b, NADI_LAYERNORM, in, &hp, prefix, node);
  /* a feature map: over its channels (torchvision's LayerNorm2d), channels-last in between */
  static const int64_t to_last[4] = {0, 2, 3, 1}, back[4] = {0, 3, 1, 2};
  int32_t x;
  NADI_TRY(transpose(b, in, to_last, 4, &x));
  NADI_TRY(node1(b, NADI_LAYERNORM, x, &hp, prefix, &x));
  return transpose(b, x, back, 4, node);
}

/* ---- the builder's view of a node's shape -------------------------------------------------- */

/* nadi_builder is opaque here: the shapes come from the last graph layer through a query. */
static nadi_dims dims_of(const nadi_builder *b, int32_t id) { return nadi_builder_dims(b, id); }

static int64_t channels_of(const nadi_builder *b, int32_t id) {
  nadi_dims d = dims_of(b, id);
  return d.rank >= 2 ? d.d[1] : d.d[0];
}

/* ---- MobileNetV2's inverted residual -------------------------------------------------------- */

nad_status nadi_add_invres(nadi_builder *b, int32_t in, int64_t out_c, int64_t expand,
                           int32_t stride, int64_t init, const char *prefix, int32_t *node) {
  NADI_CHECK(dims_of(b, in).rank == 4, NAD_ERR_SHAPE,
             "%s: an inverted residual needs a feature map (1, C, H, W), not a tensor of rank "
             "%lld", prefix, (long long)dims_of(b, in).rank);
  int64_t inp = channels_of(b, in), hidden = inp * expand;
  char nm[160];
  int32_t x = in;
  int j = 0; /* index in the block's nn.Sequential 'conv' */
  if (expand != 1) {
    snprintf(nm, sizeof nm, "%s.conv.%d.0", prefix, j);
    NADI_TRY(nadi_add_conv_groups(b, x, hidden, 1, 1, 0, 1, 0, init, nm, &x));
    snprintf(nm, sizeof nm, "%s.conv.%d.1", prefix, j++);
    NADI_TRY(nadi_add_batchnorm(b, x, nm, &x));
    NADI_TRY(nadi_add_activation(b, x, NADI_CLIP, &x));
  }
  snprintf(nm, sizeof nm, "%s.conv.%d.0", prefix, j);
  NADI_TRY(nadi_add_conv_groups(b, x, hidden, 3, stride, 1, hidden, 0, init, nm, &x));
  snprintf(nm, sizeof nm, "%s.conv.%d.1", prefix, j++);
  NADI_TRY(nadi_add_batchnorm(b, x, nm, &x));
  NADI_TRY(nadi_add_activation(b, x, NADI_CLIP, &x));
  snprintf(nm, sizeof nm, "%s.conv.%d", prefix, j++);
  NADI_TRY(nadi_add_conv_groups(b, x, out_c, 1, 1, 0, 1, 0, init, nm, &x));
  snprintf(nm, sizeof nm, "%s.conv.%d", prefix, j);
  NADI_TRY(nadi_add_batchnorm(b, x, nm, &x));
  if (stride == 1 && inp == out_c) /* x + conv(x) */
    return nadi_add_join(b, NADI_ADD, in, x, node);
  *node = x;
  return NAD_OK;
}

/* ---- ConvNeXt's block -------------------------------------------------------------------------- */

nad_status nadi_add_cnblock(nadi_builder *b, int32_t in, int64_t weight_init, int64_t scale_init,
                            const char *prefix, int32_t *node) {
  NADI_CHECK(dims_of(b, in).rank == 4, NAD_ERR_SHAPE,
             "%s: a ConvNeXt block needs a feature map (1, C, H, W), not a tensor of rank %lld",
             prefix, (long long)dims_of(b, in).rank);
  int64_t c = channels_of(b, in);
  char nm[160];
  nadi_hparams hp = nadi_hparams_default();
  hp.const_rank = 3, hp.const_dims[0] = c, hp.const_dims[1] = hp.const_dims[2] = 1;
  hp.init = scale_init;
  int32_t scale, x, none = NADI_INPUT_NODE;
  snprintf(nm, sizeof nm, "%s.layer_scale", prefix);
  NADI_TRY(nadi_add_node(b, NADI_CONSTANT, &none, 0, &hp, nm, &scale));
  snprintf(nm, sizeof nm, "%s.block.0", prefix);
  NADI_TRY(nadi_add_conv_groups(b, in, c, 7, 1, 3, c, 1, weight_init, nm, &x));
  static const int64_t to_last[4] = {0, 2, 3, 1}, back[4] = {0, 3, 1, 2};
  NADI_TRY(transpose(b, x, to_last, 4, &x));
  snprintf(nm, sizeof nm, "%s.block.2", prefix);
  hp = nadi_hparams_default();
  hp.norm_axis = -1, hp.eps = 1e-6;
  NADI_TRY(node1(b, NADI_LAYERNORM, x, &hp, nm, &x));
  snprintf(nm, sizeof nm, "%s.block.3", prefix);
  NADI_TRY(gemm(b, x, 4 * c, 1.0, 1.0, weight_init, nm, &x));
  NADI_TRY(nadi_add_activation(b, x, NADI_GELU, &x));
  snprintf(nm, sizeof nm, "%s.block.5", prefix);
  NADI_TRY(gemm(b, x, c, 1.0, 1.0, weight_init, nm, &x));
  NADI_TRY(transpose(b, x, back, 4, &x));
  NADI_TRY(binary(b, NADI_ARITH, 2 /* mul */, scale, x, &x)); /* layer_scale * block(x) */
  return nadi_add_join(b, NADI_ADD, x, in, node);             /* + x */
}

/* ---- ViT ---------------------------------------------------------------------------------------- */

nad_status nadi_add_patch_embed(nadi_builder *b, int32_t in, int64_t dim, int32_t patch,
                                const nadi_vit_names *names, int tv_init, int32_t *node) {
  /* class token (1, 1, E), first: it is first in the state_dict */
  nadi_hparams hp = nadi_hparams_default();
  hp.const_rank = 3, hp.const_dims[0] = hp.const_dims[1] = 1, hp.const_dims[2] = dim;
  int32_t cls, x, none = NADI_INPUT_NODE;
  NADI_TRY(nadi_add_node(b, NADI_CONSTANT, &none, 0, &hp, names->class_token, &cls));
  NADI_TRY(nadi_add_conv_groups(b, in, dim, patch, patch, 0, 1, 1,
                                tv_init ? NADI_INIT_TRUNC_FAN_IN : NADI_INIT_TORCH,
                                names->conv_proj, &x));
  static const int64_t flat[3] = {1, 0, -1}, perm[3] = {0, 2, 1};
  NADI_TRY(reshape(b, x, flat, 3, &x)); /* (1, E, h*w) */
  NADI_TRY(transpose(b, x, perm, 3, &x)); /* (1, T0, E) */
  hp = nadi_hparams_default();
  hp.tensor_axis = 1;
  int32_t two[2] = {cls, x};
  NADI_TRY(nadi_add_node(b, NADI_CONCAT_AXIS, two, 2, &hp, NULL, &x)); /* (1, T, E) */
  nadi_dims d = dims_of(b, x);
  hp = nadi_hparams_default();
  hp.arith_op = 0, hp.arith_side = 0, hp.arith_prank = 3;
  hp.arith_pshape[0] = 1, hp.arith_pshape[1] = d.d[1], hp.arith_pshape[2] = dim;
  hp.init = NADI_INIT_NORMAL_002;
  return node1(b, NADI_ARITH_PARAM, x, &hp, names->pos_embedding, node);
}

/* Heads of (1, T, E): q, k or v (part 0, 1, 2 of the packed projection) as (1, H, T, d), or
 * k transposed to (1, H, d, T). */
static nad_status heads(nadi_builder *b, int32_t qkv, int part, int64_t t, int64_t e,
                        int64_t h, int kt, int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  int64_t ends[3] = {1, t, (part + 1) * e};
  hp.starts[2] = part * e;
  memcpy(hp.ends, ends, sizeof ends);
  int32_t x;
  NADI_TRY(node1(b, NADI_SLICE, qkv, &hp, NULL, &x));
  const int64_t split[4] = {1, t, h, e / h}, to_heads[4] = {0, 2, 1, 3}, to_kt[4] = {0, 2, 3, 1};
  NADI_TRY(reshape(b, x, split, 4, &x));
  return transpose(b, x, kt ? to_kt : to_heads, 4, node);
}

static nad_status attention(nadi_builder *b, int32_t in, int64_t h, int tv_init,
                            const char *prefix, int32_t *node) {
  nadi_dims d = dims_of(b, in);
  int64_t t = d.d[1], e = d.d[2];
  double a = pow((double)(e / h), -0.25); /* (1/sqrt d) = a^2, see the top of the file */
  char nm[200]; /* prefix: < 160 characters */
  int32_t qkv, q, k, v, s;
  snprintf(nm, sizeof nm, "%s.in_proj", prefix);
  NADI_TRY(gemm(b, in, 3 * e, a, a, tv_init ? NADI_INIT_XAVIER : NADI_INIT_TORCH, nm, &qkv));
  NADI_TRY(heads(b, qkv, 0, t, e, h, 0, &q));
  NADI_TRY(heads(b, qkv, 1, t, e, h, 1, &k));
  NADI_TRY(heads(b, qkv, 2, t, e, h, 0, &v));
  NADI_TRY(binary(b, NADI_MATMUL, 0, q, k, &s)); /* (1, H, T, T) */
  nadi_hparams hp = nadi_hparams_default();
  hp.norm_axis = -1;
  NADI_TRY(node1(b, NADI_SOFTMAX, s, &hp, NULL, &s));
  NADI_TRY(binary(b, NADI_MATMUL, 0, s, v, &s)); /* (1, H, T, d) */
  static const int64_t back[4] = {0, 2, 1, 3};
  const int64_t merged[3] = {1, t, e};
  NADI_TRY(transpose(b, s, back, 4, &s));
  NADI_TRY(reshape(b, s, merged, 3, &s));
  snprintf(nm, sizeof nm, "%s.out_proj", prefix);
  /* nn.MultiheadAttention: out_proj keeps Linear's weight init, its bias is zeroed */
  return gemm(b, s, e, 1.0 / a, 1.0, tv_init ? NADI_INIT_FOLDED_BN : NADI_INIT_TORCH, nm, node);
}

nad_status nadi_add_encoder(nadi_builder *b, int32_t in, int64_t num_heads, int64_t mlp_dim,
                            int tv_init, const char *prefix, int32_t *node) {
  nadi_dims d = dims_of(b, in);
  NADI_CHECK(d.rank == 3 && d.d[0] == 1, NAD_ERR_SHAPE,
             "%s: an encoder block needs tokens (1, T, E), not a tensor of rank %lld "
             "(start with 'embed')",
             prefix, (long long)d.rank);
  NADI_CHECK(num_heads >= 1 && d.d[2] % num_heads == 0, NAD_ERR_SHAPE,
             "%s: %lld heads must divide the token width %lld", prefix, (long long)num_heads,
             (long long)d.d[2]);
  char nm[160];
  int32_t x, y;
  snprintf(nm, sizeof nm, "%s.ln_1", prefix);
  NADI_TRY(nadi_add_layernorm(b, in, 1e-6, nm, &x));
  snprintf(nm, sizeof nm, "%s.self_attention", prefix);
  NADI_TRY(attention(b, x, num_heads, tv_init, nm, &x));
  NADI_TRY(nadi_add_join(b, NADI_ADD, x, in, &x)); /* x = attention + input */
  snprintf(nm, sizeof nm, "%s.ln_2", prefix);
  NADI_TRY(nadi_add_layernorm(b, x, 1e-6, nm, &y));
  const int64_t mlp_init = tv_init ? NADI_INIT_XAVIER_B1E6 : NADI_INIT_TORCH;
  snprintf(nm, sizeof nm, "%s.mlp.0", prefix);
  NADI_TRY(gemm(b, y, mlp_dim, 1.0, 1.0, mlp_init, nm, &y));
  NADI_TRY(nadi_add_activation(b, y, NADI_GELU, &y));
  snprintf(nm, sizeof nm, "%s.mlp.3", prefix);
  NADI_TRY(gemm(b, y, d.d[2], 1.0, 1.0, mlp_init, nm, &y));
  return nadi_add_join(b, NADI_ADD, x, y, node); /* x + mlp(ln_2(x)) */
}

nad_status nadi_add_class_token(nadi_builder *b, int32_t in, int32_t *node) {
  nadi_dims d = dims_of(b, in);
  NADI_CHECK(d.rank == 3 && d.d[0] == 1, NAD_ERR_SHAPE,
             "'cls' needs tokens (1, T, E), not a tensor of rank %lld", (long long)d.rank);
  nadi_hparams hp = nadi_hparams_default();
  hp.tensor_axis = 1, hp.gather_index = 0;
  return node1(b, NADI_GATHER, in, &hp, NULL, node);
}

/* ".in_proj.weight" -> ".in_proj_weight", ".in_proj.bias" -> ".in_proj_bias" */
void nadi_blocks_names(nadi_graph *g) {
  static const char *const from[2] = {".in_proj.weight", ".in_proj.bias"};
  for (int64_t i = 0; i < g->n_tensors; i++)
    for (int j = 0; j < 2; j++) {
      char *name = g->tensors[i].name;
      size_t n = strlen(name), m = strlen(from[j]);
      if (n >= m && strcmp(name + n - m, from[j]) == 0)
        name[n - m + 8] = '_'; /* the '.' after "in_proj" */
    }
}
