/* Options, data loading and one training run shared by `nad train`, `nad poison` and
 * `nad sweep --poison` (see realdata.h). */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "realdata.h"

/* ---- options -------------------------------------------------------------------------------- */

void real_options(real_args *a, cli_opt *o) {
  const cli_opt opts[REAL_NOPTS] = {
      {"spec", 1, &a->spec_file, NULL},
      {"spec-string", 1, &a->spec_string, NULL},
      {"init-rules", 1, &a->init_rules, NULL},
      {"data", 1, &a->data, NULL},
      {"size", 1, &a->size, NULL},
      {"normalize", 0, NULL, &a->normalize},
      {"train-samples", 1, &a->train_samples, NULL},
      {"test-samples", 1, &a->test_samples, NULL},
      {"epochs", 1, &a->epochs, NULL},
      {"lr", 1, &a->lr, NULL},
      {"momentum", 1, &a->momentum, NULL},
      {"weight-decay", 1, &a->weight_decay, NULL},
      {"batch", 1, &a->batch, NULL},
      {"schedule", 1, &a->schedule, NULL},
      {"seed", 1, &a->seed, NULL},
      {"clip", 1, &a->clip, NULL},
      {"threads", 1, &a->threads, NULL},
      {"quiet", 0, NULL, &a->quiet},
      {"input", 1, &a->input, NULL},     /* refused: the shape comes from the data */
      {"outputs", 1, &a->outputs, NULL}, /* refused: one output per class */
  };
  memcpy(o, opts, sizeof opts);
}

int real_parse_size(const char *command, const char *text, int64_t size[2]) {
  if (!text)
    return 0;
  if (strcmp(text, "native") == 0) {
    size[0] = size[1] = 0;
    return 0;
  }
  char *end = NULL;
  long long h = strtoll(text, &end, 10);
  if (end != text && (*end == 'x' || *end == 'X') && text[0] >= '0' && text[0] <= '9') {
    const char *p = end + 1;
    long long w = strtoll(p, &end, 10);
    if (end != p && *end == '\0' && p[0] >= '0' && p[0] <= '9' && h >= 1 && w >= 1 &&
        h <= 65536 && w <= 65536) {
      size[0] = h, size[1] = w;
      return 0;
    }
  }
  return cli_usage_error(command, "--size: expected HxW (e.g. 32x32, sides 1..65536) or "
                                  "'native', got '%s'", text);
}

int real_parse_settings(const char *command, const real_args *a, real_settings *s) {
  memset(s, 0, sizeof *s);
  const cli_arch_opts ao = {a->name, NULL, NULL, a->spec_file, a->spec_string, NULL};
  int rc0 = cli_need_arch(command, &ao, "ARCH"); /* the positional first */
  if (rc0)
    return rc0;
  s->data = a->data;
  s->size[0] = s->size[1] = 32;
  s->epochs = 10, s->batch = 128, s->seed = 0;
  s->lr = 0.05, s->momentum = 0.9, s->weight_decay = 5e-4, s->clip = 0.0;
  s->schedule = NAD_SCHEDULE_ONECYCLE;
  s->normalize = a->normalize;
  s->quiet = a->quiet;
  const int64_t max_threads = cli_option_max(NAD_OPT_NUM_THREADS);
  s->threads = cli_num_cpus() < max_threads ? cli_num_cpus() : max_threads;
  if (a->input)
    return cli_usage_error(command, "--input: the input shape is the data's (see --size)");
  if (a->outputs)
    return cli_usage_error(command, "--outputs: the network gets one output per class of the "
                                    "data");
  if (!a->data)
    return cli_usage_error(command, "missing --data SOURCE (fashion-mnist, idx:DIR, "
                                    "cifar10:DIR or npy:IMAGES,LABELS[,TEST_IMAGES,"
                                    "TEST_LABELS])");
  if (a->schedule) {
    if (strcmp(a->schedule, "linear") == 0)
      s->schedule = NAD_SCHEDULE_LINEAR;
    else if (strcmp(a->schedule, "onecycle") == 0)
      s->schedule = NAD_SCHEDULE_ONECYCLE;
    else
      return cli_usage_error(command, "--schedule: 'linear' or 'onecycle', got '%s'",
                             a->schedule);
  }
  int rc;
  if ((rc = real_parse_size(command, a->size, s->size)) ||
      (rc = cli_parse_i64("train-samples", a->train_samples, 1, INT64_MAX, &s->train_samples)) ||
      (rc = cli_parse_i64("test-samples", a->test_samples, 1, INT64_MAX, &s->test_samples)) ||
      (rc = cli_parse_i64("epochs", a->epochs, 1, cli_option_max(NAD_OPT_EPOCHS),
                          &s->epochs)) ||
      (rc = cli_parse_i64("batch", a->batch, 1, cli_option_max(NAD_OPT_BATCH), &s->batch)) ||
      (rc = cli_parse_double("lr", a->lr, 0, INFINITY, 0, &s->lr)) ||
      (rc = cli_parse_double("momentum", a->momentum, 0, 1, 1, &s->momentum)) ||
      (rc = cli_parse_double("weight-decay", a->weight_decay, 0, INFINITY, 0,
                             &s->weight_decay)) ||
      (rc = cli_parse_double("clip", a->clip, 0, INFINITY, 0, &s->clip)) ||
      (rc = cli_parse_i64("seed", a->seed, 0, cli_option_max(NAD_OPT_SEED), &s->seed)) ||
      (rc = cli_parse_i64("threads", a->threads, 0, max_threads, &s->threads)))
    return rc;
  if (s->threads == 0) /* record the real count: results are reproducible per count */
    s->threads = cli_num_cpus() < max_threads ? cli_num_cpus() : max_threads;
  return 0;
}

int real_parse_epsilon(const char *command, const char *text, double *eps) {
  if (!text)
    return cli_usage_error(command, "missing --epsilon E (the carrier amplitude, e.g. 0.05)");
  return cli_parse_double("epsilon", text, 0, INFINITY, 0, eps);
}

/* ---- data ----------------------------------------------------------------------------------- */

void real_data_free(real_data *d) {
  nad_dataset_destroy(d->train);
  nad_dataset_destroy(d->test);
  memset(d, 0, sizeof *d);
}

/* Replaces *ds by its first `n` samples (n = 0 or >= size: unchanged). */
static int limit(nad_dataset **ds, int64_t n, const char *what) {
  int64_t have = 0;
  nad_dataset_size(*ds, &have, NULL);
  if (n == 0 || n >= have)
    return 0;
  nad_dataset *sub = NULL;
  nad_status st = nad_dataset_subset(*ds, 0, n, &sub);
  if (st != NAD_OK)
    return cli_lib_error(st, "%s", what);
  nad_dataset_destroy(*ds);
  *ds = sub;
  return 0;
}

static int normalize(nad_dataset **ds, const double *mean, const double *std, int64_t c) {
  nad_dataset *nd = NULL;
  nad_status st = nad_dataset_normalize(*ds, mean, std, (size_t)c, &nd);
  if (st != NAD_OK)
    return cli_lib_error(st, "--normalize");
  nad_dataset_destroy(*ds);
  *ds = nd;
  return 0;
}

int real_load(const real_settings *s, real_data *d) {
  memset(d, 0, sizeof *d);
  nad_status st = nad_dataset_load(s->data, NAD_SPLIT_TRAIN, s->size[0], s->size[1], &d->train);
  if (st == NAD_OK)
    st = nad_dataset_load(s->data, NAD_SPLIT_TEST, s->size[0], s->size[1], &d->test);
  if (st != NAD_OK) {
    int rc = cli_lib_error(st, "--data %s (%s split)", s->data, d->train ? "test" : "train");
    real_data_free(d);
    return rc;
  }
  int64_t n, tshape[3];
  nad_dataset_size(d->train, &n, d->shape);
  nad_dataset_size(d->test, &n, tshape);
  nad_dataset_num_classes(d->train, &d->classes);
  int64_t test_classes = 0;
  nad_dataset_num_classes(d->test, &test_classes);
  int rc = 0;
  if (memcmp(tshape, d->shape, sizeof tshape) != 0) {
    char a[64], b[64];
    rc = cli_error("--data %s: the test images are %s, the training images %s", s->data,
                   cli_shape_str(tshape, a, sizeof a), cli_shape_str(d->shape, b, sizeof b));
  } else if (test_classes > d->classes) {
    rc = cli_error("--data %s: the test split has label %lld, the training split only %lld "
                   "classes", s->data, (long long)test_classes - 1, (long long)d->classes);
  }
  if (rc == 0)
    rc = limit(&d->train, s->train_samples, "--train-samples");
  if (rc == 0)
    rc = limit(&d->test, s->test_samples, "--test-samples");
  if (rc == 0 && s->normalize) {
    const int64_t c = d->shape[0];
    double *m = malloc(2 * (size_t)c * sizeof(double)), *sd = m + c;
    if (!m)
      rc = cli_error("out of memory");
    else if ((st = nad_dataset_channel_stats(d->train, m, sd, (size_t)c)) != NAD_OK)
      rc = cli_lib_error(st, "--normalize");
    for (int64_t i = 0; rc == 0 && i < c; i++)
      if (!(sd[i] > 0))
        rc = cli_error("--normalize: channel %lld of the training images is constant (std 0)",
                       (long long)i);
    if (rc == 0 && (rc = normalize(&d->train, m, sd, c)) == 0)
      rc = normalize(&d->test, m, sd, c);
    free(m);
  }
  if (rc)
    real_data_free(d);
  return rc;
}

int real_make_arch(const char *command, const real_args *a, const real_data *d, nad_arch **out) {
  char input[96], outputs[32];
  cli_shape_str(d->shape, input, sizeof input);
  snprintf(outputs, sizeof outputs, "%lld", (long long)d->classes);
  cli_arch_opts ao = {a->name, input, NULL, a->spec_file, a->spec_string, a->init_rules};
  if (!a->spec_file && !a->spec_string)
    ao.outputs = outputs; /* one logit per class */
  int rc = cli_make_arch(command, &ao, out);
  if (rc)
    return rc;
  int64_t k = 0;
  nad_arch_num_outputs(*out, &k);
  if (k < d->classes) {
    nad_arch_destroy(*out);
    *out = NULL;
    return cli_usage_error(command, "the architecture has %lld outputs but the data have %lld "
                                    "classes (one logit per class is needed)", (long long)k,
                           (long long)d->classes);
  }
  return 0;
}

int real_read_nads(const char *dir, const real_data *d, float **nads, int64_t *count) {
  char path[4096];
  int64_t per = 0;
  if (cli_read_nads("--nads", dir, nads, count, &per, path, sizeof path) != 0)
    return CLI_ERR;
  const int64_t hw = d->shape[1] * d->shape[2];
  if (per == hw)
    return 0;
  nad_free(*nads);
  *nads = NULL;
  return cli_error("--nads: '%s' holds NADs of D = %lld values, the data need single-channel "
                   "NADs of %lldx%lld = %lld values (estimate them with 'nad estimate ARCH "
                   "--input 1x%lldx%lld')", path, (long long)per, (long long)d->shape[1],
                   (long long)d->shape[2], (long long)hw, (long long)d->shape[1],
                   (long long)d->shape[2]);
}

/* ---- training ------------------------------------------------------------------------------- */

int real_train(const nad_arch *arch, const nad_dataset *train, const real_data *d,
               const real_settings *s, const char *label, int keep_params, real_result *r) {
  const cli_train_settings ts = {.epochs = s->epochs, .batch = s->batch, .threads = s->threads,
                                 .schedule = s->schedule, .lr = s->lr, .momentum = s->momentum,
                                 .weight_decay = s->weight_decay, .clip = s->clip,
                                 .quiet = s->quiet};
  unsigned flags = CLI_TRAIN_TEST_EACH_EPOCH | CLI_TRAIN_EVAL_TRAIN;
  if (keep_params)
    flags |= CLI_TRAIN_KEEP_PARAMS;
  return cli_train(arch, (uint64_t)s->seed, &ts, train, d->test, flags, label, r);
}

void real_json_settings(cli_json *j, const real_settings *s, const real_data *d) {
  cli_json_string(j, "data", s->data);
  cli_json_shape(j, "shape", d->shape);
  cli_json_int(j, "classes", d->classes);
  cli_json_begin_array(j, "size", 1);
  cli_json_int(j, NULL, d->shape[1]);
  cli_json_int(j, NULL, d->shape[2]);
  cli_json_end_array(j);
  cli_json_int(j, "normalize", s->normalize);
  int64_t n = 0;
  nad_dataset_size(d->train, &n, NULL);
  cli_json_int(j, "train_samples", n);
  nad_dataset_size(d->test, &n, NULL);
  cli_json_int(j, "test_samples", n);
  cli_json_int(j, "batch", s->batch);
  cli_json_double(j, "lr", s->lr);
  cli_json_double(j, "momentum", s->momentum);
  cli_json_double(j, "weight_decay", s->weight_decay);
  cli_json_double(j, "clip", s->clip);
  cli_json_string(j, "schedule", s->schedule == NAD_SCHEDULE_ONECYCLE ? "onecycle" : "linear");
  cli_json_int(j, "seed", s->seed);
}

