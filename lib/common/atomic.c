/* Atomic file replacement and locks (see common/atomic.h). libc and POSIX only: the `nad` tool
 * links it too (lib/common). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic.h"

static int failed(nadi_atomic_file *af, const char *what, int err) {
  af->failed = what;
  af->err = err ? err : EIO;
  return -1;
}

/* Directory part of path ("." when none) into dir (cap bytes); 0, or -1 when too long. */
static int dir_of(const char *path, char *dir, size_t cap) {
  const char *slash = strrchr(path, '/');
  size_t len = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
  if (len + 2 > cap)
    return -1;
  if (len == 0)
    memcpy(dir, ".", 2);
  else {
    memcpy(dir, path, len);
    dir[len] = '\0';
  }
  return 0;
}

/* Unlink "<base>.tmp.<pid>" in path's directory for every pid that no longer runs. A pid that
 * was reused by an unrelated process keeps its file until that process ends: harmless. */
static void remove_stale_temporaries(const char *path) {
  char dir[4096];
  if (dir_of(path, dir, sizeof dir) != 0)
    return;
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  size_t blen = strlen(base);
  DIR *d = opendir(dir);
  if (!d)
    return;
  const struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    const char *name = ent->d_name;
    if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0)
      continue;
    char *end = NULL;
    errno = 0;
    long pid = strtol(name + blen + 5, &end, 10);
    if (errno || end == name + blen + 5 || *end != '\0' || pid <= 0 || pid == (long)getpid())
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue; /* alive (or not ours to signal: EPERM means it exists) */
    char full[4096 + 256];
    if (snprintf(full, sizeof full, "%s/%s", dir, name) < (int)sizeof full)
      (void)unlink(full);
  }
  closedir(d);
}

int nadi_atomic_check(nadi_atomic_file *af, const char *path) {
  af->path = path;
  struct stat sb;
  if (lstat(path, &sb) != 0 || S_ISREG(sb.st_mode))
    return 0;
  if (S_ISLNK(sb.st_mode))
    return failed(af, "replace a symbolic link (refused: name the file it points to)", ELOOP);
  if (S_ISDIR(sb.st_mode))
    return failed(af, "replace a directory", EISDIR);
  return failed(af, "replace something that is not a regular file (a device or FIFO; refused)",
                EEXIST);
}

int nadi_atomic_open(nadi_atomic_file *af, const char *path) {
  af->fp = NULL;
  af->path = path;
  af->tmp_path = NULL;
  af->failed = NULL;
  af->err = 0;
  if (nadi_atomic_check(af, path) != 0)
    return -1;
  remove_stale_temporaries(path);
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
  char dir[4096];
  if (dir_of(path, dir, sizeof dir) != 0)
    return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

int nadi_lock_acquire(const char *path) {
  struct stat sb;
  int fd;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else {
    size_t n = strlen(path) + 6;
    char *lock = malloc(n);
    if (!lock) {
      errno = ENOMEM;
      return -1;
    }
    snprintf(lock, n, "%s.lock", path);
    fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int e = errno;
    free(lock);
    errno = e;
  }
  if (fd < 0)
    return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    errno = e == EINTR ? EWOULDBLOCK : e;
    return -1;
  }
  return fd;
}

void nadi_lock_release(int fd) {
  if (fd >= 0)
    close(fd); /* closing the only descriptor drops the flock */
}
