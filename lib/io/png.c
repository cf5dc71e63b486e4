/* PNG figures: raw RGB images, heatmaps, the NAD grid (each NAD above its Fourier power) and
 * line plots; the public entry points that validate are lib/api/figures.c.
 * The only file that includes png.h. Images are produced row by row through a callback, so a
 * grid of thousands of NADs needs memory for one band of tiles, not for the whole picture.
 * libpng's default handlers print to stderr and abort; ours record the message and longjmp. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/io.h"

#define PNG_MAX_SIDE 0x7fffffffLL /* PNG_UINT_31_MAX */
#define GRID_MARGIN 4             /* white pixels around and between tiles */
#define GRID_MAX_COLS 8
#define TILE_TARGET_PX 128 /* tiles are scaled up to about this size */
#define TILE_MAX_SCALE 8
#define HEATMAP_TARGET_PX 512
#define HEATMAP_MAX_BLOCK 32

/* ------------------------------------------------------------------------------------------ */
/* Colour maps                                                                                */
/* ------------------------------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------------------------------ */
/* Row-streaming PNG encoder                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef void (*row_fn)(void *ctx, int64_t y, uint8_t *row);

typedef struct png_sink {
  FILE *fp;
  int err;       /* errno of a failed fwrite */
  char msg[200]; /* libpng's message */
} png_sink;

static void on_error(png_structp png, png_const_charp msg) {
  png_sink *s = png_get_error_ptr(png);
  snprintf(s->msg, sizeof s->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

static void on_write(png_structp png, png_bytep data, size_t len) {
  png_sink *s = png_get_io_ptr(png);
  if (fwrite(data, 1, len, s->fp) != len) {
    s->err = errno ? errno : EIO;
    png_error(png, "write failed");
  }
}

static void on_flush(png_structp png) { (void)png; }

/* Kept apart from write_rows so that no local of the caller lives across setjmp/longjmp.
 * Returns 0 on success, 1 on a libpng or write error (details in s), 2 when out of memory. */
static int encode(png_sink *s, uint32_t w, uint32_t h, row_fn fn, void *ctx, uint8_t *row) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
  if (!png)
    return 2;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    return 2;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return 1;
  }
  png_set_write_fn(png, s, on_write, on_flush);
  png_set_user_limits(png, (png_uint_32)PNG_MAX_SIDE, (png_uint_32)PNG_MAX_SIDE);
  png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  for (uint32_t y = 0; y < h; y++) {
    fn(ctx, y, row);
    png_write_row(png, row);
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return 0;
}

static nad_status write_rows(const char *path, int64_t w, int64_t h, row_fn fn, void *ctx) {
  assert(w >= 1 && h >= 1 && w <= PNG_MAX_SIDE && h <= PNG_MAX_SIDE);
  uint8_t *row = malloc((size_t)w * 3);
  if (!row)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory for a %lld-pixel row", path,
                     (long long)w);
  nadi_atomic_file af;
  if (nadi_atomic_open(&af, path) != 0) {
    free(row);
    return nadi_atomic_fail(&af);
  }
  png_sink sink = {af.fp, 0, ""};
  int rc = encode(&sink, (uint32_t)w, (uint32_t)h, fn, ctx, row);
  free(row);
  if (rc != 0) {
    nadi_atomic_abort(&af);
    if (rc == 2)
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory in libpng", path);
    if (sink.err)
      return nadi_fail(NAD_ERR_IO, "%s: cannot write: %s", path, strerror(sink.err));
    return nadi_fail(NAD_ERR_IO, "%s: libpng error: %s", path, sink.msg);
  }
  return nadi_atomic_commit(&af) == 0 ? NAD_OK : nadi_atomic_fail(&af);
}

/* ------------------------------------------------------------------------------------------ */
/* Raw RGB                                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct rgb_ctx {
  const uint8_t *rgb;
  size_t stride;
} rgb_ctx;

static void rgb_row(void *ctx, int64_t y, uint8_t *row) {
  const rgb_ctx *c = ctx;
  memcpy(row, c->rgb + (size_t)y * c->stride, c->stride);
}

nad_status nadi_png_write_rgb(const char *path, int64_t w, int64_t h, const uint8_t *rgb) {
  if (w < 1 || h < 1 || w > PNG_MAX_SIDE || h > PNG_MAX_SIDE)
    return nadi_fail(NAD_ERR_INVALID_ARG, "%s: PNG size %lldx%lld out of range", path, (long long)w,
                     (long long)h);
  rgb_ctx c = {rgb, (size_t)w * 3};
  return write_rows(path, w, h, rgb_row, &c);
}

/* ------------------------------------------------------------------------------------------ */
/* Heatmap                                                                                    */
/* ------------------------------------------------------------------------------------------ */

typedef struct heat_ctx {
  const double *v;
  int64_t cols, block;
  double lo, hi;
  int cmap;
} heat_ctx;

static void heat_row(void *ctx, int64_t y, uint8_t *row) {
  const heat_ctx *c = ctx;
  const double *v = c->v + (y / c->block) * c->cols;
  double span = c->hi - c->lo;
  for (int64_t j = 0; j < c->cols; j++) {
    double t = span > 0 ? (v[j] - c->lo) / span : 0.5;
    uint8_t px[3];
    if (c->cmap == NADI_CMAP_DIVERGING)
      nadi_cmap_diverging(t, px);
    else
      nadi_cmap_sequential(t, px);
    for (int64_t b = 0; b < c->block; b++)
      memcpy(row + 3 * (j * c->block + b), px, 3);
  }
}

nad_status nadi_png_write_heatmap(const char *path, const double *values, int64_t rows,
                                  int64_t cols, double lo, double hi, int cmap) {
  if (rows < 1 || cols < 1 || rows > PNG_MAX_SIDE || cols > PNG_MAX_SIDE)
    return nadi_fail(NAD_ERR_INVALID_ARG, "%s: heatmap size %lldx%lld out of range", path,
                     (long long)rows, (long long)cols);
  int64_t side = rows > cols ? rows : cols;
  int64_t block = HEATMAP_TARGET_PX / side;
  block = block < 1 ? 1 : block > HEATMAP_MAX_BLOCK ? HEATMAP_MAX_BLOCK : block;
  if (rows * block > PNG_MAX_SIDE || cols * block > PNG_MAX_SIDE)
    block = 1;
  heat_ctx c = {values, cols, block, lo, hi, cmap};
  return write_rows(path, cols * block, rows * block, heat_row, &c);
}

/* ------------------------------------------------------------------------------------------ */
/* NAD grid                                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct grid {
  const float *nads;
  int64_t count, c, h, w;
  int64_t scale, cols, bands;
  int64_t tile_w, tile_h, band_h, width, height;
  int64_t band;    /* band currently rendered into rgb, -1 for none */
  uint8_t *rgb;    /* width × band_h × 3 */
  double *work;    /* DFT work: re, im (h·w each), row pass re, im (h·w each), power (h·w) */
  double *twiddle; /* cos, sin for n = h (2h) then n = w (2w) */
} grid;

static void put_block(grid *g, int64_t y0, int64_t x0, int64_t i, int64_t k, const uint8_t px[3]) {
  for (int64_t dy = 0; dy < g->scale; dy++) {
    uint8_t *p = g->rgb + 3 * ((y0 + i * g->scale + dy) * g->width + x0 + k * g->scale);
    for (int64_t dx = 0; dx < g->scale; dx++)
      memcpy(p + 3 * dx, px, 3);
  }
}

static void fill_twiddle(double *t, int64_t n) {
  for (int64_t k = 0; k < n; k++) {
    double a = 2.0 * M_PI * (double)k / (double)n;
    t[k] = cos(a);
    t[n + k] = -sin(a); /* forward transform: e^{-2πi k/n} */
  }
}

/* |DFT2(x)|², fftshifted, into power[h·w]. Direct separable DFT in double: O(hw(h+w)). */
static void power_spectrum(grid *g, const float *x, double *power) {
  int64_t h = g->h, w = g->w, hw = h * w;
  double *rre = g->work, *rim = rre + hw, *fre = rim + hw, *fim = fre + hw;
  const double *ch = g->twiddle, *sh = ch + h, *cw = sh + h, *sw = cw + w;
  for (int64_t i = 0; i < h; i++) /* along each row */
    for (int64_t v = 0; v < w; v++) {
      double re = 0, im = 0;
      for (int64_t k = 0, t = 0; k < w; k++, t = t + v >= w ? t + v - w : t + v) {
        re += x[i * w + k] * cw[t]; /* t = v·k mod w */
        im += x[i * w + k] * sw[t];
      }
      rre[i * w + v] = re;
      rim[i * w + v] = im;
    }
  for (int64_t u = 0; u < h; u++) /* then along each column */
    for (int64_t v = 0; v < w; v++) {
      double re = 0, im = 0;
      for (int64_t i = 0, t = 0; i < h; i++, t = t + u >= h ? t + u - h : t + u) {
        re += rre[i * w + v] * ch[t] - rim[i * w + v] * sh[t];
        im += rre[i * w + v] * sh[t] + rim[i * w + v] * ch[t];
      }
      fre[u * w + v] = re;
      fim[u * w + v] = im;
    }
  for (int64_t u = 0; u < h; u++) /* numpy.fft.fftshift: frequency 0 moves to (h/2, w/2) */
    for (int64_t v = 0; v < w; v++)
      power[((u + h / 2) % h) * w + (v + w / 2) % w] =
          fre[u * w + v] * fre[u * w + v] + fim[u * w + v] * fim[u * w + v];
}

static void draw_nad(grid *g, const float *x, int64_t y0, int64_t x0) {
  double m = 0;
  for (int64_t i = 0; i < g->h * g->w; i++)
    if (isfinite(x[i]) && fabs(x[i]) > m)
      m = fabs(x[i]);
  for (int64_t i = 0; i < g->h; i++)
    for (int64_t k = 0; k < g->w; k++) {
      double v = x[i * g->w + k];
      uint8_t px[3];
      nadi_cmap_diverging(!isfinite(v) ? NAN : m > 0 ? 0.5 + 0.5 * v / m : 0.5, px);
      put_block(g, y0, x0, i, k, px);
    }
}

static void draw_spectrum(grid *g, const float *x, int64_t y0, int64_t x0) {
  int64_t hw = g->h * g->w;
  double *power = g->work + 4 * hw;
  power_spectrum(g, x, power);
  double pmax = 0;
  for (int64_t i = 0; i < hw; i++)
    if (isfinite(power[i]) && power[i] > pmax)
      pmax = power[i];
  /* Log scale over at most 12 decades below the peak; below is clamped to the darkest. */
  double floor_p = pmax * 1e-12, pmin = pmax;
  for (int64_t i = 0; i < hw; i++)
    if (isfinite(power[i]) && power[i] < pmin)
      pmin = power[i];
  double hi = pmax > 0 ? log10(pmax) : 0;
  double lo = pmax > 0 ? log10(pmin > floor_p ? pmin : floor_p) : 0;
  for (int64_t i = 0; i < g->h; i++)
    for (int64_t k = 0; k < g->w; k++) {
      double p = power[i * g->w + k], t;
      if (!isfinite(p))
        t = NAN;
      else if (pmax <= 0)
        t = 0; /* all-zero NAD: no power anywhere */
      else if (hi - lo < 1e-6)
        t = 1; /* flat spectrum (e.g. a single pixel): everything at the peak */
      else
        t = (log10(p > floor_p ? p : floor_p) - lo) / (hi - lo);
      uint8_t px[3];
      nadi_cmap_sequential(t, px);
      put_block(g, y0, x0, i, k, px);
    }
}

static void render_band(grid *g, int64_t b) {
  memset(g->rgb, 255, (size_t)(g->width * g->band_h * 3));
  for (int64_t j = 0; j < g->cols; j++) {
    int64_t idx = b * g->cols + j;
    if (idx >= g->count)
      break;
    const float *x = g->nads + idx * g->c * g->h * g->w; /* channel 0 */
    int64_t x0 = GRID_MARGIN + j * (g->tile_w + GRID_MARGIN);
    draw_nad(g, x, GRID_MARGIN, x0);
    draw_spectrum(g, x, 2 * GRID_MARGIN + g->tile_h, x0);
  }
  g->band = b;
}

static void grid_row(void *ctx, int64_t y, uint8_t *row) {
  grid *g = ctx;
  int64_t b = y / g->band_h;
  if (b >= g->bands) { /* bottom margin */
    memset(row, 255, (size_t)(g->width * 3));
    return;
  }
  if (b != g->band)
    render_band(g, b);
  memcpy(row, g->rgb + 3 * (y - b * g->band_h) * g->width, (size_t)(g->width * 3));
}

nad_status nadi_png_write_nads(const char *path, const float *nads, int64_t count, int64_t c,
                               int64_t h, int64_t w) {
  const int64_t work = h * w * 5 * (int64_t)sizeof(double); /* the façade bounds the sizes */
  grid g = {.nads = nads, .count = count, .c = c, .h = h, .w = w, .band = -1};
  int64_t side = h > w ? h : w;
  g.scale = TILE_TARGET_PX / side;
  g.scale = g.scale < 1 ? 1 : g.scale > TILE_MAX_SCALE ? TILE_MAX_SCALE : g.scale;
  g.cols = count < GRID_MAX_COLS ? count : GRID_MAX_COLS;
  g.bands = (count + g.cols - 1) / g.cols;
  /* Bound every product by the PNG side limit before forming it. */
  NADI_CHECK(w <= PNG_MAX_SIDE / g.scale && h <= PNG_MAX_SIDE / (2 * g.scale), NAD_ERR_INVALID_ARG,
             "nad_png_write_nads: tiles too large for a PNG");
  g.tile_w = w * g.scale;
  g.tile_h = h * g.scale;
  g.band_h = 2 * g.tile_h + 2 * GRID_MARGIN;
  g.width = GRID_MARGIN + g.cols * (g.tile_w + GRID_MARGIN);
  NADI_CHECK(g.width <= PNG_MAX_SIDE && g.bands <= (PNG_MAX_SIDE - GRID_MARGIN) / g.band_h,
             NAD_ERR_INVALID_ARG,
             "nad_png_write_nads: %lld NADs of %lldx%lld do not fit in one PNG", (long long)count,
             (long long)h, (long long)w);
  g.height = g.bands * g.band_h + GRID_MARGIN;
  int64_t band_bytes;
  NADI_CHECK(nadi_mul_ok(g.width * 3, g.band_h, &band_bytes) && (uint64_t)band_bytes <= SIZE_MAX,
             NAD_ERR_INVALID_ARG, "nad_png_write_nads: sizes overflow");

  g.rgb = malloc((size_t)band_bytes);
  g.work = malloc((size_t)work);
  g.twiddle = malloc((size_t)(2 * (h + w)) * sizeof(double));
  nad_status st;
  if (!g.rgb || !g.work || !g.twiddle) {
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "nad_png_write_nads: out of memory");
  } else {
    fill_twiddle(g.twiddle, h);
    fill_twiddle(g.twiddle + 2 * h, w);
    st = write_rows(path, g.width, g.height, grid_row, &g);
  }
  free(g.rgb);
  free(g.work);
  free(g.twiddle);
  return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Line plot (figure of `nad sweep`)                                                          */
/* ------------------------------------------------------------------------------------------ */

#define PLOT_W 640
#define PLOT_H 400
#define PLOT_L 48 /* margins around the plot area */
#define PLOT_R 24
#define PLOT_T 24
#define PLOT_B 40

typedef struct canvas {
  uint8_t *rgb; /* PLOT_W × PLOT_H × 3 */
} canvas;

static void plot_px(canvas *cv, int64_t x, int64_t y, const uint8_t c[3]) {
  if (x < 0 || y < 0 || x >= PLOT_W || y >= PLOT_H)
    return;
  memcpy(cv->rgb + 3 * (y * PLOT_W + x), c, 3);
}

/* Line of width ~2 px by stepping along the longer axis. */
static void plot_line(canvas *cv, double x0, double y0, double x1, double y1, const uint8_t c[3]) {
  double dx = x1 - x0, dy = y1 - y0;
  int64_t steps = (int64_t)ceil(fmax(fabs(dx), fabs(dy)));
  if (steps < 1)
    steps = 1;
  for (int64_t i = 0; i <= steps; i++) {
    double t = (double)i / (double)steps;
    int64_t x = (int64_t)lround(x0 + t * dx), y = (int64_t)lround(y0 + t * dy);
    plot_px(cv, x, y, c);
    plot_px(cv, x + 1, y, c);
    plot_px(cv, x, y + 1, c);
  }
}

static void plot_marker(canvas *cv, double x, double y, const uint8_t c[3]) {
  int64_t cx = (int64_t)lround(x), cy = (int64_t)lround(y);
  for (int64_t j = -3; j <= 3; j++)
    for (int64_t i = -3; i <= 3; i++)
      plot_px(cv, cx + i, cy + j, c);
}

nad_status nadi_png_write_lineplot(const char *path, const double *x, const double *y, int64_t n,
                                   double y_lo, double y_hi) {
  double xmin = INFINITY, xmax = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    xmin = fmin(xmin, x[i]);
    xmax = fmax(xmax, x[i]);
  }
  if (!(xmax > xmin)) { /* one distinct x: centre it */
    xmin -= 1.0;
    xmax += 1.0;
  }
  canvas cv = {malloc((size_t)PLOT_W * PLOT_H * 3)};
  NADI_CHECK(cv.rgb, NAD_ERR_OUT_OF_MEMORY, "nad_png_write_lineplot: out of memory");
  memset(cv.rgb, 255, (size_t)PLOT_W * PLOT_H * 3);
  const uint8_t axis[3] = {0, 0, 0}, grid_c[3] = {220, 220, 220}, line_c[3] = {31, 119, 180},
                mark_c[3] = {214, 39, 40};
  const double x0 = PLOT_L, x1 = PLOT_W - PLOT_R, y0 = PLOT_H - PLOT_B, y1 = PLOT_T;
  for (int q = 1; q <= 4; q++) { /* horizontal grid at the quarters of [y_lo, y_hi] */
    double gy = y0 + (y1 - y0) * q / 4.0;
    for (int64_t px = (int64_t)x0; px <= (int64_t)x1; px++)
      plot_px(&cv, px, (int64_t)lround(gy), grid_c);
  }
  plot_line(&cv, x0, y0, x1, y0, axis); /* x axis with ticks at the quarters of the x range */
  plot_line(&cv, x0, y0, x0, y1, axis);
  for (int q = 0; q <= 4; q++) {
    plot_line(&cv, x0 + (x1 - x0) * q / 4.0, y0, x0 + (x1 - x0) * q / 4.0, y0 + 6, axis);
    plot_line(&cv, x0 - 6, y0 + (y1 - y0) * q / 4.0, x0, y0 + (y1 - y0) * q / 4.0, axis);
  }
  double px_prev = 0, py_prev = 0;
  int have_prev = 0;
  for (int64_t i = 0; i < n; i++) {
    if (isnan(y[i])) {
      have_prev = 0;
      continue;
    }
    double ty = (y[i] - y_lo) / (y_hi - y_lo);
    ty = ty < 0 ? 0 : ty > 1 ? 1 : ty;
    double px = x0 + (x1 - x0) * (x[i] - xmin) / (xmax - xmin), py = y0 + (y1 - y0) * ty;
    if (have_prev)
      plot_line(&cv, px_prev, py_prev, px, py, line_c);
    px_prev = px;
    py_prev = py;
    have_prev = 1;
  }
  for (int64_t i = 0; i < n; i++) {
    if (isnan(y[i]))
      continue;
    double ty = (y[i] - y_lo) / (y_hi - y_lo);
    ty = ty < 0 ? 0 : ty > 1 ? 1 : ty;
    plot_marker(&cv, x0 + (x1 - x0) * (x[i] - xmin) / (xmax - xmin), y0 + (y1 - y0) * ty, mark_c);
  }
  nad_status st = nadi_png_write_rgb(path, PLOT_W, PLOT_H, cv.rgb);
  free(cv.rgb);
  return st;
}
