/* Windows of conv2d, maxpool and avgpool: the one rule that fills the general window fields
 * (layer.h, "Windows") and the output size along an axis. Never installed. */
#ifndef NADI_WINDOW_H
#define NADI_WINDOW_H

#include "kernels/kernels.h"

/* Window roles: what shape() of the kind accepts besides the window itself. */
enum { NADI_WINDOW_CONV = 0, NADI_WINDOW_POOL = 1 };

/* Validates l's window hyper-parameters and fills the general fields from the legacy ones
 * (layer.h, "Windows"): kernel, strides >= 1, paddings >= 0, all at most INT32_MAX; conv:
 * dilations and groups >= 1, no ceil_mode or count_include_pad; pools: no dilation or groups,
 * flags 0 or 1, each padding at most half its kernel (PyTorch's rule). */
nad_status nadi_window_canon(nadi_layer *l, int64_t index, int role);

/* "kernel 3", "kernel 1x7", with " (dilation 2x2)" and " with padding 1" / " with padding
 * 3,0,3,0" (top, left, bottom, right) when there are any: for messages. */
void nadi_window_text(const nadi_layer *l, char *buf, size_t len);

/* Output positions along an axis of n cells with paddings p0 (before), p1 (after), kernel k,
 * dilation d, stride s: PyTorch's pooling_output_shape (floor, or ceil without a window that
 * starts in the after-padding). <= 0 when no window fits. Arguments as canonicalised (at most
 * INT32_MAX, n at most INT64_MAX / 4), so no overflow. */
static inline int64_t nadi_window_axis(int64_t n, int64_t p0, int64_t p1, int64_t k, int64_t d,
                                       int64_t s, int ceil_mode) {
  int64_t num = n + p0 + p1 - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  if (num < 0)
    return 0;
  int64_t out = num / s + 1;
  if (ceil_mode && (out - 1) * s >= n + p0)
    out--;
  return out;
}

/* One axis of a window, for the loops: output o reads input cells o*s - p0 + j*d, j < k. */
typedef struct nadi_win_axis {
  int64_t n, out, k, s, d, p0;
} nadi_win_axis;

static inline nadi_win_axis nadi_win_rows(const nadi_layer *l) {
  nadi_win_axis a = {l->in_shape[0][1], l->out_shape[1], l->kh, l->sh,
                     l->dh ? l->dh : 1, l->pad_t};
  return a;
}

static inline nadi_win_axis nadi_win_cols(const nadi_layer *l) {
  nadi_win_axis a = {l->in_shape[0][2], l->out_shape[2], l->kw, l->sw,
                     l->dw ? l->dw : 1, l->pad_l};
  return a;
}

/* Valid outputs [lo, hi) for tap offset `off` (= j*d): those whose input cell o*s - p0 + off
 * lies inside [0, n). */
static inline void nadi_win_valid(const nadi_win_axis *a, int64_t off, int64_t *lo,
                                  int64_t *hi) {
  int64_t b = a->p0 - off;
  int64_t l0 = b <= 0 ? 0 : (b + a->s - 1) / a->s;
  int64_t num = a->n - 1 + a->p0 - off;
  int64_t h0 = num < 0 ? 0 : num / a->s + 1;
  if (h0 > a->out)
    h0 = a->out;
  if (l0 > h0)
    l0 = h0;
  *lo = l0;
  *hi = h0;
}

#endif
