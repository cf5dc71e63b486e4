/* ONNX import, second half: a read and shaped model (onnx_model.h) mapped onto libnad's layer
 * kinds through the builder, and the file's weights laid out as the graph's parameters.
 *
 * Each ONNX node is mapped by the entry of its operator in onnx_ops.c's table: it
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
 * initialisation, so it is initialised to 0 (NADI_INIT_FOLDED_BN), not drawn like a bias, and
 * init rules leave it 0 too (lib/graph/init_rules.c). Such anonymous initializers are named
 * after the module path in the node's name ("/layer1/layer1.0/conv1/Conv" -> "layer1.0.conv1"),
 * so that init rules and users see torch's module names. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx_import.h"
#include "onnx/onnx_map.h"

/* ---- what the operator mappings share --------------------------------------------------- */

nad_status nadi_onnx_fail_node(const nadi_onnx_imp *c, nad_status st, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return nadi_fail(st, "%s: %s: %s", c->m->name, nadi_onnx_node_label(c->m, c->k), msg);
}

const nadi_onnx_value *nadi_onnx_in(const nadi_onnx_imp *c, const nadi_onnx_node *n, int32_t j) {
  return j < n->n_in && n->in[j] >= 0 ? &c->m->values[n->in[j]] : NULL;
}

int nadi_onnx_is_act(const nadi_onnx_imp *c, const nadi_onnx_node *n, int32_t j) {
  return nadi_onnx_in(c, n, j) && c->node_of[n->in[j]] != NADI_ONNX_NO_NODE;
}

nad_status nadi_onnx_act(const nadi_onnx_imp *c, const nadi_onnx_node *n, int32_t j,
                         int32_t *node) {
  const nadi_onnx_value *v = nadi_onnx_in(c, n, j);
  if (!v)
    return nadi_onnx_fail_node(c, NAD_ERR_UNSUPPORTED, "input %d is missing", (int)j);
  int32_t id = c->node_of[n->in[j]];
  if (id == NADI_ONNX_NO_NODE)
    return nadi_onnx_fail_node(c, NAD_ERR_UNSUPPORTED,
                               "input %d ('%s') is a constant where libnad needs a computed "
                               "tensor",
                               (int)j, v->name);
  *node = id;
  return NAD_OK;
}

nad_status nadi_onnx_param(const nadi_onnx_imp *c, const nadi_onnx_node *n, int32_t j,
                           const nadi_onnx_tensor **t) {
  const nadi_onnx_value *v = nadi_onnx_in(c, n, j);
  if (!v || !v->data || !v->data->f)
    return nadi_onnx_fail_node(c, NAD_ERR_UNSUPPORTED,
                               "input %d ('%s') must be a float initializer or constant", (int)j,
                               v ? v->name : "");
  *t = v->data;
  return NAD_OK;
}

/* torch's module path from a node name such as "/layer2/layer2.0/downsample/downsample.0/Conv":
 * each component is a module's name from its last non-numeric atom on (torch.onnx.utils'
 * _unqualified_variable_name), so a component that extends the one before it by ".N" adds
 * ".N", any other adds ".component": "layer2.0.downsample.0". 0 when it is no such path. */
static int scope_module(const char *node, char *out, size_t size) {
  const char *last = node ? strrchr(node, '/') : NULL;
  if (!node || node[0] != '/' || last == node)
    return 0;
  char prev[160] = "";
  size_t len = 0;
  out[0] = '\0';
  for (const char *p = node + 1; p < last;) {
    const char *e = strchr(p, '/');
    size_t n = (size_t)(e - p), pl = strlen(prev);
    if (n == 0 || n >= sizeof prev)
      return 0;
    int ext = pl && n > pl && strncmp(p, prev, pl) == 0 && p[pl] == '.';
    const char *add = ext ? p + pl : p;
    size_t an = n - (size_t)(add - p);
    int sep = !ext && len > 0;
    if (len + (size_t)sep + an + 1 > size)
      return 0;
    if (sep)
      out[len++] = '.';
    memcpy(out + len, add, an);
    out[len += an] = '\0';
    memcpy(prev, p, n);
    prev[n] = '\0';
    p = e + 1;
  }
  return len > 0;
}

void nadi_onnx_module_prefix(const nadi_onnx_node *n, const char *name, char *out, size_t size) {
  /* torch's anonymous initializers (an eval export's folded convolutions "onnx::Conv_193", a
   * transposed Linear weight "onnx::MatMul_565") are named after the module that ran the node */
  if (strncmp(name, "onnx::", 6) == 0 && n && scope_module(n->name, out, size))
    return;
  snprintf(out, size, "%s", name);
  char *dot = strrchr(out, '.');
  if (dot && (strcmp(dot, ".weight") == 0 || strcmp(dot, ".bias") == 0))
    *dot = '\0';
}

nad_status nadi_onnx_add(nadi_onnx_imp *c, const nadi_onnx_node *n, nadi_kind kind,
                         const int32_t *in, int32_t n_in, const nadi_hparams *hp,
                         const char *prefix, const nadi_onnx_src *src, int32_t n_src) {
  if (c->n_built == c->cap) {
    int32_t cap = c->cap ? 2 * c->cap : 64;
    void *p = realloc(c->src, (size_t)cap * sizeof *c->src);
    if (!p)
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", c->m->name);
    c->src = p;
    c->cap = cap;
  }
  int32_t node, none = NADI_INPUT_NODE;
  nad_status st = nadi_add_node(c->b, kind, n_in ? in : &none, n_in, hp, prefix, &node);
  if (st != NAD_OK) /* the kind's own message names the layer; say which ONNX node it was */
    return nadi_onnx_fail_node(c, st, "%s", nad_last_error());
  memset(c->src[node], 0, sizeof c->src[node]);
  for (int32_t i = 0; i < n_src; i++)
    c->src[node][i] = src[i];
  c->n_built = node + 1;
  if (n->n_out > 0 && n->out[0] >= 0)
    c->node_of[n->out[0]] = node;
  return NAD_OK;
}

/* ---- parameters --------------------------------------------------------------------------- */

/* The file's values of every tensor (file), and of the tensors no init() draws (base). */
static nad_status lay_out_params(const nadi_onnx_imp *c, const nadi_graph *g, float *file, float *base) {
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    const nadi_kind_desc *kd = nadi_kind_of(l->kind);
    nadi_tensor_desc td[NADI_MAX_TENSORS];
    int nt = kd->tensors ? kd->tensors(l, td) : 0;
    int64_t off = l->param_off;
    for (int t = 0; t < nt; t++) {
      const nadi_onnx_src *s = &c->src[i][t];
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
    /* kept as the file has them: kinds without init(), and arith_param/constant, whose
     * init() keeps the values under the importer's rule (NADI_INIT_TORCH) */
    if (kd->init == NULL || l->kind == NADI_ARITH_PARAM || l->kind == NADI_CONSTANT)
      memcpy(base + l->param_off, file + l->param_off, sizeof(float) * (size_t)l->n_params);
  }
  return NAD_OK;
}

/* ---- driver ------------------------------------------------------------------------------- */

static nad_status build(nadi_onnx_imp *c, nadi_graph **out) {
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
  c->readers = calloc((size_t)m->n_values, sizeof *c->readers);
  c->skip = calloc((size_t)(m->n_nodes ? m->n_nodes : 1), 1);
  c->transposed_of = calloc((size_t)m->n_values, sizeof *c->transposed_of);
  if (!c->node_of || !c->readers || !c->skip || !c->transposed_of)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", m->name);
  for (int32_t v = 0; v < m->n_values; v++)
    c->node_of[v] = NADI_ONNX_NO_NODE, c->transposed_of[v] = -1;
  for (int32_t k = 0; k < m->n_nodes; k++)
    for (int32_t j = 0; j < m->nodes[k].n_in; j++)
      if (m->nodes[k].in[j] >= 0)
        c->readers[m->nodes[k].in[j]]++;
  for (int32_t o = 0; o < m->n_outputs; o++)
    c->readers[m->outputs[o]]++;
  c->node_of[m->inputs[0]] = NADI_INPUT_NODE;
  for (c->k = 0; c->k < m->n_nodes; c->k++)
    if (!c->skip[c->k])
      NADI_TRY(nadi_onnx_map_node(c));
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
  nadi_onnx_imp c = {.m = m};
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
  free(c.readers);
  free(c.skip);
  free(c.transposed_of);
  free(c.src);
  if (st != NAD_OK) {
    nadi_graph_destroy(gr);
    free(file);
    return st;
  }
  *g = gr, *file_params = file;
  return NAD_OK;
}
