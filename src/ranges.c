/* The one parser of index ranges and lists (cli.h, "index ranges"): items I, A:B and A:B:STEP
 * separated by commas, Python's range (B excluded). Every option that takes NAD, network or
 * figure indices goes through it, so a limit or an overflow check is written once: a range is
 * counted, never walked, before anything is allocated, and the count is capped by the caller. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/checked.h"

/* Why an item was refused. */
enum { ITEM_OK = 0, ITEM_SYNTAX, ITEM_FORM, ITEM_EMPTY, ITEM_STEP, ITEM_BIG };

/* One item at *p (up to ',' or the end): fills r and *form (CLI_RANGE_I, _AB or _ABS), moves *p
 * past it. Digits only: no sign, blank or '+'. */
static int scan_item(const char **p, cli_range *r, int *form) {
  int64_t v[3];
  int nv = 0;
  const char *s = *p;
  for (;;) {
    if (nv == 3 || *s < '0' || *s > '9')
      return ITEM_SYNTAX;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno == ERANGE)
      return ITEM_BIG;
    v[nv++] = x;
    s = end;
    if (*s == '\0' || *s == ',')
      break;
    if (*s++ != ':')
      return ITEM_SYNTAX;
  }
  *p = s;
  *form = nv == 1 ? CLI_RANGE_I : nv == 2 ? CLI_RANGE_AB : CLI_RANGE_ABS;
  if (nv == 1 && v[0] == INT64_MAX) /* its range [I, I + 1) would not fit */
    return ITEM_BIG;
  r->a = v[0];
  r->b = nv == 1 ? v[0] + 1 : v[1];
  r->step = nv == 3 ? v[2] : 1;
  if (r->a >= r->b)
    return ITEM_EMPTY;
  return r->step < 1 ? ITEM_STEP : ITEM_OK;
}

int64_t cli_range_count(const cli_range *r) { return (r->b - r->a - 1) / r->step + 1; }

static int refuse(const char *command, const char *opt, const char *text,
                  const cli_range_rule *rule, int why) {
  switch (why) {
  case ITEM_EMPTY:
    return cli_usage_error(command, "--%s: '%s' is empty (need A < B in A:B and A:B:STEP; B is "
                                    "excluded)", opt, text);
  case ITEM_STEP:
    return cli_usage_error(command, "--%s: STEP must be >= 1 in '%s'", opt, text);
  case ITEM_BIG:
    return cli_usage_error(command, "--%s: a number in '%s' is too large (at most %lld)", opt,
                           text, (long long)INT64_MAX - 1);
  default:
    return cli_usage_error(command, "--%s: expected %s, got '%s'", opt, rule->expect, text);
  }
}

int cli_parse_range(const char *command, const char *opt, const char *text,
                    const cli_range_rule *rule, cli_range *out) {
  const char *p = text ? text : "";
  int form = 0, why = scan_item(&p, out, &form);
  if (why == ITEM_OK && (*p != '\0' || !(form & rule->forms)))
    why = ITEM_FORM;
  return why == ITEM_OK ? 0 : refuse(command, opt, text ? text : "", rule, why);
}

static int cmp_i64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return (a > b) - (a < b);
}

/* The first index that occurs twice in idx[0..n), or -1 (sorts a copy: n may be large). */
static int64_t first_repeat(const int64_t *idx, int64_t n, int *oom) {
  int64_t *s = malloc((size_t)n * sizeof *s), rep = -1;
  *oom = s == NULL;
  if (!s)
    return -1;
  memcpy(s, idx, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_i64);
  for (int64_t i = 1; i < n && rep < 0; i++)
    if (s[i] == s[i - 1])
      rep = s[i];
  free(s);
  return rep;
}

/* Counts the indices of text (every item checked) without walking any range: 0, or CLI_USAGE. */
static int count_indices(const char *command, const char *opt, const char *text,
                         const cli_range_rule *rule, int64_t cap, int64_t *total) {
  *total = 0;
  int overflow = 0;
  for (const char *p = text;;) {
    cli_range r;
    int form = 0, why = scan_item(&p, &r, &form);
    if (why == ITEM_OK && !(form & rule->forms))
      why = ITEM_FORM;
    if (why != ITEM_OK)
      return refuse(command, opt, text, rule, why);
    overflow |= !nadi_add_ok(*total, cli_range_count(&r), total);
    if (*p == '\0')
      break;
    p++; /* ',' */
  }
  if (overflow || *total > cap) {
    if (overflow)
      return cli_usage_error(command, "--%s '%s' asks for more %s than a 64-bit count holds "
                                      "(at most %lld)", opt, text, rule->noun, (long long)cap);
    return cli_usage_error(command, "--%s '%s' asks for %lld %s, more than %lld%s", opt, text,
                           (long long)*total, rule->noun, (long long)cap,
                           rule->forms & CLI_RANGE_ABS ? ": use a larger STEP" : "");
  }
  return 0;
}

int cli_parse_indices(const char *command, const char *opt, const char *text, int64_t cap,
                      const cli_range_rule *rule, int64_t **out, int64_t *n) {
  *out = NULL;
  *n = 0;
  if (!text)
    return 0;
  int64_t total = 0;
  int rc = count_indices(command, opt, text, rule, cap, &total);
  if (rc)
    return rc;
  int64_t *idx = malloc((size_t)total * sizeof *idx), cnt = 0;
  if (!idx)
    return cli_error("out of memory");
  for (const char *p = text;;) { /* every item is known to be well formed */
    cli_range r;
    int form = 0;
    scan_item(&p, &r, &form);
    for (int64_t k = 0, m = cli_range_count(&r); k < m; k++)
      idx[cnt++] = r.a + k * r.step; /* < b: no overflow */
    if (*p++ == '\0')
      break;
  }
  if (rule->distinct && strchr(text, ',')) { /* a single range never repeats */
    int oom = 0;
    int64_t rep = first_repeat(idx, cnt, &oom);
    if (oom || rep >= 0) {
      free(idx);
      return oom ? cli_error("out of memory")
                 : cli_usage_error(command, "--%s: index %lld appears twice in '%s'", opt,
                                   (long long)rep, text);
    }
  }
  *out = idx;
  *n = cnt;
  return 0;
}
