/* Delta forward: the network's outputs at x0 with one input coordinate changed per sample.
 *
 * Why: the NAD estimator forwards 2·D such inputs per network (x0 ± s·e_i). A dense forward
 * recomputes every activation although a change of one pixel only reaches a small rectangle of
 * each early feature map. Here every local node (conv, pools, relu, eval batchnorm/dropout, the
 * joins of residual and dense blocks, global average pooling) whose inputs are patches is
 * computed only on the rectangle the change can reach ("patch", kernels in delta_patch.c), on
 * top of the activations of x0 ("base"); the rest runs densely through the executor. The graph
 * is a DAG: a join's rectangle is the hull of its inputs' rectangles.
 *
 * Where a patch stops paying: a convolution stays on patches while its patch arithmetic is at
 * most `crossover` times its dense arithmetic (per node, from the patch and map sizes); past
 * that point the node and everything that depends on it run densely, and the patch levels
 * they read are materialised (base with the patch pasted in). A linear layer reading a patch
 * level needs no materialisation at all: it is linear, so y = y(x0) + W[:, patch cells]·Δ.
 *
 * Each sample has, per level, its true dirty rectangle (the cells its change can reach); its
 * patch holds its values there, in a slot of the level's fixed patch size (the largest such
 * rectangle over all input positions), so that a batch's patches are one buffer and their
 * cells stack into GEMMs of (sample, cell) rows. Kernels compute exactly the true rectangles. */
#include <math.h>
#include <string.h>

#include "graph/delta_impl.h"
#include "kernels/kernels.h"

/* Measured crossover (BENCHMARKS.md, "Delta forward"): patch conv arithmetic / dense conv
 * arithmetic above which the dense executor is faster. */
#ifndef NADI_DELTA_CROSSOVER
#define NADI_DELTA_CROSSOVER 0.5
#endif

/* Nodes the delta forward can compute on patches: those whose kind's delta rule is local. */
static int is_local(nadi_kind k) {
  nadi_delta_rule r = nadi_kind_of(k)->delta;
  return r != NADI_DELTA_DENSE && r != NADI_DELTA_LINEAR;
}

/* Output cells [olo, ohi) of a conv or pool whose window meets input cells [lo, hi) along
 * `axis` (0 rows, 1 columns). A dilated window counts as its hull d*(k-1)+1 (a superset of the
 * cells that can change; the kernels compute every cell of the rectangle exactly). */
static void window_interval(const nadi_layer *l, int axis, int64_t n_out, int64_t lo, int64_t hi,
                            int64_t *olo, int64_t *ohi) {
  int64_t s = axis ? l->sw : l->sh, p = axis ? l->pad_l : l->pad_t;
  int64_t d = axis ? l->dw : l->dh, k = (d ? d : 1) * ((axis ? l->kw : l->kh) - 1) + 1;
  *olo = *ohi = 0;
  if (lo >= hi) /* nothing dirty stays nothing dirty */
    return;
  int64_t a = lo + p - k + 1; /* first output o with o*s - p + k - 1 >= lo */
  int64_t first = a <= 0 ? 0 : (a + s - 1) / s;
  int64_t last = (hi - 1 + p) / s; /* last output o with o*s - p <= hi - 1 */
  if (last > n_out - 1)
    last = n_out - 1;
  if (first <= last)
    *olo = first, *ohi = last + 1;
}

/* Dirty interval of node l's output along one axis (0 rows, 1 columns) from its inputs'. */
static void node_interval(const nadi_layer *l, int axis, const int64_t lo[2], const int64_t hi[2],
                          int64_t *olo, int64_t *ohi) {
  switch (nadi_kind_of(l->kind)->delta) {
  case NADI_DELTA_WINDOW:
    window_interval(l, axis, l->out_shape[1 + axis], lo[0], hi[0], olo, ohi);
    return;
  case NADI_DELTA_JOIN: /* the hull: a rectangle holding both */
    if (lo[0] >= hi[0])
      *olo = lo[1], *ohi = hi[1];
    else if (lo[1] >= hi[1])
      *olo = lo[0], *ohi = hi[0];
    else
      *olo = lo[0] < lo[1] ? lo[0] : lo[1], *ohi = hi[0] > hi[1] ? hi[0] : hi[1];
    return;
  case NADI_DELTA_GLOBAL:
    *olo = 0, *ohi = lo[0] < hi[0];
    return;
  default: /* pointwise */
    *olo = lo[0], *ohi = hi[0];
    return;
  }
}

static void level_free(nadi_dlevel *v) {
  nadi_free(v->base), nadi_free(v->base_chw), nadi_free(v->r);
  nadi_free(v->wt), nadi_free(v->scale), nadi_free(v->shift), nadi_free(v->ybase);
  nadi_free(v->whwc);
}

void nadi_delta_destroy(nadi_delta *p) {
  if (!p)
    return;
  for (int64_t i = 0; p->lv && i <= p->g->n_layers; i++)
    level_free(&p->lv[i]);
  nadi_free(p->lv);
  for (int64_t i = 0; p->bufs && i < p->n_bufs; i++)
    nadi_free(p->bufs[i]);
  nadi_free(p->bufs);
  nadi_exec_destroy(p->exec);
  nadi_free(p->x0), nadi_free(p->dense_x), nadi_free(p->ws), nadi_free(p->meta);
  nadi_free(p);
}

/* Fixed patch size of every level: the largest dirty interval, per axis, over all positions of
 * the changed coordinate. Non-local nodes get the whole map (they are never patches). */
static int patch_sizes(nadi_delta *p) {
  const nadi_graph *g = p->g;
  int64_t n = g->n_layers;
  int64_t *lo = nadi_alloc((size_t)(n + 1), sizeof(int64_t));
  int64_t *hi = nadi_alloc((size_t)(n + 1), sizeof(int64_t));
  if (!lo || !hi) {
    nadi_free(lo), nadi_free(hi);
    return 0;
  }
  for (int axis = 0; axis < 2; axis++) {
    for (int64_t i = 0; i <= n; i++)
      *(axis ? &p->lv[i].rw : &p->lv[i].rh) = 1;
    for (int64_t pos = 0; pos < g->in_shape[1 + axis]; pos++) {
      lo[0] = pos, hi[0] = pos + 1;
      for (int64_t i = 0; i < n; i++) {
        const nadi_layer *l = &g->layers[i];
        int64_t ilo[2] = {0, 0}, ihi[2] = {0, 0};
        for (int32_t j = 0; j < l->n_in; j++)
          ilo[j] = lo[l->in[j] + 1], ihi[j] = hi[l->in[j] + 1];
        if (is_local(l->kind))
          node_interval(l, axis, ilo, ihi, &lo[i + 1], &hi[i + 1]);
        else
          lo[i + 1] = 0, hi[i + 1] = l->out_shape[1 + axis];
        int64_t *size = axis ? &p->lv[i + 1].rw : &p->lv[i + 1].rh;
        if (hi[i + 1] - lo[i + 1] > *size)
          *size = hi[i + 1] - lo[i + 1];
      }
    }
  }
  nadi_free(lo), nadi_free(hi);
  return 1;
}

/* How node i's level is computed (the input levels are already decided). */
static void choose_mode(nadi_delta *p, int64_t i, double crossover) {
  const nadi_layer *l = &p->g->layers[i];
  nadi_dlevel *v = &p->lv[i + 1];
  for (int32_t j = 0; j < l->n_in; j++)
    if (nadi_dlevel_in(p, l, j)->mode != DL_PATCH) {
      v->mode = DL_DENSE;
      return;
    }
  if (nadi_kind_of(l->kind)->delta == NADI_DELTA_LINEAR) {
    v->mode = DL_LINEAR;
    return;
  }
  if (!is_local(l->kind)) {
    v->mode = DL_DENSE;
    return;
  }
  v->mode = DL_PATCH;
  if (l->kind != NADI_CONV2D)
    return;
  /* Per sample, in multiply-adds per (input channel, output channel, tap): scatter the change
   * of every input patch cell through all taps (stride 1 only), or compute every output patch
   * cell from its window; dense computes every output cell. A grouped convolution runs on
   * patches with its weights expanded to a dense (block-diagonal) matrix: groups times the
   * arithmetic of its dense forward per cell. */
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  double scatter =
      l->sh == 1 && l->sw == 1 && l->kh * l->kw > 1 ? (double)(in->rh * in->rw) : INFINITY;
  double direct = (double)(v->rh * v->rw), dense = (double)(v->h * v->w);
  double groups = (double)(l->groups > 1 ? l->groups : 1);
  v->method = scatter <= direct ? CONV_SCATTER : CONV_DIRECT;
  if ((scatter <= direct ? scatter : direct) * groups > crossover * dense)
    v->mode = DL_DENSE;
}

/* A node of kind `from` on patches whose only reader is a node of kind `to` on patches is
 * skipped and computed by that reader in one pass from its own input: relu -> max pool,
 * max(0, max of the window), the same value bit for bit (LeNet's and VGG's conv-relu-pool), a
 * pass over the relu's patches saved. (BatchNorm -> ReLU, DenseNet's before every convolution,
 * is one node of the folded graph already: fold.c, nadi_layer.then_relu.) */
static void fuse_into_reader(nadi_delta *p, nadi_kind from, nadi_kind to) {
  const nadi_graph *g = p->g;
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    nadi_dlevel *v = &p->lv[i + 1];
    if (l->kind != from || v->mode != DL_PATCH || v->mat || v->fused)
      continue;
    int64_t reader = -1, readers = 0;
    for (int64_t j = i + 1; j < g->n_layers; j++)
      for (int32_t q = 0; q < g->layers[j].n_in; q++)
        if (g->layers[j].in[q] == i)
          reader = j, readers++;
    if (readers == 1 && g->layers[reader].kind == to && p->lv[reader + 1].mode == DL_PATCH) {
      v->skip = 1;
      p->lv[reader + 1].fused = i + 1;
    }
  }
}

/* The level node i's kernel reads as its input j: a fused max pool reads the relu's input. */
static int64_t read_level(const nadi_delta *p, int64_t i, int32_t j) {
  const nadi_layer *l = &p->g->layers[i];
  int64_t v = p->lv[i + 1].fused;
  return v ? p->g->layers[v - 1].in[0] + 1 : l->in[j] + 1;
}

/* Patch buffers by liveness: a level's buffer is taken when its node runs and returned after
 * its last reader has run, so DenseNet's hundreds of levels share a few buffers. A level takes
 * the smallest free buffer that fits, else grows the largest free one, else a new one. */
static int plan_buffers(nadi_delta *p) {
  const nadi_graph *g = p->g;
  int64_t n = g->n_layers, n_bufs = 0;
  int64_t *last = nadi_alloc((size_t)(n + 1), sizeof(int64_t)); /* last reading node */
  int64_t *which = nadi_alloc((size_t)(n + 1), sizeof(int64_t)); /* level -> buffer */
  int64_t *size = nadi_alloc((size_t)(n + 1), sizeof(int64_t));  /* buffer -> floats */
  char *busy = nadi_alloc((size_t)(n + 1), 1);
  int ok = last && which && size && busy;
  for (int64_t v = 0; ok && v <= n; v++)
    last[v] = v - 1; /* read by nobody: free right after it is made */
  for (int64_t i = 0; ok && i < n; i++)
    for (int32_t j = 0; j < g->layers[i].n_in; j++)
      last[read_level(p, i, j)] = i;
  for (int64_t v = 0; ok && v <= n; v++) { /* level v is made by node v - 1 */
    const nadi_dlevel *lv = &p->lv[v];
    which[v] = -1;
    if (lv->mode == DL_PATCH && !lv->skip) {
      int64_t need = lv->rh * lv->rw * lv->c, fit = -1, big = -1;
      for (int64_t b = 0; b < n_bufs; b++) {
        if (busy[b])
          continue;
        if (size[b] >= need && (fit < 0 || size[b] < size[fit]))
          fit = b;
        if (big < 0 || size[b] > size[big])
          big = b;
      }
      int64_t b = fit >= 0 ? fit : big >= 0 ? big : n_bufs++;
      if (b == n_bufs - 1 && fit < 0 && big < 0)
        size[b] = 0;
      if (size[b] < need)
        size[b] = need;
      busy[b] = 1;
      which[v] = b;
    }
    for (int64_t u = 0; u <= v; u++) /* levels whose last reader is node v - 1 */
      if (which[u] >= 0 && last[u] == v - 1)
        busy[which[u]] = 0;
  }
  if (ok) {
    p->bufs = nadi_calloc((size_t)(n_bufs ? n_bufs : 1), sizeof(float *));
    ok = p->bufs != NULL;
  }
  for (int64_t b = 0; ok && b < n_bufs; b++) {
    int64_t len;
    ok = nadi_mul_ok(p->cap, size[b], &len) &&
         (p->bufs[b] = nadi_alloc((size_t)(len > 0 ? len : 1), sizeof(float))) != NULL;
    p->n_bufs = b + 1;
  }
  for (int64_t v = 0; ok && v <= n; v++)
    if (which[v] >= 0)
      p->lv[v].patch = p->bufs[which[v]];
  nadi_free(last), nadi_free(which), nadi_free(size), nadi_free(busy);
  return ok;
}

static void *alloc_n(int64_t a, int64_t b, size_t elem, int *fail) {
  int64_t n;
  void *q = nadi_mul_ok(a, b, &n) ? nadi_alloc((size_t)(n > 0 ? n : 1), elem) : NULL;
  *fail |= q == NULL;
  return q;
}

nad_status nadi_delta_create(const nadi_graph *g, int64_t cap, double crossover, nadi_delta **out) {
  *out = NULL;
  if (crossover < 0.0)
    crossover = NADI_DELTA_CROSSOVER;
  nadi_delta *p = nadi_calloc(1, sizeof *p);
  if (!p)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "probe: out of memory");
  p->g = g;
  p->cap = cap;
  int64_t n = g->n_layers, d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2];
  int fail = 0;
  p->lv = nadi_calloc((size_t)(n + 1), sizeof *p->lv);
  p->x0 = alloc_n(d, 1, sizeof(float), &fail);
  if (fail || !p->lv)
    goto oom;
  for (int64_t i = 0; i <= n; i++) {
    const int64_t *s = i == 0 ? g->in_shape : g->layers[i - 1].out_shape;
    p->lv[i].c = s[0], p->lv[i].h = s[1], p->lv[i].w = s[2];
  }
  if (!patch_sizes(p))
    goto oom;
  p->lv[0].mode = DL_PATCH;
  for (int64_t i = 0; i < n; i++)
    choose_mode(p, i, crossover);
  for (int64_t i = 0; i < n; i++) {
    const nadi_layer *l = &g->layers[i];
    if (p->lv[i + 1].mode == DL_DENSE)
      for (int32_t j = 0; j < l->n_in; j++)
        if (nadi_dlevel_in(p, l, j)->mode == DL_PATCH)
          p->lv[l->in[j] + 1].mat = 1;
  }
  if (p->lv[n].mode == DL_PATCH)
    p->lv[n].mat = 1; /* the output is read from the executor's buffer */
  fuse_into_reader(p, NADI_RELU, NADI_MAXPOOL);
  int64_t meta_len = 0;
  for (int64_t i = 0; i <= n; i++) {
    nadi_dlevel *v = &p->lv[i];
    const nadi_layer *l = i ? &g->layers[i - 1] : NULL;
    int64_t size = v->c * v->h * v->w;
    if (v->mode == DL_PATCH) {
      p->n_patch += i > 0;
      v->base = alloc_n(size, 1, sizeof(float), &fail);
      v->base_chw = alloc_n(size, 1, sizeof(float), &fail);
      v->r = alloc_n(cap, 1, sizeof(nadi_drect), &fail);
      if (l && l->kind == NADI_CONV2D)
        v->wt = alloc_n(l->in_shape[0][0] * l->kh * l->kw, l->out_c, sizeof(float), &fail);
      if (l && l->kind == NADI_BATCHNORM) {
        v->scale = alloc_n(v->c, 1, sizeof(float), &fail);
        v->shift = alloc_n(v->c, 1, sizeof(float), &fail);
      }
    } else if (v->mode == DL_LINEAR) {
      const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
      const int64_t k = in->c * in->h * in->w;
      v->ybase = alloc_n(size, 1, sizeof(float), &fail);
      if (k <= NADI_DLINEAR_HWC_MAX / (size > 0 ? size : 1))
        v->whwc = alloc_n(size, k, sizeof(float), &fail);
    }
    if (l && v->mode != DL_DENSE) {
      int64_t fixed, per_row;
      nadi_dpatch_needs(p, l, &fixed, &per_row);
      int64_t rows = per_row ? nadi_dpatch_rows(per_row) : 0, need = fixed + rows * per_row;
      if (need > p->ws_len)
        p->ws_len = need;
      if (2 * cap + 5 * rows > meta_len)
        meta_len = 2 * cap + 5 * rows;
    }
    if (fail)
      goto oom;
  }
  if (!plan_buffers(p))
    goto oom;
  if (p->lv[0].mat)
    p->dense_x = alloc_n(cap, d, sizeof(float), &fail);
  p->ws = alloc_n(p->ws_len, 1, sizeof(float), &fail);
  p->meta = alloc_n(meta_len, 1, sizeof(int64_t), &fail);
  p->meta_len = meta_len;
  if (fail)
    goto oom;
  nad_status st = nadi_exec_create_forward_only(g, cap, &p->exec);
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

int64_t nadi_delta_patch_nodes(const nadi_delta *p) { return p->n_patch; }

void nadi_delta_set_stop(nadi_delta *p, const atomic_int *stop) { p->stop = stop; }

/* The per-network constants of a PATCH level: its base in both layouts and the weights of its
 * producer in the layout its kernel wants. */
static void level_base(nadi_delta *p, int64_t i, float *params, const float *act) {
  nadi_dlevel *v = &p->lv[i];
  int64_t hw = v->h * v->w;
  memcpy(v->base_chw, act, sizeof(float) * (size_t)(v->c * hw));
  for (int64_t c = 0; c < v->c; c++)
    for (int64_t q = 0; q < hw; q++)
      v->base[q * v->c + c] = act[c * hw + q];
  if (i == 0)
    return;
  const nadi_layer *l = &p->g->layers[i - 1];
  const float *prm = params + l->param_off;
  if (l->kind == NADI_CONV2D) { /* W[o][c - group's first][ky][kx], zero across groups */
    int64_t ci = l->in_shape[0][0], kk = l->kh * l->kw, co = l->out_c;
    int64_t groups = l->groups > 1 ? l->groups : 1, cg = ci / groups, og = co / groups;
    for (int64_t o = 0; o < co; o++)
      for (int64_t c = 0; c < ci; c++)
        for (int64_t t = 0; t < kk; t++) {
          int64_t cl = c - o / og * cg; /* c within o's group */
          float w = cl >= 0 && cl < cg ? prm[(o * cg + cl) * kk + t] : 0.0f;
          if (v->method == CONV_SCATTER) /* kx reversed: see nadi_dpatch_scatter_col */
            v->wt[(c * kk + nadi_dpatch_scatter_col(l, t)) * co + o] = w;
          else
            v->wt[(t * ci + c) * co + o] = w;
        }
  } else if (l->kind == NADI_BATCHNORM) { /* the eval BatchNorm's own coefficients */
    for (int64_t c = 0; c < v->c; c++)
      nadi_bn_eval_affine(l, prm, v->c, c, &v->scale[c], &v->shift[c]);
  }
}

/* A LINEAR level's weight W[j][(c, y, x)] in its input patches' order, [j][(y, x, c)]: the
 * columns of a rectangle's cells are then runs of (hx − lx)·C floats (nadi_dpatch_linear). */
static void linear_hwc(const nadi_delta *p, const nadi_layer *l, const float *w,
                       nadi_dlevel *v) {
  const nadi_dlevel *in = nadi_dlevel_in(p, l, 0);
  const int64_t C = in->c, hw = in->h * in->w, k = C * hw, o = v->c * v->h * v->w;
  for (int64_t j = 0; j < o; j++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t q = 0; q < hw; q++)
        v->whwc[j * k + q * C + c] = w[j * k + c * hw + q];
}

void nadi_delta_set_base(nadi_delta *p, float *params, const float *x0) {
  const nadi_graph *g = p->g;
  int64_t d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2];
  memcpy(p->x0, x0, sizeof(float) * (size_t)d);
  level_base(p, 0, params, p->x0);
  for (int64_t i = 1; i <= g->n_layers; i++) {
    /* node by node: the forward-only executor reuses a buffer once its last reader has run */
    const float *act = nadi_exec_forward_node(p->exec, params, p->x0, i - 1, 1);
    nadi_dlevel *v = &p->lv[i];
    if (v->mode == DL_PATCH)
      level_base(p, i, params, act);
    else if (v->mode == DL_LINEAR) {
      memcpy(v->ybase, act, sizeof(float) * (size_t)(v->c * v->h * v->w));
      if (v->whwc)
        linear_hwc(p, &g->layers[i - 1], params + g->layers[i - 1].param_off, v);
    }
  }
}

/* Rectangles of node i's PATCH level from its inputs'. */
static void set_rects(nadi_delta *p, int64_t i, int64_t batch) {
  const nadi_layer *l = &p->g->layers[i];
  nadi_dlevel *v = &p->lv[i + 1];
  for (int64_t b = 0; b < batch; b++) {
    int64_t lo[2] = {0, 0}, hi[2] = {0, 0}, lo2[2] = {0, 0}, hi2[2] = {0, 0};
    for (int32_t j = 0; j < l->n_in; j++) {
      const nadi_drect *r = &nadi_dlevel_in(p, l, j)->r[b];
      lo[j] = r->ly, hi[j] = r->hy, lo2[j] = r->lx, hi2[j] = r->hx;
    }
    nadi_drect *r = &v->r[b];
    node_interval(l, 0, lo, hi, &r->ly, &r->hy);
    node_interval(l, 1, lo2, hi2, &r->lx, &r->hx);
    r->oy = r->ly < r->hy ? r->ly : 0;
    r->ox = r->lx < r->hx ? r->lx : 0;
  }
}

#ifdef NADI_DELTA_PROFILE /* per-node CPU time, printed at exit (a profiling build only) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double prof_t[4096];
static int prof_mode[4096];
static int64_t prof_rh[4096], prof_rw[4096], prof_n;
static char prof_desc[4096][64];
static const nadi_graph *prof_g;
static double prof_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static void prof_print(void) {
  double tot = 0;
  for (int64_t i = 0; i < prof_n; i++)
    tot += prof_t[i];
  for (int64_t i = 0; i < prof_n; i++)
    fprintf(stderr, "%4lld %-5s %-40s %3lldx%-3lld %8.3f s %5.1f%%\n", (long long)i,
            prof_mode[i] == DL_PATCH ? "patch" : prof_mode[i] == DL_LINEAR ? "lin" : "dense",
            prof_desc[i], (long long)prof_rh[i], (long long)prof_rw[i],
            prof_t[i], 100 * prof_t[i] / tot);
}
#define PROF_START(i) double prof_t0 = prof_now(); (void)(i)
#define PROF_END(i) do { if (!prof_g) { prof_g = p->g; atexit(prof_print); } \
    prof_t[i] += prof_now() - prof_t0; prof_mode[i] = v->mode; prof_rh[i] = v->rh; prof_rw[i] = v->rw; \
    memcpy(prof_desc[i], l->desc, 64); if (i + 1 > prof_n) prof_n = i + 1; } while (0)
#else
#define PROF_START(i) (void)0
#define PROF_END(i) (void)0
#endif

void nadi_delta_forward(nadi_delta *p, float *params, const int64_t *coord, const float *value,
                        int64_t batch, float *out) {
  const nadi_graph *g = p->g;
  int64_t C = g->in_shape[0], H = g->in_shape[1], W = g->in_shape[2], d = C * H * W;
  nadi_dlevel *v0 = &p->lv[0]; /* a 1x1 patch over all channels at the changed pixel */
  for (int64_t b = 0; b < batch; b++) {
    int64_t c = coord[b] / (H * W), y = (coord[b] / W) % H, x = coord[b] % W;
    v0->r[b] = (nadi_drect){.oy = y, .ox = x, .ly = y, .hy = y + 1, .lx = x, .hx = x + 1};
    for (int64_t ch = 0; ch < C; ch++)
      v0->patch[b * C + ch] = ch == c ? value[b] : p->x0[(ch * H + y) * W + x];
    if (v0->mat) {
      memcpy(p->dense_x + b * d, p->x0, sizeof(float) * (size_t)d);
      p->dense_x[b * d + coord[b]] = value[b];
    }
  }
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    nadi_dlevel *v = &p->lv[i + 1];
    float *prm = params + l->param_off;
    if (p->stop && atomic_load_explicit(p->stop, memory_order_relaxed))
      return; /* cancelled: out is left undefined, the caller drops it */
    PROF_START(i);
    if (v->mode == DL_DENSE) {
      nadi_exec_forward_node(p->exec, params, p->dense_x, i, batch);
      PROF_END(i);
      continue;
    }
    if (v->mode == DL_LINEAR) {
      nadi_dpatch_linear(p, l, prm, v, nadi_exec_act(p->exec, i), batch);
      PROF_END(i);
      continue;
    }
    set_rects(p, i, batch);
    if (v->skip) { /* computed by the node that reads it (fuse_into_reader) */
      PROF_END(i);
      continue;
    }
    switch (nadi_kind_of(l->kind)->delta) {
    case NADI_DELTA_WINDOW:
      if (l->kind != NADI_CONV2D) {
        nadi_dpatch_pool(p, l, v, batch);
        break;
      }
      nadi_dpatch_conv(p, l, l->bias ? prm + l->n_params - l->out_c : NULL, v, batch);
      break;
    case NADI_DELTA_JOIN:
      nadi_dpatch_join(p, l, v, batch);
      break;
    case NADI_DELTA_GLOBAL:
      nadi_dpatch_gap(p, l, v, batch);
      break;
    default:
      nadi_dpatch_pointwise(p, l, v, batch);
      break;
    }
    if (v->mat)
      nadi_dpatch_materialise(v, nadi_exec_act(p->exec, i), batch);
    PROF_END(i);
  }
  const int64_t *os = g->layers[g->n_layers - 1].out_shape;
  memcpy(out, nadi_exec_act(p->exec, g->n_layers - 1),
         sizeof(float) * (size_t)(batch * os[0] * os[1] * os[2]));
}
