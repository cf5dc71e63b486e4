/* The patch kernels of the delta forward (layout and meaning of levels in delta_impl.h).
 *
 * Convolutions, two ways:
 *  - SCATTER (stride 1): a convolution is linear, conv(base + Δ) = conv(base) + conv(Δ), and Δ
 *    is zero outside the input's true rectangle. So the output patch is its base plus the
 *    contributions of those few cells: one GEMM Δ[(sample, cell), c] · W[c, (ky, kx, o)], then
 *    each row's k² output vectors are added onto the output cells they reach. The GEMM is over
 *    the true cells only, so its size follows the real rectangles, not the grown patches.
 *  - DIRECT (strided, 1x1): the output cells of the true rectangle from their input windows
 *    (base with the patch pasted in): an im2col of those cells (HWC: k contiguous runs of k·C
 *    floats per row) and one GEMM with W[(ky, kx, c), o].
 * Everything else (pools, elementwise layers, the joins) reads windows of its inputs as the
 * sample sees them and writes whole patches. */
#include <string.h>

#include "graph/delta_impl.h"

static int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

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

/* The window [y0, y0+wh) × [x0, x0+ww) of level v as sample b sees it, into dst (HWC, cells ldc
 * floats apart, channels [0, v->c) of each): base rows, the patch pasted over them, zeros
 * outside the map. */
static void gather(const nadi_dlevel *v, int64_t b, int64_t y0, int64_t x0, int64_t wh,
                   int64_t ww, float *dst, int64_t ldc) {
  const int64_t C = v->c;
  const nadi_drect *r = &v->r[b];
  const float *patch = v->patch + b * v->rh * v->rw * C;
  int64_t xa = imax(x0, 0), xb = imin(x0 + ww, v->w);
  int64_t pxa = imax(xa, r->ox), pxb = imin(xb, r->ox + v->rw);
  for (int64_t y = 0; y < wh; y++) {
    float *row = dst + y * ww * ldc;
    int64_t iy = y0 + y;
    if (iy < 0 || iy >= v->h || xa >= xb) {
      zero_cells(row, ldc, C, ww);
      continue;
    }
    zero_cells(row, ldc, C, xa - x0);
    zero_cells(row + (xb - x0) * ldc, ldc, C, x0 + ww - xb);
    copy_cells(row + (xa - x0) * ldc, ldc, v->base + (iy * v->w + xa) * C, C, xb - xa);
    if (iy >= r->oy && iy < r->oy + v->rh)
      copy_cells(row + (pxa - x0) * ldc, ldc, patch + ((iy - r->oy) * v->rw + pxa - r->ox) * C,
                 C, pxb - pxa);
  }
}

/* Every sample's output patch starts as the base under it. */
static void base_patches(nadi_dlevel *v, int64_t batch) {
  int64_t run = v->rw * v->c;
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &v->r[b];
    float *dst = v->patch + b * v->rh * run;
    for (int64_t y = 0; y < v->rh; y++)
      memcpy(dst + y * run, v->base + ((r->oy + y) * v->w + r->ox) * v->c,
             sizeof(float) * (size_t)run);
  }
}

/* The window of input cells an output rectangle [ly, hy) × [lx, hx) of node l reads. */
static void window_of(const nadi_layer *l, int64_t ly, int64_t hy, int64_t lx, int64_t hx,
                      int64_t *y0, int64_t *x0, int64_t *wh, int64_t *ww) {
  int64_t s = l->stride, p = l->kind == NADI_CONV2D ? l->pad : 0;
  *y0 = ly * s - p, *x0 = lx * s - p;
  *wh = (hy - ly - 1) * s + l->k, *ww = (hx - lx - 1) * s + l->k;
}

void nadi_dpatch_needs(const nadi_delta *p, const nadi_layer *l, int64_t *ws_fixed,
                       int64_t *ws_per_row) {
  const nadi_dlevel *v = &p->lv[l - p->g->layers + 1], *in = nadi_dlevel_in(p, l, 0);
  int64_t win = 0;
  if (l->kind == NADI_CONV2D || l->kind == NADI_MAXPOOL || l->kind == NADI_AVGPOOL) {
    int64_t y0, x0, wh, ww;
    window_of(l, 0, v->rh, 0, v->rw, &y0, &x0, &wh, &ww);
    win = wh * ww * in->c;
  }
  *ws_fixed = *ws_per_row = 0;
  switch (l->kind) {
  case NADI_CONV2D:
    if (v->method == CONV_SCATTER) {
      *ws_per_row = 2 * in->c + v->c;
    } else {
      *ws_fixed = win;
      *ws_per_row = (int64_t)l->k * l->k * in->c + v->c;
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
    int64_t k = in->rh * in->rw * in->c, o = v->c * v->h * v->w;
    *ws_fixed = o * k;
    *ws_per_row = k + o;
    break;
  }
  default:
    break;
  }
}

/* ---- convolution ---------------------------------------------------------------------------- */

/* The m scatter rows gathered so far (their changes in dlt), tap by tap: the rows whose output
 * cell for tap (ky, kx) lies inside their patch (all rows but those near a map border, where
 * the tap falls into the padding) go through one GEMM with that tap's weights W[c, (ky, kx, ·)],
 * and each result row is added onto its output cell. Tap by tap, no multiplication is spent on
 * a tap that lands outside (4x4 map, 3x3 kernel: 100 of 144 cell-taps are real; 2x2: 16 of 36),
 * and each GEMM's weight panel is C×O, packed once for many rows. */
static void scatter_flush(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t m,
                          const float *dlt, float *at, float *res) {
  const int64_t ci = nadi_dlevel_in(p, l, 0)->c, co = out->c, k = l->k, pad = l->pad;
  const int64_t rh = out->rh, rw = out->rw;
  const int64_t *meta = p->meta;
  int64_t *sel = p->meta + 3 * m; /* rows of this tap, then their destination offsets */
  int64_t *dst_off = sel + m;
  for (int64_t ky = 0; ky < k; ky++)
    for (int64_t kx = 0; kx < k; kx++) {
      int64_t n = 0;
      for (int64_t q = 0; q < m; q++) {
        int64_t s = meta[3 * q];
        const nadi_drect *ro = &out->r[s];
        /* stride 1: input (y, x) reaches output (y + pad - ky, x + pad - kx) */
        int64_t py = meta[3 * q + 1] + pad - ky - ro->oy, px = meta[3 * q + 2] + pad - kx - ro->ox;
        if (py < 0 || py >= rh || px < 0 || px >= rw)
          continue;
        sel[n] = q;
        dst_off[n++] = (s * rh * rw + py * rw + px) * co;
      }
      if (n == 0)
        continue;
      const float *a = dlt;
      if (n < m) { /* the rows of this tap, contiguous */
        for (int64_t j = 0; j < n; j++)
          memcpy(at + j * ci, dlt + sel[j] * ci, sizeof(float) * (size_t)ci);
        a = at;
      }
      nadi_sgemm(0, 0, n, co, ci, 1.0f, a, ci, out->wt + (ky * k + kx) * co, k * k * co, 0.0f,
                 res, co);
      for (int64_t j = 0; j < n; j++) {
        float *restrict d = out->patch + dst_off[j];
        const float *restrict w = res + j * co;
        for (int64_t o = 0; o < co; o++)
          d[o] += w[o];
      }
    }
}

static void conv_scatter(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t ci = in->c, co = out->c;
  const int64_t rows = nadi_dpatch_rows(2 * ci + co);
  float *dlt = p->ws, *at = dlt + rows * ci, *res = at + rows * ci;
  int64_t *meta = p->meta, m = 0;
  base_patches(out, batch);
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &in->r[b];
    const float *patch = in->patch + b * in->rh * in->rw * ci;
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        const float *restrict src = patch + ((y - r->oy) * in->rw + x - r->ox) * ci;
        const float *restrict bs = in->base + (y * in->w + x) * ci;
        float *restrict d = dlt + m * ci;
        for (int64_t c = 0; c < ci; c++)
          d[c] = src[c] - bs[c];
        meta[3 * m] = b, meta[3 * m + 1] = y, meta[3 * m + 2] = x;
        if (++m == rows)
          scatter_flush(p, l, out, m, dlt, at, res), m = 0;
      }
  }
  if (m > 0)
    scatter_flush(p, l, out, m, dlt, at, res);
}

/* GEMM of the m im2col rows gathered so far; the results (plus bias) are the patch cells. */
static void direct_flush(nadi_delta *p, const nadi_layer *l, const float *bias, nadi_dlevel *out,
                         int64_t m, const float *col, float *res) {
  const int64_t co = out->c, kc = (int64_t)l->k * l->k * nadi_dlevel_in(p, l, 0)->c;
  const int64_t rh = out->rh, rw = out->rw;
  const int64_t *meta = p->meta;
  nadi_sgemm(0, 0, m, co, kc, 1.0f, col, kc, out->wt, co, 0.0f, res, co);
  for (int64_t q = 0; q < m; q++) {
    const nadi_drect *ro = &out->r[meta[3 * q]];
    float *restrict d = out->patch + meta[3 * q] * rh * rw * co +
                        ((meta[3 * q + 1] - ro->oy) * rw + meta[3 * q + 2] - ro->ox) * co;
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
  const int64_t ci = in->c, co = out->c, k = l->k, s = l->stride, kc = k * k * ci;
  const int64_t rows = nadi_dpatch_rows(kc + co);
  int64_t fixed, per_row;
  nadi_dpatch_needs(p, l, &fixed, &per_row);
  float *win = p->ws, *col = p->ws + fixed, *res = col + rows * kc;
  int64_t *meta = p->meta, m = 0;
  base_patches(out, batch);
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &out->r[b];
    if (r->ly >= r->hy || r->lx >= r->hx)
      continue;
    int64_t y0, x0, wh, ww;
    window_of(l, r->ly, r->hy, r->lx, r->hx, &y0, &x0, &wh, &ww);
    gather(in, b, y0, x0, wh, ww, win, ci);
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        float *row = col + m * kc;
        for (int64_t ky = 0; ky < k; ky++)
          memcpy(row + ky * k * ci, win + (((y - r->ly) * s + ky) * ww + (x - r->lx) * s) * ci,
                 sizeof(float) * (size_t)(k * ci));
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

void nadi_dpatch_pool(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t C = out->c, k = l->k, s = l->stride, rh = out->rh, rw = out->rw;
  const int is_max = l->kind == NADI_MAXPOOL;
  const float inv = 1.0f / (float)(k * k);
  float *win = p->ws;
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &out->r[b];
    int64_t y0, x0, wh, ww;
    window_of(l, r->oy, r->oy + rh, r->ox, r->ox + rw, &y0, &x0, &wh, &ww);
    gather(in, b, y0, x0, wh, ww, win, C);
    for (int64_t py = 0; py < rh; py++)
      for (int64_t px = 0; px < rw; px++) {
        float *restrict d = out->patch + ((b * rh + py) * rw + px) * C;
        const float *w0 = win + (py * s * ww + px * s) * C;
        memcpy(d, w0, sizeof(float) * (size_t)C);
        for (int64_t ky = 0; ky < k; ky++)
          for (int64_t kx = ky == 0; kx < k; kx++) {
            const float *restrict w = w0 + (ky * ww + kx) * C;
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
      }
  }
}

void nadi_dpatch_pointwise(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t C = out->c, cells = batch * out->rh * out->rw;
  const float *restrict src = in->patch;
  float *restrict dst = out->patch;
  if (l->kind == NADI_RELU) {
    for (int64_t i = 0; i < cells * C; i++)
      dst[i] = src[i] > 0.0f ? src[i] : 0.0f;
  } else if (l->kind == NADI_BATCHNORM) {
    const float *restrict a = out->scale, *restrict sh = out->shift;
    for (int64_t q = 0; q < cells; q++)
      for (int64_t c = 0; c < C; c++)
        dst[q * C + c] = a[c] * src[q * C + c] + sh[c];
  } else { /* dropout in eval mode */
    memcpy(dst, src, sizeof(float) * (size_t)(cells * C));
  }
}

void nadi_dpatch_join(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const nadi_dlevel *a = nadi_dlevel_in(p, l, 0), *b1 = nadi_dlevel_in(p, l, 1);
  const int64_t C = out->c, rh = out->rh, rw = out->rw, n = rh * rw * C;
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &out->r[b];
    float *dst = out->patch + b * n;
    if (l->kind == NADI_CONCAT) {
      gather(a, b, r->oy, r->ox, rh, rw, dst, C);
      gather(b1, b, r->oy, r->ox, rh, rw, dst + a->c, C);
      continue;
    }
    float *restrict tmp = p->ws;
    gather(a, b, r->oy, r->ox, rh, rw, dst, C);
    gather(b1, b, r->oy, r->ox, rh, rw, tmp, C);
    for (int64_t i = 0; i < n; i++)
      dst[i] += tmp[i];
  }
}

/* Global average: the base's plus the mean change over the true rectangle. */
void nadi_dpatch_gap(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t C = in->c;
  const float inv = 1.0f / (float)(in->h * in->w);
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &in->r[b];
    float *restrict d = out->patch + b * C;
    const float *patch = in->patch + b * in->rh * in->rw * C;
    memset(d, 0, sizeof(float) * (size_t)C);
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        const float *restrict pv = patch + ((y - r->oy) * in->rw + x - r->ox) * C;
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
  float *wg = p->ws, *dlt = p->ws + fixed, *res = dlt + rows * (per_row - o);
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
    if (k == 0)
      continue;
    for (int64_t j = 0; j < o; j++) /* wg[j][(y, x, c)] = W[j][(c, ly + y, lx + x)] */
      for (int64_t yy = 0; yy < th; yy++)
        for (int64_t xx = 0; xx < tw; xx++)
          for (int64_t c = 0; c < C; c++)
            wg[j * k + (yy * tw + xx) * C + c] =
                params[j * C * H * W + (c * H + r->ly + yy) * W + r->lx + xx];
    int64_t m = 0;
    for (int64_t b = rep[g]; b <= batch; b++) {
      if (b < batch && gid[b] != g)
        continue;
      if (m > 0 && (b == batch || m == rows)) {
        nadi_sgemm(0, 1, m, o, k, 1.0f, dlt, k, wg, k, 0.0f, res, o);
        for (int64_t q = 0; q < m; q++)
          for (int64_t j = 0; j < o; j++)
            y[mem[q] * o + j] += res[q * o + j];
        m = 0;
      }
      if (b == batch)
        break;
      const float *patch = in->patch + b * in->rh * in->rw * C;
      float *d = dlt + m * k;
      for (int64_t yy = r->ly; yy < r->hy; yy++)
        for (int64_t xx = r->lx; xx < r->hx; xx++, d += C) {
          const float *pv = patch + ((yy - in->r[b].oy) * in->rw + xx - in->r[b].ox) * C;
          const float *bv = in->base + (yy * W + xx) * C;
          for (int64_t c = 0; c < C; c++)
            d[c] = pv[c] - bv[c];
        }
      mem[m++] = b;
    }
  }
}

void nadi_dpatch_materialise(const nadi_dlevel *v, float *dst, int64_t batch) {
  const int64_t C = v->c, H = v->h, W = v->w;
  for (int64_t b = 0; b < batch; b++) {
    const nadi_drect *r = &v->r[b];
    float *d = dst + b * C * H * W;
    const float *patch = v->patch + b * v->rh * v->rw * C;
    memcpy(d, v->base_chw, sizeof(float) * (size_t)(C * H * W));
    for (int64_t y = r->ly; y < r->hy; y++)
      for (int64_t x = r->lx; x < r->hx; x++) {
        const float *src = patch + ((y - r->oy) * v->rw + x - r->ox) * C;
        for (int64_t c = 0; c < C; c++)
          d[(c * H + y) * W + x] = src[c];
      }
  }
}
