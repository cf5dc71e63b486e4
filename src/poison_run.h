/* Shared by `nad poison` (cmd_poison.c) and `nad sweep --poison` (sweep_poison.c): one run of
 * the poisoning experiment and its picture (poison_run.c). */
#ifndef NAD_CLI_POISON_RUN_H
#define NAD_CLI_POISON_RUN_H

#include "realdata.h"

/* Poisons d->train with the carriers of NAD `index` (count NADs of h·w floats) and amplitude
 * epsilon, trains a fresh network on it (real_train: r->test_acc is the clean test accuracy,
 * r->train_acc the accuracy on the poisoned training set). *poisoned (when not NULL) receives
 * the poisoned set. 0, CLI_ERR (an index past the last NAD is named) or 128 + signal. */
int poison_run(const nad_arch *arch, const real_data *d, const real_settings *s,
               const float *nads, int64_t count, int64_t index, double epsilon, const char *label,
               int keep_params, real_result *r, nad_dataset **poisoned);

/* Picture at path in format fmt: one row per class (at most 20): its first clean training
 * sample, the poisoned one, their difference and the carrier (both signed, mid grey = 0,
 * amplified to full range), titled. */
int poison_picture(const char *path, nad_figure_format fmt, const real_data *d,
                   const nad_dataset *poisoned, const float *nads, int64_t count, int64_t index);

#endif
