/* Shared by `nad flip` and `nad align` (cmd_flip.c, cmd_align.c): a NAD file for the data's
 * dimension, the data split they probe, CSV rows. */
#ifndef NAD_CLI_PROBE_H
#define NAD_CLI_PROBE_H

#include "realdata.h"

/* --nads DIR (DIR/nads.npy, as 'nad estimate' writes it) or FILE.npy (cli_read_nads; the path
 * read into path[4096]): count rows of D = C·H·W values, D being the data's (shape); the file's D
 * must match (a NAD file of other inputs is named with both shapes). *nads is freed with
 * nad_free. 0 or CLI_ERR (message printed). */
int probe_read_nads(const char *arg, const int64_t shape[3], float **nads, int64_t *count,
                    char *path);

/* NADs of the file read by probe_read_nads (nads_path) that span the covariance: with
 * eigenvalues.npy beside it, the leading ones whose eigenvalue exceeds 1e-10 × the largest
 * (from N networks only N − 1 are determined; the others are an arbitrary basis of the null
 * space, in no meaningful order); without it, all `count`. 0 or CLI_ERR. */
int probe_spanning_nads(const char *nads_path, int64_t count, int64_t *used);

/* The data options shared by flip and align, as given (NULL when absent). */
typedef struct probe_data_args {
  const char *data, *split, *size, *samples;
  int normalize;
} probe_data_args;

/* The probed split of a->data ("train" or "test"; a source without the other split is fine), at
 * --size (default 32x32, as 'nad train'), its first --samples images (default all), normalised
 * with the training split's channel statistics with --normalize (as 'nad train --normalize').
 * d->train holds the split, d->test is NULL; shape and classes are the split's. 0, CLI_USAGE
 * or CLI_ERR (message printed). */
int probe_load(const char *command, const probe_data_args *a, real_data *d);

/* DIR/NAME into path (4096 bytes); 0 or CLI_ERR when too long. */
int probe_path(char *path, const char *dir, const char *name);

/* Opens DIR/NAME for atomic replacement (lib/common/atomic.c) after creating DIR: write to af->fp,
 * then cli_atomic_commit(af). 0, or CLI_ERR (message printed). */
int probe_create(const char *dir, const char *name, nadi_atomic_file *af, char *path);

#endif
