/* The ONNX operators the importer maps, one function each, listed in `ops` at the end (which is
 * also the list docs/onnx.md and nadi_onnx_supported_op() give). A mapping reads the node's
 * attributes and constant inputs into a kind's hyper-parameters, refuses what no kind
 * implements (NAD_ERR_UNSUPPORTED naming the node and the reason), and adds the node(s) through
 * nadi_onnx_add with the initializers that become the node's parameter tensors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h" /* nadi_arith_op */
#include "onnx/onnx_import.h"
#include "onnx/onnx_map.h"

typedef nadi_onnx_imp imp;
typedef nadi_onnx_src src_t;
#define FAIL(...) nadi_onnx_fail_node(c, NAD_ERR_UNSUPPORTED, __VA_ARGS__)

/* The output value of n (its shape is known after shape inference). */
static const nadi_onnx_value *out_value(const imp *c, const nadi_onnx_node *n) {
  return &c->m->values[n->out[0]];
}

/* An INTS attribute of exactly `len` values into v (absent: def for each). */
static nad_status ints_attr(const imp *c, const nadi_onnx_node *n, const char *name, int32_t len,
                            int64_t def, int64_t *v) {
  const nadi_onnx_attr *a = nadi_onnx_attr_find(n, name);
  for (int32_t i = 0; i < len; i++)
    v[i] = def;
  if (!a)
    return NAD_OK;
  if (a->type != NADI_ONNX_ATTR_INTS || a->n != len)
    return FAIL("attribute %s must have %d integers (has %lld)", name, (int)len,
                (long long)a->n);
  for (int32_t i = 0; i < len; i++)
    v[i] = a->ints[i];
  return NAD_OK;
}

/* Rank of input j (-1 when unknown). */
static int32_t rank_of(const imp *c, const nadi_onnx_node *n, int32_t j) {
  const nadi_onnx_value *v = nadi_onnx_in(c, n, j);
  return v ? v->ndim : -1;
}

/* An axis attribute normalised against rank r. */
static nad_status axis_attr(const imp *c, const nadi_onnx_node *n, const char *name, int64_t def,
                            int32_t r, int64_t *axis) {
  int64_t a = nadi_onnx_attr_int(n, name, def);
  if (a < 0)
    a += r;
  if (a < 0 || a >= r)
    return FAIL("%s %lld out of range for rank %d", name,
                (long long)nadi_onnx_attr_int(n, name, def), (int)r);
  *axis = a;
  return NAD_OK;
}

/* ---- windows -------------------------------------------------------------------------------- */

/* A 2-D window's attributes into the general window fields (kernel from the attribute or, for
 * a convolution, the weight). */
static nad_status read_window(const imp *c, const nadi_onnx_node *n, const int64_t *kernel,
                              nadi_hparams *hp) {
  const char *ap = nadi_onnx_attr_string(n, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0)
    return FAIL("auto_pad %s (export with explicit pads)", ap);
  if (rank_of(c, n, 0) != 4)
    return FAIL("only 2-D windows on (N, C, H, W) inputs (input rank %d)", (int)rank_of(c, n, 0));
  int64_t k[2], s[2], d[2], p[4];
  NADI_TRY(ints_attr(c, n, "kernel_shape", 2, -1, k));
  if (k[0] < 0 && kernel)
    k[0] = kernel[0], k[1] = kernel[1];
  if (k[0] < 1 || k[1] < 1)
    return FAIL("missing kernel_shape");
  NADI_TRY(ints_attr(c, n, "strides", 2, 1, s));
  NADI_TRY(ints_attr(c, n, "dilations", 2, 1, d));
  NADI_TRY(ints_attr(c, n, "pads", 4, 0, p)); /* ONNX: top, left, bottom, right */
  hp->kh = k[0], hp->kw = k[1], hp->sh = s[0], hp->sw = s[1], hp->dh = d[0], hp->dw = d[1];
  hp->pad_t = p[0], hp->pad_l = p[1], hp->pad_b = p[2], hp->pad_r = p[3];
  return NAD_OK;
}

static nad_status op_conv(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  const nadi_onnx_tensor *wt = NULL, *bt = NULL;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  NADI_TRY(nadi_onnx_param(c, n, 1, &wt));
  if (nadi_onnx_in(c, n, 2))
    NADI_TRY(nadi_onnx_param(c, n, 2, &bt));
  if (wt->ndim != 4)
    return FAIL("only 2-D convolutions (weight of rank 4; has %d)", (int)wt->ndim);
  nadi_hparams hp = nadi_hparams_default();
  NADI_TRY(read_window(c, n, wt->dims + 2, &hp));
  hp.groups = nadi_onnx_attr_int(n, "group", 1);
  hp.out_c = wt->dims[0];
  hp.bias = bt != NULL;
  const char *wname = c->m->values[n->in[1]].name;
  const char *bname = bt ? c->m->values[n->in[2]].name : "";
  size_t wl = strlen(wname), bl = strlen(bname);
  int named = (wl > 7 && strcmp(wname + wl - 7, ".weight") == 0) ||
              (bl > 5 && strcmp(bname + bl - 5, ".bias") == 0);
  if (bt && !named) /* torch's eval export folded a BatchNorm into it (onnx_import.c) */
    hp.init = NADI_INIT_FOLDED_BN;
  char prefix[96];
  nadi_onnx_module_prefix(n, wname, prefix, sizeof prefix);
  src_t src[2] = {{wt, 0}, {bt, 0}};
  return nadi_onnx_add(c, n, NADI_CONV2D, &x, 1, &hp, prefix, src, bt ? 2 : 1);
}

static nad_status op_pool(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  int is_max = strcmp(n->op, "MaxPool") == 0;
  if (is_max && n->n_out > 1 && n->out[1] >= 0)
    return FAIL("MaxPool's Indices output");
  nadi_hparams hp = nadi_hparams_default();
  NADI_TRY(read_window(c, n, NULL, &hp));
  if (hp.dh != 1 || hp.dw != 1)
    return FAIL("dilated pooling");
  hp.dh = hp.dw = 0; /* pools take no dilation */
  hp.ceil_mode = nadi_onnx_attr_int(n, "ceil_mode", 0);
  hp.count_include_pad = nadi_onnx_attr_int(n, "count_include_pad", 0);
  return nadi_onnx_add(c, n, is_max ? NADI_MAXPOOL : NADI_AVGPOOL, &x, 1, &hp, NULL, NULL, 0);
}

/* GlobalAveragePool of (1, C, H, W): the built-in gap. */
static nad_status op_gap(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  if (rank_of(c, n, 0) != 4)
    return FAIL("GlobalAveragePool of rank %d (rank 4 only)", (int)rank_of(c, n, 0));
  nadi_hparams hp = nadi_hparams_default();
  return nadi_onnx_add(c, n, NADI_GAP, &x, 1, &hp, NULL, NULL, 0);
}

/* ---- normalisations ------------------------------------------------------------------------- */

static nad_status op_batchnorm(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  src_t src[4];
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  for (int32_t j = 0; j < 4; j++) {
    src[j].transpose = 0;
    NADI_TRY(nadi_onnx_param(c, n, 1 + j, &src[j].t));
  }
  if (nadi_onnx_attr_int(n, "training_mode", 0) != 0)
    return FAIL("BatchNormalization in training mode");
  nadi_hparams hp = nadi_hparams_default();
  hp.eps = nadi_onnx_attr_float(n, "epsilon", 1e-5f);
  hp.momentum = 1.0 - nadi_onnx_attr_float(n, "momentum", 0.9f);
  char prefix[96];
  nadi_onnx_module_prefix(n, c->m->values[n->in[1]].name, prefix, sizeof prefix);
  return nadi_onnx_add(c, n, NADI_BATCHNORM, &x, 1, &hp, prefix, src, 4);
}

static nad_status op_layernorm(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  const nadi_onnx_tensor *w = NULL, *b = NULL;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  NADI_TRY(nadi_onnx_param(c, n, 1, &w));
  if (nadi_onnx_in(c, n, 2))
    NADI_TRY(nadi_onnx_param(c, n, 2, &b));
  if (n->n_out > 1 && (n->out[1] >= 0 || (n->n_out > 2 && n->out[2] >= 0)))
    for (int32_t o = 1; o < n->n_out; o++)
      if (n->out[o] >= 0 && c->readers[n->out[o]] > 0)
        return FAIL("LayerNormalization's Mean / InvStdDev outputs are read");
  nadi_hparams hp = nadi_hparams_default();
  hp.norm_axis = nadi_onnx_attr_int(n, "axis", -1);
  hp.eps = nadi_onnx_attr_float(n, "epsilon", 1e-5f);
  char prefix[96];
  nadi_onnx_module_prefix(n, c->m->values[n->in[1]].name, prefix, sizeof prefix);
  src_t src[2] = {{w, 0}, {b, 0}}; /* no B: zeros */
  return nadi_onnx_add(c, n, NADI_LAYERNORM, &x, 1, &hp, prefix, src, 2);
}

static nad_status op_softmax(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  int32_t r = rank_of(c, n, 0);
  nadi_hparams hp = nadi_hparams_default();
  NADI_TRY(axis_attr(c, n, "axis", c->m->opset >= 13 ? -1 : 1, r, &hp.norm_axis));
  if (c->m->opset < 13 && hp.norm_axis != r - 1) /* before 13: softmax of the flattened tail */
    return FAIL("Softmax (opset %lld) over axes %lld.. of rank %d: only the last axis",
                (long long)c->m->opset, (long long)hp.norm_axis, (int)r);
  return nadi_onnx_add(c, n, NADI_SOFTMAX, &x, 1, &hp, NULL, NULL, 0);
}

static nad_status op_reducemean(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  int32_t r = rank_of(c, n, 0);
  nadi_hparams hp = nadi_hparams_default();
  const nadi_onnx_attr *a = nadi_onnx_attr_find(n, "axes");
  if (!a) {
    hp.red_axes = (1LL << r) - 1;
  } else {
    for (int64_t i = 0; i < a->n; i++) {
      int64_t ax = a->ints[i] < 0 ? a->ints[i] + r : a->ints[i];
      if (ax < 0 || ax >= r)
        return FAIL("axis %lld out of range for rank %d", (long long)a->ints[i], (int)r);
      hp.red_axes |= 1LL << ax;
    }
  }
  hp.red_keepdims = nadi_onnx_attr_int(n, "keepdims", 1);
  return nadi_onnx_add(c, n, NADI_REDUCEMEAN, &x, 1, &hp, NULL, NULL, 0);
}

/* ---- elementwise ------------------------------------------------------------------------------ */

static nad_status unary(imp *c, const nadi_onnx_node *n, nadi_kind kind, const nadi_hparams *hp) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  return nadi_onnx_add(c, n, kind, &x, 1, hp, NULL, NULL, 0);
}

/* ---- activations torch writes as several nodes -------------------------------------------------
 * Before opset 20 ONNX has no Gelu, and torch.onnx writes nn.GELU() as
 *   y = Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)
 * (either operand order of each binary node). Taken node by node, that is five kernels and
 * five activations where the gelu kind has one: 316 of the 760 MB of activations of maxvit_t
 * at 3x224x224 (its 45 GELUs), and the forward and backward of four arith kernels on them.
 * The chain is fused into one gelu node when each of its intermediate values is read by the
 * next node alone and the constants are sqrt 2 (within float rounding), 1 and 0.5; anything
 * else maps node by node, as before. The fused node computes x * Phi(x)
 * (lib/kernels/unary.c), which differs from the chain by float rounding only (PyTorch's own
 * GELU is the fused form too).
 * nn.SiLU is Mul(x, Sigmoid(x)) at every opset torch writes: fused into one silu node when the
 * Sigmoid's output has no other reader (a squeeze-excitation gate, x * Sigmoid(y), stays). */

/* Is input j of n a constant scalar within tol of want? */
static int scalar_is(const imp *c, const nadi_onnx_node *n, int32_t j, double want, double tol) {
  const nadi_onnx_value *v = nadi_onnx_in(c, n, j);
  return v && !nadi_onnx_is_act(c, n, j) && v->data && v->data->count == 1 &&
         fabs(nadi_onnx_get_d(v->data, 0) - want) <= tol;
}

/* The node (after the current one) that reads value v, when it is an `op` node with n_in
 * inputs and nothing else reads v (no other node, nor a graph output); -1 otherwise.
 * *side = which of its inputs v is. */
static int32_t sole_reader(const imp *c, int32_t v, const char *op, int32_t n_in, int32_t *side) {
  if (v < 0 || c->readers[v] != 1)
    return -1;
  for (int32_t k = c->k + 1; k < c->m->n_nodes; k++) {
    const nadi_onnx_node *r = &c->m->nodes[k];
    for (int32_t j = 0; j < r->n_in; j++)
      if (r->in[j] == v) {
        *side = j;
        return strcmp(r->op, op) == 0 && r->n_in == n_in && r->n_out >= 1 ? k : -1;
      }
  }
  return -1;
}

/* The chain's four later nodes (Erf, Add, Mul, Mul) when the current node, a Div, starts a
 * GELU; 0 otherwise. */
static int gelu_chain(const imp *c, const nadi_onnx_node *n, int32_t chain[4]) {
  if (strcmp(n->op, "Div") != 0 || n->n_in != 2 || n->n_out < 1 || !nadi_onnx_is_act(c, n, 0) ||
      !scalar_is(c, n, 1, M_SQRT2, 1e-6))
    return 0;
  const nadi_onnx_node *nodes = c->m->nodes;
  int32_t side = 0;
  if ((chain[0] = sole_reader(c, n->out[0], "Erf", 1, &side)) < 0)
    return 0;
  if ((chain[1] = sole_reader(c, nodes[chain[0]].out[0], "Add", 2, &side)) < 0 ||
      !scalar_is(c, &nodes[chain[1]], 1 - side, 1.0, 0.0))
    return 0;
  if ((chain[2] = sole_reader(c, nodes[chain[1]].out[0], "Mul", 2, &side)) < 0 ||
      nodes[chain[2]].in[1 - side] != n->in[0])
    return 0;
  if ((chain[3] = sole_reader(c, nodes[chain[2]].out[0], "Mul", 2, &side)) < 0 ||
      !scalar_is(c, &nodes[chain[3]], 1 - side, 0.5, 0.0))
    return 0;
  return 1;
}

/* The Mul that makes the current node, a Sigmoid, a SiLU; -1 otherwise. */
static int32_t silu_mul(const imp *c, const nadi_onnx_node *n) {
  int32_t side = 0, k;
  if (strcmp(n->op, "Sigmoid") != 0 || n->n_in != 1 || n->n_out < 1 ||
      (k = sole_reader(c, n->out[0], "Mul", 2, &side)) < 0)
    return -1;
  return c->m->nodes[k].in[1 - side] == n->in[0] ? k : -1;
}

/* The current node becomes `kind` on its input 0, and the later nodes `fused` (n_fused) are
 * done: their outputs are its. */
static nad_status fuse(imp *c, const nadi_onnx_node *n, nadi_kind kind, const int32_t *fused,
                       int n_fused) {
  nadi_hparams hp = nadi_hparams_default();
  NADI_TRY(unary(c, n, kind, &hp));
  for (int i = 0; i < n_fused; i++) {
    c->skip[fused[i]] = 1;
    c->node_of[c->m->nodes[fused[i]].out[0]] = c->n_built - 1;
  }
  return NAD_OK;
}

/* Activations without attributes, by operator name. */
static const struct {
  const char *op;
  nadi_kind kind;
} plain_unary[] = {{"Relu", NADI_RELU},       {"Sigmoid", NADI_SIGMOID}, {"Tanh", NADI_TANH},
                   {"HardSwish", NADI_HARDSWISH}, {"Erf", NADI_ERF},    {"Sqrt", NADI_SQRT},
                   {"Reciprocal", NADI_RECIPROCAL}, {"Neg", NADI_NEG},  {"Exp", NADI_EXP}};

static nad_status op_unary(imp *c, const nadi_onnx_node *n) {
  const int32_t k = silu_mul(c, n);
  if (k >= 0)
    return fuse(c, n, NADI_SILU, &k, 1);
  nadi_hparams hp = nadi_hparams_default();
  for (size_t i = 0; i < sizeof plain_unary / sizeof plain_unary[0]; i++)
    if (strcmp(plain_unary[i].op, n->op) == 0)
      return unary(c, n, plain_unary[i].kind, &hp);
  return FAIL("no unary kind for %s", n->op);
}

/* Clip: bounds from inputs 1, 2 (opset 11 on) or attributes min, max; absent = unbounded. */
static nad_status op_clip(imp *c, const nadi_onnx_node *n) {
  nadi_hparams hp = nadi_hparams_default();
  hp.act_lo = nadi_onnx_attr_float(n, "min", -INFINITY);
  hp.act_hi = nadi_onnx_attr_float(n, "max", INFINITY);
  for (int32_t j = 1; j <= 2; j++) {
    const nadi_onnx_value *v = nadi_onnx_in(c, n, j);
    if (!v)
      continue;
    if (!v->data || v->data->count != 1)
      return FAIL("Clip bound %d is not a constant scalar", (int)j);
    *(j == 1 ? &hp.act_lo : &hp.act_hi) = nadi_onnx_get_d(v->data, 0);
  }
  return unary(c, n, NADI_CLIP, &hp);
}

static nad_status op_hardsigmoid(imp *c, const nadi_onnx_node *n) {
  nadi_hparams hp = nadi_hparams_default();
  hp.act_alpha = nadi_onnx_attr_float(n, "alpha", 0.2f);
  hp.act_beta = nadi_onnx_attr_float(n, "beta", 0.5f);
  return unary(c, n, NADI_HARDSIGMOID, &hp);
}

/* The MatMul that an Add of a bias vector follows, when that Add is its only reader: the two
 * become one gemm with a bias (a Linear applied to a sequence). -1 otherwise. */
static int32_t bias_add_of(const imp *c, const nadi_onnx_node *mm) {
  if (mm->n_out < 1 || mm->out[0] < 0 || c->readers[mm->out[0]] != 1)
    return -1;
  for (int32_t k = c->k + 1; k < c->m->n_nodes; k++) {
    const nadi_onnx_node *a = &c->m->nodes[k];
    for (int32_t j = 0; j < a->n_in; j++)
      if (a->in[j] == mm->out[0]) {
        const nadi_onnx_value *o = a->n_in == 2 ? &c->m->values[a->in[1 - j]] : NULL;
        int ok = strcmp(a->op, "Add") == 0 && o && o->data && o->data->f && o->ndim == 1;
        return ok ? k : -1;
      }
  }
  return -1;
}

/* MatMul: of two computed tensors (attention), or by a (K, N) initializer (a Linear on a
 * sequence; with the bias Add that follows it fused in). */
static nad_status op_matmul(imp *c, const nadi_onnx_node *n) {
  int32_t in[2] = {NADI_INPUT_NODE, NADI_INPUT_NODE};
  NADI_TRY(nadi_onnx_act(c, n, 0, &in[0]));
  nadi_hparams hp = nadi_hparams_default();
  if (nadi_onnx_is_act(c, n, 1)) {
    NADI_TRY(nadi_onnx_act(c, n, 1, &in[1]));
    return nadi_onnx_add(c, n, NADI_MATMUL, in, 2, &hp, NULL, NULL, 0);
  }
  const nadi_onnx_tensor *w = NULL, *b = NULL;
  NADI_TRY(nadi_onnx_param(c, n, 1, &w));
  if (w->ndim != 2)
    return FAIL("MatMul by a constant of rank %d (rank 2 only)", (int)w->ndim);
  int32_t wv = n->in[1], orig = c->transposed_of[wv];
  if (orig >= 0) /* x · Wᵀ with W (N, K) as PyTorch stores it */
    w = c->m->values[orig].data, wv = orig, hp.trans_b = 1;
  int32_t k = bias_add_of(c, n);
  if (k >= 0) {
    const nadi_onnx_node *a = &c->m->nodes[k];
    const nadi_onnx_value *bv = &c->m->values[a->in[0] == n->out[0] ? a->in[1] : a->in[0]];
    if (bv->data->count == (hp.trans_b ? w->dims[0] : w->dims[1]))
      b = bv->data;
  }
  hp.out_c = hp.trans_b ? w->dims[0] : w->dims[1];
  hp.bias = b != NULL;
  char prefix[96];
  nadi_onnx_module_prefix(n, c->m->values[wv].name, prefix, sizeof prefix);
  src_t src[2] = {{w, 0}, {b, 0}};
  NADI_TRY(nadi_onnx_add(c, n, NADI_GEMM, in, 1, &hp, prefix, src, b ? 2 : 1));
  if (b) { /* the Add is done: its output is the gemm's */
    c->skip[k] = 1;
    c->node_of[c->m->nodes[k].out[0]] = c->n_built - 1;
  }
  return NAD_OK;
}

/* Gemm: on (1, F) with transB = 1 and alpha = beta = 1 the built-in linear (delta forward's
 * fast path); else the gemm kind. */
static nad_status op_gemm(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  const nadi_onnx_tensor *wt = NULL, *bt = NULL;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  NADI_TRY(nadi_onnx_param(c, n, 1, &wt));
  if (nadi_onnx_in(c, n, 2))
    NADI_TRY(nadi_onnx_param(c, n, 2, &bt));
  int64_t tb = nadi_onnx_attr_int(n, "transB", 0);
  double alpha = nadi_onnx_attr_float(n, "alpha", 1.0f), beta = nadi_onnx_attr_float(n, "beta", 1.0f);
  if (nadi_onnx_attr_int(n, "transA", 0) != 0 || wt->ndim != 2)
    return FAIL("Gemm with transA or a weight of rank %d", (int)wt->ndim);
  int64_t out = tb ? wt->dims[0] : wt->dims[1];
  if (bt && bt->count != out)
    return FAIL("bias of %lld values for %lld outputs (only a bias per output)",
                (long long)bt->count, (long long)out);
  nadi_hparams hp = nadi_hparams_default();
  hp.out_c = out;
  hp.bias = bt != NULL;
  char prefix[96];
  nadi_onnx_module_prefix(n, c->m->values[n->in[1]].name, prefix, sizeof prefix);
  const nadi_onnx_value *xv = nadi_onnx_in(c, n, 0);
  if (alpha == 1.0 && beta == 1.0 && xv->ndim == 2 && xv->dims[0] == 1) {
    src_t src[2] = {{wt, !tb}, {bt, 0}};
    return nadi_onnx_add(c, n, NADI_LINEAR, &x, 1, &hp, prefix, src, bt ? 2 : 1);
  }
  hp.trans_b = tb, hp.gemm_alpha = alpha, hp.gemm_beta = beta;
  src_t src[2] = {{wt, 0}, {bt, 0}};
  return nadi_onnx_add(c, n, NADI_GEMM, &x, 1, &hp, prefix, src, bt ? 2 : 1);
}

/* Add, Sub, Mul, Div: of two computed tensors (an Add of equal shapes is the built-in add, a
 * join for the delta forward), or of a computed tensor and a constant (a parameter of the
 * node: layer scale, positional embedding, GELU's constants). */
static nad_status op_arith(imp *c, const nadi_onnx_node *n) {
  static const char *const names[4] = {"Add", "Sub", "Mul", "Div"};
  nadi_hparams hp = nadi_hparams_default();
  hp.arith_op = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp(n->op, names[i]) == 0)
      hp.arith_op = i;
  int32_t chain[4];
  if (gelu_chain(c, n, chain))
    return fuse(c, n, NADI_GELU, chain, 4);
  int a0 = nadi_onnx_is_act(c, n, 0), a1 = nadi_onnx_is_act(c, n, 1);
  if (a0 && a1) {
    int32_t in[2];
    NADI_TRY(nadi_onnx_act(c, n, 0, &in[0]));
    NADI_TRY(nadi_onnx_act(c, n, 1, &in[1]));
    const nadi_onnx_value *v0 = nadi_onnx_in(c, n, 0), *v1 = nadi_onnx_in(c, n, 1);
    int same = v0->ndim == v1->ndim;
    for (int32_t d = 0; same && d < v0->ndim; d++)
      same = v0->dims[d] == v1->dims[d];
    nadi_kind kind = same && hp.arith_op == NADI_ARITH_ADD ? NADI_ADD : NADI_ARITH;
    return nadi_onnx_add(c, n, kind, in, 2, &hp, NULL, NULL, 0);
  }
  if (!a0 && !a1)
    return FAIL("%s of two constants (not folded)", n->op);
  int32_t x = NADI_INPUT_NODE;
  const nadi_onnx_tensor *p = NULL;
  NADI_TRY(nadi_onnx_act(c, n, a0 ? 0 : 1, &x));
  NADI_TRY(nadi_onnx_param(c, n, a0 ? 1 : 0, &p));
  if (p->ndim > NADI_MAX_RANK)
    return FAIL("constant operand of rank %d", (int)p->ndim);
  hp.arith_side = a0 ? 0 : 1;
  hp.arith_prank = p->ndim;
  for (int32_t d = 0; d < p->ndim; d++)
    hp.arith_pshape[d] = p->dims[d];
  src_t src[1] = {{p, 0}};
  return nadi_onnx_add(c, n, NADI_ARITH_PARAM, &x, 1, &hp,
                       c->m->values[n->in[a0 ? 1 : 0]].name, src, 1);
}

/* ---- layout ------------------------------------------------------------------------------- */

/* A reshape of builder node x to n's output shape, as n's output. */
static nad_status reshape_to_output(imp *c, const nadi_onnx_node *n, int32_t x) {
  const nadi_onnx_value *y = out_value(c, n);
  if (y->ndim < 1 || y->ndim > NADI_MAX_RANK)
    return FAIL("%s to rank %d", n->op, (int)y->ndim);
  nadi_hparams hp = nadi_hparams_default();
  hp.reshape_rank = y->ndim;
  for (int32_t d = 0; d < y->ndim; d++)
    hp.reshape_dims[d] = y->dims[d];
  return nadi_onnx_add(c, n, NADI_RESHAPE, &x, 1, &hp, NULL, NULL, 0);
}

/* Reshape to the output's shape (Reshape, Squeeze, Unsqueeze, Flatten of any axis); a Reshape
 * or Flatten(1) to (1, N) of a feature map is the built-in flatten. */
static nad_status op_reshape(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  const nadi_onnx_value *y = out_value(c, n);
  if (y->ndim == 2 && y->dims[0] == 1 && rank_of(c, n, 0) >= 2 &&
      nadi_onnx_in(c, n, 0)->dims[0] == 1) {
    nadi_hparams hp = nadi_hparams_default();
    return nadi_onnx_add(c, n, NADI_FLATTEN, &x, 1, &hp, NULL, NULL, 0);
  }
  return reshape_to_output(c, n, x);
}

/* Transpose of a 2-D initializer (torch's Linear on a sequence, exported without constant
 * folding, is MatMul(x, Transpose(W))): a constant holding W transposed, remembered as such so
 * that a MatMul takes W itself (gemm transB = 1: the parameter keeps PyTorch's layout and name). */
static nad_status transpose_constant(imp *c, const nadi_onnx_node *n) {
  const nadi_onnx_value *v = nadi_onnx_in(c, n, 0);
  const nadi_onnx_tensor *t = NULL;
  NADI_TRY(nadi_onnx_param(c, n, 0, &t));
  int64_t perm[2];
  NADI_TRY(ints_attr(c, n, "perm", 2, -1, perm));
  if (t->ndim != 2 || !((perm[0] == 1 && perm[1] == 0) || perm[0] < 0))
    return FAIL("Transpose of a constant of rank %d (2-D only)", (int)t->ndim);
  int64_t dims[2] = {t->dims[1], t->dims[0]};
  nadi_onnx_tensor *tt = nadi_onnx_tensor_new(c->m, NADI_ONNX_FLOAT, 2, dims);
  if (!tt)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", c->m->name);
  for (int64_t r = 0; r < t->dims[0]; r++)
    for (int64_t q = 0; q < t->dims[1]; q++)
      tt->f[q * t->dims[0] + r] = t->f[r * t->dims[1] + q];
  nadi_onnx_value *y = &c->m->values[n->out[0]];
  y->data = tt, y->is_param = v->is_param;
  c->transposed_of[n->out[0]] = n->in[0];
  return NAD_OK;
}

static nad_status op_transpose(imp *c, const nadi_onnx_node *n) {
  if (!nadi_onnx_is_act(c, n, 0))
    return transpose_constant(c, n);
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  int32_t r = rank_of(c, n, 0);
  if (r < 1 || r > NADI_MAX_RANK)
    return FAIL("Transpose of rank %d", (int)r);
  nadi_hparams hp = nadi_hparams_default();
  int64_t perm[NADI_MAX_RANK];
  NADI_TRY(ints_attr(c, n, "perm", r, -1, perm));
  for (int32_t i = 0; i < r; i++)
    hp.perm[i] = perm[i] < 0 ? r - 1 - i : perm[i]; /* default: reversed */
  return nadi_onnx_add(c, n, NADI_TRANSPOSE, &x, 1, &hp, NULL, NULL, 0);
}

/* Input j as a node: a computed tensor, or a constant tensor (ViT's class token) as a
 * constant node of its own. */
static nad_status node_or_constant(imp *c, const nadi_onnx_node *n, int32_t j, int32_t *id) {
  if (nadi_onnx_is_act(c, n, j))
    return nadi_onnx_act(c, n, j, id);
  const nadi_onnx_tensor *t = NULL;
  NADI_TRY(nadi_onnx_param(c, n, j, &t));
  if (t->ndim < 1 || t->ndim > NADI_MAX_RANK)
    return FAIL("constant input %d of rank %d", (int)j, (int)t->ndim);
  nadi_hparams hp = nadi_hparams_default();
  hp.const_rank = t->ndim;
  for (int32_t d = 0; d < t->ndim; d++)
    hp.const_dims[d] = t->dims[d];
  src_t src[1] = {{t, 0}};
  nadi_onnx_node fake = *n;
  fake.n_out = 0; /* the constant is no output of n */
  NADI_TRY(nadi_onnx_add(c, &fake, NADI_CONSTANT, NULL, 0, &hp, c->m->values[n->in[j]].name,
                         src, 1));
  *id = c->n_built - 1;
  return NAD_OK;
}

static nad_status op_pass(imp *c, const nadi_onnx_node *n);

/* Concat: along the channels of feature maps the built-in concat (a join for the delta
 * forward), else along any axis; more than two inputs become a chain. */
static nad_status op_concat(imp *c, const nadi_onnx_node *n) {
  int32_t r = rank_of(c, n, 0);
  nadi_hparams hp = nadi_hparams_default();
  NADI_TRY(axis_attr(c, n, "axis", 1, r, &hp.tensor_axis));
  if (n->n_in < 2) /* torchvision's DenseNet concatenates one tensor: the identity */
    return op_pass(c, n);
  nadi_kind kind = r == 4 && hp.tensor_axis == 1 ? NADI_CONCAT : NADI_CONCAT_AXIS;
  int32_t acc = NADI_INPUT_NODE;
  NADI_TRY(node_or_constant(c, n, 0, &acc));
  for (int32_t j = 1; j < n->n_in; j++) {
    int32_t in[2] = {acc, 0};
    NADI_TRY(node_or_constant(c, n, j, &in[1]));
    NADI_TRY(nadi_onnx_add(c, n, kind, in, 2, &hp, NULL, NULL, 0));
    acc = c->n_built - 1;
  }
  return NAD_OK;
}

/* Slice (its plan from the reader: start, step, length per axis). */
static nad_status op_slice(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  int32_t r = rank_of(c, n, 0);
  if (r < 1 || r > NADI_MAX_RANK)
    return FAIL("Slice of rank %d", (int)r);
  int64_t start[NADI_ONNX_MAX_DIMS], step[NADI_ONNX_MAX_DIMS], len[NADI_ONNX_MAX_DIMS];
  NADI_TRY(nadi_onnx_slice_plan(c->m, c->k, start, step, len));
  nadi_hparams hp = nadi_hparams_default();
  for (int32_t d = 0; d < r; d++) {
    if (step[d] < 1)
      return FAIL("Slice with step %lld (steps >= 1 only)", (long long)step[d]);
    hp.starts[d] = start[d], hp.steps[d] = step[d];
    hp.ends[d] = start[d] + (len[d] - 1) * step[d] + 1;
  }
  return nadi_onnx_add(c, n, NADI_SLICE, &x, 1, &hp, NULL, NULL, 0);
}

/* Split: one slice per output. */
static nad_status op_split(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  const nadi_onnx_value *v = nadi_onnx_in(c, n, 0);
  int32_t r = v->ndim;
  int64_t axis = 0;
  NADI_TRY(axis_attr(c, n, "axis", 0, r, &axis));
  int64_t at = 0;
  for (int32_t o = 0; o < n->n_out; o++) {
    if (n->out[o] < 0)
      continue;
    const nadi_onnx_value *y = &c->m->values[n->out[o]];
    nadi_hparams hp = nadi_hparams_default();
    for (int32_t d = 0; d < r; d++)
      hp.starts[d] = 0, hp.ends[d] = v->dims[d], hp.steps[d] = 1;
    hp.starts[axis] = at, hp.ends[axis] = at + y->dims[axis];
    at += y->dims[axis];
    nadi_onnx_node one = *n;
    one.out = n->out + o, one.n_out = 1;
    NADI_TRY(nadi_onnx_add(c, &one, NADI_SLICE, &x, 1, &hp, NULL, NULL, 0));
  }
  return NAD_OK;
}

/* A transpose of input node x (rank r) swapping its last two axes, as a new node. */
static nad_status swap_last_two(imp *c, const nadi_onnx_node *n, int32_t r, int32_t *x) {
  nadi_hparams hp = nadi_hparams_default();
  for (int32_t i = 0; i < r; i++)
    hp.perm[i] = i;
  hp.perm[r - 2] = r - 1, hp.perm[r - 1] = r - 2;
  nadi_onnx_node t = *n;
  t.n_out = 0; /* an operand of n, not its output */
  NADI_TRY(nadi_onnx_add(c, &t, NADI_TRANSPOSE, x, 1, &hp, NULL, NULL, 0));
  *x = c->n_built - 1;
  return NAD_OK;
}

/* Einsum of two operands that is a batched matrix product (MaxViT's attention: "BGHID,BGHJD->
 * BGHIJ" and "BGHIJ,BGHJD->BGHID"): both operands and the output share their leading labels in
 * the same order, and the last two are a product over one label, each operand either way round
 * (a transposed operand is transposed first). Other equations are refused. */
static nad_status op_einsum(imp *c, const nadi_onnx_node *n) {
  const char *eq = nadi_onnx_attr_string(n, "equation", "");
  char in[2][NADI_MAX_RANK + 1], out[NADI_MAX_RANK + 1];
  int32_t len[3] = {0, 0, 0}, part = 0;
  for (const char *p = eq; *p; p++) {
    if (*p == ' ')
      continue;
    if (*p == ',' && part == 0) {
      part = 1;
    } else if (*p == '-' && p[1] == '>' && part == 1) {
      part = 2, p++;
    } else if (((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) &&
               len[part] < NADI_MAX_RANK) {
      (part < 2 ? in[part] : out)[len[part]++] = *p;
    } else {
      return FAIL("Einsum equation '%s' (only batched matrix products of two operands)", eq);
    }
  }
  int32_t r = len[0];
  int ok = part == 2 && n->n_in == 2 && r >= 2 && len[1] == r && len[2] == r;
  for (int32_t d = 0; ok && d < r - 2; d++) /* the batch labels, shared in order */
    ok = in[0][d] == in[1][d] && in[0][d] == out[d];
  char i = ok ? out[r - 2] : 0, j = ok ? out[r - 1] : 0, k = 0;
  int ta = 0, tb = 0; /* operand a is (i, k), or (k, i): transposed; b is (k, j), or (j, k) */
  if (ok && in[0][r - 2] == i)
    k = in[0][r - 1];
  else if (ok && in[0][r - 1] == i)
    k = in[0][r - 2], ta = 1;
  else
    ok = 0;
  if (ok && in[1][r - 2] == k && in[1][r - 1] == j)
    tb = 0;
  else if (ok && in[1][r - 2] == j && in[1][r - 1] == k)
    tb = 1;
  else
    ok = 0;
  ok = ok && i != j && i != k && j != k;
  for (int32_t d = 0; ok && d < r - 2; d++)
    ok = in[0][d] != i && in[0][d] != j && in[0][d] != k;
  if (!ok)
    return FAIL("Einsum equation '%s' (only batched matrix products of two operands)", eq);
  int32_t x[2];
  NADI_TRY(node_or_constant(c, n, 0, &x[0]));
  NADI_TRY(node_or_constant(c, n, 1, &x[1]));
  if (ta)
    NADI_TRY(swap_last_two(c, n, r, &x[0]));
  if (tb)
    NADI_TRY(swap_last_two(c, n, r, &x[1]));
  nadi_hparams hp = nadi_hparams_default();
  return nadi_onnx_add(c, n, NADI_MATMUL, x, 2, &hp, NULL, NULL, 0);
}

/* Gather by a constant tensor of indices (Swin's relative position bias: a parameter table,
 * which becomes a constant node): the gather_indices kind, whose parameter tensor holds the
 * indices (as float32), then a reshape to the output's shape when the indices are not a
 * vector. */
static nad_status gather_indices(imp *c, const nadi_onnx_node *n, int32_t x, int64_t axis) {
  const nadi_onnx_value *iv = nadi_onnx_in(c, n, 1), *v = nadi_onnx_in(c, n, 0);
  const nadi_onnx_tensor *it = iv->data;
  if (!it->i || it->count < 1)
    return FAIL("Gather with indices that are not integers");
  if (v->dims[axis] > (1 << 24))
    return FAIL("Gather along an axis of %lld elements (at most 2^24)", (long long)v->dims[axis]);
  int64_t one = it->count;
  nadi_onnx_tensor *f = nadi_onnx_tensor_new(c->m, NADI_ONNX_FLOAT, 1, &one);
  if (!f)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", c->m->name);
  for (int64_t k = 0; k < it->count; k++) {
    int64_t i = it->i[k], d = v->dims[axis];
    if (i < -d || i >= d)
      return FAIL("index %lld is out of range for axis %lld of size %lld", (long long)i,
                  (long long)axis, (long long)d);
    f->f[k] = (float)i; /* exact: |i| < d <= 2^24 */
  }
  nadi_hparams hp = nadi_hparams_default();
  hp.tensor_axis = axis, hp.gather_index = it->count;
  src_t src[1] = {{f, 0}};
  const char *name = c->m->values[n->in[1]].name;
  if (it->ndim == 1)
    return nadi_onnx_add(c, n, NADI_GATHER_INDICES, &x, 1, &hp, name, src, 1);
  nadi_onnx_node flat = *n;
  flat.n_out = 0; /* the reshape below is n's output */
  NADI_TRY(nadi_onnx_add(c, &flat, NADI_GATHER_INDICES, &x, 1, &hp, name, src, 1));
  return reshape_to_output(c, n, c->n_built - 1);
}

/* Gather of one constant index (ViT's class token x[:, 0]); a 1-element index vector keeps the
 * axis (a slice); any other constant indices: gather_indices (of a constant too: Swin). */
static nad_status op_gather(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  const nadi_onnx_value *iv = nadi_onnx_in(c, n, 1), *v = nadi_onnx_in(c, n, 0);
  if (!iv || !iv->data)
    return FAIL("Gather with indices that are not constants");
  nadi_hparams hp = nadi_hparams_default();
  NADI_TRY(axis_attr(c, n, "axis", 0, v->ndim, &hp.tensor_axis));
  int one = iv->data->count == 1 && iv->data->ndim <= 1;
  if (!one || !nadi_onnx_is_act(c, n, 0)) {
    NADI_TRY(node_or_constant(c, n, 0, &x));
    return gather_indices(c, n, x, hp.tensor_axis);
  }
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  int64_t idx = nadi_onnx_get_i(iv->data, 0);
  if (iv->data->ndim == 0) {
    hp.gather_index = idx;
    return nadi_onnx_add(c, n, NADI_GATHER, &x, 1, &hp, NULL, NULL, 0);
  }
  if (idx < 0)
    idx += v->dims[hp.tensor_axis];
  for (int32_t d = 0; d < v->ndim; d++)
    hp.starts[d] = 0, hp.ends[d] = v->dims[d], hp.steps[d] = 1;
  hp.starts[hp.tensor_axis] = idx, hp.ends[hp.tensor_axis] = idx + 1;
  return nadi_onnx_add(c, n, NADI_SLICE, &x, 1, &hp, NULL, NULL, 0);
}

/* Identity, Dropout in inference, Expand or Cast to what it already is: the output is the
 * input. torch also aliases equal initializers through Identity (ViT: encoder.ln.bias =
 * Identity(conv_proj.bias), both zeros when exported): the output is then a constant with the
 * initializer's values under its OWN name, so that it stays a tensor of its own. */
static nad_status op_pass(imp *c, const nadi_onnx_node *n) {
  const nadi_onnx_value *v = nadi_onnx_in(c, n, 0);
  if (!v)
    return FAIL("input 0 is missing");
  nadi_onnx_value *y = &c->m->values[n->out[0]];
  if (strcmp(n->op, "Identity") != 0 && strcmp(n->op, "Dropout") != 0) {
    int same = v->ndim == y->ndim;
    for (int32_t d = 0; same && d < v->ndim; d++)
      same = v->dims[d] == y->dims[d];
    if (!same)
      return FAIL("%s that changes the shape", n->op);
    if (strcmp(n->op, "Cast") == 0 && !nadi_onnx_dtype_is_float(y->dtype))
      return FAIL("Cast to %s", nadi_onnx_dtype_name(y->dtype));
  }
  for (int32_t o = 1; o < n->n_out; o++)
    if (n->out[o] >= 0 && c->readers[n->out[o]] > 0)
      return FAIL("%s's output %d is read", n->op, (int)o);
  if (v->data && c->node_of[n->in[0]] == NADI_ONNX_NO_NODE) {
    y->data = v->data, y->is_param = v->is_param;
    return NAD_OK;
  }
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  c->node_of[n->out[0]] = x;
  return NAD_OK;
}

/* Pad, constant mode: by nothing the identity (torch's avg_pool2d exports a Pad of zeros). */
static nad_status op_pad(imp *c, const nadi_onnx_node *n) {
  const nadi_onnx_value *p = nadi_onnx_in(c, n, 1), *cv = nadi_onnx_in(c, n, 2);
  if (strcmp(nadi_onnx_attr_string(n, "mode", "constant"), "constant") != 0)
    return FAIL("Pad mode %s (constant only)", nadi_onnx_attr_string(n, "mode", "constant"));
  if (!p || !p->data || p->data->count > 2 * NADI_MAX_RANK || nadi_onnx_in(c, n, 3))
    return FAIL("Pad with pads that are not constants, or with axes");
  if (cv && (!cv->data || cv->data->count != 1))
    return FAIL("Pad with a value that is not a constant scalar");
  int zero = 1;
  for (int64_t i = 0; i < p->data->count; i++)
    zero &= nadi_onnx_get_i(p->data, i) == 0;
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(nadi_onnx_act(c, n, 0, &x));
  if (zero) {
    c->node_of[n->out[0]] = x;
    return NAD_OK;
  }
  nadi_hparams hp = nadi_hparams_default();
  int32_t r = rank_of(c, n, 0);
  if (p->data->count != 2 * r)
    return FAIL("Pad with %lld pads for rank %d", (long long)p->data->count, (int)r);
  for (int32_t i = 0; i < r; i++) { /* ONNX: begins of every axis, then ends */
    hp.pads[i] = nadi_onnx_get_i(p->data, i);
    hp.pads[r + i] = nadi_onnx_get_i(p->data, r + i);
  }
  hp.pad_value = cv ? nadi_onnx_get_d(cv->data, 0) : 0.0;
  return nadi_onnx_add(c, n, NADI_PAD, &x, 1, &hp, NULL, NULL, 0);
}

typedef nad_status (*op_fn)(imp *c, const nadi_onnx_node *n);
static const struct op_entry {
  const char *op;
  op_fn fn;
} ops[] = {
    {"Add", op_arith},
    {"AveragePool", op_pool},
    {"BatchNormalization", op_batchnorm},
    {"Cast", op_pass},
    {"Clip", op_clip},
    {"Concat", op_concat},
    {"Conv", op_conv},
    {"Div", op_arith},
    {"Dropout", op_pass},
    {"Einsum", op_einsum},
    {"Erf", op_unary},
    {"Exp", op_unary},
    {"Expand", op_pass},
    {"Flatten", op_reshape},
    {"Gather", op_gather},
    {"Gemm", op_gemm},
    {"GlobalAveragePool", op_gap},
    {"HardSigmoid", op_hardsigmoid},
    {"HardSwish", op_unary},
    {"Identity", op_pass},
    {"LayerNormalization", op_layernorm},
    {"MatMul", op_matmul},
    {"MaxPool", op_pool},
    {"Mul", op_arith},
    {"Neg", op_unary},
    {"Pad", op_pad},
    {"Reciprocal", op_unary},
    {"ReduceMean", op_reducemean},
    {"Relu", op_unary},
    {"Reshape", op_reshape},
    {"Sigmoid", op_unary},
    {"Slice", op_slice},
    {"Softmax", op_softmax},
    {"Split", op_split},
    {"Sqrt", op_unary},
    {"Squeeze", op_reshape},
    {"Sub", op_arith},
    {"Tanh", op_unary},
    {"Transpose", op_transpose},
    {"Unsqueeze", op_reshape},
};

int32_t nadi_onnx_num_supported_ops(void) { return (int32_t)(sizeof ops / sizeof ops[0]); }
const char *nadi_onnx_supported_op(int32_t i) {
  return i >= 0 && i < nadi_onnx_num_supported_ops() ? ops[i].op : NULL;
}

nad_status nadi_onnx_map_node(imp *c) {
  const nadi_onnx_node *n = &c->m->nodes[c->k];
  if (n->domain[0] != '\0' && strcmp(n->domain, "ai.onnx") != 0)
    return FAIL("operator domain '%s' (only the default ONNX domain)", n->domain);
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(ops[i].op, n->op) == 0)
      return ops[i].fn(c, n);
  return FAIL("operator %s is not supported (docs/onnx.md lists the supported ones)", n->op);
}
