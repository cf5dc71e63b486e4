/* Probing one sample (lib/estimator/response.c): the response g (D doubles) of network j at its
 * evaluation point. Never installed. Calls lib/graph (executor, delta forward, folding) only. */
#ifndef NADI_RESPONSE_H
#define NADI_RESPONSE_H

#include <stdatomic.h>

#include "graph/graph.h"

typedef struct nadi_probe nadi_probe;
/* What sample j is: which network at which point, and which output is the response. */
typedef struct nadi_probe_cfg {
  int mode;      /* nad_mode */
  double step;   /* dipole step */
  int64_t batch; /* perturbed inputs per forward (dipole) */
  const float *x0;     /* the one evaluation point (D floats, copied), or NULL with points */
  const float *points; /* sample j at points + j·D (borrowed), or NULL */
  const int32_t *labels; /* labels of points (for output = NAD_OUTPUT_LABEL) */
  const float *params; /* fixed network (n_params floats, copied), or NULL: weights (seed, j) */
  int64_t output;      /* response = this output, or the label's (NAD_OUTPUT_LABEL) */
  nad_param_fn source; /* random networks' parameters from the caller (NULL: libnad's init) */
  void *source_ud;
} nadi_probe_cfg;
/* Buffers for one worker: executor, parameters, perturbed-input chunk. */
nad_status nadi_probe_create(const nadi_graph *g, const nadi_probe_cfg *cfg, nadi_probe **out);
void nadi_probe_destroy(nadi_probe *p);
typedef enum {
  NADI_PROBE_OK = 0,
  NADI_PROBE_NONFINITE = 1,
  NADI_PROBE_STOPPED = 2,
  NADI_PROBE_SOURCE_FAILED = 3 /* the caller's parameter source returned non-zero */
} nadi_probe_result;
/* Response of sample j into g (D doubles). Allocates nothing. Stops early (NADI_PROBE_STOPPED:
 * before the sample, between forward chunks, or within a chunk between two layers of the delta
 * forward) when *stop becomes non-zero. */
nadi_probe_result nadi_probe_run(nadi_probe *p, uint64_t seed, int64_t j, double *g,
                                 const atomic_int *stop);
/* The scale of the last sample's response values: the mean |f| of its 2D perturbed outputs
 * (dipole) or |f(x0)| (gradient); 0 before any sample. */
double nadi_probe_value_scale(const nadi_probe *p);

#endif
