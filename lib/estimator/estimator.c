/* The estimator's run loop, finalize and convergence.
 *
 * Threads. With NUM_THREADS = 1 the calling thread probes and folds each network itself. With
 * T > 1, T workers each own a probe (executor, parameters, input chunk) and compute whole
 * networks; the calling thread folds the responses into the accumulators strictly in network
 * order through a ring of response slots, then calls the progress callback and saves
 * checkpoints, never holding the lock while it does. BLAS runs single-threaded during the
 * probing: the workers already use the cores, the probe's GEMMs are too small to gain from
 * BLAS threads (measured: LeNet is faster with one BLAS thread), and a multi-threaded GEMM
 * may round differently. So each network's response depends only on (seed, j), the fold
 * order is fixed, and the result is bit-for-bit the same for every thread count. The
 * eigensolve after the run uses BLAS's own threads again.
 *
 * A slot holds network seq % R; a worker may claim sequence number seq only once the slot's
 * previous occupant (seq − R) has been folded, so at most R responses wait. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/threads.h"
#include "estimator/run.h"
#include "data/data.h"

/* ---- run ----------------------------------------------------------------------------------- */

enum { SLOT_FREE = 0, SLOT_READY = 1 };

typedef struct slot {
  int state;
  int64_t seq, j;
  nadi_probe_result res;
  double *g; /* d */
} slot;

typedef struct run_ctx {
  nad_estimator *e;
  pthread_mutex_t lock;
  pthread_cond_t ready; /* a slot became READY */
  pthread_cond_t freed; /* consumed advanced, or stop */
  atomic_int stop;
  int64_t jobs;     /* networks to compute in this run */
  int64_t next_seq; /* next sequence number to claim */
  int64_t cursor;   /* network index of next_seq */
  int64_t end;      /* first_network + num_networks */
  int64_t consumed; /* sequence numbers folded */
  int64_t n_slots;
  slot *slots;
  /* ranges covered before the run: workers read this copy, never e->ranges (the calling
   * thread appends to it while they run). */
  nadi_range *pre;
  int64_t n_pre;
} run_ctx;

typedef struct worker {
  run_ctx *rc;
  nadi_probe *probe;
  pthread_t tid;
  int started;
} worker;

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

/* Claim the next network (caller holds the lock); returns its sequence number. */
static int64_t claim(run_ctx *rc, int64_t *j) {
  int64_t seq = rc->next_seq++;
  *j = rc->cursor;
  rc->cursor = skip_covered(rc, rc->cursor + 1);
  return seq;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  run_ctx *rc = w->rc;
  for (;;) {
    pthread_mutex_lock(&rc->lock);
    while (!atomic_load(&rc->stop) && rc->next_seq < rc->jobs &&
           rc->next_seq >= rc->consumed + rc->n_slots)
      pthread_cond_wait(&rc->freed, &rc->lock);
    if (atomic_load(&rc->stop) || rc->next_seq >= rc->jobs) {
      pthread_mutex_unlock(&rc->lock);
      return NULL;
    }
    int64_t j;
    int64_t seq = claim(rc, &j);
    pthread_mutex_unlock(&rc->lock);
    slot *s = &rc->slots[seq % rc->n_slots];
    nadi_probe_result res = nadi_probe_run(w->probe, rc->e->seed, j, s->g, &rc->stop);
    pthread_mutex_lock(&rc->lock);
    s->seq = seq;
    s->j = j;
    s->res = res;
    s->state = SLOT_READY;
    pthread_cond_broadcast(&rc->ready);
    pthread_mutex_unlock(&rc->lock);
  }
}

/* Fold one response (calling thread only). */
static nad_status fold(nad_estimator *e, int64_t j, const double *g) {
  NADI_TRY(nadi_halves_push(e, j, g));
  return nadi_ranges_add(e, j, j + 1);
}


/* A checkpoint save that fails (a full disk, a vanished directory) does not stop the run: the
 * networks computed are worth more than the file, which keeps its previous content (atomic
 * replacement). The failure is counted and its message kept for nad_estimator_checkpoint_error
 * (issue 11). */
static nad_status save_checkpoint(nad_estimator *e) {
  nad_status st = nadi_checkpoint_save(e, e->ckpt_path);
  if (st != NAD_OK) {
    e->ckpt_failures++;
    snprintf(e->ckpt_error, sizeof e->ckpt_error, "%s", nad_last_error());
  }
  return st;
}

static nad_status run_loop(run_ctx *rc, worker *ws, int64_t n_workers, int64_t total0,
                           int64_t *last_saved) {
  nad_estimator *e = rc->e;
  for (int64_t seq = 0; seq < rc->jobs; seq++) {
    slot *s = &rc->slots[seq % rc->n_slots];
    if (n_workers == 0) {
      int64_t j;
      claim(rc, &j);
      s->j = j;
      s->res = nadi_probe_run(ws[0].probe, e->seed, j, s->g, &rc->stop);
    } else {
      pthread_mutex_lock(&rc->lock);
      while (!(s->state == SLOT_READY && s->seq == seq))
        pthread_cond_wait(&rc->ready, &rc->lock);
      pthread_mutex_unlock(&rc->lock);
    }
    if (s->res != NADI_PROBE_OK)
      return nadi_fail(NAD_ERR_NUMERICAL,
                       "network %lld gave a non-finite response (NaN or Inf); %lld networks "
                       "before it are accumulated",
                       (long long)s->j, (long long)(total0 + seq));
    NADI_TRY(fold(e, s->j, s->g));
    if (n_workers > 0) {
      pthread_mutex_lock(&rc->lock);
      s->state = SLOT_FREE;
      rc->consumed = seq + 1;
      pthread_cond_broadcast(&rc->freed);
      pthread_mutex_unlock(&rc->lock);
    }
    const int64_t done = total0 + seq + 1;
    if ((e->progress && e->progress(e->progress_ud, done, total0 + rc->jobs) != 0) ||
        nadi_guard_doomed(&e->guard)) /* destroyed from the callback or another thread */
      return nadi_fail(NAD_ERR_CANCELLED,
                       "cancelled by the progress callback after %lld networks (the "
                       "accumulated networks can still be saved)",
                       (long long)done);
    if (e->ckpt_path && e->ckpt_every > 0 && (seq + 1) % e->ckpt_every == 0 &&
        save_checkpoint(e) == NAD_OK)
      *last_saved = done;
  }
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

nad_status nadi_estimator_accumulate(nad_estimator *e, const nadi_plan *plan) {
  const int64_t d = e->d;
  run_ctx rc;
  memset(&rc, 0, sizeof rc);
  rc.e = e;
  e->finalized = 0; /* results of an earlier finalize (after a load) go stale */
  rc.end = e->first_network + e->num_networks;
  /* Snapshot of the covered ranges and the number of networks still to compute. */
  rc.n_pre = e->n_ranges;
  rc.pre = nadi_alloc((size_t)(rc.n_pre ? rc.n_pre : 1), sizeof(nadi_range));
  if (!rc.pre)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "run state");
  if (rc.n_pre > 0)
    memcpy(rc.pre, e->ranges, (size_t)rc.n_pre * sizeof(nadi_range));
  rc.jobs = nadi_estimator_jobs(e);
  rc.cursor = skip_covered(&rc, e->first_network);
  const int64_t total0 = nadi_halves_count(e, 0) + nadi_halves_count(e, 1);

  /* The plan (memory budget) decides how many networks are probed at once and the batch. */
  int64_t n_workers = plan->workers > 1 ? plan->workers : 0; /* one: computed inline */
  int64_t n_probes = n_workers ? n_workers : 1;
  rc.n_slots = n_workers ? 2 * n_workers + 2 : 1;

  nad_status st = NAD_OK;
  float *x0 = nadi_alloc((size_t)d, sizeof(float));
  worker *ws = nadi_calloc((size_t)n_probes, sizeof(worker));
  rc.slots = nadi_calloc((size_t)rc.n_slots, sizeof(slot));
  if (!x0 || !ws || !rc.slots)
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "run state");
  for (int64_t i = 0; st == NAD_OK && i < rc.n_slots; i++)
    if (!(rc.slots[i].g = nadi_alloc((size_t)d, sizeof(double))))
      st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "response slots");
  if (st == NAD_OK)
    st = nadi_estimator_eval_point(e, x0);
  const int data = e->eval_kind == NAD_EVAL_DATA;
  const nadi_probe_cfg cfg = {.mode = e->mode,
                              .step = e->step,
                              .batch = plan->batch,
                              .x0 = data ? NULL : x0,
                              .points = data ? e->points->x : NULL,
                              .labels = data ? e->points->labels : NULL,
                              .params = e->network_kind == NAD_NETWORK_FIXED ? e->params_fixed
                                                                             : NULL,
                              .output = e->output};
  for (int64_t i = 0; st == NAD_OK && i < n_probes && rc.jobs > 0; i++) {
    ws[i].rc = &rc;
    st = nadi_probe_create(e->g, &cfg, &ws[i].probe);
  }

  int64_t last_saved = total0;
  int blas_old = -1, sync_ok = 0;
  if (st == NAD_OK && rc.jobs > 0) {
    blas_old = nadi_blas_set_threads(1);
    if (n_workers > 0) {
      pthread_mutex_init(&rc.lock, NULL);
      pthread_cond_init(&rc.ready, NULL);
      pthread_cond_init(&rc.freed, NULL);
      sync_ok = 1;
      for (int64_t i = 0; i < n_workers; i++) {
        if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0) {
          st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "cannot start worker thread %lld", (long long)i);
          break;
        }
        ws[i].started = 1;
      }
    }
    if (st == NAD_OK)
      st = run_loop(&rc, ws, n_workers, total0, &last_saved);
    if (n_workers > 0) {
      pthread_mutex_lock(&rc.lock);
      atomic_store(&rc.stop, 1);
      pthread_cond_broadcast(&rc.freed);
      pthread_mutex_unlock(&rc.lock);
      for (int64_t i = 0; i < n_workers; i++)
        if (ws[i].started)
          pthread_join(ws[i].tid, NULL);
    }
    nadi_blas_set_threads(blas_old);
  }
  if (sync_ok) {
    pthread_mutex_destroy(&rc.lock);
    pthread_cond_destroy(&rc.ready);
    pthread_cond_destroy(&rc.freed);
  }
  for (int64_t i = 0; ws && i < n_probes; i++)
    nadi_probe_destroy(ws[i].probe);
  for (int64_t i = 0; rc.slots && i < rc.n_slots; i++)
    nadi_free(rc.slots[i].g);
  nadi_free(rc.slots);
  nadi_free(ws);
  nadi_free(x0);
  nadi_free(rc.pre);

  /* Keep the checkpoint file in step with what was accumulated, also after a cancel or an
   * error: a later run resumes from it. The first error is the one reported. */
  const int64_t done = nadi_halves_count(e, 0) + nadi_halves_count(e, 1);
  if (e->ckpt_path && e->ckpt_every > 0 && done != last_saved && done > 0) {
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
