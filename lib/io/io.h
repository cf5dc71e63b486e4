/* Internal file I/O: .npy arrays, whole-file reads, CRC-32; atomic file replacement is
 * io/atomic.h (figures are lib/figure/figure.h). Never installed.
 * These functions trust their arguments (the public façades validate them); failures are
 * reported as NAD_ERR_IO (open/read/write, with the path and strerror), NAD_ERR_FORMAT
 * (malformed .npy content, with the path and the problem) or NAD_ERR_OUT_OF_MEMORY. */
#ifndef NADI_IO_H
#define NADI_IO_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "io/atomic.h"

/* ---- atomic replacement (io/atomic.h) -------------------------------------------------- */

/* The failure of an atomic file as this thread's error: NAD_ERR_IO naming the path, the step
 * and strerror (NAD_ERR_OUT_OF_MEMORY when the step ran out of memory). */
static inline nad_status nadi_atomic_fail(const nadi_atomic_file *af) {
  return nadi_fail(af->err == ENOMEM ? NAD_ERR_OUT_OF_MEMORY : NAD_ERR_IO, "%s: cannot %s: %s",
                   af->path, af->failed, strerror(af->err));
}

/* ---- .npy --------------------------------------------------------------------------------- */

#define NADI_NPY_MAX_DIMS 8

/* dtypes of a .npy header (little-endian, or byte-sized) */
enum {
  NADI_NPY_F4, NADI_NPY_F8, NADI_NPY_U1, NADI_NPY_I1, NADI_NPY_I2, NADI_NPY_U2, NADI_NPY_I4,
  NADI_NPY_U4, NADI_NPY_I8, NADI_NPY_U8
};

/* A parsed .npy header. */
typedef struct nadi_npy_header {
  int32_t major, minor; /* format version */
  int32_t dtype;        /* NADI_NPY_* */
  int32_t itemsize;     /* bytes per element */
  char descr[8];        /* as written, e.g. "<f4" */
  int32_t is_f64;       /* dtype == NADI_NPY_F8 */
  int32_t ndim;         /* 0..8; 0 is a scalar (one element) */
  int64_t shape[NADI_NPY_MAX_DIMS];
  int64_t count;       /* product of the shape */
  int64_t data_offset; /* bytes before the data */
} nadi_npy_header;

/* Read the header of an open stream positioned at the start of a .npy file; `name` is used in
 * messages. Leaves the stream at the first data byte. Accepts the float and integer dtypes
 * above; the readers below then insist on floats. */
nad_status nadi_npy_read_header(FILE *fp, const char *name, nadi_npy_header *h);

/* Read a whole file (f4 or f8; other dtypes are NAD_ERR_FORMAT) into a new 64-byte aligned buffer of float / double (free with
 * nadi_free or nad_free; a 0-element array still gets a non-NULL buffer). shape gets ndim
 * entries. On failure *data is NULL. */
nad_status nadi_npy_read_f32(const char *path, float **data, int64_t shape[NADI_NPY_MAX_DIMS],
                             int32_t *ndim);
nad_status nadi_npy_read_f64(const char *path, double **data, int64_t shape[NADI_NPY_MAX_DIMS],
                             int32_t *ndim);

/* Write count = prod(shape) floats (is_f64 = 0) or doubles (is_f64 = 1) as a .npy file laid
 * out byte for byte like numpy's np.save (version 1.0, or 2.0 when the header needs it),
 * atomically. ndim is 0..8 and the shape is non-negative with a product that fits. */
nad_status nadi_npy_write(const char *path, const void *data, int32_t is_f64, const int64_t *shape,
                          int32_t ndim);

/* ---- whole files, gzip, CRC-32 (zlib is used by lib/io/blob.c only) ---------------------- */

/* Largest decompressed size a gzip file may have (also bounds the growth of a pipe's copy). */
#define NADI_BLOB_MAX_BYTES ((size_t)1 << 36)

/* The complete content of a file: data[0..len), read-only. */
typedef struct nadi_blob {
  const uint8_t *data;
  size_t len;
  int gzipped;    /* data is the decompressed content of a gzip file */
  void *owned;    /* malloc'ed buffer behind data, or NULL */
  void *map;      /* mmap behind data, or NULL */
  size_t map_len;
} nadi_blob;

/* Read a whole file: mmap'ed when it is an uncompressed regular file, decompressed when it
 * starts with the gzip magic (1f 8b; every member of a multi-member file; trailing garbage,
 * truncation or corruption is NAD_ERR_FORMAT naming the path). NAD_ERR_IO when it cannot be
 * opened. Free with nadi_blob_free. */
nad_status nadi_blob_read(const char *path, nadi_blob *out);
/* The same for bytes already in memory (borrowed unless they are gzip, then decompressed);
 * `name` is used in messages. For the fuzz targets. */
nad_status nadi_blob_from_memory(const uint8_t *data, size_t len, const char *name,
                                 nadi_blob *out);
void nadi_blob_free(nadi_blob *b); /* zeroed blobs too */
int nadi_is_gzip(const uint8_t *data, size_t len);
/* zlib's CRC-32 over any length (crc = 0 to start). */
uint32_t nadi_crc32(uint32_t crc, const void *data, size_t len);

#endif
