/* Max and average pooling, PyTorch MaxPool2d/AvgPool2d semantics: kernel kh x kw, strides sh, sw,
 * paddings (top, left, bottom, right; max pooling pads with -inf, average pooling with zeros),
 * floor or ceil mode (layer.h, "Windows"), count_include_pad for the average's divisor; and
 * AdaptiveAvgPool2d (PyTorch's windows: rows [floor(i*H/OH), ceil((i+1)*H/OH))).
 *
 * The average's divisor is PyTorch's: with count_include_pad the window clipped to the padded
 * plane (not to the ceil-mode overhang beyond it), else the number of input cells it covers.
 *
 * Max pooling picks the first maximum in row-major window order and lets NaN win (the same test as
 * ATen's CPU kernel: `val > max || isnan(val)`, starting from -inf), so gradients go where
 * PyTorch sends them. Backward recomputes the argmax from x instead of saving indices: it costs one
 * more pass over the window but no state memory, and the forward-only estimator never pays for
 * index storage. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/window.h"

typedef struct pool_geom {
  int64_t planes; /* batch * channels */
  int64_t h, w, oh, ow;
  int64_t kh, kw, sh, sw, pt, pl, pb, pr;
  int cip;    /* count_include_pad */
  int inside; /* every window lies inside the input: no clipping */
} pool_geom;

static pool_geom pool_geometry(const nadi_layer *l, int64_t batch) {
  pool_geom g;
  g.planes = batch * l->in_shape[0][0];
  g.h = l->in_shape[0][1];
  g.w = l->in_shape[0][2];
  g.oh = l->out_shape[1];
  g.ow = l->out_shape[2];
  g.kh = l->kh, g.kw = l->kw, g.sh = l->sh, g.sw = l->sw;
  g.pt = l->pad_t, g.pl = l->pad_l, g.pb = l->pad_b, g.pr = l->pad_r;
  g.cip = l->count_include_pad != 0;
  g.inside = g.pt == 0 && g.pl == 0 && (g.oh - 1) * g.sh + g.kh <= g.h &&
             (g.ow - 1) * g.sw + g.kw <= g.w;
  return g;
}

/* The window of output (oy, ox): input rows [r0, r1) and columns [c0, c1), and the average's
 * divisor (PyTorch's avg_pool2d). */
typedef struct pool_win {
  int64_t r0, r1, c0, c1, div;
} pool_win;

static inline pool_win pool_window(const pool_geom *g, int64_t oy, int64_t ox) {
  pool_win v;
  int64_t hs = oy * g->sh - g->pt, ws = ox * g->sw - g->pl;
  int64_t he = hs + g->kh < g->h + g->pb ? hs + g->kh : g->h + g->pb;
  int64_t we = ws + g->kw < g->w + g->pr ? ws + g->kw : g->w + g->pr;
  int64_t size = (he - hs) * (we - ws);
  v.r0 = hs > 0 ? hs : 0, v.c0 = ws > 0 ? ws : 0;
  v.r1 = he < g->h ? he : g->h, v.c1 = we < g->w ? we : g->w;
  v.div = g->cip ? size : (v.r1 - v.r0) * (v.c1 - v.c0);
  return v;
}

/* Which element wins is a coin flip on real data, so the updates below are branch-free selects
 * (bit masks): a compare-and-branch version mispredicts about once per window and is several
 * times slower. */
static inline int takes_over(float v, float m) { return (v > m) | (v != v); }

static inline float select_f(int take, float a, float b) {
  uint32_t ua, ub, mk = -(uint32_t)take;
  memcpy(&ua, &a, sizeof ua);
  memcpy(&ub, &b, sizeof ub);
  ua = (ua & mk) | (ub & ~mk);
  memcpy(&a, &ua, sizeof a);
  return a;
}

/* Offset (within the plane) of the maximum of the kh x kw window starting at `win`. */
static inline int64_t window_argmax(const float *plane, int64_t win, int64_t kh, int64_t kw,
                                    int64_t w) {
  float m = -INFINITY;
  int64_t at = win;
  for (int64_t i = 0; i < kh; i++) {
    const float *row = plane + win + i * w;
    for (int64_t j = 0; j < kw; j++) {
      float v = row[j];
      int t = takes_over(v, m);
      int64_t mk = -(int64_t)t;
      m = select_f(t, v, m);
      at = ((win + i * w + j) & mk) | (at & ~mk);
    }
  }
  return at;
}

/* The LeNet/VGG case k = 2, s = 2, one output row from input rows r0, r1, in ATen's comparison
 * order. The 4-wide bodies (parameters restrict) let GCC vectorize it at -O2. */
static void max2x2_row(const float *restrict r0, const float *restrict r1, float *restrict y,
                       int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (int j = 0; j < 4; j++) {
      int64_t q = 2 * (i + j);
      float m = r0[q];
      m = select_f(takes_over(r0[q + 1], m), r0[q + 1], m);
      m = select_f(takes_over(r1[q], m), r1[q], m);
      m = select_f(takes_over(r1[q + 1], m), r1[q + 1], m);
      y[i + j] = m;
    }
  }
  for (; i < n; i++) {
    int64_t q = 2 * i;
    float m = r0[q];
    m = select_f(takes_over(r0[q + 1], m), r0[q + 1], m);
    m = select_f(takes_over(r1[q], m), r1[q], m);
    m = select_f(takes_over(r1[q + 1], m), r1[q + 1], m);
    y[i] = m;
  }
}

/* Backward of max2x2_row: dx rows d and d + w += dy routed to each window's argmax. The argmax
 * offsets of a chunk are found with vectorizable selects, then scattered. */
static inline int32_t argmax2x2_one(const float *r0, const float *r1, int64_t q) {
  float m = r0[q];
  uint32_t a = 0, mk = -(uint32_t)takes_over(r0[q + 1], m);
  m = select_f(mk & 1, r0[q + 1], m);
  a = (1u & mk) | (a & ~mk);
  mk = -(uint32_t)takes_over(r1[q], m);
  m = select_f(mk & 1, r1[q], m);
  a = (2u & mk) | (a & ~mk);
  mk = -(uint32_t)takes_over(r1[q + 1], m);
  a = (3u & mk) | (a & ~mk);
  return (int32_t)a;
}

static void argmax2x2(const float *restrict r0, const float *restrict r1, int32_t *restrict at,
                      int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; j++)
      at[i + j] = argmax2x2_one(r0, r1, 2 * (i + j));
  for (; i < n; i++)
    at[i] = argmax2x2_one(r0, r1, 2 * i);
}

static void max2x2_row_backward(const float *r0, const float *r1, const float *dy, float *d,
                                int64_t w, int64_t n) {
  int32_t at[64]; /* window offsets: 0 r0[q], 1 r0[q+1], 2 r1[q], 3 r1[q+1] */
  for (int64_t c0 = 0; c0 < n; c0 += 64) {
    int64_t cn = n - c0 < 64 ? n - c0 : 64;
    argmax2x2(r0 + 2 * c0, r1 + 2 * c0, at, cn);
    for (int64_t j = 0; j < cn; j++)
      d[2 * (c0 + j) + (at[j] & 1) + (at[j] >> 1) * w] += dy[c0 + j];
  }
}

/* The k = 2, s = 2 case without clipping: the row kernels above. */
static int is_2x2(const pool_geom *g) {
  return g->inside && g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2;
}

/* Offset of output (oy, ox)'s maximum within its plane (clipped window: padding is -inf). */
static int64_t max_at(const pool_geom *g, const float *xp, int64_t oy, int64_t ox) {
  if (g->inside)
    return window_argmax(xp, oy * g->sh * g->w + ox * g->sw, g->kh, g->kw, g->w);
  pool_win v = pool_window(g, oy, ox);
  /* A whole 3x3 window (ResNet's stem pool, away from its border): the same loop with constant
   * bounds, unrolled by the compiler (the generic loop was 8 % of a 3x224x224 ResNet18
   * gradient: issue 19 §4). */
  if (v.r1 - v.r0 == 3 && v.c1 - v.c0 == 3)
    return window_argmax(xp, v.r0 * g->w + v.c0, 3, 3, g->w);
  return window_argmax(xp, v.r0 * g->w + v.c0, v.r1 - v.r0, v.c1 - v.c0, g->w);
}

static void maxpool_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                            nadi_ctx *ctx) {
  (void)params;
  pool_geom g = pool_geometry(l, ctx->batch);
  for (int64_t pl = 0; pl < g.planes; pl++) {
    const float *xp = xs[0] + pl * g.h * g.w;
    float *yp = y + pl * g.oh * g.ow;
    if (is_2x2(&g)) {
      for (int64_t oh = 0; oh < g.oh; oh++)
        max2x2_row(xp + 2 * oh * g.w, xp + (2 * oh + 1) * g.w, yp + oh * g.ow, g.ow);
      continue;
    }
    for (int64_t oh = 0; oh < g.oh; oh++)
      for (int64_t ow = 0; ow < g.ow; ow++)
        yp[oh * g.ow + ow] = xp[max_at(&g, xp, oh, ow)];
  }
}

static void maxpool_backward(const nadi_layer *l, const float *params, const float *const *xs,
                             const float *y, const float *dy, float *const *dxs, float *dparams,
                             nadi_ctx *ctx) {
  (void)params, (void)y, (void)dparams;
  float *dx = dxs ? dxs[0] : NULL;
  if (!dx)
    return;
  pool_geom g = pool_geometry(l, ctx->batch);
  for (int64_t pl = 0; pl < g.planes; pl++) {
    const float *xp = xs[0] + pl * g.h * g.w;
    const float *dyp = dy + pl * g.oh * g.ow;
    float *dxp = dx + pl * g.h * g.w;
    if (is_2x2(&g)) {
      for (int64_t oh = 0; oh < g.oh; oh++)
        max2x2_row_backward(xp + 2 * oh * g.w, xp + (2 * oh + 1) * g.w, dyp + oh * g.ow,
                            dxp + 2 * oh * g.w, g.w, g.ow);
      continue;
    }
    for (int64_t oh = 0; oh < g.oh; oh++)
      for (int64_t ow = 0; ow < g.ow; ow++)
        dxp[max_at(&g, xp, oh, ow)] += dyp[oh * g.ow + ow];
  }
}

static void avgpool_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                            nadi_ctx *ctx) {
  (void)params;
  pool_geom g = pool_geometry(l, ctx->batch);
  for (int64_t pl = 0; pl < g.planes; pl++) {
    const float *xp = xs[0] + pl * g.h * g.w;
    float *yp = y + pl * g.oh * g.ow;
    for (int64_t oh = 0; oh < g.oh; oh++) {
      for (int64_t ow = 0; ow < g.ow; ow++) {
        pool_win v = pool_window(&g, oh, ow);
        float sum = 0.0f;
        for (int64_t i = v.r0; i < v.r1; i++)
          for (int64_t j = v.c0; j < v.c1; j++)
            sum += xp[i * g.w + j];
        yp[oh * g.ow + ow] = sum / (float)v.div;
      }
    }
  }
}

static void avgpool_backward(const nadi_layer *l, const float *params, const float *const *xs,
                             const float *y, const float *dy, float *const *dxs, float *dparams,
                             nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  float *dx = dxs ? dxs[0] : NULL;
  if (!dx)
    return;
  pool_geom g = pool_geometry(l, ctx->batch);
  for (int64_t pl = 0; pl < g.planes; pl++) {
    const float *dyp = dy + pl * g.oh * g.ow;
    float *dxp = dx + pl * g.h * g.w;
    for (int64_t oh = 0; oh < g.oh; oh++) {
      for (int64_t ow = 0; ow < g.ow; ow++) {
        pool_win v = pool_window(&g, oh, ow);
        float d = dyp[oh * g.ow + ow] / (float)v.div;
        for (int64_t i = v.r0; i < v.r1; i++)
          for (int64_t j = v.c0; j < v.c1; j++)
            dxp[i * g.w + j] += d;
      }
    }
  }
}

/* ---- adaptive average pool ------------------------------------------------------------------- */

/* PyTorch's adaptive windows along an axis of n cells into `out`: [floor(i*n/out),
 * ceil((i+1)*n/out)). */
static inline int64_t adaptive_start(int64_t i, int64_t n, int64_t out) { return i * n / out; }
static inline int64_t adaptive_end(int64_t i, int64_t n, int64_t out) {
  return ((i + 1) * n + out - 1) / out;
}

static void adaptive_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                             nadi_ctx *ctx) {
  (void)params;
  const int64_t h = l->in_shape[0][1], w = l->in_shape[0][2], oh = l->pool_oh, ow = l->pool_ow;
  const int64_t planes = ctx->batch * l->in_shape[0][0];
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *xp = xs[0] + pl * h * w;
    float *yp = y + pl * oh * ow;
    for (int64_t i = 0; i < oh; i++) {
      int64_t r0 = adaptive_start(i, h, oh), r1 = adaptive_end(i, h, oh);
      for (int64_t j = 0; j < ow; j++) {
        int64_t c0 = adaptive_start(j, w, ow), c1 = adaptive_end(j, w, ow);
        float sum = 0.0f;
        for (int64_t r = r0; r < r1; r++)
          for (int64_t c = c0; c < c1; c++)
            sum += xp[r * w + c];
        yp[i * ow + j] = sum / (float)((r1 - r0) * (c1 - c0));
      }
    }
  }
}

static void adaptive_backward(const nadi_layer *l, const float *params, const float *const *xs,
                              const float *y, const float *dy, float *const *dxs, float *dparams,
                              nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  float *dx = dxs ? dxs[0] : NULL;
  if (!dx)
    return;
  const int64_t h = l->in_shape[0][1], w = l->in_shape[0][2], oh = l->pool_oh, ow = l->pool_ow;
  const int64_t planes = ctx->batch * l->in_shape[0][0];
  for (int64_t pl = 0; pl < planes; pl++) {
    const float *dyp = dy + pl * oh * ow;
    float *dxp = dx + pl * h * w;
    for (int64_t i = 0; i < oh; i++) {
      int64_t r0 = adaptive_start(i, h, oh), r1 = adaptive_end(i, h, oh);
      for (int64_t j = 0; j < ow; j++) {
        int64_t c0 = adaptive_start(j, w, ow), c1 = adaptive_end(j, w, ow);
        float d = dyp[i * ow + j] / (float)((r1 - r0) * (c1 - c0));
        for (int64_t r = r0; r < r1; r++)
          for (int64_t c = c0; c < c1; c++)
            dxp[r * w + c] += d;
      }
    }
  }
}

static const nadi_layer_ops maxpool_ops = {
    .name = "maxpool",
    .workspace = NULL,
    .state_size = NULL,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
};

static const nadi_layer_ops avgpool_ops = {
    .name = "avgpool",
    .workspace = NULL,
    .state_size = NULL,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
};

static const nadi_layer_ops adaptive_avgpool_ops = {
    .name = "adaptive_avgpool",
    .workspace = NULL,
    .state_size = NULL,
    .forward = adaptive_forward,
    .backward = adaptive_backward,
};

/* ---- descriptions ---------------------------------------------------------------------------- */

/* desc: "maxpool k2 s2" for the built-ins' square unpadded floor-mode windows, else in full. */
static void pool_desc(nadi_layer *l) {
  const char *name = nadi_ops(l->kind)->name;
  if (l->kh == l->kw && l->sh == l->sw && l->pad_t == 0 && l->pad_l == 0 && l->pad_b == 0 &&
      l->pad_r == 0 && !l->ceil_mode && !l->count_include_pad) {
    snprintf(l->desc, sizeof l->desc, "%s k%d s%d", name, (int)l->kh, (int)l->sh);
    return;
  }
  snprintf(l->desc, sizeof l->desc, "%s k%dx%d s%dx%d p%d,%d,%d,%d%s%s", name, (int)l->kh,
           (int)l->kw, (int)l->sh, (int)l->sw, (int)l->pad_t, (int)l->pad_l, (int)l->pad_b,
           (int)l->pad_r, l->ceil_mode ? " ceil" : "", l->count_include_pad ? " incl" : "");
}

static nad_status pool_shape(nadi_layer *l, int64_t index) {
  int64_t s[3];
  NADI_TRY(nadi_kind_map_chw(l, index, 0, s));
  NADI_TRY(nadi_window_canon(l, index, NADI_WINDOW_POOL));
  pool_desc(l);
  NADI_CHECK(s[1] <= INT32_MAX && s[2] <= INT32_MAX, NAD_ERR_SHAPE,
             "layer %lld (%s): input plane %lldx%lld is too large", (long long)index, l->desc,
             (long long)s[1], (long long)s[2]);
  int64_t oh = nadi_window_axis(s[1], l->pad_t, l->pad_b, l->kh, 1, l->sh, (int)l->ceil_mode);
  int64_t ow = nadi_window_axis(s[2], l->pad_l, l->pad_r, l->kw, 1, l->sw, (int)l->ceil_mode);
  char kern[48];
  nadi_window_text(l, kern, sizeof kern);
  NADI_CHECK(oh >= 1 && ow >= 1, NAD_ERR_SHAPE,
             "layer %lld (%s): input %lldx%lldx%lld is too small for %s", (long long)index,
             l->desc, (long long)s[0], (long long)s[1], (long long)s[2], kern);
  l->out_dims = nadi_dims_chw(s[0], oh, ow, 0);
  return NAD_OK;
}

static int64_t maxpool_flops(const nadi_layer *l) { /* kh*kw - 1 comparisons per output */
  int64_t f;
  return nadi_mul_ok(nadi_dims_numel(&l->out_dims), l->kh * l->kw - 1, &f) ? f : -1;
}

static int64_t avgpool_flops(const nadi_layer *l) { /* kh*kw - 1 additions and one scaling */
  int64_t f;
  return nadi_mul_ok(nadi_dims_numel(&l->out_dims), l->kh * l->kw, &f) ? f : -1;
}

const nadi_kind_desc nadi_kind_maxpool = {
    .ops = &maxpool_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = pool_shape,
    .flops = maxpool_flops,
    .delta = NADI_DELTA_WINDOW,
};

const nadi_kind_desc nadi_kind_avgpool = {
    .ops = &avgpool_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = pool_shape,
    .flops = avgpool_flops,
    .delta = NADI_DELTA_WINDOW,
};

static nad_status adaptive_shape(nadi_layer *l, int64_t index) {
  int64_t s[3];
  NADI_TRY(nadi_kind_map_chw(l, index, 0, s));
  NADI_CHECK(l->pool_oh >= 1 && l->pool_oh <= INT32_MAX && l->pool_ow >= 1 &&
                 l->pool_ow <= INT32_MAX,
             NAD_ERR_INVALID_ARG,
             "layer %lld: adaptive_avgpool needs an output size >= 1 (got %lldx%lld)",
             (long long)index, (long long)l->pool_oh, (long long)l->pool_ow);
  snprintf(l->desc, sizeof l->desc, "adaptive_avgpool %dx%d", (int)l->pool_oh, (int)l->pool_ow);
  NADI_CHECK(s[1] <= INT32_MAX && s[2] <= INT32_MAX, NAD_ERR_SHAPE,
             "layer %lld (%s): input plane %lldx%lld is too large", (long long)index, l->desc,
             (long long)s[1], (long long)s[2]);
  l->out_dims = nadi_dims_chw(s[0], l->pool_oh, l->pool_ow, 0);
  return NAD_OK;
}

/* One per input cell read: C * (sum of the window heights) * (sum of the window widths). */
static int64_t adaptive_flops(const nadi_layer *l) {
  const int64_t h = l->in_shape[0][1], w = l->in_shape[0][2];
  int64_t rows = 0, cols = 0, f;
  for (int64_t i = 0; i < l->pool_oh; i++)
    rows += adaptive_end(i, h, l->pool_oh) - adaptive_start(i, h, l->pool_oh);
  for (int64_t j = 0; j < l->pool_ow; j++)
    cols += adaptive_end(j, w, l->pool_ow) - adaptive_start(j, w, l->pool_ow);
  return nadi_mul_ok(l->in_shape[0][0], rows, &f) && nadi_mul_ok(f, cols, &f) ? f : -1;
}

const nadi_kind_desc nadi_kind_adaptive_avgpool = {
    .ops = &adaptive_avgpool_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = adaptive_shape,
    .flops = adaptive_flops,
    .delta = NADI_DELTA_DENSE,
};
