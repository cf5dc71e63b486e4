/* One run of the poisoning experiment and its picture, shared by `nad poison` (cmd_poison.c)
 * and `nad sweep --poison` (sweep_poison.c): see poison_run.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "poison_run.h"

#define PICTURE_MAX_CLASSES 20

int poison_run(const nad_arch *arch, const real_data *d, const real_settings *s,
               const float *nads, int64_t count, int64_t index, double epsilon, const char *label,
               int keep_params, real_result *r, nad_dataset **poisoned) {
  memset(r, 0, sizeof *r);
  nad_dataset *p = NULL;
  const int64_t hw = d->shape[1] * d->shape[2];
  nad_status st = nad_dataset_poison(d->train, nads, count, hw, index, epsilon, &p);
  if (st != NAD_OK)
    return cli_lib_error(st, "--index %lld --epsilon %g", (long long)index, epsilon);
  int rc = real_train(arch, p, d, s, label, keep_params, r);
  if (rc == 0 && poisoned)
    *poisoned = p;
  else
    nad_dataset_destroy(p);
  return rc;
}

/* Copies sample i of ds into x (d floats). */
static int sample(const nad_dataset *ds, int64_t i, float *x, int64_t d) {
  nad_dataset *one = NULL;
  nad_status st = nad_dataset_subset(ds, i, 1, &one);
  if (st == NAD_OK)
    st = nad_dataset_get(one, x, (size_t)d, NULL, 0);
  nad_dataset_destroy(one);
  return st == NAD_OK ? 0 : cli_lib_error(st, "picture");
}

/* v mapped so that 0 is mid grey and the largest magnitude in v[0..n) reaches black/white. */
static void signed_to_unit(float *v, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++)
    m = fabs(v[i]) > m ? fabs(v[i]) : m;
  for (int64_t i = 0; i < n; i++)
    v[i] = (float)(0.5 + (m > 0 ? v[i] / (2 * m) : 0));
}

int poison_picture(const char *path, nad_figure_format fmt, const real_data *d,
                   const nad_dataset *poisoned, const float *nads, int64_t count, int64_t index) {
  const int64_t dim = d->shape[0] * d->shape[1] * d->shape[2], hw = d->shape[1] * d->shape[2];
  const int64_t k = d->classes < PICTURE_MAX_CLASSES ? d->classes : PICTURE_MAX_CLASSES;
  int64_t n = 0;
  nad_dataset_size(d->train, &n, NULL);
  int32_t *labels = malloc((size_t)n * sizeof(int32_t));
  float *grid = calloc((size_t)(4 * k * dim), sizeof(float));
  int rc = 0;
  if (!labels || !grid) {
    rc = cli_error("out of memory");
    goto done;
  }
  nad_status st = nad_dataset_get(d->train, NULL, 0, labels, (size_t)n);
  if (st != NAD_OK) {
    rc = cli_lib_error(st, "picture");
    goto done;
  }
  /* row t: clean sample of class t, poisoned, their difference, the carrier */
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t t = 0; t < k && rc == 0; t++) {
    float *row = grid + 4 * t * dim;
    int64_t i = 0;
    while (i < n && labels[i] != t)
      i++;
    if (i < n && (rc = sample(d->train, i, row, dim)) == 0 &&
        (rc = sample(poisoned, i, row + dim, dim)) == 0) {
      for (int64_t j = 0; j < dim; j++) {
        row[2 * dim + j] = row[dim + j] - row[j];
        lo = fmin(lo, fmin(row[j], row[dim + j]));
        hi = fmax(hi, fmax(row[j], row[dim + j]));
      }
    }
    if (rc == 0 && (st = nad_poison_carrier(nads, count, hw, d->shape[0], d->shape[1],
                                            d->shape[2], index, t, row + 3 * dim,
                                            (size_t)dim, NULL)) != NAD_OK)
      rc = cli_lib_error(st, "picture");
  }
  if (rc)
    goto done;
  if (!(hi > lo))
    lo = 0, hi = 1;
  for (int64_t t = 0; t < k; t++) { /* everything into [0, 1] */
    float *row = grid + 4 * t * dim;
    for (int64_t j = 0; j < 2 * dim; j++)
      row[j] = (float)((row[j] - lo) / (hi - lo));
  }
  for (int64_t t = 0; t < k; t++) {
    signed_to_unit(grid + (4 * t + 2) * dim, dim);
    signed_to_unit(grid + (4 * t + 3) * dim, dim);
  }
  char title[96];
  snprintf(title, sizeof title, "Per class: clean, poisoned, difference, carrier (NAD %lld)",
           (long long)index);
  st = nad_figure_images(path, fmt, grid, 4 * k, d->shape[0], d->shape[1], d->shape[2], 4, 0.0,
                         1.0, title);
  if (st != NAD_OK)
    rc = cli_lib_error(st, "cannot write the picture");
done:
  free(labels);
  free(grid);
  return rc;
}

