/* One estimation run, `nad estimate` or one rank of `nad-mpi estimate` (estimate_main): the
 * architecture and estimator (estimate_setup.c), resume, the accumulation with progress and
 * Ctrl-C handling, checkpoints, job-array parts (--range), the reduction of a distributed run,
 * the finalize and the result files (estimate_out.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "estimate.h"

#define CMD "estimate"

/* The progress callback's state: the bar, and the checkpoint failures already reported. */
typedef struct run_watch {
  cli_progress bar;
  const nad_estimator *e;
  const char *checkpoint;
  int64_t failures_seen;
  char last_error[512]; /* the last failure printed: a repeat of it is not printed again */
} run_watch;

/* A checkpoint save that failed since the last call is said at once (the run goes on; the
 * summary after the run counts them), once per distinct message. */
static void report_checkpoint_failure(run_watch *w) {
  int64_t failures = 0;
  const char *msg = nad_estimator_checkpoint_error(w->e, &failures);
  if (failures <= w->failures_seen)
    return;
  w->failures_seen = failures;
  if (strcmp(msg, w->last_error) == 0)
    return;
  snprintf(w->last_error, sizeof w->last_error, "%s", msg);
  cli_progress_end(&w->bar); /* the warning on its own line; the bar redraws below it */
  fprintf(stderr, "nad: warning: checkpoint save to '%s' failed: %s; the run goes on, the file "
                  "keeps the last checkpoint that could be written\n", w->checkpoint, msg);
  fflush(stderr);
}

static int on_progress(void *user_data, int64_t done, int64_t total) {
  run_watch *w = user_data;
  if (w->checkpoint)
    report_checkpoint_failure(w);
  cli_progress_update(&w->bar, done, total);
  return cli_signal() != 0;
}

/* Accumulates the networks of [range_lo, range_hi) not already loaded by --resume (so
 * --networks is the total), with the progress bar and Ctrl-C handling. The library saves
 * --checkpoint every N networks and once more when the run ends, also when it is cancelled.
 * Returns 0, CLI_ERR or 128 + signal. */
static int accumulate(nad_estimator *e, estimate_run *r) {
  nad_status st;
  int rc;
  if ((rc = estimate_set_int(e, NAD_OPT_FIRST_NETWORK, r->range_lo, "range")) ||
      (rc = estimate_set_int(e, NAD_OPT_NUM_NETWORKS, r->range_hi - r->range_lo, "networks")) ||
      (rc = estimate_set_int(e, NAD_OPT_CONVERGE_EVERY, r->check_every, "check-every")))
    return rc;
  if (r->check_every > 0 &&
      (st = nad_estimator_set_double(e, NAD_OPT_CONVERGE_GROWTH, r->check_growth)) != NAD_OK)
    return cli_lib_error(st, "--check-growth %g", r->check_growth);
  if (r->checkpoint &&
      (st = nad_estimator_set_checkpoint(e, r->checkpoint, r->checkpoint_every)) != NAD_OK)
    return cli_lib_error(st, "--checkpoint '%s'", r->checkpoint);
  /* The memory plan first: a run that cannot fit is refused before anything big exists. */
  if ((st = nad_estimator_plan(e, &r->memory_budget, &r->memory_planned, &r->batch,
                               &r->concurrent)) != NAD_OK)
    return cli_lib_error(st, "not enough memory");
  if (!r->quiet && r->concurrent < r->threads &&
      r->concurrent < r->range_hi - r->range_lo - r->resumed_networks)
    /* With the default budget the probes also stay under 1.5 GiB (NAD_OPT_MEMORY), which is
     * what limits a large network on a large machine: say both, or the user raises a budget
     * that was not the limit. */
    fprintf(stderr, "nad: note: %lld network%s at a time (of %lld threads) fit%s the memory "
                    "budget of %.2f GiB%s: --memory SIZE %s\n",
            (long long)r->concurrent, r->concurrent == 1 ? "" : "s", (long long)r->threads,
            r->concurrent == 1 ? "s" : "", (double)r->memory_budget / 1073741824.0,
            r->memory ? "" : " and the default cap of 1.5 GiB on the networks being probed",
            r->memory ? "raises it" : "sets the budget and lifts the cap");
  run_watch watch = {.e = e, .checkpoint = r->checkpoint};
  cli_progress_init(&watch.bar, !r->quiet && isatty(STDERR_FILENO));
  if ((st = nad_estimator_set_progress(e, on_progress, &watch)) != NAD_OK)
    return cli_lib_error(st, "cannot install the progress callback");
  double t0 = cli_now();
  cli_signals_install();
  cli_signals_target(e, NULL); /* Ctrl-C stops the network being probed, whatever its size */
  st = nad_estimator_accumulate(e);
  cli_signals_restore();
  r->seconds = cli_now() - t0;
  cli_progress_end(&watch.bar);
  nad_estimator_set_progress(e, NULL, NULL);
  int64_t ck_failed = 0;
  const char *ck_err = nad_estimator_checkpoint_error(e, &ck_failed);
  if (ck_failed > 0) /* the run went on; the file holds the last state that could be saved */
    fprintf(stderr, "nad: warning: %lld checkpoint save%s to '%s' failed (last: %s); the file "
                    "keeps the last checkpoint that could be written%s\n",
            (long long)ck_failed, ck_failed == 1 ? "" : "s", r->checkpoint, ck_err,
            st == NAD_OK ? ", the results are written" : "");
  if (st == NAD_ERR_CANCELLED) {
    int64_t done = 0;
    nad_estimator_networks_done(e, &done);
    if (r->checkpoint)
      fprintf(stderr, "nad: cancelled; checkpoint '%s' holds %lld networks (continue with "
                      "--resume %s, or write their results now with --resume %s --networks "
                      "%lld)\n", r->checkpoint, (long long)done, r->checkpoint, r->checkpoint,
              (long long)done);
    else
      fprintf(stderr, "nad: cancelled after %lld networks; no results written\n",
              (long long)done);
    return cli_signal_exit_code();
  }
  if (st != NAD_OK)
    return cli_lib_error(st, "estimation failed");
  return 0;
}

/* Eigensolve and spectrum of what was accumulated (and reduced), then the result files. */
static int finish(nad_estimator *e, estimate_run *r) {
  nad_status st;
  double t0 = cli_now();
  if ((st = nad_estimator_finalize(e)) != NAD_OK)
    return cli_lib_error(st, "estimation failed");
  r->seconds += cli_now() - t0;
  if ((st = nad_estimator_networks_done(e, &r->networks_done)) != NAD_OK ||
      (st = nad_estimator_dims(e, &r->d, &r->k)) != NAD_OK)
    return cli_lib_error(st, "cannot read the results");
  int64_t v = 0; /* the batch the memory plan chose, else the option's (nad merge) */
  if (r->batch <= 0 && nad_estimator_get_int(e, NAD_OPT_BATCH, &v) == NAD_OK)
    r->batch = v;
  return estimate_write_results(e, r);
}

/* "PATH.rankR": each rank of nad-mpi keeps its own checkpoint. */
static char *rank_path(const char *path, int rank) {
  size_t n = strlen(path) + 32;
  char *p = malloc(n);
  if (p)
    snprintf(p, n, "%s.rank%d", path, rank);
  return p;
}

/* The part's run record, so that its checkpoints describe the run (run_record.c). */
static int set_record(nad_estimator *e, const estimate_run *r, const cli_arch_opts *ao,
                      int64_t lo, int64_t hi) {
  char *text = NULL;
  int rc = run_record_make(r, ao, lo, hi, &text);
  if (rc)
    return rc;
  nad_status st = nad_estimator_set_run_record(e, text);
  free(text);
  return st == NAD_OK ? 0 : cli_lib_error(st, "cannot set the run record");
}

int estimate_main(int argc, char **argv, const estimate_dist *dist) {
  estimate_args a;
  estimate_run r;
  nad_arch *arch = NULL;
  nad_estimator *e = NULL;
  char *ckpt_rank = NULL, *resume_rank = NULL;
  nad_status st;
  int out_lock = -1;
  int rc = estimate_parse_args(argc, argv, &a, &r, dist);
  if (rc < 0) {
    free(r.show);
    estimate_args_free(&a);
    return CLI_OK; /* --help: the same on every rank, nothing collective */
  }
  if (rc)
    goto sync;
  const int64_t run_lo = r.range_lo, run_hi = r.range_hi; /* the run's, for its record */
  if (dist) {
    /* This rank's share of the networks, and its own checkpoint files. */
    const int64_t lo = r.range_lo, n = r.range_hi - r.range_lo;
    r.range_lo = lo + n * dist->rank / dist->size;
    r.range_hi = lo + n * (dist->rank + 1) / dist->size;
    r.mpi_ranks = dist->size;
    if (r.checkpoint && !(r.checkpoint = ckpt_rank = rank_path(r.checkpoint, dist->rank)))
      rc = cli_error("out of memory");
    if (!rc && r.resume && !(r.resume = resume_rank = rank_path(r.resume, dist->rank)))
      rc = cli_error("out of memory");
    if (dist->rank != 0)
      r.out_dir = NULL; /* rank 0 writes */
    if (rc)
      goto sync;
  }
  if ((rc = cli_make_arch(CMD, &a.ao, &arch)) != 0)
    goto sync;
  r.arch_name = nad_arch_name(arch);
  if ((st = nad_arch_input_shape(arch, r.input)) != NAD_OK ||
      (st = nad_arch_num_outputs(arch, &r.outputs)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot describe architecture");
    goto sync;
  }
  int64_t d = r.input[0] * r.input[1] * r.input[2];
  if (r.top > d) {
    rc = cli_usage_error(CMD, "--top: must be <= C*H*W = %lld, got %lld", (long long)d,
                         (long long)r.top);
    goto sync;
  }
  for (int64_t i = 0; i < r.nshow; i++)
    if (r.show[i] >= (r.top > 0 ? r.top : d)) {
      rc = cli_usage_error(CMD, "--show: NAD %lld does not exist (the run keeps %lld NADs)",
                           (long long)r.show[i], (long long)(r.top > 0 ? r.top : d));
      goto sync;
    }
  if ((st = nad_estimator_create(arch, &e)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot create estimator");
    goto sync;
  }
  if ((rc = estimate_setup_options(e, arch, &r)) != 0 ||
      (rc = set_record(e, &r, &a.ao, run_lo, run_hi)) != 0)
    goto sync;
  /* Fail before a long run, not after it, when the results cannot be written, or when another
   * run writes into the same directory (runset.c). */
  if (r.out_dir && (rc = cli_out_dir(r.out_dir)) != 0)
    goto sync;
  if (r.out_dir && (rc = cli_lock_out_dir(r.out_dir, &out_lock)) != 0)
    goto sync;
  if (r.resume) {
    if ((st = nad_estimator_load(e, r.resume)) != NAD_OK) {
      rc = cli_lib_error(st, "cannot resume from '%s'", r.resume);
      goto sync;
    }
    if ((st = nad_estimator_networks_done(e, &r.resumed_networks)) != NAD_OK) {
      rc = cli_lib_error(st, "cannot read '%s'", r.resume);
      goto sync;
    }
    /* Networks cannot be taken out of an accumulated covariance: results for fewer than the
     * checkpoint holds would silently be results for all of them. */
    if (r.resumed_networks > r.range_hi - r.range_lo) {
      rc = cli_error("'%s' holds %lld networks, more than the %lld asked for: give --networks "
                     "%lld (its results) or more, or leave --networks out",
                     r.resume, (long long)r.resumed_networks,
                     (long long)(r.range_hi - r.range_lo), (long long)r.resumed_networks);
      goto sync;
    }
  }
  rc = accumulate(e, &r);
sync:
  if (dist) {
    int rrc = dist->reduce(dist, rc == 0 ? e : NULL, rc != 0);
    if (rc == 0)
      rc = rrc;
  }
  if (rc == 0 && r.out_dir) {
    rc = finish(e, &r);
  } else if (rc == 0 && !r.quiet && (!dist || dist->rank == 0)) {
    int64_t done = 0;
    nad_estimator_networks_done(e, &done);
    printf("%s: %lld networks of [%lld, %lld) accumulated in %.2f s; merge the parts with "
           "'nad merge'\n", r.checkpoint, (long long)done, (long long)r.range_lo,
           (long long)r.range_hi, r.seconds);
  }
  nad_estimator_destroy(e);
  nad_arch_destroy(arch);
  cli_unlock_out_dir(out_lock);
  free(ckpt_rank);
  free(resume_rank);
  free(r.show);
  estimate_args_free(&a);
  return rc;
}

