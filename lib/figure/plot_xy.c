/* Figures of swept results (lib/figure/figure.h): a heat map with axes and colour bar (the Fourier
 * grid of `nad sweep`) and line plots (accuracy against NAD index, several series). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figure/figure.h"

#define HEAT_TARGET 420.0 /* long side of a heat map, in points */
#define HEAT_MAX_CELL 32.0
#define PLOT_W 560.0
#define PLOT_H 320.0

static const uint8_t dark_red[3] = {170, 20, 30};

/* Says in words what the clamped colours cannot: how many values lie beyond the range. */
static void clamp_note(nadi_fig *f, double x, double y, const double *v, int64_t n, double lo,
                       double hi, int64_t below, int64_t above) {
  if (below == 0 && above == 0)
    return;
  int64_t finite = 0;
  double vmin = INFINITY, vmax = -INFINITY;
  for (int64_t i = 0; i < n; i++)
    if (isfinite(v[i])) {
      finite++;
      vmin = fmin(vmin, v[i]);
      vmax = fmax(vmax, v[i]);
    }
  char buf[160];
  if (below == finite)
    snprintf(buf, sizeof buf, "all %lld values are below the colour range (max %.4g < %g)",
             (long long)finite, vmax, lo);
  else if (above == finite)
    snprintf(buf, sizeof buf, "all %lld values are above the colour range (min %.4g > %g)",
             (long long)finite, vmin, hi);
  else
    snprintf(buf, sizeof buf, "%lld of %lld values below %g and %lld above %g are clamped",
             (long long)below, (long long)finite, lo, (long long)above, hi);
  nadi_text_style ts = {.size = 10, .bold = below == finite || above == finite,
                        .halign = NADI_LEFT, .valign = NADI_TOP, .rgb = dark_red};
  nadi_fig_text(f, x, y, &ts, buf);
}

nad_status nadi_figure_heatmap(const char *path, nad_figure_format fmt,
                               const nadi_heatmap_figure *d, nadi_fig_layout *layout) {
  nadi_fig_layout lay_local, *lay = layout ? layout : &lay_local;
  memset(lay, 0, sizeof *lay);
  int64_t side = d->rows > d->cols ? d->rows : d->cols;
  double cell = HEAT_TARGET / (double)side;
  cell = cell > HEAT_MAX_CELL ? HEAT_MAX_CELL : cell >= 1 ? floor(cell) : cell;
  double pw = cell * (double)d->cols, ph = cell * (double)d->rows;
  const double left = 80, top = 12 + (d->title && *d->title ? 26 : 4), right = 120;
  double width = fmax(left + pw + right, 420), height = top + ph + 74;
  nadi_fig *f = NULL;
  NADI_TRY(nadi_fig_create(path, fmt, d->title, width, height, &f));
  lay->width = ceil(width);
  lay->height = ceil(height);
  if (d->title && *d->title) {
    nadi_draw_title(f, width, 8, d->title);
    lay->title = (nadi_fig_box){0, 8, width, 16};
  }
  nadi_axes a = {.x = left, .y = top, .w = pw, .h = ph, .x_lo = d->x0 - d->dx / 2,
                 .x_hi = d->x0 + ((double)d->cols - 0.5) * d->dx,
                 .y_lo = d->y0 + ((double)d->rows - 0.5) * d->dy, .y_hi = d->y0 - d->dy / 2};
  int64_t below = 0, above = 0;
  nad_status st = nadi_draw_heat(f, a.x, a.y, a.w, a.h, d->values, d->rows, d->cols, d->lo,
                                 d->hi, d->cmap, &below, &above);
  nadi_draw_axes(f, &a, d->x_label, d->y_label, 0);
  double bx = left + pw + 14, bh = ph < 80 ? 80 : ph;
  nadi_draw_colour_bar(f, bx, top, 12, bh, d->cmap, d->lo, d->hi, d->value_label, below > 0,
                       above > 0);
  clamp_note(f, 8, height - 18, d->values, d->rows * d->cols, d->lo, d->hi, below, above);
  lay->plot = (nadi_fig_box){a.x, a.y, a.w, a.h};
  lay->cbar = (nadi_fig_box){bx, top, 12, bh};
  if (st == NAD_OK)
    st = nadi_fig_save(f);
  nadi_fig_destroy(f);
  return st;
}

/* matplotlib's tab10, the first five */
static const uint8_t series_rgb[5][3] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189}};

/* Legend entry i: the i-th '\n'-separated name, copied into buf. */
static const char *legend_name(const char *legend, int64_t i, char *buf, size_t len) {
  const char *p = legend;
  for (int64_t k = 0; k < i && p; k++) {
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  if (!p)
    return NULL;
  size_t n = strcspn(p, "\n");
  n = n < len - 1 ? n : len - 1;
  memcpy(buf, p, n);
  buf[n] = 0;
  return buf;
}

nad_status nadi_figure_lines(const char *path, nad_figure_format fmt, const nadi_line_figure *d,
                             nadi_fig_layout *layout) {
  nadi_fig_layout lay_local, *lay = layout ? layout : &lay_local;
  memset(lay, 0, sizeof *lay);
  const double left = 80, top = 12 + (d->title && *d->title ? 26 : 4), right = 24;
  double width = left + PLOT_W + right, height = top + PLOT_H + 60;
  double xmin = INFINITY, xmax = -INFINITY;
  for (int64_t i = 0; i < d->n; i++) {
    xmin = fmin(xmin, d->x[i]);
    xmax = fmax(xmax, d->x[i]);
  }
  if (!(xmax > xmin)) { /* one distinct x: centre it */
    xmin -= 1;
    xmax += 1;
  }
  double pad = (xmax - xmin) * 0.03;
  nadi_axes a = {.x = left, .y = top, .w = PLOT_W, .h = PLOT_H, .x_lo = xmin - pad,
                 .x_hi = xmax + pad, .y_lo = d->y_log ? log10(d->y_lo) : d->y_lo,
                 .y_hi = d->y_log ? log10(d->y_hi) : d->y_hi, .y_log = d->y_log};
  double *px = malloc((size_t)d->n * sizeof(double)), *py = malloc((size_t)d->n * sizeof(double));
  nadi_fig *f = NULL;
  nad_status st = px && py ? nadi_fig_create(path, fmt, d->title, width, height, &f)
                           : nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  if (st == NAD_OK) {
    lay->width = ceil(width);
    lay->height = ceil(height);
    if (d->title && *d->title) {
      nadi_draw_title(f, width, 8, d->title);
      lay->title = (nadi_fig_box){0, 8, width, 16};
    }
    nadi_draw_axes(f, &a, d->x_label, d->y_label, 1);
    lay->plot = (nadi_fig_box){a.x, a.y, a.w, a.h};
    int markers = d->n <= 64;
    for (int64_t s = 0; s < d->nseries; s++) {
      const double *y = d->y + s * d->n;
      for (int64_t i = 0; i < d->n; i++) {
        px[i] = nadi_axes_px(&a, d->x[i]);
        double v = isnan(y[i]) || (d->y_log && !(y[i] > 0)) ? NAN : nadi_axes_py(&a, y[i]);
        py[i] = isnan(v) ? NAN : fmin(fmax(v, a.y), a.y + a.h); /* clamped to the frame */
      }
      const uint8_t *c = series_rgb[s % 5];
      nadi_fig_polyline(f, px, py, d->n, 1.8, c);
      for (int64_t i = 0; markers && i < d->n; i++)
        if (!isnan(py[i]))
          nadi_fig_disc(f, px[i], py[i], 3, c);
      char buf[80];
      if (d->legend && legend_name(d->legend, s, buf, sizeof buf)) {
        double ly = a.y + 12 + 16 * (double)s, lx = a.x + a.w - 150;
        nadi_fig_line(f, lx, ly, lx + 20, ly, 2.5, c);
        nadi_text_style ts = {.size = 10, .halign = NADI_LEFT, .valign = NADI_MIDDLE};
        nadi_fig_text(f, lx + 26, ly, &ts, buf);
      }
    }
    st = nadi_fig_save(f);
  }
  nadi_fig_destroy(f);
  free(px);
  free(py);
  return st;
}
