/* Bodies of the public handles and the helpers the façade files share. Never installed; nothing
 * below lib/api includes it (the façade calls down, never the reverse). */
#ifndef NADI_API_H
#define NADI_API_H

#include <stdatomic.h>

#include "core/guard.h"
#include "core/threads.h"
#include "graph/graph.h"

/* An architecture: a reference-counted immutable graph. nad_arch_destroy drops one reference;
 * nets and estimators hold their own (nadi_arch_retain), so destruction order is free. */
struct nad_arch {
  atomic_int_fast64_t refs;
  char name[64];
  nadi_graph *g;
  int64_t outputs;
  float *file_params; /* an imported model's own weights (g->n_params floats), else NULL */
  /* Made by nad_arch_with_init_rules: the handle without rules it was made from (retained;
   * its file_params are this one's), and the rules' warnings (owned). Else NULL. */
  const nad_arch *plain;
  char *init_warnings;
};

/* A handle around g (consumed, also on failure) named `name`. */
nad_status nadi_arch_wrap(nadi_graph *g, const char *name, nad_arch **out);

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
  nadi_guard guard;   /* running calls; destroy waits for them (lib/core/guard.h) */
};

/* 2^53 − 1: integer option bounds and network indices stay exact as doubles. */
#define NADI_EXACT_INT_MAX 9007199254740991.0

/* One row of the option table (lib/api/options.c). */
typedef struct nadi_option_info {
  nad_option id;
  const char *name;
  int is_int;       /* int64 option (ids 100-199, 10000+), else double (200-299) */
  double lo, hi;    /* valid range, inclusive (exact integers for int options) */
  int32_t owners;   /* nad_owner bits: the handles that take it */
  int defines_run;  /* part of an estimator checkpoint's identity: frozen once networks are
                       accumulated */
} nadi_option_info;

/* The row of option o for a setter or getter of `owner`: NAD_ERR_INVALID_ARG when owner does not
 * take o, NAD_ERR_OPTION_TYPE when want_int does not match its type (the message names the
 * right accessor, `accessor` + "_int" / "_double", e.g. "nad_trainer_set"). */
nad_status nadi_option_lookup(nad_option o, nad_owner owner, int want_int, const char *accessor,
                              const nadi_option_info **oi);
/* NAD_ERR_INVALID_ARG when v is outside the option's range. */
nad_status nadi_option_check_value(const nadi_option_info *oi, double v);

/* The one rule for buffer lengths (nad.h's conventions): the length passed with a buffer states
 * its element count and must equal the count the call reads or writes, else NAD_ERR_SHAPE.
 * `fn` and `what` name the function and the buffer in the message. */
#define NADI_CHECK_LEN(fn, what, len, need)                                                        \
  NADI_CHECK((size_t)(len) == (size_t)(need), NAD_ERR_SHAPE,                                       \
             "%s: %s must hold exactly %lld elements, got %zu", (fn), (what), (long long)(need),  \
             (size_t)(len))

/* Per-sample shape c×h×w of user data (datasets, directions): every factor >= 1 and a product
 * *d that fits in memory as floats (lib/api/dataset.c). */
nad_status nadi_check_sample_shape(const char *fn, int64_t c, int64_t h, int64_t w, int64_t *d);

/* Run `body` (an expression giving a nad_status) as a guarded call on handle h (a field
 * `guard`, lib/core/guard.h): refused with NAD_ERR_MISUSE once destroy was requested; when a
 * destroy arrived during the call (from its callback or another thread), `free_fn(h)` runs here,
 * after the call, instead of under it. */
#define NADI_GUARDED(h, fn_name, free_fn, body)                                                    \
  do {                                                                                             \
    NADI_CHECK(nadi_guard_enter((nadi_guard *)&(h)->guard), NAD_ERR_MISUSE,                        \
               "%s: the handle is being destroyed", (fn_name));                                   \
    nad_status nadi_gst_ = (body);                                                                 \
    if (nadi_guard_leave((nadi_guard *)&(h)->guard))                                               \
      free_fn(h);                                                                                  \
    return nadi_gst_;                                                                              \
  } while (0)

#endif
