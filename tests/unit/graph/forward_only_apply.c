/* Test helper for tests/python/test_torch_forward_only.py: runs a built-in architecture forward
 * on data piped in, through a forward-only executor (the dipole's path, which may use the fast
 * eval convolution algorithms) and through a full executor (im2col), so that PyTorch can check
 * both on identical weights and inputs.
 *
 * usage: forward_only_apply ARCH C H W OUTPUTS BATCH
 * stdin: float32 params (the architecture's n_params), then x (BATCH*C*H*W).
 * stdout: float32 y of the forward-only executor, then y of the full executor (BATCH*OUTPUTS
 *         each). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

static float *read_floats(int64_t n) {
  float *p = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
  if (!p || fread(p, sizeof(float), (size_t)n, stdin) != (size_t)n) {
    fprintf(stderr, "forward_only_apply: short input (%lld floats expected)\n", (long long)n);
    exit(2);
  }
  return p;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: forward_only_apply ARCH C H W OUTPUTS BATCH\n");
    return 2;
  }
  int64_t c = atoll(argv[2]), h = atoll(argv[3]), w = atoll(argv[4]), k = atoll(argv[5]);
  int64_t batch = atoll(argv[6]);
  nadi_graph *g;
  if (batch < 1 || nadi_builtin_build(argv[1], c, h, w, k, &g) != NAD_OK) {
    fprintf(stderr, "forward_only_apply: %s\n", batch < 1 ? "bad batch" : nad_last_error());
    return 2;
  }
  float *params = read_floats(g->n_params), *x = read_floats(batch * c * h * w);
  nadi_exec *fast, *full;
  if (nadi_exec_create_forward_only(g, batch, &fast) != NAD_OK ||
      nadi_exec_create(g, batch, &full) != NAD_OK) {
    fprintf(stderr, "forward_only_apply: %s\n", nad_last_error());
    return 2;
  }
  const float *ys[2] = {nadi_exec_forward(fast, params, x, batch, 0, NULL),
                        nadi_exec_forward(full, params, x, batch, 0, NULL)};
  for (int i = 0; i < 2; i++)
    if (fwrite(ys[i], sizeof(float), (size_t)(batch * k), stdout) != (size_t)(batch * k)) {
      fprintf(stderr, "forward_only_apply: write failed\n");
      return 2;
    }
  nadi_exec_destroy(fast);
  nadi_exec_destroy(full);
  nadi_graph_destroy(g);
  free(params);
  free(x);
  return 0;
}
