/* The setup of an estimation run, shared by `nad estimate`, `nad merge` and the MPI driver:
 * estimate's options into an estimate_run (estimate_parse_args), and the settings that define a
 * run from an estimate_run into an estimator (estimate_setup_options: evaluation point or data
 * points, fixed network, output, ...). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "estimate.h"
#include "probe.h"

#define CMD "estimate"

/* "A:B" with 0 <= A < B <= n (the one range parser, ranges.c). */
static int parse_range(const char *text, int64_t n, int64_t *lo, int64_t *hi) {
  static const cli_range_rule rule = {CLI_RANGE_AB, "A:B (networks A to B - 1)", "networks", 0};
  cli_range r;
  int rc = cli_parse_range(CMD, "range", text, &rule, &r);
  if (rc)
    return rc;
  if (r.b > n)
    return cli_usage_error(CMD,
                           "--range %s reaches outside the %lld networks of the run (--networks "
                           "N is the total; need B <= N)",
                           text, (long long)n);
  *lo = r.a;
  *hi = r.b;
  return 0;
}

/* The NADs of the figure's grid: at most 4096 (a figure shows at most this many). */
static const cli_range_rule show_rule = {
    CLI_RANGE_ANY, "indices and ranges separated by commas (I, A:B or A:B:STEP with A < B, B "
                   "excluded; e.g. 0:16,100,500)", "indices", 0};

/* The options that depend on each other: mode, checkpoints, --out, evaluation points, a fixed
 * network, the output. */
static int check_run_options(const estimate_args *a, estimate_run *r) {
  int rc;
  if (strcmp(r->mode, "dipole") != 0 && strcmp(r->mode, "gradient") != 0)
    return cli_usage_error(CMD, "--mode: expected 'dipole' or 'gradient', got '%s'", r->mode);
  if (a->every && !a->checkpoint)
    return cli_usage_error(CMD, "--checkpoint-every needs --checkpoint FILE");
  if (a->check_every && !a->until_converged)
    return cli_usage_error(CMD, "--check-every needs --until-converged");
  if (a->check_growth && !a->until_converged)
    return cli_usage_error(CMD, "--check-growth needs --until-converged");
  if (a->until_converged && a->range)
    return cli_usage_error(CMD, "--until-converged decides where one run stops: it cannot be "
                                "split into parts (--range, nad-mpi)");
  r->check_every = a->until_converged ? (a->check_every ? r->check_every : 100) : 0;
  if (!a->out && !a->checkpoint)
    return cli_usage_error(CMD, "missing --out DIR (or, for a part of a job array, "
                                "--checkpoint FILE to merge later with 'nad merge')");
  if (a->eval_point && a->eval_point[0] == '\0')
    return cli_usage_error(CMD, "--eval-point: expected normal, zeros, a .npy file or "
                                "data:SOURCE");
  const int data = strncmp(r->eval_point, "data:", 5) == 0;
  if (data && r->eval_point[5] == '\0')
    return cli_usage_error(CMD, "--eval-point data:SOURCE: missing SOURCE (fashion-mnist, "
                                "idx:DIR, cifar10:DIR or npy:IMAGES,LABELS)");
  r->eval_split = a->eval_split ? a->eval_split : "test";
  if (strcmp(r->eval_split, "train") != 0 && strcmp(r->eval_split, "test") != 0)
    return cli_usage_error(CMD, "--eval-split: 'train' or 'test', got '%s'", r->eval_split);
  if (a->eval_split && !data)
    return cli_usage_error(CMD, "--eval-split needs --eval-point data:SOURCE");
  if (a->normalize && !data)
    return cli_usage_error(CMD, "--normalize needs --eval-point data:SOURCE");
  r->normalize = a->normalize;
  r->params = a->params;
  if (a->params && !data)
    return cli_usage_error(CMD, "--params (one fixed network) needs evaluation points from a "
                                "dataset: --eval-point data:SOURCE");
  r->output = 0;
  if (a->output && strcmp(a->output, "label") == 0) {
    if (!data)
      return cli_usage_error(CMD, "--output label needs labelled points: --eval-point "
                                  "data:SOURCE");
    r->output = NAD_OUTPUT_LABEL;
  } else if ((rc = cli_parse_i64("output", a->output, 0, INT32_MAX, &r->output))) {
    return rc;
  }
  return 0;
}

/* estimate's option texts that define a run, to and from run_texts. */
static void texts_of(const estimate_args *a, run_texts *t) {
  *t = (run_texts){a->ao, a->scale, a->mode, a->eval_point, a->eval_split, a->params,
                   a->output, a->seed, a->top, a->sketch, a->normalize ? "1" : NULL,
                   a->networks, a->range, a->threads, a->batch, a->memory};
}
static void texts_to(const run_texts *t, estimate_args *a) {
  a->ao = t->ao;
  a->scale = t->scale, a->mode = t->mode, a->eval_point = t->eval_point;
  a->eval_split = t->eval_split, a->params = t->params, a->output = t->output;
  a->seed = t->seed, a->top = t->top, a->sketch = t->sketch;
  a->normalize = t->normalize && strcmp(t->normalize, "1") == 0;
  a->networks = t->networks, a->range = t->range, a->threads = t->threads;
  a->batch = t->batch, a->memory = t->memory;
}

/* --resume PART: the options not given are the part's (its run record; none before format 4),
 * those given must agree with it. nad-mpi: each rank's own file (estimate_run.c). */
static int resume_record(estimate_args *a, const estimate_dist *dist) {
  char path[4096];
  if (dist)
    snprintf(path, sizeof path, "%s.rank%d", a->resume, dist->rank);
  else
    snprintf(path, sizeof path, "%s", a->resume);
  if (access(path, F_OK) != 0 && !a->ao.name && !a->ao.spec_file && !a->ao.spec_string)
    return cli_error("cannot resume from '%s': %s", path, strerror(errno));
  if (access(path, F_OK) != 0)
    return 0; /* the load says it, with the reason */
  a->resumed = calloc(1, sizeof *a->resumed);
  if (!a->resumed)
    return cli_error("out of memory");
  int rc = run_record_read(path, a->resumed);
  if (rc)
    return rc;
  if (!a->resumed->rec && !a->ao.name && !a->ao.spec_file && !a->ao.spec_string)
    return cli_usage_error(CMD, "'%s' is a checkpoint of format %d, which does not record its "
                           "run: give ARCH and the run's options again", path,
                           (int)a->resumed->version);
  run_texts t;
  texts_of(a, &t);
  if ((rc = run_record_apply(a->resumed, &t, 1)) != 0)
    return rc;
  texts_to(&t, a);
  return 0;
}

void estimate_args_free(estimate_args *a) {
  if (a->resumed)
    run_record_free(a->resumed);
  free(a->resumed);
  a->resumed = NULL;
}

int estimate_parse_args(int argc, char **argv, estimate_args *a, estimate_run *r,
                        const estimate_dist *dist) {
  memset(a, 0, sizeof *a);
  memset(r, 0, sizeof *r); /* r->show is freed by the caller whatever happens */
  const cli_opt opts[] = {
      {"input", 1, &a->ao.input, NULL},
      {"outputs", 1, &a->ao.outputs, NULL},
      {"spec", 1, &a->ao.spec_file, NULL},
      {"spec-string", 1, &a->ao.spec_string, NULL},
      {"init-rules", 1, &a->ao.init_rules, NULL},
      {"networks", 1, &a->networks, NULL},
      {"range", 1, &a->range, NULL},
      {"scale", 1, &a->scale, NULL},
      {"mode", 1, &a->mode, NULL},
      {"eval-point", 1, &a->eval_point, NULL},
      {"eval-split", 1, &a->eval_split, NULL},
      {"params", 1, &a->params, NULL},
      {"output", 1, &a->output, NULL},
      {"seed", 1, &a->seed, NULL},
      {"threads", 1, &a->threads, NULL},
      {"top", 1, &a->top, NULL},
      {"sketch", 1, &a->sketch, NULL},
      {"batch", 1, &a->batch, NULL},
      {"memory", 1, &a->memory, NULL},
      {"checkpoint", 1, &a->checkpoint, NULL},
      {"checkpoint-every", 1, &a->every, NULL},
      {"resume", 1, &a->resume, NULL},
      {"out", 1, &a->out, NULL},
      {"format", 1, &a->format, NULL},
      {"show", 1, &a->show, NULL},
      {"quiet", 0, NULL, &a->quiet},
      {"normalize", 0, NULL, &a->normalize},
      {"json", 0, NULL, &a->json},
      {"model", 1, &a->model, NULL},
      {"until-converged", 0, NULL, &a->until_converged},
      {"check-every", 1, &a->check_every, NULL},
      {"check-growth", 1, &a->check_growth, NULL},
  };
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), pos, 1, &npos);
  if (rc)
    return rc;
  a->ao.name = npos > 0 ? pos[0] : NULL;
  if (a->model && a->ao.name)
    return cli_usage_error(CMD, "give the model either as ARCH or with --model, not both");
  if (a->model)
    a->ao.name = a->model;
  if (a->resume && (rc = resume_record(a, dist)) != 0)
    return rc;
  if ((rc = cli_need_arch(CMD, &a->ao, "ARCH")) != 0)
    return rc;
  memset(r, 0, sizeof *r);
  r->command = CMD;
  r->networks = 1000;
  r->scale = 100.0;
  const int64_t max_threads = cli_option_max(NAD_OPT_NUM_THREADS);
  const int64_t max_batch = cli_option_max(NAD_OPT_BATCH);
  const int64_t cpus = dist ? dist->threads : cli_num_cpus();
  r->threads = cpus < max_threads ? cpus : max_threads;
  r->checkpoint_every = 100;
  r->mode = a->mode ? a->mode : "dipole";
  r->eval_point = a->eval_point ? a->eval_point : "normal";
  r->out_dir = a->out;
  r->checkpoint = a->checkpoint;
  r->resume = a->resume;
  r->quiet = a->quiet;
  r->json = a->json;
  r->batch = -1; /* library default */
  r->check_growth = 1.25; /* the library's default, stated in summary.json */
  double growth_lo = 1, growth_hi = 1e6;
  nad_option_bounds(NAD_OPT_CONVERGE_GROWTH, &growth_lo, &growth_hi);
  if ((rc = cli_parse_i64("networks", a->networks, 2, INT64_MAX, &r->networks)) ||
      (rc = cli_parse_double_pos("scale", a->scale, &r->scale)) ||
      (rc = cli_parse_i64("seed", a->seed, 0, cli_option_max(NAD_OPT_SEED), &r->seed)) ||
      (rc = cli_parse_i64("threads", a->threads, 0, max_threads, &r->threads)) ||
      (rc = cli_parse_i64("top", a->top, 0, INT64_MAX, &r->top)) ||
      (rc = cli_parse_i64("sketch", a->sketch, 1, cli_option_max(NAD_OPT_SKETCH), &r->sketch)) ||
      (rc = cli_parse_i64("batch", a->batch, 1, max_batch, &r->batch)) ||
      (rc = cli_parse_size("memory", a->memory, &r->memory)) ||
      (rc = cli_parse_i64("checkpoint-every", a->every, 1, INT64_MAX, &r->checkpoint_every)) ||
      (rc = cli_parse_i64("check-every", a->check_every, 1, cli_option_max(NAD_OPT_CONVERGE_EVERY),
                          &r->check_every)) ||
      (a->check_growth && (rc = cli_parse_double("check-growth", a->check_growth, growth_lo,
                                                 growth_hi, 0, &r->check_growth))) ||
      (rc = cli_parse_format(a->format, &r->format, &r->format_name)) ||
      (rc = cli_parse_indices(CMD, "show", a->show, 4096, &show_rule, &r->show, &r->nshow)))
    return rc;
  double step_lo = 0, step_hi = 0; /* the library's bounds, said as they are */
  if (a->scale && nad_option_bounds(NAD_OPT_STEP, &step_lo, &step_hi) == NAD_OK &&
      !(r->scale >= step_lo && r->scale <= step_hi))
    return cli_usage_error(CMD, "--scale: must be in (0, %g], got '%s'", step_hi, a->scale);
  if (r->threads == 0) /* record the real count: results are reproducible per count */
    r->threads = cpus < max_threads ? cpus : max_threads;
  r->range_lo = 0;
  r->range_hi = r->networks;
  if (a->range) {
    if ((rc = parse_range(a->range, r->networks, &r->range_lo, &r->range_hi)) != 0)
      return rc;
    r->has_range = 1;
  }
  if (a->until_converged && dist)
    return cli_usage_error(CMD, "--until-converged decides where one run stops: nad-mpi "
                                "cannot run it");
  return check_run_options(a, r);
}


/* Evaluation points from a dataset: the split of SOURCE at the architecture's image size. */
static int setup_eval_data(nad_estimator *e, estimate_run *r) {
  const char *source = r->eval_point + 5;
  char size[64];
  snprintf(size, sizeof size, "%lldx%lld", (long long)r->input[1], (long long)r->input[2]);
  const probe_data_args da = {source, r->eval_split, size, NULL, r->normalize};
  real_data d;
  int rc = probe_load(r->command, &da, &d);
  if (rc)
    return rc;
  nad_dataset *ds = d.train; /* the split loaded */
  nad_status st;
  int64_t shape[3];
  nad_dataset_size(ds, &r->points, shape);
  if (shape[0] != r->input[0]) {
    char a[64], b[64];
    rc = cli_error("--eval-point %s: the images are %s, the architecture takes %s (--input)",
                   r->eval_point, cli_shape_str(shape, a, sizeof a),
                   cli_shape_str(r->input, b, sizeof b));
  } else if (r->networks > r->points) {
    rc = cli_usage_error(r->command, "--networks %lld: the %s split of %s has only %lld points",
                         (long long)r->networks, r->eval_split, source, (long long)r->points);
  } else if ((st = nad_estimator_set_eval_data(e, ds)) != NAD_OK) {
    rc = cli_lib_error(st, "--eval-point %s", r->eval_point);
  }
  real_data_free(&d); /* the estimator keeps its own reference to the points */
  return rc;
}

/* The fixed network of --params: a .npy with the architecture's parameter count. */
static int setup_network(nad_estimator *e, const nad_arch *arch, const estimate_run *r) {
  float *p = NULL;
  int64_t shape[8], want = 0;
  int32_t nd = 0;
  if (cli_npy_read("--params", r->params, &p, shape, &nd) != 0)
    return CLI_ERR;
  nad_arch_num_params(arch, &want);
  const int64_t n = cli_numel(shape, nd);
  int rc = 0;
  nad_status st;
  if (n != want)
    rc = cli_error("--params '%s' has %lld values, %s with %lld outputs has %lld parameters "
                   "(trained with another architecture or --outputs?)",
                   r->params, (long long)n, r->arch_name, (long long)r->outputs,
                   (long long)want);
  else if ((st = nad_estimator_set_network(e, p, (size_t)n)) != NAD_OK)
    rc = cli_lib_error(st, "--params '%s'", r->params);
  nad_free(p);
  return rc;
}

/* Evaluation point: option value or the contents of a .npy file with D values. */
static int setup_eval_point(nad_estimator *e, estimate_run *r) {
  nad_status st;
  if (strncmp(r->eval_point, "data:", 5) == 0)
    return setup_eval_data(e, r);
  if (strcmp(r->eval_point, "normal") == 0 || strcmp(r->eval_point, "zeros") == 0) {
    int64_t v = r->eval_point[0] == 'n' ? NAD_EVAL_NORMAL : NAD_EVAL_ZEROS;
    if ((st = nad_estimator_set_int(e, NAD_OPT_EVAL_POINT, v)) != NAD_OK)
      return cli_lib_error(st, "--eval-point %s", r->eval_point);
    return 0;
  }
  float *x0 = NULL;
  int64_t shape[8];
  int32_t nd = 0;
  if (cli_npy_read("--eval-point", r->eval_point, &x0, shape, &nd) != 0)
    return CLI_ERR;
  int64_t d = r->input[0] * r->input[1] * r->input[2], n = cli_numel(shape, nd);
  int rc = 0;
  if (n != d) {
    char buf[64];
    rc = cli_error("--eval-point '%s' has %lld values, the input %s needs %lld", r->eval_point,
                   (long long)n, cli_shape_str(r->input, buf, sizeof buf), (long long)d);
  } else if ((st = nad_estimator_set_eval_point(e, x0, (size_t)n)) != NAD_OK) {
    rc = cli_lib_error(st, "--eval-point '%s'", r->eval_point);
  }
  nad_free(x0);
  return rc;
}

int estimate_set_int(nad_estimator *e, nad_option o, int64_t v, const char *opt) {
  nad_status st = nad_estimator_set_int(e, o, v);
  return st == NAD_OK ? 0 : cli_lib_error(st, "--%s %lld", opt, (long long)v);
}

/* All options that define the run: they must be set before a checkpoint is loaded, since
 * loading refuses a file made with other settings. The sketch size goes before --top: each
 * setter checks K <= L against the other. */
int estimate_setup_options(nad_estimator *e, const nad_arch *arch, estimate_run *r) {
  int rc;
  nad_status st;
  if ((rc = estimate_set_int(e, NAD_OPT_SEED, r->seed, "seed")) ||
      (rc = estimate_set_int(e, NAD_OPT_NUM_THREADS, r->threads, "threads")) ||
      (r->sketch > 0 && (rc = estimate_set_int(e, NAD_OPT_SKETCH, r->sketch, "sketch"))) ||
      (rc = estimate_set_int(e, NAD_OPT_TOP_K, r->top, "top")) ||
      (rc = estimate_set_int(e, NAD_OPT_MODE,
                    strcmp(r->mode, "gradient") == 0 ? NAD_MODE_GRADIENT : NAD_MODE_DIPOLE,
                    "mode")) ||
      (r->batch > 0 && (rc = estimate_set_int(e, NAD_OPT_BATCH, r->batch, "batch"))) ||
      (rc = estimate_set_int(e, NAD_OPT_MEMORY, r->memory, "memory")))
    return rc;
  if ((st = nad_estimator_set_double(e, NAD_OPT_STEP, r->scale)) != NAD_OK)
    return cli_lib_error(st, "--scale %g", r->scale);
  if (r->output >= r->outputs)
    return cli_usage_error(r->command, "--output %lld: the architecture has %lld outputs (--outputs)",
                           (long long)r->output, (long long)r->outputs);
  if ((rc = estimate_set_int(e, NAD_OPT_OUTPUT, r->output, "output")) != 0)
    return rc;
  if (r->params && (rc = setup_network(e, arch, r)) != 0)
    return rc;
  return setup_eval_point(e, r);
}

