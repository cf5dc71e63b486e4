/* A grid of images as one PNG (pictures of dataset samples, poisoned samples, carriers): grey
 * for one channel, RGB for three, a linear map of [lo, hi] to 0..255, small images magnified
 * by an integer factor so that they stay visible. Written through the figure canvas
 * (lib/figure/canvas.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "figure/figure.h"

#define MIN_SIDE 64 /* images below this are magnified (32×32 → 64×64) */
#define GAP 1       /* pixels between images, filled with a mid grey */

static uint8_t level(float v, double lo, double hi) {
  if (isnan(v))
    return 0;
  double t = ((double)v - lo) / (hi - lo);
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return (uint8_t)lrint(t * 255.0);
}

nad_status nadi_figure_images(const char *path, nad_figure_format fmt, const float *x, int64_t n,
                              int64_t c, int64_t h, int64_t w, int64_t cols, double lo, double hi,
                              const char *title) {
  const int64_t side = h > w ? h : w;
  const int64_t zoom = side >= MIN_SIDE ? 1 : (MIN_SIDE + side - 1) / side;
  const int64_t ncol = cols < n ? cols : n, nrow = (n + ncol - 1) / ncol; /* no overflow */
  const int64_t cw = w * zoom + GAP, chh = h * zoom + GAP;
  const int64_t W = ncol * cw - GAP, H = nrow * chh - GAP;
  NADI_CHECK(W <= NADI_IMAGE_GRID_MAX_SIDE && H <= NADI_IMAGE_GRID_MAX_SIDE, NAD_ERR_INVALID_ARG,
             "%s: a grid of %lld images of %lldx%lld in %lld columns is too large for a PNG",
             path, (long long)n, (long long)h, (long long)w, (long long)cols);
  uint8_t *rgb = malloc((size_t)(W * H * 3));
  NADI_CHECK(rgb, NAD_ERR_OUT_OF_MEMORY, "%s: out of memory for a %lldx%lld picture", path,
             (long long)W, (long long)H);
  memset(rgb, 128, (size_t)(W * H * 3));
  const int64_t plane = h * w;
  for (int64_t i = 0; i < n; i++) {
    const float *img = x + i * c * plane;
    const int64_t y0 = (i / cols) * chh, x0 = (i % cols) * cw;
    for (int64_t y = 0; y < h * zoom; y++)
      for (int64_t xx = 0; xx < w * zoom; xx++) {
        const int64_t p = (y / zoom) * w + xx / zoom;
        uint8_t *o = rgb + ((y0 + y) * W + x0 + xx) * 3;
        for (int k = 0; k < 3; k++)
          o[k] = level(img[(c == 3 ? k : 0) * plane + p], lo, hi);
      }
  }
  nad_status st;
  if (!title || !*title) {
    st = nadi_fig_write_rgb(path, fmt, W, H, rgb);
  } else { /* a title line above the grid; the page is at least wide enough for a short one */
    const double top = 26, page_w = W > 240 ? (double)W : 240;
    nadi_fig *f = NULL;
    st = nadi_fig_create(path, fmt, title, page_w, (double)H + top, &f);
    if (st == NAD_OK) {
      nadi_draw_title(f, page_w, 6, title);
      nadi_fig_image(f, (page_w - (double)W) / 2, top, (double)W, (double)H, rgb, W, H);
      st = nadi_fig_save(f);
    }
    nadi_fig_destroy(f);
  }
  free(rgb);
  return st;
}
