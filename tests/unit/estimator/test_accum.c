/* White-box tests of the estimator's numerical pieces on synthetic data: the streaming
 * accumulator (against a two-pass computation), Chan merges, the eigensolver (against a matrix
 * built from known eigenpairs), the two spectrum paths (against a naive DFT), the log-spectrum
 * correlation and the subspace overlap (against closed forms). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimator/stats.h"
#include "linalg/linalg.h"
#include "../check.h"


static double max_abs_diff(const double *a, const double *b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++)
    m = fmax(m, fabs(a[i] - b[i]));
  return m;
}

/* Rows with a large common offset and correlated coordinates: a naive one-pass E[x²] − E[x]²
 * would lose digits, the two-pass reference and Chan's update do not. */
static void make_rows(double *x, int64_t n, int64_t d, uint64_t seed) {
  nadi_rng r;
  nadi_rng_init(&r, seed, 1);
  for (int64_t i = 0; i < n; i++) {
    double z = nadi_rng_normal(&r);
    for (int64_t j = 0; j < d; j++)
      x[i * d + j] = 1000.0 + (double)j + z * (1.0 + 0.1 * (double)j) + nadi_rng_normal(&r);
  }
}

static void two_pass(const double *x, int64_t n, int64_t d, double *mean, double *m2) {
  for (int64_t j = 0; j < d; j++) {
    double s = 0;
    for (int64_t i = 0; i < n; i++)
      s += x[i * d + j];
    mean[j] = s / (double)n;
  }
  for (int64_t a = 0; a < d; a++)
    for (int64_t b = 0; b < d; b++) {
      double s = 0;
      for (int64_t i = 0; i < n; i++)
        s += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]);
      m2[a * d + b] = s;
    }
}

/* Largest |lower-triangle difference| relative to the largest reference entry. */
static double m2_rel_err(const nadi_acc *a, const double *ref) {
  const int64_t d = a->d;
  double m = 0, scale = 0;
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j <= i; j++) {
      m = fmax(m, fabs(a->m2[i * d + j] - ref[i * d + j]));
      scale = fmax(scale, fabs(ref[i * d + j]));
    }
  return m / scale;
}

static void test_accumulator(void) {
  const int64_t n = 301, d = 13; /* 301 = 4 full blocks of 64 + 45 pending rows */
  double *x = malloc(sizeof(double) * (size_t)(n * d));
  double *mean = malloc(sizeof(double) * (size_t)d), *m2 = malloc(sizeof(double) * (size_t)(d * d));
  make_rows(x, n, d, 7);
  two_pass(x, n, d, mean, m2);

  nadi_acc a;
  CHECK(nadi_acc_init(&a, d) == NAD_OK, "init");
  for (int64_t i = 0; i < n; i++)
    nadi_acc_push(&a, x + i * d);
  CHECK(a.n == 4 * NADI_ACC_BLOCK && a.n_pend == n - 4 * NADI_ACC_BLOCK, "blocks %lld + %lld",
         (long long)a.n, (long long)a.n_pend);
  CHECK(nadi_acc_count(&a) == n, "count");
  nadi_acc_flush(&a);
  CHECK(a.n == n && a.n_pend == 0, "flush");
  double em = max_abs_diff(a.mean, mean, d) / 1000.0, e2 = m2_rel_err(&a, m2);
  CHECK(em < 1e-14, "mean rel err %.3g", em);
  CHECK(e2 < 1e-12, "scatter rel err %.3g", e2);

  /* Chan merge of uneven parts (70, 1, 0, 230 rows) equals one pass. */
  nadi_acc p[4];
  const int64_t cut[5] = {0, 70, 71, 71, n};
  for (int k = 0; k < 4; k++) {
    nadi_acc_init(&p[k], d);
    for (int64_t i = cut[k]; i < cut[k + 1]; i++)
      nadi_acc_push(&p[k], x + i * d);
  }
  for (int k = 1; k < 4; k++)
    nadi_acc_merge(&p[0], &p[k]);
  nadi_acc_flush(&p[0]);
  CHECK(p[0].n == n, "merged count %lld", (long long)p[0].n);
  em = max_abs_diff(p[0].mean, mean, d) / 1000.0;
  e2 = m2_rel_err(&p[0], m2);
  CHECK(em < 1e-14, "merged mean rel err %.3g", em);
  CHECK(e2 < 1e-12, "merged scatter rel err %.3g", e2);

  /* Halves (even / odd rows) combined equal the full set; the halves are left untouched. */
  nadi_acc h[2], w;
  nadi_acc_init(&h[0], d);
  nadi_acc_init(&h[1], d);
  nadi_acc_init(&w, d);
  for (int64_t i = 0; i < n; i++)
    nadi_acc_push(&h[i & 1], x + i * d);
  const int64_t pend0 = h[0].n_pend, n0 = h[0].n;
  const nadi_acc *hs[2] = {&h[0], &h[1]};
  nadi_acc_combine(&w, hs, 2);
  CHECK(h[0].n_pend == pend0 && h[0].n == n0, "combine left the halves unchanged");
  CHECK(w.n == n, "combined count");
  e2 = m2_rel_err(&w, m2);
  CHECK(e2 < 1e-12, "halves scatter rel err %.3g", e2);
  nadi_acc_covariance(&w);
  double ce = 0;
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j < d; j++)
      ce = fmax(ce, fabs(w.m2[i * d + j] - m2[i * d + j] / (double)(n - 1)));
  CHECK(ce < 1e-12 * 30, "covariance (full, symmetric) abs err %.3g", ce);

  /* Copy is exact. */
  nadi_acc c;
  nadi_acc_init(&c, d);
  nadi_acc_copy(&c, &h[1]);
  CHECK(c.n == h[1].n && c.n_pend == h[1].n_pend &&
             memcmp(c.m2, h[1].m2, sizeof(double) * (size_t)(d * d)) == 0 &&
             memcmp(c.pend, h[1].pend, sizeof(double) * (size_t)(c.n_pend * d)) == 0,
         "copy");
  nadi_acc_reset(&c);
  CHECK(c.n == 0 && c.n_pend == 0 && c.m2[0] == 0.0, "reset");

  nadi_acc_free(&c);
  nadi_acc_free(&w);
  nadi_acc_free(&h[0]);
  nadi_acc_free(&h[1]);
  for (int k = 0; k < 4; k++)
    nadi_acc_free(&p[k]);
  nadi_acc_free(&a);
  free(x);
  free(mean);
  free(m2);
}

/* Q: orthonormal rows from QR of random vectors. */
static double *random_orthonormal(int64_t k, int64_t d, uint64_t seed) {
  double *q = malloc(sizeof(double) * (size_t)(k * d));
  nadi_rng r;
  nadi_rng_init(&r, seed, 2);
  for (int64_t i = 0; i < k * d; i++)
    q[i] = nadi_rng_normal(&r);
  nadi_orthonormal_rows(q, k, d);
  return q;
}

static void test_eig(void) {
  const int64_t d = 40;
  double *q = random_orthonormal(d, d, 3);
  double lam[40];
  for (int64_t i = 0; i < d; i++)
    lam[i] = (i < 5) ? 100.0 / (double)(i + 1) : 1.0 / (double)(i + 1); /* distinct */
  double *a = calloc((size_t)(d * d), sizeof(double));
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j < d; j++)
      for (int64_t t = 0; t < d; t++)
        a[i * d + j] += lam[t] * q[t * d + i] * q[t * d + j];
  double *work = malloc(sizeof(double) * (size_t)(d * d));

  /* orthonormality of the QR result */
  double oe = 0;
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j < d; j++) {
      double s = 0;
      for (int64_t t = 0; t < d; t++)
        s += q[i * d + t] * q[j * d + t];
      oe = fmax(oe, fabs(s - (i == j)));
    }
  CHECK(oe < 1e-13, "QR orthonormality %.3g", oe);

  for (int pass = 0; pass < 2; pass++) {
    const int64_t k = pass == 0 ? d : 7; /* range 'A', then 'I' */
    double *ev = malloc(sizeof(double) * (size_t)k), *vec = malloc(sizeof(double) * (size_t)(k * d));
    memcpy(work, a, sizeof(double) * (size_t)(d * d));
    CHECK(nadi_eig_top(work, d, k, ev, vec) == NAD_OK, "eig k=%lld: %s", (long long)k,
           nad_last_error());
    double ee = 0, ve = 0;
    int sign_ok = 1, desc = 1;
    for (int64_t i = 0; i < k; i++) {
      ee = fmax(ee, fabs(ev[i] - lam[i]) / lam[i]);
      if (i > 0 && ev[i] > ev[i - 1])
        desc = 0;
      double dot = 0, big = 0;
      for (int64_t t = 0; t < d; t++) {
        dot += vec[i * d + t] * q[i * d + t];
        if (fabs(vec[i * d + t]) > fabs(big))
          big = vec[i * d + t];
      }
      ve = fmax(ve, 1.0 - fabs(dot));
      sign_ok &= big > 0;
    }
    CHECK(desc, "eigenvalues descending (k=%lld)", (long long)k);
    CHECK(ee < 1e-12, "eigenvalue rel err %.3g (k=%lld)", ee, (long long)k);
    CHECK(ve < 1e-12, "eigenvector 1-|cos| %.3g (k=%lld)", ve, (long long)k);
    CHECK(sign_ok, "largest-magnitude entry positive (k=%lld)", (long long)k);
    free(ev);
    free(vec);
  }
  /* NaN is refused before LAPACK sees it. */
  memcpy(work, a, sizeof(double) * (size_t)(d * d));
  work[5] = NAN;
  double ev1, vec1[40];
  CHECK(nadi_eig_top(work, d, 1, &ev1, vec1) == NAD_ERR_NUMERICAL, "NaN refused");
  free(q);
  free(a);
  free(work);
}

/* Naive fftshifted P_c(f) = Σ_{p,q} C[p,q] cos(2π f·(p − q)) per channel. */
static void naive_spectrum(const double *cov, int64_t c, int64_t h, int64_t w, double *dst) {
  const int64_t hw = h * w, d = c * hw;
  for (int64_t cc = 0; cc < c; cc++)
    for (int64_t fy = 0; fy < h; fy++)
      for (int64_t fx = 0; fx < w; fx++) {
        double s = 0;
        for (int64_t p = 0; p < hw; p++)
          for (int64_t q = 0; q < hw; q++) {
            double ph = 2 * M_PI *
                        ((double)(fy * (p / w - q / w)) / (double)h +
                         (double)(fx * (p % w - q % w)) / (double)w);
            s += cov[(cc * hw + p) * d + cc * hw + q] * cos(ph);
          }
        dst[cc * hw + ((fy + h / 2) % h) * w + (fx + w / 2) % w] = s;
      }
}

static void test_spectrum(void) {
  const int64_t shapes[3][3] = {{2, 4, 6}, {1, 5, 3}, {3, 2, 1}};
  for (int si = 0; si < 3; si++) {
    const int64_t c = shapes[si][0], h = shapes[si][1], w = shapes[si][2], d = c * h * w;
    /* random covariance C = B Bᵀ / m */
    const int64_t m = d + 3;
    double *b = malloc(sizeof(double) * (size_t)(d * m));
    nadi_rng r;
    nadi_rng_init(&r, 11, (uint64_t)si);
    for (int64_t i = 0; i < d * m; i++)
      b[i] = nadi_rng_normal(&r) + (i % 3 == 0 ? 1.0 : 0.0);
    double *cov = calloc((size_t)(d * d), sizeof(double));
    for (int64_t i = 0; i < d; i++)
      for (int64_t j = 0; j < d; j++) {
        for (int64_t t = 0; t < m; t++)
          cov[i * d + j] += b[i * m + t] * b[j * m + t];
        cov[i * d + j] /= (double)m;
      }
    double *ref = malloc(sizeof(double) * (size_t)d), *p1 = malloc(sizeof(double) * (size_t)d),
           *p2 = malloc(sizeof(double) * (size_t)d);
    naive_spectrum(cov, c, h, w, ref);
    CHECK(nadi_spectrum_cov(cov, c, h, w, p1) == NAD_OK, "spectrum_cov");
    double mx = 0;
    for (int64_t i = 0; i < d; i++)
      mx = fmax(mx, ref[i]);
    double e1 = max_abs_diff(p1, ref, d) / mx;
    CHECK(e1 < 1e-12, "covariance path vs naive DFT (%lldx%lldx%lld) rel err %.3g",
           (long long)c, (long long)h, (long long)w, e1);
    /* eigenpair path (float NADs) */
    double *work = malloc(sizeof(double) * (size_t)(d * d)), *ev = malloc(sizeof(double) * (size_t)d),
           *vec = malloc(sizeof(double) * (size_t)(d * d));
    memcpy(work, cov, sizeof(double) * (size_t)(d * d));
    nadi_eig_top(work, d, d, ev, vec);
    float *nads = malloc(sizeof(float) * (size_t)(d * d));
    for (int64_t i = 0; i < d * d; i++)
      nads[i] = (float)vec[i];
    CHECK(nad_spectrum_from_nads(nads, ev, d, c, h, w, p2, (size_t)d) == NAD_OK,
           "spectrum_from_nads");
    double e2 = max_abs_diff(p2, ref, d) / mx;
    CHECK(e2 < 1e-6, "eigenpair path vs naive DFT rel err %.3g", e2);
    free(b);
    free(cov);
    free(ref);
    free(p1);
    free(p2);
    free(work);
    free(ev);
    free(vec);
    free(nads);
  }
  /* Known spectrum: one NAD that is a 2-D cosine at frequency (1, 2) on 8x8 has power only at
   * ±(1, 2): |DFT|² = (64/2)²·(1/32) = 32 there, with eigenvalue 2 → 64. */
  {
    const int64_t h = 8, w = 8;
    float v[64];
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++)
        v[y * w + x] = (float)(cos(2 * M_PI * (1.0 * y / h + 2.0 * x / w)) / sqrt(32.0));
    double lam = 2.0, p[64];
    CHECK(nad_spectrum_from_nads(v, &lam, 1, 1, h, w, p, 64) == NAD_OK, "cosine spectrum");
    double at = p[(1 + 4) * w + (2 + 4)], at2 = p[(-1 + 4) * w + (-2 + 4)], rest = 0;
    for (int64_t i = 0; i < 64; i++)
      if (i != (1 + 4) * w + (2 + 4) && i != (-1 + 4) * w + (-2 + 4))
        rest = fmax(rest, p[i]);
    CHECK(fabs(at - 64.0) < 1e-4 && fabs(at2 - 64.0) < 1e-4 && rest < 1e-8,
           "cosine power %.6g %.6g rest %.3g", at, at2, rest);
  }
  /* argument checks */
  double p[4], lam = 1;
  float v[4] = {1, 0, 0, 0};
  CHECK(nad_spectrum_from_nads(v, &lam, 1, 1, 2, 2, p, 3) == NAD_ERR_SHAPE, "short dst_len");
  CHECK(nad_spectrum_from_nads(v, &lam, 1, 1, 2, 2, p, 5) == NAD_ERR_SHAPE, "long dst_len");
  CHECK(nad_spectrum_from_nads(NULL, &lam, 1, 1, 2, 2, p, 4) == NAD_ERR_INVALID_ARG, "NULL");
  CHECK(nad_spectrum_from_nads(v, &lam, 0, 1, 2, 2, p, 4) == NAD_ERR_INVALID_ARG, "count 0");
}

static void test_correlation(void) {
  const int64_t n = 50;
  double a[50], b[50], c[50], z[50], corr = 0;
  for (int64_t i = 0; i < n; i++) {
    a[i] = exp(0.1 * (double)i);
    b[i] = 5.0 * exp(0.1 * (double)i); /* log b = log a + log 5: correlation 1 */
    c[i] = exp(-0.1 * (double)i);      /* log c = −log a: correlation −1 */
    z[i] = 0.0;
  }
  CHECK(nad_spectrum_correlation(a, b, n, &corr) == NAD_OK && fabs(corr - 1.0) < 1e-12,
         "scaled: corr %.15g", corr);
  CHECK(nad_spectrum_correlation(a, c, n, &corr) == NAD_OK && fabs(corr + 1.0) < 1e-12,
         "reversed: corr %.15g", corr);
  /* The floor: zeros become log(1e-12·max); compare with a direct computation. */
  double d2[50];
  memcpy(d2, a, sizeof a);
  d2[3] = 0.0;
  d2[7] = -1e-30; /* rounding negative counts as 0 */
  double la[50], ld[50], ma = 0, md = 0, mxa = a[n - 1], mxd = d2[n - 1];
  for (int64_t i = 0; i < n; i++) {
    la[i] = log(a[i] + 1e-12 * mxa);
    ld[i] = log((d2[i] > 0 ? d2[i] : 0) + 1e-12 * mxd);
    ma += la[i] / n;
    md += ld[i] / n;
  }
  double sab = 0, saa = 0, sbb = 0;
  for (int64_t i = 0; i < n; i++) {
    sab += (la[i] - ma) * (ld[i] - md);
    saa += (la[i] - ma) * (la[i] - ma);
    sbb += (ld[i] - md) * (ld[i] - md);
  }
  double want = sab / sqrt(saa * sbb);
  CHECK(nad_spectrum_correlation(a, d2, n, &corr) == NAD_OK && fabs(corr - want) < 1e-12 &&
             want < 0.9,
         "floored: corr %.15g want %.15g", corr, want);
  CHECK(nad_spectrum_correlation(a, z, n, &corr) == NAD_ERR_NUMERICAL, "all-zero spectrum");
  CHECK(nad_spectrum_correlation(a, b, 1, &corr) == NAD_ERR_INVALID_ARG, "n = 1");
  CHECK(nad_spectrum_correlation(NULL, b, n, &corr) == NAD_ERR_INVALID_ARG, "NULL");
}

static void test_overlap(void) {
  const int64_t d = 30;
  float a[3 * 30], b[3 * 30];
  double ov = -1;
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  /* a = e0, e1, e2; b = (cos θ e0 + sin θ e5), 3·e1 (scale ignored), e2 + e1 (same span) */
  const double th = 0.3;
  a[0] = 1;
  a[d + 1] = 1;
  a[2 * d + 2] = 1;
  b[0] = (float)cos(th);
  b[5] = (float)sin(th);
  b[d + 1] = 3;
  b[2 * d + 2] = 1;
  b[2 * d + 1] = 1;
  CHECK(nad_subspace_overlap(a, a, 3, d, &ov) == NAD_OK && fabs(ov - 1.0) < 1e-12,
         "self overlap %.15g", ov);
  CHECK(nad_subspace_overlap(a, b, 1, d, &ov) == NAD_OK &&
             fabs(ov - cos(th) * cos(th)) < 1e-7,
         "k=1 overlap %.15g want %.15g", ov, cos(th) * cos(th));
  /* k=3: principal cosines² are 1, 1 (span{e1,e2} shared) and cos²θ. */
  double want = (2.0 + cos((float)th) * cos((float)th)) / 3.0;
  CHECK(nad_subspace_overlap(a, b, 3, d, &ov) == NAD_OK && fabs(ov - want) < 1e-7,
         "k=3 overlap %.15g want %.15g", ov, want);
  /* disjoint subspaces */
  float c[30];
  memset(c, 0, sizeof c);
  c[29] = 1;
  CHECK(nad_subspace_overlap(a, c, 1, d, &ov) == NAD_OK && fabs(ov) < 1e-15, "orthogonal %.3g",
         ov);
  /* random k-subspaces of R^d overlap k/d on average: 20 pairs, k = 5 */
  double mean = 0;
  for (int t = 0; t < 20; t++) {
    double *qa = random_orthonormal(5, d, 100 + (uint64_t)t), *qb = random_orthonormal(5, d, 200 + (uint64_t)t);
    mean += nadi_overlap_orthonormal(qa, qb, 5, d) / 20;
    free(qa);
    free(qb);
  }
  CHECK(fabs(mean - 5.0 / 30.0) < 0.05, "random subspaces: mean overlap %.4g (k/d = %.4g)",
         mean, 5.0 / 30.0);
  CHECK(nad_subspace_overlap(a, b, 0, d, &ov) == NAD_ERR_INVALID_ARG, "k = 0");
  CHECK(nad_subspace_overlap(a, b, 31, d, &ov) == NAD_ERR_INVALID_ARG, "k > d");
  CHECK(nad_subspace_overlap(a, NULL, 1, d, &ov) == NAD_ERR_INVALID_ARG, "NULL");
  a[4] = NAN;
  CHECK(nad_subspace_overlap(a, b, 1, d, &ov) == NAD_ERR_NUMERICAL, "NaN");
}

int main(void) {
  test_accumulator();
  test_eig();
  test_spectrum();
  test_correlation();
  test_overlap();
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
