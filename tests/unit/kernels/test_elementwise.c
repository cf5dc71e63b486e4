/* Edge cases of the elementwise and normalisation kinds (lib/kernels/unary.c, arith.c, norm.c)
 * that the PyTorch comparison (torch_nodes.py) cannot reach: both inputs of arith being the
 * same buffer (x * x), backward accumulating onto what the gradient buffers already hold,
 * infinite inputs, FLOP counts, and axes stored in one normalised form. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"
#include "../check.h"

/* A layer of `kind` on inputs of the given dims, shaped by its description. */
static nad_status make(nadi_layer *l, nadi_kind kind, const nadi_hparams *hp, int n_in,
                       const nadi_dims *in) {
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->hp = *hp;
  l->n_in = n_in;
  for (int j = 0; j < n_in; j++) {
    l->in_dims[j] = in[j];
    nadi_dims_view3(&in[j], l->in_shape[j]);
  }
  nad_status st = nadi_kind_of(kind)->shape(l, 0);
  nadi_dims_view3(&l->out_dims, l->out_shape);
  return st;
}

static nadi_hparams defaults(void) {
  nadi_hparams hp;
  memset(&hp, 0, sizeof hp);
  hp.eps = 1e-5;
  return hp;
}

static void test_arith_aliased(void) {
  nadi_hparams hp = defaults();
  hp.arith_op = NADI_ARITH_MUL;
  nadi_dims d[2] = {{3, {1, 3, 4}}, {3, {1, 3, 4}}};
  nadi_layer l;
  EXPECT(make(&l, NADI_ARITH, &hp, 2, d) == NAD_OK);
  float x[2 * 12], y[2 * 12], dy[2 * 12], dx[2 * 12], ws[16];
  for (int i = 0; i < 24; i++)
    x[i] = 0.25f * (float)(i - 11), dy[i] = 1.0f + 0.5f * (float)(i % 5), dx[i] = 1.0f;
  nadi_ctx ctx = {.batch = 2, .ws = ws};
  const float *xs[2] = {x, x};
  float *dxs[2] = {dx, dx}; /* y = x * x: both inputs are the same node */
  nadi_ops(NADI_ARITH)->forward(&l, NULL, xs, y, &ctx);
  nadi_ops(NADI_ARITH)->backward(&l, NULL, xs, y, dy, dxs, NULL, &ctx);
  int ok = 1;
  for (int i = 0; i < 24; i++)
    ok &= y[i] == x[i] * x[i] && fabsf(dx[i] - (1.0f + 2.0f * x[i] * dy[i])) < 1e-6f;
  CHECK(ok, "arith x*x: y = x^2 and dx = 1 + 2 x dy (accumulated, both operands)");
}

static void test_accumulates(void) {
  /* layer scale: (3,1,1) * (1,3,2,2); dparams and dx start at 1 and are added to */
  nadi_hparams hp = defaults();
  hp.arith_op = NADI_ARITH_MUL, hp.arith_side = 1, hp.arith_prank = 3;
  hp.arith_pshape[0] = 3, hp.arith_pshape[1] = hp.arith_pshape[2] = 1;
  hp.arith_pshape[4] = 77; /* beyond the rank: zeroed by shape() */
  nadi_dims d = {4, {1, 3, 2, 2}};
  nadi_layer l;
  EXPECT(make(&l, NADI_ARITH_PARAM, &hp, 1, &d) == NAD_OK);
  EXPECT(l.arith_pshape[4] == 0);
  float x[12], y[12], dy[12], dx[12], p[3] = {2, 3, 4}, dp[3] = {1, 1, 1}, ws[8];
  for (int i = 0; i < 12; i++)
    x[i] = (float)i, dy[i] = 1.0f, dx[i] = 1.0f;
  nadi_ctx ctx = {.batch = 1, .ws = ws};
  const float *xs[1] = {x};
  float *dxs[1] = {dx};
  nadi_ops(NADI_ARITH_PARAM)->forward(&l, p, xs, y, &ctx);
  nadi_ops(NADI_ARITH_PARAM)->backward(&l, p, xs, y, dy, dxs, dp, &ctx);
  CHECK(y[5] == 15.0f && dx[5] == 4.0f, "layer scale: y %g dx %g", y[5], dx[5]);
  /* dP[c] = 1 + sum of the channel's x: 1 + (0+1+2+3), 1 + (4+..+7), 1 + (8+..+11) */
  CHECK(dp[0] == 7.0f && dp[1] == 23.0f && dp[2] == 39.0f, "layer scale dP %g %g %g", dp[0],
        dp[1], dp[2]);
}

static void test_infinities(void) {
  nadi_hparams hp = defaults();
  nadi_dims d = {2, {1, 6}};
  float x[6] = {-INFINITY, -FLT_MAX, -100.0f, 100.0f, FLT_MAX, INFINITY}, y[6];
  const float *xs[1] = {x};
  nadi_ctx ctx = {.batch = 1};
  nadi_layer l;
  EXPECT(make(&l, NADI_SIGMOID, &hp, 1, &d) == NAD_OK);
  nadi_ops(NADI_SIGMOID)->forward(&l, NULL, xs, y, &ctx);
  CHECK(y[0] == 0.0f && y[1] == 0.0f && y[2] > 0.0f && y[2] < 1e-43f && y[3] == 1.0f &&
            y[4] == 1.0f && y[5] == 1.0f,
        "sigmoid at +-inf, +-FLT_MAX, +-100: %g %g %g %g %g %g", y[0], y[1], y[2], y[3], y[4],
        y[5]);
  EXPECT(make(&l, NADI_SILU, &hp, 1, &d) == NAD_OK);
  nadi_ops(NADI_SILU)->forward(&l, NULL, xs, y, &ctx);
  CHECK(y[1] == 0.0f && y[4] == FLT_MAX && y[5] == INFINITY, "silu at -FLT_MAX, FLT_MAX, inf");
  hp.act_lo = -INFINITY, hp.act_hi = 1.0;
  EXPECT(make(&l, NADI_CLIP, &hp, 1, &d) == NAD_OK);
  nadi_ops(NADI_CLIP)->forward(&l, NULL, xs, y, &ctx);
  CHECK(y[0] == -INFINITY && y[3] == 1.0f && y[5] == 1.0f, "clip -inf..1");
  /* softmax of logits whose exp would overflow: the max is subtracted first */
  nadi_dims r = {2, {2, 3}};
  float z[6] = {1e30f, -1e30f, 0.0f, 88.0f, 89.0f, 90.0f}, s[6];
  hp = defaults();
  hp.norm_axis = -1;
  EXPECT(make(&l, NADI_SOFTMAX, &hp, 1, &r) == NAD_OK);
  const float *zs[1] = {z};
  nadi_ops(NADI_SOFTMAX)->forward(&l, NULL, zs, s, &ctx);
  CHECK(s[0] == 1.0f && s[1] == 0.0f && s[2] == 0.0f && fabsf(s[3] + s[4] + s[5] - 1.0f) < 1e-6f,
        "softmax of huge logits: %g %g %g / %g %g %g", s[0], s[1], s[2], s[3], s[4], s[5]);
}

static void test_flops_and_axes(void) {
  nadi_hparams hp = defaults();
  nadi_dims d = {4, {1, 4, 5, 6}}; /* 120 elements */
  nadi_layer l;
  static const struct {
    nadi_kind kind;
    int64_t approx, flops;
  } want[] = {{NADI_SILU, 0, 600},      {NADI_GELU, 0, 480}, {NADI_GELU, 1, 1080},
              {NADI_TANH, 0, 120},      {NADI_CLIP, 0, 240}, {NADI_HARDSWISH, 0, 600},
              {NADI_LAYERNORM, 0, 960}, {NADI_SOFTMAX, 0, 600}};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    hp.act_approx = want[i].approx;
    hp.norm_axis = -1;
    EXPECT(make(&l, want[i].kind, &hp, 1, &d) == NAD_OK);
    int64_t f = nadi_kind_of(want[i].kind)->flops(&l);
    CHECK(f == want[i].flops, "%s: %lld FLOPs, expected %lld", l.desc, (long long)f,
          (long long)want[i].flops);
  }
  hp.red_axes = 12, hp.red_keepdims = 0; /* GAP: 120 additions, output (1, 4) */
  EXPECT(make(&l, NADI_REDUCEMEAN, &hp, 1, &d) == NAD_OK);
  CHECK(nadi_kind_of(NADI_REDUCEMEAN)->flops(&l) == 120 && l.out_dims.rank == 2 &&
            l.out_dims.d[1] == 4,
        "reducemean GAP: flops and shape");
  hp.norm_axis = -1; /* stored as 3, so that -1 and 3 are one function for the fingerprint */
  EXPECT(make(&l, NADI_LAYERNORM, &hp, 1, &d) == NAD_OK && l.norm_axis == 3);
}

int main(void) {
  test_arith_aliased();
  test_accumulates();
  test_infinities();
  test_flops_and_axes();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
