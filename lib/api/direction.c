/* Public façade of directions (Fourier basis vectors, random unit vectors): validation and
 * messages; the work is in lib/train/fourier.c. */
#include "api/api.h"
#include "train/train.h"

nad_status nad_direction_fourier(int64_t c, int64_t h, int64_t w, int64_t fy, int64_t fx,
                                 nad_fourier_part part, float *dst, size_t len) {
  int64_t d;
  NADI_TRY(nadi_check_sample_shape("nad_direction_fourier", c, h, w, &d));
  NADI_CHECK(h <= INT32_MAX && w <= INT32_MAX, NAD_ERR_INVALID_ARG,
             "nad_direction_fourier: %lldx%lld planes are too large for FFTW", (long long)h,
             (long long)w);
  NADI_CHECK(dst, NAD_ERR_INVALID_ARG, "nad_direction_fourier: dst is NULL");
  NADI_CHECK_LEN("nad_direction_fourier", "dst (c·h·w)", len, d);
  NADI_CHECK(part == NAD_FOURIER_AUTO || part == NAD_FOURIER_SIN || part == NAD_FOURIER_COS,
             NAD_ERR_INVALID_ARG, "nad_direction_fourier: part must be AUTO (0), SIN (1) or COS "
                                  "(2), got %d", (int)part);
  NADI_CHECK(fy >= -(h / 2) && fy <= h / 2 && fx >= -(w / 2) && fx <= w / 2, NAD_ERR_INVALID_ARG,
             "nad_direction_fourier: frequency (%lld, %lld) out of range: fy in [%lld, %lld], fx "
             "in [%lld, %lld] for a %lldx%lld image",
             (long long)fy, (long long)fx, (long long)-(h / 2), (long long)(h / 2),
             (long long)-(w / 2), (long long)(w / 2), (long long)h, (long long)w);
  NADI_CHECK(part != NAD_FOURIER_SIN || !nadi_fourier_sine_vanishes(h, w, fy, fx),
             NAD_ERR_INVALID_ARG,
             "nad_direction_fourier: the sine of frequency (%lld, %lld) vanishes on a %lldx%lld "
             "grid (DC/Nyquist): use the cosine or AUTO",
             (long long)fy, (long long)fx, (long long)h, (long long)w);
  return nadi_direction_fourier(c, h, w, fy, fx, part, dst);
}

nad_status nad_direction_random(uint64_t seed, float *dst, size_t len) {
  NADI_CHECK(dst, NAD_ERR_INVALID_ARG, "nad_direction_random: dst is NULL");
  NADI_CHECK(len >= 1 && len <= (size_t)INT64_MAX, NAD_ERR_INVALID_ARG,
             "nad_direction_random: len must be >= 1");
  nadi_direction_random(seed, dst, (int64_t)len);
  return NAD_OK;
}
