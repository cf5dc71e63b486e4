/* Direct loops for convolutions with a short column matrix (few input channels: LeNet's first
 * layer, 1 channel, 5×5, 6 outputs), in conv2d.c's extended-rows layout (stride 1): output
 * column q of row r = (c, ky, kx) reads the padded plane at off[r] + q. Measured with
 * OpenBLAS's Haswell kernels, such a layer's GEMMs run far below peak (6 output rows; the dW
 * GEMM 6×25 with K = 892 per image at 1/3 of the forward's rate) after an im2col that copies the
 * image 25 times; here the taps are read straight from the plane, with the outputs of a block of
 * channels and columns held in registers (forward), or the dW sums of a block of (channel, row)
 * pairs (backward). GCC/Clang vector types of 8 floats (one AVX2 register, two SSE ones), in an
 * AVX2+FMA variant and a baseline one (below). */
#include "kernels/conv_algo.h"

#include <stdatomic.h>
#include <string.h>

#include "core/core.h"

/* x86-64 with GCC: an AVX2+FMA variant of each kernel, chosen at run time (nadi_cpu_simd_level,
 * cached), where multiply-adds are contracted into FMAs; the baseline variant has no FMA, so
 * the two round differently (as the BLAS's kernel sets do). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define DIRECT_FMA 1
#define CONTRACT __attribute__((optimize("fp-contract=fast")))
#define TARGET_FMA __attribute__((target("avx2,fma")))
#else
#define DIRECT_FMA 0
#define CONTRACT
#define TARGET_FMA
#endif
#define ALWAYS_INLINE static inline __attribute__((always_inline)) CONTRACT

typedef float v8 __attribute__((vector_size(32)));

/* Unaligned loads and stores (macros: a v8 passed by value outside an AVX function changes the
 * ABI), and the lanes' sum in order. */
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v8))
#define STORE8(p, v) memcpy((p), &(v), sizeof(v8))

ALWAYS_INLINE float sum8(const v8 *v) {
  float s = (*v)[0];
  for (int j = 1; j < 8; j++)
    s += (*v)[j];
  return s;
}

/* out[o][q] = Σ_r w[o][r]·xp[off[r] + q] for OB channels from o0: 16 columns at a time in two
 * vectors per channel, the last n mod 16 columns one at a time. */
#define FWD_BLOCK(OB)                                                                            \
  ALWAYS_INLINE void fwd_block_##OB(const float *xp, const int64_t *off, int64_t k,              \
                                    const float *w, int64_t o0, int64_t n, float *out) {         \
    int64_t q = 0;                                                                               \
    for (; q + 16 <= n; q += 16) {                                                               \
      v8 a0[OB], a1[OB];                                                                         \
      for (int o = 0; o < OB; o++)                                                               \
        a0[o] = a1[o] = (v8){0};                                                                 \
      for (int64_t r = 0; r < k; r++) {                                                          \
        v8 x0, x1;                                                                               \
        LOAD8(x0, xp + off[r] + q);                                                              \
        LOAD8(x1, xp + off[r] + q + 8);                                                          \
        for (int o = 0; o < OB; o++) {                                                           \
          const float wv = w[(o0 + o) * k + r];                                                  \
          a0[o] += wv * x0;                                                                      \
          a1[o] += wv * x1;                                                                      \
        }                                                                                        \
      }                                                                                          \
      for (int o = 0; o < OB; o++) {                                                             \
        STORE8(out + (o0 + o) * n + q, a0[o]);                                                   \
        STORE8(out + (o0 + o) * n + q + 8, a1[o]);                                               \
      }                                                                                          \
    }                                                                                            \
    for (; q < n; q++)                                                                           \
      for (int o = 0; o < OB; o++) {                                                             \
        float s = 0.0f;                                                                          \
        for (int64_t r = 0; r < k; r++)                                                          \
          s += w[(o0 + o) * k + r] * xp[off[r] + q];                                             \
        out[(o0 + o) * n + q] = s;                                                               \
      }                                                                                          \
  }
FWD_BLOCK(6)
FWD_BLOCK(4)
FWD_BLOCK(2)
FWD_BLOCK(1)

ALWAYS_INLINE void forward_all(const float *xp, const int64_t *off, int64_t k, const float *w,
                               int64_t o, int64_t n, float *out) {
  int64_t o0 = 0; /* blocks of 6 channels (12 accumulators + 2 inputs + 1 weight registers) */
  for (; o0 + 6 <= o; o0 += 6)
    fwd_block_6(xp, off, k, w, o0, n, out);
  if (o0 + 4 <= o) {
    fwd_block_4(xp, off, k, w, o0, n, out);
    o0 += 4;
  }
  if (o0 + 2 <= o) {
    fwd_block_2(xp, off, k, w, o0, n, out);
    o0 += 2;
  }
  if (o0 < o)
    fwd_block_1(xp, off, k, w, o0, n, out);
}

/* dw[o][r] += Σ_q dy[o][q]·xp[off[r] + q] for OB channels from o0 and RB rows from r0: 8-lane
 * partial sums over the columns, then the lanes in order and the last n mod 8 columns. */
#define DW_BLOCK(OB, RB)                                                                         \
  ALWAYS_INLINE void dw_block_##OB##_##RB(const float *xp, const int64_t *off, int64_t k,        \
                                          const float *dy, int64_t o0, int64_t r0, int64_t n,    \
                                          float *dw) {                                           \
    v8 acc[OB][RB];                                                                              \
    for (int o = 0; o < OB; o++)                                                                 \
      for (int r = 0; r < RB; r++)                                                               \
        acc[o][r] = (v8){0};                                                                     \
    int64_t q = 0;                                                                               \
    for (; q + 8 <= n; q += 8) {                                                                 \
      v8 d[OB];                                                                                  \
      for (int o = 0; o < OB; o++)                                                               \
        LOAD8(d[o], dy + (o0 + o) * n + q);                                                      \
      for (int r = 0; r < RB; r++) {                                                             \
        v8 xr;                                                                                   \
        LOAD8(xr, xp + off[r0 + r] + q);                                                         \
        for (int o = 0; o < OB; o++)                                                             \
          acc[o][r] += d[o] * xr;                                                                \
      }                                                                                          \
    }                                                                                            \
    for (int o = 0; o < OB; o++)                                                                 \
      for (int r = 0; r < RB; r++) {                                                             \
        float s = sum8(&acc[o][r]);                                                              \
        for (int64_t t = q; t < n; t++)                                                          \
          s += dy[(o0 + o) * n + t] * xp[off[r0 + r] + t];                                       \
        dw[(o0 + o) * k + r0 + r] += s;                                                          \
      }                                                                                          \
  }
DW_BLOCK(2, 4)
DW_BLOCK(2, 1)
DW_BLOCK(1, 4)
DW_BLOCK(1, 1)

ALWAYS_INLINE void dw_all(const float *xp, const int64_t *off, int64_t k, const float *dy,
                          int64_t o, int64_t n, float *dw) {
  int64_t o0 = 0;
  for (; o0 + 2 <= o; o0 += 2) {
    int64_t r0 = 0;
    for (; r0 + 4 <= k; r0 += 4)
      dw_block_2_4(xp, off, k, dy, o0, r0, n, dw);
    for (; r0 < k; r0++)
      dw_block_2_1(xp, off, k, dy, o0, r0, n, dw);
  }
  for (; o0 < o; o0++) {
    int64_t r0 = 0;
    for (; r0 + 4 <= k; r0 += 4)
      dw_block_1_4(xp, off, k, dy, o0, r0, n, dw);
    for (; r0 < k; r0++)
      dw_block_1_1(xp, off, k, dy, o0, r0, n, dw);
  }
}

/* ---- variants and dispatch ------------------------------------------------------------------ */

static CONTRACT void forward_base(const float *xp, const int64_t *off, int64_t k, const float *w,
                                  int64_t o, int64_t n, float *out) {
  forward_all(xp, off, k, w, o, n, out);
}

static CONTRACT void dw_base(const float *xp, const int64_t *off, int64_t k, const float *dy,
                             int64_t o, int64_t n, float *dw) {
  dw_all(xp, off, k, dy, o, n, dw);
}

#if DIRECT_FMA
static TARGET_FMA CONTRACT void forward_fma(const float *xp, const int64_t *off, int64_t k,
                                            const float *w, int64_t o, int64_t n, float *out) {
  forward_all(xp, off, k, w, o, n, out);
}

static TARGET_FMA CONTRACT void dw_fma(const float *xp, const int64_t *off, int64_t k,
                                       const float *dy, int64_t o, int64_t n, float *dw) {
  dw_all(xp, off, k, dy, o, n, dw);
}

static int use_fma(void) { /* CPUID once (it traps to the hypervisor in a VM) */
  static atomic_int level = -2;
  int v = atomic_load_explicit(&level, memory_order_relaxed);
  if (v == -2) {
    v = nadi_cpu_simd_level() >= NADI_SIMD_AVX2;
    atomic_store_explicit(&level, v, memory_order_relaxed);
  }
  return v;
}
#endif

void nadi_direct_forward(const float *xp, const int64_t *off, int64_t k, const float *w,
                         int64_t o, int64_t n, float *out) {
#if DIRECT_FMA
  if (use_fma()) {
    forward_fma(xp, off, k, w, o, n, out);
    return;
  }
#endif
  forward_base(xp, off, k, w, o, n, out);
}

void nadi_direct_dw(const float *xp, const int64_t *off, int64_t k, const float *dy, int64_t o,
                    int64_t n, float *dw) {
#if DIRECT_FMA
  if (use_fma()) {
    dw_fma(xp, off, k, dy, o, n, dw);
    return;
  }
#endif
  dw_base(xp, off, k, dy, o, n, dw);
}
