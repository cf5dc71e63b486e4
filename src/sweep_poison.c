/* `nad sweep --poison --data SOURCE --nads DIR --indices LIST --epsilon E`: one poisoned run
 * (poison_run.c) per NAD index, through the sweep engine (sweep.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "poison_run.h"
#include "sweep.h"

#define CMD "sweep"

/* --poison: indices and ranges, each index once (the one range parser, ranges.c). */
static const cli_range_rule poison_rule = {
    CLI_RANGE_ANY, "NAD indices and ranges A:B or A:B:STEP separated by commas (B excluded; e.g. "
                   "0:40:20 or 0,10,100)", "trainings", 1};

/* ---- poisoned cells -------------------------------------------------------------------------- */

typedef struct poison_cell_ctx {
  const nad_arch *arch;
  const real_data *d;
  const real_settings *s;
  const float *nads;
  int64_t count;
  double epsilon;
} poison_cell_ctx;

static int poison_cell(void *ctx, sweep_cell *c, const char *label, double *seconds) {
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

int sweep_poison_main(int argc, char **argv) {
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
  sw.cells = malloc((size_t)nlist * sizeof(sweep_cell));
  if (!sw.cells) {
    rc = cli_error("out of memory");
    goto done;
  }
  for (int64_t i = 0; i < nlist; i++)
    sw.cells[i] = (sweep_cell){list[i], 0, NAN, NAN};
  char what[SWEEP_PATH_LEN + 64];
  snprintf(what, sizeof what, "poison nads %s indices %s", nads_dir, indices);
  line = sweep_settings_line(nad_arch_name(arch), what, NULL, &s, &d, epsilon);
  if (!line) {
    rc = cli_error("out of memory");
    goto done;
  }
  poison_cell_ctx ctx = {arch, &d, &s, nads, count, epsilon};
  rc = sweep_run(&sw, out, "index,clean_test_accuracy,poisoned_train_accuracy", line,
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

