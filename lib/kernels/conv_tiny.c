/* Convolutions with tiny output maps (at most NADI_TINY_MAX_PIXELS pixels) as one dense GEMM.
 *
 * On a 2×2 map a 3×3 pad-1 kernel has only 16 of its 36 (output pixel, tap) pairs inside the
 * image, and on a 1×1 map only the centre tap. im2col multiplies the zeros anyway and gives
 * per-image GEMMs with N = 4 columns. Written as a linear map instead, the layer is
 *     y[b, (o, oy, ox)] = Σ_(c, iy, ix) x[b, (c, iy, ix)] · Wd[(o, oy, ox), (c, iy, ix)]
 * with Wd[(o, oy, ox), (c, iy, ix)] = w[o, c, iy - oy·s + p, ix - ox·s + p] (0 outside the
 * kernel): one GEMM for the whole batch, directly on NCHW x and y (no copies), and only the taps
 * that touch the image. Used when the input plane has no more pixels than the kernel (H·W <= k²),
 * so Wd never has more entries than the im2col GEMM has multiplies per image. Wd (O·OH·OW by
 * C·H·W floats) is rebuilt on every call from w: its cost is that of one image's GEMM.
 *
 * Workspace: Wd, O·OH·OW·C·H·W floats. */
#include <string.h>

#include "kernels/conv_algo.h"

int nadi_tiny_applicable(const nadi_layer *l) {
  const int64_t *s = l->in_shape[0];
  return l->kind == NADI_CONV2D && nadi_conv_is_plain(l) &&
         l->out_shape[1] * l->out_shape[2] <= NADI_TINY_MAX_PIXELS &&
         s[1] * s[2] <= (int64_t)l->kh * l->kw;
}

size_t nadi_tiny_workspace(const nadi_layer *l) {
  const int64_t *s = l->in_shape[0];
  return (size_t)(l->out_shape[0] * l->out_shape[1] * l->out_shape[2] * s[0] * s[1] * s[2]);
}

void nadi_tiny_forward(const nadi_layer *l, const float *wt, const float *bias, const float *x,
                       float *y, int64_t batch, float *ws) {
  const int64_t c = l->in_shape[0][0], h = l->in_shape[0][1], w = l->in_shape[0][2];
  const int64_t o = l->out_shape[0], oh = l->out_shape[1], ow = l->out_shape[2];
  const int64_t k = l->kh, st = l->sh, p = l->pad_t; /* plain: square, symmetric */
  const int64_t hw = h * w, kin = c * hw, nout = o * oh * ow;
  /* Row by row (zeroed, then the taps that reach the output pixel), so that both passes over a
   * row hit the cache. */
  for (int64_t oc = 0; oc < o; oc++)
    for (int64_t oy = 0; oy < oh; oy++)
      for (int64_t ox = 0; ox < ow; ox++) {
        float *row = ws + ((oc * oh + oy) * ow + ox) * kin;
        memset(row, 0, (size_t)kin * sizeof(float));
        for (int64_t ky = 0; ky < k; ky++) {
          int64_t iy = oy * st - p + ky;
          if (iy < 0 || iy >= h)
            continue;
          for (int64_t kx = 0; kx < k; kx++) {
            int64_t ix = ox * st - p + kx;
            if (ix < 0 || ix >= w)
              continue;
            const float *src = wt + (oc * c * k + ky) * k + kx; /* w[oc, 0, ky, kx] */
            float *dst = row + iy * w + ix;
            for (int64_t ci = 0; ci < c; ci++)
              dst[ci * hw] = src[ci * k * k];
          }
        }
      }
  float beta = 0.0f;
  if (bias) { /* y = bias broadcast, then the GEMM accumulates onto it */
    for (int64_t oc = 0; oc < o; oc++)
      for (int64_t i = 0; i < oh * ow; i++)
        y[oc * oh * ow + i] = bias[oc];
    for (int64_t b = 1; b < batch; b++)
      memcpy(y + b * nout, y, (size_t)nout * sizeof(float));
    beta = 1.0f;
  }
  nadi_sgemm(0, 1, batch, nout, kin, 1.0f, x, kin, ws, kin, beta, y, nout);
}
