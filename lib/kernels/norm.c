/* Normalisations, PyTorch semantics: LayerNorm, GroupNorm, Softmax.
 *
 * layernorm: each sample's values over the axes norm_axis .. rank-1 (D of them; PyTorch's
 * LayerNorm(D) on (1, T, D) or on ConvNeXt's channels-last (1, H, W, C) is norm_axis = -1, as
 * ONNX LayerNormalization's axis) are normalised with their mean and biased variance, then
 * scaled and shifted elementwise: y = (x - mean) / sqrt(var + eps) * weight + bias, weight and
 * bias of D values (state_dict: weight, bias; init 1 and 0).
 * groupnorm: the channels (axis 1) of each sample form norm_groups groups of C/G consecutive
 * channels; each group (its channels times all positions) is normalised likewise, then scaled and
 * shifted per channel (weight[C], bias[C]; init 1 and 0). Both have no running statistics:
 * training mode is the same function as eval mode.
 * softmax: along axis norm_axis, exp(x - max) / sum, so that no exponent overflows; backward
 * dx = y * (dy - sum(dy * y)) along the axis.
 *
 * Statistics are taken in two passes (mean, then squared deviations) over float partial sums of
 * eight (the vectorised body of nadi_plane_sum), accumulated in double; backward recomputes them
 * from x rather than keeping state. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/vmath.h"

/* ---- sums over contiguous runs: nadi_plane_* (kernels.h) ------------------------------------- */

/* mean and 1/sqrt(var + eps) of n values */
static void run_stats(const float *x, int64_t n, double eps, float *mean, float *invstd) {
  double m = nadi_plane_sum(x, n) / (double)n;
  double var = nadi_plane_sqdev(x, (float)m, n) / (double)n;
  *mean = (float)m;
  *invstd = (float)(1.0 / sqrt(var + eps));
}

/* An axis hyper-parameter (negative: from the end) as an index; -1 if out of range. */
static int64_t axis_index(int64_t axis, int64_t rank) {
  int64_t a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : -1;
}

static int64_t prod(const nadi_dims *s, int64_t from, int64_t to) {
  int64_t p = 1;
  for (int64_t i = from; i < to; i++)
    p *= s->d[i];
  return p;
}

/* ---- layernorm ------------------------------------------------------------------------------ */

static int64_t ln_width(const nadi_layer *l) { /* D: the normalised values per row */
  return prod(&l->in_dims[0], l->norm_axis, l->in_dims[0].rank);
}

static void ln_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                       nadi_ctx *ctx) {
  const int64_t D = ln_width(l), rows = ctx->batch * nadi_dims_numel(&l->in_dims[0]) / D;
  const float *restrict w = params, *restrict b = params + D;
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict x = xs[0] + r * D;
    float *restrict yr = y + r * D;
    float m, is;
    run_stats(x, D, l->eps, &m, &is);
    for (int64_t i = 0; i < D; i++)
      yr[i] = (x[i] - m) * is * w[i] + b[i];
  }
}

/* dx = invstd (g - mean(g) - xhat mean(g xhat)), g = dy * weight; dweight += dy xhat,
 * dbias += dy. */
static void ln_backward(const nadi_layer *l, const float *params, const float *const *xs,
                        const float *y, const float *dy, float *const *dxs, float *dparams,
                        nadi_ctx *ctx) {
  (void)y;
  float *dx = dxs ? dxs[0] : NULL;
  const int64_t D = ln_width(l), rows = ctx->batch * nadi_dims_numel(&l->in_dims[0]) / D;
  const float *restrict w = params;
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict x = xs[0] + r * D, *restrict g = dy + r * D;
    float m, is;
    run_stats(x, D, l->eps, &m, &is);
    if (dparams) {
      float *restrict dw = dparams, *restrict db = dparams + D;
      for (int64_t i = 0; i < D; i++) {
        dw[i] += g[i] * (x[i] - m) * is;
        db[i] += g[i];
      }
    }
    if (!dx)
      continue;
    double s1 = 0.0, s2 = 0.0; /* sum g w, sum g w (x - m) */
    for (int64_t i = 0; i < D; i++) {
      double gw = (double)g[i] * w[i];
      s1 += gw;
      s2 += gw * (x[i] - m);
    }
    const float fb = (float)(is * s1 / (double)D);
    const float fk = (float)((double)is * is * is * s2 / (double)D);
    float *restrict d = dx + r * D;
    for (int64_t i = 0; i < D; i++)
      d[i] += is * g[i] * w[i] - fb - fk * (x[i] - m);
  }
}

/* ---- groupnorm ------------------------------------------------------------------------------ */

typedef struct gn_dims {
  int64_t n, g, cg, s; /* instances (axis 0), groups, channels per group, positions */
} gn_dims;

static gn_dims gn_dimensions(const nadi_layer *l, int64_t batch) {
  const nadi_dims *s = &l->in_dims[0];
  gn_dims d = {batch * s->d[0], l->norm_groups, s->d[1] / l->norm_groups, prod(s, 2, s->rank)};
  return d;
}

static void gn_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                       nadi_ctx *ctx) {
  const gn_dims d = gn_dimensions(l, ctx->batch);
  const int64_t C = d.g * d.cg, M = d.cg * d.s;
  const float *w = params, *b = params + C;
  for (int64_t i = 0; i < d.n * d.g; i++) {
    const float *x = xs[0] + i * M;
    float *yg = y + i * M;
    float m, is;
    run_stats(x, M, l->eps, &m, &is);
    for (int64_t c = 0; c < d.cg; c++) {
      const int64_t ch = (i % d.g) * d.cg + c;
      const float a = w[ch] * is, sh = b[ch] - m * a;
      const float *restrict xc = x + c * d.s;
      float *restrict yc = yg + c * d.s;
      for (int64_t k = 0; k < d.s; k++)
        yc[k] = xc[k] * a + sh;
    }
  }
}

/* As layernorm's, with per-channel weights: per channel sum(dy) and sum(dy (x - m)) give the
 * parameter gradients and the group's sums. */
static void gn_backward(const nadi_layer *l, const float *params, const float *const *xs,
                        const float *y, const float *dy, float *const *dxs, float *dparams,
                        nadi_ctx *ctx) {
  (void)y;
  float *dx = dxs ? dxs[0] : NULL;
  const gn_dims d = gn_dimensions(l, ctx->batch);
  const int64_t C = d.g * d.cg, M = d.cg * d.s;
  const float *w = params;
  for (int64_t i = 0; i < d.n * d.g; i++) {
    const float *x = xs[0] + i * M, *g = dy + i * M;
    const int64_t c0 = (i % d.g) * d.cg;
    float m, is;
    run_stats(x, M, l->eps, &m, &is);
    double s1 = 0.0, s2 = 0.0; /* sum g w, sum g w (x - m) over the group */
    for (int64_t c = 0; c < d.cg; c++) {
      double sdy = nadi_plane_sum(g + c * d.s, d.s);
      double sdyx = nadi_plane_dotdev(g + c * d.s, x + c * d.s, m, d.s);
      if (dparams) {
        dparams[c0 + c] += (float)(sdyx * is);
        dparams[C + c0 + c] += (float)sdy;
      }
      s1 += w[c0 + c] * sdy;
      s2 += w[c0 + c] * sdyx;
    }
    if (!dx)
      continue;
    const float fb = (float)(is * s1 / (double)M);
    const float fk = (float)((double)is * is * is * s2 / (double)M);
    for (int64_t c = 0; c < d.cg; c++) {
      const float a = w[c0 + c] * is;
      const float *restrict xc = x + c * d.s, *restrict gc = g + c * d.s;
      float *restrict dc = dx + i * M + c * d.s;
      for (int64_t k = 0; k < d.s; k++)
        dc[k] += a * gc[k] - fb - fk * (xc[k] - m);
    }
  }
}

/* ---- softmax -------------------------------------------------------------------------------- */

typedef struct sm_dims {
  int64_t outer, n, inner; /* before the axis, along it, after it */
} sm_dims;

static sm_dims sm_dimensions(const nadi_layer *l, int64_t batch) {
  const nadi_dims *s = &l->in_dims[0];
  int64_t a = l->norm_axis;
  sm_dims d = {batch * prod(s, 0, a), s->d[a], prod(s, a + 1, s->rank)};
  return d;
}

/* y = exp(x - mx) on a contiguous run (vmath.h: vectorised; NADI_CLONES, common/clones.h). */
NADI_CLONES static void exp_shifted(const float *restrict x, float *restrict y, float mx,
                                    int64_t n) {
  for (int64_t k = 0; k < n; k++)
    y[k] = nadi_exp_neg(x[k] - mx);
}

/* One softmax along n values at stride st. */
static void sm_line(const float *x, float *y, int64_t n, int64_t st) {
  float mx = x[0];
  for (int64_t k = 1; k < n; k++)
    mx = x[k * st] > mx ? x[k * st] : mx;
  double sum = 0.0;
  if (st == 1 && x != y) /* the exponentials vectorise; the sum stays in order */
    exp_shifted(x, y, mx, n);
  else
    for (int64_t k = 0; k < n; k++)
      y[k * st] = nadi_exp_neg(x[k * st] - mx);
  for (int64_t k = 0; k < n; k++)
    sum += y[k * st];
  const float inv = (float)(1.0 / sum);
  for (int64_t k = 0; k < n; k++)
    y[k * st] *= inv;
}

static void sm_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                       nadi_ctx *ctx) {
  (void)params;
  const sm_dims d = sm_dimensions(l, ctx->batch);
  for (int64_t o = 0; o < d.outer; o++)
    for (int64_t j = 0; j < d.inner; j++) {
      int64_t at = o * d.n * d.inner + j;
      sm_line(xs[0] + at, y + at, d.n, d.inner);
    }
}

static void sm_backward(const nadi_layer *l, const float *params, const float *const *xs,
                        const float *y, const float *dy, float *const *dxs, float *dparams,
                        nadi_ctx *ctx) {
  (void)params, (void)xs, (void)dparams;
  if (!dxs || !dxs[0])
    return;
  const sm_dims d = sm_dimensions(l, ctx->batch);
  for (int64_t o = 0; o < d.outer; o++)
    for (int64_t j = 0; j < d.inner; j++) {
      const int64_t at = o * d.n * d.inner + j, st = d.inner;
      const float *yl = y + at, *gl = dy + at;
      float *dl = dxs[0] + at;
      double s = 0.0;
      for (int64_t k = 0; k < d.n; k++)
        s += (double)gl[k * st] * yl[k * st];
      const float fs = (float)s;
      for (int64_t k = 0; k < d.n; k++)
        dl[k * st] += yl[k * st] * (gl[k * st] - fs);
    }
}

/* ---- descriptions -------------------------------------------------------------------------- */

static const nadi_layer_ops layernorm_ops = {
    .name = "layernorm", .forward = ln_forward, .backward = ln_backward};
static const nadi_layer_ops groupnorm_ops = {
    .name = "groupnorm", .forward = gn_forward, .backward = gn_backward};
static const nadi_layer_ops softmax_ops = {
    .name = "softmax", .forward = sm_forward, .backward = sm_backward};

static nad_status check_eps(const nadi_layer *l, int64_t index) {
  NADI_CHECK(l->eps > 0.0 && l->eps < 1e30, NAD_ERR_INVALID_ARG,
             "layer %lld (%s): eps %g must be positive and finite", (long long)index,
             nadi_ops(l->kind)->name, l->eps);
  return NAD_OK;
}

/* norm_axis becomes its index in [0, rank) (the fingerprint then sees one form per function). */
static nad_status check_axis(nadi_layer *l, int64_t index) {
  int64_t r = l->in_dims[0].rank, a = axis_index(l->norm_axis, r);
  NADI_CHECK(a >= 0, NAD_ERR_INVALID_ARG,
             "layer %lld (%s): axis %lld is out of range for an input of rank %lld (valid: %lld "
             "to %lld)",
             (long long)index, nadi_ops(l->kind)->name, (long long)l->norm_axis, (long long)r,
             (long long)-r, (long long)r - 1);
  l->norm_axis = a;
  return NAD_OK;
}

static nad_status ln_shape(nadi_layer *l, int64_t index) {
  NADI_TRY(check_eps(l, index));
  NADI_TRY(check_axis(l, index));
  l->out_dims = l->in_dims[0];
  snprintf(l->desc, sizeof l->desc, "layernorm %lld", (long long)ln_width(l));
  return NAD_OK;
}

static nad_status gn_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *s = &l->in_dims[0];
  NADI_TRY(check_eps(l, index));
  NADI_CHECK(s->rank >= 2, NAD_ERR_SHAPE,
             "layer %lld (groupnorm): input of rank %lld has no channel axis (needs (N, C, ...))",
             (long long)index, (long long)s->rank);
  NADI_CHECK(l->norm_groups >= 1 && s->d[1] % l->norm_groups == 0, NAD_ERR_INVALID_ARG,
             "layer %lld (groupnorm): %lld groups do not divide %lld channels", (long long)index,
             (long long)l->norm_groups, (long long)s->d[1]);
  l->out_dims = *s;
  snprintf(l->desc, sizeof l->desc, "groupnorm %lld/%lld", (long long)s->d[1],
           (long long)l->norm_groups);
  return NAD_OK;
}

static nad_status sm_shape(nadi_layer *l, int64_t index) {
  NADI_TRY(check_axis(l, index));
  l->out_dims = l->in_dims[0];
  snprintf(l->desc, sizeof l->desc, "softmax axis %lld", (long long)l->norm_axis);
  return NAD_OK;
}

static int ln_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  t[0] = (nadi_tensor_desc){"weight", ln_width(l), 1};
  t[1] = (nadi_tensor_desc){"bias", ln_width(l), 1};
  return 2;
}

static int gn_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  t[0] = (nadi_tensor_desc){"weight", l->in_dims[0].d[1], 1};
  t[1] = (nadi_tensor_desc){"bias", l->in_dims[0].d[1], 1};
  return 2;
}

/* weight 1, bias 0 (PyTorch's reset_parameters of LayerNorm and GroupNorm) */
static void norm_init(const nadi_layer *l, float *p, nadi_rng *rng) {
  (void)rng;
  nadi_init_fill(p, l->n_params / 2, 1.0f);
  nadi_init_fill(p + l->n_params / 2, l->n_params / 2, 0.0f);
}

static int64_t flops_times(const nadi_layer *l, int64_t per) {
  int64_t f, n = nadi_dims_numel(&l->out_dims);
  return n >= 0 && nadi_mul_ok(n, per, &f) ? f : -1;
}

/* statistics 4 (add; subtract, square, add) + affine 4 (subtract, 2 multiplies, add) */
static int64_t norm_flops(const nadi_layer *l) { return flops_times(l, 8); }
/* max, subtract, exp, add, scale */
static int64_t sm_flops(const nadi_layer *l) { return flops_times(l, 5); }

/* LayerNorm normalises the axes from norm_axis (resolved by shape()) on, softmax one axis:
 * both are computed slice by slice along any axis they do not work on. */
static int ln_slice(const nadi_layer *l, int64_t axis, nadi_hparams *hp) {
  if (axis < 0 || axis >= l->norm_axis)
    return 0;
  *hp = l->hp;
  hp->norm_axis = l->norm_axis - 1;
  return 1;
}

static int sm_slice(const nadi_layer *l, int64_t axis, nadi_hparams *hp) {
  if (axis < 0 || axis >= l->out_dims.rank || axis == l->norm_axis)
    return 0;
  *hp = l->hp;
  hp->norm_axis = l->norm_axis - (l->norm_axis > axis);
  return 1;
}

const nadi_kind_desc nadi_kind_layernorm = {
    .ops = &layernorm_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = ln_shape,
    .tensors = ln_tensors,
    .flops = norm_flops,
    .init = norm_init,
    .slice = ln_slice,
};

const nadi_kind_desc nadi_kind_groupnorm = {
    .ops = &groupnorm_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = gn_shape,
    .tensors = gn_tensors,
    .flops = norm_flops,
    .init = norm_init,
};

const nadi_kind_desc nadi_kind_softmax = {
    .ops = &softmax_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = sm_shape,
    .flops = sm_flops,
    .slice = sm_slice,
};
