/* The identity of a graph: what checkpoints record so that a part or a resumed run is only ever
 * combined with runs of the same function (lib/estimator/checkpoint.c). */
#include "graph/graph.h"

static uint64_t fnv_i64(uint64_t h, int64_t v) { return nadi_fnv(h, &v, sizeof v); }
static uint64_t fnv_f64(uint64_t h, double v) { return nadi_fnv(h, &v, sizeof v); }

static uint64_t fnv_dims(uint64_t h, const nadi_dims *s) {
  h = fnv_i64(h, s->rank);
  for (int64_t i = 0; i < s->rank && i < NADI_MAX_RANK; i++)
    h = fnv_i64(h, s->d[i]);
  return h;
}

/* Hash of everything that defines the function computed by the graph: per layer its kind,
 * connections, shapes, parameter layout and its hyper-parameters as ONE struct (nadi_hparams has
 * 8-byte fields only, hence no padding), so that no hyper-parameter of any kind, present or
 * future, can be left out. Format 3 on. */
uint64_t nadi_graph_fingerprint(const nadi_graph *g) {
  _Static_assert(sizeof(nadi_hparams) % 8 == 0, "nadi_hparams must have 8-byte fields only");
  uint64_t h = NADI_FNV0;
  for (int i = 0; i < 3; i++)
    h = fnv_i64(h, g->in_shape[i]);
  h = fnv_i64(h, g->n_layers);
  h = fnv_i64(h, g->n_params);
  for (int64_t l = 0; l < g->n_layers; l++) {
    const nadi_layer *L = &g->layers[l];
    h = fnv_i64(h, L->kind);
    h = fnv_i64(h, L->n_in);
    for (int i = 0; i < L->n_in && i < NADI_MAX_INPUTS; i++) {
      h = fnv_i64(h, L->in[i]);
      h = fnv_dims(h, &L->in_dims[i]);
    }
    h = fnv_dims(h, &L->out_dims);
    h = nadi_fnv(h, &L->hp, sizeof L->hp);
    h = fnv_i64(h, L->param_off);
    h = fnv_i64(h, L->n_params);
  }
  if (g->base_params) /* an imported model's constants are part of its function */
    h = nadi_fnv(h, g->base_params, sizeof(float) * (size_t)g->n_params);
  if (g->tensor_law) /* init rules define the random networks (8-byte fields: no padding) */
    h = nadi_fnv(h, g->tensor_law, sizeof *g->tensor_law * (size_t)g->n_tensors);
  return h;
}

/* The fingerprint of formats 1 and 2, whose graphs had only the first eleven kinds and their
 * fields: kept so that their files still resume and merge. */
uint64_t nadi_graph_fingerprint_v2(const nadi_graph *g) {
  uint64_t h = NADI_FNV0;
  for (int i = 0; i < 3; i++)
    h = fnv_i64(h, g->in_shape[i]);
  h = fnv_i64(h, g->n_layers);
  h = fnv_i64(h, g->n_params);
  for (int64_t l = 0; l < g->n_layers; l++) {
    const nadi_layer *L = &g->layers[l];
    h = fnv_i64(h, L->kind);
    h = fnv_i64(h, L->n_in);
    for (int i = 0; i < L->n_in && i < NADI_MAX_INPUTS; i++) {
      h = fnv_i64(h, L->in[i]);
      for (int t = 0; t < 3; t++)
        h = fnv_i64(h, L->in_shape[i][t]);
    }
    for (int t = 0; t < 3; t++)
      h = fnv_i64(h, L->out_shape[t]);
    h = fnv_i64(h, L->out_c);
    h = fnv_i64(h, (int32_t)L->k);
    h = fnv_i64(h, (int32_t)L->stride);
    h = fnv_i64(h, (int32_t)L->pad);
    h = fnv_i64(h, (int32_t)L->bias);
    h = fnv_f64(h, L->eps);
    h = fnv_f64(h, L->p);
    h = fnv_i64(h, (int32_t)L->init);
    h = fnv_i64(h, L->param_off);
    h = fnv_i64(h, L->n_params);
  }
  return h;
}

