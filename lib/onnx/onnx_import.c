/* ONNX import, second half: a read and shaped model (onnx_model.h) mapped onto libnad's layer
 * kinds through the builder, and the file's weights laid out as the graph's parameters.
 *
 * Each ONNX node is mapped by the entry of its operator in `ops` (the table at the end): it
 * checks the attributes libnad can honour, adds the node(s) with nadi_add_node, and names the
 * initializers that become the node's parameter tensors, in the order of its kind's tensors().
 * An operator without an entry, or an attribute value no kind implements, is NAD_ERR_UNSUPPORTED
 * naming the file, the node and the reason, and the list of supported operators is in
 * docs/onnx.md. Identity and Dropout (eval) cost nothing: their output is their input.
 *
 * Parameters. Every initializer a node reads becomes one of its tensors, named as in the file
 * (torch exports the state_dict keys: "layer1.0.conv1.weight"); the graph's tensor table lists
 * them. The file's values of all of them are `file_params`. For NADs of random networks,
 * nadi_graph_init_params redraws the tensors whose kind has an initialisation rule (PyTorch's
 * defaults) and keeps the file's values of the rest (constants such as GELU's 1/sqrt 2, learned
 * tensors without a rule: those are g->base_params). One trap is recognised: torch.onnx.export
 * in eval mode folds BatchNorm into the convolution before it and names the results
 * "onnx::Conv_N"; such a convolution's bias is the BatchNorm's shift, which is 0 at PyTorch's
 * initialisation, so it is initialised to 0 (NADI_INIT_FOLDED_BN), not drawn like a bias. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "onnx/onnx_import.h"

#define NO_NODE (-2) /* a value that is not (yet) a computed tensor */

typedef struct src_tensor {
  const nadi_onnx_tensor *t; /* the file's values (NULL: zeros) */
  int transpose;             /* a 2-D tensor stored transposed (Gemm transB = 0) */
} src_tensor;

typedef struct imp {
  nadi_onnx_model *m;
  nadi_builder *b;
  int32_t k;           /* the ONNX node being mapped */
  int32_t *node_of;    /* per value: builder node, NADI_INPUT_NODE, or NO_NODE */
  src_tensor (*src)[NADI_MAX_TENSORS]; /* per builder node */
  int32_t n_built, cap;
} imp;

static nad_status fail_node(const imp *c, nad_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static nad_status fail_node(const imp *c, nad_status st, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return nadi_fail(st, "%s: %s: %s", c->m->name, nadi_onnx_node_label(c->m, c->k), msg);
}

static const nadi_onnx_value *input_value(const imp *c, const nadi_onnx_node *n, int32_t j) {
  return j < n->n_in && n->in[j] >= 0 ? &c->m->values[n->in[j]] : NULL;
}

/* Input j as a computed tensor (a builder node or the network input). */
static nad_status act(const imp *c, const nadi_onnx_node *n, int32_t j, int32_t *node) {
  const nadi_onnx_value *v = input_value(c, n, j);
  if (!v)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "input %d is missing", (int)j);
  int32_t id = c->node_of[n->in[j]];
  if (id == NO_NODE)
    return fail_node(c, NAD_ERR_UNSUPPORTED,
                     "input %d ('%s') is a constant where libnad needs a computed tensor", (int)j,
                     v->name);
  *node = id;
  return NAD_OK;
}

/* Input j as a float constant (an initializer or a folded constant). */
static nad_status param(const imp *c, const nadi_onnx_node *n, int32_t j,
                        const nadi_onnx_tensor **t) {
  const nadi_onnx_value *v = input_value(c, n, j);
  if (!v || !v->data || !v->data->f)
    return fail_node(c, NAD_ERR_UNSUPPORTED,
                     "input %d ('%s') must be a float initializer or constant", (int)j,
                     v ? v->name : "");
  *t = v->data;
  return NAD_OK;
}

/* The module name of an initializer: "layer1.0.conv1.weight" -> "layer1.0.conv1"; a name with
 * no such suffix (torch's "onnx::Conv_193") is kept whole. */
static void module_prefix(const char *name, char *out, size_t n) {
  snprintf(out, n, "%s", name);
  char *dot = strrchr(out, '.');
  if (dot && (strcmp(dot, ".weight") == 0 || strcmp(dot, ".bias") == 0))
    *dot = '\0';
}

static int ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Adds node `kind` for the current ONNX node, with its parameter sources, and makes it the
 * producer of the ONNX node's output 0. */
static nad_status add(imp *c, const nadi_onnx_node *n, nadi_kind kind, const int32_t *in,
                      int32_t n_in, const nadi_hparams *hp, const char *prefix,
                      const src_tensor *src, int32_t n_src) {
  if (c->n_built == c->cap) {
    int32_t cap = c->cap ? 2 * c->cap : 64;
    void *p = realloc(c->src, (size_t)cap * sizeof *c->src);
    if (!p)
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", c->m->name);
    c->src = p;
    c->cap = cap;
  }
  int32_t node;
  nad_status st = nadi_add_node(c->b, kind, in, n_in, hp, prefix, &node);
  if (st != NAD_OK) /* the kind's own message names the layer; say which ONNX node it was */
    return fail_node(c, st, "%s", nad_last_error());
  memset(c->src[node], 0, sizeof c->src[node]);
  for (int32_t i = 0; i < n_src; i++)
    c->src[node][i] = src[i];
  c->n_built = node + 1;
  if (n->n_out > 0 && n->out[0] >= 0)
    c->node_of[n->out[0]] = node;
  return NAD_OK;
}

/* ---- attribute helpers -------------------------------------------------------------------- */

/* An INTS attribute of exactly `len` values into v (absent: def for each). */
static nad_status ints_attr(const imp *c, const nadi_onnx_node *n, const char *name, int32_t len,
                            int64_t def, int64_t *v) {
  const nadi_onnx_attr *a = nadi_onnx_attr_find(n, name);
  for (int32_t i = 0; i < len; i++)
    v[i] = def;
  if (!a)
    return NAD_OK;
  if (a->type != NADI_ONNX_ATTR_INTS || a->n != len)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "attribute %s must have %d integers (has %lld)", name,
                     (int)len, (long long)a->n);
  for (int32_t i = 0; i < len; i++)
    v[i] = a->ints[i];
  return NAD_OK;
}

/* A 2-D window's attributes (kernel from the attribute or the weight), as libnad's square,
 * symmetric window; anything else is unsupported until the general window kinds exist. */
typedef struct window {
  int64_t kh, kw, sh, sw, pads[4], dh, dw;
} window;

static nad_status read_window(const imp *c, const nadi_onnx_node *n, const int64_t *kernel,
                              window *w) {
  const char *ap = nadi_onnx_attr_string(n, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "auto_pad %s (export with explicit pads)", ap);
  int64_t k[2], s[2], d[2];
  NADI_TRY(ints_attr(c, n, "kernel_shape", 2, -1, k));
  if (k[0] < 0 && kernel)
    k[0] = kernel[0], k[1] = kernel[1];
  NADI_TRY(ints_attr(c, n, "strides", 2, 1, s));
  NADI_TRY(ints_attr(c, n, "dilations", 2, 1, d));
  NADI_TRY(ints_attr(c, n, "pads", 4, 0, w->pads));
  w->kh = k[0], w->kw = k[1], w->sh = s[0], w->sw = s[1], w->dh = d[0], w->dw = d[1];
  return NAD_OK;
}

static nad_status square_window(const imp *c, const window *w, nadi_hparams *hp) {
  const int64_t *p = w->pads;
  if (w->kh != w->kw || w->sh != w->sw || w->dh != 1 || w->dw != 1 || p[0] != p[1] ||
      p[0] != p[2] || p[0] != p[3])
    return fail_node(c, NAD_ERR_UNSUPPORTED,
                     "window %lldx%lld, strides %lld,%lld, dilations %lld,%lld, pads "
                     "%lld,%lld,%lld,%lld: libnad's windows are square, with equal strides, "
                     "symmetric padding and no dilation",
                     (long long)w->kh, (long long)w->kw, (long long)w->sh, (long long)w->sw,
                     (long long)w->dh, (long long)w->dw, (long long)p[0], (long long)p[1],
                     (long long)p[2], (long long)p[3]);
  hp->k = w->kh, hp->stride = w->sh, hp->pad = p[0];
  return NAD_OK;
}

/* ---- operators ------------------------------------------------------------------------------ */

static nad_status op_conv(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  const nadi_onnx_tensor *wt = NULL, *bt = NULL;
  NADI_TRY(act(c, n, 0, &x));
  NADI_TRY(param(c, n, 1, &wt));
  if (input_value(c, n, 2))
    NADI_TRY(param(c, n, 2, &bt));
  if (wt->ndim != 4)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "only 2-D convolutions (weight of rank 4; has %d)",
                     (int)wt->ndim);
  if (nadi_onnx_attr_int(n, "group", 1) != 1)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "grouped convolution (group %lld)",
                     (long long)nadi_onnx_attr_int(n, "group", 1));
  window w;
  NADI_TRY(read_window(c, n, wt->dims + 2, &w));
  nadi_hparams hp = nadi_hparams_default();
  NADI_TRY(square_window(c, &w, &hp));
  hp.out_c = wt->dims[0];
  hp.bias = bt != NULL;
  const char *wname = c->m->values[n->in[1]].name;
  const char *bname = bt ? c->m->values[n->in[2]].name : "";
  if (bt && !ends_with(wname, ".weight") && !ends_with(bname, ".bias"))
    hp.init = NADI_INIT_FOLDED_BN;
  char prefix[96];
  module_prefix(wname, prefix, sizeof prefix);
  src_tensor src[2] = {{wt, 0}, {bt, 0}};
  return add(c, n, NADI_CONV2D, &x, 1, &hp, prefix, src, bt ? 2 : 1);
}

static nad_status op_gemm(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  const nadi_onnx_tensor *wt = NULL, *bt = NULL;
  NADI_TRY(act(c, n, 0, &x));
  NADI_TRY(param(c, n, 1, &wt));
  if (input_value(c, n, 2))
    NADI_TRY(param(c, n, 2, &bt));
  int64_t tb = nadi_onnx_attr_int(n, "transB", 0);
  if (nadi_onnx_attr_int(n, "transA", 0) != 0 || nadi_onnx_attr_float(n, "alpha", 1.0f) != 1.0f ||
      nadi_onnx_attr_float(n, "beta", 1.0f) != 1.0f || wt->ndim != 2)
    return fail_node(c, NAD_ERR_UNSUPPORTED,
                     "Gemm other than y = x·Wᵀ + b or x·W + b (transA 0, alpha = beta = 1)");
  int64_t out = tb ? wt->dims[0] : wt->dims[1];
  if (bt && bt->count != out)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "bias of %lld values for %lld outputs (no "
                     "broadcast bias)", (long long)bt->count, (long long)out);
  nadi_hparams hp = nadi_hparams_default();
  hp.out_c = out;
  hp.bias = bt != NULL;
  char prefix[96];
  module_prefix(c->m->values[n->in[1]].name, prefix, sizeof prefix);
  src_tensor src[2] = {{wt, !tb}, {bt, 0}};
  return add(c, n, NADI_LINEAR, &x, 1, &hp, prefix, src, bt ? 2 : 1);
}

static nad_status op_batchnorm(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  src_tensor src[4];
  NADI_TRY(act(c, n, 0, &x));
  for (int32_t j = 0; j < 4; j++) {
    src[j].transpose = 0;
    NADI_TRY(param(c, n, 1 + j, &src[j].t));
  }
  if (nadi_onnx_attr_int(n, "training_mode", 0) != 0)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "BatchNormalization in training mode");
  nadi_hparams hp = nadi_hparams_default();
  hp.eps = nadi_onnx_attr_float(n, "epsilon", 1e-5f);
  hp.momentum = 1.0 - nadi_onnx_attr_float(n, "momentum", 0.9f);
  char prefix[96];
  module_prefix(c->m->values[n->in[1]].name, prefix, sizeof prefix);
  return add(c, n, NADI_BATCHNORM, &x, 1, &hp, prefix, src, 4);
}

static nad_status op_pool(imp *c, const nadi_onnx_node *n) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(act(c, n, 0, &x));
  int is_max = strcmp(n->op, "MaxPool") == 0;
  if (is_max && n->n_out > 1 && n->out[1] >= 0)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "MaxPool's Indices output");
  window w;
  NADI_TRY(read_window(c, n, NULL, &w));
  nadi_hparams hp = nadi_hparams_default();
  NADI_TRY(square_window(c, &w, &hp));
  if (hp.pad != 0 || nadi_onnx_attr_int(n, "ceil_mode", 0) != 0)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "pooling with padding or ceil_mode");
  return add(c, n, is_max ? NADI_MAXPOOL : NADI_AVGPOOL, &x, 1, &hp, NULL, NULL, 0);
}

/* Operators whose kind takes one computed input and no attribute libnad reads. */
static nad_status unary(imp *c, const nadi_onnx_node *n, nadi_kind kind) {
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(act(c, n, 0, &x));
  nadi_hparams hp = nadi_hparams_default();
  return add(c, n, kind, &x, 1, &hp, NULL, NULL, 0);
}

static nad_status op_relu(imp *c, const nadi_onnx_node *n) { return unary(c, n, NADI_RELU); }
static nad_status op_gap(imp *c, const nadi_onnx_node *n) { return unary(c, n, NADI_GAP); }

/* Flatten(axis = 1), or a Reshape to (1, everything): the built-in flatten. */
static nad_status op_flatten(imp *c, const nadi_onnx_node *n) {
  const nadi_onnx_value *y = &c->m->values[n->out[0]];
  if (strcmp(n->op, "Flatten") == 0 && nadi_onnx_attr_int(n, "axis", 1) != 1)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "Flatten with axis %lld",
                     (long long)nadi_onnx_attr_int(n, "axis", 1));
  if (y->ndim != 2 || y->dims[0] != 1)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "reshape to other than (1, N)");
  return unary(c, n, NADI_FLATTEN);
}

/* Add of two computed tensors of one shape (a residual). */
static nad_status op_add(imp *c, const nadi_onnx_node *n) {
  int32_t in[2];
  NADI_TRY(act(c, n, 0, &in[0]));
  NADI_TRY(act(c, n, 1, &in[1]));
  nadi_hparams hp = nadi_hparams_default();
  return add(c, n, NADI_ADD, in, 2, &hp, NULL, NULL, 0);
}

/* Concat along the channels; more than two inputs become a chain (DenseNet). */
static nad_status op_concat(imp *c, const nadi_onnx_node *n) {
  const nadi_onnx_value *x = input_value(c, n, 0);
  int64_t axis = nadi_onnx_attr_int(n, "axis", 1);
  if (x && x->ndim > 0 && axis < 0)
    axis += x->ndim;
  if (axis != 1 || n->n_in < 2)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "Concat along axis %lld of %d inputs (axis 1 only)",
                     (long long)axis, (int)n->n_in);
  int32_t acc = NADI_INPUT_NODE;
  NADI_TRY(act(c, n, 0, &acc));
  for (int32_t j = 1; j < n->n_in; j++) {
    int32_t in[2] = {acc, 0};
    NADI_TRY(act(c, n, j, &in[1]));
    nadi_hparams hp = nadi_hparams_default();
    NADI_TRY(add(c, n, NADI_CONCAT, in, 2, &hp, NULL, NULL, 0));
    acc = c->n_built - 1;
  }
  return NAD_OK;
}

/* Identity, and Dropout in inference: the output is the input. torch also aliases equal
 * initializers through Identity (ViT: encoder.ln.bias = Identity(conv_proj.bias), both zeros
 * when exported): the output is then a constant with the initializer's values under its OWN
 * name, so that it stays a tensor of its own (named as its module's state_dict key). */
static nad_status op_pass(imp *c, const nadi_onnx_node *n) {
  const nadi_onnx_value *v = input_value(c, n, 0);
  if (v && v->data && c->node_of[n->in[0]] == NO_NODE && n->n_out >= 1 && n->out[0] >= 0) {
    nadi_onnx_value *y = &c->m->values[n->out[0]];
    y->data = v->data, y->is_param = v->is_param;
    return NAD_OK;
  }
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(act(c, n, 0, &x));
  for (int32_t o = 1; o < n->n_out; o++)
    if (n->out[o] >= 0)
      return fail_node(c, NAD_ERR_UNSUPPORTED, "%s's mask output", n->op);
  c->node_of[n->out[0]] = x;
  return NAD_OK;
}

/* Pad: by nothing (torch's avg_pool2d exports a Pad of zeros before its AveragePool) it is the
 * identity. */
static nad_status op_pad(imp *c, const nadi_onnx_node *n) {
  const nadi_onnx_value *p = input_value(c, n, 1);
  if (!p || !p->data)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "Pad with pads that are not constants");
  for (int64_t i = 0; i < p->data->count; i++)
    if (nadi_onnx_get_i(p->data, i) != 0)
      return fail_node(c, NAD_ERR_UNSUPPORTED, "Pad by other than zero");
  int32_t x = NADI_INPUT_NODE;
  NADI_TRY(act(c, n, 0, &x));
  c->node_of[n->out[0]] = x;
  return NAD_OK;
}

typedef nad_status (*op_fn)(imp *c, const nadi_onnx_node *n);
static const struct op_entry {
  const char *op;
  op_fn fn;
} ops[] = {
    {"AveragePool", op_pool},
    {"BatchNormalization", op_batchnorm},
    {"Concat", op_concat},
    {"Conv", op_conv},
    {"Dropout", op_pass},
    {"Flatten", op_flatten},
    {"Gemm", op_gemm},
    {"GlobalAveragePool", op_gap},
    {"Identity", op_pass},
    {"MaxPool", op_pool},
    {"Pad", op_pad},
    {"Relu", op_relu},
    {"Reshape", op_flatten},
    {"Add", op_add},
};

int32_t nadi_onnx_num_supported_ops(void) { return (int32_t)(sizeof ops / sizeof ops[0]); }
const char *nadi_onnx_supported_op(int32_t i) {
  return i >= 0 && i < nadi_onnx_num_supported_ops() ? ops[i].op : NULL;
}

static nad_status map_node(imp *c) {
  const nadi_onnx_node *n = &c->m->nodes[c->k];
  if (n->domain[0] != '\0' && strcmp(n->domain, "ai.onnx") != 0)
    return fail_node(c, NAD_ERR_UNSUPPORTED, "operator domain '%s' (only the default ONNX domain)",
                     n->domain);
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(ops[i].op, n->op) == 0)
      return ops[i].fn(c, n);
  return fail_node(c, NAD_ERR_UNSUPPORTED,
                   "operator %s is not supported (docs/onnx.md lists the supported ones)", n->op);
}

/* ---- parameters --------------------------------------------------------------------------- */

/* The file's values of every tensor (file), and of the tensors no init() draws (base). */
static nad_status lay_out_params(const imp *c, const nadi_graph *g, float *file, float *base) {
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    const nadi_kind_desc *kd = nadi_kind_of(l->kind);
    nadi_tensor_desc td[NADI_MAX_TENSORS];
    int nt = kd->tensors ? kd->tensors(l, td) : 0;
    int64_t off = l->param_off;
    for (int t = 0; t < nt; t++) {
      const src_tensor *s = &c->src[i][t];
      if (s->t && s->t->count != td[t].numel)
        return nadi_fail(NAD_ERR_SHAPE,
                         "%s: layer %lld (%s): tensor %d has %lld values in the file, the layer "
                         "needs %lld",
                         c->m->name, (long long)i, l->desc, t, (long long)s->t->count,
                         (long long)td[t].numel);
      float *dst = file + off;
      if (!s->t)
        memset(dst, 0, sizeof(float) * (size_t)td[t].numel);
      else if (!s->transpose)
        memcpy(dst, s->t->f, sizeof(float) * (size_t)td[t].numel);
      else /* stored (rows, cols), wanted (cols, rows) */
        for (int64_t r = 0; r < s->t->dims[0]; r++)
          for (int64_t q = 0; q < s->t->dims[1]; q++)
            dst[q * s->t->dims[0] + r] = s->t->f[r * s->t->dims[1] + q];
      off += td[t].numel;
    }
    if (kd->init == NULL) /* kept as the file has them */
      memcpy(base + l->param_off, file + l->param_off, sizeof(float) * (size_t)l->n_params);
  }
  return NAD_OK;
}

/* ---- driver ------------------------------------------------------------------------------- */

static nad_status build(imp *c, nadi_graph **out) {
  nadi_onnx_model *m = c->m;
  if (m->n_inputs != 1)
    return nadi_fail(NAD_ERR_UNSUPPORTED, "%s: %d graph inputs (libnad takes models of one input)",
                     m->name, (int)m->n_inputs);
  const nadi_onnx_value *x = &m->values[m->inputs[0]];
  if (x->ndim != 4 || x->dims[0] != 1)
    return nadi_fail(NAD_ERR_UNSUPPORTED,
                     "%s: input '%s' must be an image batch (1, C, H, W); it has rank %d",
                     m->name, x->name, (int)x->ndim);
  NADI_TRY(nadi_builder_create(x->dims[1], x->dims[2], x->dims[3], &c->b));
  c->node_of = calloc((size_t)m->n_values, sizeof *c->node_of);
  if (!c->node_of)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", m->name);
  for (int32_t v = 0; v < m->n_values; v++)
    c->node_of[v] = NO_NODE;
  c->node_of[m->inputs[0]] = NADI_INPUT_NODE;
  for (c->k = 0; c->k < m->n_nodes; c->k++)
    NADI_TRY(map_node(c));
  if (m->n_outputs < 1)
    return nadi_fail(NAD_ERR_FORMAT, "%s: the graph has no output", m->name);
  int32_t y = c->node_of[m->outputs[0]];
  if (y < 0 || y != c->n_built - 1)
    return nadi_fail(NAD_ERR_UNSUPPORTED,
                     "%s: output '%s' must be computed by the last operator of the graph",
                     m->name, m->values[m->outputs[0]].name);
  nadi_builder *b = c->b;
  c->b = NULL;
  return nadi_builder_finish(b, out);
}

nad_status nadi_onnx_import(nadi_onnx_model *m, const int64_t chw[3], nadi_graph **g,
                            float **file_params) {
  *g = NULL, *file_params = NULL;
  int64_t shape[4] = {1, chw ? chw[0] : 0, chw ? chw[1] : 0, chw ? chw[2] : 0};
  int use_file_shape = !chw || chw[0] <= 0;
  NADI_TRY(nadi_onnx_infer_shapes(m, use_file_shape ? NULL : shape, use_file_shape ? 0 : 4));
  imp c = {.m = m};
  nadi_graph *gr = NULL;
  float *file = NULL;
  nad_status st = build(&c, &gr);
  if (st == NAD_OK) {
    size_t n = (size_t)(gr->n_params ? gr->n_params : 1);
    file = calloc(n, sizeof(float));
    gr->base_params = calloc(n, sizeof(float));
    st = file && gr->base_params ? lay_out_params(&c, gr, file, gr->base_params)
                                 : nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", m->name);
  }
  nadi_builder_destroy(c.b);
  free(c.node_of);
  free(c.src);
  if (st != NAD_OK) {
    nadi_graph_destroy(gr);
    free(file);
    return st;
  }
  *g = gr, *file_params = file;
  return NAD_OK;
}
