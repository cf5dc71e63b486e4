/* CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html): each batch file is a
 * sequence of 3073-byte records, one label byte (0..9) then the 32×32 red, green and blue
 * planes. The format has no header or magic, so the checks are the file size (a whole number
 * of records, at least one) and every label; all files are checked before anything is
 * allocated. */
#include "data/data.h"

#define CLASSES 10

static nad_status check_file(const uint8_t *b, size_t len, const char *name, int64_t *records) {
  NADI_CHECK(len > 0, NAD_ERR_FORMAT, "%s: empty file, not a CIFAR-10 batch", name);
  NADI_CHECK(len % NADI_CIFAR10_RECORD == 0, NAD_ERR_FORMAT,
             "%s: %zu bytes is not a whole number of CIFAR-10 records of %d bytes (1 label + "
             "3x32x32 pixels): truncated or not a CIFAR-10 binary batch (%zu bytes left over)",
             name, len, NADI_CIFAR10_RECORD, len % NADI_CIFAR10_RECORD);
  *records = (int64_t)(len / NADI_CIFAR10_RECORD);
  for (int64_t i = 0; i < *records; i++) {
    const uint8_t label = b[i * NADI_CIFAR10_RECORD];
    NADI_CHECK(label < CLASSES, NAD_ERR_FORMAT,
               "%s: record %lld has label %d, CIFAR-10 labels are 0..9 (is this CIFAR-100?)",
               name, (long long)i, label);
  }
  return NAD_OK;
}

nad_status nadi_cifar10_load(const uint8_t *const *files, const size_t *lens,
                             const char *const *names, int nfiles, nadi_target t,
                             nad_dataset **out) {
  *out = NULL;
  int64_t n = 0;
  for (int f = 0; f < nfiles; f++) {
    int64_t r = 0;
    NADI_TRY(check_file(files[f], lens[f], names[f], &r));
    n += r;
  }
  const int64_t side = NADI_CIFAR10_SIDE;
  const int64_t th = t.h ? t.h : side, tw = t.w ? t.w : side;
  nad_dataset *ds = NULL;
  NADI_TRY(nadi_dataset_alloc(n, 3, th, tw, &ds));
  int64_t i = 0;
  for (int f = 0; f < nfiles; f++)
    for (size_t off = 0; off < lens[f]; off += NADI_CIFAR10_RECORD, i++) {
      ds->labels[i] = files[f][off];
      nadi_place_image(files[f] + off + 1, NADI_PIX_U8, 3, side, side, ds->x + i * ds->d, th,
                       tw);
    }
  ds->num_classes = CLASSES;
  *out = ds;
  return NAD_OK;
}
