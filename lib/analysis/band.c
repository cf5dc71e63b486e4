/* A band of NADs as a projector. With V the k×d matrix of the band's rows (orthonormal), the
 * component of a sample x along the band is P x = Vᵀ(V x); flipping its sign gives x − 2Px and
 * removing it x − Px. Both are computed in chunks of samples: C = X Vᵀ (one sgemm), then
 * X' = X − alpha·C V (a second sgemm accumulating into X'), so no d×d projector is formed
 * (d = 3072 for CIFAR: 36 MB per projector, and 2·n·d·k flops instead of n·d²). */
#include <math.h>
#include <string.h>

#include "analysis/analysis.h"

double nadi_band_orthonormality_error(const float *v, int64_t k, int64_t d) {
  float *gram = nadi_alloc((size_t)(k * k), sizeof(float));
  if (!gram)
    return -1.0;
  nadi_sgemm(0, 1, k, k, d, 1.0f, v, d, v, d, 0.0f, gram, k);
  double worst = 0.0;
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < k; j++) {
      double err = fabs((double)gram[i * k + j] - (i == j ? 1.0 : 0.0));
      worst = err > worst ? err : worst;
    }
  nadi_free(gram);
  return worst;
}

nad_status nadi_band_apply(const float *v, int64_t k, int64_t d, float alpha, const float *x,
                           int64_t n, float *dst) {
  const int64_t chunk = n < NADI_BAND_CHUNK ? n : NADI_BAND_CHUNK;
  float *coef = nadi_alloc((size_t)(chunk * k), sizeof(float));
  if (!coef)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "band coefficients (%lld × %lld floats)",
                     (long long)chunk, (long long)k);
  for (int64_t s0 = 0; s0 < n; s0 += chunk) {
    const int64_t m = n - s0 < chunk ? n - s0 : chunk;
    const float *xs = x + s0 * d;
    float *ys = dst + s0 * d;
    nadi_sgemm(0, 1, m, k, d, 1.0f, xs, d, v, d, 0.0f, coef, k); /* C = X Vᵀ */
    if (ys != xs)
      memcpy(ys, xs, (size_t)(m * d) * sizeof(float));
    nadi_sgemm(0, 0, m, d, k, -alpha, coef, k, v, d, 1.0f, ys, d); /* X' = X − alpha·C V */
  }
  nadi_free(coef);
  return NAD_OK;
}
