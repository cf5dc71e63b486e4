/* NADI_CLONES: compile a function once per vector level, the copy chosen at load time.
 *
 * The build targets baseline x86-64 (SSE2), so that one binary runs everywhere; the hot plain-C
 * loops (Winograd transforms, the delta forward's channel adds, vector math, bulk normals) are
 * vectorised by the compiler, and GCC's target_clones adds AVX2 and AVX-512F copies of them,
 * picked by the CPU at load time. These loops do elementwise IEEE operations only (no FMA
 * contraction under -std=c11, no reductions whose order depends on the vector width), so every
 * copy gives the same bits; the AVX-512 copy is what makes ViT's GELU loops 4 % of its dipole
 * faster on an AVX-512 Xeon (BENCHMARKS.md). Elsewhere (clang, non-ELF, other CPUs): one copy. */
#ifndef NADI_COMMON_CLONES_H
#define NADI_COMMON_CLONES_H

#if defined(__GNUC__) && defined(__x86_64__) && defined(__ELF__) && !defined(__clang__)
#define NADI_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NADI_CLONES
#endif

#endif
