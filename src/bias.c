/* The D(v) experiment shared by `nad bias` (cmd_bias.c) and `nad sweep` (sweep_dv.c, bias.h):
 * training options and settings, the architecture, directions (Fourier, NAD, random, file), one
 * training run on D(v). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bias.h"

/* ---- options -------------------------------------------------------------------------------- */

void bias_options(bias_args *a, cli_opt *o) {
  const cli_opt opts[BIAS_NOPTS] = {
      {"input", 1, &a->ao.input, NULL},
      {"spec", 1, &a->ao.spec_file, NULL},
      {"spec-string", 1, &a->ao.spec_string, NULL},
      {"init-rules", 1, &a->ao.init_rules, NULL},
      {"epsilon", 1, &a->epsilon, NULL},
      {"sigma", 1, &a->sigma, NULL},
      {"train", 1, &a->train, NULL},
      {"test", 1, &a->test, NULL},
      {"epochs", 1, &a->epochs, NULL},
      {"batch", 1, &a->batch, NULL},
      {"lr", 1, &a->lr, NULL},
      {"momentum", 1, &a->momentum, NULL},
      {"weight-decay", 1, &a->weight_decay, NULL},
      {"clip", 1, &a->clip, NULL},
      {"seed", 1, &a->seed, NULL},
      {"threads", 1, &a->threads, NULL},
      {"quiet", 0, NULL, &a->quiet},
      {"outputs", 1, &a->ao.outputs, NULL},
  };
  memcpy(o, opts, sizeof opts);
}

int bias_parse_settings(const char *command, const bias_args *a, bias_settings *s) {
  (void)command;
  memset(s, 0, sizeof *s);
  s->input[0] = 1, s->input[1] = 32, s->input[2] = 32;
  s->epsilon = 1.0, s->sigma = 3.0, s->lr = 0.5, s->momentum = 0.0, s->weight_decay = 0.0;
  s->clip = 0.5;
  s->train = 10000, s->test = 10000, s->epochs = 20, s->batch = 128, s->seed = 0;
  s->threads = cli_num_cpus();
  s->quiet = a->quiet;
  const int64_t max_threads = cli_option_max(NAD_OPT_NUM_THREADS);
  if (s->threads > max_threads)
    s->threads = max_threads;
  int rc;
  if ((rc = cli_parse_shape("input", a->ao.input, s->input)) ||
      (rc = cli_parse_double_pos("epsilon", a->epsilon, &s->epsilon)) ||
      (rc = cli_parse_double("sigma", a->sigma, 0, INFINITY, 0, &s->sigma)) ||
      (rc = cli_parse_i64("train", a->train, 1, INT32_MAX, &s->train)) ||
      (rc = cli_parse_i64("test", a->test, 1, INT32_MAX, &s->test)) ||
      (rc = cli_parse_i64("epochs", a->epochs, 1, cli_option_max(NAD_OPT_EPOCHS), &s->epochs)) ||
      (rc = cli_parse_i64("batch", a->batch, 1, cli_option_max(NAD_OPT_BATCH), &s->batch)) ||
      (rc = cli_parse_double("lr", a->lr, 0, INFINITY, 0, &s->lr)) ||
      (rc = cli_parse_double("momentum", a->momentum, 0, 1, 1, &s->momentum)) ||
      (rc = cli_parse_double("weight-decay", a->weight_decay, 0, INFINITY, 0, &s->weight_decay)) ||
      (rc = cli_parse_double("clip", a->clip, 0, INFINITY, 0, &s->clip)) ||
      (rc = cli_parse_i64("seed", a->seed, 0, cli_option_max(NAD_OPT_SEED) / 2 - 1,
                          &s->seed)) ||
      (rc = cli_parse_i64("threads", a->threads, 0, max_threads, &s->threads)))
    return rc;
  if (s->threads == 0) /* record the real count: results are reproducible per count */
    s->threads = cli_num_cpus() < max_threads ? cli_num_cpus() : max_threads;
  return 0;
}

int bias_make_arch(const char *command, bias_args *a, bias_settings *s, nad_arch **out) {
  if (a->ao.outputs && !a->ao.spec_file && !a->ao.spec_string)
    return cli_usage_error(command, "--outputs: a builtin gets 2 outputs (one per class)");
  cli_arch_opts ao = a->ao;
  if (!ao.spec_file && !ao.spec_string)
    ao.outputs = "2";
  int rc = cli_make_arch(command, &ao, out);
  if (rc)
    return rc;
  int64_t k = 0;
  nad_arch_num_outputs(*out, &k);
  if (k < 2) {
    nad_arch_destroy(*out);
    *out = NULL;
    return cli_usage_error(command, "the architecture has %lld output; D(v) has 2 classes, so "
                                    "the network needs >= 2 outputs (logits)", (long long)k);
  }
  nad_arch_input_shape(*out, s->input);
  return 0;
}

/* ---- directions ----------------------------------------------------------------------------- */

/* Strict integer from [p, end) with optional sign. */
static int take_int(const char **p, long long *v) {
  char *end = NULL;
  errno = 0;
  if (!(**p == '-' || **p == '+' || (**p >= '0' && **p <= '9')))
    return -1;
  *v = strtoll(*p, &end, 10);
  if (end == *p || errno == ERANGE)
    return -1;
  *p = end;
  return 0;
}

static int fourier_direction(const char *command, const char *spec, const bias_settings *s,
                             float *v) {
  const char *p = spec + strlen("fourier:");
  long long fy, fx;
  nad_fourier_part part = NAD_FOURIER_AUTO;
  if (take_int(&p, &fy) || *p++ != ',' || take_int(&p, &fx))
    return cli_usage_error(command, "--direction '%s': expected fourier:FY,FX[,sin|cos] with "
                                    "integer frequencies", spec);
  if (*p == ',') {
    p++;
    if (strcmp(p, "sin") == 0)
      part = NAD_FOURIER_SIN;
    else if (strcmp(p, "cos") == 0)
      part = NAD_FOURIER_COS;
    else
      return cli_usage_error(command, "--direction '%s': the part is 'sin' or 'cos', got '%s'",
                             spec, p);
  } else if (*p != '\0') {
    return cli_usage_error(command, "--direction '%s': unexpected '%s' after the frequencies",
                           spec, p);
  }
  const int64_t h = s->input[1], w = s->input[2];
  if (fy < -(h / 2) || fy > h / 2 || fx < -(w / 2) || fx > w / 2)
    return cli_usage_error(command, "--direction '%s': frequency (%lld, %lld) out of range for "
                                    "%lldx%lld inputs: FY in [%lld, %lld], FX in [%lld, %lld]",
                           spec, fy, fx, (long long)h, (long long)w, (long long)-(h / 2),
                           (long long)(h / 2), (long long)-(w / 2), (long long)(w / 2));
  int64_t d = s->input[0] * h * w;
  nad_status st = nad_direction_fourier(s->input[0], h, w, fy, fx, part, v, (size_t)d);
  if (st == NAD_ERR_INVALID_ARG)
    return cli_usage_error(command, "--direction '%s': %s", spec, nad_last_error());
  if (st != NAD_OK)
    return cli_lib_error(st, "--direction '%s'", spec);
  return 0;
}

int bias_read_nads(const char *dir, const bias_settings *s, float **nads, int64_t *k) {
  char path[4096], buf[64];
  int64_t per = 0;
  if (cli_read_nads("NADs", dir, nads, k, &per, path, sizeof path) != 0)
    return CLI_ERR;
  const int64_t d = s->input[0] * s->input[1] * s->input[2];
  if (per == d)
    return 0;
  nad_free(*nads);
  *nads = NULL;
  return cli_error("'%s' must hold K x D NADs with D = %lld (input %s), as written by 'nad "
                   "estimate'; it has D = %lld", path, (long long)d,
                   cli_shape_str(s->input, buf, sizeof buf), (long long)per);
}

int bias_direction(const char *command, const char *spec, const bias_settings *s, float *v) {
  const int64_t d = s->input[0] * s->input[1] * s->input[2];
  size_t len = strlen(spec);
  if (strncmp(spec, "fourier:", 8) == 0)
    return fourier_direction(command, spec, s, v);
  if (strcmp(spec, "random") == 0 || strncmp(spec, "random:", 7) == 0) {
    int64_t seed = s->seed;
    if (spec[6] == ':' && cli_parse_i64("direction random:SEED", spec + 7, 0, INT64_MAX, &seed))
      return CLI_USAGE;
    nad_status st = nad_direction_random((uint64_t)seed, v, (size_t)d);
    return st == NAD_OK ? 0 : cli_lib_error(st, "--direction '%s'", spec);
  }
  if (strncmp(spec, "nad:", 4) == 0) {
    const char *p = spec + 4;
    long long k;
    if (take_int(&p, &k) || *p != ':' || p[1] == '\0' || k < 0)
      return cli_usage_error(command, "--direction '%s': expected nad:K:DIR with K >= 0 and DIR "
                                      "a directory written by 'nad estimate'", spec);
    float *nads = NULL;
    int64_t rows = 0;
    int rc = bias_read_nads(p + 1, s, &nads, &rows);
    if (rc)
      return rc;
    if (k >= rows) {
      nad_free(nads);
      return cli_usage_error(command, "--direction '%s': NAD index %lld out of range (the file "
                                      "holds %lld NADs: 0..%lld)", spec, k, (long long)rows,
                             (long long)rows - 1);
    }
    memcpy(v, nads + k * d, (size_t)d * sizeof(float));
    nad_free(nads);
    return 0;
  }
  if (len > 4 && strcmp(spec + len - 4, ".npy") == 0) {
    float *data = NULL;
    int64_t shape[8];
    int32_t nd = 0;
    if (cli_npy_read("--direction", spec, &data, shape, &nd) != 0)
      return CLI_ERR;
    int64_t n = cli_numel(shape, nd);
    int rc = 0;
    if (n != d) {
      char buf[64];
      rc = cli_error("--direction '%s' has %lld values, the input %s needs %lld", spec,
                     (long long)n, cli_shape_str(s->input, buf, sizeof buf), (long long)d);
    } else {
      memcpy(v, data, (size_t)d * sizeof(float));
    }
    nad_free(data);
    return rc;
  }
  return cli_usage_error(command, "unknown --direction '%s': expected %s", spec, BIAS_DIRECTION_FORMS);
}

/* ---- training ------------------------------------------------------------------------------- */

/* One D(v) of bias_train, on its own thread when two are allowed. */
typedef struct dv_job {
  const float *v;
  const int64_t *in;
  int64_t n;
  double epsilon, sigma;
  uint64_t seed;
  nad_dataset *out;
  nad_status st;
} dv_job;

static void *dv_make(void *arg) {
  dv_job *j = arg;
  j->st = nad_dataset_create_linear(j->v, j->in[0], j->in[1], j->in[2], j->n, j->epsilon,
                                    j->sigma, j->seed, &j->out);
  return NULL;
}

/* The training and test sets (seeds 2S+1, 2S+2); with more than one thread allowed the test set
 * is drawn on a second thread meanwhile (each sample has its own random stream: the same data
 * either way). */
static nad_status make_sets(const float *v, const bias_settings *s, nad_dataset **train,
                            nad_dataset **test) {
  const uint64_t seed = (uint64_t)s->seed;
  dv_job j[2] = {{v, s->input, s->train, s->epsilon, s->sigma, 2 * seed + 1, NULL, NAD_OK},
                 {v, s->input, s->test, s->epsilon, s->sigma, 2 * seed + 2, NULL, NAD_OK}};
  pthread_t th;
  int two = (s->threads != 1 && sysconf(_SC_NPROCESSORS_ONLN) > 1) &&
            pthread_create(&th, NULL, dv_make, &j[1]) == 0;
  dv_make(&j[0]);
  if (two)
    pthread_join(th, NULL);
  else
    dv_make(&j[1]);
  *train = j[0].out;
  *test = j[1].out;
  return j[0].st != NAD_OK ? j[0].st : j[1].st;
}

int bias_train(const nad_arch *arch, const float *v, const bias_settings *s, const char *label,
               int test_each_epoch, bias_result *r) {
  memset(r, 0, sizeof *r);
  const uint64_t seed = (uint64_t)s->seed;
  nad_dataset *train = NULL, *test = NULL;
  nad_status st;
  int rc;
  if ((st = make_sets(v, s, &train, &test)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot build the dataset D(v)");
  } else {
    /* The reference's linear decay (the library's default schedule). */
    const cli_train_settings ts = {.epochs = s->epochs, .batch = s->batch, .threads = s->threads,
                                   .schedule = NAD_SCHEDULE_LINEAR, .lr = s->lr,
                                   .momentum = s->momentum, .weight_decay = s->weight_decay,
                                   .clip = s->clip, .quiet = s->quiet};
    rc = cli_train(arch, seed, &ts, train, test, test_each_epoch ? CLI_TRAIN_TEST_EACH_EPOCH : 0,
                   label, r);
  }
  nad_dataset_destroy(train);
  nad_dataset_destroy(test);
  return rc;
}

/* ---- settings as JSON ---------------------------------------------------------------------- */

void bias_json_settings(cli_json *j, const bias_settings *s) {
  cli_json_shape(j, "input", s->input);
  cli_json_double(j, "epsilon", s->epsilon);
  cli_json_double(j, "sigma", s->sigma);
  cli_json_int(j, "train", s->train);
  cli_json_int(j, "test", s->test);
  cli_json_int(j, "batch", s->batch);
  cli_json_double(j, "lr", s->lr);
  cli_json_double(j, "momentum", s->momentum);
  cli_json_double(j, "weight_decay", s->weight_decay);
  cli_json_double(j, "clip", s->clip);
  cli_json_int(j, "seed", s->seed);
}

