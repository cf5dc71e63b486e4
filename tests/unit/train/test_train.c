/* lib/train and its façades: Fourier and random directions against closed forms, D(v) against
 * its definition and statistics, the trainer's options, determinism, callback, validation, a
 * hand-computed SGD step, evaluation against nad_net, and the public PNG figures. (The trainer
 * against PyTorch is test_trainer_torch.py; directions against numpy test_directions_numpy.py.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check.h"
#include "api/api.h"
#include "train/train.h"

#define EXPECT_ST(expr, st) EXPECT((expr) == (st))

static double dot(const float *a, const float *b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++)
    s += (double)a[i] * b[i];
  return s;
}

/* ---- directions ----------------------------------------------------------------------------- */

/* Closed form in double: s·(−sin θ) or cos θ with θ = 2π(fy·y/h + fx·x/w), normalised. */
static double direct_max_diff(const float *v, int64_t c, int64_t h, int64_t w, int64_t fy,
                              int64_t fx, int cosine) {
  double *ref = malloc((size_t)(h * w) * sizeof(double)), norm = 0, worst = 0;
  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++) {
      double th = 2 * M_PI * ((double)(fy * y) / (double)h + (double)(fx * x) / (double)w);
      ref[y * w + x] = cosine ? cos(th) : -sin(th);
      norm += ref[y * w + x] * ref[y * w + x];
    }
  norm = sqrt(norm * (double)c);
  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t i = 0; i < h * w; i++)
      worst = fmax(worst, fabs(v[ch * h * w + i] - ref[i] / norm));
  free(ref);
  return worst;
}

static void test_fourier_closed_form(void) {
  const int64_t sizes[][3] = {{1, 32, 32}, {1, 8, 6}, {2, 7, 5}, {1, 1, 4}, {3, 6, 1}};
  int all_ok = 1, unit_ok = 1, count = 0;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    int64_t c = sizes[s][0], h = sizes[s][1], w = sizes[s][2], d = c * h * w;
    float *v = malloc((size_t)d * sizeof(float));
    for (int64_t fy = -(h / 2); fy <= h / 2; fy++)
      for (int64_t fx = -(w / 2); fx <= w / 2; fx++)
        for (int part = 0; part <= 2; part++) {
          int vanish = nadi_fourier_sine_vanishes(h, w, fy, fx);
          nad_status st = nad_direction_fourier(c, h, w, fy, fx, (nad_fourier_part)part, v,
                                                (size_t)d);
          if (part == NAD_FOURIER_SIN && vanish) {
            EXPECT_ST(st, NAD_ERR_INVALID_ARG);
            continue;
          }
          EXPECT_ST(st, NAD_OK);
          int cosine = part == NAD_FOURIER_COS || (part == NAD_FOURIER_AUTO && vanish);
          double diff = direct_max_diff(v, c, h, w, fy, fx, cosine);
          if (!(diff < 2e-6)) {
            all_ok = 0;
            printf("  %lldx%lldx%lld (%lld, %lld) part %d: max diff %.3g\n", (long long)c,
                   (long long)h, (long long)w, (long long)fy, (long long)fx, part, diff);
          }
          unit_ok &= fabs(dot(v, v, d) - 1.0) < 1e-5;
          count++;
        }
    free(v);
  }
  EXPECT(all_ok);
  EXPECT(unit_ok);
  EXPECT(count > 300);
}

/* Distinct frequencies (not equal, not conjugate) are orthogonal; sine ⟂ cosine; (−fy, −fx) is
 * the negated sine of (fy, fx). */
static void test_fourier_orthogonality(void) {
  const int64_t h = 32, w = 32, d = h * w;
  const int64_t fr[][2] = {{2, 0}, {0, 2}, {2, 2}, {-2, 2}, {8, 0}, {16, 16}, {0, 0}, {3, -7},
                           {16, 0}, {-5, 16}};
  const int nf = (int)(sizeof fr / sizeof fr[0]);
  float *v = malloc((size_t)(nf * d) * sizeof(float)), *u = malloc((size_t)d * sizeof(float));
  for (int i = 0; i < nf; i++)
    EXPECT_ST(nad_direction_fourier(1, h, w, fr[i][0], fr[i][1], NAD_FOURIER_AUTO, v + i * d,
                                    (size_t)d), NAD_OK);
  double worst = 0;
  for (int i = 0; i < nf; i++)
    for (int j = i + 1; j < nf; j++)
      worst = fmax(worst, fabs(dot(v + i * d, v + j * d, d)));
  EXPECT(worst < 1e-5);
  EXPECT_ST(nad_direction_fourier(1, h, w, 3, -7, NAD_FOURIER_COS, u, (size_t)d), NAD_OK);
  EXPECT(fabs(dot(u, v + 7 * d, d)) < 1e-5);
  EXPECT_ST(nad_direction_fourier(1, h, w, -3, 7, NAD_FOURIER_SIN, u, (size_t)d), NAD_OK);
  EXPECT(fabs(dot(u, v + 7 * d, d) + 1.0) < 1e-5);
  free(v);
  free(u);
}

/* AUTO falls back to the cosine where the sine vanishes: DC is the constant +1/sqrt(D),
 * Nyquist rows alternate. Explicit SIN there is refused; bad arguments too. */
static void test_fourier_auto_and_errors(void) {
  float v[3 * 32 * 32];
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 0, 0, NAD_FOURIER_AUTO, v, 1024), NAD_OK);
  int ok = 1;
  for (int i = 0; i < 1024; i++)
    ok &= fabsf(v[i] - 1.0f / 32) < 1e-7f;
  EXPECT(ok);
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 16, 0, NAD_FOURIER_AUTO, v, 1024), NAD_OK);
  ok = 1;
  for (int y = 0; y < 32; y++)
    for (int x = 0; x < 32; x++)
      ok &= fabsf(v[y * 32 + x] - (y % 2 ? -1.0f : 1.0f) / 32) < 1e-7f;
  EXPECT(ok);
  EXPECT_ST(nad_direction_fourier(1, 32, 32, -16, 16, NAD_FOURIER_AUTO, v, 1024), NAD_OK);
  EXPECT(fabsf(v[0] - 1.0f / 32) < 1e-7f && fabsf(v[33] - 1.0f / 32) < 1e-7f &&
         fabsf(v[1] + 1.0f / 32) < 1e-7f);
  /* (3, 4) sine: the reference's example coefficient v_fft[0, 3, 4, 1] = 1 */
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 3, 4, NAD_FOURIER_AUTO, v, 1024), NAD_OK);
  EXPECT(direct_max_diff(v, 1, 32, 32, 3, 4, 0) < 2e-6);
  /* three channels: the same pattern each, unit norm overall */
  EXPECT_ST(nad_direction_fourier(3, 32, 32, 2, 0, NAD_FOURIER_AUTO, v, 3 * 1024), NAD_OK);
  EXPECT(memcmp(v, v + 1024, 1024 * sizeof(float)) == 0 &&
         memcmp(v, v + 2048, 1024 * sizeof(float)) == 0);
  EXPECT(fabs(dot(v, v, 3 * 1024) - 1.0) < 1e-5);
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 0, 0, NAD_FOURIER_SIN, v, 1024), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 16, 16, NAD_FOURIER_SIN, v, 1024),
            NAD_ERR_INVALID_ARG);
  EXPECT(strstr(nad_last_error(), "vanishes") != NULL);
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 17, 0, NAD_FOURIER_AUTO, v, 1024), NAD_ERR_INVALID_ARG);
  EXPECT(strstr(nad_last_error(), "out of range") != NULL);
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 0, -17, NAD_FOURIER_AUTO, v, 1024), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_direction_fourier(1, 7, 7, 4, 0, NAD_FOURIER_AUTO, v, 49), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 1, 0, (nad_fourier_part)3, v, 1024), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 1, 0, NAD_FOURIER_AUTO, v, 1023), NAD_ERR_SHAPE);
  EXPECT_ST(nad_direction_fourier(0, 32, 32, 1, 0, NAD_FOURIER_AUTO, v, 0), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_direction_fourier(1, 32, 32, 1, 0, NAD_FOURIER_AUTO, NULL, 1024), NAD_ERR_INVALID_ARG);
}

static void test_random_direction(void) {
  float a[1000], b[1000], c[1000];
  EXPECT_ST(nad_direction_random(5, a, 1000), NAD_OK);
  EXPECT_ST(nad_direction_random(5, b, 1000), NAD_OK);
  EXPECT_ST(nad_direction_random(6, c, 1000), NAD_OK);
  EXPECT(memcmp(a, b, sizeof a) == 0);
  EXPECT(fabs(dot(a, a, 1000) - 1) < 1e-6);
  EXPECT(fabs(dot(a, c, 1000)) < 4.0 / sqrt(1000.0)); /* independent: ~N(0, 1/D) */
  EXPECT_ST(nad_direction_random(5, a, 0), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_direction_random(5, NULL, 10), NAD_ERR_INVALID_ARG);
}

/* ---- datasets ------------------------------------------------------------------------------- */

static void test_linear_dataset(void) {
  const int64_t n = 1001, c = 1, h = 16, w = 16, d = c * h * w;
  const double eps = 0.7, sigma = 2.5;
  float *v = malloc((size_t)d * sizeof(float)), *v5 = malloc((size_t)d * sizeof(float));
  nad_direction_random(11, v, (size_t)d);
  for (int64_t i = 0; i < d; i++)
    v5[i] = 5.0f * v[i];
  nad_dataset *ds = NULL, *ds2 = NULL, *ds3 = NULL, *ds4 = NULL;
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, n, eps, sigma, 42, &ds), NAD_OK);
  int64_t nn = 0, shape[3];
  EXPECT_ST(nad_dataset_size(ds, &nn, shape), NAD_OK);
  EXPECT(nn == n && shape[0] == c && shape[1] == h && shape[2] == w);
  float *x = malloc((size_t)(n * d) * sizeof(float)), *x2 = malloc((size_t)(n * d) * sizeof(float));
  int32_t *lab = malloc((size_t)n * sizeof(int32_t));
  EXPECT_ST(nad_dataset_get(ds, x, (size_t)(n * d), lab, (size_t)n), NAD_OK);
  /* labels: ceil(n/2) zeros, then ones */
  int lab_ok = 1;
  for (int64_t i = 0; i < n; i++)
    lab_ok &= lab[i] == (i < 501 ? 0 : 1);
  EXPECT(lab_ok);
  /* x·v = ±ε/2 exactly; the orthogonal part has variance σ²(D−1)/D per coordinate */
  double worst = 0, ss = 0;
  for (int64_t i = 0; i < n; i++) {
    double p = dot(x + i * d, v, d);
    worst = fmax(worst, fabs(p - (lab[i] == 0 ? eps / 2 : -eps / 2)));
    for (int64_t j = 0; j < d; j++) {
      double r = x[i * d + j] - p * v[j];
      ss += r * r;
    }
  }
  EXPECT(worst < 1e-5);
  double var = ss / (double)(n * d), expect = sigma * sigma * (double)(d - 1) / (double)d;
  double se = sigma * sigma * sqrt(2.0 * (double)(d - 1)) / ((double)d * sqrt((double)n));
  EXPECT(fabs(var - expect) < 4 * se);
  /* mean of the noise ~ 0 per coordinate, over all samples */
  double m = 0;
  for (int64_t i = 0; i < n * d; i++)
    m += x[i];
  EXPECT(fabs(m / (double)(n * d)) < 4 * sigma / sqrt((double)(n * d)) + eps / 2 / sqrt((double)d));
  /* deterministic; a scaled v gives the same data; another seed other data */
  EXPECT_ST(nad_dataset_create_linear(v5, c, h, w, n, eps, sigma, 42, &ds2), NAD_OK);
  EXPECT_ST(nad_dataset_get(ds2, x2, (size_t)(n * d), NULL, 0), NAD_OK);
  double dmax = 0;
  for (int64_t i = 0; i < n * d; i++)
    dmax = fmax(dmax, fabs(x[i] - x2[i]));
  EXPECT(dmax < 1e-5);
  nad_dataset_destroy(ds2);
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, n, eps, sigma, 42, &ds2), NAD_OK);
  EXPECT_ST(nad_dataset_get(ds2, x2, (size_t)(n * d), NULL, 0), NAD_OK);
  EXPECT(memcmp(x, x2, (size_t)(n * d) * sizeof(float)) == 0);
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, n, eps, sigma, 43, &ds3), NAD_OK);
  EXPECT_ST(nad_dataset_get(ds3, x2, (size_t)(n * d), NULL, 0), NAD_OK);
  EXPECT(memcmp(x, x2, (size_t)d * sizeof(float)) != 0);
  /* sample i depends on (seed, i) only: a smaller set is a prefix while labels agree */
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, 900, eps, sigma, 42, &ds4), NAD_OK);
  EXPECT_ST(nad_dataset_get(ds4, x2, (size_t)(900 * d), NULL, 0), NAD_OK);
  EXPECT(memcmp(x, x2, (size_t)(450 * d) * sizeof(float)) == 0);
  /* σ = 0: exactly ±(ε/2)·v */
  nad_dataset_destroy(ds4);
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, 3, eps, 0.0, 1, &ds4), NAD_OK);
  EXPECT_ST(nad_dataset_get(ds4, x2, (size_t)(3 * d), NULL, 0), NAD_OK);
  EXPECT(fabsf(x2[0] - (float)(eps / 2) * v[0]) < 1e-7f &&
         fabsf(x2[2 * d + 5] + (float)(eps / 2) * v[5]) < 1e-7f);
  /* errors */
  nad_dataset *bad = (nad_dataset *)1;
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, n, 0.0, sigma, 1, &bad), NAD_ERR_INVALID_ARG);
  EXPECT(bad == NULL);
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, n, -1.0, sigma, 1, &bad), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, n, NAN, sigma, 1, &bad), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, n, eps, -0.1, 1, &bad), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, n, eps, INFINITY, 1, &bad), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_dataset_create_linear(v, c, h, w, 0, eps, sigma, 1, &bad), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_dataset_create_linear(v, 0, h, w, n, eps, sigma, 1, &bad), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_dataset_create_linear(NULL, c, h, w, n, eps, sigma, 1, &bad), NAD_ERR_INVALID_ARG);
  memset(v5, 0, (size_t)d * sizeof(float));
  EXPECT_ST(nad_dataset_create_linear(v5, c, h, w, n, eps, sigma, 1, &bad), NAD_ERR_INVALID_ARG);
  EXPECT(strstr(nad_last_error(), "non-zero") != NULL);
  v5[3] = NAN;
  EXPECT_ST(nad_dataset_create_linear(v5, c, h, w, n, eps, sigma, 1, &bad), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_dataset_get(ds, x, 5, NULL, 0), NAD_ERR_SHAPE);
  EXPECT_ST(nad_dataset_get(ds, NULL, 0, lab, 3), NAD_ERR_SHAPE);
  nad_dataset_destroy(ds);
  nad_dataset_destroy(ds2);
  nad_dataset_destroy(ds3);
  nad_dataset_destroy(ds4);
  nad_dataset_destroy(NULL);
  free(v);
  free(v5);
  free(x);
  free(x2);
  free(lab);
}

static void test_array_dataset(void) {
  float x[6] = {1, 2, 3, 4, 5, 6}, out[6];
  int32_t y[3] = {0, 2, 1}, yo[3];
  nad_dataset *ds = NULL;
  EXPECT_ST(nad_dataset_create(x, y, 3, 1, 1, 2, &ds), NAD_OK);
  EXPECT(ds->num_classes == 3);
  EXPECT_ST(nad_dataset_get(ds, out, 6, yo, 3), NAD_OK);
  EXPECT(memcmp(out, x, sizeof x) == 0 && memcmp(yo, y, sizeof y) == 0);
  nad_dataset_destroy(ds);
  y[1] = -1;
  EXPECT_ST(nad_dataset_create(x, y, 3, 1, 1, 2, &ds), NAD_ERR_INVALID_ARG);
  y[1] = 1;
  x[4] = INFINITY;
  EXPECT_ST(nad_dataset_create(x, y, 3, 1, 1, 2, &ds), NAD_ERR_INVALID_ARG);
  EXPECT(ds == NULL);
}

/* ---- trainer -------------------------------------------------------------------------------- */

static nad_dataset *blobs(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed, float sep) {
  int64_t d = c * h * w;
  float *v = malloc((size_t)d * sizeof(float));
  nad_direction_random(seed + 100, v, (size_t)d);
  nad_dataset *ds = NULL;
  nad_dataset_create_linear(v, c, h, w, n, sep, 1.0, seed, &ds);
  free(v);
  return ds;
}

typedef struct cb_state {
  int calls, stop_after;
  nad_trainer *t;
  nad_status set_in_cb;
  double last_train, last_test, last_loss;
} cb_state;

static int on_epoch(void *u, int64_t epoch, double loss, double tr, double te, double s) {
  cb_state *c = u;
  c->calls++;
  c->last_loss = loss, c->last_train = tr, c->last_test = te;
  if (c->t)
    c->set_in_cb = nad_trainer_set_int(c->t, NAD_OPT_EPOCHS, 3);
  (void)s;
  return c->stop_after > 0 && epoch >= c->stop_after;
}

static void test_trainer_options(void) {
  nad_arch *a = NULL;
  nad_arch_create_builtin("logreg", 1, 4, 4, 2, &a);
  nad_trainer *t = NULL;
  EXPECT_ST(nad_trainer_create(a, 1, &t), NAD_OK);
  EXPECT_ST(nad_trainer_set_int(t, NAD_OPT_EPOCHS, 0), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_trainer_set_int(t, NAD_OPT_EPOCHS, 3), NAD_OK);
  EXPECT_ST(nad_trainer_set_double(t, NAD_OPT_EPOCHS, 3), NAD_ERR_OPTION_TYPE);
  EXPECT_ST(nad_trainer_set_int(t, NAD_OPT_LR, 1), NAD_ERR_OPTION_TYPE);
  EXPECT_ST(nad_trainer_set_double(t, NAD_OPT_MOMENTUM, 1.0), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_trainer_set_double(t, NAD_OPT_MOMENTUM, 0.99), NAD_OK);
  EXPECT_ST(nad_trainer_set_double(t, NAD_OPT_LR, -0.1), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_trainer_set_double(t, NAD_OPT_LR, NAN), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_trainer_set_double(t, NAD_OPT_CLIP, 0.0), NAD_OK);
  EXPECT_ST(nad_trainer_set_double(t, NAD_OPT_WEIGHT_DECAY, -1e-3), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_trainer_set_int(t, NAD_OPT_BATCH, 0), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_trainer_set_int(t, NAD_OPT_SHUFFLE, 2), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_trainer_set_int(t, NAD_OPT_TOP_K, 2), NAD_ERR_INVALID_ARG);
  EXPECT(strstr(nad_last_error(), "not a trainer option") != NULL);
  EXPECT_ST(nad_trainer_set_int(t, NAD_OPT_NUM_THREADS, 257), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_trainer_set_epoch_callback(NULL, NULL, NULL), NAD_ERR_INVALID_ARG);
  /* the estimator refuses trainer options; names and bounds are shared */
  nad_estimator *e = NULL;
  nad_estimator_create(a, &e);
  EXPECT_ST(nad_estimator_set_int(e, NAD_OPT_EPOCHS, 3), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_estimator_set_double(e, NAD_OPT_LR, 0.1), NAD_ERR_INVALID_ARG);
  nad_estimator_destroy(e);
  nad_option o;
  EXPECT(nad_option_by_name("weight_decay", &o) == NAD_OK && o == NAD_OPT_WEIGHT_DECAY);
  EXPECT(nad_option_by_name("shuffle", &o) == NAD_OK && o == NAD_OPT_SHUFFLE);
  double lo, hi;
  EXPECT(nad_option_bounds(NAD_OPT_MOMENTUM, &lo, &hi) == NAD_OK && lo == 0 && hi < 1 && hi > 0.99);
  EXPECT(nad_option_bounds(NAD_OPT_EPOCHS, &lo, &hi) == NAD_OK && lo == 1);
  nad_trainer_destroy(t);
  nad_trainer_destroy(NULL);
  t = (nad_trainer *)1;
  EXPECT_ST(nad_trainer_create(NULL, 1, &t), NAD_ERR_INVALID_ARG);
  EXPECT(t == NULL);
  nad_arch_destroy(a);
}

/* Initial weights = nad_net_create's; one full-batch step equals the hand-computed gradient
 * step of logistic regression (in double); lr 0 leaves the weights; fit is deterministic for
 * a seed and thread count. */
static void test_trainer_step_and_determinism(void) {
  nad_arch *a = NULL;
  nad_arch_create_builtin("logreg", 1, 4, 4, 2, &a);
  const int64_t n = 40, d = 16, np = 2 * d + 2;
  nad_dataset *ds = blobs(n, 1, 4, 4, 1, 2.0f);
  nad_trainer *t = NULL;
  nad_net *net = NULL;
  nad_trainer_create(a, 9, &t);
  nad_net_create(a, 9, &net);
  float p0[34], q[34], p1[34];
  nad_trainer_get_params(t, p0, np);
  nad_net_get_params(net, q, np);
  EXPECT(memcmp(p0, q, sizeof p0) == 0);
  EXPECT_ST(nad_trainer_get_params(t, q, 33), NAD_ERR_SHAPE);
  /* one step: epochs 2, one batch per epoch, stop after the first epoch → lr_t = lr/2 */
  const double lr = 0.3, wd = 0.01;
  nad_trainer_set_int(t, NAD_OPT_EPOCHS, 2);
  nad_trainer_set_int(t, NAD_OPT_BATCH, n);
  nad_trainer_set_double(t, NAD_OPT_LR, lr);
  nad_trainer_set_double(t, NAD_OPT_CLIP, 0.0);
  nad_trainer_set_double(t, NAD_OPT_WEIGHT_DECAY, wd);
  nad_trainer_set_double(t, NAD_OPT_MOMENTUM, 0.9);
  cb_state cs = {0, 1, NULL, NAD_OK, 0, 0, 0};
  nad_trainer_set_epoch_callback(t, on_epoch, &cs);
  EXPECT_ST(nad_trainer_fit(t, ds, NULL), NAD_ERR_CANCELLED);
  EXPECT(cs.calls == 1 && isnan(cs.last_test));
  nad_trainer_get_params(t, p1, np);
  float x[40 * 16];
  int32_t y[40];
  nad_dataset_get(ds, x, sizeof x / sizeof x[0], y, 40);
  double g[34] = {0}, loss = 0;
  for (int64_t i = 0; i < n; i++) {
    double z[2];
    for (int k = 0; k < 2; k++) {
      z[k] = p0[2 * d + k];
      for (int64_t j = 0; j < d; j++)
        z[k] += (double)p0[k * d + j] * x[i * d + j];
    }
    double m = fmax(z[0], z[1]), lse = m + log(exp(z[0] - m) + exp(z[1] - m));
    loss += lse - z[y[i]];
    for (int k = 0; k < 2; k++) {
      double r = (exp(z[k] - lse) - (k == y[i])) / (double)n;
      for (int64_t j = 0; j < d; j++)
        g[k * d + j] += r * x[i * d + j];
      g[2 * d + k] += r;
    }
  }
  double worst = 0;
  for (int64_t i = 0; i < np; i++) {
    double expect = p0[i] - lr / 2 * (g[i] + wd * p0[i]);
    worst = fmax(worst, fabs(p1[i] - expect));
  }
  EXPECT(worst < 2e-6);
  EXPECT(fabs(cs.last_loss - loss / (double)n) < 1e-6);
  /* lr 0: nothing moves */
  nad_trainer *t0 = NULL;
  nad_trainer_create(a, 9, &t0);
  nad_trainer_set_double(t0, NAD_OPT_LR, 0.0);
  nad_trainer_set_int(t0, NAD_OPT_EPOCHS, 2);
  EXPECT_ST(nad_trainer_fit(t0, ds, NULL), NAD_OK);
  nad_trainer_get_params(t0, q, np);
  EXPECT(memcmp(q, p0, sizeof q) == 0);
  nad_trainer_destroy(t0);
  nad_trainer_destroy(t);
  nad_net_destroy(net);
  nad_dataset_destroy(ds);
  nad_arch_destroy(a);
}

static void fit_params(const nad_arch *a, const nad_dataset *tr, int64_t threads, uint64_t seed,
                       float *out, size_t np) {
  nad_trainer *t = NULL;
  nad_trainer_create(a, 5, &t);
  nad_trainer_set_int(t, NAD_OPT_EPOCHS, 2);
  nad_trainer_set_int(t, NAD_OPT_BATCH, 100);
  nad_trainer_set_int(t, NAD_OPT_NUM_THREADS, threads);
  nad_trainer_set_int(t, NAD_OPT_SEED, (int64_t)seed);
  nad_trainer_set_double(t, NAD_OPT_LR, 0.05);
  EXPECT_ST(nad_trainer_fit(t, tr, NULL), NAD_OK);
  nad_trainer_get_params(t, out, np);
  nad_trainer_destroy(t);
}

/* Same seed and threads: identical; another thread count: equal up to rounding; another
 * shuffling seed: different. With dropout (masks per chunk, not per thread) too. */
static void test_trainer_determinism(void) {
  const char *specs[] = {"conv 4 k3; relu; maxpool 2; fc 16; relu; dropout 0.5; fc 2",
                         "conv 4 k3; bn; relu; maxpool 2; fc 2"};
  for (int s = 0; s < 2; s++) {
    nad_arch *a = NULL;
    EXPECT_ST(nad_arch_create_spec(specs[s], 1, 10, 10, &a), NAD_OK);
    int64_t np = 0;
    nad_arch_num_params(a, &np);
    nad_dataset *tr = blobs(250, 1, 10, 10, 3, 2.0f);
    float *p[5];
    for (int i = 0; i < 5; i++)
      p[i] = malloc((size_t)np * sizeof(float));
    fit_params(a, tr, 1, 1, p[0], (size_t)np);
    fit_params(a, tr, 1, 1, p[1], (size_t)np);
    fit_params(a, tr, 2, 1, p[2], (size_t)np);
    fit_params(a, tr, 2, 1, p[3], (size_t)np);
    fit_params(a, tr, 1, 2, p[4], (size_t)np);
    EXPECT(memcmp(p[0], p[1], (size_t)np * sizeof(float)) == 0);
    EXPECT(memcmp(p[2], p[3], (size_t)np * sizeof(float)) == 0);
    double diff = 0, other = 0, scale = 0;
    for (int64_t i = 0; i < np; i++) {
      diff = fmax(diff, fabs(p[0][i] - p[2][i]));
      other = fmax(other, fabs(p[0][i] - p[4][i]));
      scale = fmax(scale, fabs(p[0][i]));
    }
    EXPECT(diff <= 1e-4 * scale);
    EXPECT(other > 1e-3 * scale);
    for (int i = 0; i < 5; i++)
      free(p[i]);
    nad_dataset_destroy(tr);
    nad_arch_destroy(a);
  }
}

/* Evaluation = a nad_net forward with the trainer's parameters + cross-entropy by hand; the
 * callback's test accuracy is the evaluation after the epoch; setters are refused inside fit;
 * shape/label validation. */
static void test_trainer_evaluate_and_validation(void) {
  nad_arch *a = NULL;
  nad_arch_create_spec("conv 3 k3; bn; relu; fc 2", 1, 6, 6, &a);
  nad_dataset *tr = blobs(120, 1, 6, 6, 7, 3.0f), *te = blobs(77, 1, 6, 6, 8, 3.0f);
  nad_trainer *t = NULL;
  nad_trainer_create(a, 2, &t);
  nad_trainer_set_int(t, NAD_OPT_EPOCHS, 2);
  nad_trainer_set_int(t, NAD_OPT_BATCH, 32);
  nad_trainer_set_int(t, NAD_OPT_NUM_THREADS, 2);
  cb_state cs = {0, 0, t, NAD_OK, 0, 0, 0};
  nad_trainer_set_epoch_callback(t, on_epoch, &cs);
  EXPECT_ST(nad_trainer_fit(t, tr, te), NAD_OK);
  EXPECT(cs.calls == 2);
  EXPECT_ST(cs.set_in_cb, NAD_ERR_MISUSE);
  double acc = -1, loss = -1;
  EXPECT_ST(nad_trainer_evaluate(t, te, &acc, &loss), NAD_OK);
  EXPECT(acc == cs.last_test);
  int64_t np = 0;
  nad_arch_num_params(a, &np);
  float *p = malloc((size_t)np * sizeof(float)), x[77 * 36], out[77 * 2];
  int32_t y[77];
  nad_trainer_get_params(t, p, (size_t)np);
  nad_net *net = NULL;
  nad_net_create_from_params(a, p, (size_t)np, &net);
  nad_dataset_get(te, x, 77 * 36, y, 77);
  nad_net_forward(net, x, 77, out, 154);
  double l = 0;
  int hits = 0;
  for (int i = 0; i < 77; i++) {
    double z0 = out[2 * i], z1 = out[2 * i + 1], m = fmax(z0, z1);
    double lse = m + log(exp(z0 - m) + exp(z1 - m));
    l += lse - (y[i] ? z1 : z0);
    hits += (z1 > z0) == (y[i] == 1);
  }
  EXPECT(fabs(acc - 100.0 * hits / 77) < 1e-9);
  EXPECT(fabs(loss - l / 77) < 1e-5);
  EXPECT(acc > 60); /* separable blobs: it learned something */
  /* validation */
  nad_dataset *wrong = blobs(10, 1, 5, 6, 1, 1.0f);
  EXPECT_ST(nad_trainer_fit(t, wrong, NULL), NAD_ERR_SHAPE);
  EXPECT_ST(nad_trainer_fit(t, tr, wrong), NAD_ERR_SHAPE);
  EXPECT_ST(nad_trainer_evaluate(t, wrong, &acc, NULL), NAD_ERR_SHAPE);
  float xs[3 * 36] = {0};
  int32_t ys[3] = {0, 2, 1};
  nad_dataset *three = NULL;
  nad_dataset_create(xs, ys, 3, 1, 6, 6, &three);
  EXPECT_ST(nad_trainer_fit(t, three, NULL), NAD_ERR_INVALID_ARG);
  EXPECT(strstr(nad_last_error(), "label 2") != NULL);
  EXPECT_ST(nad_trainer_fit(t, NULL, NULL), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_trainer_fit(NULL, tr, NULL), NAD_ERR_INVALID_ARG);
  /* the dataset may be released by the caller while the trainer lives */
  nad_dataset_destroy(te);
  EXPECT_ST(nad_trainer_fit(t, tr, NULL), NAD_OK);
  nad_trainer_destroy(t);
  /* BatchNorm on 1 value per channel in a batch of 1 is refused (PyTorch raises too) */
  nad_arch *a1 = NULL;
  nad_arch_create_spec("fc 4; bn; relu; fc 2", 1, 6, 6, &a1);
  nad_trainer_create(a1, 1, &t);
  nad_trainer_set_int(t, NAD_OPT_BATCH, 17); /* 120 = 7 * 17 + 1 */
  EXPECT_ST(nad_trainer_fit(t, tr, NULL), NAD_ERR_INVALID_ARG);
  nad_trainer_set_int(t, NAD_OPT_BATCH, 16);
  nad_trainer_set_int(t, NAD_OPT_EPOCHS, 1);
  EXPECT_ST(nad_trainer_fit(t, tr, NULL), NAD_OK);
  /* a diverging run stops with NAD_ERR_NUMERICAL */
  nad_trainer_set_double(t, NAD_OPT_LR, 1e30);
  nad_trainer_set_double(t, NAD_OPT_CLIP, 0.0);
  nad_trainer_set_int(t, NAD_OPT_EPOCHS, 3);
  EXPECT_ST(nad_trainer_fit(t, tr, NULL), NAD_ERR_NUMERICAL);
  nad_trainer_destroy(t);
  nad_arch_destroy(a1);
  free(p);
  nad_net_destroy(net);
  nad_dataset_destroy(wrong);
  nad_dataset_destroy(three);
  nad_dataset_destroy(tr);
  nad_arch_destroy(a);
}

/* ---- figures -------------------------------------------------------------------------------- */

static long file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  unsigned char sig[8] = {0};
  fseek(f, 0, SEEK_SET);
  size_t got = fread(sig, 1, 8, f);
  fclose(f);
  return got == 8 && sig[1] == 'P' && sig[2] == 'N' && sig[3] == 'G' ? n : -2;
}

static void test_figures(void) {
  char dir[] = "/tmp/nad-train-figXXXXXX";
  EXPECT(mkdtemp(dir) != NULL);
  char path[256];
  double vals[6] = {50, 60, NAN, 80, 90, 100}, xs[4] = {0, 10, 20, 30}, ys[4] = {95, NAN, 70, 52};
  snprintf(path, sizeof path, "%s/heat.png", dir);
  EXPECT_ST(nad_png_write_heatmap(path, vals, 2, 3, 50, 100), NAD_OK);
  EXPECT(file_size(path) > 100);
  EXPECT_ST(nad_png_write_heatmap(path, vals, 2, 3, 100, 50), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_png_write_heatmap(path, vals, 0, 3, 0, 1), NAD_ERR_INVALID_ARG);
  snprintf(path, sizeof path, "%s/line.png", dir);
  EXPECT_ST(nad_png_write_lineplot(path, xs, ys, 4, 50, 100), NAD_OK);
  EXPECT(file_size(path) > 100);
  EXPECT_ST(nad_png_write_lineplot(path, xs, ys, 1, 50, 100), NAD_OK);
  xs[1] = INFINITY;
  EXPECT_ST(nad_png_write_lineplot(path, xs, ys, 4, 50, 100), NAD_ERR_INVALID_ARG);
  EXPECT_ST(nad_png_write_lineplot(path, xs, ys, 0, 50, 100), NAD_ERR_INVALID_ARG);
  double two[2] = {1, 2};
  EXPECT_ST(nad_png_write_lineplot("/nonexistent-dir/x.png", two, two, 2, 0, 100), NAD_ERR_IO);
  snprintf(path, sizeof path, "rm -rf %s", dir);
  EXPECT(system(path) == 0);
}

int main(void) {
  test_fourier_closed_form();
  test_fourier_orthogonality();
  test_fourier_auto_and_errors();
  test_random_direction();
  test_linear_dataset();
  test_array_dataset();
  test_trainer_options();
  test_trainer_step_and_determinism();
  test_trainer_determinism();
  test_trainer_evaluate_and_validation();
  test_figures();
  return check_summary();
}
