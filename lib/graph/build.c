/* Graph building: append layers, infer per-sample shapes, then lay out the parameters.
 *
 * Shapes are inferred when a layer is added, so a layer that does not fit is refused at once
 * with a message naming it (index, description, shapes). nadi_builder_finish then lays out the
 * parameters in node order (= PyTorch state_dict order for the builtins), builds the tensor
 * table, counts FLOPs and checks that every BLAS dimension fits in an int.
 *
 * FLOP convention (per sample, forward, eval mode; a multiply-add counts 2):
 *   conv2d     2*O*OH*OW*I*k*k, plus O*OH*OW for the bias
 *   linear     2*O*F, plus O for the bias                      (F = flattened input size)
 *   maxpool    (k*k - 1) comparisons per output element
 *   avgpool    k*k per output element (k*k - 1 additions and one scaling)
 *   relu       1 per element
 *   batchnorm  2 per element (y = a*x + b with folded scale and shift)
 *   add        1 per output element
 *   gap        1 per input element
 *   concat, flatten, dropout: 0 (copies, or the identity in eval mode) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

/* Far beyond any real network; keeps node indices (int32) and the layer array sane. */
#define NADI_MAX_LAYERS (1 << 24)

struct nadi_builder {
  int64_t in_shape[3];
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

/* ---- helpers -------------------------------------------------------------------------------- */

static const int64_t *producer_shape(const nadi_builder *b, int32_t in) {
  return in == NADI_INPUT_NODE ? b->in_shape : b->layers[in].out_shape;
}

static nad_status check_input(const nadi_builder *b, int32_t in) {
  NADI_CHECK(in == NADI_INPUT_NODE || (in >= 0 && in < b->n), NAD_ERR_INVALID_ARG,
             "layer %lld: input node %d does not exist (valid: -1 for the network input, or 0..%lld)",
             (long long)b->n, (int)in, (long long)b->n - 1);
  return NAD_OK;
}

/* A fresh layer with the defaults every kind shares, reading input 0. */
static nad_status new_layer(const nadi_builder *b, nadi_kind kind, int32_t in, nadi_layer *l) {
  NADI_CHECK(b != NULL, NAD_ERR_INVALID_ARG, "builder is NULL");
  NADI_CHECK(b->n < NADI_MAX_LAYERS, NAD_ERR_INVALID_ARG, "too many layers (at most %d)",
             NADI_MAX_LAYERS);
  NADI_TRY(check_input(b, in));
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->n_in = 1;
  l->in[0] = in;
  l->in[1] = NADI_INPUT_NODE; /* unused while n_in == 1 */
  memcpy(l->in_shape[0], producer_shape(b, in), sizeof l->in_shape[0]);
  l->eps = 1e-5;
  l->momentum = 0.1;
  l->p = 0.5;
  l->init = NADI_INIT_TORCH;
  return NAD_OK;
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

/* Output element count must fit in int64 (the executor multiplies it by the batch later). */
static nad_status check_out_size(const nadi_builder *b, const nadi_layer *l) {
  int64_t hw, chw;
  NADI_CHECK(nadi_mul_ok(l->out_shape[1], l->out_shape[2], &hw) &&
                 nadi_mul_ok(l->out_shape[0], hw, &chw),
             NAD_ERR_OUT_OF_MEMORY, "layer %lld (%s): output size overflows", (long long)b->n,
             l->desc);
  return NAD_OK;
}

static nad_status check_blas_dims(int64_t i, const nadi_layer *l);

/* Validate sizes (also re-checked by finish) and append. */
static nad_status push(nadi_builder *b, const nadi_layer *l, int32_t *node) {
  NADI_TRY(check_out_size(b, l));
  NADI_TRY(check_blas_dims(b->n, l));
  NADI_CHECK(nadi_layer_flops(l) >= 0, NAD_ERR_OUT_OF_MEMORY,
             "layer %lld (%s): FLOP count overflows", (long long)b->n, l->desc);
  if (b->n == b->cap) {
    int64_t cap = b->cap ? 2 * b->cap : 16;
    nadi_layer *p = realloc(b->layers, (size_t)cap * sizeof *p);
    NADI_CHECK(p != NULL, NAD_ERR_OUT_OF_MEMORY, "out of memory adding layer %lld",
               (long long)b->n);
    b->layers = p;
    b->cap = cap;
  }
  b->layers[b->n] = *l;
  if (node)
    *node = (int32_t)b->n;
  b->n++;
  return NAD_OK;
}

/* Output size of a window of size k, stride s over n (already padded) positions: floor mode, as
 * PyTorch. Returns 0 when the window does not fit. */
static int64_t window_out(int64_t n, int32_t k, int32_t s) { return n < k ? 0 : (n - k) / s + 1; }

/* ---- adding layers --------------------------------------------------------------------------- */

nad_status nadi_add_conv(nadi_builder *b, int32_t in, int64_t out_c, int32_t k, int32_t stride,
                         int32_t pad, int32_t bias, nadi_init_rule init, const char *prefix,
                         int32_t *node) {
  nadi_layer l;
  NADI_TRY(new_layer(b, NADI_CONV2D, in, &l));
  NADI_CHECK(out_c >= 1 && out_c <= INT32_MAX && k >= 1 && stride >= 1 && pad >= 0,
             NAD_ERR_INVALID_ARG,
             "layer %lld: conv2d needs out channels in [1, %d], kernel >= 1, stride >= 1 and "
             "padding >= 0 (got %lld, k%d s%d p%d)",
             (long long)b->n, INT32_MAX, (long long)out_c, (int)k, (int)stride, (int)pad);
  NADI_CHECK(init == NADI_INIT_TORCH || init == NADI_INIT_VGG_CONV, NAD_ERR_INVALID_ARG,
             "layer %lld: unknown init rule %d", (long long)b->n, (int)init);
  NADI_TRY(set_prefix(b, &l, prefix));
  l.out_c = out_c;
  l.k = k;
  l.stride = stride;
  l.pad = pad;
  l.bias = bias ? 1 : 0;
  l.init = init;
  const int64_t *s = l.in_shape[0];
  snprintf(l.desc, sizeof l.desc, "conv2d %lld->%lld k%d s%d p%d%s", (long long)s[0],
           (long long)out_c, (int)k, (int)stride, (int)pad, l.bias ? "" : " nobias");
  int64_t oh = window_out(s[1] + 2 * (int64_t)pad, k, stride);
  int64_t ow = window_out(s[2] + 2 * (int64_t)pad, k, stride);
  NADI_CHECK(oh >= 1 && ow >= 1, NAD_ERR_SHAPE,
             "layer %lld (%s): input %lldx%lldx%lld is too small for kernel %d with padding %d "
             "(needs height and width >= %lld)",
             (long long)b->n, l.desc, (long long)s[0], (long long)s[1], (long long)s[2], (int)k,
             (int)pad, (long long)k - 2 * (long long)pad);
  l.out_shape[0] = out_c;
  l.out_shape[1] = oh;
  l.out_shape[2] = ow;
  return push(b, &l, node);
}

nad_status nadi_add_pool(nadi_builder *b, int32_t in, nadi_kind kind, int32_t k, int32_t stride,
                         int32_t *node) {
  nadi_layer l;
  NADI_TRY(new_layer(b, kind, in, &l));
  NADI_CHECK(kind == NADI_MAXPOOL || kind == NADI_AVGPOOL, NAD_ERR_INVALID_ARG,
             "layer %lld: nadi_add_pool takes maxpool or avgpool (got kind %d)", (long long)b->n,
             (int)kind);
  NADI_CHECK(k >= 1 && stride >= 1, NAD_ERR_INVALID_ARG,
             "layer %lld: pooling needs kernel >= 1 and stride >= 1 (got k%d s%d)",
             (long long)b->n, (int)k, (int)stride);
  l.k = k;
  l.stride = stride;
  snprintf(l.desc, sizeof l.desc, "%s k%d s%d", kind == NADI_MAXPOOL ? "maxpool" : "avgpool",
           (int)k, (int)stride);
  const int64_t *s = l.in_shape[0];
  int64_t oh = window_out(s[1], k, stride), ow = window_out(s[2], k, stride);
  NADI_CHECK(oh >= 1 && ow >= 1, NAD_ERR_SHAPE,
             "layer %lld (%s): input %lldx%lldx%lld is too small for kernel %d "
             "(needs height and width >= %d)",
             (long long)b->n, l.desc, (long long)s[0], (long long)s[1], (long long)s[2], (int)k,
             (int)k);
  l.out_shape[0] = s[0];
  l.out_shape[1] = oh;
  l.out_shape[2] = ow;
  return push(b, &l, node);
}

nad_status nadi_add_simple(nadi_builder *b, int32_t in, nadi_kind kind, int32_t *node) {
  nadi_layer l;
  NADI_TRY(new_layer(b, kind, in, &l));
  const int64_t *s = l.in_shape[0];
  switch (kind) {
  case NADI_RELU:
    snprintf(l.desc, sizeof l.desc, "relu");
    memcpy(l.out_shape, s, sizeof l.out_shape);
    break;
  case NADI_FLATTEN:
    snprintf(l.desc, sizeof l.desc, "flatten");
    l.out_shape[0] = s[0] * s[1] * s[2]; /* no overflow: the producer's size was checked */
    l.out_shape[1] = l.out_shape[2] = 1;
    break;
  case NADI_GAP:
    snprintf(l.desc, sizeof l.desc, "gap");
    l.out_shape[0] = s[0];
    l.out_shape[1] = l.out_shape[2] = 1;
    break;
  default:
    return nadi_fail(NAD_ERR_INVALID_ARG,
                     "layer %lld: nadi_add_simple takes relu, flatten or gap (got kind %d)",
                     (long long)b->n, (int)kind);
  }
  return push(b, &l, node);
}

nad_status nadi_add_linear(nadi_builder *b, int32_t in, int64_t out, int32_t bias,
                           const char *prefix, int32_t *node) {
  nadi_layer l;
  NADI_TRY(new_layer(b, NADI_LINEAR, in, &l));
  NADI_CHECK(out >= 1 && out <= INT32_MAX, NAD_ERR_INVALID_ARG,
             "layer %lld: linear needs output features in [1, %d] (got %lld)", (long long)b->n,
             INT32_MAX, (long long)out);
  NADI_TRY(set_prefix(b, &l, prefix));
  const int64_t *s = l.in_shape[0];
  l.out_c = out;
  l.bias = bias ? 1 : 0;
  snprintf(l.desc, sizeof l.desc, "linear %lld->%lld%s", (long long)(s[0] * s[1] * s[2]),
           (long long)out, l.bias ? "" : " nobias");
  l.out_shape[0] = out;
  l.out_shape[1] = l.out_shape[2] = 1;
  return push(b, &l, node);
}

nad_status nadi_add_batchnorm(nadi_builder *b, int32_t in, const char *prefix, int32_t *node) {
  nadi_layer l;
  NADI_TRY(new_layer(b, NADI_BATCHNORM, in, &l));
  NADI_TRY(set_prefix(b, &l, prefix));
  const int64_t *s = l.in_shape[0];
  l.out_c = s[0];
  snprintf(l.desc, sizeof l.desc, "batchnorm %lld", (long long)s[0]);
  memcpy(l.out_shape, s, sizeof l.out_shape);
  return push(b, &l, node);
}

nad_status nadi_add_dropout(nadi_builder *b, int32_t in, double p, int32_t *node) {
  nadi_layer l;
  NADI_TRY(new_layer(b, NADI_DROPOUT, in, &l));
  /* p = 1 would need a special case (PyTorch outputs zeros); nobody wants it. */
  NADI_CHECK(p >= 0.0 && p < 1.0, NAD_ERR_INVALID_ARG,
             "layer %lld: dropout probability must be in [0, 1) (got %g)", (long long)b->n, p);
  l.p = p;
  snprintf(l.desc, sizeof l.desc, "dropout %g", p);
  memcpy(l.out_shape, l.in_shape[0], sizeof l.out_shape);
  return push(b, &l, node);
}

nad_status nadi_add_join(nadi_builder *b, nadi_kind kind, int32_t in0, int32_t in1,
                         int32_t *node) {
  nadi_layer l;
  NADI_TRY(new_layer(b, kind, in0, &l));
  NADI_CHECK(kind == NADI_ADD || kind == NADI_CONCAT, NAD_ERR_INVALID_ARG,
             "layer %lld: nadi_add_join takes add or concat (got kind %d)", (long long)b->n,
             (int)kind);
  NADI_TRY(check_input(b, in1));
  l.n_in = 2;
  l.in[1] = in1;
  memcpy(l.in_shape[1], producer_shape(b, in1), sizeof l.in_shape[1]);
  const int64_t *s0 = l.in_shape[0], *s1 = l.in_shape[1];
  if (kind == NADI_ADD) {
    snprintf(l.desc, sizeof l.desc, "add");
    NADI_CHECK(s0[0] == s1[0] && s0[1] == s1[1] && s0[2] == s1[2], NAD_ERR_SHAPE,
               "layer %lld (add): input shapes differ: %lldx%lldx%lld (node %d) vs "
               "%lldx%lldx%lld (node %d)",
               (long long)b->n, (long long)s0[0], (long long)s0[1], (long long)s0[2], (int)in0,
               (long long)s1[0], (long long)s1[1], (long long)s1[2], (int)in1);
    memcpy(l.out_shape, s0, sizeof l.out_shape);
  } else {
    snprintf(l.desc, sizeof l.desc, "concat");
    NADI_CHECK(s0[1] == s1[1] && s0[2] == s1[2], NAD_ERR_SHAPE,
               "layer %lld (concat): spatial sizes differ: %lldx%lldx%lld (node %d) vs "
               "%lldx%lldx%lld (node %d)",
               (long long)b->n, (long long)s0[0], (long long)s0[1], (long long)s0[2], (int)in0,
               (long long)s1[0], (long long)s1[1], (long long)s1[2], (int)in1);
    NADI_CHECK(s0[0] <= INT64_MAX - s1[0], NAD_ERR_OUT_OF_MEMORY,
               "layer %lld (concat): channel count overflows", (long long)b->n);
    l.out_shape[0] = s0[0] + s1[0];
    l.out_shape[1] = s0[1];
    l.out_shape[2] = s0[2];
  }
  return push(b, &l, node);
}

/* ---- finishing ------------------------------------------------------------------------------- */

/* Tensors of one layer, in state_dict order: names, sizes, trainable flags. Returns the count. */
static int layer_tensors(const nadi_layer *l, const char *names[4], int64_t numel[4],
                         int32_t trainable[4]) {
  const int64_t *s = l->in_shape[0];
  switch (l->kind) {
  case NADI_CONV2D: {
    int64_t kk = (int64_t)l->k * l->k, w = 0;
    int ok = nadi_mul_ok(l->out_c, s[0], &w) && nadi_mul_ok(w, kk, &w);
    names[0] = "weight", numel[0] = ok ? w : -1, trainable[0] = 1;
    names[1] = "bias", numel[1] = l->out_c, trainable[1] = 1;
    return l->bias ? 2 : 1;
  }
  case NADI_LINEAR: {
    int64_t w = 0;
    int ok = nadi_mul_ok(l->out_c, s[0] * s[1] * s[2], &w);
    names[0] = "weight", numel[0] = ok ? w : -1, trainable[0] = 1;
    names[1] = "bias", numel[1] = l->out_c, trainable[1] = 1;
    return l->bias ? 2 : 1;
  }
  case NADI_BATCHNORM:
    names[0] = "weight", names[1] = "bias", names[2] = "running_mean", names[3] = "running_var";
    for (int i = 0; i < 4; i++) {
      numel[i] = s[0];
      trainable[i] = i < 2;
    }
    return 4;
  default:
    return 0;
  }
}

int64_t nadi_layer_flops(const nadi_layer *l) {
  const int64_t *s = l->in_shape[0], *o = l->out_shape;
  int64_t in_n = s[0] * s[1] * s[2], out_n = o[0] * o[1] * o[2], kk = (int64_t)l->k * l->k;
  int64_t f = 0, t = 0;
  switch (l->kind) {
  case NADI_CONV2D: /* 2 * out_n * (I*k*k) + bias adds */
    if (!nadi_mul_ok(out_n, s[0], &t) || !nadi_mul_ok(t, kk, &t) || !nadi_mul_ok(t, 2, &f))
      return -1;
    if (l->bias && f > INT64_MAX - out_n)
      return -1;
    return f + (l->bias ? out_n : 0);
  case NADI_LINEAR:
    if (!nadi_mul_ok(l->out_c, in_n, &t) || !nadi_mul_ok(t, 2, &f))
      return -1;
    return f + (l->bias ? l->out_c : 0);
  case NADI_MAXPOOL:
    return nadi_mul_ok(out_n, kk - 1, &f) ? f : -1;
  case NADI_AVGPOOL:
    return nadi_mul_ok(out_n, kk, &f) ? f : -1;
  case NADI_RELU:
  case NADI_ADD:
    return out_n;
  case NADI_BATCHNORM:
    return nadi_mul_ok(out_n, 2, &f) ? f : -1;
  case NADI_GAP:
    return in_n;
  default: /* concat, flatten, dropout */
    return 0;
  }
}

/* Every dimension handed to the BLAS (im2col GEMM for conv, GEMM for linear) must fit in int:
 * blasint / f77_int are 32-bit in Debian's OpenBLAS and BLIS. */
static nad_status check_blas_dims(int64_t i, const nadi_layer *l) {
  const int64_t *s = l->in_shape[0];
  int64_t d[3] = {0, 0, 0};
  const char *what[3] = {"", "", ""};
  if (l->kind == NADI_CONV2D) {
    if (!nadi_mul_ok(s[0], (int64_t)l->k * l->k, &d[0]))
      d[0] = INT64_MAX;
    what[0] = "in_channels*k*k";
    d[1] = l->out_c, what[1] = "out_channels";
    d[2] = l->out_shape[1] * l->out_shape[2], what[2] = "output height*width";
  } else if (l->kind == NADI_LINEAR) {
    d[0] = s[0] * s[1] * s[2], what[0] = "in_features";
    d[1] = l->out_c, what[1] = "out_features";
  } else {
    return NAD_OK;
  }
  for (int j = 0; j < 3; j++)
    NADI_CHECK(d[j] < INT_MAX, NAD_ERR_UNSUPPORTED,
               "layer %lld (%s): %s = %lld does not fit the BLAS's 32-bit int", (long long)i,
               l->desc, what[j], (long long)d[j]);
  return NAD_OK;
}

static nad_status finish(nadi_builder *b, nadi_graph *g) {
  NADI_CHECK(b->n >= 1, NAD_ERR_INVALID_ARG, "the architecture has no layers");
  int64_t n_tensors = 0;
  for (int64_t i = 0; i < b->n; i++) {
    const char *names[4];
    int64_t numel[4];
    int32_t tr[4];
    n_tensors += layer_tensors(&b->layers[i], names, numel, tr);
  }
  g->tensors = calloc((size_t)(n_tensors ? n_tensors : 1), sizeof *g->tensors);
  NADI_CHECK(g->tensors != NULL, NAD_ERR_OUT_OF_MEMORY, "out of memory for the tensor table");
  int64_t off = 0, trainable = 0, flops = 0, t = 0;
  for (int64_t i = 0; i < b->n; i++) {
    nadi_layer *l = &b->layers[i];
    NADI_TRY(check_blas_dims(i, l));
    const char *names[4];
    int64_t numel[4];
    int32_t tr[4];
    int nt = layer_tensors(l, names, numel, tr);
    l->param_off = off;
    l->n_params = 0;
    for (int j = 0; j < nt; j++) {
      NADI_CHECK(numel[j] >= 0 && off <= INT64_MAX - numel[j], NAD_ERR_OUT_OF_MEMORY,
                 "layer %lld (%s): parameter count overflows", (long long)i, l->desc);
      nadi_tensor_info *ti = &g->tensors[t++];
      snprintf(ti->name, sizeof ti->name, "%s.%s", l->prefix, names[j]);
      ti->offset = off;
      ti->numel = numel[j];
      ti->trainable = tr[j];
      off += numel[j];
      l->n_params += numel[j];
      if (tr[j])
        trainable += numel[j];
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
  free(g);
}
