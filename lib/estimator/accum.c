/* Streaming mean and scatter (sum of squared deviations) of response vectors, in double.
 *
 * Rows arrive one network at a time and are buffered in blocks of NADI_ACC_BLOCK. A full block
 * is folded with the parallel-variance update of Chan, Golub & LeVeque (1979):
 *   block mean b̄, centred rows R, M2 += RᵀR (one rank-B dsyrk: BLAS-3 instead of B rank-1
 *   updates), then with δ = b̄ − mean:  M2 += (n·B / (n + B)) δδᵀ,  mean += δ·B / (n + B).
 * Merging two accumulators is the same correction with the other's (n, mean, M2). Only the
 * lower triangle of M2 is kept up to date; nadi_acc_covariance mirrors it. Memory: d² + (B+2)·d
 * doubles; the N×D response matrix never exists. */
#include <string.h>

#include "estimator/stats.h"

nad_status nadi_acc_init(nadi_acc *a, int64_t d) {
  memset(a, 0, sizeof *a);
  int64_t dd;
  if (!nadi_mul_ok(d, d, &dd))
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "accumulator of dimension %lld is too large",
                     (long long)d);
  a->d = d;
  a->mean = nadi_calloc((size_t)d, sizeof(double));
  a->m2 = nadi_calloc((size_t)dd, sizeof(double));
  a->pend = nadi_calloc((size_t)d * NADI_ACC_BLOCK, sizeof(double));
  a->bmean = nadi_calloc((size_t)d, sizeof(double));
  if (!a->mean || !a->m2 || !a->pend || !a->bmean) {
    nadi_acc_free(a);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY,
                     "cannot allocate the %.1f MB accumulator of dimension %lld",
                     (double)dd * 8.0 / 1e6, (long long)d);
  }
  return NAD_OK;
}

void nadi_acc_free(nadi_acc *a) {
  nadi_free(a->mean);
  nadi_free(a->m2);
  nadi_free(a->pend);
  nadi_free(a->bmean);
  memset(a, 0, sizeof *a);
}

void nadi_acc_reset(nadi_acc *a) {
  int64_t d = a->d;
  a->n = 0;
  a->n_pend = 0;
  memset(a->mean, 0, (size_t)d * sizeof(double));
  memset(a->m2, 0, (size_t)d * (size_t)d * sizeof(double));
}

/* Fold rows[0..b) (b×d, overwritten by their centred values) into a. */
static void fold_rows(nadi_acc *a, double *rows, int64_t b) {
  const int64_t d = a->d;
  double *bm = a->bmean;
  memset(bm, 0, (size_t)d * sizeof(double));
  for (int64_t r = 0; r < b; r++) {
    const double *x = rows + r * d;
    for (int64_t i = 0; i < d; i++)
      bm[i] += x[i];
  }
  for (int64_t i = 0; i < d; i++)
    bm[i] /= (double)b;
  for (int64_t r = 0; r < b; r++) {
    double *x = rows + r * d;
    for (int64_t i = 0; i < d; i++)
      x[i] -= bm[i];
  }
  nadi_dsyrk_lower_t(d, b, 1.0, rows, a->m2);
  const double na = (double)a->n, nb = (double)b, n = na + nb;
  for (int64_t i = 0; i < d; i++)
    bm[i] -= a->mean[i]; /* δ */
  nadi_dsyr_lower(d, na * nb / n, bm, a->m2);
  for (int64_t i = 0; i < d; i++)
    a->mean[i] += bm[i] * (nb / n);
  a->n += b;
}

double *nadi_acc_next_row(nadi_acc *a) { return a->pend + a->n_pend * a->d; }

void nadi_acc_commit(nadi_acc *a) {
  if (++a->n_pend == NADI_ACC_BLOCK) {
    fold_rows(a, a->pend, a->n_pend);
    a->n_pend = 0;
  }
}

void nadi_acc_push(nadi_acc *a, const double *row) {
  memcpy(nadi_acc_next_row(a), row, (size_t)a->d * sizeof(double));
  nadi_acc_commit(a);
}

void nadi_acc_flush(nadi_acc *a) {
  if (a->n_pend > 0) {
    fold_rows(a, a->pend, a->n_pend);
    a->n_pend = 0;
  }
}

void nadi_acc_merge(nadi_acc *dst, const nadi_acc *src) {
  const int64_t d = dst->d;
  nadi_acc_flush(dst);
  if (src->n > 0) {
    const double na = (double)dst->n, nb = (double)src->n, n = na + nb;
    double *delta = dst->bmean;
    for (int64_t i = 0; i < d; i++)
      delta[i] = src->mean[i] - dst->mean[i];
    for (int64_t i = 0; i < d; i++) {
      double *row = dst->m2 + i * d;
      const double *srow = src->m2 + i * d;
      for (int64_t j = 0; j <= i; j++)
        row[j] += srow[j];
    }
    nadi_dsyr_lower(d, na * nb / n, delta, dst->m2);
    for (int64_t i = 0; i < d; i++)
      dst->mean[i] += delta[i] * (nb / n);
    dst->n += src->n;
  }
  if (src->n_pend > 0) {
    memcpy(dst->pend, src->pend, (size_t)(src->n_pend * d) * sizeof(double));
    fold_rows(dst, dst->pend, src->n_pend);
  }
}

void nadi_acc_copy(nadi_acc *dst, const nadi_acc *src) {
  const int64_t d = src->d;
  dst->n = src->n;
  dst->n_pend = src->n_pend;
  memcpy(dst->mean, src->mean, (size_t)d * sizeof(double));
  memcpy(dst->m2, src->m2, (size_t)d * (size_t)d * sizeof(double));
  memcpy(dst->pend, src->pend, (size_t)(src->n_pend * d) * sizeof(double));
}

void nadi_acc_combine(nadi_acc *work, const nadi_acc *const *halves, int n_halves) {
  if (n_halves == 0)
    nadi_acc_reset(work);
  else
    nadi_acc_copy(work, halves[0]);
  for (int h = 1; h < n_halves; h++)
    nadi_acc_merge(work, halves[h]);
  nadi_acc_flush(work);
}

void nadi_acc_covariance(nadi_acc *work) {
  const int64_t d = work->d;
  const double s = work->n > 1 ? 1.0 / (double)(work->n - 1) : 0.0;
  double *m = work->m2;
  for (int64_t i = 0; i < d; i++)
    for (int64_t j = 0; j <= i; j++)
      m[i * d + j] *= s;
  /* Mirror lower → upper in tiles so that both the rows read and the rows written stay in
   * cache (D = 12,288 means a 1.2 GB matrix). */
  const int64_t t = 64;
  for (int64_t i0 = 0; i0 < d; i0 += t)
    for (int64_t j0 = 0; j0 <= i0; j0 += t) {
      int64_t i1 = i0 + t < d ? i0 + t : d, j1 = j0 + t < d ? j0 + t : d;
      for (int64_t i = i0; i < i1; i++)
        for (int64_t j = j0; j < j1 && j < i; j++)
          m[j * d + i] = m[i * d + j];
    }
}
