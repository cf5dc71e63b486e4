/* Max and average pooling, PyTorch MaxPool2d/AvgPool2d semantics with square kernel k, stride s,
 * no padding, floor mode: OH = (H - k) / s + 1.
 *
 * Max pooling picks the first maximum in row-major window order and lets NaN win (the same test as
 * ATen's CPU kernel: `val > max || isnan(val)`, starting from -inf), so gradients go where
 * PyTorch sends them. Backward recomputes the argmax from x instead of saving indices: it costs one
 * more pass over the window but no state memory, and the forward-only estimator never pays for
 * index storage. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"

typedef struct pool_geom {
  int64_t planes; /* batch * channels */
  int64_t h, w, oh, ow;
  int64_t k, s;
} pool_geom;

static pool_geom pool_geometry(const nadi_layer *l, int64_t batch) {
  pool_geom g;
  g.planes = batch * l->in_shape[0][0];
  g.h = l->in_shape[0][1];
  g.w = l->in_shape[0][2];
  g.oh = l->out_shape[1];
  g.ow = l->out_shape[2];
  g.k = l->k;
  g.s = l->stride;
  return g;
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

/* Offset (within the plane) of the window's maximum starting at `win`. */
static inline int64_t window_argmax(const float *plane, int64_t win, int64_t k, int64_t w) {
  float m = -INFINITY;
  int64_t at = win;
  for (int64_t i = 0; i < k; i++) {
    const float *row = plane + win + i * w;
    for (int64_t j = 0; j < k; j++) {
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

static void maxpool_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                            nadi_ctx *ctx) {
  (void)params;
  pool_geom g = pool_geometry(l, ctx->batch);
  for (int64_t pl = 0; pl < g.planes; pl++) {
    const float *xp = xs[0] + pl * g.h * g.w;
    float *yp = y + pl * g.oh * g.ow;
    if (g.k == 2 && g.s == 2) {
      for (int64_t oh = 0; oh < g.oh; oh++)
        max2x2_row(xp + 2 * oh * g.w, xp + (2 * oh + 1) * g.w, yp + oh * g.ow, g.ow);
      continue;
    }
    for (int64_t oh = 0; oh < g.oh; oh++)
      for (int64_t ow = 0; ow < g.ow; ow++)
        yp[oh * g.ow + ow] = xp[window_argmax(xp, oh * g.s * g.w + ow * g.s, g.k, g.w)];
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
    if (g.k == 2 && g.s == 2) {
      for (int64_t oh = 0; oh < g.oh; oh++)
        max2x2_row_backward(xp + 2 * oh * g.w, xp + (2 * oh + 1) * g.w, dyp + oh * g.ow,
                            dxp + 2 * oh * g.w, g.w, g.ow);
      continue;
    }
    for (int64_t oh = 0; oh < g.oh; oh++)
      for (int64_t ow = 0; ow < g.ow; ow++)
        dxp[window_argmax(xp, oh * g.s * g.w + ow * g.s, g.k, g.w)] += dyp[oh * g.ow + ow];
  }
}

static void avgpool_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                            nadi_ctx *ctx) {
  (void)params;
  pool_geom g = pool_geometry(l, ctx->batch);
  float div = (float)(g.k * g.k);
  for (int64_t pl = 0; pl < g.planes; pl++) {
    const float *xp = xs[0] + pl * g.h * g.w;
    float *yp = y + pl * g.oh * g.ow;
    for (int64_t oh = 0; oh < g.oh; oh++) {
      for (int64_t ow = 0; ow < g.ow; ow++) {
        const float *win = xp + oh * g.s * g.w + ow * g.s;
        float sum = 0.0f;
        for (int64_t i = 0; i < g.k; i++)
          for (int64_t j = 0; j < g.k; j++)
            sum += win[i * g.w + j];
        yp[oh * g.ow + ow] = sum / div;
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
  float div = (float)(g.k * g.k);
  for (int64_t pl = 0; pl < g.planes; pl++) {
    const float *dyp = dy + pl * g.oh * g.ow;
    float *dxp = dx + pl * g.h * g.w;
    for (int64_t oh = 0; oh < g.oh; oh++) {
      for (int64_t ow = 0; ow < g.ow; ow++) {
        float d = dyp[oh * g.ow + ow] / div;
        float *win = dxp + oh * g.s * g.w + ow * g.s;
        for (int64_t i = 0; i < g.k; i++)
          for (int64_t j = 0; j < g.k; j++)
            win[i * g.w + j] += d;
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

/* ---- descriptions ---------------------------------------------------------------------------- */

static nad_status pool_shape(nadi_layer *l, int64_t index) {
  int64_t s[3];
  NADI_TRY(nadi_kind_map_chw(l, index, 0, s));
  NADI_CHECK(l->k >= 1 && l->k <= INT32_MAX && l->stride >= 1 && l->stride <= INT32_MAX,
             NAD_ERR_INVALID_ARG,
             "layer %lld: pooling needs kernel >= 1 and stride >= 1 (got k%lld s%lld)",
             (long long)index, (long long)l->k, (long long)l->stride);
  snprintf(l->desc, sizeof l->desc, "%s k%d s%d", nadi_ops(l->kind)->name, (int)l->k,
           (int)l->stride);
  int64_t oh = nadi_window_out(s[1], l->k, l->stride), ow = nadi_window_out(s[2], l->k, l->stride);
  NADI_CHECK(oh >= 1 && ow >= 1, NAD_ERR_SHAPE,
             "layer %lld (%s): input %lldx%lldx%lld is too small for kernel %d "
             "(needs height and width >= %d)",
             (long long)index, l->desc, (long long)s[0], (long long)s[1], (long long)s[2],
             (int)l->k, (int)l->k);
  l->out_dims = nadi_dims_chw(s[0], oh, ow, 0);
  return NAD_OK;
}

static int64_t maxpool_flops(const nadi_layer *l) { /* k*k - 1 comparisons per output */
  int64_t f;
  return nadi_mul_ok(nadi_dims_numel(&l->out_dims), l->k * l->k - 1, &f) ? f : -1;
}

static int64_t avgpool_flops(const nadi_layer *l) { /* k*k - 1 additions and one scaling */
  int64_t f;
  return nadi_mul_ok(nadi_dims_numel(&l->out_dims), l->k * l->k, &f) ? f : -1;
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
