/* Init rules on an architecture (lib/graph/init_rules.c): nad_arch_with_init_rules(_file) make
 * a new handle whose random networks follow the rules; the source handle stays as it was
 * (architectures are immutable and shared between threads). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

/* The handle without rules that a (maybe) was derived from. */
static const nad_arch *plain_of(const nad_arch *a) { return a->plain ? a->plain : a; }

nad_status nad_arch_with_init_rules(const nad_arch *a, const char *rules, const char *source,
                                    nad_arch **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "out is NULL");
  *out = NULL;
  NADI_CHECK(a != NULL, NAD_ERR_INVALID_ARG, "architecture is NULL");
  NADI_CHECK(rules != NULL, NAD_ERR_INVALID_ARG, "init rules are NULL");
  const nad_arch *p = plain_of(a);
  nadi_graph *g = NULL;
  NADI_TRY(nadi_graph_clone(p->g, &g));
  char *warnings = NULL;
  nad_status st = nadi_graph_set_init_rules(g, rules, source ? source : "init rules",
                                            p->file_params, &warnings);
  if (st != NAD_OK) {
    nadi_graph_destroy(g);
    return st;
  }
  st = nadi_arch_wrap(g, p->name, out);
  if (st != NAD_OK) {
    free(warnings);
    return st;
  }
  (*out)->outputs = p->outputs;
  (*out)->plain = nadi_arch_retain(p);
  (*out)->init_warnings = warnings;
  return NAD_OK;
}

nad_status nad_arch_with_init_rules_file(const nad_arch *a, const char *path, nad_arch **out) {
  NADI_CHECK(out != NULL, NAD_ERR_INVALID_ARG, "out is NULL");
  *out = NULL;
  NADI_CHECK(a != NULL, NAD_ERR_INVALID_ARG, "architecture is NULL");
  NADI_CHECK(path != NULL, NAD_ERR_INVALID_ARG, "path is NULL");
  FILE *f = fopen(path, "rb");
  NADI_CHECK(f != NULL, NAD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - 1 - len, f);
    if (len < cap - 1 || cap >= (size_t)1 << 24)
      break;
    char *bigger = realloc(buf, cap * 2);
    if (!bigger)
      free(buf);
    buf = bigger, cap *= 2;
  }
  int bad = !buf || ferror(f) || len >= cap - 1;
  fclose(f);
  if (bad) {
    free(buf);
    return nadi_fail(buf ? NAD_ERR_IO : NAD_ERR_OUT_OF_MEMORY,
                     "%s: cannot read it (or it is over 16 MiB)", path);
  }
  buf[len] = '\0';
  if (memchr(buf, '\0', len)) {
    free(buf);
    return nadi_fail(NAD_ERR_PARSE, "%s: contains a NUL byte (not a text file)", path);
  }
  nad_status st = nad_arch_with_init_rules(a, buf, path, out);
  free(buf);
  return st;
}

const char *nad_arch_init_rules_warnings(const nad_arch *a) {
  return a && a->init_warnings ? a->init_warnings : "";
}
