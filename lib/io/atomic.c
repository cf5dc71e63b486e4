/* Atomic file replacement (see io/atomic.h). libc and POSIX only: the `nad` tool compiles this
 * file too. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/atomic.h"

static int failed(nadi_atomic_file *af, const char *what, int err) {
  af->failed = what;
  af->err = err ? err : EIO;
  return -1;
}

int nadi_atomic_open(nadi_atomic_file *af, const char *path) {
  af->fp = NULL;
  af->path = path;
  af->tmp_path = NULL;
  af->failed = NULL;
  af->err = 0;
  size_t n = strlen(path) + 32;
  char *tmp = malloc(n);
  if (!tmp)
    return failed(af, "allocate the temporary file name", ENOMEM);
  snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
  FILE *fp = fopen(tmp, "wb");
  if (!fp) {
    int e = errno;
    free(tmp);
    return failed(af, "create temporary file", e);
  }
  af->fp = fp;
  af->tmp_path = tmp;
  return 0;
}

void nadi_atomic_abort(nadi_atomic_file *af) {
  if (af->fp)
    fclose(af->fp);
  if (af->tmp_path) {
    remove(af->tmp_path);
    free(af->tmp_path);
  }
  af->fp = NULL;
  af->tmp_path = NULL;
}

/* The rename is durable only once the directory entry is on disk too; best effort, because
 * some file systems refuse fsync on directories and the data itself is already safe. */
static void fsync_parent_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = NULL;
  if (!slash) {
    dir = malloc(2);
    if (dir)
      strcpy(dir, ".");
  } else {
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    dir = malloc(len + 1);
    if (dir) {
      memcpy(dir, path, len);
      dir[len] = '\0';
    }
  }
  if (!dir)
    return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
}

int nadi_atomic_commit(nadi_atomic_file *af) {
  const char *what = NULL;
  int e = 0;
  if (ferror(af->fp) || fflush(af->fp) != 0) {
    what = "write file";
    e = errno;
  } else if (fsync(fileno(af->fp)) != 0) {
    what = "fsync file";
    e = errno;
  }
  if (fclose(af->fp) != 0 && !what) {
    what = "close file";
    e = errno;
  }
  af->fp = NULL;
  if (!what && rename(af->tmp_path, af->path) != 0) {
    what = "rename temporary file onto file";
    e = errno;
  }
  if (what) {
    nadi_atomic_abort(af);
    return failed(af, what, e);
  }
  free(af->tmp_path);
  af->tmp_path = NULL;
  fsync_parent_dir(af->path);
  return 0;
}
