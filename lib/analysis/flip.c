/* A trained network's predictions on a dataset before and after a band operation.
 *
 * The samples go through in chunks: each chunk is copied, modified along the band
 * (band.c), and both versions are forwarded in eval mode. The change δ = x' − x is measured
 * in double: l2 is the mean over samples of ||δ||₂, and the PSNR uses the mean squared change
 * over all n·d values with the dynamic range (max − min) of the original samples as peak, the
 * usual definition for images (peak 1 for images scaled to [0, 1] that hold both black and
 * white). */
#include <math.h>
#include <string.h>

#include "analysis/analysis.h"

#define PREDICT_CHUNK 128 /* samples per forward: bounds the executor's activations */

static int32_t argmax(const float *z, int64_t k) {
  int32_t best = 0;
  for (int64_t j = 1; j < k; j++)
    if (z[j] > z[best])
      best = (int32_t)j;
  return best;
}

static int64_t out_size(const nadi_graph *g) {
  const int64_t *o = g->layers[g->n_layers - 1].out_shape;
  return o[0] * o[1] * o[2];
}

/* Forward n <= cap samples through ex and write their predictions. */
static void predict_chunk(nadi_exec *ex, const nadi_graph *g, float *params, const float *x,
                          int64_t n, int32_t *pred) {
  const int64_t k = out_size(g);
  const float *z = nadi_exec_forward(ex, params, x, n, 0, NULL);
  for (int64_t i = 0; i < n; i++)
    pred[i] = argmax(z + i * k, k);
}

nad_status nadi_band_evaluate(const nadi_graph *g, float *params, const nad_dataset *ds,
                              const float *v, int64_t k, float alpha, nadi_band_stats *out) {
  const int64_t n = ds->n, d = ds->d, cap = n < PREDICT_CHUNK ? n : PREDICT_CHUNK;
  nadi_exec *ex = NULL;
  NADI_TRY(nadi_exec_create(g, cap, &ex));
  float *mod = nadi_alloc((size_t)(cap * d), sizeof(float));
  int32_t *before = nadi_alloc((size_t)cap, sizeof(int32_t));
  int32_t *after = nadi_alloc((size_t)cap, sizeof(int32_t));
  nad_status st = NAD_OK;
  if (!mod || !before || !after)
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "band evaluation buffers (%lld samples of %lld floats)",
                   (long long)cap, (long long)d);
  int64_t hits_before = 0, hits_after = 0, changed = 0;
  double l2_sum = 0.0, sq_sum = 0.0;
  float lo = INFINITY, hi = -INFINITY;
  for (int64_t s0 = 0; st == NAD_OK && s0 < n; s0 += cap) {
    const int64_t m = n - s0 < cap ? n - s0 : cap;
    const float *x = ds->x + s0 * d;
    st = nadi_band_apply(v, k, d, alpha, x, m, mod);
    if (st != NAD_OK)
      break;
    predict_chunk(ex, g, params, x, m, before);
    predict_chunk(ex, g, params, mod, m, after);
    for (int64_t i = 0; i < m; i++) {
      const int32_t y = ds->labels[s0 + i];
      hits_before += before[i] == y;
      hits_after += after[i] == y;
      changed += before[i] != after[i];
      double sq = 0.0;
      for (int64_t t = 0; t < d; t++) {
        const float xv = x[i * d + t];
        const double diff = (double)mod[i * d + t] - (double)xv;
        sq += diff * diff;
        lo = xv < lo ? xv : lo;
        hi = xv > hi ? xv : hi;
      }
      l2_sum += sqrt(sq);
      sq_sum += sq;
    }
  }
  nadi_exec_destroy(ex);
  nadi_free(mod);
  nadi_free(before);
  nadi_free(after);
  if (st != NAD_OK)
    return st;
  const double mse = sq_sum / ((double)n * (double)d), peak = (double)hi - (double)lo;
  out->accuracy_before = 100.0 * (double)hits_before / (double)n;
  out->accuracy_after = 100.0 * (double)hits_after / (double)n;
  out->changed_fraction = (double)changed / (double)n;
  out->l2 = l2_sum / (double)n;
  out->peak = peak;
  out->psnr = mse > 0.0 ? 10.0 * log10(peak * peak / mse) : INFINITY;
  NADI_CHECK(isfinite(out->l2), NAD_ERR_NUMERICAL,
             "the modified samples are not finite (NADs or data hold huge values)");
  return NAD_OK;
}
