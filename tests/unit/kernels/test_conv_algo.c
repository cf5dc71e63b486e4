/* The eval-mode convolution algorithms (Winograd F(2×2,3×3) and F(4×4,3×3), tiny maps as one
 * dense GEMM; lib/kernels/conv_algo.h) and conv2d's dispatch, against a direct convolution in
 * double precision, on every convolution shape of the built-in architectures at 1×32×32 and
 * 3×32×32, for batches 1, odd and >= the dispatch threshold, with and without bias.
 *
 * Error measure: per output plane (image, channel), ‖y − y_ref‖₂ / ‖mag‖₂ with mag = Σ_taps |w|·|x|
 * per element, the scale that float rounding of a dot product is proportional to (a relative
 * error of the output itself is meaningless where the sum cancels; per element, Winograd's
 * error follows the magnitudes of the whole input tile rather than of the 3×3 window, so an
 * output whose window is all zero can carry a rounding error: the plane norm judges both
 * fairly). The direct float im2col path is measured on the same data as the yardstick of
 * "float rounding"; the asserted bounds (tol below) are about 4x the worst measured.
 *
 * The reference is evaluated on a sample of output channels (all when O <= 16; else 16 spread
 * over [0, O)) and every pixel, which keeps vgg11-nopool's 512-channel 32×32 layers affordable
 * while every tile position, border and image of the batch is checked.
 *
 * Usage: test_conv_algo [--max-macs N]: only layers up to N multiply-adds per image (the
 * sanitizer builds use 2^24, valgrind 2^22; still every algorithm, border case, chunk and group
 * split); env TEST_VERBOSE prints every measured error. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "kernels/conv_algo.h"
#include "kernels/window.h"
#include "../check.h"
#include "sentinel.h"

#define MAX_SAMPLED 16

static nadi_rng g_rng;
static int g_verbose;

static int64_t prod3(const int64_t s[3]) { return s[0] * s[1] * s[2]; }

/* ---- the shapes ------------------------------------------------------------------------------ */

typedef struct shape {
  int64_t c, h, w, o;
  int32_t k, s, p;
} shape;

#define MAX_SHAPES 256
static shape g_shapes[MAX_SHAPES];
static int g_n_shapes;

static void add_shape(const nadi_layer *l) {
  shape s = {l->in_shape[0][0], l->in_shape[0][1], l->in_shape[0][2], l->out_shape[0],
             l->k, l->stride, l->pad};
  for (int i = 0; i < g_n_shapes; i++) {
    const shape *t = &g_shapes[i];
    if (t->c == s.c && t->h == s.h && t->w == s.w && t->o == s.o && t->k == s.k && t->s == s.s &&
        t->p == s.p)
      return;
  }
  if (g_n_shapes < MAX_SHAPES)
    g_shapes[g_n_shapes++] = s;
}

static nadi_layer mk_conv(const shape *s, int32_t bias) {
  nadi_layer l;
  memset(&l, 0, sizeof l);
  l.kind = NADI_CONV2D;
  l.n_in = 1;
  l.in[0] = l.in[1] = NADI_INPUT_NODE;
  l.in_shape[0][0] = s->c, l.in_shape[0][1] = s->h, l.in_shape[0][2] = s->w;
  l.out_c = s->o;
  l.k = s->k, l.stride = s->s, l.pad = s->p, l.bias = bias;
  nadi_window_canon(&l, 0, NADI_WINDOW_CONV); /* the general window fields, as shape() would */
  l.out_shape[0] = s->o;
  l.out_shape[1] = (s->h + 2 * s->p - s->k) / s->s + 1;
  l.out_shape[2] = (s->w + 2 * s->p - s->k) / s->s + 1;
  l.n_params = s->o * s->c * s->k * s->k + (bias ? s->o : 0);
  snprintf(l.desc, sizeof l.desc, "conv %lldx%lldx%lld->%lld k%d s%d p%d", (long long)s->c,
           (long long)s->h, (long long)s->w, (long long)s->o, s->k, s->s, s->p);
  return l;
}

static int64_t macs_per_image(const nadi_layer *l) {
  return prod3(l->out_shape) * l->in_shape[0][0] * l->k * l->k;
}

/* ---- reference --------------------------------------------------------------------------------- */

typedef struct sample {
  int64_t n_o, o[MAX_SAMPLED];
} sample;

static sample sample_channels(int64_t o) {
  sample s;
  s.n_o = o <= MAX_SAMPLED ? o : MAX_SAMPLED;
  for (int64_t i = 0; i < s.n_o; i++) /* spread over [0, O), first and last included */
    s.o[i] = s.n_o == o ? i : i * (o - 1) / (MAX_SAMPLED - 1);
  return s;
}

/* ref[b][i][pix] = bias + Σ w x and mag[b][i][pix] = |bias| + Σ |w||x| in double, for the
 * sampled output channels i. */
static void ref_conv(const nadi_layer *l, const sample *smp, const float *w, const float *bias,
                     const float *x, int64_t nb, double *ref, double *mag) {
  const int64_t C = l->in_shape[0][0], H = l->in_shape[0][1], W = l->in_shape[0][2];
  const int64_t OH = l->out_shape[1], OW = l->out_shape[2], P = OH * OW;
  const int64_t k = l->k, s = l->stride, p = l->pad;
  for (int64_t b = 0; b < nb; b++)
    for (int64_t i = 0; i < smp->n_o; i++) {
      int64_t o = smp->o[i];
      double *r = ref + (b * smp->n_o + i) * P, *m = mag + (b * smp->n_o + i) * P;
      for (int64_t q = 0; q < P; q++) {
        r[q] = bias ? bias[o] : 0.0;
        m[q] = bias ? fabs(bias[o]) : 0.0;
      }
      for (int64_t c = 0; c < C; c++) {
        const float *xc = x + (b * C + c) * H * W;
        for (int64_t ky = 0; ky < k; ky++)
          for (int64_t kx = 0; kx < k; kx++) {
            double wv = w[((o * C + c) * k + ky) * k + kx];
            for (int64_t oy = 0; oy < OH; oy++) {
              int64_t iy = oy * s - p + ky;
              if (iy < 0 || iy >= H)
                continue;
              for (int64_t ox = 0; ox < OW; ox++) {
                int64_t ix = ox * s - p + kx;
                if (ix < 0 || ix >= W)
                  continue;
                double xv = xc[iy * W + ix];
                r[oy * OW + ox] += wv * xv;
                m[oy * OW + ox] += fabs(wv * xv);
              }
            }
          }
      }
    }
}

/* Error of y against ref over the sampled outputs: the worst plane (image b, channel o) of
 * ‖y − ref‖₂ / ‖mag‖₂, and the worst element of |y − ref| / mag in *elem (0/0 = 0). */
static double scaled_err(const nadi_layer *l, const sample *smp, const float *y, const double *ref,
                         const double *mag, int64_t nb, double *elem) {
  const int64_t O = l->out_shape[0], P = l->out_shape[1] * l->out_shape[2];
  double e = 0.0;
  *elem = 0.0;
  for (int64_t b = 0; b < nb; b++)
    for (int64_t i = 0; i < smp->n_o; i++) {
      const double *r = ref + (b * smp->n_o + i) * P, *m = mag + (b * smp->n_o + i) * P;
      const float *yo = y + (b * O + smp->o[i]) * P;
      double dd = 0.0, mm = 0.0;
      for (int64_t q = 0; q < P; q++) {
        double d = fabs((double)yo[q] - r[q]);
        dd += d * d;
        mm += m[q] * m[q];
        double el = m[q] > 0 ? d / m[q] : (d > 0 ? INFINITY : 0.0);
        *elem = el > *elem || isnan(el) ? (isnan(el) ? INFINITY : el) : *elem;
      }
      double pe = mm > 0 ? sqrt(dd / mm) : (dd > 0 ? INFINITY : 0.0);
      if (!(pe <= e)) /* NaN propagates as an error */
        e = isnan(pe) ? INFINITY : pe;
    }
  return e;
}

/* ---- one shape --------------------------------------------------------------------------------- */

enum { A_IM2COL, A_WINO2, A_WINO4, A_TINY, A_DISPATCH, A_COUNT };
static const char *const algo_name[A_COUNT] = {"im2col", "wino F2", "wino F4", "tiny", "dispatch"};
static double g_worst[A_COUNT];

/* Asserted bounds on the plane-normwise error ‖y − y_ref‖₂ / ‖Σ|w||x|‖₂ (see the top), about
 * 4x the worst measured over all shapes here (u = 2^-24 = 6e-8 is float's unit roundoff):
 * im2col 1.5e-7, F(2×2) 2.2e-7, tiny maps 1.5e-7, F(4×4) 6.4e-7 (its transforms have entries up
 * to 8 and 1/24: half a decimal digit more rounding error than the direct sum; elementwise up
 * to 10x im2col's, TEST_VERBOSE prints both). Each is far inside the classical bound for a
 * float dot product of C·9 terms, γ = C·9·u ≈ 2.8e-4 for C = 512, and a wrong tap, tile or
 * border value would give errors of order 1/sqrt(OH·OW) > 1e-2. */
static const double tol[A_COUNT] = {6e-7, 1e-6, 2.5e-6, 6e-7, 2.5e-6};

typedef enum { X_GAUSS, X_RELU } x_kind;

static void run_algo(int algo, const nadi_layer *l, const float *w, const float *bias,
                     const float *x, float *y, int64_t nb, float *ws) {
  nadi_ctx ctx = {.batch = nb, .training = 0, .ws = ws, .state = NULL, .rng = NULL,
                  .forward_only = algo == A_DISPATCH};
  const float *xs[1] = {x};
  switch (algo) {
  case A_WINO2:
  case A_WINO4:
    nadi_wino_forward(l, algo == A_WINO2 ? 2 : 4, w, bias, x, y, nb, ws);
    break;
  case A_TINY:
    nadi_tiny_forward(l, w, bias, x, y, nb, ws);
    break;
  default: /* the kernel table's forward: im2col, or the dispatch of a forward-only executor */
    nadi_ops(NADI_CONV2D)->forward(l, (float *)w, xs, y, &ctx);
  }
}

static size_t algo_ws(int algo, const nadi_layer *l, int64_t nb) {
  switch (algo) {
  case A_WINO2:
    return nadi_wino_workspace(l, 2, nb);
  case A_WINO4:
    return nadi_wino_workspace(l, 4, nb);
  case A_TINY:
    return nadi_tiny_workspace(l);
  default:
    return nadi_ops(NADI_CONV2D)->workspace(l, nb);
  }
}

static void check_shape(const shape *s, int64_t nb, int32_t bias, x_kind xk, int vgg_init) {
  nadi_layer l = mk_conv(s, bias);
  const int64_t nin = nb * prod3(l.in_shape[0]), nout = nb * prod3(l.out_shape);
  const int64_t fan_in = s->c * s->k * s->k;
  float *w = fbuf(l.n_params), *x = fbuf(nin), *y = fbuf(nout);
  if (vgg_init) /* VGG: N(0, 2 / (k² O)), bias 0 */
    nadi_rng_fill_normal(&g_rng, w, l.n_params, 0.0, sqrt(2.0 / (double)(s->k * s->k * s->o)));
  else /* PyTorch default: U(±1/sqrt(fan_in)) for weight and bias */
    nadi_rng_fill_uniform(&g_rng, w, l.n_params, -1.0 / sqrt((double)fan_in),
                          1.0 / sqrt((double)fan_in));
  nadi_rng_fill_normal(&g_rng, x, nin, 0.0, 1.0);
  if (xk == X_RELU) /* post-ReLU activations: half zeros, non-negative */
    for (int64_t i = 0; i < nin; i++)
      x[i] = x[i] > 0 ? x[i] : 0.0f;
  const float *b = bias ? w + s->o * fan_in : NULL;
  sample smp = sample_channels(s->o);
  const int64_t nref = nb * smp.n_o * l.out_shape[1] * l.out_shape[2];
  double *ref = malloc((size_t)nref * sizeof(double)), *mag = malloc((size_t)nref * sizeof(double));
  if (!ref || !mag) {
    printf("out of memory\n");
    exit(2);
  }
  ref_conv(&l, &smp, w, b, x, nb, ref, mag);
  for (int algo = 0; algo < A_COUNT; algo++) {
    if ((algo == A_WINO2 || algo == A_WINO4) && !nadi_wino_applicable(&l))
      continue;
    if (algo == A_TINY && !nadi_tiny_applicable(&l))
      continue;
    size_t nws = algo_ws(algo, &l, nb);
    float *ws = fbuf((int64_t)nws);
    for (int64_t i = 0; i < nout; i++)
      y[i] = NAN; /* every output must be written */
    run_algo(algo, &l, w, b, x, y, nb, ws);
    double el, e = scaled_err(&l, &smp, y, ref, mag, nb, &el);
    if (e > g_worst[algo])
      g_worst[algo] = e;
    if (g_verbose)
      printf("  %-36s B=%-3lld %s %s %-8s plane %.2e element %.2e\n", l.desc, (long long)nb,
             bias ? "bias  " : "nobias", xk == X_RELU ? "relu " : "gauss", algo_name[algo], e, el);
    CHECK(e <= tol[algo], "%s batch %lld %s: scaled error %.3g > %.3g", l.desc, (long long)nb,
          algo_name[algo], e, tol[algo]);
    CHECK(guard_ok(ws, (int64_t)nws) && guard_ok(y, nout), "%s batch %lld %s: wrote past a buffer",
          l.desc, (long long)nb, algo_name[algo]);
    free(ws);
  }
  free(w);
  free(x);
  free(y);
  free(ref);
  free(mag);
}

/* Workspaces are sized once for a batch capacity and used for every smaller batch. */
static void check_workspace_monotone(const shape *s) {
  nadi_layer l = mk_conv(s, 1);
  int64_t bs[] = {1, 2, 7, 8, 9, 64, 255, 512, 4096};
  for (size_t i = 0; i + 1 < sizeof bs / sizeof bs[0]; i++) {
    CHECK(nadi_ops(NADI_CONV2D)->workspace(&l, bs[i]) <= (*nadi_ops(NADI_CONV2D)).workspace(&l, bs[i + 1]),
          "%s: workspace shrinks from batch %lld to %lld", l.desc, (long long)bs[i],
          (long long)bs[i + 1]);
    if (nadi_wino_applicable(&l))
      CHECK(nadi_wino_workspace(&l, 2, bs[i]) <= nadi_wino_workspace(&l, 2, bs[i + 1]) &&
                nadi_wino_workspace(&l, 4, bs[i]) <= nadi_wino_workspace(&l, 4, bs[i + 1]),
            "%s: Winograd workspace shrinks from batch %lld", l.desc, (long long)bs[i]);
  }
}

/* A batch smaller than the capacity the workspace was sized for, through the dispatch. */
static void check_small_batch_in_big_workspace(const shape *s) {
  nadi_layer l = mk_conv(s, 1);
  int64_t cap = 64, nb = 9;
  size_t nws = nadi_ops(NADI_CONV2D)->workspace(&l, cap);
  float *ws = fbuf((int64_t)nws), *w = fbuf(l.n_params);
  int64_t nin = nb * prod3(l.in_shape[0]), nout = nb * prod3(l.out_shape);
  float *x = fbuf(nin), *y = fbuf(nout), *y1 = fbuf(nout);
  nadi_rng_fill_uniform(&g_rng, w, l.n_params, -0.1, 0.1);
  nadi_rng_fill_normal(&g_rng, x, nin, 0.0, 1.0);
  run_algo(A_DISPATCH, &l, w, w + l.n_params - s->o, x, y, nb, ws);
  /* the same batch in a workspace of its own size gives bit-identical results */
  float *ws1 = fbuf((int64_t)nadi_ops(NADI_CONV2D)->workspace(&l, nb));
  run_algo(A_DISPATCH, &l, w, w + l.n_params - s->o, x, y1, nb, ws1);
  CHECK(memcmp(y, y1, (size_t)nout * sizeof(float)) == 0 && guard_ok(ws, (int64_t)nws),
        "%s: batch %lld in a workspace for %lld differs", l.desc, (long long)nb, (long long)cap);
  free(ws);
  free(ws1);
  free(w);
  free(x);
  free(y);
  free(y1);
}

/* The fast algorithms take plain convolutions only: a grouped, dilated, rectangular, strided
 * unequally or asymmetrically padded variant of a layer they take goes through im2col. */
static void check_only_plain(void) {
  static const int64_t variant[][10] = {
      /* kh kw sh sw pt pl pb pr d groups; the first is plain (3x3 s1 p1) */
      {3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, {3, 3, 1, 1, 1, 1, 1, 1, 1, 16},
      {3, 3, 1, 1, 1, 1, 1, 1, 1, 2}, {3, 3, 1, 1, 2, 2, 2, 2, 2, 1},
      {3, 1, 1, 1, 1, 0, 1, 0, 1, 1}, {3, 3, 1, 1, 0, 0, 1, 1, 1, 1}};
  for (int in = 1; in <= 2; in++) /* a 6x6 plane (Winograd) and a 2x2 one (tiny maps) */
    for (size_t i = 0; i < sizeof variant / sizeof variant[0]; i++) {
      const int64_t *v = variant[i], hw = in == 1 ? 6 : 2;
      nadi_builder *b;
      nadi_graph *g = NULL;
      nadi_hparams hp = nadi_hparams_default();
      hp.out_c = 32, hp.kh = v[0], hp.kw = v[1], hp.sh = v[2], hp.sw = v[3], hp.pad_t = v[4];
      hp.pad_l = v[5], hp.pad_b = v[6], hp.pad_r = v[7], hp.dh = hp.dw = v[8], hp.groups = v[9];
      int32_t in0 = NADI_INPUT_NODE;
      CHECK(nadi_builder_create(16, hw, hw, &b) == NAD_OK &&
                nadi_add_node(b, NADI_CONV2D, &in0, 1, &hp, NULL, NULL) == NAD_OK &&
                nadi_builder_finish(b, &g) == NAD_OK,
            "variant %zu: %s", i, nad_last_error());
      if (!g)
        continue;
      int fast = in == 1 ? nadi_wino_applicable(&g->layers[0]) : nadi_tiny_applicable(&g->layers[0]);
      CHECK(fast == (i == 0), "%s on %lldx%lld: %s %s", g->layers[0].desc, (long long)hw,
            (long long)hw, in == 1 ? "winograd" : "tiny maps", fast ? "taken" : "not taken");
      nadi_graph_destroy(g);
    }
}

int main(int argc, char **argv) {
  int64_t max_macs = argc > 2 && strcmp(argv[1], "--max-macs") == 0 ? atoll(argv[2]) : INT64_MAX;
  nadi_rng_init(&g_rng, 20261130, 0);
  g_verbose = getenv("TEST_VERBOSE") != NULL;
  check_only_plain();

  /* every convolution shape of every built-in, grey and colour inputs */
  for (int32_t i = 0; i < nadi_builtin_count(); i++)
    for (int64_t c = 1; c <= 3; c += 2) {
      nadi_graph *g;
      if (nadi_builtin_build(nadi_builtin_name(i), c, 32, 32, 1, &g) != NAD_OK)
        continue; /* the shape does not fit this architecture */
      for (int64_t j = 0; j < g->n_layers; j++)
        if (g->layers[j].kind == NADI_CONV2D && g->layers[j].groups <= 1) /* the plain ones */
          add_shape(&g->layers[j]);
      nadi_graph_destroy(g);
    }
  /* odd sizes: partial tiles at the bottom/right edge, pad 0 and 2, a 1×1 map */
  static const shape extra[] = {{16, 7, 9, 17, 3, 1, 1},  {20, 5, 6, 16, 3, 1, 0},
                                {16, 6, 6, 18, 3, 1, 2},  {24, 1, 1, 20, 3, 1, 1},
                                {18, 2, 3, 16, 3, 1, 1},  {16, 3, 3, 32, 3, 1, 0},
                                {32, 1, 1, 24, 1, 1, 0},  {16, 2, 2, 32, 3, 2, 1}};
  for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
    g_shapes[g_n_shapes++] = extra[i];

  int tested = 0;
  for (int i = 0; i < g_n_shapes; i++) {
    const shape *s = &g_shapes[i];
    nadi_layer l = mk_conv(s, 1);
    if (!nadi_wino_applicable(&l) && !nadi_tiny_applicable(&l))
      continue; /* im2col only: covered by test_layers */
    int64_t macs = macs_per_image(&l);
    if (macs > max_macs)
      continue;
    tested++;
    /* batch 1, and odd batches above the dispatch thresholds (CONV_MIN_TILES = 32 tiles or tiny
     * images) where affordable; vgg11-nopool's 512-channel 32×32 layers (2.4 GMAC per image)
     * once at batch 8 */
    check_shape(s, 1, 1, X_RELU, 0);
    if (macs <= (1 << 26)) {
      check_shape(s, 33, 1, X_GAUSS, 0);
      check_shape(s, 13, 0, X_RELU, 1);
    } else {
      check_shape(s, macs <= (1 << 28) ? 13 : 8, 0, X_RELU, 1);
    }
    check_workspace_monotone(s);
    if (macs <= (1 << 26))
      check_small_batch_in_big_workspace(s);
  }
  CHECK(tested >= (max_macs < INT64_MAX ? 6 : 20), "only %d shapes tested", tested);
  printf("%d shapes; worst scaled error:", tested);
  for (int a = 0; a < A_COUNT; a++)
    printf(" %s %.2e", algo_name[a], g_worst[a]);
  printf("\n");
  return check_summary();
}
