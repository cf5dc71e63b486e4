/* Figures of one NAD run (lib/figure/figure.h): the NAD grid (each NAD above its Fourier power),
 * the covariance's Fourier power per channel, and the eigenvalue decay. Spectra come from the
 * FFTW wrapper (lib/core/fft.c: nadi_fft2d_power). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fft.h"
#include "figure/figure.h"

#define DEFAULT_SHOWN 16
#define GRID_MAX_COLS 8
#define TILE_TARGET 96.0 /* tiles are scaled by a whole factor to about this size */
#define TILE_MAX_SCALE 12
#define GAP 6.0
#define LABEL_H 13.0
#define LEFT 70.0   /* room for the row labels */
#define RIGHT 110.0 /* room for the colour bars */
#define SPECTRUM_DECADES 8.0 /* the spectrum colour scale spans at most this many decades */

static const uint8_t red[3] = {200, 20, 30}, white[3] = {255, 255, 255};

void nadi_power_spectrum(nadi_fft2d *fft, const float *x, int64_t h, int64_t w, double *half,
                         double *power) {
  memset(half, 0, (size_t)(h * (w / 2 + 1)) * sizeof(double));
  nadi_fft2d_power(fft, x, 1.0, half);
  nadi_fft_unfold_half(half, h, w, power);
}

/* ---- NAD grid ---------------------------------------------------------------------------------- */

typedef struct grid {
  const nadi_nads_figure *d;
  int64_t nshow, scale, cols, bands;
  double tile_w, tile_h, band_h, top, width, height;
  double spec_lo, spec_hi; /* log10 colour range of the spectrum rows */
  int spec_clamped;        /* some power fell below spec_lo */
  nadi_fft2d *fft; /* planned once for the figure's h×w */
  double *half, *power;
  uint8_t *rgb; /* one tile, upscaled */
} grid;

static int64_t shown(const grid *g, int64_t i) { return g->d->show ? g->d->show[i] : i; }

/* The colour scale of the spectrum rows: one range over every shown tile, so one colour bar
 * reads them all. The spectra are transformed again when drawn rather than kept: up to 4096
 * tiles of c·h·w doubles each would be far more memory than one more FFT per tile costs. */
static void spectrum_range(grid *g) {
  const nadi_nads_figure *d = g->d;
  const int64_t hw = d->h * d->w;
  double pmax = 0, pmin = INFINITY;
  for (int64_t i = 0; i < g->nshow; i++)
    for (int64_t ch = 0; ch < d->c; ch++) {
      nadi_power_spectrum(g->fft, d->nads + (shown(g, i) * d->c + ch) * hw, d->h, d->w, g->half,
                          g->power);
      for (int64_t p = 0; p < hw; p++)
        if (isfinite(g->power[p])) {
          pmax = fmax(pmax, g->power[p]);
          if (g->power[p] > 0)
            pmin = fmin(pmin, g->power[p]);
        }
    }
  if (!(pmax > 0)) { /* all-zero NADs: an arbitrary range, everything at its bottom */
    g->spec_hi = 0;
    g->spec_lo = -1;
    return;
  }
  g->spec_hi = log10(pmax);
  g->spec_lo = fmax(log10(pmin), g->spec_hi - SPECTRUM_DECADES);
  if (g->spec_hi - g->spec_lo < 1e-6) /* flat spectrum (e.g. one pixel): show one decade */
    g->spec_lo = g->spec_hi - 1;
  g->spec_clamped = log10(pmin) < g->spec_lo - 1e-9 || pmin == INFINITY;
}

static void put_pixel(grid *g, int64_t i, int64_t k, const uint8_t px[3]) {
  const int64_t s = g->scale, tw = g->d->w * s;
  for (int64_t dy = 0; dy < s; dy++)
    for (int64_t dx = 0; dx < s; dx++)
      memcpy(g->rgb + 3 * ((i * s + dy) * tw + k * s + dx), px, 3);
}

static void draw_nad(nadi_fig *f, grid *g, const float *x, double x0, double y0) {
  const nadi_nads_figure *d = g->d;
  double m = 0;
  for (int64_t i = 0; i < d->h * d->w; i++)
    if (isfinite(x[i]))
      m = fmax(m, fabs(x[i]));
  for (int64_t i = 0; i < d->h; i++)
    for (int64_t k = 0; k < d->w; k++) {
      double v = x[i * d->w + k];
      uint8_t px[3];
      nadi_cmap_diverging(!isfinite(v) ? NAN : m > 0 ? 0.5 + 0.5 * v / m : 0.5, px);
      put_pixel(g, i, k, px);
    }
  nadi_fig_image(f, x0, y0, g->tile_w, g->tile_h, g->rgb, d->w * g->scale, d->h * g->scale);
}

static void draw_spectrum(nadi_fig *f, grid *g, const float *x, double x0, double y0) {
  const nadi_nads_figure *d = g->d;
  nadi_power_spectrum(g->fft, x, d->h, d->w, g->half, g->power);
  for (int64_t i = 0; i < d->h; i++)
    for (int64_t k = 0; k < d->w; k++) {
      double p = g->power[i * d->w + k];
      uint8_t px[3];
      nadi_cmap_sequential(!isfinite(p) ? NAN
                           : p > 0      ? (log10(p) - g->spec_lo) / (g->spec_hi - g->spec_lo)
                                        : 0,
                           px);
      put_pixel(g, i, k, px);
    }
  nadi_fig_image(f, x0, y0, g->tile_w, g->tile_h, g->rgb, d->w * g->scale, d->h * g->scale);
}

static nad_status draw_grid(nadi_fig *f, grid *g, nadi_fig_layout *lay) {
  const nadi_nads_figure *d = g->d;
  const int64_t hw = d->h * d->w;
  nadi_text_style label = {.size = 9, .halign = NADI_LEFT, .valign = NADI_BOTTOM};
  nadi_text_style row = {.size = 10, .halign = NADI_RIGHT, .valign = NADI_MIDDLE};
  char buf[64];
  for (int64_t b = 0; b < g->bands; b++) {
    double yb = g->top + b * g->band_h;
    for (int64_t ch = 0; ch < d->c; ch++) {
      double yn = yb + LABEL_H + ch * 2 * (g->tile_h + GAP), ys = yn + g->tile_h + GAP;
      if (d->c > 1)
        snprintf(buf, sizeof buf, "NAD ch %lld", (long long)ch);
      nadi_fig_text(f, LEFT - 8, yn + g->tile_h / 2, &row, d->c > 1 ? buf : "NAD");
      if (d->c > 1)
        snprintf(buf, sizeof buf, "|F|² ch %lld", (long long)ch);
      nadi_fig_text(f, LEFT - 8, ys + g->tile_h / 2, &row, d->c > 1 ? buf : "|F|² (log)");
      for (int64_t j = 0; j < g->cols; j++) {
        int64_t n = b * g->cols + j;
        if (n >= g->nshow)
          break;
        int64_t idx = shown(g, n);
        const float *x = d->nads + (idx * d->c + ch) * hw;
        double x0 = LEFT + j * (g->tile_w + GAP);
        if (ch == 0) {
          int len = snprintf(buf, sizeof buf, "#%lld", (long long)idx);
          if (d->eigenvalues)
            snprintf(buf + len, sizeof buf - (size_t)len, "  λ %.3g", d->eigenvalues[idx]);
          nadi_fig_text(f, x0, yn - 2, &label, buf);
        }
        draw_nad(f, g, x, x0, yn);
        draw_spectrum(f, g, x, x0, ys);
        if (b == 0 && j == 0 && ch == 0) {
          lay->plot = (nadi_fig_box){x0, yn, g->tile_w, g->tile_h};
          lay->plot2 = (nadi_fig_box){x0, ys, g->tile_w, g->tile_h};
        }
      }
    }
  }
  /* One colour bar per row kind, right of the first band. */
  double bx = LEFT + g->cols * (g->tile_w + GAP) + 14, bh = fmax(g->tile_h, 90), bw = 12;
  double by = g->top + LABEL_H;
  nadi_draw_colour_bar(f, bx, by, bw, bh, NADI_CMAP_DIVERGING, -1, 1, "NAD / max |NAD|", 0, 0);
  double by2 = by + bh + 28;
  nadi_draw_colour_bar(f, bx, by2, bw, bh, NADI_CMAP_SEQUENTIAL, g->spec_lo, g->spec_hi,
                       "log10 |F|²", g->spec_clamped, 0);
  lay->cbar = (nadi_fig_box){bx, by, bw, bh};
  lay->cbar2 = (nadi_fig_box){bx, by2, bw, bh};
  return NAD_OK;
}

/* Title line and the "not converged" stamp; returns the y where the grid starts. */
static double draw_header(nadi_fig *f, double width, const char *title, int stamp,
                          nadi_fig_layout *lay) {
  double y = 8;
  if (title && *title) {
    nadi_draw_title(f, width, y, title);
    lay->title = (nadi_fig_box){0, y, width, 16};
    y += 22;
  }
  if (stamp) {
    static const char text[] = "NOT CONVERGED: the two halves of the networks disagree";
    nadi_text_style ts = {.size = 11, .bold = 1, .halign = NADI_CENTRE, .valign = NADI_MIDDLE,
                          .rgb = white};
    double tw = nadi_fig_text_width(f, &ts, text) + 16;
    lay->stamp = (nadi_fig_box){(width - tw) / 2, y, tw, 20};
    nadi_fig_rect(f, lay->stamp.x, y, tw, 20, red, NULL, 0);
    nadi_fig_text(f, width / 2, y + 10, &ts, text);
    y += 26;
  }
  return y + 4;
}

nad_status nadi_figure_nads(const char *path, nad_figure_format fmt, const nadi_nads_figure *d,
                            nadi_fig_layout *layout) {
  nadi_fig_layout lay_local, *lay = layout ? layout : &lay_local;
  memset(lay, 0, sizeof *lay);
  grid g = {.d = d};
  g.nshow = d->show ? d->nshow : (d->k < DEFAULT_SHOWN ? d->k : DEFAULT_SHOWN);
  int64_t side = d->h > d->w ? d->h : d->w;
  g.scale = (int64_t)lround(TILE_TARGET / (double)side);
  g.scale = g.scale < 1 ? 1 : g.scale > TILE_MAX_SCALE ? TILE_MAX_SCALE : g.scale;
  /* Sides are bounded before any product is formed (the façade bounds h, w, c and nshow). */
  NADI_CHECK(d->w <= 8192 && d->h <= 8192 && d->c <= 64, NAD_ERR_INVALID_ARG,
             "%s: NADs of %lldx%lldx%lld are too large to draw", path, (long long)d->c,
             (long long)d->h, (long long)d->w);
  g.tile_w = (double)(d->w * g.scale);
  g.tile_h = (double)(d->h * g.scale);
  /* Up to 8 columns, fewer when wide tiles would not fit the page. */
  int64_t fit = (int64_t)((NADI_FIG_MAX_SIDE - LEFT - RIGHT) / (g.tile_w + GAP));
  g.cols = g.nshow < GRID_MAX_COLS ? g.nshow : GRID_MAX_COLS;
  g.cols = g.cols < fit ? g.cols : fit < 1 ? 1 : fit;
  g.bands = (g.nshow + g.cols - 1) / g.cols;
  g.band_h = LABEL_H + d->c * 2 * (g.tile_h + GAP) + 8;
  g.width = LEFT + g.cols * (g.tile_w + GAP) + RIGHT;
  /* header height: title and stamp, as draw_header lays them out */
  g.top = 12 + (d->title && *d->title ? 22 : 0) + (d->not_converged ? 26 : 0);
  double bars = g.top + LABEL_H + 2 * fmax(g.tile_h, 90) + 28 + 30;
  g.height = fmax(g.top + g.bands * g.band_h + 4, bars);
  NADI_CHECK(g.width <= NADI_FIG_MAX_SIDE && g.height <= NADI_FIG_MAX_SIDE, NAD_ERR_INVALID_ARG,
             "%s: %lld NADs of %lldx%lldx%lld do not fit in one figure (at most %.0f points a "
             "side): show fewer",
             path, (long long)g.nshow, (long long)d->c, (long long)d->h, (long long)d->w,
             NADI_FIG_MAX_SIDE);
  const int64_t hw = d->h * d->w;
  g.half = malloc((size_t)(d->h * (d->w / 2 + 1)) * sizeof(double));
  g.power = malloc((size_t)hw * sizeof(double));
  g.rgb = malloc((size_t)(hw * g.scale * g.scale) * 3);
  nadi_fig *f = NULL;
  nad_status st;
  if (!g.half || !g.power || !g.rgb)
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  else
    st = nadi_fft2d_create(d->h, d->w, &g.fft);
  if (st == NAD_OK) {
    spectrum_range(&g);
    st = nadi_fig_create(path, fmt, d->title, g.width, g.height, &f);
  }
  if (st == NAD_OK) {
    lay->width = ceil(g.width);
    lay->height = ceil(g.height);
    draw_header(f, g.width, d->title, d->not_converged, lay);
    st = draw_grid(f, &g, lay);
    if (st == NAD_OK)
      st = nadi_fig_save(f);
  }
  nadi_fig_destroy(f);
  nadi_fft2d_destroy(g.fft);
  free(g.half);
  free(g.power);
  free(g.rgb);
  return st;
}

/* ---- covariance spectrum ---------------------------------------------------------------------- */

nad_status nadi_figure_spectrum(const char *path, nad_figure_format fmt, const double *spectrum,
                                int64_t c, int64_t h, int64_t w, const char *title,
                                nadi_fig_layout *layout) {
  nadi_fig_layout lay_local, *lay = layout ? layout : &lay_local;
  memset(lay, 0, sizeof *lay);
  NADI_CHECK(h <= 4096 && w <= 4096 && c <= 64, NAD_ERR_INVALID_ARG,
             "%s: a spectrum of %lldx%lldx%lld is too large to draw", path, (long long)c,
             (long long)h, (long long)w);
  const int64_t hw = h * w;
  /* Panels of about 320 points, a whole number of points per frequency when it fits. */
  int64_t side = h > w ? h : w;
  double cell = side >= 320 ? 320.0 / (double)side : floor(320.0 / (double)side);
  double pw = cell * (double)w, ph = cell * (double)h;
  /* Per channel: the panel, its colour bar with tick labels, then the next panel's y axis. */
  const double left = 70, top0 = 12 + (title && *title ? 22 : 0), bar_room = 100, axis_room = 70;
  const double step = pw + bar_room + axis_room;
  double width = left + (double)c * step - axis_room + 10, height = top0 + 20 + ph + 50;
  double *logp = malloc((size_t)hw * sizeof(double));
  NADI_CHECK(logp, NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  nadi_fig *f = NULL;
  nad_status st = nadi_fig_create(path, fmt, title, width, height, &f);
  if (st != NAD_OK) {
    free(logp);
    return st;
  }
  lay->width = ceil(width);
  lay->height = ceil(height);
  if (title && *title) {
    nadi_draw_title(f, lay->width, 8, title);
    lay->title = (nadi_fig_box){0, 8, lay->width, 16};
  }
  double x = left;
  for (int64_t ch = 0; ch < c && st == NAD_OK; ch++) {
    const double *p = spectrum + ch * hw;
    double pmax = 0, pmin = INFINITY;
    for (int64_t i = 0; i < hw; i++)
      if (isfinite(p[i]) && p[i] > 0) {
        pmax = fmax(pmax, p[i]);
        pmin = fmin(pmin, p[i]);
      }
    double hi = pmax > 0 ? log10(pmax) : 0;
    double lo = pmax > 0 ? fmax(log10(pmin), hi - 12) : -1;
    if (hi - lo < 1e-6)
      lo = hi - 1;
    for (int64_t i = 0; i < hw; i++)
      logp[i] = isnan(p[i]) ? NAN : p[i] > 0 ? log10(p[i]) : -INFINITY;
    nadi_axes a = {.x = x, .y = top0 + 20, .w = pw, .h = ph,
                   .x_lo = -(double)(w / 2) - 0.5, .x_hi = (double)((w - 1) / 2) + 0.5,
                   .y_lo = (double)((h - 1) / 2) + 0.5, .y_hi = -(double)(h / 2) - 0.5};
    int64_t below = 0;
    st = nadi_draw_heat(f, a.x, a.y, a.w, a.h, logp, h, w, lo, hi, NADI_CMAP_SEQUENTIAL, &below,
                        NULL);
    nadi_draw_axes(f, &a, "fx (cycles per image)", "fy (cycles per image)", 0);
    char buf[64];
    snprintf(buf, sizeof buf, "channel %lld", (long long)ch);
    if (c > 1) {
      nadi_text_style ts = {.size = 10, .halign = NADI_CENTRE, .valign = NADI_BOTTOM};
      nadi_fig_text(f, x + pw / 2, a.y - 3, &ts, buf);
    }
    nadi_draw_colour_bar(f, x + pw + 12, a.y, 12, ph, NADI_CMAP_SEQUENTIAL, lo, hi,
                         "log10 power", below > 0, 0);
    if (ch == 0) {
      lay->plot = (nadi_fig_box){a.x, a.y, a.w, a.h};
      lay->cbar = (nadi_fig_box){x + pw + 12, a.y, 12, ph};
    }
    x += step;
  }
  if (st == NAD_OK)
    st = nadi_fig_save(f);
  nadi_fig_destroy(f);
  free(logp);
  return st;
}

/* ---- eigenvalue decay ------------------------------------------------------------------------- */

nad_status nadi_figure_eigenvalues(const char *path, nad_figure_format fmt, const double *ev,
                                   int64_t k, const char *title, nadi_fig_layout *layout) {
  double *x = malloc((size_t)k * sizeof(double)), *y = malloc((size_t)k * sizeof(double));
  if (!x || !y) {
    free(x);
    free(y);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  double vmax = 0, vmin = INFINITY;
  for (int64_t i = 0; i < k; i++) {
    x[i] = (double)i;
    y[i] = isfinite(ev[i]) && ev[i] > 0 ? ev[i] : NAN; /* a log axis has no room for <= 0 */
    if (!isnan(y[i])) {
      vmax = fmax(vmax, y[i]);
      vmin = fmin(vmin, y[i]);
    }
  }
  if (!(vmax > 0)) {
    vmax = 1;
    vmin = 0.1;
  }
  double lo = floor(log10(vmin)), hi = ceil(log10(vmax));
  if (hi - lo < 1)
    hi = lo + 1;
  nadi_line_figure d = {.x = x, .y = y, .n = k, .nseries = 1, .y_lo = pow(10, lo),
                        .y_hi = pow(10, hi), .y_log = 1,
                        .title = title && *title ? title : "Eigenvalues of the NAD covariance",
                        .x_label = "NAD index", .y_label = "eigenvalue"};
  nad_status st = nadi_figure_lines(path, fmt, &d, layout);
  free(x);
  free(y);
  return st;
}
