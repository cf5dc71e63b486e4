/* 2-D convolution with PyTorch Conv2d semantics (cross-correlation, kernel kh x kw, strides sh,
 * sw, dilations dh, dw, zero padding top/left/bottom/right, groups; the window fields are
 * canonicalised by lib/kernels/window.c), as "column matrix" + one GEMM per group of images and
 * per channel group: Y[O/G, cols] = W_g[O/G, K] * col_g[K, cols], K = (C/G)*kh*kw (the column
 * matrix has all C*kh*kw rows, group g's K rows contiguous). Depthwise convolutions (G = C > 1)
 * skip the column matrix: direct loops, one tap at a time along output rows.
 * Below, k, s, p stand for the window along either axis (with dilation, tap j sits at j*d).
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
 * G = conv_group() images, K = C*kh*kw, each part rounded up to 16 floats (none for depthwise):
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
#include "kernels/window.h"

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
#ifndef CONV_DIRECT_MAX_K
/* Direct loops (conv_direct.c) instead of im2col + GEMM for full-executor forwards and dW when
 * the column matrix has at most this many rows and the layer at most CONV_DIRECT_MAX_O output
 * channels: LeNet's first layer (25 rows, 6 channels), whose GEMMs are too thin for the BLAS. */
#define CONV_DIRECT_MAX_K 32
#define CONV_DIRECT_MAX_O 16
#endif
#define ALIGN_FLOATS 16

typedef struct conv_geom {
  int64_t c, h, w;   /* input plane */
  int64_t o, oh, ow; /* output plane */
  int64_t kh, kw, sh, sw, dh, dw;
  int64_t pt, pl;    /* padding before the first row / column */
  int64_t groups, og; /* groups, output channels per group */
  int64_t kk;     /* rows of one group's column matrix: (c/groups)*kh*kw */
  int64_t kall;   /* rows of the whole column matrix: c*kh*kw = groups*kk */
  int64_t ohw;    /* real outputs per channel */
  int ext;        /* extended-rows layout */
  int64_t hp, wp; /* padded plane (extended layout) */
  int64_t n;      /* columns per image */
  int64_t ldo;    /* distance between output rows within an image's columns */
  int same;       /* an image's GEMM result is already its NCHW output (n == OH*OW) */
  int direct;     /* 1x1, stride 1, no padding: x is its own column matrix */
  int depthwise;  /* one input channel per group (and groups > 1): direct loops, no GEMM */
} conv_geom;

static conv_geom conv_geometry(const nadi_layer *l) {
  conv_geom g;
  g.c = l->in_shape[0][0];
  g.h = l->in_shape[0][1];
  g.w = l->in_shape[0][2];
  g.o = l->out_shape[0];
  g.oh = l->out_shape[1];
  g.ow = l->out_shape[2];
  g.kh = l->kh, g.kw = l->kw, g.sh = l->sh, g.sw = l->sw;
  g.dh = l->dh ? l->dh : 1, g.dw = l->dw ? l->dw : 1;
  g.pt = l->pad_t, g.pl = l->pad_l;
  g.groups = l->groups ? l->groups : 1;
  g.og = g.o / g.groups;
  g.kk = g.c / g.groups * g.kh * g.kw;
  g.kall = g.c * g.kh * g.kw;
  g.ohw = g.oh * g.ow;
  g.hp = g.h + l->pad_t + l->pad_b;
  g.wp = g.w + l->pad_l + l->pad_r;
  g.ext = g.sh == 1 && g.sw == 1 && (g.wp - g.ow) * g.o <= CONV_EXT_COST * g.ow;
  g.n = g.ext ? (g.oh - 1) * g.wp + g.ow : g.ohw;
  g.ldo = g.ext ? g.wp : g.ow;
  g.same = g.n == g.ohw && g.ldo == g.ow;
  g.direct = g.ext && g.kh == 1 && g.kw == 1 && g.hp == g.h && g.wp == g.w;
  g.depthwise = g.groups > 1 && g.groups == g.c;
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
  int64_t per_image = (g->kall + g->o) * g->n;
  if (grp * per_image > cap)
    grp = cap / per_image;
  if (grp > batch)
    grp = batch;
  return grp < 1 ? 1 : grp;
}

/* A stride-1 depthwise forward runs on a padded plane in the extended-rows layout. */
static int dw_ext(const conv_geom *g) { return g->depthwise && g->sh == 1 && g->sw == 1; }

/* Offsets of the scratch parts (floats from ctx->ws) and the total. */
typedef struct conv_ws {
  int64_t col, tmp, pad, total;
} conv_ws;

static conv_ws conv_layout(const conv_geom *g, int64_t grp) {
  conv_ws w;
  int64_t at = 0;
  w.col = at;
  if (g->depthwise) { /* direct loops; stride 1: one padded plane and one extended output */
    w.tmp = w.pad = 0;
    w.total = dw_ext(g) ? round_up(g->hp * g->wp) + round_up(g->oh * g->wp) : 0;
    return w;
  }
  if (!(grp == 1 && g->direct))
    at += round_up(g->kall * grp * g->n);
  w.tmp = at;
  if (!(grp == 1 && g->same))
    at += round_up(g->o * grp * g->n);
  w.pad = at;
  if (g->ext && (g->hp != g->h || g->wp != g->w))
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

/* The column axis of the window (valid output columns per tap offset: kernels/window.h). */
static nadi_win_axis col_axis(const conv_geom *g) {
  nadi_win_axis a = {g->w, g->ow, g->kw, g->sw, g->dw, g->pl};
  return a;
}

/* Columns of one image x (C,H,W) into col (rows of length ld, this image's n columns). Row
 * (c, ky, kx), column (oh, ow) holds x[c, oh*sh - pt + ky*dh, ow*sw - pl + kx*dw]. */
static void im2col(const conv_geom *g, const float *x, float *col, int64_t ld) {
  nadi_win_axis ax = col_axis(g);
  for (int64_t c = 0; c < g->c; c++) {
    const float *xc = x + c * g->h * g->w;
    for (int64_t kh = 0; kh < g->kh; kh++) {
      for (int64_t kw = 0; kw < g->kw; kw++) {
        float *row = col + ((c * g->kh + kh) * g->kw + kw) * ld;
        int64_t lo, hi;
        nadi_win_valid(&ax, kw * g->dw, &lo, &hi);
        for (int64_t oh = 0; oh < g->oh; oh++) {
          float *dst = row + oh * g->ow;
          int64_t ih = oh * g->sh - g->pt + kh * g->dh;
          if (ih < 0 || ih >= g->h) {
            memset(dst, 0, (size_t)g->ow * sizeof(float));
            continue;
          }
          for (int64_t j = 0; j < lo; j++)
            dst[j] = 0.0f;
          const float *src = xc + ih * g->w + (lo * g->sw - g->pl + kw * g->dw);
          if (g->sw == 1) {
            memcpy(dst + lo, src, (size_t)(hi - lo) * sizeof(float));
          } else {
            for (int64_t j = 0; j < hi - lo; j++)
              dst[lo + j] = src[j * g->sw];
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
  nadi_win_axis ax = col_axis(g);
  for (int64_t c = 0; c < g->c; c++) {
    float *dxc = dx + c * g->h * g->w;
    for (int64_t kh = 0; kh < g->kh; kh++) {
      for (int64_t kw = 0; kw < g->kw; kw++) {
        const float *row = col + ((c * g->kh + kh) * g->kw + kw) * ld;
        int64_t lo, hi;
        nadi_win_valid(&ax, kw * g->dw, &lo, &hi);
        for (int64_t oh = 0; oh < g->oh; oh++) {
          int64_t ih = oh * g->sh - g->pt + kh * g->dh;
          if (ih < 0 || ih >= g->h)
            continue;
          const float *src = row + oh * g->ow + lo;
          float *dst = dxc + ih * g->w + (lo * g->sw - g->pl + kw * g->dw);
          if (g->sw == 1) {
            add_to(dst, src, hi - lo);
          } else {
            for (int64_t j = 0; j < hi - lo; j++)
              dst[j * g->sw] += src[j];
          }
        }
      }
    }
  }
}

/* ---- extended-rows layout (stride 1) ------------------------------------------------------- */

static int has_pad(const conv_geom *g) { return g->hp != g->h || g->wp != g->w; }

/* The padded planes of one image: x itself when there is no padding, else a copy in pad. */
static const float *padded(const conv_geom *g, const float *x, float *pad) {
  if (!has_pad(g))
    return x;
  memset(pad, 0, (size_t)(g->c * g->hp * g->wp) * sizeof(float));
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t i = 0; i < g->h; i++)
      memcpy(pad + (c * g->hp + i + g->pt) * g->wp + g->pl, x + (c * g->h + i) * g->w,
             (size_t)g->w * sizeof(float));
  return pad;
}

/* Row (c, ky, kx) is the slice of the padded plane c starting at (ky*dh, kx*dw). */
static int64_t ext_offset(const conv_geom *g, int64_t c, int64_t kh, int64_t kw) {
  return (c * g->hp + kh * g->dh) * g->wp + kw * g->dw;
}

static void im2col_ext(const conv_geom *g, const float *x, float *pad, float *col, int64_t ld) {
  const float *xp = padded(g, x, pad);
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t kh = 0; kh < g->kh; kh++)
      for (int64_t kw = 0; kw < g->kw; kw++)
        memcpy(col + ((c * g->kh + kh) * g->kw + kw) * ld, xp + ext_offset(g, c, kh, kw),
               (size_t)g->n * sizeof(float));
}

/* Adjoint of im2col_ext. The junk columns of the gradient are exactly 0 (dy is gathered with
 * zeros there), so adding them is harmless. */
static void col2im_ext_add(const conv_geom *g, const float *col, int64_t ld, float *pad,
                           float *dx) {
  float *dp = dx;
  if (has_pad(g)) {
    dp = pad;
    memset(pad, 0, (size_t)(g->c * g->hp * g->wp) * sizeof(float));
  }
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t kh = 0; kh < g->kh; kh++)
      for (int64_t kw = 0; kw < g->kw; kw++)
        add_to(dp + ext_offset(g, c, kh, kw), col + ((c * g->kh + kh) * g->kw + kw) * ld, g->n);
  if (has_pad(g))
    for (int64_t c = 0; c < g->c; c++)
      for (int64_t i = 0; i < g->h; i++)
        add_to(dx + (c * g->h + i) * g->w, pad + (c * g->hp + i + g->pt) * g->wp + g->pl, g->w);
}

/* ---- short column matrices: direct loops (conv_direct.c) ----------------------------------- */

/* Full-executor forwards and dW of a thin, single-group, undilated extended-rows layer. */
static int use_direct(const conv_geom *g, int forward_only) {
  return !forward_only && g->ext && g->groups == 1 && g->dh == 1 && g->dw == 1 &&
         g->kall <= CONV_DIRECT_MAX_K && g->o <= CONV_DIRECT_MAX_O;
}

/* Offsets of the column rows in the padded plane (kall <= CONV_DIRECT_MAX_K entries). */
static void direct_offsets(const conv_geom *g, int64_t *off) {
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t kh = 0; kh < g->kh; kh++)
      for (int64_t kw = 0; kw < g->kw; kw++)
        off[(c * g->kh + kh) * g->kw + kw] = ext_offset(g, c, kh, kw);
}

/* y of every image, bias added; tmp (O·n floats) holds an image's extended rows unless they are
 * already its NCHW output. */
static void direct_forward(const conv_geom *g, const float *wt, const float *bias, const float *x,
                           float *y, int64_t batch, float *tmp, float *pad) {
  int64_t off[CONV_DIRECT_MAX_K];
  direct_offsets(g, off);
  const int64_t chw = g->c * g->h * g->w, P = g->ohw;
  for (int64_t b = 0; b < batch; b++) {
    float *yb = y + b * g->o * P;
    float *out = g->same ? yb : tmp;
    nadi_direct_forward(padded(g, x + b * chw, pad), off, g->kall, wt, g->o, g->n, out);
    for (int64_t o = 0; o < g->o; o++) {
      float bo = bias ? bias[o] : 0.0f;
      if (g->same) {
        if (bias)
          add_scalar(yb + o * P, bo, P);
        continue;
      }
      for (int64_t r = 0; r < g->oh; r++)
        add_const(yb + o * P + r * g->ow, tmp + o * g->n + r * g->ldo, bo, g->ow);
    }
  }
}

static void gather_dy(const conv_geom *g, const float *dy, int64_t b0, int64_t cnt, float *tmp);

/* dW += the weight gradient of every image. */
static void direct_dw(const conv_geom *g, const float *x, const float *dy, float *dw,
                      int64_t batch, float *tmp, float *pad) {
  int64_t off[CONV_DIRECT_MAX_K];
  direct_offsets(g, off);
  const int64_t chw = g->c * g->h * g->w;
  for (int64_t b = 0; b < batch; b++) {
    const float *dyg = dy + b * g->o * g->ohw;
    if (!g->same) {
      gather_dy(g, dy, b, 1, tmp);
      dyg = tmp;
    }
    nadi_direct_dw(padded(g, x + b * chw, pad), off, g->kall, dyg, g->o, g->n, dw);
  }
}

/* ---- depthwise: direct loops ------------------------------------------------------------ */

/* One input channel per group: a GEMM would have a single row of K = kh*kw, so each tap is a
 * vector operation along output rows instead. Output channel o reads input channel o / og. The
 * three passes walk the same (image, o, tap, output row) runs: y += w·x, dx += w·dy, dw += dy·x. */
typedef enum dw_pass { DW_FORWARD, DW_DX, DW_DW } dw_pass;

/* What a tap reads, the same for every image and channel: its valid output rows [r0, r1) and
 * columns [lo, hi), and the offset of output (r0, lo)'s input cell from the plane's start. */
typedef struct dw_tap {
  int64_t r0, r1, lo, hi, xoff;
} dw_tap;

#define DW_TAPS 64 /* taps planned at once (7x7 = 49); larger kernels go in chunks */

static int64_t dw_plan(const conv_geom *g, int64_t t0, int64_t t1, dw_tap *tp) {
  nadi_win_axis cx = col_axis(g);
  nadi_win_axis rx = {g->h, g->oh, g->kh, g->sh, g->dh, g->pt};
  for (int64_t t = t0; t < t1; t++) {
    dw_tap *d = &tp[t - t0];
    const int64_t kh = t / g->kw, kw = t % g->kw;
    nadi_win_valid(&cx, kw * g->dw, &d->lo, &d->hi);
    nadi_win_valid(&rx, kh * g->dh, &d->r0, &d->r1);
    if (d->lo >= d->hi)
      d->r1 = d->r0; /* nothing to do */
    d->xoff = (d->r0 * g->sh - g->pt + kh * g->dh) * g->w + d->lo * g->sw - g->pl + kw * g->dw;
  }
  return t1 - t0;
}

/* One tap's runs over the output rows of one (image, channel) plane pair. */
static void dw_tap_runs(const conv_geom *g, dw_pass pass, const dw_tap *d, float wv,
                        const float *x, float *y, const float *dy, float *dx, double *acc) {
  const int64_t n = d->hi - d->lo, s = g->sw, xs = g->sh * g->w;
  for (int64_t oh = d->r0, xo = d->xoff; oh < d->r1; oh++, xo += xs) {
    const int64_t yo = oh * g->ow + d->lo;
    if (pass == DW_FORWARD) {
      float *restrict o = y + yo;
      const float *restrict src = x + xo;
      if (s == 1)
        for (int64_t j = 0; j < n; j++)
          o[j] += wv * src[j];
      else
        for (int64_t j = 0; j < n; j++)
          o[j] += wv * src[j * s];
    } else if (pass == DW_DX) {
      float *restrict o = dx + xo;
      const float *restrict src = dy + yo;
      for (int64_t j = 0; j < n; j++)
        o[j * s] += wv * src[j];
    } else {
      const float *restrict a = dy + yo, *restrict src = x + xo;
      float r = 0.0f;
      for (int64_t j = 0; j < n; j++)
        r += a[j] * src[j * s];
      *acc += r;
    }
  }
}

static void depthwise_run(const conv_geom *g, dw_pass pass, const float *wt, const float *x,
                          float *y, const float *dy, float *dx, float *dw, int64_t batch) {
  const int64_t hw = g->h * g->w, taps = g->kh * g->kw;
  dw_tap tp[DW_TAPS];
  /* taps in chunks, each element's taps in ascending order: the sums of the per-tap loop */
  for (int64_t t0 = 0; t0 < taps; t0 += DW_TAPS) {
    const int64_t nt = dw_plan(g, t0, taps - t0 < DW_TAPS ? taps : t0 + DW_TAPS, tp);
    for (int64_t b = 0; b < batch; b++)
      for (int64_t o = 0; o < g->o; o++) {
        const int64_t c = o / g->og, at = (b * g->o + o) * g->ohw, in = (b * g->c + c) * hw;
        for (int64_t t = 0; t < nt; t++) {
          double acc = 0.0;
          dw_tap_runs(g, pass, &tp[t], wt[o * taps + t0 + t], x ? x + in : NULL,
                      y ? y + at : NULL, dy ? dy + at : NULL, dx ? dx + in : NULL, &acc);
          if (pass == DW_DW)
            dw[o * taps + t0 + t] += (float)acc;
        }
      }
  }
}

/* e[i] += w[kx] * s[i + kx*d] for kx = 0 .. kw-1 in this order, i < n: one pass over e for a
 * row of taps (3 and 7 wide: the terms in registers, added in the same order). */
static void dw_row_taps(float *restrict e, const float *restrict s, const float *w, int64_t kw,
                        int64_t d, int64_t n) {
  if (kw == 3) {
    const float w0 = w[0], w1 = w[1], w2 = w[2];
    for (int64_t i = 0; i < n; i++)
      e[i] = e[i] + w0 * s[i] + w1 * s[i + d] + w2 * s[i + 2 * d];
  } else if (kw == 7) {
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6];
    for (int64_t i = 0; i < n; i++)
      e[i] = e[i] + w0 * s[i] + w1 * s[i + d] + w2 * s[i + 2 * d] + w3 * s[i + 3 * d] +
             w4 * s[i + 4 * d] + w5 * s[i + 5 * d] + w6 * s[i + 6 * d];
  } else {
    for (int64_t kx = 0; kx < kw; kx++) {
      const float wv = w[kx];
      const float *sk = s + kx * d;
      for (int64_t i = 0; i < n; i++)
        e[i] += wv * sk[i];
    }
  }
}

/* Stride 1, forward: each input plane copied once into a zero-padded plane (hp x wp, unless
 * there is no padding), then every tap is one contiguous run over the output in the extended
 * layout (rows wp apart: output (i, j) at i*wp + j reads padded cell (i + ky*dh, j + kx*dw), so
 * tap (ky, kx) is the run shifted by ky*dh*wp + kx*dw), then the rows are copied out. Long runs
 * vectorise where the per-row runs of depthwise_run are a few cells (mobilenet-v2's 4x4 maps).
 * The sums are the same, taps in the same order from the bias; a tap on padding adds w*0. */
static void depthwise_forward_ext(const conv_geom *g, const float *wt, const float *bias,
                                  const float *x, float *y, int64_t batch, float *ws) {
  const int64_t hw = g->h * g->w, taps = g->kh * g->kw, wp = g->wp;
  const int64_t n = (g->oh - 1) * wp + g->ow;
  float *pad = ws, *ext = ws + round_up(g->hp * wp);
  if (has_pad(g))
    memset(pad, 0, sizeof(float) * (size_t)(g->hp * wp));
  for (int64_t b = 0; b < batch; b++)
    for (int64_t o = 0; o < g->o; o++) {
      const float *src = x + (b * g->c + o / g->og) * hw;
      if (has_pad(g)) {
        for (int64_t i = 0; i < g->h; i++)
          memcpy(pad + (i + g->pt) * wp + g->pl, src + i * g->w, sizeof(float) * (size_t)g->w);
        src = pad;
      }
      const float v = bias ? bias[o] : 0.0f;
      for (int64_t i = 0; i < n; i++)
        ext[i] = v;
      for (int64_t ky = 0; ky < g->kh; ky++)
        dw_row_taps(ext, src + ky * g->dh * wp, wt + o * taps + ky * g->kw, g->kw, g->dw, n);
      float *yo = y + (b * g->o + o) * g->ohw;
      for (int64_t i = 0; i < g->oh; i++)
        memcpy(yo + i * g->ow, ext + i * wp, sizeof(float) * (size_t)g->ow);
    }
}

static void depthwise_forward(const conv_geom *g, const float *wt, const float *bias,
                              const float *x, float *y, int64_t batch, float *ws) {
  if (dw_ext(g)) {
    depthwise_forward_ext(g, wt, bias, x, y, batch, ws);
    return;
  }
  for (int64_t b = 0; b < batch; b++)
    for (int64_t o = 0; o < g->o; o++) {
      float *yo = y + (b * g->o + o) * g->ohw;
      float v = bias ? bias[o] : 0.0f;
      for (int64_t i = 0; i < g->ohw; i++)
        yo[i] = v;
    }
  depthwise_run(g, DW_FORWARD, wt, x, y, NULL, NULL, NULL, batch);
}

/* ---- driver ------------------------------------------------------------------------------ */

/* The column matrix [kall, cnt*n] of images x[b0 .. b0+cnt): x itself when possible, else
 * built. Group gi's rows are [gi*kk, (gi+1)*kk). */
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

/* out[O, ldc] = W[O, kk] · cm[kall, ldc] group by group (block diagonal in the groups). */
static void group_gemm(const conv_geom *g, const float *wt, const float *cm, int64_t ldc,
                       float *out) {
  for (int64_t gi = 0; gi < g->groups; gi++)
    nadi_sgemm(0, 0, g->og, ldc, g->kk, 1.0f, wt + gi * g->og * g->kk, g->kk, cm + gi * g->kk * ldc,
               ldc, 0.0f, out + gi * g->og * ldc, ldc);
}

static void conv_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                         nadi_ctx *ctx) {
  conv_geom g = conv_geometry(l);
  const float *x = xs[0];
  const float *wt = params;
  const float *bias = l->bias ? params + g.o * g.kk : NULL;
  if (g.depthwise) {
    depthwise_forward(&g, wt, bias, x, y, ctx->batch, ctx->ws);
    return;
  }
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
  if (use_direct(&g, ctx->forward_only)) {
    direct_forward(&g, wt, bias, x, y, ctx->batch, tmp, pad);
    return;
  }
  for (int64_t b0 = 0; b0 < ctx->batch; b0 += grp) {
    int64_t cnt = ctx->batch - b0 < grp ? ctx->batch - b0 : grp;
    int64_t cols = cnt * g.n;
    const float *cm = columns(&g, x, b0, cnt, col, pad);
    if (cnt == 1 && g.same) {
      float *yb = y + b0 * g.o * P;
      group_gemm(&g, wt, cm, P, yb);
      if (bias)
        for (int64_t o = 0; o < g.o; o++)
          add_scalar(yb + o * P, bias[o], P);
      continue;
    }
    group_gemm(&g, wt, cm, cols, tmp);
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

/* The GEMM backward of images [b0, b0+cnt): dW += dY col^T and dx += col2im(W^T dY), group by
 * group. */
static void gemm_backward(const conv_geom *g, const float *wt, const float *x, const float *dy,
                          float *dx, float *dw, int64_t b0, int64_t cnt, const conv_ws *lay,
                          float *ws) {
  float *col = lay->total ? ws + lay->col : NULL;
  float *tmp = lay->total ? ws + lay->tmp : NULL;
  float *pad = lay->total ? ws + lay->pad : NULL;
  const int64_t chw = g->c * g->h * g->w, cols = cnt * g->n, og = g->og, kk = g->kk;
  const float *dyg = dy + b0 * g->o * g->ohw;
  if (!(cnt == 1 && g->same)) {
    gather_dy(g, dy, b0, cnt, tmp);
    dyg = tmp;
  }
  if (dw) { /* dW[O, kk] += dY[O, cols] * col[kk, cols]^T */
    const float *cm = columns(g, x, b0, cnt, col, pad);
    for (int64_t gi = 0; gi < g->groups; gi++)
      nadi_sgemm(0, 1, og, kk, cols, 1.0f, dyg + gi * og * cols, cols, cm + gi * kk * cols, cols,
                 1.0f, dw + gi * og * kk, kk);
  }
  if (!dx)
    return;
  /* dcol[kall, cols] = W^T dY, then scattered back onto the input pixels */
  if (cnt == 1 && g->direct) {
    for (int64_t gi = 0; gi < g->groups; gi++)
      nadi_sgemm(1, 0, kk, g->n, og, 1.0f, wt + gi * og * kk, kk, dyg + gi * og * g->n, g->n,
                 1.0f, dx + b0 * chw + gi * kk * g->n, g->n);
    return;
  }
  for (int64_t gi = 0; gi < g->groups; gi++)
    nadi_sgemm(1, 0, kk, cols, og, 1.0f, wt + gi * og * kk, kk, dyg + gi * og * cols, cols, 0.0f,
               col + gi * kk * cols, cols);
  for (int64_t i = 0; i < cnt; i++) {
    if (g->ext)
      col2im_ext_add(g, col + i * g->n, cols, pad, dx + (b0 + i) * chw);
    else
      col2im_add(g, col + i * g->n, cols, dx + (b0 + i) * chw);
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
  if (g.depthwise) {
    if (dx)
      depthwise_run(&g, DW_DX, wt, x, NULL, dy, dx, NULL, ctx->batch);
    if (dw)
      depthwise_run(&g, DW_DW, wt, x, NULL, dy, NULL, dw, ctx->batch);
  } else {
    int64_t grp = conv_group(&g, ctx->batch);
    conv_ws lay = conv_layout(&g, grp);
    if (dw && use_direct(&g, 0)) {
      direct_dw(&g, x, dy, dw, ctx->batch, lay.total ? ctx->ws + lay.tmp : NULL,
                lay.total ? ctx->ws + lay.pad : NULL);
      dw = NULL; /* done; the GEMMs below compute dx only */
    }
    for (int64_t b0 = 0; b0 < ctx->batch && (dx || dw); b0 += grp) {
      int64_t cnt = ctx->batch - b0 < grp ? ctx->batch - b0 : grp;
      gemm_backward(&g, wt, x, dy, dx, dw, b0, cnt, &lay, ctx->ws);
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

/* desc: "conv2d 3->64 k3 s1 p1" for a square window; the general fields otherwise. */
static void conv_desc(nadi_layer *l, int64_t c) {
  char win[40];
  if (l->kh == l->kw && l->sh == l->sw && l->pad_t == l->pad_l && l->pad_t == l->pad_b &&
      l->pad_t == l->pad_r)
    snprintf(win, sizeof win, "k%d s%d p%d", (int)l->kh, (int)l->sh, (int)l->pad_t);
  else
    snprintf(win, sizeof win, "k%dx%d s%dx%d p%d,%d,%d,%d", (int)l->kh, (int)l->kw, (int)l->sh,
             (int)l->sw, (int)l->pad_t, (int)l->pad_l, (int)l->pad_b, (int)l->pad_r);
  char extra[40] = "";
  if (l->groups > 1 || l->dh > 1 || l->dw > 1)
    snprintf(extra, sizeof extra, " g%d d%dx%d", (int)l->groups, (int)l->dh, (int)l->dw);
  char full[160]; /* composed whole, then cut to the description's size */
  snprintf(full, sizeof full, "conv2d %lld->%lld %s%s%s", (long long)c, (long long)l->out_c, win,
           extra, l->bias ? "" : " nobias");
  snprintf(l->desc, sizeof l->desc, "%.*s", (int)sizeof l->desc - 1, full);
}

static nad_status conv_shape(nadi_layer *l, int64_t index) {
  int64_t s[3];
  NADI_TRY(nadi_kind_map_chw(l, index, 0, s));
  NADI_CHECK(l->out_c >= 1 && l->out_c <= INT32_MAX, NAD_ERR_INVALID_ARG,
             "layer %lld: conv2d needs out channels in [1, %d] (got %lld)", (long long)index,
             INT32_MAX, (long long)l->out_c);
  NADI_TRY(nadi_window_canon(l, index, NADI_WINDOW_CONV));
  NADI_CHECK(l->init == NADI_INIT_VGG_CONV || nadi_init_is_weight_rule(l->init),
             NAD_ERR_INVALID_ARG,
             "layer %lld: unknown init rule %lld", (long long)index, (long long)l->init);
  l->bias = l->bias ? 1 : 0;
  conv_desc(l, s[0]);
  NADI_CHECK(s[0] % l->groups == 0 && l->out_c % l->groups == 0, NAD_ERR_INVALID_ARG,
             "layer %lld (%s): groups %lld must divide the input channels (%lld) and the output "
             "channels (%lld)",
             (long long)index, l->desc, (long long)l->groups, (long long)s[0],
             (long long)l->out_c);
  NADI_CHECK(s[1] <= INT32_MAX && s[2] <= INT32_MAX, NAD_ERR_SHAPE,
             "layer %lld (%s): input plane %lldx%lld is too large", (long long)index, l->desc,
             (long long)s[1], (long long)s[2]);
  int64_t oh = nadi_window_axis(s[1], l->pad_t, l->pad_b, l->kh, l->dh, l->sh, 0);
  int64_t ow = nadi_window_axis(s[2], l->pad_l, l->pad_r, l->kw, l->dw, l->sw, 0);
  if (oh < 1 || ow < 1) {
    int64_t nh = l->dh * (l->kh - 1) + 1 - l->pad_t - l->pad_b;
    int64_t nw = l->dw * (l->kw - 1) + 1 - l->pad_l - l->pad_r;
    char need[64], kern[48];
    nadi_window_text(l, kern, sizeof kern);
    if (nh == nw)
      snprintf(need, sizeof need, "height and width >= %lld", (long long)nh);
    else
      snprintf(need, sizeof need, "height >= %lld and width >= %lld", (long long)nh,
               (long long)nw);
    return nadi_fail(NAD_ERR_SHAPE, "layer %lld (%s): input %lldx%lldx%lld is too small for %s "
                     "(needs %s)", (long long)index, l->desc, (long long)s[0],
                     (long long)s[1], (long long)s[2], kern, need);
  }
  /* every dimension handed to the BLAS (the im2col GEMM) must fit its 32-bit int */
  int64_t kdim;
  if (!nadi_mul_ok(s[0], l->kh * l->kw, &kdim))
    kdim = INT64_MAX;
  const char *what[3] = {l->kh == l->kw ? "in_channels*k*k" : "in_channels*kh*kw", "out_channels",
                         "output height*width"};
  int64_t d[3] = {kdim, l->out_c, oh * ow};
  for (int j = 0; j < 3; j++)
    NADI_CHECK(d[j] < INT_MAX, NAD_ERR_UNSUPPORTED,
               "layer %lld (%s): %s = %lld does not fit the BLAS's 32-bit int", (long long)index,
               l->desc, what[j], (long long)d[j]);
  l->out_dims = nadi_dims_chw(l->out_c, oh, ow, 0);
  return NAD_OK;
}

/* Weights per output channel: (I/groups)*kh*kw; -1 on overflow. */
static int64_t conv_per_out(const nadi_layer *l) {
  int64_t g = l->groups ? l->groups : 1, w;
  return nadi_mul_ok(l->in_shape[0][0] / g, l->kh * l->kw, &w) ? w : -1;
}

static int conv_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  int64_t per = conv_per_out(l), w = 0;
  int ok = per >= 0 && nadi_mul_ok(l->out_c, per, &w);
  t[0] = (nadi_tensor_desc){"weight", ok ? w : -1, 1};
  t[1] = (nadi_tensor_desc){"bias", l->out_c, 1};
  return l->bias ? 2 : 1;
}

static void conv_init_info(const nadi_layer *l, nadi_tensor_init_info t[NADI_MAX_TENSORS]) {
  t[0].fan_in = conv_per_out(l), t[0].fan_out = l->out_c * l->kh * l->kw; /* torch's fans */
  t[1].folded_shift = l->init == NADI_INIT_FOLDED_BN;
}

static int64_t conv_flops(const nadi_layer *l) { /* 2 * out_n * (I/groups*kh*kw) + bias adds */
  int64_t out_n = nadi_dims_numel(&l->out_dims), per = conv_per_out(l), t, f;
  if (out_n < 0 || per < 0 || !nadi_mul_ok(out_n, per, &t) || !nadi_mul_ok(t, 2, &f))
    return -1;
  if (l->bias && f > INT64_MAX - out_n)
    return -1;
  return f + (l->bias ? out_n : 0);
}

/* PyTorch's Conv2d.reset_parameters: kaiming_uniform_(a = sqrt 5), i.e. U(+-1/sqrt(fan_in)) with
 * fan_in = (I/groups)*kh*kw, bias the same; VGG convolutions of the reference code:
 * N(0, sqrt(2/(k*k*out_c))), bias 0; torchvision's rules (nadi_init_weights). */
static void conv_init(const nadi_layer *l, float *p, nadi_rng *rng) {
  int64_t fan_in = conv_per_out(l);
  int64_t n_w = l->n_params - (l->bias ? l->out_c : 0);
  if (l->init == NADI_INIT_VGG_CONV) {
    double std = sqrt(2.0 / ((double)l->kh * l->kw * (double)l->out_c));
    nadi_rng_fill_normal(rng, p, n_w, 0.0, std);
    if (l->bias)
      memset(p + n_w, 0, sizeof(float) * (size_t)l->out_c);
  } else { /* fan_out as PyTorch: out channels times the window (not divided by groups) */
    nadi_init_weights(l->init, p, n_w, l->bias ? l->out_c : 0, fan_in,
                      l->out_c * l->kh * l->kw, rng);
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
    .init_info = conv_init_info,
    .delta = NADI_DELTA_WINDOW,
    .fold = NADI_FOLD_TARGET,
};
