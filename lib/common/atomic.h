/* Atomic file replacement (lib/common/atomic.c): write "<path>.tmp.<host>.<pid>", then
 * fflush + fsync, close and rename it over path, so that path holds either its old content or
 * the whole new one, never a part. Never installed.
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
  const char *path; /* as given (messages name it) */
  char *dest;       /* owned: the file replaced when it is not path (a symbolic link's target) */
  char *tmp_path;   /* owned */
  int direct;       /* writing straight into path (a pipe, a device): no temporary */
  /* after a failure: the step that failed ("create temporary file", "write file", ...) and
   * its errno */
  const char *failed;
  int err;
} nadi_atomic_file;

/* Create the temporary file: 0, or -1 with nothing left behind and af->fp NULL. Refuses a
 * destination that exists and is not a regular file: a symbolic link (replacing it would cut
 * the link; name the file it points to), a device such as /dev/null, a FIFO or a directory.
 * For the members of an output set and checkpoints. Removes the temporaries of writers of
 * this host which no longer run (a kill -9 during a write: checkpoints can be gigabytes):
 * "<path>.tmp.<host>.<pid>" with this host's name and a dead pid, and the older
 * "<path>.tmp.<pid>" with a dead pid. Other hosts' temporaries are never touched: on a shared
 * file system (NFS, Lustre) their writers may be running, and a pid says nothing here. */
int nadi_atomic_open(nadi_atomic_file *af, const char *path);
/* The same for a single file named by a user, following the Unix conventions: a symbolic link
 * has its target replaced atomically (the temporary in the target's directory; a dangling
 * link creates it); a path that is or resolves to something that is not a regular file (a
 * character device such as /dev/null, a FIFO, /dev/stdout, /dev/fd/N, /proc/self/fd/N) is
 * written straight through, since it cannot be replaced (no atomicity then: a reader may see a
 * part); /dev/std{in,out,err}, /dev/fd/N and /proc/self/fd/N write to a duplicate of that
 * descriptor (also a socket, or a regular file at its current offset). A directory is
 * refused. */
int nadi_atomic_open_file(nadi_atomic_file *af, const char *path);
/* The destination check of nadi_atomic_open alone, for callers that want to fail before long
 * work: 0, or -1 with af->failed / af->err set (af->path = path; nothing else is touched). */
int nadi_atomic_check(nadi_atomic_file *af, const char *path);
/* Flush, fsync, close and rename onto the final path (a direct write: flush and close): 0,
 * or -1 with the temporary file removed and the destination untouched. Always releases af. */
int nadi_atomic_commit(nadi_atomic_file *af);
/* Give up: close and remove the temporary file (safe after a failed open). */
void nadi_atomic_abort(nadi_atomic_file *af);

/* Exclusive advisory lock (flock) of a run's output: `path` itself when it is a directory (the
 * `nad` tool's --out), else the file "<path>.lock", created if needed (a checkpoint: the
 * checkpoint file itself is replaced by rename, so its inode cannot carry the lock). Never
 * waits: a second process gets -1 with errno EWOULDBLOCK, other failures (a missing
 * directory...) -1 with their errno. The lock lasts until nadi_lock_release or the process
 * ends (also by kill -9: the kernel drops it, the file stays and is reused). Returns the
 * descriptor (>= 0). The protocol that lets the holder remove "<path>.lock": after the flock,
 * the name must still refer to the locked inode (fstat vs stat), else the file was removed by
 * its last holder in between and the lock is taken again on the new one. */
int nadi_lock_acquire(const char *path);
/* Drop the lock of nadi_lock_acquire(path): "<path>.lock" is unlinked first, while still held
 * (when it is still the locked file), so no lock file stays behind. path NULL: only close. */
void nadi_lock_release(int fd, const char *path);

#endif
