/* The CLI's one parser of index ranges and lists (src/ranges.c): the forms each option takes,
 * the cap counted before anything is allocated (huge ranges, counts that overflow int64), the
 * rejection of signs, blanks, empty ranges, zero steps and numbers past INT64_MAX. */
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "cli.h"

static const cli_range_rule any = {CLI_RANGE_ANY, "a list", "indices", 0};
static const cli_range_rule distinct = {CLI_RANGE_ANY, "a list", "trainings", 1};
static const cli_range_rule ab = {CLI_RANGE_AB, "A:B", "networks", 0};
static const cli_range_rule abs_only = {CLI_RANGE_ABS, "A:B:STEP", "NADs", 0};

/* Parses text with cap; on success compares with want[0..nwant). */
static void list_ok(const char *text, int64_t cap, const cli_range_rule *rule,
                    const int64_t *want, int64_t nwant) {
  int64_t *idx = NULL, n = -1;
  int rc = cli_parse_indices("estimate", "show", text, cap, rule, &idx, &n);
  CHECK(rc == 0 && n == nwant, "'%s': rc %d, n %lld (want %lld)", text, rc, (long long)n,
        (long long)nwant);
  for (int64_t i = 0; rc == 0 && i < n && i < nwant; i++)
    CHECK(idx[i] == want[i], "'%s'[%lld] = %lld, want %lld", text, (long long)i,
          (long long)idx[i], (long long)want[i]);
  free(idx);
}

static void list_bad(const char *text, int64_t cap, const cli_range_rule *rule) {
  int64_t *idx = (int64_t *)&idx, n = -1; /* must be reset */
  int rc = cli_parse_indices("estimate", "show", text, cap, rule, &idx, &n);
  CHECK(rc == CLI_USAGE && idx == NULL && n == 0, "'%s' accepted (rc %d, n %lld)", text, rc,
        (long long)n);
}

static void range_ok(const char *text, const cli_range_rule *rule, int64_t a, int64_t b,
                     int64_t step) {
  cli_range r = {-1, -1, -1};
  int rc = cli_parse_range("estimate", "range", text, rule, &r);
  CHECK(rc == 0 && r.a == a && r.b == b && r.step == step, "'%s': rc %d, %lld:%lld:%lld", text,
        rc, (long long)r.a, (long long)r.b, (long long)r.step);
}

static void range_bad(const char *text, const cli_range_rule *rule) {
  cli_range r;
  int rc = cli_parse_range("estimate", "range", text, rule, &r);
  CHECK(rc == CLI_USAGE, "'%s' accepted as a range (rc %d)", text, rc);
}

int main(void) {
  if (!freopen("/dev/null", "w", stderr)) /* the refusals print messages */
    return 1;
  /* lists: every form, order kept, duplicates allowed unless distinct */
  list_ok("0:3,10,63", 4096, &any, (const int64_t[]){0, 1, 2, 10, 63}, 5);
  list_ok("5:12:3", 4096, &any, (const int64_t[]){5, 8, 11}, 3);
  list_ok("7", 4096, &any, (const int64_t[]){7}, 1);
  list_ok("3,3", 4096, &any, (const int64_t[]){3, 3}, 2);
  list_ok("0,7,62", 65536, &distinct, (const int64_t[]){0, 7, 62}, 3);
  list_bad("0,7,0", 65536, &distinct);
  list_bad("0:4,2", 65536, &distinct);
  /* the cap: exactly cap is fine, one more is not */
  list_ok("0:4", 4, &any, (const int64_t[]){0, 1, 2, 3}, 4);
  list_bad("0:5", 4, &any);
  list_bad("0:3,10,11", 4, &any);
  /* huge ranges are counted, not walked; counts that overflow int64 are refused */
  list_bad("0:2305843009213693953:1", 65536, &distinct);
  list_bad("0:9223372036854775807:3", 65536, &distinct);
  list_bad("0:9223372036854775807,0:9223372036854775807", INT64_MAX, &any);
  list_ok("9223372036854775800:9223372036854775807:3", 4096, &any,
          (const int64_t[]){9223372036854775800, 9223372036854775803, 9223372036854775806}, 3);
  list_ok("9223372036854775806", 4096, &any, (const int64_t[]){9223372036854775806}, 1);
  list_bad("9223372036854775807", 4096, &any);  /* [I, I + 1) does not fit */
  list_bad("9223372036854775808", 4096, &any);  /* past INT64_MAX */
  list_bad("0:99999999999999999999", 4096, &any);
  /* syntax */
  const char *bad[] = {"", ",", "1,", ",1", "3:1", "5:5", "0:4:0", "-1:4", "+1", " 1", "1 ",
                       "1:2:3:4", "a", "1;2", "0x10", "1:", ":2", "1::2"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    list_bad(bad[i], 4096, &any);
  int64_t *idx = (int64_t *)&idx, n = -1;
  CHECK(cli_parse_indices("estimate", "show", NULL, 4096, &any, &idx, &n) == 0 && !idx && n == 0,
        "NULL text: no list");
  /* single ranges: only the forms of the rule, not expanded */
  range_ok("37:90", &ab, 37, 90, 1);
  range_bad("5", &ab);
  range_bad("5:5", &ab);
  range_bad("0:4:2", &ab);
  range_bad("0:4,6:8", &ab);
  range_bad(NULL, &ab);
  range_ok("0:9223372036854775807:1", &abs_only, 0, INT64_MAX, 1);
  range_bad("0:9", &abs_only);
  range_bad("3:1:1", &abs_only);
  cli_range r = {0, 9223372036854775807, 1};
  CHECK(cli_range_count(&r) == INT64_MAX, "count of 0:INT64_MAX");
  r = (cli_range){9223372036854775806, 9223372036854775807, 5};
  CHECK(cli_range_count(&r) == 1, "count of a short range near INT64_MAX");
  r = (cli_range){0, 10, 3};
  CHECK(cli_range_count(&r) == 4, "count of 0:10:3");
  return check_summary();
}
