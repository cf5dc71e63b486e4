/* Directions v for D(v): real 2-D Fourier basis vectors (built with FFTW's inverse real
 * transform, as the reference builds them with torch.irfft) and random unit directions. */
#include <math.h>
#include <string.h>

#include "core/fft.h"
#include "train/train.h"

#define STREAM_DIRECTION 0x4449524543540000ULL /* "DIRECT": random directions */

static int64_t mod(int64_t a, int64_t n) { return ((a % n) + n) % n; }

int nadi_fourier_sine_vanishes(int64_t h, int64_t w, int64_t fy, int64_t fx) {
  return mod(2 * fy, h) == 0 && mod(2 * fx, w) == 0;
}

/* Scale a vector to unit norm (the norm summed in double); returns the norm before. */
static double normalise(float *v, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; i++)
    s += (double)v[i] * v[i];
  double norm = sqrt(s);
  if (norm > 0.0)
    for (int64_t i = 0; i < n; i++)
      v[i] = (float)(v[i] / norm);
  return norm;
}

nad_status nadi_direction_fourier(int64_t c, int64_t h, int64_t w, int64_t fy, int64_t fx,
                                  nad_fourier_part part, float *dst) {
  const int64_t wc = w / 2 + 1, hw = h * w;
  int vanishes = nadi_fourier_sine_vanishes(h, w, fy, fx);
  int cosine = part == NAD_FOURIER_COS || (part == NAD_FOURIER_AUTO && vanishes);
  /* Only non-negative kx exist in the half spectrum: a negative fx is the conjugate coefficient,
   * whose imaginary part carries the opposite sign (so that the sine keeps one formula). */
  int64_t ky = mod(fy, h), kx = fx, sign = 1;
  if (fx < 0) {
    ky = mod(-fy, h);
    kx = -fx;
    sign = -1;
  }
  float *spec = nadi_calloc((size_t)(2 * h * wc), sizeof(float));
  NADI_CHECK(spec, NAD_ERR_OUT_OF_MEMORY, "Fourier direction: out of memory");
  float re = cosine ? 1.0f : 0.0f, im = cosine ? 0.0f : (float)sign;
  spec[2 * (ky * wc + kx)] += re;
  spec[2 * (ky * wc + kx) + 1] += im;
  /* Columns kx = 0 and kx = w/2 (even w) are their own mirror: numpy's irfft drops the
   * imaginary part there after the transform along y, which is what the explicit conjugate
   * partner gives (FFTW needs a Hermitian input in those columns). A self-conjugate coefficient
   * becomes 2·re (its sine part cancels). */
  if (kx == 0 || (w % 2 == 0 && kx == w / 2)) {
    int64_t ky2 = mod(-ky, h);
    spec[2 * (ky2 * wc + kx)] += re;
    spec[2 * (ky2 * wc + kx) + 1] -= im;
  }
  nad_status st = nadi_fft_c2r_2d(h, w, spec, dst);
  nadi_free(spec);
  NADI_TRY(st);
  normalise(dst, hw);
  /* Same pattern in every channel, the whole vector unit norm. */
  float per = (float)(1.0 / sqrt((double)c));
  for (int64_t i = 0; i < hw; i++)
    dst[i] *= per;
  for (int64_t ch = 1; ch < c; ch++)
    memcpy(dst + ch * hw, dst, (size_t)hw * sizeof(float));
  return NAD_OK;
}

void nadi_direction_random(uint64_t seed, float *dst, int64_t len) {
  nadi_rng r;
  nadi_rng_init(&r, seed, STREAM_DIRECTION);
  nadi_rng_fill_normal(&r, dst, len, 0.0, 1.0);
  normalise(dst, len);
}
