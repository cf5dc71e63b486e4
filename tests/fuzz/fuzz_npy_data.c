/* Fuzz target of the .npy images + labels loader (lib/data/npy_data.c, through the header
 * parser of lib/io/npy_format.c). Input: u8 options (bit 7: a target size), then two parts (u32 length
 * + bytes): the images file and the labels file, each gzip or raw. */
#include <float.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t opt;
  nadi_blob bi, bl;
  if (fuzz_take_two_files(data, size, "images.npy", "labels.npy", &opt, &bi, &bl) != 0)
    return 0;
  nad_dataset *d = NULL;
  if (nadi_npy_load(bi.data, bi.len, "images.npy", bl.data, bl.len, "labels.npy",
                    fuzz_target(opt), &d) == NAD_OK)
    fuzz_check_dataset(d, -FLT_MAX, FLT_MAX); /* floats are kept as stored: only finite */
  nadi_dataset_release(d);
  nadi_blob_free(&bi);
  nadi_blob_free(&bl);
  return 0;
}
