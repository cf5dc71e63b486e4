/* Public .npy entry points: argument validation in front of lib/io/npy_format.c. */
#include "core/core.h"
#include "io/io.h"

nad_status nad_npy_read_f32(const char *path, float **data, int64_t shape[8], int32_t *ndim) {
  if (data)
    *data = NULL;
  NADI_CHECK(path != NULL, NAD_ERR_INVALID_ARG, "nad_npy_read_f32: path is NULL");
  NADI_CHECK(data != NULL, NAD_ERR_INVALID_ARG, "nad_npy_read_f32: data is NULL");
  NADI_CHECK(shape != NULL, NAD_ERR_INVALID_ARG, "nad_npy_read_f32: shape is NULL");
  NADI_CHECK(ndim != NULL, NAD_ERR_INVALID_ARG, "nad_npy_read_f32: ndim is NULL");
  return nadi_npy_read_f32(path, data, shape, ndim);
}

nad_status nad_npy_write(const char *path, const void *data, int32_t dtype_f64,
                         const int64_t *shape, int32_t ndim) {
  NADI_CHECK(path != NULL, NAD_ERR_INVALID_ARG, "nad_npy_write: path is NULL");
  NADI_CHECK(dtype_f64 == 0 || dtype_f64 == 1, NAD_ERR_INVALID_ARG,
             "nad_npy_write: dtype_f64 must be 0 (float32) or 1 (float64), got %d", (int)dtype_f64);
  NADI_CHECK(ndim >= 0 && ndim <= NADI_NPY_MAX_DIMS, NAD_ERR_INVALID_ARG,
             "nad_npy_write: ndim must be in 0..8, got %d", (int)ndim);
  NADI_CHECK(ndim == 0 || shape != NULL, NAD_ERR_INVALID_ARG, "nad_npy_write: shape is NULL");
  int64_t count = 1;
  for (int32_t i = 0; i < ndim; i++) {
    NADI_CHECK(shape[i] >= 0, NAD_ERR_INVALID_ARG, "nad_npy_write: shape[%d] = %lld is negative",
               (int)i, (long long)shape[i]);
    NADI_CHECK(nadi_mul_ok(count, shape[i], &count), NAD_ERR_INVALID_ARG,
               "nad_npy_write: the shape has more elements than fit in 64 bits");
  }
  int64_t bytes;
  NADI_CHECK(nadi_mul_ok(count, dtype_f64 ? 8 : 4, &bytes) && (uint64_t)bytes <= SIZE_MAX,
             NAD_ERR_INVALID_ARG,
             "nad_npy_write: the shape describes more data than fits in memory");
  NADI_CHECK(data != NULL || count == 0, NAD_ERR_INVALID_ARG, "nad_npy_write: data is NULL");
  return nadi_npy_write(path, data, dtype_f64, shape, ndim);
}
