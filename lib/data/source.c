/* Source names → the files of a split → a loader (nad.h, nad_dataset_load):
 *   fashion-mnist | idx:DIR | cifar10:DIR | npy:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]
 * Files are read whole (lib/io/blob.c: mmap, or gunzip), all of a split before any parsing,
 * and released before returning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data.h"
#include "io/io.h"

#define PATH_MAX_LEN 4096
#define CIFAR_TRAIN_BATCHES 5

static const char *const FORMS =
    "fashion-mnist, idx:DIR, cifar10:DIR or npy:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]";

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode);
}

static int is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static nad_status join(char *dst, const char *dir, const char *name, const char *suffix) {
  int n = snprintf(dst, PATH_MAX_LEN, "%s/%s%s", dir, name, suffix);
  NADI_CHECK(n > 0 && n < PATH_MAX_LEN, NAD_ERR_INVALID_ARG, "path too long: '%s/%s%s'", dir,
             name, suffix);
  return NAD_OK;
}

/* DIR/NAME or DIR/NAME.gz, whichever exists (the uncompressed one first). */
static nad_status find_idx(const char *source, const char *dir, const char *name, char *path) {
  NADI_TRY(join(path, dir, name, ""));
  if (exists(path))
    return NAD_OK;
  NADI_TRY(join(path, dir, name, ".gz"));
  if (exists(path))
    return NAD_OK;
  return nadi_fail(NAD_ERR_IO, "%s: no %s or %s.gz in '%s'", source, name, name, dir);
}

static nad_status load_idx(const char *source, const char *dir, nad_split split,
                           int32_t classes, nadi_target t, nad_dataset **out) {
  NADI_CHECK(is_dir(dir), NAD_ERR_IO, "%s: '%s' is not a directory", source, dir);
  const char *prefix = split == NAD_SPLIT_TRAIN ? "train" : "t10k";
  char name[64], img_path[PATH_MAX_LEN], lab_path[PATH_MAX_LEN];
  snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
  NADI_TRY(find_idx(source, dir, name, img_path));
  snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
  NADI_TRY(find_idx(source, dir, name, lab_path));
  nadi_blob img = {0}, lab = {0};
  nad_status st = nadi_blob_read(img_path, &img);
  if (st == NAD_OK)
    st = nadi_blob_read(lab_path, &lab);
  if (st == NAD_OK)
    st = nadi_idx_load(img.data, img.len, img_path, lab.data, lab.len, lab_path, classes, t, out);
  nadi_blob_free(&img);
  nadi_blob_free(&lab);
  return st;
}

static nad_status load_cifar10(const char *source, const char *dir, nad_split split,
                               nadi_target t, nad_dataset **out) {
  NADI_CHECK(is_dir(dir), NAD_ERR_IO, "%s: '%s' is not a directory", source, dir);
  char sub[PATH_MAX_LEN], probe[PATH_MAX_LEN];
  const char *base = dir; /* the archive unpacks into cifar-10-batches-bin/ */
  NADI_TRY(join(probe, dir, "test_batch.bin", ""));
  NADI_TRY(join(sub, dir, "cifar-10-batches-bin", ""));
  if (!exists(probe) && is_dir(sub))
    base = sub;
  const int nfiles = split == NAD_SPLIT_TRAIN ? CIFAR_TRAIN_BATCHES : 1;
  char paths[CIFAR_TRAIN_BATCHES][PATH_MAX_LEN];
  for (int f = 0; f < nfiles; f++) {
    char name[32];
    if (split == NAD_SPLIT_TRAIN)
      snprintf(name, sizeof name, "data_batch_%d.bin", f + 1);
    else
      snprintf(name, sizeof name, "test_batch.bin");
    NADI_TRY(join(paths[f], base, name, ""));
    NADI_CHECK(exists(paths[f]), NAD_ERR_IO,
               "%s: missing %s in '%s' (the CIFAR-10 binary version has data_batch_1.bin .. "
               "data_batch_5.bin and test_batch.bin)", source, name, base);
  }
  nadi_blob blobs[CIFAR_TRAIN_BATCHES];
  memset(blobs, 0, sizeof blobs);
  const uint8_t *data[CIFAR_TRAIN_BATCHES];
  size_t lens[CIFAR_TRAIN_BATCHES];
  const char *names[CIFAR_TRAIN_BATCHES];
  nad_status st = NAD_OK;
  for (int f = 0; f < nfiles && st == NAD_OK; f++) {
    st = nadi_blob_read(paths[f], &blobs[f]);
    data[f] = blobs[f].data;
    lens[f] = blobs[f].len;
    names[f] = paths[f];
  }
  if (st == NAD_OK)
    st = nadi_cifar10_load(data, lens, names, nfiles, t, out);
  for (int f = 0; f < nfiles; f++)
    nadi_blob_free(&blobs[f]);
  return st;
}

/* npy:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS] */
static nad_status load_npy(const char *source, const char *list, nad_split split, nadi_target t,
                           nad_dataset **out) {
  char paths[4][PATH_MAX_LEN];
  int n = 0;
  const char *p = list;
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    NADI_CHECK(n < 4, NAD_ERR_INVALID_ARG,
               "'%s': npy: takes 2 or 4 comma-separated files (IMAGES,LABELS[,TEST_IMAGES,"
               "TEST_LABELS])", source);
    NADI_CHECK(len > 0 && len < PATH_MAX_LEN, NAD_ERR_INVALID_ARG,
               "'%s': file %d of npy: is empty or too long", source, n + 1);
    memcpy(paths[n], p, len);
    paths[n][len] = '\0';
    n++;
    if (!comma)
      break;
    p = comma + 1;
  }
  NADI_CHECK(n == 2 || n == 4, NAD_ERR_INVALID_ARG,
             "'%s': npy: takes 2 or 4 comma-separated files (IMAGES,LABELS[,TEST_IMAGES,"
             "TEST_LABELS]), got %d", source, n);
  NADI_CHECK(split == NAD_SPLIT_TRAIN || n == 4, NAD_ERR_INVALID_ARG,
             "'%s' has no test split: name the test files too (npy:IMAGES,LABELS,TEST_IMAGES,"
             "TEST_LABELS)", source);
  const char *ip = paths[split == NAD_SPLIT_TRAIN ? 0 : 2];
  const char *lp = paths[split == NAD_SPLIT_TRAIN ? 1 : 3];
  nadi_blob img = {0}, lab = {0};
  nad_status st = nadi_blob_read(ip, &img);
  if (st == NAD_OK)
    st = nadi_blob_read(lp, &lab);
  if (st == NAD_OK)
    st = nadi_npy_load(img.data, img.len, ip, lab.data, lab.len, lp, t, out);
  nadi_blob_free(&img);
  nadi_blob_free(&lab);
  return st;
}

nad_status nadi_dataset_load(const char *source, nad_split split, nadi_target t,
                             nad_dataset **out) {
  *out = NULL;
  if (strcmp(source, "fashion-mnist") == 0) {
    NADI_CHECK(is_dir(NADI_FASHION_MNIST_DIR), NAD_ERR_IO,
               "fashion-mnist: '%s' not found: install the Debian package dataset-fashion-mnist "
               "(or name IDX files with idx:DIR)", NADI_FASHION_MNIST_DIR);
    return load_idx(source, NADI_FASHION_MNIST_DIR, split, 10, t, out);
  }
  if (strncmp(source, "idx:", 4) == 0 && source[4])
    return load_idx(source, source + 4, split, 0, t, out);
  if (strncmp(source, "cifar10:", 8) == 0 && source[8])
    return load_cifar10(source, source + 8, split, t, out);
  if (strncmp(source, "npy:", 4) == 0 && source[4])
    return load_npy(source, source + 4, split, t, out);
  return nadi_fail(NAD_ERR_INVALID_ARG, "unknown dataset source '%s': expected %s", source, FORMS);
}
