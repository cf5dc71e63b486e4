/* Public façade of the trainer: handle lifecycle, its options (rows in lib/api/options.c),
 * validation and call order. The loop is in lib/train/loop.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "train/train.h"

#define CHECK_T(t) NADI_CHECK((t) != NULL, NAD_ERR_INVALID_ARG, "trainer is NULL")

static nad_status check_set(const nad_trainer *t, nad_option o, int want_int, double v) {
  CHECK_T(t);
  const nadi_option_info *oi = NULL;
  NADI_TRY(nadi_option_lookup(o, NAD_OWNER_TRAINER, want_int, "nad_trainer_set", &oi));
  NADI_CHECK(!t->busy, NAD_ERR_MISUSE, "option '%s' cannot change while the trainer runs",
             oi->name);
  return nadi_option_check_value(oi, v);
}

nad_status nad_trainer_set_int(nad_trainer *t, nad_option o, int64_t v) {
  NADI_TRY(check_set(t, o, 1, (double)v));
  switch (o) {
  case NAD_OPT_EPOCHS: t->epochs = v; break;
  case NAD_OPT_BATCH: t->batch = v; break;
  case NAD_OPT_SEED: t->seed = (uint64_t)v; break;
  case NAD_OPT_NUM_THREADS: t->threads = v; break;
  case NAD_OPT_SHUFFLE: t->shuffle = v; break;
  case NAD_OPT_SCHEDULE: t->schedule = v; break;
  default: break;
  }
  return NAD_OK;
}

nad_status nad_trainer_set_double(nad_trainer *t, nad_option o, double v) {
  NADI_TRY(check_set(t, o, 0, v));
  switch (o) {
  case NAD_OPT_LR: t->lr = v; break;
  case NAD_OPT_MOMENTUM: t->momentum = v; break;
  case NAD_OPT_WEIGHT_DECAY: t->weight_decay = v; break;
  case NAD_OPT_CLIP: t->clip = v; break;
  default: break;
  }
  return NAD_OK;
}

nad_status nad_trainer_create(const nad_arch *a, uint64_t seed, nad_trainer **out) {
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "nad_trainer_create: out is NULL");
  *out = NULL;
  NADI_CHECK(a && a->g, NAD_ERR_INVALID_ARG, "nad_trainer_create: architecture is NULL");
  NADI_CHECK(nadi_graph_out_size(a->g) >= 1, NAD_ERR_SHAPE, "the architecture has no output");
  nad_trainer *t = calloc(1, sizeof *t);
  NADI_CHECK(t, NAD_ERR_OUT_OF_MEMORY, "nad_trainer_create: out of memory");
  nad_status st = nadi_trainer_init(t, a->g, seed);
  if (st != NAD_OK) {
    free(t);
    return st;
  }
  t->arch = nadi_arch_retain(a);
  *out = t;
  return NAD_OK;
}

static void trainer_free(nad_trainer *t) {
  nadi_trainer_free(t);
  nadi_arch_release(t->arch);
  free(t);
}

/* Deferred while fit or evaluate runs (lib/core/guard.h): the call frees it when it returns. */
void nad_trainer_destroy(nad_trainer *t) {
  if (t && nadi_guard_destroy(&t->guard))
    trainer_free(t);
}

nad_status nad_trainer_set_epoch_callback(nad_trainer *t, nad_epoch_fn fn, void *user_data) {
  CHECK_T(t);
  NADI_CHECK(!t->busy, NAD_ERR_MISUSE, "the epoch callback cannot change while the trainer runs");
  t->epoch_fn = fn;
  t->epoch_ud = fn ? user_data : NULL;
  return NAD_OK;
}

/* A dataset the network can read: its shape, and labels the outputs can score. */
static nad_status check_data(const nad_trainer *t, const nad_dataset *d, const char *what) {
  const int64_t *s = t->g->in_shape;
  NADI_CHECK(d->c == s[0] && d->h == s[1] && d->w == s[2], NAD_ERR_SHAPE,
             "%s set has samples of %lldx%lldx%lld, the architecture takes %lldx%lldx%lld", what,
             (long long)d->c, (long long)d->h, (long long)d->w, (long long)s[0], (long long)s[1],
             (long long)s[2]);
  NADI_CHECK(d->num_classes <= t->k, NAD_ERR_INVALID_ARG,
             "%s set has label %d but the network has %lld outputs", what, d->num_classes - 1,
             (long long)t->k);
  return NAD_OK;
}

/* Executors hold up to min(batch, samples) samples: every layer's output for them must fit the
 * kernels' 32-bit BLAS dimensions. */
static nad_status check_batch(const nad_trainer *t, int64_t most) {
  int64_t b = t->batch < most ? t->batch : most;
  for (int64_t i = 0; i < t->g->n_layers; i++) {
    const int64_t *s = t->g->layers[i].out_shape;
    int64_t sz;
    NADI_CHECK(nadi_mul_ok(b, s[0] * s[1] * s[2], &sz) && sz <= INT32_MAX, NAD_ERR_INVALID_ARG,
               "batch %lld is too large for layer %lld (%s)", (long long)b, (long long)i,
               t->g->layers[i].desc);
  }
  return NAD_OK;
}

/* Training-mode BatchNorm over a single value per channel has no variance (PyTorch: "Expected
 * more than 1 value per channel when training"). */
static nad_status check_bn_batches(const nad_trainer *t, int64_t n) {
  int64_t full = t->batch < n ? t->batch : n, last = n % t->batch;
  for (int64_t i = 0; i < t->g->n_layers; i++) {
    const nadi_layer *l = &t->g->layers[i];
    if (l->kind != NADI_BATCHNORM || l->in_shape[0][1] * l->in_shape[0][2] > 1)
      continue;
    NADI_CHECK(full > 1 && last != 1, NAD_ERR_INVALID_ARG,
               "a training batch of 1 sample reaches layer %lld (%s), which then has one value "
               "per channel: choose NAD_OPT_BATCH so that no batch of the %lld samples has size 1",
               (long long)i, l->desc, (long long)n);
  }
  return NAD_OK;
}

static nad_status fit(nad_trainer *t, const nad_dataset *train, const nad_dataset *test) {
  NADI_CHECK(train, NAD_ERR_INVALID_ARG, "nad_trainer_fit: training set is NULL");
  NADI_CHECK(!t->busy, NAD_ERR_MISUSE, "nad_trainer_fit: the trainer is already running");
  NADI_TRY(check_data(t, train, "training"));
  if (test)
    NADI_TRY(check_data(t, test, "test"));
  NADI_TRY(check_batch(t, test && test->n > train->n ? test->n : train->n));
  NADI_TRY(check_bn_batches(t, train->n));
  nadi_dataset_retain(train);
  if (test)
    nadi_dataset_retain(test);
  t->busy = 1;
  atomic_store(&t->cancel, 0); /* a cancel before this point is forgotten (nad.h) */
  nad_status st = nadi_trainer_fit(t, train, test);
  t->busy = 0;
  nadi_dataset_release(test);
  nadi_dataset_release(train);
  return st;
}

nad_status nad_trainer_fit(nad_trainer *t, const nad_dataset *train, const nad_dataset *test) {
  CHECK_T(t);
  NADI_GUARDED(t, "nad_trainer_fit", trainer_free, fit(t, train, test));
}

/* Async-signal-safe: one lock-free atomic store, no message. */
nad_status nad_trainer_cancel(nad_trainer *t) {
  if (!t)
    return NAD_ERR_INVALID_ARG;
  atomic_store(&t->cancel, 1);
  return NAD_OK;
}

static nad_status evaluate(nad_trainer *t, const nad_dataset *d, double *accuracy,
                           double *loss) {
  NADI_CHECK(d && accuracy, NAD_ERR_INVALID_ARG, "nad_trainer_evaluate: dataset or accuracy is "
                                                 "NULL");
  NADI_CHECK(!t->busy, NAD_ERR_MISUSE, "nad_trainer_evaluate: the trainer is running");
  NADI_TRY(check_data(t, d, "evaluation"));
  NADI_TRY(check_batch(t, d->n));
  double l = 0;
  t->busy = 1;
  atomic_store(&t->cancel, 0);
  nad_status st = nadi_trainer_evaluate(t, d, accuracy, &l);
  t->busy = 0;
  if (st == NAD_OK && loss)
    *loss = l;
  return st;
}

nad_status nad_trainer_evaluate(nad_trainer *t, const nad_dataset *d, double *accuracy,
                                double *loss) {
  CHECK_T(t);
  NADI_GUARDED(t, "nad_trainer_evaluate", trainer_free, evaluate(t, d, accuracy, loss));
}

nad_status nad_trainer_get_params(const nad_trainer *t, float *dst, size_t len) {
  CHECK_T(t);
  NADI_CHECK(dst, NAD_ERR_INVALID_ARG, "nad_trainer_get_params: dst is NULL");
  NADI_CHECK_LEN("nad_trainer_get_params", "dst", len, t->n_params);
  memcpy(dst, t->params, len * sizeof(float));
  return NAD_OK;
}
