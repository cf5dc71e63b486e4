/* Batch normalisation, PyTorch BatchNorm2d (and BatchNorm1d on (C,1,1) vectors).
 * Parameters: weight[C], bias[C], running_mean[C], running_var[C].
 *
 * Eval: running statistics. Training: batch statistics over (batch, H, W) per channel with the
 * biased variance for normalising; the running statistics move towards the batch mean and the
 * UNBIASED batch variance (running = (1 - momentum) * running + momentum * batch), in place.
 * Statistics take two passes (mean, then squared deviations), per plane in float partial sums
 * and across planes in double, and are applied as y = x * a + b with a = weight * invstd and
 * b = bias - mean * a, ATen's form.
 *
 * A node of fold.c's forward-only graphs may carry a fused ReLU (then_relu): y = relu(x * a + b)
 * in the same pass; such a node has no backward.
 *
 * State (floats): 2*C = batch mean[C] then batch invstd[C] of the last training forward, which the
 * training backward needs; eval mode ignores it. Running statistics get no gradient (their slice of
 * dparams is left untouched). */
#include <assert.h>
#include <math.h>
#include <stdio.h>

#include "kernels/kernels.h"

static size_t bn_state_size(const nadi_layer *l, int64_t batch) {
  (void)batch;
  return (size_t)(2 * l->in_shape[0][0]);
}

typedef struct bn_dims {
  int64_t b, c, hw, n; /* n = values per channel = b * hw */
} bn_dims;

static bn_dims bn_dimensions(const nadi_layer *l, int64_t batch) {
  bn_dims d;
  d.b = batch;
  d.c = l->in_shape[0][0];
  d.hw = l->in_shape[0][1] * l->in_shape[0][2];
  d.n = batch * d.hw;
  return d;
}

/* Pointer to channel c of sample i. */
static inline const float *chan(const float *t, const bn_dims *d, int64_t i, int64_t c) {
  return t + (i * d->c + c) * d->hw;
}

/* y = x * a + b */
static void plane_affine(const float *restrict x, float *restrict y, float a, float b, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      y[i + j] = x[i + j] * a + b;
  for (; i < n; i++)
    y[i] = x[i] * a + b;
}

/* y = relu(x * a + b): a BatchNorm with a ReLU fused after it (nadi_layer.then_relu) */
static void plane_affine_relu(const float *restrict x, float *restrict y, float a, float b,
                              int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      y[i + j] = nadi_relu(x[i + j] * a + b);
  for (; i < n; i++)
    y[i] = nadi_relu(x[i] * a + b);
}

static void plane_apply(const nadi_layer *l, const float *x, float *y, float a, float b,
                        int64_t n) {
  if (l->then_relu)
    plane_affine_relu(x, y, a, b, n);
  else
    plane_affine(x, y, a, b, n);
}

/* dx += a * dy - k * (x - m) - b */
static void plane_grad(const float *restrict dy, const float *restrict x, float *restrict dx,
                       float a, float k, float m, float b, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      dx[i + j] += a * dy[i + j] - k * (x[i + j] - m) - b;
  for (; i < n; i++)
    dx[i] += a * dy[i] - k * (x[i] - m) - b;
}

/* dx += a * dy */
static void plane_axpy(const float *restrict dy, float *restrict dx, float a, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      dx[i + j] += a * dy[i + j];
  for (; i < n; i++)
    dx[i] += a * dy[i];
}

/* The one definition of the eval-mode coefficients (kernels.h); the training branch of
 * bn_forward computes its own from the batch statistics, the same way. */
void nadi_bn_eval_affine(const nadi_layer *l, const float *params, int64_t C, int64_t c, float *a,
                         float *b) {
  double mean = params[2 * C + c], invstd = 1.0 / sqrt((double)params[3 * C + c] + l->eps);
  *a = (float)(params[c] * invstd);
  *b = (float)(params[C + c] - mean * *a);
}

/* Eval mode walks the tensor in memory order (sample by sample, a block of channels at a time,
 * the block's coefficients computed once): channel by channel across the batch jumps C·H·W
 * floats between planes, which on DenseNet's wide, small maps (1,024 channels of 8×8, 64
 * samples: 16 MB) cost twice the time of one streaming pass. */
#define BN_BLOCK 256
static void bn_eval_forward(const nadi_layer *l, const float *params, const float *x, float *y,
                            const bn_dims *d) {
  float a[BN_BLOCK], b[BN_BLOCK];
  for (int64_t c0 = 0; c0 < d->c; c0 += BN_BLOCK) {
    const int64_t nc = d->c - c0 < BN_BLOCK ? d->c - c0 : BN_BLOCK;
    for (int64_t c = 0; c < nc; c++)
      nadi_bn_eval_affine(l, params, d->c, c0 + c, &a[c], &b[c]);
    for (int64_t i = 0; i < d->b; i++)
      for (int64_t c = 0; c < nc; c++)
        plane_apply(l, chan(x, d, i, c0 + c), y + (i * d->c + c0 + c) * d->hw, a[c], b[c], d->hw);
  }
}

static void bn_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                       nadi_ctx *ctx) {
  bn_dims d = bn_dimensions(l, ctx->batch);
  const float *x = xs[0];
  if (!ctx->training) {
    bn_eval_forward(l, params, x, y, &d);
    return;
  }
  const float *weight = params, *bias = params + d.c;
  float *rmean = params + 2 * d.c, *rvar = params + 3 * d.c;
  for (int64_t c = 0; c < d.c; c++) {
    double s = 0.0, ss = 0.0;
    for (int64_t i = 0; i < d.b; i++)
      s += nadi_plane_sum(chan(x, &d, i, c), d.hw);
    double mean = s / (double)d.n;
    for (int64_t i = 0; i < d.b; i++)
      ss += nadi_plane_sqdev(chan(x, &d, i, c), (float)mean, d.hw);
    double var = ss / (double)d.n;
    double invstd = 1.0 / sqrt(var + l->eps);
    /* One value per channel has no unbiased variance (PyTorch refuses to train on it; the
     * façade rejects it); keep the running variance finite regardless. */
    double unbiased = d.n > 1 ? ss / (double)(d.n - 1) : var;
    rmean[c] = (float)((1.0 - l->momentum) * rmean[c] + l->momentum * mean);
    rvar[c] = (float)((1.0 - l->momentum) * rvar[c] + l->momentum * unbiased);
    ctx->state[c] = (float)mean;
    ctx->state[d.c + c] = (float)invstd;
    float a = (float)(weight[c] * invstd);
    float b = (float)(bias[c] - mean * a);
    for (int64_t i = 0; i < d.b; i++)
      plane_apply(l, chan(x, &d, i, c), y + (i * d.c + c) * d.hw, a, b, d.hw);
  }
}

static void bn_backward(const nadi_layer *l, const float *params, const float *const *xs,
                        const float *y, const float *dy, float *const *dxs, float *dparams,
                        nadi_ctx *ctx) {
  (void)y;
  assert(!l->then_relu); /* fused only in fold.c's forward-only graphs */
  float *dx = dxs ? dxs[0] : NULL;
  if (!dx && !dparams)
    return;
  bn_dims d = bn_dimensions(l, ctx->batch);
  const float *x = xs[0];
  const float *weight = params;
  for (int64_t c = 0; c < d.c; c++) {
    double mean, invstd;
    if (ctx->training) {
      mean = ctx->state[c];
      invstd = ctx->state[d.c + c];
    } else {
      mean = params[2 * d.c + c];
      invstd = 1.0 / sqrt((double)params[3 * d.c + c] + l->eps);
    }
    /* sum(dy) and sum(dy * xhat), xhat = (x - mean) * invstd */
    double sdy = 0.0, sdyx = 0.0;
    for (int64_t i = 0; i < d.b; i++) {
      sdy += nadi_plane_sum(chan(dy, &d, i, c), d.hw);
      sdyx += nadi_plane_dotdev(chan(dy, &d, i, c), chan(x, &d, i, c), (float)mean, d.hw);
    }
    sdyx *= invstd;
    if (dparams) {
      dparams[c] += (float)sdyx;
      dparams[d.c + c] += (float)sdy;
    }
    if (!dx)
      continue;
    double g = weight[c] * invstd;
    if (!ctx->training) { /* the affine map: dx = w invstd dy */
      for (int64_t i = 0; i < d.b; i++)
        plane_axpy(chan(dy, &d, i, c), dx + (i * d.c + c) * d.hw, (float)g, d.hw);
      continue;
    }
    /* dx = w invstd (dy - mean(dy) - xhat mean(dy xhat)) */
    float fk = (float)(g * sdyx / (double)d.n * invstd), fb = (float)(g * sdy / (double)d.n);
    for (int64_t i = 0; i < d.b; i++)
      plane_grad(chan(dy, &d, i, c), chan(x, &d, i, c), dx + (i * d.c + c) * d.hw, (float)g, fk,
                 (float)mean, fb, d.hw);
  }
}

static const nadi_layer_ops batchnorm_ops = {
    .name = "batchnorm",
    .workspace = NULL,
    .state_size = bn_state_size,
    .forward = bn_forward,
    .backward = bn_backward,
};

/* ---- description: channels = the (C, H, W) view's C, i.e. axis 1 of any (1, C, ...): (1, C)
 * and (1, C, L) are BatchNorm1d's inputs, (1, C, H, W) BatchNorm2d's, (1, C, D, H, W) 3d's ---- */

static nad_status bn_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *s = &l->in_dims[0];
  NADI_CHECK(s->rank >= 2 && s->d[0] == 1, NAD_ERR_SHAPE,
             "layer %lld (batchnorm): input must be (1, C, ...) with the channels on axis 1 (got "
             "rank %lld, first axis %lld)",
             (long long)index, (long long)s->rank, (long long)s->d[0]);
  NADI_CHECK(l->eps > 0.0 && l->eps < 1e30, NAD_ERR_INVALID_ARG,
             "layer %lld (batchnorm): eps %g must be positive and finite", (long long)index,
             l->eps);
  l->out_c = l->in_shape[0][0];
  snprintf(l->desc, sizeof l->desc, "batchnorm %lld", (long long)l->out_c);
  l->out_dims = l->in_dims[0];
  return NAD_OK;
}

static int bn_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  static const char *const names[4] = {"weight", "bias", "running_mean", "running_var"};
  for (int i = 0; i < 4; i++)
    t[i] = (nadi_tensor_desc){names[i], l->out_c, i < 2};
  return 4;
}

static int64_t bn_flops(const nadi_layer *l) { /* y = a*x + b with folded scale and shift */
  int64_t f;
  return nadi_mul_ok(nadi_dims_numel(&l->out_dims), 2, &f) ? f : -1;
}

/* weight 1, bias 0, running_mean 0, running_var 1 */
static void bn_init(const nadi_layer *l, float *p, nadi_rng *rng) {
  (void)rng;
  int64_t c = l->out_c;
  nadi_init_fill(p, c, 1.0f);
  nadi_init_fill(p + c, 2 * c, 0.0f);
  nadi_init_fill(p + 3 * c, c, 1.0f);
}

const nadi_kind_desc nadi_kind_batchnorm = {
    .ops = &batchnorm_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = bn_shape,
    .tensors = bn_tensors,
    .flops = bn_flops,
    .init = bn_init,
    .delta = NADI_DELTA_POINTWISE,
    .fold = NADI_FOLD_AFFINE,
};
