/* `nad align --nads DIR --data SOURCE`: how much of a dataset's class-discriminative energy an
 * architecture's top-k NADs capture (nad_align), as a curve over k and one score, for the
 * between-class scatter of the class means and for the linear-discriminant directions. */
#include <stdlib.h>
#include <string.h>

#include "probe.h"

#define CMD "align"
#define PATH_LEN 4096

typedef struct align_args {
  probe_data_args da;
  const char *nads, *ridge, *out, *top, *format;
  int json, quiet;
  nad_figure_format fmt;
  const char *ext; /* the figures' file extension */
} align_args;

static int parse(int argc, char **argv, align_args *a) {
  memset(a, 0, sizeof *a);
  const cli_opt opts[] = {
      {"nads", 1, &a->nads, NULL},          {"data", 1, &a->da.data, NULL},
      {"split", 1, &a->da.split, NULL},     {"size", 1, &a->da.size, NULL},
      {"samples", 1, &a->da.samples, NULL}, {"normalize", 0, NULL, &a->da.normalize},
      {"ridge", 1, &a->ridge, NULL},     {"out", 1, &a->out, NULL},
      {"top", 1, &a->top, NULL},           {"format", 1, &a->format, NULL},
      {"json", 0, NULL, &a->json},       {"quiet", 0, NULL, &a->quiet},
  };
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), NULL, 0, &npos);
  if (rc || (rc = cli_parse_format(a->format, &a->fmt, &a->ext)) != 0)
    return rc;
  if (!a->nads)
    return cli_usage_error(CMD, "missing --nads DIR (from 'nad estimate')");
  if (!a->da.data)
    return cli_usage_error(CMD, "missing --data SOURCE");
  if (a->da.split && strcmp(a->da.split, "test") != 0 && strcmp(a->da.split, "train") != 0)
    return cli_usage_error(CMD, "--split: 'train' or 'test', got '%s'", a->da.split);
  if (!a->da.split)
    a->da.split = "train";
  return 0;
}

static int write_outputs(const align_args *a, const double *between, const double *lda,
                         int64_t count, int64_t d) {
  const char *dir = a->out;
  char path[PATH_LEN];
  nadi_atomic_file af;
  if (probe_create(dir, "align.csv", &af, path) != 0)
    return CLI_ERR;
  FILE *f = af.fp;
  fprintf(f, "k,between,discriminant,random\n");
  for (int64_t k = 1; k <= count; k++)
    fprintf(f, "%lld,%.8f,%.8f,%.8f\n", (long long)k, between[k - 1], lda[k - 1],
            (double)k / (double)d);
  if (cli_atomic_commit(&af) != 0) /* message printed */
    return CLI_ERR;
  /* each curve with the random-direction baseline k/D as the second series */
  double *x = malloc((size_t)count * 3 * sizeof(double)), *y = x + count;
  if (!x)
    return cli_error("out of memory");
  for (int64_t k = 1; k <= count; k++) {
    x[k - 1] = (double)k;
    y[count + k - 1] = (double)k / (double)d;
  }
  int rc = 0;
  nad_status st;
  const char *names[2] = {"align_between", "align_discriminant"};
  const char *titles[2] = {"Between-class energy of the data captured by the top-k NADs",
                           "Linear-discriminant energy of the data captured by the top-k NADs"};
  const double *curves[2] = {between, lda};
  for (int i = 0; i < 2 && rc == 0; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.%s", names[i], a->ext);
    memcpy(y, curves[i], (size_t)count * sizeof(double));
    if ((rc = probe_path(path, dir, name)) == 0 &&
        (st = nad_figure_lines(path, a->fmt, x, y, count, 2, 0.0, 1.0, titles[i],
                               "k (number of NADs)", "captured fraction a(k)",
                               "NADs\nrandom directions (k/D)")) != NAD_OK)
      rc = cli_lib_error(st, "cannot write '%s'", path);
  }
  free(x);
  return rc;
}

static void put_curve(cli_json *j, const char *key, const double *c, int64_t n) {
  cli_json_begin_array(j, key, 1);
  for (int64_t i = 0; i < n; i++)
    cli_json_double(j, NULL, c[i]);
  cli_json_end_array(j);
}

int cli_cmd_align(int argc, char **argv) {
  align_args a;
  int rc = parse(argc, argv, &a);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  int64_t top = INT64_MAX;
  double ridge = 0.01;
  if ((rc = cli_parse_i64("top", a.top, 1, INT64_MAX, &top)) ||
      (a.ridge && (rc = cli_parse_double_pos("ridge", a.ridge, &ridge))))
    return rc;
  real_data d;
  if ((rc = probe_load(CMD, &a.da, &d)) != 0)
    return rc;
  float *nads = NULL;
  double *between = NULL, *lda = NULL, score = 0, lda_score = 0;
  int64_t count = 0, n = 0, stored = 0;
  const nad_dataset *ds = d.train; /* the probed split */
  nad_dataset_size(ds, &n, NULL);
  const int64_t dim = d.shape[0] * d.shape[1] * d.shape[2];
  char nads_path[PATH_LEN];
  if ((rc = probe_read_nads(a.nads, d.shape, &nads, &stored, nads_path)) != 0 ||
      (rc = probe_spanning_nads(nads_path, stored, &count)) != 0)
    goto done;
  if (count < 1) {
    rc = cli_error("--nads %s: every eigenvalue in eigenvalues.npy is zero", a.nads);
    goto done;
  }
  count = count < top ? count : top;
  between = malloc((size_t)count * sizeof(double));
  lda = malloc((size_t)count * sizeof(double));
  if (!between || !lda) {
    rc = cli_error("out of memory");
    goto done;
  }
  nad_status st = nad_align(ds, nads, count, dim, NAD_ALIGN_BETWEEN, ridge, between,
                            (size_t)count, &score);
  if (st == NAD_OK)
    st = nad_align(ds, nads, count, dim, NAD_ALIGN_DISCRIMINANT, ridge, lda, (size_t)count,
                   &lda_score);
  if (st != NAD_OK) {
    rc = cli_lib_error(st, "--nads %s with --data %s", a.nads, a.da.data);
    goto done;
  }
  const double random = (double)(dim + 1) / (2.0 * (double)dim);
  if (a.out && (rc = write_outputs(&a, between, lda, count, dim)) != 0)
    goto done;
  if (!a.quiet) {
    printf("%lld NADs of D = %lld (of %lld in the file) against %lld %s images of %s "
           "(%lld classes)\n", (long long)count, (long long)dim, (long long)stored,
           (long long)n, a.da.split, a.da.data, (long long)d.classes);
    printf("score (area under the energy curve; random directions %.4f): between-class %.4f, "
           "linear discriminant %.4f\n", random, score, lda_score);
    const int64_t ks[] = {1, 10, 50, 100};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
      if (ks[i] <= count)
        printf("  top-%lld NADs hold %.2f %% of the between-class energy (random %.2f %%), "
               "%.2f %% of the discriminant's\n", (long long)ks[i], 100.0 * between[ks[i] - 1],
               100.0 * (double)ks[i] / (double)dim, 100.0 * lda[ks[i] - 1]);
  }
  if (a.json) {
    cli_json j;
    cli_json_init(&j, stdout);
    j.compact = 0;
    cli_json_begin_object(&j, NULL);
    cli_json_double(&j, "score", score);
    put_curve(&j, "curve", between, count);
    cli_json_double(&j, "discriminant_score", lda_score);
    put_curve(&j, "discriminant_curve", lda, count);
    cli_json_double(&j, "random_score", random);
    cli_json_int(&j, "d", dim);
    cli_json_int(&j, "nads", count);
    cli_json_int(&j, "nads_in_file", stored);
    cli_json_string(&j, "data", a.da.data);
    cli_json_string(&j, "split", a.da.split);
    cli_json_int(&j, "samples", n);
    cli_json_int(&j, "classes", d.classes);
    cli_json_double(&j, "ridge", ridge);
    cli_json_end_object(&j);
    cli_json_finish(&j);
  }
done:
  free(between);
  free(lda);
  nad_free(nads);
  real_data_free(&d);
  return rc;
}
