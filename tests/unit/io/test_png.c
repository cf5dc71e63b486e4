/* PNG figures (lib/io/png.c): colour maps, raw RGB, heatmaps and the NAD grid, each read back
 * with libpng and checked pixel by pixel at known positions. Set NAD_TEST_OUTDIR to keep a demo
 * grid (nads_demo.png) and heatmap for looking at. */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "io/io.h"
#include "../check.h"


static char dir[256];

static const char *tpath(const char *name) {
  static char buf[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

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

static int pixel_is(const image *im, int x, int y, int r, int g, int b) {
  if (!im->px || x < 0 || y < 0 || x >= im->w || y >= im->h)
    return 0;
  const uint8_t *p = im->px + 3 * ((size_t)y * (size_t)im->w + (size_t)x);
  if (p[0] == r && p[1] == g && p[2] == b)
    return 1;
  printf("  pixel (%d, %d) is (%d, %d, %d), expected (%d, %d, %d)\n", x, y, p[0], p[1], p[2], r, g,
         b);
  return 0;
}

#define WHITE 255, 255, 255
#define DARK_RED 103, 0, 31
#define DARK_BLUE 5, 48, 97
#define VIRIDIS_LO 68, 1, 84
#define VIRIDIS_HI 253, 231, 37
#define GREY 128, 128, 128

static int rgb_is(const uint8_t c[3], int r, int g, int b) {
  return c[0] == r && c[1] == g && c[2] == b;
}

static void test_cmaps(void) {
  uint8_t c[3];
  nadi_cmap_diverging(0.5, c);
  EXPECT(rgb_is(c, WHITE));
  nadi_cmap_diverging(1.0, c);
  EXPECT(rgb_is(c, DARK_RED));
  nadi_cmap_diverging(0.0, c);
  EXPECT(rgb_is(c, DARK_BLUE));
  nadi_cmap_diverging(7.0, c); /* clamped */
  EXPECT(rgb_is(c, DARK_RED));
  nadi_cmap_diverging(NAN, c);
  EXPECT(rgb_is(c, GREY));
  nadi_cmap_sequential(0.0, c);
  EXPECT(rgb_is(c, VIRIDIS_LO));
  nadi_cmap_sequential(1.0, c);
  EXPECT(rgb_is(c, VIRIDIS_HI));
  /* monotone: red rises towards 1 on the upper half of the diverging map, blue falls; the
   * sequential map gets brighter (sum of channels) at its upper end */
  int mono = 1;
  uint8_t prev[3];
  nadi_cmap_diverging(0.5, prev);
  for (int i = 1; i <= 100; i++) {
    nadi_cmap_diverging(0.5 + 0.005 * i, c);
    mono &= c[2] <= prev[2] && c[1] <= prev[1];
    memcpy(prev, c, 3);
  }
  EXPECT(mono);
  uint8_t a[3], b[3];
  nadi_cmap_diverging(0.3, a);
  nadi_cmap_diverging(0.7, b);
  EXPECT(a[2] > a[0] && b[0] > b[2]); /* below the middle is blue, above is red */
}

static void test_rgb(void) {
  uint8_t px[2 * 3 * 3];
  for (int i = 0; i < 18; i++)
    px[i] = (uint8_t)(i * 14);
  EXPECT(nadi_png_write_rgb(tpath("rgb.png"), 3, 2, px) == NAD_OK);
  image im = load(tpath("rgb.png"));
  EXPECT(im.px && im.w == 3 && im.h == 2 && memcmp(im.px, px, sizeof px) == 0);
  free(im.px);
  /* the file starts with the PNG signature */
  FILE *fp = fopen(tpath("rgb.png"), "rb");
  unsigned char sig[8] = {0};
  if (fp) {
    EXPECT(fread(sig, 1, 8, fp) == 8);
    fclose(fp);
  }
  EXPECT(memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0);
  char tmp[64];
  snprintf(tmp, sizeof tmp, "rgb.png.tmp.%ld", (long)getpid());
  EXPECT(access(tpath(tmp), F_OK) != 0); /* the temporary file was renamed */
  EXPECT(nadi_png_write_rgb(tpath("no-such-dir/rgb.png"), 3, 2, px) == NAD_ERR_IO);
  EXPECT(strstr(nad_last_error(), "no-such-dir/rgb.png") != NULL);
  EXPECT(nadi_png_write_rgb(tpath("rgb0.png"), 0, 2, px) == NAD_ERR_INVALID_ARG);
}

static void test_heatmap(void) {
  double v[3 * 4] = {0, 1, -1, NAN, 2, -2, 0.5, 0, 0, 0, 0, 0};
  EXPECT(nadi_png_write_heatmap(tpath("heat.png"), v, 3, 4, -1, 1, NADI_CMAP_DIVERGING) == NAD_OK);
  image im = load(tpath("heat.png"));
  EXPECT(im.w == 128 && im.h == 96); /* 512 / 4 = 128 px per cell, capped at 32 */
#define CELL(r, c) (c) * 32 + 16, (r)*32 + 16
  EXPECT(pixel_is(&im, CELL(0, 0), WHITE));
  EXPECT(pixel_is(&im, CELL(0, 1), DARK_RED));
  EXPECT(pixel_is(&im, CELL(0, 2), DARK_BLUE));
  EXPECT(pixel_is(&im, CELL(0, 3), GREY));
  EXPECT(pixel_is(&im, CELL(1, 0), DARK_RED));  /* clamped */
  EXPECT(pixel_is(&im, CELL(1, 1), DARK_BLUE)); /* clamped */
  EXPECT(pixel_is(&im, 0, 0, WHITE) && pixel_is(&im, 31, 31, WHITE));
  EXPECT(pixel_is(&im, 32, 0, DARK_RED) && pixel_is(&im, 63, 31, DARK_RED));
  uint8_t c[3];
  nadi_cmap_diverging(0.75, c); /* 0.5 on [-1, 1] */
  EXPECT(pixel_is(&im, CELL(1, 2), c[0], c[1], c[2]));
  free(im.px);
  EXPECT(nadi_png_write_heatmap(tpath("heat.png"), v, 3, 4, 0, 2, NADI_CMAP_SEQUENTIAL) == NAD_OK);
  im = load(tpath("heat.png"));
  EXPECT(pixel_is(&im, CELL(0, 0), VIRIDIS_LO));
  EXPECT(pixel_is(&im, CELL(1, 0), VIRIDIS_HI));
  nadi_cmap_sequential(0.5, c);
  EXPECT(pixel_is(&im, CELL(0, 1), c[0], c[1], c[2]));
#undef CELL
  free(im.px);
}

/* Grid geometry, as documented in png.c: margin 4, scale min(8, 128 / max(h, w)). */
enum { M = 4 };

static void test_grid_known_pixels(void) {
  enum { C = 2, H = 8, W = 6, S = 8 };
  float nads[3][C][H][W];
  memset(nads, 0, sizeof nads);
  /* NAD 0: zero but one positive pixel in channel 0; channel 1 is ignored */
  nads[0][0][2][3] = 0.7f;
  for (int i = 0; i < H; i++)
    for (int k = 0; k < W; k++)
      nads[0][1][i][k] = -5.0f;
  /* NAD 1: all zero. NAD 2: a plane wave with frequency (1, 2) (rows, columns). */
  for (int i = 0; i < H; i++)
    for (int k = 0; k < W; k++)
      nads[2][0][i][k] = (float)cos(2 * M_PI * (1.0 * i / H + 2.0 * k / W));
  const char *p = tpath("grid.png");
  nad_status st = nad_png_write_nads(p, &nads[0][0][0][0], 3, C, H, W);
  EXPECT(st == NAD_OK);
  if (st != NAD_OK)
    printf("  %s\n", nad_last_error());
  image im = load(p);
  EXPECT(im.w == M + 3 * (W * S + M) && im.h == 2 * H * S + 3 * M);
  /* centre of pixel (i, k) of NAD j, in the top (NAD) or bottom (spectrum) tile */
#define NADPX(j, i, k) M + (j) * (W * S + M) + (k)*S + S / 2, M + (i)*S + S / 2
#define SPECPX(j, i, k) M + (j) * (W * S + M) + (k)*S + S / 2, 2 * M + H *S + (i)*S + S / 2
  EXPECT(pixel_is(&im, NADPX(0, 2, 3), DARK_RED)); /* the positive pixel, at full scale */
  EXPECT(pixel_is(&im, NADPX(0, 2, 2), WHITE));
  EXPECT(pixel_is(&im, NADPX(0, 0, 0), WHITE));
  EXPECT(pixel_is(&im, NADPX(0, 7, 5), WHITE));
  /* the red block covers exactly S×S pixels */
  int x0 = M + 3 * S, y0 = M + 2 * S;
  EXPECT(pixel_is(&im, x0, y0, DARK_RED) && pixel_is(&im, x0 + S - 1, y0 + S - 1, DARK_RED));
  EXPECT(pixel_is(&im, x0 - 1, y0, WHITE) && pixel_is(&im, x0 + S, y0, WHITE));
  /* a delta has a flat spectrum: everything at the peak colour */
  EXPECT(pixel_is(&im, SPECPX(0, 0, 0), VIRIDIS_HI) && pixel_is(&im, SPECPX(0, 5, 3), VIRIDIS_HI));
  /* all-zero NAD: white tile, darkest spectrum */
  EXPECT(pixel_is(&im, NADPX(1, 4, 4), WHITE) && pixel_is(&im, SPECPX(1, 4, 4), VIRIDIS_LO));
  /* plane wave: +1 at (0, 0) is red, the DFT has power only at (u, v) = ±(1, 2), which
   * fftshift moves to (1 + 4, 2 + 3) = (5, 5) and (-1 + 8 + 4) % 8, (-2 + 6 + 3) % 6 = (3, 1) */
  EXPECT(pixel_is(&im, NADPX(2, 0, 0), DARK_RED));
  EXPECT(pixel_is(&im, SPECPX(2, 5, 5), VIRIDIS_HI));
  EXPECT(pixel_is(&im, SPECPX(2, 3, 1), VIRIDIS_HI));
  EXPECT(pixel_is(&im, SPECPX(2, 3, 5), VIRIDIS_LO));
  EXPECT(pixel_is(&im, SPECPX(2, 5, 1), VIRIDIS_LO));
  EXPECT(pixel_is(&im, SPECPX(2, 4, 3), VIRIDIS_LO)); /* zero mean: no DC */
  /* margins are white */
  EXPECT(pixel_is(&im, 0, 0, WHITE) && pixel_is(&im, im.w - 1, im.h - 1, WHITE));
  EXPECT(pixel_is(&im, M + W * S + 1, M + 10, WHITE)); /* between tiles */
  EXPECT(pixel_is(&im, M + 10, M + H * S + 1, WHITE)); /* between NAD and spectrum */
#undef NADPX
#undef SPECPX
  free(im.px);
}

/* 20 NADs: 8 columns, 3 bands (rendered one at a time), last band partly empty. */
static void test_grid_bands(void) {
  enum { H = 4, W = 4, S = 8, N = 20 };
  float nads[N][H][W];
  memset(nads, 0, sizeof nads);
  for (int j = 0; j < N; j++)
    nads[j][j % H][(j / H) % W] = (j % 2) ? -1.0f : 1.0f; /* odd ones negative: blue */
  const char *p = tpath("bands.png");
  EXPECT(nad_png_write_nads(p, &nads[0][0][0], N, 1, H, W) == NAD_OK);
  image im = load(p);
  int band_h = 2 * H * S + 2 * M;
  EXPECT(im.w == M + 8 * (W * S + M) && im.h == 3 * band_h + M);
  int all = 1;
  for (int j = 0; j < N; j++) {
    int bx = M + (j % 8) * (W * S + M), by = (j / 8) * band_h + M;
    int i = j % H, k = (j / H) % W;
    int x = bx + k * S + S / 2, y = by + i * S + S / 2;
    all &= (j % 2) ? pixel_is(&im, x, y, DARK_BLUE) : pixel_is(&im, x, y, DARK_RED);
    all &= pixel_is(&im, bx + ((k + 1) % W) * S + 1, by + i * S + 1, WHITE);
  }
  EXPECT(all);
  /* slots 20..23 of the last band are empty */
  EXPECT(pixel_is(&im, M + 5 * (W * S + M) + 10, 2 * band_h + M + 10, WHITE));
  free(im.px);
}

static void test_grid_args(void) {
  float x[16] = {0};
  const char *p = tpath("args.png");
  EXPECT(nad_png_write_nads(NULL, x, 1, 1, 4, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, NULL, 1, 1, 4, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, 0, 1, 4, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, 1, 0, 4, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, 1, 1, -4, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, 1, 1, 4, 0) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, INT64_MAX, 1, 4, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, 1, INT64_MAX / 2, 4, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, 1, 1, INT64_MAX / 2, 4) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_nads(p, x, 1, 1, 4, 1LL << 40) == NAD_ERR_INVALID_ARG);
  EXPECT(access(p, F_OK) != 0);
  EXPECT(nad_png_write_nads(tpath("missing/dir.png"), x, 1, 1, 4, 4) == NAD_ERR_IO);
  /* NaN / Inf entries do not break the picture (grey pixels) */
  x[5] = NAN;
  x[6] = INFINITY;
  x[7] = 1;
  EXPECT(nad_png_write_nads(p, x, 1, 1, 4, 4) == NAD_OK);
  image im = load(p);
  enum { S = 8 };
  EXPECT(pixel_is(&im, M + 1 * S + 1, M + 1 * S + 1, GREY));     /* x[5] = (1, 1) */
  EXPECT(pixel_is(&im, M + 3 * S + 1, M + 1 * S + 1, DARK_RED)); /* x[7] = (1, 3) */
  free(im.px);
}

/* Something that looks like the paper's NADs, for a human to look at. */
static void demo(const char *outdir) {
  enum { N = 12, H = 32, W = 32 };
  static float nads[N][3][H][W];
  nadi_rng r;
  nadi_rng_init(&r, 5, 0);
  for (int j = 0; j < N; j++) {
    double fx = (j % 4) + 1, fy = j / 4, sigma = 6.0 + j;
    for (int i = 0; i < H; i++)
      for (int k = 0; k < W; k++) {
        double di = i - H / 2.0, dk = k - W / 2.0;
        double env = exp(-(di * di + dk * dk) / (2 * sigma * sigma));
        nads[j][0][i][k] =
            (float)(env * cos(2 * M_PI * (fy * i + fx * k) / H) + 0.05 * nadi_rng_normal(&r));
      }
  }
  char path[512];
  snprintf(path, sizeof path, "%s/nads_demo.png", outdir);
  nad_status st = nad_png_write_nads(path, &nads[0][0][0][0], N, 3, H, W);
  printf("demo grid: %s (%s)\n", path, st == NAD_OK ? "ok" : nad_last_error());
  static double v[20 * 30];
  for (int i = 0; i < 20; i++)
    for (int k = 0; k < 30; k++)
      v[i * 30 + k] = sin(i / 3.0) * cos(k / 5.0);
  snprintf(path, sizeof path, "%s/heatmap_demo.png", outdir);
  st = nadi_png_write_heatmap(path, v, 20, 30, -1, 1, NADI_CMAP_DIVERGING);
  printf("demo heatmap: %s (%s)\n", path, st == NAD_OK ? "ok" : nad_last_error());
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/nad-test-png-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    printf("mkdtemp failed: %s\n", strerror(errno));
    return 2;
  }
  test_cmaps();
  test_rgb();
  test_heatmap();
  test_grid_known_pixels();
  test_grid_bands();
  test_grid_args();
  const char *out = getenv("NAD_TEST_OUTDIR");
  if (out && *out)
    demo(out);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    printf("warning: could not remove %s\n", dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
