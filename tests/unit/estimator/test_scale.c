/* Issue 12 through the public API on real (small) networks:
 *  - the top-k path (block Krylov) against the full solve;
 *  - job-array parts: two ranges merged equal one uninterrupted run (1e-12 relative), a part
 *    resumed into the rest is bit for bit the uninterrupted run, checkpoint buffers are the
 *    checkpoint files' bytes;
 *  - the sketching mode: exact spectrum and mean (1e-10), eigenvalues within the Frequent
 *    Directions bound of the exact ones, checkpoints, resume bit for bit, merges;
 *  - every bad input of the issue the library sees (sketch L > D, L < K either way round, a part
 *    of the other mode, exact mode beyond its D).
 *   test_scale         fast (D = 576)
 *   test_scale 3072    slow: LeNet on 3×32×32, top-16 NADs of a sketch of L = 256 against the
 *                      exact estimator (overlap >= 0.99), spectrum to 1e-10 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nad/nad.h>

#include "../check.h"
#include "../test_files.h"

#define OK(call) CHECK((call) == NAD_OK, "%s", nad_last_error())

static char tmpdir[256];

#include "est_result.h"

/* max over i of |x_i − y_i| / max |y| */
static double rel(const double *x, const double *y, int64_t n) {
  double m = 0, s = 0;
  for (int64_t i = 0; i < n; i++) {
    m = fmax(m, fabs(x[i] - y[i]));
    s = fmax(s, fabs(y[i]));
  }
  return m / s;
}

/* Largest relative error of the eigenvalues that are not rounding noise (>= 1e-9 λ1). */
static double ev_rel(const double *x, const double *y, int64_t k) {
  double m = 0;
  for (int64_t i = 0; i < k; i++)
    if (y[i] >= 1e-9 * y[0])
      m = fmax(m, fabs(x[i] - y[i]) / y[i]);
  return m;
}

/* Subspace overlap of the first k rows (float NADs, orthonormal up to float rounding). */
static double overlap(const float *a, const float *b, int64_t k, int64_t d) {
  double s = 0;
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < k; j++) {
      double dot = 0;
      for (int64_t t = 0; t < d; t++)
        dot += (double)a[i * d + t] * (double)b[j * d + t];
      s += dot * dot;
    }
  return s / (double)k;
}

static nad_arch *small_net(void) {
  nad_arch *a = NULL;
  OK(nad_arch_create_spec("conv 4 k3; relu; maxpool 2; conv 6 k3; relu; maxpool 2; fc 8; relu; "
                          "fc 1",
                          1, 24, 24, &a));
  return a;
}

/* An estimator of networks [lo, hi) with the common settings. */
static nad_estimator *make(const nad_arch *a, int64_t lo, int64_t hi, int64_t top,
                           int64_t sketch) {
  nad_estimator *e = NULL;
  OK(nad_estimator_create(a, &e));
  OK(nad_estimator_set_int(e, NAD_OPT_SEED, 5));
  OK(nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, 2));
  OK(nad_estimator_set_int(e, NAD_OPT_SKETCH, sketch));
  OK(nad_estimator_set_int(e, NAD_OPT_TOP_K, top));
  OK(nad_estimator_set_int(e, NAD_OPT_FIRST_NETWORK, lo));
  OK(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, hi - lo));
  return e;
}

static char *path_of(const char *name) { return nadt_path(tmpdir, name); }

/* ---- exact mode: top-k, parts, buffers ------------------------------------------------------- */

static void test_exact(void) {
  const int64_t n = 150, cut = 61, top = 2;
  nad_arch *a = small_net();
  /* Uninterrupted, all NADs (dsyevr), and top 2 (block Krylov: 32 · (2 + 16) <= D = 576). */
  nad_estimator *full = make(a, 0, n, 0, 0), *topk = make(a, 0, n, top, 0);
  OK(nad_estimator_run(full));
  OK(nad_estimator_run(topk));
  res rf, rk;
  get_res(full, &rf);
  get_res(topk, &rk);
  const double ek = ev_rel(rk.ev, rf.ev, top), ok = overlap(rk.nads, rf.nads, top, rf.d);
  printf("top-%lld by block Krylov vs full solve: eigenvalues %.2g, overlap %.10f\n",
         (long long)top, ek, ok);
  CHECK(rk.k == top && ek <= 1e-6 && ok >= 0.999, "top-k: eigenvalues %.3g, overlap %.6f", ek, ok);
  CHECK(memcmp(rk.spec, rf.spec, sizeof(double) * (size_t)rf.d) == 0, "spectrum independent of K");

  /* Two parts [0, 61) and [61, 150), each only accumulated and saved, merged. */
  nad_estimator *p1 = make(a, 0, cut, 0, 0), *p2 = make(a, cut, n, 0, 0);
  OK(nad_estimator_accumulate(p1));
  OK(nad_estimator_accumulate(p2));
  CHECK(nad_estimator_eigenvalues(p1, rf.ev, 1) == NAD_ERR_MISUSE, "accumulate gives no results");
  OK(nad_estimator_save(p1, path_of("p1.ck")));
  OK(nad_estimator_save(p2, path_of("p2.ck")));
  nad_estimator *m = make(a, 0, n, 0, 0);
  OK(nad_estimator_load(m, path_of("p2.ck"))); /* any order */
  OK(nad_estimator_load(m, path_of("p1.ck")));
  CHECK(nad_estimator_load(m, path_of("p1.ck")) == NAD_ERR_FORMAT &&
            strstr(nad_last_error(), "overlap"),
        "overlapping part refused: %s", nad_last_error());
  OK(nad_estimator_finalize(m));
  res rm;
  get_res(m, &rm);
  const double em = ev_rel(rm.ev, rf.ev, rf.k), sm = rel(rm.spec, rf.spec, rf.d),
               mm = rel(rm.mean, rf.mean, rf.d);
  printf("two parts merged vs uninterrupted: eigenvalues %.2g, spectrum %.2g, mean %.2g\n", em,
         sm, mm);
  CHECK(em <= 1e-12 && sm <= 1e-12 && mm <= 1e-12, "merged parts: %.3g %.3g %.3g", em, sm, mm);

  /* The same through buffers: the bytes of the files, and the same merge bit for bit. */
  void *b1 = NULL, *b2 = NULL;
  size_t n1 = 0, n2 = 0, f1n = 0;
  OK(nad_estimator_save_buffer(p1, &b1, &n1));
  OK(nad_estimator_save_buffer(p2, &b2, &n2));
  unsigned char *f1 = nadt_read_file(path_of("p1.ck"), &f1n);
  CHECK(f1 && n1 == f1n && memcmp(b1, f1, n1) == 0, "buffer = file bytes");
  nad_estimator *mb = make(a, 0, n, 0, 0);
  OK(nad_estimator_load_buffer(mb, b2, n2));
  OK(nad_estimator_load_buffer(mb, b1, n1));
  OK(nad_estimator_finalize(mb));
  res rb;
  get_res(mb, &rb);
  CHECK(res_identical(&rb, &rm), "merge from buffers = merge from files, bit for bit");
  ((unsigned char *)b1)[n1 / 2] ^= 1;
  nad_estimator *bad = make(a, 0, n, 0, 0);
  CHECK(nad_estimator_load_buffer(bad, b1, n1) == NAD_ERR_FORMAT &&
            strstr(nad_last_error(), "CRC"),
        "corrupted buffer refused: %s", nad_last_error());
  CHECK(nad_estimator_load_buffer(bad, b1, 0) == NAD_ERR_FORMAT, "empty buffer refused");

  /* Part 1 resumed into the rest of the run: the uninterrupted run bit for bit. */
  nad_estimator *r = make(a, cut, n, 0, 0);
  OK(nad_estimator_load(r, path_of("p1.ck")));
  OK(nad_estimator_run(r));
  res rr;
  get_res(r, &rr);
  CHECK(res_identical(&rr, &rf), "resumed part = uninterrupted run, bit for bit");

  free(f1);
  nad_free(b1);
  nad_free(b2);
  res_free(&rf);
  res_free(&rk);
  res_free(&rm);
  res_free(&rb);
  res_free(&rr);
  nad_estimator *all[] = {full, topk, p1, p2, m, mb, bad, r};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    nad_estimator_destroy(all[i]);
  nad_arch_destroy(a);
}

/* ---- sketching mode -------------------------------------------------------------------------- */

static void test_sketch(void) {
  const int64_t n = 150, cut = 70, l = 16;
  nad_arch *a = small_net();
  nad_estimator *ex = make(a, 0, n, l, 0), *sk = make(a, 0, n, 0, l);
  OK(nad_estimator_run(ex));
  OK(nad_estimator_run(sk));
  res re, rs;
  get_res(ex, &re);
  get_res(sk, &rs);
  CHECK(rs.k == l, "K = 0 means K = L in the sketching mode (K %lld)", (long long)rs.k);
  const double es = rel(rs.spec, re.spec, re.d), em = rel(rs.mean, re.mean, re.d);
  printf("sketch L = %lld: spectrum vs exact %.2g, mean %.2g, bound ε = %.3g of λ1\n",
         (long long)l, es, em, rs.bound / re.ev[0]);
  CHECK(es <= 1e-10 && em <= 1e-12, "sketch: spectrum %.3g, mean %.3g", es, em);
  /* 0 ≼ C − C̃ ≼ ε I: λ_i − ε <= λ̃_i <= λ_i. */
  int weyl = rs.bound > 0;
  for (int64_t i = 0; i < l; i++)
    weyl &= rs.ev[i] <= re.ev[i] * (1 + 1e-9) && rs.ev[i] >= re.ev[i] - rs.bound * (1 + 1e-9);
  CHECK(weyl, "eigenvalues within the Frequent Directions bound (ε = %.3g)", rs.bound);
  double ov, corr;
  OK(nad_estimator_convergence(sk, 4, &ov, &corr));
  CHECK(ov > 0 && ov <= 1 + 1e-9 && corr > 0.5, "convergence in the sketching mode %.3f %.3f", ov,
        corr);
  CHECK(nad_estimator_convergence(sk, l + 1, &ov, &corr) == NAD_ERR_INVALID_ARG, "k > L refused");

  /* Parts: merged sketch keeps the guarantee; spectrum and mean exact. */
  nad_estimator *p1 = make(a, 0, cut, 0, l), *p2 = make(a, cut, n, 0, l);
  OK(nad_estimator_accumulate(p1));
  OK(nad_estimator_accumulate(p2));
  OK(nad_estimator_save(p1, path_of("s1.ck")));
  OK(nad_estimator_save(p2, path_of("s2.ck")));
  nad_estimator *m = make(a, 0, n, 0, l);
  OK(nad_estimator_load(m, path_of("s1.ck")));
  OK(nad_estimator_load(m, path_of("s2.ck")));
  OK(nad_estimator_finalize(m));
  res rm;
  get_res(m, &rm);
  weyl = 1;
  for (int64_t i = 0; i < l; i++)
    weyl &= rm.ev[i] <= re.ev[i] * (1 + 1e-9) && rm.ev[i] >= re.ev[i] - rm.bound * (1 + 1e-9);
  CHECK(weyl, "merged sketch within its bound (ε = %.3g)", rm.bound);
  CHECK(rel(rm.spec, rs.spec, rs.d) <= 1e-12 && rel(rm.mean, rs.mean, rs.d) <= 1e-12,
        "merged sketch: exact spectrum and mean");
  /* Resume of a sketch part: bit for bit. */
  nad_estimator *r = make(a, cut, n, 0, l);
  OK(nad_estimator_load(r, path_of("s1.ck")));
  OK(nad_estimator_run(r));
  res rr;
  get_res(r, &rr);
  CHECK(res_identical(&rr, &rs), "resumed sketch = uninterrupted sketch, bit for bit");

  /* Bad input: modes do not mix; L against D and K, either way round. */
  nad_estimator *x = make(a, 0, n, 0, 0);
  CHECK(nad_estimator_load(x, path_of("s1.ck")) == NAD_ERR_FORMAT &&
            strstr(nad_last_error(), "sketch of 16 rows"),
        "sketch part into an exact run: %s", nad_last_error());
  nad_estimator *y = make(a, 0, n, 0, 12);
  CHECK(nad_estimator_load(y, path_of("s1.ck")) == NAD_ERR_FORMAT &&
            strstr(nad_last_error(), "16 rows, not a sketch of 12"),
        "other L: %s", nad_last_error());
  CHECK(nad_estimator_set_int(y, NAD_OPT_SKETCH, 577) == NAD_ERR_INVALID_ARG &&
            strstr(nad_last_error(), "exceeds D = 576"),
        "L > D: %s", nad_last_error());
  CHECK(nad_estimator_set_int(y, NAD_OPT_TOP_K, 13) == NAD_ERR_INVALID_ARG &&
            strstr(nad_last_error(), "sketch size L = 12"),
        "K > L: %s", nad_last_error());
  OK(nad_estimator_set_int(y, NAD_OPT_SKETCH, 0));
  OK(nad_estimator_set_int(y, NAD_OPT_TOP_K, 13));
  CHECK(nad_estimator_set_int(y, NAD_OPT_SKETCH, 12) == NAD_ERR_INVALID_ARG &&
            strstr(nad_last_error(), "smaller than top_k = 13"),
        "L < K: %s", nad_last_error());
  nad_estimator *ee = make(a, 0, n, 0, 0);
  CHECK(nad_estimator_load(ee, path_of("s1.ck")) == NAD_ERR_FORMAT, "exact into exact refused");

  res_free(&re);
  res_free(&rs);
  res_free(&rm);
  res_free(&rr);
  nad_estimator *all[] = {ex, sk, p1, p2, m, r, x, y, ee};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    nad_estimator_destroy(all[i]);
  nad_arch_destroy(a);
}

/* The exact mode beyond its D: refused at run with the way out; the sketch is accepted. */
static void test_large_d(void) {
  nad_arch *a = NULL;
  OK(nad_arch_create_builtin("logreg", 1, 216, 216, 1, &a)); /* D = 46,656 */
  nad_estimator *e = NULL;
  OK(nad_estimator_create(a, &e));
  OK(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 2));
  CHECK(nad_estimator_run(e) == NAD_ERR_UNSUPPORTED && strstr(nad_last_error(), "--sketch"),
        "exact D = 46,656 refused: %s", nad_last_error());
  nad_estimator_destroy(e);
  OK(nad_estimator_create(a, &e));
  OK(nad_estimator_set_int(e, NAD_OPT_SKETCH, 8));
  CHECK(nad_estimator_load(e, "/nonexistent.ck") == NAD_ERR_IO, "sketch at D = 46,656 accepted");
  nad_estimator_destroy(e);
  nad_arch_destroy(a);
}

/* Slow acceptance: LeNet on 3×32×32 (D = 3,072), L = 256, top-16 against the exact run. */
static void test_acceptance_3072(void) {
  const int64_t n = 1200, k = 16, l = 256;
  nad_arch *a = NULL;
  OK(nad_arch_create_builtin("lenet", 3, 32, 32, 1, &a));
  nad_estimator *ex = make(a, 0, n, k, 0), *sk = make(a, 0, n, k, l);
  OK(nad_estimator_run(ex));
  OK(nad_estimator_run(sk));
  res re, rs;
  get_res(ex, &re);
  get_res(sk, &rs);
  const double ov = overlap(rs.nads, re.nads, k, re.d), es = rel(rs.spec, re.spec, re.d);
  printf("LeNet 3x32x32, %lld networks, L = %lld: top-%lld overlap %.6f, spectrum %.2g, "
         "ε = %.3g of λ1, λ̃16/λ16 = %.4f\n",
         (long long)n, (long long)l, (long long)k, ov, es, rs.bound / re.ev[0],
         rs.ev[k - 1] / re.ev[k - 1]);
  CHECK(ov >= 0.99, "top-16 overlap %.6f < 0.99", ov);
  CHECK(es <= 1e-10, "spectrum %.3g", es);
  res_free(&re);
  res_free(&rs);
  nad_estimator_destroy(ex);
  nad_estimator_destroy(sk);
  nad_arch_destroy(a);
}

int main(int argc, char **argv) {
  nadt_scratch_dir(tmpdir, sizeof tmpdir, "nad_scale_test");
  if (argc > 1) {
    test_acceptance_3072();
  } else {
    test_exact();
    test_sketch();
    test_large_d();
  }
  nadt_remove_dir(tmpdir);
  return check_summary();
}
