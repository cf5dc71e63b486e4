/* Synthetic covariances for the eigensolver and sketch tests and benchmarks (header-only; include
 * once). A covariance of r "networks" with a power-law spectrum: rows x_j = sqrt(λ_j / d) · g_j,
 * g_j ~ N(0, I_d), λ_j = (j + 1)^(−alpha), so that C = Σ_j x_j x_jᵀ + nu · I has eigenvalues
 * close to λ_j (random directions are nearly orthogonal) and rank r (plus the floor nu): the
 * shape of NAD covariances, whose spectra decay like a power of the index and whose rank is the
 * number of networks. */
#ifndef NADT_SYNTH_COV_H
#define NADT_SYNTH_COV_H

#include <math.h>
#include <stdlib.h>

#include "core/blas.h"
#include "core/core.h"

/* r×d rows (caller frees). */
static inline double *synth_rows(int64_t r, int64_t d, double alpha, uint64_t seed) {
  double *x = malloc(sizeof(double) * (size_t)(r * d));
  nadi_rng g;
  nadi_rng_init(&g, seed, 77);
  for (int64_t j = 0; j < r; j++) {
    const double s = sqrt(pow((double)(j + 1), -alpha) / (double)d);
    for (int64_t i = 0; i < d; i++)
      x[j * d + i] = s * nadi_rng_normal(&g);
  }
  return x;
}

/* Full symmetric d×d matrix Σ x_j x_jᵀ + nu·I of the rows above (caller frees). */
static inline double *synth_cov(int64_t r, int64_t d, double alpha, double nu, uint64_t seed) {
  double *x = synth_rows(r, d, alpha, seed);
  double *c = calloc((size_t)(d * d), sizeof(double));
  nadi_dsyrk_lower_t(d, r, 1.0, x, c);
  for (int64_t i = 0; i < d; i++) {
    c[i * d + i] += nu;
    for (int64_t j = 0; j < i; j++)
      c[j * d + i] = c[i * d + j];
  }
  free(x);
  return c;
}

#endif
