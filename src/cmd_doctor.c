/* `nad doctor` (also `nad --version --verbose`): what libnad runs on (BLAS vendor, kernel set,
 * threads, CPU level, memory), and the one-time restart that puts the BLAS on the kernels the
 * CPU deserves.
 *
 * Why a restart: a BLAS picks its kernels once, when it is loaded, and cannot switch later; a
 * BLAS that does not recognise a new CPU falls back to generic kernels 2-5x slower (issue 7).
 * The library reports the fix (NAD_BLAS_FIX, an environment assignment); the tool applies it
 * and executes itself again, so every command runs on the right kernels without the user
 * knowing. NAD_BLAS_RESTARTED (set to the kernel set of before) marks the second process: it
 * never restarts again, whatever the BLAS reports. A variable the user set is never
 * overridden (the library then gives no fix). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define RESTART_MARK "NAD_BLAS_RESTARTED"

void cli_blas_restart(char **argv) {
  const char *fix = nad_blas_info(NAD_BLAS_FIX);
  const char *eq = strchr(fix, '=');
  if (!eq || getenv(RESTART_MARK))
    return;
  char name[64];
  size_t n = (size_t)(eq - fix);
  if (n == 0 || n >= sizeof name)
    return;
  memcpy(name, fix, n);
  name[n] = '\0';
  if (setenv(name, eq + 1, 1) != 0 || setenv(RESTART_MARK, nad_blas_info(NAD_BLAS_CORE), 1) != 0)
    return;
  fflush(NULL);
  execv("/proc/self/exe", argv);
  /* No /proc (or exec refused): carry on with the kernels we have; the warning says why. */
  unsetenv(name);
  unsetenv(RESTART_MARK);
}

void cli_blas_warn(void) {
  const char *w = nad_blas_info(NAD_BLAS_WARNING);
  if (w[0])
    fprintf(stderr, "nad: warning: %s\n", w);
}

void cli_json_blas(cli_json *j, const char *key) {
  cli_json_begin_object(j, key);
  cli_json_string(j, "vendor", nad_blas_info(NAD_BLAS_VENDOR));
  cli_json_string(j, "version", nad_blas_info(NAD_BLAS_VERSION));
  cli_json_string(j, "core", nad_blas_info(NAD_BLAS_CORE));
  cli_json_string(j, "cpu", nad_blas_info(NAD_BLAS_CPU));
  cli_json_string(j, "best_core", nad_blas_info(NAD_BLAS_BEST_CORE));
  cli_json_int(j, "threads", nad_blas_threads());
  const char *before = getenv(RESTART_MARK);
  cli_json_string(j, "restarted_from", before ? before : "");
  cli_json_string(j, "warning", nad_blas_info(NAD_BLAS_WARNING));
  cli_json_end_object(j);
}

int cli_cmd_doctor(int argc, char **argv) {
  int json = 0;
  const cli_opt opts[] = {{"json", 0, NULL, &json}};
  int npos = 0;
  int rc = cli_parse("doctor", argc, argv, opts, 1, NULL, 0, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  if (json) {
    cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "nad", NAD_VERSION_STRING);
    cli_json_string(&j, "libnad", nad_version_string());
    cli_json_int(&j, "cpus", cli_num_cpus());
    cli_json_blas(&j, "blas");
    cli_json_end_object(&j);
    cli_json_finish(&j);
    return CLI_OK;
  }
  const char *before = getenv(RESTART_MARK);
  printf("nad %s (libnad %s)\n", NAD_VERSION_STRING, nad_version_string());
  printf("cpus:        %lld online, vector level %s\n", (long long)cli_num_cpus(),
         nad_blas_info(NAD_BLAS_CPU));
  printf("blas:        %s (%s)\n", nad_blas_info(NAD_BLAS_VENDOR), nad_blas_info(NAD_BLAS_VERSION));
  printf("blas kernel: %s%s%s%s (best for this CPU: %s)\n", nad_blas_info(NAD_BLAS_CORE),
         before ? ", restarted from " : "", before ? before : "",
         before ? " by nad" : "",
         nad_blas_info(NAD_BLAS_BEST_CORE)[0] ? nad_blas_info(NAD_BLAS_BEST_CORE) : "unknown");
  printf("blas threads: %d\n", (int)nad_blas_threads());
  const char *w = nad_blas_info(NAD_BLAS_WARNING);
  printf("warning:     %s\n", w[0] ? w : "none");
  return CLI_OK;
}
