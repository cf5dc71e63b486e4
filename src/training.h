/* One training run of the CLI, shared by the synthetic experiments (`bias`, `sweep`: D(v)) and
 * the real-data ones (`train`, `poison`, `sweep --poison`): trainer creation, options, per-epoch
 * progress on stderr, SIGINT/SIGTERM, the final evaluations and the parameters. */
#ifndef NAD_CLI_TRAINING_H
#define NAD_CLI_TRAINING_H

#include "cli.h"

/* The trainer's options as parsed by the command (every value already validated there; the
 * library checks again and its message names the option). */
typedef struct cli_train_settings {
  int64_t epochs, batch, threads;
  int64_t schedule; /* nad_schedule */
  double lr, momentum, weight_decay, clip;
  int quiet; /* no per-epoch lines */
} cli_train_settings;

typedef struct cli_train_result {
  double test_acc;      /* on the test set, after the last epoch */
  double train_acc;     /* last epoch's running accuracy, or (CLI_TRAIN_EVAL_TRAIN) eval mode */
  double train_loss;    /* last epoch's mean training loss */
  double seconds;       /* training and the evaluations */
  int64_t epochs_done;
  int64_t epochs_to_90; /* first epoch with (running) train accuracy >= 90 %, or -1 */
  double *test_hist;    /* per epoch (settings' epochs entries; NAN where not evaluated) */
  float *params;        /* CLI_TRAIN_KEEP_PARAMS: the trained parameters (num_params floats) */
  int64_t num_params;
} cli_train_result;

enum {
  CLI_TRAIN_TEST_EACH_EPOCH = 1, /* evaluate on the test set after every epoch, not only last */
  CLI_TRAIN_EVAL_TRAIN = 2,      /* then evaluate on the training set (eval mode) */
  CLI_TRAIN_KEEP_PARAMS = 4      /* then keep the parameters in the result */
};

/* Trains a fresh network of arch, initialised from seed, on `train`, and measures it on `test`
 * as `flags` say. `label` prefixes the progress lines. Returns 0, CLI_ERR (message printed) or,
 * when a signal stopped it (cli_signals_install), 128 + signal; r is filled on success and
 * empty (nothing to free) otherwise. */
int cli_train(const nad_arch *arch, uint64_t seed, const cli_train_settings *s,
              const nad_dataset *train, const nad_dataset *test, unsigned flags,
              const char *label, cli_train_result *r);

/* Frees what a result owns (test_hist, params); the result can be freed twice. */
void cli_train_result_free(cli_train_result *r);

/* The result as JSON members: test_key and train_key (accuracies in percent), train_loss, epochs,
 * seconds and <test_key>_per_epoch. */
void cli_train_json_result(cli_json *j, const cli_train_result *r, const char *test_key,
                           const char *train_key);

#endif
