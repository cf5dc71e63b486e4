/* `nad data info SOURCE`: what a dataset source holds (count, shape, classes, per-class counts,
 * per-channel mean and std), read through the same loader as training uses, so a file that
 * `data info` accepts trains and one it refuses is refused with the same message. */
#include <stdlib.h>
#include <string.h>

#include "realdata.h"

#define CMD "data info"

static void print_json(const char *source, const char *split, int64_t n, const int64_t shape[3],
                       int64_t k, const int64_t *counts, const double *mean, const double *std) {
  cli_json j;
  cli_json_init(&j, stdout);
  j.compact = 0; /* one line */
  cli_json_begin_object(&j, NULL);
  cli_json_string(&j, "source", source);
  cli_json_string(&j, "split", split);
  cli_json_int(&j, "count", n);
  cli_json_shape(&j, "shape", shape);
  cli_json_int(&j, "classes", k);
  cli_json_begin_array(&j, "class_counts", 1);
  for (int64_t i = 0; i < k; i++)
    cli_json_int(&j, NULL, counts[i]);
  cli_json_end_array(&j);
  cli_json_begin_array(&j, "mean", 1);
  for (int64_t i = 0; i < shape[0]; i++)
    cli_json_double(&j, NULL, mean[i]);
  cli_json_end_array(&j);
  cli_json_begin_array(&j, "std", 1);
  for (int64_t i = 0; i < shape[0]; i++)
    cli_json_double(&j, NULL, std[i]);
  cli_json_end_array(&j);
  cli_json_end_object(&j);
  cli_json_finish(&j);
}

static void print_text(const char *source, const char *split, int64_t n, const int64_t shape[3],
                       int64_t k, const int64_t *counts, const double *mean, const double *std) {
  char buf[64];
  printf("source       %s (%s split)\n", source, split);
  printf("samples      %lld\n", (long long)n);
  printf("shape        %s\n", cli_shape_str(shape, buf, sizeof buf));
  printf("classes      %lld\n", (long long)k);
  printf("per class   ");
  for (int64_t i = 0; i < k; i++)
    printf(" %lld", (long long)counts[i]);
  printf("\n");
  for (int64_t c = 0; c < shape[0]; c++)
    printf("channel %-4lld mean %.6f  std %.6f\n", (long long)c, mean[c], std[c]);
}

static int info(int argc, char **argv) {
  const char *split_s = NULL, *size_s = NULL;
  int json = 0;
  cli_opt opts[] = {{"split", 1, &split_s, NULL}, {"size", 1, &size_s, NULL},
                    {"json", 0, NULL, &json}};
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse(CMD, argc, argv, opts, 3, pos, 1, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  if (npos < 1)
    return cli_usage_error(CMD, "missing SOURCE (fashion-mnist, idx:DIR, cifar10:DIR or "
                                "npy:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS])");
  nad_split split = NAD_SPLIT_TRAIN;
  if (split_s && strcmp(split_s, "test") == 0)
    split = NAD_SPLIT_TEST;
  else if (split_s && strcmp(split_s, "train") != 0)
    return cli_usage_error(CMD, "--split: 'train' or 'test', got '%s'", split_s);
  int64_t size[2] = {0, 0}; /* default: as stored */
  if ((rc = real_parse_size(CMD, size_s, size)) != 0)
    return rc;
  nad_dataset *d = NULL;
  nad_status st = nad_dataset_load(pos[0], split, size[0], size[1], &d);
  if (st != NAD_OK)
    return cli_lib_error(st, "data info");
  int64_t n = 0, shape[3], k = 0;
  nad_dataset_size(d, &n, shape);
  nad_dataset_num_classes(d, &k);
  int64_t *counts = malloc((size_t)k * sizeof(int64_t));
  double *mean = malloc(2 * (size_t)shape[0] * sizeof(double)), *std = mean + shape[0];
  if (!counts || !mean) {
    rc = cli_error("out of memory");
  } else if ((st = nad_dataset_class_counts(d, counts, (size_t)k)) != NAD_OK ||
             (st = nad_dataset_channel_stats(d, mean, std, (size_t)shape[0])) != NAD_OK) {
    rc = cli_lib_error(st, "'%s'", pos[0]);
  } else {
    const char *split_name = split == NAD_SPLIT_TRAIN ? "train" : "test";
    if (json)
      print_json(pos[0], split_name, n, shape, k, counts, mean, std);
    else
      print_text(pos[0], split_name, n, shape, k, counts, mean, std);
  }
  free(counts);
  free(mean);
  nad_dataset_destroy(d);
  return rc;
}

int cli_cmd_data(int argc, char **argv) {
  if (argc < 1)
    return cli_usage_error("data info", "missing subcommand (info)");
  if (strcmp(argv[0], "info") == 0)
    return info(argc - 1, argv + 1);
  if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
    cli_print_help(stdout, "data info");
    return CLI_OK;
  }
  return cli_usage_error("data info", "unknown subcommand 'data %s' (info)", argv[0]);
}
