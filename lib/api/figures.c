/* Public PNG figures: argument validation in front of lib/io/png.c and lib/io/image_grid.c. */
#include <math.h>

#include "api/api.h"
#include "io/io.h"

nad_status nad_png_write_nads(const char *path, const float *nads, int64_t count, int64_t c,
                              int64_t h, int64_t w) {
  NADI_CHECK(path != NULL, NAD_ERR_INVALID_ARG, "nad_png_write_nads: path is NULL");
  NADI_CHECK(nads != NULL, NAD_ERR_INVALID_ARG, "nad_png_write_nads: nads is NULL");
  NADI_CHECK(count >= 1, NAD_ERR_INVALID_ARG, "nad_png_write_nads: count must be >= 1, got %lld",
             (long long)count);
  NADI_CHECK(c >= 1 && h >= 1 && w >= 1, NAD_ERR_INVALID_ARG,
             "nad_png_write_nads: dimensions must be >= 1, got c=%lld h=%lld w=%lld", (long long)c,
             (long long)h, (long long)w);
  int64_t d, total, hw, work;
  NADI_CHECK(nadi_mul_ok(c, h, &d) && nadi_mul_ok(d, w, &d) && nadi_mul_ok(d, count, &total) &&
                 nadi_mul_ok(h, w, &hw) && nadi_mul_ok(hw, 5 * (int64_t)sizeof(double), &work) &&
                 (uint64_t)total <= SIZE_MAX / sizeof(float),
             NAD_ERR_INVALID_ARG, "nad_png_write_nads: sizes overflow");
  return nadi_png_write_nads(path, nads, count, c, h, w);
}

nad_status nad_png_write_heatmap(const char *path, const double *values, int64_t rows,
                                 int64_t cols, double lo, double hi) {
  NADI_CHECK(path && values, NAD_ERR_INVALID_ARG, "nad_png_write_heatmap: path or values is NULL");
  NADI_CHECK(rows >= 1 && cols >= 1 && rows <= INT32_MAX && cols <= INT32_MAX,
             NAD_ERR_INVALID_ARG, "nad_png_write_heatmap: size %lldx%lld out of range",
             (long long)rows, (long long)cols);
  NADI_CHECK(isfinite(lo) && isfinite(hi) && lo < hi, NAD_ERR_INVALID_ARG,
             "nad_png_write_heatmap: need finite lo < hi, got [%g, %g]", lo, hi);
  return nadi_png_write_heatmap(path, values, rows, cols, lo, hi, NADI_CMAP_SEQUENTIAL);
}

nad_status nad_png_write_lineplot(const char *path, const double *x, const double *y, int64_t n,
                                  double y_lo, double y_hi) {
  NADI_CHECK(path && x && y, NAD_ERR_INVALID_ARG, "nad_png_write_lineplot: NULL argument");
  NADI_CHECK(n >= 1 && n <= (int64_t)(SIZE_MAX / sizeof(double)), NAD_ERR_INVALID_ARG,
             "nad_png_write_lineplot: n must be >= 1, got %lld", (long long)n);
  NADI_CHECK(isfinite(y_lo) && isfinite(y_hi) && y_lo < y_hi, NAD_ERR_INVALID_ARG,
             "nad_png_write_lineplot: need finite y_lo < y_hi, got [%g, %g]", y_lo, y_hi);
  for (int64_t i = 0; i < n; i++)
    NADI_CHECK(isfinite(x[i]), NAD_ERR_INVALID_ARG,
               "nad_png_write_lineplot: x[%lld] is not finite", (long long)i);
  return nadi_png_write_lineplot(path, x, y, n, y_lo, y_hi);
}

nad_status nad_png_write_images(const char *path, const float *x, int64_t n, int64_t c,
                                int64_t h, int64_t w, int64_t cols, double lo, double hi) {
  const char *fn = "nad_png_write_images";
  NADI_CHECK(path && x, NAD_ERR_INVALID_ARG, "%s: path or x is NULL", fn);
  NADI_CHECK(n >= 1 && cols >= 1, NAD_ERR_INVALID_ARG, "%s: n = %lld and cols = %lld must be >= 1",
             fn, (long long)n, (long long)cols);
  NADI_CHECK(c == 1 || c == 3, NAD_ERR_INVALID_ARG,
             "%s: images must have 1 (grey) or 3 (RGB) channels, got %lld", fn, (long long)c);
  NADI_CHECK(h >= 1 && w >= 1 && h <= NADI_IMAGE_GRID_MAX_SIDE && w <= NADI_IMAGE_GRID_MAX_SIDE,
             NAD_ERR_INVALID_ARG, "%s: image size %lldx%lld out of range", fn, (long long)h,
             (long long)w);
  NADI_CHECK(isfinite(lo) && isfinite(hi) && lo < hi, NAD_ERR_INVALID_ARG,
             "%s: need finite lo < hi, got [%g, %g]", fn, lo, hi);
  NADI_CHECK(n <= NADI_IMAGE_GRID_MAX_SIDE * NADI_IMAGE_GRID_MAX_SIDE, NAD_ERR_INVALID_ARG,
             "%s: %lld images do not fit in one picture", fn, (long long)n);
  return nadi_png_write_images(path, x, n, c, h, w, cols, lo, hi);
}
