/* `nad poison ARCH --data SOURCE --nads DIR --index I --epsilon E`: the paper's poisoning
 * experiment (Section 4). The training split is poisoned with NAD carriers (nad.h,
 * nad_dataset_poison: class t's component along NAD I + t / (2C) on channel t % C replaced by
 * (2(t % 2) − 1)·E), a fresh network trains on it, and the accuracy on the poisoned training set
 * and on the *clean* test split tell whether the network latched onto the carriers. One poisoned
 * run and its picture are poison_run.c's (shared with `nad sweep --poison`). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "poison_run.h"

#define CMD "poison"

static void print_json(const char *arch, const char *nads_dir, int64_t count, int64_t index,
                       double epsilon, const real_settings *s, const real_data *d,
                       const real_result *r, const char *picture) {
  cli_json j;
  cli_json_init(&j, stdout);
  j.compact = 0; /* one line */
  cli_json_begin_object(&j, NULL);
  cli_train_json_result(&j, r, "clean_test_accuracy", "poisoned_train_accuracy");
  cli_json_int(&j, "index", index);
  cli_json_double(&j, "epsilon", epsilon);
  cli_json_string(&j, "arch", arch);
  cli_json_string(&j, "nads", nads_dir);
  cli_json_int(&j, "nad_count", count);
  cli_json_string(&j, "picture", picture);
  real_json_settings(&j, s, d);
  cli_json_int(&j, "threads", s->threads);
  cli_json_end_object(&j);
  cli_json_finish(&j);
}

int cli_cmd_poison(int argc, char **argv) {
  real_args a;
  memset(&a, 0, sizeof a);
  const char *nads_dir = NULL, *index_s = NULL, *eps_s = NULL, *out = NULL, *save = NULL;
  const char *format_s = NULL, *ext = NULL;
  nad_figure_format fmt;
  int json = 0;
  cli_opt opts[REAL_NOPTS + 7];
  real_options(&a, opts);
  opts[REAL_NOPTS] = (cli_opt){"nads", 1, &nads_dir, NULL};
  opts[REAL_NOPTS + 1] = (cli_opt){"index", 1, &index_s, NULL};
  opts[REAL_NOPTS + 2] = (cli_opt){"epsilon", 1, &eps_s, NULL};
  opts[REAL_NOPTS + 3] = (cli_opt){"out", 1, &out, NULL};
  opts[REAL_NOPTS + 4] = (cli_opt){"save", 1, &save, NULL};
  opts[REAL_NOPTS + 5] = (cli_opt){"json", 0, NULL, &json};
  opts[REAL_NOPTS + 6] = (cli_opt){"format", 1, &format_s, NULL};
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, REAL_NOPTS + 7, pos, 1, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  if ((rc = cli_parse_format(format_s, &fmt, &ext)) != 0)
    return rc;
  a.name = npos > 0 ? pos[0] : NULL;
  real_settings s;
  if ((rc = real_parse_settings(CMD, &a, &s)) != 0 ||
      (save && (rc = cli_out_file("save", &save, 1)) != 0))
    return rc;
  if (json && cli_stdout_owner())
    return cli_usage_error(CMD, "--json and --save - both write to standard output; name a "
                                "file for --save");
  if (!nads_dir)
    return cli_usage_error(CMD, "missing --nads DIR (a directory written by 'nad estimate')");
  if (!index_s)
    return cli_usage_error(CMD, "missing --index I (the first carrier NAD)");
  int64_t index = 0;
  double epsilon = 0;
  if ((rc = cli_parse_i64("index", index_s, 0, INT64_MAX, &index)) != 0 ||
      (rc = real_parse_epsilon(CMD, eps_s, &epsilon)) != 0)
    return rc;
  char picture[4096] = "";
  if (out) {
    if (snprintf(picture, sizeof picture, "%s/poison.%s", out, ext) >= (int)sizeof picture)
      return cli_error("--out: path too long: '%s'", out);
    if ((rc = cli_out_dir(out)) != 0)
      return rc;
  }
  real_data d;
  if ((rc = real_load(&s, &d)) != 0)
    return rc;
  nad_arch *arch = NULL;
  float *nads = NULL;
  int64_t count = 0;
  real_result r = {0};
  nad_dataset *poisoned = NULL;
  if ((rc = real_make_arch(CMD, &a, &d, &arch)) != 0 ||
      (rc = real_read_nads(nads_dir, &d, &nads, &count)) != 0)
    goto done;
  cli_signals_install();
  rc = poison_run(arch, &d, &s, nads, count, index, epsilon, "", save != NULL, &r,
                  out ? &poisoned : NULL);
  cli_signals_restore();
  if (rc != 0)
    goto done;
  if (out && (rc = poison_picture(picture, fmt, &d, poisoned, nads, count, index)) != 0)
    goto done;
  if (save) {
    int64_t shape[1] = {r.num_params};
    nad_status st = nad_npy_write(save, r.params, 0, shape, 1);
    if (st != NAD_OK) {
      rc = cli_lib_error(st, "--save");
      goto done;
    }
  }
  if (json)
    print_json(nad_arch_name(arch), nads_dir, count, index, epsilon, &s, &d, &r,
               out ? picture : NULL);
  else
    fprintf(cli_text_out(),
            "NAD %lld, epsilon %g: clean test accuracy %.2f %%, poisoned training accuracy "
            "%.2f %% (%lld epochs, %.1f s)%s%s\n", (long long)index, epsilon, r.test_acc,
            r.train_acc, (long long)r.epochs_done, r.seconds, out ? "; picture " : "",
            out ? picture : "");
done:
  cli_train_result_free(&r);
  nad_dataset_destroy(poisoned);
  nad_free(nads);
  nad_arch_destroy(arch);
  real_data_free(&d);
  return rc;
}
