/* Helpers shared by the commands: error messages, building an architecture from the common
 * options, files and directories, clocks. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common/checked.h"

int cli_lib_error(nad_status st, const char *fmt, ...) {
  const char *msg = nad_last_error(); /* read first: nothing below may call libnad */
  va_list ap;
  va_start(ap, fmt);
  fputs("nad: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, ": %s\n", (msg && msg[0]) ? msg : nad_status_string(st));
  return CLI_ERR;
}

int cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("nad: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return CLI_ERR;
}

const char *cli_shape_str(const int64_t s[3], char *buf, size_t len) {
  snprintf(buf, len, "%lldx%lldx%lld", (long long)s[0], (long long)s[1], (long long)s[2]);
  return buf;
}

char *cli_read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) { /* else fread fails with EIO */
    fclose(f);
    errno = EISDIR;
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
    if (len + 1 < cap)
      break;
    char *bigger = realloc(buf, cap * 2);
    if (!bigger) {
      free(buf);
      buf = NULL;
      errno = ENOMEM;
      break;
    }
    buf = bigger;
    cap *= 2;
  }
  if (buf && ferror(f)) {
    free(buf);
    buf = NULL;
    errno = EIO;
  }
  fclose(f);
  if (buf && memchr(buf, '\0', len)) { /* a NUL would silently cut the text */
    free(buf);
    buf = NULL;
    errno = EILSEQ;
  }
  if (buf)
    buf[len] = '\0';
  return buf;
}

/* A spec file may span lines and carry '#' comments: both become blanks, so layers are still
 * separated by ';' exactly as in --spec-string. */
static void flatten_spec(char *s) {
  int in_comment = 0;
  for (char *p = s; *p; p++) {
    if (*p == '\n' || *p == '\r')
      in_comment = 0;
    else if (*p == '#')
      in_comment = 1;
    if (in_comment || *p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  }
}

int cli_need_arch(const char *command, const cli_arch_opts *o, const char *positional) {
  if (o->name || o->spec_file || o->spec_string)
    return 0;
  return cli_usage_error(command, "missing %s: a built-in architecture (nad arch list) or "
                                  "--spec FILE", positional);
}

static int is_onnx_path(const char *name);

char *cli_arch_spec_text(const cli_arch_opts *o) {
  char *text = NULL;
  if (o->spec_file) {
    text = cli_read_text(o->spec_file);
    if (!text)
      cli_error("cannot read spec file '%s': %s", o->spec_file,
                errno == EILSEQ ? "it contains a NUL byte (not a text file)" : strerror(errno));
  } else {
    text = strdup(o->spec_string ? o->spec_string : "");
    if (!text)
      cli_error("out of memory");
  }
  if (text)
    flatten_spec(text);
  return text;
}

int cli_is_onnx_path(const char *name) { return is_onnx_path(name); }

/* An ARCH that names an ONNX model file: "*.onnx". */
static int is_onnx_path(const char *name) {
  size_t n = name ? strlen(name) : 0;
  return n > 5 && strcmp(name + n - 5, ".onnx") == 0;
}

/* ARCH = model.onnx: --input overrides the file's input shape; the file fixes the outputs. */
static int make_onnx_arch(const char *command, const cli_arch_opts *o, nad_arch **out) {
  int64_t shape[3] = {0, 0, 0};
  if (o->input) {
    int rc = cli_parse_shape("input", o->input, shape);
    if (rc)
      return rc;
  }
  nad_status st = nad_arch_create_onnx(o->name, shape[0], shape[1], shape[2], out);
  if (st != NAD_OK)
    return cli_lib_error(st, "model '%s'", o->name);
  int64_t k = 0;
  nad_arch_num_outputs(*out, &k);
  if (o->outputs && strtoll(o->outputs, NULL, 10) != k) {
    nad_arch_destroy(*out);
    *out = NULL;
    return cli_usage_error(command, "--outputs %s does not match the model, which has %lld",
                           o->outputs, (long long)k);
  }
  return 0;
}

static int make_arch(const char *command, const cli_arch_opts *o, nad_arch **out) {
  *out = NULL;
  if (!o->spec_file && !o->spec_string && is_onnx_path(o->name))
    return make_onnx_arch(command, o, out);
  int64_t shape[3] = {1, 32, 32};
  int64_t outputs = 1;
  int rc = cli_parse_shape("input", o->input, shape);
  if (rc == 0)
    rc = cli_parse_i64("outputs", o->outputs, 1, 1000000, &outputs); /* nad_arch_create_builtin */
  if (rc)
    return rc;
  const char *spec_src = o->spec_file ? o->spec_file : "--spec-string";
  if (o->spec_file || o->spec_string) {
    if (o->spec_file && o->spec_string)
      return cli_usage_error(command, "give either --spec or --spec-string, not both");
    if (o->name && strcmp(o->name, "spec") != 0)
      return cli_usage_error(command, "NAME must be 'spec' (or omitted) with --spec, got '%s'",
                             o->name);
    char *text = cli_arch_spec_text(o);
    if (!text)
      return CLI_ERR;
    nad_status st = nad_arch_create_spec(text, shape[0], shape[1], shape[2], out);
    free(text);
    if (st != NAD_OK)
      return cli_lib_error(st, "spec '%s'", spec_src);
    int64_t k = 0;
    nad_arch_num_outputs(*out, &k);
    if (o->outputs && k != outputs) {
      nad_arch_destroy(*out);
      *out = NULL;
      return cli_usage_error(command, "--outputs %lld does not match the spec, which has %lld",
                             (long long)outputs, (long long)k);
    }
    return 0;
  }
  if (!o->name)
    return cli_usage_error(command, "missing architecture NAME (see 'nad arch list')");
  if (strcmp(o->name, "spec") == 0)
    return cli_usage_error(command, "architecture 'spec' needs --spec FILE or --spec-string");
  nad_status st = nad_arch_create_builtin(o->name, shape[0], shape[1], shape[2], outputs, out);
  if (st != NAD_OK) {
    char buf[64];
    return cli_lib_error(st, "architecture '%s' (input %s)", o->name,
                         cli_shape_str(shape, buf, sizeof buf));
  }
  return 0;
}

int cli_make_arch(const char *command, const cli_arch_opts *o, nad_arch **out) {
  nad_arch *plain = NULL;
  int rc = make_arch(command, o, &plain);
  if (rc || !o->init_rules) {
    *out = plain;
    return rc;
  }
  nad_status st = nad_arch_with_init_rules_file(plain, o->init_rules, out);
  nad_arch_destroy(plain);
  if (st != NAD_OK)
    return cli_lib_error(st, "--init-rules");
  const char *w = nad_arch_init_rules_warnings(*out);
  for (const char *p = w; *p;) { /* one "nad: warning: " per line */
    const char *nl = strchr(p, '\n');
    int n = nl ? (int)(nl - p) : (int)strlen(p);
    fprintf(stderr, "nad: warning: %.*s\n", n, p);
    p += n + (nl != NULL);
  }
  return 0;
}

int cli_mkdir_p(const char *path) {
  size_t n = strlen(path);
  char *p = malloc(n + 1);
  if (!p) {
    errno = ENOMEM;
    return -1;
  }
  memcpy(p, path, n + 1);
  int rc = 0;
  for (size_t i = 1; i <= n && rc == 0; i++) {
    if (p[i] != '/' && p[i] != '\0')
      continue;
    char saved = p[i];
    p[i] = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
      rc = -1;
    p[i] = saved;
  }
  if (rc == 0) {
    struct stat sb;
    if (stat(path, &sb) != 0)
      rc = -1;
    else if (!S_ISDIR(sb.st_mode)) {
      errno = ENOTDIR;
      rc = -1;
    }
  }
  free(p);
  return rc;
}

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int atomic_failed(const nadi_atomic_file *af) {
  return cli_error("cannot write '%s': cannot %s: %s", af->path, af->failed, strerror(af->err));
}

int cli_atomic_open(nadi_atomic_file *af, const char *path) {
  return nadi_atomic_open(af, path) == 0 ? 0 : atomic_failed(af);
}

int cli_atomic_commit(nadi_atomic_file *af) {
  return nadi_atomic_commit(af) == 0 ? 0 : atomic_failed(af);
}

int64_t cli_option_max(nad_option o) {
  double lo = 0, hi = 0;
  return nad_option_bounds(o, &lo, &hi) == NAD_OK ? (int64_t)hi : 0;
}

int64_t cli_num_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n >= 1 ? (int64_t)n : 1;
}

int cli_npy_read(const char *what, const char *path, float **data, int64_t shape[8],
                 int32_t *ndim) {
  *data = NULL;
  if (cli_in_file(what, &path) != 0)
    return CLI_ERR;
  nad_status st = nad_npy_read_f32(path, data, shape, ndim);
  if (st != NAD_OK)
    return cli_lib_error(st, "%s", what);
  return 0;
}

int64_t cli_numel(const int64_t *shape, int32_t ndim) {
  int64_t n = 0;
  return nadi_prod_ok(shape, ndim, &n) ? n : -1;
}

int cli_parse_format(const char *text, nad_figure_format *format, const char **name) {
  *format = NAD_FIGURE_PNG;
  *name = "png";
  if (!text)
    return 0;
  if (nad_figure_format_by_name(text, format) != NAD_OK) {
    fprintf(stderr, "nad: --format: expected png, svg or pdf, got '%s'\n", text);
    return CLI_USAGE;
  }
  *name = text;
  return 0;
}

void cli_epoch_line(const char *label, int64_t epoch, int64_t epochs, double loss,
                    double train_acc, double test_acc, double seconds) {
  char test[32] = "";
  if (!isnan(test_acc))
    snprintf(test, sizeof test, "  test %6.2f %%", test_acc);
  fprintf(stderr, "%sepoch %*lld/%lld  loss %.4f  train %6.2f %%%s  %.2f s\n", label,
          epochs >= 100 ? 3 : 2, (long long)epoch, (long long)epochs, loss, train_acc, test,
          seconds);
  fflush(stderr);
}

int cli_read_nads(const char *what, const char *dir, float **nads, int64_t *rows, int64_t *d,
                  char *path, size_t path_len) {
  *nads = NULL;
  struct stat sb;
  const int is_dir = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
  if (snprintf(path, path_len, is_dir ? "%s/nads.npy" : "%s", dir) >= (int)path_len)
    return cli_error("%s: NAD path too long: '%s'", what, dir);
  static const char *const set[] = {"nads.npy"};
  if (is_dir && cli_check_run_dir(dir, set, 1) != 0) /* one complete run, not a mix (runset.c) */
    return CLI_ERR;
  int64_t shape[8];
  int32_t nd = 0;
  if (cli_npy_read(what, path, nads, shape, &nd) != 0)
    return CLI_ERR;
  *rows = nd >= 2 ? shape[0] : 0;
  *d = *rows > 0 ? cli_numel(shape, nd) / *rows : 0;
  if (*rows < 1 || *d < 1) {
    nad_free(*nads);
    *nads = NULL;
    return cli_error("%s: '%s' must hold K x D NADs (K >= 1 rows), as written by 'nad estimate'",
                     what, path);
  }
  return 0;
}
