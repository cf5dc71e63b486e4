/* Public report on the BLAS: vendor, kernel set, threads, and whether the kernel set is weaker
 * than the CPU allows (policy: lib/core/blas_advice.c). The library only reports: it never
 * prints, and it cannot switch the kernels of a BLAS that is already loaded; the `nad` tool and
 * the Python binding act on NAD_BLAS_FIX before the BLAS starts.
 *
 * Test hook: NAD_TEST_BLAS_CORE, when set, replaces the core name the BLAS reports, so that
 * the restart of the `nad` tool can be tested on any CPU (tests/cli). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/blas.h"

static struct {
  nadi_blas_facts facts;
  int cpu_level;
  const char *best;
  char core[64];
  char fix[96];
  char warning[512];
} g_blas;

static pthread_once_t g_blas_once = PTHREAD_ONCE_INIT;

static void decide(void) {
  nadi_blas_facts *f = &g_blas.facts;
  nadi_blas_facts_get(f);
  const char *fake = getenv("NAD_TEST_BLAS_CORE");
  snprintf(g_blas.core, sizeof g_blas.core, "%s", fake && fake[0] ? fake : f->core);
  g_blas.cpu_level = nadi_cpu_simd_level();
  const char *user = f->select_env ? getenv(f->select_env) : NULL;
  const char *better = NULL;
  nadi_blas_verdict v =
      nadi_blas_advise(f->vendor, g_blas.core, g_blas.cpu_level, f->select_env, user, &better);
  const char *best = nadi_blas_core_for_level(f->vendor, g_blas.cpu_level);
  g_blas.best = best ? best : "";
  const char *cpu = nadi_cpu_simd_name(g_blas.cpu_level);
  char *w = g_blas.warning;
  const size_t wn = sizeof g_blas.warning;
  switch (v) {
  case NADI_BLAS_OK:
    break;
  case NADI_BLAS_RESTART:
    snprintf(g_blas.fix, sizeof g_blas.fix, "%s=%s", f->select_env, better);
    snprintf(w, wn,
             "%s runs its %s kernels on a CPU that allows %s: 2-5x slower GEMMs. Set %s "
             "before the library is loaded (the nad tool and the Python binding do this "
             "themselves)",
             f->vendor, g_blas.core, cpu, g_blas.fix);
    break;
  case NADI_BLAS_USER_ENV:
    snprintf(w, wn,
             "%s=%s in the environment keeps %s on its %s kernels although the CPU allows %s "
             "(%s=%s would be faster); kept because it was set explicitly",
             f->select_env, user, f->vendor, g_blas.core, cpu, f->select_env, better);
    break;
  case NADI_BLAS_STUCK:
    if (f->select_env)
      snprintf(w, wn,
               "%s runs its %s kernels on a CPU that allows %s although %s=%s is set: this "
               "build cannot switch (needs a DYNAMIC_ARCH build of OpenBLAS)",
               f->vendor, g_blas.core, cpu, f->select_env, user ? user : "");
    else
      snprintf(w, wn,
               "%s %s runs its %s kernels on a CPU that allows %s (it does not recognise this "
               "CPU) and cannot be told otherwise: build libnad with -Dblas=openblas, or use a "
               "%s that knows this CPU",
               f->vendor, f->version, g_blas.core, cpu, f->vendor);
    break;
  }
}

const char *nad_blas_info(nad_blas_field field) {
  pthread_once(&g_blas_once, decide);
  switch (field) {
  case NAD_BLAS_VENDOR: return g_blas.facts.vendor;
  case NAD_BLAS_VERSION: return g_blas.facts.version;
  case NAD_BLAS_CORE: return g_blas.core;
  case NAD_BLAS_CPU: return nadi_cpu_simd_name(g_blas.cpu_level);
  case NAD_BLAS_BEST_CORE: return g_blas.best;
  case NAD_BLAS_FIX: return g_blas.fix;
  case NAD_BLAS_WARNING: return g_blas.warning;
  default: return "";
  }
}

int32_t nad_blas_threads(void) {
  nadi_blas_facts f;
  nadi_blas_facts_get(&f);
  return (int32_t)f.threads;
}
