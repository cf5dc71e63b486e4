/* Test helper for torch_layers.py: runs one layer kernel on data piped in, so that PyTorch can
 * check the kernels on identical inputs and weights.
 *
 * stdin: one text line "kind B C H W C1 O k s p bias eps momentum training", then float32
 *        arrays: x0 (B*C*H*W), x1 (B*C1*H*W, two-input kinds only), params (n_params), dy.
 * stdout: float32 arrays: y, dx0, dx1 (two-input kinds only), dparams, params after forward
 *        (batchnorm's running statistics are updated in training mode).
 * Shapes follow PyTorch: conv (H + 2p - k)/s + 1, pooling (H - k)/s + 1 (floor). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/window.h"

static float *read_floats(int64_t n) {
  float *p = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
  if (!p || fread(p, sizeof(float), (size_t)n, stdin) != (size_t)n) {
    fprintf(stderr, "layer_apply: short input (%lld floats expected)\n", (long long)n);
    exit(2);
  }
  return p;
}

static void write_floats(const float *p, int64_t n) {
  if (fwrite(p, sizeof(float), (size_t)n, stdout) != (size_t)n) {
    fprintf(stderr, "layer_apply: write failed\n");
    exit(2);
  }
}

int main(void) {
  char kind_name[32];
  long long b, c, h, w, c1, o;
  int k, s, p, bias, training;
  double eps, momentum;
  if (scanf("%31s %lld %lld %lld %lld %lld %lld %d %d %d %d %lf %lf %d", kind_name, &b, &c, &h, &w,
            &c1, &o, &k, &s, &p, &bias, &eps, &momentum, &training) != 14 ||
      getchar() != '\n') {
    fprintf(stderr, "layer_apply: bad header\n");
    return 2;
  }
  int kind = -1;
  for (int i = 0; i < NADI_KIND_COUNT; i++)
    if (strcmp(nadi_ops((nadi_kind)i)->name, kind_name) == 0)
      kind = i;
  if (kind < 0) {
    fprintf(stderr, "layer_apply: unknown kind %s\n", kind_name);
    return 2;
  }

  nadi_layer l;
  memset(&l, 0, sizeof l);
  l.kind = (nadi_kind)kind;
  l.n_in = (kind == NADI_ADD || kind == NADI_CONCAT) ? 2 : 1;
  l.in[0] = l.in[1] = NADI_INPUT_NODE;
  l.in_shape[0][0] = c, l.in_shape[0][1] = h, l.in_shape[0][2] = w;
  l.in_shape[1][0] = c1, l.in_shape[1][1] = h, l.in_shape[1][2] = w;
  l.out_shape[0] = c, l.out_shape[1] = h, l.out_shape[2] = w;
  l.out_c = o, l.k = k, l.stride = s, l.pad = p, l.bias = bias;
  l.eps = eps, l.momentum = momentum, l.p = 0.5;
  if (l.kind == NADI_CONV2D || l.kind == NADI_MAXPOOL || l.kind == NADI_AVGPOOL)
    nadi_window_canon(&l, 0, l.kind == NADI_CONV2D ? NADI_WINDOW_CONV : NADI_WINDOW_POOL);
  switch (l.kind) {
  case NADI_CONV2D:
    l.out_shape[0] = o, l.out_shape[1] = (h + 2 * p - k) / s + 1;
    l.out_shape[2] = (w + 2 * p - k) / s + 1;
    l.n_params = o * c * k * k + (bias ? o : 0);
    break;
  case NADI_MAXPOOL:
  case NADI_AVGPOOL:
    l.out_shape[1] = (h - k) / s + 1, l.out_shape[2] = (w - k) / s + 1;
    break;
  case NADI_LINEAR:
    l.out_shape[0] = o, l.out_shape[1] = l.out_shape[2] = 1;
    l.n_params = o * c * h * w + (bias ? o : 0);
    break;
  case NADI_BATCHNORM:
    l.n_params = 4 * c;
    break;
  case NADI_CONCAT:
    l.out_shape[0] = c + c1;
    break;
  case NADI_FLATTEN:
    l.out_shape[0] = c * h * w, l.out_shape[1] = l.out_shape[2] = 1;
    break;
  case NADI_GAP:
    l.out_shape[1] = l.out_shape[2] = 1;
    break;
  default:
    break;
  }

  const nadi_layer_ops *ops = nadi_ops(l.kind);
  int64_t nin[2] = {b * c * h * w, l.n_in == 2 ? b * c1 * h * w : 0};
  int64_t nout = b * l.out_shape[0] * l.out_shape[1] * l.out_shape[2];
  float *x0 = read_floats(nin[0]), *x1 = read_floats(nin[1]);
  float *params = read_floats(l.n_params), *dy = read_floats(nout);
  float *y = calloc((size_t)nout, sizeof(float));
  float *dx0 = calloc((size_t)nin[0], sizeof(float)),
        *dx1 = calloc((size_t)nin[1] + 1, sizeof(float));
  float *dparams = calloc((size_t)l.n_params + 1, sizeof(float));
  size_t nws = ops->workspace ? ops->workspace(&l, b) : 0;
  size_t nst = ops->state_size ? ops->state_size(&l, b) : 0;
  float *ws = malloc((nws + 1) * sizeof(float)), *state = malloc((nst + 1) * sizeof(float));
  if (!y || !dx0 || !dx1 || !dparams || !ws || !state) {
    fprintf(stderr, "layer_apply: out of memory\n");
    return 2;
  }
  nadi_rng rng;
  nadi_rng_init(&rng, 1, 0);
  nadi_ctx ctx = {.batch = b, .training = training, .ws = ws, .state = state, .rng = &rng};
  const float *xs[2] = {x0, x1};
  float *const dxs[2] = {dx0, dx1};
  float *params_fwd = malloc(((size_t)l.n_params + 1) * sizeof(float));
  if (!params_fwd)
    return 2;
  memcpy(params_fwd, params, (size_t)l.n_params * sizeof(float));
  ops->forward(&l, params_fwd, xs, y, &ctx);
  /* backward sees the parameters the forward used (running statistics play no part in training
   * backward, and are unchanged in eval) */
  ops->backward(&l, params, xs, y, dy, dxs, dparams, &ctx);

  write_floats(y, nout);
  write_floats(dx0, nin[0]);
  write_floats(dx1, nin[1]);
  write_floats(dparams, l.n_params);
  write_floats(params_fwd, l.n_params);
  free(x0), free(x1), free(params), free(dy), free(y), free(dx0), free(dx1), free(dparams);
  free(ws), free(state), free(params_fwd);
  return 0;
}
