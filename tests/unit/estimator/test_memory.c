/* The estimator's memory budget (issue 7): a run whose accumulators alone exceed NAD_OPT_MEMORY
 * is refused before anything is allocated, with the numbers; a tight budget lowers the probe
 * batch and then the concurrent networks, and the run then holds no more than planned (the
 * allocator's own count, read from the progress callback on the calling thread, where the
 * estimator allocates everything); results do not depend on the batch beyond float rounding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "estimator/run.h"

static int64_t base_bytes, peak_bytes;

static int track(void *ud, int64_t done, int64_t total) {
  (void)ud, (void)done, (void)total;
  int64_t b = nadi_alloc_thread_bytes() - base_bytes;
  if (b > peak_bytes)
    peak_bytes = b;
  return 0;
}

static nad_estimator *make(const char *name, const char *spec, int64_t c, int64_t h, int64_t w,
                           int64_t n, int64_t threads) {
  nad_arch *a = NULL;
  nad_status st = name ? nad_arch_create_builtin(name, c, h, w, 1, &a)
                       : nad_arch_create_spec(spec, c, h, w, &a);
  CHECK(st == NAD_OK, "arch: %s", nad_last_error());
  nad_estimator *e = NULL;
  if (a && nad_estimator_create(a, &e) == NAD_OK) {
    nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, n);
    nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, threads);
  }
  nad_arch_destroy(a);
  return e;
}

/* D = 12,288 (3x64x64) needs 3.4 GiB (3.66 GB) of accumulators: refused under 1 GiB, before
 * allocating. */
static void test_refuse_accumulator(void) {
  nad_estimator *e = make("logreg", NULL, 3, 64, 64, 10, 1);
  if (!e)
    return;
  nad_estimator_set_int(e, NAD_OPT_TOP_K, 100);
  nad_estimator_set_int(e, NAD_OPT_MEMORY, (int64_t)1 << 30);
  int64_t before = nadi_alloc_thread_bytes(), budget = 0, bytes = 0;
  nad_status st = nad_estimator_plan(e, &budget, &bytes, NULL, NULL);
  CHECK(st == NAD_ERR_OUT_OF_MEMORY, "plan: status %d", (int)st);
  st = nad_estimator_run(e);
  const char *msg = nad_last_error();
  CHECK(st == NAD_ERR_OUT_OF_MEMORY, "run: status %d", (int)st);
  const char *need = strstr(msg, "need ");
  double gbytes = need ? atof(need + 5) : 0;
  CHECK(strstr(msg, "D = 12288") && gbytes > 3.35 && gbytes < 3.45 && strstr(msg, "1.00 GiB") &&
            strstr(msg, "--memory"),
        "message lacks the numbers (3.4 GiB) or the way out: %s", msg);
  CHECK(e->half[0].d == 0 && e->half[1].d == 0, "accumulators were allocated");
  int64_t grew = nadi_alloc_thread_bytes() - before;
  CHECK(grew < 1 << 20, "the refused run kept %lld bytes", (long long)grew);
  int64_t done = -1;
  CHECK(nad_estimator_networks_done(e, &done) == NAD_OK && done == 0, "networks done %lld",
        (long long)done);
  /* the run was refused, not started: with a budget it may still run (it is not marked ran) */
  CHECK(!e->ran, "a refused run counts as the one run");
  CHECK(nad_estimator_load(e, "/nonexistent/checkpoint") == NAD_ERR_OUT_OF_MEMORY,
        "load must refuse the accumulators too: %s", nad_last_error());
  /* all NADs: the eigenvectors add 12·K·D bytes */
  nad_estimator_set_int(e, NAD_OPT_TOP_K, 0);
  nad_estimator_plan(e, NULL, NULL, NULL, NULL);
  need = strstr(nad_last_error(), "need ");
  gbytes = need ? atof(need + 5) : 0;
  CHECK(gbytes > 5.0 && gbytes < 5.15 && strstr(nad_last_error(), "--top"), "%s",
        nad_last_error());
  nad_estimator_destroy(e);
}

/* One network that alone does not fit: a 400 MB classifier under a 200 MiB budget. */
static void test_refuse_probe(void) {
  nad_estimator *e = make(NULL, "fc 100000; fc 1", 1, 32, 32, 4, 2);
  if (!e)
    return;
  nad_estimator_set_int(e, NAD_OPT_MEMORY, 200 << 20);
  nad_status st = nad_estimator_run(e);
  CHECK(st == NAD_ERR_OUT_OF_MEMORY && strstr(nad_last_error(), "one network") &&
            strstr(nad_last_error(), "0.20 GiB"),
        "status %d: %s", (int)st, nad_last_error());
  nad_estimator_destroy(e);
}

typedef struct run_result {
  double *ev;
  int64_t k, batch, concurrent, bytes, budget;
} run_result;

/* D = 64 (tiny accumulators), 16 KB of activations per sample: the probes set the memory. */
#define SIZING_SPEC "conv 16 k3 p1; relu; conv 16 k3 p1; relu; maxpool 2; fc 1"

static run_result run_with(int64_t memory, int64_t threads) {
  run_result r = {0};
  nad_estimator *e = make(NULL, SIZING_SPEC, 1, 8, 8, 6, threads);
  if (!e)
    return r;
  nad_estimator_set_int(e, NAD_OPT_SEED, 3);
  nad_estimator_set_int(e, NAD_OPT_TOP_K, 8);
  nad_estimator_set_int(e, NAD_OPT_MEMORY, memory);
  nad_status st = nad_estimator_plan(e, &r.budget, &r.bytes, &r.batch, &r.concurrent);
  CHECK(st == NAD_OK, "plan with budget %lld: %s", (long long)memory, nad_last_error());
  base_bytes = nadi_alloc_thread_bytes();
  peak_bytes = 0;
  nad_estimator_set_progress(e, track, NULL);
  if (st == NAD_OK && nad_estimator_run(e) == NAD_OK) {
    r.k = 8;
    r.ev = malloc(8 * sizeof(double));
    nad_estimator_eigenvalues(e, r.ev, 8);
  } else {
    CHECK(0, "run with budget %lld: %s", (long long)memory, nad_last_error());
  }
  CHECK(peak_bytes <= r.bytes && peak_bytes <= r.budget,
        "held %lld bytes while probing, planned %lld, budget %lld", (long long)peak_bytes,
        (long long)r.bytes, (long long)r.budget);
  nad_estimator_destroy(e);
  return r;
}

static void test_sizing(void) {
  run_result full = run_with(0, 2);
  CHECK(full.batch == 128 && full.concurrent == 2, "default plan: batch %lld x %lld",
        (long long)full.batch, (long long)full.concurrent);
  CHECK(full.budget > 0, "default budget %lld", (long long)full.budget);
  /* a budget 20 % below the default plan: the batch drops, both networks stay (probe sizes
   * are measured, and malloc rounds small blocks differently from one time to the next) */
  run_result tight = run_with(full.bytes - full.bytes / 5, 2);
  CHECK(tight.batch < 128 && tight.batch >= 16 && tight.concurrent == 2,
        "tight plan: batch %lld x %lld", (long long)tight.batch, (long long)tight.concurrent);
  /* between what one and two networks with batch 16 need: one network */
  nad_estimator *e = make(NULL, SIZING_SPEC, 1, 8, 8, 6, 2);
  int64_t two16 = 0, one16 = 0, b_small = 0, conc = 0, budget = 0;
  if (e) {
    nad_estimator_set_int(e, NAD_OPT_BATCH, 16);
    nad_estimator_plan(e, NULL, &two16, NULL, NULL);
    nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, 1);
    nad_estimator_plan(e, NULL, &one16, NULL, NULL);
    nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, 2);
    nad_estimator_set_int(e, NAD_OPT_BATCH, 128);
    nad_estimator_set_int(e, NAD_OPT_MEMORY, (one16 + two16) / 2);
    nad_status st = nad_estimator_plan(e, &budget, &b_small, NULL, &conc);
    CHECK(st == NAD_OK && conc == 1 && b_small <= budget && one16 < two16,
          "plan under %lld (one network %lld, two %lld): %lld networks, %lld bytes",
          (long long)budget, (long long)one16, (long long)two16, (long long)conc,
          (long long)b_small);
    nad_estimator_destroy(e);
  }
  run_result one = run_with((one16 + two16) / 2, 2);
  for (int i = 0; full.ev && tight.ev && one.ev && i < 8; i++)
    CHECK(fabs(tight.ev[i] - full.ev[i]) <= 1e-5 * full.ev[0] &&
              fabs(one.ev[i] - full.ev[i]) <= 1e-5 * full.ev[0],
          "eigenvalue %d: %g (batch 128) %g (batch %lld) %g (one network)", i, full.ev[i],
          tight.ev[i], (long long)tight.batch, one.ev[i]);
  printf("conv net 1x8x8, 2 threads: default %lld B (batch %lld x %lld), tight %lld B (batch "
         "%lld x %lld), one network %lld B (batch %lld)\n",
         (long long)full.bytes, (long long)full.batch, (long long)full.concurrent,
         (long long)tight.bytes, (long long)tight.batch, (long long)tight.concurrent,
         (long long)one.bytes, (long long)one.batch);
  free(full.ev), free(tight.ev), free(one.ev);
}

int main(void) {
  if (nadi_alloc_thread_bytes() < 0) {
    printf("the C library cannot count allocations: skipped\n");
    return 77;
  }
  test_refuse_accumulator();
  test_refuse_probe();
  test_sizing();
  return check_summary();
}
