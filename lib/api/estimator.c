/* Public façade of the NAD estimator: handle lifecycle, its options, argument validation and
 * call-order rules. The work is in lib/estimator/. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "estimator/run.h"
#include "data/data.h"
#include "io/io.h"

/* ---- options (rows in lib/api/options.c) -------------------------------------------------- */

static int64_t accumulated(const nad_estimator *e) {
  return nadi_halves_count(e, 0) + nadi_halves_count(e, 1);
}

/* Common checks of the setters; *oi receives the option's row. */
static nad_status check_set(const nad_estimator *e, nad_option o, int want_int,
                            const nadi_option_info **oi) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "estimator is NULL");
  NADI_TRY(nadi_option_lookup(o, NAD_OWNER_ESTIMATOR, want_int, "nad_estimator_set", oi));
  NADI_CHECK(!e->ran, NAD_ERR_MISUSE, "option '%s': options are frozen once nad_estimator_run "
                                      "was called", (*oi)->name);
  NADI_CHECK(!(*oi)->defines_run || accumulated(e) == 0, NAD_ERR_MISUSE,
             "option '%s' defines the run and networks are already accumulated (from a "
             "checkpoint): set it before nad_estimator_load",
             (*oi)->name);
  return NAD_OK;
}

nad_status nad_estimator_set_int(nad_estimator *e, nad_option o, int64_t v) {
  const nadi_option_info *oi = NULL;
  NADI_TRY(check_set(e, o, 1, &oi));
  NADI_TRY(nadi_option_check_value(oi, (double)v));
  switch (o) {
  case NAD_OPT_NUM_NETWORKS: e->num_networks = v; break;
  case NAD_OPT_SEED: e->seed = (uint64_t)v; break;
  case NAD_OPT_NUM_THREADS: e->num_threads = v; break;
  case NAD_OPT_TOP_K:
    NADI_CHECK(v <= e->d, NAD_ERR_INVALID_ARG, "option 'top_k' = %lld exceeds D = %lld",
               (long long)v, (long long)e->d);
    NADI_CHECK(!e->sketch || v <= e->sketch, NAD_ERR_INVALID_ARG,
               "option 'top_k' = %lld exceeds the sketch size L = %lld (NAD_OPT_SKETCH): a "
               "sketch of L rows gives at most L NADs",
               (long long)v, (long long)e->sketch);
    e->top_k = v;
    break;
  case NAD_OPT_SKETCH:
    NADI_CHECK(v <= e->d, NAD_ERR_INVALID_ARG,
               "option 'sketch' = %lld exceeds D = %lld: a sketch larger than the input saves "
               "nothing (use the exact mode, sketch = 0)",
               (long long)v, (long long)e->d);
    NADI_CHECK(v == 0 || v >= e->top_k, NAD_ERR_INVALID_ARG,
               "option 'sketch' = %lld is smaller than top_k = %lld: a sketch of L rows gives at "
               "most L NADs",
               (long long)v, (long long)e->top_k);
    e->sketch = v;
    break;
  case NAD_OPT_BATCH: e->batch = v; break;
  case NAD_OPT_MODE: e->mode = (int)v; break;
  case NAD_OPT_EVAL_POINT: e->eval_kind = (int)v; break;
  case NAD_OPT_FIRST_NETWORK: e->first_network = v; break;
  case NAD_OPT_MEMORY: e->memory = v; break;
  case NAD_OPT_CONVERGE_EVERY: e->converge_every = v; break;
  case NAD_OPT_NETWORK: e->network_kind = (int)v; break;
  case NAD_OPT_OUTPUT: {
    const int64_t k = nadi_graph_out_size(e->g);
    NADI_CHECK(v < k, NAD_ERR_INVALID_ARG,
               "option 'output' = %lld: the architecture has %lld outputs (0..%lld, or -1 for "
               "each point's label)",
               (long long)v, (long long)k, (long long)(k - 1));
    e->output = v;
    break;
  }
  default: break;
  }
  return NAD_OK;
}

nad_status nad_estimator_set_double(nad_estimator *e, nad_option o, double v) {
  const nadi_option_info *oi = NULL;
  NADI_TRY(check_set(e, o, 0, &oi));
  NADI_TRY(nadi_option_check_value(oi, v));
  if (o == NAD_OPT_STEP)
    e->step = v;
  else if (o == NAD_OPT_CONVERGE_GROWTH)
    e->converge_growth = v;
  return NAD_OK;
}

static nad_status check_get(const nad_estimator *e, nad_option o, int want_int, const void *v) {
  NADI_CHECK(e && v, NAD_ERR_INVALID_ARG, "estimator or output is NULL");
  const nadi_option_info *oi = NULL;
  return nadi_option_lookup(o, NAD_OWNER_ESTIMATOR, want_int, "nad_estimator_get", &oi);
}

nad_status nad_estimator_get_int(const nad_estimator *e, nad_option o, int64_t *v) {
  NADI_TRY(check_get(e, o, 1, v));
  switch (o) {
  case NAD_OPT_NUM_NETWORKS: *v = e->num_networks; break;
  case NAD_OPT_SEED: *v = (int64_t)e->seed; break;
  case NAD_OPT_NUM_THREADS: *v = e->num_threads; break;
  case NAD_OPT_TOP_K: *v = e->top_k; break;
  case NAD_OPT_BATCH: *v = e->batch; break;
  case NAD_OPT_MODE: *v = e->mode; break;
  case NAD_OPT_EVAL_POINT: *v = e->eval_kind; break;
  case NAD_OPT_FIRST_NETWORK: *v = e->first_network; break;
  case NAD_OPT_MEMORY: *v = e->memory; break;
  case NAD_OPT_NETWORK: *v = e->network_kind; break;
  case NAD_OPT_OUTPUT: *v = e->output; break;
  case NAD_OPT_SKETCH: *v = e->sketch; break;
  case NAD_OPT_CONVERGE_EVERY: *v = e->converge_every; break;
  default: break;
  }
  return NAD_OK;
}

nad_status nad_estimator_get_double(const nad_estimator *e, nad_option o, double *v) {
  NADI_TRY(check_get(e, o, 0, v));
  *v = o == NAD_OPT_CONVERGE_GROWTH ? e->converge_growth : e->step;
  return NAD_OK;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

nad_status nad_estimator_create(const nad_arch *a, nad_estimator **out) {
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "nad_estimator_create: out is NULL");
  *out = NULL;
  NADI_CHECK(a && a->g, NAD_ERR_INVALID_ARG, "nad_estimator_create: architecture is NULL");
  const nadi_graph *g = a->g;
  int64_t d = nadi_graph_in_size(g);
  /* The exact mode's bound (D <= NADI_EXACT_MAX_D) is checked when its accumulators are made:
   * the sketch mode has no D×D matrix. BLAS dimensions are 32-bit ints. */
  NADI_CHECK(d >= 1 && d <= NADI_SKETCH_MAX_D, NAD_ERR_UNSUPPORTED,
             "input dimension D = %lld is not supported by the estimator (1 <= D <= %d)",
             (long long)d, NADI_SKETCH_MAX_D);
  NADI_CHECK(nadi_graph_out_size(g) >= 1, NAD_ERR_SHAPE, "the architecture has no output");
  nad_estimator *e = calloc(1, sizeof *e);
  NADI_CHECK(e, NAD_ERR_OUT_OF_MEMORY, "nad_estimator_create: out of memory");
  e->arch = nadi_arch_retain(a);
  e->g = a->g;
  e->arch_name = a->name;
  memcpy(e->shape, g->in_shape, sizeof e->shape);
  e->d = d;
  e->num_networks = 1000;
  e->seed = 0;
  e->num_threads = 1;
  e->top_k = 0;
  e->batch = 256;
  e->mode = NAD_MODE_DIPOLE;
  e->eval_kind = NAD_EVAL_NORMAL;
  e->first_network = 0;
  e->step = 100.0;
  e->converge_growth = NADI_CONVERGE_GROWTH_DEFAULT;
  *out = e;
  return NAD_OK;
}

static void estimator_free(nad_estimator *e) {
  nadi_halves_free(e);
  nadi_estimator_drop_cache(e);
  free(e->ranges);
  nadi_free(e->x0_user);
  nadi_free(e->params_fixed);
  nadi_dataset_release(e->points);
  free(e->ckpt_path);
  free(e->run_record);
  nadi_free(e->evals);
  nadi_free(e->nads);
  nadi_free(e->spectrum);
  nadi_free(e->mean);
  nadi_arch_release(e->arch);
  free(e);
}

/* Deferred while a call runs (lib/core/guard.h): the call frees it when it returns. */
void nad_estimator_destroy(nad_estimator *e) {
  if (e && nadi_guard_destroy(&e->guard))
    estimator_free(e);
}

nad_status nad_estimator_set_eval_point(nad_estimator *e, const float *x0, size_t len) {
  NADI_CHECK(e && x0, NAD_ERR_INVALID_ARG, "nad_estimator_set_eval_point: NULL argument");
  NADI_CHECK_LEN("nad_estimator_set_eval_point", "x0 (D = c·h·w)", len, e->d);
  NADI_CHECK(!e->ran, NAD_ERR_MISUSE, "the evaluation point is frozen once the estimator ran");
  NADI_CHECK(accumulated(e) == 0, NAD_ERR_MISUSE,
             "the evaluation point defines the run and networks are already accumulated");
  for (size_t i = 0; i < len; i++)
    NADI_CHECK(isfinite(x0[i]), NAD_ERR_INVALID_ARG,
               "nad_estimator_set_eval_point: x0[%zu] is not finite", i);
  if (!e->x0_user) {
    e->x0_user = nadi_alloc(len, sizeof(float));
    NADI_CHECK(e->x0_user, NAD_ERR_OUT_OF_MEMORY, "evaluation point");
  }
  memcpy(e->x0_user, x0, len * sizeof(float));
  e->eval_kind = NAD_EVAL_USER;
  return NAD_OK;
}

nad_status nad_estimator_set_network(nad_estimator *e, const float *params, size_t len) {
  NADI_CHECK(e && params, NAD_ERR_INVALID_ARG, "nad_estimator_set_network: NULL argument");
  const int64_t np = e->g->n_params;
  NADI_CHECK(len == (size_t)np, NAD_ERR_SHAPE,
             "nad_estimator_set_network: %zu parameters given, architecture '%s' has %lld", len,
             e->arch_name, (long long)np);
  NADI_CHECK(!e->ran, NAD_ERR_MISUSE, "the network is frozen once the estimator ran");
  NADI_CHECK(accumulated(e) == 0, NAD_ERR_MISUSE,
             "the network defines the run and samples are already accumulated: set it before "
             "nad_estimator_load");
  for (size_t i = 0; i < len; i++)
    NADI_CHECK(isfinite(params[i]), NAD_ERR_INVALID_ARG,
               "nad_estimator_set_network: params[%zu] is not finite", i);
  if (!e->params_fixed) {
    e->params_fixed = nadi_alloc(len, sizeof(float));
    NADI_CHECK(e->params_fixed, NAD_ERR_OUT_OF_MEMORY, "fixed network (%zu parameters)", len);
  }
  memcpy(e->params_fixed, params, len * sizeof(float));
  e->params_hash = nadi_fnv(NADI_FNV0, params, len * sizeof(float));
  e->network_kind = NAD_NETWORK_FIXED;
  return NAD_OK;
}

nad_status nad_estimator_set_eval_data(nad_estimator *e, const nad_dataset *points) {
  NADI_CHECK(e && points, NAD_ERR_INVALID_ARG, "nad_estimator_set_eval_data: NULL argument");
  NADI_CHECK(points->c == e->shape[0] && points->h == e->shape[1] && points->w == e->shape[2],
             NAD_ERR_SHAPE,
             "nad_estimator_set_eval_data: the points are %lldx%lldx%lld, the architecture takes "
             "%lldx%lldx%lld",
             (long long)points->c, (long long)points->h, (long long)points->w,
             (long long)e->shape[0], (long long)e->shape[1], (long long)e->shape[2]);
  NADI_CHECK(!e->ran, NAD_ERR_MISUSE, "the evaluation points are frozen once the estimator ran");
  NADI_CHECK(accumulated(e) == 0, NAD_ERR_MISUSE,
             "the evaluation points define the run and samples are already accumulated: set "
             "them before nad_estimator_load");
  /* The hash stands for the points in checkpoints: shape, samples and labels. */
  const int64_t shape[4] = {points->n, points->c, points->h, points->w};
  uint64_t h = nadi_fnv(NADI_FNV0, shape, sizeof shape);
  h = nadi_fnv(h, points->x, (size_t)(points->n * points->d) * sizeof(float));
  h = nadi_fnv(h, points->labels, (size_t)points->n * sizeof(int32_t));
  nadi_dataset_release(e->points);
  e->points = nadi_dataset_retain(points);
  e->points_hash = h;
  e->eval_kind = NAD_EVAL_DATA;
  return NAD_OK;
}

nad_status nad_estimator_set_param_source(nad_estimator *e, nad_param_fn fn, void *user_data,
                                          const char *id) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "estimator is NULL");
  NADI_CHECK(!fn || (id && id[0]), NAD_ERR_INVALID_ARG,
             "nad_estimator_set_param_source: a source needs a non-empty id");
  NADI_CHECK(!e->ran, NAD_ERR_MISUSE, "the parameter source is frozen once the estimator ran");
  NADI_CHECK(accumulated(e) == 0, NAD_ERR_MISUSE,
             "the parameter source defines the run and samples are already accumulated: set it "
             "before nad_estimator_load");
  e->source = fn;
  e->source_ud = fn ? user_data : NULL;
  e->source_hash = fn ? nadi_fnv(NADI_FNV0, id, strlen(id)) : 0;
  return NAD_OK;
}

nad_status nad_estimator_set_progress(nad_estimator *e, nad_progress_fn fn, void *user_data) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "estimator is NULL");
  e->progress = fn;
  e->progress_ud = fn ? user_data : NULL;
  return NAD_OK;
}

const char *nad_estimator_checkpoint_error(const nad_estimator *e, int64_t *failures) {
  if (failures)
    *failures = e ? e->ckpt_failures : 0;
  return e && e->ckpt_failures > 0 ? e->ckpt_error : "";
}

nad_status nad_estimator_set_checkpoint(nad_estimator *e, const char *path,
                                        int64_t every_n_networks) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "estimator is NULL");
  NADI_CHECK(!path || every_n_networks >= 1, NAD_ERR_INVALID_ARG,
             "nad_estimator_set_checkpoint: every_n_networks = %lld, need >= 1",
             (long long)every_n_networks);
  NADI_CHECK(!e->ran, NAD_ERR_MISUSE, "nad_estimator_set_checkpoint: the estimator already ran");
  char *copy = NULL;
  if (path) {
    NADI_CHECK(path[0] != '\0', NAD_ERR_INVALID_ARG, "checkpoint path is empty");
    copy = strdup(path);
    NADI_CHECK(copy, NAD_ERR_OUT_OF_MEMORY, "checkpoint path");
  }
  free(e->ckpt_path);
  e->ckpt_path = copy;
  e->ckpt_every = path ? every_n_networks : 0;
  return NAD_OK;
}

/* The accumulators these settings need can exist (before the memory plan sizes them). */
static nad_status check_acc(const nad_estimator *e) {
  NADI_CHECK(e->sketch || e->d <= NADI_EXACT_MAX_D, NAD_ERR_UNSUPPORTED,
             "input dimension D = %lld is too large for the exact estimator (D <= %d: its "
             "covariance takes 8·D² bytes and LAPACK indexes D² with 32-bit ints): use the "
             "sketching mode (NAD_OPT_SKETCH, nad estimate --sketch L)",
             (long long)e->d, NADI_EXACT_MAX_D);
  NADI_CHECK(!e->sketch || e->top_k <= e->sketch, NAD_ERR_INVALID_ARG,
             "top_k = %lld exceeds the sketch size L = %lld", (long long)e->top_k,
             (long long)e->sketch);
  return NAD_OK;
}

static nad_status ensure_acc(nad_estimator *e) {
  NADI_TRY(check_acc(e));
  return nadi_halves_init(e);
}

/* The settings of a fixed network / data points fit together and the samples exist. */
static nad_status check_samples(const nad_estimator *e) {
  NADI_CHECK(e->network_kind != NAD_NETWORK_FIXED || e->params_fixed, NAD_ERR_MISUSE,
             "NAD_OPT_NETWORK is NAD_NETWORK_FIXED but nad_estimator_set_network was not called");
  NADI_CHECK(e->eval_kind != NAD_EVAL_DATA || e->points, NAD_ERR_MISUSE,
             "NAD_OPT_EVAL_POINT is NAD_EVAL_DATA but nad_estimator_set_eval_data was not called");
  NADI_CHECK(e->network_kind != NAD_NETWORK_FIXED || e->eval_kind == NAD_EVAL_DATA,
             NAD_ERR_MISUSE,
             "a fixed network needs evaluation points from a dataset (nad_estimator_set_eval_data):"
             " at one point all its responses are equal");
  NADI_CHECK(e->output != NAD_OUTPUT_LABEL || e->eval_kind == NAD_EVAL_DATA, NAD_ERR_MISUSE,
             "NAD_OPT_OUTPUT = NAD_OUTPUT_LABEL needs labelled evaluation points "
             "(nad_estimator_set_eval_data)");
  if (e->eval_kind != NAD_EVAL_DATA)
    return NAD_OK;
  const int64_t n = e->points->n, end = e->first_network + e->num_networks;
  NADI_CHECK(end <= n, NAD_ERR_INVALID_ARG,
             "samples %lld..%lld need as many evaluation points, the dataset has %lld",
             (long long)e->first_network, (long long)(end - 1), (long long)n);
  if (e->output == NAD_OUTPUT_LABEL) {
    const int64_t k = nadi_graph_out_size(e->g);
    for (int64_t j = e->first_network; j < end; j++)
      NADI_CHECK(e->points->labels[j] < k, NAD_ERR_INVALID_ARG,
                 "point %lld has label %d, the architecture only %lld outputs", (long long)j,
                 (int)e->points->labels[j], (long long)k);
  }
  return NAD_OK;
}

/* Checks of nad_estimator_run and nad_estimator_accumulate, then the memory plan, before
 * anything big is allocated. */
static nad_status check_run(nad_estimator *e, nadi_plan *plan) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "estimator is NULL");
  NADI_CHECK(!e->ran, NAD_ERR_MISUSE, "nad_estimator_run can be called once per estimator");
  NADI_CHECK(e->eval_kind != NAD_EVAL_USER || e->x0_user, NAD_ERR_MISUSE,
             "NAD_OPT_EVAL_POINT is NAD_EVAL_USER but nad_estimator_set_eval_point was not "
             "called");
  NADI_CHECK(e->first_network + e->num_networks <= (int64_t)NADI_EXACT_INT_MAX, NAD_ERR_INVALID_ARG,
             "first_network + num_networks exceeds 2^53 − 1");
  NADI_TRY(check_samples(e));
  NADI_TRY(check_acc(e));
  NADI_TRY(nadi_estimator_plan(e, nadi_estimator_jobs(e), plan));
  e->ran = 1;
  return ensure_acc(e);
}

/* accumulate = 0: nad_estimator_run (accumulate, then finalize); 1: nad_estimator_accumulate. */
static nad_status run(nad_estimator *e, int accumulate_only) {
  nadi_plan plan;
  NADI_TRY(check_run(e, &plan));
  return accumulate_only ? nadi_estimator_accumulate(e, &plan) : nadi_estimator_run(e, &plan);
}

/* run() with the checkpoint locked: a second process (or estimator) checkpointing to the same
 * path is refused before it computes anything, and so is a path whose directory is missing,
 * instead of failing at the first save after networks were computed. */
static nad_status run_locked(nad_estimator *e, int accumulate_only) {
  atomic_store(&e->stop, 0); /* a cancel before this point is forgotten (nad.h) */
  if (!e->ckpt_path)
    return run(e, accumulate_only);
  nadi_atomic_file af = {0};
  if (nadi_atomic_check(&af, e->ckpt_path) != 0)
    return nadi_atomic_fail(&af);
  int fd = nadi_lock_acquire(e->ckpt_path);
  if (fd < 0 && errno == EWOULDBLOCK)
    return nadi_fail(NAD_ERR_IO, "checkpoint '%s' is in use by another run (it holds the lock "
                                 "'%s.lock')", e->ckpt_path, e->ckpt_path);
  if (fd < 0)
    return nadi_fail(NAD_ERR_IO, "cannot use checkpoint '%s': cannot create '%s.lock': %s",
                     e->ckpt_path, e->ckpt_path, strerror(errno));
  nad_status st = run(e, accumulate_only);
  nadi_lock_release(fd, e->ckpt_path);
  return st;
}

nad_status nad_estimator_run(nad_estimator *e) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "estimator is NULL");
  NADI_GUARDED(e, "nad_estimator_run", estimator_free, run_locked(e, 0));
}

/* Async-signal-safe: one lock-free atomic OR, no message (nadi_fail formats and is not). */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "nad_estimator_cancel needs a lock-free atomic_int");
nad_status nad_estimator_cancel(nad_estimator *e) {
  if (!e)
    return NAD_ERR_INVALID_ARG;
  atomic_fetch_or(&e->stop, NADI_STOP_CANCEL);
  return NAD_OK;
}

nad_status nad_estimator_plan(const nad_estimator *e, int64_t *budget, int64_t *bytes,
                              int64_t *batch, int64_t *concurrent) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "nad_estimator_plan: estimator is NULL");
  nadi_plan plan;
  NADI_TRY(nadi_estimator_plan(e, e->ran ? 0 : nadi_estimator_jobs(e), &plan));
  if (budget)
    *budget = plan.budget;
  if (bytes)
    *bytes = plan.run_bytes > plan.acc_bytes ? plan.run_bytes : plan.acc_bytes;
  if (batch)
    *batch = plan.batch;
  if (concurrent)
    *concurrent = plan.workers;
  return NAD_OK;
}

nad_status nad_estimator_accumulate(nad_estimator *e) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "estimator is NULL");
  NADI_GUARDED(e, "nad_estimator_accumulate", estimator_free, run_locked(e, 1));
}

/* ---- results ------------------------------------------------------------------------------- */

#define CHECK_RESULTS(e, what)                                                                     \
  do {                                                                                             \
    NADI_CHECK(e, NAD_ERR_INVALID_ARG, what ": estimator is NULL");                                \
    NADI_CHECK((e)->finalized, NAD_ERR_MISUSE,                                                     \
               what ": no results yet (call nad_estimator_run, or nad_estimator_finalize after "   \
                    "a load or a cancelled run)");                                                 \
  } while (0)

#define CHECK_DST(dst, len, need, what)                                                            \
  do {                                                                                             \
    NADI_CHECK(dst, NAD_ERR_INVALID_ARG, what ": dst is NULL");                                    \
    NADI_CHECK_LEN(what, "dst", len, need);                                                        \
  } while (0)

nad_status nad_estimator_dims(const nad_estimator *e, int64_t *d, int64_t *k) {
  CHECK_RESULTS(e, "nad_estimator_dims");
  NADI_CHECK(d || k, NAD_ERR_INVALID_ARG, "nad_estimator_dims: both outputs are NULL");
  if (d)
    *d = e->d;
  if (k)
    *k = e->k;
  return NAD_OK;
}

nad_status nad_estimator_networks_done(const nad_estimator *e, int64_t *n) {
  NADI_CHECK(e && n, NAD_ERR_INVALID_ARG, "nad_estimator_networks_done: NULL argument");
  *n = accumulated(e);
  return NAD_OK;
}

nad_status nad_estimator_eigenvalues(const nad_estimator *e, double *dst, size_t len) {
  CHECK_RESULTS(e, "nad_estimator_eigenvalues");
  CHECK_DST(dst, len, e->k, "nad_estimator_eigenvalues");
  memcpy(dst, e->evals, (size_t)e->k * sizeof(double));
  return NAD_OK;
}

nad_status nad_estimator_nads(const nad_estimator *e, float *dst, size_t len) {
  CHECK_RESULTS(e, "nad_estimator_nads");
  CHECK_DST(dst, len, e->k * e->d, "nad_estimator_nads");
  memcpy(dst, e->nads, (size_t)(e->k * e->d) * sizeof(float));
  return NAD_OK;
}

nad_status nad_estimator_mean(const nad_estimator *e, double *dst, size_t len) {
  CHECK_RESULTS(e, "nad_estimator_mean");
  CHECK_DST(dst, len, e->d, "nad_estimator_mean");
  memcpy(dst, e->mean, (size_t)e->d * sizeof(double));
  return NAD_OK;
}

nad_status nad_estimator_spectrum(const nad_estimator *e, double *dst, size_t len) {
  CHECK_RESULTS(e, "nad_estimator_spectrum");
  CHECK_DST(dst, len, e->d, "nad_estimator_spectrum");
  memcpy(dst, e->spectrum, (size_t)e->d * sizeof(double));
  return NAD_OK;
}

nad_status nad_estimator_convergence(const nad_estimator *e, int64_t k, double *overlap,
                                     double *spectrum_corr) {
  CHECK_RESULTS(e, "nad_estimator_convergence");
  NADI_CHECK(overlap && spectrum_corr, NAD_ERR_INVALID_ARG,
             "nad_estimator_convergence: NULL output");
  const int64_t kmax = e->sketch ? e->sketch : e->d;
  NADI_CHECK(k >= 1 && k <= kmax, NAD_ERR_INVALID_ARG,
             "nad_estimator_convergence: k = %lld, need 1 <= k <= %s = %lld", (long long)k,
             e->sketch ? "the sketch size L" : "D", (long long)kmax);
  NADI_GUARDED((nad_estimator *)e, "nad_estimator_convergence", estimator_free,
               nadi_estimator_convergence(e, k, overlap, spectrum_corr));
}

nad_status nad_estimator_converged(const nad_estimator *e, int32_t *converged, double *overlaps,
                                   double *spectrum_corr) {
  NADI_CHECK(e && converged, NAD_ERR_INVALID_ARG, "nad_estimator_converged: NULL argument");
  NADI_CHECK(nadi_halves_ready(e), NAD_ERR_MISUSE,
             "nad_estimator_converged: nothing accumulated yet (run, accumulate or load first)");
  int yes = 0;
  nad_status st;
  /* Logically const: only the convergence cache changes (one thread uses e at a time). */
  NADI_CHECK(nadi_guard_enter((nadi_guard *)&e->guard), NAD_ERR_MISUSE,
             "nad_estimator_converged: the handle is being destroyed");
  st = nadi_estimator_converged((nad_estimator *)e, &yes, overlaps, spectrum_corr);
  if (nadi_guard_leave((nadi_guard *)&e->guard))
    estimator_free((nad_estimator *)e);
  if (st == NAD_OK)
    *converged = yes;
  return st;
}

/* ---- checkpoints --------------------------------------------------------------------------- */

nad_status nad_estimator_save(const nad_estimator *e, const char *path) {
  NADI_CHECK(e && path, NAD_ERR_INVALID_ARG, "nad_estimator_save: NULL argument");
  NADI_CHECK(path[0] != '\0', NAD_ERR_INVALID_ARG, "nad_estimator_save: empty path");
  NADI_CHECK(nadi_halves_ready(e), NAD_ERR_MISUSE,
             "nad_estimator_save: nothing accumulated yet (run or load first)");
  NADI_GUARDED((nad_estimator *)e, "nad_estimator_save", estimator_free,
               nadi_checkpoint_save(e, path));
}

/* Checks of the two loads. */
static nad_status check_load(nad_estimator *e, const char *what) {
  NADI_CHECK(e->eval_kind != NAD_EVAL_USER || e->x0_user, NAD_ERR_MISUSE,
             "%s: NAD_EVAL_USER chosen but no evaluation point set", what);
  NADI_CHECK(e->sketch || e->d <= NADI_EXACT_MAX_D, NAD_ERR_UNSUPPORTED,
             "%s: input dimension D = %lld is too large for the exact estimator (D <= %d): "
             "checkpoints of such inputs are sketches (set NAD_OPT_SKETCH first)",
             what, (long long)e->d, NADI_EXACT_MAX_D);
  NADI_CHECK(e->eval_kind != NAD_EVAL_DATA || e->points, NAD_ERR_MISUSE,
             "%s: NAD_EVAL_DATA chosen but no evaluation points set", what);
  NADI_CHECK(e->network_kind != NAD_NETWORK_FIXED || e->params_fixed, NAD_ERR_MISUSE,
             "%s: NAD_NETWORK_FIXED chosen but no network set", what);
  nadi_plan plan; /* the accumulators a load allocates must fit the budget too */
  return nadi_estimator_plan(e, 0, &plan);
}

nad_status nad_estimator_load(nad_estimator *e, const char *path) {
  NADI_CHECK(e && path, NAD_ERR_INVALID_ARG, "nad_estimator_load: NULL argument");
  NADI_TRY(check_load(e, "nad_estimator_load"));
  NADI_GUARDED(e, "nad_estimator_load", estimator_free, nadi_checkpoint_load(e, path));
}

nad_status nad_estimator_save_buffer(const nad_estimator *e, void **buf, size_t *len) {
  NADI_CHECK(e && buf && len, NAD_ERR_INVALID_ARG, "nad_estimator_save_buffer: NULL argument");
  *buf = NULL;
  *len = 0;
  NADI_CHECK(nadi_halves_ready(e), NAD_ERR_MISUSE,
             "nad_estimator_save_buffer: nothing accumulated yet (run or load first)");
  return nadi_checkpoint_save_buffer(e, buf, len);
}

nad_status nad_estimator_load_buffer(nad_estimator *e, const void *buf, size_t len) {
  NADI_CHECK(e && buf, NAD_ERR_INVALID_ARG, "nad_estimator_load_buffer: NULL argument");
  NADI_TRY(check_load(e, "nad_estimator_load_buffer"));
  NADI_GUARDED(e, "nad_estimator_load_buffer", estimator_free,
               nadi_checkpoint_load_buffer(e, buf, len));
}

nad_status nad_estimator_set_run_record(nad_estimator *e, const char *text) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "nad_estimator_set_run_record: estimator is NULL");
  NADI_CHECK(!text || strlen(text) <= (16u << 20), NAD_ERR_INVALID_ARG,
             "nad_estimator_set_run_record: the record is longer than 16 MiB");
  char *copy = NULL;
  if (text) {
    copy = strdup(text);
    NADI_CHECK(copy, NAD_ERR_OUT_OF_MEMORY, "run record");
  }
  free(e->run_record);
  e->run_record = copy;
  return NAD_OK;
}

nad_status nad_checkpoint_run_record(const char *path, int32_t *version, char **text) {
  NADI_CHECK(path && version && text, NAD_ERR_INVALID_ARG,
             "nad_checkpoint_run_record: NULL argument");
  *text = NULL;
  *version = 0;
  return nadi_checkpoint_record(path, NULL, 0, version, text);
}

nad_status nad_checkpoint_run_record_buffer(const void *buf, size_t len, int32_t *version,
                                            char **text) {
  NADI_CHECK(buf && version && text, NAD_ERR_INVALID_ARG,
             "nad_checkpoint_run_record_buffer: NULL argument");
  *text = NULL;
  *version = 0;
  return nadi_checkpoint_record(NULL, buf, len, version, text);
}

nad_status nad_estimator_degenerate(const nad_estimator *e, int32_t *degenerate, double *trace,
                                    double *scale) {
  CHECK_RESULTS(e, "nad_estimator_degenerate");
  NADI_CHECK(degenerate, NAD_ERR_INVALID_ARG, "nad_estimator_degenerate: degenerate is NULL");
  *degenerate = e->degenerate;
  if (trace)
    *trace = e->trace;
  if (scale)
    *scale = e->value_scale;
  return NAD_OK;
}

nad_status nad_estimator_sketch_error(const nad_estimator *e, double *bound) {
  CHECK_RESULTS(e, "nad_estimator_sketch_error");
  NADI_CHECK(bound, NAD_ERR_INVALID_ARG, "nad_estimator_sketch_error: bound is NULL");
  *bound = e->sketch ? e->sketch_error : 0.0;
  return NAD_OK;
}

nad_status nad_estimator_finalize(nad_estimator *e) {
  NADI_CHECK(e, NAD_ERR_INVALID_ARG, "nad_estimator_finalize: estimator is NULL");
  NADI_CHECK(accumulated(e) >= 2, NAD_ERR_MISUSE,
             "nad_estimator_finalize: %lld networks accumulated, need at least 2",
             (long long)accumulated(e));
  NADI_GUARDED(e, "nad_estimator_finalize", estimator_free, nadi_estimator_finalize(e));
}
