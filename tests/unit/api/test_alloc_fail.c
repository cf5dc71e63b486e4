/* Allocation-failure injection (issue 11 §4; built with meson -Dalloc_fail=true, which
 * scripts/test.sh uses for its ASan pass, so a leak on any failure path is reported): for every
 * k, the k-th allocation through lib/core/alloc.c fails during a small estimate, a small
 * training run, a .npy load and each dataset loader (IDX, CIFAR-10, .npy pairs). Each failure must come back as NAD_ERR_OUT_OF_MEMORY (never a
 * crash, another status or a success with garbage), and the handles must stay usable: the same
 * work succeeds afterwards on the same handles where they survive. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- the dataset loaders (lib/data): IDX, CIFAR-10 binary, .npy pairs ---- */
static nad_status load_dataset(void *ctx) {
  nad_dataset *d = NULL;
  nad_status st = nad_dataset_load((const char *)ctx, NAD_SPLIT_TEST, 0, 0, &d);
  if (st == NAD_OK && !d)
    st = NAD_ERR_NUMERICAL; /* never: success without a dataset */
  nad_dataset_destroy(d);
  return st;
}

static int write_file(const char *dir, const char *name, const void *data, size_t n) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t w = fwrite(data, 1, n, f);
  return fclose(f) == 0 && w == n ? 0 : -1;
}

static void loaders(const char *dir) {
  /* IDX: 2 images of 3x3, labels 1 and 7 */
  unsigned char img[16 + 18] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3};
  unsigned char lab[8 + 2] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 7};
  for (int i = 0; i < 18; i++)
    img[16 + i] = (unsigned char)(i * 13);
  CHECK(write_file(dir, "t10k-images-idx3-ubyte", img, sizeof img) == 0 &&
            write_file(dir, "t10k-labels-idx1-ubyte", lab, sizeof lab) == 0,
        "writing IDX files");
  char src[2100];
  snprintf(src, sizeof src, "idx:%s", dir);
  CHECK(every_k("idx loader", load_dataset, src) >= 1, "idx loader allocates");
  /* CIFAR-10: test_batch.bin with 2 records */
  static unsigned char rec[2 * 3073];
  for (int i = 0; i < 2 * 3073; i++)
    rec[i] = (unsigned char)(i * 7);
  rec[0] = 3, rec[3073] = 9;
  CHECK(write_file(dir, "test_batch.bin", rec, sizeof rec) == 0, "writing CIFAR-10 file");
  snprintf(src, sizeof src, "cifar10:%s", dir);
  CHECK(every_k("cifar10 loader", load_dataset, src) >= 1, "cifar10 loader allocates");
  /* .npy pair (train and test the same files) */
  char xi[256], yl[256];
  snprintf(xi, sizeof xi, "%s/x.npy", dir);
  snprintf(yl, sizeof yl, "%s/y.npy", dir);
  const float x[2 * 4] = {0, 0.25f, 0.5f, 1, 1, 0.5f, 0.25f, 0};
  const int64_t xs[3] = {2, 2, 2};
  CHECK(nad_npy_write(xi, x, 0, xs, 3) == NAD_OK, "%s", nad_last_error());
  const unsigned char ynpy[] = "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, "
                               "'shape': (2,), }";
  unsigned char yfile[128 + 2];
  size_t hl = sizeof ynpy - 1;
  memcpy(yfile, ynpy, hl);
  while (hl < 127)
    yfile[hl++] = ' ';
  yfile[hl++] = '\n';
  yfile[hl++] = 1, yfile[hl++] = 0;
  CHECK(write_file(dir, "y.npy", yfile, hl) == 0, "writing labels");
  snprintf(src, sizeof src, "npy:%s,%s,%s,%s", xi, yl, xi, yl);
  CHECK(every_k("npy loader", load_dataset, src) >= 1, "npy loader allocates");
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
  char dir[64];
  snprintf(dir, sizeof dir, "/tmp/nad_alloc_fail_%ld", (long)getpid());
  CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
  loaders(dir);
  static const char *const files[] = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                                      "test_batch.bin", "x.npy", "y.npy"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    remove(p);
  }
  rmdir(dir);
  nad_arch_destroy(a);
  return check_summary();
}
