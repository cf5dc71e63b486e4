/* What is done to images on their way into a dataset, and to datasets afterwards: scaling of
 * unsigned bytes to [0, 1], centred zero-padding / cropping to a target size, per-channel
 * normalisation, subsets, and the statistics `nad data info` reports. One placement rule
 * (nadi_center) serves the loaders and nad_dataset_resize, so a 28×28 image lands on the same
 * pixels of a 32×32 sample whichever way it arrives. */
#include <math.h>
#include <string.h>

#include "data/data.h"

void nadi_center(int64_t s, int64_t t, int64_t *dst0, int64_t *src0, int64_t *count) {
  if (t >= s) { /* pad: floor((t − s)/2) before, the rest after */
    *dst0 = (t - s) / 2;
    *src0 = 0;
    *count = s;
  } else { /* crop: keep the middle t, floor((s − t)/2) dropped before */
    *dst0 = 0;
    *src0 = (s - t) / 2;
    *count = t;
  }
}

/* Little-endian floats from possibly unaligned bytes (memcpy compiles to a plain load). */
static float get_f32(const uint8_t *p) {
  float v;
  memcpy(&v, p, sizeof v);
  return v;
}
static float get_f64(const uint8_t *p) {
  double v;
  memcpy(&v, p, sizeof v);
  return (float)v;
}

void nadi_place_image(const uint8_t *src, nadi_pixel pix, int64_t c, int64_t sh, int64_t sw,
                      float *dst, int64_t th, int64_t tw) {
  int64_t dy, sy, ny, dx, sx, nx;
  nadi_center(sh, th, &dy, &sy, &ny);
  nadi_center(sw, tw, &dx, &sx, &nx);
  const size_t esz = pix == NADI_PIX_U8 ? 1 : pix == NADI_PIX_F32 ? 4 : 8;
  if (ny != th || nx != tw)
    memset(dst, 0, (size_t)(c * th * tw) * sizeof(float));
  for (int64_t ch = 0; ch < c; ch++)
    for (int64_t y = 0; y < ny; y++) {
      const uint8_t *s = src + ((size_t)((ch * sh + sy + y) * sw + sx)) * esz;
      float *o = dst + (ch * th + dy + y) * tw + dx;
      switch (pix) {
      case NADI_PIX_U8:
        for (int64_t x = 0; x < nx; x++)
          o[x] = (float)s[x] / 255.0f;
        break;
      case NADI_PIX_F32:
        for (int64_t x = 0; x < nx; x++)
          o[x] = get_f32(s + 4 * x);
        break;
      case NADI_PIX_F64:
        for (int64_t x = 0; x < nx; x++)
          o[x] = get_f64(s + 8 * x);
        break;
      }
    }
}

/* A dataset of d's samples count and classes with a new image size (x not filled). */
static nad_status like(const nad_dataset *d, int64_t n, int64_t h, int64_t w, nad_dataset **out) {
  NADI_TRY(nadi_dataset_alloc(n, d->c, h, w, out));
  (*out)->num_classes = d->num_classes;
  return NAD_OK;
}

nad_status nadi_dataset_resized(const nad_dataset *d, int64_t h, int64_t w, nad_dataset **out) {
  NADI_TRY(like(d, d->n, h, w, out));
  nad_dataset *r = *out;
  for (int64_t i = 0; i < d->n; i++)
    nadi_place_image((const uint8_t *)(d->x + i * d->d), NADI_PIX_F32, d->c, d->h, d->w,
                     r->x + i * r->d, h, w);
  memcpy(r->labels, d->labels, (size_t)d->n * sizeof(int32_t));
  return NAD_OK;
}

nad_status nadi_dataset_normalized(const nad_dataset *d, const double *mean, const double *std,
                                   nad_dataset **out) {
  NADI_TRY(like(d, d->n, d->h, d->w, out));
  nad_dataset *r = *out;
  const int64_t plane = d->h * d->w;
  for (int64_t i = 0; i < d->n; i++)
    for (int64_t ch = 0; ch < d->c; ch++) {
      const float *s = d->x + i * d->d + ch * plane;
      float *o = r->x + i * d->d + ch * plane;
      const double m = mean[ch], inv = 1.0 / std[ch];
      for (int64_t j = 0; j < plane; j++)
        o[j] = (float)(((double)s[j] - m) * inv);
    }
  memcpy(r->labels, d->labels, (size_t)d->n * sizeof(int32_t));
  return NAD_OK;
}

nad_status nadi_dataset_subset(const nad_dataset *d, int64_t first, int64_t count,
                               nad_dataset **out) {
  NADI_TRY(like(d, count, d->h, d->w, out));
  memcpy((*out)->x, d->x + first * d->d, (size_t)(count * d->d) * sizeof(float));
  memcpy((*out)->labels, d->labels + first, (size_t)count * sizeof(int32_t));
  return NAD_OK;
}

void nadi_dataset_channel_stats(const nad_dataset *d, double *mean, double *std) {
  const int64_t plane = d->h * d->w;
  for (int64_t ch = 0; ch < d->c; ch++) {
    /* two passes in double: the one-pass E[x²] − E[x]² loses digits over 60 M values */
    double s = 0.0;
    for (int64_t i = 0; i < d->n; i++) {
      const float *p = d->x + i * d->d + ch * plane;
      for (int64_t j = 0; j < plane; j++)
        s += p[j];
    }
    const double m = s / (double)(d->n * plane);
    double q = 0.0;
    for (int64_t i = 0; i < d->n; i++) {
      const float *p = d->x + i * d->d + ch * plane;
      for (int64_t j = 0; j < plane; j++)
        q += ((double)p[j] - m) * ((double)p[j] - m);
    }
    mean[ch] = m;
    std[ch] = sqrt(q / (double)(d->n * plane));
  }
}

void nadi_dataset_class_counts(const nad_dataset *d, int64_t *counts) {
  memset(counts, 0, (size_t)d->num_classes * sizeof(int64_t));
  for (int64_t i = 0; i < d->n; i++)
    counts[d->labels[i]]++;
}
