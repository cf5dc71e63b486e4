/* nad_estimator_cancel and nad_trainer_cancel (issue 20 item 1): called from another thread
 * while a large network is being probed or trained, the call returns NAD_ERR_CANCELLED within
 * a few seconds (the library polls per probe chunk and layer, per chunk of a batch; a ResNet18
 * network at 3x32x32 takes many seconds), and the handle's state is that of a cancel by the
 * callback: whole networks, the checkpoint, a resume equal to an uninterrupted run, the
 * trainer's parameters of the last reported epoch. The bound is generous (sanitizers, a loaded
 * machine): this is a behaviour test, not a benchmark. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nad/nad.h>

#include "../check.h"

#define LATENCY 3.0 /* seconds from the first cancel to the return */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  nanosleep(&ts, NULL);
}

/* A canceller thread: waits until `start` networks are done (progress), or until the work has
 * begun (`begun`: a network's parameters were drawn, a training batch... ; set by the caller's
 * hooks) and then `delay` seconds, then cancels every 10 ms until the call has returned (the
 * flag is cleared when a run starts: nad.h). Waiting for the work itself keeps the run's setup
 * (slow under MALLOC_PERTURB_ and sanitizers) out of the measured latency. */
typedef struct {
  nad_estimator *e;
  nad_trainer *t;
  double delay;
  int64_t start; /* > 0: cancel once this many networks are done, else after begun + delay */
  atomic_llong done;
  atomic_int begun;
  atomic_int finished;
  double t_cancel; /* time of the first cancel */
  const float *params; /* the parameter source's network */
  size_t n_params;
} canceller;

static void *cancel_thread(void *arg) {
  canceller *c = arg;
  while (!atomic_load(&c->finished) &&
         (c->start > 0 ? atomic_load(&c->done) < c->start : !atomic_load(&c->begun)))
    sleep_s(0.005);
  if (c->start <= 0)
    sleep_s(c->delay);
  c->t_cancel = now();
  while (!atomic_load(&c->finished)) {
    if (c->e)
      nad_estimator_cancel(c->e);
    if (c->t)
      nad_trainer_cancel(c->t);
    sleep_s(0.01);
  }
  return NULL;
}

/* Parameter source: every network is the same initialised one; marks the probing as begun. */
static int same_network(void *ud, int64_t j, float *params, size_t len) {
  (void)j;
  canceller *c = ud;
  memcpy(params, c->params, len * sizeof(float));
  atomic_store(&c->begun, 1);
  return 0;
}

static int count_done(void *ud, int64_t done, int64_t total) {
  (void)total;
  atomic_store(&((canceller *)ud)->done, done);
  return 0;
}

static nad_estimator *make_estimator(const char *name, int64_t c, int64_t h, int64_t networks,
                                     int64_t threads, nad_arch **arch) {
  nad_estimator *e = NULL;
  nad_status st = nad_arch_create_builtin(name, c, h, h, 1, arch);
  CHECK(st == NAD_OK, "arch %s: %s", name, nad_last_error());
  if (st != NAD_OK)
    return NULL;
  CHECK(nad_estimator_create(*arch, &e) == NAD_OK, "%s", nad_last_error());
  nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, networks);
  nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, threads);
  nad_estimator_set_int(e, NAD_OPT_TOP_K, 4);
  return e;
}

/* ResNet18 at 3x32x32: one network takes many seconds, the cancel comes mid-network (0.5 s
 * after the first network's parameters were drawn). */
static void big_network(int64_t threads) {
  nad_arch *a = NULL;
  canceller c = {.delay = 0.5};
  c.e = make_estimator("resnet18", 3, 32, 8, threads, &a);
  if (!c.e)
    return;
  nad_net *net = NULL;
  int64_t np = 0;
  nad_arch_num_params(a, &np);
  float *params = malloc((size_t)np * sizeof(float));
  CHECK(nad_net_create(a, 1, &net) == NAD_OK && nad_net_get_params(net, params, (size_t)np) ==
        NAD_OK, "%s", nad_last_error());
  nad_net_destroy(net);
  c.params = params;
  nad_estimator_set_param_source(c.e, same_network, &c, "same");
  nad_estimator_set_progress(c.e, count_done, &c);
  pthread_t th;
  pthread_create(&th, NULL, cancel_thread, &c);
  nad_status st = nad_estimator_run(c.e);
  const double t_end = now();
  atomic_store(&c.finished, 1);
  pthread_join(th, NULL);
  const double latency = t_end - c.t_cancel;
  printf("resnet18 3x32x32, %lld threads: stopped %.2f s after the cancel, %lld networks\n",
         (long long)threads, latency, (long long)atomic_load(&c.done));
  CHECK(st == NAD_ERR_CANCELLED, "%lld threads: %s (%s)", (long long)threads,
        nad_status_string(st), nad_last_error());
  CHECK(strstr(nad_last_error(), "nad_estimator_cancel") != NULL, "message: %s",
        nad_last_error());
  CHECK(latency < LATENCY, "%lld threads: %.2f s from the cancel to the return", (long long)threads,
        latency);
  int64_t n = -1;
  CHECK(nad_estimator_networks_done(c.e, &n) == NAD_OK && n == atomic_load(&c.done),
        "networks done %lld, progress said %lld", (long long)n, (long long)atomic_load(&c.done));
  CHECK(nad_estimator_run(c.e) == NAD_ERR_MISUSE, "a second run is refused as after any run");
  nad_estimator_destroy(c.e);
  nad_arch_destroy(a);
  free(params);
}

/* A small network cancelled after 5 networks, with a checkpoint: the checkpoint holds exactly
 * the networks done, and resuming it gives the uninterrupted run's eigenvalues bit for bit. */
static void state_after_cancel(const char *dir) {
  const int64_t total = 60;
  char path[600];
  snprintf(path, sizeof path, "%.500s/cancel.ck", dir);
  nad_arch *a = NULL;
  canceller c = {.start = 5};
  c.e = make_estimator("lenet", 1, 16, total, 2, &a);
  if (!c.e)
    return;
  nad_estimator_set_progress(c.e, count_done, &c);
  CHECK(nad_estimator_set_checkpoint(c.e, path, 1000) == NAD_OK, "%s", nad_last_error());
  pthread_t th;
  pthread_create(&th, NULL, cancel_thread, &c);
  nad_status st = nad_estimator_run(c.e);
  atomic_store(&c.finished, 1);
  pthread_join(th, NULL);
  CHECK(st == NAD_ERR_CANCELLED, "lenet: %s (%s)", nad_status_string(st), nad_last_error());
  int64_t done = -1;
  nad_estimator_networks_done(c.e, &done);
  CHECK(done >= 5 && done < total, "lenet: %lld networks done", (long long)done);
  nad_estimator_destroy(c.e);

  nad_estimator *r = NULL, *u = NULL;
  nad_arch *a2 = NULL, *a3 = NULL;
  r = make_estimator("lenet", 1, 16, total, 2, &a2);
  u = make_estimator("lenet", 1, 16, total, 1, &a3);
  CHECK(nad_estimator_load(r, path) == NAD_OK, "load: %s", nad_last_error());
  int64_t loaded = -1;
  nad_estimator_networks_done(r, &loaded);
  CHECK(loaded == done, "the checkpoint holds %lld networks, the run did %lld", (long long)loaded,
        (long long)done);
  CHECK(nad_estimator_run(r) == NAD_OK, "resume: %s", nad_last_error());
  CHECK(nad_estimator_run(u) == NAD_OK, "uninterrupted: %s", nad_last_error());
  double er[4], eu[4];
  nad_estimator_eigenvalues(r, er, 4);
  nad_estimator_eigenvalues(u, eu, 4);
  CHECK(memcmp(er, eu, sizeof er) == 0, "resumed %.17g vs uninterrupted %.17g", er[0], eu[0]);
  nad_estimator_destroy(r);
  nad_estimator_destroy(u);
  nad_arch_destroy(a);
  nad_arch_destroy(a2);
  nad_arch_destroy(a3);
  remove(path);
}

/* The flag is cleared when a run starts: a cancel before the run has no effect. */
static void cancel_before_run(void) {
  nad_arch *a = NULL;
  nad_estimator *e = make_estimator("lenet", 1, 16, 6, 1, &a);
  if (!e)
    return;
  CHECK(nad_estimator_cancel(e) == NAD_OK, "cancel");
  CHECK(nad_estimator_run(e) == NAD_OK, "a cancel before the run is forgotten: %s",
        nad_last_error());
  int64_t n = 0;
  nad_estimator_networks_done(e, &n);
  EXPECT(n == 6);
  nad_estimator_destroy(e);
  nad_arch_destroy(a);
  EXPECT(nad_estimator_cancel(NULL) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_trainer_cancel(NULL) == NAD_ERR_INVALID_ARG);
}

/* ---- trainer ---- */
typedef struct {
  nad_trainer *t;
  float *last; /* parameters after the last reported epoch */
  size_t n;
  int epochs;
} epoch_log;

static int keep_params(void *ud, int64_t epoch, double loss, double acc, double test_acc,
                       double seconds) {
  (void)loss, (void)acc, (void)test_acc, (void)seconds;
  epoch_log *l = ud;
  l->epochs = (int)epoch;
  nad_trainer_get_params(l->t, l->last, l->n);
  return 0;
}

static void trainer_big(void) {
  nad_arch *a = NULL;
  CHECK(nad_arch_create_builtin("resnet18", 3, 32, 32, 2, &a) == NAD_OK, "%s", nad_last_error());
  const int64_t n = 512, d = 3 * 32 * 32;
  float *x = malloc((size_t)(n * d) * sizeof(float));
  int32_t *y = malloc((size_t)n * sizeof(int32_t));
  for (int64_t i = 0; i < n * d; i++)
    x[i] = (float)((uint64_t)i * 2654435761u % 1000u) / 500.0f - 1.0f;
  for (int64_t i = 0; i < n; i++)
    y[i] = (int32_t)(i & 1);
  nad_dataset *ds = NULL;
  CHECK(nad_dataset_create(x, y, n, 3, 32, 32, &ds) == NAD_OK, "%s", nad_last_error());
  canceller c = {.delay = 1.0, .begun = 1};
  CHECK(nad_trainer_create(a, 1, &c.t) == NAD_OK, "%s", nad_last_error());
  nad_trainer_set_int(c.t, NAD_OPT_BATCH, 16);
  nad_trainer_set_int(c.t, NAD_OPT_EPOCHS, 1000);
  int64_t np = 0;
  nad_arch_num_params(a, &np);
  epoch_log log = {c.t, malloc((size_t)np * sizeof(float)), (size_t)np, 0};
  float *after = malloc((size_t)np * sizeof(float));
  nad_trainer_get_params(c.t, log.last, log.n);
  nad_trainer_set_epoch_callback(c.t, keep_params, &log);
  /* An evaluation of 16 samples first builds the executors fit reuses (batch 16): the setup,
   * slow under MALLOC_PERTURB_ and sanitizers, stays out of the measured latency. */
  nad_dataset *few = NULL;
  double acc = -1.0;
  nad_dataset_subset(ds, 0, 16, &few);
  CHECK(nad_trainer_evaluate(c.t, few, &acc, NULL) == NAD_OK, "%s", nad_last_error());
  pthread_t th;
  pthread_create(&th, NULL, cancel_thread, &c);
  nad_status st = nad_trainer_fit(c.t, ds, NULL);
  const double t_end = now();
  atomic_store(&c.finished, 1);
  pthread_join(th, NULL);
  const double latency = t_end - c.t_cancel;
  printf("trainer resnet18 3x32x32: stopped %.2f s after the cancel, %d epochs\n", latency,
         log.epochs);
  CHECK(st == NAD_ERR_CANCELLED, "fit: %s (%s)", nad_status_string(st), nad_last_error());
  CHECK(latency < LATENCY, "trainer: %.2f s from the cancel to the return", latency);
  nad_trainer_get_params(c.t, after, (size_t)np);
  CHECK(memcmp(after, log.last, (size_t)np * sizeof(float)) == 0,
        "the parameters are those after the last reported epoch (%d)", log.epochs);
  acc = -1.0;
  CHECK(nad_trainer_evaluate(c.t, few, &acc, NULL) == NAD_OK && acc >= 0.0,
        "usable after the cancel: %s", nad_last_error());
  nad_dataset_destroy(few);
  nad_trainer_destroy(c.t);
  nad_dataset_destroy(ds);
  nad_arch_destroy(a);
  free(x);
  free(y);
  free(log.last);
  free(after);
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/nad_cancel_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  cancel_before_run();
  state_after_cancel(dir);
  big_network(1);
  big_network(2);
  trainer_big();
  rmdir(dir);
  return check_summary();
}
