/* Fuzz target of the IDX loader (lib/data/idx.c) with the gzip layer (lib/io/blob.c) in front.
 * Input: u8 options (bit 0: the format declares 10 classes; bit 7: a target size), then two
 * parts (u32 length + bytes): the images file and the labels file, each gzip or raw. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t opt;
  nadi_blob bi, bl;
  if (fuzz_take_two_files(data, size, "images", "labels", &opt, &bi, &bl) != 0)
    return 0;
  nad_dataset *d = NULL;
  if (nadi_idx_load(bi.data, bi.len, "images", bl.data, bl.len, "labels", (opt & 1) ? 10 : 0,
                    fuzz_target(opt), &d) == NAD_OK)
    fuzz_check_dataset(d, 0.0f, 1.0f);
  nadi_dataset_release(d);
  nadi_blob_free(&bi);
  nadi_blob_free(&bl);
  return 0;
}
