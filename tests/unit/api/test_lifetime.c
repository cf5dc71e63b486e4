/* Handle lifetimes (issue 11 §1): destroying an estimator, trainer or network while one of its
 * own calls runs — from that call's callback, or from another thread — must neither crash nor
 * touch freed memory (the ASan build runs this test). The library defers the destroy to the
 * end of the running call, which stops early with NAD_ERR_CANCELLED; new calls are refused. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <nad/nad.h>

#include "../check.h"

static nad_arch *small_arch(void) {
  nad_arch *a = NULL;
  nad_status st = nad_arch_create_spec("conv 2 k3 p1; relu; fc 2", 1, 6, 6, &a);
  CHECK(st == NAD_OK, "arch: %s", nad_last_error());
  return a;
}

/* ---- estimator destroyed by its own progress callback ---- */
static int destroy_in_progress(void *ud, int64_t done, int64_t total) {
  (void)total;
  if (done == 3)
    nad_estimator_destroy((nad_estimator *)ud);
  return 0;
}

static void estimator_from_callback(nad_arch *a, int64_t threads) {
  nad_estimator *e = NULL;
  CHECK(nad_estimator_create(a, &e) == NAD_OK, "%s", nad_last_error());
  nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 50);
  nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, threads);
  nad_estimator_set_progress(e, destroy_in_progress, e);
  nad_status st = nad_estimator_run(e); /* frees e when it returns */
  CHECK(st == NAD_ERR_CANCELLED, "run with destroy in callback (%lld threads): %s (%s)",
        (long long)threads, nad_status_string(st), nad_last_error());
}

/* ---- estimator destroyed from another thread during run ---- */
typedef struct {
  nad_estimator *e;
  atomic_int started;
} shared;

static int mark_started(void *ud, int64_t done, int64_t total) {
  (void)done, (void)total;
  atomic_store(&((shared *)ud)->started, 1);
  return 0;
}

static void *destroyer(void *arg) {
  shared *s = arg;
  while (!atomic_load(&s->started)) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  nad_estimator_destroy(s->e);
  return NULL;
}

static void estimator_from_thread(nad_arch *a) {
  shared s = {.started = 0};
  CHECK(nad_estimator_create(a, &s.e) == NAD_OK, "%s", nad_last_error());
  nad_estimator_set_int(s.e, NAD_OPT_NUM_NETWORKS, 100000); /* far longer than the test */
  nad_estimator_set_progress(s.e, mark_started, &s);
  pthread_t th;
  pthread_create(&th, NULL, destroyer, &s);
  nad_status st = nad_estimator_run(s.e);
  atomic_store(&s.started, 1); /* a run that failed early must not leave the thread waiting */
  pthread_join(th, NULL);
  CHECK(st == NAD_ERR_CANCELLED, "run with destroy from a thread: %s (%s)", nad_status_string(st),
        nad_last_error());
}

/* ---- trainer destroyed by its epoch callback ---- */
static int destroy_trainer(void *ud, int64_t epoch, double loss, double acc, double test_acc,
                           double seconds) {
  (void)loss, (void)acc, (void)test_acc, (void)seconds;
  if (epoch == 1)
    nad_trainer_destroy((nad_trainer *)ud);
  return 0;
}

static void trainer_from_callback(nad_arch *a) {
  float dir[36];
  for (int i = 0; i < 36; i++)
    dir[i] = i == 7 ? 1.0f : 0.0f;
  nad_dataset *d = NULL;
  CHECK(nad_dataset_create_linear(dir, 1, 6, 6, 64, 1.0, 1.0, 3, &d) == NAD_OK, "%s",
        nad_last_error());
  nad_trainer *t = NULL;
  CHECK(nad_trainer_create(a, 1, &t) == NAD_OK, "%s", nad_last_error());
  nad_trainer_set_int(t, NAD_OPT_EPOCHS, 5);
  nad_trainer_set_int(t, NAD_OPT_BATCH, 16);
  nad_trainer_set_epoch_callback(t, destroy_trainer, t);
  nad_status st = nad_trainer_fit(t, d, NULL); /* frees t when it returns */
  CHECK(st == NAD_ERR_CANCELLED, "fit with destroy in callback: %s (%s)", nad_status_string(st),
        nad_last_error());
  nad_dataset_destroy(d);
}

/* ---- plain destroy still frees at once; destroy(NULL) is a no-op ---- */
static void plain(nad_arch *a) {
  nad_estimator *e = NULL;
  CHECK(nad_estimator_create(a, &e) == NAD_OK, "%s", nad_last_error());
  nad_estimator_destroy(e);
  nad_estimator_destroy(NULL);
  nad_trainer_destroy(NULL);
  nad_net_destroy(NULL);
  nad_net *n = NULL;
  CHECK(nad_net_create(a, 1, &n) == NAD_OK, "%s", nad_last_error());
  float x[36] = {0}, y[2];
  CHECK(nad_net_forward(n, x, 1, y, 2) == NAD_OK, "%s", nad_last_error());
  nad_net_destroy(n);
}

int main(void) {
  nad_arch *a = small_arch();
  plain(a);
  estimator_from_callback(a, 1);
  estimator_from_callback(a, 2); /* worker threads probe ahead of the callback */
  estimator_from_thread(a);
  trainer_from_callback(a);
  nad_arch_destroy(a);
  return check_summary();
}
