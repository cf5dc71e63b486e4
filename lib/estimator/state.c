/* The state of a run besides its accumulators: the network ranges already covered and the
 * evaluation point (with NAD_EVAL_DATA one per sample, taken by the probe). The run loop (run.c) and the checkpoint writer (checkpoint.c) both
 * read it; it calls neither. */
#include <stdlib.h>
#include <string.h>

#include "estimator/run.h"

/* ---- network ranges ----------------------------------------------------------------------- */

int nadi_ranges_overlap(const nad_estimator *e, const nadi_range *r, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    for (int64_t t = 0; t < e->n_ranges; t++)
      if (r[i].lo < e->ranges[t].hi && e->ranges[t].lo < r[i].hi)
        return 1;
  return 0;
}

int nadi_ranges_covered(const nad_estimator *e, int64_t j) {
  for (int64_t t = 0; t < e->n_ranges; t++)
    if (e->ranges[t].lo <= j && j < e->ranges[t].hi)
      return 1;
  return 0;
}

nad_status nadi_ranges_add(nad_estimator *e, int64_t lo, int64_t hi) {
  if (lo >= hi)
    return NAD_OK;
  /* Fast path of the run loop: extend the range that ends at lo. */
  int64_t pos = 0;
  while (pos < e->n_ranges && e->ranges[pos].hi < lo)
    pos++;
  if (pos < e->n_ranges && e->ranges[pos].hi == lo) {
    e->ranges[pos].hi = hi;
    if (pos + 1 < e->n_ranges && e->ranges[pos + 1].lo == hi) { /* closes a gap */
      e->ranges[pos].hi = e->ranges[pos + 1].hi;
      memmove(e->ranges + pos + 1, e->ranges + pos + 2,
              (size_t)(e->n_ranges - pos - 2) * sizeof(nadi_range));
      e->n_ranges--;
    }
    return NAD_OK;
  }
  if (pos < e->n_ranges && e->ranges[pos].lo == hi) {
    e->ranges[pos].lo = lo;
    return NAD_OK;
  }
  if (e->n_ranges == e->cap_ranges) {
    int64_t cap = e->cap_ranges ? 2 * e->cap_ranges : 8;
    nadi_range *r = realloc(e->ranges, (size_t)cap * sizeof(nadi_range));
    if (!r)
      return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "network range list");
    e->ranges = r;
    e->cap_ranges = cap;
  }
  memmove(e->ranges + pos + 1, e->ranges + pos, (size_t)(e->n_ranges - pos) * sizeof(nadi_range));
  e->ranges[pos].lo = lo;
  e->ranges[pos].hi = hi;
  e->n_ranges++;
  return NAD_OK;
}

/* ---- evaluation point ---------------------------------------------------------------------- */

nad_status nadi_estimator_eval_point(const nad_estimator *e, float *x0) {
  switch (e->eval_kind) {
  case NAD_EVAL_DATA: /* one point per sample: nothing shared */
  case NAD_EVAL_ZEROS:
    memset(x0, 0, (size_t)e->d * sizeof(float));
    return NAD_OK;
  case NAD_EVAL_USER:
    if (!e->x0_user)
      return nadi_fail(NAD_ERR_MISUSE, "NAD_OPT_EVAL_POINT is NAD_EVAL_USER but no point was "
                                       "given with nad_estimator_set_eval_point");
    memcpy(x0, e->x0_user, (size_t)e->d * sizeof(float));
    return NAD_OK;
  default: {
    /* The reserved stream UINT64_MAX: no network index can collide with it. */
    nadi_rng r;
    nadi_rng_init(&r, e->seed, UINT64_MAX);
    nadi_rng_fill_normal(&r, x0, e->d, 0.0, 1.0);
    return NAD_OK;
  }
  }
}
