/* Init rules (nad_arch_with_init_rules, lib/graph/init_rules.c): parse errors name the source,
 * the line and the reason; good files with comments and odd spacing are accepted; unmatched
 * patterns are warnings; the laws give the values and spreads torch.nn.init gives; a folded
 * convolution bias is not a tensor here (the ONNX case is tests/python/test_init_rules.py).
 * argv[1]: the directory of the shipped rule files (share/init), each applied to resnet18. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <nad/nad.h>

#include "../check.h"

static nad_arch *resnet;

/* Expect a parse failure whose message contains each of the needles. */
static void bad(const char *text, const char *n1, const char *n2) {
  nad_arch *a = (nad_arch *)1;
  nad_status st = nad_arch_with_init_rules(resnet, text, "r.txt", &a);
  const char *msg = nad_last_error();
  CHECK(st == NAD_ERR_PARSE, "'%s': status %d, expected NAD_ERR_PARSE (%s)", text, (int)st, msg);
  CHECK(a == NULL, "'%s': out not cleared", text);
  CHECK(strstr(msg, n1) != NULL, "'%s': message '%s' lacks '%s'", text, msg, n1);
  CHECK(!n2 || strstr(msg, n2) != NULL, "'%s': message '%s' lacks '%s'", text, msg, n2);
}

static void parse_errors(void) {
  bad("conv1.weight", "r.txt:1:", "needs a rule");
  bad("# c\n\nconv1.weight frobnicate", "r.txt:3:", "unknown rule 'frobnicate'");
  bad("* normal std=abc", "r.txt:1:", "not a finite number");
  bad("* normal std=-1", "r.txt:1:", "std must be >= 0");
  bad("* normal sd=1", "r.txt:1:", "takes no argument 'sd'");
  bad("* constant", "r.txt:1:", "needs a value");
  bad("* zeros 3", "r.txt:1:", "takes no arguments");
  bad("* uniform a=1 b=1", "r.txt:1:", "a < b");
  bad("* kaiming_normal fan_sideways", "r.txt:1:", "fan_in or fan_out");
  bad("* kaiming_normal fan_out swish", "r.txt:1:", "unknown nonlinearity 'swish'");
  bad("* trunc_normal std=0.01 a=1 b=2", "r.txt:1:", "of the normal's mass");
  bad("* trunc_normal std=0 mean=5", "r.txt:1:", "outside [a, b]");
  bad("convolution:*.weight zeros", "r.txt:1:", "unknown layer kind 'convolution'");
  bad("conv2d,lin:*.weight zeros", "r.txt:1:", "unknown layer kind 'lin'");
  bad("conv2d: zeros", "r.txt:1:", "empty pattern");
  /* rules that parse but cannot apply to the tensor they match */
  bad("stem.weight ones\n*.bias kaiming_normal", "r.txt:2:", "needs a weight matrix");
  bad("* xavier_uniform", "r.txt:1:", "needs a weight matrix"); /* sn.weight is 1-D */
  bad("* file", "r.txt:1:", "not imported from a file");
  nad_arch *a = NULL;
  CHECK(nad_arch_with_init_rules(NULL, "", NULL, &a) == NAD_ERR_INVALID_ARG, "NULL arch");
  CHECK(nad_arch_with_init_rules(resnet, NULL, NULL, &a) == NAD_ERR_INVALID_ARG, "NULL rules");
  CHECK(nad_arch_with_init_rules_file(resnet, "/nonexistent/x.rules", &a) == NAD_ERR_IO,
        "missing file");
  CHECK(strstr(nad_last_error(), "/nonexistent/x.rules") != NULL, "names the file: %s",
        nad_last_error());
}

/* Parameters of network `seed` of a (n floats, malloc'd). */
static float *draw(const nad_arch *a, uint64_t seed, int64_t *n) {
  nad_arch_num_params(a, n);
  float *p = malloc(sizeof(float) * (size_t)*n);
  nad_net *net = NULL;
  if (nad_net_create(a, seed, &net) != NAD_OK || !p) {
    free(p);
    return NULL;
  }
  nad_net_get_params(net, p, (size_t)*n);
  nad_net_destroy(net);
  return p;
}

/* Offset and size of the tensor named `name`. */
static int find(const nad_arch *a, const char *name, int64_t *off, int64_t *numel) {
  int64_t nt = 0;
  nad_arch_num_tensors(a, &nt);
  for (int64_t t = 0; t < nt; t++) {
    const char *nm = NULL;
    nad_arch_tensor(a, t, &nm, off, numel, NULL);
    if (strcmp(nm, name) == 0)
      return 1;
  }
  return 0;
}

static void moments(const float *p, int64_t n, double *mean, double *sd, double *lo, double *hi) {
  double s = 0, s2 = 0;
  *lo = INFINITY, *hi = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    s += p[i], s2 += (double)p[i] * p[i];
    *lo = fmin(*lo, p[i]), *hi = fmax(*hi, p[i]);
  }
  *mean = s / (double)n;
  *sd = sqrt(s2 / (double)n - *mean * *mean);
}

/* The laws: constants exact, spreads as torch.nn.init's formulas. The relative standard error
 * of a sample standard deviation is about 1/sqrt(2n); every tensor checked has n >= 294912
 * (SE <= 0.13%), so 1.5% is over 10 standard errors. */
static void laws(void) {
  const char *rules = "# the built-in resnet18 (blocks.7.b = torch layer4.1.conv2)\r\n"
                      "   batchnorm:*.weight   constant 0.25   # BN scale\r\n"
                      "blocks.7.b.weight kaiming_normal fan_out relu\n"
                      "blocks.7.a.weight\ttrunc_normal std=1 a=-0.5 b=0.5\n"
                      "conv2d:blocks.[67].*.weight kaiming_uniform a=2.23606797749979\n"
                      "blocks.4.a.weight xavier_normal gain=2\n"
                      "onnx::Conv_1.weight zeros\n" /* a name (no kind 'onnx'): unmatched */
                      "conv2d:*.weight default\n";
  nad_arch *a = NULL;
  nad_status st = nad_arch_with_init_rules(resnet, rules, "odd.rules", &a);
  CHECK(st == NAD_OK, "odd rules refused: %s", nad_last_error());
  if (st != NAD_OK)
    return;
  const char *w = nad_arch_init_rules_warnings(a);
  CHECK(strstr(w, "odd.rules:7: pattern 'onnx::Conv_1.weight' matches no tensor") != NULL &&
            strchr(w, '\n') == w + strlen(w) - 1,
        "warnings: '%s'", w);
  CHECK(strcmp(nad_arch_init_rules_warnings(resnet), "") == 0, "no rules, no warnings");
  int64_t n = 0, off, numel;
  float *p = draw(a, 7, &n);
  double mean, sd, lo, hi;
  CHECK(find(a, "sn.weight", &off, &numel) && p[off] == 0.25f && p[off + numel - 1] == 0.25f,
        "sn.weight = 0.25 exactly");
  CHECK(find(a, "blocks.7.b.weight", &off, &numel), "blocks.7.b.weight");
  moments(p + off, numel, &mean, &sd, &lo, &hi);
  double want = sqrt(2.0) / sqrt(512.0 * 9.0); /* kaiming_normal fan_out relu */
  CHECK(fabs(sd / want - 1) < 0.015 && fabs(mean) < 5 * want / sqrt((double)numel),
        "kaiming_normal fan_out: sd %g want %g, mean %g", sd, want, mean);
  CHECK(find(a, "blocks.7.a.weight", &off, &numel), "blocks.7.a.weight");
  moments(p + off, numel, &mean, &sd, &lo, &hi);
  want = 0.283854; /* sd of N(0, 1) truncated to [-0.5, 0.5] */
  CHECK(lo >= -0.5 && hi <= 0.5 && hi > 0.499 && fabs(sd / want - 1) < 0.015,
        "trunc_normal: [%g, %g] sd %g want %g", lo, hi, sd, want);
  CHECK(find(a, "blocks.6.b.weight", &off, &numel), "blocks.6.b.weight");
  moments(p + off, numel, &mean, &sd, &lo, &hi);
  double bound = sqrt(2.0 / 6.0) * sqrt(3.0 / (512.0 * 9)); /* a = sqrt 5: PyTorch's default */
  CHECK(hi <= bound && lo >= -bound && hi > 0.999 * bound && fabs(sd * sqrt(3.0) / bound - 1) < 0.015,
        "kaiming_uniform a=sqrt5: [%g, %g] bound %g sd %g", lo, hi, bound, sd);
  CHECK(find(a, "blocks.4.a.weight", &off, &numel), "blocks.4.a.weight");
  moments(p + off, numel, &mean, &sd, &lo, &hi);
  want = 2.0 * sqrt(2.0 / (128.0 * 9 + 256.0 * 9)); /* xavier: fans I*k*k, O*k*k */
  CHECK(fabs(sd / want - 1) < 0.015, "xavier_normal gain 2: sd %g want %g", sd, want);
  /* determinism: a network is a function of (seed, j); another seed differs */
  int64_t n2 = 0;
  float *q = draw(a, 7, &n2), *r = draw(a, 8, &n2);
  CHECK(q && memcmp(p, q, sizeof(float) * (size_t)n) == 0, "same seed, same parameters");
  CHECK(r && memcmp(p, r, sizeof(float) * (size_t)n) != 0, "another seed, other parameters");
  /* rules on an arch with rules replace them */
  nad_arch *b = NULL, *c = NULL;
  CHECK(nad_arch_with_init_rules(a, "* zeros", NULL, &b) == NAD_OK &&
            nad_arch_with_init_rules(resnet, "* zeros", NULL, &c) == NAD_OK,
        "rules again: %s", nad_last_error());
  float *pb = draw(b, 3, &n2), *pc = draw(c, 3, &n2);
  int zero = pb && pc;
  for (int64_t i = 0; zero && i < n; i++)
    zero = pb[i] == 0.0f && pc[i] == 0.0f;
  CHECK(zero, "'* zeros' zeroes every tensor, also over earlier rules");
  free(p), free(q), free(r), free(pb), free(pc);
  nad_arch_destroy(b), nad_arch_destroy(c);
  nad_arch_destroy(a); /* b and c hold their own reference to resnet */
}

/* Every shipped file parses and applies to resnet18 (warnings allowed: not every model has
 * every kind the file mentions). */
static void shipped(const char *dir) {
  DIR *d = opendir(dir);
  CHECK(d != NULL, "cannot open %s", dir);
  if (!d)
    return;
  int count = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    size_t n = strlen(e->d_name);
    if (n < 7 || strcmp(e->d_name + n - 6, ".rules") != 0)
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    nad_arch *a = NULL;
    CHECK(nad_arch_with_init_rules_file(resnet, path, &a) == NAD_OK, "%s: %s", path,
          nad_last_error());
    nad_arch_destroy(a);
    count++;
  }
  closedir(d);
  CHECK(count >= 6, "%d rule files in %s", count, dir);
}

int main(int argc, char **argv) {
  if (nad_arch_create_builtin("resnet18", 3, 32, 32, 10, &resnet) != NAD_OK) {
    printf("resnet18: %s\n", nad_last_error());
    return 1;
  }
  parse_errors();
  laws();
  if (argc > 1)
    shipped(argv[1]);
  nad_arch_destroy(resnet);
  return check_summary();
}
