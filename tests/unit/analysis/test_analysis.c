/* lib/analysis: band operations, alignment curve and score, against closed forms (the numpy
 * comparisons are in tests/python/test_probe_api.py):
 *  - x = a·v_i + b·v_j with v_i inside the band and v_j outside: flip gives −a·v_i + b·v_j,
 *    remove b·v_j; the orthonormality check sees a scaled or repeated row;
 *  - the curve and score arithmetic, including the linear completion beyond the given NADs;
 *  - two classes whose means differ along v_0 only: a(1) = 1 and score 1 for both scatters,
 *    and with v_0 last the score is 1/d. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "../check.h"

enum { D = 12 };

/* An orthonormal basis of R^D: a fixed permutation of the standard basis with signs, rotated
 * in the (0, 1) plane so that the rows are not axis-aligned. */
static void basis(float *v) {
  memset(v, 0, sizeof(float) * D * D);
  for (int i = 0; i < D; i++)
    v[i * D + (i * 5 + 3) % D] = (i % 2) ? -1.0f : 1.0f;
  const float c = 0.6f, s = 0.8f; /* rotate rows 0 and 1 into each other */
  for (int t = 0; t < D; t++) {
    float a = v[t], b = v[D + t];
    v[t] = c * a - s * b;
    v[D + t] = s * a + c * b;
  }
}

static void test_band(void) {
  float v[D * D], x[2 * D], y[2 * D];
  basis(v);
  CHECK(nadi_band_orthonormality_error(v, D, D) < 1e-6, "basis not orthonormal");
  const float a = 1.5f, b = -2.0f;
  for (int t = 0; t < D; t++) {
    x[t] = a * v[2 * D + t] + b * v[7 * D + t]; /* v_2 in the band [1, 5), v_7 outside */
    x[D + t] = a * v[4 * D + t];
  }

  nad_status st = nadi_band_apply(v + D, 4, D, 2.0f, x, 2, y);
  CHECK(st == NAD_OK, "flip: %s", nad_last_error());
  double err = 0;
  for (int t = 0; t < D; t++) {
    err = fmax(err, fabs(y[t] - (-a * v[2 * D + t] + b * v[7 * D + t])));
    err = fmax(err, fabs(y[D + t] + a * v[4 * D + t]));
  }
  CHECK(err < 1e-6, "flip error %g", err);
  st = nadi_band_apply(v + D, 4, D, 1.0f, x, 2, x); /* remove, in place */
  CHECK(st == NAD_OK, "remove: %s", nad_last_error());
  err = 0;
  for (int t = 0; t < D; t++) {
    err = fmax(err, fabs(x[t] - b * v[7 * D + t]));
    err = fmax(err, fabs(x[D + t]));
  }
  CHECK(err < 1e-6, "remove error %g", err);
  /* a scaled row and a repeated row are seen */
  float w[D * D];
  memcpy(w, v, sizeof w);
  for (int t = 0; t < D; t++)
    w[3 * D + t] *= 1.01f;
  double e = nadi_band_orthonormality_error(w, D, D);
  CHECK(fabs(e - (1.01 * 1.01 - 1)) < 1e-5, "scaled row: error %g", e);
  memcpy(w + 5 * D, w + 6 * D, sizeof(float) * D);
  e = nadi_band_orthonormality_error(w + 5 * D, 2, D);
  CHECK(fabs(e - 1.0) < 1e-6, "repeated row: error %g", e);
}

static void test_curve(void) {
  const double e[2] = {0.5, 0.25};
  double curve[2], score = 0;
  nadi_align_curve(e, 2, 4, 1.0, curve, &score);
  /* a = 0.5, 0.75, then linear to 1: 0.875, 1 */
  CHECK(curve[0] == 0.5 && curve[1] == 0.75, "curve %g %g", curve[0], curve[1]);
  CHECK(fabs(score - (0.5 + 0.75 + 0.875 + 1.0) / 4) < 1e-15, "score %.17g", score);
  const double full[4] = {1, 1, 1, 1};
  double c4[4];
  nadi_align_curve(full, 4, 4, 4.0, c4, &score);
  CHECK(fabs(score - (0.25 + 0.5 + 0.75 + 1.0) / 4) < 1e-15, "uniform energy: score %.17g",
        score);
}

static void test_means_along_v0(void) {
  float v[D * D];
  basis(v);
  /* 8 samples, classes 0/1 at ±3·v_0, plus noise along v_1..v_3 that is the same in both
   * classes (class means differ along v_0 only) */
  enum { N = 8 };
  nad_dataset *ds = NULL;
  CHECK(nadi_dataset_alloc(N, 1, 3, 4, &ds) == NAD_OK, "alloc");
  for (int i = 0; i < N; i++) {
    const float sign = (i % 2) ? -3.0f : 3.0f, n1 = (i / 2 % 2) ? 1.0f : -1.0f;
    const float n2 = (i / 4) ? 0.5f : -0.5f;
    for (int t = 0; t < D; t++)
      ds->x[i * D + t] = sign * v[t] + n1 * v[D + t] + n2 * v[3 * D + t];
    ds->labels[i] = i % 2;
  }
  ds->num_classes = 2;
  double en[D], total = 0, curve[D], score = 0;
  for (int kind = 0; kind < 2; kind++) {
    CHECK(nadi_align_energies(ds, v, D, kind, 0.01, en, &total) == NAD_OK, "kind %d: %s", kind,
          nad_last_error());
    nadi_align_curve(en, D, D, total, curve, &score);
    CHECK(curve[0] > 1 - 1e-9 && score > 1 - 1e-9, "kind %d: a(1) = %.12g, score %.12g", kind,
          curve[0], score);
  }
  /* v_0 last: a(k) = 0 for k < D, score 1/D */
  float rev[D * D];
  for (int i = 0; i < D; i++)
    memcpy(rev + i * D, v + (D - 1 - i) * D, sizeof(float) * D);
  CHECK(nadi_align_energies(ds, rev, D, 0, 0.0, en, &total) == NAD_OK, "reversed");
  nadi_align_curve(en, D, D, total, curve, &score);
  CHECK(curve[D - 2] < 1e-9 && fabs(score - 1.0 / D) < 1e-7, "reversed: a(D-1) %g, score %.12g",
        curve[D - 2], score);
  nadi_dataset_release(ds);
}

int main(void) {
  test_band();
  test_curve();
  test_means_along_v0();
  return check_summary();
}
