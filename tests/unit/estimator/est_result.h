/* An estimator's results read back through the public API (dims, eigenvalues, mean, spectrum,
 * NADs, sketch bound), and their bit-for-bit comparison: shared by the estimator tests. Include
 * after check.h and define OK(call) first. */
#ifndef NADT_EST_RESULT_H
#define NADT_EST_RESULT_H

#include <stdlib.h>
#include <string.h>

#include <nad/nad.h>

typedef struct res {
  int64_t d, k;
  double *ev, *mean, *spec, bound;
  float *nads;
} res;

static inline void res_free(res *r) {
  free(r->ev);
  free(r->mean);
  free(r->spec);
  free(r->nads);
  memset(r, 0, sizeof *r);
}

static inline void get_res(nad_estimator *e, res *r) {
  memset(r, 0, sizeof *r);
  OK(nad_estimator_dims(e, &r->d, &r->k));
  r->ev = calloc((size_t)r->k, sizeof(double));
  r->mean = calloc((size_t)r->d, sizeof(double));
  r->spec = calloc((size_t)r->d, sizeof(double));
  r->nads = calloc((size_t)(r->k * r->d), sizeof(float));
  OK(nad_estimator_eigenvalues(e, r->ev, (size_t)r->k));
  OK(nad_estimator_mean(e, r->mean, (size_t)r->d));
  OK(nad_estimator_spectrum(e, r->spec, (size_t)r->d));
  OK(nad_estimator_nads(e, r->nads, (size_t)(r->k * r->d)));
  OK(nad_estimator_sketch_error(e, &r->bound));
}

static inline int res_identical(const res *a, const res *b) {
  return a->d == b->d && a->k == b->k && a->bound == b->bound &&
         memcmp(a->ev, b->ev, sizeof(double) * (size_t)a->k) == 0 &&
         memcmp(a->mean, b->mean, sizeof(double) * (size_t)a->d) == 0 &&
         memcmp(a->spec, b->spec, sizeof(double) * (size_t)a->d) == 0 &&
         memcmp(a->nads, b->nads, sizeof(float) * (size_t)(a->k * a->d)) == 0;
}

#endif
