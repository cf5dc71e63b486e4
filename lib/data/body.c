/* The body of nad_dataset: allocation and reference counting. Datasets are immutable once
 * filled, so any number of threads and trainers may share one. */
#include <stdlib.h>

#include "data/data.h"

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
