/* State shared by the two halves of `nad estimate`: setup and run (cmd_estimate.c), results
 * and summary (estimate_out.c). */
#ifndef NAD_CLI_ESTIMATE_H
#define NAD_CLI_ESTIMATE_H

#include "cli.h"

typedef struct estimate_run {
  /* settings, as used */
  const char *arch_name;
  int64_t input[3];
  int64_t outputs, networks, seed, threads, top, batch;
  int64_t memory; /* --memory, 0 = the library default */
  double scale;
  const char *mode;       /* "dipole" | "gradient" */
  const char *eval_point; /* "normal" | "zeros" | path | "data:SOURCE" */
  const char *eval_split; /* "train" | "test" (data points only) */
  const char *params;     /* fixed network (.npy), NULL: random networks */
  int64_t output;         /* response output, -1 (NAD_OUTPUT_LABEL) = each point's label */
  int64_t points;         /* data points available (data:SOURCE), 0 otherwise */
  int normalize;          /* data points normalised with the training split's statistics */
  const char *out_dir;
  const char *checkpoint; /* NULL: none */
  int64_t checkpoint_every;
  const char *resume; /* NULL: none */
  int quiet;
  int json; /* --json: summary.json as one line on stdout instead of the human summary */
  /* outcome */
  int64_t resumed_networks; /* networks loaded from --resume */
  int64_t networks_done;
  double seconds; /* wall time of the run (and finalize) */
  int64_t memory_budget, memory_planned, concurrent; /* nad_estimator_plan before the run */
  int64_t d, k;
} estimate_run;

/* Writes the result files and, last, summary.json into r->out_dir; prints the human summary
 * unless quiet, or with json the summary as one JSON line. Returns 0 or CLI_ERR (message printed). */
int estimate_write_results(const nad_estimator *e, const estimate_run *r);

#endif
