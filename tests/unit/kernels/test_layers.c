/* Every layer kernel (lib/kernels/) against a naive double-precision reference written here:
 *  - forward of the float kernel vs the reference (normwise relative error <= 1e-5);
 *  - backward (dx of every input and dparams) vs central finite differences of the reference
 *    objective sum(r * y) for a random r (normwise relative error <= 1e-4);
 *  - backward accumulates (a second call doubles the result), NULL dx / dparams are accepted and
 *    do not change the other gradients, and no kernel writes past its buffers (sentinels);
 *  - batchnorm running-statistics updates against their closed form, dropout mask statistics and
 *    reproducibility, max-pool tie breaking and NaN propagation, ReLU at 0.
 * Non-smooth layers get inputs without ties or kinks by construction (distinct values, values
 * away from 0). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/window.h"
#include "../check.h"
#include "sentinel.h"



#define FD_EPS 1e-6
#define FD_MAX 300 /* finite-difference checks per tensor (random subset beyond) */
#define TOL_FWD 1e-5
#define TOL_GRAD 1e-4

static nadi_rng g_rng;
static int g_verbose; /* env TEST_VERBOSE: print every measured error */

/* ---------------------------------------------------------------------------------------- */
/* Buffers (float ones with a NaN-sentinel tail: sentinel.h)                                 */
/* ---------------------------------------------------------------------------------------- */

static double *dbuf(int64_t n) {
  double *p = calloc((size_t)(n > 0 ? n : 1), sizeof(double));
  if (!p) {
    printf("out of memory\n");
    exit(2);
  }
  return p;
}

static void fzero(float *p, int64_t n) { memset(p, 0, (size_t)n * sizeof(float)); }

/* ---------------------------------------------------------------------------------------- */
/* Layers, filled by hand as the graph builder would                                          */
/* ---------------------------------------------------------------------------------------- */

static int64_t prod3(const int64_t s[3]) { return s[0] * s[1] * s[2]; }

static void set3(int64_t s[3], int64_t a, int64_t b, int64_t c) {
  s[0] = a;
  s[1] = b;
  s[2] = c;
}

static nadi_layer mk(nadi_kind kind, int64_t c, int64_t h, int64_t w) {
  nadi_layer l;
  memset(&l, 0, sizeof l);
  l.kind = kind;
  l.n_in = 1;
  l.in[0] = NADI_INPUT_NODE;
  l.in[1] = NADI_INPUT_NODE;
  set3(l.in_shape[0], c, h, w);
  set3(l.out_shape, c, h, w);
  l.eps = 1e-5;
  l.momentum = 0.1;
  l.p = 0.5;
  l.param_off = 0;
  return l;
}

static nadi_layer mk_conv(int64_t c, int64_t h, int64_t w, int64_t o, int32_t k, int32_t s,
                          int32_t p, int32_t bias) {
  nadi_layer l = mk(NADI_CONV2D, c, h, w);
  l.out_c = o;
  l.k = k;
  l.stride = s;
  l.pad = p;
  l.bias = bias;
  nadi_window_canon(&l, 0, NADI_WINDOW_CONV); /* the general window fields, as shape() would */
  set3(l.out_shape, o, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
  l.n_params = o * c * k * k + (bias ? o : 0);
  snprintf(l.desc, sizeof l.desc, "conv %lldx%lldx%lld->%lld k%d s%d p%d%s", (long long)c,
           (long long)h, (long long)w, (long long)o, k, s, p, bias ? "" : " nobias");
  return l;
}

static nadi_layer mk_pool(nadi_kind kind, int64_t c, int64_t h, int64_t w, int32_t k, int32_t s) {
  nadi_layer l = mk(kind, c, h, w);
  l.k = k;
  l.stride = s;
  nadi_window_canon(&l, 0, NADI_WINDOW_POOL);
  set3(l.out_shape, c, (h - k) / s + 1, (w - k) / s + 1);
  snprintf(l.desc, sizeof l.desc, "%s %lldx%lldx%lld k%d s%d",
           kind == NADI_MAXPOOL ? "maxpool" : "avgpool", (long long)c, (long long)h, (long long)w,
           k, s);
  return l;
}

static nadi_layer mk_linear(int64_t c, int64_t h, int64_t w, int64_t o, int32_t bias) {
  nadi_layer l = mk(NADI_LINEAR, c, h, w);
  l.out_c = o;
  l.bias = bias;
  set3(l.out_shape, o, 1, 1);
  l.n_params = o * c * h * w + (bias ? o : 0);
  snprintf(l.desc, sizeof l.desc, "linear %lldx%lldx%lld->%lld%s", (long long)c, (long long)h,
           (long long)w, (long long)o, bias ? "" : " nobias");
  return l;
}

static nadi_layer mk_bn(int64_t c, int64_t h, int64_t w, double eps, double momentum) {
  nadi_layer l = mk(NADI_BATCHNORM, c, h, w);
  l.eps = eps;
  l.momentum = momentum;
  l.n_params = 4 * c;
  snprintf(l.desc, sizeof l.desc, "batchnorm %lldx%lldx%lld", (long long)c, (long long)h,
           (long long)w);
  return l;
}

static nadi_layer mk_simple(nadi_kind kind, int64_t c, int64_t h, int64_t w) {
  nadi_layer l = mk(kind, c, h, w);
  const char *name = nadi_ops(kind)->name;
  if (kind == NADI_FLATTEN)
    set3(l.out_shape, c * h * w, 1, 1);
  if (kind == NADI_GAP)
    set3(l.out_shape, c, 1, 1);
  snprintf(l.desc, sizeof l.desc, "%s %lldx%lldx%lld", name, (long long)c, (long long)h,
           (long long)w);
  return l;
}

static nadi_layer mk_join(nadi_kind kind, int64_t c0, int64_t c1, int64_t h, int64_t w) {
  nadi_layer l = mk(kind, c0, h, w);
  l.n_in = 2;
  set3(l.in_shape[1], c1, h, w);
  set3(l.out_shape, kind == NADI_CONCAT ? c0 + c1 : c0, h, w);
  snprintf(l.desc, sizeof l.desc, "%s %lld+%lld x%lldx%lld", nadi_ops(kind)->name, (long long)c0,
           (long long)c1, (long long)h, (long long)w);
  return l;
}

/* ---------------------------------------------------------------------------------------- */
/* Double-precision reference forward (plain loops, straight from the PyTorch definitions)   */
/* ---------------------------------------------------------------------------------------- */

static void ref_forward(const nadi_layer *l, int64_t nb, int training, const double *prm,
                        const double *const *x, double *y) {
  const int64_t C = l->in_shape[0][0], H = l->in_shape[0][1], W = l->in_shape[0][2];
  const int64_t O = l->out_shape[0], OH = l->out_shape[1], OW = l->out_shape[2];
  const int64_t k = l->k, s = l->stride, p = l->pad;
  switch (l->kind) {
  case NADI_CONV2D:
    for (int64_t b = 0; b < nb; b++)
      for (int64_t o = 0; o < O; o++)
        for (int64_t oh = 0; oh < OH; oh++)
          for (int64_t ow = 0; ow < OW; ow++) {
            double acc = l->bias ? prm[O * C * k * k + o] : 0.0;
            for (int64_t c = 0; c < C; c++)
              for (int64_t i = 0; i < k; i++)
                for (int64_t j = 0; j < k; j++) {
                  int64_t ih = oh * s - p + i, iw = ow * s - p + j;
                  if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                    acc +=
                        prm[((o * C + c) * k + i) * k + j] * x[0][((b * C + c) * H + ih) * W + iw];
                }
            y[((b * O + o) * OH + oh) * OW + ow] = acc;
          }
    break;
  case NADI_MAXPOOL:
  case NADI_AVGPOOL:
    for (int64_t b = 0; b < nb; b++)
      for (int64_t c = 0; c < C; c++)
        for (int64_t oh = 0; oh < OH; oh++)
          for (int64_t ow = 0; ow < OW; ow++) {
            double m = -INFINITY, sum = 0.0;
            for (int64_t i = 0; i < k; i++)
              for (int64_t j = 0; j < k; j++) {
                double v = x[0][((b * C + c) * H + oh * s + i) * W + ow * s + j];
                m = v > m ? v : m;
                sum += v;
              }
            y[((b * C + c) * OH + oh) * OW + ow] =
                l->kind == NADI_MAXPOOL ? m : sum / (double)(k * k);
          }
    break;
  case NADI_RELU:
    for (int64_t i = 0; i < nb * C * H * W; i++)
      y[i] = x[0][i] > 0 ? x[0][i] : 0.0;
    break;
  case NADI_LINEAR: {
    int64_t F = C * H * W;
    for (int64_t b = 0; b < nb; b++)
      for (int64_t o = 0; o < O; o++) {
        double acc = l->bias ? prm[O * F + o] : 0.0;
        for (int64_t f = 0; f < F; f++)
          acc += prm[o * F + f] * x[0][b * F + f];
        y[b * O + o] = acc;
      }
    break;
  }
  case NADI_BATCHNORM: {
    int64_t hw = H * W, n = nb * hw;
    for (int64_t c = 0; c < C; c++) {
      double mean = prm[2 * C + c], var = prm[3 * C + c];
      if (training) {
        mean = 0.0;
        for (int64_t b = 0; b < nb; b++)
          for (int64_t q = 0; q < hw; q++)
            mean += x[0][(b * C + c) * hw + q];
        mean /= (double)n;
        var = 0.0;
        for (int64_t b = 0; b < nb; b++)
          for (int64_t q = 0; q < hw; q++) {
            double t = x[0][(b * C + c) * hw + q] - mean;
            var += t * t;
          }
        var /= (double)n;
      }
      for (int64_t b = 0; b < nb; b++)
        for (int64_t q = 0; q < hw; q++)
          y[(b * C + c) * hw + q] =
              (x[0][(b * C + c) * hw + q] - mean) / sqrt(var + l->eps) * prm[c] + prm[C + c];
    }
    break;
  }
  case NADI_DROPOUT: /* eval mode only; training is tested on its own */
  case NADI_FLATTEN:
    for (int64_t i = 0; i < nb * C * H * W; i++)
      y[i] = x[0][i];
    break;
  case NADI_ADD:
    for (int64_t i = 0; i < nb * C * H * W; i++)
      y[i] = x[0][i] + x[1][i];
    break;
  case NADI_CONCAT: {
    int64_t n0 = prod3(l->in_shape[0]), n1 = prod3(l->in_shape[1]);
    for (int64_t b = 0; b < nb; b++) {
      for (int64_t i = 0; i < n0; i++)
        y[b * (n0 + n1) + i] = x[0][b * n0 + i];
      for (int64_t i = 0; i < n1; i++)
        y[b * (n0 + n1) + n0 + i] = x[1][b * n1 + i];
    }
    break;
  }
  case NADI_GAP:
    for (int64_t pl = 0; pl < nb * C; pl++) {
      double acc = 0.0;
      for (int64_t q = 0; q < H * W; q++)
        acc += x[0][pl * H * W + q];
      y[pl] = acc / (double)(H * W);
    }
    break;
  default:
    printf("no reference for kind %d\n", (int)l->kind);
    exit(2);
  }
}

/* ---------------------------------------------------------------------------------------- */
/* The harness                                                                               */
/* ---------------------------------------------------------------------------------------- */

typedef enum { X_UNIFORM, X_DISTINCT, X_AWAY0 } x_style;

static void fill_input(float *x, int64_t n, x_style st) {
  if (st == X_DISTINCT) { /* a random permutation of a grid: no ties, gaps of 2/n */
    for (int64_t i = 0; i < n; i++)
      x[i] = (float)(-1.0 + 2.0 * (double)i / (double)n);
    for (int64_t i = n - 1; i > 0; i--) {
      int64_t j = (int64_t)(nadi_rng_uniform(&g_rng) * (double)(i + 1));
      float t = x[i];
      x[i] = x[j];
      x[j] = t;
    }
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    double u = nadi_rng_uniform(&g_rng);
    if (st == X_AWAY0) /* |x| in [0.1, 1): FD steps never cross the ReLU kink */
      x[i] = (float)((u < 0.5 ? -1.0 : 1.0) * (0.1 + 0.9 * nadi_rng_uniform(&g_rng)));
    else
      x[i] = (float)(2.0 * u - 1.0);
  }
}

static void fill_params(const nadi_layer *l, float *p) {
  if (l->kind == NADI_BATCHNORM) {
    int64_t c = l->in_shape[0][0];
    nadi_rng_fill_uniform(&g_rng, p, c, 0.5, 1.5);          /* weight */
    nadi_rng_fill_uniform(&g_rng, p + c, c, -0.5, 0.5);     /* bias */
    nadi_rng_fill_uniform(&g_rng, p + 2 * c, c, -0.5, 0.5); /* running mean */
    nadi_rng_fill_uniform(&g_rng, p + 3 * c, c, 0.5, 2.0);  /* running var */
    return;
  }
  nadi_rng_fill_uniform(&g_rng, p, l->n_params, -1.0, 1.0);
}

/* Parameters whose gradient is defined as 0 (batchnorm running statistics). */
static int param_frozen(const nadi_layer *l, int64_t j) {
  return l->kind == NADI_BATCHNORM && j >= 2 * l->in_shape[0][0];
}

static double max_abs(const double *a, int64_t n) {
  double m = 0.0;
  for (int64_t i = 0; i < n; i++)
    m = fabs(a[i]) > m ? fabs(a[i]) : m;
  return m;
}

/* max |a - b| / max |b| */
static double normwise_err(const float *a, const double *b, int64_t n) {
  double e = 0.0, m = max_abs(b, n);
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    e = d > e || isnan(d) ? d : e;
  }
  return m > 0.0 ? e / m : e;
}

/* max |a - f b| / max |f b| (0 when both vanish) */
static double scaled_diff(const float *a, float f, const float *b, int64_t n) {
  double e = 0.0, m = 0.0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)f * b[i]);
    e = d > e || isnan(d) ? d : e;
    m = fmax(m, fabs((double)f * b[i]));
  }
  return m > 0.0 ? e / m : e;
}

typedef struct fd_case {
  const nadi_layer *l;
  int64_t nb;
  int training;
  double *prm;
  double *x[2];
  const double *r;
  double *y;
  int64_t nout;
} fd_case;

static double objective(const fd_case *fc) {
  const double *xs[2] = {fc->x[0], fc->x[1]};
  ref_forward(fc->l, fc->nb, fc->training, fc->prm, xs, fc->y);
  double s = 0.0;
  for (int64_t i = 0; i < fc->nout; i++)
    s += fc->r[i] * fc->y[i];
  return s;
}

/* Compares an analytic gradient g (n floats) of the values v (n doubles, perturbed in place)
 * with central differences; frozen(j) entries must be exactly 0. Returns the error. */
static double fd_check(fd_case *fc, double *v, const float *g, int64_t n, const nadi_layer *frz,
                       int64_t fd_max) {
  int64_t m = n < fd_max ? n : fd_max;
  double *num = dbuf(m);
  float *ana = fbuf(m);
  fzero(ana, m);
  for (int64_t t = 0; t < m; t++) {
    int64_t j = n <= fd_max ? t : (int64_t)(nadi_rng_uniform(&g_rng) * (double)n);
    double keep = v[j];
    if (frz && param_frozen(frz, j)) {
      num[t] = 0.0;
    } else {
      v[j] = keep + FD_EPS;
      double fp = objective(fc);
      v[j] = keep - FD_EPS;
      double fm = objective(fc);
      num[t] = (fp - fm) / (2.0 * FD_EPS);
    }
    v[j] = keep;
    ana[t] = g[j];
  }
  double e = normwise_err(ana, num, m);
  if (max_abs(num, m) == 0.0 && m > 0)
    e = 1.0; /* an all-zero gradient would make the check vacuous */
  free(num);
  free(ana);
  return e;
}

/* Runs the full battery on one layer, with at most fd_max finite differences per tensor. */
static void check_layer_fd(const nadi_layer *l, int64_t nb, int training, x_style st,
                           int64_t fd_max) {
  const nadi_layer_ops *ops = nadi_ops(l->kind);
  char what[160];
  snprintf(what, sizeof what, "%s B=%lld %s", l->desc, (long long)nb, training ? "train" : "eval");
  int64_t nin[2] = {0, 0};
  for (int i = 0; i < l->n_in; i++)
    nin[i] = nb * prod3(l->in_shape[i]);
  int64_t nout = nb * prod3(l->out_shape), np = l->n_params;
  int64_t nws = ops->workspace ? (int64_t)ops->workspace(l, nb) : 0;
  int64_t nst = ops->state_size ? (int64_t)ops->state_size(l, nb) : 0;

  float *x[2] = {NULL, NULL}, *dx[2] = {NULL, NULL};
  for (int i = 0; i < l->n_in; i++) {
    x[i] = fbuf(nin[i]);
    fill_input(x[i], nin[i], st);
    dx[i] = fbuf(nin[i]);
    fzero(dx[i], nin[i]);
  }
  float *prm = fbuf(np), *prm0 = fbuf(np), *dprm = fbuf(np);
  fill_params(l, prm);
  memcpy(prm0, prm, (size_t)np * sizeof(float));
  fzero(dprm, np);
  float *y = fbuf(nout), *r = fbuf(nout);
  fill_input(r, nout, X_UNIFORM);
  float *ws = nws ? fbuf(nws) : NULL; /* NULL: a kernel that declares none must not touch it */
  float *state = nst ? fbuf(nst) : NULL;
  nadi_ctx ctx = {.batch = nb, .training = training, .ws = ws, .state = state, .rng = &g_rng};

  /* forward */
  const float *xc[2] = {x[0], x[1]};
  ops->forward(l, prm, xc, y, &ctx);

  fd_case fc = {.l = l, .nb = nb, .training = training, .nout = nout};
  fc.prm = dbuf(np);
  for (int64_t j = 0; j < np; j++)
    fc.prm[j] = prm0[j];
  for (int i = 0; i < l->n_in; i++) {
    fc.x[i] = dbuf(nin[i]);
    for (int64_t j = 0; j < nin[i]; j++)
      fc.x[i][j] = x[i][j];
  }
  double *rd = dbuf(nout);
  for (int64_t j = 0; j < nout; j++)
    rd[j] = r[j];
  fc.r = rd;
  fc.y = dbuf(nout);
  objective(&fc);
  double e = normwise_err(y, fc.y, nout);
  CHECK(e <= TOL_FWD, "%s: forward rel err %.3g", what, e);
  if (g_verbose)
    printf("%-44s forward %.2g\n", what, e);
  CHECK(guard_ok(y, nout) && guard_ok(ws, nws) && guard_ok(state, nst) && guard_ok(prm, np),
        "%s: forward wrote past a buffer", what);

  /* backward: dx and dparams against finite differences */
  float *const dxs[2] = {dx[0], dx[1]};
  ops->backward(l, prm, xc, y, r, dxs, dprm, &ctx);
  for (int i = 0; i < l->n_in; i++) {
    e = fd_check(&fc, fc.x[i], dx[i], nin[i], NULL, fd_max);
    CHECK(e <= TOL_GRAD, "%s: dx[%d] rel err %.3g", what, i, e);
    if (g_verbose)
      printf("%-44s dx[%d]   %.2g\n", what, i, e);
  }
  if (np > 0) {
    e = fd_check(&fc, fc.prm, dprm, np, l, fd_max);
    CHECK(e <= TOL_GRAD, "%s: dparams rel err %.3g", what, e);
    if (g_verbose)
      printf("%-44s dparams %.2g\n", what, e);
    int frozen_zero = 1;
    for (int64_t j = 0; j < np; j++)
      if (param_frozen(l, j) && dprm[j] != 0.0f)
        frozen_zero = 0;
    CHECK(frozen_zero, "%s: running statistics got a gradient", what);
  }
  int guards = guard_ok(dprm, np) && guard_ok(ws, nws) && guard_ok(state, nst);
  for (int i = 0; i < l->n_in; i++)
    guards = guards && guard_ok(dx[i], nin[i]);
  CHECK(guards, "%s: backward wrote past a buffer", what);

  /* accumulation: a second call adds the same gradient again */
  float *once[2] = {NULL, NULL}, *once_p = fbuf(np);
  memcpy(once_p, dprm, (size_t)np * sizeof(float));
  for (int i = 0; i < l->n_in; i++) {
    once[i] = fbuf(nin[i]);
    memcpy(once[i], dx[i], (size_t)nin[i] * sizeof(float));
  }
  ops->backward(l, prm, xc, y, r, dxs, dprm, &ctx);
  double acc_err = 0.0; /* normwise: beta = 1 GEMMs may round differently from beta = 0 */
  for (int i = 0; i < l->n_in; i++)
    acc_err = fmax(acc_err, scaled_diff(dx[i], 2.0f, once[i], nin[i]));
  acc_err = fmax(acc_err, scaled_diff(dprm, 2.0f, once_p, np));
  CHECK(acc_err <= 1e-6, "%s: second backward is not 2x the first (err %.3g)", what, acc_err);

  /* NULL dparams: same dx; NULL dx: same dparams; both NULL (and a NULL dx array): no-op */
  for (int i = 0; i < l->n_in; i++)
    fzero(dx[i], nin[i]);
  ops->backward(l, prm, xc, y, r, dxs, NULL, &ctx);
  double dif = 0.0;
  for (int i = 0; i < l->n_in; i++)
    dif = fmax(dif, scaled_diff(dx[i], 1.0f, once[i], nin[i]));
  CHECK(dif == 0.0, "%s: dx differs when dparams is NULL (%.3g)", what, dif);
  fzero(dprm, np);
  float *const nodx[2] = {NULL, NULL};
  ops->backward(l, prm, xc, y, r, nodx, dprm, &ctx);
  dif = scaled_diff(dprm, 1.0f, once_p, np);
  CHECK(dif == 0.0, "%s: dparams differ when dx is NULL (%.3g)", what, dif);
  ops->backward(l, prm, xc, y, r, NULL, NULL, &ctx);
  guards = guard_ok(dprm, np) && guard_ok(ws, nws) && guard_ok(state, nst);
  for (int i = 0; i < l->n_in; i++)
    guards = guards && guard_ok(dx[i], nin[i]);
  CHECK(guards, "%s: NULL-gradient backward wrote past a buffer", what);

  for (int i = 0; i < 2; i++) {
    free(x[i]);
    free(dx[i]);
    free(once[i]);
    free(fc.x[i]);
  }
  free(prm);
  free(prm0);
  free(dprm);
  free(once_p);
  free(y);
  free(r);
  free(rd);
  free(ws);
  free(state);
  free(fc.prm);
  free(fc.y);
}

static void check_layer(const nadi_layer *l, int64_t nb, int training, x_style st) {
  check_layer_fd(l, nb, training, st, FD_MAX);
}

/* ---------------------------------------------------------------------------------------- */
/* Targeted tests                                                                            */
/* ---------------------------------------------------------------------------------------- */

/* Forward on a batch smaller than the one the workspace was sized for (the executor does that). */
static void test_conv_small_batch_in_big_workspace(void) {
  nadi_layer l = mk_conv(2, 32, 32, 3, 3, 1, 1, 1);
  const nadi_layer_ops *ops = nadi_ops(NADI_CONV2D);
  int64_t cap = 9, nb = 3;
  float *ws = fbuf((int64_t)ops->workspace(&l, cap));
  int64_t nin = nb * prod3(l.in_shape[0]), nout = nb * prod3(l.out_shape);
  float *x = fbuf(nin), *y = fbuf(nout), *prm = fbuf(l.n_params);
  fill_input(x, nin, X_UNIFORM);
  fill_params(&l, prm);
  nadi_ctx ctx = {.batch = nb, .training = 0, .ws = ws, .state = NULL, .rng = &g_rng};
  const float *xs[1] = {x};
  ops->forward(&l, prm, xs, y, &ctx);
  double *yd = dbuf(nout), *xd = dbuf(nin), *pd = dbuf(l.n_params);
  for (int64_t i = 0; i < nin; i++)
    xd[i] = x[i];
  for (int64_t i = 0; i < l.n_params; i++)
    pd[i] = prm[i];
  const double *xds[1] = {xd};
  ref_forward(&l, nb, 0, pd, xds, yd);
  double e = normwise_err(y, yd, nout);
  CHECK(e <= TOL_FWD && guard_ok(ws, (int64_t)ops->workspace(&l, cap)),
        "conv with batch %lld in a workspace for %lld: err %.3g", (long long)nb, (long long)cap, e);
  CHECK(ops->workspace(&l, 1) <= ops->workspace(&l, 3) &&
            ops->workspace(&l, 3) <= ops->workspace(&l, 64) &&
            ops->workspace(&l, 64) <= ops->workspace(&l, 4096),
        "conv workspace must not shrink as the batch grows");
  free(ws);
  free(x);
  free(y);
  free(prm);
  free(yd);
  free(xd);
  free(pd);
}

static void test_bn_running_stats(int64_t c, int64_t h, int64_t w, int64_t nb, double momentum) {
  nadi_layer l = mk_bn(c, h, w, 1e-3, momentum);
  const nadi_layer_ops *ops = nadi_ops(NADI_BATCHNORM);
  int64_t n = nb * h * w, nin = nb * c * h * w;
  float *x = fbuf(nin), *y = fbuf(nin), *prm = fbuf(4 * c), *prm0 = fbuf(4 * c);
  float *state = fbuf((int64_t)ops->state_size(&l, nb));
  fill_input(x, nin, X_UNIFORM);
  for (int64_t i = 0; i < nin; i++) /* per-channel offsets so that means differ */
    x[i] += (float)(((i / (h * w)) % c) * 0.5);
  fill_params(&l, prm);
  memcpy(prm0, prm, (size_t)(4 * c) * sizeof(float));
  nadi_ctx ctx = {.batch = nb, .training = 1, .ws = NULL, .state = state, .rng = &g_rng};
  const float *xs[1] = {x};
  ops->forward(&l, prm, xs, y, &ctx);
  double worst = 0.0;
  for (int64_t ch = 0; ch < c; ch++) {
    double s = 0.0, ss = 0.0;
    for (int64_t b = 0; b < nb; b++)
      for (int64_t q = 0; q < h * w; q++)
        s += x[(b * c + ch) * h * w + q];
    double mean = s / (double)n;
    for (int64_t b = 0; b < nb; b++)
      for (int64_t q = 0; q < h * w; q++) {
        double t = x[(b * c + ch) * h * w + q] - mean;
        ss += t * t;
      }
    double rm = (1.0 - momentum) * prm0[2 * c + ch] + momentum * mean;
    double rv = (1.0 - momentum) * prm0[3 * c + ch] + momentum * ss / (double)(n - 1);
    worst = fmax(worst, fabs(prm[2 * c + ch] - rm) / fmax(1.0, fabs(rm)));
    worst = fmax(worst, fabs(prm[3 * c + ch] - rv) / fmax(1.0, fabs(rv)));
    /* weight and bias are untouched */
    worst = fmax(worst, fabs(prm[ch] - prm0[ch]) + fabs(prm[c + ch] - prm0[c + ch]));
  }
  CHECK(worst <= 1e-6, "batchnorm %lldx%lldx%lld B=%lld momentum %g: running stats err %.3g",
        (long long)c, (long long)h, (long long)w, (long long)nb, momentum, worst);
  /* Eval mode leaves them alone. */
  memcpy(prm0, prm, (size_t)(4 * c) * sizeof(float));
  ctx.training = 0;
  ops->forward(&l, prm, xs, y, &ctx);
  CHECK(memcmp(prm, prm0, (size_t)(4 * c) * sizeof(float)) == 0,
        "batchnorm eval forward changed its parameters");
  free(x);
  free(y);
  free(prm);
  free(prm0);
  free(state);
}

static void test_dropout(void) {
  const nadi_layer_ops *ops = nadi_ops(NADI_DROPOUT);
  const int64_t c = 50, h = 40, w = 25, nb = 4, n = nb * c * h * w; /* 200,000 elements */
  nadi_layer l = mk_simple(NADI_DROPOUT, c, h, w);
  l.p = 0.3;
  float *x = fbuf(n), *y = fbuf(n), *y2 = fbuf(n), *dy = fbuf(n), *dx = fbuf(n);
  float *state = fbuf((int64_t)ops->state_size(&l, nb));
  fill_input(x, n, X_AWAY0); /* never 0: y == 0 identifies a dropped element */
  fill_input(dy, n, X_AWAY0);
  const float *xs[1] = {x};
  float *const dxs[1] = {dx};
  nadi_rng rng;
  nadi_ctx ctx = {.batch = nb, .training = 0, .ws = NULL, .state = state, .rng = &rng};

  /* eval: identity both ways */
  nadi_rng_init(&rng, 7, 0);
  ops->forward(&l, NULL, xs, y, &ctx);
  CHECK(memcmp(x, y, (size_t)n * sizeof(float)) == 0, "dropout eval forward is not the identity");
  fzero(dx, n);
  ops->backward(&l, NULL, xs, y, dy, dxs, NULL, &ctx);
  CHECK(memcmp(dx, dy, (size_t)n * sizeof(float)) == 0, "dropout eval backward is not dy");

  /* training: y is 0 or x / (1 - p); the dropped fraction is p within 5 sigma */
  ctx.training = 1;
  nadi_rng_init(&rng, 7, 0);
  ops->forward(&l, NULL, xs, y, &ctx);
  float scale = (float)(1.0 / (1.0 - l.p));
  int64_t dropped = 0, bad = 0;
  for (int64_t i = 0; i < n; i++) {
    if (y[i] == 0.0f)
      dropped++;
    else if (y[i] != x[i] * scale)
      bad++;
  }
  double frac = (double)dropped / (double)n, sigma = sqrt(l.p * (1.0 - l.p) / (double)n);
  CHECK(bad == 0, "dropout: %lld kept values are not x/(1-p)", (long long)bad);
  CHECK(fabs(frac - l.p) < 5.0 * sigma, "dropout: dropped fraction %.5f, expected %.2f", frac, l.p);
  /* adjacent elements are independent: P(both dropped) = p^2 */
  int64_t pairs = 0;
  for (int64_t i = 0; i + 1 < n; i += 2)
    pairs += y[i] == 0.0f && y[i + 1] == 0.0f;
  double pf = (double)pairs / (double)(n / 2), psig = sqrt(l.p * l.p * (1 - l.p * l.p) / (n / 2.0));
  CHECK(fabs(pf - l.p * l.p) < 5.0 * psig, "dropout: P(pair dropped) %.5f, expected %.4f", pf,
        l.p * l.p);
  /* backward uses the same mask */
  fzero(dx, n);
  ops->backward(&l, NULL, xs, y, dy, dxs, NULL, &ctx);
  bad = 0;
  for (int64_t i = 0; i < n; i++)
    if (dx[i] != (y[i] == 0.0f ? 0.0f : dy[i] * scale))
      bad++;
  CHECK(bad == 0, "dropout backward: %lld elements do not follow the forward mask", (long long)bad);
  CHECK(guard_ok(state, n) && guard_ok(y, n) && guard_ok(dx, n), "dropout wrote past a buffer");

  /* same seed -> same mask; another seed -> another mask */
  nadi_rng_init(&rng, 7, 0);
  ops->forward(&l, NULL, xs, y2, &ctx);
  CHECK(memcmp(y, y2, (size_t)n * sizeof(float)) == 0, "dropout: same seed, different mask");
  nadi_rng_init(&rng, 8, 0);
  ops->forward(&l, NULL, xs, y2, &ctx);
  int64_t differ = 0;
  for (int64_t i = 0; i < n; i++)
    differ += (y[i] == 0.0f) != (y2[i] == 0.0f);
  /* two independent masks disagree on a fraction 2 p (1 - p) = 0.42 */
  CHECK(differ > n / 3, "dropout: another seed gives nearly the same mask (%lld differ)",
        (long long)differ);

  /* p = 0: identity; p = 1: all dropped */
  l.p = 0.0;
  ops->forward(&l, NULL, xs, y2, &ctx);
  CHECK(memcmp(x, y2, (size_t)n * sizeof(float)) == 0, "dropout p=0 is not the identity");
  l.p = 1.0;
  ops->forward(&l, NULL, xs, y2, &ctx);
  bad = 0;
  for (int64_t i = 0; i < n; i++)
    bad += y2[i] != 0.0f || isnan(y2[i]);
  CHECK(bad == 0, "dropout p=1: %lld elements survive", (long long)bad);
  free(x);
  free(y);
  free(y2);
  free(dy);
  free(dx);
  free(state);
}

/* PyTorch sends the gradient of a tie to the first maximum in row-major window order, and a NaN
 * anywhere in a window makes the output NaN. */
static void test_maxpool_ties_nan(int32_t k, int32_t s) {
  nadi_layer l = mk_pool(NADI_MAXPOOL, 1, 5, 5, k, s);
  const nadi_layer_ops *ops = nadi_ops(NADI_MAXPOOL);
  int64_t oh = l.out_shape[1], ow = l.out_shape[2];
  float x[25], y[25], dy[25], dx[25];
  for (int i = 0; i < 25; i++)
    x[i] = 1.0f;
  for (int i = 0; i < 25; i++)
    dy[i] = 1.0f;
  fzero(dx, 25);
  const float *xs[1] = {x};
  float *const dxs[1] = {dx};
  nadi_ctx ctx = {.batch = 1, .training = 0, .ws = NULL, .state = NULL, .rng = &g_rng};
  ops->forward(&l, NULL, xs, y, &ctx);
  ops->backward(&l, NULL, xs, y, dy, dxs, NULL, &ctx);
  int ok = 1;
  for (int64_t i = 0; i < 5; i++)
    for (int64_t j = 0; j < 5; j++) {
      /* the first element of a window is (oh*s, ow*s) */
      int first = i % s == 0 && j % s == 0 && i / s < oh && j / s < ow;
      if (dx[i * 5 + j] != (first ? 1.0f : 0.0f))
        ok = 0;
    }
  CHECK(ok, "maxpool k%d s%d: tie gradient not at the first element", k, s);
  x[6] = NAN; /* in window (0,0) for every k >= 2 */
  ops->forward(&l, NULL, xs, y, &ctx);
  CHECK(isnan(y[0]) && !isnan(y[oh * ow - 1]), "maxpool k%d s%d: NaN not propagated", k, s);
}

static void test_relu_special(void) {
  nadi_layer l = mk_simple(NADI_RELU, 1, 1, 4);
  const nadi_layer_ops *ops = nadi_ops(NADI_RELU);
  float x[4] = {0.0f, -0.0f, NAN, -2.0f}, y[4], dy[4] = {1, 1, 1, 1}, dx[4] = {0, 0, 0, 0};
  const float *xs[1] = {x};
  float *const dxs[1] = {dx};
  nadi_ctx ctx = {.batch = 1, .training = 0, .ws = NULL, .state = NULL, .rng = &g_rng};
  ops->forward(&l, NULL, xs, y, &ctx);
  CHECK(y[0] == 0.0f && y[1] == 0.0f && isnan(y[2]) && y[3] == 0.0f, "relu forward specials");
  ops->backward(&l, NULL, xs, y, dy, dxs, NULL, &ctx);
  CHECK(dx[0] == 0.0f && dx[1] == 0.0f && dx[3] == 0.0f, "relu: gradient at x <= 0 must be 0");
}

int main(void) {
  nadi_rng_init(&g_rng, 20240601, 0);
  g_verbose = getenv("TEST_VERBOSE") != NULL;

  /* conv2d: k 1/2/3/5, stride 1/2/3, padding, non-square, batch 1 and 3, with and without bias;
   * both column layouts (classic, extended rows with and without padding, 1x1 direct), single
   * images and groups of images per GEMM with a remainder group (B = 5 and 13); the direct
   * loops of thin layers (<= 32 column rows, <= 16 outputs: conv_direct.c) with channel and
   * column remainders (7 = 4 + 1 + 1 + 1 outputs, rows of 11 and 5 columns). */
  static const struct {
    int64_t c, h, w, o;
    int32_t k, s, p, bias;
    int64_t nb;
  } convs[] = {
      {1, 12, 12, 6, 5, 1, 0, 1, 3}, {3, 7, 9, 4, 3, 1, 1, 1, 1},   {2, 9, 8, 5, 3, 2, 1, 0, 3},
      {4, 5, 6, 3, 1, 1, 0, 1, 3},   {3, 7, 7, 2, 1, 2, 0, 1, 2},   {2, 11, 10, 3, 5, 2, 2, 1, 2},
      {1, 10, 10, 2, 3, 3, 0, 1, 2}, {2, 3, 4, 2, 5, 1, 1, 1, 2},   {2, 3, 3, 3, 5, 1, 2, 0, 1},
      {4, 5, 6, 3, 1, 1, 0, 1, 1},   {2, 32, 32, 3, 3, 1, 1, 1, 5}, {3, 32, 32, 2, 1, 1, 0, 0, 5},
      {3, 6, 5, 4, 2, 2, 0, 1, 3},   {2, 8, 8, 3, 3, 1, 1, 1, 5},   {3, 10, 10, 2, 3, 1, 0, 1, 5},
      {2, 9, 9, 3, 3, 2, 1, 1, 13},  {1, 32, 32, 4, 5, 1, 0, 1, 2}, {2, 16, 16, 3, 3, 1, 2, 0, 2},
      {2, 1, 1, 2, 5, 1, 2, 1, 2}, /* kernel taps that see only padding */
      {1, 9, 11, 7, 3, 1, 1, 1, 3},  {2, 7, 6, 5, 2, 1, 0, 0, 2},
  };
  for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
    nadi_layer l = mk_conv(convs[i].c, convs[i].h, convs[i].w, convs[i].o, convs[i].k, convs[i].s,
                           convs[i].p, convs[i].bias);
    check_layer(&l, convs[i].nb, 0, X_UNIFORM);
  }
  /* many channels on a small plane: the group is limited by the workspace cap (15 = 14 + 1) */
  nadi_layer wide = mk_conv(512, 4, 4, 8, 3, 1, 1, 1);
  check_layer_fd(&wide, 15, 0, X_UNIFORM, 10);
  /* >= 32 output channels: wide groups (several images per GEMM), with a remainder group */
  nadi_layer many_out = mk_conv(3, 6, 7, 33, 3, 1, 1, 1);
  check_layer(&many_out, 7, 0, X_UNIFORM);
  nadi_layer many_out_s2 = mk_conv(2, 9, 9, 32, 3, 2, 1, 0);
  check_layer(&many_out_s2, 5, 0, X_UNIFORM);
  test_conv_small_batch_in_big_workspace();

  /* pooling: k2 s2 (unrolled path) even/odd, overlapping k3 s2, k3 s1, ResNet's k4 s4 */
  static const struct {
    int64_t c, h, w;
    int32_t k, s;
    int64_t nb;
  } pools[] = {{3, 8, 8, 2, 2, 3}, {2, 7, 9, 2, 2, 1}, {2, 9, 9, 3, 2, 3},
               {1, 5, 6, 3, 1, 2}, {3, 4, 4, 4, 4, 3}, {2, 6, 7, 2, 1, 2}};
  for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
    nadi_layer mp =
        mk_pool(NADI_MAXPOOL, pools[i].c, pools[i].h, pools[i].w, pools[i].k, pools[i].s);
    check_layer(&mp, pools[i].nb, 0, X_DISTINCT);
    nadi_layer ap =
        mk_pool(NADI_AVGPOOL, pools[i].c, pools[i].h, pools[i].w, pools[i].k, pools[i].s);
    check_layer(&ap, pools[i].nb, 0, X_UNIFORM);
  }
  test_maxpool_ties_nan(2, 2);
  test_maxpool_ties_nan(3, 2);
  test_maxpool_ties_nan(2, 1);

  nadi_layer relu = mk_simple(NADI_RELU, 3, 5, 7);
  check_layer(&relu, 3, 0, X_AWAY0);
  check_layer(&relu, 1, 0, X_AWAY0);
  test_relu_special();

  nadi_layer lin1 = mk_linear(3, 4, 5, 7, 1), lin2 = mk_linear(10, 1, 1, 1, 0),
             lin3 = mk_linear(13, 1, 1, 9, 1);
  check_layer(&lin1, 3, 0, X_UNIFORM);
  check_layer(&lin2, 1, 0, X_UNIFORM);
  check_layer(&lin3, 4, 0, X_UNIFORM);

  /* batchnorm: 2-D and vector (BatchNorm1d) inputs, both modes, non-default eps and momentum */
  nadi_layer bn2 = mk_bn(3, 5, 4, 1e-5, 0.1), bn1 = mk_bn(6, 1, 1, 1e-3, 0.3),
             bn3 = mk_bn(2, 3, 3, 1e-5, 0.1);
  for (int training = 0; training <= 1; training++) {
    check_layer(&bn2, 3, training, X_UNIFORM);
    check_layer(&bn1, 4, training, X_UNIFORM);
    check_layer(&bn3, 1, training, X_UNIFORM);
  }
  test_bn_running_stats(3, 5, 4, 3, 0.1);
  test_bn_running_stats(6, 1, 1, 4, 0.3);

  nadi_layer dro = mk_simple(NADI_DROPOUT, 3, 4, 5);
  check_layer(&dro, 2, 0, X_UNIFORM); /* eval mode: identity, gradient dy */
  test_dropout();

  nadi_layer add = mk_join(NADI_ADD, 3, 3, 4, 5), cat = mk_join(NADI_CONCAT, 2, 3, 3, 3),
             cat1 = mk_join(NADI_CONCAT, 4, 1, 2, 5);
  check_layer(&add, 3, 0, X_UNIFORM);
  check_layer(&cat, 2, 0, X_UNIFORM);
  check_layer(&cat1, 1, 0, X_UNIFORM);

  nadi_layer fl = mk_simple(NADI_FLATTEN, 3, 4, 5), gap = mk_simple(NADI_GAP, 4, 3, 5),
             gap1 = mk_simple(NADI_GAP, 2, 1, 1);
  check_layer(&fl, 2, 0, X_UNIFORM);
  check_layer(&gap, 3, 0, X_UNIFORM);
  check_layer(&gap1, 2, 0, X_UNIFORM);

  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
