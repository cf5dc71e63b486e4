/* Graph building: append layers, infer per-sample shapes, then lay out the parameters.
 *
 * Every kind is handled through its description (graph/layer.h, lib/kernels/kinds.c): a layer is
 * added with its kind, inputs and hyper-parameters, and the kind's shape() validates it and
 * infers its output at once, so a layer that does not fit is refused with a message naming it
 * (index, description, shapes). nadi_builder_finish then lays out the parameters in node order
 * (= PyTorch state_dict order for the builtins) from the kinds' tensors(), builds the tensor
 * table and counts FLOPs (the kinds' flops(); the convention is in kinds.c). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

/* Far beyond any real network; keeps node indices (int32) and the layer array sane. */
#define NADI_MAX_LAYERS (1 << 24)

struct nadi_builder {
  int64_t in_shape[3];
  nadi_dims in_dims; /* (1, C, H, W) */
  nadi_layer *layers;
  int64_t n, cap;
};

nad_status nadi_builder_create(int64_t c, int64_t h, int64_t w, nadi_builder **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "builder output pointer is NULL");
  *out = NULL;
  /* Each dimension fits in int32 so that padded sizes (H + 2*pad) can never overflow. */
  NADI_CHECK(c >= 1 && h >= 1 && w >= 1 && c <= INT32_MAX && h <= INT32_MAX && w <= INT32_MAX,
             NAD_ERR_INVALID_ARG, "input shape %lldx%lldx%lld: each dimension must be in [1, %d]",
             (long long)c, (long long)h, (long long)w, INT32_MAX);
  int64_t hw, chw;
  NADI_CHECK(nadi_mul_ok(h, w, &hw) && nadi_mul_ok(c, hw, &chw), NAD_ERR_OUT_OF_MEMORY,
             "input shape %lldx%lldx%lld: size overflows", (long long)c, (long long)h,
             (long long)w);
  nadi_builder *b = calloc(1, sizeof *b);
  NADI_CHECK(b != NULL, NAD_ERR_OUT_OF_MEMORY, "out of memory creating a graph builder");
  b->in_shape[0] = c;
  b->in_shape[1] = h;
  b->in_shape[2] = w;
  b->in_dims = nadi_dims_chw(c, h, w, 0);
  *out = b;
  return NAD_OK;
}

void nadi_builder_destroy(nadi_builder *b) {
  if (!b)
    return;
  free(b->layers);
  free(b);
}

int32_t nadi_builder_last(const nadi_builder *b) {
  return (b && b->n > 0) ? (int32_t)(b->n - 1) : NADI_INPUT_NODE;
}

nadi_dims nadi_builder_dims(const nadi_builder *b, int32_t id) {
  if (id >= 0 && id < b->n)
    return b->layers[id].out_dims;
  return b->in_dims;
}

/* ---- helpers -------------------------------------------------------------------------------- */

nadi_hparams nadi_hparams_default(void) {
  nadi_hparams hp;
  memset(&hp, 0, sizeof hp);
  hp.eps = 1e-5;
  hp.momentum = 0.1;
  hp.p = 0.5;
  hp.init = NADI_INIT_TORCH;
  hp.gemm_alpha = hp.gemm_beta = 1.0; /* y = x·W + b */
  for (int i = 0; i < NADI_MAX_RANK; i++)
    hp.steps[i] = 1;
  return hp;
}

static nad_status set_prefix(const nadi_builder *b, nadi_layer *l, const char *prefix) {
  if (prefix == NULL) {
    snprintf(l->prefix, sizeof l->prefix, "%lld", (long long)b->n);
    return NAD_OK;
  }
  NADI_CHECK(strlen(prefix) < sizeof l->prefix, NAD_ERR_INVALID_ARG,
             "layer %lld: name prefix '%.20s...' is longer than %d characters", (long long)b->n,
             prefix, (int)sizeof l->prefix - 1);
  strcpy(l->prefix, prefix);
  return NAD_OK;
}

/* Output element count must fit in int64 (the executor multiplies it by the batch later), and
 * so must the FLOP count. */
static nad_status check_sizes(const nadi_builder *b, const nadi_layer *l) {
  NADI_CHECK(nadi_dims_numel(&l->out_dims) >= 1, NAD_ERR_OUT_OF_MEMORY,
             "layer %lld (%s): output size overflows", (long long)b->n, l->desc);
  NADI_CHECK(nadi_layer_flops(l) >= 0, NAD_ERR_OUT_OF_MEMORY,
             "layer %lld (%s): FLOP count overflows", (long long)b->n, l->desc);
  return NAD_OK;
}

nad_status nadi_add_node(nadi_builder *b, nadi_kind kind, const int32_t *in, int32_t n_in,
                         const nadi_hparams *hp, const char *prefix, int32_t *node) {
  NADI_CHECK(b != NULL && in != NULL && hp != NULL, NAD_ERR_INVALID_ARG,
             "nadi_add_node: NULL builder, inputs or hyper-parameters");
  NADI_CHECK(b->n < NADI_MAX_LAYERS, NAD_ERR_INVALID_ARG, "too many layers (at most %d)",
             NADI_MAX_LAYERS);
  const nadi_kind_desc *kd = nadi_kind_of(kind);
  NADI_CHECK(kd != NULL, NAD_ERR_INVALID_ARG, "layer %lld: unknown layer kind %d",
             (long long)b->n, (int)kind);
  NADI_CHECK(n_in >= kd->n_in_min && n_in <= kd->n_in_max, NAD_ERR_INVALID_ARG,
             "layer %lld: %s takes %d to %d inputs (got %d)", (long long)b->n, kd->ops->name,
             (int)kd->n_in_min, (int)kd->n_in_max, (int)n_in);
  nadi_layer l;
  memset(&l, 0, sizeof l);
  l.kind = kind;
  l.n_in = n_in;
  l.hp = *hp;
  for (int32_t j = 0; j < NADI_MAX_INPUTS; j++)
    l.in[j] = NADI_INPUT_NODE; /* unused slots */
  for (int32_t j = 0; j < n_in; j++) {
    NADI_CHECK(in[j] == NADI_INPUT_NODE || (in[j] >= 0 && in[j] < b->n), NAD_ERR_INVALID_ARG,
               "layer %lld: input node %d does not exist (valid: -1 for the network input, or "
               "0..%lld)",
               (long long)b->n, (int)in[j], (long long)b->n - 1);
    l.in[j] = in[j];
    l.in_dims[j] = in[j] == NADI_INPUT_NODE ? b->in_dims : b->layers[in[j]].out_dims;
    nadi_dims_view3(&l.in_dims[j], l.in_shape[j]);
  }
  NADI_TRY(set_prefix(b, &l, prefix));
  NADI_TRY(kd->shape(&l, b->n));
  nadi_dims_view3(&l.out_dims, l.out_shape);
  NADI_TRY(check_sizes(b, &l));
  if (b->n == b->cap) {
    int64_t cap = b->cap ? 2 * b->cap : 16;
    nadi_layer *p = realloc(b->layers, (size_t)cap * sizeof *p);
    NADI_CHECK(p != NULL, NAD_ERR_OUT_OF_MEMORY, "out of memory adding layer %lld",
               (long long)b->n);
    b->layers = p;
    b->cap = cap;
  }
  b->layers[b->n] = l;
  if (node)
    *node = (int32_t)b->n;
  b->n++;
  return NAD_OK;
}

/* ---- the built-ins' shorthands ----------------------------------------------------------------- */

nad_status nadi_add_conv(nadi_builder *b, int32_t in, int64_t out_c, int32_t k, int32_t stride,
                         int32_t pad, int32_t bias, nadi_init_rule init, const char *prefix,
                         int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  hp.out_c = out_c, hp.k = k, hp.stride = stride, hp.pad = pad, hp.bias = bias, hp.init = init;
  return nadi_add_node(b, NADI_CONV2D, &in, 1, &hp, prefix, node);
}

nad_status nadi_add_pool(nadi_builder *b, int32_t in, nadi_kind kind, int32_t k, int32_t stride,
                         int32_t *node) {
  NADI_CHECK(kind == NADI_MAXPOOL || kind == NADI_AVGPOOL, NAD_ERR_INVALID_ARG,
             "layer %lld: nadi_add_pool takes maxpool or avgpool (got kind %d)",
             (long long)(b ? b->n : 0), (int)kind);
  nadi_hparams hp = nadi_hparams_default();
  hp.k = k, hp.stride = stride;
  return nadi_add_node(b, kind, &in, 1, &hp, NULL, node);
}

nad_status nadi_add_simple(nadi_builder *b, int32_t in, nadi_kind kind, int32_t *node) {
  NADI_CHECK(kind == NADI_RELU || kind == NADI_FLATTEN || kind == NADI_GAP, NAD_ERR_INVALID_ARG,
             "layer %lld: nadi_add_simple takes relu, flatten or gap (got kind %d)",
             (long long)(b ? b->n : 0), (int)kind);
  nadi_hparams hp = nadi_hparams_default();
  return nadi_add_node(b, kind, &in, 1, &hp, NULL, node);
}

nad_status nadi_add_linear(nadi_builder *b, int32_t in, int64_t out, int32_t bias,
                           const char *prefix, int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  hp.out_c = out, hp.bias = bias;
  return nadi_add_node(b, NADI_LINEAR, &in, 1, &hp, prefix, node);
}

nad_status nadi_add_batchnorm(nadi_builder *b, int32_t in, const char *prefix, int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  return nadi_add_node(b, NADI_BATCHNORM, &in, 1, &hp, prefix, node);
}

nad_status nadi_add_dropout(nadi_builder *b, int32_t in, double p, int32_t *node) {
  nadi_hparams hp = nadi_hparams_default();
  hp.p = p;
  return nadi_add_node(b, NADI_DROPOUT, &in, 1, &hp, NULL, node);
}

nad_status nadi_add_join(nadi_builder *b, nadi_kind kind, int32_t in0, int32_t in1,
                         int32_t *node) {
  NADI_CHECK(kind == NADI_ADD || kind == NADI_CONCAT, NAD_ERR_INVALID_ARG,
             "layer %lld: nadi_add_join takes add or concat (got kind %d)",
             (long long)(b ? b->n : 0), (int)kind);
  nadi_hparams hp = nadi_hparams_default();
  int32_t in[2] = {in0, in1};
  return nadi_add_node(b, kind, in, 2, &hp, NULL, node);
}

/* ---- finishing ------------------------------------------------------------------------------- */

/* Parameter tensors of one layer (its kind's tensors()); returns the count. */
static int layer_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  const nadi_kind_desc *kd = nadi_kind_of(l->kind);
  return kd->tensors ? kd->tensors(l, t) : 0;
}

int64_t nadi_layer_flops(const nadi_layer *l) { return nadi_kind_of(l->kind)->flops(l); }

static nad_status finish(nadi_builder *b, nadi_graph *g) {
  NADI_CHECK(b->n >= 1, NAD_ERR_INVALID_ARG, "the architecture has no layers");
  int64_t n_tensors = 0;
  for (int64_t i = 0; i < b->n; i++) {
    nadi_tensor_desc td[NADI_MAX_TENSORS];
    n_tensors += layer_tensors(&b->layers[i], td);
  }
  g->tensors = calloc((size_t)(n_tensors ? n_tensors : 1), sizeof *g->tensors);
  NADI_CHECK(g->tensors != NULL, NAD_ERR_OUT_OF_MEMORY, "out of memory for the tensor table");
  int64_t off = 0, trainable = 0, flops = 0, t = 0;
  for (int64_t i = 0; i < b->n; i++) {
    nadi_layer *l = &b->layers[i];
    nadi_tensor_desc td[NADI_MAX_TENSORS];
    int nt = layer_tensors(l, td);
    nadi_tensor_init_info info[NADI_MAX_TENSORS];
    memset(info, 0, sizeof info);
    if (nadi_kind_of(l->kind)->init_info)
      nadi_kind_of(l->kind)->init_info(l, info);
    l->param_off = off;
    l->n_params = 0;
    for (int j = 0; j < nt; j++) {
      NADI_CHECK(td[j].numel >= 0 && off <= INT64_MAX - td[j].numel, NAD_ERR_OUT_OF_MEMORY,
                 "layer %lld (%s): parameter count overflows", (long long)i, l->desc);
      nadi_tensor_info *ti = &g->tensors[t++];
      snprintf(ti->name, sizeof ti->name, td[j].name[0] ? "%s.%s" : "%s%s", l->prefix,
               td[j].name);
      ti->offset = off;
      ti->numel = td[j].numel;
      ti->trainable = td[j].trainable;
      ti->folded_shift = info[j].folded_shift;
      ti->fan_in = info[j].fan_in;
      ti->fan_out = info[j].fan_out;
      ti->layer = (int32_t)i;
      off += td[j].numel;
      l->n_params += td[j].numel;
      if (td[j].trainable)
        trainable += td[j].numel;
    }
    int64_t f = nadi_layer_flops(l);
    NADI_CHECK(f >= 0 && flops <= INT64_MAX - f, NAD_ERR_OUT_OF_MEMORY,
               "layer %lld (%s): FLOP count overflows", (long long)i, l->desc);
    flops += f;
  }
  memcpy(g->in_shape, b->in_shape, sizeof g->in_shape);
  g->n_layers = b->n;
  g->n_params = off;
  g->n_trainable = trainable;
  g->n_tensors = n_tensors;
  g->flops = flops;
  return NAD_OK;
}

nad_status nadi_builder_finish(nadi_builder *b, nadi_graph **out) {
  if (out)
    *out = NULL;
  if (!b || !out) {
    nadi_builder_destroy(b);
    return nadi_fail(NAD_ERR_INVALID_ARG, "nadi_builder_finish: NULL builder or output");
  }
  nadi_graph *g = calloc(1, sizeof *g);
  if (!g) {
    nadi_builder_destroy(b);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory creating a graph");
  }
  nad_status st = finish(b, g);
  if (st != NAD_OK) {
    free(g->tensors);
    free(g);
    nadi_builder_destroy(b);
    return st;
  }
  /* Hand the layer array over to the graph, trimmed to size. */
  nadi_layer *layers = realloc(b->layers, (size_t)b->n * sizeof *layers);
  g->layers = layers ? layers : b->layers;
  b->layers = NULL;
  nadi_builder_destroy(b);
  *out = g;
  return NAD_OK;
}

void nadi_graph_destroy(nadi_graph *g) {
  if (!g)
    return;
  free(g->layers);
  free(g->tensors);
  free(g->base_params);
  free(g->tensor_law);
  free(g);
}

/* A copy of n elements of `size` bytes (NULL stays NULL); 0 on allocation failure. */
static int dup_array(const void *src, size_t n, size_t size, void **dst) {
  *dst = NULL;
  if (!src)
    return 1;
  *dst = malloc((n ? n : 1) * size);
  if (*dst)
    memcpy(*dst, src, n * size);
  return *dst != NULL;
}

nad_status nadi_graph_clone(const nadi_graph *g, nadi_graph **out) {
  *out = NULL;
  nadi_graph *c = calloc(1, sizeof *c);
  if (!c)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory copying a graph");
  *c = *g;
  c->layers = NULL, c->tensors = NULL, c->base_params = NULL, c->tensor_law = NULL;
  if (!dup_array(g->layers, (size_t)g->n_layers, sizeof *g->layers, (void **)&c->layers) ||
      !dup_array(g->tensors, (size_t)g->n_tensors, sizeof *g->tensors, (void **)&c->tensors) ||
      !dup_array(g->base_params, (size_t)g->n_params, sizeof(float), (void **)&c->base_params) ||
      !dup_array(g->tensor_law, (size_t)g->n_tensors, sizeof *g->tensor_law,
                 (void **)&c->tensor_law)) {
    nadi_graph_destroy(c);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory copying a graph");
  }
  *out = c;
  return NAD_OK;
}
