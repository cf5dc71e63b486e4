/* `nad flip ARCH --params P --data SOURCE --nads DIR --indices A:B`: how a trained network's
 * predictions change when the test images' components along a band of NADs change sign (or are
 * removed); optionally a sweep over bands (CSV + line plot) and pictures of the images. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

#define CMD "flip"
#define PATH_LEN 4096

typedef struct flip_args {
  real_args ra; /* name, spec_file, spec_string used */
  probe_data_args da;
  const char *params, *nads, *indices, *op, *sweep, *out, *pictures, *format;
  int json, quiet;
  nad_figure_format fmt;
  const char *ext; /* the figures' file extension */
} flip_args;

typedef struct band_result {
  int64_t first, last;
  double before, after, changed, l2, psnr;
} band_result;

static int parse(int argc, char **argv, flip_args *a) {
  memset(a, 0, sizeof *a);
  const cli_opt opts[] = {
      {"spec", 1, &a->ra.spec_file, NULL},  {"spec-string", 1, &a->ra.spec_string, NULL},
      {"params", 1, &a->params, NULL},      {"data", 1, &a->da.data, NULL},
      {"nads", 1, &a->nads, NULL},          {"indices", 1, &a->indices, NULL},
      {"op", 1, &a->op, NULL},              {"sweep", 1, &a->sweep, NULL},
      {"split", 1, &a->da.split, NULL},     {"size", 1, &a->da.size, NULL},
      {"samples", 1, &a->da.samples, NULL}, {"normalize", 0, NULL, &a->da.normalize},
      {"out", 1, &a->out, NULL},            {"pictures", 1, &a->pictures, NULL},
      {"json", 0, NULL, &a->json},          {"quiet", 0, NULL, &a->quiet},
      {"format", 1, &a->format, NULL},
  };
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), pos, 1, &npos);
  if (rc || (rc = cli_parse_format(a->format, &a->fmt, &a->ext)) != 0)
    return rc;
  a->ra.name = npos > 0 ? pos[0] : NULL;
  const cli_arch_opts ao = {a->ra.name, NULL, NULL, a->ra.spec_file, a->ra.spec_string,
                            NULL};
  if ((rc = cli_need_arch(CMD, &ao, "ARCH")) != 0)
    return rc;
  if (!a->params)
    return cli_usage_error(CMD, "missing --params P.npy (a trained network, e.g. from "
                                "'nad train ARCH --save P.npy')");
  if (!a->da.data)
    return cli_usage_error(CMD, "missing --data SOURCE");
  if (!a->nads)
    return cli_usage_error(CMD, "missing --nads DIR (from 'nad estimate')");
  if (!a->indices)
    return cli_usage_error(CMD, "missing --indices A:B (the band of NADs, B excluded)");
  if (a->op && strcmp(a->op, "flip") != 0 && strcmp(a->op, "remove") != 0)
    return cli_usage_error(CMD, "--op: 'flip' or 'remove', got '%s'", a->op);
  if (a->da.split && strcmp(a->da.split, "test") != 0 && strcmp(a->da.split, "train") != 0)
    return cli_usage_error(CMD, "--split: 'test' or 'train', got '%s'", a->da.split);
  if (!a->da.split)
    a->da.split = "test";
  return 0;
}

static int evaluate(nad_net *net, const nad_dataset *ds, const float *nads, int64_t count,
                    int64_t d, int64_t first, int64_t last, nad_band_op op, band_result *r) {
  r->first = first;
  r->last = last;
  nad_status st = nad_band_evaluate(net, ds, nads, count, d, first, last, op, &r->before,
                                    &r->after, &r->changed, &r->l2, &r->psnr);
  return st == NAD_OK ? 0 : cli_lib_error(st, "--indices %lld:%lld", (long long)first,
                                          (long long)last);
}

/* DIR/samples.F (first row the originals, second the modified images, one grey scale from
 * the smallest to the largest value shown) and
 * DIR/change.F (the changes, symmetric scale around 0); F = --format. */
static int write_pictures(const flip_args *a, const nad_dataset *ds, const float *nads,
                          int64_t count, int64_t first, int64_t last, nad_band_op op,
                          int64_t pictures) {
  const char *dir = a->out;
  char name[2][32], title[2][160];
  snprintf(name[0], sizeof name[0], "samples.%s", a->ext);
  snprintf(name[1], sizeof name[1], "change.%s", a->ext);
  snprintf(title[0], sizeof title[0], "Top: originals; bottom: NADs %lld..%lld %s",
           (long long)first, (long long)(last - 1), op == NAD_BAND_FLIP ? "flipped" : "removed");
  snprintf(title[1], sizeof title[1], "Change (mid grey = 0)");
  int64_t n = 0, shape[3];
  nad_dataset_size(ds, &n, shape);
  const int64_t d = shape[0] * shape[1] * shape[2], p = pictures < n ? pictures : n;
  float *all = malloc((size_t)(n * d) * sizeof(float));
  float *pair = malloc((size_t)(2 * p * d) * sizeof(float));
  float *delta = malloc((size_t)(p * d) * sizeof(float));
  char path[PATH_LEN];
  int rc = 0;
  nad_status st = NAD_OK;
  if (!all || !pair || !delta)
    rc = cli_error("out of memory for the pictures");
  if (rc == 0 && (st = nad_dataset_get(ds, all, (size_t)(n * d), NULL, 0)) != NAD_OK)
    rc = cli_lib_error(st, "pictures");
  if (rc == 0) {
    memcpy(pair, all, (size_t)(p * d) * sizeof(float));
    st = nad_band_apply(nads, count, d, first, last, op, all, p, pair + p * d,
                        (size_t)(p * d));
    if (st != NAD_OK)
      rc = cli_lib_error(st, "pictures");
  }
  if (rc == 0) {
    /* One grey scale for both rows, wide enough for the modified values too. */
    float lo = all[0], hi = all[0], big = 0.0f;
    for (int64_t i = 0; i < 2 * p * d; i++) {
      lo = pair[i] < lo ? pair[i] : lo;
      hi = pair[i] > hi ? pair[i] : hi;
    }
    for (int64_t i = 0; i < p * d; i++) {
      delta[i] = pair[p * d + i] - pair[i];
      big = fabsf(delta[i]) > big ? fabsf(delta[i]) : big;
    }
    if (!(hi > lo))
      hi = lo + 1.0f;
    if (!(big > 0.0f))
      big = 1.0f;
    const int64_t c = shape[0] == 3 ? 3 : 1;
    if (shape[0] != 1 && shape[0] != 3)
      rc = cli_error("pictures need 1 or 3 channels, the data have %lld (use --pictures 0)",
                     (long long)shape[0]);
    if (rc == 0 && (rc = probe_path(path, dir, name[0])) == 0 &&
        (st = nad_figure_images(path, a->fmt, pair, 2 * p, c, shape[1], shape[2], p, lo, hi,
                                title[0])) != NAD_OK)
      rc = cli_lib_error(st, "cannot write '%s'", path);
    if (rc == 0 && (rc = probe_path(path, dir, name[1])) == 0 &&
        (st = nad_figure_images(path, a->fmt, delta, p, c, shape[1], shape[2], p, -big, big,
                                title[1])) != NAD_OK)
      rc = cli_lib_error(st, "cannot write '%s'", path);
  }
  free(all);
  free(pair);
  free(delta);
  return rc;
}

/* DIR/sweep.csv and DIR/sweep.F (accuracy after the operation against the band's first
 * NAD, and the accuracy before as a reference line). */
static int write_sweep(const flip_args *a, nad_band_op op, const band_result *b, int64_t nb) {
  const char *dir = a->out;
  char path[PATH_LEN];
  nadi_atomic_file af;
  if (probe_create(dir, "sweep.csv", &af, path) != 0)
    return CLI_ERR;
  FILE *f = af.fp;
  fprintf(f, "first,last,accuracy_before,accuracy_after,changed_fraction,l2,psnr\n");
  for (int64_t i = 0; i < nb; i++)
    fprintf(f, "%lld,%lld,%.4f,%.4f,%.6f,%.6g,%.6g\n", (long long)b[i].first,
            (long long)b[i].last, b[i].before, b[i].after, b[i].changed, b[i].l2, b[i].psnr);
  if (cli_atomic_commit(&af) != 0) /* message printed */
    return CLI_ERR;
  double *x = malloc((size_t)nb * sizeof(double)), *y = malloc((size_t)nb * 2 * sizeof(double));
  if (!x || !y) {
    free(x);
    free(y);
    return cli_error("out of memory");
  }
  for (int64_t i = 0; i < nb; i++) {
    x[i] = (double)b[i].first;
    y[i] = b[i].after;
    y[nb + i] = b[i].before;
  }
  char name[32], title[160];
  snprintf(name, sizeof name, "sweep.%s", a->ext);
  snprintf(title, sizeof title, "Accuracy with bands of %lld NADs %s",
           (long long)(b[0].last - b[0].first), op == NAD_BAND_FLIP ? "flipped" : "removed");
  int rc = probe_path(path, dir, name);
  nad_status st;
  if (rc == 0 && (st = nad_figure_lines(path, a->fmt, x, y, nb, 2, 0.0, 100.0, title,
                                        "first NAD of the band", "accuracy (%)",
                                        "after\nbefore")) != NAD_OK)
    rc = cli_lib_error(st, "cannot write '%s'", path);
  free(x);
  free(y);
  return rc;
}

static void put_band(cli_json *j, const band_result *r) {
  cli_json_double(j, "accuracy_after", r->after);
  cli_json_double(j, "changed_fraction", r->changed);
  cli_json_double(j, "l2", r->l2);
  cli_json_double(j, "psnr", r->psnr);
}

static void print_json(const flip_args *a, const char *arch, int64_t n, int64_t count,
                       const band_result *all, const band_result *sw, int64_t nb) {
  cli_json j;
  cli_json_init(&j, stdout);
  j.compact = 0; /* one line */
  cli_json_begin_object(&j, NULL);
  cli_json_double(&j, "accuracy_before", all->before);
  put_band(&j, all);
  cli_json_begin_array(&j, "indices", 1);
  cli_json_int(&j, NULL, all->first);
  cli_json_int(&j, NULL, all->last);
  cli_json_end_array(&j);
  cli_json_string(&j, "op", a->op ? a->op : "flip");
  cli_json_string(&j, "arch", arch);
  cli_json_string(&j, "params", a->params);
  cli_json_string(&j, "data", a->da.data);
  cli_json_string(&j, "split", a->da.split);
  cli_json_int(&j, "samples", n);
  cli_json_int(&j, "nads", count);
  if (sw) {
    cli_json_begin_array(&j, "sweep", 0);
    for (int64_t i = 0; i < nb; i++) {
      cli_json_begin_object(&j, NULL);
      cli_json_int(&j, "first", sw[i].first);
      cli_json_int(&j, "last", sw[i].last);
      put_band(&j, &sw[i]);
      cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
  }
  cli_json_end_object(&j);
  cli_json_finish(&j);
}

int cli_cmd_flip(int argc, char **argv) {
  flip_args a;
  int rc = parse(argc, argv, &a);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  static const cli_range_rule band_rule = {
      CLI_RANGE_AB, "A:B with 0 <= A < B (NAD indices, B excluded)", "NADs", 0};
  int64_t sweep = 0, pictures = 8;
  cli_range band;
  if ((rc = cli_parse_i64("sweep", a.sweep, 1, INT32_MAX, &sweep)) ||
      (rc = cli_parse_i64("pictures", a.pictures, 0, 64, &pictures)) ||
      (rc = cli_parse_range(CMD, "indices", a.indices, &band_rule, &band)))
    return rc;
  const int64_t first = band.a, last = band.b;
  const nad_band_op op = a.op && strcmp(a.op, "remove") == 0 ? NAD_BAND_REMOVE : NAD_BAND_FLIP;
  real_data d;
  if ((rc = probe_load(CMD, &a.da, &d)) != 0)
    return rc;
  nad_arch *arch = NULL;
  nad_net *net = NULL;
  float *params = NULL, *nads = NULL;
  band_result all, *bands = NULL;
  int64_t nb = 0, count = 0, n = 0, np = 0, shape[8];
  int32_t nd = 0;
  nad_status st;
  const nad_dataset *ds = d.train; /* the probed split */
  nad_dataset_size(ds, &n, NULL);
  if ((rc = real_make_arch(CMD, &a.ra, &d, &arch)) != 0 ||
      (rc = cli_npy_read("--params", a.params, &params, shape, &nd)) != 0)
    goto done;
  nad_arch_num_params(arch, &np);
  if (cli_numel(shape, nd) != np) {
    char b[64];
    rc = cli_error("--params '%s' has %lld values, %s for %s data with %lld classes has %lld "
                   "parameters", a.params, (long long)cli_numel(shape, nd), nad_arch_name(arch),
                   cli_shape_str(d.shape, b, sizeof b), (long long)d.classes, (long long)np);
    goto done;
  }
  if ((st = nad_net_create_from_params(arch, params, (size_t)np, &net)) != NAD_OK) {
    rc = cli_lib_error(st, "--params '%s'", a.params);
    goto done;
  }
  char nads_path[PATH_LEN];
  if ((rc = probe_read_nads(a.nads, d.shape, &nads, &count, nads_path)) != 0)
    goto done;
  const int64_t dim = d.shape[0] * d.shape[1] * d.shape[2];
  if (last > count) {
    rc = cli_error("--indices %lld:%lld: past the last NAD (the file has %lld: indices 0..%lld)",
                   (long long)first, (long long)last, (long long)count, (long long)(count - 1));
    goto done;
  }
  if ((rc = evaluate(net, ds, nads, count, dim, first, last, op, &all)) != 0)
    goto done;
  if (!a.quiet)
    printf("%s on %lld %s images of %s, NADs %lld..%lld %s: accuracy %.2f %% -> %.2f %%, "
           "%.2f %% of predictions changed, mean L2 of the change %.4g, PSNR %.2f dB\n",
           nad_arch_name(arch), (long long)n, a.da.split, a.da.data, (long long)first,
           (long long)(last - 1), op == NAD_BAND_FLIP ? "flipped" : "removed", all.before,
           all.after, 100.0 * all.changed, all.l2, all.psnr);
  if (sweep > 0) {
    nb = (last - first + sweep - 1) / sweep;
    bands = calloc((size_t)nb, sizeof *bands);
    if (!bands) {
      rc = cli_error("out of memory");
      goto done;
    }
    for (int64_t i = 0; i < nb && rc == 0; i++) {
      const int64_t lo = first + i * sweep, hi = lo + sweep < last ? lo + sweep : last;
      rc = evaluate(net, ds, nads, count, dim, lo, hi, op, &bands[i]);
      if (rc == 0 && !a.quiet)
        fprintf(stderr, "band %lld..%lld: accuracy %.2f %%, changed %.2f %%\n", (long long)lo,
                (long long)(hi - 1), bands[i].after, 100.0 * bands[i].changed);
    }
    if (rc == 0 && a.out)
      rc = write_sweep(&a, op, bands, nb);
  }
  if (rc == 0 && a.out && pictures > 0) {
    if ((rc = cli_out_dir(a.out)) == 0)
      rc = write_pictures(&a, ds, nads, count, first, last, op, pictures);
  }
  if (rc == 0 && a.json)
    print_json(&a, nad_arch_name(arch), n, count, &all, bands, nb);
done:
  free(bands);
  nad_free(nads);
  nad_free(params);
  nad_net_destroy(net);
  nad_arch_destroy(arch);
  real_data_free(&d);
  return rc;
}
