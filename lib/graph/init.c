/* PyTorch's default initialisation of every layer, drawn in node (= state_dict) order, each
 * by its kind's init() (the laws are documented there: lib/kernels/<kind>.c).
 * The values differ from PyTorch's draws (another generator) but follow the same laws; the
 * order of draws (layer by layer, weight then bias) fixes the result for a given rng state.
 * With init rules (g->tensor_law, init_rules.c) a layer whose tensors all have a law is drawn
 * by those laws only; one with some tensors left to the default is drawn by its init() first,
 * then the tensors with a law are drawn (again) by it, in tensor order, from the same rng. */
#include <string.h>

#include "graph/graph.h"

/* params[a, b) from the base (or 0). */
static void base_range(const nadi_graph *g, float *params, int64_t a, int64_t b) {
  if (b <= a)
    return;
  if (g->base_params)
    memcpy(params + a, g->base_params + a, sizeof(float) * (size_t)(b - a));
  else
    memset(params + a, 0, sizeof(float) * (size_t)(b - a));
}

/* A law that writes every value of its tensor whatever was there. */
static int law_overwrites(const nadi_tensor_law *law) {
  return law->op == NADI_LAW_CONSTANT || law->op == NADI_LAW_UNIFORM ||
         law->op == NADI_LAW_NORMAL || law->op == NADI_LAW_TRUNC_NORMAL;
}

/* The base values (or 0) under every tensor that no law overwrites: copying the base under a
 * drawn tensor is wasted (47 MB a network for ResNet18, whose convolutions are all drawn by
 * resnet.rules). Tensors are in offset order; if they were not, everything is copied. */
static void base_params(const nadi_graph *g, float *params) {
  int64_t done = 0;
  for (int64_t t = 0; g->tensor_law && t < g->n_tensors; t++) {
    const nadi_tensor_info *ti = &g->tensors[t];
    if (ti->offset < done) {
      done = 0;
      break;
    }
    if (law_overwrites(&g->tensor_law[t])) {
      base_range(g, params, done, ti->offset);
      done = ti->offset + ti->numel;
    }
  }
  base_range(g, params, done, g->n_params);
}

void nadi_graph_init_params(const nadi_graph *g, float *params, nadi_rng *rng) {
  base_params(g, params);
  int64_t t = 0; /* the layer's first tensor */
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    const nadi_kind_desc *kd = nadi_kind_of(l->kind);
    nadi_tensor_desc td[NADI_MAX_TENSORS];
    int nt = kd->tensors ? kd->tensors(l, td) : 0, ruled = 0;
    const nadi_tensor_law *law = g->tensor_law ? g->tensor_law + t : NULL;
    for (int j = 0; law && j < nt; j++)
      ruled += law[j].op != NADI_LAW_DEFAULT;
    if (kd->init && ruled < nt)
      kd->init(l, params + l->param_off, rng);
    for (int j = 0; ruled && j < nt; j++)
      nadi_law_draw(&law[j], g, t + j, params, rng);
    t += nt;
  }
}
