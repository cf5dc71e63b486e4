/* Plain main() for the fuzz targets (zstd's tests/fuzz/regression_driver.c in spirit): replays
 * every file of the given corpus directories (or files) through LLVMFuzzerTestOneInput, then,
 * with --mutate N, N deterministic mutations of each (byte flips, overwrites with boundary
 * values, truncation, duplication of a slice, insertion), so that gcc, ASan and UBSan builds
 * run the loaders on broken inputs without libFuzzer.
 * Fails unless every seed loads (so the corpus stays valid) and, with mutations, some mutated
 * inputs are refused.
 *   usage: replay [--mutate N] [--seed S] PATH...       prints "N inputs, A accepted, ok" */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "../unit/test_files.h"

static uint64_t rng_state;

static uint64_t next(void) { /* splitmix64: deterministic for --seed */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* One mutation of src[0..n) into dst (capacity n + 64); returns the new length. */
static size_t mutate(const unsigned char *src, size_t n, unsigned char *dst) {
  static const unsigned char boundary[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0x08, 0x0d, 0x1f, 0x8b};
  memcpy(dst, src, n);
  size_t len = n;
  int rounds = 1 + (int)(next() % 4);
  for (int r = 0; r < rounds && len > 0; r++) {
    size_t at = (size_t)(next() % len);
    switch (next() % 6) {
    case 0: dst[at] ^= (unsigned char)(1u << (next() % 8)); break;
    case 1: dst[at] = boundary[next() % sizeof boundary]; break;
    case 2: len = at; break; /* truncate */
    case 3: { /* four bytes of one value (a size or dimension field) */
      unsigned char v = boundary[next() % sizeof boundary];
      for (size_t i = at; i < at + 4 && i < len; i++)
        dst[i] = v;
      break;
    }
    case 4: /* grow by up to 16 bytes copied from elsewhere */
      if (len + 16 <= n + 64) {
        size_t k = 1 + (size_t)(next() % 16), from = (size_t)(next() % len);
        memmove(dst + at + k, dst + at, len - at);
        for (size_t i = 0; i < k; i++)
          dst[at + i] = dst[(from + i) % len];
        len += k;
      }
      break;
    default: dst[at] = (unsigned char)next(); break;
    }
  }
  return len;
}

static long inputs, seeds, seeds_refused;

static void run_file(const char *path, int mutations) {
  size_t n = 0;
  unsigned char *b = nadt_read_file(path, &n);
  if (!b) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    exit(2);
  }
  long before = fuzz_accepted;
  LLVMFuzzerTestOneInput(b, n);
  inputs++;
  seeds++;
  if (fuzz_accepted == before) {
    fprintf(stderr, "replay: the seed %s is refused by the loader\n", path);
    seeds_refused++;
  }
  unsigned char *m = malloc(n + 64);
  for (int i = 0; i < mutations && m; i++) {
    size_t len = mutate(b, n, m);
    LLVMFuzzerTestOneInput(m, len);
    inputs++;
  }
  free(m);
  free(b);
}

static void run_path(const char *path, int mutations) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    fprintf(stderr, "replay: no such file or directory: %s\n", path);
    exit(2);
  }
  if (!S_ISDIR(sb.st_mode)) {
    run_file(path, mutations);
    return;
  }
  struct dirent **names = NULL;
  int k = scandir(path, &names, NULL, alphasort); /* sorted: the same order every run */
  for (int i = 0; i < k; i++) {
    if (names[i]->d_name[0] != '.') {
      char child[4096];
      snprintf(child, sizeof child, "%s/%s", path, names[i]->d_name);
      run_path(child, mutations);
    }
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  int mutations = 0, paths = 0;
  rng_state = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--mutate") == 0 && i + 1 < argc)
      mutations = atoi(argv[++i]);
    else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
      rng_state = strtoull(argv[++i], NULL, 10);
    else {
      run_path(argv[i], mutations);
      paths++;
    }
  }
  if (paths == 0) {
    fprintf(stderr, "usage: replay [--mutate N] [--seed S] PATH...\n");
    return 2;
  }
  const int ok = inputs > 0 && seeds_refused == 0 && (mutations == 0 || fuzz_accepted < inputs);
  printf("%ld inputs (%ld seeds), %ld accepted, %s\n", inputs, seeds, fuzz_accepted,
         ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
