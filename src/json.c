/* A tiny streaming JSON writer: enough for summaries (objects, arrays, strings, numbers). The
 * caller nests begin/end correctly; the writer only handles commas, indentation and escaping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_DEPTH 32

void cli_json_init(cli_json *j, FILE *f) {
  memset(j, 0, sizeof *j);
  j->f = f;
  j->compact = MAX_DEPTH + 1; /* no inline container open */
}

void cli_json_init_one_line(cli_json *j, FILE *f) {
  cli_json_init(j, f);
  j->compact = 0; /* every container inline */
}

static void write_escaped(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default:
      if (*p < 0x20)
        fprintf(f, "\\u%04x", *p);
      else
        fputc(*p, f);
    }
  }
  fputc('"', f);
}

/* Separator, line break and key before a value at the current depth. */
static void prefix(cli_json *j, const char *key) {
  if (j->depth > 0) {
    if (!j->first[j->depth])
      fputc(',', j->f);
    if (j->depth >= j->compact) {
      if (!j->first[j->depth])
        fputc(' ', j->f);
    } else {
      fputc('\n', j->f);
      for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
    }
    j->first[j->depth] = 0;
  }
  if (key) {
    write_escaped(j->f, key);
    fputs(": ", j->f);
  }
}

static void open_container(cli_json *j, const char *key, char c, int inline_items) {
  prefix(j, key);
  fputc(c, j->f);
  if (j->depth + 1 < MAX_DEPTH)
    j->depth++;
  j->first[j->depth] = 1;
  if (inline_items && j->compact > j->depth)
    j->compact = j->depth;
}

static void close_container(cli_json *j, char c) {
  int empty = j->first[j->depth];
  if (!empty && j->depth < j->compact) {
    fputc('\n', j->f);
    for (int i = 0; i < j->depth - 1; i++)
      fputs("  ", j->f);
  }
  fputc(c, j->f);
  if (j->compact == j->depth)
    j->compact = MAX_DEPTH + 1;
  if (j->depth > 0)
    j->depth--;
}

void cli_json_begin_object(cli_json *j, const char *key) { open_container(j, key, '{', 0); }
void cli_json_end_object(cli_json *j) { close_container(j, '}'); }
void cli_json_begin_array(cli_json *j, const char *key, int inline_items) {
  open_container(j, key, '[', inline_items);
}
void cli_json_end_array(cli_json *j) { close_container(j, ']'); }

void cli_json_string(cli_json *j, const char *key, const char *v) {
  prefix(j, key);
  if (v)
    write_escaped(j->f, v);
  else
    fputs("null", j->f);
}

void cli_json_int(cli_json *j, const char *key, int64_t v) {
  prefix(j, key);
  fprintf(j->f, "%lld", (long long)v);
}

void cli_json_bool(cli_json *j, const char *key, int v) {
  prefix(j, key);
  fputs(v ? "true" : "false", j->f);
}

void cli_json_double(cli_json *j, const char *key, double v) {
  prefix(j, key);
  if (!isfinite(v)) {
    fputs("null", j->f);
    return;
  }
  /* Shortest of %.15g..%.17g that reads back to the same double: exact, yet 0.93 stays 0.93. */
  char buf[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  fputs(buf, j->f);
}

void cli_json_shape(cli_json *j, const char *key, const int64_t s[3]) {
  cli_json_begin_array(j, key, 1);
  for (int i = 0; i < 3; i++)
    cli_json_int(j, NULL, s[i]);
  cli_json_end_array(j);
}

void cli_json_finish(cli_json *j) { fputc('\n', j->f); }
