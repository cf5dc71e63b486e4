/* Test helper: runs ONE node of any kind, described the way the builder describes it (kind,
 * input shapes, hyper-parameters), on data piped in, so that PyTorch can check the kind's
 * shape rule, forward, input backward and parameter backward on identical inputs and weights
 * (tests/unit/kernels/nodetest.py drives it). Unlike layer_apply.c it knows no kind: the output
 * shape and the parameter count come from the kind's description (nadi_kind_desc).
 *
 * stdin, text lines, then float32 data:
 *   kind NAME               (nadi_ops(kind)->name)
 *   batch B
 *   training 0|1
 *   input R d0 .. d{R-1}    (one line per input: the per-sample shape, batch axis included)
 *   hp FIELD VALUE          (any number; FIELD as in nadi_hparams; see fields[] below)
 *   data
 *   inputs (B * numel each), params (as many as the kind's tensors()), dy (B * output numel)
 * stdout: "out R d0 .. d{R-1} params N\n", then float32 y, dx of each input, dparams, and
 *   the parameters after the forward (running statistics in training mode).
 * A kind's shape() refusal is printed as "error MESSAGE\n" with exit status 3. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

/* The hyper-parameters a test can set, by name. */
typedef struct field {
  const char *name;
  size_t off;
  int is_double;
} field;
#define FI(f) {#f, offsetof(nadi_hparams, f), 0}
#define FD(f) {#f, offsetof(nadi_hparams, f), 1}
static const field fields[] = {
    FI(out_c), FI(k), FI(stride), FI(pad), FI(bias), FI(init), FD(eps), FD(momentum), FD(p),
    /* issue 17: windows */
    FI(kh), FI(kw), FI(sh), FI(sw), FI(pad_t), FI(pad_l), FI(pad_b), FI(pad_r), FI(dh), FI(dw),
    FI(groups), FI(ceil_mode), FI(count_include_pad), FI(pool_oh), FI(pool_ow),

    /* issue 17: elementwise and normalisations */
    FD(act_lo), FD(act_hi), FD(act_alpha), FD(act_beta), FI(act_approx), FI(arith_op),
    FI(arith_side), FI(arith_prank), FI(arith_pshape), FI(norm_axis), FI(norm_groups),
    FI(red_axes), FI(red_keepdims),

    /* issue 17: tensor operations */
    FI(trans_a), FI(trans_b), FD(gemm_alpha), FD(gemm_beta), FI(tensor_axis), FI(gather_index),
    FI(perm), FI(reshape_rank), FI(reshape_dims), FI(starts), FI(ends), FI(steps), FI(pads),
    FI(pad_mode), FD(pad_value),
};

static void die(const char *what) {
  fprintf(stderr, "node_apply: %s\n", what);
  exit(2);
}

static float *read_floats(int64_t n) {
  float *p = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
  if (!p || fread(p, sizeof(float), (size_t)n, stdin) != (size_t)n)
    die("short input");
  return p;
}

static void write_floats(const float *p, int64_t n) {
  if (n > 0 && fwrite(p, sizeof(float), (size_t)n, stdout) != (size_t)n)
    die("write failed");
}

/* Sets hyper-parameter `name` (an array element as name[i]) to v. */
static void set_field(nadi_hparams *hp, const char *name, double v) {
  char base[64];
  long idx = 0;
  const char *br = strchr(name, '[');
  size_t n = br ? (size_t)(br - name) : strlen(name);
  if (n >= sizeof base)
    die("field name too long");
  memcpy(base, name, n), base[n] = '\0';
  if (br)
    idx = strtol(br + 1, NULL, 10);
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (strcmp(fields[i].name, base) != 0)
      continue;
    char *at = (char *)hp + fields[i].off;
    if (fields[i].is_double)
      ((double *)at)[idx] = v;
    else
      ((int64_t *)at)[idx] = (int64_t)v;
    return;
  }
  fprintf(stderr, "node_apply: unknown hyper-parameter %s\n", name);
  exit(2);
}

/* Reads the header into l and the batch/training flags. */
static void read_header(nadi_layer *l, int64_t *batch, int *training) {
  char line[512], word[64];
  nadi_hparams hp;
  memset(&hp, 0, sizeof hp);
  hp.eps = 1e-5, hp.momentum = 0.1, hp.p = 0.5;
  memset(l, 0, sizeof *l);
  l->kind = NADI_KIND_COUNT;
  while (fgets(line, sizeof line, stdin)) {
    if (sscanf(line, "%63s", word) != 1)
      continue;
    if (strcmp(word, "data") == 0)
      break;
    if (strcmp(word, "kind") == 0) {
      char name[64];
      if (sscanf(line, "kind %63s", name) != 1)
        die("bad kind line");
      for (int i = 0; i < NADI_KIND_COUNT; i++)
        if (nadi_kind_of((nadi_kind)i) && strcmp(nadi_ops((nadi_kind)i)->name, name) == 0)
          l->kind = (nadi_kind)i;
    } else if (strcmp(word, "batch") == 0) {
      long long b;
      if (sscanf(line, "batch %lld", &b) != 1)
        die("bad batch line");
      *batch = b;
    } else if (strcmp(word, "training") == 0) {
      if (sscanf(line, "training %d", training) != 1)
        die("bad training line");
    } else if (strcmp(word, "input") == 0) {
      if (l->n_in >= NADI_MAX_INPUTS)
        die("too many inputs");
      nadi_dims *s = &l->in_dims[l->n_in];
      int at = 0, used;
      long long r;
      if (sscanf(line + 5, "%lld%n", &r, &used) != 1 || r < 1 || r > NADI_MAX_RANK)
        die("bad input line");
      at = 5 + used;
      s->rank = r;
      for (int64_t i = 0; i < r; i++) {
        long long d;
        if (sscanf(line + at, "%lld%n", &d, &used) != 1)
          die("bad input dims");
        s->d[i] = d, at += used;
      }
      l->in[l->n_in] = NADI_INPUT_NODE;
      nadi_dims_view3(s, l->in_shape[l->n_in]);
      l->n_in++;
    } else if (strcmp(word, "hp") == 0) {
      char name[64];
      double v;
      if (sscanf(line, "hp %63s %lf", name, &v) != 2)
        die("bad hp line");
      set_field(&hp, name, v);
    } else {
      die("unknown header line");
    }
  }
  if (l->kind == NADI_KIND_COUNT)
    die("unknown or missing kind");
  l->hp = hp;
}

int main(void) {
  nadi_layer l;
  int64_t batch = 1;
  int training = 0;
  read_header(&l, &batch, &training);
  const nadi_kind_desc *kd = nadi_kind_of(l.kind);
  if (kd->shape(&l, 0) != NAD_OK) {
    printf("error %s\n", nad_last_error());
    return 3;
  }
  nadi_dims_view3(&l.out_dims, l.out_shape);
  nadi_tensor_desc td[NADI_MAX_TENSORS];
  int nt = kd->tensors ? kd->tensors(&l, td) : 0;
  for (int i = 0; i < nt; i++)
    l.n_params += td[i].numel;

  const nadi_layer_ops *ops = kd->ops;
  int64_t nin[NADI_MAX_INPUTS] = {0}, nout = batch * nadi_dims_numel(&l.out_dims);
  float *x[NADI_MAX_INPUTS] = {0}, *dx[NADI_MAX_INPUTS] = {0};
  for (int j = 0; j < l.n_in; j++) {
    nin[j] = batch * nadi_dims_numel(&l.in_dims[j]);
    x[j] = read_floats(nin[j]);
    dx[j] = calloc((size_t)nin[j] + 1, sizeof(float));
  }
  float *params = read_floats(l.n_params), *dy = read_floats(nout);
  float *y = calloc((size_t)nout + 1, sizeof(float));
  float *dparams = calloc((size_t)l.n_params + 1, sizeof(float));
  float *params_fwd = malloc(((size_t)l.n_params + 1) * sizeof(float));
  size_t nws = ops->workspace ? ops->workspace(&l, batch) : 0;
  size_t nst = ops->state_size ? ops->state_size(&l, batch) : 0;
  float *ws = malloc((nws + 1) * sizeof(float)), *state = malloc((nst + 1) * sizeof(float));
  if (!y || !dparams || !params_fwd || !ws || !state)
    die("out of memory");
  memcpy(params_fwd, params, (size_t)l.n_params * sizeof(float));
  nadi_rng rng;
  nadi_rng_init(&rng, 1, 0);
  nadi_ctx ctx = {.batch = batch, .training = training, .ws = ws, .state = state, .rng = &rng};
  const float *xs[NADI_MAX_INPUTS];
  for (int j = 0; j < NADI_MAX_INPUTS; j++)
    xs[j] = x[j];
  ops->forward(&l, params_fwd, xs, y, &ctx);
  ops->backward(&l, params, xs, y, dy, dx, dparams, &ctx);

  printf("out %lld", (long long)l.out_dims.rank);
  for (int64_t i = 0; i < l.out_dims.rank; i++)
    printf(" %lld", (long long)l.out_dims.d[i]);
  printf(" params %lld\n", (long long)l.n_params);
  write_floats(y, nout);
  for (int j = 0; j < l.n_in; j++)
    write_floats(dx[j], nin[j]);
  write_floats(dparams, l.n_params);
  write_floats(params_fwd, l.n_params);
  for (int j = 0; j < l.n_in; j++)
    free(x[j]), free(dx[j]);
  free(params), free(dy), free(y), free(dparams), free(params_fwd), free(ws), free(state);
  return 0;
}
