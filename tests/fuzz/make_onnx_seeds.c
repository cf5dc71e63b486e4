/* Writes the seed corpus of fuzz_onnx at build time with the protobuf-c code generated from the
 * system's onnx.proto (so no binary model is committed): the option byte, then a small model.
 *   usage: make_onnx_seeds CONV_RELU FOLD SCATTER_EINSUM   (files written in that order) */
#include <stdio.h>

#include "../unit/onnx/onnx_craft.h"

static int write_seed(const char *path, uint8_t option, const Onnx__ModelProto *pm) {
  size_t len;
  uint8_t *b = craft_pack(pm, &len);
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(&option, 1, 1, f) == 1 && fwrite(b, 1, len, f) == len;
  if (f && fclose(f) != 0)
    ok = 0;
  if (!ok)
    fprintf(stderr, "make_onnx_seeds: cannot write %s\n", path);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 4)
    return fprintf(stderr, "usage: make_onnx_seeds CONV_RELU FOLD SCATTER_EINSUM\n"), 2;
  /* conv_relu with its own shape; fold with input 1x(1+1)x... ignored rank: own shape */
  int ok = write_seed(argv[1], 0x00, craft_conv_relu(17)) &&
           write_seed(argv[2], 0x00, craft_fold_model()) &&
           write_seed(argv[3], 0x00, craft_scatter_einsum_model());
  craft_free_all();
  return ok ? 0 : 1;
}
