/* Unary elementwise kinds, PyTorch semantics: clip (ReLU6), hardsigmoid, hardswish, sigmoid,
 * tanh, silu, gelu (erf and tanh forms), erf, sqrt, reciprocal, neg, exp. Parameter-free and
 * elementwise on any flat array, so each is NADI_DELTA_POINTWISE (the delta forward runs the
 * forward below on a patch's values). NaN propagates through every forward.
 *
 * Backward uses what is cheapest: the output alone where the derivative is a function of it
 * (sigmoid y(1-y), tanh 1-y^2, exp y, sqrt 1/(2y), reciprocal -y^2), else the input. At the
 * kinks the gradient is PyTorch's: clip passes it on lo <= x <= hi (torch.clamp, which ONNX Clip
 * is), hardsigmoid only strictly inside its ramp, hardswish takes x/3 + 1/2 on -3 <= x <= 3.
 *
 * Every loop but those of erf, exp and sqrt is one that GCC vectorises: the piecewise-linear
 * kinds as selects and bit masks (see relu in activation.c for why a branch is 10x slower),
 * sigmoid, silu, tanh and gelu's tanh form through nadi_exp_neg, an inlinable exp, and gelu's
 * erf form through nadi_phi (kernels/vmath.h; libm's expf, tanhf and erfcf are a call per
 * element; measured here, best of 30 runs over 2^20 values on one core: sigmoid and silu 2.6 ->
 * 1.8 ns per element, tanh 36 -> 2.3, gelu's tanh form 27 -> 3.0; gelu's erf form 16 -> 4.8 with
 * SSE2 on a loaded machine, and the transcendental loops have AVX2 and AVX-512F copies:
 * NADI_CLONES). Sigmoid never overflows: with e = exp(-|x|) <= 1 it is 1/(1+e) for x >= 0 and
 * e/(1+e) below, so that sigmoid(-100) is 3.8e-44 (exact: 3.7e-44), not 1 - 1 = 0. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/vmath.h"

#define FLT_MAX_D ((double)FLT_MAX) /* hyper-parameters are converted to float */

static int64_t numel(const nadi_layer *l, int64_t batch) {
  return batch * l->out_shape[0] * l->out_shape[1] * l->out_shape[2];
}

/* v with all bits cleared unless keep (keep is 0 or 1) */
static inline float keep_if(float v, int keep) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  u &= -(uint32_t)keep;
  memcpy(&v, &u, sizeof v);
  return v;
}

/* ---- the functions and their derivatives ---------------------------------------------------- */

static inline float clamp(float x, float lo, float hi) { /* keeps NaN */
  float v = x < lo ? lo : x;
  return v > hi ? hi : v;
}

static inline float sigmoid(float x) {
  float e = nadi_exp_neg(-fabsf(x)), r = 1.0f / (1.0f + e);
  return nadi_select_f(x >= 0.0f, r, e * r);
}

/* tanh: Cephes' odd polynomial below |x| = 0.625 (no cancellation near 0), else
 * 1 - 2 / (exp(2|x|) + 1) = (1 - e) / (1 + e) with e = exp(-2|x|), the sign restored. */
static inline float tanh_f(float x) {
  float a = fabsf(x), s = x * x;
  float small = ((((-5.70498872745e-3f * s + 2.06390887954e-2f) * s - 5.37397155531e-2f) * s +
                  1.33314422036e-1f) * s - 3.33332819422e-1f) * s * x + x;
  float e = nadi_exp_neg(-2.0f * a);
  float big = copysignf((1.0f - e) / (1.0f + e), x);
  return nadi_select_f(a < 0.625f, small, big);
}

#define GELU_K_BETA 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_K_KAPPA 0.044715f

static inline float gelu_tanh(float x) {
  float inner = GELU_K_BETA * (x + GELU_K_KAPPA * x * x * x);
  return 0.5f * x * (1.0f + tanh_f(inner));
}

static inline float gelu_tanh_grad(float x) { /* ATen's GeluBackward, tanh form */
  float x2 = x * x, t = tanh_f(GELU_K_BETA * (x + GELU_K_KAPPA * x2 * x));
  float left = 0.5f * x, right = 1.0f + t;
  return 0.5f * right + left * (1.0f - t * t) * GELU_K_BETA * (1.0f + 3.0f * GELU_K_KAPPA * x2);
}

/* x * Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2 (vmath.h: no cancellation for x << 0) */
static inline float gelu_erf(float x) { return x * nadi_phi(x); }

static inline float gelu_erf_grad(float x) { /* Phi(x) + x phi(x) */
  const float inv_sqrt_2pi = 0.3989422804014327f;
  return nadi_phi(x) + x * inv_sqrt_2pi * nadi_exp_neg(-0.5f * x * x);
}

/* ---- forward loops ((restrict only reliably reaches the vectorizer through parameters) ------ */

static void clip_fwd(const float *restrict x, float *restrict y, int64_t n, float lo, float hi) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      y[i + j] = clamp(x[i + j], lo, hi);
  for (; i < n; i++)
    y[i] = clamp(x[i], lo, hi);
}

static void hardsigmoid_fwd(const float *restrict x, float *restrict y, int64_t n, float a,
                            float b) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      y[i + j] = clamp(a * x[i + j] + b, 0.0f, 1.0f);
  for (; i < n; i++)
    y[i] = clamp(a * x[i] + b, 0.0f, 1.0f);
}

static void hardswish_fwd(const float *restrict x, float *restrict y, int64_t n) {
  int64_t i = 0; /* x * relu6(x + 3) / 6, PyTorch's order of operations */
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      y[i + j] = x[i + j] * clamp(x[i + j] + 3.0f, 0.0f, 6.0f) / 6.0f;
  for (; i < n; i++)
    y[i] = x[i] * clamp(x[i] + 3.0f, 0.0f, 6.0f) / 6.0f;
}

static void neg_fwd(const float *restrict x, float *restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    y[i] = -x[i];
}

static void reciprocal_fwd(const float *restrict x, float *restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    y[i] = 1.0f / x[i];
}

static void sqrt_fwd(const float *restrict x, float *restrict y, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    y[i] = sqrtf(x[i]);
}

/* The transcendental kinds: vmath.h's functions (NADI_CLONES: AVX-512F, AVX2 and SSE2 copies),
 * libm for erf and exp. */
NADI_CLONES static void libm_fwd(nadi_kind kind, int64_t approx, const float *restrict x,
                                 float *restrict y, int64_t n) {
  switch (kind) {
  case NADI_SIGMOID:
    for (int64_t i = 0; i < n; i++)
      y[i] = sigmoid(x[i]);
    break;
  case NADI_TANH:
    for (int64_t i = 0; i < n; i++)
      y[i] = tanh_f(x[i]);
    break;
  case NADI_SILU:
    for (int64_t i = 0; i < n; i++)
      y[i] = x[i] * sigmoid(x[i]);
    break;
  case NADI_GELU:
    if (approx)
      for (int64_t i = 0; i < n; i++)
        y[i] = gelu_tanh(x[i]);
    else
      for (int64_t i = 0; i < n; i++)
        y[i] = gelu_erf(x[i]);
    break;
  case NADI_ERF:
    for (int64_t i = 0; i < n; i++)
      y[i] = erff(x[i]);
    break;
  default: /* NADI_EXP */
    for (int64_t i = 0; i < n; i++)
      y[i] = expf(x[i]);
    break;
  }
}

static void unary_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                          nadi_ctx *ctx) {
  (void)params;
  int64_t n = numel(l, ctx->batch);
  const float *x = xs[0];
  switch (l->kind) {
  case NADI_CLIP:
    clip_fwd(x, y, n, (float)l->act_lo, (float)l->act_hi);
    break;
  case NADI_HARDSIGMOID:
    hardsigmoid_fwd(x, y, n, (float)l->act_alpha, (float)l->act_beta);
    break;
  case NADI_HARDSWISH:
    hardswish_fwd(x, y, n);
    break;
  case NADI_NEG:
    neg_fwd(x, y, n);
    break;
  case NADI_RECIPROCAL:
    reciprocal_fwd(x, y, n);
    break;
  case NADI_SQRT:
    sqrt_fwd(x, y, n);
    break;
  default:
    libm_fwd(l->kind, l->act_approx, x, y, n);
    break;
  }
}

/* ---- backward loops: dx += f'(x) dy ----------------------------------------------------------- */

static void clip_bwd(const float *restrict x, const float *restrict dy, float *restrict dx,
                     int64_t n, float lo, float hi) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      dx[i + j] += keep_if(dy[i + j], (x[i + j] >= lo) & (x[i + j] <= hi));
  for (; i < n; i++)
    dx[i] += keep_if(dy[i], (x[i] >= lo) & (x[i] <= hi));
}

static void hardsigmoid_bwd(const float *restrict x, const float *restrict dy, float *restrict dx,
                            int64_t n, float a, float b) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) {
      float t = a * x[i + j] + b;
      dx[i + j] += keep_if(a * dy[i + j], (t > 0.0f) & (t < 1.0f));
    }
  for (; i < n; i++) {
    float t = a * x[i] + b;
    dx[i] += keep_if(a * dy[i], (t > 0.0f) & (t < 1.0f));
  }
}

static inline float hardswish_grad(float x) {
  float g = x < -3.0f ? 0.0f : x / 3.0f + 0.5f;
  return x > 3.0f ? 1.0f : g;
}

static void hardswish_bwd(const float *restrict x, const float *restrict dy, float *restrict dx,
                          int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      dx[i + j] += hardswish_grad(x[i + j]) * dy[i + j];
  for (; i < n; i++)
    dx[i] += hardswish_grad(x[i]) * dy[i];
}

/* Kinds whose derivative is a function of the output y. */
static void from_y_bwd(nadi_kind kind, const float *restrict y, const float *restrict dy,
                       float *restrict dx, int64_t n) {
  switch (kind) {
  case NADI_SIGMOID:
    for (int64_t i = 0; i < n; i++)
      dx[i] += dy[i] * y[i] * (1.0f - y[i]);
    break;
  case NADI_TANH:
    for (int64_t i = 0; i < n; i++)
      dx[i] += dy[i] * (1.0f - y[i] * y[i]);
    break;
  case NADI_SQRT:
    for (int64_t i = 0; i < n; i++)
      dx[i] += dy[i] / (2.0f * y[i]);
    break;
  case NADI_RECIPROCAL:
    for (int64_t i = 0; i < n; i++)
      dx[i] -= dy[i] * y[i] * y[i];
    break;
  case NADI_NEG:
    for (int64_t i = 0; i < n; i++)
      dx[i] -= dy[i];
    break;
  default: /* NADI_EXP */
    for (int64_t i = 0; i < n; i++)
      dx[i] += dy[i] * y[i];
    break;
  }
}

/* Kinds whose derivative needs the input x (libm ones). */
static void from_x_bwd(nadi_kind kind, int64_t approx, const float *restrict x,
                       const float *restrict dy, float *restrict dx, int64_t n) {
  switch (kind) {
  case NADI_SILU:
    for (int64_t i = 0; i < n; i++) {
      float s = sigmoid(x[i]);
      dx[i] += dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
    break;
  case NADI_GELU:
    if (approx)
      for (int64_t i = 0; i < n; i++)
        dx[i] += dy[i] * gelu_tanh_grad(x[i]);
    else
      for (int64_t i = 0; i < n; i++)
        dx[i] += dy[i] * gelu_erf_grad(x[i]);
    break;
  default: /* NADI_ERF: 2/sqrt(pi) exp(-x^2) */
    for (int64_t i = 0; i < n; i++)
      dx[i] += dy[i] * (float)M_2_SQRTPI * nadi_exp_neg(-x[i] * x[i]);
    break;
  }
}

static void unary_backward(const nadi_layer *l, const float *params, const float *const *xs,
                           const float *y, const float *dy, float *const *dxs, float *dparams,
                           nadi_ctx *ctx) {
  (void)params, (void)dparams;
  if (!dxs || !dxs[0])
    return;
  int64_t n = numel(l, ctx->batch);
  const float *x = xs[0];
  float *dx = dxs[0];
  switch (l->kind) {
  case NADI_CLIP:
    clip_bwd(x, dy, dx, n, (float)l->act_lo, (float)l->act_hi);
    break;
  case NADI_HARDSIGMOID:
    hardsigmoid_bwd(x, dy, dx, n, (float)l->act_alpha, (float)l->act_beta);
    break;
  case NADI_HARDSWISH:
    hardswish_bwd(x, dy, dx, n);
    break;
  case NADI_SILU:
  case NADI_GELU:
  case NADI_ERF:
    from_x_bwd(l->kind, l->act_approx, x, dy, dx, n);
    break;
  default:
    from_y_bwd(l->kind, y, dy, dx, n);
    break;
  }
}

/* ---- descriptions -------------------------------------------------------------------------- */

static nad_status clip_shape(nadi_layer *l, int64_t index) {
  NADI_CHECK(!isnan(l->act_lo) && !isnan(l->act_hi) && l->act_lo <= l->act_hi,
             NAD_ERR_INVALID_ARG, "layer %lld (clip): bounds [%g, %g] must satisfy lo <= hi",
             (long long)index, l->act_lo, l->act_hi);
  NADI_CHECK(fabs(l->act_lo) <= FLT_MAX_D || isinf(l->act_lo), NAD_ERR_INVALID_ARG,
             "layer %lld (clip): lower bound %g is beyond float range", (long long)index,
             l->act_lo);
  NADI_CHECK(fabs(l->act_hi) <= FLT_MAX_D || isinf(l->act_hi), NAD_ERR_INVALID_ARG,
             "layer %lld (clip): upper bound %g is beyond float range", (long long)index,
             l->act_hi);
  snprintf(l->desc, sizeof l->desc, "clip %g..%g", l->act_lo, l->act_hi);
  l->out_dims = l->in_dims[0];
  return NAD_OK;
}

static nad_status hardsigmoid_shape(nadi_layer *l, int64_t index) {
  NADI_CHECK(isfinite(l->act_alpha) && isfinite(l->act_beta) && fabs(l->act_alpha) <= FLT_MAX_D &&
                 fabs(l->act_beta) <= FLT_MAX_D,
             NAD_ERR_INVALID_ARG,
             "layer %lld (hardsigmoid): alpha %g and beta %g must be finite floats",
             (long long)index, l->act_alpha, l->act_beta);
  snprintf(l->desc, sizeof l->desc, "hardsigmoid %g %g", l->act_alpha, l->act_beta);
  l->out_dims = l->in_dims[0];
  return NAD_OK;
}

static nad_status gelu_shape(nadi_layer *l, int64_t index) {
  NADI_CHECK(l->act_approx == 0 || l->act_approx == 1, NAD_ERR_INVALID_ARG,
             "layer %lld (gelu): approximation %lld is neither 0 (erf) nor 1 (tanh)",
             (long long)index, (long long)l->act_approx);
  snprintf(l->desc, sizeof l->desc, "gelu%s", l->act_approx ? " tanh" : "");
  l->out_dims = l->in_dims[0];
  return NAD_OK;
}

/* FLOPs per element (kinds.c): the operations of the formula, a libm call counting 1. */
static int64_t unary_flops(const nadi_layer *l) {
  int64_t per, f, n = nadi_dims_numel(&l->out_dims);
  switch (l->kind) {
  case NADI_CLIP:
    per = 2; /* two comparisons */
    break;
  case NADI_HARDSIGMOID:
    per = 4; /* multiply, add, two comparisons */
    break;
  case NADI_HARDSWISH: /* add, two comparisons, multiply, divide */
    per = 5;
    break;
  case NADI_SIGMOID: /* exp, add, divide, select */
    per = 4;
    break;
  case NADI_SILU:
    per = 5;
    break;
  case NADI_GELU: /* erf form: scale, erfc, 2 multiplies; tanh form: 5 + tanh + 3 */
    per = l->act_approx ? 9 : 4;
    break;
  default: /* tanh, erf, sqrt, reciprocal, neg, exp */
    per = 1;
    break;
  }
  return n >= 0 && nadi_mul_ok(n, per, &f) ? f : -1;
}

static const nadi_layer_ops unary_ops[] = {
#define UNARY_OPS(nm) {.name = nm, .forward = unary_forward, .backward = unary_backward}
    UNARY_OPS("clip"), UNARY_OPS("hardsigmoid"), UNARY_OPS("hardswish"), UNARY_OPS("sigmoid"),
    UNARY_OPS("tanh"), UNARY_OPS("silu"),        UNARY_OPS("gelu"),      UNARY_OPS("erf"),
    UNARY_OPS("sqrt"), UNARY_OPS("reciprocal"),  UNARY_OPS("neg"),       UNARY_OPS("exp"),
#undef UNARY_OPS
};

#define UNARY_DESC(var, i, shp)                                                                \
  const nadi_kind_desc var = {.ops = &unary_ops[i],                                            \
                              .n_in_min = 1,                                                   \
                              .n_in_max = 1,                                                   \
                              .shape = shp,                                                    \
                              .flops = unary_flops,                                            \
                              .delta = NADI_DELTA_POINTWISE,                                   \
                              .slice = nadi_kind_slice_pointwise}
UNARY_DESC(nadi_kind_clip, 0, clip_shape);
UNARY_DESC(nadi_kind_hardsigmoid, 1, hardsigmoid_shape);
UNARY_DESC(nadi_kind_hardswish, 2, nadi_kind_same_shape);
UNARY_DESC(nadi_kind_sigmoid, 3, nadi_kind_same_shape);
UNARY_DESC(nadi_kind_tanh, 4, nadi_kind_same_shape);
UNARY_DESC(nadi_kind_silu, 5, nadi_kind_same_shape);
UNARY_DESC(nadi_kind_gelu, 6, gelu_shape);
UNARY_DESC(nadi_kind_erf, 7, nadi_kind_same_shape);
UNARY_DESC(nadi_kind_sqrt, 8, nadi_kind_same_shape);
UNARY_DESC(nadi_kind_reciprocal, 9, nadi_kind_same_shape);
UNARY_DESC(nadi_kind_neg, 10, nadi_kind_same_shape);
UNARY_DESC(nadi_kind_exp, 11, nadi_kind_same_shape);
