/* 2-D convolution with PyTorch Conv2d semantics (cross-correlation, square kernel, zero padding),
 * as im2col + one GEMM per group of images.
 *
 * Why groups: a single image often gives a skinny GEMM (LeNet conv2: 16 x 100 x 150, ResNet's last
 * stage: 512 x 16 x 4608) on which BLAS runs far below its peak. Laying the columns of G images
 * side by side gives one [C*k*k, G*OH*OW] matrix and a GEMM with N = G*OH*OW. The price is that
 * the GEMM result is [O, G*P] (P = OH*OW) instead of NCHW, so it goes through a scratch buffer and is
 * scattered into y (fused with the bias add, which needs a pass anyway). G is chosen so that N
 * reaches CONV_TARGET_N while the scratch stays under CONV_WS_CAP floats.
 *
 * Workspace (floats), with G = conv_group(l, batch), P = OH*OW, K = C*k*k:
 *   G == 1 and 1x1/stride 1/pad 0:  0                      (x is its own column matrix)
 *   G == 1 otherwise:               K*P                    (columns)
 *   G > 1:                          K*G*P + O*G*P (+pad)   (columns, GEMM result / gathered dy)
 * Backward uses the same buffers: the column matrix is rebuilt from x for dW and then overwritten
 * by W^T dY for dx (col2im accumulates into dx). No state. */
#include <string.h>

#include "kernels/kernels.h"

/* Tuned on the target (2-core EPYC, OpenBLAS 0.3.21): see the kernel report. */
#ifndef CONV_TARGET_N
#define CONV_TARGET_N 4096 /* GEMM columns worth grouping images for */
#endif
#ifndef CONV_WS_CAP
#define CONV_WS_CAP (1L << 22) /* floats of scratch a group may use (16 MiB) */
#endif
#define ALIGN_FLOATS 16         /* keep the second scratch buffer 64-byte aligned */

typedef struct conv_geom {
  int64_t c, h, w;   /* input plane */
  int64_t o, oh, ow; /* output plane */
  int64_t k, s, p;
  int64_t kk; /* rows of the column matrix: c*k*k */
  int64_t ohw;
  int direct; /* 1x1, stride 1, no padding: an image is already its column matrix */
} conv_geom;

static conv_geom conv_geometry(const nadi_layer *l) {
  conv_geom g;
  g.c = l->in_shape[0][0];
  g.h = l->in_shape[0][1];
  g.w = l->in_shape[0][2];
  g.o = l->out_shape[0];
  g.oh = l->out_shape[1];
  g.ow = l->out_shape[2];
  g.k = l->k;
  g.s = l->stride;
  g.p = l->pad;
  g.kk = g.c * g.k * g.k;
  g.ohw = g.oh * g.ow;
  g.direct = g.k == 1 && g.s == 1 && g.p == 0;
  return g;
}

static int64_t round_up(int64_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

/* Images per GEMM; non-decreasing in batch so that a workspace sized for the batch capacity
 * also fits every smaller batch. */
static int64_t conv_group(const conv_geom *g, int64_t batch) {
  int64_t grp = (CONV_TARGET_N + g->ohw - 1) / g->ohw;
  int64_t per_image = (g->kk + g->o) * g->ohw;
  if (grp * per_image > CONV_WS_CAP)
    grp = CONV_WS_CAP / per_image;
  if (grp > batch)
    grp = batch;
  return grp < 1 ? 1 : grp;
}

static size_t conv_workspace(const nadi_layer *l, int64_t batch) {
  conv_geom g = conv_geometry(l);
  int64_t grp = conv_group(&g, batch);
  if (grp == 1)
    return g.direct ? 0 : (size_t)(g.kk * g.ohw);
  return (size_t)(round_up(g.kk * grp * g.ohw) + g.o * grp * g.ohw);
}

/* Valid output columns [lo, hi) for kernel column kw: those whose input column
 * ow*s - p + kw lies inside [0, W). */
static void valid_range(int64_t kw, int64_t s, int64_t p, int64_t in_w, int64_t out_w,
                        int64_t *lo, int64_t *hi) {
  int64_t a = p - kw;
  int64_t l0 = a <= 0 ? 0 : (a + s - 1) / s;
  int64_t num = in_w - 1 + p - kw;
  int64_t h0 = num < 0 ? 0 : num / s + 1;
  if (h0 > out_w)
    h0 = out_w;
  if (l0 > h0)
    l0 = h0;
  *lo = l0;
  *hi = h0;
}

/* Columns of one image x (C,H,W) into col (rows of length ld, this image's P columns). */
static void im2col(const conv_geom *g, const float *x, float *col, int64_t ld) {
  for (int64_t c = 0; c < g->c; c++) {
    const float *xc = x + c * g->h * g->w;
    for (int64_t kh = 0; kh < g->k; kh++) {
      for (int64_t kw = 0; kw < g->k; kw++) {
        float *row = col + ((c * g->k + kh) * g->k + kw) * ld;
        int64_t lo, hi;
        valid_range(kw, g->s, g->p, g->w, g->ow, &lo, &hi);
        for (int64_t oh = 0; oh < g->oh; oh++) {
          float *dst = row + oh * g->ow;
          int64_t ih = oh * g->s - g->p + kh;
          if (ih < 0 || ih >= g->h) {
            memset(dst, 0, (size_t)g->ow * sizeof(float));
            continue;
          }
          for (int64_t j = 0; j < lo; j++)
            dst[j] = 0.0f;
          const float *src = xc + ih * g->w + (lo * g->s - g->p + kw);
          if (g->s == 1) {
            memcpy(dst + lo, src, (size_t)(hi - lo) * sizeof(float));
          } else {
            for (int64_t j = 0; j < hi - lo; j++)
              dst[lo + j] = src[j * g->s];
          }
          for (int64_t j = hi; j < g->ow; j++)
            dst[j] = 0.0f;
        }
      }
    }
  }
}

/* Adjoint of im2col: dx (C,H,W) += the column gradients of one image. */
static void col2im_add(const conv_geom *g, const float *col, int64_t ld, float *dx) {
  for (int64_t c = 0; c < g->c; c++) {
    float *dxc = dx + c * g->h * g->w;
    for (int64_t kh = 0; kh < g->k; kh++) {
      for (int64_t kw = 0; kw < g->k; kw++) {
        const float *row = col + ((c * g->k + kh) * g->k + kw) * ld;
        int64_t lo, hi;
        valid_range(kw, g->s, g->p, g->w, g->ow, &lo, &hi);
        for (int64_t oh = 0; oh < g->oh; oh++) {
          int64_t ih = oh * g->s - g->p + kh;
          if (ih < 0 || ih >= g->h)
            continue;
          const float *src = row + oh * g->ow + lo;
          float *dst = dxc + ih * g->w + (lo * g->s - g->p + kw);
          if (g->s == 1) {
            for (int64_t j = 0; j < hi - lo; j++)
              dst[j] += src[j];
          } else {
            for (int64_t j = 0; j < hi - lo; j++)
              dst[j * g->s] += src[j];
          }
        }
      }
    }
  }
}

/* The column matrix [kk, n*P] of images x[b0 .. b0+n): x itself when possible, else built in col. */
static const float *columns(const conv_geom *g, const float *x, int64_t b0, int64_t n, float *col) {
  int64_t chw = g->c * g->h * g->w;
  if (n == 1 && g->direct)
    return x + b0 * chw;
  for (int64_t i = 0; i < n; i++)
    im2col(g, x + (b0 + i) * chw, col + i * g->ohw, n * g->ohw);
  return col;
}

static void conv_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                         nadi_ctx *ctx) {
  conv_geom g = conv_geometry(l);
  const float *x = xs[0];
  const float *wt = params;
  const float *bias = l->bias ? params + g.o * g.kk : NULL;
  int64_t grp = conv_group(&g, ctx->batch);
  float *col = ctx->ws; /* may be NULL when the workspace is 0 */
  float *tmp = grp > 1 ? ctx->ws + round_up(g.kk * grp * g.ohw) : NULL;
  int64_t P = g.ohw;

  for (int64_t b0 = 0; b0 < ctx->batch; b0 += grp) {
    int64_t n = ctx->batch - b0 < grp ? ctx->batch - b0 : grp;
    int64_t cols = n * P;
    const float *cm = columns(&g, x, b0, n, col);
    if (n == 1) {
      float *yb = y + b0 * g.o * P;
      nadi_sgemm(0, 0, g.o, P, g.kk, 1.0f, wt, g.kk, cm, P, 0.0f, yb, P);
      if (bias)
        for (int64_t o = 0; o < g.o; o++)
          for (int64_t q = 0; q < P; q++)
            yb[o * P + q] += bias[o];
      continue;
    }
    nadi_sgemm(0, 0, g.o, cols, g.kk, 1.0f, wt, g.kk, cm, cols, 0.0f, tmp, cols);
    /* [O, n*P] -> n images of [O, P], adding the bias on the way. */
    for (int64_t i = 0; i < n; i++) {
      float *yb = y + (b0 + i) * g.o * P;
      for (int64_t o = 0; o < g.o; o++) {
        const float *src = tmp + o * cols + i * P;
        float *dst = yb + o * P;
        float bo = bias ? bias[o] : 0.0f;
        for (int64_t q = 0; q < P; q++)
          dst[q] = src[q] + bo;
      }
    }
  }
}

static void conv_backward(const nadi_layer *l, const float *params, const float *const *xs,
                          const float *y, const float *dy, float *const *dxs, float *dparams,
                          nadi_ctx *ctx) {
  (void)y;
  conv_geom g = conv_geometry(l);
  float *dx = dxs ? dxs[0] : NULL;
  if (!dx && !dparams)
    return;
  const float *x = xs[0];
  const float *wt = params;
  float *dw = dparams;
  float *db = dparams && l->bias ? dparams + g.o * g.kk : NULL;
  int64_t grp = conv_group(&g, ctx->batch);
  float *col = ctx->ws; /* may be NULL when the workspace is 0 */
  float *tmp = grp > 1 ? ctx->ws + round_up(g.kk * grp * g.ohw) : NULL;
  int64_t P = g.ohw;
  int64_t chw = g.c * g.h * g.w;

  for (int64_t b0 = 0; b0 < ctx->batch; b0 += grp) {
    int64_t n = ctx->batch - b0 < grp ? ctx->batch - b0 : grp;
    int64_t cols = n * P;
    const float *dyg = dy + b0 * g.o * P;
    if (n > 1) { /* gather dy of the group into [O, n*P], the layout of the GEMM result */
      for (int64_t i = 0; i < n; i++)
        for (int64_t o = 0; o < g.o; o++)
          memcpy(tmp + o * cols + i * P, dy + ((b0 + i) * g.o + o) * P, (size_t)P * sizeof(float));
      dyg = tmp;
    }
    if (dw) { /* dW[O, kk] += dY[O, cols] * col[kk, cols]^T */
      const float *cm = columns(&g, x, b0, n, col);
      nadi_sgemm(0, 1, g.o, g.kk, cols, 1.0f, dyg, cols, cm, cols, 1.0f, dw, g.kk);
    }
    if (dx) { /* dcol[kk, cols] = W^T dY, then scattered back onto the input pixels */
      if (n == 1 && g.direct) {
        nadi_sgemm(1, 0, g.kk, P, g.o, 1.0f, wt, g.kk, dyg, P, 1.0f, dx + b0 * chw, P);
      } else {
        nadi_sgemm(1, 0, g.kk, cols, g.o, 1.0f, wt, g.kk, dyg, cols, 0.0f, col, cols);
        for (int64_t i = 0; i < n; i++)
          col2im_add(&g, col + i * P, cols, dx + (b0 + i) * chw);
      }
    }
  }
  if (db) {
    for (int64_t o = 0; o < g.o; o++) {
      double s = 0.0;
      for (int64_t b = 0; b < ctx->batch; b++) {
        const float *d = dy + (b * g.o + o) * P;
        for (int64_t q = 0; q < P; q++)
          s += d[q];
      }
      db[o] += (float)s;
    }
  }
}

const nadi_layer_ops nadi_conv2d_ops = {
    .name = "conv2d",
    .workspace = conv_workspace,
    .state_size = NULL,
    .forward = conv_forward,
    .backward = conv_backward,
};
