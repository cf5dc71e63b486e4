/* `nad merge [ARCH] PART.ck... --out DIR`: the parts of a job array (each `nad estimate --range
 * A:B --checkpoint PART.ck`) merged into the results `nad estimate` writes for the whole run.
 * A part (checkpoint format 4) records how its run was set up (run_record.c): the options not
 * given are taken from the parts, which must agree with each other, and the options given must
 * agree with them (an ONNX model's file is given again, its hash checked). Parts of formats 1
 * to 3 need ARCH and the options again, exactly as to `nad estimate`. The library refuses a part
 * made with other settings (naming the difference) and parts that overlap. Nothing is written
 * unless every part loads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "estimate.h"

#define CMD "merge"
#define MAX_PARTS 4096

typedef struct merge_args {
  run_texts t; /* the options that define the run, as given, then completed from the parts */
  const char *threads, *out, *model;
  int quiet, normalize;
  run_record *recs; /* one per part */
} merge_args;

/* A positional that is a part: "*.ck", or a file that starts with a checkpoint's magic. */
static int is_part(const char *arg) {
  size_t n = strlen(arg);
  if (n > 3 && strcmp(arg + n - 3, ".ck") == 0)
    return 1;
  if (cli_is_onnx_path(arg))
    return 0;
  FILE *f = fopen(arg, "rb");
  char magic[8] = {0};
  int part = f && fread(magic, 1, 8, f) == 8 && memcmp(magic, "NADCKPT", 8) == 0;
  if (f)
    fclose(f);
  return part;
}

/* Options and positionals: [ARCH] PART... */
static int parse_opts(int argc, char **argv, merge_args *a, estimate_run *r, const char **pos,
                      int *npos) {
  memset(a, 0, sizeof *a);
  run_texts *t = &a->t;
  const cli_opt opts[] = {
      {"input", 1, &t->ao.input, NULL},
      {"outputs", 1, &t->ao.outputs, NULL},
      {"spec", 1, &t->ao.spec_file, NULL},
      {"spec-string", 1, &t->ao.spec_string, NULL},
      {"init-rules", 1, &t->ao.init_rules, NULL},
      {"model", 1, &a->model, NULL},
      {"scale", 1, &t->scale, NULL},
      {"mode", 1, &t->mode, NULL},
      {"eval-point", 1, &t->eval_point, NULL},
      {"eval-split", 1, &t->eval_split, NULL},
      {"normalize", 0, NULL, &a->normalize},
      {"params", 1, &t->params, NULL},
      {"output", 1, &t->output, NULL},
      {"seed", 1, &t->seed, NULL},
      {"threads", 1, &a->threads, NULL},
      {"top", 1, &t->top, NULL},
      {"sketch", 1, &t->sketch, NULL},
      {"out", 1, &a->out, NULL},
      {"quiet", 0, NULL, &a->quiet},
  };
  int rc = cli_parse(CMD, argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), pos, MAX_PARTS,
                     npos);
  if (rc)
    return rc;
  memset(r, 0, sizeof *r);
  t->normalize = a->normalize ? "1" : NULL;
  if (!a->out)
    return cli_usage_error(CMD, "missing --out DIR");
  /* ARCH first, unless the architecture comes from a spec or the first positional is a part. */
  const int spec = t->ao.spec_file || t->ao.spec_string;
  const int first = spec || *npos == 0 || is_part(pos[0]) ? 0 : 1;
  t->ao.name = first ? pos[0] : NULL;
  if (a->model && t->ao.name)
    return cli_usage_error(CMD, "give the model either as ARCH or with --model, not both");
  if (a->model)
    t->ao.name = a->model;
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

/* The parts' run records: they agree with each other; the options not given are taken from
 * them, those given must agree. Parts of format 3 and before have none: ARCH and the options
 * are then given as the run had them (the library checks them). */
static int complete_from_parts(merge_args *a, const estimate_run *r) {
  a->recs = calloc((size_t)r->n_parts, sizeof *a->recs);
  if (!a->recs)
    return cli_error("out of memory");
  int rc = 0, ref = -1;
  for (int i = 0; i < r->n_parts && !rc; i++) {
    if ((rc = run_record_read(r->parts[i], &a->recs[i])) != 0)
      break;
    if (a->recs[i].rec && ref < 0)
      ref = i;
    else if (a->recs[i].rec)
      rc = run_record_compare(&a->recs[ref], &a->recs[i]);
  }
  if (rc)
    return rc;
  const run_texts *t = &a->t;
  if (ref < 0 && !t->ao.name && !t->ao.spec_file && !t->ao.spec_string)
    return cli_usage_error(CMD, "'%s' is a checkpoint of format %d, which does not record its "
                                "run: give ARCH and the run's options (as to 'nad estimate')",
                           r->parts[0], (int)a->recs[0].version);
  return ref < 0 ? 0 : run_record_apply(&a->recs[ref], &a->t, 0);
}

/* The option texts into r, as `nad estimate` reads them. */
static int parse_values(merge_args *a, estimate_run *r) {
  const run_texts *t = &a->t;
  int rc;
  r->command = CMD;
  r->scale = 100.0;
  const int64_t max_threads = cli_option_max(NAD_OPT_NUM_THREADS);
  r->threads = cli_num_cpus() < max_threads ? cli_num_cpus() : max_threads;
  r->mode = t->mode ? t->mode : "dipole";
  r->eval_point = t->eval_point ? t->eval_point : "normal";
  r->eval_split = t->eval_split ? t->eval_split : "test";
  r->normalize = t->normalize && strcmp(t->normalize, "1") == 0;
  r->params = t->params;
  r->out_dir = a->out;
  r->quiet = a->quiet;
  r->batch = -1;
  r->output = 0;
  if (t->output && strcmp(t->output, "label") == 0)
    r->output = NAD_OUTPUT_LABEL;
  else if ((rc = cli_parse_i64("output", t->output, 0, INT32_MAX, &r->output)))
    return rc;
  if ((rc = cli_parse_double_pos("scale", t->scale, &r->scale)) ||
      (rc = cli_parse_i64("seed", t->seed, 0, INT64_MAX, &r->seed)) ||
      (rc = cli_parse_i64("threads", a->threads, 0, max_threads, &r->threads)) ||
      (rc = cli_parse_i64("top", t->top, 0, INT64_MAX, &r->top)) ||
      (rc = cli_parse_i64("sketch", t->sketch, 1, cli_option_max(NAD_OPT_SKETCH), &r->sketch)))
    return rc;
  if (r->threads == 0)
    r->threads = cli_num_cpus() < max_threads ? cli_num_cpus() : max_threads;
  if (strcmp(r->mode, "dipole") != 0 && strcmp(r->mode, "gradient") != 0)
    return cli_usage_error(CMD, "--mode: expected 'dipole' or 'gradient', got '%s'", r->mode);
  const int data = strncmp(r->eval_point, "data:", 5) == 0;
  if (!data && (t->eval_split || r->normalize || r->params || r->output == NAD_OUTPUT_LABEL))
    return cli_usage_error(CMD, "--eval-split, --normalize, --params and --output label need "
                                "--eval-point data:SOURCE");
  return 0;
}

static void merge_args_free(merge_args *a, const estimate_run *r) {
  for (int i = 0; a->recs && i < r->n_parts; i++)
    run_record_free(&a->recs[i]);
  free(a->recs);
}

int cli_cmd_merge(int argc, char **argv) {
  merge_args a;
  estimate_run r;
  const char **pos = malloc(MAX_PARTS * sizeof *pos);
  if (!pos)
    return cli_error("out of memory");
  int npos = 0;
  int rc = parse_opts(argc, argv, &a, &r, pos, &npos);
  if (rc == 0)
    rc = complete_from_parts(&a, &r);
  if (rc == 0)
    rc = parse_values(&a, &r);
  if (rc) {
    merge_args_free(&a, &r);
    free(pos);
    return rc < 0 ? CLI_OK : rc;
  }
  nad_arch *arch = NULL;
  nad_estimator *e = NULL;
  nad_status st;
  int out_lock = -1;
  if ((rc = cli_make_arch(CMD, &a.t.ao, &arch)) != 0)
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
  merge_args_free(&a, &r);
  free(pos);
  return rc;
}
