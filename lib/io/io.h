/* Internal file I/O: .npy arrays, PNG figures, atomic file replacement. Never installed.
 * These functions trust their arguments (the public façades validate them); failures are
 * reported as NAD_ERR_IO (open/read/write, with the path and strerror), NAD_ERR_FORMAT
 * (malformed .npy content, with the path and the problem) or NAD_ERR_OUT_OF_MEMORY. */
#ifndef NADI_IO_H
#define NADI_IO_H

#include <stdint.h>
#include <stdio.h>

#include "nad/nad.h"

/* ---- atomic replacement: write "<path>.tmp.<pid>", fflush + fsync, rename over path ------ */

typedef struct nadi_atomic_file {
  FILE *fp; /* write here between open and commit/abort */
  const char *path;
  char *tmp_path; /* owned */
} nadi_atomic_file;

/* Create the temporary file. On failure nothing is left behind and af->fp is NULL. */
nad_status nadi_atomic_open(nadi_atomic_file *af, const char *path);
/* Flush, fsync, close and rename onto the final path; on any failure the temporary file is
 * removed, the destination is untouched and NAD_ERR_IO is returned. Always releases af. */
nad_status nadi_atomic_commit(nadi_atomic_file *af);
/* Give up: close and remove the temporary file (safe after a failed open). */
void nadi_atomic_abort(nadi_atomic_file *af);

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

/* ---- PNG (libpng is used by lib/io/png.c only) ------------------------------------------- */

/* 8-bit RGB image, rows top to bottom, 3·w bytes per row; 1 <= w, h <= 2^31 - 1. Atomic. */
nad_status nadi_png_write_rgb(const char *path, int64_t w, int64_t h, const uint8_t *rgb);

enum { NADI_CMAP_DIVERGING = 0, NADI_CMAP_SEQUENTIAL = 1 };

/* Heatmap of a rows×cols matrix of doubles (row-major). Values are mapped linearly from
 * [lo, hi] to the colour map (clamped; NaN is grey); for the diverging map the middle of
 * [lo, hi] is white, so pass lo = -hi for a symmetric scale. Each cell becomes a square block
 * of pixels whose size is chosen so that the long side is about 512 px (1..32 px per cell). */
nad_status nadi_png_write_heatmap(const char *path, const double *values, int64_t rows,
                                  int64_t cols, double lo, double hi, int cmap);

/* Grid of n images of c×h×w floats, `cols` per row, each scaled up to about 64 px; c = 3 is RGB,
 * otherwise channel 0 is drawn in grey; [lo, hi] (lo < hi) maps to 0..255, clamped. Atomic
 * (images.c). */
nad_status nadi_png_write_images(const char *path, const float *x, int64_t n, int64_t c,
                                 int64_t h, int64_t w, int64_t cols, double lo, double hi);

/* Colour maps, t in [0, 1] (clamped): diverging RdBu_r with a pure white middle (t = 0.5),
 * sequential viridis. Exposed for tests and for other figures. */
void nadi_cmap_diverging(double t, uint8_t rgb[3]);
void nadi_cmap_sequential(double t, uint8_t rgb[3]);

#endif
