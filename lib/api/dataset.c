/* Public façade of datasets: validation and messages; the work is in lib/data/
 * (body.c, separable.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "data/data.h"

nad_status nadi_check_sample_shape(const char *fn, int64_t c, int64_t h, int64_t w, int64_t *d) {
  NADI_CHECK(c >= 1 && h >= 1 && w >= 1, NAD_ERR_INVALID_ARG,
             "%s: shape %lldx%lldx%lld must be positive", fn, (long long)c, (long long)h,
             (long long)w);
  NADI_CHECK(nadi_mul_ok(c, h, d) && nadi_mul_ok(*d, w, d) &&
                 (uint64_t)*d <= SIZE_MAX / sizeof(float) / 2,
             NAD_ERR_INVALID_ARG, "%s: shape %lldx%lldx%lld is too large", fn, (long long)c,
             (long long)h, (long long)w);
  return NAD_OK;
}

/* ---- datasets ------------------------------------------------------------------------------- */

nad_status nad_dataset_create_linear(const float *v, int64_t c, int64_t h, int64_t w, int64_t n,
                                     double epsilon, double sigma, uint64_t seed,
                                     nad_dataset **out) {
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "nad_dataset_create_linear: out is NULL");
  *out = NULL;
  NADI_CHECK(v, NAD_ERR_INVALID_ARG, "nad_dataset_create_linear: v is NULL");
  int64_t d = 0;
  NADI_TRY(nadi_check_sample_shape("nad_dataset_create_linear", c, h, w, &d));
  NADI_CHECK(n >= 1, NAD_ERR_INVALID_ARG,
             "nad_dataset_create_linear: n must be >= 1, got %lld", (long long)n);
  NADI_CHECK(isfinite(epsilon) && epsilon > 0, NAD_ERR_INVALID_ARG,
             "nad_dataset_create_linear: epsilon must be finite and > 0, got %g", epsilon);
  NADI_CHECK(isfinite(sigma) && sigma >= 0, NAD_ERR_INVALID_ARG,
             "nad_dataset_create_linear: sigma must be finite and >= 0, got %g", sigma);
  double s = 0.0;
  for (int64_t i = 0; i < d; i++) {
    NADI_CHECK(isfinite(v[i]), NAD_ERR_INVALID_ARG,
               "nad_dataset_create_linear: v[%lld] is not finite", (long long)i);
    s += (double)v[i] * v[i];
  }
  NADI_CHECK(s > 0 && isfinite(s), NAD_ERR_INVALID_ARG,
             "nad_dataset_create_linear: v must be non-zero (with a finite norm)");
  float *unit = nadi_alloc((size_t)d, sizeof(float));
  NADI_CHECK(unit, NAD_ERR_OUT_OF_MEMORY, "nad_dataset_create_linear: out of memory");
  double norm = sqrt(s);
  for (int64_t i = 0; i < d; i++)
    unit[i] = (float)(v[i] / norm);
  nad_dataset *ds = NULL;
  nad_status st = nadi_dataset_alloc(n, c, h, w, &ds);
  if (st == NAD_OK) {
    nadi_dataset_fill_linear(ds, unit, epsilon, sigma, seed);
    *out = ds;
  }
  nadi_free(unit);
  return st;
}

nad_status nad_dataset_create(const float *x, const int32_t *labels, int64_t n, int64_t c,
                              int64_t h, int64_t w, nad_dataset **out) {
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "nad_dataset_create: out is NULL");
  *out = NULL;
  NADI_CHECK(x && labels, NAD_ERR_INVALID_ARG, "nad_dataset_create: x or labels is NULL");
  int64_t d;
  NADI_TRY(nadi_check_sample_shape("nad_dataset_create", c, h, w, &d));
  NADI_CHECK(n >= 1, NAD_ERR_INVALID_ARG, "nad_dataset_create: n must be >= 1, got %lld",
             (long long)n);
  int32_t top = 0;
  for (int64_t i = 0; i < n; i++) {
    NADI_CHECK(labels[i] >= 0 && labels[i] < INT32_MAX, NAD_ERR_INVALID_ARG,
               "nad_dataset_create: labels[%lld] = %d, labels must be >= 0", (long long)i,
               (int)labels[i]);
    top = labels[i] > top ? labels[i] : top;
  }
  nad_dataset *ds = NULL;
  NADI_TRY(nadi_dataset_alloc(n, c, h, w, &ds));
  for (int64_t i = 0; i < n * d; i++) {
    if (!isfinite(x[i])) {
      nadi_dataset_release(ds);
      return nadi_fail(NAD_ERR_INVALID_ARG, "nad_dataset_create: x[%lld] is not finite",
                       (long long)i);
    }
  }
  memcpy(ds->x, x, (size_t)(n * d) * sizeof(float));
  memcpy(ds->labels, labels, (size_t)n * sizeof(int32_t));
  ds->num_classes = top + 1;
  *out = ds;
  return NAD_OK;
}

void nad_dataset_destroy(nad_dataset *d) { nadi_dataset_release(d); }

nad_status nad_dataset_size(const nad_dataset *d, int64_t *n, int64_t shape[3]) {
  NADI_CHECK(d && n, NAD_ERR_INVALID_ARG, "nad_dataset_size: NULL argument");
  *n = d->n;
  if (shape) {
    shape[0] = d->c;
    shape[1] = d->h;
    shape[2] = d->w;
  }
  return NAD_OK;
}

nad_status nad_dataset_get(const nad_dataset *d, float *x, size_t x_len, int32_t *labels,
                           size_t labels_len) {
  NADI_CHECK(d, NAD_ERR_INVALID_ARG, "nad_dataset_get: dataset is NULL");
  if (x)
    NADI_CHECK_LEN("nad_dataset_get", "x (n·c·h·w)", x_len, d->n * d->d);
  if (labels)
    NADI_CHECK_LEN("nad_dataset_get", "labels (n)", labels_len, d->n);
  if (x)
    memcpy(x, d->x, x_len * sizeof(float));
  if (labels)
    memcpy(labels, d->labels, labels_len * sizeof(int32_t));
  return NAD_OK;
}
