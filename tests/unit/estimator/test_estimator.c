/* The NAD estimator through its public API, with white-box access only to recompute what a
 * network is (its parameters from (seed, j), a dense forward) for closed forms:
 *  - a linear CNN whose response is a·1 with a known per-network scalar a: rank-one covariance,
 *    exact eigenvalue, NAD, mean and spectrum; gradient mode equals dipole there;
 *  - logistic regression: responses are the weight rows, isotropic → Marchenko–Pastur band;
 *  - LeNet: the probe (delta forward) against a dense forward in double differences; dipole and
 *    gradient differ; 1/2/3 threads agree (2 and 3 bit for bit);
 *  - cancellation, checkpoints (resume = uninterrupted run, bit for bit; disjoint ranges merge;
 *    corrupted, truncated and mismatched files refused), and argument / call-order checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "../check.h"

#define OK(call) CHECK((call) == NAD_OK, "%s", nad_last_error())

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------------------------- */

#include "est_result.h"
#include "../test_files.h"

/* Largest relative difference of eigenvalues (to the top one), mean and spectrum. */
static double res_rel_diff(const res *a, const res *b) {
  double m = 0, sm = 0, ss = 0;
  for (int64_t i = 0; i < a->k; i++)
    m = fmax(m, fabs(a->ev[i] - b->ev[i]) / a->ev[0]);
  for (int64_t i = 0; i < a->d; i++) {
    sm = fmax(sm, fabs(a->mean[i]));
    ss = fmax(ss, fabs(a->spec[i]));
  }
  for (int64_t i = 0; i < a->d; i++) {
    m = fmax(m, fabs(a->mean[i] - b->mean[i]) / sm);
    m = fmax(m, fabs(a->spec[i] - b->spec[i]) / ss);
  }
  return m;
}

static nad_arch *arch_spec(const char *spec, int64_t c, int64_t h, int64_t w) {
  nad_arch *a = NULL;
  CHECK(nad_arch_create_spec(spec, c, h, w, &a) == NAD_OK, "spec '%s': %s", spec,
         nad_last_error());
  return a;
}

static nad_arch *arch_builtin(const char *name, int64_t c, int64_t h, int64_t w) {
  nad_arch *a = NULL;
  CHECK(nad_arch_create_builtin(name, c, h, w, 1, &a) == NAD_OK, "%s: %s", name,
         nad_last_error());
  return a;
}

static nad_estimator *make(const nad_arch *a, int64_t n, int64_t seed, int64_t threads,
                           int64_t mode) {
  nad_estimator *e = NULL;
  OK(nad_estimator_create(a, &e));
  if (!e)
    return NULL;
  OK(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, n));
  OK(nad_estimator_set_int(e, NAD_OPT_SEED, seed));
  OK(nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, threads));
  OK(nad_estimator_set_int(e, NAD_OPT_MODE, mode));
  return e;
}

/* Parameters of network j exactly as the estimator draws them. */
static float *params_of(const nad_arch *a, uint64_t seed, int64_t j) {
  float *p = malloc(sizeof(float) * (size_t)a->g->n_params);
  nadi_rng r;
  nadi_rng_init(&r, seed, (uint64_t)j);
  nadi_graph_init_params(a->g, p, &r);
  return p;
}

static int64_t tensor_offset(const nad_arch *a, int64_t t) {
  int64_t off = -1;
  nad_arch_tensor(a, t, NULL, &off, NULL, NULL);
  return off;
}

/* ---- closed forms -------------------------------------------------------------------------- */

/* "conv 4 k1; gap; fc 1" on 1×8×8 is linear: f(x) = Σ_o u_o (w_o mean(x) + b_o) + c, so the
 * dipole (and the gradient) is g = a·1 with a = Σ_o u_o w_o / 64. The covariance is
 * var(a)·11ᵀ: one eigenvalue 64·var(a) (sample variance over the N networks), NAD 1/8
 * everywhere, mean response mean(a)·1, and all the spectrum's power at frequency 0:
 * P(0) = λ·(Σ v)² = 64·λ. */
static void test_linear_closed_form(void) {
  nad_arch *a = arch_spec("conv 4 k1; gap; fc 1", 1, 8, 8);
  if (!a)
    return;
  const int64_t n = 300, d = 64;
  const uint64_t seed = 5;
  double *av = malloc(sizeof(double) * (size_t)n), ma = 0, va = 0;
  const int64_t ow = tensor_offset(a, 0), ou = tensor_offset(a, 2);
  for (int64_t j = 0; j < n; j++) {
    float *p = params_of(a, seed, j);
    double s = 0;
    for (int o = 0; o < 4; o++)
      s += (double)p[ou + o] * (double)p[ow + o];
    av[j] = s / 64.0;
    ma += av[j] / (double)n;
    free(p);
  }
  for (int64_t j = 0; j < n; j++)
    va += (av[j] - ma) * (av[j] - ma) / (double)(n - 1);
  const double lam = 64.0 * va;

  res r[2];
  for (int mode = 0; mode < 2; mode++) {
    nad_estimator *e = make(a, n, (int64_t)seed, 2, mode);
    OK(nad_estimator_run(e));
    get_res(e, &r[mode]);
    nad_estimator_destroy(e);
    const res *x = &r[mode];
    double tr = 0, nerr = 0, merr = 0, rest = 0;
    for (int64_t i = 0; i < x->k; i++)
      tr += x->ev[i];
    for (int64_t i = 0; i < d; i++) {
      nerr = fmax(nerr, fabs(x->nads[i] - 0.125));
      merr = fmax(merr, fabs(x->mean[i] - ma));
      if (i != 4 * 8 + 4)
        rest = fmax(rest, x->spec[i]);
    }
    CHECK(x->k == d, "K = %lld", (long long)x->k);
    CHECK(fabs(x->ev[0] - lam) < 1e-5 * lam, "mode %d: λ1 %.10g, closed form %.10g", mode,
           x->ev[0], lam);
    CHECK(x->ev[0] >= (1 - 1e-6) * tr, "mode %d: λ1 / trace = %.12g", mode, x->ev[0] / tr);
    CHECK(nerr < 1e-5, "mode %d: top NAD - 1/8: %.3g", mode, nerr);
    CHECK(merr < 1e-5 * fabs(ma) + 1e-9, "mode %d: mean response err %.3g (mean a %.6g)",
           mode, merr, ma);
    CHECK(fabs(x->spec[4 * 8 + 4] - 64.0 * lam) < 1e-5 * 64.0 * lam,
           "mode %d: P(0) %.10g, closed form %.10g", mode, x->spec[4 * 8 + 4], 64.0 * lam);
    CHECK(rest < 1e-6 * 64.0 * lam, "mode %d: power off DC %.3g", mode, rest);
  }
  /* a linear network: the dipole is the gradient */
  double ov = 0;
  OK(nad_subspace_overlap(r[0].nads, r[1].nads, 1, d, &ov));
  CHECK(fabs(r[0].ev[0] - r[1].ev[0]) < 1e-5 * r[0].ev[0] && ov > 1 - 1e-10,
         "dipole vs gradient: λ1 %.10g / %.10g, overlap %.12g", r[0].ev[0], r[1].ev[0], ov);
  res_free(&r[0]);
  res_free(&r[1]);
  free(av);
  nad_arch_destroy(a);
}

/* LogReg: f(x) = w·x + b, so g = w with w_i ~ U(±1/sqrt(D)) i.i.d.: covariance σ²I with
 * σ² = 1/(3D). The sample covariance of N vectors has its eigenvalues inside the
 * Marchenko–Pastur band [σ²(1 − sqrt(D/N))², σ²(1 + sqrt(D/N))²]. */
static void test_logreg_isotropy(void) {
  nad_arch *a = arch_builtin("logreg", 1, 8, 8);
  if (!a)
    return;
  const int64_t n = 2000, d = 64;
  nad_estimator *e = make(a, n, 9, 2, NAD_MODE_DIPOLE);
  OK(nad_estimator_run(e));
  res r;
  get_res(e, &r);
  const double s2 = 1.0 / (3.0 * d), q = sqrt((double)d / (double)n);
  const double lo = s2 * (1 - q) * (1 - q), hi = s2 * (1 + q) * (1 + q);
  CHECK(r.ev[0] <= hi * 1.05 && r.ev[d - 1] >= lo * 0.95,
         "eigenvalues [%.5g, %.5g] outside the MP band [%.5g, %.5g]", r.ev[d - 1], r.ev[0], lo, hi);
  CHECK(r.ev[0] > s2 * (1 + q) && r.ev[d - 1] < s2 * (1 - q),
         "eigenvalues [%.5g, %.5g] do not spread over the band around σ² = %.5g", r.ev[d - 1],
         r.ev[0], s2);
  /* the mean response is the mean weight row, exactly (to float rounding of the forward) */
  double *mw = calloc((size_t)d, sizeof(double)), err = 0;
  const int64_t ow = tensor_offset(a, 0);
  for (int64_t j = 0; j < n; j++) {
    float *p = params_of(a, 9, j);
    for (int64_t i = 0; i < d; i++)
      mw[i] += (double)p[ow + i] / (double)n;
    free(p);
  }
  for (int64_t i = 0; i < d; i++)
    err = fmax(err, fabs(mw[i] - r.mean[i]));
  CHECK(err < 1e-6, "mean response vs mean weight: %.3g", err);
  /* convergence of an isotropic covariance: top-1 halves overlap is low, spectra agree */
  double ov = 0, sc = 0;
  OK(nad_estimator_convergence(e, 1, &ov, &sc));
  CHECK(ov < 0.5, "isotropic: top-1 half overlap %.3g should be small", ov);
  free(mw);
  res_free(&r);
  nad_estimator_destroy(e);
  nad_arch_destroy(a);
}

/* ---- LeNet --------------------------------------------------------------------------------- */

/* Dipole response of network j by dense forwards, differences in double. */
static void dense_dipole(const nad_arch *a, uint64_t seed, int64_t j, const float *x0,
                         double step, double *g) {
  const int64_t d = nadi_graph_in_size(a->g), cap = 128;
  float *p = params_of(a, seed, j);
  float *x = malloc(sizeof(float) * (size_t)(cap * d));
  nadi_exec *ex = NULL;
  nadi_exec_create(a->g, cap, &ex);
  for (int64_t i0 = 0; i0 < d; i0 += cap / 2) {
    int64_t m = d - i0 < cap / 2 ? d - i0 : cap / 2;
    for (int64_t s = 0; s < 2 * m; s++) {
      memcpy(x + s * d, x0, sizeof(float) * (size_t)d);
      int64_t i = i0 + s / 2;
      x[s * d + i] = (s & 1) ? x0[i] - (float)step : x0[i] + (float)step;
    }
    const float *y = nadi_exec_forward(ex, p, x, 2 * m, 0, NULL);
    const int64_t out = a->outputs;
    for (int64_t s = 0; s < m; s++)
      g[i0 + s] = ((double)y[2 * s * out] - (double)y[(2 * s + 1) * out]) / (2 * step);
  }
  nadi_exec_destroy(ex);
  free(x);
  free(p);
}

/* Two networks: mean = (g0 + g1)/2, covariance = δδᵀ/2 with δ = g0 − g1 → λ1 = |δ|²/2 and
 * NAD ∝ δ; everything else zero. Checks the probe (delta forward), the evaluation point
 * (stream UINT64_MAX of the seed) and the parameter streams against dense forwards. */
static void test_probe_vs_dense(void) {
  nad_arch *a = arch_builtin("lenet", 1, 32, 32);
  if (!a)
    return;
  const int64_t d = 1024;
  const uint64_t seed = 3;
  float *x0 = malloc(sizeof(float) * d);
  nadi_rng r;
  nadi_rng_init(&r, seed, UINT64_MAX);
  nadi_rng_fill_normal(&r, x0, d, 0.0, 1.0);
  double *g0 = malloc(sizeof(double) * d), *g1 = malloc(sizeof(double) * d);
  dense_dipole(a, seed, 0, x0, 100.0, g0);
  dense_dipole(a, seed, 1, x0, 100.0, g1);
  nad_estimator *e = make(a, 2, (int64_t)seed, 1, NAD_MODE_DIPOLE);
  OK(nad_estimator_set_int(e, NAD_OPT_TOP_K, 1));
  OK(nad_estimator_set_int(e, NAD_OPT_BATCH, 300)); /* chunks not aligned with pairs */
  OK(nad_estimator_run(e));
  double ev = 0, *mean = malloc(sizeof(double) * d);
  float *nad = malloc(sizeof(float) * d);
  OK(nad_estimator_eigenvalues(e, &ev, 1));
  OK(nad_estimator_mean(e, mean, d));
  OK(nad_estimator_nads(e, nad, d));
  double dn = 0, gmax = 0, merr = 0, dot = 0;
  for (int64_t i = 0; i < d; i++) {
    double del = g0[i] - g1[i];
    dn += del * del;
    gmax = fmax(gmax, fmax(fabs(g0[i]), fabs(g1[i])));
    merr = fmax(merr, fabs(mean[i] - 0.5 * (g0[i] + g1[i])));
  }
  for (int64_t i = 0; i < d; i++)
    dot += (g0[i] - g1[i]) / sqrt(dn) * nad[i];
  CHECK(gmax > 0, "responses are not zero");
  CHECK(merr < 1e-4 * gmax, "mean vs dense forwards: err %.3g (max |g| %.3g)", merr, gmax);
  CHECK(fabs(ev - dn / 2) < 1e-3 * dn / 2, "λ1 %.10g vs |δ|²/2 %.10g", ev, dn / 2);
  CHECK(fabs(fabs(dot) - 1) < 1e-6, "NAD vs δ/|δ|: |cos| = %.10g", fabs(dot));
  free(mean);
  free(nad);
  free(g0);
  free(g1);
  free(x0);
  nad_estimator_destroy(e);
  nad_arch_destroy(a);
}

static void test_lenet_threads_and_modes(void) {
  nad_arch *a = arch_builtin("lenet", 1, 32, 32);
  if (!a)
    return;
  const int64_t n = 24;
  res r[4];
  const int64_t threads[3] = {1, 2, 3};
  for (int t = 0; t < 3; t++) {
    nad_estimator *e = make(a, n, 1, threads[t], NAD_MODE_DIPOLE);
    OK(nad_estimator_run(e));
    get_res(e, &r[t]);
    nad_estimator_destroy(e);
  }
  /* BLAS is single-threaded while probing, so every thread count gives the same bits */
  CHECK(res_identical(&r[1], &r[2]), "2 and 3 threads are bit-identical");
  double dd = res_rel_diff(&r[0], &r[1]);
  CHECK(dd < 1e-10, "1 vs 2 threads: rel diff %.3g", dd);
  CHECK(res_identical(&r[0], &r[1]), "1 and 2 threads are bit-identical");
  /* the estimator's spectrum (covariance path) equals the one from all its eigenpairs */
  double *ps = malloc(sizeof(double) * 1024), mx = 0, err = 0;
  OK(nad_spectrum_from_nads(r[1].nads, r[1].ev, r[1].k, 1, 32, 32, ps, 1024));
  for (int i = 0; i < 1024; i++)
    mx = fmax(mx, r[1].spec[i]);
  for (int i = 0; i < 1024; i++)
    err = fmax(err, fabs(ps[i] - r[1].spec[i]));
  CHECK(err < 1e-5 * mx, "spectrum: covariance path vs eigenpairs: %.3g of max", err / mx);

  /* gradient mode: the s = 100 dipole is not the gradient for a ReLU network */
  nad_estimator *e = make(a, n, 1, 2, NAD_MODE_GRADIENT);
  OK(nad_estimator_run(e));
  get_res(e, &r[3]);
  nad_estimator_destroy(e);
  double corr = 1, ov = 1;
  OK(nad_spectrum_correlation(r[1].spec, r[3].spec, 1024, &corr));
  OK(nad_subspace_overlap(r[1].nads, r[3].nads, 1, 1024, &ov));
  printf("# lenet dipole vs gradient (N = %lld): spectrum corr %.3f, top-1 overlap %.3f\n",
         (long long)n, corr, ov);
  CHECK(corr < 0.9 && ov < 0.5, "dipole and gradient differ: corr %.3f overlap %.3f", corr, ov);
  for (int t = 0; t < 4; t++)
    res_free(&r[t]);
  free(ps);
  nad_arch_destroy(a);
}

/* ---- cancellation and checkpoints --------------------------------------------------------- */

typedef struct prog {
  int64_t calls, last_done, total, cancel_at;
  int monotone;
  const char *ckpt;   /* periodic checkpoint file to watch */
  long size_at_5, size_at_25;
} prog;

static long file_size(const char *path);

static int on_progress(void *ud, int64_t done, int64_t total) {
  prog *p = ud;
  if (p->ckpt && done == 5)
    p->size_at_5 = file_size(p->ckpt);
  if (p->ckpt && done == 25)
    p->size_at_25 = file_size(p->ckpt);
  if (p->calls > 0 && done != p->last_done + 1)
    p->monotone = 0;
  p->calls++;
  p->last_done = done;
  p->total = total;
  return p->cancel_at > 0 && done >= p->cancel_at;
}

static char *path_of(const char *name) { return nadt_path(tmpdir, name); }

static long file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

/* Copy src to dst with an edit: flip byte `flip` (if >= 0), cut to `len` (if >= 0). */
static void copy_edit(const char *src, const char *dst, long flip, long len) {
  long n = file_size(src);
  unsigned char *b = malloc((size_t)n);
  FILE *f = fopen(src, "rb");
  if (fread(b, 1, (size_t)n, f) != (size_t)n)
    n = 0;
  fclose(f);
  if (flip >= 0 && flip < n)
    b[flip] ^= 0x5a;
  f = fopen(dst, "wb");
  fwrite(b, 1, (size_t)(len >= 0 ? len : n), f);
  fclose(f);
  free(b);
}

/* Load `path` into a fresh estimator built by the caller; expect NAD_ERR_FORMAT with `word`
 * in the message and the estimator left empty. */
static void expect_refused(nad_estimator *e, const char *path, const char *word, const char *what) {
  nad_status st = nad_estimator_load(e, path);
  const char *msg = nad_last_error();
  int64_t done = -1;
  nad_estimator_networks_done(e, &done);
  CHECK(st == NAD_ERR_FORMAT && strstr(msg, word) != NULL && done == 0,
         "%s: status %d, message '%s' (want '%s'), networks %lld", what, (int)st, msg, word,
         (long long)done);
  nad_estimator_destroy(e);
}

static void test_checkpoints(void) {
  const char *spec = "conv 2 k3; relu; maxpool 2; fc 1";
  nad_arch *a = arch_spec(spec, 1, 8, 8);
  if (!a)
    return;
  const int64_t n = 150; /* 75 per half: one full block of 64 and 11 pending rows each */
  res full;
  nad_estimator *e = make(a, n, 4, 2, NAD_MODE_DIPOLE);
  OK(nad_estimator_run(e));
  get_res(e, &full);
  nad_estimator_destroy(e);

  /* cancel at 77 with a periodic checkpoint every 10 networks */
  const char *ck = path_of("run.ckpt");
  prog pg = {0, 0, 0, 77, 1, ck, 0, 0};
  e = make(a, n, 4, 2, NAD_MODE_DIPOLE);
  OK(nad_estimator_set_progress(e, on_progress, &pg));
  OK(nad_estimator_set_checkpoint(e, ck, 10));
  nad_status st = nad_estimator_run(e);
  int64_t done = 0;
  OK(nad_estimator_networks_done(e, &done));
  CHECK(st == NAD_ERR_CANCELLED, "cancel: status %d (%s)", (int)st, nad_last_error());
  CHECK(done == 77 && pg.calls == 77 && pg.monotone && pg.total == n,
         "progress: done %lld, calls %lld, monotone %d, total %lld", (long long)done,
         (long long)pg.calls, pg.monotone, (long long)pg.total);
  CHECK(pg.size_at_5 == -1 && pg.size_at_25 > 0,
         "periodic checkpoint: no file after 5 networks (%ld), a file after 25 (%ld)",
         pg.size_at_5, pg.size_at_25);
  double ev = 0;
  CHECK(nad_estimator_eigenvalues(e, &ev, 64) == NAD_ERR_MISUSE, "no results after cancel");
  CHECK(nad_estimator_run(e) == NAD_ERR_MISUSE, "run twice");
  OK(nad_estimator_save(e, path_of("cancelled.ckpt")));
  OK(nad_estimator_finalize(e)); /* results of the prefix */
  int64_t k = 0;
  OK(nad_estimator_dims(e, NULL, &k));
  CHECK(k == 64, "K after finalize %lld", (long long)k);
  nad_estimator_destroy(e);

  /* the periodic file holds all 77 networks; resuming from it equals the full run, bit for
   * bit, with a different thread count too */
  for (int t = 0; t < 2; t++) {
    e = make(a, n, 4, t == 0 ? 2 : 3, NAD_MODE_DIPOLE);
    OK(nad_estimator_load(e, t == 0 ? ck : path_of("cancelled.ckpt")));
    OK(nad_estimator_networks_done(e, &done));
    CHECK(done == 77, "loaded %lld networks", (long long)done);
    CHECK(nad_estimator_set_int(e, NAD_OPT_SEED, 5) == NAD_ERR_MISUSE, "seed frozen by load");
    OK(nad_estimator_run(e));
    res rr;
    get_res(e, &rr);
    CHECK(res_identical(&rr, &full), "resume %d equals the uninterrupted run (rel diff %.3g)",
           t, res_rel_diff(&rr, &full));
    res_free(&rr);
    nad_estimator_destroy(e);
  }

  /* two disjoint ranges, merged, equal one run (to rounding: blocks differ) */
  const char *p1 = path_of("r1.ckpt"), *p2 = path_of("r2.ckpt");
  for (int part = 0; part < 2; part++) {
    e = make(a, part == 0 ? 70 : 80, 4, 2, NAD_MODE_DIPOLE);
    OK(nad_estimator_set_int(e, NAD_OPT_FIRST_NETWORK, part == 0 ? 0 : 70));
    OK(nad_estimator_run(e));
    OK(nad_estimator_save(e, part == 0 ? p1 : p2));
    nad_estimator_destroy(e);
  }
  e = make(a, n, 4, 1, NAD_MODE_DIPOLE);
  OK(nad_estimator_load(e, p2));
  OK(nad_estimator_load(e, p1));
  OK(nad_estimator_networks_done(e, &done));
  CHECK(done == n, "merged %lld networks", (long long)done);
  OK(nad_estimator_finalize(e));
  res mg;
  get_res(e, &mg);
  double dd = res_rel_diff(&mg, &full);
  CHECK(dd < 1e-10, "merged ranges vs one run: rel diff %.3g", dd);
  res_free(&mg);
  /* the same range twice is refused */
  st = nad_estimator_load(e, p1);
  CHECK(st == NAD_ERR_FORMAT && strstr(nad_last_error(), "overlap"), "overlap: %d %s", (int)st,
         nad_last_error());
  /* running after loading everything computes nothing more */
  OK(nad_estimator_run(e));
  OK(nad_estimator_networks_done(e, &done));
  CHECK(done == n, "nothing recomputed: %lld", (long long)done);
  nad_estimator_destroy(e);

  /* merge after a run */
  e = make(a, 70, 4, 2, NAD_MODE_DIPOLE);
  OK(nad_estimator_run(e));
  OK(nad_estimator_load(e, p2));
  CHECK(nad_estimator_nads(e, mg.nads, 0) == NAD_ERR_MISUSE, "results stale after load");
  OK(nad_estimator_finalize(e));
  get_res(e, &mg);
  dd = res_rel_diff(&mg, &full);
  CHECK(dd < 1e-10, "run + load vs one run: rel diff %.3g", dd);
  res_free(&mg);
  nad_estimator_destroy(e);

  /* damaged files */
  long sz = file_size(p1);
  copy_edit(p1, path_of("flip.ckpt"), sz / 2, -1);
  expect_refused(make(a, n, 4, 1, 0), path_of("flip.ckpt"), "CRC", "flipped byte");
  copy_edit(p1, path_of("flip2.ckpt"), 100, -1); /* in the header */
  expect_refused(make(a, n, 4, 1, 0), path_of("flip2.ckpt"), "CRC", "flipped header byte");
  copy_edit(p1, path_of("trunc.ckpt"), -1, sz - 100);
  expect_refused(make(a, n, 4, 1, 0), path_of("trunc.ckpt"), "corrupted or truncated",
                 "truncated");
  copy_edit(p1, path_of("short.ckpt"), -1, 20);
  expect_refused(make(a, n, 4, 1, 0), path_of("short.ckpt"), "truncated", "very short");
  copy_edit(p1, path_of("magic.ckpt"), 0, -1);
  expect_refused(make(a, n, 4, 1, 0), path_of("magic.ckpt"), "magic", "bad magic");
  copy_edit(p1, path_of("version.ckpt"), 8, -1);
  expect_refused(make(a, n, 4, 1, 0), path_of("version.ckpt"), "version", "bad version");

  /* mismatched settings: each named */
  nad_arch *other = arch_builtin("logreg", 1, 8, 8);
  expect_refused(make(other, n, 4, 1, 0), p1, "architecture", "other architecture");
  nad_arch *other_spec = arch_spec("conv 3 k3; relu; maxpool 2; fc 1", 1, 8, 8);
  expect_refused(make(other_spec, n, 4, 1, 0), p1, "different graph", "other spec");
  nad_arch *other_shape = arch_spec(spec, 1, 10, 10);
  expect_refused(make(other_shape, n, 4, 1, 0), p1, "inputs", "other input shape");
  expect_refused(make(a, n, 5, 1, 0), p1, "seed", "other seed");
  expect_refused(make(a, n, 4, 1, NAD_MODE_GRADIENT), p1, "mode", "other mode");
  e = make(a, n, 4, 1, 0);
  OK(nad_estimator_set_double(e, NAD_OPT_STEP, 10.0));
  expect_refused(e, p1, "step", "other step");
  e = make(a, n, 4, 1, 0);
  OK(nad_estimator_set_int(e, NAD_OPT_EVAL_POINT, NAD_EVAL_ZEROS));
  expect_refused(e, p1, "evaluation point", "other evaluation point");
  e = make(a, n, 4, 1, 0);
  float x0[64] = {0};
  OK(nad_estimator_set_eval_point(e, x0, 64));
  expect_refused(e, p1, "evaluation point", "user evaluation point");
  e = make(a, n, 4, 1, 0);
  CHECK(nad_estimator_load(e, path_of("missing.ckpt")) == NAD_ERR_IO, "missing file");
  CHECK(nad_estimator_save(e, p1) == NAD_ERR_MISUSE, "save with nothing accumulated");
  nad_estimator_destroy(e);
  e = make(a, 70, 4, 1, 0);
  OK(nad_estimator_run(e));
  CHECK(nad_estimator_save(e, path_of("no/such/dir.ckpt")) == NAD_ERR_IO, "save: bad dir");
  nad_estimator_destroy(e);
  nad_arch_destroy(other);
  nad_arch_destroy(other_spec);
  nad_arch_destroy(other_shape);
  res_free(&full);
  nad_arch_destroy(a);
}

/* ---- argument and call-order checks ------------------------------------------------------- */

static void test_bad_input(void) {
  nad_arch *a = arch_builtin("logreg", 1, 4, 4);
  if (!a)
    return;
  nad_estimator *e = NULL;
  CHECK(nad_estimator_create(NULL, &e) == NAD_ERR_INVALID_ARG && e == NULL, "create NULL arch");
  CHECK(nad_estimator_create(a, NULL) == NAD_ERR_INVALID_ARG, "create NULL out");
  nad_estimator_destroy(NULL);
  OK(nad_estimator_create(a, &e));
  int64_t v = 0;
  double dv = 0, lo = 0, hi = 0;
  /* defaults */
  OK(nad_estimator_get_int(e, NAD_OPT_NUM_NETWORKS, &v));
  CHECK(v == 1000, "default N %lld", (long long)v);
  OK(nad_estimator_get_int(e, NAD_OPT_BATCH, &v));
  CHECK(v == 256, "default batch %lld", (long long)v);
  OK(nad_estimator_get_double(e, NAD_OPT_STEP, &dv));
  CHECK(dv == 100.0, "default step %g", dv);
  /* ranges and types */
  CHECK(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 1) == NAD_ERR_INVALID_ARG, "N = 1");
  CHECK(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, -5) == NAD_ERR_INVALID_ARG, "N < 0");
  CHECK(nad_estimator_set_double(e, NAD_OPT_STEP, 0.0) == NAD_ERR_INVALID_ARG, "step 0");
  CHECK(nad_estimator_set_double(e, NAD_OPT_STEP, -1.0) == NAD_ERR_INVALID_ARG, "step < 0");
  CHECK(nad_estimator_set_double(e, NAD_OPT_STEP, NAN) == NAD_ERR_INVALID_ARG, "step NaN");
  CHECK(nad_estimator_set_double(e, NAD_OPT_STEP, INFINITY) == NAD_ERR_INVALID_ARG, "step inf");
  CHECK(nad_estimator_set_double(e, NAD_OPT_NUM_NETWORKS, 5.0) == NAD_ERR_OPTION_TYPE,
         "double setter on an int option");
  CHECK(nad_estimator_set_int(e, NAD_OPT_STEP, 5) == NAD_ERR_OPTION_TYPE,
         "int setter on a double option");
  CHECK(nad_estimator_get_double(e, NAD_OPT_SEED, &dv) == NAD_ERR_OPTION_TYPE, "get type");
  CHECK(nad_estimator_get_int(e, NAD_OPT_STEP, &v) == NAD_ERR_OPTION_TYPE, "get type 2");
  CHECK(nad_estimator_set_int(e, (nad_option)12345, 1) == NAD_ERR_INVALID_ARG, "unknown opt");
  CHECK(nad_estimator_set_int(e, NAD_OPT_TOP_K, 17) == NAD_ERR_INVALID_ARG, "top_k > D");
  CHECK(nad_estimator_set_int(e, NAD_OPT_MODE, 2) == NAD_ERR_INVALID_ARG, "mode 2");
  CHECK(nad_estimator_set_int(e, NAD_OPT_EVAL_POINT, 4) == NAD_ERR_INVALID_ARG, "eval 4");
  CHECK(nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, -1) == NAD_ERR_INVALID_ARG, "threads");
  CHECK(nad_estimator_set_int(e, NAD_OPT_BATCH, 0) == NAD_ERR_INVALID_ARG, "batch 0");
  CHECK(nad_estimator_set_int(NULL, NAD_OPT_SEED, 1) == NAD_ERR_INVALID_ARG, "NULL e");
  CHECK(nad_estimator_get_int(e, NAD_OPT_SEED, NULL) == NAD_ERR_INVALID_ARG, "NULL v");
  /* bounds and names */
  OK(nad_option_bounds(NAD_OPT_NUM_NETWORKS, &lo, &hi));
  CHECK(lo == 2 && hi >= 1e15, "N bounds [%g, %g]", lo, hi);
  OK(nad_option_bounds(NAD_OPT_STEP, &lo, &hi));
  CHECK(lo > 0 && lo < 1e-300 && hi > 1e100, "step bounds [%g, %g]", lo, hi);
  CHECK(nad_option_bounds((nad_option)7, &lo, &hi) == NAD_ERR_INVALID_ARG, "bounds unknown");
  CHECK(nad_option_bounds(NAD_OPT_SEED, NULL, &hi) == NAD_ERR_INVALID_ARG, "bounds NULL");
  const char *names[9] = {"num_networks", "seed", "num_threads", "top_k", "batch",
                          "mode", "eval_point", "first_network", "step"};
  const nad_option ids[9] = {NAD_OPT_NUM_NETWORKS, NAD_OPT_SEED, NAD_OPT_NUM_THREADS,
                             NAD_OPT_TOP_K, NAD_OPT_BATCH, NAD_OPT_MODE, NAD_OPT_EVAL_POINT,
                             NAD_OPT_FIRST_NETWORK, NAD_OPT_STEP};
  for (int i = 0; i < 9; i++) {
    nad_option o = (nad_option)0;
    CHECK(nad_option_by_name(names[i], &o) == NAD_OK && o == ids[i], "name %s", names[i]);
  }
  nad_option o;
  CHECK(nad_option_by_name("nope", &o) == NAD_ERR_INVALID_ARG, "unknown name");
  CHECK(nad_option_by_name(NULL, &o) == NAD_ERR_INVALID_ARG, "NULL name");
  /* evaluation point */
  float x0[16] = {0};
  /* buffer lengths state the shape (nad.h): any other length is NAD_ERR_SHAPE */
  CHECK(nad_estimator_set_eval_point(e, x0, 15) == NAD_ERR_SHAPE, "x0 length");
  CHECK(nad_estimator_set_eval_point(e, NULL, 16) == NAD_ERR_INVALID_ARG, "x0 NULL");
  x0[3] = NAN;
  CHECK(nad_estimator_set_eval_point(e, x0, 16) == NAD_ERR_INVALID_ARG, "x0 NaN");
  CHECK(nad_estimator_set_checkpoint(e, "x", 0) == NAD_ERR_INVALID_ARG, "ckpt every 0");
  CHECK(nad_estimator_set_progress(NULL, NULL, NULL) == NAD_ERR_INVALID_ARG, "progress NULL");
  /* results before run */
  double ev[16];
  float nads[256];
  int64_t d = 0, k = 0, done = -1;
  CHECK(nad_estimator_dims(e, &d, &k) == NAD_ERR_MISUSE, "dims before run");
  CHECK(nad_estimator_eigenvalues(e, ev, 16) == NAD_ERR_MISUSE, "eigenvalues before run");
  CHECK(nad_estimator_nads(e, nads, 256) == NAD_ERR_MISUSE, "nads before run");
  CHECK(nad_estimator_mean(e, ev, 16) == NAD_ERR_MISUSE, "mean before run");
  CHECK(nad_estimator_spectrum(e, ev, 16) == NAD_ERR_MISUSE, "spectrum before run");
  double ov, sc;
  CHECK(nad_estimator_convergence(e, 1, &ov, &sc) == NAD_ERR_MISUSE, "convergence before run");
  CHECK(nad_estimator_finalize(e) == NAD_ERR_MISUSE, "finalize before run");
  OK(nad_estimator_networks_done(e, &done));
  CHECK(done == 0, "done %lld", (long long)done);
  /* user evaluation point chosen but not given */
  OK(nad_estimator_set_int(e, NAD_OPT_EVAL_POINT, NAD_EVAL_USER));
  CHECK(nad_estimator_run(e) == NAD_ERR_MISUSE, "EVAL_USER without a point");
  nad_estimator_destroy(e);

  /* a run, then options and run are refused; results checked for length */
  OK(nad_estimator_create(a, &e));
  OK(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 10));
  OK(nad_estimator_run(e));
  CHECK(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 20) == NAD_ERR_MISUSE, "set after run");
  CHECK(nad_estimator_set_double(e, NAD_OPT_STEP, 1.0) == NAD_ERR_MISUSE, "step after run");
  CHECK(nad_estimator_set_eval_point(e, x0, 16) == NAD_ERR_MISUSE, "x0 after run");
  CHECK(nad_estimator_run(e) == NAD_ERR_MISUSE, "second run");
  CHECK(nad_estimator_eigenvalues(e, ev, 15) == NAD_ERR_SHAPE, "short dst");
  CHECK(nad_estimator_eigenvalues(e, ev, 17) == NAD_ERR_SHAPE, "long dst");
  CHECK(nad_estimator_eigenvalues(e, NULL, 16) == NAD_ERR_INVALID_ARG, "NULL dst");
  CHECK(nad_estimator_nads(e, nads, 255) == NAD_ERR_SHAPE, "short nads");
  CHECK(nad_estimator_mean(e, ev, 17) == NAD_ERR_SHAPE, "long mean");
  CHECK(nad_estimator_convergence(e, 0, &ov, &sc) == NAD_ERR_INVALID_ARG, "k = 0");
  CHECK(nad_estimator_convergence(e, 17, &ov, &sc) == NAD_ERR_INVALID_ARG, "k > D");
  CHECK(nad_estimator_convergence(e, 1, NULL, &sc) == NAD_ERR_INVALID_ARG, "NULL overlap");
  CHECK(nad_estimator_save(e, NULL) == NAD_ERR_INVALID_ARG, "save NULL path");
  CHECK(nad_estimator_load(e, NULL) == NAD_ERR_INVALID_ARG, "load NULL path");
  OK(nad_estimator_eigenvalues(e, ev, 16));
  int desc = 1;
  for (int i = 1; i < 16; i++)
    desc &= ev[i] <= ev[i - 1];
  CHECK(desc, "eigenvalues descending");
  OK(nad_estimator_convergence(e, 3, &ov, &sc));
  CHECK(ov >= 0 && ov <= 1 + 1e-12 && sc >= -1 && sc <= 1, "convergence %.3g %.3g", ov, sc);
  nad_estimator_destroy(e);

  /* arch destroyed first: the estimator keeps its own reference */
  nad_arch *a2 = arch_builtin("logreg", 1, 4, 4);
  OK(nad_estimator_create(a2, &e));
  nad_arch_destroy(a2);
  OK(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 4));
  OK(nad_estimator_run(e));
  nad_estimator_destroy(e);

  /* a non-finite response: x0 + s overflows to +inf, so f(x0 + s·e_i) is infinite */
  OK(nad_estimator_create(a, &e));
  float big[16];
  for (int i = 0; i < 16; i++)
    big[i] = 3e38f;
  OK(nad_estimator_set_eval_point(e, big, 16));
  OK(nad_estimator_set_double(e, NAD_OPT_STEP, 3e38));
  OK(nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 5));
  nad_status st = nad_estimator_run(e);
  CHECK(st == NAD_ERR_NUMERICAL, "overflowing forward: status %d (%s)", (int)st,
         nad_last_error());
  nad_estimator_destroy(e);
  nad_arch_destroy(a);
}

static void test_zeros_and_first_network(void) {
  /* FIRST_NETWORK shifts the networks: [10, 30) equals the second part of [0, 30), so the
   * two runs' means combine into the mean of [0, 30). */
  nad_arch *a = arch_builtin("logreg", 1, 4, 4);
  double m[3][16];
  const int64_t first[3] = {0, 0, 10}, cnt[3] = {30, 10, 20};
  for (int t = 0; t < 3; t++) {
    nad_estimator *e = make(a, cnt[t], 2, 1, 0);
    OK(nad_estimator_set_int(e, NAD_OPT_FIRST_NETWORK, first[t]));
    OK(nad_estimator_set_int(e, NAD_OPT_EVAL_POINT, NAD_EVAL_ZEROS));
    OK(nad_estimator_run(e));
    OK(nad_estimator_mean(e, m[t], 16));
    nad_estimator_destroy(e);
  }
  double err = 0;
  for (int i = 0; i < 16; i++)
    err = fmax(err, fabs(m[0][i] - (10 * m[1][i] + 20 * m[2][i]) / 30));
  CHECK(err < 1e-12, "first_network: mean err %.3g", err);
  nad_arch_destroy(a);
}

/* The run record (format 4): stored verbatim, read back without an estimator from a file and a
 * buffer, kept out of what a load checks, empty when none was set, and its absence (format 3)
 * says "". */
static void test_run_record(void) {
  nad_arch *a = arch_spec("conv 2 k3; relu; fc 1", 1, 6, 6);
  if (!a)
    return;
  const char *text = "nad-run 1\nspec=conv 2 k3; relu; fc 1\nseed=4\n";
  nad_estimator *e = make(a, 10, 4, 1, NAD_MODE_DIPOLE);
  CHECK(nad_estimator_set_run_record(NULL, text) == NAD_ERR_INVALID_ARG, "NULL estimator");
  OK(nad_estimator_set_run_record(e, "replaced"));
  OK(nad_estimator_set_run_record(e, text));
  OK(nad_estimator_run(e));
  const char *ck = path_of("record.ckpt"), *ck0 = path_of("norecord.ckpt");
  OK(nad_estimator_save(e, ck));
  int32_t version = 0;
  char *got = NULL;
  OK(nad_checkpoint_run_record(ck, &version, &got));
  CHECK(version == 4 && got && strcmp(got, text) == 0, "record read back: v%d '%s'",
        (int)version, got ? got : "(null)");
  nad_free(got);
  void *buf = NULL;
  size_t len = 0;
  OK(nad_estimator_save_buffer(e, &buf, &len));
  OK(nad_checkpoint_run_record_buffer(buf, len, &version, &got));
  CHECK(got && strcmp(got, text) == 0, "record from a buffer: '%s'", got ? got : "(null)");
  nad_free(got);
  ((unsigned char *)buf)[len / 2] ^= 1; /* a damaged part is refused, not half read */
  CHECK(nad_checkpoint_run_record_buffer(buf, len, &version, &got) == NAD_ERR_FORMAT && !got,
        "damaged buffer: %s", nad_last_error());
  nad_free(buf);
  /* the record does not take part in the load's checks: an estimator without one loads it */
  nad_estimator *f = make(a, 10, 4, 1, NAD_MODE_DIPOLE);
  OK(nad_estimator_load(f, ck));
  OK(nad_estimator_set_run_record(e, NULL));
  OK(nad_estimator_save(e, ck0));
  OK(nad_checkpoint_run_record(ck0, &version, &got));
  CHECK(version == 4 && got && got[0] == '\0', "no record: '%s'", got ? got : "(null)");
  nad_free(got);
  CHECK(file_size(ck) - file_size(ck0) == (long)strlen(text), "the record's bytes: %ld",
        file_size(ck) - file_size(ck0));
  CHECK(nad_checkpoint_run_record(path_of("missing.ckpt"), &version, &got) == NAD_ERR_IO,
        "missing file");
  CHECK(nad_checkpoint_run_record(NULL, &version, &got) == NAD_ERR_INVALID_ARG, "NULL path");
  nad_estimator_destroy(f);
  nad_estimator_destroy(e);
  nad_arch_destroy(a);
}

int main(void) {
  nadt_scratch_dir(tmpdir, sizeof tmpdir, "nad_est_test");
  test_bad_input();
  test_zeros_and_first_network();
  test_linear_closed_form();
  test_logreg_isotropy();
  test_probe_vs_dense();
  test_lenet_threads_and_modes();
  test_checkpoints();
  test_run_record();
  nadt_remove_dir(tmpdir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
