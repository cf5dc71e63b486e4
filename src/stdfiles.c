/* `-` for single-file options (Unix conventions): standard output for a single output file
 * (net init/forward --out, --grad, train/poison --save), standard input for a single input
 * file (every .npy read through cli_npy_read: --x, --params, ...). The library writes
 * "/dev/stdout" to a duplicate of descriptor 1 and reads "/dev/stdin" as a stream
 * (lib/common/atomic.c, lib/io), so the commands only pass these names on. A stream can carry
 * one file: a second `-` is refused, and so is binary data to or from a terminal (as zstd
 * does). Output sets are directories: `-` is refused there (runset.c, cli_out_dir). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char *stdout_owner; /* the option whose file is standard output, or NULL */
static const char *stdin_owner;  /* the option that read standard input, or NULL */

/* 1 when path (followed) is a terminal. */
static int is_terminal(const char *path) {
  struct stat sb;
  if (stat(path, &sb) != 0 || !S_ISCHR(sb.st_mode))
    return 0;
  int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  int tty = fd >= 0 && isatty(fd);
  if (fd >= 0)
    close(fd);
  return tty;
}

int cli_out_file(const char *opt, const char **path, int binary) {
  int dash = strcmp(*path, "-") == 0;
  if (dash && stdout_owner)
    return cli_error("--%s -: standard output already carries --%s; name a file for one of "
                     "them", opt, stdout_owner);
  if (binary && ((dash && isatty(STDOUT_FILENO)) || (!dash && is_terminal(*path))))
    return cli_error("--%s %s: refusing to write binary .npy data to a terminal; redirect "
                     "standard output (> FILE, | COMMAND) or name a file", opt, *path);
  if (dash) {
    stdout_owner = opt;
    *path = "/dev/stdout";
  }
  return 0;
}

FILE *cli_text_out(void) { return stdout_owner ? stderr : stdout; }

const char *cli_stdout_owner(void) { return stdout_owner; }

int cli_in_file(const char *what, const char **path) {
  if (strcmp(*path, "-") != 0)
    return 0;
  if (stdin_owner)
    return cli_error("%s -: standard input was already read by %s; name a file for one of "
                     "them", what, stdin_owner);
  if (isatty(STDIN_FILENO))
    return cli_error("%s -: standard input is a terminal; pipe a .npy file in (< FILE, "
                     "COMMAND |) or name a file", what);
  stdin_owner = what;
  *path = "/dev/stdin";
  return 0;
}
