/* `nad sweep`: test accuracy of D(v) training over a set of directions, written incrementally
 * so that an interrupted sweep resumes where it stopped.
 *   --grid fourier: v = Fourier basis vectors over the frequency grid (fy, fx), CSV rows
 *     "fy,fx,accuracy" and a heat map (fftshifted: DC in the centre), like the paper's Fig. 1;
 *   --nads DIR --indices A:B:STEP: v = NAD number k of DIR/nads.npy, CSV rows "index,accuracy"
 *     and a line plot, like the paper's Fig. 2;
 *   --poison --data SOURCE --nads DIR --indices LIST --epsilon E: `nad poison` per NAD index,
 *     CSV rows "index,clean_test_accuracy,poisoned_train_accuracy" and a line plot of the clean
 *     test accuracy, like the paper's Fig. 3.
 * Every cell trains a fresh network from the same seed on data from the same seeds: only v
 * changes between cells, and a cell's result does not depend on the order or on a restart.
 * A cell's test accuracy is measured once, after its last epoch (the same number as 'nad bias'
 * reports, without its per-epoch evaluations).
 *
 * Files in --out DIR: sweep.json (the settings, one line; a resumed sweep must match it),
 * accuracy.csv (one row appended, flushed and fsync'ed per finished cell; a torn last line
 * from a crash is cut off on restart) and accuracy.png (or .svg/.pdf by --format; rewritten
 * atomically after each cell). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bias.h"
#include "poison.h"

#define CMD "sweep"
#define PATH_LEN 4096
#define ACC_LO 50.0 /* colour / plot scale of D(v) accuracies (chance level of 2 classes) */
#define ACC_HI 100.0
#define SWEEP_MAX_CELLS 65536 /* one training per cell: more is a typo, not a sweep */

typedef struct cell {
  int64_t a, b; /* grid: fy, fx; nads and poison: index, unused */
  double acc;   /* NaN until done (poison: clean test accuracy) */
  double acc2;  /* poison: accuracy on the poisoned training set */
} cell;

enum { SWEEP_NADS = 0, SWEEP_GRID = 1, SWEEP_POISON = 2 };

typedef struct sweep {
  int kind;
  int64_t rows, cols; /* grid shape (nads, poison: 1 x count) */
  int64_t ncells;
  cell *cells;
  double acc_lo, acc_hi; /* scale of the figure */
  int quiet;
  nad_figure_format format;
  const char *format_name; /* the figure's file extension */
  int64_t step;            /* grid: frequency step between cells */
  char title[PATH_LEN + 128];
  char csv[PATH_LEN], figure[PATH_LEN], settings[PATH_LEN];
} sweep;

/* Runs one cell: fills c->acc (and c->acc2), *seconds; 0, CLI_ERR or 128 + signal. */
typedef int (*cell_fn)(void *ctx, cell *c, const char *label, double *seconds);

static int join(char *dst, const char *dir, const char *name) {
  if (snprintf(dst, PATH_LEN, "%s/%s", dir, name) >= PATH_LEN)
    return cli_error("--out: path too long: '%s/%s'", dir, name);
  return 0;
}

/* ---- settings file -------------------------------------------------------------------------- */

/* The settings that define the results, as one JSON line (threads excluded: results agree
 * across thread counts up to rounding). */
static char *settings_line(const char *arch, const char *what, const bias_settings *bs,
                           const real_settings *rs, const real_data *rd, double epsilon) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return NULL;
  cli_json j;
  cli_json_init(&j, f);
  j.compact = 0;
  cli_json_begin_object(&j, NULL);
  cli_json_string(&j, "arch", arch);
  cli_json_string(&j, "directions", what);
  if (bs) {
    cli_json_int(&j, "epochs", bs->epochs);
    bias_json_settings(&j, bs);
  } else {
    cli_json_int(&j, "epochs", rs->epochs);
    cli_json_double(&j, "carrier_epsilon", epsilon);
    real_json_settings(&j, rs, rd);
  }
  cli_json_end_object(&j);
  cli_json_finish(&j);
  fclose(f);
  return buf;
}

/* Writes sweep.json, or checks that an existing one (of a sweep that has rows) agrees. */
static int check_settings(const sweep *sw, const char *line, int have_rows) {
  char *old = cli_read_text(sw->settings);
  if (old && have_rows) {
    int same = strcmp(old, line) == 0;
    free(old);
    if (!same)
      return cli_error("'%s' holds a sweep with other settings (see %s); use another --out "
                       "directory or remove it", sw->csv, sw->settings);
    return 0;
  }
  free(old);
  if (have_rows)
    return cli_error("'%s' has rows but '%s' is missing: cannot tell which settings made them",
                     sw->csv, sw->settings);
  nadi_atomic_file af;
  int rc = cli_atomic_open(&af, sw->settings);
  if (rc)
    return rc;
  fputs(line, af.fp);
  return cli_atomic_commit(&af);
}

/* ---- the CSV ------------------------------------------------------------------------------- */

static int64_t find_cell(const sweep *sw, int64_t a, int64_t b) {
  for (int64_t i = 0; i < sw->ncells; i++)
    if (sw->cells[i].a == a && (sw->kind != SWEEP_GRID || sw->cells[i].b == b))
      return i;
  return -1;
}

/* Loads finished rows; cuts a torn last line (no newline) off the file. *rows: rows kept. */
static int load_csv(sweep *sw, const char *header, int64_t *rows) {
  *rows = 0;
  char *text = cli_read_text(sw->csv);
  if (!text) {
    if (errno == ENOENT)
      return 0;
    return cli_error("cannot read '%s': %s", sw->csv, strerror(errno));
  }
  size_t len = strlen(text);
  size_t keep = 0; /* bytes up to the last complete line */
  for (size_t i = 0; i < len; i++)
    if (text[i] == '\n')
      keep = i + 1;
  int rc = 0;
  char *line = text;
  int lineno = 0;
  while (rc == 0 && (size_t)(line - text) < keep) {
    char *nl = strchr(line, '\n');
    *nl = '\0';
    lineno++;
    if (lineno == 1) {
      if (strcmp(line, header) != 0)
        rc = cli_error("'%s' does not start with the header '%s' of this kind of sweep", sw->csv,
                       header);
    } else {
      long long a = 0, b = 0;
      double acc = 0, acc2 = NAN;
      int n = 0, ok;
      if (sw->kind == SWEEP_GRID)
        ok = sscanf(line, "%lld,%lld,%lf%n", &a, &b, &acc, &n) == 3;
      else if (sw->kind == SWEEP_POISON)
        ok = sscanf(line, "%lld,%lf,%lf%n", &a, &acc, &acc2, &n) == 3;
      else
        ok = sscanf(line, "%lld,%lf%n", &a, &acc, &n) == 2;
      int64_t i = ok && line[n] == '\0' ? find_cell(sw, a, b) : -1;
      if (i < 0)
        rc = cli_error("'%s' line %d ('%s') is not a cell of this sweep", sw->csv, lineno, line);
      else if (!isnan(sw->cells[i].acc))
        rc = cli_error("'%s' line %d repeats a cell", sw->csv, lineno);
      else {
        sw->cells[i].acc = acc;
        sw->cells[i].acc2 = acc2;
        (*rows)++;
      }
    }
    line = nl + 1;
  }
  if (rc == 0 && keep < len) {
    fprintf(stderr, "nad: '%s': dropping an incomplete last line (interrupted write)\n",
            sw->csv);
    if (truncate(sw->csv, (off_t)keep) != 0)
      rc = cli_error("cannot truncate '%s': %s", sw->csv, strerror(errno));
  }
  free(text);
  return rc;
}

/* Appends one line and makes it durable before the next cell starts. */
static int append_line(const char *path, const char *line) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
  if (fd < 0)
    return cli_error("cannot open '%s': %s", path, strerror(errno));
  size_t n = strlen(line);
  ssize_t w = write(fd, line, n);
  int e = errno;
  if (w != (ssize_t)n || fsync(fd) != 0) {
    if (w == (ssize_t)n)
      e = errno;
    close(fd);
    return cli_error("cannot write '%s': %s", path, strerror(e));
  }
  if (close(fd) != 0)
    return cli_error("cannot write '%s': %s", path, strerror(errno));
  return 0;
}

static int write_figure(const sweep *sw) {
  double *vals = malloc((size_t)sw->ncells * sizeof(double));
  double *xs = malloc((size_t)sw->ncells * sizeof(double));
  if (!vals || !xs) {
    free(vals);
    free(xs);
    return cli_error("out of memory");
  }
  for (int64_t i = 0; i < sw->ncells; i++) {
    vals[i] = sw->cells[i].acc;
    xs[i] = (double)sw->cells[i].a;
  }
  nad_status st;
  if (sw->kind == SWEEP_GRID) {
    /* The paper's colour range: 50 % (chance) to 100 %; lower accuracies are clamped and the
     * figure says so. Cells are ordered by (fy, fx), so the first cell gives both origins. */
    st = nad_figure_heatmap(sw->figure, sw->format, vals, sw->rows, sw->cols, sw->acc_lo,
                            sw->acc_hi, (double)sw->cells[0].b, (double)sw->step,
                            (double)sw->cells[0].a, (double)sw->step, sw->title,
                            "fx (cycles per image)", "fy (cycles per image)",
                            "test accuracy (%)");
  } else if (sw->kind == SWEEP_POISON) { /* two curves: clean test, poisoned training set */
    double *both = malloc((size_t)sw->ncells * 2 * sizeof(double));
    if (!both) {
      free(vals);
      free(xs);
      return cli_error("out of memory");
    }
    for (int64_t i = 0; i < sw->ncells; i++) {
      both[i] = sw->cells[i].acc;
      both[sw->ncells + i] = sw->cells[i].acc2;
    }
    st = nad_figure_lines(sw->figure, sw->format, xs, both, sw->ncells, 2, sw->acc_lo,
                          sw->acc_hi, sw->title, "NAD index of the carrier", "accuracy (%)",
                          "clean test set\npoisoned training set");
    free(both);
  } else {
    st = nad_figure_lines(sw->figure, sw->format, xs, vals, sw->ncells, 1, sw->acc_lo,
                          sw->acc_hi, sw->title, "NAD index", "test accuracy (%)", NULL);
  }
  free(vals);
  free(xs);
  return st == NAD_OK ? 0 : cli_lib_error(st, "cannot write the figure");
}

/* ---- the command ---------------------------------------------------------------------------- */

/* --nads: "A:B:STEP", not expanded: B may pass the NADs the file holds (clipped, with a note). */
static const cli_range_rule nads_rule = {
    CLI_RANGE_ABS, "A:B:STEP with 0 <= A < B and STEP >= 1 (NADs A, A+STEP, ... below B)",
    "NADs", 0};
/* --poison: "A:B:STEP" or a list of distinct indices (the one range parser, ranges.c). */
static const cli_range_rule poison_rule = {
    CLI_RANGE_ANY, "A:B:STEP or a comma-separated list of NAD indices >= 0 (e.g. 0,10,100)",
    "trainings", 1};

/* Frequencies -n/2, -n/2 + step, ... up to the largest distinct one (n/2 - 1 for even n, as
 * n/2 aliases -n/2). */
static int64_t grid_axis(int64_t n, int64_t step, int64_t *out) {
  int64_t count = 0;
  for (int64_t f = -(n / 2); f <= (n - 1) / 2; f += step) {
    if (out)
      out[count] = f;
    count++;
  }
  return count;
}

/* Resumes or starts the CSV in sw->csv, runs the cells not done yet with fn, and keeps the
 * figure current. `line` is the settings line that sweep.json must hold. */
static int run_sweep_locked(sweep *sw, const char *out, const char *header, const char *line,
                            cell_fn fn, void *ctx);

/* One sweep per --out directory at a time (runset.c): a second one fails at once. */
static int run_sweep(sweep *sw, const char *out, const char *header, const char *line,
                     cell_fn fn, void *ctx) {
  int lock = -1, rc;
  if (cli_mkdir_p(out) != 0 || access(out, W_OK) != 0)
    return cli_error("--out: cannot create or write directory '%s': %s", out, strerror(errno));
  if ((rc = cli_lock_out_dir(out, &lock)) != 0)
    return rc;
  rc = run_sweep_locked(sw, out, header, line, fn, ctx);
  cli_unlock_out_dir(lock);
  return rc;
}

static int run_sweep_locked(sweep *sw, const char *out, const char *header, const char *line,
                            cell_fn fn, void *ctx) {
  int rc;
  char figure_name[32];
  snprintf(figure_name, sizeof figure_name, "accuracy.%s", sw->format_name);
  if ((rc = join(sw->csv, out, "accuracy.csv")) || (rc = join(sw->figure, out, figure_name)) ||
      (rc = join(sw->settings, out, "sweep.json")))
    return rc;
  int64_t done_rows = 0;
  if ((rc = load_csv(sw, header, &done_rows)) != 0 ||
      (rc = check_settings(sw, line, done_rows > 0)) != 0)
    return rc;
  if (done_rows == 0) { /* a fresh file (or one holding only its header) */
    FILE *f = fopen(sw->csv, "w");
    if (!f || fprintf(f, "%s\n", header) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
      rc = cli_error("cannot write '%s': %s", sw->csv, strerror(errno));
      if (f)
        fclose(f);
      return rc;
    }
    fclose(f);
  } else if (!sw->quiet) {
    fprintf(stderr, "resuming: %lld of %lld cells already in '%s'\n", (long long)done_rows,
            (long long)sw->ncells, sw->csv);
  }
  double t0 = cli_now();
  int64_t ran = 0;
  cli_signals_install();
  for (int64_t i = 0; i < sw->ncells; i++) {
    cell *c = &sw->cells[i];
    if (!isnan(c->acc))
      continue;
    if (cli_signal()) {
      rc = cli_signal_exit_code();
      break;
    }
    char label[96], row[160];
    if (sw->kind == SWEEP_GRID)
      snprintf(label, sizeof label, "[fy %3lld fx %3lld] ", (long long)c->a, (long long)c->b);
    else
      snprintf(label, sizeof label, "[NAD %lld] ", (long long)c->a);
    double secs = 0;
    if ((rc = fn(ctx, c, label, &secs)) != 0)
      break;
    if (sw->kind == SWEEP_GRID)
      snprintf(row, sizeof row, "%lld,%lld,%.4f\n", (long long)c->a, (long long)c->b, c->acc);
    else if (sw->kind == SWEEP_POISON)
      snprintf(row, sizeof row, "%lld,%.4f,%.4f\n", (long long)c->a, c->acc, c->acc2);
    else
      snprintf(row, sizeof row, "%lld,%.4f\n", (long long)c->a, c->acc);
    if ((rc = append_line(sw->csv, row)) != 0 || (rc = write_figure(sw)) != 0)
      break;
    done_rows++;
    ran++;
    if (!sw->quiet) {
      double el = cli_now() - t0, eta = el / (double)ran * (double)(sw->ncells - done_rows);
      fprintf(stderr, "%s%lld/%lld: %s accuracy %.2f %%  (%.1f s; about %.0f s left)\n", label,
              (long long)done_rows, (long long)sw->ncells,
              sw->kind == SWEEP_POISON ? "clean test" : "test", c->acc, secs, eta);
    }
  }
  cli_signals_restore();
  if (rc >= 128) {
    fprintf(stderr, "nad: sweep interrupted: %lld of %lld cells in '%s'; run the same command "
                    "again to continue\n", (long long)done_rows, (long long)sw->ncells, sw->csv);
    return rc;
  }
  if (rc != 0 || (ran == 0 && (rc = write_figure(sw)) != 0))
    return rc;
  printf("%lld cells in %s, figure %s (%.1f s)\n", (long long)sw->ncells, sw->csv, sw->figure,
         cli_now() - t0);
  return 0;
}

/* ---- D(v) cells ------------------------------------------------------------------------------ */

typedef struct bias_cell_ctx {
  const nad_arch *arch;
  const bias_settings *s;
  const float *nads; /* NAD mode */
  float *v;
} bias_cell_ctx;

static int bias_cell(void *ctx, cell *c, const char *label, double *seconds) {
  bias_cell_ctx *b = ctx;
  const int64_t d = b->s->input[0] * b->s->input[1] * b->s->input[2];
  int rc;
  if (!b->nads) {
    char spec[64];
    snprintf(spec, sizeof spec, "fourier:%lld,%lld", (long long)c->a, (long long)c->b);
    if ((rc = bias_direction(CMD, spec, b->s, b->v)) != 0)
      return rc;
  } else {
    memcpy(b->v, b->nads + c->a * d, (size_t)d * sizeof(float));
  }
  bias_result r;
  if ((rc = bias_train(b->arch, b->v, b->s, label, 0, &r)) != 0)
    return rc;
  cli_train_result_free(&r);
  c->acc = r.test_acc;
  *seconds = r.seconds;
  return 0;
}

/* ---- poisoned cells -------------------------------------------------------------------------- */

typedef struct poison_cell_ctx {
  const nad_arch *arch;
  const real_data *d;
  const real_settings *s;
  const float *nads;
  int64_t count;
  double epsilon;
} poison_cell_ctx;

static int poison_cell(void *ctx, cell *c, const char *label, double *seconds) {
  poison_cell_ctx *p = ctx;
  real_result r;
  int rc = poison_run(p->arch, p->d, p->s, p->nads, p->count, c->a, p->epsilon, label, 0, &r,
                      NULL);
  if (rc)
    return rc;
  c->acc = r.test_acc;
  c->acc2 = r.train_acc;
  *seconds = r.seconds;
  cli_train_result_free(&r);
  return 0;
}

static int sweep_poison(int argc, char **argv) {
  real_args a;
  memset(&a, 0, sizeof a);
  const char *nads_dir = NULL, *indices = NULL, *eps_s = NULL, *out = NULL, *format_s = NULL;
  int poison = 0;
  cli_opt opts[REAL_NOPTS + 6];
  real_options(&a, opts);
  opts[REAL_NOPTS] = (cli_opt){"nads", 1, &nads_dir, NULL};
  opts[REAL_NOPTS + 1] = (cli_opt){"indices", 1, &indices, NULL};
  opts[REAL_NOPTS + 2] = (cli_opt){"epsilon", 1, &eps_s, NULL};
  opts[REAL_NOPTS + 3] = (cli_opt){"out", 1, &out, NULL};
  opts[REAL_NOPTS + 4] = (cli_opt){"poison", 0, NULL, &poison};
  opts[REAL_NOPTS + 5] = (cli_opt){"format", 1, &format_s, NULL};
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, REAL_NOPTS + 6, pos, 1, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  a.name = npos > 0 ? pos[0] : NULL;
  real_settings s;
  double epsilon = 0;
  if ((rc = real_parse_settings(CMD, &a, &s)) != 0)
    return rc;
  if (!out)
    return cli_usage_error(CMD, "missing --out DIR");
  if (!nads_dir)
    return cli_usage_error(CMD, "--poison needs --nads DIR (a directory written by 'nad "
                                "estimate')");
  if (!indices)
    return cli_usage_error(CMD, "--poison needs --indices A:B:STEP or a list I,J,...");
  if ((rc = real_parse_epsilon(CMD, eps_s, &epsilon)) != 0)
    return rc;
  nad_figure_format format;
  const char *format_name;
  if ((rc = cli_parse_format(format_s, &format, &format_name)) != 0)
    return rc;
  int64_t *list = NULL, nlist = 0;
  if ((rc = cli_parse_indices(CMD, "indices", indices, SWEEP_MAX_CELLS, &poison_rule, &list,
                              &nlist)) != 0)
    return rc;
  real_data d;
  if ((rc = real_load(&s, &d)) != 0) {
    free(list);
    return rc;
  }
  nad_arch *arch = NULL;
  float *nads = NULL;
  int64_t count = 0;
  char *line = NULL;
  sweep sw;
  memset(&sw, 0, sizeof sw);
  if ((rc = real_make_arch(CMD, &a, &d, &arch)) != 0 ||
      (rc = real_read_nads(nads_dir, &d, &nads, &count)) != 0)
    goto done;
  const int64_t extra = (d.classes - 1) / (2 * d.shape[0]); /* NADs a cell uses beyond its own */
  for (int64_t i = 0; i < nlist; i++)
    if (list[i] >= count - extra) {
      rc = cli_usage_error(CMD, "--indices: index %lld is past the last usable NAD: the carriers "
                                "of %lld classes use NADs I..I+%lld and '%s/nads.npy' holds %lld "
                                "(0..%lld)", (long long)list[i], (long long)d.classes,
                           (long long)extra, nads_dir, (long long)count, (long long)count - 1);
      goto done;
    }
  sw.kind = SWEEP_POISON;
  sw.format = format;
  sw.format_name = format_name;
  snprintf(sw.title, sizeof sw.title, "%s on %s poisoned along NADs of %s", nad_arch_name(arch),
           s.data, nads_dir);
  sw.rows = 1;
  sw.cols = sw.ncells = nlist;
  sw.acc_lo = 0.0, sw.acc_hi = 100.0;
  sw.quiet = s.quiet;
  sw.cells = malloc((size_t)nlist * sizeof(cell));
  if (!sw.cells) {
    rc = cli_error("out of memory");
    goto done;
  }
  for (int64_t i = 0; i < nlist; i++)
    sw.cells[i] = (cell){list[i], 0, NAN, NAN};
  char what[PATH_LEN + 64];
  snprintf(what, sizeof what, "poison nads %s indices %s", nads_dir, indices);
  line = settings_line(nad_arch_name(arch), what, NULL, &s, &d, epsilon);
  if (!line) {
    rc = cli_error("out of memory");
    goto done;
  }
  poison_cell_ctx ctx = {arch, &d, &s, nads, count, epsilon};
  rc = run_sweep(&sw, out, "index,clean_test_accuracy,poisoned_train_accuracy", line,
                 poison_cell, &ctx);
done:
  free(line);
  free(sw.cells);
  free(list);
  nad_free(nads);
  nad_arch_destroy(arch);
  real_data_free(&d);
  return rc;
}

int cli_cmd_sweep(int argc, char **argv) {
  for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "--poison") == 0)
      return sweep_poison(argc, argv);
  bias_args a;
  memset(&a, 0, sizeof a);
  const char *grid = NULL, *step_s = NULL, *nads_dir = NULL, *indices = NULL, *out = NULL;
  const char *format_s = NULL;
  cli_opt opts[BIAS_NOPTS + 6];
  bias_options(&a, opts);
  opts[BIAS_NOPTS] = (cli_opt){"grid", 1, &grid, NULL};
  opts[BIAS_NOPTS + 1] = (cli_opt){"step", 1, &step_s, NULL};
  opts[BIAS_NOPTS + 2] = (cli_opt){"nads", 1, &nads_dir, NULL};
  opts[BIAS_NOPTS + 3] = (cli_opt){"indices", 1, &indices, NULL};
  opts[BIAS_NOPTS + 4] = (cli_opt){"out", 1, &out, NULL};
  opts[BIAS_NOPTS + 5] = (cli_opt){"format", 1, &format_s, NULL};
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, BIAS_NOPTS + 6, pos, 1, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  a.ao.name = npos > 0 ? pos[0] : NULL;
  if ((rc = cli_need_arch(CMD, &a.ao, "ARCH")) != 0)
    return rc;
  bias_settings s;
  if ((rc = bias_parse_settings(CMD, &a, &s)) != 0)
    return rc;
  if (!out)
    return cli_usage_error(CMD, "missing --out DIR");
  if (!grid == !nads_dir)
    return cli_usage_error(CMD, "give either --grid fourier or --nads DIR (with --indices)");
  if (grid && strcmp(grid, "fourier") != 0)
    return cli_usage_error(CMD, "--grid: the only grid is 'fourier', got '%s'", grid);
  if (grid && indices)
    return cli_usage_error(CMD, "--indices goes with --nads, not with --grid");
  if (nads_dir && step_s)
    return cli_usage_error(CMD, "--step goes with --grid, not with --nads");
  if (nads_dir && !indices)
    return cli_usage_error(CMD, "--nads needs --indices A:B:STEP");
  int64_t step = 2;
  cli_range ir = {0, 1, 1};
  if (step_s && (rc = cli_parse_i64("step", step_s, 1, 1 << 24, &step)) != 0)
    return rc;
  if (indices && (rc = cli_parse_range(CMD, "indices", indices, &nads_rule, &ir)) != 0)
    return rc;
  int64_t i0 = ir.a, i1 = ir.b, istep = ir.step;
  nad_figure_format format;
  const char *format_name;
  if ((rc = cli_parse_format(format_s, &format, &format_name)) != 0)
    return rc;

  nad_arch *arch = NULL;
  float *v = NULL, *nads = NULL;
  char *line = NULL;
  sweep sw;
  memset(&sw, 0, sizeof sw);
  sw.acc_lo = ACC_LO, sw.acc_hi = ACC_HI;
  sw.quiet = s.quiet;
  sw.format = format;
  sw.format_name = format_name;
  sw.step = step;
  if ((rc = bias_make_arch(CMD, &a, &s, &arch)) != 0)
    return rc;
  if (grid)
    snprintf(sw.title, sizeof sw.title, "%s: test accuracy on D(v), v = Fourier basis vectors",
             nad_arch_name(arch));
  else
    snprintf(sw.title, sizeof sw.title, "%s: test accuracy on D(v), v = NADs of %s",
             nad_arch_name(arch), nads_dir);
  const int64_t d = s.input[0] * s.input[1] * s.input[2];
  char what[PATH_LEN + 64];
  int64_t nad_rows = 0;
  if (grid) {
    sw.kind = SWEEP_GRID;
    sw.rows = grid_axis(s.input[1], step, NULL);
    sw.cols = grid_axis(s.input[2], step, NULL);
    sw.ncells = sw.rows * sw.cols;
    snprintf(what, sizeof what, "fourier step %lld", (long long)step);
  } else {
    sw.kind = SWEEP_NADS;
    if ((rc = bias_read_nads(nads_dir, &s, &nads, &nad_rows)) != 0)
      goto done;
    if (i0 >= nad_rows) {
      rc = cli_usage_error(CMD, "--indices: the first index %lld is out of range ('%s/nads.npy' "
                                "holds %lld NADs)", (long long)i0, nads_dir, (long long)nad_rows);
      goto done;
    }
    if (i1 > nad_rows) {
      fprintf(stderr, "nad: note: --indices %lld:%lld:%lld stops at %lld: '%s/nads.npy' holds "
                      "%lld NADs\n", (long long)i0, (long long)i1, (long long)istep,
              (long long)nad_rows, nads_dir, (long long)nad_rows);
      i1 = nad_rows;
    }
    sw.rows = 1;
    sw.cols = sw.ncells = (i1 - i0 - 1) / istep + 1; /* 0 <= i0 < i1: no overflow */
    snprintf(what, sizeof what, "nads %s indices %lld:%lld:%lld", nads_dir, (long long)i0,
             (long long)i1, (long long)istep);
  }
  sw.cells = malloc((size_t)sw.ncells * sizeof(cell));
  v = malloc((size_t)d * sizeof(float));
  if (!sw.cells || !v) {
    rc = cli_error("out of memory");
    goto done;
  }
  if (sw.kind == SWEEP_GRID) {
    int64_t *fy = malloc((size_t)(sw.rows + sw.cols) * sizeof(int64_t)), *fx = fy + sw.rows;
    if (!fy) {
      rc = cli_error("out of memory");
      goto done;
    }
    grid_axis(s.input[1], step, fy);
    grid_axis(s.input[2], step, fx);
    for (int64_t r = 0; r < sw.rows; r++)
      for (int64_t c = 0; c < sw.cols; c++)
        sw.cells[r * sw.cols + c] = (cell){fy[r], fx[c], NAN, NAN};
    free(fy);
  } else {
    for (int64_t i = 0; i < sw.ncells; i++)
      sw.cells[i] = (cell){i0 + i * istep, 0, NAN, NAN};
  }
  line = settings_line(nad_arch_name(arch), what, &s, NULL, NULL, 0);
  if (!line) {
    rc = cli_error("out of memory");
    goto done;
  }
  bias_cell_ctx ctx = {arch, &s, nads, v};
  rc = run_sweep(&sw, out, sw.kind == SWEEP_GRID ? "fy,fx,accuracy" : "index,accuracy", line,
                 bias_cell, &ctx);
done:
  free(line);
  free(sw.cells);
  free(v);
  nad_free(nads);
  nad_arch_destroy(arch);
  return rc;
}
