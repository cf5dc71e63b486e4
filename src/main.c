/* `nad` command-line tool: dispatch to the commands, help and version. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_help(int argc, char **argv) {
  char buf[128] = "";
  for (int i = 0; i < argc; i++) { /* "nad help arch show" -> "arch show" */
    if (i > 0)
      strncat(buf, " ", sizeof buf - strlen(buf) - 1);
    strncat(buf, argv[i], sizeof buf - strlen(buf) - 1);
  }
  cli_print_help(stdout, argc > 0 ? buf : NULL);
  return CLI_OK;
}

/* Commands that compute for a while say so when the BLAS kernels are weaker than the CPU
 * allows (the restart could not fix it), unless asked for help or to be quiet. */
static int computes(int argc, char **argv) {
  const char *cmd = argv[1];
  if (strcmp(cmd, "estimate") != 0 && strcmp(cmd, "bias") != 0 && strcmp(cmd, "sweep") != 0)
    return 0;
  for (int i = 2; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
        strcmp(argv[i], "--quiet") == 0)
      return 0;
  return 1;
}

static int dispatch(int argc, char **argv) {
  if (argc < 2) { /* a usage, not an error message: the user asked what there is */
    cli_print_usage(stderr);
    return CLI_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "help") == 0)
    return cmd_help(argc - 2, argv + 2);
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
    return cmd_help(0, NULL);
  cli_blas_restart(argv); /* returns only when no restart is needed (or possible) */
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
    if (argc > 2 && strcmp(argv[2], "--verbose") == 0)
      return cli_cmd_doctor(argc - 3, argv + 3);
    /* The tool is built from the same tree as the header; the library may be a different build. */
    printf("nad %s (libnad %s)\n", NAD_VERSION_STRING, nad_version_string());
    return CLI_OK;
  }
  if (strcmp(cmd, "doctor") == 0)
    return cli_cmd_doctor(argc - 2, argv + 2);
  if (computes(argc, argv))
    cli_blas_warn();
  if (strcmp(cmd, "arch") == 0)
    return cli_cmd_arch(argc - 2, argv + 2);
  if (strcmp(cmd, "net") == 0)
    return cli_cmd_net(argc - 2, argv + 2);
  if (strcmp(cmd, "estimate") == 0)
    return cli_cmd_estimate(argc - 2, argv + 2);
  if (strcmp(cmd, "merge") == 0)
    return cli_cmd_merge(argc - 2, argv + 2);
  if (strcmp(cmd, "compare") == 0)
    return cli_cmd_compare(argc - 2, argv + 2);
  if (strcmp(cmd, "bias") == 0)
    return cli_cmd_bias(argc - 2, argv + 2);
  if (strcmp(cmd, "sweep") == 0)
    return cli_cmd_sweep(argc - 2, argv + 2);
  if (strcmp(cmd, "data") == 0)
    return cli_cmd_data(argc - 2, argv + 2);
  if (strcmp(cmd, "train") == 0)
    return cli_cmd_train(argc - 2, argv + 2);
  if (strcmp(cmd, "poison") == 0)
    return cli_cmd_poison(argc - 2, argv + 2);
  if (strcmp(cmd, "flip") == 0)
    return cli_cmd_flip(argc - 2, argv + 2);
  if (strcmp(cmd, "align") == 0)
    return cli_cmd_align(argc - 2, argv + 2);
  const char *near = cli_nearest_command(cmd);
  if (near)
    return cli_usage_error(NULL, "unknown command '%s' (did you mean '%s'?)", cmd, near);
  return cli_usage_error(NULL, "unknown command '%s'", cmd);
}

/* Every command's standard output is checked once, here: buffered output is flushed and the
 * stream closed, and a write error (a full disk, /dev/full, a closed pipe) fails the command
 * even when the command itself succeeded (issue 11: `nad compare --json > /dev/full` exited 0). */
static int finish_stdout(int rc) {
  errno = 0;
  int failed = fflush(stdout) != 0 || ferror(stdout);
  int err = errno;
  if (fclose(stdout) != 0 && !failed) {
    failed = 1;
    err = errno;
  }
  if (!failed)
    return rc;
  fprintf(stderr, "nad: cannot write standard output: %s\n",
          err ? strerror(err) : "write error");
  return rc != CLI_OK ? rc : CLI_ERR;
}

int main(int argc, char **argv) { return finish_stdout(dispatch(argc, argv)); }
