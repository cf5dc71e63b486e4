/* The run record of a checkpoint (format 4, nad_estimator_set_run_record): the options that
 * define an estimation run, as "key=value" lines after a "nad-run 1" line, so that
 * `nad merge PART.ck...` and `nad estimate --resume PART.ck` set the run up from the part
 * alone. The values are the option texts in canonical form (what the parsers of
 * estimate_setup.c read back). An option given on the command line must agree with the part;
 * one not given is taken from it. Files that cannot travel are named, not stored: an ONNX model
 * by its base name and the FNV-1a 64 hash of its bytes, a .npy evaluation point or --params by
 * base name (the library checks their hashes when the part loads).
 *
 * A new setting is one line in run_record_make and one row in the fields table. Readers ignore
 * keys they do not know, so an older nad reads a newer record. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "estimate.h"

#define RR_HEADER "nad-run 1"
#define RR_MAX_KEYS 64

/* ---- writing ------------------------------------------------------------------------------ */

/* FNV-1a 64 of a file's bytes; 0 and errno set when it cannot be read. */
static uint64_t file_fnv64(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  uint64_t h = 1469598103934665603ull;
  unsigned char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    for (size_t i = 0; i < n; i++)
      h = (h ^ buf[i]) * 1099511628211ull;
  int bad = ferror(f);
  fclose(f);
  if (bad)
    errno = EIO;
  return bad ? 0 : h;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

typedef struct sbuf {
  char *p;
  size_t len, cap;
  int oom;
} sbuf;

static void add(sbuf *b, const char *key, const char *v) {
  size_t need = strlen(key) + strlen(v) + 3;
  if (b->oom || strchr(v, '\n'))
    return; /* a value with a line break (a path) is not recorded: it must be given again */
  if (b->len + need > b->cap) {
    size_t cap = (b->len + need) * 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  b->len += (size_t)snprintf(b->p + b->len, b->cap - b->len, "%s=%s\n", key, v);
}

static void addf(sbuf *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void addf(sbuf *b, const char *key, const char *fmt, ...) {
  char val[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(val, sizeof val, fmt, ap);
  va_end(ap);
  add(b, key, val);
}

static void add_i64(sbuf *b, const char *key, int64_t v) { addf(b, key, "%lld", (long long)v); }

/* The architecture: built-in name, spec text, or ONNX model (base name and hash). */
static int add_arch(sbuf *b, const cli_arch_opts *ao) {
  if (ao->spec_file || ao->spec_string) {
    char *text = cli_arch_spec_text(ao);
    if (!text)
      return CLI_ERR;
    add(b, "spec", text);
    free(text);
  } else if (cli_is_onnx_path(ao->name)) {
    uint64_t h = file_fnv64(ao->name);
    if (h == 0)
      return cli_error("cannot read model '%s': %s", ao->name, strerror(errno));
    add(b, "onnx", base_name(ao->name));
    addf(b, "onnx-fnv64", "%016llx", (unsigned long long)h);
  } else {
    add(b, "arch", ao->name);
  }
  if (ao->init_rules) { /* a file, named and hashed as a model is (the rules are not stored) */
    uint64_t h = file_fnv64(ao->init_rules);
    if (h == 0)
      return cli_error("cannot read init rules '%s': %s", ao->init_rules, strerror(errno));
    add(b, "init-rules", base_name(ao->init_rules));
    addf(b, "init-rules-fnv64", "%016llx", (unsigned long long)h);
  }
  return 0;
}

int run_record_make(const estimate_run *r, const cli_arch_opts *ao, int64_t lo, int64_t hi,
                    char **out) {
  sbuf b = {NULL, 0, 0, 0};
  *out = NULL;
  b.p = malloc(256);
  if (!b.p)
    return cli_error("out of memory");
  b.cap = 256;
  b.len = (size_t)snprintf(b.p, b.cap, "%s\n", RR_HEADER);
  int rc = add_arch(&b, ao);
  char shape[64];
  add(&b, "input", cli_shape_str(r->input, shape, sizeof shape));
  add_i64(&b, "outputs", r->outputs);
  add(&b, "mode", r->mode);
  addf(&b, "scale", "%.17g", r->scale);
  const int data = strncmp(r->eval_point, "data:", 5) == 0;
  if (data || strcmp(r->eval_point, "normal") == 0 || strcmp(r->eval_point, "zeros") == 0)
    add(&b, "eval-point", r->eval_point);
  else
    addf(&b, "eval-point", "npy:%s", base_name(r->eval_point));
  if (data) {
    add(&b, "eval-split", r->eval_split);
    add(&b, "normalize", r->normalize ? "1" : "0");
  }
  if (r->params)
    addf(&b, "params", "npy:%s", base_name(r->params));
  else
    add(&b, "params", "none");
  if (r->output == NAD_OUTPUT_LABEL)
    add(&b, "output", "label");
  else
    add_i64(&b, "output", r->output);
  add_i64(&b, "seed", r->seed);
  add_i64(&b, "top", r->top);
  add_i64(&b, "sketch", r->sketch);
  add_i64(&b, "networks", r->networks);
  if (r->has_range)
    addf(&b, "range", "%lld:%lld", (long long)lo, (long long)hi);
  add_i64(&b, "threads", r->threads);
  add_i64(&b, "batch", r->batch);
  add_i64(&b, "memory", r->memory);
  if (rc == 0 && b.oom)
    rc = cli_error("out of memory");
  if (rc) {
    free(b.p);
    return rc;
  }
  *out = b.p;
  return 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct record {
  char *text; /* the lines, cut in place */
  int n;
  const char *key[RR_MAX_KEYS], *val[RR_MAX_KEYS];
} record;

static const char *rec_get(const record *r, const char *key) {
  for (int i = 0; i < r->n; i++)
    if (strcmp(r->key[i], key) == 0)
      return r->val[i];
  return NULL;
}

/* Cuts text (owned by rec from now on) into keys and values. */
static int rec_parse(const char *part, char *text, record *rec) {
  memset(rec, 0, sizeof *rec);
  rec->text = text;
  if (strncmp(text, "nad-run ", 8) != 0)
    return cli_error("'%s': the run record is not one of nad's (first line '%.20s')", part, text);
  char *line = strchr(text, '\n');
  while (line && line[1] && rec->n < RR_MAX_KEYS) {
    char *k = line + 1, *eq = strchr(k, '=');
    line = strchr(k, '\n');
    if (line)
      *line = '\0';
    if (!eq || (line && eq > line))
      return cli_error("'%s': malformed line in the run record: '%.40s'", part, k);
    *eq = '\0';
    rec->key[rec->n] = k;
    rec->val[rec->n++] = eq + 1;
  }
  return 0;
}

int run_record_read(const char *part, run_record *out) {
  memset(out, 0, sizeof *out);
  int32_t version = 0;
  char *text = NULL;
  nad_status st = nad_checkpoint_run_record(part, &version, &text);
  if (st != NAD_OK)
    return cli_lib_error(st, "cannot read part '%s'", part);
  out->path = part;
  out->version = version;
  if (text[0] == '\0') { /* formats 1 to 3 */
    nad_free(text);
    return 0;
  }
  char *copy = strdup(text);
  nad_free(text);
  out->rec = malloc(sizeof(record));
  if (!copy || !out->rec) {
    free(copy);
    return cli_error("out of memory");
  }
  return rec_parse(part, copy, out->rec);
}

void run_record_free(run_record *r) {
  if (r->rec)
    free(r->rec->text);
  free(r->rec);
  r->rec = NULL;
}

/* ---- comparing and applying --------------------------------------------------------------- */

enum { RR_TEXT, RR_INT, RR_REAL, RR_SHAPE, RR_FILE, RR_FLAG };
/* RUN: defines the results (parts must agree; merge takes it); RESUME: only resume takes it;
 * HINT: taken when absent, never a contradiction (a resumed run may be extended: --networks). */
enum { RR_RUN = 1, RR_RESUME = 2, RR_HINT = 4 };

typedef struct rr_field {
  const char *key;
  int kind, scope;
  size_t off;         /* of the option text in run_texts */
  const char *unset;  /* a recorded value meaning "option not given" (not taken), or NULL */
} rr_field;

#define T(f) offsetof(run_texts, f)
static const rr_field fields[] = {
    {"input", RR_SHAPE, RR_RUN, T(ao.input), NULL},
    {"outputs", RR_INT, RR_RUN, T(ao.outputs), NULL},
    {"mode", RR_TEXT, RR_RUN, T(mode), NULL},
    {"scale", RR_REAL, RR_RUN, T(scale), NULL},
    {"eval-point", RR_FILE, RR_RUN, T(eval_point), NULL},
    {"eval-split", RR_TEXT, RR_RUN, T(eval_split), NULL},
    {"normalize", RR_FLAG, RR_RUN, T(normalize), "0"},
    {"params", RR_FILE, RR_RUN, T(params), "none"},
    {"output", RR_TEXT, RR_RUN, T(output), NULL},
    {"seed", RR_INT, RR_RUN, T(seed), NULL},
    {"top", RR_INT, RR_RUN, T(top), NULL},
    {"sketch", RR_INT, RR_RUN, T(sketch), "0"},
    {"networks", RR_INT, RR_RESUME | RR_HINT, T(networks), NULL},
    {"range", RR_TEXT, RR_RESUME | RR_HINT, T(range), NULL}, /* not with --networks */
    {"threads", RR_INT, RR_RESUME | RR_HINT, T(threads), NULL},
    {"batch", RR_INT, RR_RESUME | RR_HINT, T(batch), "-1"},
    {"memory", RR_INT, RR_RESUME | RR_HINT, T(memory), "0"},
};
#undef T
#define NFIELDS ((int)(sizeof fields / sizeof fields[0]))

static const char **slot_of(run_texts *t, const rr_field *f) {
  return (const char **)((char *)t + f->off);
}

/* The kind of an --eval-point or --params text: normal, zeros, data, npy or none. */
static const char *file_kind(const char *v) {
  if (!v || strcmp(v, "none") == 0)
    return "none";
  if (strcmp(v, "normal") == 0 || strcmp(v, "zeros") == 0)
    return v;
  if (strncmp(v, "data:", 5) == 0)
    return "data";
  return "npy";
}

/* The recorded value v and the given text g say the same. */
static int same(const rr_field *f, const char *v, const char *g) {
  char *end = NULL;
  switch (f->kind) {
  case RR_INT:
    return strtoll(v, NULL, 10) == strtoll(g, &end, 10) && *end == '\0';
  case RR_REAL:
    return strtod(v, NULL) == strtod(g, &end) && *end == '\0';
  case RR_SHAPE: {
    int64_t a[3] = {0, 0, 0}, b[3] = {0, 0, 0};
    return cli_parse_shape(f->key, v, a) == 0 && cli_parse_shape(f->key, g, b) == 0 &&
           memcmp(a, b, sizeof a) == 0;
  }
  case RR_FILE: /* the contents are checked by the library (hashes of x0, points, params) */
    return strcmp(file_kind(v), file_kind(g)) == 0;
  default:
    return strcmp(v, g) == 0;
  }
}

/* The init rules of the record against the file given: a part made with rules needs the same
 * file again (its text is not stored), one made without refuses a file. */
static int apply_init_rules(const run_record *pr, const run_texts *t) {
  const char *name = rec_get(pr->rec, "init-rules"), *fnv = rec_get(pr->rec, "init-rules-fnv64");
  const char *given = t->ao.init_rules;
  if (!name)
    return given ? cli_error("'%s' was computed without init rules, but --init-rules %s was "
                             "given", pr->path, given)
                 : 0;
  if (!given)
    return cli_error("'%s' was computed with the init rules '%s' (FNV-64 %s): give the file, "
                     "--init-rules FILE", pr->path, name, fnv ? fnv : "?");
  uint64_t h = file_fnv64(given);
  if (h == 0)
    return cli_error("cannot read init rules '%s': %s", given, strerror(errno));
  if (!fnv || strtoull(fnv, NULL, 16) != h)
    return cli_error("'%s' was computed with the init rules '%s' (FNV-64 %s), but '%s' has "
                     "FNV-64 %016llx (other rules)", pr->path, name, fnv ? fnv : "?", given,
                     (unsigned long long)h);
  return 0;
}

/* The architecture of the record against the one given (if any); a missing one is taken. */
static int apply_arch(const run_record *pr, run_texts *t) {
  if (apply_init_rules(pr, t))
    return CLI_ERR;
  const record *rec = pr->rec;
  const char *arch = rec_get(rec, "arch"), *spec = rec_get(rec, "spec");
  const char *onnx = rec_get(rec, "onnx"), *fnv = rec_get(rec, "onnx-fnv64");
  const int given_spec = t->ao.spec_file || t->ao.spec_string;
  const int given_onnx = !given_spec && cli_is_onnx_path(t->ao.name);
  const int given = given_spec || t->ao.name;
  if (onnx) {
    if (!given_onnx)
      return cli_error("'%s' was computed for the ONNX model '%s' (FNV-64 %s): give the model "
                       "file, --model FILE.onnx (its weights are not in the part)%s",
                       pr->path, onnx, fnv ? fnv : "?",
                       given ? ", not another architecture" : "");
    uint64_t h = file_fnv64(t->ao.name);
    if (h == 0)
      return cli_error("cannot read model '%s': %s", t->ao.name, strerror(errno));
    if (!fnv || strtoull(fnv, NULL, 16) != h)
      return cli_error("'%s' was computed for the ONNX model '%s' with FNV-64 %s, but '%s' has "
                       "FNV-64 %016llx (another model or other weights)",
                       pr->path, onnx, fnv ? fnv : "?", t->ao.name, (unsigned long long)h);
    return 0;
  }
  if (!given) {
    if (spec)
      t->ao.spec_string = spec;
    else
      t->ao.name = arch;
    return arch || spec ? 0 : cli_error("'%s': the run record names no architecture", pr->path);
  }
  if (arch && (given_spec || given_onnx || strcmp(arch, t->ao.name) != 0))
    return cli_error("'%s': architecture %s, but %s was given", pr->path, arch,
                     given_spec ? "a spec" : t->ao.name);
  if (spec && !given_spec)
    return cli_error("'%s': architecture from the spec '%s', but %s was given", pr->path, spec,
                     t->ao.name);
  if (spec) {
    char *text = cli_arch_spec_text(&t->ao);
    if (!text)
      return CLI_ERR;
    int differ = strcmp(text, spec) != 0;
    if (differ)
      cli_error("'%s': spec '%s', but the spec '%s' was given", pr->path, spec, text);
    free(text);
    return differ ? CLI_ERR : 0;
  }
  return 0;
}

/* A recorded .npy (evaluation point, network) is not taken: its file must be given. */
static int need_file(const run_record *pr, const rr_field *f, const char *v) {
  return cli_error("'%s' was computed with --%s %s: give that file again (--%s FILE; its hash "
                   "is checked)", pr->path, f->key, v + 4, f->key);
}

int run_record_apply(const run_record *pr, run_texts *t, int resume) {
  if (!pr->rec)
    return 0;
  int rc = apply_arch(pr, t);
  if (rc)
    return rc;
  const int networks_given = t->networks != NULL; /* --networks N: the whole run, [0, N) */
  for (int i = 0; i < NFIELDS; i++) {
    const rr_field *f = &fields[i];
    const char *v = rec_get(pr->rec, f->key);
    const char **g = slot_of(t, f);
    if (!v || (!resume && !(f->scope & RR_RUN)) || (f->scope & RR_HINT && *g) ||
        (networks_given && strcmp(f->key, "range") == 0))
      continue;
    if (*g && !same(f, v, *g))
      return cli_error("'%s': %s %s, but --%s%s%s was given", pr->path, f->key, v, f->key,
                       f->kind == RR_FLAG ? "" : " ", f->kind == RR_FLAG ? "" : *g);
    if (*g || (f->unset && strcmp(v, f->unset) == 0))
      continue;
    if (f->kind == RR_FILE && strncmp(v, "npy:", 4) == 0)
      return need_file(pr, f, v);
    *g = v;
  }
  return 0;
}

int run_record_compare(const run_record *a, const run_record *b) {
  if (!a->rec || !b->rec)
    return 0;
  const char *arch_keys[] = {"arch", "spec", "onnx", "onnx-fnv64", "init-rules",
                             "init-rules-fnv64"};
  for (int i = 0; i < (int)(sizeof arch_keys / sizeof arch_keys[0]); i++) {
    const char *x = rec_get(a->rec, arch_keys[i]), *y = rec_get(b->rec, arch_keys[i]);
    if ((x || y) && (!x || !y || strcmp(x, y) != 0))
      return cli_error("parts '%s' and '%s' differ in the architecture (%s: %s, %s)", a->path,
                       b->path, arch_keys[i], x ? x : "none", y ? y : "none");
  }
  for (int i = 0; i < NFIELDS; i++) {
    const rr_field *f = &fields[i];
    const char *x = rec_get(a->rec, f->key), *y = rec_get(b->rec, f->key);
    if (!(f->scope & RR_RUN) || (!x && !y))
      continue;
    if (!x || !y || strcmp(x, y) != 0)
      return cli_error("parts '%s' and '%s' differ in %s: %s and %s", a->path, b->path, f->key,
                       x ? x : "(none)", y ? y : "(none)");
  }
  return 0;
}
