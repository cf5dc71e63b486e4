/* Batch normalisation, PyTorch BatchNorm2d (and BatchNorm1d on (C,1,1) vectors).
 * Parameters: weight[C], bias[C], running_mean[C], running_var[C].
 *
 * Eval: running statistics. Training: batch statistics over (batch, H, W) per channel with the
 * biased variance for normalising; the running statistics move towards the batch mean and the
 * UNBIASED batch variance (running = (1 - momentum) * running + momentum * batch), in place.
 * Statistics are accumulated in double (two passes), then applied as y = x * a + b with
 * a = weight * invstd and b = bias - mean * a, ATen's form.
 *
 * State (floats): 2*C = batch mean[C] then batch invstd[C] of the last training forward, which the
 * training backward needs; eval mode ignores it. Running statistics get no gradient (their slice of
 * dparams is left untouched). */
#include <math.h>

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

static void bn_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                       nadi_ctx *ctx) {
  bn_dims d = bn_dimensions(l, ctx->batch);
  const float *x = xs[0];
  const float *weight = params, *bias = params + d.c;
  float *rmean = params + 2 * d.c, *rvar = params + 3 * d.c;
  for (int64_t c = 0; c < d.c; c++) {
    double mean, invstd;
    if (ctx->training) {
      double s = 0.0, ss = 0.0;
      for (int64_t i = 0; i < d.b; i++) {
        const float *xc = chan(x, &d, i, c);
        for (int64_t q = 0; q < d.hw; q++)
          s += xc[q];
      }
      mean = s / (double)d.n;
      for (int64_t i = 0; i < d.b; i++) {
        const float *xc = chan(x, &d, i, c);
        for (int64_t q = 0; q < d.hw; q++) {
          double t = xc[q] - mean;
          ss += t * t;
        }
      }
      double var = ss / (double)d.n;
      invstd = 1.0 / sqrt(var + l->eps);
      /* One value per channel has no unbiased variance (PyTorch refuses to train on it; the
       * façade rejects it); keep the running variance finite regardless. */
      double unbiased = d.n > 1 ? ss / (double)(d.n - 1) : var;
      rmean[c] = (float)((1.0 - l->momentum) * rmean[c] + l->momentum * mean);
      rvar[c] = (float)((1.0 - l->momentum) * rvar[c] + l->momentum * unbiased);
      ctx->state[c] = (float)mean;
      ctx->state[d.c + c] = (float)invstd;
    } else {
      mean = rmean[c];
      invstd = 1.0 / sqrt((double)rvar[c] + l->eps);
    }
    float a = (float)(weight[c] * invstd);
    float b = (float)(bias[c] - mean * a);
    for (int64_t i = 0; i < d.b; i++) {
      const float *xc = chan(x, &d, i, c);
      float *yc = y + (i * d.c + c) * d.hw;
      for (int64_t q = 0; q < d.hw; q++)
        yc[q] = xc[q] * a + b;
    }
  }
}

static void bn_backward(const nadi_layer *l, const float *params, const float *const *xs,
                        const float *y, const float *dy, float *const *dxs, float *dparams,
                        nadi_ctx *ctx) {
  (void)y;
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
      const float *xc = chan(x, &d, i, c), *dyc = chan(dy, &d, i, c);
      for (int64_t q = 0; q < d.hw; q++) {
        sdy += dyc[q];
        sdyx += dyc[q] * (xc[q] - mean);
      }
    }
    sdyx *= invstd;
    if (dparams) {
      dparams[c] += (float)sdyx;
      dparams[d.c + c] += (float)sdy;
    }
    if (!dx)
      continue;
    float *dxc0 = dx;
    double g = weight[c] * invstd;
    if (ctx->training) {
      /* dx = w invstd (dy - mean(dy) - xhat mean(dy xhat)) */
      double mdy = sdy / (double)d.n, k = sdyx / (double)d.n * invstd;
      float fa = (float)g, fk = (float)(g * k), fb = (float)(g * mdy), fm = (float)mean;
      for (int64_t i = 0; i < d.b; i++) {
        const float *xc = chan(x, &d, i, c), *dyc = chan(dy, &d, i, c);
        float *dxc = dxc0 + (i * d.c + c) * d.hw;
        for (int64_t q = 0; q < d.hw; q++)
          dxc[q] += fa * dyc[q] - fk * (xc[q] - fm) - fb;
      }
    } else {
      float fa = (float)g;
      for (int64_t i = 0; i < d.b; i++) {
        const float *dyc = chan(dy, &d, i, c);
        float *dxc = dxc0 + (i * d.c + c) * d.hw;
        for (int64_t q = 0; q < d.hw; q++)
          dxc[q] += fa * dyc[q];
      }
    }
  }
}

const nadi_layer_ops nadi_batchnorm_ops = {
    .name = "batchnorm",
    .workspace = NULL,
    .state_size = bn_state_size,
    .forward = bn_forward,
    .backward = bn_backward,
};
