/* IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
 *   u8 0, u8 0, u8 type (0x08 = unsigned byte), u8 ndim, ndim × u32 big-endian dimensions,
 *   then the data in C order.
 * Images are N×H×W, labels N. Every field is checked against the true length of the
 * (decompressed) file before anything is allocated. */
#include <stdio.h>

#include "data/data.h"

#define IDX_UBYTE 0x08

typedef struct idx_file {
  int64_t dims[3];
  const uint8_t *data; /* dims product bytes */
} idx_file;

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static nad_status parse(const uint8_t *b, size_t len, const char *name, int ndim,
                        const char *what, idx_file *f) {
  NADI_CHECK(len >= 4, NAD_ERR_FORMAT,
             "%s: not an IDX file: %zu bytes, shorter than the 4-byte magic number", name, len);
  NADI_CHECK(b[0] == 0 && b[1] == 0, NAD_ERR_FORMAT,
             "%s: not an IDX file (magic number %02x %02x %02x %02x, expected 00 00 08 %02x)",
             name, b[0], b[1], b[2], b[3], ndim);
  NADI_CHECK(b[2] == IDX_UBYTE, NAD_ERR_FORMAT,
             "%s: IDX data type 0x%02x is not supported (only 0x08, unsigned byte)", name, b[2]);
  NADI_CHECK(b[3] == ndim, NAD_ERR_FORMAT,
             "%s: IDX file of %d dimensions where %s need %d (%s)", name, b[3], what, ndim,
             ndim == 3 ? "N x H x W" : "N");
  const size_t header = 4 + 4 * (size_t)ndim;
  NADI_CHECK(len >= header, NAD_ERR_FORMAT,
             "%s: truncated IDX header (%zu bytes, the %d dimensions need %zu)", name, len, ndim,
             header);
  int64_t count = 1;
  char shape[96];
  size_t pos = 0;
  for (int i = 0; i < ndim; i++) {
    f->dims[i] = be32(b + 4 + 4 * i);
    NADI_CHECK(f->dims[i] >= 1, NAD_ERR_FORMAT, "%s: IDX dimension %d is 0 (no %s)", name, i,
               i == 0 ? "samples" : "pixels");
    NADI_CHECK(nadi_mul_ok(count, f->dims[i], &count), NAD_ERR_FORMAT,
               "%s: IDX dimensions overflow 64 bits", name);
    pos += (size_t)snprintf(shape + pos, sizeof shape - pos, "%s%lld", i ? "x" : "",
                            (long long)f->dims[i]);
  }
  const uint64_t have = len - header;
  NADI_CHECK(have == (uint64_t)count, NAD_ERR_FORMAT,
             "%s: the IDX header says %s = %lld bytes of data, the file has %llu (%s)", name,
             shape, (long long)count, (unsigned long long)have,
             have < (uint64_t)count ? "truncated" : "trailing bytes");
  f->data = b + header;
  return NAD_OK;
}

nad_status nadi_idx_load(const uint8_t *img, size_t img_len, const char *img_name,
                         const uint8_t *lab, size_t lab_len, const char *lab_name, int32_t classes,
                         nadi_target t, nad_dataset **out) {
  *out = NULL;
  idx_file im, lb;
  NADI_TRY(parse(img, img_len, img_name, 3, "images", &im));
  NADI_TRY(parse(lab, lab_len, lab_name, 1, "labels", &lb));
  const int64_t n = im.dims[0], h = im.dims[1], w = im.dims[2];
  NADI_CHECK(lb.dims[0] == n, NAD_ERR_FORMAT, "%s has %lld images but %s has %lld labels",
             img_name, (long long)n, lab_name, (long long)lb.dims[0]);
  int32_t top = 0;
  for (int64_t i = 0; i < n; i++) {
    NADI_CHECK(classes <= 0 || lb.data[i] < classes, NAD_ERR_FORMAT,
               "%s: label %d of sample %lld is out of range (this dataset has %d classes: "
               "0..%d)", lab_name, lb.data[i], (long long)i, (int)classes, (int)classes - 1);
    top = lb.data[i] > top ? lb.data[i] : top;
  }
  const int64_t th = t.h ? t.h : h, tw = t.w ? t.w : w;
  nad_dataset *ds = NULL;
  NADI_TRY(nadi_dataset_alloc(n, 1, th, tw, &ds));
  for (int64_t i = 0; i < n; i++) {
    nadi_place_image(im.data + i * h * w, NADI_PIX_U8, 1, h, w, ds->x + i * ds->d, th, tw);
    ds->labels[i] = lb.data[i];
  }
  ds->num_classes = classes > 0 ? classes : top + 1;
  *out = ds;
  return NAD_OK;
}
