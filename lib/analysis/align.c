/* How much of a dataset's class-discriminative energy a set of orthonormal directions holds.
 *
 * With n samples, class c holding n_c of them with mean μ_c, μ the overall mean and
 * r_c = sqrt(n_c/n)·(μ_c − μ), the between-class scatter is S_b = Σ_c r_c r_cᵀ. The energy of a
 * direction v is vᵀ S_b v = Σ_c (r_c·v)², and trace(S_b) = Σ_c ||r_c||²: no d×d matrix is
 * formed. The linear-discriminant variant uses w_c = (S_w + γI)⁻¹ r_c instead of r_c, with
 * S_w = (1/n) Σ_i (x_i − μ_{y_i})(x_i − μ_{y_i})ᵀ the within-class covariance and
 * γ = ridge·trace(S_w)/d (the ridge makes S_w invertible where pixels never vary, e.g. the zero
 * padding of Fashion-MNIST): the w_c are the directions a linear discriminant classifier with
 * shared covariance weighs. Everything is in double; S_w is accumulated with dsyrk in blocks. */
#include <math.h>
#include <string.h>

#include "analysis/analysis.h"
#include "core/lapack.h"

#define ALIGN_BLOCK 256 /* samples per dsyrk of the within-class scatter */

/* Rows r_c (k×d) from the class means. */
static void between_rows(const nad_dataset *ds, int64_t k, double *r, double *counts) {
  const int64_t n = ds->n, d = ds->d;
  double *mean = r + k * d; /* scratch row after the k class rows */
  memset(r, 0, (size_t)((k + 1) * d) * sizeof(double));
  memset(counts, 0, (size_t)k * sizeof(double));
  for (int64_t i = 0; i < n; i++) {
    const int32_t y = ds->labels[i];
    const float *x = ds->x + i * d;
    double *row = r + y * d;
    counts[y] += 1.0;
    for (int64_t t = 0; t < d; t++)
      row[t] += x[t];
  }
  for (int64_t c = 0; c < k; c++)
    for (int64_t t = 0; t < d; t++)
      mean[t] += r[c * d + t];
  for (int64_t t = 0; t < d; t++)
    mean[t] /= (double)n;
  for (int64_t c = 0; c < k; c++) {
    double *row = r + c * d;
    if (counts[c] == 0.0)
      continue; /* an absent label: no mean, no weight */
    const double w = sqrt(counts[c] / (double)n);
    for (int64_t t = 0; t < d; t++)
      row[t] = w * (row[t] / counts[c] - mean[t]);
  }
}

/* rows (k×d) ← (S_w + γI)⁻¹ rows. */
static nad_status discriminant_rows(const nad_dataset *ds, int64_t k, const double *counts,
                                    double ridge, double *rows) {
  const int64_t n = ds->n, d = ds->d;
  double *sw = nadi_calloc((size_t)(d * d), sizeof(double));
  double *block = nadi_alloc((size_t)(ALIGN_BLOCK * d), sizeof(double));
  double *means = nadi_alloc((size_t)(k * d), sizeof(double));
  nad_status st = NAD_OK;
  if (!sw || !block || !means)
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "within-class scatter of dimension %lld (%.1f MB)",
                   (long long)d, 8e-6 * (double)d * (double)d);
  if (st == NAD_OK) {
    /* Class means again, plain (the rows are weighted and centred). */
    memset(means, 0, (size_t)(k * d) * sizeof(double));
    for (int64_t i = 0; i < n; i++) {
      const float *x = ds->x + i * d;
      double *m = means + ds->labels[i] * d;
      for (int64_t t = 0; t < d; t++)
        m[t] += x[t];
    }
    for (int64_t c = 0; c < k; c++)
      for (int64_t t = 0; counts[c] > 0.0 && t < d; t++)
        means[c * d + t] /= counts[c];
    for (int64_t s0 = 0; s0 < n; s0 += ALIGN_BLOCK) {
      const int64_t m = n - s0 < ALIGN_BLOCK ? n - s0 : ALIGN_BLOCK;
      for (int64_t i = 0; i < m; i++) {
        const float *x = ds->x + (s0 + i) * d;
        const double *mu = means + ds->labels[s0 + i] * d;
        for (int64_t t = 0; t < d; t++)
          block[i * d + t] = (double)x[t] - mu[t];
      }
      nadi_dsyrk_lower_t(d, m, 1.0 / (double)n, block, sw);
    }
    double tr = 0.0;
    for (int64_t t = 0; t < d; t++)
      tr += sw[t * d + t];
    const double gamma = ridge * tr / (double)d;
    if (!(gamma > 0.0) || !isfinite(gamma))
      st = nadi_fail(NAD_ERR_INVALID_ARG,
                     "the linear-discriminant alignment needs within-class variance: the "
                     "samples equal their class means (trace of S_w = %g)", tr);
    for (int64_t t = 0; st == NAD_OK && t < d; t++)
      sw[t * d + t] += gamma;
    if (st == NAD_OK)
      st = nadi_spd_solve(sw, d, rows, k);
  }
  nadi_free(sw);
  nadi_free(block);
  nadi_free(means);
  return st;
}

nad_status nadi_align_energies(const nad_dataset *ds, const float *v, int64_t count, int kind,
                               double ridge, double *e, double *total) {
  const int64_t d = ds->d, k = ds->num_classes;
  double *rows = nadi_alloc((size_t)((k + 1) * d), sizeof(double));
  double *counts = nadi_alloc((size_t)k, sizeof(double));
  double *vd = nadi_alloc((size_t)(count * d), sizeof(double));
  double *proj = nadi_alloc((size_t)(k * count), sizeof(double));
  nad_status st = NAD_OK;
  if (!rows || !counts || !vd || !proj)
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "alignment of %lld directions of dimension %lld",
                   (long long)count, (long long)d);
  if (st == NAD_OK) {
    between_rows(ds, k, rows, counts);
    if (kind == 1)
      st = discriminant_rows(ds, k, counts, ridge, rows);
  }
  if (st == NAD_OK) {
    double tr = 0.0;
    for (int64_t t = 0; t < k * d; t++)
      tr += rows[t] * rows[t];
    if (!(tr > 0.0) || !isfinite(tr))
      st = nadi_fail(NAD_ERR_INVALID_ARG,
                     "the dataset has no between-class scatter (a single class, or all class "
                     "means equal): nothing to align with");
    *total = tr;
  }
  if (st == NAD_OK) {
    for (int64_t t = 0; t < count * d; t++)
      vd[t] = (double)v[t];
    nadi_dgemm_nt(k, count, d, 1.0, rows, vd, 0.0, proj); /* proj[c][i] = r_c · v_i */
    for (int64_t i = 0; i < count; i++) {
      double s = 0.0;
      for (int64_t c = 0; c < k; c++)
        s += proj[c * count + i] * proj[c * count + i];
      e[i] = s;
    }
  }
  nadi_free(rows);
  nadi_free(counts);
  nadi_free(vd);
  nadi_free(proj);
  return st;
}

void nadi_align_curve(const double *e, int64_t count, int64_t d, double total, double *curve,
                      double *score) {
  double run = 0.0, area = 0.0;
  for (int64_t i = 0; i < count; i++) {
    run += e[i];
    curve[i] = run / total;
    area += curve[i];
  }
  /* Directions not given: as if they were a random basis of the rest of the space, whose
   * expected curve rises linearly from a(count) to a(d) = 1. Exact when count = d − 1. */
  const int64_t m = d - count;
  const double last = count > 0 ? curve[count - 1] : 0.0;
  if (m > 0)
    area += (double)m * last + (1.0 - last) * (double)(m + 1) / 2.0;
  *score = area / (double)d;
}
