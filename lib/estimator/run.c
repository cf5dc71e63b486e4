/* The estimator's run loop, finalize and convergence.
 *
 * Threads. With NUM_THREADS = 1 the calling thread probes and folds each network itself. With
 * T > 1 the run goes in rounds on the worker pool of lib/core/threads.c (T + 1 workers, worker 0
 * being the calling thread): in round r workers 1..T each compute one whole network's response
 * (each owns a probe: executor, parameters, input chunk) into one bank of response slots, while
 * worker 0 folds round r − 1's responses from the other bank into the accumulators, strictly in
 * network order, calls the progress callback and saves checkpoints; the pool's end of a job is
 * the only synchronisation. BLAS runs single-threaded during the probing: the workers already
 * use the cores, the probe's GEMMs are too small to gain from BLAS threads (measured: LeNet is
 * faster with one BLAS thread), and a multi-threaded GEMM may round differently. So each
 * network's response depends only on (seed, j), the fold order is fixed, and the result is bit
 * for bit the same for every thread count. The eigensolve after the run uses BLAS's own threads
 * again. */
#include <float.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/threads.h"
#include "data/data.h"
#include "estimator/run.h"

/* ---- run ----------------------------------------------------------------------------------- */

typedef struct run_ctx {
  nad_estimator *e;
  int64_t jobs;   /* networks to compute in this run */
  int64_t total0; /* networks accumulated before it */
  int64_t cursor; /* network index of the next sequence number */
  /* ranges covered before the run: claims read this copy, never e->ranges (the fold appends to
   * it while the workers run). */
  nadi_range *pre;
  int64_t n_pre;
  int64_t width;       /* networks per round: the probing workers (1 without a pool) */
  nadi_probe **probes; /* width */
  double **g;          /* 2 banks × width response slots (d doubles each) */
  int64_t *j;          /* the network of each slot */
  double *fscale;      /* each slot's nadi_probe_value_scale */
  nadi_probe_result *res;
  int64_t probe_seq, probe_n, probe_bank; /* the round being probed: first sequence number,
                                            networks, bank */
  int64_t fold_seq, fold_n, fold_bank;    /* the round being folded */
  nad_status st;     /* of the fold */
  int64_t last_saved;
  int converged; /* NAD_OPT_CONVERGE_EVERY: a check found the halves converged, the run stops */
} run_ctx;

/* First network >= j that is not covered by the ranges of before the run. */
static int64_t skip_covered(const run_ctx *rc, int64_t j) {
  for (int again = 1; again;) {
    again = 0;
    for (int64_t t = 0; t < rc->n_pre; t++)
      if (rc->pre[t].lo <= j && j < rc->pre[t].hi) {
        j = rc->pre[t].hi;
        again = 1;
      }
  }
  return j;
}

/* The next network, in sequence order (calling thread only). */
static int64_t claim(run_ctx *rc) {
  const int64_t j = rc->cursor;
  rc->cursor = skip_covered(rc, rc->cursor + 1);
  return j;
}

/* A checkpoint save that fails (a full disk, a vanished directory) does not stop the run: the
 * networks computed are worth more than the file, which keeps its previous content (atomic
 * replacement). The failure is counted and its message kept for nad_estimator_checkpoint_error
 * (issue 11). */
static nad_status save_checkpoint(nad_estimator *e) {
  nad_status st = nadi_halves_maintain(e, NULL, 1); /* what is saved never depends on timing */
  if (st == NAD_OK)
    st = nadi_checkpoint_save(e, e->ckpt_path);
  if (st != NAD_OK) {
    e->ckpt_failures++;
    snprintf(e->ckpt_error, sizeof e->ckpt_error, "%s", nad_last_error());
  }
  return st;
}

int64_t nadi_converge_next(int64_t every, double growth, int64_t n) {
  if (n < every)
    return every;
  if (n > INT64_MAX - every)
    return INT64_MAX;
  const double want = ceil((double)n * growth / (double)every); /* exact IEEE: deterministic */
  if (want >= (double)(INT64_MAX / every)) /* past any count a run can reach */
    return INT64_MAX;
  const int64_t next = (int64_t)want * every;
  return next > n ? next : n + every;
}

int nadi_converge_is_check(int64_t every, double growth, int64_t n) {
  if (every <= 0 || n <= 0 || n % every != 0)
    return 0;
  int64_t c = every;
  while (c < n)
    c = nadi_converge_next(every, growth, c);
  return c == n;
}

/* NAD_OPT_CONVERGE_EVERY: at a check point (nadi_converge_is_check, with at least 2 networks
 * per half) rc->converged = the criterion. Depends on the count alone, never on timing. */
static nad_status check_point(run_ctx *rc, int64_t done) {
  nad_estimator *e = rc->e;
  if (!nadi_converge_is_check(e->converge_every, e->converge_growth, done) ||
      nadi_halves_count(e, 0) < 2 || nadi_halves_count(e, 1) < 2)
    return NAD_OK;
  NADI_TRY(nadi_halves_maintain(e, NULL, 1)); /* solve what every thread count solves */
  return nadi_estimator_converged(e, &rc->converged, NULL, NULL);
}

/* Fold the response of sequence number seq (network j) into the halves, then report progress,
 * check convergence (before the save: a checkpoint at a check point implies the check) and save
 * a periodic checkpoint (calling thread only). */
static nad_status fold_one(run_ctx *rc, int64_t seq, int64_t j, nadi_probe_result res,
                           const double *g, double fscale) {
  nad_estimator *e = rc->e;
  if (res == NADI_PROBE_STOPPED || (atomic_load(&e->stop) & NADI_STOP_CANCEL))
    return nadi_fail(NAD_ERR_CANCELLED,
                     "cancelled by nad_estimator_cancel after %lld networks (the accumulated "
                     "networks can still be saved)",
                     (long long)(rc->total0 + seq));
  if (res == NADI_PROBE_SOURCE_FAILED)
    return nadi_fail(NAD_ERR_CANCELLED,
                     "the parameter source failed for network %lld; %lld networks before it "
                     "are accumulated",
                     (long long)j, (long long)(rc->total0 + seq));
  if (res != NADI_PROBE_OK)
    return nadi_fail(NAD_ERR_NUMERICAL,
                     "network %lld gave a non-finite response (NaN or Inf); %lld networks "
                     "before it are accumulated",
                     (long long)j, (long long)(rc->total0 + seq));
  NADI_TRY(nadi_halves_push(e, j, g));
  NADI_TRY(nadi_ranges_add(e, j, j + 1));
  e->value_scale_sum += fscale;
  e->value_scale_n++;
  const int64_t done = rc->total0 + seq + 1;
  if ((e->progress && e->progress(e->progress_ud, done, rc->total0 + rc->jobs) != 0) ||
      nadi_guard_doomed(&e->guard)) /* destroyed from the callback or another thread */
    return nadi_fail(NAD_ERR_CANCELLED,
                     "cancelled by the progress callback after %lld networks (the "
                     "accumulated networks can still be saved)",
                     (long long)done);
  NADI_TRY(check_point(rc, done));
  if (e->ckpt_path && e->ckpt_every > 0 && (seq + 1) % e->ckpt_every == 0 &&
      save_checkpoint(e) == NAD_OK)
    rc->last_saved = done;
  return NAD_OK;
}

/* One round on the pool: worker 0 (the calling thread) folds the previous round, worker t > 0
 * probes slot t − 1 of this one. */
static void round_job(void *ctx, int tid) {
  run_ctx *rc = ctx;
  if (tid == 0) {
    for (int64_t t = 0; t < rc->fold_n && rc->st == NAD_OK && !rc->converged; t++) {
      const int64_t s = rc->fold_bank * rc->width + t;
      rc->st = fold_one(rc, rc->fold_seq + t, rc->j[s], rc->res[s], rc->g[s], rc->fscale[s]);
    }
    if (rc->st != NAD_OK || rc->converged) /* the networks in flight are dropped */
      atomic_fetch_or(&rc->e->stop, NADI_STOP_FAILED);
    return;
  }
  const int64_t t = tid - 1, s = rc->probe_bank * rc->width + t;
  if (t < rc->probe_n) {
    rc->res[s] = nadi_probe_run(rc->probes[t], rc->e->seed, rc->j[s], rc->g[s], &rc->e->stop);
    rc->fscale[s] = nadi_probe_value_scale(rc->probes[t]);
  }
}

/* Every network of the run: on the calling thread alone (pool NULL), or in rounds on the pool,
 * the last round's fold on the calling thread. */
static nad_status run_networks(run_ctx *rc, nadi_pool *pool) {
  if (!pool) {
    for (int64_t seq = 0; seq < rc->jobs; seq++) {
      const int64_t j = claim(rc);
      nadi_probe_result res =
          nadi_probe_run(rc->probes[0], rc->e->seed, j, rc->g[0], &rc->e->stop);
      NADI_TRY(fold_one(rc, seq, j, res, rc->g[0], nadi_probe_value_scale(rc->probes[0])));
      NADI_TRY(nadi_halves_maintain(rc->e, NULL, 1));
      if (rc->converged)
        break;
    }
    return NAD_OK;
  }
  int64_t next = 0; /* sequence number of the next round */
  do {
    rc->probe_seq = next;
    rc->probe_n = rc->jobs - next < rc->width ? rc->jobs - next : rc->width;
    for (int64_t t = 0; t < rc->probe_n; t++)
      rc->j[rc->probe_bank * rc->width + t] = claim(rc);
    if (rc->probe_n > 0)
      nadi_pool_run(pool, round_job, rc);
    else
      round_job(rc, 0);
    if (rc->st != NAD_OK || rc->converged)
      return rc->st;
    /* A shrink the fold left due runs here on every worker, not on worker 0 beside the probes:
     * they would wait for it at the end of the round anyway (ResNet18 at 3×224×224: seconds). */
    NADI_TRY(nadi_halves_maintain(rc->e, pool, rc->width + 1));
    next += rc->probe_n;
    rc->fold_seq = rc->probe_seq;
    rc->fold_n = rc->probe_n;
    rc->fold_bank = rc->probe_bank;
    rc->probe_bank ^= 1;
  } while (rc->fold_n > 0);
  return NAD_OK;
}

int64_t nadi_estimator_jobs(const nad_estimator *e) {
  const int64_t end = e->first_network + e->num_networks;
  int64_t jobs = e->num_networks;
  for (int64_t t = 0; t < e->n_ranges; t++) {
    int64_t lo = e->ranges[t].lo > e->first_network ? e->ranges[t].lo : e->first_network;
    int64_t hi = e->ranges[t].hi < end ? e->ranges[t].hi : end;
    if (lo < hi)
      jobs -= hi - lo;
  }
  return jobs;
}

/* Slots, probes and x0 of a run (rc->width set); NAD_OK or the first failure. */
static nad_status run_alloc(run_ctx *rc, const nadi_plan *plan, float **x0) {
  nad_estimator *e = rc->e;
  const int64_t d = e->d, n_slots = nadi_run_slots(plan->workers);
  *x0 = nadi_alloc((size_t)d, sizeof(float));
  rc->probes = nadi_calloc((size_t)rc->width, sizeof(nadi_probe *));
  rc->g = nadi_calloc((size_t)n_slots, sizeof(double *));
  rc->j = nadi_calloc((size_t)n_slots, sizeof(int64_t));
  rc->res = nadi_calloc((size_t)n_slots, sizeof(nadi_probe_result));
  rc->fscale = nadi_calloc((size_t)n_slots, sizeof(double));
  if (!*x0 || !rc->probes || !rc->g || !rc->j || !rc->res || !rc->fscale)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "run state");
  for (int64_t i = 0; i < n_slots; i++)
    if (!(rc->g[i] = nadi_alloc((size_t)d, sizeof(double))))
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "response slots");
  NADI_TRY(nadi_estimator_eval_point(e, *x0));
  const int data = e->eval_kind == NAD_EVAL_DATA;
  const nadi_probe_cfg cfg = {.mode = e->mode,
                              .step = e->step,
                              .batch = plan->batch,
                              .x0 = data ? NULL : *x0,
                              .points = data ? e->points->x : NULL,
                              .labels = data ? e->points->labels : NULL,
                              .params = e->network_kind == NAD_NETWORK_FIXED ? e->params_fixed
                                                                             : NULL,
                              .output = e->output,
                              .source = e->source,
                              .source_ud = e->source_ud};
  for (int64_t i = 0; i < rc->width && rc->jobs > 0; i++) {
    if (atomic_load(&e->stop) & NADI_STOP_CANCEL) /* creating a large probe takes a while */
      return nadi_fail(NAD_ERR_CANCELLED, "cancelled by nad_estimator_cancel before the first "
                                          "network");
    NADI_TRY(nadi_probe_create(e->g, &cfg, &rc->probes[i]));
  }
  return NAD_OK;
}

static void run_free(run_ctx *rc, const nadi_plan *plan, float *x0) {
  const int64_t n_slots = nadi_run_slots(plan->workers);
  for (int64_t i = 0; rc->probes && i < rc->width; i++)
    nadi_probe_destroy(rc->probes[i]);
  for (int64_t i = 0; rc->g && i < n_slots; i++)
    nadi_free(rc->g[i]);
  nadi_free(rc->probes);
  nadi_free(rc->g);
  nadi_free(rc->j);
  nadi_free(rc->res);
  nadi_free(rc->fscale);
  nadi_free(x0);
  nadi_free(rc->pre);
}

nad_status nadi_estimator_accumulate(nad_estimator *e, const nadi_plan *plan) {
  run_ctx rc;
  memset(&rc, 0, sizeof rc);
  rc.e = e;
  e->finalized = 0; /* results of an earlier finalize (after a load) go stale */
  /* Snapshot of the covered ranges and the number of networks still to compute. */
  rc.n_pre = e->n_ranges;
  rc.pre = nadi_alloc((size_t)(rc.n_pre ? rc.n_pre : 1), sizeof(nadi_range));
  if (!rc.pre)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "run state");
  if (rc.n_pre > 0)
    memcpy(rc.pre, e->ranges, (size_t)rc.n_pre * sizeof(nadi_range));
  rc.jobs = nadi_estimator_jobs(e);
  rc.cursor = skip_covered(&rc, e->first_network);
  rc.total0 = nadi_halves_count(e, 0) + nadi_halves_count(e, 1);
  rc.last_saved = rc.total0;
  /* The plan (memory budget) decides how many networks are probed at once and the batch; one
   * is computed on the calling thread, more on the pool. */
  rc.width = plan->workers > 1 ? plan->workers : 1;
  float *x0 = NULL;
  nadi_pool *pool = NULL;
  /* A resumed run whose count is a check point checks first, as the uninterrupted run did. */
  nad_status st = rc.total0 > 0 ? check_point(&rc, rc.total0) : NAD_OK;
  if (st == NAD_OK && rc.converged)
    rc.jobs = 0;
  if (st == NAD_OK)
    st = run_alloc(&rc, plan, &x0);
  if (st == NAD_OK && rc.jobs > 0 && plan->workers > 1)
    st = nadi_pool_create((int)plan->workers + 1, &pool);
  if (st == NAD_OK && rc.jobs > 0) {
    const int blas_old = nadi_blas_set_threads(1);
    st = run_networks(&rc, pool);
    nadi_blas_set_threads(blas_old);
  }
  nadi_pool_destroy(pool);
  run_free(&rc, plan, x0);

  /* Keep the checkpoint file in step with what was accumulated, also after a cancel or an
   * error: a later run resumes from it. The first error is the one reported. */
  const int64_t done = nadi_halves_count(e, 0) + nadi_halves_count(e, 1);
  if (e->ckpt_path && e->ckpt_every > 0 && done != rc.last_saved && done > 0) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", nad_last_error());
    (void)save_checkpoint(e); /* a failure is recorded, the results are still computed */
    if (st != NAD_OK)
      nadi_fail(st, "%s", msg); /* restore the first message */
  }
  return st;
}

nad_status nadi_estimator_run(nad_estimator *e, const nadi_plan *plan) {
  NADI_TRY(nadi_estimator_accumulate(e, plan));
  return nadi_estimator_finalize(e);
}

/* ---- finalize and convergence ---------------------------------------------------------- */

/* Results: K NADs (all D by default; sketch mode: all L), as floats. */
static int64_t result_k(const nad_estimator *e) {
  if (e->top_k)
    return e->top_k;
  return e->sketch ? e->sketch : e->d;
}

/* Degenerate response (nad_estimator_degenerate): the covariance trace from the spectrum
 * (Σ_f P_c(f) = h·w·tr C_cc, unnormalised DFT) against the dipole's float32 resolution. */
static void check_degenerate(nad_estimator *e) {
  const int64_t hw = e->shape[1] * e->shape[2];
  double trace = 0.0;
  for (int64_t i = 0; i < e->d; i++)
    trace += e->spectrum[i];
  trace /= (double)hw;
  e->trace = trace > 0.0 ? trace : 0.0;
  e->value_scale = e->value_scale_n > 0 ? e->value_scale_sum / (double)e->value_scale_n : 0.0;
  /* float32 outputs of size F differ by multiples of ~FLT_EPSILON·F: dipoles whose spread per
   * coordinate is below NADI_DEGENERATE_ULPS of those steps over 2s are rounding, not response */
  const double res = NADI_DEGENERATE_ULPS * FLT_EPSILON * e->value_scale / (2.0 * e->step);
  e->degenerate = !(trace > 0.0) ||
                  (e->mode == NAD_MODE_DIPOLE && sqrt(e->trace / (double)e->d) <= res);
}

nad_status nadi_estimator_finalize(nad_estimator *e) {
  const int64_t d = e->d, k = result_k(e);
  double *evals = nadi_alloc((size_t)k, sizeof(double));
  double *evecs = nadi_alloc((size_t)(k * d), sizeof(double));
  double *spec = nadi_alloc((size_t)d, sizeof(double));
  double *mean = nadi_alloc((size_t)d, sizeof(double));
  float *nads = nadi_alloc((size_t)(k * d), sizeof(float));
  nad_status st = NAD_OK;
  if (!evals || !evecs || !spec || !mean || !nads)
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "results of %lld NADs of dimension %lld",
                   (long long)k, (long long)d);
  nadi_solution sol = {evals, evecs, spec, mean, {0}, 0.0};
  if (st == NAD_OK) {
    static const int both[2] = {0, 1};
    st = nadi_halves_solve(e, both, 2, k, &sol);
  }
  if (st == NAD_OK) {
    for (int64_t i = 0; i < k * d; i++)
      nads[i] = (float)evecs[i];
    nadi_free(e->evals);
    nadi_free(e->nads);
    nadi_free(e->spectrum);
    nadi_free(e->mean);
    e->evals = evals;
    e->nads = nads;
    e->spectrum = spec;
    e->mean = mean;
    e->k = k;
    e->eig = sol.eig;
    e->sketch_error = sol.sketch_error;
    check_degenerate(e);
    e->finalized = 1;
    nadi_estimator_drop_cache(e);
  } else {
    nadi_free(evals);
    nadi_free(nads);
    nadi_free(spec);
    nadi_free(mean);
  }
  nadi_free(evecs);
  return st;
}

void nadi_estimator_drop_cache(nad_estimator *e) {
  for (int h = 0; h < 2; h++) {
    nadi_free(e->conv_vecs[h]);
    nadi_free(e->conv_spec[h]);
    e->conv_vecs[h] = e->conv_spec[h] = NULL;
  }
  e->conv_k = 0;
}

/* Solve each half for its top kc eigenvectors and its spectrum into the cache. */
static nad_status fill_cache(nad_estimator *e, int64_t kc) {
  const int64_t d = e->d;
  nadi_estimator_drop_cache(e);
  double *evals = nadi_alloc((size_t)kc, sizeof(double));
  nad_status st = evals ? NAD_OK : nadi_fail(NAD_ERR_OUT_OF_MEMORY, "convergence workspace");
  for (int h = 0; h < 2 && st == NAD_OK; h++) {
    e->conv_vecs[h] = nadi_alloc((size_t)(kc * d), sizeof(double));
    e->conv_spec[h] = nadi_alloc((size_t)d, sizeof(double));
    if (!e->conv_vecs[h] || !e->conv_spec[h]) {
      st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "convergence workspace");
      break;
    }
    nadi_solution sol = {evals, e->conv_vecs[h], e->conv_spec[h], NULL, {0}, 0.0};
    st = nadi_halves_solve(e, &h, 1, kc, &sol);
  }
  nadi_free(evals);
  if (st == NAD_OK)
    e->conv_k = kc;
  else
    nadi_estimator_drop_cache(e);
  return st;
}

/* The thresholds of nad_estimator_converged (nad.h): the best overlap over sizes k..1.5k for
 * k = min(10, K) and min(50, K) (a cluster of near-equal eigenvalues that straddles k would
 * cap the overlap at k whatever the networks: the window reaches the cluster's edge), and the
 * log-spectrum correlation. */
#define CONV_K1 10
#define CONV_K2 50
#define CONV_OVERLAP1 0.9
#define CONV_OVERLAP2 0.8
#define CONV_SPECTRUM_CORR 0.99

static int64_t window_end(int64_t k, int64_t kmax) {
  const int64_t hi = k + k / 2;
  return hi < kmax ? hi : kmax;
}

/* max over kk in [k, window_end(k)] of the halves' overlap at kk (the cache holds enough). */
static nad_status best_overlap(nad_estimator *e, int64_t k, int64_t kmax, double *ov,
                               double *corr) {
  *ov = 0.0;
  for (int64_t kk = k; kk <= window_end(k, kmax); kk++) {
    double o = 0.0;
    NADI_TRY(nadi_estimator_convergence(e, kk, &o, corr));
    if (o > *ov)
      *ov = o;
  }
  return NAD_OK;
}

nad_status nadi_estimator_converged(nad_estimator *e, int *converged, double *overlaps,
                                    double *corr) {
  const int64_t kmax = result_k(e);
  const int64_t k1 = kmax < CONV_K1 ? kmax : CONV_K1, k2 = kmax < CONV_K2 ? kmax : CONV_K2;
  double ov1 = 0.0, ov2 = 0.0, c = 0.0, unused = 0.0;
  nadi_estimator_drop_cache(e); /* the halves may have grown since the last solve */
  /* One BLAS thread, as during a run: the same bits wherever the criterion is evaluated (in
   * the run, at a resume, by the caller afterwards), so a verdict at a threshold cannot flip.
   * One solve of the largest size serves every overlap. */
  const int blas_old = nadi_blas_set_threads(1);
  nad_status st = nadi_estimator_convergence(e, window_end(k2, kmax), &unused, &c);
  if (st == NAD_OK)
    st = best_overlap(e, k1, kmax, &ov1, &c);
  if (st == NAD_OK)
    st = best_overlap(e, k2, kmax, &ov2, &c);
  nadi_blas_set_threads(blas_old);
  NADI_TRY(st);
  *converged = ov1 >= CONV_OVERLAP1 && ov2 >= CONV_OVERLAP2 && c >= CONV_SPECTRUM_CORR;
  if (overlaps) {
    overlaps[0] = ov1;
    overlaps[1] = ov2;
  }
  if (corr)
    *corr = c;
  return NAD_OK;
}

nad_status nadi_estimator_convergence(const nad_estimator *ce, int64_t k, double *overlap,
                                      double *spectrum_corr) {
  /* Logically const: only the cache changes (one thread uses an estimator at a time). */
  nad_estimator *e = (nad_estimator *)ce;
  const int64_t d = e->d;
  for (int h = 0; h < 2; h++)
    if (nadi_halves_count(e, h) < 2)
      return nadi_fail(NAD_ERR_MISUSE,
                       "convergence needs at least 2 networks in each half (even / odd network "
                       "index); the %s half has %lld",
                       h ? "odd" : "even", (long long)nadi_halves_count(e, h));
  if (e->conv_k < k) {
    /* At least the k = 10 that nad estimate asks next, so that one solve per half serves both. */
    const int64_t kmax = e->sketch ? e->sketch : d;
    int64_t kc = k > 10 ? k : 10;
    if (kc > kmax)
      kc = kmax;
    NADI_TRY(fill_cache(e, kc));
  }
  /* The top k of a larger solve are its first k rows (descending). */
  const double ov = nadi_overlap_orthonormal(e->conv_vecs[0], e->conv_vecs[1], k, d);
  if (ov < 0.0)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "convergence workspace");
  *overlap = ov;
  nad_status st = nadi_log_spectrum_corr(e->conv_spec[0], e->conv_spec[1], d, spectrum_corr);
  return st;
}
