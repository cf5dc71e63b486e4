/* NADs of LeNet at initialisation and after training on Fashion-MNIST, side by side.
 *
 * 1. the architecture's NADs: covariance over NETWORKS randomly initialised LeNets (one
 *    output) of the dipole response at one point x0 ~ N(0, I), as in the paper;
 * 2. a LeNet with 10 outputs trained on the training split (SGD, one-cycle schedule);
 * 3. that trained network's NADs: the same dipole, of the output of each image's label, over
 *    POINTS test images (nad_estimator_set_network + nad_estimator_set_eval_data);
 * then writes both spectra, eigenvalues and NADs as .npy, the spectra side by side as one
 * picture (log10 of each spectrum relative to its maximum; left: initialisation, right:
 * trained) and the first NADs of each, and prints how much the two agree.
 *
 * Usage: trained_nads [SOURCE [OUT_DIR [EPOCHS [NETWORKS [POINTS [TRAIN_SAMPLES]]]]]]
 *        defaults: fashion-mnist trained-nads 2 500 500 (all training images)
 * Exit status 77 when the dataset is not installed (apt-get install dataset-fashion-mnist). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nad/nad.h>

#define SIDE 32
#define D (SIDE * SIDE)
#define CLASSES 10
#define SHOWN 8 /* NADs in the pictures */

static int fail(const char *what, nad_status st) {
  fprintf(stderr, "trained_nads: %s: %s: %s\n", what, nad_status_string(st), nad_last_error());
  return 1;
}

static int on_epoch(void *ud, int64_t epoch, double loss, double train_acc, double test_acc,
                    double seconds) {
  (void)ud;
  fprintf(stderr, "epoch %lld: loss %.4f, train %.2f %%, test %.2f %% (%.1f s)\n",
          (long long)epoch, loss, train_acc, test_acc, seconds);
  return 0;
}

static int64_t arg_i64(int argc, char **argv, int i, int64_t def) {
  if (argc <= i)
    return def;
  char *end;
  long long v = strtoll(argv[i], &end, 10);
  if (argv[i][0] == '\0' || *end != '\0' || v < 1) {
    fprintf(stderr, "trained_nads: argument %d must be a positive integer, got '%s'\n", i,
            argv[i]);
    exit(2);
  }
  return v;
}

/* Results of one estimator run. */
typedef struct nads_of {
  double ev[D], spectrum[D];
  float nads[D * D];
} nads_of;

static nad_status collect(nad_estimator *e, nads_of *r) {
  nad_status st;
  if ((st = nad_estimator_eigenvalues(e, r->ev, D)) != NAD_OK ||
      (st = nad_estimator_nads(e, r->nads, D * D)) != NAD_OK)
    return st;
  return nad_estimator_spectrum(e, r->spectrum, D);
}

static nad_status save(const char *dir, const char *prefix, const nads_of *r) {
  char path[4096];
  const int64_t shape_ev[1] = {D}, shape_nads[2] = {D, D}, shape_sp[3] = {1, SIDE, SIDE};
  nad_status st;
  snprintf(path, sizeof path, "%s/%s_eigenvalues.npy", dir, prefix);
  if ((st = nad_npy_write(path, r->ev, 1, shape_ev, 1)) != NAD_OK)
    return st;
  snprintf(path, sizeof path, "%s/%s_nads.npy", dir, prefix);
  if ((st = nad_npy_write(path, r->nads, 0, shape_nads, 2)) != NAD_OK)
    return st;
  snprintf(path, sizeof path, "%s/%s_spectrum.npy", dir, prefix);
  if ((st = nad_npy_write(path, r->spectrum, 1, shape_sp, 3)) != NAD_OK)
    return st;
  snprintf(path, sizeof path, "%s/%s_nads.png", dir, prefix);
  char title[64];
  snprintf(title, sizeof title, "NADs of LeNet, %s", prefix);
  int64_t show[SHOWN];
  for (int i = 0; i < SHOWN; i++)
    show[i] = i;
  return nad_figure_nads(path, NAD_FIGURE_PNG, r->nads, D, 1, SIDE, SIDE, r->ev, show, SHOWN,
                         title, 0);
}

/* log10(p / max p), floored at -6, into a SIDE-row band of the picture starting at column c0. */
static void put_log_spectrum(const double *p, double *pic, int64_t cols, int64_t c0) {
  double top = 0.0;
  for (int i = 0; i < D; i++)
    top = p[i] > top ? p[i] : top;
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++) {
      double v = top > 0 && p[y * SIDE + x] > 0 ? log10(p[y * SIDE + x] / top) : -6.0;
      pic[y * cols + c0 + x] = v < -6.0 ? -6.0 : v;
    }
}

int main(int argc, char **argv) {
  const char *source = argc > 1 ? argv[1] : "fashion-mnist";
  const char *out = argc > 2 ? argv[2] : "trained-nads";
  const int64_t epochs = arg_i64(argc, argv, 3, 2), networks = arg_i64(argc, argv, 4, 500);
  const int64_t points = arg_i64(argc, argv, 5, 500), train_n = arg_i64(argc, argv, 6, 0x7fffffff);
  nad_dataset *train = NULL, *test = NULL;
  nad_arch *arch1 = NULL, *arch10 = NULL;
  nad_estimator *init = NULL, *trained = NULL;
  nad_trainer *tr = NULL;
  float *params = NULL;
  nads_of *a = malloc(sizeof *a), *b = malloc(sizeof *b);
  nad_status st;
  int rc = 1;
  if (!a || !b) {
    fprintf(stderr, "trained_nads: out of memory\n");
    goto done;
  }
  if ((st = nad_dataset_load(source, NAD_SPLIT_TRAIN, SIDE, SIDE, &train)) != NAD_OK ||
      (st = nad_dataset_load(source, NAD_SPLIT_TEST, SIDE, SIDE, &test)) != NAD_OK) {
    rc = fail("loading the dataset", st);
    if (st == NAD_ERR_IO && strcmp(source, "fashion-mnist") == 0) {
      fprintf(stderr, "trained_nads: Fashion-MNIST is not installed (apt-get install "
                      "dataset-fashion-mnist): skipped\n");
      rc = 77;
    }
    goto done;
  }
  int64_t n = 0;
  nad_dataset_size(train, &n, NULL);
  if (train_n < n) {
    nad_dataset *sub = NULL;
    if ((st = nad_dataset_subset(train, 0, train_n, &sub)) != NAD_OK) {
      rc = fail("training subset", st);
      goto done;
    }
    nad_dataset_destroy(train);
    train = sub;
  }
  if (mkdir(out, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "trained_nads: cannot create '%s': %s\n", out, strerror(errno));
    goto done;
  }

  /* 1. the architecture at initialisation: one output, NETWORKS random networks */
  if ((st = nad_arch_create_builtin("lenet", 1, SIDE, SIDE, 1, &arch1)) != NAD_OK ||
      (st = nad_estimator_create(arch1, &init)) != NAD_OK ||
      (st = nad_estimator_set_int(init, NAD_OPT_NUM_NETWORKS, networks)) != NAD_OK ||
      (st = nad_estimator_set_int(init, NAD_OPT_NUM_THREADS, 0)) != NAD_OK ||
      (st = nad_estimator_run(init)) != NAD_OK || (st = collect(init, a)) != NAD_OK) {
    rc = fail("NADs at initialisation", st);
    goto done;
  }

  /* 2. train a 10-class LeNet */
  int64_t np = 0;
  double test_acc = 0.0;
  if ((st = nad_arch_create_builtin("lenet", 1, SIDE, SIDE, CLASSES, &arch10)) != NAD_OK ||
      (st = nad_arch_num_params(arch10, &np)) != NAD_OK ||
      (st = nad_trainer_create(arch10, 0, &tr)) != NAD_OK ||
      (st = nad_trainer_set_int(tr, NAD_OPT_EPOCHS, epochs)) != NAD_OK ||
      (st = nad_trainer_set_int(tr, NAD_OPT_NUM_THREADS, 0)) != NAD_OK ||
      (st = nad_trainer_set_int(tr, NAD_OPT_SCHEDULE, NAD_SCHEDULE_ONECYCLE)) != NAD_OK ||
      (st = nad_trainer_set_double(tr, NAD_OPT_LR, 0.05)) != NAD_OK ||
      (st = nad_trainer_set_double(tr, NAD_OPT_MOMENTUM, 0.9)) != NAD_OK ||
      (st = nad_trainer_set_double(tr, NAD_OPT_WEIGHT_DECAY, 5e-4)) != NAD_OK ||
      (st = nad_trainer_set_double(tr, NAD_OPT_CLIP, 0.0)) != NAD_OK ||
      (st = nad_trainer_set_epoch_callback(tr, on_epoch, NULL)) != NAD_OK ||
      (st = nad_trainer_fit(tr, train, test)) != NAD_OK ||
      (st = nad_trainer_evaluate(tr, test, &test_acc, NULL)) != NAD_OK) {
    rc = fail("training", st);
    goto done;
  }
  params = malloc(sizeof(float) * (size_t)np);
  if (!params || (st = nad_trainer_get_params(tr, params, (size_t)np)) != NAD_OK) {
    rc = fail("parameters", params ? st : NAD_ERR_OUT_OF_MEMORY);
    goto done;
  }

  /* 3. the trained network at POINTS test images, response = the label's output */
  if ((st = nad_estimator_create(arch10, &trained)) != NAD_OK ||
      (st = nad_estimator_set_network(trained, params, (size_t)np)) != NAD_OK ||
      (st = nad_estimator_set_eval_data(trained, test)) != NAD_OK ||
      (st = nad_estimator_set_int(trained, NAD_OPT_OUTPUT, NAD_OUTPUT_LABEL)) != NAD_OK ||
      (st = nad_estimator_set_int(trained, NAD_OPT_NUM_NETWORKS, points)) != NAD_OK ||
      (st = nad_estimator_set_int(trained, NAD_OPT_NUM_THREADS, 0)) != NAD_OK ||
      (st = nad_estimator_run(trained)) != NAD_OK || (st = collect(trained, b)) != NAD_OK) {
    rc = fail("NADs of the trained network", st);
    goto done;
  }

  /* results */
  if ((st = save(out, "init", a)) != NAD_OK || (st = save(out, "trained", b)) != NAD_OK) {
    rc = fail("writing the results", st);
    goto done;
  }
  const int64_t cols = 2 * SIDE + 4;
  double pic[SIDE * (2 * SIDE + 4)];
  for (int i = 0; i < SIDE * cols; i++)
    pic[i] = NAN; /* the grey gap between the two */
  put_log_spectrum(a->spectrum, pic, cols, 0);
  put_log_spectrum(b->spectrum, pic, cols, SIDE + 4);
  char path[4096];
  snprintf(path, sizeof path, "%s/spectra.png", out);
  /* the left half is the initial network's spectrum, the right half the trained one's */
  if ((st = nad_figure_heatmap(path, NAD_FIGURE_PNG, pic, SIDE, cols, -6.0, 0.0, 0, 1, 0, 1,
                               "Covariance spectra: at initialisation | trained",
                               "column (two spectra side by side)", "row",
                               "log10(power / max)")) != NAD_OK) {
    rc = fail("spectra.png", st);
    goto done;
  }
  double corr = 0, ov1 = 0, ov10 = 0, sa = 0, sb = 0, ta = 0, tb = 0;
  if ((st = nad_spectrum_correlation(a->spectrum, b->spectrum, D, &corr)) != NAD_OK ||
      (st = nad_subspace_overlap(a->nads, b->nads, 1, D, &ov1)) != NAD_OK ||
      (st = nad_subspace_overlap(a->nads, b->nads, 10, D, &ov10)) != NAD_OK) {
    rc = fail("comparison", st);
    goto done;
  }
  for (int i = 0; i < D; i++) {
    sa += a->ev[i];
    sb += b->ev[i];
    ta += i < 10 ? a->ev[i] : 0.0;
    tb += i < 10 ? b->ev[i] : 0.0;
  }
  printf("LeNet on %s: test accuracy %.2f %% after %lld epochs\n", source, test_acc,
         (long long)epochs);
  printf("NADs at initialisation: %lld networks; trained: %lld test images (label's output)\n",
         (long long)networks, (long long)points);
  printf("top-10 eigenvalues hold %.1f %% of the variance at initialisation, %.1f %% trained\n",
         100.0 * ta / sa, 100.0 * tb / sb);
  printf("log-spectrum correlation %.3f, top-1 overlap %.3f, top-10 overlap %.3f\n", corr, ov1,
         ov10);
  printf("wrote %s/: {init,trained}_{eigenvalues,nads,spectrum}.npy, {init,trained}_nads.png, "
         "spectra.png\n", out);
  rc = 0;
done:
  free(params);
  free(a);
  free(b);
  nad_estimator_destroy(init);
  nad_estimator_destroy(trained);
  nad_trainer_destroy(tr);
  nad_arch_destroy(arch1);
  nad_arch_destroy(arch10);
  nad_dataset_destroy(train);
  nad_dataset_destroy(test);
  return rc;
}
