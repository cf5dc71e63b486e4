/* White-box test of the check schedule of NAD_OPT_CONVERGE_EVERY / NAD_OPT_CONVERGE_GROWTH
 * (lib/estimator/run.c, issue 19 §3): the documented points, growth 1 = every C, the number of
 * checks logarithmic in the count, nadi_converge_is_check agreeing with nadi_converge_next, and
 * no overflow near INT64_MAX. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "estimator/run.h"
#include "../check.h"

/* Check points in [1, n] of (every, growth). */
static int64_t count_checks(int64_t every, double growth, int64_t n) {
  int64_t k = 0;
  for (int64_t c = nadi_converge_next(every, growth, 0); c <= n;
       c = nadi_converge_next(every, growth, c))
    k++;
  return k;
}

int main(void) {
  /* the schedule nad.h and --help state for the defaults */
  static const int64_t want[] = {100,  200,  300,  400,  500,  700,  900,  1200, 1500,
                                 1900, 2400, 3000, 3800, 4800, 6000, 7500, 9400, 11800};
  int64_t c = 0;
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    c = nadi_converge_next(100, NADI_CONVERGE_GROWTH_DEFAULT, c);
    CHECK(c == want[i], "check %zu: %lld, want %lld", i, (long long)c, (long long)want[i]);
  }
  EXPECT(count_checks(100, 1.25, 10000) == 17);
  /* growth 1: every multiple of C (the option's first schedule) */
  EXPECT(count_checks(100, 1.0, 10000) == 100);
  EXPECT(count_checks(7, 1.0, 700) == 100);
  /* logarithmic: at most 1/(G − 1) steps of C before the growth takes over, then one per
   * factor G; and no fewer than one per factor G + 1 (a step is at most G·c + C) */
  const double gs[] = {1.1, 1.25, 2.0};
  for (size_t i = 0; i < sizeof gs / sizeof gs[0]; i++)
    for (int64_t n = 1000; n <= INT64_C(1000000000000); n *= 1000) {
      const double bound = 1.0 / (gs[i] - 1.0) + 2.0 + log((double)n / 100.0) / log(gs[i]);
      const int64_t k = count_checks(100, gs[i], n);
      CHECK(k <= bound && k >= log((double)n / 100.0) / log(gs[i] + 1.0),
            "growth %g up to %lld: %lld checks, bound %.1f", gs[i], (long long)n, (long long)k,
            bound);
    }
  /* is_check agrees with the points of next, and every point is a multiple of C */
  int mismatch = 0;
  for (int64_t n = 0, next = nadi_converge_next(30, 1.3, 0); n <= 100000; n++) {
    const int is = n == next;
    if (is)
      next = nadi_converge_next(30, 1.3, n);
    mismatch += nadi_converge_is_check(30, 1.3, n) != is || (is && n % 30 != 0);
  }
  CHECK(mismatch == 0, "%d counts disagree", mismatch);
  EXPECT(!nadi_converge_is_check(0, 1.25, 100) && !nadi_converge_is_check(100, 1.25, 0));
  EXPECT(nadi_converge_is_check(100, 1.25, 700) && !nadi_converge_is_check(100, 1.25, 600));
  /* near the top of int64: the next point is INT64_MAX, never an overflow or a step back */
  const int64_t big = INT64_MAX / 2;
  EXPECT(nadi_converge_next(100, 4.0, big) == INT64_MAX);
  EXPECT(nadi_converge_next(INT64_MAX / 3, 1.0, INT64_MAX / 3) > INT64_MAX / 3);
  EXPECT(nadi_converge_is_check(1, 1e6, INT64_C(1000000)) &&
         !nadi_converge_is_check(1, 1e6, INT64_C(1000001)));
  return check_summary();
}
