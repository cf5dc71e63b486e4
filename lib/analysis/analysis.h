/* Probing trained networks and datasets with NADs (issue 8, sections 4 and 5). Never installed.
 *
 * Who does what:
 *   band.c   a band of NADs as a projector: orthonormality check, flip (x − 2Px) and
 *            remove (x − Px) of the component along the band, in chunks through sgemm
 *   flip.c   a network's predictions on a dataset before and after a band operation:
 *            accuracies, changed predictions, L2 size and PSNR of the change
 *   align.c  how much of a dataset's class-discriminative energy a NAD basis captures:
 *            between-class scatter of the class means and the linear-discriminant variant
 * The public façade (validation, messages) is lib/api/analysis.c. */
#ifndef NADI_ANALYSIS_H
#define NADI_ANALYSIS_H

#include "core/blas.h"
#include "data/data.h"
#include "graph/graph.h"

/* ---- bands (band.c) ------------------------------------------------------------------------ */

/* Largest |(V Vᵀ − I)_ij| over the k rows of v (k×d row-major), computed with one sgemm; -1 when
 * the k×k workspace cannot be allocated. */
double nadi_band_orthonormality_error(const float *v, int64_t k, int64_t d);

/* dst = x − alpha·Vᵀ(V x) for each of the n rows of x (n×d); V is k×d with orthonormal rows.
 * dst may be x. Allocates a chunk of coefficients (NADI_BAND_CHUNK × k floats). */
#define NADI_BAND_CHUNK 256
nad_status nadi_band_apply(const float *v, int64_t k, int64_t d, float alpha, const float *x,
                           int64_t n, float *dst);

/* ---- network before / after (flip.c) ------------------------------------------------------ */

typedef struct nadi_band_stats {
  double accuracy_before, accuracy_after; /* percent */
  double changed_fraction;                /* predictions that differ, in [0, 1] */
  double l2;                              /* mean over samples of ||x' − x||₂ */
  double psnr;                            /* 10·log10(peak² / MSE), +inf when nothing changed */
  double peak;                            /* max − min over the original samples */
} nadi_band_stats;

/* Predictions of g with params on every sample of ds, then on the samples after the band
 * operation (alpha = 2 flip, 1 remove). Eval mode; the network's outputs are the logits, a
 * prediction is the first maximal output. Samples go through in chunks. */
nad_status nadi_band_evaluate(const nadi_graph *g, float *params, const nad_dataset *ds,
                              const float *v, int64_t k, float alpha, nadi_band_stats *out);

/* ---- alignment (align.c) ------------------------------------------------------------------- */

/* Energies e[i] = v_iᵀ S v_i of the count rows of v (count×d) for the scatter S of `kind`
 * (0: between-class, 1: linear discriminant with relative ridge), and trace(S) in *total. */
nad_status nadi_align_energies(const nad_dataset *ds, const float *v, int64_t count, int kind,
                               double ridge, double *e, double *total);

/* Shared by the façade and the tests: the curve a(k) = Σ_{i<k} e_i / total, k = 1..count, and
 * the score (mean of a(k) over k = 1..d, the a(k) beyond count linearly interpolated to 1). */
void nadi_align_curve(const double *e, int64_t count, int64_t d, double total, double *curve,
                      double *score);

#endif
