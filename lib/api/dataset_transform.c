/* Public façade of the dataset transformations (resize, normalise, subset) and of the NAD
 * poisoning: validation and messages; the work is in lib/data/transform.c and poison.c. */
#include <math.h>

#include "api/api.h"
#include "data/data.h"

#define MAX_SIDE 65536

nad_status nad_dataset_resize(const nad_dataset *d, int64_t h, int64_t w, nad_dataset **out) {
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "nad_dataset_resize: out is NULL");
  *out = NULL;
  NADI_CHECK(d, NAD_ERR_INVALID_ARG, "nad_dataset_resize: dataset is NULL");
  NADI_CHECK(h >= 1 && w >= 1 && h <= MAX_SIDE && w <= MAX_SIDE, NAD_ERR_INVALID_ARG,
             "nad_dataset_resize: size %lldx%lld: sides must be in 1..%d", (long long)h,
             (long long)w, MAX_SIDE);
  return nadi_dataset_resized(d, h, w, out);
}

nad_status nad_dataset_normalize(const nad_dataset *d, const double *mean, const double *std,
                                 size_t len, nad_dataset **out) {
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "nad_dataset_normalize: out is NULL");
  *out = NULL;
  NADI_CHECK(d && mean && std, NAD_ERR_INVALID_ARG, "nad_dataset_normalize: NULL argument");
  NADI_CHECK_LEN("nad_dataset_normalize", "mean and std (c)", len, d->c);
  for (size_t i = 0; i < len; i++) {
    NADI_CHECK(isfinite(mean[i]), NAD_ERR_INVALID_ARG,
               "nad_dataset_normalize: mean[%zu] = %g is not finite", i, mean[i]);
    NADI_CHECK(isfinite(std[i]) && std[i] > 0, NAD_ERR_INVALID_ARG,
               "nad_dataset_normalize: std[%zu] = %g must be finite and > 0", i, std[i]);
  }
  return nadi_dataset_normalized(d, mean, std, out);
}

nad_status nad_dataset_subset(const nad_dataset *d, int64_t first, int64_t count,
                              nad_dataset **out) {
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "nad_dataset_subset: out is NULL");
  *out = NULL;
  NADI_CHECK(d, NAD_ERR_INVALID_ARG, "nad_dataset_subset: dataset is NULL");
  NADI_CHECK(first >= 0 && count >= 1 && first < d->n && count <= d->n - first,
             NAD_ERR_INVALID_ARG,
             "nad_dataset_subset: samples %lld..%lld are not within the %lld samples",
             (long long)first, (long long)first + (long long)count - 1, (long long)d->n);
  return nadi_dataset_subset(d, first, count, out);
}

/* The NAD array against the data shape and the rows the carriers of classes 0..k−1 need. */
static nad_status check_nads(const char *fn, const float *nads, int64_t count, int64_t nad_dim,
                             int64_t c, int64_t h, int64_t w, int64_t index, int64_t k) {
  NADI_CHECK(nads, NAD_ERR_INVALID_ARG, "%s: nads is NULL", fn);
  NADI_CHECK(count >= 1, NAD_ERR_INVALID_ARG, "%s: count must be >= 1, got %lld", fn,
             (long long)count);
  NADI_CHECK(nad_dim == h * w, NAD_ERR_SHAPE,
             "%s: the NADs have D = %lld values, the data need single-channel NADs of h x w = "
             "%lldx%lld = %lld values (c = %lld channels share them)", fn, (long long)nad_dim,
             (long long)h, (long long)w, (long long)(h * w), (long long)c);
  NADI_CHECK(index >= 0, NAD_ERR_INVALID_ARG, "%s: the NAD index must be >= 0, got %lld", fn,
             (long long)index);
  const int64_t extra = (k - 1) / (2 * c); /* NADs index .. index + extra are used */
  const int64_t last = index < count ? index + extra : index;
  NADI_CHECK(index < count && extra < count - index, NAD_ERR_INVALID_ARG,
             "%s: index %lld: the carriers of %lld classes on %lld channel%s use NADs %lld..%lld, "
             "past the last NAD (%lld)", fn, (long long)index, (long long)k, (long long)c,
             c == 1 ? "" : "s", (long long)index, (long long)last, (long long)count - 1);
  return NAD_OK;
}

nad_status nad_poison_carrier(const float *nads, int64_t count, int64_t nad_dim, int64_t c,
                              int64_t h, int64_t w, int64_t index, int64_t t, float *dst,
                              size_t len, int32_t *sign) {
  const char *fn = "nad_poison_carrier";
  NADI_CHECK(c >= 1 && h >= 1 && w >= 1 && h <= MAX_SIDE && w <= MAX_SIDE && c <= MAX_SIDE,
             NAD_ERR_INVALID_ARG, "%s: shape %lldx%lldx%lld must be positive (sides <= %d)", fn,
             (long long)c, (long long)h, (long long)w, MAX_SIDE);
  NADI_CHECK(t >= 0 && t < NADI_MAX_CLASSES, NAD_ERR_INVALID_ARG,
             "%s: class %lld must be in 0..%d", fn, (long long)t, NADI_MAX_CLASSES - 1);
  NADI_TRY(check_nads(fn, nads, count, nad_dim, c, h, w, index, t + 1));
  NADI_CHECK(dst, NAD_ERR_INVALID_ARG, "%s: dst is NULL", fn);
  NADI_CHECK_LEN(fn, "dst (c·h·w)", len, c * h * w);
  int32_t s = 0;
  NADI_TRY(nadi_poison_carrier(nads, c, h, w, index, t, dst, &s));
  if (sign)
    *sign = s;
  return NAD_OK;
}

nad_status nad_dataset_poison(const nad_dataset *d, const float *nads, int64_t count,
                              int64_t nad_dim, int64_t index, double epsilon, nad_dataset **out) {
  const char *fn = "nad_dataset_poison";
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "%s: out is NULL", fn);
  *out = NULL;
  NADI_CHECK(d, NAD_ERR_INVALID_ARG, "%s: dataset is NULL", fn);
  NADI_CHECK(isfinite(epsilon) && epsilon >= 0, NAD_ERR_INVALID_ARG,
             "%s: epsilon must be finite and >= 0, got %g", fn, epsilon);
  NADI_TRY(check_nads(fn, nads, count, nad_dim, d->c, d->h, d->w, index, d->num_classes));
  return nadi_dataset_poison(d, nads, index, epsilon, out);
}
