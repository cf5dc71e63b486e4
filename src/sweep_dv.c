/* `nad sweep --grid fourier` and `nad sweep --nads DIR --indices A:B:STEP`: test accuracy of
 * D(v) training (bias.c) over Fourier basis vectors or NADs, through the sweep engine (sweep.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

#define CMD "sweep"
#define ACC_LO 50.0 /* colour / plot scale of D(v) accuracies (chance level of 2 classes) */
#define ACC_HI 100.0

/* --nads: "A:B:STEP", not expanded: B may pass the NADs the file holds (clipped, with a note). */
static const cli_range_rule nads_rule = {
    CLI_RANGE_ABS, "A:B:STEP with 0 <= A < B and STEP >= 1 (NADs A, A+STEP, ... below B)",
    "NADs", 0};
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

/* ---- D(v) cells ------------------------------------------------------------------------------ */

typedef struct bias_cell_ctx {
  const nad_arch *arch;
  const bias_settings *s;
  const float *nads; /* NAD mode */
  float *v;
} bias_cell_ctx;

static int bias_cell(void *ctx, sweep_cell *c, const char *label, double *seconds) {
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

/* The Fourier grid's cells (fy, fx), every `step` frequencies of the input's H x W. */
static int grid_cells(sweep *sw, const bias_settings *s, int64_t step, char *what, size_t len) {
  sw->kind = SWEEP_GRID;
  sw->rows = grid_axis(s->input[1], step, NULL);
  sw->cols = grid_axis(s->input[2], step, NULL);
  sw->ncells = sw->rows * sw->cols;
  snprintf(what, len, "fourier step %lld", (long long)step);
  sw->cells = malloc((size_t)sw->ncells * sizeof(sweep_cell));
  int64_t *fy = malloc((size_t)(sw->rows + sw->cols) * sizeof(int64_t)), *fx = fy + sw->rows;
  if (!sw->cells || !fy) {
    free(fy);
    return cli_error("out of memory");
  }
  grid_axis(s->input[1], step, fy);
  grid_axis(s->input[2], step, fx);
  for (int64_t r = 0; r < sw->rows; r++)
    for (int64_t c = 0; c < sw->cols; c++)
      sw->cells[r * sw->cols + c] = (sweep_cell){fy[r], fx[c], NAN, NAN};
  free(fy);
  return 0;
}

/* The cells of NADs ir.a, ir.a + ir.step, ... of DIR/nads.npy (read into *nads), the range
 * clipped (with a note) to the NADs the file holds. */
static int nads_cells(sweep *sw, const char *nads_dir, const bias_settings *s, cli_range ir,
                      float **nads, char *what, size_t len) {
  int64_t nad_rows = 0;
  sw->kind = SWEEP_NADS;
  int rc = bias_read_nads(nads_dir, s, nads, &nad_rows);
  if (rc)
    return rc;
  if (ir.a >= nad_rows)
    return cli_usage_error(CMD, "--indices: the first index %lld is out of range ('%s/nads.npy' "
                                "holds %lld NADs)", (long long)ir.a, nads_dir,
                           (long long)nad_rows);
  if (ir.b > nad_rows) {
    fprintf(stderr, "nad: note: --indices %lld:%lld:%lld stops at %lld: '%s/nads.npy' holds "
                    "%lld NADs\n", (long long)ir.a, (long long)ir.b, (long long)ir.step,
            (long long)nad_rows, nads_dir, (long long)nad_rows);
    ir.b = nad_rows;
  }
  sw->rows = 1;
  sw->cols = sw->ncells = cli_range_count(&ir);
  snprintf(what, len, "nads %s indices %lld:%lld:%lld", nads_dir, (long long)ir.a,
           (long long)ir.b, (long long)ir.step);
  sw->cells = malloc((size_t)sw->ncells * sizeof(sweep_cell));
  if (!sw->cells)
    return cli_error("out of memory");
  for (int64_t i = 0; i < sw->ncells; i++)
    sw->cells[i] = (sweep_cell){ir.a + i * ir.step, 0, NAN, NAN};
  return 0;
}

int sweep_dv_main(int argc, char **argv) {
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
  char what[SWEEP_PATH_LEN + 64];
  if (grid)
    rc = grid_cells(&sw, &s, step, what, sizeof what);
  else
    rc = nads_cells(&sw, nads_dir, &s, ir, &nads, what, sizeof what);
  if (rc)
    goto done;
  if (!(v = malloc((size_t)d * sizeof(float)))) {
    rc = cli_error("out of memory");
    goto done;
  }
  line = sweep_settings_line(nad_arch_name(arch), what, &s, NULL, NULL, 0);
  if (!line) {
    rc = cli_error("out of memory");
    goto done;
  }
  bias_cell_ctx ctx = {arch, &s, nads, v};
  rc = sweep_run(&sw, out, sw.kind == SWEEP_GRID ? "fy,fx,accuracy" : "index,accuracy", line,
                 bias_cell, &ctx);
done:
  free(line);
  free(sw.cells);
  free(v);
  nad_free(nads);
  nad_arch_destroy(arch);
  return rc;
}
