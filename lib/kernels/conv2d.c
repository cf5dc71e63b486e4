/* 2-D convolution with PyTorch Conv2d semantics (cross-correlation, square kernel, zero padding),
 * as "column matrix" + one GEMM per group of images: Y[O, cols] = W[O, K] * col[K, cols],
 * K = C*k*k.
 *
 * Two column layouts:
 *  - classic (any stride): col[(c,kh,kw), q] = x[c, oh*s - p + kh, ow*s - p + kw] with
 *    q = oh*OW + ow, built element-row by element-row (im2col) with zeros for the padding.
 *  - extended rows (stride 1): index outputs by q = oh*Wp + ow over the zero-padded plane
 *    (Hp = H + 2p, Wp = W + 2p); only ow < OW is real, the other Wp - OW entries of each output row
 *    are junk that is computed and dropped. Then col[(c,kh,kw), q] = xpad[c, kh*Wp + kw + q]: every
 *    row of the column matrix is ONE contiguous slice of the padded plane, so building it is
 *    C*k*k long memcpy's and its adjoint C*k*k long contiguous adds. The price is a fraction
 *    f = (Wp - OW)/OW of extra GEMM columns, whose cost grows with O while the im2col work saved
 *    does not, so it is used while f*O <= CONV_EXT_COST: LeNet's convolutions and first layers
 *    (im2col of short rows was half of their time), not wide layers on small planes.
 *    For 1x1 stride-1 unpadded convolutions the image is already its own column matrix.
 *
 * Groups: a single small image gives a skinny GEMM (ResNet's last stage: 512 x 16 x 4608) on which
 * BLAS runs far below its peak; laying the columns of G images side by side gives N = G*n. The
 * GEMM result is then [O, G*n] rather than NCHW and goes through a scratch buffer from which it is
 * extracted into y (fused with the bias add, which needs a pass anyway). Measured on the target
 * (2-core EPYC, OpenBLAS 0.3.21), grouping pays only for small planes (512 channels on 4x4: 63 ->
 * 80 GFLOP/s single-threaded) and loses for larger ones (LeNet conv2, 10x10) because of the
 * extraction pass; hence groups only up to CONV_TARGET_N columns, in a cache-sized scratch.
 *
 * Workspace (floats), with n = columns per image (classic: OH*OW; extended: (OH-1)*Wp + OW),
 * G = conv_group(), K = C*k*k, each part rounded up to 16 floats:
 *   col  K*G*n    unless G == 1 and 1x1/stride 1/pad 0
 *   tmp  O*G*n    unless G == 1 and the GEMM result is already NCHW (classic, or 1x1 unpadded)
 *   pad  C*Hp*Wp  extended layout with padding only
 * Backward reuses them: col is rebuilt from x for dW and then overwritten by W^T dY for dx, tmp
 * holds dy in the GEMM layout (zero at junk positions), pad accumulates the padded dx. No state. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/conv_algo.h"

/* Tuning knobs (overridable at compile time for benchmarking). */
#ifndef CONV_TARGET_N
#define CONV_TARGET_N 256 /* group images while a GEMM has fewer columns than this */
#endif
#ifndef CONV_TARGET_N_WIDE
/* Layers with many output channels are compute-bound GEMMs: grouping images into wide GEMMs
 * lets the BLAS spread one GEMM over its threads (per-image GEMMs of a 32x32 ResNet layer are
 * too small for OpenBLAS to thread), which outweighs the extra copy back to NCHW. Measured on
 * ResNet18 (batch 64, 2 cores): convolutions 77 -> 100-120 GFLOP/s. */
#define CONV_TARGET_N_WIDE 4096
#define CONV_WIDE_MIN_O 32
#define CONV_WS_CAP_WIDE (1L << 23) /* 32 MiB */
#endif
#ifndef CONV_WS_CAP
#define CONV_WS_CAP (1L << 20) /* floats of col + tmp a group may use (4 MiB) */
#endif
#ifndef CONV_DIRECT_MIN_N
/* A 1×1 stride-1 convolution is a GEMM on the image as it lies in memory; grouping images
 * costs a copy of x and of y, which a per-image GEMM with at least this many columns (DenseNet's
 * 16×16 and 32×32 bottlenecks) does not earn back (measured single-threaded: 8-17% faster). */
#define CONV_DIRECT_MIN_N 256
#endif
#ifndef CONV_EXT_COST
#define CONV_EXT_COST 8 /* extended rows while junk fraction (Wp-OW)/OW times O is below this */
#endif
#define ALIGN_FLOATS 16

typedef struct conv_geom {
  int64_t c, h, w;   /* input plane */
  int64_t o, oh, ow; /* output plane */
  int64_t k, s, p;
  int64_t kk;     /* rows of the column matrix: c*k*k */
  int64_t ohw;    /* real outputs per channel */
  int ext;        /* extended-rows layout */
  int64_t hp, wp; /* padded plane (extended layout) */
  int64_t n;      /* columns per image */
  int64_t ldo;    /* distance between output rows within an image's columns */
  int same;       /* an image's GEMM result is already its NCHW output (n == OH*OW) */
  int direct;     /* 1x1, stride 1, no padding: x is its own column matrix */
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
  g.hp = g.h + 2 * g.p;
  g.wp = g.w + 2 * g.p;
  g.ext = g.s == 1 && (g.wp - g.ow) * g.o <= CONV_EXT_COST * g.ow;
  g.n = g.ext ? (g.oh - 1) * g.wp + g.ow : g.ohw;
  g.ldo = g.ext ? g.wp : g.ow;
  g.same = g.n == g.ohw && g.ldo == g.ow;
  g.direct = g.ext && g.k == 1 && g.p == 0;
  return g;
}

static int64_t round_up(int64_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

/* Images per GEMM; non-decreasing in batch so that a workspace sized for the batch capacity
 * also fits every smaller batch. */
static int64_t conv_group(const conv_geom *g, int64_t batch) {
  if (g->direct && g->n >= CONV_DIRECT_MIN_N)
    return 1; /* 1×1 on a large map: one GEMM per image straight on x and y, no copies */
  int wide = g->o >= CONV_WIDE_MIN_O;
  int64_t target = wide ? CONV_TARGET_N_WIDE : CONV_TARGET_N;
  int64_t cap = wide ? CONV_WS_CAP_WIDE : CONV_WS_CAP;
  int64_t grp = (target + g->n - 1) / g->n;
  int64_t per_image = (g->kk + g->o) * g->n;
  if (grp * per_image > cap)
    grp = cap / per_image;
  if (grp > batch)
    grp = batch;
  return grp < 1 ? 1 : grp;
}

/* Offsets of the scratch parts (floats from ctx->ws) and the total. */
typedef struct conv_ws {
  int64_t col, tmp, pad, total;
} conv_ws;

static conv_ws conv_layout(const conv_geom *g, int64_t grp) {
  conv_ws w;
  int64_t at = 0;
  w.col = at;
  if (!(grp == 1 && g->direct))
    at += round_up(g->kk * grp * g->n);
  w.tmp = at;
  if (!(grp == 1 && g->same))
    at += round_up(g->o * grp * g->n);
  w.pad = at;
  if (g->ext && g->p > 0)
    at += g->c * g->hp * g->wp;
  w.total = at;
  return w;
}

/* ---- algorithm choice (forward) ----------------------------------------------------------- */

typedef enum conv_algo { CONV_IM2COL, CONV_WINO2, CONV_WINO4, CONV_TINY } conv_algo;

#ifndef CONV_MIN_TILES
/* The fast algorithms rebuild their weight operand on every call (a²·O·C floats for Winograd,
 * O·OH·OW·C·H·W for tiny maps): they pay once that is spread over enough tiles / images
 * (measured single-threaded: F(4×4) on 512 channels is 0.87x im2col at 16 tiles, 1.5x at 32;
 * tiny maps 1.0x at 16 images, 1.4x at 32). */
#define CONV_MIN_TILES 32
#endif
#ifndef CONV_WINO_MIN_CH
#define CONV_WINO_MIN_CH 16 /* below, the transforms cost more than the multiplies they save */
#endif
#ifndef CONV_WINO4_MIN_MAP
/* F(4×4) from 4×4 output maps on (one tile per image): measured single-threaded at batch 256
 * it beats F(2×2) there by 1.5-1.6× (ResNet18, VGG11, DenseNet121), at the price of 2.25× the
 * transformed-filter memory (38 MB for 512×512) and half a digit of accuracy. */
#define CONV_WINO4_MIN_MAP 4
#endif

/* The forward algorithm for this layer and batch: a function of the layer's shape, the batch
 * and the mode only, so results are reproducible. Only forwards that no backward reads
 * (nadi_ctx.forward_only) leave im2col: a backward computes the exact adjoint of the im2col
 * function, and a ReLU whose input lies within rounding of 0 would otherwise route its gradient
 * by the other algorithm's rounding (seen in tests/python/test_torch_compare.py's ResNet18 input
 * gradients: 2.4e-3 from float64, where float32 PyTorch was 4e-7 from it). Measured choices
 * (BENCHMARKS.md): tiny maps as one GEMM; Winograd for 3×3 stride-1 layers with at least
 * CONV_WINO_MIN_CH channels in and out, F(4×4) on maps from 4×4, F(2×2) below. */
static conv_algo conv_choose(const nadi_layer *l, int64_t batch, int forward_only) {
  if (!forward_only)
    return CONV_IM2COL;
  const int64_t oh = l->out_shape[1], ow = l->out_shape[2];
  if (nadi_tiny_applicable(l))
    return batch >= CONV_MIN_TILES ? CONV_TINY : CONV_IM2COL;
  if (!nadi_wino_applicable(l) || l->in_shape[0][0] < CONV_WINO_MIN_CH ||
      l->out_shape[0] < CONV_WINO_MIN_CH)
    return CONV_IM2COL;
  if (oh >= CONV_WINO4_MIN_MAP && ow >= CONV_WINO4_MIN_MAP)
    return batch * ((oh + 3) / 4) * ((ow + 3) / 4) >= CONV_MIN_TILES ? CONV_WINO4 : CONV_IM2COL;
  return batch * ((oh + 1) / 2) * ((ow + 1) / 2) >= CONV_MIN_TILES ? CONV_WINO2 : CONV_IM2COL;
}

static size_t conv_workspace(const nadi_layer *l, int64_t batch) {
  conv_geom g = conv_geometry(l);
  size_t ws = (size_t)conv_layout(&g, conv_group(&g, batch)).total;
  /* every algorithm some batch <= `batch` may choose (workspaces are monotone in batch) */
  size_t alt = 0;
  switch (conv_choose(l, batch, 1)) {
  case CONV_TINY:
    alt = nadi_tiny_workspace(l);
    break;
  case CONV_WINO2:
    alt = nadi_wino_workspace(l, 2, batch);
    break;
  case CONV_WINO4:
    alt = nadi_wino_workspace(l, 4, batch);
    break;
  case CONV_IM2COL:
    break;
  }
  return ws > alt ? ws : alt;
}

/* The builds use -O2, where GCC vectorizes straight-line code (SLP) but not these loops: the
 * 8-wide bodies below turn into SIMD adds, and the 8 partial sums break the add latency chain. */
static void add_to(float *restrict dst, const float *restrict src, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    dst[i] += src[i];
    dst[i + 1] += src[i + 1];
    dst[i + 2] += src[i + 2];
    dst[i + 3] += src[i + 3];
    dst[i + 4] += src[i + 4];
    dst[i + 5] += src[i + 5];
    dst[i + 6] += src[i + 6];
    dst[i + 7] += src[i + 7];
  }
  for (; i < n; i++)
    dst[i] += src[i];
}

/* dst = src + b */
static void add_const(float *restrict dst, const float *restrict src, float b, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    dst[i] = src[i] + b;
    dst[i + 1] = src[i + 1] + b;
    dst[i + 2] = src[i + 2] + b;
    dst[i + 3] = src[i + 3] + b;
    dst[i + 4] = src[i + 4] + b;
    dst[i + 5] = src[i + 5] + b;
    dst[i + 6] = src[i + 6] + b;
    dst[i + 7] = src[i + 7] + b;
  }
  for (; i < n; i++)
    dst[i] = src[i] + b;
}

/* x += b */
static void add_scalar(float *x, float b, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    x[i] += b;
    x[i + 1] += b;
    x[i + 2] += b;
    x[i + 3] += b;
    x[i + 4] += b;
    x[i + 5] += b;
    x[i + 6] += b;
    x[i + 7] += b;
  }
  for (; i < n; i++)
    x[i] += b;
}


/* ---- classic layout -------------------------------------------------------------------- */

/* Valid output columns [lo, hi) for kernel column kw: those whose input column
 * ow*s - p + kw lies inside [0, W). */
static void valid_range(int64_t kw, int64_t s, int64_t p, int64_t in_w, int64_t out_w, int64_t *lo,
                        int64_t *hi) {
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

/* Columns of one image x (C,H,W) into col (rows of length ld, this image's n columns). */
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
            add_to(dst, src, hi - lo);
          } else {
            for (int64_t j = 0; j < hi - lo; j++)
              dst[j * g->s] += src[j];
          }
        }
      }
    }
  }
}

/* ---- extended-rows layout (stride 1) ------------------------------------------------------- */

/* The padded planes of one image: x itself when there is no padding, else a copy in pad. */
static const float *padded(const conv_geom *g, const float *x, float *pad) {
  if (g->p == 0)
    return x;
  memset(pad, 0, (size_t)(g->c * g->hp * g->wp) * sizeof(float));
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t i = 0; i < g->h; i++)
      memcpy(pad + (c * g->hp + i + g->p) * g->wp + g->p, x + (c * g->h + i) * g->w,
             (size_t)g->w * sizeof(float));
  return pad;
}

static void im2col_ext(const conv_geom *g, const float *x, float *pad, float *col, int64_t ld) {
  const float *xp = padded(g, x, pad);
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t kh = 0; kh < g->k; kh++)
      for (int64_t kw = 0; kw < g->k; kw++)
        memcpy(col + ((c * g->k + kh) * g->k + kw) * ld, xp + (c * g->hp + kh) * g->wp + kw,
               (size_t)g->n * sizeof(float));
}

/* Adjoint of im2col_ext. The junk columns of the gradient are exactly 0 (dy is gathered with
 * zeros there), so adding them is harmless. */
static void col2im_ext_add(const conv_geom *g, const float *col, int64_t ld, float *pad,
                           float *dx) {
  float *dp = dx;
  if (g->p > 0) {
    dp = pad;
    memset(pad, 0, (size_t)(g->c * g->hp * g->wp) * sizeof(float));
  }
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t kh = 0; kh < g->k; kh++)
      for (int64_t kw = 0; kw < g->k; kw++)
        add_to(dp + (c * g->hp + kh) * g->wp + kw, col + ((c * g->k + kh) * g->k + kw) * ld, g->n);
  if (g->p > 0)
    for (int64_t c = 0; c < g->c; c++)
      for (int64_t i = 0; i < g->h; i++)
        add_to(dx + (c * g->h + i) * g->w, pad + (c * g->hp + i + g->p) * g->wp + g->p, g->w);
}

/* ---- driver ------------------------------------------------------------------------------ */

/* The column matrix [kk, cnt*n] of images x[b0 .. b0+cnt): x itself when possible, else built. */
static const float *columns(const conv_geom *g, const float *x, int64_t b0, int64_t cnt, float *col,
                            float *pad) {
  int64_t chw = g->c * g->h * g->w;
  if (cnt == 1 && g->direct)
    return x + b0 * chw;
  for (int64_t i = 0; i < cnt; i++) {
    if (g->ext)
      im2col_ext(g, x + (b0 + i) * chw, pad, col + i * g->n, cnt * g->n);
    else
      im2col(g, x + (b0 + i) * chw, col + i * g->n, cnt * g->n);
  }
  return col;
}

static void conv_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                         nadi_ctx *ctx) {
  conv_geom g = conv_geometry(l);
  const float *x = xs[0];
  const float *wt = params;
  const float *bias = l->bias ? params + g.o * g.kk : NULL;
  int64_t grp = conv_group(&g, ctx->batch);
  conv_ws lay = conv_layout(&g, grp);
  /* ctx->ws may be NULL when the workspace is 0: never offset it then */
  float *col = lay.total ? ctx->ws + lay.col : NULL;
  float *tmp = lay.total ? ctx->ws + lay.tmp : NULL;
  float *pad = lay.total ? ctx->ws + lay.pad : NULL;
  int64_t P = g.ohw;

  switch (conv_choose(l, ctx->batch, ctx->forward_only)) {
  case CONV_TINY:
    nadi_tiny_forward(l, wt, bias, x, y, ctx->batch, ctx->ws);
    return;
  case CONV_WINO2:
    nadi_wino_forward(l, 2, wt, bias, x, y, ctx->batch, ctx->ws);
    return;
  case CONV_WINO4:
    nadi_wino_forward(l, 4, wt, bias, x, y, ctx->batch, ctx->ws);
    return;
  case CONV_IM2COL:
    break;
  }
  for (int64_t b0 = 0; b0 < ctx->batch; b0 += grp) {
    int64_t cnt = ctx->batch - b0 < grp ? ctx->batch - b0 : grp;
    int64_t cols = cnt * g.n;
    const float *cm = columns(&g, x, b0, cnt, col, pad);
    if (cnt == 1 && g.same) {
      float *yb = y + b0 * g.o * P;
      nadi_sgemm(0, 0, g.o, P, g.kk, 1.0f, wt, g.kk, cm, P, 0.0f, yb, P);
      if (bias)
        for (int64_t o = 0; o < g.o; o++)
          add_scalar(yb + o * P, bias[o], P);
      continue;
    }
    nadi_sgemm(0, 0, g.o, cols, g.kk, 1.0f, wt, g.kk, cm, cols, 0.0f, tmp, cols);
    /* [O, cnt*n] -> cnt images of [O, OH, OW], adding the bias on the way. */
    for (int64_t i = 0; i < cnt; i++) {
      for (int64_t o = 0; o < g.o; o++) {
        float bo = bias ? bias[o] : 0.0f;
        if (g.ldo == g.ow) { /* rows are contiguous: one run per plane */
          add_const(y + ((b0 + i) * g.o + o) * P, tmp + o * cols + i * g.n, bo, P);
          continue;
        }
        for (int64_t r = 0; r < g.oh; r++)
          add_const(y + (((b0 + i) * g.o + o) * g.oh + r) * g.ow,
                    tmp + o * cols + i * g.n + r * g.ldo, bo, g.ow);
      }
    }
  }
}

/* dy of images [b0, b0+cnt) in the GEMM layout [O, cnt*n], zero at junk columns. */
static void gather_dy(const conv_geom *g, const float *dy, int64_t b0, int64_t cnt, float *tmp) {
  int64_t cols = cnt * g->n;
  for (int64_t i = 0; i < cnt; i++) {
    for (int64_t o = 0; o < g->o; o++) {
      float *dst = tmp + o * cols + i * g->n;
      const float *src = dy + ((b0 + i) * g->o + o) * g->ohw;
      for (int64_t r = 0; r < g->oh; r++) {
        memcpy(dst + r * g->ldo, src + r * g->ow, (size_t)g->ow * sizeof(float));
        if (r + 1 < g->oh) /* junk between rows (none after the last row) */
          memset(dst + r * g->ldo + g->ow, 0, (size_t)(g->ldo - g->ow) * sizeof(float));
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
  conv_ws lay = conv_layout(&g, grp);
  float *col = lay.total ? ctx->ws + lay.col : NULL;
  float *tmp = lay.total ? ctx->ws + lay.tmp : NULL;
  float *pad = lay.total ? ctx->ws + lay.pad : NULL;
  int64_t chw = g.c * g.h * g.w;

  for (int64_t b0 = 0; b0 < ctx->batch; b0 += grp) {
    int64_t cnt = ctx->batch - b0 < grp ? ctx->batch - b0 : grp;
    int64_t cols = cnt * g.n;
    const float *dyg = dy + b0 * g.o * g.ohw;
    if (!(cnt == 1 && g.same)) {
      gather_dy(&g, dy, b0, cnt, tmp);
      dyg = tmp;
    }
    if (dw) { /* dW[O, kk] += dY[O, cols] * col[kk, cols]^T */
      const float *cm = columns(&g, x, b0, cnt, col, pad);
      nadi_sgemm(0, 1, g.o, g.kk, cols, 1.0f, dyg, cols, cm, cols, 1.0f, dw, g.kk);
    }
    if (!dx)
      continue;
    /* dcol[kk, cols] = W^T dY, then scattered back onto the input pixels */
    if (cnt == 1 && g.direct) {
      nadi_sgemm(1, 0, g.kk, g.n, g.o, 1.0f, wt, g.kk, dyg, g.n, 1.0f, dx + b0 * chw, g.n);
      continue;
    }
    nadi_sgemm(1, 0, g.kk, cols, g.o, 1.0f, wt, g.kk, dyg, cols, 0.0f, col, cols);
    for (int64_t i = 0; i < cnt; i++) {
      if (g.ext)
        col2im_ext_add(&g, col + i * g.n, cols, pad, dx + (b0 + i) * chw);
      else
        col2im_add(&g, col + i * g.n, cols, dx + (b0 + i) * chw);
    }
  }
  if (db) {
    for (int64_t o = 0; o < g.o; o++) {
      double s = 0.0;
      for (int64_t b = 0; b < ctx->batch; b++)
        s += nadi_plane_sum(dy + (b * g.o + o) * g.ohw, g.ohw);
      db[o] += (float)s;
    }
  }
}

static const nadi_layer_ops conv2d_ops = {
    .name = "conv2d",
    .workspace = conv_workspace,
    .state_size = NULL,
    .forward = conv_forward,
    .backward = conv_backward,
};

/* ---- description -------------------------------------------------------------------------- */

static nad_status conv_shape(nadi_layer *l, int64_t index) {
  int64_t s[3];
  NADI_TRY(nadi_kind_map_chw(l, index, 0, s));
  NADI_CHECK(l->out_c >= 1 && l->out_c <= INT32_MAX && l->k >= 1 && l->k <= INT32_MAX &&
                 l->stride >= 1 && l->stride <= INT32_MAX && l->pad >= 0 && l->pad <= INT32_MAX,
             NAD_ERR_INVALID_ARG,
             "layer %lld: conv2d needs out channels in [1, %d], kernel >= 1, stride >= 1 and "
             "padding >= 0 (got %lld, k%lld s%lld p%lld)",
             (long long)index, INT32_MAX, (long long)l->out_c, (long long)l->k,
             (long long)l->stride, (long long)l->pad);
  NADI_CHECK(l->init == NADI_INIT_TORCH || l->init == NADI_INIT_VGG_CONV ||
                 l->init == NADI_INIT_FOLDED_BN,
             NAD_ERR_INVALID_ARG,
             "layer %lld: unknown init rule %lld", (long long)index, (long long)l->init);
  l->bias = l->bias ? 1 : 0;
  snprintf(l->desc, sizeof l->desc, "conv2d %lld->%lld k%d s%d p%d%s", (long long)s[0],
           (long long)l->out_c, (int)l->k, (int)l->stride, (int)l->pad, l->bias ? "" : " nobias");
  int64_t oh = nadi_window_out(s[1] + 2 * l->pad, l->k, l->stride);
  int64_t ow = nadi_window_out(s[2] + 2 * l->pad, l->k, l->stride);
  NADI_CHECK(oh >= 1 && ow >= 1, NAD_ERR_SHAPE,
             "layer %lld (%s): input %lldx%lldx%lld is too small for kernel %d with padding %d "
             "(needs height and width >= %lld)",
             (long long)index, l->desc, (long long)s[0], (long long)s[1], (long long)s[2],
             (int)l->k, (int)l->pad, (long long)(l->k - 2 * l->pad));
  /* every dimension handed to the BLAS (the im2col GEMM) must fit its 32-bit int */
  int64_t kdim;
  if (!nadi_mul_ok(s[0], l->k * l->k, &kdim))
    kdim = INT64_MAX;
  const char *what[3] = {"in_channels*k*k", "out_channels", "output height*width"};
  int64_t d[3] = {kdim, l->out_c, oh * ow};
  for (int j = 0; j < 3; j++)
    NADI_CHECK(d[j] < INT_MAX, NAD_ERR_UNSUPPORTED,
               "layer %lld (%s): %s = %lld does not fit the BLAS's 32-bit int", (long long)index,
               l->desc, what[j], (long long)d[j]);
  l->out_dims = nadi_dims_chw(l->out_c, oh, ow, 0);
  return NAD_OK;
}

static int conv_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  int64_t w = 0;
  int ok = nadi_mul_ok(l->out_c, l->in_shape[0][0], &w) && nadi_mul_ok(w, l->k * l->k, &w);
  t[0] = (nadi_tensor_desc){"weight", ok ? w : -1, 1};
  t[1] = (nadi_tensor_desc){"bias", l->out_c, 1};
  return l->bias ? 2 : 1;
}

static int64_t conv_flops(const nadi_layer *l) { /* 2 * out_n * (I*k*k) + bias adds */
  int64_t out_n = nadi_dims_numel(&l->out_dims), t, f;
  if (out_n < 0 || !nadi_mul_ok(out_n, l->in_shape[0][0], &t) ||
      !nadi_mul_ok(t, l->k * l->k, &t) || !nadi_mul_ok(t, 2, &f))
    return -1;
  if (l->bias && f > INT64_MAX - out_n)
    return -1;
  return f + (l->bias ? out_n : 0);
}

/* PyTorch's Conv2d.reset_parameters: kaiming_uniform_(a = sqrt 5), i.e. U(+-1/sqrt(fan_in)),
 * bias the same; VGG convolutions of the reference code: N(0, sqrt(2/(k*k*out_c))), bias 0. */
static void conv_init(const nadi_layer *l, float *p, nadi_rng *rng) {
  int64_t fan_in = l->in_shape[0][0] * l->k * l->k;
  int64_t n_w = l->n_params - (l->bias ? l->out_c : 0);
  if (l->init == NADI_INIT_VGG_CONV) {
    double std = sqrt(2.0 / ((double)l->k * l->k * (double)l->out_c));
    nadi_rng_fill_normal(rng, p, n_w, 0.0, std);
    if (l->bias)
      memset(p + n_w, 0, sizeof(float) * (size_t)l->out_c);
  } else if (l->init == NADI_INIT_FOLDED_BN) {
    nadi_init_fan_in_uniform(p, n_w, 0, fan_in, rng);
    if (l->bias)
      memset(p + n_w, 0, sizeof(float) * (size_t)l->out_c);
  } else {
    nadi_init_fan_in_uniform(p, n_w, l->bias ? l->out_c : 0, fan_in, rng);
  }
}

const nadi_kind_desc nadi_kind_conv2d = {
    .ops = &conv2d_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = conv_shape,
    .tensors = conv_tensors,
    .flops = conv_flops,
    .init = conv_init,
    .delta = NADI_DELTA_WINDOW,
    .fold = NADI_FOLD_TARGET,
};
