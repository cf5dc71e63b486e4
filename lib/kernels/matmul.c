/* Matrix products with ONNX semantics, on the per-sample dims (batch axis included).
 *
 * matmul: two activations, ONNX MatMul = numpy.matmul: A (..., M, K) times B (..., K, N) for
 *   every index of the leading dims, broadcast NumPy-style (right-aligned, 1 stretches); a 1-D A
 *   is a row (1, K) and a 1-D B a column (K, 1), whose axis the output then drops. Attention's
 *   (H, T, d) x (H, d, T) is H products per sample. One nadi_sgemm per sample and leading index;
 *   when B has no leading index (x (..., M, K) times one (K, N)), all of a sample's rows are one
 *   product.
 * gemm: one activation times a weight parameter, y[..., N] = alpha x[..., K] op(W) + beta b:
 *   ONNX Gemm (transA = 0, weight (N, K) when transB = 1, else (K, N)) and ONNX MatMul by an
 *   initializer (K, N) (transB = 0), plus an optional bias (N) (the Add that follows). Every row
 *   of every sample is one row of a single product (batch * rows, K) x (K, N).
 * Backward accumulates into dx and dparams with beta = 1 products; when matmul's two inputs are
 * the same node (dx[0] == dx[1]) each contribution is added separately, which stays correct. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"

/* ---- matmul: geometry ------------------------------------------------------------------------ */

typedef struct mm_geom {
  int64_t m, k, n;
  int64_t lead_rank;                 /* output leading dims (batched over) */
  int64_t lead[NADI_MAX_RANK];       /* their sizes */
  int64_t sa[NADI_MAX_RANK];         /* A's matrix stride per leading dim (0: broadcast) */
  int64_t sb[NADI_MAX_RANK];         /* B's */
  int64_t n_lead;                    /* product of lead[] */
  int64_t na, nb, ny;                /* per-sample element counts */
} mm_geom;

/* Leading dims of one operand right-aligned into the output's: *ok = 0 when they clash. */
static void mm_align(const int64_t *d, int64_t r, int64_t lr, int64_t *lead, int64_t *size,
                     int *ok) {
  for (int64_t i = 0; i < lr; i++) {
    int64_t j = i - (lr - r); /* operand axis, < 0 when absent */
    int64_t s = j >= 0 ? d[j] : 1;
    if (s != 1 && lead[i] != 1 && lead[i] != s)
      *ok = 0;
    if (s != 1)
      lead[i] = s;
    size[i] = s;
  }
}

/* The geometry of l; 0 when the shapes do not fit (the message is shape()'s to write). */
static int mm_geometry(const nadi_layer *l, mm_geom *g) {
  const nadi_dims *a = &l->in_dims[0], *b = &l->in_dims[1];
  memset(g, 0, sizeof *g);
  int64_t ra = a->rank >= 2 ? a->rank - 2 : 0, rb = b->rank >= 2 ? b->rank - 2 : 0;
  g->m = a->rank >= 2 ? a->d[a->rank - 2] : 1;
  g->k = a->d[a->rank - 1];
  int64_t kb = b->rank >= 2 ? b->d[b->rank - 2] : b->d[0];
  g->n = b->rank >= 2 ? b->d[b->rank - 1] : 1;
  g->lead_rank = ra > rb ? ra : rb;
  for (int64_t i = 0; i < g->lead_rank; i++)
    g->lead[i] = 1;
  int ok = kb == g->k;
  int64_t size_a[NADI_MAX_RANK], size_b[NADI_MAX_RANK];
  mm_align(a->d, ra, g->lead_rank, g->lead, size_a, &ok);
  mm_align(b->d, rb, g->lead_rank, g->lead, size_b, &ok);
  /* strides in matrices, innermost leading dim last; broadcast dims get 0 */
  int64_t ma = 1, mb = 1;
  g->n_lead = 1;
  for (int64_t i = g->lead_rank - 1; i >= 0; i--) {
    g->sa[i] = size_a[i] == 1 ? 0 : ma;
    g->sb[i] = size_b[i] == 1 ? 0 : mb;
    ma *= size_a[i], mb *= size_b[i];
    if (!nadi_mul_ok(g->n_lead, g->lead[i], &g->n_lead))
      return 0;
  }
  g->na = nadi_dims_numel(a), g->nb = nadi_dims_numel(b);
  int64_t t;
  return ok && nadi_mul_ok(g->n_lead, g->m, &t) && nadi_mul_ok(t, g->n, &g->ny);
}

/* Matrix offsets (in elements) of A and B for leading index li. */
static void mm_offsets(const mm_geom *g, int64_t li, int64_t *oa, int64_t *ob) {
  int64_t ia = 0, ib = 0;
  for (int64_t i = g->lead_rank - 1; i >= 0; i--) {
    int64_t c = li % g->lead[i];
    li /= g->lead[i];
    ia += c * g->sa[i], ib += c * g->sb[i];
  }
  *oa = ia * g->m * g->k, *ob = ib * g->k * g->n;
}

/* B has no leading index: a sample's A matrices are one (n_lead * M, K) block. */
static int mm_stacked(const mm_geom *g) {
  for (int64_t i = 0; i < g->lead_rank; i++)
    if (g->sb[i] != 0 || (g->lead[i] != 1 && g->sa[i] == 0))
      return 0;
  return 1;
}

static void matmul_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                           nadi_ctx *ctx) {
  (void)params;
  mm_geom g;
  mm_geometry(l, &g);
  for (int64_t s = 0; s < ctx->batch; s++) {
    const float *a = xs[0] + s * g.na, *b = xs[1] + s * g.nb;
    float *ys = y + s * g.ny;
    if (mm_stacked(&g)) {
      nadi_sgemm(0, 0, g.n_lead * g.m, g.n, g.k, 1.0f, a, g.k, b, g.n, 0.0f, ys, g.n);
      continue;
    }
    for (int64_t li = 0; li < g.n_lead; li++) {
      int64_t oa, ob;
      mm_offsets(&g, li, &oa, &ob);
      nadi_sgemm(0, 0, g.m, g.n, g.k, 1.0f, a + oa, g.k, b + ob, g.n, 0.0f, ys + li * g.m * g.n,
                 g.n);
    }
  }
}

static void matmul_backward(const nadi_layer *l, const float *params, const float *const *xs,
                            const float *y, const float *dy, float *const *dxs, float *dparams,
                            nadi_ctx *ctx) {
  (void)params, (void)y, (void)dparams;
  if (!dxs)
    return;
  mm_geom g;
  mm_geometry(l, &g);
  int stacked = mm_stacked(&g);
  int64_t rows = stacked ? g.n_lead * g.m : g.m, n_prod = stacked ? 1 : g.n_lead;
  for (int64_t s = 0; s < ctx->batch; s++) {
    const float *a = xs[0] + s * g.na, *b = xs[1] + s * g.nb, *dys = dy + s * g.ny;
    float *da = dxs[0] ? dxs[0] + s * g.na : NULL, *db = dxs[1] ? dxs[1] + s * g.nb : NULL;
    for (int64_t li = 0; li < n_prod; li++) {
      int64_t oa = 0, ob = 0;
      if (!stacked)
        mm_offsets(&g, li, &oa, &ob);
      const float *d = dys + li * g.m * g.n;
      if (da) /* dA[M, K] += dY[M, N] B[K, N]^T */
        nadi_sgemm(0, 1, rows, g.k, g.n, 1.0f, d, g.n, b + ob, g.n, 1.0f, da + oa, g.k);
      if (db) /* dB[K, N] += A[M, K]^T dY[M, N] */
        nadi_sgemm(1, 0, g.k, g.n, rows, 1.0f, a + oa, g.k, d, g.n, 1.0f, db + ob, g.n);
    }
  }
}

static const nadi_layer_ops matmul_ops = {
    .name = "matmul",
    .workspace = NULL,
    .state_size = NULL,
    .forward = matmul_forward,
    .backward = matmul_backward,
};

/* ---- gemm ------------------------------------------------------------------------------------ */

/* rows (all samples), K, N and the weight's leading dimension */
static void gemm_dims(const nadi_layer *l, int64_t batch, int64_t *rows, int64_t *k, int64_t *n,
                      int64_t *ldw) {
  const nadi_dims *x = &l->in_dims[0];
  *k = x->d[x->rank - 1];
  *n = l->out_c;
  *rows = batch * (nadi_dims_numel(x) / *k);
  *ldw = l->trans_b ? *k : *n;
}

static void gemm_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                         nadi_ctx *ctx) {
  int64_t rows, k, n, ldw;
  gemm_dims(l, ctx->batch, &rows, &k, &n, &ldw);
  float beta = 0.0f;
  if (l->bias) {
    const float *bias = params + k * n;
    float bb = (float)l->gemm_beta;
    for (int64_t r = 0; r < rows; r++)
      for (int64_t j = 0; j < n; j++)
        y[r * n + j] = bb * bias[j];
    beta = 1.0f;
  }
  nadi_sgemm(0, (int)l->trans_b, rows, n, k, (float)l->gemm_alpha, xs[0], k, params, ldw, beta, y,
             n);
}

static void gemm_backward(const nadi_layer *l, const float *params, const float *const *xs,
                          const float *y, const float *dy, float *const *dxs, float *dparams,
                          nadi_ctx *ctx) {
  (void)y;
  int64_t rows, k, n, ldw;
  gemm_dims(l, ctx->batch, &rows, &k, &n, &ldw);
  float alpha = (float)l->gemm_alpha;
  float *dx = dxs ? dxs[0] : NULL;
  if (dx) /* dX[R, K] += alpha dY[R, N] op(W)^T */
    nadi_sgemm(0, !l->trans_b, rows, k, n, alpha, dy, n, params, ldw, 1.0f, dx, k);
  if (!dparams)
    return;
  if (l->trans_b) /* dW[N, K] += alpha dY^T X */
    nadi_sgemm(1, 0, n, k, rows, alpha, dy, n, xs[0], k, 1.0f, dparams, k);
  else /* dW[K, N] += alpha X^T dY */
    nadi_sgemm(1, 0, k, n, rows, alpha, xs[0], k, dy, n, 1.0f, dparams, n);
  if (l->bias) {
    float *db = dparams + k * n;
    for (int64_t j = 0; j < n; j++) {
      double s = 0.0;
      for (int64_t r = 0; r < rows; r++)
        s += dy[r * n + j];
      db[j] += (float)(l->gemm_beta * s);
    }
  }
}

static const nadi_layer_ops gemm_ops = {
    .name = "gemm",
    .workspace = NULL,
    .state_size = NULL,
    .forward = gemm_forward,
    .backward = gemm_backward,
};

/* ---- descriptions ---------------------------------------------------------------------------- */

static void dims_text(const nadi_dims *s, char *buf, size_t n) {
  int at = snprintf(buf, n, "(");
  for (int64_t i = 0; i < s->rank && at > 0 && (size_t)at < n; i++)
    at += snprintf(buf + at, n - (size_t)at, i ? ",%lld" : "%lld", (long long)s->d[i]);
  if (at > 0 && (size_t)at < n)
    snprintf(buf + at, n - (size_t)at, ")");
}

/* Every dimension handed to the BLAS must fit its 32-bit int. */
static nad_status blas_fits(const nadi_layer *l, int64_t index, const char *what, int64_t v) {
  NADI_CHECK(v < INT_MAX, NAD_ERR_UNSUPPORTED,
             "layer %lld (%s): %s = %lld does not fit the BLAS's 32-bit int", (long long)index,
             l->desc, what, (long long)v);
  return NAD_OK;
}

static nad_status matmul_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *a = &l->in_dims[0], *b = &l->in_dims[1];
  char ta[96], tb[96];
  dims_text(a, ta, sizeof ta), dims_text(b, tb, sizeof tb);
  snprintf(l->desc, sizeof l->desc, "matmul");
  NADI_CHECK(a->rank >= 1 && b->rank >= 1 && a->rank + b->rank > 2, NAD_ERR_SHAPE,
             "layer %lld (matmul): %s x %s would be a scalar (both inputs 1-D)", (long long)index,
             ta, tb);
  mm_geom g;
  NADI_CHECK(mm_geometry(l, &g), NAD_ERR_SHAPE,
             "layer %lld (matmul): %s x %s do not multiply (inner sizes must agree and leading "
             "sizes broadcast)", (long long)index, ta, tb);
  nadi_dims o = {0, {0}};
  for (int64_t i = 0; i < g.lead_rank; i++)
    o.d[o.rank++] = g.lead[i];
  if (a->rank >= 2)
    o.d[o.rank++] = g.m;
  if (b->rank >= 2)
    o.d[o.rank++] = g.n;
  NADI_CHECK(o.rank >= 1 && nadi_dims_numel(&o) >= 1, NAD_ERR_SHAPE,
             "layer %lld (matmul): %s x %s gives an empty or overflowing output", (long long)index,
             ta, tb);
  snprintf(l->desc, sizeof l->desc, "matmul %lldx%lldx%lld x%lld", (long long)g.m,
           (long long)g.k, (long long)g.n, (long long)g.n_lead);
  NADI_TRY(blas_fits(l, index, "rows", g.n_lead * g.m));
  NADI_TRY(blas_fits(l, index, "inner size", g.k));
  NADI_TRY(blas_fits(l, index, "columns", g.n));
  l->out_dims = o;
  return NAD_OK;
}

static int64_t matmul_flops(const nadi_layer *l) { /* 2 * n_lead * M * K * N */
  mm_geom g;
  int64_t t;
  mm_geometry(l, &g);
  if (!nadi_mul_ok(g.ny, g.k, &t) || !nadi_mul_ok(t, 2, &t))
    return -1;
  return t;
}

const nadi_kind_desc nadi_kind_matmul = {
    .ops = &matmul_ops,
    .n_in_min = 2,
    .n_in_max = 2,
    .shape = matmul_shape,
    .flops = matmul_flops,
    .delta = NADI_DELTA_DENSE,
};

static nad_status gemm_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *x = &l->in_dims[0];
  int64_t k = x->rank >= 1 ? x->d[x->rank - 1] : 0, rows = k ? nadi_dims_numel(x) / k : 0;
  snprintf(l->desc, sizeof l->desc, "gemm");
  NADI_CHECK(l->out_c >= 1 && l->out_c < INT_MAX, NAD_ERR_INVALID_ARG,
             "layer %lld (gemm): output features (out_c) must be in [1, %d] (got %lld)",
             (long long)index, INT_MAX - 1, (long long)l->out_c);
  NADI_CHECK(l->trans_a == 0, NAD_ERR_UNSUPPORTED,
             "layer %lld (gemm): transA = %lld is not supported (only transA = 0)",
             (long long)index, (long long)l->trans_a);
  NADI_CHECK(l->trans_b == 0 || l->trans_b == 1, NAD_ERR_INVALID_ARG,
             "layer %lld (gemm): transB must be 0 or 1 (got %lld)", (long long)index,
             (long long)l->trans_b);
  NADI_CHECK(l->gemm_alpha != 0.0 && l->gemm_alpha == l->gemm_alpha, NAD_ERR_INVALID_ARG,
             "layer %lld (gemm): alpha must be a non-zero number (got %g; unset?)",
             (long long)index, l->gemm_alpha);
  NADI_CHECK(nadi_init_is_weight_rule(l->init), NAD_ERR_INVALID_ARG,
             "layer %lld (gemm): unknown init rule %lld", (long long)index, (long long)l->init);
  l->bias = l->bias ? 1 : 0;
  NADI_CHECK(!l->bias || (l->gemm_beta != 0.0 && l->gemm_beta == l->gemm_beta),
             NAD_ERR_INVALID_ARG,
             "layer %lld (gemm): beta must be a non-zero number when there is a bias (got %g; "
             "unset?)", (long long)index, l->gemm_beta);
  NADI_CHECK(k >= 1, NAD_ERR_SHAPE, "layer %lld (gemm): the input needs a last axis of size >= 1",
             (long long)index);
  snprintf(l->desc, sizeof l->desc, "gemm %lld->%lld%s%s", (long long)k, (long long)l->out_c,
           l->trans_b ? " transB" : "", l->bias ? "" : " nobias");
  NADI_TRY(blas_fits(l, index, "inner size", k));
  NADI_TRY(blas_fits(l, index, "rows per sample", rows));
  int64_t w;
  NADI_CHECK(nadi_mul_ok(k, l->out_c, &w), NAD_ERR_OUT_OF_MEMORY,
             "layer %lld (%s): weight size overflows", (long long)index, l->desc);
  l->out_dims = *x;
  l->out_dims.d[x->rank - 1] = l->out_c;
  return NAD_OK;
}

static int gemm_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  const nadi_dims *x = &l->in_dims[0];
  int64_t w;
  int ok = nadi_mul_ok(x->d[x->rank - 1], l->out_c, &w);
  t[0] = (nadi_tensor_desc){"weight", ok ? w : -1, 1};
  t[1] = (nadi_tensor_desc){"bias", l->out_c, 1};
  return l->bias ? 2 : 1;
}

static void gemm_init_info(const nadi_layer *l, nadi_tensor_init_info t[NADI_MAX_TENSORS]) {
  const nadi_dims *x = &l->in_dims[0]; /* a Linear's (N, K) weight: fan_in K, fan_out N */
  t[0].fan_in = x->d[x->rank - 1], t[0].fan_out = l->out_c;
}

static int64_t gemm_flops(const nadi_layer *l) { /* 2 * rows * K * N + rows * N (bias) */
  const nadi_dims *x = &l->in_dims[0];
  int64_t out_n = nadi_dims_numel(&l->out_dims), t;
  if (out_n < 0 || !nadi_mul_ok(out_n, x->d[x->rank - 1], &t) || !nadi_mul_ok(t, 2, &t))
    return -1;
  if (l->bias && t > INT64_MAX - out_n)
    return -1;
  return t + (l->bias ? out_n : 0);
}

/* PyTorch's Linear.reset_parameters: U(+-1/sqrt(K)) for the weight and the bias (or a
 * torchvision rule, nadi_init_weights). */
static void gemm_init(const nadi_layer *l, float *p, nadi_rng *rng) {
  const nadi_dims *x = &l->in_dims[0];
  int64_t k = x->d[x->rank - 1];
  nadi_init_weights(l->init, p, k * l->out_c, l->bias ? l->out_c : 0, k, l->out_c, rng);
}

/* The product acts on the last axis; every other axis is rows. */
static int gemm_slice(const nadi_layer *l, int64_t axis, nadi_hparams *hp) {
  *hp = l->hp;
  return axis >= 0 && axis < l->in_dims[0].rank - 1;
}

const nadi_kind_desc nadi_kind_gemm = {
    .ops = &gemm_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = gemm_shape,
    .tensors = gemm_tensors,
    .flops = gemm_flops,
    .init = gemm_init,
    .init_info = gemm_init_info,
    .delta = NADI_DELTA_DENSE,
    .slice = gemm_slice,
};
