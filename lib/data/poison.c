/* The poisoning experiment of the paper's Section 4 (the reference's poison_cifar.py,
 * generalised to C channels and K classes as the shared reference's fmnist_poison_ref.py does):
 * class t gets the carrier v_t = NAD[i + t / (2C)] placed on channel t % C (zero elsewhere),
 * with sign s_t = 2·(t % 2) − 1, and every training sample of class t has its component along
 * v_t replaced by s_t·ε:  x ← x + (s_t·ε − ⟨x, v_t⟩)·v_t.
 * A network that latches onto the carriers scores well on the poisoned training set and badly on
 * clean test data; which NADs it latches onto is the point of the experiment. Carriers are
 * normalised (the reference's NADs are unit rows already, so this changes nothing for them). */
#include <math.h>
#include <string.h>

#include "data/data.h"

/* Unit-norm copy of NAD `row` (plane floats) into dst; NAD_ERR_INVALID_ARG for a zero or
 * non-finite row. */
static nad_status unit_row(const float *nads, int64_t plane, int64_t row, int64_t t, float *dst) {
  const float *v = nads + row * plane;
  double s = 0.0;
  for (int64_t j = 0; j < plane; j++)
    s += (double)v[j] * v[j];
  NADI_CHECK(isfinite(s) && s > 0, NAD_ERR_INVALID_ARG,
             "NAD %lld (carrier of class %lld) is %s", (long long)row, (long long)t,
             !isfinite(s) ? "not finite" : "zero");
  const double inv = 1.0 / sqrt(s);
  for (int64_t j = 0; j < plane; j++)
    dst[j] = (float)(v[j] * inv);
  return NAD_OK;
}

nad_status nadi_poison_carrier(const float *nads, int64_t c, int64_t h, int64_t w, int64_t index,
                               int64_t t, float *dst, int32_t *sign) {
  const int64_t plane = h * w;
  memset(dst, 0, (size_t)(c * plane) * sizeof(float));
  NADI_TRY(unit_row(nads, plane, index + t / (2 * c), t, dst + (t % c) * plane));
  *sign = (int32_t)(2 * (t % 2) - 1);
  return NAD_OK;
}

nad_status nadi_dataset_poison(const nad_dataset *d, const float *nads, int64_t index,
                               double epsilon, nad_dataset **out) {
  *out = NULL;
  const int64_t k = d->num_classes, c = d->c, dim = d->d, plane = d->h * d->w;
  const int64_t rows = (k - 1) / (2 * c) + 1; /* NADs index .. index + rows − 1 are used */
  float *unit = nadi_alloc((size_t)(rows * plane), sizeof(float));
  NADI_CHECK(unit, NAD_ERR_OUT_OF_MEMORY, "poison: out of memory for %lld carriers",
             (long long)rows);
  nad_status st = NAD_OK;
  for (int64_t r = 0; r < rows && st == NAD_OK; r++)
    st = unit_row(nads, plane, index + r, 2 * c * r, unit + r * plane);
  nad_dataset *p = NULL;
  if (st == NAD_OK)
    st = nadi_dataset_alloc(d->n, c, d->h, d->w, &p);
  if (st == NAD_OK) {
    p->num_classes = d->num_classes;
    memcpy(p->labels, d->labels, (size_t)d->n * sizeof(int32_t));
    memcpy(p->x, d->x, (size_t)(d->n * dim) * sizeof(float));
    for (int64_t i = 0; i < d->n; i++) {
      const int64_t t = d->labels[i];
      const float *v = unit + (t / (2 * c)) * plane; /* the carrier lives on one channel */
      float *y = p->x + i * dim + (t % c) * plane;
      double dot = 0.0;
      for (int64_t j = 0; j < plane; j++)
        dot += (double)y[j] * v[j];
      const double a = (double)(2 * (t % 2) - 1) * epsilon - dot;
      for (int64_t j = 0; j < plane; j++)
        y[j] = (float)(y[j] + a * v[j]);
    }
    *out = p;
  }
  nadi_free(unit);
  return st;
}
