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

/* This host's name for temporaries ("NAME.tmp.HOST.PID"): gethostname() with '/' and
 * control characters replaced, "localhost" when it has none. */
static void host_name(char *host, size_t cap) {
  if (gethostname(host, cap - 1) != 0 || host[0] == '\0')
    snprintf(host, cap, "localhost");
  host[cap - 1] = '\0';
  for (char *c = host; *c; c++)
    if (*c == '/' || (unsigned char)*c < 32)
      *c = '_';
}

/* The writer of temporary `name` (after "<base>.tmp."): "HOST.PID" or the old "PID". 1 when
 * it is a process of this host (*pid), 0 otherwise (another host's, or not a temporary). */
static int temporary_of_this_host(const char *name, const char *host, long *pid) {
  const char *dot = strrchr(name, '.');
  const char *num = dot ? dot + 1 : name;
  if (dot && ((size_t)(dot - name) != strlen(host) || strncmp(name, host, strlen(host)) != 0))
    return 0; /* another host's: its PID means nothing here (a shared file system) */
  char *end = NULL;
  errno = 0;
  *pid = strtol(num, &end, 10);
  return !errno && end != num && *end == '\0' && *pid > 0;
}

/* Unlink "<base>.tmp.<host>.<pid>" (and old-style "<base>.tmp.<pid>") in path's directory for
 * every pid of this host that no longer runs. Temporaries of other hosts are left alone: their
 * writers may be alive (NFS, Lustre under a job array). A pid that was reused by an unrelated
 * process keeps its file until that process ends: harmless. */
static void remove_stale_temporaries(const char *path, const char *host) {
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
    long pid = 0;
    if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0 ||
        !temporary_of_this_host(name + blen + 5, host, &pid) || pid == (long)getpid())
      continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue; /* alive (or not ours to signal: EPERM means it exists) */
    char full[4096 + 256];
    if (snprintf(full, sizeof full, "%s/%s", dir, name) < (int)sizeof full)
      (void)unlink(full);
  }
  closedir(d);
}

/* The refusals of a destination that exists and is not a regular file (see atomic.h). */
static int check_dest(nadi_atomic_file *af, const char *dest) {
  struct stat sb;
  if (lstat(dest, &sb) != 0 || S_ISREG(sb.st_mode))
    return 0;
  if (S_ISLNK(sb.st_mode))
    return failed(af, "replace a symbolic link (refused: name the file it points to)", ELOOP);
  if (S_ISDIR(sb.st_mode))
    return failed(af, "replace a directory", EISDIR);
  return failed(af, "replace something that is not a regular file (a device or FIFO; refused)",
                EEXIST);
}

int nadi_atomic_check(nadi_atomic_file *af, const char *path) {
  af->path = path;
  return check_dest(af, path);
}

static void reset(nadi_atomic_file *af, const char *path) {
  af->fp = NULL;
  af->path = path;
  af->dest = NULL;
  af->tmp_path = NULL;
  af->direct = 0;
  af->failed = NULL;
  af->err = 0;
}

/* The temporary "<dest>.tmp.<host>.<pid>" in dest's directory, after the checks of dest. */
static int open_temporary(nadi_atomic_file *af, const char *dest) {
  if (check_dest(af, dest) != 0)
    return -1;
  char host[256];
  host_name(host, sizeof host);
  remove_stale_temporaries(dest, host);
  size_t n = strlen(dest) + strlen(host) + 32;
  char *tmp = malloc(n);
  if (!tmp)
    return failed(af, "allocate the temporary file name", ENOMEM);
  snprintf(tmp, n, "%s.tmp.%s.%ld", dest, host, (long)getpid());
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

int nadi_atomic_open(nadi_atomic_file *af, const char *path) {
  reset(af, path);
  return open_temporary(af, path);
}

/* The descriptor named by /dev/stdin, /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N;
 * -1 for any other path. */
static int fd_link(const char *p) {
  static const char *const std[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
  for (int i = 0; i < 3; i++)
    if (strcmp(p, std[i]) == 0)
      return i;
  const char *num = strncmp(p, "/dev/fd/", 8) == 0         ? p + 8
                    : strncmp(p, "/proc/self/fd/", 14) == 0 ? p + 14
                                                            : NULL;
  if (!num || *num < '0' || *num > '9')
    return -1;
  char *end = NULL;
  long v = strtol(num, &end, 10);
  return *end == '\0' && v <= 1 << 20 ? (int)v : -1;
}

/* Follows the symbolic links of path (at most 40) to the name they end at (a new string in
 * *out, that may not exist): 0, or -1 with errno. Stops at a descriptor link (*fdn >= 0),
 * whose target (a pipe, a terminal...) has no name to follow. */
static int resolve_links(const char *path, char **out, int *fdn) {
  char *cur = strdup(path);
  for (int hop = 0; cur && hop < 40; hop++) {
    struct stat sb;
    if ((*fdn = fd_link(cur)) >= 0 || lstat(cur, &sb) != 0 || !S_ISLNK(sb.st_mode)) {
      *out = cur;
      return 0;
    }
    char link[4096], dir[4096];
    ssize_t n = readlink(cur, link, sizeof link - 1);
    if (n < 0 || dir_of(cur, dir, sizeof dir) != 0) {
      int e = n < 0 ? errno : ENAMETOOLONG;
      free(cur);
      errno = e;
      return -1;
    }
    link[n] = '\0';
    size_t len = strlen(dir) + (size_t)n + 2;
    char *next = malloc(len);
    if (next)
      snprintf(next, len, "%s%s%s", link[0] == '/' ? "" : dir, link[0] == '/' ? "" : "/", link);
    free(cur);
    cur = next;
  }
  errno = cur ? ELOOP : ENOMEM;
  free(cur);
  return -1;
}

static int open_direct(nadi_atomic_file *af, int fd) {
  if (fd < 0)
    return failed(af, "open it for writing", errno);
  af->fp = fdopen(fd, "wb");
  if (!af->fp) {
    int e = errno;
    close(fd);
    return failed(af, "open it for writing", e);
  }
  af->direct = 1;
  return 0;
}

int nadi_atomic_open_file(nadi_atomic_file *af, const char *path) {
  reset(af, path);
  char *dest = NULL;
  int fdn = -1;
  if (resolve_links(path, &dest, &fdn) != 0)
    return failed(af, "follow the symbolic link", errno);
  struct stat sb;
  if (fdn >= 0) {
    free(dest);
    return open_direct(af, fcntl(fdn, F_DUPFD_CLOEXEC, 3));
  }
  if (stat(dest, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
    int fd = open(dest, O_WRONLY | O_NOCTTY | O_CLOEXEC); /* a FIFO waits for its reader */
    free(dest);
    return open_direct(af, fd);
  }
  if (strcmp(dest, path) == 0) {
    free(dest);
    return open_temporary(af, path);
  }
  af->dest = dest; /* a symbolic link: its target is replaced, in the target's directory */
  if (open_temporary(af, dest) == 0)
    return 0;
  free(af->dest);
  af->dest = NULL;
  return -1;
}

void nadi_atomic_abort(nadi_atomic_file *af) {
  if (af->fp)
    fclose(af->fp);
  if (af->tmp_path) {
    remove(af->tmp_path);
    free(af->tmp_path);
  }
  free(af->dest);
  af->fp = NULL;
  af->tmp_path = NULL;
  af->dest = NULL;
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
  const char *dest = af->dest ? af->dest : af->path;
  if (ferror(af->fp) || fflush(af->fp) != 0) {
    what = "write file";
    e = errno;
  } else if (!af->direct && fsync(fileno(af->fp)) != 0) {
    what = "fsync file";
    e = errno;
  }
  if (fclose(af->fp) != 0 && !what) {
    what = "close file";
    e = errno;
  }
  af->fp = NULL;
  if (!what && !af->direct && rename(af->tmp_path, dest) != 0) {
    what = "rename temporary file onto file";
    e = errno;
  }
  if (what) {
    nadi_atomic_abort(af);
    return failed(af, what, e);
  }
  if (!af->direct)
    fsync_parent_dir(dest);
  free(af->tmp_path);
  free(af->dest);
  af->tmp_path = NULL;
  af->dest = NULL;
  return 0;
}

/* "<path>.lock" (malloc'ed), or NULL with errno ENOMEM. */
static char *lock_name(const char *path) {
  size_t n = strlen(path) + 6;
  char *lock = malloc(n);
  if (lock)
    snprintf(lock, n, "%s.lock", path);
  else
    errno = ENOMEM;
  return lock;
}

/* flock fd without waiting: 0, or -1 with errno (EWOULDBLOCK when another process holds it). */
static int lock_now(int fd) {
  if (flock(fd, LOCK_EX | LOCK_NB) == 0)
    return 0;
  int e = errno;
  errno = e == EINTR ? EWOULDBLOCK : e;
  return -1;
}

/* 1 when name still refers to the file open as fd. */
static int same_file(int fd, const char *name) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(name, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int nadi_lock_acquire(const char *path) {
  struct stat sb;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && lock_now(fd) != 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    return fd;
  }
  char *lock = lock_name(path);
  if (!lock)
    return -1;
  /* The last holder unlinks the file when it releases: a descriptor opened before that refers
   * to a file no longer reachable by name, so after the flock check that the name still leads
   * to the locked file, else start again on the new one. */
  for (int attempt = 0; attempt < 1000; attempt++) {
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || lock_now(fd) != 0) {
      int e = errno;
      if (fd >= 0)
        close(fd);
      free(lock);
      errno = e;
      return -1;
    }
    if (same_file(fd, lock)) {
      free(lock);
      return fd;
    }
    close(fd);
  }
  free(lock);
  errno = EWOULDBLOCK; /* the file keeps being replaced: another process is busy with it */
  return -1;
}

void nadi_lock_release(int fd, const char *path) {
  if (fd < 0)
    return;
  struct stat sb;
  char *lock = path && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? lock_name(path) : NULL;
  if (lock && same_file(fd, lock))
    (void)unlink(lock); /* while still holding it: see nadi_lock_acquire */
  free(lock);
  close(fd); /* closing the only descriptor drops the flock */
}
