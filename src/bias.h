/* The D(v) experiment (bias.c), shared by `nad bias` (cmd_bias.c) and `nad sweep` (sweep_dv.c):
 * the training options, the parsing of directions and one training run on D(v) with progress
 * and Ctrl-C handling. */
#ifndef NAD_CLI_BIAS_H
#define NAD_CLI_BIAS_H

#include "cli.h"
#include "training.h"

/* Option texts as given (NULL when absent). */
typedef struct bias_args {
  cli_arch_opts ao;
  const char *epsilon, *sigma, *train, *test, *epochs, *batch, *lr, *momentum, *weight_decay,
      *clip, *seed, *threads;
  int quiet;
} bias_args;

#define BIAS_NOPTS 18 /* entries bias_options() fills */

/* The training options and the architecture options (--input, --spec, --spec-string) as
 * parser entries into opts[0 .. BIAS_NOPTS). */
void bias_options(bias_args *a, cli_opt *opts);

/* Parsed and validated settings, with the defaults of the reference setup. */
typedef struct bias_settings {
  int64_t input[3];
  double epsilon, sigma, lr, momentum, weight_decay, clip;
  int64_t train, test, epochs, batch, seed, threads;
  int quiet;
} bias_settings;

/* The data and training settings as JSON members (input, epsilon, sigma, train, test, batch, lr,
 * momentum, weight_decay, clip, seed): shared by `bias --json` and the sweep's settings line. */
void bias_json_settings(cli_json *j, const bias_settings *s);

/* Returns 0 or CLI_USAGE (message printed). */
int bias_parse_settings(const char *command, const bias_args *a, bias_settings *s);
/* The architecture (2 outputs for a builtin; a spec needs >= 2); 0, CLI_USAGE or CLI_ERR. */
int bias_make_arch(const char *command, bias_args *a, bias_settings *s, nad_arch **out);

/* The forms of a direction, for messages. */
#define BIAS_DIRECTION_FORMS "fourier:FY,FX[,sin|cos], nad:K:DIR, random[:SEED] or FILE.npy"

/* Reads the direction `spec` (fourier:FY,FX[,sin|cos] | nad:K:DIR | random[:SEED] |
 * FILE.npy) into v (D = c·h·w floats, not necessarily unit norm). Returns 0, CLI_USAGE or
 * CLI_ERR (message printed). */
int bias_direction(const char *command, const char *spec, const bias_settings *s, float *v);

/* Rows of DIR/nads.npy (K × D with D = c·h·w): reads the file into *nads (nad_free) and *k. */
int bias_read_nads(const char *dir, const bias_settings *s, float **nads, int64_t *k);

/* One run's result (training.h); epochs_to_90 counts the running train accuracy. */
typedef cli_train_result bias_result;

/* Trains a fresh network of arch (initialised from s->seed) on D(v): training data from seed
 * 2·seed + 1, test data from 2·seed + 2, evaluated after every epoch (test_each_epoch) or only
 * after the last one (the same final accuracy, less time). `label` prefixes the progress lines on
 * stderr (unless quiet). A signal (cli_signals_install) stops it: returns 128 + signal then.
 * Returns 0 or CLI_ERR. */
int bias_train(const nad_arch *arch, const float *v, const bias_settings *s, const char *label,
               int test_each_epoch, bias_result *r);

#endif
