/* Files for the C tests and the fuzz replay driver: a scratch directory, paths inside it, and
 * reading a whole file back (files the code under test wrote, corpus files). */
#ifndef NADT_TEST_FILES_H
#define NADT_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh directory $TMPDIR/PREFIX-XXXXXX (/tmp without TMPDIR) into dir[0 .. size). When it
 * cannot be made the test ends here, failed, with the closing line the test scripts read. */
static inline void nadt_scratch_dir(char *dir, size_t size, const char *prefix) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, size, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
  if (!mkdtemp(dir)) {
    perror("cannot create a scratch directory");
    printf("0 passed, 1 failed\n");
    exit(1);
  }
}

/* Removes dir and everything below it (a warning when it cannot). */
static inline void nadt_remove_dir(const char *dir) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    printf("warning: could not remove %s\n", dir);
}

/* dir/name in one of 64 rotating buffers (a test may hold that many paths at once). */
static inline char *nadt_path(const char *dir, const char *name) {
  static char buf[64][512];
  static unsigned next;
  char *b = buf[next++ % 64];
  snprintf(b, sizeof buf[0], "%s/%s", dir, name);
  return b;
}

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
