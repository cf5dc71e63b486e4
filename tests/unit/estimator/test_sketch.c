/* The Frequent Directions sketch (lib/estimator/sketch.c) against the exact streaming scatter
 * (accum.c) on the same rows: its deterministic guarantees, asserted, not sampled —
 *   0 ≼ M2 − BᵀB ≼ Δ·I   and   Δ <= Σ_{i>k} λ_i(M2) / (L − k) for every k < L,
 * the exact mean and trace, merges (halves, uneven parts) keeping the guarantee, determinism,
 * and the sketched top-k against the exact one (Weyl: λ_i − Δ/(n−1) <= λ̃_i <= λ_i; subspace
 * overlap of the top 16 at D = 3,072, L = 256). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "../linalg/synth_cov.h"
#include "estimator/stats.h"
#include "linalg/linalg.h"

/* n rows of dimension d with a power-law covariance and a large common offset. */
static double *make_rows(int64_t n, int64_t d, double alpha, uint64_t seed) {
  double *x = synth_rows(n, d, 0.0, seed); /* iid N(0, 1/d) rows */
  double *basis = synth_rows(n, d, alpha, seed + 1);
  /* Row j = Σ_i c_ji · basis_i: a power-law spectrum along the (random) basis rows. */
  nadi_rng g;
  nadi_rng_init(&g, seed, 9);
  double *coef = malloc(sizeof(double) * (size_t)(n * n));
  for (int64_t i = 0; i < n * n; i++)
    coef[i] = nadi_rng_normal(&g);
  nadi_dgemm(0, 0, n, d, n, 1.0, coef, n, basis, d, 0.01, x, d);
  for (int64_t i = 0; i < n * d; i++)
    x[i] += 3.0 + (double)(i % d) * 0.01;
  free(coef);
  free(basis);
  return x;
}

/* Full symmetric scatter of the rows (through the exact accumulator). */
static double *exact_scatter(const double *x, int64_t n, int64_t d, double *mean) {
  nadi_acc a;
  nadi_acc_init(&a, d);
  for (int64_t i = 0; i < n; i++)
    nadi_acc_push(&a, x + i * d);
  nadi_acc_flush(&a);
  double *m2 = malloc(sizeof(double) * (size_t)(d * d));
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j <= i; j++)
      m2[i * d + j] = m2[j * d + i] = a.m2[i * d + j];
  memcpy(mean, a.mean, sizeof(double) * (size_t)d);
  nadi_acc_free(&a);
  return m2;
}

/* Eigenvalues (all, descending) of a copy of the symmetric matrix m. */
static double *all_evals(const double *m, int64_t d) {
  double *c = malloc(sizeof(double) * (size_t)(d * d)), *v = malloc(sizeof(double) * (size_t)(d * d));
  double *ev = malloc(sizeof(double) * (size_t)d);
  memcpy(c, m, sizeof(double) * (size_t)(d * d));
  nadi_eig_top(c, d, d, ev, v);
  free(c);
  free(v);
  return ev;
}

/* The guarantees of sketch s against the exact scatter m2 (eigenvalues lam). */
static void check_guarantee(const char *what, nadi_sketch *s, const double *m2, const double *lam,
                            const double *mean, int64_t n) {
  const int64_t d = s->d, l = s->l;
  CHECK(s->n == n && s->n_pend == 0, "%s: %lld rows folded", what, (long long)s->n);
  double em = 0;
  for (int64_t i = 0; i < d; i++)
    em = fmax(em, fabs(s->mean[i] - mean[i]) / fabs(mean[i]));
  CHECK(em < 1e-13, "%s: mean rel err %.3g", what, em);
  double tr = 0;
  for (int64_t i = 0; i < d; i++)
    tr += m2[i * d + i];
  CHECK(fabs(s->mass - tr) <= 1e-10 * tr, "%s: mass %.17g, trace %.17g", what, s->mass, tr);
  /* E = M2 − BᵀB. */
  double *e = malloc(sizeof(double) * (size_t)(d * d));
  memcpy(e, m2, sizeof(double) * (size_t)(d * d));
  double *bd = malloc(sizeof(double) * (size_t)((s->rows ? s->rows : 1) * d));
  for (int64_t t = 0; t < s->rows; t++)
    nadi_sketch_get_row(s, t, bd + t * d);
  nadi_dgemm(1, 0, d, d, s->rows, -1.0, bd, d, bd, d, 1.0, e, d);
  free(bd);
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j < i; j++)
      e[i * d + j] = e[j * d + i] = 0.5 * (e[i * d + j] + e[j * d + i]);
  double *ee = all_evals(e, d);
  /* B is stored in float32 (sketch.c): each shrink rounds its rows once (relative 2^-24), so
   * BᵀB is the exact sketch's up to a few 2^-24·λ1 per shrink. */
  const double tol = 1e-10 * lam[0] + 4.0 * 0x1p-24 * (double)(s->shrinks + 1) * lam[0];
  CHECK(ee[d - 1] >= -tol, "%s: M2 − BᵀB has eigenvalue %.3g < 0 (λ1 %.3g)", what, ee[d - 1],
        lam[0]);
  CHECK(ee[0] <= s->shrunk + tol, "%s: ||M2 − BᵀB|| = %.6g > Δ = %.6g", what, ee[0], s->shrunk);
  double tail = 0;
  for (int64_t i = 0; i < d; i++)
    tail += lam[i] > 0 ? lam[i] : 0;
  int bound_ok = 1;
  double worst = 0;
  for (int64_t k = 0; k < l && k < d; k++) {
    const double b = tail / (double)(l - k);
    bound_ok &= s->shrunk <= b * (1 + 1e-10) + tol;
    worst = fmax(worst, s->shrunk / b);
    tail -= lam[k] > 0 ? lam[k] : 0;
  }
  CHECK(bound_ok, "%s: Δ = %.6g exceeds Σ_{i>k} λ_i / (L − k) for some k", what, s->shrunk);
  printf("%s: %lld shrinks, %lld rows; ||M2 − BᵀB|| = %.4g <= Δ = %.4g (%.3g of λ1; %.3f of the "
         "tightest bound)\n",
         what, (long long)s->shrinks, (long long)s->rows, ee[0], s->shrunk, s->shrunk / lam[0],
         worst);
  free(e);
  free(ee);
}

static void test_guarantee_and_merge(void) {
  const int64_t n = 700, d = 300, l = 24;
  double *x = make_rows(n, d, 1.0, 11);
  double *mean = malloc(sizeof(double) * (size_t)d);
  double *m2 = exact_scatter(x, n, d, mean);
  double *lam = all_evals(m2, d);

  nadi_sketch s, t;
  CHECK(nadi_sketch_init(&s, d, l) == NAD_OK && nadi_sketch_init(&t, d, l) == NAD_OK, "init");
  for (int64_t i = 0; i < n; i++) {
    nadi_sketch_push(&s, x + i * d);
    nadi_sketch_push(&t, x + i * d);
  }
  CHECK(nadi_sketch_count(&s) == n && s.n_pend == n % NADI_ACC_BLOCK, "count and pending rows");
  CHECK(s.rows < 2 * l + NADI_ACC_BLOCK + 1, "a due shrink leaves at most a block past 2L");
  CHECK(nadi_sketch_maintain(&s, NULL, 1) == NAD_OK && nadi_sketch_maintain(&t, NULL, 1) == NAD_OK,
        "maintain");
  CHECK(s.rows < 2 * l && s.shrinks >= 10, "buffer below 2L rows (%lld) after %lld shrinks",
        (long long)s.rows, (long long)s.shrinks);
  /* Same rows, same order: bit-identical. */
  CHECK(s.rows == t.rows && s.shrunk == t.shrunk &&
            memcmp(s.b, t.b, sizeof(float) * (size_t)(s.rows * d)) == 0,
        "deterministic");
  nadi_sketch_flush(&s);
  check_guarantee("one pass", &s, m2, lam, mean, n);

  /* Halves by parity, combined. */
  nadi_sketch h[2], w;
  nadi_sketch_init(&h[0], d, l);
  nadi_sketch_init(&h[1], d, l);
  nadi_sketch_init(&w, d, l);
  for (int64_t i = 0; i < n; i++)
    nadi_sketch_push(&h[i & 1], x + i * d);
  const int64_t pend0 = h[0].n_pend;
  const nadi_sketch *hs[2] = {&h[0], &h[1]};
  CHECK(nadi_sketch_combine(&w, hs, 2) == NAD_OK, "combine");
  CHECK(h[0].n_pend == pend0, "combine leaves the halves unchanged");
  check_guarantee("halves merged", &w, m2, lam, mean, n);

  /* Uneven parts (70, 1, 0, rest) merged one after the other. */
  nadi_sketch p[4];
  const int64_t cut[5] = {0, 70, 71, 71, n};
  for (int k = 0; k < 4; k++) {
    nadi_sketch_init(&p[k], d, l);
    for (int64_t i = cut[k]; i < cut[k + 1]; i++)
      nadi_sketch_push(&p[k], x + i * d);
  }
  for (int k = 1; k < 4; k++)
    CHECK(nadi_sketch_merge(&p[0], &p[k]) == NAD_OK, "merge %d", k);
  nadi_sketch_flush(&p[0]);
  check_guarantee("4 parts merged", &p[0], m2, lam, mean, n);

  /* Copy is exact. */
  nadi_sketch_copy(&t, &h[1]);
  CHECK(t.n == h[1].n && t.rows == h[1].rows && t.n_pend == h[1].n_pend &&
            t.shrunk == h[1].shrunk && t.mass == h[1].mass &&
            memcmp(t.b, h[1].b, sizeof(float) * (size_t)(t.rows * d)) == 0 &&
            memcmp(t.pend, h[1].pend, sizeof(double) * (size_t)(t.n_pend * d)) == 0,
        "copy");

  /* Fewer rows than k: eigenvalue-0 directions completed, orthonormal. */
  nadi_sketch few;
  nadi_sketch_init(&few, d, l);
  for (int i = 0; i < 3; i++)
    nadi_sketch_push(&few, x + i * d);
  nadi_sketch_flush(&few);
  double ev[5], *v = malloc(sizeof(double) * 5 * (size_t)d);
  CHECK(nadi_sketch_top(&few, 5, ev, v) == NAD_OK, "top of 3 rows");
  CHECK(ev[0] > 0 && ev[1] > 0 && ev[2] <= 1e-12 * ev[0] && ev[3] == 0 && ev[4] == 0,
        "3 centred rows have rank 2: %.3g %.3g %.3g %.3g", ev[0], ev[1], ev[2], ev[3]);
  CHECK(fabs(nadi_overlap_orthonormal(v, v, 5, d) - 1.0) < 1e-12, "orthonormal completion");
  CHECK(nadi_sketch_top(&few, l + 1, ev, v) == NAD_ERR_INVALID_ARG, "k > L refused");
  free(v);
  nadi_sketch_free(&few);

  for (int k = 0; k < 4; k++)
    nadi_sketch_free(&p[k]);
  nadi_sketch_free(&h[0]);
  nadi_sketch_free(&h[1]);
  nadi_sketch_free(&w);
  nadi_sketch_free(&s);
  nadi_sketch_free(&t);
  free(x);
  free(mean);
  free(m2);
  free(lam);
}

/* Sketched top-16 against the exact one at D = 3,072 with L = 256 (the acceptance size;
 * NAD-like steep spectrum). */
static void test_top(void) {
  const int64_t n = 1200, d = 3072, l = 256, k = 16;
  double *x = make_rows(n, d, 2.0, 21);
  double *mean = malloc(sizeof(double) * (size_t)d);
  double *m2 = exact_scatter(x, n, d, mean);
  for (int64_t i = 0; i < d * d; i++)
    m2[i] /= (double)(n - 1);
  double ev[16], ev_s[16];
  double *v = malloc(sizeof(double) * (size_t)(k * d)), *v_s = malloc(sizeof(double) * (size_t)(k * d));
  CHECK(nadi_eig_cov(m2, d, k, ev, v, NULL) == NAD_OK, "exact top-k");
  nadi_sketch s;
  nadi_sketch_init(&s, d, l);
  for (int64_t i = 0; i < n; i++)
    nadi_sketch_push(&s, x + i * d);
  nadi_sketch_flush(&s);
  CHECK(nadi_sketch_top(&s, k, ev_s, v_s) == NAD_OK, "sketch top-k");
  const double gap = s.shrunk / (double)(n - 1);
  /* float32 rows: the rounding allowance of check_guarantee */
  const double tol = 1e-10 * ev[0] + 4.0 * 0x1p-24 * (double)(s.shrinks + 1) * ev[0];
  int weyl = 1;
  for (int64_t i = 0; i < k; i++)
    weyl &= ev_s[i] <= ev[i] + tol && ev_s[i] >= ev[i] - gap - tol;
  CHECK(weyl, "λ_i − Δ/(n−1) <= λ̃_i <= λ_i");
  const double ov = nadi_overlap_orthonormal(v, v_s, k, d);
  printf("D %lld, L %lld, %lld rows: %lld shrinks, Δ/(n−1) = %.3g of λ1; top-%lld overlap %.6f, "
         "λ̃_16/λ_16 = %.6f\n",
         (long long)d, (long long)l, (long long)n, (long long)s.shrinks, gap / ev[0],
         (long long)k, ov, ev_s[k - 1] / ev[k - 1]);
  CHECK(ov >= 0.99, "top-16 overlap %.6f < 0.99", ov);
  nadi_sketch_free(&s);
  free(x);
  free(mean);
  free(m2);
  free(v);
  free(v_s);
}

int main(void) {
  test_guarantee_and_merge();
  test_top();
  return check_summary();
}
