/* A dataset from two .npy files: images N×H×W or N×C×H×W (uint8, float32 or float64) and a
 * vector of N integer labels. The header is parsed by lib/io/npy_format.c (reading the bytes in
 * memory through fmemopen); the data size is checked against the true length of the file,
 * every label and every float value before the dataset is allocated. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/data.h"
#include "io/io.h"

typedef struct npy_view {
  nadi_npy_header h;
  const uint8_t *data; /* h.count · h.itemsize bytes */
} npy_view;

static nad_status parse(const uint8_t *b, size_t len, const char *name, npy_view *v) {
  NADI_CHECK(len > 0, NAD_ERR_FORMAT, "%s: empty file, not a .npy file", name);
  FILE *f = fmemopen((void *)(uintptr_t)b, len, "rb");
  NADI_CHECK(f, NAD_ERR_OUT_OF_MEMORY, "%s: cannot open the bytes as a stream", name);
  nad_status st = nadi_npy_read_header(f, name, &v->h);
  fclose(f);
  NADI_TRY(st);
  const uint64_t need = (uint64_t)v->h.count * (uint64_t)v->h.itemsize; /* checked: fits */
  const uint64_t have = len - (uint64_t)v->h.data_offset;
  NADI_CHECK(have == need, NAD_ERR_FORMAT,
             "%s: .npy data size mismatch: the header's shape and dtype '%s' need %llu bytes, "
             "the file has %llu (%s)",
             name, v->h.descr, (unsigned long long)need, (unsigned long long)have,
             have < need ? "truncated" : "trailing bytes");
  v->data = b + v->h.data_offset;
  return NAD_OK;
}

/* Label i of an integer vector, widened (unsigned 64-bit values above INT64_MAX become -1, out
 * of range like every negative label). */
static int64_t label_at(const npy_view *v, int64_t i) {
  const uint8_t *p = v->data + i * v->h.itemsize;
  switch (v->h.dtype) {
  case NADI_NPY_U1: return p[0];
  case NADI_NPY_I1: return (int8_t)p[0];
  case NADI_NPY_I2: { int16_t x; memcpy(&x, p, 2); return x; }
  case NADI_NPY_U2: { uint16_t x; memcpy(&x, p, 2); return x; }
  case NADI_NPY_I4: { int32_t x; memcpy(&x, p, 4); return x; }
  case NADI_NPY_U4: { uint32_t x; memcpy(&x, p, 4); return x; }
  case NADI_NPY_I8: { int64_t x; memcpy(&x, p, 8); return x; }
  default: { uint64_t x; memcpy(&x, p, 8); return x > INT64_MAX ? -1 : (int64_t)x; }
  }
}

nad_status nadi_npy_load(const uint8_t *img, size_t img_len, const char *img_name,
                         const uint8_t *lab, size_t lab_len, const char *lab_name, nadi_target t,
                         nad_dataset **out) {
  *out = NULL;
  npy_view im, lb;
  NADI_TRY(parse(img, img_len, img_name, &im));
  NADI_TRY(parse(lab, lab_len, lab_name, &lb));
  const nadi_npy_header *ih = &im.h;
  NADI_CHECK(ih->dtype == NADI_NPY_U1 || ih->dtype == NADI_NPY_F4 || ih->dtype == NADI_NPY_F8,
             NAD_ERR_FORMAT, "%s: images must be uint8, float32 or float64, not dtype '%s'",
             img_name, ih->descr);
  NADI_CHECK(ih->ndim == 3 || ih->ndim == 4, NAD_ERR_FORMAT,
             "%s: images must have 3 (N x H x W) or 4 (N x C x H x W) dimensions, not %d",
             img_name, (int)ih->ndim);
  const int64_t n = ih->shape[0], c = ih->ndim == 4 ? ih->shape[1] : 1;
  const int64_t h = ih->shape[ih->ndim - 2], w = ih->shape[ih->ndim - 1];
  NADI_CHECK(n >= 1 && c >= 1 && h >= 1 && w >= 1, NAD_ERR_FORMAT,
             "%s: images of shape with a zero dimension (no samples or no pixels)", img_name);
  const nadi_npy_header *lh = &lb.h;
  NADI_CHECK(lh->dtype != NADI_NPY_F4 && lh->dtype != NADI_NPY_F8, NAD_ERR_FORMAT,
             "%s: labels must be integers, not dtype '%s'", lab_name, lh->descr);
  NADI_CHECK(lh->ndim == 1, NAD_ERR_FORMAT, "%s: labels must be a vector (1 dimension), not %d",
             lab_name, (int)lh->ndim);
  NADI_CHECK(lh->shape[0] == n, NAD_ERR_FORMAT, "%s has %lld images but %s has %lld labels",
             img_name, (long long)n, lab_name, (long long)lh->shape[0]);
  int64_t top = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t y = label_at(&lb, i);
    NADI_CHECK(y >= 0 && y < NADI_MAX_CLASSES, NAD_ERR_FORMAT,
               "%s: label %lld of sample %lld is out of range (labels are 0..%d)", lab_name,
               (long long)y, (long long)i, NADI_MAX_CLASSES - 1);
    top = y > top ? y : top;
  }
  const nadi_pixel pix = ih->dtype == NADI_NPY_U1   ? NADI_PIX_U8
                         : ih->dtype == NADI_NPY_F4 ? NADI_PIX_F32
                                                    : NADI_PIX_F64;
  if (pix != NADI_PIX_U8)
    for (int64_t i = 0; i < ih->count; i++) {
      double v;
      if (pix == NADI_PIX_F32) {
        float x;
        memcpy(&x, im.data + 4 * i, 4);
        v = x;
      } else {
        memcpy(&v, im.data + 8 * i, 8);
      }
      NADI_CHECK(isfinite(v) && fabs(v) <= FLT_MAX, NAD_ERR_FORMAT,
                 "%s: pixel %lld is %g (values must be finite float32 numbers)", img_name,
                 (long long)i, v);
    }
  const int64_t th = t.h ? t.h : h, tw = t.w ? t.w : w, d = c * h * w;
  nad_dataset *ds = NULL;
  NADI_TRY(nadi_dataset_alloc(n, c, th, tw, &ds));
  for (int64_t i = 0; i < n; i++) {
    nadi_place_image(im.data + i * d * ih->itemsize, pix, c, h, w, ds->x + i * ds->d, th, tw);
    ds->labels[i] = (int32_t)label_at(&lb, i);
  }
  ds->num_classes = (int32_t)top + 1;
  *out = ds;
  return NAD_OK;
}
