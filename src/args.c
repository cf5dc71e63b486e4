/* Option parsing shared by all commands: a table of long options, positionals, strict numbers. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/checked.h"

int cli_usage_error(const char *command, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("nad: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fprintf(stderr, "usage: %s\n", cli_usage_line(command));
  if (command)
    fprintf(stderr, "(see 'nad %s --help')\n", command);
  else
    fputs("(see 'nad help')\n", stderr);
  return CLI_USAGE;
}

/* Edit distance (insertions, deletions, substitutions, adjacent swaps) between a and b[0..blen),
 * for "did you mean" hints; words longer than 63 characters are not compared (returns a big
 * number). */
static size_t edit_distance(const char *a, const char *b, size_t blen) {
  size_t alen = strlen(a);
  if (alen > 63 || blen > 63)
    return (size_t)-1 / 2;
  size_t d[64][64];
  for (size_t i = 0; i <= alen; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= blen; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= alen; i++)
    for (size_t j = 1; j <= blen; j++) {
      size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best)
        best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best)
        best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[alen][blen];
}

const char *cli_nearest(const char *word, size_t len, const char *const *candidates, int n) {
  const char *best = NULL;
  size_t best_d = (size_t)-1;
  for (int i = 0; i < n; i++) {
    size_t dist = edit_distance(candidates[i], word, len);
    /* a prefix ("--net" for --networks) is a match too */
    if (len >= 3 && strncmp(candidates[i], word, len) == 0)
      dist = 1;
    if (dist < best_d) {
      best_d = dist;
      best = candidates[i];
    }
  }
  /* close enough to be a typo: at most 2 edits, and fewer than half the letters */
  return best && best_d <= 2 && 2 * best_d < len + 1 ? best : NULL;
}

static const cli_opt *find_opt(const cli_opt *opts, int nopts, const char *name, size_t len) {
  for (int i = 0; i < nopts; i++)
    if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
      return &opts[i];
  return NULL;
}

int cli_parse(const char *command, int argc, char **argv, const cli_opt *opts, int nopts,
              const char **pos, int max_pos, int *npos) {
  *npos = 0;
  /* --help wins over everything else, even over errors earlier on the line. */
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      break;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      cli_print_help(stdout, command);
      return -1;
    }
  }
  int only_positional = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
      if (*npos >= max_pos)
        return cli_usage_error(command, "unexpected argument '%s'", a);
      pos[(*npos)++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_positional = 1;
      continue;
    }
    if (a[1] != '-')
      return cli_usage_error(command, "unknown option '%s' (options are long: --name)", a);
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const cli_opt *o = find_opt(opts, nopts, name, len);
    if (!o) {
      const char *names[64];
      int n = 0;
      for (int k = 0; k < nopts && n < 64; k++)
        names[n++] = opts[k].name;
      const char *near = cli_nearest(name, len, names, n);
      if (near)
        return cli_usage_error(command, "unknown option '--%.*s' (did you mean --%s?)", (int)len,
                               name, near);
      return cli_usage_error(command, "unknown option '--%.*s'", (int)len, name);
    }
    if (!o->takes_value) {
      if (eq)
        return cli_usage_error(command, "option '--%s' takes no value", o->name);
      *o->flag = 1;
      continue;
    }
    if (eq) {
      *o->value = eq + 1;
    } else {
      if (i + 1 >= argc)
        return cli_usage_error(command, "option '--%s' needs a value", o->name);
      *o->value = argv[++i]; /* taken verbatim, so "--scale -1" reaches the range check */
    }
  }
  return 0;
}

int cli_parse_i64(const char *opt, const char *text, int64_t lo, int64_t hi, int64_t *out) {
  if (!text)
    return 0;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || text[0] == ' ') {
    fprintf(stderr, "nad: --%s: expected an integer, got '%s'\n", opt, text);
    return CLI_USAGE;
  }
  if (v < lo || v > hi) {
    if (hi == INT64_MAX)
      fprintf(stderr, "nad: --%s: must be >= %lld, got %lld\n", opt, (long long)lo, v);
    else
      fprintf(stderr, "nad: --%s: must be in [%lld, %lld], got %lld\n", opt, (long long)lo,
              (long long)hi, v);
    return CLI_USAGE;
  }
  *out = (int64_t)v;
  return 0;
}

int cli_parse_double_pos(const char *opt, const char *text, double *out) {
  if (!text)
    return 0;
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || text[0] == ' ') {
    fprintf(stderr, "nad: --%s: expected a number, got '%s'\n", opt, text);
    return CLI_USAGE;
  }
  if (!isfinite(v) || !(v > 0)) {
    fprintf(stderr, "nad: --%s: must be a finite number > 0, got '%s'\n", opt, text);
    return CLI_USAGE;
  }
  *out = v;
  return 0;
}

int cli_parse_shape(const char *opt, const char *text, int64_t shape[3]) {
  if (!text)
    return 0;
  const char *p = text;
  for (int i = 0; i < 3; i++) {
    char *end = NULL;
    errno = 0;
    if (*p < '0' || *p > '9')
      goto bad;
    long long v = strtoll(p, &end, 10);
    if (errno == ERANGE || v <= 0 || v > (1LL << 24))
      goto bad;
    shape[i] = (int64_t)v;
    p = end;
    if (i < 2) {
      if (*p != 'x' && *p != 'X')
        goto bad;
      p++;
    }
  }
  int64_t n = 0;
  if (*p == '\0' && nadi_prod_ok(shape, 3, &n) && n <= INT32_MAX)
    return 0;
  if (*p == '\0') {
    fprintf(stderr, "nad: --%s: %s has more than 2^31 - 1 values (C*H*W)\n", opt, text);
    return CLI_USAGE;
  }
bad:
  fprintf(stderr, "nad: --%s: expected CxHxW with positive integers (e.g. 1x32x32), got '%s'\n",
          opt, text);
  return CLI_USAGE;
}

int cli_parse_size(const char *opt, const char *text, int64_t *out) {
  if (!text)
    return 0;
  char *end = NULL;
  errno = 0;
  double v = text[0] >= '0' && text[0] <= '9' ? strtod(text, &end) : -1;
  double mul = 1;
  if (end && end != text) {
    switch (*end) {
    case 'k': case 'K': mul = 1024.0; end++; break;
    case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
    case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (mul > 1 && (end[0] == 'i' || end[0] == 'I') && (end[1] == 'B' || end[1] == 'b'))
      end += 2;
    else if (end[0] == 'B' || end[0] == 'b')
      end++;
  }
  if (!end || end == text || *end != '\0' || errno == ERANGE || !isfinite(v) ||
      v * mul > 9007199254740991.0) {
    fprintf(stderr, "nad: --%s: expected a size in bytes with an optional K, M, G or T suffix "
                    "(powers of 1024, e.g. 1.5G), got '%s'\n", opt, text);
    return CLI_USAGE;
  }
  *out = (int64_t)(v * mul);
  return 0;
}

int cli_parse_double(const char *opt, const char *text, double lo, double hi, int hi_open,
                     double *out) {
  if (!text)
    return 0;
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || text[0] == ' ' || !isfinite(v)) {
    fprintf(stderr, "nad: --%s: expected a finite number, got '%s'\n", opt, text);
    return CLI_USAGE;
  }
  if (v < lo || v > hi || (hi_open && v >= hi)) {
    if (isinf(hi))
      fprintf(stderr, "nad: --%s: must be >= %g, got '%s'\n", opt, lo, text);
    else
      fprintf(stderr, "nad: --%s: must be in [%g, %g%c, got '%s'\n", opt, lo, hi,
              hi_open ? ')' : ']', text);
    return CLI_USAGE;
  }
  *out = v;
  return 0;
}
