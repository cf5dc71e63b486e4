/* Allocation-failure injection (issue 11 §4; built with meson -Dalloc_fail=true, which
 * scripts/test.sh uses for its ASan pass, so a leak on any failure path is reported): for every
 * k, the k-th allocation through lib/core/alloc.c fails during a small estimate, a small
 * training run and a .npy load. Each failure must come back as NAD_ERR_OUT_OF_MEMORY (never a
 * crash, another status or a success with garbage), and the handles must stay usable: the same
 * work succeeds afterwards on the same handles where they survive. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nad/nad.h>

#include "../check.h"
#include "core/core.h"

#define SPEC "conv 2 k3 p1; relu; maxpool 2; fc 2"

typedef nad_status (*scenario)(void *ctx);

/* Runs fn with the k-th allocation failing, for k = 1, 2, ... until a run makes fewer than k
 * allocations (then it ran clean). Returns the number of allocations of a clean run. */
static int64_t every_k(const char *name, scenario fn, void *ctx) {
  int64_t k = 1;
  for (;; k++) {
    nadi_alloc_fail_at(k);
    nad_status st = fn(ctx);
    int64_t calls = nadi_alloc_calls();
    nadi_alloc_fail_at(0);
    if (calls < k) {
      CHECK(st == NAD_OK, "%s: clean run (%lld allocations): %s (%s)", name, (long long)calls,
            nad_status_string(st), nad_last_error());
      return k - 1;
    }
    CHECK(st == NAD_ERR_OUT_OF_MEMORY, "%s: allocation %lld of %lld failed: got %s (%s)", name,
          (long long)k, (long long)calls, nad_status_string(st), nad_last_error());
    if (st != NAD_ERR_OUT_OF_MEMORY && st != NAD_OK)
      return -1;
  }
}

/* ---- a small estimate, each step on its own handle ---- */
static nad_status estimate(void *ctx) {
  const nad_arch *a = ctx;
  nad_estimator *e = NULL;
  nad_status st = nad_estimator_create(a, &e);
  if (st == NAD_OK) {
    nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 5);
    nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, 1);
    st = nad_estimator_run(e);
  }
  if (st == NAD_OK) {
    int64_t d = 0, k = 0;
    nad_estimator_dims(e, &d, &k);
    double ev[64];
    st = nad_estimator_eigenvalues(e, ev, (size_t)k);
  }
  nad_estimator_destroy(e);
  return st;
}

/* After a failed run the estimator refuses a second run (run is once per estimator), but what
 * it accumulated can still be finalized: the handle is usable. */
static void estimate_handle_usable(const nad_arch *a) {
  nad_estimator *e = NULL;
  CHECK(nad_estimator_create(a, &e) == NAD_OK, "%s", nad_last_error());
  nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 5);
  nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, 1);
  nadi_alloc_fail_at(40);
  nad_status st = nad_estimator_run(e);
  nadi_alloc_fail_at(0);
  int64_t done = 0;
  nad_estimator_networks_done(e, &done);
  if (st == NAD_ERR_OUT_OF_MEMORY && done >= 2)
    CHECK(nad_estimator_finalize(e) == NAD_OK, "finalize after a failed run: %s",
          nad_last_error());
  nad_estimator_destroy(e);
}

/* ---- a small training run on a trainer that survives the failures ---- */
typedef struct {
  nad_trainer *t;
  nad_dataset *d;
} train_ctx;

static nad_status train(void *ctx) {
  train_ctx *c = ctx;
  nad_status st = nad_trainer_fit(c->t, c->d, NULL);
  double acc = 0;
  if (st == NAD_OK)
    st = nad_trainer_evaluate(c->t, c->d, &acc, NULL);
  return st;
}

/* ---- loading a .npy file ---- */
static nad_status load(void *ctx) {
  float *x = NULL;
  int64_t shape[8];
  int32_t nd = 0;
  nad_status st = nad_npy_read_f32((const char *)ctx, &x, shape, &nd);
  nad_free(x);
  return st;
}

int main(void) {
  nad_arch *a = NULL;
  CHECK(nad_arch_create_spec(SPEC, 1, 6, 6, &a) == NAD_OK, "%s", nad_last_error());
  int64_t n = every_k("estimate", estimate, a);
  CHECK(n > 10, "estimate made %lld allocations through nadi_alloc", (long long)n);
  estimate_handle_usable(a);

  float v[36] = {0};
  v[7] = 1;
  train_ctx tc = {NULL, NULL};
  CHECK(nad_dataset_create_linear(v, 1, 6, 6, 32, 1.0, 1.0, 3, &tc.d) == NAD_OK, "%s",
        nad_last_error());
  CHECK(nad_trainer_create(a, 1, &tc.t) == NAD_OK, "%s", nad_last_error());
  nad_trainer_set_int(tc.t, NAD_OPT_EPOCHS, 1);
  nad_trainer_set_int(tc.t, NAD_OPT_BATCH, 8);
  nad_trainer_set_int(tc.t, NAD_OPT_NUM_THREADS, 1);
  n = every_k("train", train, &tc);
  CHECK(n > 3, "training made %lld allocations through nadi_alloc", (long long)n);
  CHECK(train(&tc) == NAD_OK, "the trainer works after every failure: %s", nad_last_error());
  nad_trainer_destroy(tc.t);
  nad_dataset_destroy(tc.d);

  char path[64];
  snprintf(path, sizeof path, "/tmp/nad_alloc_fail_%ld.npy", (long)getpid());
  const float x[6] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[2] = {2, 3};
  CHECK(nad_npy_write(path, x, 0, shape, 2) == NAD_OK, "%s", nad_last_error());
  n = every_k("npy load", load, path);
  CHECK(n >= 1, "npy load made %lld allocations", (long long)n);
  remove(path);
  nad_arch_destroy(a);
  return check_summary();
}
