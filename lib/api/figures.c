/* Public figures: argument validation in front of lib/figure (figure.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "figure/figure.h"

#define MAX_SIDE 8192 /* h, w and counts: far above any figure that fits 32767 points */

static nad_status check_format(const char *fn, nad_figure_format format) {
  NADI_CHECK(format == NAD_FIGURE_PNG || format == NAD_FIGURE_SVG || format == NAD_FIGURE_PDF,
             NAD_ERR_INVALID_ARG, "%s: unknown figure format %d (png 0, svg 1, pdf 2)", fn,
             (int)format);
  return NAD_OK;
}

nad_status nad_figure_format_by_name(const char *name, nad_figure_format *format) {
  NADI_CHECK(name && format, NAD_ERR_INVALID_ARG, "nad_figure_format_by_name: NULL argument");
  static const char *const names[] = {"png", "svg", "pdf"};
  for (int i = 0; i < 3; i++)
    if (strcmp(name, names[i]) == 0) {
      *format = (nad_figure_format)i;
      return NAD_OK;
    }
  return nadi_fail(NAD_ERR_INVALID_ARG, "unknown figure format '%s' (png, svg or pdf)", name);
}

/* The shape of a NAD set: every size >= 1 and bounded, so that products cannot overflow. */
static nad_status check_nads(const char *fn, const char *path, const float *nads, int64_t k,
                             int64_t c, int64_t h, int64_t w) {
  NADI_CHECK(path != NULL, NAD_ERR_INVALID_ARG, "%s: path is NULL", fn);
  NADI_CHECK(nads != NULL, NAD_ERR_INVALID_ARG, "%s: nads is NULL", fn);
  NADI_CHECK(k >= 1, NAD_ERR_INVALID_ARG, "%s: count must be >= 1, got %lld", fn, (long long)k);
  NADI_CHECK(c >= 1 && h >= 1 && w >= 1, NAD_ERR_INVALID_ARG,
             "%s: dimensions must be >= 1, got c=%lld h=%lld w=%lld", fn, (long long)c,
             (long long)h, (long long)w);
  int64_t d, total;
  NADI_CHECK(c <= MAX_SIDE && h <= MAX_SIDE && w <= MAX_SIDE && nadi_mul_ok(c, h, &d) &&
                 nadi_mul_ok(d, w, &d) && nadi_mul_ok(d, k, &total) &&
                 (uint64_t)total <= SIZE_MAX / sizeof(float),
             NAD_ERR_INVALID_ARG, "%s: sizes overflow or exceed %d a side", fn, MAX_SIDE);
  return NAD_OK;
}

nad_status nad_figure_nads(const char *path, nad_figure_format format, const float *nads,
                           int64_t k, int64_t c, int64_t h, int64_t w, const double *eigenvalues,
                           const int64_t *show, int64_t nshow, const char *title, int32_t flags) {
  static const char fn[] = "nad_figure_nads";
  NADI_TRY(check_format(fn, format));
  NADI_TRY(check_nads(fn, path, nads, k, c, h, w));
  NADI_CHECK((flags & ~NAD_FIGURE_NOT_CONVERGED) == 0, NAD_ERR_INVALID_ARG,
             "%s: unknown flags 0x%x", fn, (unsigned)flags);
  if (show) {
    NADI_CHECK(nshow >= 1 && nshow <= 4096, NAD_ERR_INVALID_ARG,
               "%s: nshow must be 1..4096, got %lld", fn, (long long)nshow);
    for (int64_t i = 0; i < nshow; i++)
      NADI_CHECK(show[i] >= 0 && show[i] < k, NAD_ERR_INVALID_ARG,
                 "%s: show[%lld] = %lld is not a NAD index (0..%lld)", fn, (long long)i,
                 (long long)show[i], (long long)(k - 1));
  }
  nadi_nads_figure d = {nads, k, c, h, w, eigenvalues, show, show ? nshow : 0, title,
                        (flags & NAD_FIGURE_NOT_CONVERGED) != 0};
  return nadi_figure_nads(path, format, &d, NULL);
}

nad_status nad_figure_spectrum(const char *path, nad_figure_format format, const double *spectrum,
                               int64_t c, int64_t h, int64_t w, const char *title) {
  static const char fn[] = "nad_figure_spectrum";
  NADI_TRY(check_format(fn, format));
  NADI_CHECK(path && spectrum, NAD_ERR_INVALID_ARG, "%s: path or spectrum is NULL", fn);
  NADI_CHECK(c >= 1 && h >= 1 && w >= 1 && c <= 64 && h <= 4096 && w <= 4096,
             NAD_ERR_INVALID_ARG, "%s: shape %lldx%lldx%lld out of range (c <= 64, h, w <= 4096)",
             fn, (long long)c, (long long)h, (long long)w);
  return nadi_figure_spectrum(path, format, spectrum, c, h, w, title, NULL);
}

nad_status nad_figure_eigenvalues(const char *path, nad_figure_format format,
                                  const double *eigenvalues, int64_t k, const char *title) {
  static const char fn[] = "nad_figure_eigenvalues";
  NADI_TRY(check_format(fn, format));
  NADI_CHECK(path && eigenvalues, NAD_ERR_INVALID_ARG, "%s: path or eigenvalues is NULL", fn);
  NADI_CHECK(k >= 1 && k <= (int64_t)(SIZE_MAX / sizeof(double)), NAD_ERR_INVALID_ARG,
             "%s: k must be >= 1, got %lld", fn, (long long)k);
  return nadi_figure_eigenvalues(path, format, eigenvalues, k, title, NULL);
}

nad_status nad_figure_heatmap(const char *path, nad_figure_format format, const double *values,
                              int64_t rows, int64_t cols, double lo, double hi, double x0,
                              double dx, double y0, double dy, const char *title,
                              const char *x_label, const char *y_label,
                              const char *value_label) {
  static const char fn[] = "nad_figure_heatmap";
  NADI_TRY(check_format(fn, format));
  NADI_CHECK(path && values, NAD_ERR_INVALID_ARG, "%s: path or values is NULL", fn);
  NADI_CHECK(rows >= 1 && cols >= 1 && rows <= MAX_SIDE && cols <= MAX_SIDE,
             NAD_ERR_INVALID_ARG, "%s: size %lldx%lld out of range (1..%d a side)", fn,
             (long long)rows, (long long)cols, MAX_SIDE);
  NADI_CHECK(isfinite(lo) && isfinite(hi) && lo < hi, NAD_ERR_INVALID_ARG,
             "%s: need finite lo < hi, got [%g, %g]", fn, lo, hi);
  NADI_CHECK(isfinite(x0) && isfinite(y0) && isfinite(dx) && isfinite(dy) && dx != 0 && dy != 0,
             NAD_ERR_INVALID_ARG, "%s: need finite x0, y0 and finite non-zero dx, dy", fn);
  nadi_heatmap_figure d = {values, rows,  cols,    lo,      hi,          x0,
                           dx,     y0,    dy,      title,   x_label,     y_label,
                           value_label, NADI_CMAP_SEQUENTIAL};
  return nadi_figure_heatmap(path, format, &d, NULL);
}

nad_status nad_figure_lines(const char *path, nad_figure_format format, const double *x,
                            const double *y, int64_t n, int64_t nseries, double y_lo, double y_hi,
                            const char *title, const char *x_label, const char *y_label,
                            const char *legend) {
  static const char fn[] = "nad_figure_lines";
  NADI_TRY(check_format(fn, format));
  NADI_CHECK(path && x && y, NAD_ERR_INVALID_ARG, "%s: NULL argument", fn);
  int64_t total;
  NADI_CHECK(n >= 1 && nseries >= 1 && nseries <= 64 && nadi_mul_ok(n, nseries, &total) &&
                 (uint64_t)total <= SIZE_MAX / sizeof(double),
             NAD_ERR_INVALID_ARG, "%s: need n >= 1 and 1 <= nseries <= 64, got n=%lld nseries=%lld",
             fn, (long long)n, (long long)nseries);
  NADI_CHECK(isfinite(y_lo) && isfinite(y_hi) && y_lo < y_hi, NAD_ERR_INVALID_ARG,
             "%s: need finite y_lo < y_hi, got [%g, %g]", fn, y_lo, y_hi);
  for (int64_t i = 0; i < n; i++)
    NADI_CHECK(isfinite(x[i]), NAD_ERR_INVALID_ARG, "%s: x[%lld] is not finite", fn,
               (long long)i);
  nadi_line_figure d = {.x = x, .y = y, .n = n, .nseries = nseries, .y_lo = y_lo, .y_hi = y_hi,
                        .title = title, .x_label = x_label, .y_label = y_label, .legend = legend};
  return nadi_figure_lines(path, format, &d, NULL);
}

/* ---- the PNG-only entry points of earlier releases ------------------------------------------ */

nad_status nad_png_write_nads(const char *path, const float *nads, int64_t count, int64_t c,
                              int64_t h, int64_t w) {
  NADI_TRY(check_nads("nad_png_write_nads", path, nads, count, c, h, w));
  nadi_nads_figure d = {nads, count, c, h, w, NULL, NULL, 0, NULL, 0};
  /* every one of the count NADs, as before (the default of nadi_figure_nads is the first 16) */
  int64_t *show = NULL;
  if (count > 16) {
    NADI_CHECK(count <= 4096, NAD_ERR_INVALID_ARG,
               "nad_png_write_nads: %lld NADs do not fit in one figure", (long long)count);
    show = malloc((size_t)count * sizeof *show);
    NADI_CHECK(show, NAD_ERR_OUT_OF_MEMORY, "nad_png_write_nads: out of memory");
    for (int64_t i = 0; i < count; i++)
      show[i] = i;
    d.show = show;
    d.nshow = count;
  }
  nad_status st = nadi_figure_nads(path, NAD_FIGURE_PNG, &d, NULL);
  free(show);
  return st;
}

nad_status nad_png_write_heatmap(const char *path, const double *values, int64_t rows,
                                 int64_t cols, double lo, double hi) {
  return nad_figure_heatmap(path, NAD_FIGURE_PNG, values, rows, cols, lo, hi, 0, 1, 0, 1, NULL,
                            NULL, NULL, NULL);
}

nad_status nad_png_write_lineplot(const char *path, const double *x, const double *y, int64_t n,
                                  double y_lo, double y_hi) {
  return nad_figure_lines(path, NAD_FIGURE_PNG, x, y, n, 1, y_lo, y_hi, NULL, NULL, NULL, NULL);
}

nad_status nad_figure_images(const char *path, nad_figure_format format, const float *x,
                             int64_t n, int64_t c, int64_t h, int64_t w, int64_t cols, double lo,
                             double hi, const char *title) {
  const char *fn = "nad_figure_images";
  NADI_TRY(check_format(fn, format));
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
  return nadi_figure_images(path, format, x, n, c, h, w, cols, lo, hi, title);
}

nad_status nad_png_write_images(const char *path, const float *x, int64_t n, int64_t c,
                                int64_t h, int64_t w, int64_t cols, double lo, double hi) {
  return nad_figure_images(path, NAD_FIGURE_PNG, x, n, c, h, w, cols, lo, hi, NULL);
}
