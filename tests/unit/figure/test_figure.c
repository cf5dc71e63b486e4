/* Figures (lib/figure/: canvas.c, plot*.c and the façade lib/api/figures.c): each kind is rendered,
 * PNGs are read back with libpng and checked at the places the layout reports (title text,
 * tiles with known colours, axes frames, tick labels, colour-bar gradients, the clamping note,
 * the "not converged" stamp); SVG and PDF files are checked for their structure and title.
 * The FFT power spectrum of the figures is checked against a direct DFT in double.
 * `test_figure spectrum IN.npy OUT.npy` writes the power spectrum of a 2-D float .npy (for the
 * numpy comparison in figure_spectrum.py). Set NAD_TEST_OUTDIR to keep the figures. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "figure/figure.h"
#include "io/io.h"
#include "../check.h"
#include "../test_files.h"

static char dir[256];

static const char *tpath(const char *name) { return nadt_path(dir, name); }

typedef struct image {
  int w, h;
  uint8_t *px; /* RGB */
} image;

static image load(const char *path) {
  image im = {0, 0, NULL};
  png_image p;
  memset(&p, 0, sizeof p);
  p.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&p, path)) {
    printf("cannot read %s: %s\n", path, p.message);
    return im;
  }
  p.format = PNG_FORMAT_RGB;
  im.px = malloc(PNG_IMAGE_SIZE(p));
  if (!png_image_finish_read(&p, NULL, im.px, 0, NULL)) {
    printf("cannot decode %s: %s\n", path, p.message);
    free(im.px);
    im.px = NULL;
    return im;
  }
  im.w = (int)p.width;
  im.h = (int)p.height;
  return im;
}

static const uint8_t *px_at(const image *im, double x, double y) {
  int ix = (int)floor(x), iy = (int)floor(y);
  static const uint8_t none[3] = {1, 2, 3};
  if (!im->px || ix < 0 || iy < 0 || ix >= im->w || iy >= im->h)
    return none;
  return im->px + 3 * ((size_t)iy * (size_t)im->w + (size_t)ix);
}

static int near(const uint8_t *p, const uint8_t c[3], int tol) {
  return abs(p[0] - c[0]) <= tol && abs(p[1] - c[1]) <= tol && abs(p[2] - c[2]) <= tol;
}

/* Pixels in the box that are dark (text, lines): sum of channels below 200. */
static int dark_in(const image *im, double x, double y, double w, double h) {
  int n = 0;
  for (double yy = y; yy < y + h; yy++)
    for (double xx = x; xx < x + w; xx++) {
      const uint8_t *p = px_at(im, xx, yy);
      n += p[0] + p[1] + p[2] < 200;
    }
  return n;
}

/* Pixels in the box close to colour c. */
static int count_colour(const image *im, double x, double y, double w, double h, const uint8_t c[3],
                        int tol) {
  int n = 0;
  for (double yy = y; yy < y + h; yy++)
    for (double xx = x; xx < x + w; xx++)
      n += near(px_at(im, xx, yy), c, tol);
  return n;
}

/* ---- building blocks ---------------------------------------------------------------------- */

static void test_colour_maps(void) {
  uint8_t c[3];
  nadi_cmap_diverging(0.5, c);
  EXPECT(c[0] == 255 && c[1] == 255 && c[2] == 255);
  nadi_cmap_diverging(1.0, c);
  EXPECT(c[0] == 103 && c[1] == 0 && c[2] == 31);
  nadi_cmap_diverging(-3.0, c); /* clamped */
  EXPECT(c[0] == 5 && c[1] == 48 && c[2] == 97);
  nadi_cmap_sequential(NAN, c);
  EXPECT(c[0] == 128 && c[1] == 128 && c[2] == 128);
  nadi_cmap_sequential(0.0, c);
  EXPECT(c[0] == 68 && c[1] == 1 && c[2] == 84);
  nadi_cmap_sequential(1.0, c);
  EXPECT(c[0] == 253 && c[1] == 231 && c[2] == 37);
}

static void test_ticks(void) {
  double t[16];
  int n = nadi_ticks(50, 100, 6, 0, t);
  CHECK(n == 6 && t[0] == 50 && t[5] == 100, "ticks of [50, 100]: n %d first %g", n, t[0]);
  n = nadi_ticks(-16.5, 15.5, 9, 0, t);
  CHECK(n >= 5 && t[0] >= -16.5 && t[n - 1] <= 15.5, "ticks of [-16.5, 15.5]: %d", n);
  int has0 = 0;
  for (int i = 0; i < n; i++)
    has0 |= t[i] == 0;
  EXPECT(has0);
  n = nadi_ticks(-6, 0, 8, 1, t); /* decades */
  CHECK(n == 7 && t[0] == -6 && t[6] == 0, "log ticks: %d", n);
  char buf[32];
  nadi_tick_label(-3, 1, buf, sizeof buf);
  EXPECT(strcmp(buf, "1e-3") == 0);
  nadi_tick_label(0.25, 0, buf, sizeof buf);
  EXPECT(strcmp(buf, "0.25") == 0);
}

/* |DFT2|² fftshifted, against a direct DFT in double and a closed form. */
static void test_power_spectrum(void) {
  enum { H = 6, W = 7 };
  float x[H * W];
  double half[H * (W / 2 + 1)], p[H * W];
  nadi_fft2d *fft = NULL, *fft8 = NULL;
  EXPECT(nadi_fft2d_create(H, W, &fft) == NAD_OK && nadi_fft2d_create(8, 8, &fft8) == NAD_OK);
  if (!fft || !fft8) {
    nadi_fft2d_destroy(fft);
    nadi_fft2d_destroy(fft8);
    return;
  }
  for (int i = 0; i < H * W; i++)
    x[i] = (float)sin(0.7 * i * i + 0.3) + (i % 5 == 0 ? 0.5f : -0.25f);
  nadi_power_spectrum(fft, x, H, W, half, p);
  double worst = 0;
  for (int u = 0; u < H; u++)
    for (int v = 0; v < W; v++) {
      double re = 0, im = 0;
      for (int i = 0; i < H; i++)
        for (int k = 0; k < W; k++) {
          double a = -2 * M_PI * ((double)u * i / H + (double)v * k / W);
          re += x[i * W + k] * cos(a);
          im += x[i * W + k] * sin(a);
        }
      double ref = re * re + im * im, got = p[((u + H / 2) % H) * W + (v + W / 2) % W];
      worst = fmax(worst, fabs(got - ref) / fmax(1, ref));
    }
  CHECK(worst < 1e-4, "power spectrum vs direct DFT: worst relative error %g", worst);
  /* cos(2π(2y/8 + 3x/8)) on 8×8: power (64/2)² at (±2, ±3), zero elsewhere. */
  float c[64];
  double h2[8 * 5], pc[64];
  for (int i = 0; i < 8; i++)
    for (int k = 0; k < 8; k++)
      c[i * 8 + k] = (float)cos(2 * M_PI * (2.0 * i / 8 + 3.0 * k / 8));
  nadi_power_spectrum(fft8, c, 8, 8, h2, pc);
  nadi_fft2d_destroy(fft);
  nadi_fft2d_destroy(fft8);
  double off = 0;
  for (int i = 0; i < 64; i++)
    if (i != (4 + 2) * 8 + 4 + 3 && i != (4 - 2) * 8 + 4 - 3)
      off = fmax(off, pc[i]);
  CHECK(fabs(pc[6 * 8 + 7] - 1024) < 1e-2 && fabs(pc[2 * 8 + 1] - 1024) < 1e-2 && off < 1e-6,
        "cosine peaks %g %g, elsewhere %g", pc[6 * 8 + 7], pc[2 * 8 + 1], off);
}

/* ---- NAD grid ------------------------------------------------------------------------------ */

static void test_nads_png(void) {
  enum { K = 20, C = 2, H = 8, W = 8 };
  static float nads[K][C][H][W];
  double ev[K];
  for (int k = 0; k < K; k++) {
    ev[k] = 1.0 / (k + 1);
    for (int c = 0; c < C; c++)
      for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
          nads[k][c][i][j] = (float)cos(0.3 * (k + 1) * i + 0.2 * j + c);
  }
  nads[3][0][0][0] = 5.0f; /* NAD 3 channel 0: top-left is the maximum, dark red */
  nads[3][0][0][1] = -5.0f; /* next to it the minimum, dark blue */
  int64_t show[3] = {3, 0, 19};
  nadi_nads_figure d = {&nads[0][0][0][0], K, C, H, W, ev, show, 3, "lenet test title", 1};
  nadi_fig_layout lay;
  const char *p = tpath("nads.png");
  nad_status st = nadi_figure_nads(p, NAD_FIGURE_PNG, &d, &lay);
  CHECK(st == NAD_OK, "nadi_figure_nads: %s", nad_last_error());
  image im = load(p);
  EXPECT(im.px && im.w == (int)lay.width && im.h == (int)lay.height);
  /* the first tile is NAD 3: 8×8 pixels scaled to 96 points, so 12 points per value */
  EXPECT(lay.plot.w == 96 && lay.plot.h == 96);
  const uint8_t dred[3] = {103, 0, 31}, dblue[3] = {5, 48, 97}, red[3] = {200, 20, 30};
  EXPECT(near(px_at(&im, lay.plot.x + 6, lay.plot.y + 6), dred, 2));
  EXPECT(near(px_at(&im, lay.plot.x + 18, lay.plot.y + 6), dblue, 2));
  /* the label "#3  λ 0.25" above the tile, the title, the stamp */
  CHECK(dark_in(&im, lay.plot.x, lay.plot.y - 13, lay.plot.w, 12) > 20, "no tile label");
  CHECK(dark_in(&im, 0, lay.title.y, lay.width, lay.title.h) > 100, "no title text");
  CHECK(lay.stamp.h > 0 && count_colour(&im, lay.stamp.x, lay.stamp.y, lay.stamp.w, lay.stamp.h,
                                        red, 2) > 200,
        "no red stamp");
  /* spectrum tile: viridis colours only (every pixel near one of the map's colours) */
  int viridis_like = 0;
  for (int i = 0; i < 8; i++) {
    const uint8_t *q = px_at(&im, lay.plot2.x + 6 + 12 * i, lay.plot2.y + 6 + 12 * i);
    viridis_like += q[1] >= q[0] || q[0] > 150; /* viridis: green >= red except the yellow end */
  }
  EXPECT(viridis_like == 8);
  /* colour bars: the diverging one runs dark red (top) → white → dark blue (bottom) */
  const nadi_fig_box *b = &lay.cbar;
  uint8_t want[3];
  nadi_cmap_diverging(1 - 2.5 / b->h, want); /* pixel row 2 of the bar, from the top */
  const uint8_t *top = px_at(&im, b->x + b->w / 2, b->y + 2);
  CHECK(near(top, want, 6), "top of the colour bar %d %d %d", top[0], top[1], top[2]);
  nadi_cmap_diverging(2.5 / b->h, want);
  EXPECT(near(px_at(&im, b->x + b->w / 2, b->y + b->h - 3), want, 6));
  const uint8_t white[3] = {255, 255, 255};
  EXPECT(near(px_at(&im, b->x + b->w / 2, b->y + b->h / 2), white, 12));
  /* the sequential one: green rises monotonically from bottom to top */
  b = &lay.cbar2;
  int mono = 1, prev = -1;
  for (double y = b->y + b->h - 2; y > b->y + 2; y -= 4) {
    int g = px_at(&im, b->x + b->w / 2, y)[1];
    mono &= g >= prev - 1;
    prev = g;
  }
  EXPECT(mono && prev > 200);
  CHECK(dark_in(&im, b->x + b->w + 2, b->y, 40, b->h) > 50, "no tick labels at the colour bar");
  free(im.px);

  /* without the flag: no stamp; default selection (first 16) */
  d.show = NULL;
  d.nshow = 0;
  d.not_converged = 0;
  st = nadi_figure_nads(p, NAD_FIGURE_PNG, &d, &lay);
  EXPECT(st == NAD_OK && lay.stamp.h == 0);
  im = load(p);
  EXPECT(count_colour(&im, 0, 0, im.w, im.h, red, 2) == 0);
  /* 16 NADs in 8 columns: 2 bands of 2 channels */
  EXPECT(im.w == (int)(70 + 8 * (96 + 6) + 110));
  free(im.px);
}

/* ---- spectrum, eigenvalues, heat map, lines --------------------------------------------------- */

static void test_spectrum_png(void) {
  enum { H = 16, W = 16 };
  double s[H * W];
  for (int i = 0; i < H * W; i++)
    s[i] = pow(10, -(double)(abs(i / W - H / 2) + abs(i % W - W / 2)) / 4); /* peak at DC */
  nadi_fig_layout lay;
  const char *p = tpath("spectrum.png");
  CHECK(nadi_figure_spectrum(p, NAD_FIGURE_PNG, s, 1, H, W, "spectrum title", &lay) == NAD_OK,
        "%s", nad_last_error());
  image im = load(p);
  const uint8_t hi[3] = {253, 231, 37};
  double cell = lay.plot.w / W;
  /* DC (row 8, col 8) is the brightest colour; axes frame black on its left edge */
  EXPECT(near(px_at(&im, lay.plot.x + 8.5 * cell, lay.plot.y + 8.5 * cell), hi, 2));
  EXPECT(dark_in(&im, lay.plot.x - 1, lay.plot.y + 10, 2, lay.plot.h - 20) >= lay.plot.h - 20);
  CHECK(dark_in(&im, lay.plot.x, lay.plot.y + lay.plot.h + 5, lay.plot.w, 14) > 30,
        "no x tick labels");
  CHECK(dark_in(&im, lay.plot.x, lay.plot.y + lay.plot.h + 20, lay.plot.w, 16) > 30,
        "no x axis label");
  CHECK(dark_in(&im, 0, lay.title.y, lay.width, lay.title.h) > 50, "no title");
  free(im.px);
}

static void test_eigenvalues_png(void) {
  double ev[50];
  for (int i = 0; i < 50; i++)
    ev[i] = pow(10, -i / 10.0);
  nadi_fig_layout lay;
  const char *p = tpath("eigenvalues.png");
  EXPECT(nadi_figure_eigenvalues(p, NAD_FIGURE_PNG, ev, 50, NULL, &lay) == NAD_OK);
  image im = load(p);
  /* y from 1e-5 to 1e0 over the plot height: ev[0] = 1 at the top-left, ev[49] low right */
  const uint8_t blue[3] = {31, 119, 180};
  double x0 = lay.plot.x + lay.plot.w * (0 + 49 * 0.03) / (49 * 1.06);
  EXPECT(count_colour(&im, x0 - 2, lay.plot.y - 2, 5, 5, blue, 30) > 3);
  double x49 = lay.plot.x + lay.plot.w * (49 + 49 * 0.03) / (49 * 1.06);
  double y49 = lay.plot.y + lay.plot.h * (1 - (-4.9 + 5) / 5);
  EXPECT(count_colour(&im, x49 - 2, y49 - 2, 5, 5, blue, 30) > 3);
  CHECK(dark_in(&im, 0, lay.plot.y, lay.plot.x - 4, lay.plot.h) > 100, "no y tick labels");
  free(im.px);
}

static void test_heatmap_clamped(void) {
  /* every accuracy below the 50–100 % range: clamped to the bottom colour, and said so */
  double v[4 * 5];
  for (int i = 0; i < 20; i++)
    v[i] = 30 + i;
  nadi_heatmap_figure d = {v, 4, 5, 50, 100, -2, 1, -2, 1, "sweep", "fx", "fy", "accuracy (%)",
                           NADI_CMAP_SEQUENTIAL};
  nadi_fig_layout lay;
  const char *p = tpath("heat_low.png");
  EXPECT(nadi_figure_heatmap(p, NAD_FIGURE_PNG, &d, &lay) == NAD_OK);
  image im = load(p);
  const uint8_t lo[3] = {68, 1, 84}, note[3] = {170, 20, 30};
  EXPECT(count_colour(&im, lay.plot.x + 2, lay.plot.y + 2, lay.plot.w - 4, lay.plot.h - 4, lo,
                      2) > (int)((lay.plot.w - 4) * (lay.plot.h - 4) * 0.99));
  /* the triangle under the colour bar and the note under the plot */
  EXPECT(near(px_at(&im, lay.cbar.x + lay.cbar.w / 2, lay.cbar.y + lay.cbar.h + 4), lo, 2));
  CHECK(count_colour(&im, 0, lay.height - 22, lay.width, 22, note, 60) > 50,
        "no clamping note");
  free(im.px);

  /* values inside the range: a cell of 75 gets the middle colour, no note */
  for (int i = 0; i < 20; i++)
    v[i] = 75;
  v[0] = NAN;
  EXPECT(nadi_figure_heatmap(p, NAD_FIGURE_PNG, &d, &lay) == NAD_OK);
  im = load(p);
  uint8_t mid[3], grey[3] = {128, 128, 128};
  nadi_cmap_sequential(0.5, mid);
  double cw = lay.plot.w / 5, ch = lay.plot.h / 4;
  EXPECT(near(px_at(&im, lay.plot.x + 2.5 * cw, lay.plot.y + 2.5 * ch), mid, 2));
  EXPECT(near(px_at(&im, lay.plot.x + 0.5 * cw, lay.plot.y + 0.5 * ch), grey, 2));
  EXPECT(count_colour(&im, 0, lay.height - 22, lay.width, 22, note, 60) == 0);
  free(im.px);
}

static void test_lines_png(void) {
  double x[4] = {0, 10, 20, 30}, y[8] = {50, 60, 100, NAN, 90, 80, 70, 60};
  nadi_line_figure d = {.x = x, .y = y, .n = 4, .nseries = 2, .y_lo = 50, .y_hi = 100,
                        .title = "accuracy", .x_label = "NAD index", .y_label = "accuracy (%)",
                        .legend = "clean\npoisoned"};
  nadi_fig_layout lay;
  const char *p = tpath("lines.png");
  EXPECT(nadi_figure_lines(p, NAD_FIGURE_PNG, &d, &lay) == NAD_OK);
  image im = load(p);
  const uint8_t blue[3] = {31, 119, 180}, orange[3] = {255, 127, 14};
  double sx = lay.plot.w / 31.8; /* x from -0.9 to 30.9 */
  double bx = lay.plot.x + (20 + 0.9) * sx, by = lay.plot.y; /* (20, 100) */
  EXPECT(count_colour(&im, bx - 2, by - 2, 5, 5, blue, 20) > 3);
  double ox = lay.plot.x + (0 + 0.9) * sx, oy = lay.plot.y + lay.plot.h * (1 - 40.0 / 50);
  EXPECT(count_colour(&im, ox - 2, oy - 2, 5, 5, orange, 20) > 3);
  /* frame: the bottom edge is black across */
  EXPECT(dark_in(&im, lay.plot.x, lay.plot.y + lay.plot.h + 0.5, lay.plot.w, 1) >=
         (int)(lay.plot.w * 0.9)); /* less the markers on it */
  free(im.px);
}

/* ---- SVG and PDF ----------------------------------------------------------------------------- */

static void test_vector_formats(void) {
  double v[6] = {50, 60, 70, 80, 90, 100};
  nadi_heatmap_figure d = {v, 2, 3, 50, 100, 0, 1, 0, 1, "PDF title text", "x", "y", "acc",
                           NADI_CMAP_SEQUENTIAL};
  const char *svg = tpath("h.svg"), *pdf = tpath("h.pdf");
  EXPECT(nadi_figure_heatmap(svg, NAD_FIGURE_SVG, &d, NULL) == NAD_OK);
  EXPECT(nadi_figure_heatmap(pdf, NAD_FIGURE_PDF, &d, NULL) == NAD_OK);
  size_t n = 0;
  char *s = (char *)nadt_read_file(svg, &n);
  EXPECT(s && strncmp(s, "<?xml", 5) == 0 && strstr(s, "<svg") && strstr(s, "</svg>") &&
         strstr(s, "<image"));
  free(s);
  s = (char *)nadt_read_file(pdf, &n);
  EXPECT(s && strncmp(s, "%PDF-", 5) == 0 && strstr(s + n - 8, "%%EOF"));
  /* cairo puts the title into the document information */
  int has_title = 0;
  for (size_t i = 0; s && i + 14 < n; i++)
    has_title |= memcmp(s + i, "PDF title text", 14) == 0;
  EXPECT(has_title);
  free(s);
}

/* ---- façade ---------------------------------------------------------------------------------- */

static void test_public_args(void) {
  float x[16] = {1};
  double v[4] = {1, 2, 3, 4};
  const char *p = tpath("args.png");
  nad_figure_format f;
  EXPECT(nad_figure_format_by_name("svg", &f) == NAD_OK && f == NAD_FIGURE_SVG);
  EXPECT(nad_figure_format_by_name("jpg", &f) == NAD_ERR_INVALID_ARG);
  EXPECT(strstr(nad_last_error(), "jpg") != NULL);
  EXPECT(nad_figure_nads(p, (nad_figure_format)7, x, 1, 1, 4, 4, NULL, NULL, 0, NULL, 0) ==
         NAD_ERR_INVALID_ARG);
  int64_t bad[1] = {1};
  EXPECT(nad_figure_nads(p, NAD_FIGURE_PNG, x, 1, 1, 4, 4, NULL, bad, 1, NULL, 0) ==
         NAD_ERR_INVALID_ARG);
  EXPECT(strstr(nad_last_error(), "show[0]") != NULL);
  /* more columns than images: one row of n (cols near INT64_MAX once overflowed the row count) */
  EXPECT(nad_figure_images(p, NAD_FIGURE_PNG, x, 2, 1, 2, 2, INT64_MAX, 0, 1, NULL) == NAD_OK);
  EXPECT(nad_figure_images(p, NAD_FIGURE_PNG, x, 2, 1, 2, 2, 0, 0, 1, NULL) ==
         NAD_ERR_INVALID_ARG);
  EXPECT(nad_figure_nads(p, NAD_FIGURE_PNG, x, 1, 1, 4, 4, NULL, NULL, 0, NULL, 8) ==
         NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(NULL, x, 1, 1, 4, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, INT64_MAX, 1, 4, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, 1, 1, 4, 1LL << 40) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(tpath("missing/dir.png"), x, 1, 1, 4, 4) == NAD_ERR_IO);
  EXPECT(strstr(nad_last_error(), "missing/dir.png") != NULL);
  EXPECT(nad_png_write_nads(p, x, 1, 1, 4, 4) == NAD_OK);
  EXPECT(nad_png_write_heatmap(p, v, 2, 2, 100, 50) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_heatmap(p, v, 2, 2, 0, 5) == NAD_OK);
  EXPECT(nad_figure_heatmap(p, NAD_FIGURE_PNG, v, 2, 2, 0, 5, 0, 0, 0, 1, NULL, NULL, NULL,
                            NULL) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_lineplot(p, v, v, 4, 0, 5) == NAD_OK);
  EXPECT(nad_figure_lines(p, NAD_FIGURE_PDF, v, v, 2, 2, 0, 5, "t", "x", "y", "a\nb") == NAD_OK);
  double inf[2] = {0, INFINITY};
  EXPECT(nad_png_write_lineplot(p, inf, v, 2, 0, 5) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_figure_spectrum(p, NAD_FIGURE_PNG, v, 1, 2, 2, NULL) == NAD_OK);
  EXPECT(nad_figure_spectrum(p, NAD_FIGURE_PNG, v, 1, 0, 2, NULL) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_figure_eigenvalues(p, NAD_FIGURE_SVG, v, 4, "t") == NAD_OK);
  double neg[3] = {-1, 0, NAN}; /* nothing to draw on a log axis: still a figure, not a crash */
  EXPECT(nad_figure_eigenvalues(p, NAD_FIGURE_PNG, neg, 3, NULL) == NAD_OK);
  /* a grid that cannot fit 32767 points */
  static float big[1][1][1][4000];
  EXPECT(nad_png_write_nads(p, &big[0][0][0][0], 1, 1, 1, 4000) == NAD_OK);
  /* issue 11: 1×1×100000 took 414 s through a direct DFT; now refused at once (it cannot be
   * drawn at one point per value), and the widest drawable row goes through FFTW */
  float *wide = calloc(100000, sizeof(float));
  EXPECT(wide && nad_png_write_nads(p, wide, 1, 1, 1, 100000) == NAD_ERR_INVALID_ARG);
  for (int i = 0; wide && i < 8192; i++)
    wide[i] = (float)sin(0.01 * i * i);
  EXPECT(wide && nad_png_write_nads(p, wide, 1, 1, 1, 8192) == NAD_OK);
  /* two such NADs: one column per band */
  EXPECT(wide && nad_png_write_nads(p, wide, 2, 1, 1, 4096) == NAD_OK);
  free(wide);
  float *many = calloc(4000 * 64, sizeof(float));
  EXPECT(many && nad_png_write_nads(p, many, 4000, 1, 8, 8) == NAD_ERR_INVALID_ARG);
  free(many);
}

/* spectrum IN.npy OUT.npy: the figures' power spectrum of a 2-D float array, for numpy. */
static int spectrum_tool(const char *in, const char *out) {
  float *x = NULL;
  int64_t shape[NADI_NPY_MAX_DIMS];
  int32_t nd = 0;
  if (nadi_npy_read_f32(in, &x, shape, &nd) != NAD_OK || nd != 2) {
    printf("cannot read a 2-D %s: %s\n", in, nad_last_error());
    nadi_free(x);
    return 1;
  }
  double *half = malloc((size_t)(shape[0] * (shape[1] / 2 + 1)) * sizeof(double));
  double *p = malloc((size_t)(shape[0] * shape[1]) * sizeof(double));
  nadi_fft2d *fft = NULL;
  int rc = !half || !p || nadi_fft2d_create(shape[0], shape[1], &fft) != NAD_OK;
  if (!rc) {
    nadi_power_spectrum(fft, x, shape[0], shape[1], half, p);
    rc = nadi_npy_write(out, p, 1, shape, 2) != NAD_OK;
  }
  nadi_fft2d_destroy(fft);
  nadi_free(x);
  free(half);
  free(p);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "spectrum") == 0)
    return spectrum_tool(argv[2], argv[3]);
  const char *keep = getenv("NAD_TEST_OUTDIR"); /* to look at the pictures */
  if (keep && *keep)
    snprintf(dir, sizeof dir, "%s", keep);
  else
    nadt_scratch_dir(dir, sizeof dir, "nad-test-figure");
  test_colour_maps();
  test_ticks();
  test_power_spectrum();
  test_nads_png();
  test_spectrum_png();
  test_eigenvalues_png();
  test_heatmap_clamped();
  test_lines_png();
  test_vector_formats();
  test_public_args();
  if (!(keep && *keep))
    nadt_remove_dir(dir);
  return check_summary();
}
