/* The BLAS kernel-set policy (lib/kernels/blas_advice.c) on made-up core names and CPU levels,
 * the CPU level of this machine against /proc/cpuinfo, and the public report (nad_blas_info). */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/blas.h"
#include "core/core.h"
#include "nad/nad.h"

static void verdict(const char *vendor, const char *core, int level, const char *env,
                    const char *user, nadi_blas_verdict want, const char *want_better) {
  const char *better = (const char *)1;
  nadi_blas_verdict v = nadi_blas_advise(vendor, core, level, env, user, &better);
  CHECK(v == want && ((!better && !want_better) || (better && want_better &&
                                                    strcmp(better, want_better) == 0)),
        "%s %s at level %d (env %s, user %s): verdict %d better %s, want %d %s", vendor, core,
        level, env ? env : "-", user ? user : "-", (int)v, better ? better : "-", (int)want,
        want_better ? want_better : "-");
}

/* Flags of the first processor in /proc/cpuinfo ("" when unreadable). */
static void cpuinfo_flags(char *buf, size_t n) {
  buf[0] = '\0';
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f)
    return;
  char line[8192];
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "flags", 5) == 0) {
      const char *c = strchr(line, ':');
      snprintf(buf, n, " %s ", c ? c + 1 : "");
      break;
    }
  fclose(f);
  for (char *p = buf; *p; p++)
    if (*p == '\n' || *p == '\t')
      *p = ' ';
}

static int has_flag(const char *flags, const char *flag) {
  char pat[64];
  snprintf(pat, sizeof pat, " %s ", flag);
  return strstr(flags, pat) != NULL;
}

int main(void) {
  const char *ob = "OpenBLAS", *env = "OPENBLAS_CORETYPE";
  /* the Xeon: generic SSE kernels on an AVX-512 CPU */
  verdict(ob, "Prescott", NADI_SIMD_AVX512, env, NULL, NADI_BLAS_RESTART, "SkylakeX");
  verdict(ob, "Nehalem", NADI_SIMD_AVX512, env, NULL, NADI_BLAS_RESTART, "SkylakeX");
  verdict(ob, "Core2", NADI_SIMD_AVX2, env, NULL, NADI_BLAS_RESTART, "Haswell");
  /* AVX2 kernels on an AVX-512 CPU (Zen 5 with OpenBLAS told Haswell) are weaker too */
  verdict(ob, "Haswell", NADI_SIMD_AVX512, env, NULL, NADI_BLAS_RESTART, "SkylakeX");
  verdict(ob, "Sandybridge", NADI_SIMD_AVX2, env, NULL, NADI_BLAS_RESTART, "Haswell");
  /* what OpenBLAS picks itself on known CPUs is never second-guessed */
  verdict(ob, "Cooperlake", NADI_SIMD_AVX512, env, NULL, NADI_BLAS_OK, NULL);
  verdict(ob, "SkylakeX", NADI_SIMD_AVX512, env, NULL, NADI_BLAS_OK, NULL);
  verdict(ob, "Zen", NADI_SIMD_AVX2, env, NULL, NADI_BLAS_OK, NULL);
  verdict(ob, "Excavator", NADI_SIMD_AVX2, env, NULL, NADI_BLAS_OK, NULL);
  verdict(ob, "Haswell", NADI_SIMD_AVX2, env, NULL, NADI_BLAS_OK, NULL);
  verdict(ob, "SkylakeX", NADI_SIMD_AVX2, env, NULL, NADI_BLAS_OK, NULL); /* stronger: ok */
  /* nothing better than generic, or no idea what the CPU allows */
  verdict(ob, "Prescott", NADI_SIMD_BASE, env, NULL, NADI_BLAS_OK, NULL);
  verdict(ob, "Prescott", NADI_SIMD_UNKNOWN, env, NULL, NADI_BLAS_OK, NULL);
  /* a name this table does not know (a newer OpenBLAS) is not judged */
  verdict(ob, "Zen5", NADI_SIMD_AVX512, env, NULL, NADI_BLAS_OK, NULL);
  verdict(ob, NULL, NADI_SIMD_AVX512, env, NULL, NADI_BLAS_OK, NULL);
  /* the user's own variable is kept; one that already asks for the better set but is not
   * obeyed means the build cannot switch */
  verdict(ob, "Haswell", NADI_SIMD_AVX512, env, "Haswell", NADI_BLAS_USER_ENV, "SkylakeX");
  verdict(ob, "Prescott", NADI_SIMD_AVX512, env, "prescott", NADI_BLAS_USER_ENV, "SkylakeX");
  verdict(ob, "Prescott", NADI_SIMD_AVX512, env, "skylakex", NADI_BLAS_STUCK, "SkylakeX");
  verdict(ob, "Prescott", NADI_SIMD_AVX512, env, "", NADI_BLAS_RESTART, "SkylakeX");
  /* no variable selects the kernels (OpenBLAS without DYNAMIC_ARCH, BLIS 0.9) */
  verdict(ob, "Prescott", NADI_SIMD_AVX512, NULL, NULL, NADI_BLAS_STUCK, "SkylakeX");
  verdict("BLIS", "generic", NADI_SIMD_AVX512, NULL, NULL, NADI_BLAS_STUCK, "skx");
  verdict("BLIS", "zen3", NADI_SIMD_AVX2, NULL, NULL, NADI_BLAS_OK, NULL);
  verdict("BLIS", "haswell", NADI_SIMD_AVX512, NULL, NULL, NADI_BLAS_STUCK, "skx");
  verdict("MKL", "whatever", NADI_SIMD_AVX512, NULL, NULL, NADI_BLAS_OK, NULL);

  EXPECT(nadi_blas_core_level("OpenBLAS", "haswell") == NADI_SIMD_AVX2); /* case-insensitive */
  EXPECT(nadi_blas_core_level("BLIS", "Prescott") == -2);
  EXPECT(nadi_blas_core_for_level("OpenBLAS", NADI_SIMD_BASE) == NULL);
  EXPECT(strcmp(nadi_blas_core_for_level("OpenBLAS", NADI_SIMD_AVX), "Sandybridge") == 0);

  /* CPUID + XGETBV against the kernel's view (Linux clears the flags of features whose state
   * the OS does not save, which is what XGETBV checks) */
  char flags[8192];
  cpuinfo_flags(flags, sizeof flags);
  int level = nadi_cpu_simd_level();
  if (flags[0]) {
    int want = NADI_SIMD_BASE;
    if (has_flag(flags, "avx"))
      want = NADI_SIMD_AVX;
    if (has_flag(flags, "avx2") && has_flag(flags, "fma"))
      want = NADI_SIMD_AVX2;
    if (want == NADI_SIMD_AVX2 && has_flag(flags, "avx512f"))
      want = NADI_SIMD_AVX512;
#if defined(__x86_64__) || defined(__i386__)
    /* valgrind's CPU has no AVX-512 and its CPUID says so: below the real CPU, never above */
    if (getenv("NAD_TEST_VALGRIND"))
      CHECK(level <= want, "CPUID level %d (%s) under valgrind, /proc/cpuinfo says %d", level,
            nadi_cpu_simd_name(level), want);
    else
      CHECK(level == want, "CPUID level %d (%s), /proc/cpuinfo says %d", level,
            nadi_cpu_simd_name(level), want);
#else
    CHECK(level == NADI_SIMD_UNKNOWN, "level %d on a non-x86 CPU", level);
#endif
  } else {
    printf("(no /proc/cpuinfo: CPU level %s not cross-checked)\n", nadi_cpu_simd_name(level));
  }

  /* the public report agrees with the BLAS and with the policy */
  nadi_blas_facts f;
  nadi_blas_facts_get(&f);
#if defined(NADI_BLAS_OPENBLAS)
  EXPECT(strcmp(nad_blas_info(NAD_BLAS_VENDOR), "OpenBLAS") == 0);
#elif defined(NADI_BLAS_BLIS)
  EXPECT(strcmp(nad_blas_info(NAD_BLAS_VENDOR), "BLIS") == 0);
#endif
  EXPECT(strcmp(nad_blas_info(NAD_BLAS_CPU), nadi_cpu_simd_name(level)) == 0);
  EXPECT(nad_blas_threads() >= 1);
  EXPECT(nad_blas_info((nad_blas_field)99)[0] == '\0');
  const char *core = nad_blas_info(NAD_BLAS_CORE), *fake = getenv("NAD_TEST_BLAS_CORE");
  CHECK(strcmp(core, fake && fake[0] ? fake : f.core) == 0, "core %s, BLAS says %s", core, f.core);
  const char *better = NULL;
  const char *user = f.select_env ? getenv(f.select_env) : NULL;
  nadi_blas_verdict v = nadi_blas_advise(f.vendor, core, level, f.select_env, user, &better);
  EXPECT((v == NADI_BLAS_OK) == (nad_blas_info(NAD_BLAS_WARNING)[0] == '\0'));
  EXPECT((v == NADI_BLAS_RESTART) == (nad_blas_info(NAD_BLAS_FIX)[0] != '\0'));
  if (v == NADI_BLAS_RESTART) {
    char want[128];
    snprintf(want, sizeof want, "%s=%s", f.select_env, better);
    EXPECT(strcmp(nad_blas_info(NAD_BLAS_FIX), want) == 0);
  }
  printf("BLAS: %s, kernels %s (CPU %s, best %s), %d threads; warning: %s\n",
         nad_blas_info(NAD_BLAS_VENDOR), core, nad_blas_info(NAD_BLAS_CPU),
         nad_blas_info(NAD_BLAS_BEST_CORE), (int)nad_blas_threads(),
         nad_blas_info(NAD_BLAS_WARNING)[0] ? nad_blas_info(NAD_BLAS_WARNING) : "none");
  return check_summary();
}
