/* The fuzz targets of the dataset loaders (one per format, tests/fuzz/fuzz_*.c) and what they
 * share. Each target defines only LLVMFuzzerTestOneInput, so it builds unchanged for libFuzzer
 * (clang -fsanitize=fuzzer); here tests/fuzz/replay.c provides main(), replays the committed
 * corpus and deterministic mutations of it, under gcc, ASan and UBSan alike. A target crashes
 * (trap) when a loader accepts input and returns a dataset that breaks its invariants; refusing
 * input is the expected outcome for most mutations. */
#ifndef NADT_FUZZ_H
#define NADT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data/data.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs a loader accepted (the replay driver reports it: seeds must load, mutations must
 * reach both outcomes). Weak, so that a libFuzzer build needs no definition. */
__attribute__((weak)) long fuzz_accepted;

/* Consumes a little-endian u32 from the front of (*p, *n) (0 when fewer than 4 bytes). */
static inline uint32_t fuzz_take_u32(const uint8_t **p, size_t *n) {
  if (*n < 4) {
    *n = 0;
    return 0;
  }
  uint32_t v = (uint32_t)(*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 |
               (uint32_t)(*p)[3] << 24;
  *p += 4;
  *n -= 4;
  return v;
}

/* The next part of the input: a u32 length (clamped to what is left), then that many bytes. */
static inline void fuzz_take_part(const uint8_t **p, size_t *n, const uint8_t **part,
                                  size_t *len) {
  size_t want = fuzz_take_u32(p, n);
  *len = want < *n ? want : *n;
  *part = *p;
  *p += *len;
  *n -= *len;
}

/* The input of a two-file loader (images + labels): u8 options, then two parts, each gzip or raw,
 * decoded (lib/io/blob.c) into *images and *labels under the names given. 0 when both decode
 * (free both with nadi_blob_free), -1 otherwise (nothing to free). */
static inline int fuzz_take_two_files(const uint8_t *data, size_t size, const char *images_name,
                                      const char *labels_name, uint8_t *opt, nadi_blob *images,
                                      nadi_blob *labels) {
  if (size < 1)
    return -1;
  *opt = data[0];
  const uint8_t *p = data + 1, *img, *lab;
  size_t n = size - 1, img_len, lab_len;
  fuzz_take_part(&p, &n, &img, &img_len);
  fuzz_take_part(&p, &n, &lab, &lab_len);
  if (nadi_blob_from_memory(img, img_len, images_name, images) != NAD_OK)
    return -1;
  if (nadi_blob_from_memory(lab, lab_len, labels_name, labels) != NAD_OK) {
    nadi_blob_free(images);
    return -1;
  }
  return 0;
}

/* A dataset a loader returned: every label within its classes, every value finite, and (for
 * byte formats, lo = 0 and hi = 1) within [lo, hi]. */
static inline void fuzz_check_dataset(const nad_dataset *d, float lo, float hi) {
  fuzz_accepted++;
  if (!d || d->n < 1 || d->num_classes < 1 || d->num_classes > NADI_MAX_CLASSES)
    __builtin_trap();
  for (int64_t i = 0; i < d->n; i++)
    if (d->labels[i] < 0 || d->labels[i] >= d->num_classes)
      __builtin_trap();
  for (int64_t i = 0; i < d->n * d->d; i++)
    if (!(d->x[i] >= lo && d->x[i] <= hi))
      __builtin_trap();
}

/* Target size chosen by one byte: 0 keeps the stored size, else 1..16 x 1..16. */
static inline nadi_target fuzz_target(uint8_t b) {
  nadi_target t = {0, 0};
  if (b & 0x80) {
    t.h = 1 + (b & 7) * 2;
    t.w = 1 + ((b >> 3) & 7) * 2;
  }
  return t;
}

#endif
