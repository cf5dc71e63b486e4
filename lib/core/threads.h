/* Threads (lib/core/threads.c): how many to use, and a fixed set of worker threads that run one
 * job at a time: the one thread mechanism of the library (the trainer and the estimator run on
 * it). Never installed. */
#ifndef NADI_THREADS_H
#define NADI_THREADS_H

#include <stdint.h>

#include "core/core.h"

/* Most threads any libnad object starts (the upper bound of NAD_OPT_NUM_THREADS). */
#define NADI_MAX_THREADS 256

/* Threads actually used for a NAD_OPT_NUM_THREADS value v >= 0: v, or the number of online CPUs
 * for v = 0, at most NADI_MAX_THREADS. */
int nadi_thread_count(int64_t v);

typedef struct nadi_pool nadi_pool;
typedef void (*nadi_pool_fn)(void *ctx, int tid);
/* n >= 1 workers in total: the caller is worker 0, n − 1 threads are started. */
nad_status nadi_pool_create(int n, nadi_pool **out);
/* Runs fn(ctx, t) for every t in [0, n) (t = 0 on the calling thread) and returns when all are
 * done. */
void nadi_pool_run(nadi_pool *p, nadi_pool_fn fn, void *ctx);
void nadi_pool_destroy(nadi_pool *p); /* joins the threads; NULL: no-op */

#endif
