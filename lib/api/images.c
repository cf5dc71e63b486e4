/* Public façade of the image-grid picture (lib/io/image_grid.c): argument validation. */
#include <math.h>

#include "core/core.h"
#include "io/io.h"

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
