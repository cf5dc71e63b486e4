/* `nad bias`: train a fresh network on the linearly separable distribution D(v) of one
 * direction v and report its test accuracy (the paper's directional-bias experiment); the
 * options, directions and the training run are bias.c's. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bias.h"

#define CMD "bias"

static void print_json(const char *arch_name, const char *direction, const bias_settings *s,
                       const bias_result *r) {
  cli_json j;
  cli_json_init(&j, stdout);
  j.compact = 0; /* one line */
  cli_json_begin_object(&j, NULL);
  cli_train_json_result(&j, r, "test_accuracy", "train_accuracy");
  if (r->epochs_to_90 >= 0)
    cli_json_int(&j, "epochs_to_90", r->epochs_to_90);
  else
    cli_json_double(&j, "epochs_to_90", NAN); /* null */
  cli_json_string(&j, "arch", arch_name);
  cli_json_string(&j, "direction", direction);
  bias_json_settings(&j, s);
  cli_json_int(&j, "threads", s->threads);
  cli_json_end_object(&j);
  cli_json_finish(&j);
}

int cli_cmd_bias(int argc, char **argv) {
  bias_args a;
  memset(&a, 0, sizeof a);
  const char *direction = NULL;
  int json = 0;
  cli_opt opts[BIAS_NOPTS + 2];
  bias_options(&a, opts);
  opts[BIAS_NOPTS] = (cli_opt){"direction", 1, &direction, NULL};
  opts[BIAS_NOPTS + 1] = (cli_opt){"json", 0, NULL, &json};
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, BIAS_NOPTS + 2, pos, 1, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  a.ao.name = npos > 0 ? pos[0] : NULL;
  if ((rc = cli_need_arch(CMD, &a.ao, "ARCH")) != 0)
    return rc;
  bias_settings s;
  if ((rc = bias_parse_settings(CMD, &a, &s)) != 0)
    return rc;
  if (!direction)
    return cli_usage_error(CMD, "missing --direction (%s)", BIAS_DIRECTION_FORMS);
  nad_arch *arch = NULL;
  if ((rc = bias_make_arch(CMD, &a, &s, &arch)) != 0)
    return rc;
  const int64_t d = s.input[0] * s.input[1] * s.input[2];
  float *v = malloc((size_t)d * sizeof(float));
  bias_result r = {0};
  if (!v) {
    rc = cli_error("out of memory");
    goto done;
  }
  if ((rc = bias_direction(CMD, direction, &s, v)) != 0)
    goto done;
  cli_signals_install();
  rc = bias_train(arch, v, &s, "", 1, &r);
  cli_signals_restore();
  if (rc != 0)
    goto done;
  if (json)
    print_json(nad_arch_name(arch), direction, &s, &r);
  else
    printf("test accuracy %.2f %% (train %.2f %%, %lld epochs, %.1f s)\n", r.test_acc,
           r.train_acc, (long long)r.epochs_done, r.seconds);
done:
  cli_train_result_free(&r);
  free(v);
  nad_arch_destroy(arch);
  return rc;
}
