/* The linearly separable distribution D(v) of the paper (the dataset body is body.c),
 * generated as the reference (DirectionalLinearDataset) does: the first ceil(n/2) samples are label 0 with
 * x = +(ε/2)·v + P⊥(σ·g), the others label 1 with x = −(ε/2)·v + P⊥(σ·g), g ~ N(0, I) and P⊥
 * removing the component along v. */
#include "data/data.h"

#define STREAM_DATASET 0x4441544100000000ULL /* "DATA" + sample index */

void nadi_dataset_fill_linear(nad_dataset *ds, const float *v, double epsilon, double sigma,
                              uint64_t seed) {
  const int64_t n = ds->n, d = ds->d, n0 = n / 2 + n % 2;
  for (int64_t i = 0; i < n; i++) {
    float *x = ds->x + i * d;
    nadi_rng r;
    nadi_rng_init(&r, seed, STREAM_DATASET + (uint64_t)i);
    nadi_rng_fill_normal(&r, x, d, 0.0, sigma);
    /* x = ±(ε/2)·v + w − (w·v)·v, the projection in double */
    double dot = 0.0;
    for (int64_t j = 0; j < d; j++)
      dot += (double)x[j] * v[j];
    double a = (i < n0 ? 0.5 : -0.5) * epsilon - dot;
    for (int64_t j = 0; j < d; j++)
      x[j] = (float)(x[j] + a * v[j]);
    ds->labels[i] = i < n0 ? 0 : 1;
  }
  ds->num_classes = n > 1 ? 2 : 1;
}
