/* Max and average pooling, PyTorch MaxPool2d/AvgPool2d semantics with square kernel k, stride s,
 * no padding, floor mode: OH = (H - k) / s + 1.
 *
 * Max pooling picks the first maximum in row-major window order and lets NaN win (the same test as
 * ATen's CPU kernel: `val > max || isnan(val)`), so gradients go where PyTorch sends them. Backward
 * recomputes the argmax from x instead of saving indices: it costs one more pass over the window
 * but no state memory, and the forward-only estimator never pays for index storage. */
#include <math.h>

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

/* Offset (within the plane) of the window's maximum starting at `win`. */
static inline int64_t window_argmax(const float *plane, int64_t win, int64_t k, int64_t w) {
  float m = -INFINITY;
  int64_t at = win;
  for (int64_t i = 0; i < k; i++) {
    const float *row = plane + win + i * w;
    for (int64_t j = 0; j < k; j++) {
      float v = row[j];
      if (v > m || isnan(v)) {
        m = v;
        at = win + i * w + j;
      }
    }
  }
  return at;
}

static void maxpool_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                            nadi_ctx *ctx) {
  (void)params;
  pool_geom g = pool_geometry(l, ctx->batch);
  for (int64_t pl = 0; pl < g.planes; pl++) {
    const float *xp = xs[0] + pl * g.h * g.w;
    float *yp = y + pl * g.oh * g.ow;
    if (g.k == 2 && g.s == 2) { /* LeNet/VGG hot case, unrolled; same comparison order */
      for (int64_t oh = 0; oh < g.oh; oh++) {
        const float *r0 = xp + 2 * oh * g.w, *r1 = r0 + g.w;
        for (int64_t ow = 0; ow < g.ow; ow++) {
          float m = r0[2 * ow];
          float v = r0[2 * ow + 1];
          if (v > m || isnan(v))
            m = v;
          v = r1[2 * ow];
          if (v > m || isnan(v))
            m = v;
          v = r1[2 * ow + 1];
          if (v > m || isnan(v))
            m = v;
          yp[oh * g.ow + ow] = m;
        }
      }
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

const nadi_layer_ops nadi_maxpool_ops = {
    .name = "maxpool",
    .workspace = NULL,
    .state_size = NULL,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
};

const nadi_layer_ops nadi_avgpool_ops = {
    .name = "avgpool",
    .workspace = NULL,
    .state_size = NULL,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
};
