/* Eval-mode BatchNorm folded into the convolution before it, once per network; and a ReLU fused
 * into the BatchNorm before it.
 *
 * In eval mode a BatchNorm is the per-channel affine map y = a·x + b (a = γ/√(var + eps),
 * b = β − mean·a). When it reads a convolution whose output nobody else reads, the pair is one
 * convolution with weights a·W and bias a·bias + b: one pass over the activation less, and in
 * the delta forward one patch level less. Only conv → BN is folded: a BatchNorm before a
 * convolution (DenseNet's BN-ReLU-conv) has a ReLU in between and is not affine through it,
 * and even a BN directly before a padded convolution would change the zero padding.
 *
 * A BatchNorm that stays (DenseNet's, on the concatenation) and whose only reader is a ReLU takes
 * that ReLU along: the folded graph has one node computing relu(a·x + b) in one pass
 * (nadi_layer.then_relu), the same floats as the two passes, one read and one write of the
 * widest maps of DenseNet less (those ReLUs took 8 % of its dipole's time).
 *
 * The folded graph has its own parameter layout (the folded convolutions gain a bias, the
 * BatchNorms lose theirs); nadi_fold_params maps a network's parameters into it. The result
 * equals the original network up to float rounding (tests/unit/delta). */
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "kernels/kernels.h"

struct nadi_fold {
  const nadi_graph *src;
  nadi_graph *g;   /* the folded graph */
  int32_t *from;   /* per folded node: its node in src */
  int32_t *bn;     /* per folded node: the BatchNorm of src folded into it, or -1 */
  int64_t n_folded; /* BatchNorms folded into convolutions */
  int64_t n_relus;  /* ReLUs fused into the BatchNorm before them */
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

/* Replay node l of src into the builder, its inputs renamed through map, with or without a
 * bias (a convolution that absorbs a BatchNorm gains one). */
static nad_status replay(nadi_builder *b, const nadi_layer *l, const int32_t *map, int32_t bias,
                         int32_t *node) {
  int32_t in[NADI_MAX_INPUTS];
  for (int32_t j = 0; j < l->n_in; j++)
    in[j] = l->in[j] == NADI_INPUT_NODE ? NADI_INPUT_NODE : map[l->in[j]];
  nadi_hparams hp = l->hp;
  hp.bias = bias;
  return nadi_add_node(b, l->kind, in, l->n_in, &hp, l->prefix, node);
}

nad_status nadi_fold_create(const nadi_graph *src, nadi_fold **out) {
  *out = NULL;
  int64_t n = src->n_layers;
  nadi_fold *f = nadi_calloc(1, sizeof *f);
  int32_t *map = nadi_alloc((size_t)n, sizeof(int32_t)); /* src node -> folded node */
  char *folds = nadi_calloc((size_t)(2 * n), 1); /* src BN folded / src conv folded into */
  char *relu = nadi_calloc((size_t)n, 1);         /* src ReLU fused into its BatchNorm */
  if (f) {
    f->src = src;
    f->from = nadi_alloc((size_t)n, sizeof(int32_t));
    f->bn = nadi_alloc((size_t)n, sizeof(int32_t));
  }
  if (!f || !map || !folds || !relu || !f->from || !f->bn) {
    nadi_free(map), nadi_free(folds), nadi_free(relu), nadi_fold_destroy(f);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "fold: out of memory");
  }
  for (int64_t i = 0; i < n; i++) {
    const nadi_layer *l = &src->layers[i];
    int32_t p = l->in[0];
    folds[i] = nadi_kind_of(l->kind)->fold == NADI_FOLD_AFFINE && p != NADI_INPUT_NODE &&
               nadi_kind_of(src->layers[p].kind)->fold == NADI_FOLD_TARGET &&
               readers(src, p) == 1;
    if (folds[i])
      folds[n + p] = 1;
    /* a ReLU whose BatchNorm stays and has no other reader (the BN came earlier: decided) */
    relu[i] = l->kind == NADI_RELU && p != NADI_INPUT_NODE &&
              src->layers[p].kind == NADI_BATCHNORM && !folds[p] && readers(src, p) == 1;
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
    if (relu[i]) { /* the BatchNorm's node computes it (then_relu, set below) */
      map[i] = map[l->in[0]];
      f->n_relus++;
      continue;
    }
    st = replay(b, l, map, l->bias || folds[n + i], &map[i]);
    if (st == NAD_OK) {
      f->from[map[i]] = (int32_t)i;
      f->bn[map[i]] = -1;
    }
  }
  if (st == NAD_OK)
    st = nadi_builder_finish(b, &f->g); /* consumes the builder */
  else
    nadi_builder_destroy(b);
  for (int64_t i = 0; st == NAD_OK && i < n; i++) {
    if (!relu[i])
      continue;
    nadi_layer *bn = &f->g->layers[map[i]];
    bn->then_relu = 1;
    snprintf(bn->desc, sizeof bn->desc, "batchnorm %lld + relu", (long long)bn->out_c);
  }
  nadi_free(map), nadi_free(folds), nadi_free(relu);
  if (st != NAD_OK) {
    nadi_fold_destroy(f);
    return st;
  }
  *out = f;
  return NAD_OK;
}

const nadi_graph *nadi_fold_graph(const nadi_fold *f) { return f->g; }
int64_t nadi_fold_count(const nadi_fold *f) { return f->n_folded; }
int64_t nadi_fold_relus(const nadi_fold *f) { return f->n_relus; }

void nadi_fold_params(const nadi_fold *f, const float *params, float *out) {
  for (int64_t i = 0; i < f->g->n_layers; i++) {
    const nadi_layer *l = &f->g->layers[i], *s = &f->src->layers[f->from[i]];
    const float *sp = params + s->param_off;
    float *dp = out + l->param_off;
    if (f->bn[i] < 0) {
      memcpy(dp, sp, sizeof(float) * (size_t)s->n_params);
      continue;
    }
    /* a TARGET's weights W[o][...] (+ bias[o]) then the AFFINE's (a_o, b_o), from its weight,
     * bias, running mean and variance, by the eval BatchNorm's own nadi_bn_eval_affine */
    const nadi_layer *bl = &f->src->layers[f->bn[i]];
    const float *bp = params + bl->param_off;
    int64_t co = l->out_c, per = (s->n_params - (s->bias ? co : 0)) / co;
    for (int64_t o = 0; o < co; o++) {
      float a, sh;
      nadi_bn_eval_affine(bl, bp, co, o, &a, &sh);
      for (int64_t q = 0; q < per; q++)
        dp[o * per + q] = a * sp[o * per + q];
      dp[co * per + o] = a * (s->bias ? sp[co * per + o] : 0.0f) + sh;
    }
  }
}
