/* `nad train ARCH --data SOURCE`: train a fresh network on a real dataset (one output per
 * class), evaluating on its test split after every epoch (stderr), and optionally save the
 * trained parameters. */
#include <stdlib.h>
#include <string.h>

#include "realdata.h"

#define CMD "train"

static void print_json(const char *arch, const real_settings *s, const real_data *d,
                       const real_result *r, const char *save) {
  cli_json j;
  cli_json_init(&j, stdout);
  j.compact = 0; /* one line */
  cli_json_begin_object(&j, NULL);
  cli_train_json_result(&j, r, "test_accuracy", "train_accuracy");
  cli_json_string(&j, "arch", arch);
  cli_json_string(&j, "params", save);
  real_json_settings(&j, s, d);
  cli_json_int(&j, "threads", s->threads);
  cli_json_end_object(&j);
  cli_json_finish(&j);
}

int cli_cmd_train(int argc, char **argv) {
  real_args a;
  memset(&a, 0, sizeof a);
  const char *save = NULL;
  int json = 0;
  cli_opt opts[REAL_NOPTS + 2];
  real_options(&a, opts);
  opts[REAL_NOPTS] = (cli_opt){"save", 1, &save, NULL};
  opts[REAL_NOPTS + 1] = (cli_opt){"json", 0, NULL, &json};
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, REAL_NOPTS + 2, pos, 1, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  a.name = npos > 0 ? pos[0] : NULL;
  real_settings s;
  if ((rc = real_parse_settings(CMD, &a, &s)) != 0 ||
      (save && (rc = cli_out_file("save", &save, 1)) != 0))
    return rc;
  if (json && cli_stdout_owner())
    return cli_usage_error(CMD, "--json and --save - both write to standard output; name a "
                                "file for --save");
  real_data d;
  if ((rc = real_load(&s, &d)) != 0)
    return rc;
  nad_arch *arch = NULL;
  real_result r = {0};
  if ((rc = real_make_arch(CMD, &a, &d, &arch)) != 0)
    goto done;
  cli_signals_install();
  rc = real_train(arch, d.train, &d, &s, "", save != NULL, &r);
  cli_signals_restore();
  if (rc != 0)
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
    print_json(nad_arch_name(arch), &s, &d, &r, save);
  else
    fprintf(cli_text_out(), "test accuracy %.2f %% (train %.2f %%, %lld epochs, %.1f s)%s%s\n",
            r.test_acc, r.train_acc, (long long)r.epochs_done, r.seconds,
            save ? "; parameters in " : "", save ? save : "");
done:
  cli_train_result_free(&r);
  nad_arch_destroy(arch);
  real_data_free(&d);
  return rc;
}
