/* `nad sweep`: test accuracy of D(v) training over a set of directions, written incrementally
 * so that an interrupted sweep resumes where it stopped.
 *   --grid fourier: v = Fourier basis vectors over the frequency grid (fy, fx), CSV rows
 *     "fy,fx,accuracy" and a heat map (fftshifted: DC in the centre), like the paper's Fig. 1;
 *   --nads DIR --indices A:B:STEP: v = NAD number k of DIR/nads.npy, CSV rows "index,accuracy"
 *     and a line plot, like the paper's Fig. 2.
 * Every cell trains a fresh network from the same seed on data from the same seeds: only v
 * changes between cells, and a cell's result does not depend on the order or on a restart.
 * A cell's test accuracy is measured once, after its last epoch (the same number as 'nad bias'
 * reports, without its per-epoch evaluations).
 *
 * Files in --out DIR: sweep.json (the settings, one line; a resumed sweep must match it),
 * accuracy.csv (one row appended, flushed and fsync'ed per finished cell; a torn last line
 * from a crash is cut off on restart) and accuracy.png (rewritten atomically after each cell). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bias.h"

#define CMD "sweep"
#define PATH_LEN 4096
#define ACC_LO 50.0 /* colour / plot scale of accuracies (chance level of 2 balanced classes) */
#define ACC_HI 100.0

typedef struct cell {
  int64_t a, b; /* grid: fy, fx; nads: index, unused */
  double acc;   /* NaN until done */
} cell;

typedef struct sweep {
  int grid; /* 1: fourier grid, 0: NAD indices */
  int64_t rows, cols; /* grid shape (nads: 1 x count) */
  int64_t ncells;
  cell *cells;
  char csv[PATH_LEN], png[PATH_LEN], settings[PATH_LEN];
} sweep;

static int join(char *dst, const char *dir, const char *name) {
  if (snprintf(dst, PATH_LEN, "%s/%s", dir, name) >= PATH_LEN)
    return cli_error("--out: path too long: '%s/%s'", dir, name);
  return 0;
}

/* ---- settings file -------------------------------------------------------------------------- */

/* The settings that define the results, as one JSON line (threads excluded: results agree
 * across thread counts up to rounding). */
static char *settings_line(const char *arch, const char *what, const bias_settings *s) {
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
  cli_json_int(&j, "epochs", s->epochs);
  bias_json_settings(&j, s);
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
    if (sw->cells[i].a == a && (!sw->grid || sw->cells[i].b == b))
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
      double acc = 0;
      int n = 0, ok;
      if (sw->grid)
        ok = sscanf(line, "%lld,%lld,%lf%n", &a, &b, &acc, &n) == 3;
      else
        ok = sscanf(line, "%lld,%lf%n", &a, &acc, &n) == 2;
      int64_t i = ok && line[n] == '\0' ? find_cell(sw, a, b) : -1;
      if (i < 0)
        rc = cli_error("'%s' line %d ('%s') is not a cell of this sweep", sw->csv, lineno, line);
      else if (!isnan(sw->cells[i].acc))
        rc = cli_error("'%s' line %d repeats a cell", sw->csv, lineno);
      else {
        sw->cells[i].acc = acc;
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
  nad_status st = sw->grid
                      ? nad_png_write_heatmap(sw->png, vals, sw->rows, sw->cols, ACC_LO, ACC_HI)
                      : nad_png_write_lineplot(sw->png, xs, vals, sw->ncells, ACC_LO, ACC_HI);
  free(vals);
  free(xs);
  return st == NAD_OK ? 0 : cli_lib_error(st, "cannot write the figure");
}

/* ---- the command ---------------------------------------------------------------------------- */

/* "A:B:STEP" (Python's range: B excluded), 0 <= A < B, STEP >= 1. */
static int parse_indices(const char *text, int64_t *a, int64_t *b, int64_t *step) {
  char *end = NULL;
  errno = 0;
  long long v[3];
  const char *p = text;
  for (int i = 0; i < 3; i++) {
    if (*p < '0' || *p > '9')
      goto bad;
    v[i] = strtoll(p, &end, 10);
    if (errno == ERANGE)
      goto bad;
    p = end;
    if (i < 2 && *p++ != ':')
      goto bad;
  }
  if (*p != '\0' || v[0] >= v[1] || v[2] < 1)
    goto bad;
  *a = v[0], *b = v[1], *step = v[2];
  return 0;
bad:
  return cli_usage_error(CMD, "--indices: expected A:B:STEP with 0 <= A < B and STEP >= 1 (NADs "
                              "A, A+STEP, ... below B), got '%s'", text);
}

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

int cli_cmd_sweep(int argc, char **argv) {
  bias_args a;
  memset(&a, 0, sizeof a);
  const char *grid = NULL, *step_s = NULL, *nads_dir = NULL, *indices = NULL, *out = NULL;
  cli_opt opts[BIAS_NOPTS + 5];
  bias_options(&a, opts);
  opts[BIAS_NOPTS] = (cli_opt){"grid", 1, &grid, NULL};
  opts[BIAS_NOPTS + 1] = (cli_opt){"step", 1, &step_s, NULL};
  opts[BIAS_NOPTS + 2] = (cli_opt){"nads", 1, &nads_dir, NULL};
  opts[BIAS_NOPTS + 3] = (cli_opt){"indices", 1, &indices, NULL};
  opts[BIAS_NOPTS + 4] = (cli_opt){"out", 1, &out, NULL};
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, BIAS_NOPTS + 5, pos, 1, &npos);
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
  int64_t step = 2, i0 = 0, i1 = 0, istep = 1;
  if (step_s && (rc = cli_parse_i64("step", step_s, 1, 1 << 24, &step)) != 0)
    return rc;
  if (indices && (rc = parse_indices(indices, &i0, &i1, &istep)) != 0)
    return rc;

  nad_arch *arch = NULL;
  float *v = NULL, *nads = NULL;
  char *line = NULL;
  sweep sw;
  memset(&sw, 0, sizeof sw);
  if ((rc = bias_make_arch(CMD, &a, &s, &arch)) != 0)
    return rc;
  const int64_t d = s.input[0] * s.input[1] * s.input[2];
  char what[PATH_LEN + 64];
  int64_t nad_rows = 0;
  if (grid) {
    sw.grid = 1;
    sw.rows = grid_axis(s.input[1], step, NULL);
    sw.cols = grid_axis(s.input[2], step, NULL);
    sw.ncells = sw.rows * sw.cols;
    snprintf(what, sizeof what, "fourier step %lld", (long long)step);
  } else {
    if ((rc = bias_read_nads(nads_dir, &s, &nads, &nad_rows)) != 0)
      goto done;
    if (i0 >= nad_rows) {
      rc = cli_usage_error(CMD, "--indices: the first index %lld is out of range ('%s/nads.npy' "
                                "holds %lld NADs)", (long long)i0, nads_dir, (long long)nad_rows);
      goto done;
    }
    if (i1 > nad_rows)
      i1 = nad_rows;
    sw.rows = 1;
    sw.cols = sw.ncells = (i1 - i0 + istep - 1) / istep;
    snprintf(what, sizeof what, "nads %s indices %lld:%lld:%lld", nads_dir, (long long)i0,
             (long long)i1, (long long)istep);
  }
  sw.cells = malloc((size_t)sw.ncells * sizeof(cell));
  v = malloc((size_t)d * sizeof(float));
  if (!sw.cells || !v) {
    rc = cli_error("out of memory");
    goto done;
  }
  if (sw.grid) {
    int64_t *fy = malloc((size_t)(sw.rows + sw.cols) * sizeof(int64_t)), *fx = fy + sw.rows;
    if (!fy) {
      rc = cli_error("out of memory");
      goto done;
    }
    grid_axis(s.input[1], step, fy);
    grid_axis(s.input[2], step, fx);
    for (int64_t r = 0; r < sw.rows; r++)
      for (int64_t c = 0; c < sw.cols; c++)
        sw.cells[r * sw.cols + c] = (cell){fy[r], fx[c], NAN};
    free(fy);
  } else {
    for (int64_t i = 0; i < sw.ncells; i++)
      sw.cells[i] = (cell){i0 + i * istep, 0, NAN};
  }
  if (cli_mkdir_p(out) != 0 || access(out, W_OK) != 0) {
    rc = cli_error("--out: cannot create or write directory '%s': %s", out, strerror(errno));
    goto done;
  }
  if ((rc = join(sw.csv, out, "accuracy.csv")) || (rc = join(sw.png, out, "accuracy.png")) ||
      (rc = join(sw.settings, out, "sweep.json")))
    goto done;
  const char *header = sw.grid ? "fy,fx,accuracy" : "index,accuracy";
  int64_t done_rows = 0;
  if ((rc = load_csv(&sw, header, &done_rows)) != 0)
    goto done;
  line = settings_line(nad_arch_name(arch), what, &s);
  if (!line) {
    rc = cli_error("out of memory");
    goto done;
  }
  if ((rc = check_settings(&sw, line, done_rows > 0)) != 0)
    goto done;
  if (done_rows == 0) { /* a fresh file (or one holding only its header) */
    FILE *f = fopen(sw.csv, "w");
    if (!f || fprintf(f, "%s\n", header) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
      rc = cli_error("cannot write '%s': %s", sw.csv, strerror(errno));
      if (f)
        fclose(f);
      goto done;
    }
    fclose(f);
  } else if (!s.quiet) {
    fprintf(stderr, "resuming: %lld of %lld cells already in '%s'\n", (long long)done_rows,
            (long long)sw.ncells, sw.csv);
  }
  double t0 = cli_now();
  int64_t ran = 0;
  cli_signals_install();
  for (int64_t i = 0; i < sw.ncells; i++) {
    cell *c = &sw.cells[i];
    if (!isnan(c->acc))
      continue;
    if (cli_signal()) {
      rc = cli_signal_exit_code();
      break;
    }
    char label[96], row[128];
    if (sw.grid) {
      char spec[64];
      snprintf(spec, sizeof spec, "fourier:%lld,%lld", (long long)c->a, (long long)c->b);
      if ((rc = bias_direction(CMD, spec, &s, v)) != 0)
        break;
      snprintf(label, sizeof label, "[fy %3lld fx %3lld] ", (long long)c->a, (long long)c->b);
    } else {
      memcpy(v, nads + c->a * d, (size_t)d * sizeof(float));
      snprintf(label, sizeof label, "[NAD %lld] ", (long long)c->a);
    }
    bias_result r;
    if ((rc = bias_train(arch, v, &s, label, 0, &r)) != 0)
      break;
    free(r.test_hist);
    c->acc = r.test_acc;
    if (sw.grid)
      snprintf(row, sizeof row, "%lld,%lld,%.4f\n", (long long)c->a, (long long)c->b, c->acc);
    else
      snprintf(row, sizeof row, "%lld,%.4f\n", (long long)c->a, c->acc);
    if ((rc = append_line(sw.csv, row)) != 0 || (rc = write_figure(&sw)) != 0)
      break;
    done_rows++;
    ran++;
    if (!s.quiet) {
      double el = cli_now() - t0, eta = el / (double)ran * (double)(sw.ncells - done_rows);
      fprintf(stderr, "%s%lld/%lld: test accuracy %.2f %%  (%.1f s; about %.0f s left)\n",
              label, (long long)done_rows, (long long)sw.ncells, c->acc, r.seconds, eta);
    }
  }
  cli_signals_restore();
  if (rc >= 128) {
    fprintf(stderr, "nad: sweep interrupted: %lld of %lld cells in '%s'; run the same command "
                    "again to continue\n", (long long)done_rows, (long long)sw.ncells, sw.csv);
    goto done;
  }
  if (rc != 0 || (ran == 0 && (rc = write_figure(&sw)) != 0))
    goto done;
  printf("%lld cells in %s, figure %s (%.1f s)\n", (long long)sw.ncells, sw.csv, sw.png,
         cli_now() - t0);
done:
  free(line);
  free(sw.cells);
  free(v);
  nad_free(nads);
  nad_arch_destroy(arch);
  return rc;
}
