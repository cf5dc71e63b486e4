/* FFTs: lib/core/fft.c is the only file that calls FFTW (fftw3f and fftw3). Never installed.
 *
 * FFTW's planner is not thread-safe and its wisdom is process-wide: fft.c makes and destroys
 * plans only under one static mutex, with FFTW_ESTIMATE (no measuring, inputs untouched), and
 * never calls fftwf_cleanup or touches wisdom; only the execution runs unlocked. Each call plans
 * afresh (cheap with FFTW_ESTIMATE): these transforms are not in hot loops. */
#ifndef NADI_FFT_H
#define NADI_FFT_H

#include <stdint.h>

#include "nad/nad.h"

/* Unnormalised inverse 2-D DFT of a Hermitian half spectrum (FFTW's c2r, numpy's irfft2 times
 * h·w): in holds h × (w/2 + 1) complex values as interleaved (re, im) floats, out receives h × w
 * floats, x[y][x] = Σ_ky Σ_kx X[ky][kx] e^{+2πi(ky·y/h + kx·x/w)} over the full (Hermitian)
 * spectrum. in is not modified. The input must be Hermitian where the half spectrum pairs with
 * itself (kx = 0 and, for even w, kx = w/2): FFTW then gives the exact real transform. */
nad_status nadi_fft_c2r_2d(int64_t h, int64_t w, const float *in, float *out);

/* Forward 2-D DFT of a real h × w plane: out receives h × (w/2 + 1) complex values as
 * interleaved (re, im) floats, X[ky][kx] = Σ x[y][x] e^{−2πi(ky·y/h + kx·x/w)}. */
nad_status nadi_fft_r2c_2d(int64_t h, int64_t w, const float *in, float *out);

/* A reusable double-precision real-to-complex 2-D transform of h×w planes (the spectra run
 * many of them, so it plans once). Planned at create under the lock; transforms run unlocked.
 * One nadi_fft2d serves one thread at a time. */
typedef struct nadi_fft2d nadi_fft2d;
nad_status nadi_fft2d_create(int64_t h, int64_t w, nadi_fft2d **out);
void nadi_fft2d_destroy(nadi_fft2d *f); /* NULL: no-op */
/* DFT of the real h×w plane x (x may not alias the transform's buffers): h × (w/2 + 1) complex
 * values as interleaved (re, im) doubles, X[ky][kx] = Σ x[y][x] e^{−2πi(ky·y/h + kx·x/w)}, valid
 * until the next transform with f. */
const double *nadi_fft2d_forward(nadi_fft2d *f, const double *x);
/* The power |X|² of the real h×w plane x (floats): half[i] += weight · |X_i|² over the
 * h × (w/2 + 1) half plane (the other half is the value at −f: nadi_fft_unfold_half). The one place that
 * computes a plane's power: the figures (weight 1 on a zeroed half) and the spectrum of
 * eigenpairs (weight λ_i, summed over the NADs). */
void nadi_fft2d_power(nadi_fft2d *f, const float *x, double weight, double *half);

/* The full h×w plane of a real input's power (or any even function of the frequency) from its
 * h × (w/2 + 1) half, fftshifted (frequency 0 at (h/2, w/2)): the other half is the value at
 * (−ky, −kx). Rounding negatives and −0 become 0; NaN stays visible. */
void nadi_fft_unfold_half(const double *half, int64_t h, int64_t w, double *dst);

#endif
