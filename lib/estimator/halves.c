/* The two half accumulators of a run (networks of even / odd index), exact or sketched, and what
 * is computed from them: the run loop folds into them, finalize and the convergence check solve
 * them, checkpoints save them. Keeping the two kinds behind these few calls leaves the run loop,
 * the façade and the checkpoint header unaware of which kind is in use.
 *
 * Exact (NAD_OPT_SKETCH = 0): accum.c's scatter per half (8·D² bytes each); finalize combines
 * them into a covariance, takes its spectrum (spectrum.c) and its top K (topk.c: block Krylov or
 * dsyevr, whichever is faster for (D, K)).
 * Sketched (NAD_OPT_SKETCH = L): a Frequent Directions sketch per half (sketch.c, O(L·D)) and the
 * streaming exact spectrum per half (spectrum_stream.c, O(D)); finalize merges the sketches and
 * takes the top K <= L of the merged one. */
#include <string.h>

#include "estimator/run.h"

int nadi_halves_ready(const nad_estimator *e) {
  return e->sketch ? e->sk[0].d != 0 : e->half[0].d != 0;
}

nad_status nadi_halves_init(nad_estimator *e) {
  if (nadi_halves_ready(e))
    return NAD_OK;
  nad_status st = NAD_OK;
  for (int h = 0; h < 2 && st == NAD_OK; h++) {
    if (e->sketch) {
      st = nadi_sketch_init(&e->sk[h], e->d, e->sketch);
      if (st == NAD_OK)
        st = nadi_specacc_init(&e->sp[h], e->shape[0], e->shape[1], e->shape[2]);
    } else {
      st = nadi_acc_init(&e->half[h], e->d);
    }
  }
  if (st != NAD_OK)
    nadi_halves_free(e);
  return st;
}

void nadi_halves_free(nad_estimator *e) {
  for (int h = 0; h < 2; h++) {
    nadi_acc_free(&e->half[h]);
    nadi_sketch_free(&e->sk[h]);
    nadi_specacc_free(&e->sp[h]);
  }
}

int64_t nadi_halves_count(const nad_estimator *e, int h) {
  if (!nadi_halves_ready(e))
    return 0;
  return e->sketch ? nadi_sketch_count(&e->sk[h]) : nadi_acc_count(&e->half[h]);
}

nad_status nadi_halves_push(nad_estimator *e, int64_t j, const double *g) {
  const int h = (int)(j & 1);
  if (!e->sketch) {
    nadi_acc_push(&e->half[h], g);
    return NAD_OK;
  }
  nadi_specacc_push(&e->sp[h], g);
  return nadi_sketch_push(&e->sk[h], g);
}

nad_status nadi_halves_maintain(nad_estimator *e, nadi_pool *pool, int n_workers) {
  for (int h = 0; h < 2 && e->sketch && nadi_halves_ready(e); h++)
    NADI_TRY(nadi_sketch_maintain(&e->sk[h], pool, n_workers));
  return NAD_OK;
}

/* ---- solving ------------------------------------------------------------------------------- */

static nad_status solve_exact(const nad_estimator *e, const int *which, int n_which, int64_t k,
                              nadi_solution *out) {
  const int64_t d = e->d;
  nadi_acc work;
  NADI_TRY(nadi_acc_init(&work, d));
  const nadi_acc *parts[2];
  for (int i = 0; i < n_which; i++)
    parts[i] = &e->half[which[i]];
  nadi_acc_combine(&work, parts, n_which);
  nad_status st = NAD_OK;
  if (work.n < 2)
    st = nadi_fail(NAD_ERR_MISUSE, "a covariance needs at least 2 networks (have %lld)",
                   (long long)work.n);
  if (st == NAD_OK) {
    if (out->mean)
      memcpy(out->mean, work.mean, (size_t)d * sizeof(double));
    nadi_acc_covariance(&work);
    if (out->spectrum)
      st = nadi_spectrum_cov(work.m2, e->shape[0], e->shape[1], e->shape[2], out->spectrum);
  }
  if (st == NAD_OK) /* destroys work.m2 */
    st = nadi_eig_cov(work.m2, d, k, out->evals, out->evecs, &out->eig);
  nadi_acc_free(&work);
  return st;
}

static nad_status solve_sketch(const nad_estimator *e, const int *which, int n_which, int64_t k,
                               nadi_solution *out) {
  nadi_sketch work;
  nadi_specacc spec;
  memset(&spec, 0, sizeof spec);
  NADI_TRY(nadi_sketch_init(&work, e->d, e->sketch));
  nad_status st = NAD_OK;
  const nadi_sketch *parts[2];
  for (int i = 0; i < n_which; i++)
    parts[i] = &e->sk[which[i]];
  st = nadi_sketch_combine(&work, parts, n_which);
  if (st == NAD_OK && work.n < 2)
    st = nadi_fail(NAD_ERR_MISUSE, "a covariance needs at least 2 networks (have %lld)",
                   (long long)work.n);
  if (st == NAD_OK && out->spectrum) {
    st = nadi_specacc_init(&spec, e->shape[0], e->shape[1], e->shape[2]);
    for (int i = 0; i < n_which && st == NAD_OK; i++)
      nadi_specacc_merge(&spec, &e->sp[which[i]]);
    if (st == NAD_OK)
      st = nadi_specacc_spectrum(&spec, out->spectrum);
  }
  if (st == NAD_OK && out->mean)
    memcpy(out->mean, work.mean, (size_t)e->d * sizeof(double));
  if (st == NAD_OK)
    st = nadi_sketch_top(&work, k, out->evals, out->evecs);
  if (st == NAD_OK) {
    out->eig.method = NADI_EIG_SKETCH;
    out->sketch_error = work.shrunk / (double)(work.n - 1);
  }
  nadi_specacc_free(&spec);
  nadi_sketch_free(&work);
  return st;
}

nad_status nadi_halves_solve(const nad_estimator *e, const int *which, int n_which, int64_t k,
                             nadi_solution *out) {
  memset(&out->eig, 0, sizeof out->eig);
  out->sketch_error = 0.0;
  return e->sketch ? solve_sketch(e, which, n_which, k, out)
                   : solve_exact(e, which, n_which, k, out);
}
