/* Public façade of directions and datasets: validation and messages; the work is in
 * lib/train/direction.c and lib/train/dataset.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

/* c·h·w with every factor >= 1 and a product that fits in memory as floats. */
static nad_status check_shape(const char *fn, int64_t c, int64_t h, int64_t w, int64_t *d) {
  NADI_CHECK(c >= 1 && h >= 1 && w >= 1, NAD_ERR_INVALID_ARG,
             "%s: shape %lldx%lldx%lld must be positive", fn, (long long)c, (long long)h,
             (long long)w);
  NADI_CHECK(nadi_mul_ok(c, h, d) && nadi_mul_ok(*d, w, d) &&
                 (uint64_t)*d <= SIZE_MAX / sizeof(float) / 2,
             NAD_ERR_INVALID_ARG, "%s: shape %lldx%lldx%lld is too large", fn, (long long)c,
             (long long)h, (long long)w);
  return NAD_OK;
}

/* ---- directions ----------------------------------------------------------------------------- */

nad_status nad_direction_fourier(int64_t c, int64_t h, int64_t w, int64_t fy, int64_t fx,
                                 nad_fourier_part part, float *dst, size_t len) {
  int64_t d;
  NADI_TRY(check_shape("nad_direction_fourier", c, h, w, &d));
  NADI_CHECK(h <= INT32_MAX && w <= INT32_MAX, NAD_ERR_INVALID_ARG,
             "nad_direction_fourier: %lldx%lld planes are too large for FFTW", (long long)h,
             (long long)w);
  NADI_CHECK(dst, NAD_ERR_INVALID_ARG, "nad_direction_fourier: dst is NULL");
  NADI_CHECK(len == (size_t)d, NAD_ERR_SHAPE,
             "nad_direction_fourier: dst must hold c·h·w = %lld floats, got %zu", (long long)d,
             len);
  NADI_CHECK(part == NAD_FOURIER_AUTO || part == NAD_FOURIER_SIN || part == NAD_FOURIER_COS,
             NAD_ERR_INVALID_ARG, "nad_direction_fourier: part must be AUTO (0), SIN (1) or COS "
                                  "(2), got %d", (int)part);
  NADI_CHECK(fy >= -(h / 2) && fy <= h / 2 && fx >= -(w / 2) && fx <= w / 2, NAD_ERR_INVALID_ARG,
             "nad_direction_fourier: frequency (%lld, %lld) out of range: fy in [%lld, %lld], fx "
             "in [%lld, %lld] for a %lldx%lld image",
             (long long)fy, (long long)fx, (long long)-(h / 2), (long long)(h / 2),
             (long long)-(w / 2), (long long)(w / 2), (long long)h, (long long)w);
  NADI_CHECK(part != NAD_FOURIER_SIN || !nadi_fourier_sine_vanishes(h, w, fy, fx),
             NAD_ERR_INVALID_ARG,
             "nad_direction_fourier: the sine of frequency (%lld, %lld) vanishes on a %lldx%lld "
             "grid (DC/Nyquist): use the cosine or AUTO",
             (long long)fy, (long long)fx, (long long)h, (long long)w);
  return nadi_direction_fourier(c, h, w, fy, fx, part, dst);
}

nad_status nad_direction_random(uint64_t seed, float *dst, size_t len) {
  NADI_CHECK(dst, NAD_ERR_INVALID_ARG, "nad_direction_random: dst is NULL");
  NADI_CHECK(len >= 1 && len <= (size_t)INT64_MAX, NAD_ERR_INVALID_ARG,
             "nad_direction_random: len must be >= 1");
  nadi_direction_random(seed, dst, (int64_t)len);
  return NAD_OK;
}

/* ---- datasets ------------------------------------------------------------------------------- */

nad_status nad_dataset_create_linear(const float *v, int64_t c, int64_t h, int64_t w, int64_t n,
                                     double epsilon, double sigma, uint64_t seed,
                                     nad_dataset **out) {
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "nad_dataset_create_linear: out is NULL");
  *out = NULL;
  NADI_CHECK(v, NAD_ERR_INVALID_ARG, "nad_dataset_create_linear: v is NULL");
  int64_t d;
  NADI_TRY(check_shape("nad_dataset_create_linear", c, h, w, &d));
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
  NADI_TRY(check_shape("nad_dataset_create", c, h, w, &d));
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
  NADI_CHECK(!x || x_len == (size_t)(d->n * d->d), NAD_ERR_SHAPE,
             "nad_dataset_get: x must hold n·c·h·w = %lld floats, got %zu",
             (long long)(d->n * d->d), x_len);
  NADI_CHECK(!labels || labels_len == (size_t)d->n, NAD_ERR_SHAPE,
             "nad_dataset_get: labels must hold n = %lld values, got %zu", (long long)d->n,
             labels_len);
  if (x)
    memcpy(x, d->x, x_len * sizeof(float));
  if (labels)
    memcpy(labels, d->labels, labels_len * sizeof(int32_t));
  return NAD_OK;
}
