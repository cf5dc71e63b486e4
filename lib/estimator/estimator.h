/* Internals of the NAD estimator (lib/estimator/). Never installed.
 *
 * Data flow: probe.c computes the response g (D doubles) of network j; estimator.c runs probes
 * on worker threads and folds the responses, strictly in network order, into two half
 * accumulators (even / odd j, accum.c); finalize merges the halves into a covariance,
 * spectrum.c turns its diagonal blocks into the Fourier power spectrum and eig.c eigensolves it.
 * state.c keeps the run's state besides the accumulators (the network ranges covered, the
 * evaluation point); checkpoint.c saves and loads the halves with that state. Calls go one way:
 * estimator.c -> checkpoint.c -> state.c, accum.c. Vendor libraries: CBLAS through
 * lib/core/blas.c, FFTW through lib/core/fft.c, LAPACKE only in eig.c. The public façade
 * (lib/api/estimator.c) owns the handle's lifecycle and validates; nothing here includes it. */
#ifndef NADI_ESTIMATOR_H
#define NADI_ESTIMATOR_H

#include <stdatomic.h>

#include "core/blas.h"
#include "core/fft.h"
#include "core/guard.h"
#include "graph/graph.h"

/* ---- streaming mean / scatter accumulator (accum.c) -------------------------------------- */
/* Responses are buffered in blocks of NADI_ACC_BLOCK rows; a full block is centred on its own
 * mean, folded into the scatter with one rank-B dsyrk and merged with Chan's correction.
 * Blocking is part of the state (pending rows are saved in checkpoints) so that saving,
 * loading and resuming never change the order of the floating-point operations. */
#define NADI_ACC_BLOCK 64

typedef struct nadi_acc {
  int64_t d;
  int64_t n;      /* rows folded into mean / m2 */
  double *mean;   /* d */
  double *m2;     /* d×d row-major; only the lower triangle (j <= i) is meaningful */
  int64_t n_pend; /* rows buffered, < NADI_ACC_BLOCK */
  double *pend;   /* NADI_ACC_BLOCK × d */
  double *bmean;  /* d, scratch of a fold */
} nadi_acc;

nad_status nadi_acc_init(nadi_acc *a, int64_t d); /* zeroed; NAD_ERR_OUT_OF_MEMORY */
void nadi_acc_free(nadi_acc *a);
void nadi_acc_reset(nadi_acc *a);
/* Slot for the next row; fill it (d doubles) then call nadi_acc_commit. */
double *nadi_acc_next_row(nadi_acc *a);
void nadi_acc_commit(nadi_acc *a);
/* Append one row (copies it). */
void nadi_acc_push(nadi_acc *a, const double *row);
/* Total rows, folded and pending. */
static inline int64_t nadi_acc_count(const nadi_acc *a) { return a->n + a->n_pend; }
/* Fold the pending rows now (changes the blocking; used only when merging). */
void nadi_acc_flush(nadi_acc *a);
/* dst += src (Chan merge of the folded parts, then src's pending rows folded as one block).
 * src is not modified. dst must have no pending rows. */
void nadi_acc_merge(nadi_acc *dst, const nadi_acc *src);
/* Copy src entirely into dst (same d). */
void nadi_acc_copy(nadi_acc *dst, const nadi_acc *src);
/* Combined statistics of halves[0..n_halves) in that order into work (which is overwritten;
 * the halves are unchanged): work = copy(h0) flushed, then merge(h1), ... */
void nadi_acc_combine(nadi_acc *work, const nadi_acc *const *halves, int n_halves);
/* After combine: turn work->m2 into the full symmetric covariance m2 / (n − 1). */
void nadi_acc_covariance(nadi_acc *work);

/* ---- Frequent Directions sketch of the same stream (sketch.c) ------------------------------ */
/* The scatter's rank-one terms (block-centred rows and Chan's correction rows) are sketched into
 * at most 2L rows; 0 ≼ M2 − BᵀB ≼ shrunk·I and shrunk <= Σ_{i>k} λ_i(M2) / (L − k) for k < L.
 * Pending rows are buffered in blocks of NADI_ACC_BLOCK, as in the accumulator. */
typedef struct nadi_sketch {
  int64_t d, l;
  int64_t n;       /* responses folded into mean and rows */
  double *mean;    /* d */
  int64_t rows;    /* rows of b in use, < 2L between calls */
  double *b;       /* 2L × d */
  double shrunk;   /* Δ: sum of the shrinking steps δ */
  double mass;     /* ||A||²_F = tr(M2) of everything folded */
  int64_t shrinks; /* how many shrinks (statistics) */
  int64_t n_pend;
  double *pend;    /* NADI_ACC_BLOCK × d */
  /* scratch */
  double *bmean, *work, *gram, *u, *lam; /* d, L×d, (2L)², L×2L, 2L */
} nadi_sketch;

nad_status nadi_sketch_init(nadi_sketch *s, int64_t d, int64_t l); /* 1 <= l; zeroed */
void nadi_sketch_free(nadi_sketch *s);
/* Bytes a sketch of (d, l) allocates. */
double nadi_sketch_bytes(int64_t d, int64_t l);
double *nadi_sketch_next_row(nadi_sketch *s);
nad_status nadi_sketch_commit(nadi_sketch *s); /* may shrink: LAPACK can fail */
nad_status nadi_sketch_push(nadi_sketch *s, const double *row);
static inline int64_t nadi_sketch_count(const nadi_sketch *s) { return s->n + s->n_pend; }
nad_status nadi_sketch_flush(nadi_sketch *s);
/* dst += src (src unchanged; dst's pending rows folded first, then Chan's correction row, src's
 * rows, src's pending rows as one block). Same d and l. */
nad_status nadi_sketch_merge(nadi_sketch *dst, const nadi_sketch *src);
void nadi_sketch_copy(nadi_sketch *dst, const nadi_sketch *src);
/* work = parts[0] merged with parts[1..), flushed (as nadi_acc_combine). */
nad_status nadi_sketch_combine(nadi_sketch *work, const nadi_sketch *const *parts, int n_parts);
/* Top k <= L eigenpairs of BᵀB / (n − 1) (the sketched covariance): evals descending, evecs k×d
 * orthonormal rows, signs as nadi_eig_fix_sign; eigenvalue-0 directions completed. Uses s's
 * scratch (s is otherwise unchanged). */
nad_status nadi_sketch_top(nadi_sketch *s, int64_t k, double *evals, double *evecs);

/* ---- eigensolver and QR (eig.c, the only file including lapacke.h) ------------------------ */
/* Top k eigenpairs of the symmetric d×d matrix a (full storage; destroyed). evals: k doubles,
 * descending. evecs: k×d row-major (row i = eigenvector i, unit norm, sign: largest-magnitude
 * entry positive). NAD_ERR_NUMERICAL on LAPACK failure. */
nad_status nadi_eig_top(double *a, int64_t d, int64_t k, double *evals, double *evecs);
/* Replace the k rows of a (k×d row-major, k <= d) by an orthonormal basis of their span
 * (Householder QR, as numpy.linalg.qr of aᵀ). */
nad_status nadi_orthonormal_rows(double *a, int64_t k, int64_t d);
/* Solve A X = B for the symmetric positive definite d×d matrix a (row-major, only its lower
 * triangle j <= i is read; destroyed: Cholesky factor) and the nrhs right-hand sides that are
 * the rows of b (nrhs×d row-major, overwritten by the solutions). NAD_ERR_NUMERICAL when a is
 * not positive definite. */
nad_status nadi_spd_solve(double *a, int64_t d, double *b, int64_t nrhs);

/* Make the entry of largest magnitude positive (the first on ties): the sign convention of every
 * eigenvector the estimator returns. */
void nadi_eig_fix_sign(double *v, int64_t d);

/* ---- top-k eigenpairs of a large covariance (topk.c) -------------------------------------- */
enum { NADI_EIG_LAPACK = 0, NADI_EIG_KRYLOV = 1, NADI_EIG_LAPACK_FALLBACK = 2, NADI_EIG_SKETCH = 3 };
typedef struct nadi_topk_params {
  int64_t guard; /* block size b = k + guard */
  int64_t steps; /* block products per restart cycle (basis of steps·b vectors) */
  double tol;    /* wanted residual ||A v − θ v|| <= max(tol · θ, floor · θ_1) */
  double floor;
} nadi_topk_params;
typedef struct nadi_topk_info {
  int method;           /* NADI_EIG_* */
  int64_t block, steps; /* Krylov: block size and steps per cycle */
  int64_t cycles, products; /* restart cycles and block products A·X done */
  double max_residual;  /* max over the k pairs of ||A v − θ v|| / θ_1 */
} nadi_topk_info;
void nadi_topk_default_params(int64_t d, int64_t k, nadi_topk_params *p);
/* Top k eigenpairs of the symmetric positive semi-definite d×d matrix a (full storage, not
 * modified) by restarted block Krylov (params NULL: defaults); evals descending, evecs k×d rows,
 * signs as nadi_eig_fix_sign. NAD_ERR_NUMERICAL when it does not converge. info may be NULL. */
nad_status nadi_eig_topk_krylov(const double *a, int64_t d, int64_t k, const nadi_topk_params *p,
                                double *evals, double *evecs, nadi_topk_info *info);
/* Whether nadi_eig_cov uses the Krylov method for (d, k). */
int nadi_topk_use_krylov(int64_t d, int64_t k);
/* Top k eigenpairs of a covariance (a: full symmetric, destroyed) by the faster of the two
 * methods, as nadi_eig_top. info (may be NULL) says which one answered. */
nad_status nadi_eig_cov(double *a, int64_t d, int64_t k, double *evals, double *evecs,
                        nadi_topk_info *info);

/* ---- spectra (spectrum.c; FFTs through lib/core/fft.c) ----------------------------------- */
/* Power spectrum of a covariance: for each channel cc, P(f) = (F C_cc F^H)(f, f), fftshifted.
 * cov: full symmetric (c·h·w)² row-major. dst: c·h·w doubles (negative rounding clamped to 0). */
nad_status nadi_spectrum_cov(const double *cov, int64_t c, int64_t h, int64_t w, double *dst);
/* Same from count eigenpairs (nads count×D floats). */
nad_status nadi_spectrum_eig(const float *nads, const double *evals, int64_t count, int64_t c,
                             int64_t h, int64_t w, double *dst);
/* A half plane's expansion to the full one: nadi_fft_unfold_half (lib/core/fft.h). */

/* Streaming exact spectrum of the centred responses (spectrum_stream.c): per network, the c
 * real 2-D FFTs of g; per frequency, the mean of G and the scatter Σ |G − Ḡ|² (Welford; Chan to
 * merge). P(f) = scatter / (n − 1) equals the covariance spectrum without any D×D matrix. */
typedef struct nadi_specacc {
  int64_t c, h, w, nf; /* nf = c · h · (w/2 + 1) frequencies kept (the rest by symmetry) */
  int64_t n;
  double *mean; /* 2·nf: interleaved (re, im) */
  double *m2;   /* nf */
  nadi_fft2d *fft;
} nadi_specacc;
nad_status nadi_specacc_init(nadi_specacc *s, int64_t c, int64_t h, int64_t w); /* zeroed */
void nadi_specacc_free(nadi_specacc *s);
void nadi_specacc_reset(nadi_specacc *s);
void nadi_specacc_push(nadi_specacc *s, const double *g); /* g: c·h·w doubles */
void nadi_specacc_merge(nadi_specacc *dst, const nadi_specacc *src);
void nadi_specacc_copy(nadi_specacc *dst, const nadi_specacc *src);
/* The power spectrum of the covariance (c·h·w doubles, fftshifted per channel). n >= 2. */
nad_status nadi_specacc_spectrum(const nadi_specacc *s, double *dst);

/* Pearson correlation of log(p + 1e-12·max p) (negative p count as 0). NAD_ERR_NUMERICAL when
 * a spectrum is all zero, constant or not finite. */
nad_status nadi_log_spectrum_corr(const double *pa, const double *pb, int64_t n, double *corr);

/* ---- comparison (compare.c) --------------------------------------------------------------- */
/* ||Qaᵀ Qb||²_F / k for two sets of k orthonormal rows of length d; −1 when out of memory. */
double nadi_overlap_orthonormal(const double *qa, const double *qb, int64_t k, int64_t d);
/* The same for the spans of the first k rows of a and b (k×d floats each, finite, k <= d):
 * orthonormal bases by QR first. */
nad_status nadi_subspace_overlap(const float *a, const float *b, int64_t k, int64_t d,
                                 double *overlap);

/* ---- probing one sample (probe.c) --------------------------------------------------------- */
typedef struct nadi_probe nadi_probe;
/* What sample j is: which network at which point, and which output is the response. */
typedef struct nadi_probe_cfg {
  int mode;      /* nad_mode */
  double step;   /* dipole step */
  int64_t batch; /* perturbed inputs per forward (dipole) */
  const float *x0;     /* the one evaluation point (D floats, copied), or NULL with points */
  const float *points; /* sample j at points + j·D (borrowed), or NULL */
  const int32_t *labels; /* labels of points (for output = NAD_OUTPUT_LABEL) */
  const float *params; /* fixed network (n_params floats, copied), or NULL: weights (seed, j) */
  int64_t output;      /* response = this output, or the label's (NAD_OUTPUT_LABEL) */
} nadi_probe_cfg;
/* Buffers for one worker: executor, parameters, perturbed-input chunk. */
nad_status nadi_probe_create(const nadi_graph *g, const nadi_probe_cfg *cfg, nadi_probe **out);
void nadi_probe_destroy(nadi_probe *p);
typedef enum { NADI_PROBE_OK = 0, NADI_PROBE_NONFINITE = 1, NADI_PROBE_STOPPED = 2 } nadi_probe_result;
/* Response of sample j into g (D doubles). Allocates nothing. Stops early (between forward
 * chunks) when *stop becomes non-zero. */
nadi_probe_result nadi_probe_run(nadi_probe *p, uint64_t seed, int64_t j, double *g,
                                 const atomic_int *stop);

/* ---- the estimator handle (estimator.c, checkpoint.c, lib/api/estimator.c) ---------------- */
typedef struct nadi_range {
  int64_t lo, hi; /* networks [lo, hi) */
} nadi_range;

/* Largest D of the exact mode: LAPACK indexes the D×D covariance with 32-bit ints. The sketching
 * mode has no D×D matrix; its bound keeps 2·L·D and the probes' buffers addressable. */
#define NADI_EXACT_MAX_D 46340
#define NADI_SKETCH_MAX_D (1 << 24)

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
  uint64_t seed;
  int mode, eval_kind, network_kind;
  int64_t output; /* >= 0, or NAD_OUTPUT_LABEL */
  double step;
  float *x0_user; /* d floats once nad_estimator_set_eval_point was called */
  float *params_fixed;       /* n_params floats once nad_estimator_set_network was called */
  uint64_t params_hash;      /* FNV-1a of params_fixed, for checkpoints */
  const nad_dataset *points; /* retained once nad_estimator_set_eval_data was called */
  uint64_t points_hash;      /* FNV-1a of the points' shape, samples and labels */
  nad_progress_fn progress;
  void *progress_ud;
  char *ckpt_path; /* periodic checkpoint during run (NULL: none) */
  int64_t ckpt_every;
  int64_t ckpt_failures; /* periodic saves that failed (the run went on; the file kept the
                            previous checkpoint) */
  char ckpt_error[512];  /* message of the last failure */
  /* state */
  nadi_guard guard; /* running façade calls; destroy waits for them (lib/core/guard.h) */
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
  /* convergence cache (estimator.c): each half's top conv_k eigenvectors and its spectrum, kept
   * from one nad_estimator_convergence call to the next (nad estimate asks k = 1, then 10);
   * dropped by finalize, which every change of the accumulators requires first. */
  int64_t conv_k;
  double *conv_vecs[2], *conv_spec[2];
};

/* Memory plan of a run (plan.c): concurrent networks and probe batch within the budget. */
typedef struct nadi_plan {
  int64_t budget;      /* bytes: NAD_OPT_MEMORY or the default */
  int64_t acc_bytes;   /* accumulators at their peak (finishing) */
  int64_t run_bytes;   /* everything while probing */
  int64_t probe_bytes; /* one probe (measured; -1 unknown) */
  int64_t batch;       /* probe batch */
  int64_t workers;     /* networks probed at once (1: on the calling thread) */
} nadi_plan;
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
/* Run loop (estimator.c): accumulate the networks still to do within the memory plan; run =
 * accumulate + finalize. */
nad_status nadi_estimator_accumulate(nad_estimator *e, const nadi_plan *plan);
nad_status nadi_estimator_run(nad_estimator *e, const nadi_plan *plan);
nad_status nadi_estimator_finalize(nad_estimator *e);
nad_status nadi_estimator_convergence(const nad_estimator *e, int64_t k, double *overlap,
                                      double *spectrum_corr);
void nadi_estimator_drop_cache(nad_estimator *e); /* the convergence cache */
/* Checkpoints (checkpoint.c). */
nad_status nadi_checkpoint_save(const nad_estimator *e, const char *path);
nad_status nadi_checkpoint_load(nad_estimator *e, const char *path);
/* The same bytes in memory (save: malloc'd, released with nad_free). */
nad_status nadi_checkpoint_save_buffer(const nad_estimator *e, void **buf, size_t *len);
nad_status nadi_checkpoint_load_buffer(nad_estimator *e, const void *buf, size_t len);

#endif
