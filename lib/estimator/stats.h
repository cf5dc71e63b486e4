/* Statistics of the estimator's response stream (lib/estimator/). Never installed.
 *
 * accum.c: exact mean and scatter (D×D); sketch.c: a Frequent Directions sketch of the same
 * stream; spectrum.c: the Fourier power spectrum of a covariance or of eigenpairs, and the
 * log-spectrum correlation; spectrum_stream.c: the exact spectrum accumulated per response.
 * These files know nothing of the run (estimator/run.h): they call lib/core (CBLAS, LAPACK,
 * FFTW wrappers) only. */
#ifndef NADI_STATS_H
#define NADI_STATS_H

#include "core/blas.h"
#include "core/core.h"
#include "core/fft.h"
#include "core/lapack.h"
#include "core/threads.h"

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
  int64_t rows;    /* rows of b in use: < 2L after nadi_sketch_maintain, < 2L + 65 always */
  float *b;        /* (2L + 65) × d, stored in float32 (products in double: see sketch.c) */
  double shrunk;   /* Δ: sum of the shrinking steps δ */
  double mass;     /* ||A||²_F = tr(M2) of everything folded */
  int64_t shrinks; /* how many shrinks (statistics) */
  int64_t n_pend;
  double *pend;    /* NADI_ACC_BLOCK × d */
  /* scratch */
  double *bmean, *work, *gram, *u, *lam; /* d, max(d, cap·1024), cap², L×cap, cap */
} nadi_sketch;

nad_status nadi_sketch_init(nadi_sketch *s, int64_t d, int64_t l); /* 1 <= l; zeroed */
void nadi_sketch_free(nadi_sketch *s);
/* Bytes a sketch of (d, l) allocates. */
double nadi_sketch_bytes(int64_t d, int64_t l);
double *nadi_sketch_next_row(nadi_sketch *s);
nad_status nadi_sketch_commit(nadi_sketch *s); /* may shrink: LAPACK can fail */
/* The shrink a fold left due (rows >= 2L), on the pool's n_workers workers or (pool NULL) on the
 * calling thread: the same bits either way. A fold does it itself when it finds it due, so
 * calling this is optional; the run calls it between rounds to shrink with every thread, and
 * before anything reads the sketch (solve, checkpoint) so that what is read never depends on
 * when it was called. */
nad_status nadi_sketch_maintain(nadi_sketch *s, nadi_pool *pool, int n_workers);
nad_status nadi_sketch_push(nadi_sketch *s, const double *row);
static inline int64_t nadi_sketch_count(const nadi_sketch *s) { return s->n + s->n_pend; }
nad_status nadi_sketch_flush(nadi_sketch *s);
/* dst += src (src unchanged; dst's pending rows folded first, then Chan's correction row, src's
 * rows, src's pending rows as one block). Same d and l. */
nad_status nadi_sketch_merge(nadi_sketch *dst, const nadi_sketch *src);
void nadi_sketch_copy(nadi_sketch *dst, const nadi_sketch *src);
/* Row i < s->rows of b in double (checkpoints keep double rows), and its replacement. */
void nadi_sketch_get_row(const nadi_sketch *s, int64_t i, double *row);
void nadi_sketch_set_row(nadi_sketch *s, int64_t i, const double *row);
/* work = parts[0] merged with parts[1..), flushed (as nadi_acc_combine). */
nad_status nadi_sketch_combine(nadi_sketch *work, const nadi_sketch *const *parts, int n_parts);
/* Top k <= L eigenpairs of BᵀB / (n − 1) (the sketched covariance): evals descending, evecs k×d
 * orthonormal rows, signs as nadi_eig_fix_sign; eigenvalue-0 directions completed. Uses s's
 * scratch (s is otherwise unchanged). */
nad_status nadi_sketch_top(nadi_sketch *s, int64_t k, double *evals, double *evecs);

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

#endif
