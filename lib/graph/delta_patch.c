/* The patch kernels of the delta forward (layout and meaning of levels in delta_impl.h).
 *
 * A sample's patch holds its values on its true rectangle only; every other cell of the map is
 * the base's. So each kernel computes exactly the cells that can differ from the base, and a
 * window read (gather) takes the base and pastes the true rectangle over it.
 *
 * Convolutions, two ways:
 *  - SCATTER (stride 1): a convolution is linear, conv(base + Δ) = conv(base) + conv(Δ), and Δ
 *    is zero outside the input's true rectangle. So the output is its base plus the
 *    contributions of those few cells: GEMMs Δ[(sample, cell), c] · W[c, (ky, kx, o)], then
 *    each row's output vectors are added onto the cells they reach (kx reversed in W, so that
 *    a row of taps is one vector add onto consecutive cells). The GEMM rows follow the
 *    real rectangles, not the fixed patch size.
 *  - DIRECT (strided, 1x1): the output cells of the true rectangle from their input windows
 *    (base with the input's rectangle pasted in): an im2col of those cells (HWC: k contiguous
 *    runs of k·C floats per row) and one GEMM with W[(ky, kx, c), o].
 * Pools, elementwise layers and the joins read windows of their inputs as the sample sees them
 * and write the output rectangle. */
#include <string.h>

#include "common/clones.h"
#include "graph/delta_impl.h"

static int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t dil(int64_t d) { return d ? d : 1; }
static int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

/* Cell (y, x) of sample b's patch (inside its true rectangle). */
static float *cell(const nadi_dlevel *v, int64_t b, int64_t y, int64_t x) {
  const nadi_drect *r = &v->r[b];
  return v->patch + ((b * v->rh + y - r->oy) * v->rw + x - r->ox) * v->c;
}

/* n cells of c floats from src (contiguous) to dst (cells ldc floats apart). */
static void copy_cells(float *dst, int64_t ldc, const float *src, int64_t c, int64_t n) {
  if (n <= 0)
    return;
  if (ldc == c) {
    memcpy(dst, src, sizeof(float) * (size_t)(n * c));
    return;
  }
  for (int64_t i = 0; i < n; i++)
    memcpy(dst + i * ldc, src + i * c, sizeof(float) * (size_t)c);
}

static void zero_cells(float *dst, int64_t ldc, int64_t c, int64_t n) {
  if (n <= 0)
    return;
  if (ldc == c) {
    memset(dst, 0, sizeof(float) * (size_t)(n * c));
    return;
  }
  for (int64_t i = 0; i < n; i++)
    memset(dst + i * ldc, 0, sizeof(float) * (size_t)c);
}

/* The window [y0, y0+wh) × [x0, x0+ww) of level v as sample b sees it, into dst: cell (y, x) of
 * the window at dst + y·ldr + x·ldc, channels [0, v->c). Base, the true rectangle pasted over
 * it, zeros outside the map. */
static void gather(const nadi_dlevel *v, int64_t b, int64_t y0, int64_t x0, int64_t wh,
                   int64_t ww, float *dst, int64_t ldc, int64_t ldr) {
  const int64_t C = v->c;
  const nadi_drect *r = &v->r[b];
  int64_t xa = imax(x0, 0), xb = imin(x0 + ww, v->w);
  int64_t pxa = imax(xa, r->lx), pxb = imin(xb, r->hx);
  for (int64_t y = 0; y < wh; y++) {
    float *row = dst + y * ldr;
    int64_t iy = y0 + y;
    if (iy < 0 || iy >= v->h || xa >= xb) {
      zero_cells(row, ldc, C, ww);
      continue;
    }
    zero_cells(row, ldc, C, xa - x0);
    zero_cells(row + (xb - x0) * ldc, ldc, C, x0 + ww - xb);
    if (iy < r->ly || iy >= r->hy || pxa >= pxb) {
      copy_cells(row + (xa - x0) * ldc, ldc, v->base + (iy * v->w + xa) * C, C, xb - xa);
      continue;
    }
    copy_cells(row + (xa - x0) * ldc, ldc, v->base + (iy * v->w + xa) * C, C, pxa - xa);
    copy_cells(row + (pxa - x0) * ldc, ldc, cell(v, b, iy, pxa), C, pxb - pxa);
    copy_cells(row + (pxb - x0) * ldc, ldc, v->base + (iy * v->w + pxb) * C, C, xb - pxb);
  }
}

/* The output rectangle of every sample starts as the base under it. */
static void base_rects(nadi_dlevel *v, int64_t batch) {
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &v->r[b];
    for (int64_t y = r->ly; y < r->hy; y++)
      memcpy(cell(v, b, y, r->lx), v->base + (y * v->w + r->lx) * v->c,
             sizeof(float) * (size_t)((r->hx - r->lx) * v->c));
  }
}

/* The window of input cells an output rectangle [ly, hy) × [lx, hx) of node l reads. */
static void window_of(const nadi_layer *l, int64_t ly, int64_t hy, int64_t lx, int64_t hx,
                      int64_t *y0, int64_t *x0, int64_t *wh, int64_t *ww) {
  *y0 = ly * l->sh - l->pad_t, *x0 = lx * l->sw - l->pad_l;
  *wh = (hy - ly - 1) * l->sh + dil(l->dh) * (l->kh - 1) + 1;
  *ww = (hx - lx - 1) * l->sw + dil(l->dw) * (l->kw - 1) + 1;
}

/* Scatter tap by tap (scatter_by_tap_flush) when the channel counts make GEMM-sized panels,
 * else all taps in one GEMM (scatter_all_taps_flush). Measured (CPU time, one thread): LeNet's
 * 6 -> 16 is 2x slower tap by tap, DenseNet's 128 -> 32 10 % slower; VGG11's 512 -> 512 on a
 * 2x2 map 2.2x faster. */
static int scatter_by_tap(const nadi_layer *l) {
  return l->in_shape[0][0] >= 32 && l->out_c >= 64;
}

/* Output rows of a linear layer whose gathered weight columns are held at once: all of them up
 * to LINEAR_GATHER_MAX floats (16 MB), else blocks (VGG11-nopool at 3x32x32: a full copy of its
 * 512 x 524,288 weight would add 0.6 GB to a probe that already holds 1.1 GB of parameters). */
#define LINEAR_GATHER_MAX (int64_t)(4 << 20)
static int64_t linear_block(int64_t k, int64_t o) {
  int64_t ob = LINEAR_GATHER_MAX / (k > 0 ? k : 1);
  return ob < 1 ? 1 : ob > o ? o : ob;
}

void nadi_dpatch_needs(const nadi_delta *p, const nadi_layer *l, int64_t *ws_fixed,
                       int64_t *ws_per_row) {
  const nadi_dlevel *v = &p->lv[l - p->g->layers + 1], *in = nadi_dlevel_in(p, l, 0);
  int64_t win = 0;
  if (nadi_kind_of(l->kind)->delta == NADI_DELTA_WINDOW) {
    int64_t y0, x0, wh, ww;
    window_of(l, 0, v->rh, 0, v->rw, &y0, &x0, &wh, &ww);
    win = wh * ww * in->c;
  }
  *ws_fixed = *ws_per_row = 0;
  switch (l->kind) {
  case NADI_CONV2D:
    if (v->method == CONV_SCATTER) {
      *ws_per_row = scatter_by_tap(l) ? 2 * in->c + v->c : in->c + l->kh * l->kw * v->c;
    } else {
      *ws_fixed = win;
      *ws_per_row = l->kh * l->kw * in->c + v->c;
    }
    break;
  case NADI_MAXPOOL:
  case NADI_AVGPOOL:
    *ws_fixed = win;
    break;
  case NADI_ADD:
    *ws_fixed = v->rh * v->rw * v->c;
    break;
  case NADI_LINEAR: {
    int64_t k = in->rh * in->rw * in->c, ob = linear_block(k, v->c * v->h * v->w);
    *ws_fixed = ob * k;
    *ws_per_row = k + ob;
    break;
  }
  default:
    break;
  }
}

/* ---- convolution ---------------------------------------------------------------------------- */

/* Destination of a scatter row's contribution through tap t = (ky, kx), or NULL when it falls
 * outside the output rectangle (into the padding). Stride 1: input (y, x) reaches output
 * (y + pad_t - ky*dh, x + pad_l - kx*dw). */
static float *tap_target(const nadi_layer *l, const nadi_dlevel *out, const int64_t *row,
                         int64_t t) {
  const nadi_drect *ro = &out->r[row[0]];
  int64_t y = row[1] + l->pad_t - t / l->kw * dil(l->dh);
  int64_t x = row[2] + l->pad_l - t % l->kw * dil(l->dw);
  if (y < ro->ly || y >= ro->hy || x < ro->lx || x >= ro->hx)
    return NULL;
  return cell(out, row[0], y, x);
}

/* d[0, n) += s[0, n) */
static void add_to(float *restrict d, const float *restrict s, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    d[i] += s[i];
}

/* One row's k² output vectors (res, taps in the order of nadi_dpatch_scatter_col) added onto
 * the cells of the output rectangle they reach. Each cell receives at most one tap of a row,
 * so the sums are those of a tap-by-tap loop, bit for bit. */
static void scatter_row(const nadi_layer *l, nadi_dlevel *out, const int64_t *row,
                        const float *res) {
  const nadi_drect *ro = &out->r[row[0]];
  const int64_t co = out->c, kw = l->kw, dh = dil(l->dh), dw = dil(l->dw);
  const int64_t xp = row[2] + l->pad_l; /* output x of tap kx: xp − kx·dw */
  for (int64_t ky = 0; ky < l->kh; ky++) {
    const int64_t yo = row[1] + l->pad_t - ky * dh;
    if (yo < ro->ly || yo >= ro->hy)
      continue;
    const float *rk = res + ky * kw * co; /* this row of taps, kx reversed */
    if (dw == 1) { /* taps kx_lo..kx_hi land on the consecutive cells xp − kx_hi .. xp − kx_lo */
      const int64_t kx_lo = imax(0, xp - ro->hx + 1), kx_hi = imin(kw - 1, xp - ro->lx);
      if (kx_lo <= kx_hi)
        add_to(cell(out, row[0], yo, xp - kx_hi), rk + (kw - 1 - kx_hi) * co,
               (kx_hi - kx_lo + 1) * co);
      continue;
    }
    for (int64_t kx = 0; kx < kw; kx++) {
      const int64_t xo = xp - kx * dw;
      if (xo >= ro->lx && xo < ro->hx)
        add_to(cell(out, row[0], yo, xo), rk + (kw - 1 - kx) * co, co);
    }
  }
}

/* One GEMM of the m rows (their changes in dlt) by all taps, dlt[m, C] · W[C, (ky, kx, o)],
 * then each row's k² output vectors added onto the cells they reach. */
static void scatter_all_taps_flush(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out,
                                   int64_t m, const float *dlt, float *res) {
  const int64_t ci = nadi_dlevel_in(p, l, 0)->c, co = out->c, kk = l->kh * l->kw, n = kk * co;
  nadi_sgemm(0, 0, m, n, ci, 1.0f, dlt, ci, out->wt, n, 0.0f, res, n);
  for (int64_t q = 0; q < m; q++)
    scatter_row(l, out, p->meta + 3 * q, res + q * n);
}

/* Tap by tap: the rows whose output cell for the tap lies inside the rectangle (all rows but
 * those near a map border, where the tap falls into the padding) go through one GEMM with that
 * tap's weights W[c, (ky, kx, ·)]. No multiplication is spent on a tap that lands outside (4x4
 * map, 3x3 kernel: 100 of 144 cell-taps are real; 2x2: 16 of 36), and each GEMM's weight panel
 * is C×O, packed once for many rows. */
static void scatter_by_tap_flush(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t m,
                                 const float *dlt, float *at, float *res) {
  const int64_t ci = nadi_dlevel_in(p, l, 0)->c, co = out->c, kk = l->kh * l->kw;
  int64_t *sel = p->meta + 3 * m; /* rows of the tap (meta has room: 5 per row) */
  int64_t *dst = sel + m;         /* their targets, offsets into out->patch */
  for (int64_t t = 0; t < kk; t++) {
    int64_t n = 0;
    for (int64_t q = 0; q < m; q++) {
      float *d = tap_target(l, out, p->meta + 3 * q, t);
      if (d)
        sel[n] = q, dst[n++] = d - out->patch;
    }
    if (n == 0)
      continue;
    const float *a = dlt;
    if (n < m) { /* the rows of this tap, contiguous */
      for (int64_t j = 0; j < n; j++)
        memcpy(at + j * ci, dlt + sel[j] * ci, sizeof(float) * (size_t)ci);
      a = at;
    }
    nadi_sgemm(0, 0, n, co, ci, 1.0f, a, ci, out->wt + nadi_dpatch_scatter_col(l, t) * co,
               kk * co, 0.0f, res, co);
    for (int64_t j = 0; j < n; j++) {
      float *restrict d = out->patch + dst[j];
      const float *restrict w = res + j * co;
      for (int64_t o = 0; o < co; o++)
        d[o] += w[o];
    }
  }
}

/* Few input channels (LeNet's 1 -> 6 and 6 -> 16): a GEMM with K = C_in runs far below peak,
 * zeroes and writes its k²·C_out result per row and the scatter reads it back. Instead each
 * row's change goes straight onto its output cells, a row of taps at once: for every input
 * channel, the run of output cells += Δ_c · W[c, (ky, kx reversed, ·)], channels in order. */
#define SCATTER_FUSED_MAX_CI 16

/* d[0, n) += dlt[j] · w[off[j] + (0, n)] for j = 0 .. nz − 1 in that order, 32 or 8 floats of
 * d held in registers over all channels. */
NADI_CLONES static void axpy_channels(float *restrict d, const float *restrict dlt,
                                      const float *restrict w, const int64_t *off, int64_t nz,
                                      int64_t n) {
  int64_t i = 0;
#if defined(__GNUC__)
  typedef float v8f __attribute__((vector_size(32))); /* one ymm (AVX2) or two xmm (SSE2) */
  for (; i + 32 <= n; i += 32) { /* four independent accumulators per channel loop */
    v8f a[4], wv;
    memcpy(a, d + i, sizeof a);
    for (int64_t j = 0; j < nz; j++) {
      const float s = dlt[j], *restrict wc = w + off[j] + i;
      for (int k = 0; k < 4; k++) {
        memcpy(&wv, wc + 8 * k, sizeof wv);
        a[k] += s * wv;
      }
    }
    memcpy(d + i, a, sizeof a);
  }
  for (; i + 8 <= n; i += 8) {
    v8f acc, wv;
    memcpy(&acc, d + i, sizeof acc);
    for (int64_t j = 0; j < nz; j++) {
      memcpy(&wv, w + off[j] + i, sizeof wv);
      acc += dlt[j] * wv;
    }
    memcpy(d + i, &acc, sizeof acc);
  }
#endif
  for (; i < n; i++) {
    float a = d[i];
    for (int64_t j = 0; j < nz; j++)
      a += dlt[j] * w[off[j] + i];
    d[i] = a;
  }
}

/* One input cell's change of sample b at (y, x) onto its output cells: its nz nonzero channel
 * changes dlt, their weight rows at off (a zero change adds nothing: after a relu or a max
 * pool many channels of a cell do not change). */
static void scatter_fused_row(const nadi_layer *l, nadi_dlevel *out, int64_t b, int64_t y,
                              int64_t x, const float *dlt, const int64_t *off, int64_t nz) {
  const nadi_drect *ro = &out->r[b];
  const int64_t co = out->c, kw = l->kw, dh = dil(l->dh), dw = dil(l->dw);
  const int64_t xp = x + l->pad_l;
  for (int64_t ky = 0; ky < l->kh; ky++) {
    const int64_t yo = y + l->pad_t - ky * dh;
    if (yo < ro->ly || yo >= ro->hy)
      continue;
    const float *wk = out->wt + ky * kw * co; /* [c][kx reversed][o], rows kk·co apart */
    if (dw == 1) {
      const int64_t kx_lo = imax(0, xp - ro->hx + 1), kx_hi = imin(kw - 1, xp - ro->lx);
      if (kx_lo <= kx_hi)
        axpy_channels(cell(out, b, yo, xp - kx_hi), dlt, wk + (kw - 1 - kx_hi) * co, off, nz,
                      (kx_hi - kx_lo + 1) * co);
      continue;
    }
    for (int64_t kx = 0; kx < kw; kx++) {
      const int64_t xo = xp - kx * dw;
      if (xo >= ro->lx && xo < ro->hx)
        axpy_channels(cell(out, b, yo, xo), dlt, wk + (kw - 1 - kx) * co, off, nz, co);
    }
  }
}

static void conv_scatter_fused(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out,
                               int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t ci = in->c, ldw = l->kh * l->kw * out->c;
  float dlt[SCATTER_FUSED_MAX_CI];
  int64_t off[SCATTER_FUSED_MAX_CI];
  base_rects(out, batch);
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &in->r[b];
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        const float *restrict src = cell(in, b, y, x);
        const float *restrict bs = in->base + (y * in->w + x) * ci;
        int64_t nz = 0;
        for (int64_t c = 0; c < ci; c++) {
          const float e = src[c] - bs[c];
          if (e != 0.0f)
            dlt[nz] = e, off[nz++] = c * ldw;
        }
        if (nz > 0)
          scatter_fused_row(l, out, b, y, x, dlt, off, nz);
      }
  }
}

static void conv_scatter(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  if (in->c <= SCATTER_FUSED_MAX_CI && !scatter_by_tap(l)) {
    conv_scatter_fused(p, l, out, batch);
    return;
  }
  const int64_t ci = in->c, co = out->c, by_tap = scatter_by_tap(l);
  const int64_t rows = nadi_dpatch_rows(by_tap ? 2 * ci + co : ci + l->kh * l->kw * co);
  float *dlt = p->ws, *at = dlt + rows * ci, *res = by_tap ? at + rows * ci : at;
  int64_t *meta = p->meta, m = 0;
  base_rects(out, batch);
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &in->r[b];
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        const float *restrict src = cell(in, b, y, x);
        const float *restrict bs = in->base + (y * in->w + x) * ci;
        float *restrict d = dlt + m * ci;
        for (int64_t c = 0; c < ci; c++)
          d[c] = src[c] - bs[c];
        meta[3 * m] = b, meta[3 * m + 1] = y, meta[3 * m + 2] = x;
        if (++m < rows)
          continue;
        if (by_tap)
          scatter_by_tap_flush(p, l, out, m, dlt, at, res);
        else
          scatter_all_taps_flush(p, l, out, m, dlt, res);
        m = 0;
      }
  }
  if (m > 0 && by_tap)
    scatter_by_tap_flush(p, l, out, m, dlt, at, res);
  else if (m > 0)
    scatter_all_taps_flush(p, l, out, m, dlt, res);
}

/* Sample b's rectangle fills its whole patch slot. */
static int full_slot(const nadi_dlevel *v, int64_t b) {
  const nadi_drect *r = &v->r[b];
  return r->hy - r->ly == v->rh && r->hx - r->lx == v->rw;
}

/* GEMM of the m im2col rows gathered so far; the results (plus bias) are the output cells. */
static void direct_flush(nadi_delta *p, const nadi_layer *l, const float *bias, nadi_dlevel *out,
                         int64_t m, const float *col, float *res) {
  const int64_t co = out->c, kc = l->kh * l->kw * nadi_dlevel_in(p, l, 0)->c;
  const int64_t *meta = p->meta;
  nadi_sgemm(0, 0, m, co, kc, 1.0f, col, kc, out->wt, co, 0.0f, res, co);
  for (int64_t q = 0; q < m; q++) {
    float *restrict d = cell(out, meta[3 * q], meta[3 * q + 1], meta[3 * q + 2]);
    const float *restrict src = res + q * co;
    if (bias)
      for (int64_t o = 0; o < co; o++)
        d[o] = src[o] + bias[o];
    else
      memcpy(d, src, sizeof(float) * (size_t)co);
  }
}

static void conv_direct(nadi_delta *p, const nadi_layer *l, const float *bias, nadi_dlevel *out,
                        int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t ci = in->c, co = out->c, kh = l->kh, kw = l->kw, kc = kh * kw * ci;
  const int64_t sh = l->sh, sw = l->sw, dh = dil(l->dh), dw = dil(l->dw);
  const int64_t rows = nadi_dpatch_rows(kc + co);
  int64_t fixed, per_row;
  nadi_dpatch_needs(p, l, &fixed, &per_row);
  float *win = p->ws, *col = p->ws + fixed, *res = col + rows * kc;
  int64_t *meta = p->meta, m = 0;
  const int pointwise = kh == 1 && kw == 1 && sh == 1 && sw == 1 && l->pad_t == 0 &&
                        l->pad_l == 0 && l->pad_b == 0 && l->pad_r == 0; /* same rectangles */
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &out->r[b];
    if (r->ly >= r->hy || r->lx >= r->hx)
      continue;
    if (pointwise && full_slot(out, b)) {
      /* samples whose rectangle fills the whole slot (the common case once a rectangle covers
       * the map: DenseNet's 1x1 convolutions) are contiguous: one GEMM straight from the
       * input patches into the output patches, no im2col */
      int64_t e = b + 1, cells = out->rh * out->rw;
      while (e < batch && full_slot(out, e))
        e++;
      nadi_sgemm(0, 0, (e - b) * cells, co, ci, 1.0f, in->patch + b * cells * ci, ci, out->wt, co,
                 0.0f, out->patch + b * cells * co, co);
      for (int64_t q = 0; bias && q < (e - b) * cells; q++) {
        float *restrict d = out->patch + (b * cells + q) * co;
        for (int64_t o = 0; o < co; o++)
          d[o] += bias[o];
      }
      b = e - 1;
      continue;
    }
    int64_t y0, x0, wh, ww;
    window_of(l, r->ly, r->hy, r->lx, r->hx, &y0, &x0, &wh, &ww);
    gather(in, b, y0, x0, wh, ww, win, ci, ww * ci);
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        float *row = col + m * kc;
        const float *w0 = win + ((y - r->ly) * sh * ww + (x - r->lx) * sw) * ci;
        for (int64_t ky = 0; ky < kh; ky++) {
          if (dw == 1) { /* the kw taps of a row are contiguous */
            memcpy(row + ky * kw * ci, w0 + ky * dh * ww * ci, sizeof(float) * (size_t)(kw * ci));
            continue;
          }
          for (int64_t kx = 0; kx < kw; kx++)
            memcpy(row + (ky * kw + kx) * ci, w0 + (ky * dh * ww + kx * dw) * ci,
                   sizeof(float) * (size_t)ci);
        }
        meta[3 * m] = b, meta[3 * m + 1] = y, meta[3 * m + 2] = x;
        if (++m == rows)
          direct_flush(p, l, bias, out, m, col, res), m = 0;
      }
  }
  if (m > 0)
    direct_flush(p, l, bias, out, m, col, res);
}

void nadi_dpatch_conv(nadi_delta *p, const nadi_layer *l, const float *bias, nadi_dlevel *out,
                      int64_t batch) {
  if (out->method == CONV_SCATTER)
    conv_scatter(p, l, out, batch); /* the bias is in the base */
  else
    conv_direct(p, l, bias, out, batch);
}

/* ---- pools, elementwise layers, joins ---------------------------------------------------- */

/* One output cell of a pool from its window's valid cells (nh x nw at w0, rows ldr floats apart):
 * padding is never read (max: -inf; average: zeros, counted in div or not). */
static void pool_cell(float *restrict d, const float *w0, int64_t ldr, int64_t nh, int64_t nw,
                      int64_t C, int is_max, float inv, int relu) {
  if (is_max && nh == 2 && nw == 2) { /* the common 2x2 max pool in one pass */
    const float *restrict a = w0, *restrict e = w0 + C, *restrict f = w0 + ldr,
                          *restrict g = f + C;
    for (int64_t c = 0; c < C; c++) {
      float u = a[c] > e[c] ? a[c] : e[c], v = f[c] > g[c] ? f[c] : g[c];
      u = u > v ? u : v;
      d[c] = !relu || u > 0.0f ? u : 0.0f;
    }
    return;
  }
  memcpy(d, w0, sizeof(float) * (size_t)C);
  for (int64_t ky = 0; ky < nh; ky++)
    for (int64_t kx = ky == 0; kx < nw; kx++) {
      const float *restrict w = w0 + ky * ldr + kx * C;
      if (is_max)
        for (int64_t c = 0; c < C; c++)
          d[c] = w[c] > d[c] ? w[c] : d[c];
      else
        for (int64_t c = 0; c < C; c++)
          d[c] += w[c];
    }
  if (!is_max)
    for (int64_t c = 0; c < C; c++)
      d[c] *= inv;
  if (relu) /* a fused relu before a max pool: relu(max) = max(relu) */
    for (int64_t c = 0; c < C; c++)
      d[c] = d[c] > 0.0f ? d[c] : 0.0f;
}

void nadi_dpatch_pool(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const int relu = out->fused != 0; /* then read the relu's input */
  const nadi_dlevel *in =
      relu ? nadi_dlevel_in(p, &p->g->layers[out->fused - 1], 0) : nadi_dlevel_in(p, l, 0);
  const int64_t C = out->c, H = in->h, W = in->w;
  const int is_max = l->kind == NADI_MAXPOOL;
  float *win = p->ws;
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &out->r[b];
    if (r->ly >= r->hy || r->lx >= r->hx)
      continue;
    int64_t y0, x0, wh, ww;
    window_of(l, r->ly, r->hy, r->lx, r->hx, &y0, &x0, &wh, &ww);
    gather(in, b, y0, x0, wh, ww, win, C, ww * C);
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        /* the window clipped as in lib/kernels/pool.c (PyTorch's divisor) */
        int64_t hs = y * l->sh - l->pad_t, ws = x * l->sw - l->pad_l;
        int64_t he = imin(hs + l->kh, H + l->pad_b), we = imin(ws + l->kw, W + l->pad_r);
        int64_t size = (he - hs) * (we - ws);
        int64_t r0 = imax(hs, 0), r1 = imin(he, H), c0 = imax(ws, 0), c1 = imin(we, W);
        int64_t div = l->count_include_pad ? size : (r1 - r0) * (c1 - c0);
        pool_cell(cell(out, b, y, x), win + ((r0 - y0) * ww + (c0 - x0)) * C, ww * C, r1 - r0,
                  c1 - c0, C, is_max, 1.0f / (float)div, relu);
      }
  }
}

/* Any other pointwise kind: its own eval forward on the n values of a row of cells (the rule's
 * contract: elementwise, no parameters, no workspace or state in eval mode). `flat` is a copy
 * of the layer made once per call (the layer struct is large); only its shape changes here. */
static void pointwise_apply(nadi_layer *flat, const float *src, float *dst, int64_t n) {
  flat->in_dims[0] = flat->out_dims = (nadi_dims){1, {n, 0, 0, 0, 0, 0}};
  nadi_dims_view3(&flat->out_dims, flat->out_shape);
  nadi_dims_view3(&flat->in_dims[0], flat->in_shape[0]);
  nadi_ctx ctx = {.batch = 1, .forward_only = 1};
  const float *xs[1] = {src};
  nadi_ops(flat->kind)->forward(flat, NULL, xs, dst, &ctx);
}

void nadi_dpatch_pointwise(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t C = out->c;
  nadi_layer flat = *l;
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &out->r[b]; /* the input's rectangle too */
    int64_t n = (r->hx - r->lx) * C;
    for (int64_t y = r->ly; y < r->hy && n > 0; y++) {
      const float *restrict src = cell(in, b, y, r->lx);
      float *restrict dst = cell(out, b, y, r->lx);
      if (l->kind == NADI_RELU) {
        for (int64_t i = 0; i < n; i++)
          dst[i] = src[i] > 0.0f ? src[i] : 0.0f;
      } else if (l->kind == NADI_BATCHNORM && l->then_relu) { /* fold.c's BN + ReLU */
        const float *restrict a = out->scale, *restrict sh = out->shift;
        for (int64_t q = 0; q < n; q += C)
          for (int64_t c = 0; c < C; c++) {
            float t = a[c] * src[q + c] + sh[c];
            dst[q + c] = t > 0.0f ? t : 0.0f;
          }
      } else if (l->kind == NADI_BATCHNORM) {
        const float *restrict a = out->scale, *restrict sh = out->shift;
        for (int64_t q = 0; q < n; q += C)
          for (int64_t c = 0; c < C; c++)
            dst[q + c] = a[c] * src[q + c] + sh[c];
      } else {
        pointwise_apply(&flat, src, dst, n);
      }
    }
  }
}

void nadi_dpatch_join(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const nadi_dlevel *a = nadi_dlevel_in(p, l, 0), *b1 = nadi_dlevel_in(p, l, 1);
  const int64_t C = out->c, ldr = out->rw * C;
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &out->r[b];
    int64_t th = r->hy - r->ly, tw = r->hx - r->lx;
    if (th <= 0 || tw <= 0)
      continue;
    float *dst = cell(out, b, r->ly, r->lx);
    gather(a, b, r->ly, r->lx, th, tw, dst, C, ldr);
    if (l->kind == NADI_CONCAT) {
      gather(b1, b, r->ly, r->lx, th, tw, dst + a->c, C, ldr);
      continue;
    }
    float *restrict tmp = p->ws;
    gather(b1, b, r->ly, r->lx, th, tw, tmp, C, tw * C);
    for (int64_t y = 0; y < th; y++) {
      float *restrict d = dst + y * ldr;
      const float *restrict e = tmp + y * tw * C;
      for (int64_t i = 0; i < tw * C; i++)
        d[i] += e[i];
    }
  }
}

/* Global average: the base's plus the mean change over the true rectangle. */
void nadi_dpatch_gap(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t C = in->c;
  const float inv = 1.0f / (float)(in->h * in->w);
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &in->r[b];
    if (out->r[b].ly >= out->r[b].hy)
      continue; /* nothing changed */
    float *restrict d = cell(out, b, 0, 0);
    memset(d, 0, sizeof(float) * (size_t)C);
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        const float *restrict pv = cell(in, b, y, x);
        const float *restrict bv = in->base + (y * in->w + x) * C;
        for (int64_t c = 0; c < C; c++)
          d[c] += pv[c] - bv[c];
      }
    for (int64_t c = 0; c < C; c++)
      d[c] = out->base[c] + d[c] * inv;
  }
}

/* ---- linear layer on a patch ------------------------------------------------------------ */

static int same_rect(const nadi_drect *a, const nadi_drect *b) {
  return a->ly == b->ly && a->hy == b->hy && a->lx == b->lx && a->hx == b->hx;
}

/* Samples are grouped by their true rectangle (a chunk of consecutive pixels has few), so that
 * each group is one GEMM with the weight columns of its cells: K = cells × C instead of the
 * whole map. */
void nadi_dpatch_linear(nadi_delta *p, const nadi_layer *l, const float *params,
                        const nadi_dlevel *out, float *y, int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t C = in->c, H = in->h, W = in->w, o = out->c * out->h * out->w;
  int64_t fixed, per_row;
  nadi_dpatch_needs(p, l, &fixed, &per_row);
  const int64_t rows = nadi_dpatch_rows(per_row);
  const int64_t ob = per_row - in->rh * in->rw * C; /* output rows per gathered block */
  float *wg = p->ws, *dlt = p->ws + fixed, *res = dlt + rows * (per_row - ob);
  int64_t *gid = p->meta, *rep = p->meta + batch, *mem = p->meta + 2 * batch, n_groups = 0;
  for (int64_t b = 0; b < batch; b++) {
    memcpy(y + b * o, out->ybase, sizeof(float) * (size_t)o);
    int64_t g = 0;
    while (g < n_groups && !same_rect(&in->r[rep[g]], &in->r[b]))
      g++;
    if (g == n_groups)
      rep[n_groups++] = b;
    gid[b] = g;
  }
  for (int64_t g = 0; g < n_groups; g++) {
    const nadi_drect *r = &in->r[rep[g]];
    int64_t th = r->hy - r->ly, tw = r->hx - r->lx, k = th * tw * C;
    if (k <= 0)
      continue;
    for (int64_t j0 = 0; j0 < o; j0 += ob) {
      const int64_t nj = o - j0 < ob ? o - j0 : ob;
      for (int64_t j = 0; out->whwc && j < nj; j++) /* runs of the HWC copy */
        for (int64_t yy = 0; yy < th; yy++)
          memcpy(wg + j * k + yy * tw * C,
                 out->whwc + (j0 + j) * C * H * W + ((r->ly + yy) * W + r->lx) * C,
                 sizeof(float) * (size_t)(tw * C));
      /* else wg[j][(y, x, c)] = W[j0 + j][(c, ly + y, lx + x)] from the CHW weight */
      for (int64_t j = 0; !out->whwc && j < nj; j++)
        for (int64_t yy = 0; yy < th; yy++)
          for (int64_t xx = 0; xx < tw; xx++)
            for (int64_t c = 0; c < C; c++)
              wg[j * k + (yy * tw + xx) * C + c] =
                  params[(j0 + j) * C * H * W + (c * H + r->ly + yy) * W + r->lx + xx];
      int64_t m = 0;
      for (int64_t b = rep[g]; b <= batch; b++) {
        if (b < batch && gid[b] != g)
          continue;
        if (m > 0 && (b == batch || m == rows)) {
          nadi_sgemm(0, 1, m, nj, k, 1.0f, dlt, k, wg, k, 0.0f, res, nj);
          for (int64_t q = 0; q < m; q++)
            for (int64_t j = 0; j < nj; j++)
              y[mem[q] * o + j0 + j] += res[q * nj + j];
          m = 0;
        }
        if (b == batch)
          break;
        float *d = dlt + m * k;
        for (int64_t yy = r->ly; yy < r->hy; yy++, d += tw * C) {
          const float *restrict pv = cell(in, b, yy, r->lx);
          const float *restrict bv = in->base + (yy * W + r->lx) * C;
          for (int64_t i = 0; i < tw * C; i++)
            d[i] = pv[i] - bv[i];
        }
        mem[m++] = b;
      }
    }
  }
}

void nadi_dpatch_materialise(const nadi_dlevel *v, float *dst, int64_t batch) {
  const int64_t C = v->c, H = v->h, W = v->w;
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &v->r[b];
    float *d = dst + b * C * H * W;
    memcpy(d, v->base_chw, sizeof(float) * (size_t)(C * H * W));
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        const float *src = cell(v, b, y, x);
        for (int64_t c = 0; c < C; c++)
          d[(c * H + y) * W + x] = src[c];
      }
  }
}
