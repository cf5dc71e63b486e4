/* Thread counts, and a fixed set of worker threads that run one job at a time (one training
 * batch, one evaluation slice, one round of the estimator's networks): the caller publishes the
 * job under the lock and bumps a generation counter; every worker runs it once and counts itself
 * done. Started once per fit or estimator run, so no thread is created per batch and none
 * outlives the call. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/threads.h"

int nadi_thread_count(int64_t v) {
  if (v == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    v = n >= 1 ? n : 1;
  }
  return (int)(v > NADI_MAX_THREADS ? NADI_MAX_THREADS : v);
}

typedef struct pool_thread {
  nadi_pool *pool;
  int tid;
  pthread_t handle;
} pool_thread;

struct nadi_pool {
  int n; /* workers including the caller */
  pthread_mutex_t lock;
  pthread_cond_t start, done;
  uint64_t generation; /* bumped per job */
  int pending;         /* threads still running the current job */
  int stop;
  nadi_pool_fn fn;
  void *ctx;
  pool_thread *threads; /* n − 1 */
  int started;
};

static void *thread_main(void *arg) {
  pool_thread *pt = arg;
  nadi_pool *p = pt->pool;
  uint64_t seen = 0;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->stop && p->generation == seen)
      pthread_cond_wait(&p->start, &p->lock);
    if (p->stop)
      break;
    seen = p->generation;
    nadi_pool_fn fn = p->fn;
    void *ctx = p->ctx;
    pthread_mutex_unlock(&p->lock);
    fn(ctx, pt->tid);
    pthread_mutex_lock(&p->lock);
    if (--p->pending == 0)
      pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

nad_status nadi_pool_create(int n, nadi_pool **out) {
  *out = NULL;
  nadi_pool *p = calloc(1, sizeof *p);
  NADI_CHECK(p, NAD_ERR_OUT_OF_MEMORY, "worker pool: out of memory");
  p->n = n;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->start, NULL);
  pthread_cond_init(&p->done, NULL);
  if (n > 1) {
    p->threads = calloc((size_t)(n - 1), sizeof *p->threads);
    if (!p->threads) {
      nadi_pool_destroy(p);
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "worker pool: out of memory");
    }
  }
  for (int i = 0; i + 1 < n; i++) {
    p->threads[i].pool = p;
    p->threads[i].tid = i + 1;
    if (pthread_create(&p->threads[i].handle, NULL, thread_main, &p->threads[i]) != 0) {
      nadi_pool_destroy(p);
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "cannot start worker thread %d of %d", i + 2, n);
    }
    p->started++;
  }
  *out = p;
  return NAD_OK;
}

void nadi_pool_run(nadi_pool *p, nadi_pool_fn fn, void *ctx) {
  if (p->n > 1) {
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->pending = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
  }
  fn(ctx, 0);
  if (p->n > 1) {
    pthread_mutex_lock(&p->lock);
    while (p->pending > 0)
      pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
  }
}

void nadi_pool_destroy(nadi_pool *p) {
  if (!p)
    return;
  pthread_mutex_lock(&p->lock);
  p->stop = 1;
  pthread_cond_broadcast(&p->start);
  pthread_mutex_unlock(&p->lock);
  for (int i = 0; i < p->started; i++)
    pthread_join(p->threads[i].handle, NULL);
  free(p->threads);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->start);
  pthread_cond_destroy(&p->done);
  free(p);
}
