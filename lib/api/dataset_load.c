/* Public façade of the real-data loaders and of the questions one asks a dataset (classes,
 * counts, channel statistics): validation and messages; the work is in lib/data/. */
#include "api/api.h"
#include "data/data.h"

#define MAX_SIDE 65536 /* images larger than this per side are refused as targets */

nad_status nad_dataset_load(const char *source, nad_split split, int64_t h, int64_t w,
                            nad_dataset **out) {
  NADI_CHECK(out, NAD_ERR_INVALID_ARG, "nad_dataset_load: out is NULL");
  *out = NULL;
  NADI_CHECK(source, NAD_ERR_INVALID_ARG, "nad_dataset_load: source is NULL");
  NADI_CHECK(split == NAD_SPLIT_TRAIN || split == NAD_SPLIT_TEST, NAD_ERR_INVALID_ARG,
             "nad_dataset_load: split must be NAD_SPLIT_TRAIN (0) or NAD_SPLIT_TEST (1), got %d",
             (int)split);
  NADI_CHECK((h == 0 && w == 0) || (h >= 1 && w >= 1 && h <= MAX_SIDE && w <= MAX_SIDE),
             NAD_ERR_INVALID_ARG,
             "nad_dataset_load: target size %lldx%lld: give 0x0 (stored size) or sides in "
             "1..%d", (long long)h, (long long)w, MAX_SIDE);
  return nadi_dataset_load(source, split, (nadi_target){h, w}, out);
}

nad_status nad_dataset_num_classes(const nad_dataset *d, int64_t *k) {
  NADI_CHECK(d && k, NAD_ERR_INVALID_ARG, "nad_dataset_num_classes: NULL argument");
  *k = d->num_classes;
  return NAD_OK;
}

nad_status nad_dataset_class_counts(const nad_dataset *d, int64_t *counts, size_t len) {
  NADI_CHECK(d && counts, NAD_ERR_INVALID_ARG, "nad_dataset_class_counts: NULL argument");
  NADI_CHECK_LEN("nad_dataset_class_counts", "counts (K)", len, d->num_classes);
  nadi_dataset_class_counts(d, counts);
  return NAD_OK;
}

nad_status nad_dataset_channel_stats(const nad_dataset *d, double *mean, double *std,
                                     size_t len) {
  NADI_CHECK(d && mean && std, NAD_ERR_INVALID_ARG, "nad_dataset_channel_stats: NULL argument");
  NADI_CHECK_LEN("nad_dataset_channel_stats", "mean and std (c)", len, d->c);
  nadi_dataset_channel_stats(d, mean, std);
  return NAD_OK;
}
