/* Helpers of `nad flip` and `nad align` (see probe.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probe.h"

#define PATH_LEN 4096

int probe_path(char *path, const char *dir, const char *name) {
  int n = snprintf(path, PATH_LEN, "%s/%s", dir, name);
  if (n < 0 || n >= PATH_LEN)
    return cli_error("path too long: '%s/%s'", dir, name);
  return 0;
}

int probe_read_nads(const char *arg, const int64_t shape[3], float **nads, int64_t *count,
                    char *path) {
  int64_t per = 0;
  if (cli_read_nads("--nads", arg, nads, count, &per, path, PATH_LEN) != 0)
    return CLI_ERR;
  const int64_t d = shape[0] * shape[1] * shape[2];
  if (per != d) {
    nad_free(*nads);
    *nads = NULL;
    char b[64];
    return cli_error("--nads: '%s' holds %lld NADs of D = %lld values; the data are %s = %lld "
                     "values per image (estimate the NADs with 'nad estimate ARCH --input %s')",
                     path, (long long)*count, (long long)per, cli_shape_str(shape, b, sizeof b),
                     (long long)d, b);
  }
  return 0;
}

int probe_spanning_nads(const char *nads_path, int64_t count, int64_t *used) {
  char path[PATH_LEN];
  *used = count;
  const char *slash = strrchr(nads_path, '/');
  const size_t dir_len = slash ? (size_t)(slash - nads_path) + 1 : 0;
  if (dir_len + sizeof "eigenvalues.npy" > PATH_LEN)
    return 0;
  memcpy(path, nads_path, dir_len);
  memcpy(path + dir_len, "eigenvalues.npy", sizeof "eigenvalues.npy");
  struct stat sb;
  if (stat(path, &sb) != 0)
    return 0; /* no eigenvalues: use every NAD */
  float *ev = NULL;
  int64_t shape[8];
  int32_t nd = 0;
  if (cli_npy_read("--nads", path, &ev, shape, &nd) != 0)
    return CLI_ERR;
  const int64_t n = cli_numel(shape, nd);
  if (nd == 1 && n >= 1 && ev[0] > 0) {
    int64_t k = 0;
    while (k < n && k < count && ev[k] > 1e-10f * ev[0])
      k++;
    *used = k;
  }
  nad_free(ev);
  return 0;
}

/* Replaces *ds by *nd, the result of a transformation that returned st (on failure the
 * message is printed and *ds kept). */
static int replace(nad_dataset **ds, nad_status st, nad_dataset **nd, const char *what) {
  if (st != NAD_OK)
    return cli_lib_error(st, "%s", what);
  nad_dataset_destroy(*ds);
  *ds = *nd;
  *nd = NULL;
  return 0;
}

int probe_load(const char *command, const probe_data_args *a, real_data *d) {
  memset(d, 0, sizeof *d);
  real_settings settings, *s = &settings;
  memset(s, 0, sizeof *s);
  s->data = a->data;
  s->size[0] = s->size[1] = 32;
  s->normalize = a->normalize;
  int64_t samples = 0;
  int rc;
  if ((rc = real_parse_size(command, a->size, s->size)) ||
      (rc = cli_parse_i64("samples", a->samples, 1, INT64_MAX, &samples)))
    return rc;
  const char *split = a->split;
  const int train = strcmp(split, "train") == 0;
  nad_status st = nad_dataset_load(s->data, train ? NAD_SPLIT_TRAIN : NAD_SPLIT_TEST,
                                   s->size[0], s->size[1], &d->train);
  if (st != NAD_OK)
    return cli_lib_error(st, "--data %s (%s split)", s->data, split);
  int64_t n = 0;
  nad_dataset_size(d->train, &n, d->shape);
  nad_dataset_num_classes(d->train, &d->classes);
  nad_dataset *nd = NULL;
  if (s->normalize) { /* statistics of the training split, as 'nad train --normalize' */
    nad_dataset *stats = d->train;
    if (!train && (st = nad_dataset_load(s->data, NAD_SPLIT_TRAIN, s->size[0], s->size[1],
                                         &stats)) != NAD_OK)
      rc = cli_lib_error(st, "--normalize needs the train split of %s", s->data);
    const int64_t c = d->shape[0];
    double *m = rc ? NULL : malloc(2 * (size_t)c * sizeof(double));
    if (rc == 0 && !m)
      rc = cli_error("out of memory");
    if (rc == 0 && (st = nad_dataset_channel_stats(stats, m, m + c, (size_t)c)) != NAD_OK)
      rc = cli_lib_error(st, "--normalize");
    for (int64_t i = 0; rc == 0 && i < c; i++)
      if (!(m[c + i] > 0))
        rc = cli_error("--normalize: channel %lld of the training images is constant (std 0)",
                       (long long)i);
    if (rc == 0) {
      st = nad_dataset_normalize(d->train, m, m + c, (size_t)c, &nd);
      rc = replace(&d->train, st, &nd, "--normalize");
    }
    free(m);
    if (!train) /* the extra training split loaded for the statistics (NULL if it failed) */
      nad_dataset_destroy(stats);
  }
  if (rc == 0 && samples > 0 && samples < n) {
    st = nad_dataset_subset(d->train, 0, samples, &nd);
    rc = replace(&d->train, st, &nd, "--samples");
  }
  if (rc)
    real_data_free(d);
  return rc;
}

int probe_create(const char *dir, const char *name, nadi_atomic_file *af, char *path) {
  int rc = cli_out_dir(dir);
  if (rc != 0)
    return rc;
  if (probe_path(path, dir, name) != 0)
    return CLI_ERR;
  return cli_atomic_open(af, path);
}
