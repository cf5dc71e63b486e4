/* The training loop of the reference's utils.train, data-parallel over threads.
 *
 * Per epoch the training set is permuted (seeded by (seed, epoch); the identity when shuffling
 * is off) and cut into batches, the last one partial (DataLoader's default). A batch is cut
 * into chunks of `cap` samples that the workers share out in contiguous runs; each worker
 * gathers its samples, runs forward (training mode) and backward per chunk and sums its chunks'
 * parameter gradients. The caller then adds the workers' sums in worker order, clips the norm
 * and takes the SGD step. Chunking bounds the memory of an executor and keeps a chunk's
 * activations in cache; its results are the same as a whole-batch pass up to float rounding,
 * except for BatchNorm, whose training-mode statistics are over the batch: a graph with
 * BatchNorm runs every training batch whole on one worker, and the threads go to BLAS instead.
 * Dropout masks come from a generator seeded per (seed, epoch, batch, chunk), and chunks do not
 * depend on the thread count, so neither do the masks. Sums are in a fixed order: results are
 * deterministic for a seed and a thread count.
 *
 * Evaluation (eval mode: running statistics, no dropout) shares the chunks of the whole set out
 * the same way, reading the samples in place. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"
#include "train/train.h"

#ifndef TRAIN_CHUNK
#define TRAIN_CHUNK 32 /* samples per forward/backward: bounds an executor's memory (LeNet:
                          16 to 128 all within noise of each other on the target) */
#endif
#define STREAM_SHUFFLE 0x5348554600000000ULL /* "SHUF" + epoch */
#define STREAM_DROPOUT 0x44524f5000000000ULL /* "DROP" + (batch number << 24) + chunk */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- state ---------------------------------------------------------------------------------- */

nad_status nadi_trainer_init(nad_trainer *t, const nadi_graph *g, uint64_t seed) {
  t->g = g;
  t->d = nadi_graph_in_size(g);
  t->k = nadi_graph_out_size(g);
  t->n_params = g->n_params;
  t->params = nadi_alloc((size_t)g->n_params, sizeof(float));
  t->mbuf = nadi_calloc((size_t)g->n_params, sizeof(float));
  if (!t->params || !t->mbuf) {
    nadi_free(t->params);
    nadi_free(t->mbuf);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory for %lld parameters",
                     (long long)g->n_params);
  }
  nadi_rng r; /* the same weights as nad_net_create(a, seed) */
  nadi_rng_init(&r, seed, 0);
  nadi_graph_init_params(g, t->params, &r);
  t->epochs = 20;
  t->batch = 128;
  t->threads = 1;
  t->shuffle = 1;
  t->seed = seed;
  t->lr = 0.5;
  t->momentum = 0.0;
  t->weight_decay = 0.0;
  t->clip = 0.5;
  for (int64_t i = 0; i < g->n_layers; i++)
    t->has_bn |= g->layers[i].kind == NADI_BATCHNORM;
  return NAD_OK;
}

static void free_workers(nad_trainer *t) {
  for (int i = 0; i < t->nworkers; i++) {
    nadi_worker *w = &t->workers[i];
    nadi_exec_destroy(w->exec);
    nadi_free(w->x);
    nadi_free(w->y);
    nadi_free(w->dz);
    nadi_free(w->grad);
    nadi_free(w->gtmp);
  }
  free(t->workers);
  t->workers = NULL;
  t->nworkers = 0;
  t->cap = 0;
}

void nadi_trainer_free(nad_trainer *t) {
  free_workers(t);
  nadi_free(t->params);
  nadi_free(t->mbuf);
}

/* Workers for (n, cap); kept between calls while the configuration is unchanged. gtmp is only
 * needed when a worker may run more than one chunk of a training batch. */
static nad_status configure(nad_trainer *t, int n, int64_t cap) {
  int need_tmp = cap < t->batch;
  if (t->workers && t->nworkers == n && t->cap == cap && (!need_tmp || t->workers[0].gtmp))
    return NAD_OK;
  free_workers(t);
  t->workers = calloc((size_t)n, sizeof *t->workers);
  NADI_CHECK(t->workers, NAD_ERR_OUT_OF_MEMORY, "trainer: out of memory");
  t->nworkers = n;
  t->cap = cap;
  for (int i = 0; i < n; i++) {
    nadi_worker *w = &t->workers[i];
    nad_status st = nadi_exec_create(t->g, cap, &w->exec);
    if (st != NAD_OK) {
      free_workers(t);
      return st;
    }
    nadi_exec_set_stop(w->exec, &t->cancel); /* nad_trainer_cancel stops within a layer */
    w->x = nadi_alloc((size_t)(cap * t->d), sizeof(float));
    w->y = nadi_alloc((size_t)cap, sizeof(int32_t));
    w->dz = nadi_alloc((size_t)(cap * t->k), sizeof(float));
    w->grad = nadi_alloc((size_t)t->n_params, sizeof(float));
    w->gtmp = need_tmp ? nadi_alloc((size_t)t->n_params, sizeof(float)) : NULL;
    if (!w->x || !w->y || !w->dz || !w->grad || (need_tmp && !w->gtmp)) {
      free_workers(t);
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "trainer: out of memory for %d workers of %lld "
                                              "samples", n, (long long)cap);
    }
  }
  return NAD_OK;
}

/* ---- jobs ----------------------------------------------------------------------------------- */

typedef struct job {
  nad_trainer *t;
  const nad_dataset *ds;
  const int64_t *idx; /* training: sample indices of the batch */
  int64_t first;      /* evaluation: first sample */
  int64_t count;      /* samples of the job */
  uint64_t stream;    /* training: dropout stream of chunk 0 */
} job;

/* Chunks [c0, c1) of a job's nc chunks for worker `tid`: contiguous runs, worker 0 first, sizes
 * differing by at most one. */
static void share(int64_t nc, int nw, int tid, int64_t *c0, int64_t *c1) {
  int64_t base = nc / nw, rem = nc % nw;
  *c0 = tid * base + (tid < rem ? tid : rem);
  *c1 = *c0 + base + (tid < rem ? 1 : 0);
}

/* nad_trainer_cancel was called (the chunk loops stop; the call then fails). */
static int cancelled(nad_trainer *t) {
  return atomic_load_explicit(&t->cancel, memory_order_relaxed) != 0;
}

static void add_to(float *restrict dst, const float *restrict src, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    dst[i] += src[i];
}

static void train_job(void *ctx, int tid) {
  const job *j = ctx;
  nad_trainer *t = j->t;
  nadi_worker *w = &t->workers[tid];
  const int64_t cap = t->cap, d = t->d, k = t->k;
  w->loss = 0.0;
  w->correct = 0;
  w->has_grad = 0;
  int64_t c0, c1;
  share((j->count + cap - 1) / cap, t->nworkers, tid, &c0, &c1);
  for (int64_t c = c0; c < c1 && !cancelled(t); c++) {
    int64_t s0 = c * cap, n = j->count - s0 < cap ? j->count - s0 : cap;
    for (int64_t i = 0; i < n; i++) {
      int64_t src = j->idx[s0 + i];
      memcpy(w->x + i * d, j->ds->x + src * d, (size_t)d * sizeof(float));
      w->y[i] = j->ds->labels[src];
    }
    nadi_rng_init(&w->rng, t->seed, j->stream + (uint64_t)c);
    const float *z = nadi_exec_forward(w->exec, t->params, w->x, n, 1, &w->rng);
    nadi_xent(z, w->y, n, k, 1.0 / (double)j->count, w->dz, &w->loss, &w->correct);
    float *g = w->has_grad ? w->gtmp : w->grad;
    nadi_exec_backward(w->exec, t->params, w->dz, NULL, g);
    if (w->has_grad)
      add_to(w->grad, w->gtmp, t->n_params);
    w->has_grad = 1;
  }
}

static void eval_job(void *ctx, int tid) {
  const job *j = ctx;
  nad_trainer *t = j->t;
  nadi_worker *w = &t->workers[tid];
  const int64_t cap = t->cap, d = t->d, k = t->k;
  w->loss = 0.0;
  w->correct = 0;
  int64_t c0, c1;
  share((j->count + cap - 1) / cap, t->nworkers, tid, &c0, &c1);
  for (int64_t c = c0; c < c1 && !cancelled(t); c++) {
    int64_t s0 = j->first + c * cap, end = j->first + j->count;
    int64_t n = end - s0 < cap ? end - s0 : cap;
    const float *z = nadi_exec_forward(w->exec, t->params, j->ds->x + s0 * d, n, 0, NULL);
    nadi_xent(z, j->ds->labels + s0, n, k, 0.0, NULL, &w->loss, &w->correct);
  }
}

/* ---- evaluation ----------------------------------------------------------------------------- */

static nad_status evaluate(nad_trainer *t, nadi_pool *pool, const nad_dataset *ds, double *acc,
                           double *loss) {
  job j = {.t = t, .ds = ds, .first = 0, .count = ds->n};
  nadi_pool_run(pool, eval_job, &j);
  NADI_CHECK(!cancelled(t), NAD_ERR_CANCELLED, "evaluation cancelled by nad_trainer_cancel");
  double s = 0.0;
  int64_t hits = 0;
  for (int i = 0; i < t->nworkers; i++) {
    s += t->workers[i].loss;
    hits += t->workers[i].correct;
  }
  *acc = 100.0 * (double)hits / (double)ds->n;
  *loss = s / (double)ds->n;
  NADI_CHECK(isfinite(*loss), NAD_ERR_NUMERICAL,
             "evaluation: the cross-entropy is not finite (the network outputs NaN or Inf)");
  return NAD_OK;
}

/* Workers, pool and BLAS threads for a call: training batches are split over the threads unless
 * the graph has BatchNorm, which then gets the threads inside BLAS. */
typedef struct session {
  nadi_pool *pool;
  int blas_old;
} session;

/* `most` is the largest number of samples a job of the call has (executors need no more). */
static nad_status session_begin(nad_trainer *t, int64_t most, session *s) {
  int threads = nadi_thread_count(t->threads);
  int n = t->has_bn ? 1 : threads;
  int64_t cap = t->has_bn ? t->batch : (t->batch < TRAIN_CHUNK ? t->batch : TRAIN_CHUNK);
  cap = cap < most ? cap : most;
  s->pool = NULL;
  NADI_TRY(configure(t, n, cap));
  NADI_TRY(nadi_pool_create(n, &s->pool));
  s->blas_old = nadi_blas_set_threads(t->has_bn ? threads : 1);
  return NAD_OK;
}

static void session_end(session *s) {
  nadi_blas_set_threads(s->blas_old);
  nadi_pool_destroy(s->pool);
}

nad_status nadi_trainer_evaluate(nad_trainer *t, const nad_dataset *d, double *accuracy,
                                 double *loss) {
  session s;
  NADI_TRY(session_begin(t, d->n, &s));
  nad_status st = evaluate(t, s.pool, d, accuracy, loss);
  session_end(&s);
  return st;
}

/* ---- training ------------------------------------------------------------------------------- */

/* One batch: gradients, clipping, step. Returns the batch's summed loss and hits. */
static nad_status train_batch(nad_trainer *t, nadi_pool *pool, job *j, double lr,
                              double momentum, int first, double *loss, int64_t *hits) {
  nadi_pool_run(pool, train_job, j);
  if (cancelled(t)) /* the batch is incomplete: no step */
    return NAD_ERR_CANCELLED;
  float *grad = t->workers[0].grad;
  double s = t->workers[0].loss;
  int64_t h = t->workers[0].correct;
  for (int i = 1; i < t->nworkers; i++) {
    if (t->workers[i].has_grad)
      add_to(grad, t->workers[i].grad, t->n_params);
    s += t->workers[i].loss;
    h += t->workers[i].correct;
  }
  NADI_CHECK(isfinite(s), NAD_ERR_NUMERICAL,
             "training diverged: the cross-entropy is not finite (lower NAD_OPT_LR?)");
  float scale = 1.0f;
  if (t->clip > 0.0) { /* clip_grad_norm_: coefficient max_norm / (norm + 1e-6), clamped to 1 */
    double norm = nadi_grad_norm(t->g, grad);
    NADI_CHECK(isfinite(norm), NAD_ERR_NUMERICAL, "training diverged: the gradient is not finite");
    float coef = (float)(t->clip / (norm + 1e-6));
    if (coef < 1.0f)
      scale = coef;
  }
  nadi_sgd_step(t->g, t->params, grad, t->mbuf, first, scale, (float)lr, (float)momentum,
                (float)t->weight_decay);
  *loss += s;
  *hits += h;
  return NAD_OK;
}

static void permutation(const nad_trainer *t, int64_t epoch, int64_t *perm, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    perm[i] = i;
  if (!t->shuffle)
    return;
  nadi_rng r;
  nadi_rng_init(&r, t->seed, STREAM_SHUFFLE + (uint64_t)epoch);
  for (int64_t i = n - 1; i > 0; i--) { /* Fisher–Yates; the modulo bias is below 2^-40 */
    int64_t k = (int64_t)(nadi_rng_u64(&r) % (uint64_t)(i + 1));
    int64_t tmp = perm[i];
    perm[i] = perm[k];
    perm[k] = tmp;
  }
}

/* After nad_trainer_cancel: the parameters go back to those after the last whole epoch (the
 * snapshot taken when the cancelled epoch began), as after a cancel by the epoch callback. */
static nad_status cancel_epoch(nad_trainer *t, const float *snapshot, int64_t e) {
  memcpy(t->params, snapshot, (size_t)t->n_params * sizeof(float));
  return nadi_fail(NAD_ERR_CANCELLED, "training cancelled by nad_trainer_cancel in epoch %lld of "
                                      "%lld (the parameters are those after epoch %lld)",
                   (long long)(e + 1), (long long)t->epochs, (long long)e);
}

/* One epoch: the batches, the test evaluation, the callback (*reported = 1 once called). */
static nad_status train_epoch(nad_trainer *t, nadi_pool *pool, const nad_dataset *train,
                              const nad_dataset *test, int64_t e, int64_t *perm, int *first,
                              int *reported) {
  const int64_t n = train->n, bsz = t->batch, nb = (n + bsz - 1) / bsz;
  double t0 = now(), loss = 0.0;
  int64_t hits = 0;
  nad_status st = NAD_OK;
  permutation(t, e, perm, n);
  for (int64_t b = 0; b < nb && st == NAD_OK; b++) {
    job j = {.t = t, .ds = train, .idx = perm + b * bsz, .count = n - b * bsz < bsz ? n - b * bsz : bsz,
             .stream = STREAM_DROPOUT + ((uint64_t)(e * nb + b) << 24)};
    double lr, momentum;
    nadi_schedule_at(t, e, b, nb, &lr, &momentum);
    st = cancelled(t) ? NAD_ERR_CANCELLED
                      : train_batch(t, pool, &j, lr, momentum, *first, &loss, &hits);
    *first = 0;
  }
  if (st != NAD_OK)
    return st;
  double test_acc = NAN, test_loss = NAN;
  if (test)
    NADI_TRY(evaluate(t, pool, test, &test_acc, &test_loss));
  if (cancelled(t))
    return NAD_ERR_CANCELLED;
  *reported = 1;
  if ((t->epoch_fn && t->epoch_fn(t->epoch_ud, e + 1, loss / (double)n,
                                  100.0 * (double)hits / (double)n, test_acc, now() - t0) != 0) ||
      nadi_guard_doomed(&t->guard)) /* destroyed meanwhile */
    return nadi_fail(NAD_ERR_CANCELLED, "training cancelled by the epoch callback after epoch "
                                        "%lld of %lld", (long long)(e + 1), (long long)t->epochs);
  return NAD_OK;
}

nad_status nadi_trainer_fit(nad_trainer *t, const nad_dataset *train, const nad_dataset *test) {
  const int64_t n = train->n;
  int64_t *perm = nadi_alloc((size_t)n, sizeof(int64_t));
  float *snapshot = nadi_alloc((size_t)t->n_params, sizeof(float));
  if (!perm || !snapshot) {
    nadi_free(perm);
    nadi_free(snapshot);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "trainer: out of memory for %lld indices and %lld "
                                            "parameters", (long long)n, (long long)t->n_params);
  }
  session s;
  nad_status st = session_begin(t, test && test->n > n ? test->n : n, &s);
  if (st != NAD_OK) {
    nadi_free(perm);
    nadi_free(snapshot);
    return st;
  }
  /* A new optimizer per fit, as utils.train builds one: momentum buffers start empty. */
  int first = 1;
  for (int64_t e = 0; e < t->epochs && st == NAD_OK; e++) {
    int reported = 0;
    memcpy(snapshot, t->params, (size_t)t->n_params * sizeof(float));
    st = train_epoch(t, s.pool, train, test, e, perm, &first, &reported);
    if (st != NAD_OK && !reported && cancelled(t))
      st = cancel_epoch(t, snapshot, e);
  }
  session_end(&s);
  nadi_free(perm);
  nadi_free(snapshot);
  return st;
}
