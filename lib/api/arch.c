/* Public architecture handle: creation from a built-in name or a spec, queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

const nad_arch *nadi_arch_retain(const nad_arch *a) {
  atomic_fetch_add(&((nad_arch *)a)->refs, 1);
  return a;
}

void nadi_arch_release(const nad_arch *ca) {
  nad_arch *a = (nad_arch *)ca;
  if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
    return;
  nadi_graph_destroy(a->g);
  free(a->file_params);
  free(a->init_warnings);
  nadi_arch_release(a->plain);
  nadi_free(a);
}

static nad_status check_dims(int64_t c, int64_t h, int64_t w) {
  NADI_CHECK(c >= 1 && h >= 1 && w >= 1, NAD_ERR_INVALID_ARG,
             "input shape must be positive, got %lldx%lldx%lld", (long long)c, (long long)h,
             (long long)w);
  int64_t d;
  NADI_CHECK(nadi_mul_ok(c, h, &d) && nadi_mul_ok(d, w, &d) && d <= INT32_MAX,
             NAD_ERR_INVALID_ARG, "input shape %lldx%lldx%lld is too large", (long long)c,
             (long long)h, (long long)w);
  return NAD_OK;
}

nad_status nadi_arch_wrap(nadi_graph *g, const char *name, nad_arch **out) {
  nad_arch *a = nadi_calloc(1, sizeof *a);
  if (!a) {
    nadi_graph_destroy(g);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory");
  }
  atomic_init(&a->refs, 1);
  snprintf(a->name, sizeof a->name, "%s", name);
  a->g = g;
  a->outputs = nadi_graph_out_size(g);
  *out = a;
  return NAD_OK;
}

int32_t nad_arch_builtin_count(void) { return nadi_builtin_count(); }

const char *nad_arch_builtin_name(int32_t i) { return nadi_builtin_name(i); }

nad_status nad_arch_create_builtin(const char *name, int64_t c, int64_t h, int64_t w,
                                   int64_t outputs, nad_arch **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "out is NULL");
  *out = NULL;
  NADI_CHECK(name != NULL, NAD_ERR_INVALID_ARG, "architecture name is NULL");
  NADI_TRY(check_dims(c, h, w));
  NADI_CHECK(outputs >= 1 && outputs <= 1000000, NAD_ERR_INVALID_ARG,
             "outputs must be in [1, 1000000], got %lld", (long long)outputs);
  nadi_graph *g;
  NADI_TRY(nadi_builtin_build(name, c, h, w, outputs, &g));
  return nadi_arch_wrap(g, name, out);
}

nad_status nad_arch_create_spec(const char *spec, int64_t c, int64_t h, int64_t w,
                                nad_arch **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "out is NULL");
  *out = NULL;
  NADI_CHECK(spec != NULL, NAD_ERR_INVALID_ARG, "spec is NULL");
  NADI_TRY(check_dims(c, h, w));
  nadi_graph *g;
  NADI_TRY(nadi_spec_build(spec, c, h, w, &g));
  return nadi_arch_wrap(g, "spec", out);
}

void nad_arch_destroy(nad_arch *a) { nadi_arch_release(a); }

const char *nad_arch_name(const nad_arch *a) { return a ? a->name : ""; }

#define CHECK_ARCH(a) NADI_CHECK((a) != NULL, NAD_ERR_INVALID_ARG, "architecture is NULL")

nad_status nad_arch_input_shape(const nad_arch *a, int64_t shape[3]) {
  CHECK_ARCH(a);
  NADI_CHECK(shape != NULL, NAD_ERR_INVALID_ARG, "shape is NULL");
  memcpy(shape, a->g->in_shape, 3 * sizeof(int64_t));
  return NAD_OK;
}

#define SCALAR_GETTER(fn, expr)                                                                    \
  nad_status fn(const nad_arch *a, int64_t *v) {                                                   \
    CHECK_ARCH(a);                                                                                 \
    NADI_CHECK(v != NULL, NAD_ERR_INVALID_ARG, "output pointer is NULL");                          \
    *v = (expr);                                                                                   \
    return NAD_OK;                                                                                 \
  }
SCALAR_GETTER(nad_arch_num_outputs, a->outputs)
SCALAR_GETTER(nad_arch_num_params, a->g->n_params)
SCALAR_GETTER(nad_arch_num_trainable, a->g->n_trainable)
SCALAR_GETTER(nad_arch_flops, a->g->flops)
SCALAR_GETTER(nad_arch_num_layers, a->g->n_layers)
SCALAR_GETTER(nad_arch_num_tensors, a->g->n_tensors)

nad_status nad_arch_layer(const nad_arch *a, int64_t i, const char **desc, int64_t out_shape[3],
                          int64_t *params, int64_t *flops) {
  CHECK_ARCH(a);
  NADI_CHECK(i >= 0 && i < a->g->n_layers, NAD_ERR_INVALID_ARG,
             "layer index %lld out of range [0, %lld)", (long long)i, (long long)a->g->n_layers);
  const nadi_layer *l = &a->g->layers[i];
  if (desc)
    *desc = l->desc;
  if (out_shape)
    memcpy(out_shape, l->out_shape, 3 * sizeof(int64_t));
  if (params)
    *params = l->n_params;
  if (flops)
    *flops = nadi_layer_flops(l);
  return NAD_OK;
}

nad_status nad_arch_tensor(const nad_arch *a, int64_t t, const char **name, int64_t *offset,
                           int64_t *numel, int32_t *trainable) {
  CHECK_ARCH(a);
  NADI_CHECK(t >= 0 && t < a->g->n_tensors, NAD_ERR_INVALID_ARG,
             "tensor index %lld out of range [0, %lld)", (long long)t, (long long)a->g->n_tensors);
  const nadi_tensor_info *ti = &a->g->tensors[t];
  if (name)
    *name = ti->name;
  if (offset)
    *offset = ti->offset;
  if (numel)
    *numel = ti->numel;
  if (trainable)
    *trainable = ti->trainable;
  return NAD_OK;
}
