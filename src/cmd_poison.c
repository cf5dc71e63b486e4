/* `nad poison ARCH --data SOURCE --nads DIR --index I --epsilon E`: the paper's poisoning
 * experiment (Section 4). The training split is poisoned with NAD carriers (nad.h,
 * nad_dataset_poison: class t's component along NAD I + t / (2C) on channel t % C replaced by
 * (2(t % 2) − 1)·E), a fresh network trains on it, and the accuracy on the poisoned training set
 * and on the *clean* test split tell whether the network latched onto the carriers. Also the
 * part `nad sweep --poison` shares: one poisoned run (poison_run), the picture (poison_picture). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bias.h"
#include "poison.h"

#define CMD "poison"
#define PICTURE_MAX_CLASSES 20

int poison_run(const nad_arch *arch, const real_data *d, const real_settings *s,
               const float *nads, int64_t count, int64_t index, double epsilon, const char *label,
               int keep_params, real_result *r, nad_dataset **poisoned) {
  memset(r, 0, sizeof *r);
  nad_dataset *p = NULL;
  const int64_t hw = d->shape[1] * d->shape[2];
  nad_status st = nad_dataset_poison(d->train, nads, count, hw, index, epsilon, &p);
  if (st != NAD_OK)
    return cli_lib_error(st, "--index %lld --epsilon %g", (long long)index, epsilon);
  int rc = real_train(arch, p, d, s, label, keep_params, r);
  if (rc == 0 && poisoned)
    *poisoned = p;
  else
    nad_dataset_destroy(p);
  return rc;
}

/* Copies sample i of ds into x (d floats). */
static int sample(const nad_dataset *ds, int64_t i, float *x, int64_t d) {
  nad_dataset *one = NULL;
  nad_status st = nad_dataset_subset(ds, i, 1, &one);
  if (st == NAD_OK)
    st = nad_dataset_get(one, x, (size_t)d, NULL, 0);
  nad_dataset_destroy(one);
  return st == NAD_OK ? 0 : cli_lib_error(st, "picture");
}

/* v mapped so that 0 is mid grey and the largest magnitude in v[0..n) reaches black/white. */
static void signed_to_unit(float *v, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; i++)
    m = fabs(v[i]) > m ? fabs(v[i]) : m;
  for (int64_t i = 0; i < n; i++)
    v[i] = (float)(0.5 + (m > 0 ? v[i] / (2 * m) : 0));
}

int poison_picture(const char *path, nad_figure_format fmt, const real_data *d,
                   const nad_dataset *poisoned, const float *nads, int64_t count, int64_t index) {
  const int64_t dim = d->shape[0] * d->shape[1] * d->shape[2], hw = d->shape[1] * d->shape[2];
  const int64_t k = d->classes < PICTURE_MAX_CLASSES ? d->classes : PICTURE_MAX_CLASSES;
  int64_t n = 0;
  nad_dataset_size(d->train, &n, NULL);
  int32_t *labels = malloc((size_t)n * sizeof(int32_t));
  float *grid = calloc((size_t)(4 * k * dim), sizeof(float));
  int rc = 0;
  if (!labels || !grid) {
    rc = cli_error("out of memory");
    goto done;
  }
  nad_status st = nad_dataset_get(d->train, NULL, 0, labels, (size_t)n);
  if (st != NAD_OK) {
    rc = cli_lib_error(st, "picture");
    goto done;
  }
  /* row t: clean sample of class t, poisoned, their difference, the carrier */
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t t = 0; t < k && rc == 0; t++) {
    float *row = grid + 4 * t * dim;
    int64_t i = 0;
    while (i < n && labels[i] != t)
      i++;
    if (i < n && (rc = sample(d->train, i, row, dim)) == 0 &&
        (rc = sample(poisoned, i, row + dim, dim)) == 0) {
      for (int64_t j = 0; j < dim; j++) {
        row[2 * dim + j] = row[dim + j] - row[j];
        lo = fmin(lo, fmin(row[j], row[dim + j]));
        hi = fmax(hi, fmax(row[j], row[dim + j]));
      }
    }
    if (rc == 0 && (st = nad_poison_carrier(nads, count, hw, d->shape[0], d->shape[1],
                                            d->shape[2], index, t, row + 3 * dim,
                                            (size_t)dim, NULL)) != NAD_OK)
      rc = cli_lib_error(st, "picture");
  }
  if (rc)
    goto done;
  if (!(hi > lo))
    lo = 0, hi = 1;
  for (int64_t t = 0; t < k; t++) { /* everything into [0, 1] */
    float *row = grid + 4 * t * dim;
    for (int64_t j = 0; j < 2 * dim; j++)
      row[j] = (float)((row[j] - lo) / (hi - lo));
  }
  for (int64_t t = 0; t < k; t++) {
    signed_to_unit(grid + (4 * t + 2) * dim, dim);
    signed_to_unit(grid + (4 * t + 3) * dim, dim);
  }
  char title[96];
  snprintf(title, sizeof title, "Per class: clean, poisoned, difference, carrier (NAD %lld)",
           (long long)index);
  st = nad_figure_images(path, fmt, grid, 4 * k, d->shape[0], d->shape[1], d->shape[2], 4, 0.0,
                         1.0, title);
  if (st != NAD_OK)
    rc = cli_lib_error(st, "cannot write the picture");
done:
  free(labels);
  free(grid);
  return rc;
}

static void print_json(const char *arch, const char *nads_dir, int64_t count, int64_t index,
                       double epsilon, const real_settings *s, const real_data *d,
                       const real_result *r, const char *picture) {
  cli_json j;
  cli_json_init(&j, stdout);
  j.compact = 0; /* one line */
  cli_json_begin_object(&j, NULL);
  cli_train_json_result(&j, r, "clean_test_accuracy", "poisoned_train_accuracy");
  cli_json_int(&j, "index", index);
  cli_json_double(&j, "epsilon", epsilon);
  cli_json_string(&j, "arch", arch);
  cli_json_string(&j, "nads", nads_dir);
  cli_json_int(&j, "nad_count", count);
  cli_json_string(&j, "picture", picture);
  real_json_settings(&j, s, d);
  cli_json_int(&j, "threads", s->threads);
  cli_json_end_object(&j);
  cli_json_finish(&j);
}

int cli_cmd_poison(int argc, char **argv) {
  real_args a;
  memset(&a, 0, sizeof a);
  const char *nads_dir = NULL, *index_s = NULL, *eps_s = NULL, *out = NULL, *save = NULL;
  const char *format_s = NULL, *ext = NULL;
  nad_figure_format fmt;
  int json = 0;
  cli_opt opts[REAL_NOPTS + 7];
  real_options(&a, opts);
  opts[REAL_NOPTS] = (cli_opt){"nads", 1, &nads_dir, NULL};
  opts[REAL_NOPTS + 1] = (cli_opt){"index", 1, &index_s, NULL};
  opts[REAL_NOPTS + 2] = (cli_opt){"epsilon", 1, &eps_s, NULL};
  opts[REAL_NOPTS + 3] = (cli_opt){"out", 1, &out, NULL};
  opts[REAL_NOPTS + 4] = (cli_opt){"save", 1, &save, NULL};
  opts[REAL_NOPTS + 5] = (cli_opt){"json", 0, NULL, &json};
  opts[REAL_NOPTS + 6] = (cli_opt){"format", 1, &format_s, NULL};
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, REAL_NOPTS + 7, pos, 1, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  if ((rc = cli_parse_format(format_s, &fmt, &ext)) != 0)
    return rc;
  a.name = npos > 0 ? pos[0] : NULL;
  real_settings s;
  if ((rc = real_parse_settings(CMD, &a, &s)) != 0)
    return rc;
  if (!nads_dir)
    return cli_usage_error(CMD, "missing --nads DIR (a directory written by 'nad estimate')");
  if (!index_s)
    return cli_usage_error(CMD, "missing --index I (the first carrier NAD)");
  int64_t index = 0;
  double epsilon = 0;
  if ((rc = cli_parse_i64("index", index_s, 0, INT64_MAX, &index)) != 0 ||
      (rc = real_parse_epsilon(CMD, eps_s, &epsilon)) != 0)
    return rc;
  char picture[4096] = "";
  if (out) {
    if (snprintf(picture, sizeof picture, "%s/poison.%s", out, ext) >= (int)sizeof picture)
      return cli_error("--out: path too long: '%s'", out);
    if (cli_mkdir_p(out) != 0)
      return cli_error("--out: cannot create directory '%s'", out);
  }
  real_data d;
  if ((rc = real_load(&s, &d)) != 0)
    return rc;
  nad_arch *arch = NULL;
  float *nads = NULL;
  int64_t count = 0;
  real_result r = {0};
  nad_dataset *poisoned = NULL;
  if ((rc = real_make_arch(CMD, &a, &d, &arch)) != 0 ||
      (rc = real_read_nads(nads_dir, &d, &nads, &count)) != 0)
    goto done;
  cli_signals_install();
  rc = poison_run(arch, &d, &s, nads, count, index, epsilon, "", save != NULL, &r,
                  out ? &poisoned : NULL);
  cli_signals_restore();
  if (rc != 0)
    goto done;
  if (out && (rc = poison_picture(picture, fmt, &d, poisoned, nads, count, index)) != 0)
    goto done;
  if (save) {
    int64_t shape[1] = {r.num_params};
    nad_status st = nad_npy_write(save, r.params, 0, shape, 1);
    if (st != NAD_OK) {
      rc = cli_lib_error(st, "--save");
      goto done;
    }
  }
  if (json)
    print_json(nad_arch_name(arch), nads_dir, count, index, epsilon, &s, &d, &r,
               out ? picture : NULL);
  else
    printf("NAD %lld, epsilon %g: clean test accuracy %.2f %%, poisoned training accuracy "
           "%.2f %% (%lld epochs, %.1f s)%s%s\n", (long long)index, epsilon, r.test_acc,
           r.train_acc, (long long)r.epochs_done, r.seconds, out ? "; picture " : "",
           out ? picture : "");
done:
  cli_train_result_free(&r);
  nad_dataset_destroy(poisoned);
  nad_free(nads);
  nad_arch_destroy(arch);
  real_data_free(&d);
  return rc;
}
