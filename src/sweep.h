/* The engine of `nad sweep` (sweep.c), shared by its modes: D(v) over a Fourier grid or NAD
 * indices (sweep_dv.c) and poisoning per NAD index (sweep_poison.c). */
#ifndef NAD_CLI_SWEEP_H
#define NAD_CLI_SWEEP_H

#include "bias.h"
#include "realdata.h"

#define SWEEP_PATH_LEN 4096
#define SWEEP_MAX_CELLS 65536 /* one training per cell: more is a typo, not a sweep */

typedef struct sweep_cell {
  int64_t a, b; /* grid: fy, fx; nads and poison: index, unused */
  double acc;   /* NaN until done (poison: clean test accuracy) */
  double acc2;  /* poison: accuracy on the poisoned training set */
} sweep_cell;

enum { SWEEP_NADS = 0, SWEEP_GRID = 1, SWEEP_POISON = 2 };

typedef struct sweep {
  int kind;
  int64_t rows, cols; /* grid shape (nads, poison: 1 x count) */
  int64_t ncells;
  sweep_cell *cells;
  double acc_lo, acc_hi; /* scale of the figure */
  int quiet;
  nad_figure_format format;
  const char *format_name; /* the figure's file extension */
  int64_t step;            /* grid: frequency step between cells */
  char title[SWEEP_PATH_LEN + 128];
  char csv[SWEEP_PATH_LEN], figure[SWEEP_PATH_LEN], settings[SWEEP_PATH_LEN];
} sweep;

/* Runs one cell: fills c->acc (and c->acc2), *seconds; 0, CLI_ERR or 128 + signal. */
typedef int (*sweep_cell_fn)(void *ctx, sweep_cell *c, const char *label, double *seconds);

/* The settings that define the results, as one JSON line (threads excluded: results agree
 * across thread counts up to rounding): the D(v) settings bs, or the real-data settings rs, rd
 * and the carrier amplitude. NULL when out of memory; the caller frees. */
char *sweep_settings_line(const char *arch, const char *what, const bias_settings *bs,
                          const real_settings *rs, const real_data *rd, double epsilon);

/* One sweep per --out directory at a time (runset.c: a second one fails at once): resumes or
 * starts the CSV in out, runs the cells not done yet with fn, and keeps the figure current.
 * `line` is the settings line that sweep.json must hold. 0, CLI_ERR or 128 + signal. */
int sweep_run(sweep *sw, const char *out, const char *header, const char *line, sweep_cell_fn fn,
              void *ctx);

/* The modes: `nad sweep --grid fourier | --nads DIR --indices A:B:STEP` (sweep_dv.c) and
 * `nad sweep --poison ...` (sweep_poison.c); argv as given to the command. */
int sweep_dv_main(int argc, char **argv);
int sweep_poison_main(int argc, char **argv);

#endif
