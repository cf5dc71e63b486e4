/* Figures with text (lib/figure/): a drawing canvas (canvas.c, the only file that calls cairo),
 * the building blocks of plots (plot.c: colour maps, ticks, axes, colour bars) and the
 * figure kinds (plot_nads.c: NAD grid, covariance spectrum, eigenvalue decay;
 * plot_xy.c: heat maps and line plots). The public entry points that validate are
 * lib/api/figures.c. Never installed.
 *
 * Coordinates are in points (1/72 inch), y downwards; a PNG gets one pixel per point. The same
 * drawing calls serve PNG, SVG and PDF. Drawing calls never fail on their own: the first error (out of
 * memory inside cairo, a too large image) is kept and reported by nadi_fig_save. */
#ifndef NADI_FIGURE_H
#define NADI_FIGURE_H

#include <stdint.h>

#include "core/core.h"
#include "core/fft.h"

/* ---- canvas (canvas.c) -------------------------------------------------------------------- */

typedef struct nadi_fig nadi_fig;

/* Largest side of a PNG in pixels (cairo's image surfaces are limited to 32767). */
#define NADI_FIG_MAX_SIDE 32767.0

/* A blank white page of width × height points (1 <= each <= NADI_FIG_MAX_SIDE) to be written
 * to path as PNG, SVG or PDF, atomically: the file appears complete at nadi_fig_save or not at
 * all. title, if not NULL, becomes the PDF's document title. */
nad_status nadi_fig_create(const char *path, nad_figure_format fmt, const char *title,
                           double width, double height, nadi_fig **out);
/* Finish the file and put it in place. Call once; destroy f afterwards either way. */
nad_status nadi_fig_save(nadi_fig *f);
void nadi_fig_destroy(nadi_fig *f); /* NULL: no-op; an unsaved figure leaves no file */

/* Rectangle filled with fill and/or outlined with stroke (either may be NULL). */
void nadi_fig_rect(nadi_fig *f, double x, double y, double w, double h, const uint8_t fill[3],
                   const uint8_t stroke[3], double line_width);
void nadi_fig_line(nadi_fig *f, double x0, double y0, double x1, double y1, double line_width,
                   const uint8_t rgb[3]);
/* Open polyline through n points; a non-finite coordinate breaks it. */
void nadi_fig_polyline(nadi_fig *f, const double *x, const double *y, int64_t n,
                       double line_width, const uint8_t rgb[3]);
/* Filled polygon (n >= 3). */
void nadi_fig_polygon(nadi_fig *f, const double *x, const double *y, int64_t n,
                      const uint8_t rgb[3]);
void nadi_fig_disc(nadi_fig *f, double x, double y, double r, const uint8_t rgb[3]);

enum { NADI_LEFT = 0, NADI_CENTRE = 1, NADI_RIGHT = 2 };  /* horizontal anchor of text */
enum { NADI_TOP = 0, NADI_MIDDLE = 1, NADI_BOTTOM = 2 };  /* vertical anchor (ink box) */
typedef struct nadi_text_style {
  double size;       /* font size in points */
  int bold;
  int vertical;      /* 1: rotated 90° anticlockwise (reads bottom to top) */
  int halign, valign;
  const uint8_t *rgb; /* NULL: black */
} nadi_text_style;

/* UTF-8 text anchored at (x, y). */
void nadi_fig_text(nadi_fig *f, double x, double y, const nadi_text_style *s, const char *text);
/* Advance width of text in points (for layout). */
double nadi_fig_text_width(nadi_fig *f, const nadi_text_style *s, const char *text);

/* An iw × ih image of 8-bit RGB pixels (rows top to bottom) drawn into the box (x, y, w, h),
 * each pixel a sharp block (nearest neighbour, also in SVG and PDF viewers). */
void nadi_fig_image(nadi_fig *f, double x, double y, double w, double h, const uint8_t *rgb,
                    int64_t iw, int64_t ih);

/* An 8-bit RGB picture of w × h pixels (rows top to bottom) as a file of w × h points. */
nad_status nadi_fig_write_rgb(const char *path, nad_figure_format fmt, int64_t w, int64_t h,
                              const uint8_t *rgb);

/* Largest side of an image grid picture (bounds its memory: 8192² RGB = 200 MB). */
#define NADI_IMAGE_GRID_MAX_SIDE 8192

/* Grid of n images (n×c×h×w floats, c = 1 grey or 3 RGB), `cols` per row, [lo, hi] → 0..255
 * (clamped, NaN black), one grey pixel between images, images below 64 px magnified by an
 * integer factor, one point per pixel, with a title line above when title is not NULL/empty
 * (image_grid.c). NAD_ERR_INVALID_ARG when the grid would exceed
 * NADI_IMAGE_GRID_MAX_SIDE. */
nad_status nadi_figure_images(const char *path, nad_figure_format fmt, const float *x, int64_t n,
                              int64_t c, int64_t h, int64_t w, int64_t cols, double lo, double hi,
                              const char *title);

/* ---- building blocks (plot.c) -------------------------------------------------------------- */

/* Colour maps, t in [0, 1] (clamped; NaN gives grey): diverging RdBu_r with a pure white
 * middle (t = 0.5), sequential viridis. */
void nadi_cmap_diverging(double t, uint8_t rgb[3]);
void nadi_cmap_sequential(double t, uint8_t rgb[3]);
enum { NADI_CMAP_DIVERGING = 0, NADI_CMAP_SEQUENTIAL = 1 };
void nadi_cmap(int cmap, double t, uint8_t rgb[3]);

/* Up to max_ticks "nice" tick values (1, 2, 5 × 10^k steps) within [lo, hi]; returns the count.
 * For a log axis (log10 = 1) lo and hi are log10 values and ticks fall on whole decades (or
 * every few decades), at least 2 when the range holds 2 decades. */
int nadi_ticks(double lo, double hi, int max_ticks, int log10_axis, double *ticks);
/* Tick label of v: "%g"-like but short ("0.001", "1e-05", "250", "−3"); log axes label
 * decades as "1e-3". */
void nadi_tick_label(double v, int log10_axis, char *buf, size_t len);

/* A plot area (x, y, w, h) with data ranges; maps data to points. */
typedef struct nadi_axes {
  double x, y, w, h;
  double x_lo, x_hi, y_lo, y_hi; /* for a log axis: log10 of the range */
  int x_log, y_log;
} nadi_axes;
double nadi_axes_px(const nadi_axes *a, double vx); /* data x → points (log10 applied if log) */
double nadi_axes_py(const nadi_axes *a, double vy);
/* Frame, ticks, tick labels and axis labels (either may be NULL) of a. grid: light grid lines
 * at the y ticks. */
void nadi_draw_axes(nadi_fig *f, const nadi_axes *a, const char *x_label, const char *y_label,
                    int grid);

/* Vertical colour bar in the box (x, y, w, h), lo at the bottom, with ticks and a label on the
 * right. extend_lo / extend_hi add a triangle below / above, the sign that values beyond the
 * range were clamped to the end colour. */
void nadi_draw_colour_bar(nadi_fig *f, double x, double y, double w, double h, int cmap,
                          double lo, double hi, const char *label, int extend_lo,
                          int extend_hi);
/* Heat map of rows×cols values into the box (x, y, w, h), row 0 at the top, each value mapped
 * linearly from [lo, hi] to the colour map (clamped; NaN grey). below / above (may be NULL)
 * receive the number of values beyond each end. */
nad_status nadi_draw_heat(nadi_fig *f, double x, double y, double w, double h, const double *v,
                          int64_t rows, int64_t cols, double lo, double hi, int cmap,
                          int64_t *below, int64_t *above);
/* Title centred on the page width at the top. */
void nadi_draw_title(nadi_fig *f, double page_w, double y, const char *title);

/* ---- figure kinds (plot_nads.c, plot_xy.c) ------------------------------------------------ */

/* Where the parts of a figure were drawn, in points (= PNG pixels), for the tests. */
typedef struct nadi_fig_box {
  double x, y, w, h;
} nadi_fig_box;
typedef struct nadi_fig_layout {
  double width, height;
  nadi_fig_box title;     /* h = 0 when there is no title */
  nadi_fig_box plot;      /* the heat map / plot area; NAD grid: first NAD tile */
  nadi_fig_box plot2;     /* NAD grid: first spectrum tile */
  nadi_fig_box cbar;      /* the (first) colour bar */
  nadi_fig_box cbar2;     /* NAD grid: the spectrum colour bar */
  nadi_fig_box stamp;     /* NAD grid: the "not converged" stamp (h = 0 when absent) */
} nadi_fig_layout;

/* |DFT2(x)|² of an h×w plane, fftshifted (frequency 0 at (h/2, w/2)), into power (h·w doubles),
 * with fft planned once for h×w (nadi_fft2d_create, lib/core/fft.h: a figure transforms many
 * planes) and half: h × (w/2 + 1) doubles of scratch. */
void nadi_power_spectrum(nadi_fft2d *fft, const float *x, int64_t h, int64_t w, double *half,
                         double *power);

typedef struct nadi_nads_figure {
  const float *nads; /* k × c·h·w */
  int64_t k, c, h, w;
  const double *eigenvalues; /* k values or NULL */
  const int64_t *show;       /* indices (< k) to draw, or NULL: the first min(k, 16) */
  int64_t nshow;
  const char *title; /* NULL: none */
  int not_converged; /* draw the stamp */
} nadi_nads_figure;
nad_status nadi_figure_nads(const char *path, nad_figure_format fmt, const nadi_nads_figure *d,
                            nadi_fig_layout *layout);

/* Covariance spectrum (c × h × w, fftshifted) as log10 heat maps, one per channel, with axes in
 * cycles per image. */
nad_status nadi_figure_spectrum(const char *path, nad_figure_format fmt, const double *spectrum,
                                int64_t c, int64_t h, int64_t w, const char *title,
                                nadi_fig_layout *layout);
/* Eigenvalues (k, descending) against their index, log y axis (non-positive ones left out). */
nad_status nadi_figure_eigenvalues(const char *path, nad_figure_format fmt, const double *ev,
                                   int64_t k, const char *title, nadi_fig_layout *layout);

typedef struct nadi_heatmap_figure {
  const double *values; /* rows × cols, row 0 at the top; NaN cells grey */
  int64_t rows, cols;
  double lo, hi;        /* colour range; values beyond are clamped, the bar says so */
  double x0, dx, y0, dy; /* data coordinate of column j: x0 + j·dx; row i: y0 + i·dy */
  const char *title, *x_label, *y_label, *value_label; /* each may be NULL */
  int cmap;
} nadi_heatmap_figure;
nad_status nadi_figure_heatmap(const char *path, nad_figure_format fmt,
                               const nadi_heatmap_figure *d, nadi_fig_layout *layout);

typedef struct nadi_line_figure {
  const double *x;      /* n finite values */
  const double *y;      /* nseries × n; NaN breaks a line */
  int64_t n, nseries;
  double y_lo, y_hi;    /* y range (points beyond are clamped to the frame) */
  int y_log;            /* log10 y axis (y_lo, y_hi > 0) */
  const char *title, *x_label, *y_label;
  const char *legend;   /* nseries names separated by '\n', or NULL */
} nadi_line_figure;
nad_status nadi_figure_lines(const char *path, nad_figure_format fmt, const nadi_line_figure *d,
                             nadi_fig_layout *layout);

#endif
