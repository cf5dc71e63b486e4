/* Checkpoint I/O during a run (issue 11 §2): a save that fails once networks are being computed
 * (here: the checkpoint's directory is moved away by the progress callback) must not stop the
 * run: the results are computed, the file keeps the previous checkpoint, and
 * nad_estimator_checkpoint_error says what failed. A path that cannot work (missing directory,
 * symbolic link) is refused before the first network, and a path another run holds is refused
 * (its lock "<path>.lock"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <nad/nad.h>

#include "../check.h"

static char dir[64], moved[128], ck[200];

static int move_dir_at_3(void *ud, int64_t done, int64_t total) {
  (void)ud, (void)total;
  if (done == 3)
    rename(dir, moved);
  return 0;
}

static int calls;
static int count_calls(void *ud, int64_t done, int64_t total) {
  (void)ud, (void)done, (void)total;
  calls++;
  return 0;
}

static nad_estimator *make(nad_arch *a, int64_t n) {
  nad_estimator *e = NULL;
  CHECK(nad_estimator_create(a, &e) == NAD_OK, "%s", nad_last_error());
  nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, n);
  nad_estimator_set_int(e, NAD_OPT_SEED, 5);
  return e;
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/nad_ckio_%ld", (long)getpid());
  snprintf(moved, sizeof moved, "%s_moved", dir);
  snprintf(ck, sizeof ck, "%s/ck.bin", dir);
  mkdir(dir, 0700);
  nad_arch *a = NULL;
  CHECK(nad_arch_create_spec("conv 2 k3 p1; relu; fc 1", 1, 4, 4, &a) == NAD_OK, "%s",
        nad_last_error());

  /* a failing save in the middle: the run goes on */
  nad_estimator *e = make(a, 8);
  nad_estimator_set_checkpoint(e, ck, 2);
  nad_estimator_set_progress(e, move_dir_at_3, NULL);
  nad_status st = nad_estimator_run(e);
  int64_t failures = 0, done = 0;
  const char *msg = nad_estimator_checkpoint_error(e, &failures);
  CHECK(st == NAD_OK, "run with failing checkpoints: %s (%s)", nad_status_string(st),
        nad_last_error());
  nad_estimator_networks_done(e, &done);
  CHECK(done == 8, "all networks computed: %lld", (long long)done);
  CHECK(failures >= 2 && strstr(msg, "ck.bin") != NULL, "failures %lld, message '%s'",
        (long long)failures, msg);
  double ev[16];
  CHECK(nad_estimator_eigenvalues(e, ev, 16) == NAD_OK && ev[0] > 0, "results: %s",
        nad_last_error());
  nad_estimator_destroy(e);
  /* the file kept the last checkpoint written before the failures: 2 networks */
  char ck_moved[220];
  snprintf(ck_moved, sizeof ck_moved, "%s/ck.bin", moved);
  e = make(a, 8);
  CHECK(nad_estimator_load(e, ck_moved) == NAD_OK, "%s", nad_last_error());
  nad_estimator_networks_done(e, &done);
  CHECK(done == 2, "previous checkpoint kept: %lld networks", (long long)done);
  nad_estimator_destroy(e);

  /* refused before the first network: missing directory, symbolic link, a held lock */
  const char *bad[2] = {"/tmp/nad_no_such_dir_for_ck/ck.bin", NULL};
  char link[220];
  snprintf(link, sizeof link, "%s/link.bin", moved);
  CHECK(symlink(ck_moved, link) == 0, "symlink");
  bad[1] = link;
  for (int i = 0; i < 2; i++) {
    e = make(a, 4);
    nad_estimator_set_checkpoint(e, bad[i], 1);
    calls = 0;
    nad_estimator_set_progress(e, count_calls, NULL);
    st = nad_estimator_run(e);
    CHECK(st == NAD_ERR_IO && calls == 0, "%s: %s after %d networks (%s)", bad[i],
          nad_status_string(st), calls, nad_last_error());
    nad_estimator_destroy(e);
  }
  char lock[240];
  snprintf(lock, sizeof lock, "%s.lock", ck_moved);
  int fd = open(lock, O_RDWR | O_CREAT, 0644);
  CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0, "taking the lock");
  e = make(a, 4);
  nad_estimator_set_checkpoint(e, ck_moved, 1);
  st = nad_estimator_run(e);
  CHECK(st == NAD_ERR_IO && strstr(nad_last_error(), "in use") != NULL, "held lock: %s (%s)",
        nad_status_string(st), nad_last_error());
  nad_estimator_destroy(e);
  close(fd);

  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, moved);
  CHECK(system(cmd) == 0, "cleanup");
  nad_arch_destroy(a);
  return check_summary();
}
