/* Fourier power spectra of covariances (FFTs through lib/core/fft.c).
 *
 * For eigenpairs (λ_i, v_i) of a covariance C, Σ_i λ_i |DFT2(v_i[c])|²(f) = (F C_cc F^H)(f, f),
 * with C_cc the diagonal block of channel c. The estimator uses the right-hand side: it needs
 * no eigenvectors (so it does not depend on TOP_K) and costs h·w real 2-D FFTs plus O((h·w)²)
 * per channel. With A[p, f] = Σ_q C[p, q] e^{−2πi f·q} (the FFT of row p),
 * P(f) = Σ_p e^{−2πi f·p} conj(A[p, f]) = Re Σ_p e^{+2πi f·p} A[p, f] (C real symmetric).
 *
 * Double precision (fftw3, not fftw3f): the spectra are compared on a log scale down to
 * 1e-12 of their maximum, far below float rounding of the covariance rows.
 */
#include <math.h>
#include <string.h>

#include "core/fft.h"
#include "estimator/stats.h"

typedef struct spec_fft {
  int64_t h, w, wc; /* wc = w/2 + 1 complex columns of the r2c output */
  nadi_fft2d *fft;
  double *half;       /* h×wc accumulated power (non-negative frequencies in x) */
} spec_fft;

static void spec_fft_free(spec_fft *s) {
  nadi_fft2d_destroy(s->fft);
  nadi_free(s->half);
  memset(s, 0, sizeof *s);
}

static nad_status spec_fft_init(spec_fft *s, int64_t h, int64_t w) {
  memset(s, 0, sizeof *s);
  s->h = h;
  s->w = w;
  s->wc = w / 2 + 1;
  NADI_TRY(nadi_fft2d_create(h, w, &s->fft));
  s->half = nadi_calloc((size_t)(h * s->wc), sizeof(double));
  if (!s->half) {
    spec_fft_free(s);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "FFT buffers for %lld×%lld", (long long)h,
                     (long long)w);
  }
  return NAD_OK;
}


static void spec_emit(const spec_fft *s, double *dst) { nadi_fft_unfold_half(s->half, s->h, s->w, dst); }

nad_status nadi_spectrum_cov(const double *cov, int64_t c, int64_t h, int64_t w, double *dst) {
  const int64_t hw = h * w, d = c * hw, wc = w / 2 + 1;
  spec_fft s;
  NADI_TRY(spec_fft_init(&s, h, w));
  /* e^{+2πi k/n} tables for each axis. */
  double *ty = nadi_alloc(2 * (size_t)h, sizeof(double));
  double *tx = nadi_alloc(2 * (size_t)w, sizeof(double));
  if (!ty || !tx) {
    nadi_free(ty);
    nadi_free(tx);
    spec_fft_free(&s);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "spectrum tables");
  }
  for (int64_t k = 0; k < h; k++) {
    ty[2 * k] = cos(2.0 * M_PI * (double)k / (double)h);
    ty[2 * k + 1] = sin(2.0 * M_PI * (double)k / (double)h);
  }
  for (int64_t k = 0; k < w; k++) {
    tx[2 * k] = cos(2.0 * M_PI * (double)k / (double)w);
    tx[2 * k + 1] = sin(2.0 * M_PI * (double)k / (double)w);
  }
  for (int64_t cc = 0; cc < c; cc++) {
    memset(s.half, 0, (size_t)(h * wc) * sizeof(double));
    for (int64_t py = 0; py < h; py++)
      for (int64_t px = 0; px < w; px++) {
        const int64_t p = py * w + px;
        const double *row = nadi_fft2d_forward(s.fft, cov + (cc * hw + p) * d + cc * hw);
        for (int64_t fy = 0; fy < h; fy++) {
          const double *ry = ty + 2 * ((fy * py) % h);
          const double *a = row + 2 * fy * wc;
          double *acc = s.half + fy * wc;
          for (int64_t fx = 0; fx < wc; fx++) {
            const double *rx = tx + 2 * ((fx * px) % w);
            const double er = ry[0] * rx[0] - ry[1] * rx[1];
            const double ei = ry[0] * rx[1] + ry[1] * rx[0];
            acc[fx] += er * a[2 * fx] - ei * a[2 * fx + 1];
          }
        }
      }
    spec_emit(&s, dst + cc * hw);
  }
  nadi_free(ty);
  nadi_free(tx);
  spec_fft_free(&s);
  return NAD_OK;
}

nad_status nadi_spectrum_eig(const float *nads, const double *evals, int64_t count, int64_t c,
                             int64_t h, int64_t w, double *dst) {
  const int64_t hw = h * w, d = c * hw, wc = w / 2 + 1;
  spec_fft s;
  NADI_TRY(spec_fft_init(&s, h, w));
  for (int64_t cc = 0; cc < c; cc++) {
    memset(s.half, 0, (size_t)(h * wc) * sizeof(double));
    for (int64_t i = 0; i < count; i++)
      nadi_fft2d_power(s.fft, nads + i * d + cc * hw, evals[i], s.half);
    spec_emit(&s, dst + cc * hw);
  }
  spec_fft_free(&s);
  return NAD_OK;
}

nad_status nadi_log_spectrum_corr(const double *pa, const double *pb, int64_t n, double *corr) {
  const double *p[2] = {pa, pb};
  double floor_[2], mean[2] = {0, 0};
  for (int s = 0; s < 2; s++) {
    double mx = 0.0;
    for (int64_t i = 0; i < n; i++) {
      if (!isfinite(p[s][i]))
        return nadi_fail(NAD_ERR_NUMERICAL, "spectrum %c has a non-finite entry at %lld",
                         "ab"[s], (long long)i);
      if (p[s][i] > mx)
        mx = p[s][i];
    }
    if (!(mx > 0.0))
      return nadi_fail(NAD_ERR_NUMERICAL, "spectrum %c is zero everywhere", "ab"[s]);
    floor_[s] = 1e-12 * mx;
  }
#define LOGP(s, i) log((p[s][i] > 0.0 ? p[s][i] : 0.0) + floor_[s])
  for (int s = 0; s < 2; s++) {
    for (int64_t i = 0; i < n; i++)
      mean[s] += LOGP(s, i);
    mean[s] /= (double)n;
  }
  double sab = 0, saa = 0, sbb = 0;
  for (int64_t i = 0; i < n; i++) {
    const double a = LOGP(0, i) - mean[0], b = LOGP(1, i) - mean[1];
    sab += a * b;
    saa += a * a;
    sbb += b * b;
  }
#undef LOGP
  if (!(saa > 0.0) || !(sbb > 0.0))
    return nadi_fail(NAD_ERR_NUMERICAL, "a log spectrum is constant: correlation undefined");
  *corr = sab / sqrt(saa * sbb);
  return NAD_OK;
}
