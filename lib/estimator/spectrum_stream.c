/* The Fourier power spectrum of the covariance, accumulated network by network in O(D log D)
 * each, without any D×D matrix (the sketching mode has none; issue 12).
 *
 * For one channel, the covariance spectrum is P(f) = (F C F^H)(f, f) = E|G(f) − Ḡ(f)|² with
 * G = FFT2(g) (spectrum.c computes the same from C). So per frequency we need the mean of the
 * complex G and the scatter S(f) = Σ_j |G_j(f) − Ḡ(f)|², and P = S / (n − 1).
 *
 * Why Welford and not Σ|G|² and Σ G corrected at the end: the correction Σ|G|² − n|Ḡ|² cancels
 * catastrophically wherever the mean response dominates its spread (the DC term of a response
 * with a large common offset), losing as many digits as the ratio |Ḡ|²/variance has. Welford's
 * update (δ = G − M; M += δ/n; S += Re(δ · conj(G − M))) never forms the large terms, and two
 * accumulators merge exactly by Chan's formula S = S_a + S_b + |M_b − M_a|²·n_a·n_b/n — the same
 * algebra as the covariance accumulator (accum.c), per frequency.
 * Only the half plane fx in [0, w/2] is kept (real input: P(−f) = P(f)); FFTs go through the
 * double-precision wrapper of lib/core/fft.c, planned once per accumulator. */
#include <string.h>

#include "core/fft.h"
#include "estimator/stats.h"

nad_status nadi_specacc_init(nadi_specacc *s, int64_t c, int64_t h, int64_t w) {
  memset(s, 0, sizeof *s);
  s->c = c;
  s->h = h;
  s->w = w;
  s->nf = c * h * (w / 2 + 1);
  NADI_TRY(nadi_fft2d_create(h, w, &s->fft));
  s->mean = nadi_calloc(2 * (size_t)s->nf, sizeof(double));
  s->m2 = nadi_calloc((size_t)s->nf, sizeof(double));
  if (!s->mean || !s->m2) {
    nadi_specacc_free(s);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "spectrum accumulator of %lld×%lld×%lld",
                     (long long)c, (long long)h, (long long)w);
  }
  return NAD_OK;
}

void nadi_specacc_free(nadi_specacc *s) {
  nadi_fft2d_destroy(s->fft);
  nadi_free(s->mean);
  nadi_free(s->m2);
  memset(s, 0, sizeof *s);
}

void nadi_specacc_reset(nadi_specacc *s) {
  s->n = 0;
  memset(s->mean, 0, 2 * (size_t)s->nf * sizeof(double));
  memset(s->m2, 0, (size_t)s->nf * sizeof(double));
}

void nadi_specacc_push(nadi_specacc *s, const double *g) {
  const int64_t hw = s->h * s->w, plane = s->h * (s->w / 2 + 1);
  const double inv_n = 1.0 / (double)(s->n + 1);
  for (int64_t cc = 0; cc < s->c; cc++) {
    const double *out = nadi_fft2d_forward(s->fft, g + cc * hw);
    double *m = s->mean + 2 * cc * plane, *m2 = s->m2 + cc * plane;
    for (int64_t f = 0; f < plane; f++) {
      const double gr = out[2 * f], gi = out[2 * f + 1];
      const double dr = gr - m[2 * f], di = gi - m[2 * f + 1];
      m[2 * f] += dr * inv_n;
      m[2 * f + 1] += di * inv_n;
      m2[f] += dr * (gr - m[2 * f]) + di * (gi - m[2 * f + 1]);
    }
  }
  s->n++;
}

void nadi_specacc_merge(nadi_specacc *dst, const nadi_specacc *src) {
  if (src->n == 0)
    return;
  const double na = (double)dst->n, nb = (double)src->n, n = na + nb;
  const double w = na * nb / n, fb = nb / n;
  for (int64_t f = 0; f < dst->nf; f++) {
    const double dr = src->mean[2 * f] - dst->mean[2 * f];
    const double di = src->mean[2 * f + 1] - dst->mean[2 * f + 1];
    dst->m2[f] += src->m2[f] + (dr * dr + di * di) * w;
    dst->mean[2 * f] += dr * fb;
    dst->mean[2 * f + 1] += di * fb;
  }
  dst->n += src->n;
}

void nadi_specacc_copy(nadi_specacc *dst, const nadi_specacc *src) {
  dst->n = src->n;
  memcpy(dst->mean, src->mean, 2 * (size_t)src->nf * sizeof(double));
  memcpy(dst->m2, src->m2, (size_t)src->nf * sizeof(double));
}

nad_status nadi_specacc_spectrum(const nadi_specacc *s, double *dst) {
  if (s->n < 2)
    return nadi_fail(NAD_ERR_MISUSE, "a spectrum needs at least 2 networks (have %lld)",
                     (long long)s->n);
  const int64_t hw = s->h * s->w, plane = s->h * (s->w / 2 + 1);
  double *half = nadi_alloc((size_t)plane, sizeof(double));
  if (!half)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "spectrum plane");
  const double inv = 1.0 / (double)(s->n - 1);
  for (int64_t cc = 0; cc < s->c; cc++) {
    for (int64_t f = 0; f < plane; f++)
      half[f] = s->m2[cc * plane + f] * inv;
    nadi_fft_unfold_half(half, s->h, s->w, dst + cc * hw);
  }
  nadi_free(half);
  return NAD_OK;
}
