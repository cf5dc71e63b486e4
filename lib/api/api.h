/* Bodies of the public handles and the helpers the façade files share. Never installed. */
#ifndef NADI_API_H
#define NADI_API_H

#include <stdatomic.h>

#include "graph/graph.h"

/* An architecture: a reference-counted immutable graph. nad_arch_destroy drops one reference;
 * nets and estimators hold their own (nadi_arch_retain), so destruction order is free. */
struct nad_arch {
  atomic_int_fast64_t refs;
  char name[64];
  nadi_graph *g;
  int64_t outputs;
};

const nad_arch *nadi_arch_retain(const nad_arch *a);
void nadi_arch_release(const nad_arch *a);

/* A network: parameters plus an executor sized for the last batch (grown on demand). */
struct nad_net {
  const nad_arch *arch;
  float *params;
  nadi_exec *exec;
  float *x_copy;      /* private copy of the last forward's input (backward reads it) */
  int training;
  nadi_rng rng;      /* dropout masks in training mode */
  int64_t last_batch; /* batch of the last forward, 0 = none (backward is misuse) */
};

#endif
