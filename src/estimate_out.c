/* `nad estimate` results: the .npy files, the picture, summary.json (written last, atomically,
 * so that its presence means "this directory holds one complete run") and the human summary. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "estimate.h"

#define PATH_LEN 4096
/* the figures' extension (nad merge leaves it unset: png) */
#define FORMAT_NAME(r) ((r)->format_name ? (r)->format_name : "png")

typedef struct convergence {
  int64_t ks[2];
  int nk;           /* entries of ks/overlap/corr that were computed */
  double overlap[2];
  double corr[2];
  /* nad_estimator_converged at the end: the verdict, and --until-converged's record */
  int criterion_known;
  int32_t converged;
  double crit_overlaps[2], crit_corr;
  char verdict[512];
} convergence;

static int join(char *dst, const char *dir, const char *name) {
  int n = snprintf(dst, PATH_LEN, "%s/%s", dir, name);
  if (n < 0 || n >= PATH_LEN)
    return cli_error("--out: path too long: '%s/%s'", dir, name);
  return 0;
}

/* Halves by parity, k = 1 and 10 (as far as K allows), reported as they are; the verdict is
 * nad_estimator_converged's criterion, the one --until-converged stops on, so a run's summary,
 * its picture's stamp and its stop never disagree (a top-1 test alone calls a run with
 * near-equal leading eigenvalues unconverged long after its subspaces agree: ResNet18's λ1 and
 * λ2 differ by 2.6 %, its top-1 overlap is 0.06 at 700 networks, its top-10 one 0.92).
 * A failure only makes the verdict "unknown"; the run itself is valid. */
static void check_convergence(const nad_estimator *e, const estimate_run *r, convergence *c) {
  memset(c, 0, sizeof *c);
  if (r->networks_done < 4) {
    snprintf(c->verdict, sizeof c->verdict,
             "unknown: %lld networks are too few to compare two halves (need >= 4)",
             (long long)r->networks_done);
    return;
  }
  const int64_t want[2] = {1, 10};
  for (int i = 0; i < 2; i++) {
    if (want[i] > r->k)
      break;
    nad_status st = nad_estimator_convergence(e, want[i], &c->overlap[c->nk], &c->corr[c->nk]);
    if (st != NAD_OK) {
      const char *msg = nad_last_error();
      snprintf(c->verdict, sizeof c->verdict, "unknown: convergence check failed (%s)",
               msg && msg[0] ? msg : nad_status_string(st));
      return;
    }
    c->ks[c->nk++] = want[i];
  }
  if (c->nk == 0) {
    snprintf(c->verdict, sizeof c->verdict, "unknown: no NADs kept");
    return;
  }
  nad_status st = nad_estimator_converged(e, &c->converged, c->crit_overlaps, &c->crit_corr);
  if (st != NAD_OK) {
    const char *msg = nad_last_error();
    snprintf(c->verdict, sizeof c->verdict, "unknown: convergence check failed (%s)",
             msg && msg[0] ? msg : nad_status_string(st));
    return;
  }
  c->criterion_known = 1;
  const long long k1 = r->k < 10 ? (long long)r->k : 10, k2 = r->k < 50 ? (long long)r->k : 50;
  char detail[256];
  int n = snprintf(detail, sizeof detail, "top-%lld subspace overlap %.3f, top-%lld %.3f", k1,
                   c->crit_overlaps[0], k2, c->crit_overlaps[1]);
  n += snprintf(detail + n, sizeof detail - (size_t)n, ", spectrum corr %.4f, top-1 overlap %.3f",
                c->corr[0], c->overlap[0]);
  if (c->converged)
    snprintf(c->verdict, sizeof c->verdict, "converged: halves agree (%s)", detail);
  else
    snprintf(c->verdict, sizeof c->verdict,
             "not converged: halves disagree (%s; converged means top-%lld and top-%lld "
             "overlaps >= 0.9 and >= 0.8, best of k..1.5k, and spectrum corr >= 0.99): "
             "increase --networks%s",
             detail, k1, k2, r->check_every > 0 ? "" : ", or use --until-converged");
}

/* A result that is no result (issue 11): the eigenvalues are not finite, or none is positive
 * (e.g. --scale 1e-10: the responses underflow to zero). Why into why (empty when fine). */
static void check_degenerate(const double *evals, int64_t k, char *why, size_t len) {
  why[0] = '\0';
  for (int64_t i = 0; i < k; i++)
    if (!isfinite(evals[i])) {
      snprintf(why, len, "eigenvalue %lld is not finite", (long long)i);
      return;
    }
  if (k > 0 && !(evals[0] > 0.0))
    snprintf(why, len, "no eigenvalue is positive (the largest is %g): the responses do not "
                       "vary across networks (is --scale too small or too large?)", evals[0]);
}

/* The figures, written as <name>.<format>. */
static const char *const figure_names[] = {"nads", "spectrum", "eigenvalues"};

/* nad_estimator_degenerate's verdict (a warning, not an error: the NADs are written). */
typedef struct response_check {
  int32_t degenerate;
  double trace, scale;
} response_check;

static void write_summary_json(FILE *f, const estimate_run *r, const convergence *c,
                               double sketch_error, const char *degenerate,
                               const response_check *rsp, int one_line) {
  cli_json j;
  if (one_line)
    cli_json_init_one_line(&j, f);
  else
    cli_json_init(&j, f);
  cli_json_begin_object(&j, NULL);
  cli_json_string(&j, "command", r->command);
  cli_json_string(&j, "arch", r->arch_name);
  cli_json_shape(&j, "input", r->input);
  cli_json_int(&j, "outputs", r->outputs);
  cli_json_int(&j, "networks", r->networks);
  cli_json_double(&j, "scale", r->scale);
  cli_json_string(&j, "mode", r->mode);
  cli_json_string(&j, "eval_point", r->eval_point);
  /* The samples: random networks at one point, or one fixed network at data points. */
  cli_json_string(&j, "network", r->params ? "fixed" : "random");
  cli_json_string(&j, "params", r->params);
  if (r->output == NAD_OUTPUT_LABEL)
    cli_json_string(&j, "output", "label");
  else
    cli_json_int(&j, "output", r->output);
  if (r->points > 0) {
    cli_json_string(&j, "eval_split", r->eval_split);
    cli_json_int(&j, "normalize", r->normalize);
    cli_json_int(&j, "points_available", r->points);
  }
  cli_json_int(&j, "seed", r->seed);
  cli_json_int(&j, "threads", r->threads);
  cli_json_int(&j, "top", r->top);
  cli_json_int(&j, "sketch", r->sketch);
  if (r->sketch > 0)
    cli_json_double(&j, "sketch_error", sketch_error);
  if (r->has_range) {
    cli_json_begin_array(&j, "range", 1);
    cli_json_int(&j, NULL, r->range_lo);
    cli_json_int(&j, NULL, r->range_hi);
    cli_json_end_array(&j);
  }
  if (r->n_parts > 0) {
    cli_json_begin_array(&j, "parts", 0);
    for (int i = 0; i < r->n_parts; i++)
      cli_json_string(&j, NULL, r->parts[i]);
    cli_json_end_array(&j);
  }
  if (r->mpi_ranks > 0)
    cli_json_int(&j, "mpi_ranks", r->mpi_ranks);
  cli_json_int(&j, "batch", r->batch);
  cli_json_begin_object(&j, "memory");
  cli_json_int(&j, "budget", r->memory_budget);
  cli_json_int(&j, "planned", r->memory_planned);
  cli_json_int(&j, "concurrent_networks", r->concurrent);
  cli_json_end_object(&j);
  cli_json_string(&j, "resume", r->resume);
  cli_json_int(&j, "resumed_networks", r->resumed_networks);
  cli_json_string(&j, "checkpoint", r->checkpoint);
  cli_json_int(&j, "networks_done", r->networks_done);
  if (r->check_every > 0) { /* --until-converged: where it stopped, and why */
    cli_json_begin_object(&j, "until_converged");
    cli_json_int(&j, "check_every", r->check_every);
    cli_json_double(&j, "check_growth", r->check_growth);
    cli_json_int(&j, "max_networks", r->networks);
    cli_json_int(&j, "networks_used", r->networks_done);
    cli_json_bool(&j, "converged", c->converged);
    if (c->criterion_known) { /* else the verdict says why not */
      cli_json_double(&j, "overlap_k1", c->crit_overlaps[0]);
      cli_json_double(&j, "overlap_k2", c->crit_overlaps[1]);
      cli_json_double(&j, "spectrum_corr", c->crit_corr);
    }
    cli_json_end_object(&j);
  }
  cli_json_int(&j, "d", r->d);
  cli_json_int(&j, "k", r->k);
  cli_json_double(&j, "seconds", r->seconds);
  int64_t ran = r->networks_done - r->resumed_networks;
  cli_json_double(&j, "networks_per_second",
                  r->seconds > 0 && ran > 0 ? (double)ran / r->seconds : 0.0);
  cli_json_begin_object(&j, "convergence");
  for (int i = 0; i < c->nk; i++) {
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)c->ks[i]);
    cli_json_begin_object(&j, key);
    cli_json_double(&j, "overlap", c->overlap[i]);
    cli_json_double(&j, "spectrum_corr", c->corr[i]);
    cli_json_end_object(&j);
  }
  cli_json_end_object(&j);
  cli_json_string(&j, "verdict", c->verdict);
  cli_json_bool(&j, "degenerate", degenerate[0] != '\0');
  if (degenerate[0])
    cli_json_string(&j, "degenerate_reason", degenerate);
  cli_json_bool(&j, "degenerate_response", rsp->degenerate != 0);
  cli_json_double(&j, "response_trace", rsp->trace);
  cli_json_double(&j, "response_scale", rsp->scale);
  cli_json_begin_array(&j, "files", 1);
  static const char *const files[] = {"eigenvalues.npy", "nads.npy", "mean.npy", "spectrum.npy"};
  const int n_files = (int)(sizeof files / sizeof files[0]);
  for (int i = 0; i < n_files; i++)
    cli_json_string(&j, NULL, files[i]);
  for (size_t i = 0; i < sizeof figure_names / sizeof figure_names[0]; i++) {
    char name[32];
    snprintf(name, sizeof name, "%s.%s", figure_names[i], FORMAT_NAME(r));
    cli_json_string(&j, NULL, name);
  }
  cli_json_end_array(&j);
  cli_json_checksums(&j, r->out_dir, files, n_files); /* readers check them (runset.c) */
  cli_json_string(&j, "libnad_version", nad_version_string());
  cli_json_blas(&j, "blas");
  cli_json_end_object(&j);
  cli_json_finish(&j);
}

/* summary.json replaced atomically: it appears complete or not at all. */
static int write_summary(const estimate_run *r, const convergence *c, double sketch_error,
                         const char *degenerate, const response_check *rsp) {
  char path[PATH_LEN];
  nadi_atomic_file af;
  if (join(path, r->out_dir, "summary.json") || cli_atomic_open(&af, path))
    return CLI_ERR;
  write_summary_json(af.fp, r, c, sketch_error, degenerate, rsp, 0);
  return cli_atomic_commit(&af);
}

static void print_human(const estimate_run *r, const double *evals, const convergence *c,
                        double sketch_error) {
  char buf[64];
  int64_t ran = r->networks_done - r->resumed_networks;
  char out[32] = "label";
  if (r->output != NAD_OUTPUT_LABEL)
    snprintf(out, sizeof out, "%lld", (long long)r->output);
  if (r->params)
    printf("%s %s: network %s at %lld points of %s (%s split; %s, scale %g, output %s)\n",
           r->arch_name, cli_shape_str(r->input, buf, sizeof buf), r->params,
           (long long)r->networks_done, r->eval_point + 5, r->eval_split, r->mode, r->scale, out);
  else
    printf("%s %s: %lld networks (%s, scale %g, eval point %s, seed %lld)\n", r->arch_name,
           cli_shape_str(r->input, buf, sizeof buf), (long long)r->networks_done, r->mode,
           r->scale, r->eval_point, (long long)r->seed);
  if (r->n_parts > 0)
    printf("merged %d parts\n", r->n_parts);
  if (r->mpi_ranks > 0)
    printf("%d MPI ranks\n", r->mpi_ranks);
  if (r->sketch > 0)
    printf("sketch of %lld rows: eigenvalues low by at most %.3g (%.2g of the largest)\n",
           (long long)r->sketch, sketch_error,
           r->k > 0 && evals[0] > 0 ? sketch_error / evals[0] : 0.0);
  if (r->resumed_networks > 0)
    printf("resumed %lld networks from %s\n", (long long)r->resumed_networks, r->resume);
  if (ran > 0)
    printf("time: %.2f s, %.3g networks/s on %lld threads\n", r->seconds,
           r->seconds > 0 ? (double)ran / r->seconds : 0.0, (long long)r->threads);
  else /* a finished checkpoint's results written again: a rate of 0 would read as a stall */
    printf("time: %.2f s on %lld threads, no networks left to run (all came from %s)\n",
           r->seconds, (long long)r->threads, r->resume ? r->resume : "the checkpoint");
  printf("memory: %.2f GiB planned of a %.2f GiB budget (%lld network%s at a time, batch %lld); "
         "BLAS: %s %s\n",
         (double)r->memory_planned / 1073741824.0, (double)r->memory_budget / 1073741824.0,
         (long long)r->concurrent, r->concurrent == 1 ? "" : "s", (long long)r->batch,
         nad_blas_info(NAD_BLAS_VENDOR), nad_blas_info(NAD_BLAS_CORE));
  printf("top eigenvalues:");
  for (int64_t i = 0; i < r->k && i < 5; i++)
    printf(" %.4g", evals[i]);
  printf("%s\n", r->k > 5 ? " ..." : "");
  printf("%s\n", c->verdict);
  if (r->check_every > 0) {
    printf("until converged (checks from %lld networks on, growing by %g): %s after %lld of "
           "at most %lld networks",
           (long long)r->check_every, r->check_growth, c->converged ? "converged" : "NOT converged",
           (long long)r->networks_done, (long long)r->networks);
    if (c->criterion_known) /* else the verdict above says why not */
      printf(" (overlaps %.3f, %.3f; spectrum corr %.4f)", c->crit_overlaps[0],
             c->crit_overlaps[1], c->crit_corr);
    printf("\n");
  }
  printf("wrote %s/: eigenvalues.npy nads.npy mean.npy spectrum.npy nads.%s spectrum.%s "
         "eigenvalues.%s summary.json\n",
         r->out_dir, FORMAT_NAME(r), FORMAT_NAME(r), FORMAT_NAME(r));
}

/* nads, spectrum and eigenvalues figures, titled with the run's settings. */
static int write_figures(const estimate_run *r, const double *evals, const float *nads,
                         const double *spectrum, const convergence *c) {
  char path[PATH_LEN], title[256], shape[64], name[32];
  snprintf(title, sizeof title, "%s, input %s, N = %lld, %s", r->arch_name,
           cli_shape_str(r->input, shape, sizeof shape), (long long)r->networks_done, r->mode);
  int not_converged = strncmp(c->verdict, "not converged", 13) == 0;
  for (size_t i = 0; i < sizeof figure_names / sizeof figure_names[0]; i++) {
    snprintf(name, sizeof name, "%s.%s", figure_names[i], FORMAT_NAME(r));
    int rc = join(path, r->out_dir, name);
    if (rc != 0)
      return rc;
    nad_status st;
    if (i == 0)
      st = nad_figure_nads(path, r->format, nads, r->k, r->input[0], r->input[1], r->input[2],
                           evals, r->show, r->nshow, title,
                           not_converged ? NAD_FIGURE_NOT_CONVERGED : 0);
    else if (i == 1)
      st = nad_figure_spectrum(path, r->format, spectrum, r->input[0], r->input[1], r->input[2],
                               title);
    else
      st = nad_figure_eigenvalues(path, r->format, evals, r->k, title);
    if (st != NAD_OK)
      return cli_lib_error(st, "cannot write '%s'", path);
  }
  return 0;
}

int estimate_write_results(const nad_estimator *e, const estimate_run *r) {
  const int64_t d = r->d, k = r->k;
  double *evals = malloc((size_t)(k > 0 ? k : 1) * sizeof(double));
  float *nads = malloc((size_t)(k > 0 ? k : 1) * (size_t)d * sizeof(float));
  double *mean = malloc((size_t)d * sizeof(double));
  double *spectrum = malloc((size_t)d * sizeof(double));
  char path[PATH_LEN];
  int rc = 0;
  double sketch_error = 0.0;
  nad_status st;
  if (!evals || !nads || !mean || !spectrum) {
    rc = cli_error("out of memory for the results (K = %lld, D = %lld)", (long long)k,
                   (long long)d);
    goto done;
  }
  if ((st = nad_estimator_eigenvalues(e, evals, (size_t)k)) != NAD_OK ||
      (st = nad_estimator_nads(e, nads, (size_t)(k * d))) != NAD_OK ||
      (st = nad_estimator_mean(e, mean, (size_t)d)) != NAD_OK ||
      (st = nad_estimator_spectrum(e, spectrum, (size_t)d)) != NAD_OK ||
      (st = nad_estimator_sketch_error(e, &sketch_error)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot read the results");
    goto done;
  }
  convergence conv;
  check_convergence(e, r, &conv);
  /* A summary.json of an earlier run would vouch for a mix of old and new files. */
  if ((rc = join(path, r->out_dir, "summary.json")) != 0)
    goto done;
  if (unlink(path) != 0 && errno != ENOENT) {
    rc = cli_error("cannot remove the old '%s': %s", path, strerror(errno));
    goto done;
  }
  const int64_t shape_k[1] = {k}, shape_kd[2] = {k, d}, shape_d[1] = {d};
  struct {
    const char *name;
    const void *data;
    int32_t f64, ndim;
    const int64_t *shape;
  } npys[] = {
      {"eigenvalues.npy", evals, 1, 1, shape_k},
      {"nads.npy", nads, 0, 2, shape_kd},
      {"mean.npy", mean, 1, 1, shape_d},
      {"spectrum.npy", spectrum, 1, 3, r->input},
  };
  for (size_t i = 0; i < sizeof npys / sizeof npys[0]; i++) {
    if ((rc = join(path, r->out_dir, npys[i].name)) != 0 || (rc = cli_set_member(path)) != 0)
      goto done;
    st = nad_npy_write(path, npys[i].data, npys[i].f64, npys[i].shape, npys[i].ndim);
    if (st != NAD_OK) {
      rc = cli_lib_error(st, "cannot write '%s'", path);
      goto done;
    }
  }
  if ((rc = write_figures(r, evals, nads, spectrum, &conv)) != 0)
    goto done;
  char degenerate[256];
  check_degenerate(evals, k, degenerate, sizeof degenerate);
  response_check rsp = {0, 0.0, 0.0};
  if ((st = nad_estimator_degenerate(e, &rsp.degenerate, &rsp.trace, &rsp.scale)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot read the results");
    goto done;
  }
  if ((rc = write_summary(r, &conv, sketch_error, degenerate, &rsp)) != 0)
    goto done;
  if (rsp.degenerate && !degenerate[0])
    fprintf(stderr, "nad: warning: degenerate response: the covariance's trace %.3g is zero or "
                    "below float32 rounding of the outputs (mean |f| %.3g, step %g): the NADs "
                    "are rounding noise, not the network's (\"degenerate_response\": true in "
                    "summary.json)\n", rsp.trace, rsp.scale, r->scale);
  if (degenerate[0]) { /* files kept for inspection, but not a success */
    rc = cli_error("degenerate result: %s (files written to '%s' for inspection, marked "
                   "\"degenerate\": true in summary.json)", degenerate, r->out_dir);
    goto done;
  }
  if (r->json) { /* the same summary, for scripts: one line, nothing else on stdout */
    write_summary_json(stdout, r, &conv, sketch_error, degenerate, &rsp, 1);
    fflush(stdout);
  } else if (!r->quiet) {
    print_human(r, evals, &conv, sketch_error);
    fflush(stdout);
  }
done:
  free(evals);
  free(nads);
  free(mean);
  free(spectrum);
  return rc;
}
