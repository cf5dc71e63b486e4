/* NAD_OPT_CONVERGE_EVERY (issue 19 §3): stop when the two halves agree. The stopping point
 * and the results are the same for 1 and 2 threads and equal to a plain run of that many
 * networks; a converging case stops well below the maximum, one that cannot converge in its
 * maximum runs it all and reports "not converged"; a run resumed from its checkpoint stops
 * where it stopped; the stop lies on the geometric schedule of NAD_OPT_CONVERGE_GROWTH, and
 * growth 1 (every C networks) stops no later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nad/nad.h>

#include "../check.h"

#define K 8 /* eigenvalues compared */

typedef struct outcome {
  nad_status st;
  int64_t done;
  int32_t converged;
  double ov[2], corr;
  double evals[K];
} outcome;

/* The check points of C = 100 with the default growth 1.25, as nad.h states them. */
static int on_default_schedule(int64_t n) {
  static const int64_t pts[] = {100,  200,  300,  400,  500,  700,  900,  1200, 1500,
                                1900, 2400, 3000, 3800, 4800, 6000, 7500, 9400};
  for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++)
    if (pts[i] == n)
      return 1;
  return 0;
}

static nad_estimator *make(nad_arch *a, int64_t max, int64_t every, int64_t threads) {
  nad_estimator *e = NULL;
  CHECK(nad_estimator_create(a, &e) == NAD_OK, "%s", nad_last_error());
  nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, max);
  nad_estimator_set_int(e, NAD_OPT_NUM_THREADS, threads);
  nad_estimator_set_int(e, NAD_OPT_SEED, 3);
  CHECK(nad_estimator_set_int(e, NAD_OPT_CONVERGE_EVERY, every) == NAD_OK, "%s",
        nad_last_error());
  return e;
}

static outcome finish(nad_estimator *e) {
  outcome o;
  memset(&o, 0, sizeof o);
  nad_estimator_networks_done(e, &o.done);
  if (o.st == NAD_OK && o.done >= 4)
    CHECK(nad_estimator_converged(e, &o.converged, o.ov, &o.corr) == NAD_OK, "%s",
          nad_last_error());
  double *all = malloc(256 * sizeof(double)); /* K = D = 256 */
  CHECK(nad_estimator_eigenvalues(e, all, 256) == NAD_OK, "%s", nad_last_error());
  memcpy(o.evals, all, sizeof o.evals);
  free(all);
  return o;
}

static outcome run(nad_arch *a, int64_t max, int64_t every, int64_t threads, const char *ck,
                   double growth) {
  nad_estimator *e = make(a, max, every, threads);
  if (growth > 0)
    CHECK(nad_estimator_set_double(e, NAD_OPT_CONVERGE_GROWTH, growth) == NAD_OK, "%s",
          nad_last_error());
  if (ck)
    nad_estimator_set_checkpoint(e, ck, 1000);
  nad_status st = nad_estimator_run(e);
  CHECK(st == NAD_OK, "run: %s", nad_last_error());
  outcome o = finish(e);
  o.st = st;
  nad_estimator_destroy(e);
  return o;
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  char dir[512], ck[600];
  snprintf(dir, sizeof dir, "%s/nad_conv_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  snprintf(ck, sizeof ck, "%.500s/run.ck", dir);

  nad_arch *a = NULL;
  CHECK(nad_arch_create_builtin("lenet", 1, 16, 16, 1, &a) == NAD_OK, "%s", nad_last_error());
  const int64_t max = 8000, every = 100;
  /* the option: bounds, name, getter */
  nad_option o = 0;
  EXPECT(nad_option_by_name("converge_every", &o) == NAD_OK && o == NAD_OPT_CONVERGE_EVERY);
  nad_estimator *e = make(a, 10, 7, 1);
  int64_t v = 0;
  EXPECT(nad_estimator_get_int(e, NAD_OPT_CONVERGE_EVERY, &v) == NAD_OK && v == 7);
  EXPECT(nad_estimator_set_int(e, NAD_OPT_CONVERGE_EVERY, -1) == NAD_ERR_INVALID_ARG);
  /* the schedule's growth: a double >= 1, default 1.25 */
  double g = 0, lo = 0, hi = 0;
  EXPECT(nad_option_by_name("converge_growth", &o) == NAD_OK && o == NAD_OPT_CONVERGE_GROWTH);
  EXPECT(nad_estimator_get_double(e, NAD_OPT_CONVERGE_GROWTH, &g) == NAD_OK && g == 1.25);
  EXPECT(nad_option_bounds(NAD_OPT_CONVERGE_GROWTH, &lo, &hi) == NAD_OK && lo == 1 && hi > 2);
  EXPECT(nad_estimator_set_double(e, NAD_OPT_CONVERGE_GROWTH, 0.99) == NAD_ERR_INVALID_ARG);
  EXPECT(nad_estimator_set_int(e, NAD_OPT_CONVERGE_GROWTH, 2) == NAD_ERR_OPTION_TYPE);
  EXPECT(nad_estimator_set_double(e, NAD_OPT_CONVERGE_GROWTH, 1.0) == NAD_OK &&
         nad_estimator_get_double(e, NAD_OPT_CONVERGE_GROWTH, &g) == NAD_OK && g == 1.0);
  EXPECT(nad_estimator_get_double(e, NAD_OPT_STEP, &g) == NAD_OK && g == 100.0);
  int32_t yes = 0;
  EXPECT(nad_estimator_converged(e, &yes, NULL, NULL) == NAD_ERR_MISUSE); /* nothing yet */
  nad_estimator_destroy(e);

  /* converging: stops well below the maximum, at a point of the geometric schedule, the same
   * for 1 and 2 threads, and converged there */
  outcome o1 = run(a, max, every, 1, ck, 0);
  outcome o2 = run(a, max, every, 2, NULL, 0);
  printf("lenet 1x16x16: stopped at %lld of %lld networks (overlaps %.3f %.3f, corr %.4f)\n",
         (long long)o1.done, (long long)max, o1.ov[0], o1.ov[1], o1.corr);
  CHECK(o1.done < max / 2 && on_default_schedule(o1.done), "stopped at %lld",
        (long long)o1.done);
  CHECK(o1.converged == 1, "converged at the stop");
  CHECK(o2.done == o1.done, "2 threads stopped at %lld, 1 thread at %lld", (long long)o2.done,
        (long long)o1.done);
  CHECK(memcmp(o1.evals, o2.evals, sizeof o1.evals) == 0, "1 vs 2 threads: %.17g vs %.17g",
        o1.evals[0], o2.evals[0]);
  /* equal to a plain run of that many networks */
  outcome plain = run(a, o1.done, 0, 2, NULL, 0);
  CHECK(plain.done == o1.done, "plain run of %lld", (long long)o1.done);
  CHECK(memcmp(o1.evals, plain.evals, sizeof o1.evals) == 0, "until-converged vs plain: %.17g "
        "vs %.17g", o1.evals[0], plain.evals[0]);
  /* growth 1 checks at every multiple of C (the option's first schedule): it stops at a
   * multiple of C, no later than the geometric schedule (whose stop it also checks), and the
   * same for 1 and 2 threads */
  outcome every1 = run(a, max, every, 2, NULL, 1.0);
  outcome every2 = run(a, max, every, 1, NULL, 1.0);
  printf("growth 1: stopped at %lld\n", (long long)every1.done);
  CHECK(every1.converged == 1 && every1.done % every == 0 && every1.done <= o1.done &&
            every2.done == every1.done,
        "growth 1: stopped at %lld (1 thread: %lld), geometric at %lld",
        (long long)every1.done, (long long)every2.done, (long long)o1.done);
  /* resumed from its checkpoint (saved at the stop): checks at once, runs nothing more */
  e = make(a, max, every, 2);
  CHECK(nad_estimator_load(e, ck) == NAD_OK, "load: %s", nad_last_error());
  CHECK(nad_estimator_run(e) == NAD_OK, "resume: %s", nad_last_error());
  outcome r = finish(e);
  CHECK(r.done == o1.done, "resumed run stopped at %lld, the first at %lld", (long long)r.done,
        (long long)o1.done);
  CHECK(memcmp(o1.evals, r.evals, sizeof o1.evals) == 0, "resumed vs first");
  nad_estimator_destroy(e);

  /* cannot converge within its maximum: runs it all, not converged */
  outcome few = run(a, 24, 8, 2, NULL, 0);
  CHECK(few.done == 24 && few.converged == 0, "24 networks: done %lld, converged %d",
        (long long)few.done, (int)few.converged);

  /* with K = 1 the criterion is the old verdict: top-1 overlap and spectrum correlation */
  e = make(a, 200, 0, 2);
  nad_estimator_set_int(e, NAD_OPT_TOP_K, 1);
  nad_estimator_set_progress(e, NULL, NULL);
  CHECK(nad_estimator_run(e) == NAD_OK, "%s", nad_last_error());
  double ov[2] = {0, 0}, corr = 0, ov1 = 0, corr1 = 0;
  CHECK(nad_estimator_converged(e, &yes, ov, &corr) == NAD_OK, "%s", nad_last_error());
  CHECK(nad_estimator_convergence(e, 1, &ov1, &corr1) == NAD_OK, "%s", nad_last_error());
  CHECK(ov[0] == ov1 && ov[1] == ov1 && corr == corr1, "K = 1: %g %g %g vs %g %g", ov[0], ov[1],
        corr, ov1, corr1);
  EXPECT(yes == (ov1 >= 0.9 && corr1 >= 0.99));
  nad_estimator_destroy(e);

  nad_arch_destroy(a);
  remove(ck);
  rmdir(dir);
  return check_summary();
}
