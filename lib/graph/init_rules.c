/* Init rules: per-tensor initialisations that override the kinds' PyTorch defaults, for what a
 * model's own code does differently (torchvision's kaiming_normal fan_out convolutions,
 * truncated normals, constant layer scales...). Format (docs/onnx.md, files in share/init/):
 *
 *   # comment
 *   PATTERN RULE [ARGS]
 *
 * PATTERN is an fnmatch(3) glob on the tensor's name (flags 0: '*' also matches '.'),
 * optionally preceded by `KINDS:` (a comma list of layer kind names, e.g. `conv2d:*.weight`,
 * `linear,gemm:*.bias`), so that a rule can follow torchvision's `isinstance(m, nn.Conv2d)`
 * whatever the names are. The first rule that matches a tensor decides it. RULE and ARGS
 * follow torch.nn.init:
 *   default | file | zeros | ones | constant V
 *   uniform [a=0] [b=1] | normal [mean=0] [std=1] | trunc_normal [mean=0] [std=1] [a=-2] [b=2]
 *   kaiming_uniform|kaiming_normal [fan_in|fan_out] [NONLINEARITY] [a=0]
 *   xavier_uniform|xavier_normal [gain=1]
 * (mode=, nonlinearity= may also be written as key=value). Everything is resolved here, once,
 * into one nadi_tensor_law per tensor; nadi_graph_init_params (init.c) draws them from the
 * network's own RNG stream in node order, so a network is still a function of (seed, j).
 * A convolution into which an export folded a BatchNorm keeps a 0 bias (the shift at
 * initialisation) whatever rule matches it, except `file`. */
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

enum { LAW_NONE = -1 };
typedef enum rule_kind {
  R_DEFAULT, R_FILE, R_CONSTANT, R_UNIFORM, R_NORMAL, R_TRUNC_NORMAL, R_KAIMING_UNIFORM,
  R_KAIMING_NORMAL, R_XAVIER_UNIFORM, R_XAVIER_NORMAL, R_COUNT
} rule_kind;

typedef struct rule {
  char kinds[128];   /* "conv2d,linear" or "" (any kind) */
  char glob[192];
  rule_kind kind;
  int fan_out;       /* kaiming: mode */
  double gain;       /* kaiming: from the nonlinearity (and a); xavier: gain */
  double a, b, mean, std, value;
  int line;
  int64_t matches;
} rule;

static const char *const rule_names[R_COUNT] = {
    "default", "file", "constant", "uniform", "normal", "trunc_normal", "kaiming_uniform",
    "kaiming_normal", "xavier_uniform", "xavier_normal"};

typedef struct parser {
  const char *source;
  int line;
} parser;

#define PFAIL(ps, ...) parse_fail((ps), __VA_ARGS__)
static nad_status parse_fail(const parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static nad_status parse_fail(const parser *ps, const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return nadi_fail(NAD_ERR_PARSE, "%s:%d: %s", ps->source, ps->line, msg);
}

static nad_status parse_number(const parser *ps, const char *key, const char *s, double *v) {
  char *end = NULL;
  *v = strtod(s, &end);
  if (!*s || *end || !isfinite(*v))
    return PFAIL(ps, "%s: '%s' is not a finite number", key, s);
  return NAD_OK;
}

/* torch.nn.init.calculate_gain; leaky_relu's slope is a (kaiming's a, default 0). */
static int nonlinearity_gain(const char *name, double a, double *gain) {
  static const char *const one[] = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                    "conv_transpose2d", "conv_transpose3d", "sigmoid"};
  for (size_t i = 0; i < sizeof one / sizeof *one; i++)
    if (strcmp(name, one[i]) == 0)
      return *gain = 1.0, 1;
  if (strcmp(name, "tanh") == 0)
    return *gain = 5.0 / 3.0, 1;
  if (strcmp(name, "relu") == 0)
    return *gain = sqrt(2.0), 1;
  if (strcmp(name, "leaky_relu") == 0)
    return *gain = sqrt(2.0 / (1.0 + a * a)), 1;
  if (strcmp(name, "selu") == 0)
    return *gain = 0.75, 1;
  return 0;
}

/* Which keys a rule takes (bare words: kaiming's mode and nonlinearity, constant's value). */
static int takes_key(rule_kind k, const char *key) {
  switch (k) {
  case R_CONSTANT: return strcmp(key, "value") == 0;
  case R_UNIFORM: return !strcmp(key, "a") || !strcmp(key, "b");
  case R_NORMAL: return !strcmp(key, "mean") || !strcmp(key, "std");
  case R_TRUNC_NORMAL:
    return !strcmp(key, "mean") || !strcmp(key, "std") || !strcmp(key, "a") || !strcmp(key, "b");
  case R_KAIMING_UNIFORM:
  case R_KAIMING_NORMAL: return !strcmp(key, "a") || !strcmp(key, "mode") || !strcmp(key, "nonlinearity");
  case R_XAVIER_UNIFORM:
  case R_XAVIER_NORMAL: return strcmp(key, "gain") == 0;
  default: return 0;
  }
}

/* One argument: key=value or a bare word. nonlin receives kaiming's nonlinearity word. */
static nad_status parse_arg(const parser *ps, rule *r, char *arg, int *have_value,
                            const char **nonlin) {
  char *eq = strchr(arg, '=');
  const char *key = arg, *val = NULL;
  if (eq)
    *eq = '\0', val = eq + 1;
  else if (r->kind == R_CONSTANT)
    key = "value", val = arg;
  else if (r->kind == R_KAIMING_UNIFORM || r->kind == R_KAIMING_NORMAL)
    key = strncmp(arg, "fan_", 4) == 0 ? "mode" : "nonlinearity", val = arg;
  if (!val || !takes_key(r->kind, key))
    return PFAIL(ps, "%s takes no argument '%s'", rule_names[r->kind], arg);
  if (strcmp(key, "mode") == 0) {
    if (strcmp(val, "fan_in") && strcmp(val, "fan_out"))
      return PFAIL(ps, "mode must be fan_in or fan_out, not '%s'", val);
    r->fan_out = strcmp(val, "fan_out") == 0;
    return NAD_OK;
  }
  if (strcmp(key, "nonlinearity") == 0)
    return *nonlin = val, NAD_OK;
  double v;
  NADI_TRY(parse_number(ps, key, val, &v));
  if (strcmp(key, "value") == 0)
    r->value = v, *have_value = 1;
  else if (strcmp(key, "a") == 0)
    r->a = v;
  else if (strcmp(key, "b") == 0)
    r->b = v;
  else if (strcmp(key, "mean") == 0)
    r->mean = v;
  else if (strcmp(key, "std") == 0)
    r->std = v;
  else
    r->gain = v;
  return NAD_OK;
}

/* Kind names of the KINDS: prefix, each checked against the kinds libnad has. */
static nad_status parse_kinds(const parser *ps, rule *r, char *pattern) {
  char *colon = strchr(pattern, ':');
  if (!colon || colon == pattern || colon[1] == ':') /* "onnx::Conv_1" is a name */
    return snprintf(r->glob, sizeof r->glob, "%s", pattern), NAD_OK;
  *colon = '\0';
  snprintf(r->kinds, sizeof r->kinds, "%s", pattern);
  snprintf(r->glob, sizeof r->glob, "%s", colon + 1);
  char list[128];
  snprintf(list, sizeof list, "%s", pattern);
  for (char *save = NULL, *k = strtok_r(list, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
    int known = 0;
    for (int i = 0; i < NADI_KIND_COUNT && !known; i++)
      known = nadi_kind_of((nadi_kind)i) && strcmp(nadi_ops((nadi_kind)i)->name, k) == 0;
    if (!known)
      return PFAIL(ps, "unknown layer kind '%s' before ':' (kinds are named as 'nad arch show' "
                       "shows them: conv2d, linear, gemm, batchnorm, layernorm, ...)", k);
  }
  if (!r->glob[0])
    return PFAIL(ps, "empty pattern after '%s:'", r->kinds);
  return NAD_OK;
}

/* The words after the rule name. */
static nad_status parse_args(const parser *ps, rule *r, char *save) {
  int have_value = 0;
  const char *nonlin = "leaky_relu";
  r->gain = 1.0, r->b = 1.0, r->std = 1.0;
  if (r->kind == R_TRUNC_NORMAL)
    r->a = -2.0, r->b = 2.0;
  for (char *arg = strtok_r(NULL, " \t", &save); arg; arg = strtok_r(NULL, " \t", &save))
    NADI_TRY(parse_arg(ps, r, arg, &have_value, &nonlin));
  if (r->kind == R_CONSTANT && !have_value)
    return PFAIL(ps, "constant needs a value (constant 0.5)");
  if ((r->kind == R_KAIMING_UNIFORM || r->kind == R_KAIMING_NORMAL) &&
      !nonlinearity_gain(nonlin, r->a, &r->gain))
    return PFAIL(ps, "unknown nonlinearity '%s' (torch.nn.init.calculate_gain's: linear, "
                     "conv2d, sigmoid, tanh, relu, leaky_relu, selu)", nonlin);
  if ((r->kind == R_NORMAL || r->kind == R_TRUNC_NORMAL) && r->std < 0)
    return PFAIL(ps, "std must be >= 0, got %g", r->std);
  if ((r->kind == R_UNIFORM || r->kind == R_TRUNC_NORMAL) && !(r->a < r->b))
    return PFAIL(ps, "needs a < b, got a=%g b=%g", r->a, r->b);
  if (r->kind == R_TRUNC_NORMAL && r->std == 0 && !(r->a <= r->mean && r->mean <= r->b))
    return PFAIL(ps, "std=0 puts every value at mean=%g, outside [a, b]", r->mean);
  if (r->kind == R_TRUNC_NORMAL && r->std > 0) { /* rejection sampling: refuse hopeless ones */
    double mass = 0.5 * (erf((r->b - r->mean) / (r->std * sqrt(2.0))) -
                         erf((r->a - r->mean) / (r->std * sqrt(2.0))));
    if (!(mass >= 1e-3))
      return PFAIL(ps, "[a, b] holds %.3g of the normal's mass (at least 1e-3 is needed)", mass);
  }
  return NAD_OK;
}

/* One non-empty line (modified in place) into r. */
static nad_status parse_line(const parser *ps, char *text, rule *r) {
  memset(r, 0, sizeof *r);
  r->line = ps->line;
  char *save = NULL;
  char *pattern = strtok_r(text, " \t", &save);
  char *name = strtok_r(NULL, " \t", &save);
  if (!name)
    return PFAIL(ps, "'%s' needs a rule after the pattern (PATTERN RULE [ARGS])", pattern);
  if (strlen(pattern) >= sizeof r->glob)
    return PFAIL(ps, "pattern longer than %d characters", (int)sizeof r->glob - 1);
  NADI_TRY(parse_kinds(ps, r, pattern));
  r->kind = R_COUNT;
  for (int k = 0; k < R_COUNT; k++)
    if (strcmp(name, rule_names[k]) == 0)
      r->kind = (rule_kind)k;
  if (strcmp(name, "zeros") == 0 || strcmp(name, "ones") == 0) {
    r->kind = R_CONSTANT, r->value = name[0] == 'o';
    if (strtok_r(NULL, " \t", &save))
      return PFAIL(ps, "%s takes no arguments", name);
    return NAD_OK;
  }
  if (r->kind == R_COUNT)
    return PFAIL(ps, "unknown rule '%s' (default, file, zeros, ones, constant, uniform, normal, "
                     "trunc_normal, kaiming_uniform, kaiming_normal, xavier_uniform, "
                     "xavier_normal)", name);
  return parse_args(ps, r, save);
}

/* Every rule of text into a malloc'd array. */
static nad_status parse_rules(const char *text, const char *source, rule **out, int *n_out) {
  *out = NULL, *n_out = 0;
  parser ps = {source, 0};
  size_t len = strlen(text);
  char *buf = malloc(len + 1);
  rule *rules = NULL;
  int n = 0, cap = 0;
  if (!buf)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory");
  memcpy(buf, text, len + 1);
  nad_status st = NAD_OK;
  for (char *line = buf, *next; line && st == NAD_OK; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    ps.line++;
    char *hash = strchr(line, '#');
    if (hash)
      *hash = '\0';
    for (char *p = line; *p; p++)
      if (*p == '\r' || *p == '\v' || *p == '\f')
        *p = ' ';
    if (strspn(line, " \t") == strlen(line))
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      rule *bigger = realloc(rules, (size_t)cap * sizeof *rules);
      if (!bigger) {
        st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory");
        break;
      }
      rules = bigger;
    }
    st = parse_line(&ps, line, &rules[n]);
    n += st == NAD_OK;
  }
  free(buf);
  if (st != NAD_OK) {
    free(rules);
    return st;
  }
  *out = rules, *n_out = n;
  return NAD_OK;
}

/* ---- resolution -------------------------------------------------------------------------- */

static int kind_listed(const char *kinds, const char *name) {
  if (!kinds[0])
    return 1;
  size_t n = strlen(name);
  for (const char *p = kinds; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
    if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
      return 1;
  return 0;
}

/* The law of a matched rule for tensor ti; NAD_ERR_PARSE when it cannot apply. */
static nad_status resolve(const rule *r, const char *source, const nadi_tensor_info *ti,
                          const float *file_params, nadi_tensor_law *law) {
  memset(law, 0, sizeof *law);
  int fans = r->kind >= R_KAIMING_UNIFORM;
  if (fans && (ti->fan_in <= 0 || ti->fan_out <= 0))
    return nadi_fail(NAD_ERR_PARSE, "%s:%d: %s needs a weight matrix with fans; '%s' has none "
                                    "(a bias or a normalisation's tensor?)",
                     source, r->line, rule_names[r->kind], ti->name);
  if (r->kind == R_FILE && !file_params)
    return nadi_fail(NAD_ERR_PARSE, "%s:%d: 'file' keeps a model file's values, and this "
                                    "architecture was not imported from a file ('%s')",
                     source, r->line, ti->name);
  double fan = (double)(r->fan_out ? ti->fan_out : ti->fan_in);
  double both = (double)ti->fan_in + (double)ti->fan_out;
  switch (r->kind) {
  case R_DEFAULT: law->op = NADI_LAW_DEFAULT; break;
  case R_FILE: law->op = NADI_LAW_FILE; break;
  case R_CONSTANT: law->op = NADI_LAW_CONSTANT, law->p[0] = r->value; break;
  case R_UNIFORM: law->op = NADI_LAW_UNIFORM, law->p[0] = r->a, law->p[1] = r->b; break;
  case R_NORMAL: law->op = NADI_LAW_NORMAL, law->p[0] = r->mean, law->p[1] = r->std; break;
  case R_TRUNC_NORMAL:
    law->op = NADI_LAW_TRUNC_NORMAL;
    law->p[0] = r->mean, law->p[1] = r->std, law->p[2] = r->a, law->p[3] = r->b;
    break;
  case R_KAIMING_UNIFORM: /* bound = gain * sqrt(3 / fan) */
    law->op = NADI_LAW_UNIFORM, law->p[1] = r->gain * sqrt(3.0 / fan), law->p[0] = -law->p[1];
    break;
  case R_KAIMING_NORMAL: law->op = NADI_LAW_NORMAL, law->p[1] = r->gain / sqrt(fan); break;
  case R_XAVIER_UNIFORM: /* bound = gain * sqrt(6 / (fan_in + fan_out)) */
    law->op = NADI_LAW_UNIFORM, law->p[1] = r->gain * sqrt(6.0 / both), law->p[0] = -law->p[1];
    break;
  case R_XAVIER_NORMAL: law->op = NADI_LAW_NORMAL, law->p[1] = r->gain * sqrt(2.0 / both); break;
  default: break;
  }
  return NAD_OK;
}

/* Lines "SOURCE:LINE: pattern 'P' matches no tensor" of the unused rules (malloc'd). */
static char *unmatched(const rule *rules, int n, const char *source) {
  size_t cap = 1, len = 0;
  for (int i = 0; i < n; i++)
    cap += strlen(source) + strlen(rules[i].glob) + strlen(rules[i].kinds) + 64;
  char *w = malloc(cap);
  if (!w)
    return NULL;
  w[0] = '\0';
  for (int i = 0; i < n; i++)
    if (rules[i].matches == 0)
      len += (size_t)snprintf(w + len, cap - len, "%s:%d: pattern '%s%s%s' matches no tensor\n",
                              source, rules[i].line, rules[i].kinds,
                              rules[i].kinds[0] ? ":" : "", rules[i].glob);
  return w;
}

/* Each tensor's first matching rule into laws (n_tensors). */
static nad_status match_all(const nadi_graph *g, rule *rules, int n, const char *source,
                            const float *file_params, nadi_tensor_law *laws) {
  for (int64_t t = 0; t < g->n_tensors; t++) {
    const nadi_tensor_info *ti = &g->tensors[t];
    const char *kind = nadi_ops(g->layers[ti->layer].kind)->name;
    int r = 0;
    while (r < n && !(kind_listed(rules[r].kinds, kind) && fnmatch(rules[r].glob, ti->name, 0) == 0))
      r++;
    if (r < n) {
      rules[r].matches++;
      NADI_TRY(resolve(&rules[r], source, ti, file_params, &laws[t]));
    }
    if (ti->folded_shift && laws[t].op != NADI_LAW_FILE) /* never a bias it never had */
      laws[t] = (nadi_tensor_law){NADI_LAW_CONSTANT, {0, 0, 0, 0}};
  }
  return NAD_OK;
}

nad_status nadi_graph_set_init_rules(nadi_graph *g, const char *text, const char *source,
                                     const float *file_params, char **warnings) {
  if (warnings)
    *warnings = NULL;
  rule *rules = NULL;
  int n = 0;
  NADI_TRY(parse_rules(text, source, &rules, &n));
  nadi_tensor_law *laws = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *laws);
  nad_status st = laws ? match_all(g, rules, n, source, file_params, laws)
                       : nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory");
  int any_file = 0;
  for (int64_t t = 0; st == NAD_OK && t < g->n_tensors; t++)
    any_file |= laws[t].op == NADI_LAW_FILE;
  if (st == NAD_OK && any_file && !g->base_params) {
    g->base_params = calloc((size_t)(g->n_params ? g->n_params : 1), sizeof(float));
    if (!g->base_params)
      st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory");
  }
  char *w = st == NAD_OK && warnings ? unmatched(rules, n, source) : NULL;
  if (st == NAD_OK && warnings && !w)
    st = nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory");
  free(rules);
  if (st != NAD_OK) {
    free(laws);
    return st;
  }
  for (int64_t t = 0; t < g->n_tensors; t++)
    if (laws[t].op == NADI_LAW_FILE)
      memcpy(g->base_params + g->tensors[t].offset, file_params + g->tensors[t].offset,
             sizeof(float) * (size_t)g->tensors[t].numel);
  free(g->tensor_law);
  g->tensor_law = laws;
  if (warnings)
    *warnings = w;
  return NAD_OK;
}

/* ---- drawing (init.c) ---------------------------------------------------------------------- */

void nadi_law_draw(const nadi_tensor_law *law, const nadi_graph *g, int64_t t, float *params,
                   nadi_rng *rng) {
  const nadi_tensor_info *ti = &g->tensors[t];
  float *p = params + ti->offset;
  const double *a = law->p;
  switch ((nadi_law_op)law->op) {
  case NADI_LAW_DEFAULT: break;
  case NADI_LAW_FILE:
    memcpy(p, g->base_params + ti->offset, sizeof(float) * (size_t)ti->numel);
    break;
  case NADI_LAW_CONSTANT:
    for (int64_t i = 0; i < ti->numel; i++)
      p[i] = (float)a[0];
    break;
  case NADI_LAW_UNIFORM: nadi_rng_fill_uniform(rng, p, ti->numel, a[0], a[1]); break;
  case NADI_LAW_NORMAL: nadi_rng_fill_normal(rng, p, ti->numel, a[0], a[1]); break;
  case NADI_LAW_TRUNC_NORMAL: /* rejection: the parser refused intervals of mass < 1e-3 */
    for (int64_t i = 0; i < ti->numel; i++) {
      double v;
      do
        v = a[0] + a[1] * nadi_rng_normal(rng);
      while (v < a[2] || v > a[3]);
      p[i] = fminf(fmaxf((float)v, (float)a[2]), (float)a[3]); /* torch clamps as well */
    }
    break;
  }
}
