/* Dataset bodies and the linearly separable distribution D(v) of the paper, generated as the
 * reference (DirectionalLinearDataset) does: the first ceil(n/2) samples are label 0 with
 * x = +(ε/2)·v + P⊥(σ·g), the others label 1 with x = −(ε/2)·v + P⊥(σ·g), g ~ N(0, I) and P⊥
 * removing the component along v. */
#include <stdlib.h>

#include "train/train.h"

#define STREAM_DATASET 0x4441544100000000ULL /* "DATA" + sample index */

nad_status nadi_dataset_alloc(int64_t n, int64_t c, int64_t h, int64_t w, nad_dataset **out) {
  *out = NULL;
  int64_t d, total;
  NADI_CHECK(nadi_mul_ok(c, h, &d) && nadi_mul_ok(d, w, &d) && nadi_mul_ok(n, d, &total) &&
                 (uint64_t)total <= SIZE_MAX / sizeof(float),
             NAD_ERR_OUT_OF_MEMORY, "dataset of %lld samples of %lldx%lldx%lld is too large",
             (long long)n, (long long)c, (long long)h, (long long)w);
  nad_dataset *ds = calloc(1, sizeof *ds);
  if (ds) {
    ds->x = nadi_alloc((size_t)total, sizeof(float));
    ds->labels = nadi_alloc((size_t)n, sizeof(int32_t));
  }
  if (!ds || !ds->x || !ds->labels) {
    if (ds) {
      nadi_free(ds->x);
      nadi_free(ds->labels);
    }
    free(ds);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory for a dataset of %lld samples (%.1f MB)",
                     (long long)n, (double)total * 4e-6);
  }
  atomic_init(&ds->refs, 1);
  ds->n = n;
  ds->c = c;
  ds->h = h;
  ds->w = w;
  ds->d = d;
  *out = ds;
  return NAD_OK;
}

const nad_dataset *nadi_dataset_retain(const nad_dataset *d) {
  atomic_fetch_add(&((nad_dataset *)d)->refs, 1);
  return d;
}

void nadi_dataset_release(const nad_dataset *d) {
  if (!d)
    return;
  nad_dataset *ds = (nad_dataset *)d;
  if (atomic_fetch_sub(&ds->refs, 1) != 1)
    return;
  nadi_free(ds->x);
  nadi_free(ds->labels);
  free(ds);
}

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
