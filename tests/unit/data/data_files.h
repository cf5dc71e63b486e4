/* Helpers of the dataset tests: a scratch directory, files written byte for byte in the real
 * formats (IDX, gzip through zlib, CIFAR-10 batches, .npy), and the check that a load fails
 * with the right status, a message naming the file and the problem, and no dataset. */
#ifndef NADT_DATA_FILES_H
#define NADT_DATA_FILES_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <nad/nad.h>

#include "../check.h"
#include "../test_files.h"

static char tdir[256];

static inline void make_tdir(const char *prefix) { nadt_scratch_dir(tdir, sizeof tdir, prefix); }

static inline void remove_tdir(void) { nadt_remove_dir(tdir); }

/* tdir/name (nadt_path), its subdirectories created */
static inline const char *tpath(const char *name) {
  char *b = nadt_path(tdir, name);
  for (char *p = b + strlen(tdir) + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      mkdir(b, 0777);
      *p = '/';
    }
  return b;
}

static inline void put_file(const char *path, const void *bytes, size_t n) {
  unlink(path); /* a new inode: no flush-on-close waits after truncation */
  FILE *fp = fopen(path, "wb");
  if (!fp) {
    printf("cannot create %s: %s\n", path, strerror(errno));
    exit(2);
  }
  if (n)
    fwrite(bytes, 1, n, fp);
  fclose(fp);
}

/* bytes as one gzip member appended to (append != 0) or replacing the file */
static inline void put_gz(const char *path, const void *bytes, size_t n, int append) {
  if (!append)
    unlink(path);
  gzFile g = gzopen(path, append ? "ab" : "wb");
  if (!g || (n && gzwrite(g, bytes, (unsigned)n) != (int)n) || gzclose(g) != Z_OK) {
    printf("cannot write %s\n", path);
    exit(2);
  }
}

/* IDX file: magic 00 00 type ndim, big-endian dims, then data (data_len bytes). */
static inline size_t make_idx(unsigned char *out, int type, int ndim, const uint32_t *dims,
                       const void *data, size_t data_len) {
  out[0] = 0, out[1] = 0, out[2] = (unsigned char)type, out[3] = (unsigned char)ndim;
  for (int i = 0; i < ndim; i++) {
    out[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
    out[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
    out[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
    out[7 + 4 * i] = (unsigned char)dims[i];
  }
  memcpy(out + 4 + 4 * ndim, data, data_len);
  return 4 + 4 * (size_t)ndim + data_len;
}

/* .npy version 1.0 with the dict padded to 64 bytes. */
static inline size_t make_npy(unsigned char *out, const char *descr, const char *shape,
                       const void *data, size_t data_len) {
  char dict[256];
  int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                   descr, shape);
  size_t hlen = (size_t)n + 1, pad = 64 - (10 + hlen) % 64;
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (unsigned char)((hlen + pad) & 0xff);
  out[9] = (unsigned char)((hlen + pad) >> 8);
  memcpy(out + 10, dict, (size_t)n);
  memset(out + 10 + n, ' ', pad);
  out[10 + n + pad] = '\n';
  memcpy(out + 10 + hlen + pad, data, data_len);
  return 10 + hlen + pad + data_len;
}

/* A load that must fail: status, no dataset, and every needle in the message. */
static inline void expect_load_fail_at(const char *file, int line, const char *source, nad_split split,
                                nad_status want, const char *needle1, const char *needle2) {
  nad_dataset *d = (nad_dataset *)(uintptr_t)1;
  nad_status st = nad_dataset_load(source, split, 0, 0, &d);
  const char *msg = nad_last_error();
  int ok = st == want && d == NULL && (!needle1 || strstr(msg, needle1)) &&
           (!needle2 || strstr(msg, needle2));
  check_record(ok, file, line, "load '%s': status %d (want %d), message '%s' (want '%s', '%s')",
               source, (int)st, (int)want, msg, needle1 ? needle1 : "", needle2 ? needle2 : "");
  if (st == NAD_OK)
    nad_dataset_destroy(d);
}
#define EXPECT_LOAD_FAIL(src, split, want, n1, n2)                                                  \
  expect_load_fail_at(__FILE__, __LINE__, src, split, want, n1, n2)

#endif
