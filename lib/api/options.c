/* The option table: one row per nad_option, read by the estimator's and the trainer's setters
 * and getters, nad_option_by_name, nad_option_bounds and nad_option_owner (through which the
 * CLI and the bindings learn what the library accepts). A new option is one row here plus its
 * field in the handle that owns it. */
#include <string.h>

#include "api/api.h"

#define EST NAD_OWNER_ESTIMATOR
#define TRN NAD_OWNER_TRAINER

static const nadi_option_info table[] = {
    /* id, name, is_int, lo, hi, owners, defines_run */
    {NAD_OPT_NUM_NETWORKS, "num_networks", 1, 2, NADI_EXACT_INT_MAX, EST, 0},
    {NAD_OPT_SEED, "seed", 1, 0, NADI_EXACT_INT_MAX, EST | TRN, 1},
    {NAD_OPT_NUM_THREADS, "num_threads", 1, 0, NADI_MAX_THREADS, EST | TRN, 0},
    {NAD_OPT_TOP_K, "top_k", 1, 0, 1 << 24, EST, 0},
    {NAD_OPT_BATCH, "batch", 1, 1, 1048576, EST | TRN, 0},
    {NAD_OPT_MODE, "mode", 1, NAD_MODE_DIPOLE, NAD_MODE_GRADIENT, EST, 1},
    {NAD_OPT_EVAL_POINT, "eval_point", 1, NAD_EVAL_NORMAL, NAD_EVAL_DATA, EST, 1},
    {NAD_OPT_FIRST_NETWORK, "first_network", 1, 0, NADI_EXACT_INT_MAX, EST, 0},
    {NAD_OPT_MEMORY, "memory", 1, 0, NADI_EXACT_INT_MAX, EST, 0},
    {NAD_OPT_SKETCH, "sketch", 1, 0, 1 << 24, EST, 1},
    {NAD_OPT_CONVERGE_EVERY, "converge_every", 1, 0, NADI_EXACT_INT_MAX, EST, 0},
    {NAD_OPT_CONVERGE_GROWTH, "converge_growth", 0, 1, 1e6, EST, 0},
    {NAD_OPT_STEP, "step", 0, 0x1p-1022 /* > 0 */, 1e300, EST, 1},
    {NAD_OPT_NETWORK, "network", 1, NAD_NETWORK_RANDOM, NAD_NETWORK_FIXED, EST, 1},
    {NAD_OPT_OUTPUT, "output", 1, NAD_OUTPUT_LABEL, NADI_EXACT_INT_MAX, EST, 1},
    {NAD_OPT_EPOCHS, "epochs", 1, 1, 1e9, TRN, 0},
    {NAD_OPT_LR, "lr", 0, 0, 1e300, TRN, 0},
    {NAD_OPT_MOMENTUM, "momentum", 0, 0, 0x1.fffffffffffffp-1 /* < 1 */, TRN, 0},
    {NAD_OPT_WEIGHT_DECAY, "weight_decay", 0, 0, 1e300, TRN, 0},
    {NAD_OPT_CLIP, "clip", 0, 0, 1e300, TRN, 0},
    {NAD_OPT_SHUFFLE, "shuffle", 1, 0, 1, TRN, 0},
    {NAD_OPT_SCHEDULE, "schedule", 1, NAD_SCHEDULE_LINEAR, NAD_SCHEDULE_ONECYCLE, TRN, 0},
};

static const nadi_option_info *find(nad_option o) {
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].id == o)
      return &table[i];
  return NULL;
}

nad_status nadi_option_lookup(nad_option o, nad_owner owner, int want_int, const char *accessor,
                              const nadi_option_info **oi) {
  *oi = find(o);
  NADI_CHECK(*oi && ((*oi)->owners & owner), NAD_ERR_INVALID_ARG, "option %d is not %s option",
             (int)o, owner == NAD_OWNER_ESTIMATOR ? "an estimator" : "a trainer");
  NADI_CHECK((*oi)->is_int == want_int, NAD_ERR_OPTION_TYPE, "option '%s' takes %s: use %s_%s",
             (*oi)->name, want_int ? "a double" : "an int64", accessor,
             want_int ? "double" : "int");
  return NAD_OK;
}

nad_status nadi_option_check_value(const nadi_option_info *oi, double v) {
  if (oi->is_int)
    NADI_CHECK(v >= oi->lo && v <= oi->hi, NAD_ERR_INVALID_ARG,
               "option '%s' = %.0f is out of range [%.0f, %.0f]", oi->name, v, oi->lo, oi->hi);
  else
    NADI_CHECK(v >= oi->lo && v <= oi->hi, NAD_ERR_INVALID_ARG,
               "option '%s' = %.17g is out of range [%g, %g]", oi->name, v, oi->lo, oi->hi);
  return NAD_OK;
}

nad_status nad_option_bounds(nad_option o, double *lo, double *hi) {
  const nadi_option_info *oi = find(o);
  NADI_CHECK(oi, NAD_ERR_INVALID_ARG, "nad_option_bounds: unknown option %d", (int)o);
  NADI_CHECK(lo && hi, NAD_ERR_INVALID_ARG, "nad_option_bounds: NULL output");
  *lo = oi->lo;
  *hi = oi->hi;
  return NAD_OK;
}

nad_status nad_option_owner(nad_option o, int32_t *owners) {
  const nadi_option_info *oi = find(o);
  NADI_CHECK(oi, NAD_ERR_INVALID_ARG, "nad_option_owner: unknown option %d", (int)o);
  NADI_CHECK(owners, NAD_ERR_INVALID_ARG, "nad_option_owner: NULL output");
  *owners = oi->owners;
  return NAD_OK;
}

nad_status nad_option_by_name(const char *name, nad_option *o) {
  NADI_CHECK(name && o, NAD_ERR_INVALID_ARG, "nad_option_by_name: NULL argument");
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(table[i].name, name) == 0) {
      *o = table[i].id;
      return NAD_OK;
    }
  return nadi_fail(NAD_ERR_INVALID_ARG, "unknown option name '%s'", name);
}
