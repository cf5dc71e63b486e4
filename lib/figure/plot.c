/* Building blocks of the figures (lib/figure/figure.h): colour maps, tick positions and labels,
 * axes, colour bars and titles, drawn on the canvas of canvas.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figure/figure.h"

#define TICK_LEN 4.0
#define TICK_FONT 10.0
#define LABEL_FONT 11.0
#define TITLE_FONT 13.0

static const uint8_t black[3] = {0, 0, 0};
static const uint8_t grid_grey[3] = {225, 225, 225};

/* ---- colour maps ------------------------------------------------------------------------------ */

/* ColorBrewer RdBu, reversed (matplotlib 'RdBu_r'), with the middle made pure white so that a
 * zero reads as "no weight". */
static const uint8_t rdbu_r[11][3] = {{5, 48, 97},     {33, 102, 172},  {67, 147, 195},
                                      {146, 197, 222}, {209, 229, 240}, {255, 255, 255},
                                      {253, 219, 199}, {244, 165, 130}, {214, 96, 77},
                                      {178, 24, 43},   {103, 0, 31}};

/* matplotlib 'viridis' sampled at 10 equally spaced points (#440154 ... #fde725). */
static const uint8_t viridis[10][3] = {
    {68, 1, 84},    {72, 40, 120},  {62, 73, 137},  {49, 104, 142}, {38, 130, 142},
    {31, 158, 137}, {53, 183, 121}, {110, 206, 88}, {181, 222, 43}, {253, 231, 37}};

static void interp(const uint8_t (*tab)[3], int n, double t, uint8_t rgb[3]) {
  if (isnan(t)) {
    rgb[0] = rgb[1] = rgb[2] = 128;
    return;
  }
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  double x = t * (n - 1);
  int i = (int)x;
  if (i >= n - 1)
    i = n - 2;
  double f = x - i;
  for (int k = 0; k < 3; k++)
    rgb[k] = (uint8_t)lround(tab[i][k] + f * (tab[i + 1][k] - tab[i][k]));
}

void nadi_cmap_diverging(double t, uint8_t rgb[3]) { interp(rdbu_r, 11, t, rgb); }
void nadi_cmap_sequential(double t, uint8_t rgb[3]) { interp(viridis, 10, t, rgb); }
void nadi_cmap(int cmap, double t, uint8_t rgb[3]) {
  if (cmap == NADI_CMAP_DIVERGING)
    nadi_cmap_diverging(t, rgb);
  else
    nadi_cmap_sequential(t, rgb);
}

/* ---- ticks -------------------------------------------------------------------------------------- */

int nadi_ticks(double lo, double hi, int max_ticks, int log10_axis, double *ticks) {
  if (!(hi > lo) || max_ticks < 1) {
    ticks[0] = lo;
    return 1;
  }
  double step;
  if (log10_axis) { /* whole decades, every 1, 2, 5, 10... decades */
    step = 1;
    while ((hi - lo) / step + 1 > max_ticks)
      step *= step == 1 ? 2 : step == 2 ? 2.5 : 2;
  } else {
    double raw = (hi - lo) / (max_ticks > 1 ? max_ticks - 1 : 1);
    double mag = pow(10, floor(log10(raw)));
    double r = raw / mag;
    step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
  }
  int n = 0;
  double eps = step * 1e-9;
  for (double t = ceil((lo - eps) / step) * step; t <= hi + eps && n < max_ticks; t += step)
    ticks[n++] = fabs(t) < eps ? 0 : t;
  return n;
}

void nadi_tick_label(double v, int log10_axis, char *buf, size_t len) {
  if (log10_axis) {
    snprintf(buf, len, "1e%d", (int)lround(v));
    return;
  }
  double a = fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e6))
    snprintf(buf, len, "%.0e", v);
  else
    snprintf(buf, len, "%.6g", v);
}

/* ---- axes ---------------------------------------------------------------------------------------- */

static double map(double v, double lo, double hi, int log10_axis) {
  if (log10_axis)
    v = v > 0 ? log10(v) : -INFINITY;
  return (v - lo) / (hi - lo);
}

double nadi_axes_px(const nadi_axes *a, double vx) {
  return a->x + a->w * map(vx, a->x_lo, a->x_hi, a->x_log);
}

double nadi_axes_py(const nadi_axes *a, double vy) {
  return a->y + a->h * (1 - map(vy, a->y_lo, a->y_hi, a->y_log));
}

void nadi_draw_axes(nadi_fig *f, const nadi_axes *a, const char *x_label, const char *y_label,
                    int grid) {
  double ticks[16];
  char buf[32];
  nadi_text_style ts = {.size = TICK_FONT, .halign = NADI_CENTRE, .valign = NADI_TOP};
  /* Ranges may run backwards (a heat map's row 0 is at the top): ticks from min to max. */
  int nx = nadi_ticks(fmin(a->x_lo, a->x_hi), fmax(a->x_lo, a->x_hi), a->w > 300 ? 9 : 6,
                      a->x_log, ticks);
  for (int i = 0; i < nx; i++) {
    double px = a->x + a->w * (ticks[i] - a->x_lo) / (a->x_hi - a->x_lo);
    nadi_fig_line(f, px, a->y + a->h, px, a->y + a->h + TICK_LEN, 1, black);
    nadi_tick_label(ticks[i], a->x_log, buf, sizeof buf);
    nadi_fig_text(f, px, a->y + a->h + TICK_LEN + 2, &ts, buf);
  }
  int ny = nadi_ticks(fmin(a->y_lo, a->y_hi), fmax(a->y_lo, a->y_hi), a->h > 250 ? 8 : 6,
                      a->y_log, ticks);
  double widest = 0;
  ts.halign = NADI_RIGHT;
  ts.valign = NADI_MIDDLE;
  for (int i = 0; i < ny; i++) {
    double py = a->y + a->h * (1 - (ticks[i] - a->y_lo) / (a->y_hi - a->y_lo));
    if (grid)
      nadi_fig_line(f, a->x, py, a->x + a->w, py, 0.8, grid_grey);
    nadi_fig_line(f, a->x - TICK_LEN, py, a->x, py, 1, black);
    nadi_tick_label(ticks[i], a->y_log, buf, sizeof buf);
    nadi_fig_text(f, a->x - TICK_LEN - 2, py, &ts, buf);
    double tw = nadi_fig_text_width(f, &ts, buf);
    widest = tw > widest ? tw : widest;
  }
  /* the frame just outside the plot area, on whole pixels of a PNG (sharp, not two grey rows) */
  nadi_fig_rect(f, a->x - 0.5, a->y - 0.5, a->w + 1, a->h + 1, NULL, black, 1);
  nadi_text_style ls = {.size = LABEL_FONT, .halign = NADI_CENTRE, .valign = NADI_TOP};
  if (x_label && *x_label)
    nadi_fig_text(f, a->x + a->w / 2, a->y + a->h + TICK_LEN + TICK_FONT + 8, &ls, x_label);
  if (y_label && *y_label) {
    ls.vertical = 1;
    ls.valign = NADI_BOTTOM;
    nadi_fig_text(f, a->x - TICK_LEN - widest - 6, a->y + a->h / 2, &ls, y_label);
  }
}

/* ---- colour bar ------------------------------------------------------------------------------- */

void nadi_draw_colour_bar(nadi_fig *f, double x, double y, double w, double h, int cmap,
                          double lo, double hi, const char *label, int extend_lo,
                          int extend_hi) {
  enum { STEPS = 256 };
  uint8_t px[STEPS * 3];
  for (int i = 0; i < STEPS; i++) /* top row is hi */
    nadi_cmap(cmap, 1.0 - (i + 0.5) / STEPS, px + 3 * i);
  nadi_fig_image(f, x, y, w, h, px, 1, STEPS);
  nadi_fig_rect(f, x, y, w, h, NULL, black, 0.8);
  double tri = w * 0.9; /* triangle height of an "extends" end */
  if (extend_hi) {
    uint8_t c[3];
    nadi_cmap(cmap, 1, c);
    double tx[3] = {x, x + w, x + w / 2}, ty[3] = {y - 1, y - 1, y - 1 - tri};
    nadi_fig_polygon(f, tx, ty, 3, c);
  }
  if (extend_lo) {
    uint8_t c[3];
    nadi_cmap(cmap, 0, c);
    double tx[3] = {x, x + w, x + w / 2}, ty[3] = {y + h + 1, y + h + 1, y + h + 1 + tri};
    nadi_fig_polygon(f, tx, ty, 3, c);
  }
  double ticks[16];
  char buf[32];
  nadi_text_style ts = {.size = TICK_FONT, .halign = NADI_LEFT, .valign = NADI_MIDDLE};
  int n = nadi_ticks(lo, hi, h > 200 ? 6 : 5, 0, ticks);
  double widest = 0;
  for (int i = 0; i < n && hi > lo; i++) {
    double py = y + h * (1 - (ticks[i] - lo) / (hi - lo));
    nadi_fig_line(f, x + w, py, x + w + TICK_LEN, py, 1, black);
    nadi_tick_label(ticks[i], 0, buf, sizeof buf);
    nadi_fig_text(f, x + w + TICK_LEN + 2, py, &ts, buf);
    double tw = nadi_fig_text_width(f, &ts, buf);
    widest = tw > widest ? tw : widest;
  }
  if (label && *label) {
    nadi_text_style ls = {.size = LABEL_FONT, .vertical = 1, .halign = NADI_CENTRE,
                          .valign = NADI_TOP};
    nadi_fig_text(f, x + w + TICK_LEN + widest + 6, y + h / 2, &ls, label);
  }
}

void nadi_draw_title(nadi_fig *f, double page_w, double y, const char *title) {
  nadi_text_style ts = {.size = TITLE_FONT, .bold = 1, .halign = NADI_CENTRE, .valign = NADI_TOP};
  /* A long title (a path in it) shrinks to the page width, down to a still legible 7 points;
   * beyond that it is cut at the page edges rather than wrapped. */
  double tw = nadi_fig_text_width(f, &ts, title);
  if (tw > page_w - 16)
    ts.size = fmax(7, ts.size * (page_w - 16) / tw);
  nadi_fig_text(f, page_w / 2, y, &ts, title);
}

nad_status nadi_draw_heat(nadi_fig *f, double x, double y, double w, double h, const double *v,
                          int64_t rows, int64_t cols, double lo, double hi, int cmap,
                          int64_t *below, int64_t *above) {
  uint8_t *px = malloc((size_t)(rows * cols) * 3);
  NADI_CHECK(px, NAD_ERR_OUT_OF_MEMORY, "figure: out of memory for a %lldx%lld heat map",
             (long long)rows, (long long)cols);
  int64_t nb = 0, na = 0;
  for (int64_t i = 0; i < rows * cols; i++) {
    nb += v[i] < lo;
    na += v[i] > hi;
    nadi_cmap(cmap, isnan(v[i]) ? NAN : (v[i] - lo) / (hi - lo), px + 3 * i);
  }
  nadi_fig_image(f, x, y, w, h, px, cols, rows);
  free(px);
  if (below)
    *below = nb;
  if (above)
    *above = na;
  return NAD_OK;
}
