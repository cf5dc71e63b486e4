/* `nad net init` and `nad net forward`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FORWARD_CHUNK 256 /* samples per forward call: bounds the activation memory */

static int net_init(int argc, char **argv) {
  cli_arch_opts ao = {0};
  const char *seed_s = NULL, *out = NULL;
  const cli_opt opts[] = {
      {"input", 1, &ao.input, NULL},    {"outputs", 1, &ao.outputs, NULL},
      {"spec", 1, &ao.spec_file, NULL}, {"spec-string", 1, &ao.spec_string, NULL},
      {"seed", 1, &seed_s, NULL},       {"out", 1, &out, NULL},
      {"init-rules", 1, &ao.init_rules, NULL},
  };
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse("net init", argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), pos, 1,
                     &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  ao.name = npos > 0 ? pos[0] : NULL;
  if ((rc = cli_need_arch("net init", &ao, "NAME")) != 0)
    return rc;
  int64_t seed = 0;
  if (!seed_s)
    return cli_usage_error("net init", "missing --seed S");
  if (!out)
    return cli_usage_error("net init", "missing --out FILE");
  if ((rc = cli_parse_i64("seed", seed_s, 0, INT64_MAX, &seed)) != 0 ||
      (rc = cli_out_file("out", &out, 1)) != 0)
    return rc;
  nad_arch *a = NULL;
  if ((rc = cli_make_arch("net init", &ao, &a)) != 0)
    return rc;
  nad_net *net = NULL;
  float *params = NULL;
  int64_t n = 0;
  nad_status st = nad_arch_num_params(a, &n);
  if (st != NAD_OK) {
    rc = cli_lib_error(st, "cannot count parameters");
    goto done;
  }
  if ((st = nad_net_create(a, (uint64_t)seed, &net)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot create network");
    goto done;
  }
  params = malloc((size_t)(n > 0 ? n : 1) * sizeof *params);
  if (!params) {
    rc = cli_error("out of memory for %lld parameters", (long long)n);
    goto done;
  }
  if ((st = nad_net_get_params(net, params, (size_t)n)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot read parameters");
    goto done;
  }
  if ((st = nad_npy_write(out, params, 0, &n, 1)) != NAD_OK)
    rc = cli_lib_error(st, "cannot write '%s'", out);
done:
  free(params);
  nad_net_destroy(net);
  nad_arch_destroy(a);
  return rc;
}

typedef struct forward_job {
  nad_net *net;
  const float *x;
  int64_t batch, d, k;
  float *y, *grad, *w;
} forward_job;

/* Forward (and input gradient) in chunks so that a large batch does not need a network sized
 * for all of it at once. */
static int run_forward(const forward_job *j) {
  for (int64_t b0 = 0; b0 < j->batch; b0 += FORWARD_CHUNK) {
    int64_t nb = j->batch - b0 < FORWARD_CHUNK ? j->batch - b0 : FORWARD_CHUNK;
    const float *xb = j->x + b0 * j->d;
    nad_status st = nad_net_forward(j->net, xb, nb, j->y + b0 * j->k, (size_t)(nb * j->k));
    if (st != NAD_OK)
      return cli_lib_error(st, "forward failed");
    if (j->grad) {
      st = nad_net_input_grad(j->net, xb, nb, j->w, (size_t)j->k, j->grad + b0 * j->d,
                              (size_t)(nb * j->d));
      if (st != NAD_OK)
        return cli_lib_error(st, "input gradient failed");
    }
  }
  return 0;
}

/* Checks the layout of x against the network input; returns the batch size or -1 (printed). */
static int64_t batch_of(const char *path, const int64_t *xs, int32_t nd, const int64_t in[3]) {
  int64_t d = in[0] * in[1] * in[2];
  if (nd == 4 && xs[1] == in[0] && xs[2] == in[1] && xs[3] == in[2])
    return xs[0];
  if (nd == 2 && xs[1] == d)
    return xs[0];
  if (nd == 3 && xs[0] == in[0] && xs[1] == in[1] && xs[2] == in[2])
    return 1; /* one sample C x H x W: a batch of one */
  char got[160] = "", want[64];
  for (int32_t i = 0; i < nd && i < 8; i++) {
    char part[32];
    snprintf(part, sizeof part, i ? "x%lld" : "%lld", (long long)xs[i]);
    strncat(got, part, sizeof got - strlen(got) - 1);
  }
  cli_error("'%s' has shape %s, but the network input is %s: expected B x %s or B x %lld "
            "(or one sample %s; use --input CxHxW to change the input shape)",
            path, nd ? got : "()", cli_shape_str(in, want, sizeof want), want, (long long)d,
            want);
  return -1;
}

/* The network of `net forward`: the parameters of --params, or without it a model file's own
 * weights (nad_arch_file_params). */
static int make_net(const char *params_p, const nad_arch *a, const int64_t in[3], int64_t k,
                    nad_net **net) {
  int64_t np = 0, ps[8] = {0};
  int32_t pnd = 0;
  float *params = NULL, *own = NULL; /* own: the model's weights (malloc), else nad_free */
  nad_status st = nad_arch_num_params(a, &np);
  int rc = 0;
  if (st != NAD_OK) {
    rc = cli_lib_error(st, "cannot describe architecture");
  } else if (!params_p) {
    params = own = malloc((size_t)(np > 0 ? np : 1) * sizeof *own);
    st = own ? nad_arch_file_params(a, own, (size_t)np) : NAD_ERR_OUT_OF_MEMORY;
    if (st != NAD_OK)
      rc = cli_usage_error("net forward", "missing --params FILE (%s has no weights of its own)",
                           nad_arch_name(a));
    ps[0] = np, pnd = 1;
  } else {
    rc = cli_npy_read("--params", params_p, &params, ps, &pnd);
  }
  int64_t got = rc == 0 ? cli_numel(ps, pnd) : 0;
  if (rc == 0 && (pnd != 1 || got != np)) {
    char buf[64];
    rc = cli_error("'%s' holds %lld floats (%d-D), but %s with input %s and %lld output(s) "
                   "needs a 1-D array of %lld",
                   params_p, (long long)got, (int)pnd, nad_arch_name(a),
                   cli_shape_str(in, buf, sizeof buf), (long long)k, (long long)np);
  }
  if (rc == 0 && (st = nad_net_create_from_params(a, params, (size_t)np, net)) != NAD_OK)
    rc = cli_lib_error(st, "cannot create network from '%s'", params_p ? params_p : "the model");
  if (own)
    free(own);
  else
    nad_free(params);
  return rc;
}

static int net_forward(int argc, char **argv) {
  cli_arch_opts ao = {0};
  const char *params_p = NULL, *x_p = NULL, *out = NULL, *grad_p = NULL;
  const cli_opt opts[] = {
      {"input", 1, &ao.input, NULL},    {"outputs", 1, &ao.outputs, NULL},
      {"spec", 1, &ao.spec_file, NULL}, {"spec-string", 1, &ao.spec_string, NULL},
      {"params", 1, &params_p, NULL},   {"x", 1, &x_p, NULL},
      {"out", 1, &out, NULL},           {"grad", 1, &grad_p, NULL},
  };
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse("net forward", argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), pos,
                     1, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  ao.name = npos > 0 ? pos[0] : NULL;
  if ((rc = cli_need_arch("net forward", &ao, "NAME")) != 0)
    return rc;
  if (!x_p)
    return cli_usage_error("net forward", "missing --x FILE");
  if (!out)
    return cli_usage_error("net forward", "missing --out FILE");
  if ((rc = cli_out_file("out", &out, 1)) != 0 ||
      (grad_p && (rc = cli_out_file("grad", &grad_p, 1)) != 0))
    return rc;
  nad_arch *a = NULL;
  if ((rc = cli_make_arch("net forward", &ao, &a)) != 0)
    return rc;
  float *x = NULL;
  nad_net *net = NULL;
  forward_job job = {0};
  int64_t xs[8], in[3], np = 0;
  int32_t xnd = 0;
  nad_status st;
  if ((st = nad_arch_num_params(a, &np)) != NAD_OK ||
      (st = nad_arch_num_outputs(a, &job.k)) != NAD_OK ||
      (st = nad_arch_input_shape(a, in)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot describe architecture");
    goto done;
  }
  if ((rc = cli_npy_read("--x", x_p, &x, xs, &xnd)) != 0)
    goto done;
  job.d = in[0] * in[1] * in[2];
  if ((job.batch = batch_of(x_p, xs, xnd, in)) < 0) {
    rc = CLI_ERR;
    goto done;
  }
  if ((rc = make_net(params_p, a, in, job.k, &net)) != 0)
    goto done;
  job.net = net;
  job.x = x;
  size_t nb = (size_t)(job.batch > 0 ? job.batch : 1);
  job.y = malloc(nb * (size_t)job.k * sizeof(float));
  if (grad_p) {
    job.grad = malloc(nb * (size_t)job.d * sizeof(float));
    job.w = calloc((size_t)job.k, sizeof(float));
  }
  if (!job.y || (grad_p && (!job.grad || !job.w))) {
    rc = cli_error("out of memory");
    goto done;
  }
  if (grad_p)
    job.w[0] = 1.0f; /* w = e_0: the gradient of output 0 */
  if ((rc = run_forward(&job)) != 0)
    goto done;
  /* Outputs are written only after everything was computed. */
  int64_t yshape[2] = {job.batch, job.k};
  if ((st = nad_npy_write(out, job.y, 0, yshape, 2)) != NAD_OK) {
    rc = cli_lib_error(st, "cannot write '%s'", out);
    goto done;
  }
  if (grad_p) {
    int64_t gshape[4] = {job.batch, in[0], in[1], in[2]};
    if ((st = nad_npy_write(grad_p, job.grad, 0, gshape, 4)) != NAD_OK)
      rc = cli_lib_error(st, "cannot write '%s'", grad_p);
  }
done:
  free(job.y);
  free(job.grad);
  free(job.w);
  nad_free(x);
  nad_net_destroy(net);
  nad_arch_destroy(a);
  return rc;
}

int cli_cmd_net(int argc, char **argv) {
  if (argc < 1)
    return cli_usage_error("net", "missing subcommand (init, forward)");
  if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
    cli_print_help(stdout, "net");
    return CLI_OK;
  }
  if (strcmp(argv[0], "init") == 0)
    return net_init(argc - 1, argv + 1);
  if (strcmp(argv[0], "forward") == 0)
    return net_forward(argc - 1, argv + 1);
  return cli_usage_error("net", "unknown subcommand 'net %s'", argv[0]);
}
