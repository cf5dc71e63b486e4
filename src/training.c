/* One training run of the CLI (training.h). */
#include "training.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run_ctx {
  const cli_train_settings *s;
  const char *label;
  cli_train_result *r;
} run_ctx;

static int on_epoch(void *user_data, int64_t epoch, double loss, double train_acc,
                    double test_acc, double seconds) {
  run_ctx *c = user_data;
  cli_train_result *r = c->r;
  r->epochs_done = epoch;
  r->train_loss = loss;
  r->train_acc = train_acc;
  r->test_acc = test_acc;
  r->test_hist[epoch - 1] = test_acc;
  if (r->epochs_to_90 < 0 && train_acc >= 90.0)
    r->epochs_to_90 = epoch;
  if (!c->s->quiet)
    cli_epoch_line(c->label, epoch, c->s->epochs, loss, train_acc, test_acc, seconds);
  return cli_signal() != 0; /* non-zero: the trainer stops with NAD_ERR_CANCELLED */
}

static int configure(nad_trainer *t, const cli_train_settings *s) {
  const struct {
    nad_option o;
    int64_t v;
    const char *what;
  } ints[] = {{NAD_OPT_EPOCHS, s->epochs, "--epochs"},
              {NAD_OPT_BATCH, s->batch, "--batch"},
              {NAD_OPT_NUM_THREADS, s->threads, "--threads"},
              {NAD_OPT_SCHEDULE, s->schedule, "--schedule"}};
  const struct {
    nad_option o;
    double v;
    const char *what;
  } dbls[] = {{NAD_OPT_LR, s->lr, "--lr"},
              {NAD_OPT_MOMENTUM, s->momentum, "--momentum"},
              {NAD_OPT_WEIGHT_DECAY, s->weight_decay, "--weight-decay"},
              {NAD_OPT_CLIP, s->clip, "--clip"}};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    nad_status st = nad_trainer_set_int(t, ints[i].o, ints[i].v);
    if (st != NAD_OK)
      return cli_lib_error(st, "%s %lld", ints[i].what, (long long)ints[i].v);
  }
  for (size_t i = 0; i < sizeof dbls / sizeof dbls[0]; i++) {
    nad_status st = nad_trainer_set_double(t, dbls[i].o, dbls[i].v);
    if (st != NAD_OK)
      return cli_lib_error(st, "%s %g", dbls[i].what, dbls[i].v);
  }
  return 0;
}

void cli_train_result_free(cli_train_result *r) {
  free(r->test_hist);
  free(r->params);
  r->test_hist = NULL;
  r->params = NULL;
}

/* The trained parameters into r (CLI_TRAIN_KEEP_PARAMS). */
static int keep_params(const nad_arch *arch, nad_trainer *t, cli_train_result *r) {
  nad_status st = nad_arch_num_params(arch, &r->num_params);
  if (st != NAD_OK)
    return cli_lib_error(st, "cannot count the parameters");
  r->params = malloc((size_t)r->num_params * sizeof(float));
  if (!r->params)
    return cli_error("out of memory");
  st = nad_trainer_get_params(t, r->params, (size_t)r->num_params);
  return st == NAD_OK ? 0 : cli_lib_error(st, "cannot read the parameters");
}

int cli_train(const nad_arch *arch, uint64_t seed, const cli_train_settings *s,
              const nad_dataset *train, const nad_dataset *test, unsigned flags,
              const char *label, cli_train_result *r) {
  memset(r, 0, sizeof *r);
  r->epochs_to_90 = -1;
  r->test_acc = r->train_acc = r->train_loss = NAN;
  r->test_hist = malloc((size_t)s->epochs * sizeof(double));
  if (!r->test_hist)
    return cli_error("out of memory");
  for (int64_t i = 0; i < s->epochs; i++)
    r->test_hist[i] = NAN;
  nad_trainer *t = NULL;
  nad_status st = nad_trainer_create(arch, seed, &t);
  int rc = st == NAD_OK ? configure(t, s) : cli_lib_error(st, "cannot create the trainer");
  if (rc == 0) {
    run_ctx ctx = {s, label ? label : "", r};
    nad_trainer_set_epoch_callback(t, on_epoch, &ctx);
    const int each = (flags & CLI_TRAIN_TEST_EACH_EPOCH) != 0;
    double t0 = cli_now();
    cli_signals_target(NULL, t); /* Ctrl-C stops within a chunk of a batch, not an epoch */
    st = cli_signal() ? NAD_ERR_CANCELLED : nad_trainer_fit(t, train, each ? test : NULL);
    if (st == NAD_OK && !each) {
      st = nad_trainer_evaluate(t, test, &r->test_acc, NULL);
      r->test_hist[s->epochs - 1] = r->test_acc;
    }
    if (st == NAD_OK && (flags & CLI_TRAIN_EVAL_TRAIN))
      st = nad_trainer_evaluate(t, train, &r->train_acc, NULL);
    r->seconds = cli_now() - t0;
    cli_signals_target(NULL, NULL); /* before the trainer is destroyed */
    if (st == NAD_ERR_CANCELLED) {
      fprintf(stderr, "nad: cancelled after %lld of %lld epochs\n", (long long)r->epochs_done,
              (long long)s->epochs);
      rc = cli_signal_exit_code();
    } else if (st != NAD_OK) {
      rc = cli_lib_error(st, "training failed");
    }
  }
  if (rc == 0 && (flags & CLI_TRAIN_KEEP_PARAMS))
    rc = keep_params(arch, t, r);
  nad_trainer_destroy(t);
  if (rc)
    cli_train_result_free(r);
  return rc;
}

void cli_train_json_result(cli_json *j, const cli_train_result *r, const char *test_key,
                           const char *train_key) {
  char hist_key[64];
  snprintf(hist_key, sizeof hist_key, "%s_per_epoch", test_key);
  cli_json_double(j, test_key, r->test_acc);
  cli_json_double(j, train_key, r->train_acc);
  cli_json_double(j, "train_loss", r->train_loss);
  cli_json_int(j, "epochs", r->epochs_done);
  cli_json_double(j, "seconds", r->seconds);
  cli_json_begin_array(j, hist_key, 1);
  for (int64_t i = 0; i < r->epochs_done; i++)
    cli_json_double(j, NULL, r->test_hist[i]);
  cli_json_end_array(j);
}
