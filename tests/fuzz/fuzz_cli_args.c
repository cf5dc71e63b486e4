/* Fuzz target of the `nad` tool's option parsing (src/args.c): the input is split at NUL bytes
 * into at most 24 words, parsed with the option table of `nad estimate`'s kind (values,
 * flags, positionals), and every value is then run through the strict number, size and shape
 * parsers. Accepted values must be in the range asked for. */
#include <float.h>
#include <stdlib.h>

#include "../../src/cli.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 2048)
    return 0;
  char *buf = malloc(size + 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  char *argv[24];
  int argc = 0;
  for (size_t i = 0; i <= size && argc < 24;) {
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  const char *net = NULL, *scale = NULL, *input = NULL, *memory = NULL, *seed = NULL;
  int quiet = 0, json = 0;
  const cli_opt opts[] = {
      {"networks", 1, &net, NULL}, {"scale", 1, &scale, NULL}, {"input", 1, &input, NULL},
      {"memory", 1, &memory, NULL}, {"seed", 1, &seed, NULL}, {"quiet", 0, NULL, &quiet},
      {"json", 0, NULL, &json},
  };
  const char *pos[2];
  int npos = 0;
  if (cli_parse("compare", argc, argv, opts, 7, pos, 2, &npos) == 0) {
    fuzz_accepted++;
    if (npos < 0 || npos > 2)
      __builtin_trap();
    int64_t v = 0, shape[3] = {0, 0, 0}, bytes = 0;
    double d = 0;
    if (net && cli_parse_i64("networks", net, 2, 1000, &v) == 0 && (v < 2 || v > 1000))
      __builtin_trap();
    if (seed && cli_parse_i64("seed", seed, 0, INT64_MAX, &v) == 0 && v < 0)
      __builtin_trap();
    if (scale && cli_parse_double_pos("scale", scale, &d) == 0 && !(d > 0 && d <= DBL_MAX))
      __builtin_trap();
    if (input && cli_parse_shape("input", input, shape) == 0 &&
        (shape[0] < 1 || shape[1] < 1 || shape[2] < 1 ||
         shape[0] * shape[1] * shape[2] > INT32_MAX))
      __builtin_trap();
    if (memory && cli_parse_size("memory", memory, &bytes) == 0 && bytes < 0)
      __builtin_trap();
  }
  free(buf);
  return 0;
}
