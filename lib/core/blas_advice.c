/* Does the BLAS use the kernels this CPU deserves?
 *
 * A BLAS that does not recognise a CPU model falls back to kernels for an older one: Debian 12's
 * OpenBLAS 0.3.21 runs its SSE "Prescott" kernels on an Intel Xeon of model 207 (sgemm 49
 * instead of 219 GFLOP/s with OPENBLAS_CORETYPE=SkylakeX) and its AVX2 "Haswell" kernels on AMD
 * Zen 5 (the SkylakeX kernels are 1.7-2x faster there, measured: BENCHMARKS.md); Debian's BLIS
 * 0.9.0 runs "generic" C kernels on Zen 5. The policy: a kernel set written for a lower vector
 * level than the CPU and OS allow (lib/core/cpu.c) is weaker, and the better set is the
 * vendor's set for the CPU's level. Names this table does not know (a newer BLAS) are never
 * judged. */
#include <string.h>
#include <strings.h>

#include "core/blas.h"
#include "core/core.h"

typedef struct core_level {
  const char *name;
  int level;
} core_level;

/* OpenBLAS 0.3.21 x86-64 core names (driver/others/dynamic.c). Zen, Steamroller and Excavator
 * are what OpenBLAS picks on those AMD CPUs themselves: AVX2-class, not second best. */
static const core_level openblas_cores[] = {
    {"SapphireRapids", NADI_SIMD_AVX512}, {"Cooperlake", NADI_SIMD_AVX512},
    {"SkylakeX", NADI_SIMD_AVX512},       {"Haswell", NADI_SIMD_AVX2},
    {"Zen", NADI_SIMD_AVX2},              {"Excavator", NADI_SIMD_AVX2},
    {"Steamroller", NADI_SIMD_AVX2},      {"Sandybridge", NADI_SIMD_AVX},
    {"Piledriver", NADI_SIMD_AVX},        {"Bulldozer", NADI_SIMD_AVX},
    {"Prescott", NADI_SIMD_BASE},         {"Core2", NADI_SIMD_BASE},
    {"Penryn", NADI_SIMD_BASE},           {"Dunnington", NADI_SIMD_BASE},
    {"Nehalem", NADI_SIMD_BASE},          {"Atom", NADI_SIMD_BASE},
    {"Athlon", NADI_SIMD_BASE},           {"Opteron", NADI_SIMD_BASE},
    {"Opteron_SSE3", NADI_SIMD_BASE},     {"Barcelona", NADI_SIMD_BASE},
    {"Nano", NADI_SIMD_BASE},             {"Bobcat", NADI_SIMD_BASE},
    {"Katmai", NADI_SIMD_BASE},           {"Coppermine", NADI_SIMD_BASE},
    {"Northwood", NADI_SIMD_BASE},        {"Banias", NADI_SIMD_BASE},
};

/* BLIS 0.9.0 x86-64 sub-configurations (bli_arch_string). */
static const core_level blis_cores[] = {
    {"skx", NADI_SIMD_AVX512},       {"knl", NADI_SIMD_AVX512},
    {"zen4", NADI_SIMD_AVX512},      {"haswell", NADI_SIMD_AVX2},
    {"zen3", NADI_SIMD_AVX2},        {"zen2", NADI_SIMD_AVX2},
    {"zen", NADI_SIMD_AVX2},         {"excavator", NADI_SIMD_AVX2},
    {"steamroller", NADI_SIMD_AVX2}, {"sandybridge", NADI_SIMD_AVX},
    {"piledriver", NADI_SIMD_AVX},   {"bulldozer", NADI_SIMD_AVX},
    {"penryn", NADI_SIMD_BASE},      {"generic", NADI_SIMD_BASE},
};

static const core_level *table(const char *vendor, size_t *n) {
  if (vendor && strcmp(vendor, "OpenBLAS") == 0) {
    *n = sizeof openblas_cores / sizeof openblas_cores[0];
    return openblas_cores;
  }
  if (vendor && strcmp(vendor, "BLIS") == 0) {
    *n = sizeof blis_cores / sizeof blis_cores[0];
    return blis_cores;
  }
  *n = 0;
  return NULL;
}

int nadi_blas_core_level(const char *vendor, const char *core) {
  size_t n;
  const core_level *t = table(vendor, &n);
  for (size_t i = 0; core && i < n; i++)
    if (strcasecmp(t[i].name, core) == 0)
      return t[i].level;
  return -2;
}

const char *nadi_blas_core_for_level(const char *vendor, int level) {
  static const char *const openblas_best[] = {NULL, "Sandybridge", "Haswell", "SkylakeX"};
  static const char *const blis_best[] = {NULL, "sandybridge", "haswell", "skx"};
  if (level < NADI_SIMD_BASE || level > NADI_SIMD_AVX512 || !vendor)
    return NULL;
  if (strcmp(vendor, "OpenBLAS") == 0)
    return openblas_best[level];
  if (strcmp(vendor, "BLIS") == 0)
    return blis_best[level];
  return NULL;
}

nadi_blas_verdict nadi_blas_advise(const char *vendor, const char *core, int cpu_level,
                                   const char *select_env, const char *user_value,
                                   const char **better) {
  *better = NULL;
  const int have = nadi_blas_core_level(vendor, core);
  const char *best = nadi_blas_core_for_level(vendor, cpu_level);
  if (have < NADI_SIMD_BASE || !best || have >= cpu_level)
    return NADI_BLAS_OK;
  *better = best;
  if (!select_env)
    return NADI_BLAS_STUCK;
  if (!user_value || !user_value[0])
    return NADI_BLAS_RESTART;
  /* The variable asks for the better set and the BLAS still runs a weaker one: it ignored the
   * variable (e.g. the set is not compiled in); asking again would not help. */
  return strcasecmp(user_value, best) == 0 ? NADI_BLAS_STUCK : NADI_BLAS_USER_ENV;
}
