/* The streaming spectrum accumulator (lib/estimator/spectrum_stream.c) against the covariance
 * spectrum (spectrum.c, itself tested against a naive DFT in test_accum.c) of the same rows, the
 * acceptance of issue 12 (identical to 1e-10 relative), on shapes with odd and even sides and a
 * large common offset (the case where Σ|G|² − n|Ḡ|² would cancel), at D = 3,072 too; merges of
 * halves and uneven parts equal one pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "../linalg/synth_cov.h"
#include "estimator/stats.h"

/* Rows with spatially correlated entries (a random smooth field per row) and an offset. */
static double *field_rows(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  const int64_t d = c * h * w;
  double *x = malloc(sizeof(double) * (size_t)(n * d));
  nadi_rng g;
  nadi_rng_init(&g, seed, 4);
  for (int64_t j = 0; j < n; j++) {
    double a = nadi_rng_normal(&g), b = nadi_rng_normal(&g);
    for (int64_t i = 0; i < d; i++) {
      const int64_t y = (i / w) % h, xx = i % w;
      x[j * d + i] = 50.0 + a * sin(0.3 * (double)(y + 2 * xx)) + b * cos(0.7 * (double)y) +
                     0.2 * nadi_rng_normal(&g) + 0.01 * (double)(i / (h * w));
    }
  }
  return x;
}

/* max |a − b| / max b, and the largest elementwise relative error where b >= 1e-6 max b. */
static void spec_err(const double *a, const double *b, int64_t n, double *norm_err, double *el_err) {
  double mx = 0, m = 0, e = 0;
  for (int64_t i = 0; i < n; i++)
    mx = fmax(mx, b[i]);
  for (int64_t i = 0; i < n; i++) {
    m = fmax(m, fabs(a[i] - b[i]));
    if (b[i] >= 1e-6 * mx)
      e = fmax(e, fabs(a[i] - b[i]) / b[i]);
  }
  *norm_err = m / mx;
  *el_err = e;
}

static void compare(int64_t n, int64_t c, int64_t h, int64_t w) {
  const int64_t d = c * h * w;
  double *x = field_rows(n, c, h, w, (uint64_t)(d + n));
  /* Exact covariance spectrum. */
  nadi_acc a;
  nadi_acc_init(&a, d);
  for (int64_t i = 0; i < n; i++)
    nadi_acc_push(&a, x + i * d);
  const nadi_acc *one[1] = {&a};
  nadi_acc work;
  nadi_acc_init(&work, d);
  nadi_acc_combine(&work, one, 1);
  nadi_acc_covariance(&work);
  double *ref = malloc(sizeof(double) * (size_t)d), *got = malloc(sizeof(double) * (size_t)d);
  CHECK(nadi_spectrum_cov(work.m2, c, h, w, ref) == NAD_OK, "covariance spectrum");
  /* Streaming: one pass, and halves by parity merged. */
  nadi_specacc s, hv[2];
  CHECK(nadi_specacc_init(&s, c, h, w) == NAD_OK, "init");
  nadi_specacc_init(&hv[0], c, h, w);
  nadi_specacc_init(&hv[1], c, h, w);
  for (int64_t i = 0; i < n; i++) {
    nadi_specacc_push(&s, x + i * d);
    nadi_specacc_push(&hv[i & 1], x + i * d);
  }
  CHECK(nadi_specacc_spectrum(&s, got) == NAD_OK, "spectrum");
  double ne, ee;
  spec_err(got, ref, d, &ne, &ee);
  printf("%lld×%lld×%lld, %lld rows: streaming vs covariance spectrum: %.2g of max, %.2g "
         "elementwise\n",
         (long long)c, (long long)h, (long long)w, (long long)n, ne, ee);
  CHECK(ne <= 1e-10 && ee <= 1e-10, "%lldx%lldx%lld: errors %.3g %.3g > 1e-10", (long long)c,
        (long long)h, (long long)w, ne, ee);
  nadi_specacc m;
  nadi_specacc_init(&m, c, h, w);
  nadi_specacc_copy(&m, &hv[0]);
  nadi_specacc_merge(&m, &hv[1]);
  double *merged = malloc(sizeof(double) * (size_t)d);
  nadi_specacc_spectrum(&m, merged);
  spec_err(merged, got, d, &ne, &ee);
  CHECK(m.n == n && ne <= 1e-13 && ee <= 1e-12, "halves merged: %.3g %.3g", ne, ee);
  /* Uneven parts into an empty accumulator: 1, 0 and the rest. */
  nadi_specacc p[3];
  const int64_t cut[4] = {0, 1, 1, n};
  for (int k = 0; k < 3; k++) {
    nadi_specacc_init(&p[k], c, h, w);
    for (int64_t i = cut[k]; i < cut[k + 1]; i++)
      nadi_specacc_push(&p[k], x + i * d);
  }
  nadi_specacc_reset(&m);
  for (int k = 0; k < 3; k++)
    nadi_specacc_merge(&m, &p[k]);
  nadi_specacc_spectrum(&m, merged);
  spec_err(merged, got, d, &ne, &ee);
  CHECK(m.n == n && ne <= 1e-13 && ee <= 1e-12, "parts merged: %.3g %.3g", ne, ee);
  for (int k = 0; k < 3; k++)
    nadi_specacc_free(&p[k]);
  nadi_specacc_reset(&m);
  nadi_specacc_push(&m, x);
  CHECK(nadi_specacc_spectrum(&m, merged) == NAD_ERR_MISUSE, "one network refused");
  nadi_specacc_free(&m);
  nadi_specacc_free(&s);
  nadi_specacc_free(&hv[0]);
  nadi_specacc_free(&hv[1]);
  nadi_acc_free(&a);
  nadi_acc_free(&work);
  free(x);
  free(ref);
  free(got);
  free(merged);
}

int main(void) {
  compare(150, 1, 8, 8);
  compare(201, 2, 7, 9); /* odd sides */
  compare(130, 3, 6, 10);
  compare(300, 3, 32, 32); /* D = 3,072 */
  return check_summary();
}
