/* The estimator's run (lib/estimator/): the handle, its memory plan, the two halves, the run
 * state, checkpoints and the run loop. Never installed.
 *
 * Data flow: response.c (estimator/response.h) computes the response g (D doubles) of sample j;
 * run.c runs probes on the worker pool and folds the responses, strictly in network
 * order, into two halves (even / odd j, halves.c: exact accumulators or sketches with streaming
 * spectra, estimator/stats.h); finalize has halves.c merge them and solve (lib/linalg/topk.c,
 * spectrum.c). state.c keeps the run's state besides the statistics (the network ranges covered,
 * the evaluation point); checkpoint.c saves the halves with that state and loads them.
 * Calls go one way (nothing calls back up):
 *   run.c (run loop, finalize, convergence) -> checkpoint.c, halves.c, state.c, response.c;
 *     its convergence also -> spectrum.c (log-spectrum correlation), lib/linalg (overlap)
 *   plan.c -> response.c (a probe's bytes are measured), the sketch's size
 *   checkpoint.c -> halves.c, state.c, and the statistics directly: loading builds fresh
 *                   accumulators, sketches and spectra itself and frees them on a refusal
 *   halves.c -> the statistics (accum.c, sketch.c, spectrum*.c) and lib/linalg
 *   the statistics -> lib/core only
 * Vendor libraries: CBLAS through lib/core/blas.c, LAPACKE through lib/core/lapack.c, FFTW
 * through lib/core/fft.c. The public façade (lib/api/estimator.c) owns the handle's lifecycle
 * and validates; nothing here includes it. */
#ifndef NADI_RUN_H
#define NADI_RUN_H

#include "core/guard.h"
#include "estimator/response.h"
#include "estimator/stats.h"
#include "graph/graph.h"
#include "linalg/linalg.h"

/* ---- the estimator handle (run.c, checkpoint.c, lib/api/estimator.c) --------------------- */
typedef struct nadi_range {
  int64_t lo, hi; /* networks [lo, hi) */
} nadi_range;

/* Largest D of the exact mode: LAPACK indexes the D×D covariance with 32-bit ints. The sketching
 * mode has no D×D matrix; its bound keeps 2·L·D and the probes' buffers addressable. */
#define NADI_EXACT_MAX_D 46340
#define NADI_SKETCH_MAX_D (1 << 24)
/* nad_estimator_degenerate: a dipole spread per coordinate below this many float32 rounding
 * steps (FLT_EPSILON·|f|) over 2s: 16 ulps, i.e. about 1e-6·|f|/s */
#define NADI_DEGENERATE_ULPS 16.0
/* NAD_OPT_CONVERGE_GROWTH's default: 17 checks up to 10,000 networks with C = 100 (instead of
 * 100), each a solve of both halves (0.2 s for LeNet), at most 25 % beyond the first count that
 * meets the criterion. */
#define NADI_CONVERGE_GROWTH_DEFAULT 1.25

struct nad_estimator {
  const nad_arch *arch; /* retained and released by the façade; opaque here */
  const nadi_graph *g;  /* the architecture's graph (owned by arch) */
  const char *arch_name; /* the architecture's name (owned by arch), for checkpoints */
  int64_t shape[3]; /* c, h, w */
  int64_t d;
  /* options */
  int64_t num_networks, num_threads, top_k, batch, first_network;
  int64_t memory; /* budget in bytes, 0 = nadi_memory_default_budget() */
  int64_t sketch; /* L > 0: Frequent Directions sketches of L rows instead of D×D scatters */
  int64_t converge_every; /* C > 0: stop at the first check point that converged */
  double converge_growth; /* >= 1: check points grow by this factor (nadi_converge_next) */
  uint64_t seed;
  int mode, eval_kind, network_kind;
  int64_t output; /* >= 0, or NAD_OUTPUT_LABEL */
  double step;
  float *x0_user; /* d floats once nad_estimator_set_eval_point was called */
  float *params_fixed;       /* n_params floats once nad_estimator_set_network was called */
  uint64_t params_hash;      /* FNV-1a of params_fixed, for checkpoints */
  nad_param_fn source;       /* random networks' parameters from the caller, or NULL */
  void *source_ud;
  uint64_t source_hash;      /* FNV-1a of the source's id, for checkpoints (0: no source) */
  const nad_dataset *points; /* retained once nad_estimator_set_eval_data was called */
  uint64_t points_hash;      /* FNV-1a of the points' shape, samples and labels */
  nad_progress_fn progress;
  void *progress_ud;
  char *ckpt_path; /* periodic checkpoint during run (NULL: none) */
  char *run_record; /* the caller's description of the run, stored in checkpoints (NULL: none) */
  int64_t ckpt_every;
  int64_t ckpt_failures; /* periodic saves that failed (the run went on; the file kept the
                            previous checkpoint) */
  char ckpt_error[512];  /* message of the last failure */
  /* state */
  nadi_guard guard; /* running façade calls; destroy waits for them (lib/core/guard.h) */
  /* Stop flags polled by the run at a fine grain (each probe chunk, each layer of the delta
   * forward, each fold): NADI_STOP_CANCEL is set by nad_estimator_cancel (any thread, signal
   * handlers), NADI_STOP_FAILED by the fold on an error. Cleared when a run starts. */
  atomic_int stop;
  int ran;       /* nad_estimator_run was called: options frozen, run refused */
  int finalized; /* results below match the accumulators */
  nadi_acc half[2]; /* networks with even / odd index (exact mode) */
  nadi_sketch sk[2]; /* the same, sketch mode (halves.c) */
  nadi_specacc sp[2]; /* sketch mode: the exact streaming spectrum of each half */
  nadi_range *ranges; /* sorted, disjoint, coalesced */
  int64_t n_ranges, cap_ranges;
  /* results of finalize */
  int64_t k;
  double *evals;    /* k */
  float *nads;      /* k×d */
  double *spectrum; /* d */
  double *mean;     /* d */
  double sketch_error; /* sketch mode: ||C − C̃|| <= this (Frequent Directions bound) */
  nadi_topk_info eig;  /* how the eigenpairs were computed */
  double trace;        /* of the covariance (from the spectrum) */
  double value_scale;  /* mean nadi_probe_value_scale of the networks probed */
  int degenerate;      /* nad_estimator_degenerate */
  /* response values |f| of the networks probed by this handle (not in checkpoints) */
  double value_scale_sum;
  int64_t value_scale_n;
  /* convergence cache (run.c): each half's top conv_k eigenvectors and its spectrum, kept
   * from one nad_estimator_convergence call to the next (nad estimate asks k = 1, then 10);
   * dropped by finalize, which every change of the accumulators requires first. */
  int64_t conv_k;
  double *conv_vecs[2], *conv_spec[2];
};

#define NADI_STOP_CANCEL 1
#define NADI_STOP_FAILED 2 /* the fold ended the run: an error, or converged */

/* Memory plan of a run (plan.c): concurrent networks and probe batch within the budget. */
typedef struct nadi_plan {
  int64_t budget;      /* bytes: NAD_OPT_MEMORY or the default */
  int64_t acc_bytes;   /* accumulators at their peak (finishing) */
  int64_t run_bytes;   /* everything while probing */
  int64_t probe_bytes; /* one probe (measured; -1 unknown) */
  int64_t batch;       /* probe batch */
  int64_t workers;     /* networks probed at once (1: on the calling thread) */
} nadi_plan;
/* Response slots of a run with w networks probed at once: two banks of w (the run's rounds on
 * the worker pool, run.c), or one when the calling thread probes alone. */
static inline int64_t nadi_run_slots(int64_t w) { return w > 1 ? 2 * w : 1; }
/* jobs: networks still to compute. NAD_ERR_OUT_OF_MEMORY with the numbers and a suggestion
 * when the accumulators alone, or one network with batch 1 next to them, exceed the budget.
 * Allocates only one probe at a time (untouched: address space, not memory). */
nad_status nadi_estimator_plan(const nad_estimator *e, int64_t jobs, nadi_plan *plan);
/* Networks of [first_network, first_network + num_networks) not yet accumulated. */
int64_t nadi_estimator_jobs(const nad_estimator *e);
/* MemAvailable of /proc/meminfo (else sysconf), bytes; -1 unknown. */
int64_t nadi_memory_available(void);
/* Half of it (4 GiB when unknown). */
int64_t nadi_memory_default_budget(void);
/* The two half accumulators, exact or sketched (halves.c). */
int nadi_halves_ready(const nad_estimator *e); /* allocated */
nad_status nadi_halves_init(nad_estimator *e); /* for e->sketch; no-op when ready */
void nadi_halves_free(nad_estimator *e);
int64_t nadi_halves_count(const nad_estimator *e, int h); /* networks in half h (0 if none) */
nad_status nadi_halves_push(nad_estimator *e, int64_t j, const double *g); /* half j & 1 */
/* Sketch mode: the shrinks the folds left due (nadi_sketch_maintain), on the pool's n workers or
 * on the calling thread (pool NULL); exact mode: nothing. */
nad_status nadi_halves_maintain(nad_estimator *e, nadi_pool *pool, int n_workers);
/* What a solve of some halves gives (spectrum, mean may be NULL; evals k, evecs k×d). */
typedef struct nadi_solution {
  double *evals, *evecs, *spectrum, *mean;
  nadi_topk_info eig;
  double sketch_error; /* sketch mode: Δ / (n − 1), the bound on ||C − C̃||₂ */
} nadi_solution;
/* Top k eigenpairs of the covariance of the halves which[0..n_which) combined (halves unchanged),
 * with its spectrum and mean. MISUSE below 2 networks. */
nad_status nadi_halves_solve(const nad_estimator *e, const int *which, int n_which, int64_t k,
                             nadi_solution *out);

/* Run state (state.c). Evaluation point of e into x0 (d floats): user array, zeros, or N(0, I)
 * from the stream (seed, UINT64_MAX). MISUSE when EVAL_USER was chosen without an array; with
 * EVAL_DATA (one point per sample, taken by the probe) x0 is left zero. */
nad_status nadi_estimator_eval_point(const nad_estimator *e, float *x0);
/* Network ranges: does any of r[0..n) overlap what e covers; add [lo, hi); is j covered. */
int nadi_ranges_overlap(const nad_estimator *e, const nadi_range *r, int64_t n);
nad_status nadi_ranges_add(nad_estimator *e, int64_t lo, int64_t hi);
int nadi_ranges_covered(const nad_estimator *e, int64_t j);
/* Run loop (run.c): accumulate the networks still to do within the memory plan; run =
 * accumulate + finalize. */
nad_status nadi_estimator_accumulate(nad_estimator *e, const nadi_plan *plan);
nad_status nadi_estimator_run(nad_estimator *e, const nadi_plan *plan);
nad_status nadi_estimator_finalize(nad_estimator *e);
nad_status nadi_estimator_convergence(const nad_estimator *e, int64_t k, double *overlap,
                                      double *spectrum_corr);
void nadi_estimator_drop_cache(nad_estimator *e); /* the convergence cache */
/* The criterion of nad_estimator_converged on the current halves (drops the cache first);
 * overlaps (2) and corr may be NULL. */
nad_status nadi_estimator_converged(nad_estimator *e, int *converged, double *overlaps,
                                    double *corr);
/* The check points of NAD_OPT_CONVERGE_EVERY = C with NAD_OPT_CONVERGE_GROWTH = G: multiples of
 * C, the first C, each next one the smallest multiple of C that is >= G times the previous one
 * and above it (G = 1: every C). nadi_converge_next gives the check point after count n (the
 * first >= C when n < C; INT64_MAX past any reachable count); nadi_converge_is_check says
 * whether n is one (0 when C <= 0). Counts only: O(log(n/C)) steps for G > 1. */
int64_t nadi_converge_next(int64_t every, double growth, int64_t n);
int nadi_converge_is_check(int64_t every, double growth, int64_t n);
/* Checkpoints (checkpoint.c). */
nad_status nadi_checkpoint_save(const nad_estimator *e, const char *path);
nad_status nadi_checkpoint_load(nad_estimator *e, const char *path);
/* The same bytes in memory (save: malloc'd, released with nad_free). */
nad_status nadi_checkpoint_save_buffer(const nad_estimator *e, void **buf, size_t *len);
nad_status nadi_checkpoint_load_buffer(nad_estimator *e, const void *buf, size_t len);
/* The run record of a checkpoint file (path) or buffer (path NULL): *text malloc'd ("" for
 * formats 1 to 3, which have none), *version the file's format. */
nad_status nadi_checkpoint_record(const char *path, const void *buf, size_t len,
                                  int32_t *version, char **text);

#endif
