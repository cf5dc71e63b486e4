/* An estimation run, shared by `nad estimate` (cmd_estimate.c), `nad merge` (cmd_merge.c) and
 * the MPI driver (mpi_driver.c, the nad-mpi tool): options and estimator setup
 * (estimate_setup.c), the run (estimate_run.c), the result files (estimate_out.c). */
#ifndef NAD_CLI_ESTIMATE_H
#define NAD_CLI_ESTIMATE_H

#include "cli.h"

typedef struct estimate_run {
  /* settings, as used */
  const char *command; /* "estimate" or "merge" */
  const char *arch_name;
  int64_t input[3];
  int64_t outputs, networks, seed, threads, top, batch, sketch;
  int64_t range_lo, range_hi; /* networks of this run: [range_lo, range_hi) */
  int has_range;              /* --range was given */
  int64_t memory; /* --memory, 0 = the library default */
  double scale;
  const char *mode;       /* "dipole" | "gradient" */
  const char *eval_point; /* "normal" | "zeros" | path | "data:SOURCE" */
  const char *eval_split; /* "train" | "test" (data points only) */
  const char *params;     /* fixed network (.npy), NULL: random networks */
  int64_t output;         /* response output, -1 (NAD_OUTPUT_LABEL) = each point's label */
  int64_t points;         /* data points available (data:SOURCE), 0 otherwise */
  int normalize;          /* data points normalised with the training split's statistics */
  const char *out_dir;    /* NULL: no result files (a part saved with --checkpoint) */
  const char *checkpoint; /* NULL: none */
  int64_t checkpoint_every;
  const char *resume; /* NULL: none */
  int quiet;
  nad_figure_format format; /* --format of the figures */
  const char *format_name;  /* "png" | "svg" | "pdf": the figures' file extension (NULL: png) */
  int64_t *show;            /* --show: NAD indices of the grid (NULL: the first 16) */
  int64_t nshow;
  int json; /* --json: summary.json as one line on stdout instead of the human summary */
  int64_t check_every; /* --until-converged: the first check and the schedule's unit (0: off) */
  double check_growth; /* --check-growth: the count's factor between two checks */
  const char *const *parts; /* merge: the checkpoint files */
  int n_parts;
  int mpi_ranks; /* nad-mpi: number of ranks (0: not distributed) */
  /* outcome */
  int64_t resumed_networks; /* networks loaded from --resume */
  int64_t networks_done;
  double seconds; /* wall time of the run (and finalize) */
  int64_t memory_budget, memory_planned, concurrent; /* nad_estimator_plan before the run */
  int64_t d, k;
} estimate_run;

/* A distributed run (nad-mpi). The driver fills it; the shared code calls it. */
typedef struct estimate_dist {
  int rank, size;
  int64_t threads; /* default worker threads of one rank */
  /* Called once by every rank after its accumulation, also when it failed (e = NULL,
   * failed = 1): first agrees on success across the ranks, then reduces the accumulators onto
   * rank 0. Returns 0 when every rank succeeded, else CLI_ERR (rank 0 prints which failed). */
  int (*reduce)(const struct estimate_dist *d, nad_estimator *e, int failed);
} estimate_dist;

/* `nad estimate` (dist NULL) or one rank of `nad-mpi estimate` (estimate_run.c). */
int estimate_main(int argc, char **argv, const estimate_dist *dist);

/* estimate's option texts as given (NULL when absent). */
typedef struct estimate_args {
  cli_arch_opts ao;
  const char *networks, *scale, *mode, *eval_point, *seed, *threads, *top, *batch, *sketch;
  const char *memory, *params, *output, *eval_split;
  const char *range, *checkpoint, *every, *resume, *out, *format, *show, *model, *check_every;
  const char *check_growth;
  int quiet, normalize, json, until_converged;
  struct run_record *resumed; /* the run record of --resume (texts above may point into it) */
} estimate_args;

/* Parses estimate's options into a and r (defaults filled in; dist: the rank's default thread
 * count); with --resume, the options not given are taken from the part's run record. 0, -1 for
 * --help, or CLI_USAGE (message printed). r->show and a->resumed (estimate_args_free) are the
 * caller's to free whatever happens. */
int estimate_parse_args(int argc, char **argv, estimate_args *a, estimate_run *r,
                        const estimate_dist *dist);

void estimate_args_free(estimate_args *a);

/* nad_estimator_set_int with the message "--opt V: ..." on failure: 0 or CLI_ERR. */
int estimate_set_int(nad_estimator *e, nad_option o, int64_t v, const char *opt);

/* Setup shared with `nad merge` (estimate_setup.c): the options that define a run (seed, mode, scale, evaluation
 * point or data points, fixed network, output, sketch, top, threads, batch, memory) from r into
 * e. Returns 0 or the exit code (printed). */
int estimate_setup_options(nad_estimator *e, const nad_arch *arch, estimate_run *r);

/* Writes the result files and, last, summary.json into r->out_dir; prints the human summary
 * unless quiet, or with json the summary as one JSON line. Returns 0 or CLI_ERR (message printed). */
int estimate_write_results(const nad_estimator *e, const estimate_run *r);

/* ---- the run record of a part (run_record.c) ----------------------------------------------- */

/* The option texts that define a run, as given (NULL: absent); normalize is "1" when given. */
typedef struct run_texts {
  cli_arch_opts ao;
  const char *scale, *mode, *eval_point, *eval_split, *params, *output, *seed, *top, *sketch;
  const char *normalize;
  const char *networks, *range, *threads, *batch, *memory; /* resume only */
} run_texts;

/* The record read from a checkpoint: rec NULL for formats 1 to 3 (none). */
typedef struct run_record {
  const char *path;
  int32_t version;
  struct record *rec;
} run_record;

/* The record of the run r (networks [lo, hi) of the whole run) with the architecture of ao, for
 * nad_estimator_set_run_record; *out malloc'd. 0 or the exit code (printed). */
int run_record_make(const estimate_run *r, const cli_arch_opts *ao, int64_t lo, int64_t hi,
                    char **out);
/* Reads the record of the checkpoint at path. 0 or the exit code (printed). */
int run_record_read(const char *path, run_record *out);
void run_record_free(run_record *r);
/* The options of t not given are taken from the record, those given must agree with it (else
 * the message names the part, the setting and both values). resume: also the networks, range
 * and the hints (threads, batch, memory). t's texts may point into the record afterwards. */
int run_record_apply(const run_record *pr, run_texts *t, int resume);
/* Two parts of one merge define the same run; else the message names both and the setting. */
int run_record_compare(const run_record *a, const run_record *b);

#endif
