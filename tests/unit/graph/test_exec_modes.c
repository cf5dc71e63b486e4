/* The forward-only executor (buffers reused after their last reader) against the full one
 * (every activation kept, same eval kernels: nadi_exec_use_eval_kernels): the same outputs bit
 * for bit; and the full executor's backward (gradients in slots shared by liveness) against a
 * reference that keeps one gradient per node, zeroed up front: the same dx and dparams bit for
 * bit, in eval and training mode. Both on every built-in and on specs with
 * residual and dense blocks, the activation of each node readable right after a node-by-node
 * step (what the delta forward's base relies on), a range run from a caller-written prefix
 * activation (what the delta forward's suffix relies on), and less memory by the executors'
 * own accounting, printed per architecture.
 * usage: test_exec_modes [--sizes]   (--sizes: only print the bytes at batch 256) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "graph/graph.h"

static int64_t out_size(const nadi_graph *g, int64_t i) {
  const int64_t *s = g->layers[i].out_shape;
  return s[0] * s[1] * s[2];
}

static void compare(const char *what, const nadi_graph *g, int64_t batch, uint64_t seed) {
  const int64_t d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2], n = g->n_layers;
  float *params = nadi_alloc((size_t)g->n_params, sizeof(float));
  float *x = nadi_alloc((size_t)(batch * d), sizeof(float));
  nadi_rng r;
  nadi_rng_init(&r, seed, 0);
  nadi_graph_init_params(g, params, &r);
  nadi_rng_fill_normal(&r, x, batch * d, 0.0, 1.0);
  nadi_exec *full = NULL, *fo = NULL;
  if (nadi_exec_create(g, batch, &full) != NAD_OK ||
      nadi_exec_create_forward_only(g, batch, &fo) != NAD_OK) {
    CHECK(0, "%s: cannot create the executors: %s", what, nad_last_error());
    goto done;
  }
  /* the liveness plan is what is under test: both executors run the same convolution
   * algorithms (the fast eval ones are tested against im2col and PyTorch in test_conv_algo
   * and test_torch_forward_only.py) */
  nadi_exec_use_eval_kernels(full);
  const int64_t ny = batch * out_size(g, n - 1);
  const float *yf = nadi_exec_forward(full, params, x, batch, 0, NULL);
  const float *yo = nadi_exec_forward(fo, params, x, batch, 0, NULL);
  CHECK(memcmp(yf, yo, sizeof(float) * (size_t)ny) == 0, "%s: outputs differ", what);

  /* node by node: each activation equals the full mode's right after its step */
  int64_t bad = -1;
  for (int64_t i = 0; i < n && bad < 0; i++) {
    nadi_exec_forward_node(fo, params, x, i, batch);
    if (memcmp(nadi_exec_act(fo, i), nadi_exec_act(full, i),
               sizeof(float) * (size_t)(batch * out_size(g, i))) != 0)
      bad = i;
  }
  CHECK(bad < 0, "%s: node %lld differs when run node by node", what, (long long)bad);
  CHECK(memcmp(nadi_exec_act(fo, n - 1), yf, sizeof(float) * (size_t)ny) == 0,
        "%s: node-by-node output differs", what);

  /* a range after a chain prefix whose activations the caller writes (the delta forward) */
  int64_t k = 0;
  while (k < n && g->layers[k].n_in == 1 && g->layers[k].in[0] == (k == 0 ? NADI_INPUT_NODE : k - 1))
    k++;
  if (k > 0 && k < n) {
    nadi_exec *fo2 = NULL;
    if (nadi_exec_create_forward_only(g, batch, &fo2) == NAD_OK) {
      for (int64_t i = k; i < n; i++) /* the prefix nodes the range reads */
        for (int32_t q = 0; q < g->layers[i].n_in; q++) {
          int32_t j = g->layers[i].in[q];
          if (j != NADI_INPUT_NODE && j < k)
            memcpy(nadi_exec_act(fo2, j), nadi_exec_act(full, j),
                   sizeof(float) * (size_t)(batch * out_size(g, j)));
        }
      const float *y2 = nadi_exec_forward_range(fo2, params, x, k, batch, 0, NULL);
      CHECK(memcmp(y2, yf, sizeof(float) * (size_t)ny) == 0,
            "%s: range from node %lld differs", what, (long long)k);
      nadi_exec_destroy(fo2);
    }
  }
  CHECK(nadi_exec_bytes(fo) <= nadi_exec_bytes(full), "%s: forward-only %zu B > full %zu B",
        what, nadi_exec_bytes(fo), nadi_exec_bytes(full));
  printf("%-32s batch %3lld: full %10.2f MB, forward-only %8.2f MB\n", what, (long long)batch,
         nadi_exec_bytes(full) / 1e6, nadi_exec_bytes(fo) / 1e6);
done:
  nadi_exec_destroy(full);
  nadi_exec_destroy(fo);
  nadi_free(params);
  nadi_free(x);
}

/* Reference full executor: one activation and one gradient buffer per node (views alias their
 * input's, as the executor's do), every gradient zeroed before the backward walk. */
static int reference_grads(const nadi_graph *g, float *params, const float *x, int64_t batch,
                           int training, uint64_t seed, const float *dy, float *y, float *dx,
                           float *dparams) {
  const int64_t n = g->n_layers, d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2];
  float **act = calloc((size_t)n, sizeof *act), **grad = calloc((size_t)n, sizeof *grad);
  float **state = calloc((size_t)n, sizeof *state);
  char *view = calloc((size_t)n, 1);
  size_t ws = 1;
  int ok = act && grad && state && view;
  for (int64_t i = 0; ok && i < n; i++) {
    const nadi_layer *l = &g->layers[i];
    const nadi_layer_ops *ops = nadi_ops(l->kind);
    size_t w = ops->workspace ? ops->workspace(l, batch) : 0, st;
    ws = w > ws ? w : ws;
    if (nadi_kind_of(l->kind)->view && l->in[0] != NADI_INPUT_NODE && i != n - 1) {
      view[i] = 1, act[i] = act[l->in[0]], grad[i] = grad[l->in[0]];
      continue;
    }
    act[i] = calloc((size_t)(batch * out_size(g, i)), sizeof(float));
    grad[i] = calloc((size_t)(batch * out_size(g, i)), sizeof(float));
    st = ops->state_size ? ops->state_size(l, batch) : 0;
    state[i] = st ? calloc(st, sizeof(float)) : NULL;
    ok = act[i] && grad[i] && (!st || state[i]);
  }
  float *wsb = ok ? calloc(ws, sizeof(float)) : NULL;
  ok = ok && wsb;
  nadi_rng r;
  nadi_rng_init(&r, seed, 1);
  nadi_ctx ctx = {.batch = batch, .training = training, .ws = wsb, .rng = &r};
  for (int64_t i = 0; ok && i < n; i++) {
    const nadi_layer *l = &g->layers[i];
    const float *in[NADI_MAX_INPUTS] = {NULL, NULL};
    for (int32_t j = 0; j < l->n_in; j++)
      in[j] = l->in[j] == NADI_INPUT_NODE ? x : act[l->in[j]];
    ctx.state = state[i];
    if (!view[i])
      nadi_ops(l->kind)->forward(l, params + l->param_off, in, act[i], &ctx);
  }
  if (ok) {
    memcpy(y, act[n - 1], sizeof(float) * (size_t)(batch * out_size(g, n - 1)));
    memcpy(grad[n - 1], dy, sizeof(float) * (size_t)(batch * out_size(g, n - 1)));
    memset(dx, 0, sizeof(float) * (size_t)(batch * d));
    memset(dparams, 0, sizeof(float) * (size_t)g->n_params);
  }
  for (int64_t i = n - 1; ok && i >= 0; i--) {
    const nadi_layer *l = &g->layers[i];
    const float *in[NADI_MAX_INPUTS] = {NULL, NULL};
    float *din[NADI_MAX_INPUTS] = {NULL, NULL};
    for (int32_t j = 0; j < l->n_in; j++) {
      in[j] = l->in[j] == NADI_INPUT_NODE ? x : act[l->in[j]];
      din[j] = l->in[j] == NADI_INPUT_NODE ? dx : grad[l->in[j]];
    }
    ctx.state = state[i];
    if (!view[i])
      nadi_ops(l->kind)->backward(l, params + l->param_off, in, act[i], grad[i], din,
                                  dparams + l->param_off, &ctx);
  }
  for (int64_t i = 0; act && grad && state && view && i < n; i++)
    if (!view[i])
      free(act[i]), free(grad[i]), free(state[i]);
  free(act), free(grad), free(state), free(view), free(wsb);
  return ok;
}

/* The executor's backward against reference_grads, in eval and in training mode. */
static void compare_backward(const char *what, const nadi_graph *g, int64_t batch,
                             uint64_t seed) {
  const int64_t d = g->in_shape[0] * g->in_shape[1] * g->in_shape[2], n = g->n_layers;
  const int64_t ny = batch * out_size(g, n - 1);
  float *params = nadi_alloc((size_t)g->n_params, sizeof(float));
  float *p2 = nadi_alloc((size_t)g->n_params, sizeof(float));
  float *x = nadi_alloc((size_t)(batch * d), sizeof(float));
  float *dy = nadi_alloc((size_t)ny, sizeof(float)), *y = nadi_alloc((size_t)ny, sizeof(float));
  float *dx[2] = {nadi_alloc((size_t)(batch * d), sizeof(float)),
                  nadi_alloc((size_t)(batch * d), sizeof(float))};
  float *dp[2] = {nadi_alloc((size_t)g->n_params, sizeof(float)),
                  nadi_alloc((size_t)g->n_params, sizeof(float))};
  nadi_rng r;
  nadi_rng_init(&r, seed, 0);
  nadi_graph_init_params(g, params, &r);
  nadi_rng_fill_normal(&r, x, batch * d, 0.0, 1.0);
  nadi_rng_fill_normal(&r, dy, ny, 0.0, 1.0);
  nadi_exec *e = NULL;
  if (nadi_exec_create(g, batch, &e) != NAD_OK) {
    CHECK(0, "%s: cannot create the executor: %s", what, nad_last_error());
    goto done;
  }
  for (int training = 0; training <= 1; training++) {
    /* training mode updates BatchNorm's running statistics: each side gets the same copy */
    memcpy(p2, params, sizeof(float) * (size_t)g->n_params);
    nadi_rng rr;
    nadi_rng_init(&rr, seed, 1);
    const float *ye = nadi_exec_forward(e, p2, x, batch, training, &rr);
    nadi_exec_backward(e, p2, dy, dx[0], dp[0]);
    memcpy(p2, params, sizeof(float) * (size_t)g->n_params);
    if (!reference_grads(g, p2, x, batch, training, seed, dy, y, dx[1], dp[1])) {
      CHECK(0, "%s: reference out of memory", what);
      break;
    }
    CHECK(memcmp(ye, y, sizeof(float) * (size_t)ny) == 0,
          "%s (%s): outputs differ from the reference's", what, training ? "training" : "eval");
    CHECK(memcmp(dx[0], dx[1], sizeof(float) * (size_t)(batch * d)) == 0,
          "%s (%s): input gradients differ from the reference's", what,
          training ? "training" : "eval");
    CHECK(memcmp(dp[0], dp[1], sizeof(float) * (size_t)g->n_params) == 0,
          "%s (%s): parameter gradients differ from the reference's", what,
          training ? "training" : "eval");
  }
done:
  nadi_exec_destroy(e);
  nadi_free(params), nadi_free(p2), nadi_free(x), nadi_free(dy), nadi_free(y);
  nadi_free(dx[0]), nadi_free(dx[1]), nadi_free(dp[0]), nadi_free(dp[1]);
}

/* Executor bytes of both modes at the estimator's default batch, from the plans only (the
 * buffers are allocated but never touched, so this costs address space, not memory). */
static void sizes(const char *name, int64_t c, int64_t batch) {
  nadi_graph *g;
  if (nadi_builtin_build(name, c, 32, 32, 1, &g) != NAD_OK)
    return;
  nadi_exec *fo = NULL;
  double full = 0; /* 2 · activations + state + workspace, as the full mode allocates */
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer_ops *ops = nadi_ops(g->layers[i].kind);
    full += 2.0 * 4 * (double)(batch * out_size(g, i));
    full += ops->state_size ? 4.0 * (double)ops->state_size(&g->layers[i], batch) : 0;
  }
  if (nadi_exec_create_forward_only(g, batch, &fo) == NAD_OK) {
    printf("%-20s %dx32x32 batch %lld: full mode %9.1f MB + workspace, forward-only %8.1f MB "
           "(all included)\n",
           name, (int)c, (long long)batch, full / 1e6, nadi_exec_bytes(fo) / 1e6);
    nadi_exec_destroy(fo);
  }
  nadi_graph_destroy(g);
}

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    int64_t c, h, w, batch;
  } builtins[] = {
      {"logreg", 1, 32, 32, 5},       {"lenet", 1, 32, 32, 5},
      {"lenet-nopool", 1, 32, 32, 5}, {"allconv", 1, 32, 32, 5},
      {"vgg11", 1, 32, 32, 3},        {"vgg11-bn", 1, 32, 32, 3},
      {"vgg11-nopool", 1, 4, 4, 3}, /* 32x32 has a 268M-weight classifier: 1 GB of parameters */
      {"resnet18", 1, 32, 32, 3},     {"resnet18-noshortcut", 1, 32, 32, 3},
      {"densenet121", 1, 32, 32, 2},  {"lenet", 3, 32, 32, 4},
      {"resnet18", 3, 32, 32, 2},     {"densenet121", 3, 32, 32, 2},
  };
  if (argc > 1 && strcmp(argv[1], "--sizes") == 0) {
    for (int32_t i = 0; i < nadi_builtin_count(); i++)
      sizes(nadi_builtin_name(i), 1, 256);
    return 0;
  }
  /* NAD_TEST_QUICK (the sanitizer pass): the small built-ins only; the specs below still have
   * residual and dense blocks, which is what the buffer plan must get right. */
  const int quick = getenv("NAD_TEST_QUICK") != NULL;
  for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++) {
    nadi_graph *g;
    char what[64];
    snprintf(what, sizeof what, "%s %lldx%lldx%lld", builtins[i].name, (long long)builtins[i].c,
             (long long)builtins[i].h, (long long)builtins[i].w);
    if (nadi_builtin_build(builtins[i].name, builtins[i].c, builtins[i].h, builtins[i].w, 2,
                           &g) != NAD_OK) {
      CHECK(0, "%s: %s", what, nad_last_error());
      continue;
    }
    if (quick && g->flops > 20000000) {
      printf("%-32s skipped (NAD_TEST_QUICK)\n", what);
      nadi_graph_destroy(g);
      continue;
    }
    compare(what, g, builtins[i].batch, 11 + i);
    compare_backward(what, g, builtins[i].batch, 11 + i);
    nadi_graph_destroy(g);
  }
  static const char *const specs[] = {
      "conv 4 k3 p1; residual { conv 4 k3 p1; relu; conv 4 k3 p1 } shortcut { conv 4 k1 }; relu; "
      "dense { bn; relu; conv 3 k3 p1 }; dense { conv 2 k1 }; maxpool 2; gap; fc 3",
      "dropout 0.5; conv 3 k3; bn; relu; avgpool 2; flatten; fc 5; relu; fc 2",
  };
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
    nadi_graph *g;
    if (nadi_spec_build(specs[i], 2, 12, 12, &g) != NAD_OK) {
      CHECK(0, "spec %zu: %s", i, nad_last_error());
      continue;
    }
    char what[32];
    snprintf(what, sizeof what, "spec %zu", i);
    compare(what, g, 7, 50 + i);
    compare_backward(what, g, 7, 50 + i);
    nadi_graph_destroy(g);
  }
  /* DenseNet121 at the estimator's default batch: the 23 GB came from here */
  nadi_graph *g;
  if (nadi_builtin_build("densenet121", 1, 32, 32, 1, &g) == NAD_OK) {
    nadi_exec *fo = NULL;
    if (nadi_exec_create_forward_only(g, 256, &fo) == NAD_OK) {
      double full = 0;
      for (int64_t i = 0; i < g->n_layers; i++)
        full += 2.0 * 4 * 256 * (double)out_size(g, i);
      CHECK(nadi_exec_bytes(fo) < 0.1 * full && nadi_exec_bytes(fo) < (size_t)1 << 30,
            "densenet121 batch 256: forward-only %zu B, full mode's activations and gradients "
            "%.0f B", nadi_exec_bytes(fo), full);
      printf("densenet121 1x32x32 batch 256: forward-only %.1f MB, full mode >= %.1f MB\n",
             nadi_exec_bytes(fo) / 1e6, full / 1e6);
      nadi_exec_destroy(fo);
    }
    nadi_graph_destroy(g);
  }
  return check_summary();
}
