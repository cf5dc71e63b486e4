/* Atomic file replacement (lib/io/atomic.c): write "<path>.tmp.<pid>", then fflush + fsync,
 * close and rename it over path, so that path holds either its old content or the whole new
 * one, never a part. Never installed.
 *
 * The one home of this mechanism for the library (.npy, PNG, checkpoints) and for the `nad`
 * tool (summary.json, sweep.json). It depends on libc and POSIX only and reports errno, not
 * nad_status, so that the tool, which links nothing internal of libnad, compiles this same file
 * (src/meson.build); the library turns a failure into its error with nadi_atomic_fail
 * (io/io.h). */
#ifndef NADI_ATOMIC_H
#define NADI_ATOMIC_H

#include <stdio.h>

typedef struct nadi_atomic_file {
  FILE *fp; /* write here between open and commit/abort */
  const char *path;
  char *tmp_path; /* owned */
  /* after a failure: the step that failed ("create temporary file", "write file", ...) and
   * its errno */
  const char *failed;
  int err;
} nadi_atomic_file;

/* Create the temporary file: 0, or -1 with nothing left behind and af->fp NULL. */
int nadi_atomic_open(nadi_atomic_file *af, const char *path);
/* Flush, fsync, close and rename onto the final path: 0, or -1 with the temporary file
 * removed and the destination untouched. Always releases af. */
int nadi_atomic_commit(nadi_atomic_file *af);
/* Give up: close and remove the temporary file (safe after a failed open). */
void nadi_atomic_abort(nadi_atomic_file *af);

#endif
