/* Shared by `nad train`, `nad poison` and `nad sweep --poison` (cmd_train.c, cmd_poison.c,
 * cmd_sweep.c): the data and training options, loading both splits of a source, the
 * architecture for its shape and classes, and one training run with per-epoch progress. */
#ifndef NAD_CLI_REALDATA_H
#define NAD_CLI_REALDATA_H

#include "cli.h"
#include "training.h"

/* Option texts as given (NULL when absent). */
typedef struct real_args {
  const char *name; /* positional ARCH */
  const char *spec_file, *spec_string;
  const char *init_rules; /* --init-rules FILE */
  const char *data, *size, *train_samples, *test_samples, *epochs, *lr, *momentum,
      *weight_decay, *batch, *schedule, *seed, *clip, *threads;
  const char *input, *outputs; /* refused: the data define them */
  int normalize, quiet;
} real_args;

#define REAL_NOPTS 20 /* entries real_options() fills */

/* The data, training and architecture options as parser entries into opts[0 .. REAL_NOPTS). */
void real_options(real_args *a, cli_opt *opts);

/* Parsed settings. Defaults are those of the reference poisoning script (LeNet on
 * Fashion-MNIST): 10 epochs, batch 128, SGD lr 0.05, momentum 0.9, weight decay 5e-4,
 * one-cycle schedule, no clipping; images zero-padded / cropped to 32x32. */
typedef struct real_settings {
  const char *data;
  int64_t size[2]; /* 0, 0: the stored size */
  int64_t train_samples, test_samples; /* 0: all */
  int64_t epochs, batch, seed, threads;
  double lr, momentum, weight_decay, clip;
  int schedule; /* nad_schedule */
  int normalize, quiet;
} real_settings;

/* --size "HxW" (sides 1..65536) or "native" (0, 0); NULL leaves size untouched. 0 or
 * CLI_USAGE (message printed). */
int real_parse_size(const char *command, const char *text, int64_t size[2]);

/* Returns 0 or CLI_USAGE (message printed); --data is required. */
int real_parse_settings(const char *command, const real_args *a, real_settings *s);

/* Both splits of s->data, resized, cut to the sample limits and (with --normalize) normalised
 * with the training split's channel statistics. */
typedef struct real_data {
  nad_dataset *train, *test;
  int64_t shape[3]; /* per sample */
  int64_t classes;  /* of the training split */
} real_data;

/* 0 or CLI_ERR (message printed, names the file and the problem). */
int real_load(const real_settings *s, real_data *d);
void real_data_free(real_data *d);

/* The architecture for the data: a builtin gets the data's shape and one output per class; a
 * spec needs as many outputs. 0, CLI_USAGE or CLI_ERR (message printed). */
int real_make_arch(const char *command, const real_args *a, const real_data *d, nad_arch **out);

/* One run's result (training.h): accuracies, loss, time, per-epoch test accuracy, parameters. */
typedef cli_train_result real_result;

/* Trains a fresh network of arch (initialised from s->seed) on `train`, evaluating on d->test
 * after every epoch (progress on stderr unless quiet, prefixed by label), then on `train`.
 * Stops on SIGINT/SIGTERM (cli_signals_install) with 128 + signal. keep_params: also return
 * the parameters. 0 or CLI_ERR. */
int real_train(const nad_arch *arch, const nad_dataset *train, const real_data *d,
               const real_settings *s, const char *label, int keep_params, real_result *r);

/* The data and training settings as JSON members (data, shape, classes, size, normalize,
 * train_samples, test_samples, batch, lr, momentum, weight_decay, clip, schedule, seed; the
 * epochs are the caller's: done or asked). */
void real_json_settings(cli_json *j, const real_settings *s, const real_data *d);

/* Rows of DIR/nads.npy as single-channel NADs of the data's h x w: reads them into *nads
 * (nad_free) and *count. 0 or CLI_ERR (a D that does not match the data is named). */
int real_read_nads(const char *dir, const real_data *d, float **nads, int64_t *count);

/* --epsilon: a finite number >= 0 (CLI_USAGE, message printed, for anything else, e.g.
 * negative, nan, inf). A NULL text is a missing --epsilon. */
int real_parse_epsilon(const char *command, const char *text, double *eps);

#endif
