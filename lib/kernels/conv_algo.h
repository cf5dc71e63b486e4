/* Forward-only convolution algorithms that conv2d.c dispatches to in eval mode (training and
 * every backward keep the im2col path, which is the exact adjoint of itself), and the direct
 * loops of thin layers that full-executor forwards and dW use (end of file). Never installed.
 *
 * Each algorithm computes the same mathematical convolution as the im2col path (PyTorch Conv2d,
 * zero padding, bias added) with fewer multiplications; results differ from it by float
 * rounding only (bounds measured in tests/unit/kernels/test_conv_algo.c and docs/DESIGN.md).
 * They are pure functions of (weights, bias, input): the weight transforms are recomputed on
 * every call, so no cache can go stale when the caller changes the parameters in place. */
#ifndef NADI_CONV_ALGO_H
#define NADI_CONV_ALGO_H

#include "kernels/kernels.h"

/* A "plain" convolution, the only kind the algorithms below handle: one group, no dilation, a
 * square kernel, equal strides and the same padding on all four sides. */
static inline int nadi_conv_is_plain(const nadi_layer *l) {
  return (l->groups <= 1) && l->dh <= 1 && l->dw <= 1 && l->kh == l->kw && l->sh == l->sw &&
         l->pad_t == l->pad_l && l->pad_t == l->pad_b && l->pad_t == l->pad_r;
}

/* Winograd F(m×m, 3×3), m = 2 or 4 (lib/kernels/winograd.c), for 3×3 stride-1 convolutions
 * (any padding). Workspace in floats for `batch` images; non-decreasing in batch. */
int nadi_wino_applicable(const nadi_layer *l);
size_t nadi_wino_workspace(const nadi_layer *l, int m, int64_t batch);
void nadi_wino_forward(const nadi_layer *l, int m, const float *wt, const float *bias,
                       const float *x, float *y, int64_t batch, float *ws);

/* Tiny output maps (lib/kernels/conv_tiny.c): when OH·OW <= NADI_TINY_MAX_PIXELS the
 * convolution is a dense linear map from the C·H·W inputs to the O·OH·OW outputs that only
 * contains the taps that fall inside the image (2×2 map, 3×3, pad 1: 16 of 36 taps), so the
 * whole batch is ONE GEMM y[B, O·OH·OW] = x[B, C·H·W] · Wdᵀ with no copy of x or y. */
#define NADI_TINY_MAX_PIXELS 4
int nadi_tiny_applicable(const nadi_layer *l);
size_t nadi_tiny_workspace(const nadi_layer *l);
void nadi_tiny_forward(const nadi_layer *l, const float *wt, const float *bias, const float *x,
                       float *y, int64_t batch, float *ws);

/* Direct loops for convolutions with a short column matrix (lib/kernels/conv_direct.c), in
 * conv2d.c's extended-rows layout: column q of row r reads the padded plane xp at off[r] + q.
 * Used by training and every full-executor forward (conv2d.c says when); results differ from
 * im2col + GEMM by float rounding only.
 *   forward: out[o][q] = Σ_r w[o][r]·xp[off[r] + q]   (o < O, q < n, r < k; out is O×n)
 *   dw:      dw[o][r] += Σ_q dy[o][q]·xp[off[r] + q]  (dy is O×n) */
void nadi_direct_forward(const float *xp, const int64_t *off, int64_t k, const float *w,
                         int64_t o, int64_t n, float *out);
void nadi_direct_dw(const float *xp, const int64_t *off, int64_t k, const float *dy, int64_t o,
                    int64_t n, float *dw);

#endif
