/* Command-line access to the directions and the trainer for the Python comparisons
 * (test_directions_numpy.py, test_trainer_torch.py). Public API only.
 *   train_helper direction C H W FY FX PART OUT.npy         PART: auto | sin | cos
 *   train_helper train SPEC C H W X.npy Y.npy INIT.npy FINAL.npy LOSSES.npy
 *                EPOCHS BATCH LR MOMENTUM WD CLIP THREADS SEED [linear|onecycle]
 *     trains a trainer (seed SEED, shuffling off) on x (N x C x H x W float32) and labels y
 *     (N float32 holding integers); writes the initial and final parameters and the per-epoch
 *     training losses and accuracies (EPOCHS x 2, float64). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nad/nad.h>

static int fail(const char *what, nad_status st) {
  fprintf(stderr, "train_helper: %s: %s (%s)\n", what, nad_status_string(st), nad_last_error());
  return 1;
}

static int direction(char **argv) {
  int64_t c = atoll(argv[0]), h = atoll(argv[1]), w = atoll(argv[2]);
  int64_t fy = atoll(argv[3]), fx = atoll(argv[4]);
  nad_fourier_part part = strcmp(argv[5], "sin") == 0   ? NAD_FOURIER_SIN
                          : strcmp(argv[5], "cos") == 0 ? NAD_FOURIER_COS
                                                        : NAD_FOURIER_AUTO;
  size_t d = (size_t)(c * h * w);
  float *v = malloc(d * sizeof(float));
  nad_status st = nad_direction_fourier(c, h, w, fy, fx, part, v, d);
  if (st != NAD_OK)
    return fail("nad_direction_fourier", st);
  int64_t shape[3] = {c, h, w};
  st = nad_npy_write(argv[6], v, 0, shape, 3);
  free(v);
  return st == NAD_OK ? 0 : fail("write", st);
}

typedef struct hist {
  double *v;
  int64_t n;
} hist;

static int on_epoch(void *u, int64_t epoch, double loss, double train_acc, double test_acc,
                    double seconds) {
  (void)test_acc, (void)seconds;
  hist *h = u;
  h->v[2 * (epoch - 1)] = loss;
  h->v[2 * (epoch - 1) + 1] = train_acc;
  h->n = epoch;
  return 0;
}

static int train(char **argv) {
  const char *spec = argv[0];
  int64_t c = atoll(argv[1]), h = atoll(argv[2]), w = atoll(argv[3]);
  int64_t epochs = atoll(argv[9]), batch = atoll(argv[10]), threads = atoll(argv[15]);
  double lr = atof(argv[11]), mom = atof(argv[12]), wd = atof(argv[13]), clip = atof(argv[14]);
  uint64_t seed = (uint64_t)atoll(argv[16]);
  int64_t schedule = argv[17] && strcmp(argv[17], "onecycle") == 0 ? NAD_SCHEDULE_ONECYCLE
                                                                    : NAD_SCHEDULE_LINEAR;
  nad_arch *a = NULL;
  nad_status st = nad_arch_create_spec(spec, c, h, w, &a);
  if (st != NAD_OK)
    return fail("spec", st);
  float *x = NULL, *yf = NULL;
  int64_t xs[8], ys[8];
  int32_t xn, yn;
  if ((st = nad_npy_read_f32(argv[4], &x, xs, &xn)) != NAD_OK ||
      (st = nad_npy_read_f32(argv[5], &yf, ys, &yn)) != NAD_OK)
    return fail("read", st);
  int64_t n = xs[0];
  int32_t *y = malloc((size_t)n * sizeof(int32_t));
  for (int64_t i = 0; i < n; i++)
    y[i] = (int32_t)yf[i];
  nad_dataset *ds = NULL;
  nad_trainer *t = NULL;
  if ((st = nad_dataset_create(x, y, n, c, h, w, &ds)) != NAD_OK)
    return fail("dataset", st);
  if ((st = nad_trainer_create(a, seed, &t)) != NAD_OK)
    return fail("trainer", st);
  if ((st = nad_trainer_set_int(t, NAD_OPT_EPOCHS, epochs)) ||
      (st = nad_trainer_set_int(t, NAD_OPT_BATCH, batch)) ||
      (st = nad_trainer_set_int(t, NAD_OPT_NUM_THREADS, threads)) ||
      (st = nad_trainer_set_int(t, NAD_OPT_SHUFFLE, 0)) ||
      (st = nad_trainer_set_int(t, NAD_OPT_SCHEDULE, schedule)) ||
      (st = nad_trainer_set_double(t, NAD_OPT_LR, lr)) ||
      (st = nad_trainer_set_double(t, NAD_OPT_MOMENTUM, mom)) ||
      (st = nad_trainer_set_double(t, NAD_OPT_WEIGHT_DECAY, wd)) ||
      (st = nad_trainer_set_double(t, NAD_OPT_CLIP, clip)))
    return fail("options", st);
  int64_t np = 0;
  nad_arch_num_params(a, &np);
  float *p = malloc((size_t)np * sizeof(float));
  hist hs = {calloc((size_t)(2 * epochs), sizeof(double)), 0};
  nad_trainer_set_epoch_callback(t, on_epoch, &hs);
  if ((st = nad_trainer_get_params(t, p, (size_t)np)) ||
      (st = nad_npy_write(argv[6], p, 0, &np, 1)))
    return fail("initial parameters", st);
  if ((st = nad_trainer_fit(t, ds, NULL)) != NAD_OK)
    return fail("fit", st);
  int64_t hshape[2] = {epochs, 2};
  if ((st = nad_trainer_get_params(t, p, (size_t)np)) ||
      (st = nad_npy_write(argv[7], p, 0, &np, 1)) ||
      (st = nad_npy_write(argv[8], hs.v, 1, hshape, 2)))
    return fail("final parameters", st);
  nad_trainer_destroy(t);
  nad_dataset_destroy(ds);
  nad_arch_destroy(a);
  nad_free(x);
  nad_free(yf);
  free(y);
  free(p);
  free(hs.v);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 9 && strcmp(argv[1], "direction") == 0)
    return direction(argv + 2);
  if ((argc == 19 || argc == 20) && strcmp(argv[1], "train") == 0)
    return train(argv + 2);
  fprintf(stderr, "usage: see the comment at the top of train_helper.c\n");
  return 2;
}
