/* Eval-mode BatchNorm folded into the convolution before it, once per network; a ReLU fused
 * into the BatchNorm before it; and the nodes before a Gather computed on its slice alone
 * ("slicing", below).
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
 * BatchNorms lose theirs; slicing changes no parameter); nadi_fold_params maps a network's
 * parameters into it. The result equals the original network up to float rounding
 * (tests/unit/delta). */
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "kernels/kernels.h"

struct nadi_fold {
  const nadi_graph *src;
  nadi_graph *g;   /* the folded graph */
  int32_t *from;   /* per folded node: its node in src (an added Gather: its root) */
  int32_t *bn;     /* per folded node: the BatchNorm of src folded into it, or -1 */
  int64_t n_folded; /* BatchNorms folded into convolutions */
  int64_t n_relus;  /* ReLUs fused into the BatchNorm before them */
  int64_t n_sliced; /* nodes computed on the one slice a Gather keeps */
  int64_t n_gathers; /* Gathers added minus Gathers removed */
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

/* ---- slicing ----------------------------------------------------------------------------------
 * A Gather of one index along an axis (ViT's class token, x[:, 0]) keeps one slice of its
 * input; every node before it that is computed slice by slice along that axis (its kind's
 * slice(): LayerNorm, Linear, GELU, residual adds) and read only by that Gather or by such
 * nodes needs to compute that one slice alone. The root Gather's region is the set of those
 * nodes; each is replayed on slices (its kind's hyper-parameters for rank one less), the inputs
 * it reads from outside the region through a new Gather (the root's), and the root itself goes
 * (its readers read the region's last node). In ViT this computes the last encoder block's
 * MLP and attention output projection for the class token only, not for all 65 tokens. */

/* A Gather that can root a region: not the network's output (the graph's last node must stay
 * last) and not reading the network input directly (nothing to prune). */
static int is_root(const nadi_graph *g, int64_t r) {
  const nadi_layer *l = &g->layers[r];
  return l->kind == NADI_GATHER && r != g->n_layers - 1 && l->in[0] != NADI_INPUT_NODE;
}

/* region[i]: the root Gather whose slice node i computes, or -1; hp[i]: its sliced hp. Walks
 * backwards, so that every reader of node i has been decided when i is. Nodes merged into
 * another by BN folding or ReLU fusion stay whole. */
static void find_regions(const nadi_graph *g, const char *merged, int32_t *region,
                         nadi_hparams *hp) {
  const int64_t n = g->n_layers;
  for (int64_t i = n - 1; i >= 0; i--) {
    region[i] = -1;
    const nadi_layer *l = &g->layers[i];
    const nadi_kind_desc *d = nadi_kind_of(l->kind);
    if (i == n - 1 || merged[i] || !d->slice)
      continue;
    int32_t root = -1;
    int ok = 1;
    for (int64_t r = i + 1; ok && r < n; r++)
      for (int32_t q = 0; ok && q < g->layers[r].n_in; q++) {
        if (g->layers[r].in[q] != i)
          continue;
        int32_t rr = is_root(g, r) ? (int32_t)r : region[r];
        ok = rr >= 0 && (root < 0 || rr == root);
        root = rr;
      }
    if (!ok || root < 0)
      continue;
    const nadi_layer *gl = &g->layers[root];
    if (l->out_dims.rank == gl->in_dims[0].rank && d->slice(l, gl->tensor_axis, &hp[i]))
      region[i] = root;
  }
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

/* The node of the folded graph that holds slice `root` of src's node u (u outside root's
 * region): a Gather added the first time it is asked for, remembered in cache (n_cache pairs
 * of src node and root, and their folded node). */
typedef struct gather_cache {
  int32_t (*key)[2];
  int32_t *node;
  int64_t n;
} gather_cache;

static nad_status gathered(nadi_fold *f, nadi_builder *b, gather_cache *c, const int32_t *map,
                           int32_t u, int32_t root, int32_t *node) {
  for (int64_t k = 0; k < c->n; k++)
    if (c->key[k][0] == u && c->key[k][1] == root) {
      *node = c->node[k];
      return NAD_OK;
    }
  int32_t in = u == NADI_INPUT_NODE ? NADI_INPUT_NODE : map[u];
  NADI_TRY(nadi_add_node(b, NADI_GATHER, &in, 1, &f->src->layers[root].hp, NULL, node));
  f->from[*node] = root; /* no parameters */
  f->bn[*node] = -1;
  f->n_gathers++;
  c->key[c->n][0] = u, c->key[c->n][1] = root, c->node[c->n++] = *node;
  return NAD_OK;
}

nad_status nadi_fold_create(const nadi_graph *src, nadi_fold **out) {
  *out = NULL;
  int64_t n = src->n_layers, cap = 3 * n + 1; /* folded nodes: each slices <= 2 inputs */
  nadi_fold *f = nadi_calloc(1, sizeof *f);
  int32_t *map = nadi_alloc((size_t)n, sizeof(int32_t)); /* src node -> folded node */
  char *folds = nadi_calloc((size_t)(2 * n), 1); /* src BN folded / src conv folded into */
  char *relu = nadi_calloc((size_t)n, 1);         /* src ReLU fused into its BatchNorm */
  char *merged = nadi_alloc((size_t)n, 1);       /* merged into another node: stays whole */
  int32_t *region = nadi_alloc((size_t)n, sizeof(int32_t));
  nadi_hparams *shp = nadi_alloc((size_t)n, sizeof(nadi_hparams));
  gather_cache cache = {nadi_alloc((size_t)cap, sizeof *cache.key),
                        nadi_alloc((size_t)cap, sizeof(int32_t)), 0};
  if (f) {
    f->src = src;
    f->from = nadi_alloc((size_t)cap, sizeof(int32_t));
    f->bn = nadi_alloc((size_t)cap, sizeof(int32_t));
  }
  if (!f || !map || !folds || !relu || !merged || !region || !shp || !cache.key ||
      !cache.node || !f->from || !f->bn) {
    nadi_free(map), nadi_free(folds), nadi_free(relu), nadi_free(merged), nadi_free(region);
    nadi_free(shp), nadi_free(cache.key), nadi_free(cache.node), nadi_fold_destroy(f);
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
  for (int64_t i = 0; i < n; i++)
    merged[i] = folds[i] || relu[i];
  find_regions(src, merged, region, shp);
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
    if (region[i] >= 0) { /* one slice, its inputs from the region or sliced by a Gather */
      int32_t in[NADI_MAX_INPUTS];
      for (int32_t j = 0; st == NAD_OK && j < l->n_in; j++) {
        int32_t u = l->in[j];
        if (u != NADI_INPUT_NODE && region[u] == region[i])
          in[j] = map[u];
        else
          st = gathered(f, b, &cache, map, u, region[i], &in[j]);
      }
      if (st == NAD_OK)
        st = nadi_add_node(b, l->kind, in, l->n_in, &shp[i], l->prefix, &map[i]);
      if (st == NAD_OK) {
        f->from[map[i]] = (int32_t)i;
        f->bn[map[i]] = -1;
        f->n_sliced++;
      }
      continue;
    }
    if (is_root(src, i) && region[l->in[0]] == i) { /* its input is its slice already */
      map[i] = map[l->in[0]];
      f->n_gathers--;
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
  nadi_free(map), nadi_free(folds), nadi_free(relu), nadi_free(merged), nadi_free(region);
  nadi_free(shp), nadi_free(cache.key), nadi_free(cache.node);
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
int64_t nadi_fold_sliced(const nadi_fold *f) { return f->n_sliced; }
int64_t nadi_fold_gathers(const nadi_fold *f) { return f->n_gathers; }

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
