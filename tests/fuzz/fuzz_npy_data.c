/* Fuzz target of the .npy images + labels loader (lib/data/npy_data.c, through the header
 * parser of lib/io/npy.c). Input: u8 options (bit 7: a target size), then two parts (u32 length
 * + bytes): the images file and the labels file, each gzip or raw. */
#include <float.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  const uint8_t opt = data[0];
  const uint8_t *p = data + 1;
  size_t n = size - 1;
  const uint8_t *img, *lab;
  size_t img_len, lab_len;
  fuzz_take_part(&p, &n, &img, &img_len);
  fuzz_take_part(&p, &n, &lab, &lab_len);
  nadi_blob bi, bl;
  memset(&bl, 0, sizeof bl);
  if (nadi_blob_from_memory(img, img_len, "images.npy", &bi) != NAD_OK)
    return 0;
  nad_dataset *d = NULL;
  if (nadi_blob_from_memory(lab, lab_len, "labels.npy", &bl) == NAD_OK &&
      nadi_npy_load(bi.data, bi.len, "images.npy", bl.data, bl.len, "labels.npy",
                    fuzz_target(opt), &d) == NAD_OK)
    fuzz_check_dataset(d, -FLT_MAX, FLT_MAX); /* floats are kept as stored: only finite */
  nadi_dataset_release(d);
  nadi_blob_free(&bi);
  nadi_blob_free(&bl);
  return 0;
}
