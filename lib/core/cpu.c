/* What vector instructions this CPU *and* operating system allow (CPUID + XGETBV).
 *
 * Why: a BLAS picks its kernels from the CPU model it recognises; on a model newer than the
 * BLAS it may silently fall back to generic SSE kernels (OpenBLAS 0.3.21 on an Intel model 207:
 * "Prescott", 4.5x slower sgemm). Comparing the kernel in use with what the CPU allows needs
 * the allowed level, which this file computes. A feature counts only when the OS saves its
 * registers on context switches (XCR0), as the BLAS libraries themselves check. */
#include "core/core.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

int nadi_cpu_simd_level(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return NADI_SIMD_BASE;
  const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
  if (!osxsave || !avx)
    return NADI_SIMD_BASE;
  const uint64_t xcr0 = xgetbv0();
  if ((xcr0 & 0x6) != 0x6) /* XMM and YMM state */
    return NADI_SIMD_BASE;
  unsigned b7 = 0;
  if (__get_cpuid_max(0, NULL) >= 7) {
    unsigned a7, c7, d7;
    __cpuid_count(7, 0, a7, b7, c7, d7);
    (void)a7, (void)c7, (void)d7;
  }
  const int avx2 = (b7 >> 5) & 1, avx512f = (b7 >> 16) & 1;
  if (avx512f && avx2 && fma && (xcr0 & 0xe6) == 0xe6) /* + opmask, ZMM_Hi256, Hi16_ZMM */
    return NADI_SIMD_AVX512;
  if (avx2 && fma)
    return NADI_SIMD_AVX2;
  return NADI_SIMD_AVX;
}
#else
int nadi_cpu_simd_level(void) { return NADI_SIMD_UNKNOWN; }
#endif

const char *nadi_cpu_simd_name(int level) {
  switch (level) {
  case NADI_SIMD_BASE: return "SSE";
  case NADI_SIMD_AVX: return "AVX";
  case NADI_SIMD_AVX2: return "AVX2+FMA";
  case NADI_SIMD_AVX512: return "AVX-512";
  default: return "unknown";
  }
}
