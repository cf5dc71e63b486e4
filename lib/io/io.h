/* Internal file I/O: .npy arrays, PNG figures; atomic file replacement is io/atomic.h. Never
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

/* Grid of the first count NADs (count×c×h×w floats, channel 0 shown), each above its Fourier
 * power (log, fftshifted), diverging colour map. Trusts count, c, h, w >= 1 and that
 * count·c·h·w floats and h·w·40 bytes fit; refuses (NAD_ERR_INVALID_ARG) a grid that exceeds
 * PNG's side limit. */
nad_status nadi_png_write_nads(const char *path, const float *nads, int64_t count, int64_t c,
                               int64_t h, int64_t w);
/* 640×400 line plot of the n >= 1 points (x[i], y[i]) (x finite; y_lo < y_hi finite): see
 * nad_png_write_lineplot in nad.h. */
nad_status nadi_png_write_lineplot(const char *path, const double *x, const double *y, int64_t n,
                                   double y_lo, double y_hi);

/* Colour maps, t in [0, 1] (clamped): diverging RdBu_r with a pure white middle (t = 0.5),
 * sequential viridis. Exposed for tests and for other figures. */
void nadi_cmap_diverging(double t, uint8_t rgb[3]);
void nadi_cmap_sequential(double t, uint8_t rgb[3]);

#endif
