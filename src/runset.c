/* A run's set of output files (issue 11 §2), through lib/common (libc only, shared with the
 * library: atomic.c, crc32.c), the one part of lib/ the tool uses besides the public API. Each
 * file is replaced atomically, but a set is only consistent as a whole, so:
 *   - writers lock the --out directory (flock, nadi_lock_acquire) for the whole command:
 *     a second run into the same directory fails at once instead of mixing its files in;
 *   - `nad estimate` removes summary.json first and writes it last, naming each file of the
 *     set with its size and CRC-32;
 *   - readers (compare, bias --direction nad:K:DIR, sweep --nads) require summary.json and
 *     check every file they read against it: an interrupted run (no summary) or a mix of two
 *     runs (a file that does not match) is refused instead of being read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/crc32.h"

int cli_out_dir(const char *dir) {
  if (strcmp(dir, "-") == 0)
    return cli_error("--out -: a run's output is a directory of files (with summary.json), "
                     "which standard output cannot hold; name a directory");
  if (cli_mkdir_p(dir) != 0 || access(dir, W_OK) != 0)
    return cli_error("--out: cannot create or write directory '%s': %s", dir, strerror(errno));
  return 0;
}

int cli_set_member(const char *path) {
  nadi_atomic_file af = {0};
  if (nadi_atomic_check(&af, path) != 0)
    return cli_error("cannot write '%s': cannot %s: %s", path, af.failed, strerror(af.err));
  return 0;
}

int cli_lock_out_dir(const char *dir, int *fd) {
  *fd = nadi_lock_acquire(dir);
  if (*fd >= 0)
    return 0;
  if (errno == EWOULDBLOCK)
    return cli_error("--out '%s' is in use by another nad command writing there; wait for it or "
                     "choose another directory", dir);
  return cli_error("--out: cannot lock directory '%s': %s", dir, strerror(errno));
}

void cli_unlock_out_dir(int fd) {
  nadi_lock_release(fd, NULL); /* a directory: no lock file to remove */
}

void cli_json_checksums(cli_json *j, const char *dir, const char *const *names, int n) {
  cli_json_begin_object(j, "checksums");
  for (int i = 0; i < n; i++) {
    char path[4096], hex[16];
    int64_t bytes = -1;
    uint32_t crc = 0;
    if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path ||
        nadi_file_crc32(path, &bytes, &crc) != 0)
      continue; /* a file that cannot be read back is not vouched for */
    snprintf(hex, sizeof hex, "%08x", (unsigned)crc);
    cli_json_begin_object(j, names[i]);
    cli_json_int(j, "bytes", bytes);
    cli_json_string(j, "crc32", hex);
    cli_json_end_object(j);
  }
  cli_json_end_object(j);
}

/* The entry of `name` in the "checksums" object of summary text s: 0, or -1 when absent. */
static int find_checksum(const char *s, const char *name, int64_t *bytes, unsigned *crc) {
  const char *c = strstr(s, "\"checksums\"");
  if (!c)
    return -1;
  char key[300];
  snprintf(key, sizeof key, "\"%s\"", name);
  const char *k = strstr(c, key);
  if (!k)
    return -1;
  const char *end = strchr(k, '}');
  const char *b = strstr(k, "\"bytes\""), *h = strstr(k, "\"crc32\"");
  if (!end || !b || !h || b > end || h > end)
    return -1;
  b = strchr(b + 7, ':');
  h = strchr(h + 7, '"');
  if (!b || !h)
    return -1;
  char *stop = NULL;
  long long v = strtoll(b + 1, &stop, 10);
  if (stop == b + 1 || sscanf(h + 1, "%8x", crc) != 1)
    return -1;
  *bytes = (int64_t)v;
  return 0;
}

int cli_check_run_dir(const char *dir, const char *const *names, int n) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/summary.json", dir) >= (int)sizeof path)
    return cli_error("path too long: '%s'", dir);
  char *s = cli_read_text(path);
  if (!s)
    return cli_error("'%s' holds no complete 'nad estimate' run: cannot read %s (%s; a run that "
                     "was interrupted or is still writing leaves none)", dir, path,
                     strerror(errno));
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    int64_t want_bytes = 0, bytes = 0;
    unsigned want_crc = 0;
    uint32_t crc = 0;
    if (find_checksum(s, names[i], &want_bytes, &want_crc) != 0) {
      if (strstr(s, "\"checksums\""))
        rc = cli_error("'%s/%s' is not listed in %s", dir, names[i], path);
      continue; /* a summary of a version before checksums: trusted as it is */
    }
    char file[4096];
    if (snprintf(file, sizeof file, "%s/%s", dir, names[i]) >= (int)sizeof file)
      rc = cli_error("path too long: '%s'", dir);
    else if (nadi_file_crc32(file, &bytes, &crc) != 0)
      rc = cli_error("cannot read '%s': %s", file, strerror(errno));
    else if (bytes != want_bytes || crc != want_crc)
      rc = cli_error("'%s' does not match %s (%lld bytes, CRC-32 %08x; the summary says %lld "
                     "bytes, %08x): files of different runs are mixed in '%s'; run 'nad "
                     "estimate' again",
                     file, path, (long long)bytes, (unsigned)crc, (long long)want_bytes,
                     want_crc, dir);
  }
  free(s);
  return rc;
}
