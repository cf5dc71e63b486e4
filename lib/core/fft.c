/* The only file that calls FFTW (single precision fftw3f and double fftw3); see fft.h for the
 * locking rules. */
#include <pthread.h>
#include <string.h>

#include <fftw3.h>

#include "core/core.h"
#include "core/fft.h"

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

/* FFTW takes int sizes; its buffers are our own (c2r overwrites its input, so it gets a copy). */
static nad_status check_dims(int64_t h, int64_t w, int64_t *half) {
  int64_t n;
  NADI_CHECK(h >= 1 && w >= 1 && h <= INT32_MAX && w <= INT32_MAX &&
                 nadi_mul_ok(h, w / 2 + 1, half) && nadi_mul_ok(*half, 2, &n) &&
                 nadi_mul_ok(h, w, &n),
             NAD_ERR_INVALID_ARG, "FFT of %lld×%lld: sizes out of range", (long long)h,
             (long long)w);
  return NAD_OK;
}

static void destroy_plan(fftwf_plan p) {
  pthread_mutex_lock(&plan_lock);
  fftwf_destroy_plan(p);
  pthread_mutex_unlock(&plan_lock);
}

nad_status nadi_fft_c2r_2d(int64_t h, int64_t w, const float *in, float *out) {
  int64_t half = 0;
  NADI_TRY(check_dims(h, w, &half));
  fftwf_complex *buf = nadi_alloc((size_t)half, sizeof(fftwf_complex));
  NADI_CHECK(buf, NAD_ERR_OUT_OF_MEMORY, "FFT of %lld×%lld: out of memory", (long long)h,
             (long long)w);
  pthread_mutex_lock(&plan_lock);
  fftwf_plan p = fftwf_plan_dft_c2r_2d((int)h, (int)w, buf, out, FFTW_ESTIMATE);
  pthread_mutex_unlock(&plan_lock);
  if (!p) {
    nadi_free(buf);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "FFTW could not plan a %lld×%lld transform",
                     (long long)h, (long long)w);
  }
  memcpy(buf, in, (size_t)half * sizeof(fftwf_complex)); /* after planning: planning may clobber */
  fftwf_execute(p);
  destroy_plan(p);
  nadi_free(buf);
  return NAD_OK;
}

nad_status nadi_fft_r2c_2d(int64_t h, int64_t w, const float *in, float *out) {
  int64_t half = 0;
  NADI_TRY(check_dims(h, w, &half));
  float *src = nadi_alloc((size_t)(h * w), sizeof(float));
  NADI_CHECK(src, NAD_ERR_OUT_OF_MEMORY, "FFT of %lld×%lld: out of memory", (long long)h,
             (long long)w);
  pthread_mutex_lock(&plan_lock);
  fftwf_plan p = fftwf_plan_dft_r2c_2d((int)h, (int)w, src, (fftwf_complex *)out, FFTW_ESTIMATE);
  pthread_mutex_unlock(&plan_lock);
  if (!p) {
    nadi_free(src);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "FFTW could not plan a %lld×%lld transform",
                     (long long)h, (long long)w);
  }
  memcpy(src, in, (size_t)(h * w) * sizeof(float));
  fftwf_execute(p);
  destroy_plan(p);
  nadi_free(src);
  return NAD_OK;
}

struct nadi_fft2d {
  int64_t h, w;
  double *in;
  fftw_complex *out;
  fftw_plan plan;
};

void nadi_fft2d_destroy(nadi_fft2d *f) {
  if (!f)
    return;
  if (f->plan) {
    pthread_mutex_lock(&plan_lock);
    fftw_destroy_plan(f->plan);
    pthread_mutex_unlock(&plan_lock);
  }
  nadi_free(f->in);
  nadi_free(f->out);
  nadi_free(f);
}

nad_status nadi_fft2d_create(int64_t h, int64_t w, nadi_fft2d **out) {
  *out = NULL;
  int64_t half = 0;
  NADI_TRY(check_dims(h, w, &half));
  nadi_fft2d *f = nadi_calloc(1, sizeof *f);
  if (f) {
    f->h = h;
    f->w = w;
    f->in = nadi_alloc((size_t)(h * w), sizeof(double));
    f->out = nadi_alloc((size_t)half, sizeof(fftw_complex));
  }
  if (!f || !f->in || !f->out) {
    nadi_fft2d_destroy(f);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "FFT of %lld×%lld: out of memory", (long long)h,
                     (long long)w);
  }
  pthread_mutex_lock(&plan_lock);
  f->plan = fftw_plan_dft_r2c_2d((int)h, (int)w, f->in, f->out, FFTW_ESTIMATE);
  pthread_mutex_unlock(&plan_lock);
  if (!f->plan) {
    nadi_fft2d_destroy(f);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "FFTW could not plan a %lld×%lld transform",
                     (long long)h, (long long)w);
  }
  *out = f;
  return NAD_OK;
}

const double *nadi_fft2d_forward(nadi_fft2d *f, const double *x) {
  memcpy(f->in, x, (size_t)(f->h * f->w) * sizeof(double));
  fftw_execute(f->plan);
  return (const double *)f->out;
}

void nadi_fft2d_power(nadi_fft2d *f, const float *x, double weight, double *half) {
  for (int64_t i = 0; i < f->h * f->w; i++)
    f->in[i] = (double)x[i];
  fftw_execute(f->plan);
  const double *z = (const double *)f->out;
  for (int64_t i = 0; i < f->h * (f->w / 2 + 1); i++)
    half[i] += weight * (z[2 * i] * z[2 * i] + z[2 * i + 1] * z[2 * i + 1]);
}

void nadi_fft_unfold_half(const double *half, int64_t h, int64_t w, double *dst) {
  const int64_t wc = w / 2 + 1;
  for (int64_t fy = 0; fy < h; fy++)
    for (int64_t fx = 0; fx < w; fx++) {
      double v = fx < wc ? half[fy * wc + fx] : half[((h - fy) % h) * wc + (w - fx)];
      if (!(v > 0.0))
        v = v == v ? 0.0 : v; /* keep NaN visible, clamp −0 and rounding negatives */
      dst[((fy + h / 2) % h) * w + (fx + w / 2) % w] = v;
    }
}
