/* A grid of sample images (originals next to modified ones, poisoned samples, ...) as one PNG,
 * drawn into an RGB buffer and encoded by png.c. Pictures of a few dozen samples are small,
 * so the whole image is kept in memory. */
#include <math.h>
#include <string.h>

#include "io/io.h"
#include "core/core.h"

#define IMG_MARGIN 4     /* white pixels around and between images */
#define IMG_TARGET_PX 64 /* images are scaled up to about this size */
#define IMG_MAX_SCALE 8

static uint8_t to_byte(float v, double lo, double hi) {
  if (isnan(v))
    return 128;
  double t = ((double)v - lo) / (hi - lo);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return (uint8_t)lround(255.0 * t);
}

nad_status nadi_png_write_images(const char *path, const float *x, int64_t n, int64_t c,
                                 int64_t h, int64_t w, int64_t cols, double lo, double hi) {
  const int64_t side = h > w ? h : w;
  int64_t scale = side >= IMG_TARGET_PX ? 1 : IMG_TARGET_PX / side;
  scale = scale > IMG_MAX_SCALE ? IMG_MAX_SCALE : scale;
  const int64_t rows = (n + cols - 1) / cols, shown = n < cols ? n : cols;
  const int64_t pw = IMG_MARGIN + shown * (w * scale + IMG_MARGIN);
  const int64_t ph = IMG_MARGIN + rows * (h * scale + IMG_MARGIN);
  int64_t bytes;
  if (!nadi_mul_ok(pw, ph, &bytes) || !nadi_mul_ok(bytes, 3, &bytes) || pw > 0x7fffffff ||
      ph > 0x7fffffff)
    return nadi_fail(NAD_ERR_INVALID_ARG, "%s: a grid of %lld images of %lldx%lld is too large",
                     path, (long long)n, (long long)h, (long long)w);
  uint8_t *rgb = nadi_alloc((size_t)bytes, 1);
  if (!rgb)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: picture of %lldx%lld pixels", path,
                     (long long)pw, (long long)ph);
  memset(rgb, 255, (size_t)bytes);
  const int64_t plane = h * w;
  for (int64_t i = 0; i < n; i++) {
    const float *img = x + i * c * plane;
    const int64_t y0 = IMG_MARGIN + (i / cols) * (h * scale + IMG_MARGIN);
    const int64_t x0 = IMG_MARGIN + (i % cols) * (w * scale + IMG_MARGIN);
    for (int64_t yy = 0; yy < h * scale; yy++)
      for (int64_t xx = 0; xx < w * scale; xx++) {
        const int64_t src = (yy / scale) * w + xx / scale;
        uint8_t *px = rgb + ((y0 + yy) * pw + x0 + xx) * 3;
        for (int k = 0; k < 3; k++)
          px[k] = to_byte(img[(c == 3 ? k : 0) * plane + src], lo, hi);
      }
  }
  nad_status st = nadi_png_write_rgb(path, pw, ph, rgb);
  nadi_free(rgb);
  return st;
}
