/* `nad merge ARCH PART.ck... --out DIR`: the parts of a job array (each `nad estimate --range
 * A:B --checkpoint PART.ck`) merged into the results `nad estimate` writes for the whole run.
 * Checkpoints hold the settings that define a run but not the architecture itself, so ARCH and
 * those settings are given again, exactly as to `nad estimate`; the library refuses a part made
 * with other ones (naming the difference) and parts that overlap. Nothing is written unless
 * every part loads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "estimate.h"

#define CMD "merge"
#define MAX_PARTS 4096

typedef struct merge_args {
  cli_arch_opts ao;
  const char *scale, *mode, *eval_point, *seed, *threads, *top, *sketch, *out;
  int quiet;
} merge_args;

static int parse_args(int argc, char **argv, merge_args *a, estimate_run *r, const char **pos,
                      int *npos) {
  memset(a, 0, sizeof *a);
  const cli_opt opts[] = {
      {"input", 1, &a->ao.input, NULL},
      {"outputs", 1, &a->ao.outputs, NULL},
      {"spec", 1, &a->ao.spec_file, NULL},
      {"spec-string", 1, &a->ao.spec_string, NULL},
      {"init-rules", 1, &a->ao.init_rules, NULL},
      {"scale", 1, &a->scale, NULL},
      {"mode", 1, &a->mode, NULL},
      {"eval-point", 1, &a->eval_point, NULL},
      {"seed", 1, &a->seed, NULL},
      {"threads", 1, &a->threads, NULL},
      {"top", 1, &a->top, NULL},
      {"sketch", 1, &a->sketch, NULL},
      {"out", 1, &a->out, NULL},
      {"quiet", 0, NULL, &a->quiet},
  };
  int rc = cli_parse(CMD, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), pos, MAX_PARTS,
                     npos);
  if (rc)
    return rc;
  memset(r, 0, sizeof *r);
  r->command = CMD;
  r->scale = 100.0;
  const int64_t max_threads = cli_option_max(NAD_OPT_NUM_THREADS);
  r->threads = cli_num_cpus() < max_threads ? cli_num_cpus() : max_threads;
  r->mode = a->mode ? a->mode : "dipole";
  r->eval_point = a->eval_point ? a->eval_point : "normal";
  r->out_dir = a->out;
  r->quiet = a->quiet;
  r->batch = -1;
  if ((rc = cli_parse_double_pos("scale", a->scale, &r->scale)) ||
      (rc = cli_parse_i64("seed", a->seed, 0, INT64_MAX, &r->seed)) ||
      (rc = cli_parse_i64("threads", a->threads, 0, max_threads, &r->threads)) ||
      (rc = cli_parse_i64("top", a->top, 0, INT64_MAX, &r->top)) ||
      (rc = cli_parse_i64("sketch", a->sketch, 1, cli_option_max(NAD_OPT_SKETCH), &r->sketch)))
    return rc;
  if (r->threads == 0)
    r->threads = cli_num_cpus() < max_threads ? cli_num_cpus() : max_threads;
  if (strcmp(r->mode, "dipole") != 0 && strcmp(r->mode, "gradient") != 0)
    return cli_usage_error(CMD, "--mode: expected 'dipole' or 'gradient', got '%s'", r->mode);
  if (!a->out)
    return cli_usage_error(CMD, "missing --out DIR");
  /* ARCH first, unless the architecture comes from a spec. */
  const int spec = a->ao.spec_file || a->ao.spec_string;
  const int first = spec ? 0 : 1;
  if (!spec && *npos == 0)
    return cli_usage_error(CMD, "missing ARCH (the architecture the parts were computed for)");
  a->ao.name = spec ? NULL : pos[0];
  if (*npos - first < 1)
    return cli_usage_error(CMD, "missing PART.ck: give the checkpoints of the parts to merge");
  r->parts = pos + first;
  r->n_parts = *npos - first;
  for (int i = 0; i < r->n_parts; i++)
    for (int j = 0; j < i; j++)
      if (strcmp(r->parts[i], r->parts[j]) == 0)
        return cli_usage_error(CMD, "part '%s' is given twice", r->parts[i]);
  return 0;
}

int cli_cmd_merge(int argc, char **argv) {
  merge_args a;
  estimate_run r;
  const char **pos = malloc(MAX_PARTS * sizeof *pos);
  if (!pos)
    return cli_error("out of memory");
  int npos = 0;
  int rc = parse_args(argc, argv, &a, &r, pos, &npos);
  if (rc) {
    free(pos);
    return rc < 0 ? CLI_OK : rc;
  }
  nad_arch *arch = NULL;
  nad_estimator *e = NULL;
  nad_status st;
  int out_lock = -1;
  if ((rc = cli_make_arch(CMD, &a.ao, &arch)) != 0)
    goto done;
  r.arch_name = nad_arch_name(arch);
  if ((st = nad_arch_input_shape(arch, r.input)) != NAD_OK ||
      (st = nad_arch_num_outputs(arch, &r.outputs)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot describe architecture");
    goto done;
  }
  if ((st = nad_estimator_create(arch, &e)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot create estimator");
    goto done;
  }
  if ((rc = estimate_setup_options(e, arch, &r)) != 0)
    goto done;
  if ((rc = cli_out_dir(r.out_dir)) != 0)
    goto done;
  if ((rc = cli_lock_out_dir(r.out_dir, &out_lock)) != 0) /* one writer per --out (runset.c) */
    goto done;
  double t0 = cli_now();
  int64_t before = 0;
  for (int i = 0; i < r.n_parts; i++) {
    int64_t after = 0;
    if ((st = nad_estimator_load(e, r.parts[i])) != NAD_OK) {
      rc = cli_lib_error(st, "cannot merge part '%s'", r.parts[i]);
      goto done;
    }
    nad_estimator_networks_done(e, &after);
    if (after == before) {
      rc = cli_error("part '%s' holds no networks", r.parts[i]);
      goto done;
    }
    before = after;
  }
  r.networks = before;
  if ((st = nad_estimator_finalize(e)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot finalize the merged parts");
    goto done;
  }
  r.seconds = cli_now() - t0;
  r.networks_done = before;
  if ((st = nad_estimator_dims(e, &r.d, &r.k)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot read the results");
    goto done;
  }
  int64_t v = 0;
  if (nad_estimator_get_int(e, NAD_OPT_BATCH, &v) == NAD_OK)
    r.batch = v;
  rc = estimate_write_results(e, &r);
done:
  nad_estimator_destroy(e);
  nad_arch_destroy(arch);
  cli_unlock_out_dir(out_lock);
  free(pos);
  return rc;
}
