/* `nad compare A B`: subspace overlaps and log-spectrum correlation of two NAD sets. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define CMD "compare"
#define PATH_LEN 4096

typedef struct nad_set {
  const char *label; /* "A" or "B" */
  const char *arg;
  float *nads;    /* rows × d */
  double *evals;  /* count, covariance eigenvalues up to a common factor */
  int64_t rows, d, count;
  int squared;    /* eigenvalues were PCA singular values, squared here */
  int64_t input[3]; /* C×H×W from the run's summary.json, when there is one */
  int has_input;
} nad_set;

static int has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Resolves the argument into the NADs file, the eigenvalues file and whether the eigenvalues
 * are singular values (reference files: X_NADs.npy + X_eigenvals.npy). */
static int resolve(const char *arg, char *nads_path, char *evals_path, int *squared) {
  struct stat sb;
  *squared = 0;
  if (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    if (snprintf(nads_path, PATH_LEN, "%s/nads.npy", arg) >= PATH_LEN ||
        snprintf(evals_path, PATH_LEN, "%s/eigenvalues.npy", arg) >= PATH_LEN)
      return cli_error("path too long: '%s'", arg);
    static const char *const set[] = {"nads.npy", "eigenvalues.npy"};
    return cli_check_run_dir(arg, set, 2); /* one complete run, not a mix */
  }
  size_t n = strlen(arg);
  if (n + 16 >= PATH_LEN)
    return cli_error("path too long: '%s'", arg);
  strcpy(nads_path, arg);
  if (has_suffix(arg, "_NADs.npy")) {
    memcpy(evals_path, arg, n - strlen("_NADs.npy"));
    strcpy(evals_path + n - strlen("_NADs.npy"), "_eigenvals.npy");
    *squared = 1;
    return 0;
  }
  if (has_suffix(arg, "nads.npy") && (n == 8 || arg[n - 9] == '/')) {
    memcpy(evals_path, arg, n - strlen("nads.npy"));
    strcpy(evals_path + n - strlen("nads.npy"), "eigenvalues.npy");
    return 0;
  }
  if (stat(arg, &sb) != 0)
    return cli_error("'%s': %s", arg, strerror(errno));
  return cli_usage_error(CMD, "'%s' is neither a directory written by 'nad estimate' nor a "
                              "file named X_NADs.npy or nads.npy", arg);
}

/* The "input": [C, H, W] of the summary.json next to a run's nads.npy (written by
 * 'nad estimate'), so that multi-channel and non-square runs need no --input. */
static void read_summary_input(nad_set *s, const char *nads_path) {
  char path[PATH_LEN];
  const char *slash = strrchr(nads_path, '/');
  int dir_len = slash ? (int)(slash - nads_path) : 1;
  if (snprintf(path, sizeof path, "%.*s/summary.json", dir_len, slash ? nads_path : ".") >=
      (int)sizeof path)
    return;
  char *text = cli_read_text(path);
  if (!text)
    return; /* no summary (reference files): the shape comes from --input or D */
  const char *key = strstr(text, "\"input\"");
  const char *open = key ? strchr(key, '[') : NULL;
  long long c, h, w;
  if (open && sscanf(open, "[%lld , %lld , %lld ]", &c, &h, &w) == 3 && c > 0 && h > 0 &&
      w > 0) {
    s->input[0] = c, s->input[1] = h, s->input[2] = w;
    s->has_input = 1;
  }
  free(text);
}

static int load_set(nad_set *s) {
  char nads_path[PATH_LEN], evals_path[PATH_LEN];
  int rc = resolve(s->arg, nads_path, evals_path, &s->squared);
  if (rc)
    return rc;
  if (!s->squared)
    read_summary_input(s, nads_path);
  int64_t shape[8];
  int32_t nd = 0;
  if ((rc = cli_npy_read(s->label, nads_path, &s->nads, shape, &nd)) != 0)
    return rc;
  if (nd != 2 || shape[0] < 1 || shape[1] < 1)
    return cli_error("'%s': expected a 2-D array K x D of NADs", nads_path);
  s->rows = shape[0];
  s->d = shape[1];
  float *ev = NULL;
  if ((rc = cli_npy_read(s->label, evals_path, &ev, shape, &nd)) != 0)
    return rc;
  int64_t ne = cli_numel(shape, nd);
  if (nd != 1 || ne < 1) {
    nad_free(ev);
    return cli_error("'%s': expected a 1-D array of eigenvalues", evals_path);
  }
  s->count = ne < s->rows ? ne : s->rows; /* reference files: 1023 NADs, up to 1024 values */
  if (ne < s->rows) /* said, not silent (issue 11) */
    fprintf(stderr, "nad: note: %s: %lld NADs but %lld eigenvalues in '%s': the spectrum uses "
                    "the first %lld NADs\n", s->label, (long long)s->rows, (long long)ne,
            evals_path, (long long)ne);
  s->evals = malloc((size_t)s->count * sizeof(double));
  if (!s->evals) {
    nad_free(ev);
    return cli_error("out of memory");
  }
  for (int64_t i = 0; i < s->count; i++) {
    double v = (double)ev[i];
    s->evals[i] = s->squared ? v * v : v; /* σ² ∝ λ; the correlation ignores the scale */
  }
  nad_free(ev);
  return 0;
}

static void free_set(nad_set *s) {
  nad_free(s->nads);
  free(s->evals);
}

/* Shape of one NAD: --input, or one square channel. */
static int nad_shape(const char *input, int64_t d, int64_t shape[3]) {
  if (input) {
    int rc = cli_parse_shape("input", input, shape);
    if (rc)
      return rc;
    if (shape[0] * shape[1] * shape[2] != d)
      return cli_usage_error(CMD, "--input %s has %lld values, the NADs have D = %lld", input,
                             (long long)(shape[0] * shape[1] * shape[2]), (long long)d);
    return 0;
  }
  int64_t side = (int64_t)llround(sqrt((double)d));
  if (side * side != d)
    return cli_usage_error(CMD, "D = %lld is not a square: give --input CxHxW", (long long)d);
  shape[0] = 1;
  shape[1] = shape[2] = side;
  return 0;
}

typedef struct result {
  int64_t ks[8];
  double overlap[8];
  int nk;
  double corr;
  int64_t kmax;
} result;

static int compute(const nad_set *a, const nad_set *b, const int64_t shape[3], result *res) {
  static const int64_t standard[] = {1, 2, 5, 10, 20, 50};
  nad_status st;
  res->nk = 0;
  for (size_t i = 0; i < sizeof standard / sizeof standard[0]; i++)
    if (standard[i] <= res->kmax)
      res->ks[res->nk++] = standard[i];
  if (res->nk == 0 || res->ks[res->nk - 1] != res->kmax)
    res->ks[res->nk++] = res->kmax;
  for (int i = 0; i < res->nk; i++) {
    st = nad_subspace_overlap(a->nads, b->nads, res->ks[i], a->d, &res->overlap[i]);
    if (st != NAD_OK)
      return cli_lib_error(st, "subspace overlap (k = %lld)", (long long)res->ks[i]);
  }
  double *pa = malloc((size_t)a->d * sizeof(double));
  double *pb = malloc((size_t)a->d * sizeof(double));
  int rc = 0;
  if (!pa || !pb)
    rc = cli_error("out of memory");
  else if ((st = nad_spectrum_from_nads(a->nads, a->evals, a->count, shape[0], shape[1],
                                        shape[2], pa, (size_t)a->d)) != NAD_OK)
    rc = cli_lib_error(st, "spectrum of '%s'", a->arg);
  else if ((st = nad_spectrum_from_nads(b->nads, b->evals, b->count, shape[0], shape[1],
                                        shape[2], pb, (size_t)b->d)) != NAD_OK)
    rc = cli_lib_error(st, "spectrum of '%s'", b->arg);
  else if ((st = nad_spectrum_correlation(pa, pb, a->d, &res->corr)) != NAD_OK)
    rc = cli_lib_error(st, "spectrum correlation");
  free(pa);
  free(pb);
  return rc;
}

static void print_result(const nad_set *a, const nad_set *b, const result *res, int json) {
  if (json) {
    cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j, NULL);
    cli_json_double(&j, "spectrum_corr", res->corr);
    cli_json_begin_object(&j, "overlap");
    for (int i = 0; i < res->nk; i++) {
      char key[24];
      snprintf(key, sizeof key, "%lld", (long long)res->ks[i]);
      cli_json_double(&j, key, res->overlap[i]);
    }
    cli_json_end_object(&j);
    cli_json_int(&j, "k", res->kmax);
    cli_json_int(&j, "d", a->d);
    cli_json_end_object(&j);
    cli_json_finish(&j);
    return;
  }
  printf("A: %s (%lld NADs%s)\n", a->arg, (long long)a->rows,
         a->squared ? ", eigenvalues = squared singular values" : "");
  printf("B: %s (%lld NADs%s)\n", b->arg, (long long)b->rows,
         b->squared ? ", eigenvalues = squared singular values" : "");
  printf("log-spectrum correlation: %.4f\n", res->corr);
  printf("%6s  %s\n", "k", "subspace overlap");
  for (int i = 0; i < res->nk; i++)
    printf("%6lld  %.4f\n", (long long)res->ks[i], res->overlap[i]);
}

int cli_cmd_compare(int argc, char **argv) {
  const char *k_s = NULL, *input = NULL;
  int json = 0;
  const cli_opt opts[] = {
      {"k", 1, &k_s, NULL},
      {"input", 1, &input, NULL},
      {"json", 0, NULL, &json},
  };
  const char *pos[2];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), pos, 2, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  if (npos == 0)
    return cli_usage_error(CMD, "missing A and B: the two NAD sets to compare");
  if (npos == 1)
    return cli_usage_error(CMD, "missing B: the second NAD set to compare with '%s'", pos[0]);
  int64_t kopt = 0;
  if ((rc = cli_parse_i64("k", k_s, 1, INT64_MAX, &kopt)) != 0)
    return rc;
  nad_set a = {.label = "A", .arg = pos[0]}, b = {.label = "B", .arg = pos[1]};
  int64_t shape[3];
  result res = {0};
  if ((rc = load_set(&a)) != 0 || (rc = load_set(&b)) != 0)
    goto done;
  if (a.d != b.d) {
    rc = cli_error("the NADs have different dimensions: %lld (A) and %lld (B)", (long long)a.d,
                   (long long)b.d);
    goto done;
  }
  if (!input && a.has_input && b.has_input &&
      (a.input[0] != b.input[0] || a.input[1] != b.input[1] || a.input[2] != b.input[2])) {
    char sa[64], sb[64];
    rc = cli_error("the runs have different input shapes: %s (A) and %s (B)",
                   cli_shape_str(a.input, sa, sizeof sa), cli_shape_str(b.input, sb, sizeof sb));
    goto done;
  }
  if (!input && (a.has_input || b.has_input)) {
    const int64_t *from = a.has_input ? a.input : b.input;
    memcpy(shape, from, sizeof shape);
    if (cli_numel(shape, 3) != a.d) { /* -1 when the product overflows: never a D */
      rc = cli_error("summary.json says %lldx%lldx%lld but the NADs have D = %lld",
                     (long long)shape[0], (long long)shape[1], (long long)shape[2],
                     (long long)a.d);
      goto done;
    }
  } else if ((rc = nad_shape(input, a.d, shape)) != 0) {
    goto done;
  }
  int64_t avail = a.rows < b.rows ? a.rows : b.rows;
  res.kmax = k_s ? kopt : (avail < 50 ? avail : 50);
  if (res.kmax > avail) {
    rc = cli_usage_error(CMD, "--k %lld exceeds the NADs available (%lld)", (long long)kopt,
                         (long long)avail);
    goto done;
  }
  if ((rc = compute(&a, &b, shape, &res)) != 0)
    goto done;
  print_result(&a, &b, &res, json);
done:
  free_set(&a);
  free_set(&b);
  return rc;
}
