/* Eval-mode BatchNorm folded into the convolution before it, once per network.
 *
 * In eval mode a BatchNorm is the per-channel affine map y = a·x + b (a = γ/√(var + eps),
 * b = β − mean·a). When it reads a convolution whose output nobody else reads, the pair is one
 * convolution with weights a·W and bias a·bias + b: one pass over the activation less, and in
 * the delta forward one patch level less. Only conv → BN is folded: a BatchNorm before a
 * convolution (DenseNet's BN-ReLU-conv) has a ReLU in between and is not affine through it,
 * and even a BN directly before a padded convolution would change the zero padding.
 *
 * The folded graph has its own parameter layout (the folded convolutions gain a bias, the
 * BatchNorms lose theirs); nadi_fold_params maps a network's parameters into it. The result
 * equals the original network up to float rounding (tests/unit/delta). */
#include <math.h>
#include <string.h>

#include "graph/graph.h"

struct nadi_fold {
  const nadi_graph *src;
  nadi_graph *g;   /* the folded graph */
  int32_t *from;   /* per folded node: its node in src */
  int32_t *bn;     /* per folded node: the BatchNorm of src folded into it, or -1 */
  int64_t n_folded;
};

void nadi_fold_destroy(nadi_fold *f) {
  if (!f)
    return;
  nadi_graph_destroy(f->g);
  nadi_free(f->from);
  nadi_free(f->bn);
  nadi_free(f);
}

/* Readers of node i's output (an input slot counts once per slot). */
static int64_t readers(const nadi_graph *g, int64_t i) {
  int64_t r = 0;
  for (int64_t j = i + 1; j < g->n_layers; j++)
    for (int32_t q = 0; q < g->layers[j].n_in; q++)
      r += g->layers[j].in[q] == i;
  return r;
}

/* Replay node l of src into the builder, its inputs renamed through map. */
static nad_status replay(nadi_builder *b, const nadi_layer *l, const int32_t *map, int32_t bias,
                         int32_t *node) {
  int32_t in0 = l->in[0] == NADI_INPUT_NODE ? NADI_INPUT_NODE : map[l->in[0]];
  int32_t in1 = l->n_in > 1 && l->in[1] != NADI_INPUT_NODE ? map[l->in[1]] : NADI_INPUT_NODE;
  switch (l->kind) {
  case NADI_CONV2D:
    return nadi_add_conv(b, in0, l->out_c, l->k, l->stride, l->pad, bias, (nadi_init_rule)l->init,
                         l->prefix, node);
  case NADI_MAXPOOL:
  case NADI_AVGPOOL:
    return nadi_add_pool(b, in0, l->kind, l->k, l->stride, node);
  case NADI_RELU:
  case NADI_FLATTEN:
  case NADI_GAP:
    return nadi_add_simple(b, in0, l->kind, node);
  case NADI_LINEAR:
    return nadi_add_linear(b, in0, l->out_c, l->bias, l->prefix, node);
  case NADI_BATCHNORM: /* eps and momentum: the builder's (the only ones a graph can have) */
    return nadi_add_batchnorm(b, in0, l->prefix, node);
  case NADI_DROPOUT:
    return nadi_add_dropout(b, in0, l->p, node);
  case NADI_ADD:
  case NADI_CONCAT:
    return nadi_add_join(b, l->kind, in0, in1, node);
  default:
    return nadi_fail(NAD_ERR_INVALID_ARG, "fold: unknown layer kind %d", (int)l->kind);
  }
}

nad_status nadi_fold_create(const nadi_graph *src, nadi_fold **out) {
  *out = NULL;
  int64_t n = src->n_layers;
  nadi_fold *f = nadi_calloc(1, sizeof *f);
  int32_t *map = nadi_alloc((size_t)n, sizeof(int32_t)); /* src node -> folded node */
  char *folds = nadi_calloc((size_t)(2 * n), 1); /* src BN folded / src conv folded into */
  if (f) {
    f->src = src;
    f->from = nadi_alloc((size_t)n, sizeof(int32_t));
    f->bn = nadi_alloc((size_t)n, sizeof(int32_t));
  }
  if (!f || !map || !folds || !f->from || !f->bn) {
    nadi_free(map), nadi_free(folds), nadi_fold_destroy(f);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "fold: out of memory");
  }
  for (int64_t i = 0; i < n; i++) {
    const nadi_layer *l = &src->layers[i];
    int32_t p = l->in[0];
    folds[i] = l->kind == NADI_BATCHNORM && p != NADI_INPUT_NODE &&
               src->layers[p].kind == NADI_CONV2D && readers(src, p) == 1;
    if (folds[i])
      folds[n + p] = 1;
  }
  nadi_builder *b;
  nad_status st = nadi_builder_create(src->in_shape[0], src->in_shape[1], src->in_shape[2], &b);
  for (int64_t i = 0; st == NAD_OK && i < n; i++) {
    const nadi_layer *l = &src->layers[i];
    if (folds[i]) { /* the BN is its conv's output now */
      map[i] = map[l->in[0]];
      f->bn[map[i]] = (int32_t)i;
      f->n_folded++;
      continue;
    }
    st = replay(b, l, map, l->bias || folds[n + i], &map[i]);
    if (st == NAD_OK) {
      f->from[map[i]] = (int32_t)i;
      f->bn[map[i]] = -1;
    }
  }
  nadi_free(map), nadi_free(folds);
  if (st == NAD_OK)
    st = nadi_builder_finish(b, &f->g); /* consumes the builder */
  else
    nadi_builder_destroy(b);
  if (st != NAD_OK) {
    nadi_fold_destroy(f);
    return st;
  }
  *out = f;
  return NAD_OK;
}

const nadi_graph *nadi_fold_graph(const nadi_fold *f) { return f->g; }
int64_t nadi_fold_count(const nadi_fold *f) { return f->n_folded; }

void nadi_fold_params(const nadi_fold *f, const float *params, float *out) {
  for (int64_t i = 0; i < f->g->n_layers; i++) {
    const nadi_layer *l = &f->g->layers[i], *s = &f->src->layers[f->from[i]];
    const float *sp = params + s->param_off;
    float *dp = out + l->param_off;
    if (f->bn[i] < 0) {
      memcpy(dp, sp, sizeof(float) * (size_t)s->n_params);
      continue;
    }
    /* conv W[o][...] (+ bias[o]) then BN (a_o, b_o), as lib/kernels/batchnorm.c computes them */
    const nadi_layer *bl = &f->src->layers[f->bn[i]];
    const float *bp = params + bl->param_off;
    int64_t co = l->out_c, per = l->in_shape[0][0] * l->k * l->k;
    for (int64_t o = 0; o < co; o++) {
      double mean = bp[2 * co + o], invstd = 1.0 / sqrt((double)bp[3 * co + o] + bl->eps);
      float a = (float)(bp[o] * invstd), sh = (float)(bp[co + o] - mean * a);
      for (int64_t q = 0; q < per; q++)
        dp[o * per + q] = a * sp[o * per + q];
      dp[co * per + o] = a * (s->bias ? sp[co * per + o] : 0.0f) + sh;
    }
  }
}
