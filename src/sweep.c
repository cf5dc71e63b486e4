/* The engine of `nad sweep` (sweep.h), whatever the mode: the cells of a sweep are written
 * incrementally so that an interrupted sweep resumes where it stopped. A cell's result does not
 * depend on the order or on a restart.
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

#include "sweep.h"

static int join(char *dst, const char *dir, const char *name) {
  if (snprintf(dst, SWEEP_PATH_LEN, "%s/%s", dir, name) >= SWEEP_PATH_LEN)
    return cli_error("--out: path too long: '%s/%s'", dir, name);
  return 0;
}

/* ---- settings file -------------------------------------------------------------------------- */

char *sweep_settings_line(const char *arch, const char *what, const bias_settings *bs,
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

static int run_sweep_locked(sweep *sw, const char *out, const char *header, const char *line,
                            sweep_cell_fn fn, void *ctx);

int sweep_run(sweep *sw, const char *out, const char *header, const char *line,
                     sweep_cell_fn fn, void *ctx) {
  int lock = -1, rc;
  if ((rc = cli_out_dir(out)) != 0)
    return rc;
  if ((rc = cli_lock_out_dir(out, &lock)) != 0)
    return rc;
  rc = run_sweep_locked(sw, out, header, line, fn, ctx);
  cli_unlock_out_dir(lock);
  return rc;
}

static int run_sweep_locked(sweep *sw, const char *out, const char *header, const char *line,
                            sweep_cell_fn fn, void *ctx) {
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
    sweep_cell *c = &sw->cells[i];
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

