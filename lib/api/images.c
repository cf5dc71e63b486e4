/* Public picture of sample images: validation in front of lib/io/images.c. */
#include <math.h>

#include "core/core.h"
#include "io/io.h"

nad_status nad_png_write_images(const char *path, const float *x, int64_t n, int64_t c,
                                int64_t h, int64_t w, int64_t cols, double lo, double hi) {
  const char *fn = "nad_png_write_images";
  NADI_CHECK(path && x, NAD_ERR_INVALID_ARG, "%s: path or x is NULL", fn);
  int64_t d, total;
  NADI_CHECK(n >= 1 && c >= 1 && h >= 1 && w >= 1 && nadi_mul_ok(c, h, &d) &&
                 nadi_mul_ok(d, w, &d) && nadi_mul_ok(n, d, &total),
             NAD_ERR_INVALID_ARG, "%s: %lld images of %lldx%lldx%lld is not a valid size", fn,
             (long long)n, (long long)c, (long long)h, (long long)w);
  NADI_CHECK(cols >= 1, NAD_ERR_INVALID_ARG, "%s: cols must be >= 1, got %lld", fn,
             (long long)cols);
  NADI_CHECK(isfinite(lo) && isfinite(hi) && lo < hi, NAD_ERR_INVALID_ARG,
             "%s: need finite lo < hi, got [%g, %g]", fn, lo, hi);
  return nadi_png_write_images(path, x, n, c, h, w, cols, lo, hi);
}
