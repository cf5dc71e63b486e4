/* The delta forward (lib/graph/delta.c) must equal a dense forward of the same perturbed
 * inputs, for every built-in architecture and for specs with awkward geometry (odd maps that a
 * pool does not cover, stride-2 convolutions, padding, batchnorm, average pooling, residual and
 * dense blocks; grouped, depthwise, dilated, rectangular and asymmetrically padded
 * convolutions, padded ceil-mode pools), at every switch point, and so must the
 * BatchNorm-folded graph (fold.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "kernels/kernels.h" /* nadi_arith_op */
#include "../check.h"


/* Largest |a - b| over n values, relative to the largest |a| (plus a floor for tiny outputs). */
static int close_enough(const float *a, const float *b, int64_t n, double *err, double *scale) {
  *err = 0, *scale = 0;
  for (int64_t i = 0; i < n; i++) {
    *err = fmax(*err, fabs((double)a[i] - b[i]));
    *scale = fmax(*scale, fabs((double)a[i]));
  }
  return *err <= 1e-5 * *scale + 1e-6;
}

/* The delta forward of graph g (parameters params) against the dense outputs yd. */
static void check_delta(const char *what, const nadi_graph *g, float *params, const float *x0,
                        const int64_t *coord, const float *val, int64_t batch, const float *yd,
                        double crossover, const char *variant) {
  const int64_t *os = g->layers[g->n_layers - 1].out_shape;
  int64_t k = os[0] * os[1] * os[2];
  float *yp = nadi_alloc((size_t)(batch * k), 4);
  nadi_delta *p;
  if (!yp || nadi_delta_create(g, batch, crossover, &p) != NAD_OK) {
    printf("FAIL %s: create: %s\n", what, nad_last_error());
    failed++;
    nadi_free(yp);
    return;
  }
  nadi_delta_set_base(p, params, x0);
  nadi_delta_forward(p, params, coord, val, batch, yp);
  double err, scale;
  int ok = close_enough(yd, yp, batch * k, &err, &scale);
  printf("%s %-22s %-6s crossover %-4g %3lld of %3lld nodes on patches, max |dense - delta| = "
         "%.3g (scale %.3g)\n",
         ok ? "ok  " : "FAIL", what, variant, crossover, (long long)nadi_delta_patch_nodes(p),
         (long long)g->n_layers, err, scale);
  ok ? passed++ : failed++;
  nadi_delta_destroy(p);
  nadi_free(yp);
}

/* Dense forwards of the perturbed inputs are the reference; the delta forward at the default
 * crossover, with every local node on patches and with every convolution dense must match, on
 * the graph itself and on its BatchNorm-folded form (whose dense forward must match too). */
/* want_sliced: the nodes slicing must compute on one slice (fold.c; ViT's last block) */
static void check(const char *what, nadi_graph *g, int64_t batch, uint64_t seed,
                  int64_t want_sliced) {
  const double crossovers[3] = {NADI_DELTA_DEFAULT, INFINITY, 0.0};
  int64_t d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2];
  const int64_t *os = g->layers[g->n_layers - 1].out_shape;
  int64_t k = os[0] * os[1] * os[2];
  float *params = nadi_alloc((size_t)g->n_params, 4), *x0 = nadi_alloc((size_t)d, 4);
  float *xs = nadi_alloc((size_t)(batch * d), 4), *val = nadi_alloc((size_t)batch, 4);
  float *yd = nadi_alloc((size_t)(batch * k), 4);
  int64_t *coord = nadi_alloc((size_t)batch, 8);
  nadi_rng r;
  nadi_rng_init(&r, seed, 0);
  nadi_graph_init_params(g, params, &r);
  /* non-trivial batchnorm statistics so that its patch path and the folding are exercised */
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    if (l->kind != NADI_BATCHNORM)
      continue;
    int64_t c = l->out_shape[0];
    float *p = params + l->param_off;
    nadi_rng_fill_uniform(&r, p, 3 * c, -0.5, 0.5);
    nadi_rng_fill_uniform(&r, p + 3 * c, c, 0.5, 2.0);
  }
  nadi_rng_fill_normal(&r, x0, d, 0, 1);
  for (int64_t b = 0; b < batch; b++) {
    /* corners and edges first, then random coordinates */
    int64_t H = g->in_shape[1], W = g->in_shape[2], HW = H * W;
    int64_t fixed[4] = {0, W - 1, (H - 1) * W, HW - 1};
    coord[b] = b < 4 ? fixed[b] + HW * (b % g->in_shape[0]) : (int64_t)(nadi_rng_u64(&r) % (uint64_t)d);
    val[b] = x0[coord[b]] + (b % 2 ? -100.0f : 100.0f);
    memcpy(xs + b * d, x0, (size_t)d * 4);
    xs[b * d + coord[b]] = val[b];
  }
  nadi_exec *e;
  if (nadi_exec_create(g, batch, &e) != NAD_OK) {
    printf("FAIL %s: create: %s\n", what, nad_last_error());
    failed++;
    return;
  }
  memcpy(yd, nadi_exec_forward(e, params, xs, batch, 0, NULL), (size_t)(batch * k) * 4);
  nadi_exec_destroy(e);
  for (int c = 0; c < 3; c++)
    check_delta(what, g, params, x0, coord, val, batch, yd, crossovers[c], "");

  nadi_fold *f;
  if (nadi_fold_create(g, &f) != NAD_OK) {
    printf("FAIL %s: fold: %s\n", what, nad_last_error());
    failed++;
  } else {
    const nadi_graph *fg = nadi_fold_graph(f);
    float *fp = nadi_alloc((size_t)fg->n_params, 4), *yf = nadi_alloc((size_t)(batch * k), 4);
    nadi_fold_params(f, params, fp);
    double err, scale;
    int ok = nadi_exec_create(fg, batch, &e) == NAD_OK;
    if (ok) {
      memcpy(yf, nadi_exec_forward(e, fp, xs, batch, 0, NULL), (size_t)(batch * k) * 4);
      nadi_exec_destroy(e);
      ok = close_enough(yd, yf, batch * k, &err, &scale);
    }
    int64_t n_bn = 0, n_bn_relu = 0; /* BatchNorms; ReLUs reading a BN read by nothing else */
    for (int64_t i = 0; i < g->n_layers; i++) {
      const nadi_layer *l = &g->layers[i];
      n_bn += l->kind == NADI_BATCHNORM;
      if (l->kind == NADI_RELU && l->in[0] != NADI_INPUT_NODE &&
          g->layers[l->in[0]].kind == NADI_BATCHNORM) {
        int64_t readers = 0;
        for (int64_t j = 0; j < g->n_layers; j++)
          for (int32_t q = 0; q < g->layers[j].n_in; q++)
            readers += g->layers[j].in[q] == l->in[0];
        n_bn_relu += readers == 1;
      }
    }
    printf("%s %-22s folded %lld of %lld batchnorms, fused %lld relus, sliced %lld nodes: %lld "
           "nodes, max |dense - folded dense| = %.3g\n",
           ok ? "ok  " : "FAIL", what, (long long)nadi_fold_count(f), (long long)n_bn,
           (long long)nadi_fold_relus(f), (long long)nadi_fold_sliced(f),
           (long long)fg->n_layers, ok ? err : -1.0);
    ok ? passed++ : failed++;
    CHECK(fg->n_layers == g->n_layers - nadi_fold_count(f) - nadi_fold_relus(f) +
                              nadi_fold_gathers(f),
          "%s: folded node count", what);
    CHECK(nadi_fold_sliced(f) == want_sliced, "%s: %lld nodes sliced, expected %lld", what,
          (long long)nadi_fold_sliced(f), (long long)want_sliced);
    /* slicing changes no parameter: without folded BatchNorms the layouts are the same (the
     * probe then hands the source's parameters to the folded graph) */
    if (nadi_fold_count(f) == 0)
      CHECK(fg->n_params == g->n_params, "%s: %lld parameters after slicing, not %lld", what,
            (long long)fg->n_params, (long long)g->n_params);
    /* a BN -> ReLU pair is fused unless that BN is folded into a convolution */
    CHECK(nadi_fold_relus(f) <= n_bn_relu && nadi_fold_relus(f) + nadi_fold_count(f) >= n_bn_relu,
          "%s: %lld relus fused of %lld after a batchnorm", what, (long long)nadi_fold_relus(f),
          (long long)n_bn_relu);
    /* with nothing folded nor sliced, the fused BN + ReLU computes the two nodes' floats
     * exactly */
    if (ok && nadi_fold_count(f) == 0 && nadi_fold_sliced(f) == 0)
      CHECK(memcmp(yd, yf, sizeof(float) * (size_t)(batch * k)) == 0,
            "%s: fused graph not bit-identical to the original", what);
    for (int c = 0; c < 3; c++)
      check_delta(what, fg, fp, x0, coord, val, batch, yd, crossovers[c], "folded");
    nadi_free(fp), nadi_free(yf);
    nadi_fold_destroy(f);
  }
  nadi_free(params), nadi_free(x0), nadi_free(xs), nadi_free(val), nadi_free(yd);
  nadi_free(coord);
}

/* ---- graphs of the general windows (groups, depthwise, dilation, rectangles, pads, ceil) ---- */

typedef struct gb {
  nadi_builder *b;
  int32_t cur;
  nad_status st;
} gb;

/* Appends a node of `kind` reading the current one, hp from `set` on top of the defaults. */
static void add(gb *g, nadi_kind kind, nadi_hparams hp) {
  if (g->st == NAD_OK)
    g->st = nadi_add_node(g->b, kind, &g->cur, 1, &hp, NULL, &g->cur);
}

static nadi_hparams conv_hp(int64_t out_c, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                            int64_t pt, int64_t pl, int64_t pb, int64_t pr, int64_t d,
                            int64_t groups, int64_t bias) {
  nadi_hparams hp = nadi_hparams_default();
  hp.out_c = out_c, hp.kh = kh, hp.kw = kw, hp.sh = sh, hp.sw = sw, hp.groups = groups;
  hp.pad_t = pt, hp.pad_l = pl, hp.pad_b = pb, hp.pad_r = pr, hp.dh = hp.dw = d, hp.bias = bias;
  return hp;
}

static nadi_hparams pool_hp(int64_t k, int64_t s, int64_t pad, int64_t ceil_mode, int64_t cip) {
  nadi_hparams hp = nadi_hparams_default();
  hp.kh = hp.kw = k, hp.sh = hp.sw = s, hp.pad_t = hp.pad_l = hp.pad_b = hp.pad_r = pad;
  hp.ceil_mode = ceil_mode, hp.count_include_pad = cip;
  return hp;
}

/* MobileNet-like: a TF-"same" strided stem, depthwise + pointwise with BatchNorms (folded into
 * the grouped convolutions), a dilated grouped conv, padded ceil-mode pools, a 1x3 conv, an
 * adaptive pool and a classifier. */
static nad_status build_mobile(nadi_graph **out) {
  gb g = {NULL, NADI_INPUT_NODE, nadi_builder_create(3, 13, 11, &g.b)};
  nadi_hparams none = nadi_hparams_default(), ad = nadi_hparams_default(), fc = ad;
  ad.pool_oh = 3, ad.pool_ow = 2, fc.out_c = 3, fc.bias = 1;
  add(&g, NADI_CONV2D, conv_hp(8, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 0));
  add(&g, NADI_BATCHNORM, none), add(&g, NADI_RELU, none);
  add(&g, NADI_CONV2D, conv_hp(8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 8, 0)); /* depthwise */
  add(&g, NADI_BATCHNORM, none), add(&g, NADI_RELU, none);
  add(&g, NADI_CONV2D, conv_hp(12, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0));
  add(&g, NADI_BATCHNORM, none);
  add(&g, NADI_CONV2D, conv_hp(12, 3, 3, 1, 1, 2, 2, 2, 2, 2, 4, 1)); /* groups 4, dilation 2 */
  add(&g, NADI_RELU, none);
  add(&g, NADI_MAXPOOL, pool_hp(3, 2, 1, 1, 0));
  add(&g, NADI_CONV2D, conv_hp(6, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, 1));
  add(&g, NADI_RELU, none);
  add(&g, NADI_AVGPOOL, pool_hp(3, 1, 1, 0, 1));
  add(&g, NADI_AVGPOOL, pool_hp(2, 2, 0, 1, 0));
  add(&g, NADI_ADAPTIVE_AVGPOOL, ad);
  add(&g, NADI_LINEAR, fc);
  if (g.st != NAD_OK) {
    nadi_builder_destroy(g.b);
    return g.st;
  }
  return nadi_builder_finish(g.b, out);
}

/* Slicing by hand (fold.c): on the input (1, 2, 5, 6), x0 = x + P0 (P0 (5, 6) varies along
 * axis 2: stays whole), then a = x0 + P1 (P1 (1, 1, 1, 6): its size-1 axis 2 goes with the
 * slice), b = gemm(a), c = softmax over axis 1, d = c + a, e = layernorm from axis 3, all five
 * on the slice that gather(axis 2, index 3) keeps; then a gemm to (1, 2, 3). */
static nad_status build_sliced(nadi_graph **out) {
  gb g = {NULL, NADI_INPUT_NODE, nadi_builder_create(2, 5, 6, &g.b)};
  nadi_hparams p0 = nadi_hparams_default(), p1 = p0, mm = p0, sm = p0, ln = p0, ga = p0, fc;
  p0.arith_prank = 2, p0.arith_pshape[0] = 5, p0.arith_pshape[1] = 6;
  p1.arith_prank = 4, p1.arith_pshape[0] = p1.arith_pshape[1] = p1.arith_pshape[2] = 1;
  p1.arith_pshape[3] = 6, p1.arith_side = 1;
  p0.init = p1.init = NADI_INIT_NORMAL_002;
  mm.out_c = 6, mm.bias = 1, mm.trans_b = 1, mm.gemm_alpha = 0.7, mm.gemm_beta = 1.0;
  fc = mm, fc.out_c = 3;
  sm.norm_axis = 1, ln.norm_axis = 3, ln.eps = 1e-5;
  ga.tensor_axis = 2, ga.gather_index = -2;
  add(&g, NADI_ARITH_PARAM, p0);
  add(&g, NADI_ARITH_PARAM, p1);
  int32_t a = g.cur;
  add(&g, NADI_GEMM, mm);
  add(&g, NADI_SOFTMAX, sm);
  int32_t two[2] = {g.cur, a};
  nadi_hparams sum = nadi_hparams_default();
  if (g.st == NAD_OK)
    g.st = nadi_add_node(g.b, NADI_ARITH, two, 2, &sum, NULL, &g.cur);
  add(&g, NADI_LAYERNORM, ln);
  add(&g, NADI_GATHER, ga);
  add(&g, NADI_GEMM, fc);
  if (g.st != NAD_OK) {
    nadi_builder_destroy(g.b);
    return g.st;
  }
  return nadi_builder_finish(g.b, out);
}

/* Depthwise with a channel multiplier and stride 2, 7x1 and 1x7 (strided) convolutions, a
 * global average. */
static nad_status build_inception(nadi_graph **out) {
  gb g = {NULL, NADI_INPUT_NODE, nadi_builder_create(2, 12, 14, &g.b)};
  nadi_hparams none = nadi_hparams_default(), fc = none;
  fc.out_c = 2, fc.bias = 1;
  add(&g, NADI_CONV2D, conv_hp(4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1));
  add(&g, NADI_RELU, none);
  add(&g, NADI_CONV2D, conv_hp(8, 5, 5, 2, 2, 2, 2, 2, 2, 1, 4, 1)); /* depthwise x2 */
  add(&g, NADI_BATCHNORM, none), add(&g, NADI_RELU, none);
  add(&g, NADI_CONV2D, conv_hp(6, 7, 1, 1, 1, 3, 0, 3, 0, 1, 2, 1));
  add(&g, NADI_RELU, none);
  add(&g, NADI_CONV2D, conv_hp(5, 1, 7, 1, 2, 0, 3, 0, 3, 1, 1, 0));
  add(&g, NADI_GAP, none);
  add(&g, NADI_LINEAR, fc);
  if (g.st != NAD_OK) {
    nadi_builder_destroy(g.b);
    return g.st;
  }
  return nadi_builder_finish(g.b, out);
}

/* Issue-17 kinds inside a delta forward: conv -> KIND -> conv, where KIND is a pointwise kind
 * that the delta forward runs on patch values (its own forward on the patch cells), and a chain
 * with dense kinds (a layer scale, a group norm) that it materialises. */
static void check_issue17(void) {
  static const struct {
    const char *what;
    nadi_kind kind[3];
    int n;
  } graphs[] = {
      {"conv-silu-conv", {NADI_SILU}, 1},
      {"conv-clip-conv", {NADI_CLIP}, 1},
      {"conv-gelu-conv", {NADI_GELU}, 1},
      {"conv-hardswish-conv", {NADI_HARDSWISH}, 1},
      {"conv-silu-scale-gn-conv", {NADI_SILU, NADI_ARITH_PARAM, NADI_GROUPNORM}, 3},
  };
  for (size_t i = 0; i < sizeof graphs / sizeof *graphs; i++) {
    nadi_builder *b;
    nadi_graph *g = NULL;
    int32_t n;
    nad_status st = nadi_builder_create(2, 11, 10, &b);
    if (st == NAD_OK)
      st = nadi_add_conv(b, NADI_INPUT_NODE, 4, 3, 1, 1, 1, NADI_INIT_TORCH, NULL, &n);
    for (int k = 0; k < graphs[i].n && st == NAD_OK; k++) {
      nadi_hparams hp = nadi_hparams_default();
      hp.act_lo = -0.3, hp.act_hi = 0.4;                        /* clip */
      hp.arith_op = NADI_ARITH_MUL, hp.arith_side = 1;          /* layer scale (4,1,1) * x */
      hp.arith_prank = 3, hp.arith_pshape[0] = 4, hp.arith_pshape[1] = hp.arith_pshape[2] = 1;
      hp.norm_groups = 2;
      st = nadi_add_node(b, graphs[i].kind[k], &n, 1, &hp, NULL, &n);
    }
    if (st == NAD_OK)
      st = nadi_add_conv(b, n, 3, 3, 1, 1, 1, NADI_INIT_TORCH, NULL, &n);
    if (st == NAD_OK)
      st = nadi_builder_finish(b, &g);
    else
      nadi_builder_destroy(b);
    if (st != NAD_OK) {
      printf("FAIL %s: %s\n", graphs[i].what, nad_last_error());
      failed++;
      continue;
    }
    check(graphs[i].what, g, 24, 300 + i, 0);
    /* with every local node on patches, the pointwise kinds are */
    nadi_delta *p;
    if (nadi_delta_create(g, 24, INFINITY, &p) == NAD_OK) {
      int64_t want = graphs[i].n == 1 ? 3 : 2; /* conv, KIND, conv / conv, silu */
      CHECK(nadi_delta_patch_nodes(p) >= want, "%s: %lld nodes on patches, expected >= %lld",
            graphs[i].what, (long long)nadi_delta_patch_nodes(p), (long long)want);
      nadi_delta_destroy(p);
    }
    nadi_graph_destroy(g);
  }
}

int main(void) {
  static const struct {
    const char *name;
    int64_t c, h, w, batch;
  } builtins[] = {{"logreg", 1, 32, 32, 16},   {"lenet", 1, 32, 32, 64},
                  {"lenet", 3, 28, 36, 32},    {"lenet-nopool", 1, 32, 32, 16},
                  {"allconv", 1, 32, 32, 32},  {"vgg11", 1, 32, 32, 8},
                  {"vgg11-bn", 3, 32, 32, 8},  {"resnet18", 1, 32, 32, 6},
                  {"densenet121", 1, 32, 32, 4}, {"vit", 3, 32, 32, 4}};
  for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++) {
    nadi_graph *g;
    char what[64];
    snprintf(what, sizeof what, "%s %lldx%lldx%lld", builtins[i].name, (long long)builtins[i].c,
             (long long)builtins[i].h, (long long)builtins[i].w);
    if (nadi_builtin_build(builtins[i].name, builtins[i].c, builtins[i].h, builtins[i].w, 2, &g) != NAD_OK) {
      printf("FAIL %s: %s\n", what, nad_last_error());
      failed++;
      continue;
    }
    /* vit: its last block's 7 nodes and the final layernorm on the class token */
    check(what, g, builtins[i].batch, 7 + i, strcmp(builtins[i].name, "vit") == 0 ? 8 : 0);
    nadi_graph_destroy(g);
  }
  static const struct {
    const char *spec;
    int64_t c, h, w;
  } specs[] = {
      {"conv 4 k3 s2 p1; relu; maxpool 2; conv 5 k3 p2; bn; relu; avgpool 3 s2; fc 3", 2, 23, 19},
      {"maxpool 3 s2; conv 3 k1; relu; fc 2", 1, 11, 12},       /* odd map: last row uncovered */
      {"conv 3 k5 p2 nobias; bn; dropout 0.5; relu; conv 2 k3", 1, 9, 9}, /* all local */
      {"conv 4 k3 p1; residual { conv 4 k3 p1; relu }; gap; fc 1", 1, 10, 10},
      /* residual block with a strided 1x1 conv + bn shortcut, a dense block, bn before conv */
      {"conv 4 k3 p1; bn; relu; residual { conv 6 k3 s2 p1; bn; relu; conv 6 k3 p1; bn } "
       "shortcut { conv 6 k1 s2 nobias; bn }; relu; dense { bn; relu; conv 3 k1; bn; relu; "
       "conv 2 k3 p1 }; avgpool 2; fc 3",
       2, 13, 11},
      /* a conv read twice is not folded; maxpool 3 s2 over an odd map; flatten before fc */
      {"conv 3 k3; residual { bn; relu; conv 3 k3 p1 }; bn; maxpool 3 s2; flatten; fc 2", 1, 12, 9},
      /* a linear layer whose gathered weight columns (2,312 x 2,000) exceed the 4 Mi-float
       * block of lib/graph/delta_patch.c: computed in blocks of output rows */
      {"conv 8 k9 p4; conv 8 k9 p4; fc 2000", 1, 24, 24},
      /* BN -> ReLU fused with no BatchNorm folded (on the input; in a dense block after a
       * convolution without BN): the folded graph's forward must be the original's bit for bit */
      {"bn; relu; conv 4 k3 p1; relu; dense { bn; relu; conv 3 k3 p1 }; dense { bn; relu; "
       "conv 2 k1 }; maxpool 2; bn; relu; fc 2",
       2, 12, 10},
  };
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
    nadi_graph *g;
    if (nadi_spec_build(specs[i].spec, specs[i].c, specs[i].h, specs[i].w, &g) != NAD_OK) {
      printf("FAIL spec %zu: %s\n", i, nad_last_error());
      failed++;
      continue;
    }
    char what[32];
    snprintf(what, sizeof what, "spec %zu", i);
    check(what, g, 40, 100 + i, 0);
    nadi_graph_destroy(g);
  }
  /* slicing: the last encoder's MLP, its residual adds, its attention's output projection and
   * the final layernorm (8 nodes) on the class token alone, not the gelu after cls; none when
   * the Gather is the network's output */
  static const struct {
    const char *spec;
    int64_t c, h, w, sliced;
  } sliced[] = {
      {"embed 16 p4; encoder 2 32; encoder 2 32; layernorm; cls; gelu; fc 3", 1, 8, 8, 8},
      {"embed 8 p4; encoder 2 16; cls; fc 2", 1, 8, 12, 7},
      {"embed 16 p2; encoder 4 24; layernorm; cls", 2, 6, 4, 0},
  };
  for (size_t i = 0; i < sizeof sliced / sizeof *sliced; i++) {
    nadi_graph *g;
    char what[32];
    snprintf(what, sizeof what, "sliced spec %zu", i);
    if (nadi_spec_build(sliced[i].spec, sliced[i].c, sliced[i].h, sliced[i].w, &g) != NAD_OK) {
      printf("FAIL %s: %s\n", what, nad_last_error());
      failed++;
      continue;
    }
    check(what, g, 12, 400 + i, sliced[i].sliced);
    nadi_graph_destroy(g);
  }
  nad_status (*const general[3])(nadi_graph **) = {build_mobile, build_inception, build_sliced};
  for (int i = 0; i < 3; i++) {
    nadi_graph *g;
    if (general[i](&g) != NAD_OK) {
      printf("FAIL general graph %d: %s\n", i, nad_last_error());
      failed++;
      continue;
    }
    char what[32];
    static const char *const names[3] = {"mobilenet-like", "inception-like", "sliced by hand"};
    snprintf(what, sizeof what, "%s", names[i]);
    check(what, g, 40, 200 + (uint64_t)i, i == 2 ? 5 : 0);
    nadi_graph_destroy(g);
  }
  check_issue17();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
