/* Dataset transformations and poisoning through the public API (lib/api/dataset_transform.c,
 * lib/data/transform.c, poison.c) and the image-grid PNG (lib/figure/image_grid.c): values against
 * closed forms computed here in double, every argument error. The carriers and the poisoned set
 * are also compared with a numpy re-implementation of the reference in
 * tests/python/test_data_api.py. */
#include <math.h>

#include "data_files.h"

static nad_dataset *make(const float *x, const int32_t *y, int64_t n, int64_t c, int64_t h,
                         int64_t w) {
  nad_dataset *d = NULL;
  CHECK(nad_dataset_create(x, y, n, c, h, w, &d) == NAD_OK, "create: %s", nad_last_error());
  return d;
}

static void get(const nad_dataset *d, float *x, size_t len, int32_t *y, size_t n) {
  CHECK(nad_dataset_get(d, x, len, y, n) == NAD_OK, "get: %s", nad_last_error());
}

static void test_resize_normalize_subset(void) {
  /* 3 samples, 2 channels, 2x3 */
  float x[36];
  for (int i = 0; i < 36; i++)
    x[i] = (float)(i * 0.25 - 3);
  const int32_t y[3] = {2, 0, 2};
  nad_dataset *d = make(x, y, 3, 2, 2, 3), *r = NULL;
  /* pad 2x3 -> 5x4: rows 1..2 (floor(3/2) = 1 above), columns 0..2 (floor(1/2) = 0 left) */
  EXPECT(nad_dataset_resize(d, 5, 4, &r) == NAD_OK);
  float big[3 * 2 * 5 * 4];
  int32_t yy[3];
  get(r, big, 120, yy, 3);
  int ok = yy[0] == 2 && yy[1] == 0 && yy[2] == 2;
  for (int i = 0; i < 3; i++)
    for (int c = 0; c < 2; c++)
      for (int row = 0; row < 5; row++)
        for (int col = 0; col < 4; col++) {
          float want = row >= 1 && row <= 2 && col <= 2 ? x[((i * 2 + c) * 2 + row - 1) * 3 + col]
                                                        : 0.0f;
          ok &= big[((i * 2 + c) * 5 + row) * 4 + col] == want;
        }
  CHECK(ok, "resize 2x3 -> 5x4");
  /* resizing back crops exactly to the original */
  nad_dataset *back = NULL;
  float again[36];
  EXPECT(nad_dataset_resize(r, 2, 3, &back) == NAD_OK);
  get(back, again, 36, NULL, 0);
  EXPECT(memcmp(again, x, sizeof x) == 0);
  int64_t k = 0;
  EXPECT(nad_dataset_num_classes(back, &k) == NAD_OK && k == 3);
  nad_dataset_destroy(back);
  nad_dataset_destroy(r);

  /* channel statistics in double, then normalisation to mean 0, std 1 */
  double mean[2], sd[2];
  EXPECT(nad_dataset_channel_stats(d, mean, sd, 2) == NAD_OK);
  for (int c = 0; c < 2; c++) {
    double s = 0, q = 0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 6; j++)
        s += x[(i * 2 + c) * 6 + j];
    double m = s / 18;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 6; j++)
        q += (x[(i * 2 + c) * 6 + j] - m) * (x[(i * 2 + c) * 6 + j] - m);
    CHECK(fabs(mean[c] - m) < 1e-12 && fabs(sd[c] - sqrt(q / 18)) < 1e-12,
          "stats channel %d: %g %g vs %g %g", c, mean[c], sd[c], m, sqrt(q / 18));
  }
  nad_dataset *nd = NULL;
  EXPECT(nad_dataset_normalize(d, mean, sd, 2, &nd) == NAD_OK);
  double m2[2], s2[2];
  EXPECT(nad_dataset_channel_stats(nd, m2, s2, 2) == NAD_OK);
  CHECK(fabs(m2[0]) < 1e-6 && fabs(m2[1]) < 1e-6 && fabs(s2[0] - 1) < 1e-6 &&
            fabs(s2[1] - 1) < 1e-6,
        "normalised: mean %g %g std %g %g", m2[0], m2[1], s2[0], s2[1]);
  float xn[36];
  get(nd, xn, 36, NULL, 0);
  EXPECT(fabsf(xn[3] - (float)((x[3] - mean[0]) / sd[0])) < 1e-6f); /* sample 0, channel 0 */
  nad_dataset_destroy(nd);

  /* subset */
  nad_dataset *sub = NULL;
  EXPECT(nad_dataset_subset(d, 1, 2, &sub) == NAD_OK);
  float xs[24];
  int32_t ys[2];
  get(sub, xs, 24, ys, 2);
  EXPECT(memcmp(xs, x + 12, sizeof xs) == 0 && ys[0] == 0 && ys[1] == 2);
  EXPECT(nad_dataset_num_classes(sub, &k) == NAD_OK && k == 3);
  int64_t counts[3];
  EXPECT(nad_dataset_class_counts(sub, counts, 3) == NAD_OK && counts[0] == 1 && counts[1] == 0 &&
         counts[2] == 1);
  nad_dataset_destroy(sub);

  /* argument errors: nothing created */
  nad_dataset *o = (nad_dataset *)(uintptr_t)1;
  EXPECT(nad_dataset_resize(d, 0, 4, &o) == NAD_ERR_INVALID_ARG && !o);
  EXPECT(nad_dataset_resize(NULL, 4, 4, &o) == NAD_ERR_INVALID_ARG);
  double bad_sd[2] = {1, 0}, nan_mean[2] = {NAN, 0};
  EXPECT(nad_dataset_normalize(d, mean, bad_sd, 2, &o) == NAD_ERR_INVALID_ARG && !o);
  EXPECT(nad_dataset_normalize(d, nan_mean, sd, 2, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_normalize(d, mean, sd, 3, &o) == NAD_ERR_SHAPE);
  EXPECT(nad_dataset_subset(d, 2, 2, &o) == NAD_ERR_INVALID_ARG && !o);
  EXPECT(nad_dataset_subset(d, -1, 1, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_subset(d, 0, 0, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_channel_stats(d, mean, sd, 1) == NAD_ERR_SHAPE);
  EXPECT(nad_dataset_class_counts(d, counts, 2) == NAD_ERR_SHAPE);
  EXPECT(nad_dataset_num_classes(NULL, &k) == NAD_ERR_INVALID_ARG);
  nad_dataset_destroy(d);
}

/* ---- poisoning ------------------------------------------------------------------------------ */

enum { PN = 40, PC = 2, PH = 3, PW = 3, PK = 5, PCOUNT = 4 };

static void test_poison(void) {
  const int64_t plane = PH * PW, dim = PC * plane;
  float x[PN * PC * PH * PW];
  int32_t y[PN];
  for (int i = 0; i < PN; i++)
    y[i] = i % PK;
  for (int i = 0; i < PN * PC * PH * PW; i++)
    x[i] = (float)sin(i * 1.7 + 0.3);
  float nads[PCOUNT * PH * PW];
  for (int i = 0; i < PCOUNT * PH * PW; i++)
    nads[i] = (float)cos(i * 0.9) * 2.5f; /* rows not unit: the library normalises them */
  nad_dataset *d = make(x, y, PN, PC, PH, PW), *p = NULL;
  const int64_t index = 2; /* classes 0..3 use NAD 2, class 4 uses NAD 3 */
  const double eps = 0.3;
  CHECK(nad_dataset_poison(d, nads, PCOUNT, plane, index, eps, &p) == NAD_OK, "poison: %s",
        nad_last_error());
  float xp[PN * PC * PH * PW];
  int32_t yp[PN];
  if (p)
    get(p, xp, sizeof xp / sizeof xp[0], yp, PN);
  int ok = p != NULL;
  double worst = 0;
  for (int i = 0; ok && i < PN; i++) {
    const int t = y[i], ch = t % PC, row = (int)index + t / (2 * PC);
    const double sign = 2 * (t % 2) - 1;
    double nv = 0;
    for (int j = 0; j < plane; j++)
      nv += (double)nads[row * plane + j] * nads[row * plane + j];
    nv = sqrt(nv);
    /* <x', v> = sign·eps on the carrier channel; x' − x parallel to v; other channel equal */
    double dot = 0, dot0 = 0;
    for (int j = 0; j < plane; j++) {
      double v = nads[row * plane + j] / nv;
      dot += xp[i * dim + ch * plane + j] * v;
      dot0 += x[i * dim + ch * plane + j] * v;
    }
    worst = fmax(worst, fabs(dot - sign * eps));
    for (int j = 0; j < plane; j++) {
      double v = nads[row * plane + j] / nv;
      double want = x[i * dim + ch * plane + j] + (sign * eps - dot0) * v;
      ok &= fabs(xp[i * dim + ch * plane + j] - want) < 1e-6;
      ok &= xp[i * dim + (1 - ch) * plane + j] == x[i * dim + (1 - ch) * plane + j];
    }
    ok &= yp[i] == y[i];
  }
  CHECK(ok && worst < 1e-6, "poisoned: component along the carrier = sign*eps (worst %g)", worst);
  nad_dataset_destroy(p);

  /* carriers: unit norm on channel t % C, sign, NAD index + t / (2C) */
  for (int t = 0; t < PK; t++) {
    float v[PC * PH * PW];
    int32_t sign = 0;
    CHECK(nad_poison_carrier(nads, PCOUNT, plane, PC, PH, PW, index, t, v, dim, &sign) == NAD_OK,
          "carrier %d: %s", t, nad_last_error());
    const int ch = t % PC, row = (int)index + t / (2 * PC);
    double n2 = 0, nv = 0;
    for (int j = 0; j < plane; j++)
      nv += (double)nads[row * plane + j] * nads[row * plane + j];
    int cok = sign == 2 * (t % 2) - 1;
    for (int j = 0; j < plane; j++) {
      n2 += (double)v[ch * plane + j] * v[ch * plane + j];
      cok &= fabs(v[ch * plane + j] - nads[row * plane + j] / sqrt(nv)) < 1e-6;
      cok &= v[(1 - ch) * plane + j] == 0.0f;
    }
    CHECK(cok && fabs(n2 - 1) < 1e-6, "carrier of class %d", t);
  }

  /* the bad inputs of the issue: NADs of another D, an index range past the last NAD, an eps
   * that is negative or not finite; and a zero / non-finite NAD */
  nad_dataset *o = (nad_dataset *)(uintptr_t)1;
  EXPECT(nad_dataset_poison(d, nads, PCOUNT, plane + 1, 0, eps, &o) == NAD_ERR_SHAPE && !o);
  EXPECT(strstr(nad_last_error(), "the NADs have D = 10 values") != NULL);
  EXPECT(nad_dataset_poison(d, nads, PCOUNT, dim, 0, eps, &o) == NAD_ERR_SHAPE);
  EXPECT(nad_dataset_poison(d, nads, PCOUNT, plane, 3, eps, &o) == NAD_ERR_INVALID_ARG && !o);
  CHECK(strstr(nad_last_error(), "use NADs 3..4, past the last NAD (3)") != NULL, "%s",
        nad_last_error());
  EXPECT(nad_dataset_poison(d, nads, PCOUNT, plane, 4, eps, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_poison(d, nads, PCOUNT, plane, INT64_MAX, eps, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_poison(d, nads, PCOUNT, plane, -1, eps, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_poison(d, nads, PCOUNT, plane, 0, -0.1, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_poison(d, nads, PCOUNT, plane, 0, NAN, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_poison(d, nads, PCOUNT, plane, 0, INFINITY, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_poison(d, NULL, PCOUNT, plane, 0, eps, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_dataset_poison(d, nads, 0, plane, 0, eps, &o) == NAD_ERR_INVALID_ARG && !o);
  float zero[PCOUNT * PH * PW];
  memcpy(zero, nads, sizeof zero);
  memset(zero + 3 * plane, 0, (size_t)plane * sizeof(float));
  EXPECT(nad_dataset_poison(d, zero, PCOUNT, plane, 2, eps, &o) == NAD_ERR_INVALID_ARG && !o);
  CHECK(strstr(nad_last_error(), "NAD 3 (carrier of class 4) is zero") != NULL, "%s",
        nad_last_error());
  zero[3 * plane + 4] = NAN;
  EXPECT(nad_dataset_poison(d, zero, PCOUNT, plane, 2, eps, &o) == NAD_ERR_INVALID_ARG);
  EXPECT(strstr(nad_last_error(), "is not finite") != NULL);
  EXPECT(nad_dataset_poison(d, zero, PCOUNT, plane, 0, eps, &o) == NAD_OK); /* rows 0, 1 used */
  nad_dataset_destroy(o);
  float v[PC * PH * PW];
  EXPECT(nad_poison_carrier(nads, PCOUNT, plane, PC, PH, PW, 3, 4, v, dim, NULL) ==
         NAD_ERR_INVALID_ARG);
  EXPECT(nad_poison_carrier(nads, PCOUNT, plane, PC, PH, PW, 0, -1, v, dim, NULL) ==
         NAD_ERR_INVALID_ARG);
  EXPECT(nad_poison_carrier(nads, PCOUNT, plane, PC, PH, PW, 0, 0, v, dim - 1, NULL) ==
         NAD_ERR_SHAPE);
  nad_dataset_destroy(d);
}

/* ---- the image grid ------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_images_png(void) {
  float x[5 * 3 * 8 * 10];
  for (int i = 0; i < 5 * 3 * 80; i++)
    x[i] = (float)(i % 17) / 16.0f;
  x[3] = NAN;
  const char *path = tpath("grid.png");
  CHECK(nad_png_write_images(path, x, 5, 3, 8, 10, 2, 0.0, 1.0) == NAD_OK, "%s",
        nad_last_error());
  size_t n = 0;
  unsigned char *b = nadt_read_file(path, &n);
  /* 5 images of 8x10 magnified 7x (56x70) in 2 columns, 3 rows, 1 px gaps: 141 x 170 */
  CHECK(b && n > 33 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0 && be32(b + 16) == 141 &&
            be32(b + 20) == 170,
        "PNG header: %u x %u", b ? be32(b + 16) : 0, b ? be32(b + 20) : 0);
  free(b);
  EXPECT(nad_png_write_images(path, x, 5, 2, 8, 10, 2, 0.0, 1.0) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_images(path, x, 5, 3, 8, 10, 2, 1.0, 1.0) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_images(path, x, 0, 3, 8, 10, 2, 0.0, 1.0) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_images(path, x, 5, 3, 8, 10, 0, 0.0, 1.0) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_images(NULL, x, 5, 3, 8, 10, 2, 0.0, 1.0) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_images(path, x, 1, 1, 9000, 1, 1, 0.0, 1.0) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_png_write_images("/nonexistent-nad-dir/x.png", x, 1, 1, 8, 8, 1, 0.0, 1.0) ==
         NAD_ERR_IO);
}

int main(void) {
  make_tdir("nad-transform-test");
  test_resize_normalize_subset();
  test_poison();
  test_images_png();
  remove_tdir();
  return check_summary();
}
