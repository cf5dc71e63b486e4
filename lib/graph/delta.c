/* Delta forward: the network's outputs at x0 with one input coordinate changed per sample.
 *
 * Why: the NAD estimator forwards 2·D such inputs per network (x0 ± s·e_i). A dense forward
 * recomputes every activation although a change of one pixel only reaches a small rectangle of
 * each early feature map (its receptive field). Here the leading chain of local layers (conv,
 * max/avg pool, relu, batchnorm and dropout in eval mode) is computed only on those rectangles
 * ("patches") on top of the activations of x0 ("base"); at the first non-local layer the full
 * activation is materialised (base with the patch pasted in) and the rest of the graph runs
 * densely through the ordinary executor. For LeNet this removes more than half of the work.
 *
 * Each level (0 = input, i+1 = output of prefix node i) has a fixed patch size, the largest
 * rectangle any single-coordinate change can dirty there. A sample's true dirty rectangle is
 * grown to that size (shifted inside the map), so every patch has the same shape and batches
 * stack into one GEMM; the extra cells hold base values recomputed, which is harmless. */
#include <math.h>
#include <string.h>

#include "core/blas.h"
#include "graph/graph.h"

typedef struct level {
  int64_t c, h, w;    /* map shape */
  int64_t rh, rw;     /* fixed patch size */
  float *base;        /* activation of x0, c*h*w */
  float *wt;          /* conv producing this level: weights as [(ky, kx, o), c] (per network) */
  float *patch;       /* cap * c * rh * rw */
  int64_t *oy, *ox;   /* per sample: origin of the patch (grown rectangle) */
  int64_t *ly, *hy, *lx, *hx; /* per sample: true dirty rectangle [l, h) (may be empty) */
} level;

struct nadi_delta {
  const nadi_graph *g;
  int64_t cap;
  int64_t n_prefix;  /* nodes [0, n_prefix) are computed on patches */
  level *lv;         /* n_prefix + 1 levels */
  nadi_exec *exec;   /* dense executor: suffix (or everything when n_prefix == 0) */
  float *x0;         /* base input */
  float *dense_x;    /* cap * D inputs, only when n_prefix == 0 */
  float *ws;         /* input changes + GEMM output of the patch convolutions, pool windows */
  int64_t ws_len;
};

#define WS_TARGET 262144 /* floats of conv workspace per sub-batch (~1 MB: stays in L2) */

static int is_local(const nadi_layer *l) {
  switch (l->kind) {
  case NADI_CONV2D:
  case NADI_MAXPOOL:
  case NADI_AVGPOOL:
  case NADI_RELU:
  case NADI_BATCHNORM:
  case NADI_DROPOUT:
    return 1;
  default:
    return 0;
  }
}

/* Geometry of a windowed layer (conv or pool) along one axis; elementwise layers: k = s = 1. */
static void window_of(const nadi_layer *l, int64_t *k, int64_t *s, int64_t *p) {
  if (l->kind == NADI_CONV2D || l->kind == NADI_MAXPOOL || l->kind == NADI_AVGPOOL) {
    *k = l->k, *s = l->stride, *p = l->kind == NADI_CONV2D ? l->pad : 0;
  } else {
    *k = 1, *s = 1, *p = 0;
  }
}

/* Output cells [olo, ohi) whose window meets input cells [lo, hi); n_out cells exist. */
static void propagate(const nadi_layer *l, int64_t n_out, int64_t lo, int64_t hi, int64_t *olo,
                      int64_t *ohi) {
  int64_t k, s, p;
  window_of(l, &k, &s, &p);
  if (lo >= hi) { /* nothing dirty stays nothing dirty */
    *olo = *ohi = 0;
    return;
  }
  int64_t a = lo + p - k + 1; /* first output o with o*s - p + k - 1 >= lo */
  int64_t first = a <= 0 ? 0 : (a + s - 1) / s;
  int64_t last = (hi - 1 + p) / s; /* last output o with o*s - p <= hi - 1 */
  if (last > n_out - 1)
    last = n_out - 1;
  if (first > last) {
    *olo = *ohi = 0;
    return;
  }
  *olo = first;
  *ohi = last + 1;
}

/* Grow [lo, hi) to `size` cells inside [0, n). */
static int64_t grow(int64_t lo, int64_t size, int64_t n) {
  int64_t o = lo;
  if (o > n - size)
    o = n - size;
  return o < 0 ? 0 : o;
}

void nadi_delta_destroy(nadi_delta *p) {
  if (!p)
    return;
  if (p->lv) {
    for (int64_t i = 0; i <= p->n_prefix; i++) {
      level *v = &p->lv[i];
      nadi_free(v->base), nadi_free(v->wt), nadi_free(v->patch), nadi_free(v->oy), nadi_free(v->ox);
      nadi_free(v->ly), nadi_free(v->hy), nadi_free(v->lx), nadi_free(v->hx);
    }
  }
  nadi_free(p->lv);
  nadi_exec_destroy(p->exec);
  nadi_free(p->x0);
  nadi_free(p->dense_x);
  nadi_free(p->ws);
  nadi_free(p);
}

/* Length of the leading chain of local layers, each read only by its successor. */
static int64_t prefix_length(const nadi_graph *g) {
  int64_t n = g->n_layers;
  int64_t i = 0;
  for (; i < n; i++) {
    const nadi_layer *l = &g->layers[i];
    if (!is_local(l) || l->n_in != 1 || l->in[0] != (i == 0 ? NADI_INPUT_NODE : i - 1))
      break;
    /* the value this node reads must have no other reader */
    int32_t src = l->in[0];
    int readers = 0;
    for (int64_t j = 0; j < n; j++)
      for (int32_t q = 0; q < g->layers[j].n_in; q++)
        readers += g->layers[j].in[q] == src;
    if (readers != 1)
      break;
  }
  return i;
}

nad_status nadi_delta_create(const nadi_graph *g, int64_t cap, nadi_delta **out) {
  *out = NULL;
  nadi_delta *p = nadi_calloc(1, sizeof *p);
  if (!p)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "probe: out of memory");
  p->g = g;
  p->cap = cap;
  p->n_prefix = prefix_length(g);
  int64_t d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2];
  p->x0 = nadi_alloc((size_t)d, sizeof(float));
  p->lv = nadi_calloc((size_t)(p->n_prefix + 1), sizeof *p->lv);
  if (!p->x0 || !p->lv)
    goto oom;
  if (p->n_prefix == 0) {
    p->dense_x = nadi_alloc((size_t)(cap * d), sizeof(float));
    if (!p->dense_x)
      goto oom;
  }
  for (int64_t i = 0; i <= p->n_prefix; i++) {
    level *v = &p->lv[i];
    const int64_t *s = i == 0 ? g->in_shape : g->layers[i - 1].out_shape;
    v->c = s[0], v->h = s[1], v->w = s[2];
    /* fixed patch size: the largest true rectangle over all input positions */
    v->rh = v->rw = 0;
    for (int axis = 0; axis < 2; axis++) {
      int64_t n_in = axis == 0 ? g->in_shape[1] : g->in_shape[2], best = 1;
      for (int64_t pos = 0; pos < n_in; pos++) {
        int64_t lo = pos, hi = pos + 1;
        for (int64_t j = 0; j < i; j++) {
          const nadi_layer *l = &g->layers[j];
          propagate(l, axis == 0 ? l->out_shape[1] : l->out_shape[2], lo, hi, &lo, &hi);
        }
        if (hi - lo > best)
          best = hi - lo;
      }
      if (axis == 0)
        v->rh = best;
      else
        v->rw = best;
    }
    v->base = nadi_alloc((size_t)(v->c * v->h * v->w), sizeof(float));
    v->patch = nadi_alloc((size_t)(cap * v->c * v->rh * v->rw), sizeof(float));
    v->oy = nadi_alloc((size_t)cap, sizeof(int64_t));
    v->ox = nadi_alloc((size_t)cap, sizeof(int64_t));
    v->ly = nadi_alloc((size_t)cap, sizeof(int64_t));
    v->hy = nadi_alloc((size_t)cap, sizeof(int64_t));
    v->lx = nadi_alloc((size_t)cap, sizeof(int64_t));
    v->hx = nadi_alloc((size_t)cap, sizeof(int64_t));
    if (!v->base || !v->patch || !v->oy || !v->ox || !v->ly || !v->hy || !v->lx || !v->hx)
      goto oom;
    if (i > 0) { /* workspace: windows of one sample, plus columns/results of a conv */
      const nadi_layer *l = &g->layers[i - 1];
      const level *pv = &p->lv[i - 1];
      int64_t k, st, pd;
      window_of(l, &k, &st, &pd);
      int64_t win = pv->c * ((v->rh - 1) * st + k) * ((v->rw - 1) * st + k), need = win;
      if (l->kind == NADI_CONV2D) {
        int64_t m = l->out_c * l->k * l->k, cin = pv->rh * pv->rw;
        int64_t sb = WS_TARGET / ((pv->c + m) * cin);
        sb = sb < 1 ? 1 : sb > cap ? cap : sb;
        need = (pv->c + m) * cin * sb;
        v->wt = nadi_alloc((size_t)(m * pv->c), sizeof(float));
        if (!v->wt)
          goto oom;
      }
      if (need > p->ws_len)
        p->ws_len = need;
    }
  }
  if (p->ws_len) {
    p->ws = nadi_alloc((size_t)p->ws_len, sizeof(float));
    if (!p->ws)
      goto oom;
  }
  nad_status st = nadi_exec_create(g, cap, &p->exec);
  if (st != NAD_OK) {
    nadi_delta_destroy(p);
    return st;
  }
  *out = p;
  return NAD_OK;
oom:
  nadi_delta_destroy(p);
  return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "probe: out of memory for batch %lld", (long long)cap);
}

int64_t nadi_delta_prefix_len(const nadi_delta *p) { return p->n_prefix; }

void nadi_delta_set_base(nadi_delta *p, float *params, const float *x0) {
  const nadi_graph *g = p->g;
  int64_t d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2];
  memcpy(p->x0, x0, sizeof(float) * (size_t)d);
  memcpy(p->lv[0].base, x0, sizeof(float) * (size_t)d);
  if (p->n_prefix == 0)
    return;
  nadi_exec_forward(p->exec, params, p->x0, 1, 0, NULL);
  for (int64_t i = 1; i <= p->n_prefix; i++) {
    level *v = &p->lv[i];
    memcpy(v->base, nadi_exec_act(p->exec, i - 1), sizeof(float) * (size_t)(v->c * v->h * v->w));
    const nadi_layer *l = &g->layers[i - 1];
    if (l->kind == NADI_CONV2D) { /* W[o][c][ky][kx] -> wt[(ky, kx, o)][c] */
      const float *wgt = params + l->param_off;
      int64_t ci = l->in_shape[0][0], kk = l->k * l->k, co = l->out_c;
      for (int64_t o = 0; o < co; o++)
        for (int64_t c = 0; c < ci; c++)
          for (int64_t t = 0; t < kk; t++)
            v->wt[(t * co + o) * ci + c] = wgt[(o * ci + c) * kk + t];
    }
  }
}

/* Copy the window [y0, y0+wh) × [x0, x0+ww) of every channel of level v, as sample b sees it,
 * into dst (c × wh × ww): base rows, the patch pasted over them, zeros outside the map. Plain
 * row copies, so the loops that read the window afterwards have no branches. */
static void gather_window(const level *v, int64_t b, int64_t y0, int64_t x0, int64_t wh,
                          int64_t ww, float *dst) {
  int64_t xa = x0 < 0 ? 0 : x0, xb = x0 + ww > v->w ? v->w : x0 + ww; /* inside the map */
  int64_t py0 = v->oy[b], px0 = v->ox[b];
  int64_t pxa = px0 > xa ? px0 : xa, pxb = px0 + v->rw < xb ? px0 + v->rw : xb;
  for (int64_t c = 0; c < v->c; c++) {
    const float *base = v->base + c * v->h * v->w;
    const float *patch = v->patch + (b * v->c + c) * v->rh * v->rw;
    for (int64_t y = 0; y < wh; y++) {
      float *row = dst + (c * wh + y) * ww;
      int64_t iy = y0 + y;
      if (iy < 0 || iy >= v->h || xa >= xb) {
        memset(row, 0, sizeof(float) * (size_t)ww);
        continue;
      }
      if (xa > x0)
        memset(row, 0, sizeof(float) * (size_t)(xa - x0));
      if (xb < x0 + ww)
        memset(row + (xb - x0), 0, sizeof(float) * (size_t)(x0 + ww - xb));
      memcpy(row + (xa - x0), base + iy * v->w + xa, sizeof(float) * (size_t)(xb - xa));
      if (iy >= py0 && iy < py0 + v->rh && pxa < pxb)
        memcpy(row + (pxa - x0), patch + (iy - py0) * v->rw + (pxa - px0),
               sizeof(float) * (size_t)(pxb - pxa));
    }
  }
}

/* A convolution is linear: conv(base + Δ) = conv(base) + conv(Δ), and the input change Δ is
 * zero outside the input patch. So the output patch is the base output plus the contributions
 * of the few changed input cells: one GEMM wt[(o,ky,kx), c] · Δ[c, cells] (no im2col, whose
 * copying cost as much as the GEMM itself), then a scatter-add of each tap onto the output
 * patch. Contributions that would land outside the output patch come only from cells of the
 * grown input rectangle that did not really change (Δ = 0 up to rounding), so they are dropped. */
static void conv_patch(nadi_delta *p, const nadi_layer *l, const level *in, level *out,
                       int64_t batch) {
  int64_t ci = in->c, k = l->k, s = l->stride, pad = l->pad, co = l->out_c, m = co * k * k;
  int64_t irh = in->rh, irw = in->rw, cin = irh * irw, rh = out->rh, rw = out->rw;
  int64_t sb = p->ws_len / ((ci + m) * cin);
  if (sb > batch)
    sb = batch;
  for (int64_t b0 = 0; b0 < batch; b0 += sb) {
    int64_t nb = batch - b0 < sb ? batch - b0 : sb, ncol = nb * cin;
    float *dlt = p->ws, *res = p->ws + ci * ncol;
    for (int64_t bb = 0; bb < nb; bb++) { /* Δ = patch − base, as [(sample, cell)][c] */
      int64_t b = b0 + bb;
      for (int64_t c = 0; c < ci; c++) {
        const float *pt = in->patch + (b * ci + c) * cin;
        float *d = dlt + bb * cin * ci + c;
        for (int64_t y = 0; y < irh; y++) {
          const float *bs = in->base + (c * in->h + in->oy[b] + y) * in->w + in->ox[b];
          for (int64_t x = 0; x < irw; x++)
            d[(y * irw + x) * ci] = pt[y * irw + x] - bs[x];
        }
      }
    }
    /* res[(sample, cell)][(ky, kx, o)]: each changed cell's contribution through every tap */
    nadi_sgemm(0, 1, ncol, m, ci, 1.0f, dlt, ci, out->wt, ci, 0.0f, res, m);
    for (int64_t bb = 0; bb < nb; bb++) {
      int64_t b = b0 + bb, oy = out->oy[b], ox = out->ox[b], plane = rh * rw;
      float *dst = out->patch + b * co * plane;
      for (int64_t o = 0; o < co; o++) /* start from the base output */
        for (int64_t y = 0; y < rh; y++)
          memcpy(dst + o * plane + y * rw, out->base + (o * out->h + oy + y) * out->w + ox,
                 sizeof(float) * (size_t)rw);
      for (int64_t y = 0; y < irh; y++)
        for (int64_t x = 0; x < irw; x++) {
          const float *row = res + (bb * cin + y * irw + x) * m;
          int64_t iy = in->oy[b] + y, ix = in->ox[b] + x;
          for (int64_t ky = 0; ky < k; ky++) {
            /* input (iy, ix) reaches output ((iy + pad - ky) / s, (ix + pad - kx) / s) when
             * the division is exact and the output lies inside the patch */
            int64_t ny = iy + pad - ky;
            if (ny < 0 || ny % s || ny / s - oy < 0 || ny / s - oy >= rh)
              continue;
            for (int64_t kx = 0; kx < k; kx++) {
              int64_t nx = ix + pad - kx;
              if (nx < 0 || nx % s || nx / s - ox < 0 || nx / s - ox >= rw)
                continue;
              const float *w = row + (ky * k + kx) * co;
              float *d = dst + (ny / s - oy) * rw + (nx / s - ox);
              for (int64_t o = 0; o < co; o++)
                d[o * plane] += w[o];
            }
          }
        }
    }
  }
}

static void pool_patch(nadi_delta *p, const nadi_layer *l, const level *in, level *out,
                       int64_t batch) {
  int64_t k = l->k, s = l->stride, rh = out->rh, rw = out->rw;
  int64_t wh = (rh - 1) * s + k, ww = (rw - 1) * s + k;
  int is_max = l->kind == NADI_MAXPOOL;
  float inv = 1.0f / (float)(k * k), *win = p->ws;
  for (int64_t b = 0; b < batch; b++) {
    gather_window(in, b, out->oy[b] * s, out->ox[b] * s, wh, ww, win);
    for (int64_t c = 0; c < out->c; c++) {
      float *dst = out->patch + (b * out->c + c) * rh * rw;
      for (int64_t py = 0; py < rh; py++)
        for (int64_t px = 0; px < rw; px++) {
          const float *w0 = win + (c * wh + py * s) * ww + px * s;
          float acc;
          if (is_max && k == 2) { /* the common 2x2 max pool, branch-free */
            float a = w0[0] > w0[1] ? w0[0] : w0[1], e = w0[ww] > w0[ww + 1] ? w0[ww] : w0[ww + 1];
            acc = a > e ? a : e;
          } else {
            acc = is_max ? w0[0] : 0.0f;
            for (int64_t ky = 0; ky < k; ky++)
              for (int64_t kx = 0; kx < k; kx++) {
                float v = w0[ky * ww + kx];
                acc = is_max ? (v > acc ? v : acc) : acc + v;
              }
            if (!is_max)
              acc *= inv;
          }
          dst[py * rw + px] = acc;
        }
    }
  }
}

/* relu, batchnorm (eval), dropout (eval): the same rectangle, value by value. */
static void pointwise_patch(const nadi_layer *l, const float *prm, const level *in, level *out,
                            int64_t batch) {
  int64_t cells = out->rh * out->rw;
  for (int64_t b = 0; b < batch; b++)
    for (int64_t c = 0; c < out->c; c++) {
      const float *src = in->patch + (b * in->c + c) * cells;
      float *dst = out->patch + (b * out->c + c) * cells;
      if (l->kind == NADI_RELU) {
        for (int64_t q = 0; q < cells; q++)
          dst[q] = src[q] > 0.0f ? src[q] : 0.0f;
      } else if (l->kind == NADI_BATCHNORM) {
        int64_t C = out->c;
        float scale = prm[c] / sqrtf(prm[3 * C + c] + (float)l->eps);
        float mean = prm[2 * C + c], shift = prm[C + c];
        for (int64_t q = 0; q < cells; q++)
          dst[q] = (src[q] - mean) * scale + shift;
      } else {
        memcpy(dst, src, sizeof(float) * (size_t)cells);
      }
    }
}

void nadi_delta_forward(nadi_delta *p, float *params, const int64_t *coord, const float *value,
                        int64_t batch, float *out) {
  const nadi_graph *g = p->g;
  int64_t C = g->in_shape[0], H = g->in_shape[1], W = g->in_shape[2], d = C * H * W;
  const float *y;
  if (p->n_prefix == 0) {
    for (int64_t b = 0; b < batch; b++) {
      memcpy(p->dense_x + b * d, p->x0, sizeof(float) * (size_t)d);
      p->dense_x[b * d + coord[b]] = value[b];
    }
    y = nadi_exec_forward(p->exec, params, p->dense_x, batch, 0, NULL);
  } else {
    /* level 0: a 1x1 patch over all channels at the changed pixel */
    level *v0 = &p->lv[0];
    for (int64_t b = 0; b < batch; b++) {
      int64_t c = coord[b] / (H * W), yy = (coord[b] / W) % H, xx = coord[b] % W;
      v0->ly[b] = v0->oy[b] = yy, v0->hy[b] = yy + 1;
      v0->lx[b] = v0->ox[b] = xx, v0->hx[b] = xx + 1;
      for (int64_t ch = 0; ch < C; ch++)
        v0->patch[b * C + ch] = ch == c ? value[b] : p->x0[(ch * H + yy) * W + xx];
    }
    for (int64_t i = 0; i < p->n_prefix; i++) {
      const nadi_layer *l = &g->layers[i];
      level *in = &p->lv[i], *o = &p->lv[i + 1];
      for (int64_t b = 0; b < batch; b++) {
        propagate(l, o->h, in->ly[b], in->hy[b], &o->ly[b], &o->hy[b]);
        propagate(l, o->w, in->lx[b], in->hx[b], &o->lx[b], &o->hx[b]);
        o->oy[b] = grow(o->ly[b], o->rh, o->h);
        o->ox[b] = grow(o->lx[b], o->rw, o->w);
      }
      float *prm = params + l->param_off;
      if (l->kind == NADI_CONV2D)
        conv_patch(p, l, in, o, batch);
      else if (l->kind == NADI_MAXPOOL || l->kind == NADI_AVGPOOL)
        pool_patch(p, l, in, o, batch);
      else
        pointwise_patch(l, prm, in, o, batch);
    }
    /* materialise the last prefix level: base with each sample's patch pasted in */
    level *v = &p->lv[p->n_prefix];
    int64_t m = v->c * v->h * v->w;
    float *act = nadi_exec_act(p->exec, p->n_prefix - 1);
    for (int64_t b = 0; b < batch; b++) {
      float *dst = act + b * m;
      memcpy(dst, v->base, sizeof(float) * (size_t)m);
      for (int64_t c = 0; c < v->c; c++)
        for (int64_t py = 0; py < v->rh; py++)
          memcpy(dst + (c * v->h + v->oy[b] + py) * v->w + v->ox[b],
                 v->patch + ((b * v->c + c) * v->rh + py) * v->rw, sizeof(float) * (size_t)v->rw);
    }
    y = p->n_prefix < g->n_layers
            ? nadi_exec_forward_range(p->exec, params, p->x0, p->n_prefix, batch, 0, NULL)
            : act;
  }
  const int64_t *os = g->layers[g->n_layers - 1].out_shape;
  memcpy(out, y, sizeof(float) * (size_t)(batch * os[0] * os[1] * os[2]));
}
