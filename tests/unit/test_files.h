/* Reading a whole file back, for the C tests and the fuzz replay driver (files the code under test
 * wrote, corpus files). */
#ifndef NADT_TEST_FILES_H
#define NADT_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>

/* The bytes of `path` in a malloc'd buffer with a NUL after them (so text can be read as a
 * string), their count in *len. NULL when the file cannot be opened or read whole. */
static inline unsigned char *nadt_read_file(const char *path, size_t *len) {
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0)
    n = ftell(f);
  unsigned char *b = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b) {
    b[n] = 0;
    *len = (size_t)n;
  }
  return b;
}

#endif
