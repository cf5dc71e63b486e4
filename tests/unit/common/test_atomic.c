/* lib/common/atomic.c: the lock protocol (the lock file is gone after the release; two
 * processes contending; many processes taking turns never hold it together), the temporaries
 * judged stale (this host's dead writers removed, another host's left alone, old-style names
 * as before), and the single-file conventions of nadi_atomic_open_file (a symbolic link's
 * target replaced, a FIFO and /dev/null written through, a directory refused) beside the
 * strict nadi_atomic_open. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "common/atomic.h"

static char dir[4096];

static const char *tpath(const char *name) {
  static char buf[4][4200];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static int exists(const char *p) {
  struct stat sb;
  return lstat(p, &sb) == 0;
}

static pid_t dead_pid(void) {
  pid_t p = fork();
  if (p == 0)
    _exit(0);
  waitpid(p, NULL, 0);
  return p;
}

static void test_lock_file_removed(void) {
  const char *ck = tpath("ck.bin"), *lock = tpath("ck.bin.lock");
  int fd = nadi_lock_acquire(ck);
  CHECK(fd >= 0, "acquire: %s", strerror(errno));
  EXPECT(exists(lock));
  /* a second process is refused at once */
  int ready[2], done[2];
  if (pipe(ready) != 0 || pipe(done) != 0)
    return;
  pid_t child = fork();
  if (child == 0) {
    int f = nadi_lock_acquire(ck);
    _exit(f < 0 && errno == EWOULDBLOCK ? 0 : 1);
  }
  int status = -1;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second process not refused");
  nadi_lock_release(fd, ck);
  EXPECT(!exists(lock)); /* the last holder removes it */

  /* a child holds it, the parent is refused; after the child's release the parent gets it */
  child = fork();
  if (child == 0) {
    int f = nadi_lock_acquire(ck);
    char c = f >= 0 ? 'y' : 'n';
    if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
      _exit(2);
    nadi_lock_release(f, ck);
    _exit(0);
  }
  char c = 0;
  EXPECT(read(ready[0], &c, 1) == 1 && c == 'y');
  errno = 0;
  EXPECT(nadi_lock_acquire(ck) < 0 && errno == EWOULDBLOCK);
  EXPECT(write(done[1], "x", 1) == 1);
  waitpid(child, &status, 0);
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT(!exists(lock));
  fd = nadi_lock_acquire(ck);
  EXPECT(fd >= 0 && exists(lock));
  nadi_lock_release(fd, ck);
  EXPECT(!exists(lock));
  close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);

  /* a directory is locked itself and never removed */
  fd = nadi_lock_acquire(dir);
  EXPECT(fd >= 0);
  nadi_lock_release(fd, NULL);
  EXPECT(exists(dir));
}

/* Four processes take the lock 200 times each; inside it each creates a marker with O_EXCL,
 * which fails if another process holds the lock at the same time (the race of removing a lock
 * file that another process has open: it would lock a file no longer reachable by name). */
static void test_lock_contention(void) {
  const char *res = tpath("shared"), *marker = tpath("shared.held");
  enum { PROCS = 4, TURNS = 200 };
  pid_t kids[PROCS];
  for (int i = 0; i < PROCS; i++) {
    kids[i] = fork();
    if (kids[i] != 0)
      continue;
    int overlaps = 0, turns = 0;
    while (turns < TURNS) {
      int fd = nadi_lock_acquire(res);
      if (fd < 0) {
        if (errno != EWOULDBLOCK)
          _exit(3);
        continue;
      }
      int m = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0644);
      if (m < 0)
        overlaps++;
      else {
        close(m);
        unlink(marker);
      }
      nadi_lock_release(fd, res);
      turns++;
    }
    _exit(overlaps ? 1 : 0);
  }
  int bad = 0;
  for (int i = 0; i < PROCS; i++) {
    int status = -1;
    waitpid(kids[i], &status, 0);
    bad += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  CHECK(bad == 0, "%d of %d processes held the lock together with another", bad, PROCS);
  EXPECT(!exists(tpath("shared.lock")));
}

static int write_file(const char *p, const char *text) {
  FILE *f = fopen(p, "w");
  if (!f)
    return -1;
  fputs(text, f);
  return fclose(f);
}

static int replace(const char *p, const char *text, int single) {
  nadi_atomic_file af;
  if ((single ? nadi_atomic_open_file(&af, p) : nadi_atomic_open(&af, p)) != 0)
    return -1;
  fputs(text, af.fp);
  return nadi_atomic_commit(&af);
}

static int content_is(const char *p, const char *text) {
  char buf[256] = "";
  FILE *f = fopen(p, "r");
  if (!f)
    return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strcmp(buf, text) == 0;
}

static void test_temporaries(void) {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  long dead = (long)dead_pid(), live = (long)getppid();
  char mine_dead[512], mine_live[512], other[512], old_dead[512], other_live[512];
  snprintf(mine_dead, sizeof mine_dead, "f.npy.tmp.%s.%ld", host, dead);
  snprintf(mine_live, sizeof mine_live, "f.npy.tmp.%s.%ld", host, live);
  snprintf(other, sizeof other, "f.npy.tmp.node-7.cluster.%ld", dead);
  snprintf(other_live, sizeof other_live, "f.npy.tmp.%sx.%ld", host, dead);
  snprintf(old_dead, sizeof old_dead, "f.npy.tmp.%ld", dead);
  const char *names[] = {mine_dead, mine_live, other, other_live, old_dead};
  for (int i = 0; i < 5; i++)
    write_file(tpath(names[i]), "partial");
  EXPECT(replace(tpath("f.npy"), "new", 1) == 0 && content_is(tpath("f.npy"), "new"));
  CHECK(!exists(tpath(mine_dead)), "this host's dead writer's temporary %s kept", mine_dead);
  CHECK(exists(tpath(mine_live)), "this host's live writer's temporary %s removed", mine_live);
  CHECK(exists(tpath(other)), "another host's temporary %s removed", other);
  CHECK(exists(tpath(other_live)), "another host's temporary %s removed", other_live);
  CHECK(!exists(tpath(old_dead)), "old-style temporary of a dead writer %s kept", old_dead);
  for (int i = 0; i < 5; i++)
    unlink(tpath(names[i]));
}

static void test_single_file(void) {
  const char *target = tpath("target.npy"), *link = tpath("link.npy");
  write_file(target, "old");
  if (symlink("target.npy", link) != 0) /* relative: resolved in the link's directory */
    return;
  EXPECT(replace(link, "strict", 0) != 0); /* an output set's member: refused */
  EXPECT(content_is(target, "old"));
  EXPECT(replace(link, "new", 1) == 0);
  struct stat sb;
  EXPECT(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode)); /* the link is kept */
  EXPECT(content_is(target, "new"));
  /* a dangling link creates its target */
  if (symlink("made.npy", tpath("dangling.npy")) == 0)
    EXPECT(replace(tpath("dangling.npy"), "made", 1) == 0 && content_is(tpath("made.npy"), "made"));
  EXPECT(replace("/dev/null", "x", 1) == 0);
  EXPECT(replace("/dev/null", "x", 0) != 0);
  EXPECT(replace(dir, "x", 1) != 0);
  /* a FIFO is written through (a reader process) */
  const char *fifo = tpath("fifo");
  if (mkfifo(fifo, 0644) != 0)
    return;
  int p[2];
  if (pipe(p) != 0)
    return;
  pid_t reader = fork();
  if (reader == 0) {
    char buf[64] = "";
    FILE *f = fopen(fifo, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    _exit(n == 7 && memcmp(buf, "through", 7) == 0 ? 0 : 1);
  }
  EXPECT(replace(fifo, "through", 1) == 0);
  int status = -1;
  waitpid(reader, &status, 0);
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT(lstat(fifo, &sb) == 0 && S_ISFIFO(sb.st_mode));
  close(p[0]), close(p[1]);
}

int main(void) {
  const char *t = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/nad-atomic-XXXXXX", t && *t ? t : "/tmp");
  if (!mkdtemp(dir)) {
    printf("cannot create a directory under %s\n", t ? t : "/tmp");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  test_lock_file_removed();
  test_lock_contention();
  test_temporaries();
  test_single_file();
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    printf("cannot remove %s\n", dir);
  return check_summary();
}
