/* Labelled image datasets: the dataset body, D(v), the loaders of real data and the transformations
 * (resize, normalise, subset, poison). Never installed.
 *
 * Who does what:
 *   body.c       the body of nad_dataset: allocation, reference counting
 *   separable.c  the linearly separable distribution D(v) of the paper
 *   transform.c  placing an image into a sample (scale, zero-pad, centre-crop), resize,
 *                normalise, subset, per-channel statistics, class counts
 *   idx.c        IDX files (MNIST family): header checks, images + labels into a dataset
 *   cifar10.c    CIFAR-10 binary batches
 *   npy_data.c   .npy images + labels (through the header parser of lib/io/npy_format.c)
 *   source.c     the source names (fashion-mnist, idx:DIR, cifar10:DIR, npy:...) → files of
 *                a split → one of the loaders
 *   poison.c     NAD carriers and the poisoned training set (the paper's Section 4)
 * The loaders parse bytes in memory (lib/io/blob.c reads or gunzips whole files), so their
 * fuzz targets need no file; each validates everything before it allocates the dataset, and a
 * failure leaves nothing allocated. The public façades are lib/api/dataset*.c. */
#ifndef NADI_DATA_H
#define NADI_DATA_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/core.h"

/* Classes a dataset may have (labels 0 .. NADI_MAX_CLASSES − 1). */
#define NADI_MAX_CLASSES 65536

/* ---- the dataset body (body.c) --------------------------------------------------------------- */

/* A labelled dataset: immutable once built, shared between threads and trainers. */
struct nad_dataset {
  atomic_int_fast64_t refs;
  int64_t n, c, h, w, d; /* d = c·h·w */
  int32_t num_classes;   /* labels are in [0, num_classes) */
  float *x;              /* n·d, batch-major */
  int32_t *labels;       /* n */
};

/* Uninitialised dataset of n samples (refs = 1, num_classes 0). */
nad_status nadi_dataset_alloc(int64_t n, int64_t c, int64_t h, int64_t w, nad_dataset **out);
const nad_dataset *nadi_dataset_retain(const nad_dataset *d);
void nadi_dataset_release(const nad_dataset *d); /* frees at the last reference */

/* ---- D(v) (separable.c) ----------------------------------------------------------------------- */

/* D(v) as the reference generates it, into an allocated dataset: v is unit norm (d floats).
 * Sample i draws its noise from the stream (seed, i), so the data do not depend on threads. */
void nadi_dataset_fill_linear(nad_dataset *ds, const float *v, double epsilon, double sigma,
                              uint64_t seed);

/* ---- transformations (transform.c) ----------------------------------------------------------- */

typedef enum nadi_pixel { NADI_PIX_U8, NADI_PIX_F32, NADI_PIX_F64 } nadi_pixel;

/* Rows (or columns) of a source of size s placed into a target of size t, centred: the target
 * index of the first copied source row, the first copied source row and how many are copied. */
void nadi_center(int64_t s, int64_t t, int64_t *dst0, int64_t *src0, int64_t *count);

/* Write one c×sh×sw image (C order; floats little-endian, possibly unaligned) into dst
 * (c×th×tw floats), centred with zero padding / cropping (nadi_center per axis); unsigned
 * bytes are scaled by 1/255. */
void nadi_place_image(const uint8_t *src, nadi_pixel pix, int64_t c, int64_t sh, int64_t sw,
                      float *dst, int64_t th, int64_t tw);

/* New datasets from d (arguments validated by the façade). */
nad_status nadi_dataset_resized(const nad_dataset *d, int64_t h, int64_t w, nad_dataset **out);
nad_status nadi_dataset_normalized(const nad_dataset *d, const double *mean, const double *std,
                                   nad_dataset **out);
nad_status nadi_dataset_subset(const nad_dataset *d, int64_t first, int64_t count,
                               nad_dataset **out);
/* Per-channel mean and population std (c entries each), in double. */
void nadi_dataset_channel_stats(const nad_dataset *d, double *mean, double *std);
/* counts[0 .. num_classes) */
void nadi_dataset_class_counts(const nad_dataset *d, int64_t *counts);

/* ---- loaders (idx.c, cifar10.c, npy_data.c, source.c) ---------------------------------------- */

/* Target size of the loaded images: 0, 0 keeps the stored size. */
typedef struct nadi_target {
  int64_t h, w;
} nadi_target;

/* IDX images (N×H×W unsigned bytes) and labels (N unsigned bytes), both given as complete
 * (decompressed) file contents. classes > 0: labels must be below it (the format's class
 * count); 0: the largest label + 1. */
nad_status nadi_idx_load(const uint8_t *img, size_t img_len, const char *img_name,
                         const uint8_t *lab, size_t lab_len, const char *lab_name, int32_t classes,
                         nadi_target t, nad_dataset **out);

#define NADI_CIFAR10_SIDE 32
#define NADI_CIFAR10_RECORD (1 + 3 * NADI_CIFAR10_SIDE * NADI_CIFAR10_SIDE) /* label + R, G, B */

/* CIFAR-10 batches (complete file contents), concatenated in the order given. */
nad_status nadi_cifar10_load(const uint8_t *const *files, const size_t *lens,
                             const char *const *names, int nfiles, nadi_target t,
                             nad_dataset **out);

/* .npy images (N×H×W or N×C×H×W; |u1, <f4, <f8) and labels (N integers in [0, 65535]). */
nad_status nadi_npy_load(const uint8_t *img, size_t img_len, const char *img_name,
                         const uint8_t *lab, size_t lab_len, const char *lab_name, nadi_target t,
                         nad_dataset **out);

/* The source names of nad_dataset_load (nad.h) → files → a loader. */
nad_status nadi_dataset_load(const char *source, nad_split split, nadi_target t,
                             nad_dataset **out);

/* Where the Debian package dataset-fashion-mnist installs its files. */
#define NADI_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ---- poisoning (poison.c) -------------------------------------------------------------------- */

/* The carrier of class t (nad.h, nad_poison_carrier) into dst (c·h·w floats), its sign into
 * *sign. nads rows have h·w floats; the row index + t / (2c) exists (façade). NAD_ERR_INVALID_ARG
 * for a zero or non-finite row. */
nad_status nadi_poison_carrier(const float *nads, int64_t c, int64_t h, int64_t w, int64_t index,
                               int64_t t, float *dst, int32_t *sign);
/* The poisoned copy of d (nad.h, nad_dataset_poison); every row needed exists (façade). */
nad_status nadi_dataset_poison(const nad_dataset *d, const float *nads, int64_t index,
                               double epsilon, nad_dataset **out);

#endif
