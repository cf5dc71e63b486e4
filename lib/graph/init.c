/* PyTorch's default initialisation of every layer, drawn in node (= state_dict) order, each
 * by its kind's init() (the laws are documented there: lib/kernels/<kind>.c).
 * The values differ from PyTorch's draws (another generator) but follow the same laws; the
 * order of draws (layer by layer, weight then bias) fixes the result for a given rng state. */
#include <string.h>

#include "graph/graph.h"

void nadi_graph_init_params(const nadi_graph *g, float *params, nadi_rng *rng) {
  if (g->base_params)
    memcpy(params, g->base_params, sizeof(float) * (size_t)g->n_params);
  else
    memset(params, 0, sizeof(float) * (size_t)g->n_params);
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    const nadi_kind_desc *kd = nadi_kind_of(l->kind);
    if (kd->init)
      kd->init(l, params + l->param_off, rng);
  }
}
