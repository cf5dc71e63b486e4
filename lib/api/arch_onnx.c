/* Architectures imported from ONNX files (lib/onnx): nad_arch_create_onnx(_buffer) and the
 * file's own weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "onnx/onnx_import.h"

/* Reads, shapes and maps a model; the handle is named `name` and keeps the file's weights. */
static nad_status create(nadi_onnx_model *m, const char *name, int64_t c, int64_t h, int64_t w,
                         nad_arch **out) {
  int64_t chw[3] = {c, h, w};
  nadi_graph *g = NULL;
  float *file = NULL;
  nad_status st = nadi_onnx_import(m, c > 0 ? chw : NULL, &g, &file);
  nadi_onnx_model_free(m);
  if (st != NAD_OK)
    return st;
  st = nadi_arch_wrap(g, name, out);
  if (st != NAD_OK) {
    free(file);
    return st;
  }
  (*out)->file_params = file;
  return NAD_OK;
}

static nad_status check_shape(int64_t c, int64_t h, int64_t w) {
  int all_zero = c == 0 && h == 0 && w == 0, all_set = c >= 1 && h >= 1 && w >= 1;
  NADI_CHECK(all_zero || all_set, NAD_ERR_INVALID_ARG,
             "input shape %lldx%lldx%lld: give all three dimensions (>= 1), or 0x0x0 for the "
             "file's own input shape",
             (long long)c, (long long)h, (long long)w);
  NADI_CHECK(c <= INT32_MAX && h <= INT32_MAX && w <= INT32_MAX, NAD_ERR_INVALID_ARG,
             "input shape %lldx%lldx%lld is too large", (long long)c, (long long)h, (long long)w);
  return NAD_OK;
}

/* The file's base name without its extension: "models/resnet18.onnx" -> "resnet18". */
static void base_name(const char *path, char *out, size_t n) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  snprintf(out, n, "%s", b[0] ? b : "onnx");
  char *dot = strrchr(out, '.');
  if (dot && dot != out)
    *dot = '\0';
}

nad_status nad_arch_create_onnx(const char *path, int64_t c, int64_t h, int64_t w,
                                nad_arch **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "out is NULL");
  *out = NULL;
  NADI_CHECK(path != NULL, NAD_ERR_INVALID_ARG, "path is NULL");
  NADI_TRY(check_shape(c, h, w));
  nadi_onnx_model *m;
  NADI_TRY(nadi_onnx_read_file(path, &m));
  char name[64];
  base_name(path, name, sizeof name);
  return create(m, name, c, h, w, out);
}

nad_status nad_arch_create_onnx_buffer(const void *data, size_t len, const char *name, int64_t c,
                                       int64_t h, int64_t w, nad_arch **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "out is NULL");
  *out = NULL;
  NADI_CHECK(data != NULL || len == 0, NAD_ERR_INVALID_ARG, "data is NULL");
  NADI_TRY(check_shape(c, h, w));
  const char *nm = name && name[0] ? name : "onnx";
  nadi_onnx_model *m;
  NADI_TRY(nadi_onnx_read_memory(data, len, nm, NULL, &m));
  return create(m, nm, c, h, w, out);
}

nad_status nad_arch_file_params(const nad_arch *a, float *dst, size_t dst_len) {
  NADI_CHECK(a != NULL && dst != NULL, NAD_ERR_INVALID_ARG, "architecture or dst is NULL");
  const float *file = a->plain ? a->plain->file_params : a->file_params; /* arch_init.c */
  NADI_CHECK(file != NULL, NAD_ERR_INVALID_ARG,
             "architecture '%s' has no weights of its own (it was not imported from a file)",
             a->name);
  NADI_CHECK_LEN("nad_arch_file_params", "dst", dst_len, a->g->n_params);
  memcpy(dst, file, sizeof(float) * (size_t)a->g->n_params);
  return NAD_OK;
}
