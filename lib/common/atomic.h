/* Atomic file replacement (lib/common/atomic.c): write "<path>.tmp.<pid>", then fflush + fsync,
 * close and rename it over path, so that path holds either its old content or the whole new
 * one, never a part. Never installed.
 *
 * The one home of this mechanism for the library (.npy, PNG, checkpoints) and for the `nad`
 * tool (summary.json, sweep.json). Like all of lib/common it depends on libc and POSIX only and
 * reports errno, not nad_status, so that the tool links it (lib/common is the one part of lib/
 * the tool uses besides the public API); the library turns a failure into its error with
 * nadi_atomic_fail (io/io.h). */
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

/* Create the temporary file: 0, or -1 with nothing left behind and af->fp NULL. Refuses a
 * destination that exists and is not a regular file: a symbolic link (replacing it would cut
 * the link; name the file it points to), a device such as /dev/null, a FIFO or a directory.
 * Removes temporaries "<path>.tmp.<pid>" that writers which no longer run left behind (a kill
 * -9 during a write: checkpoints can be gigabytes). */
int nadi_atomic_open(nadi_atomic_file *af, const char *path);
/* The destination check of nadi_atomic_open alone, for callers that want to fail before long
 * work: 0, or -1 with af->failed / af->err set (af->path = path; nothing else is touched). */
int nadi_atomic_check(nadi_atomic_file *af, const char *path);
/* Flush, fsync, close and rename onto the final path: 0, or -1 with the temporary file
 * removed and the destination untouched. Always releases af. */
int nadi_atomic_commit(nadi_atomic_file *af);
/* Give up: close and remove the temporary file (safe after a failed open). */
void nadi_atomic_abort(nadi_atomic_file *af);

/* Exclusive advisory lock (flock) of a run's output: `path` itself when it is a directory (the
 * `nad` tool's --out), else the file "<path>.lock", created if needed (a checkpoint: the
 * checkpoint file itself is replaced by rename, so its inode cannot carry the lock). Never
 * waits: a second process gets -1 with errno EWOULDBLOCK, other failures (a missing
 * directory...) -1 with their errno. The lock lasts until nadi_lock_release or the process
 * ends (also by kill -9: the kernel drops it). Returns the descriptor (>= 0). */
int nadi_lock_acquire(const char *path);
void nadi_lock_release(int fd);

#endif
