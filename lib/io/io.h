/* Internal file I/O: .npy arrays (figures: io/figure.h); atomic file replacement is io/atomic.h. Never
 * installed.
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

/* A parsed .npy header. */
typedef struct nadi_npy_header {
  int32_t major, minor; /* format version */
  int32_t is_f64;       /* 0: '<f4', 1: '<f8' */
  int32_t ndim;         /* 0..8; 0 is a scalar (one element) */
  int64_t shape[NADI_NPY_MAX_DIMS];
  int64_t count;       /* product of the shape */
  int64_t data_offset; /* bytes before the data */
} nadi_npy_header;

/* Read the header of an open stream positioned at the start of a .npy file; `name` is used in
 * messages. Leaves the stream at the first data byte. */
nad_status nadi_npy_read_header(FILE *fp, const char *name, nadi_npy_header *h);

/* Read a whole file (f4 or f8) into a new 64-byte aligned buffer of float / double (free with
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

/* Figures (PNG, SVG, PDF through cairo) are io/figure.h. */

#endif
