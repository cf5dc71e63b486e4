/* `nad arch list` and `nad arch show`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int arch_list(int argc, char **argv) {
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse("arch list", argc, argv, NULL, 0, pos, 0, &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  int32_t n = nad_arch_builtin_count();
  for (int32_t i = 0; i < n; i++) {
    const char *name = nad_arch_builtin_name(i);
    if (name)
      puts(name);
  }
  return CLI_OK;
}

/* 1234567 -> "1,234,567" */
static const char *thousands(int64_t v, char *buf, size_t len) {
  char raw[32];
  snprintf(raw, sizeof raw, "%lld", (long long)(v < 0 ? -v : v));
  size_t n = strlen(raw), o = 0;
  if (v < 0 && o + 1 < len)
    buf[o++] = '-';
  for (size_t i = 0; i < n && o + 2 < len; i++) {
    if (i > 0 && (n - i) % 3 == 0)
      buf[o++] = ',';
    buf[o++] = raw[i];
  }
  buf[o] = '\0';
  return buf;
}

typedef struct layer_info {
  const char *desc;
  int64_t shape[3];
  int64_t params, flops;
} layer_info;

typedef struct arch_info {
  const char *name;
  int64_t input[3], outputs, trainable, state_floats, flops, nlayers;
  layer_info *layers;
} arch_info;

static int collect(const nad_arch *a, arch_info *info) {
  memset(info, 0, sizeof *info);
  nad_status st = NAD_OK;
  info->name = nad_arch_name(a);
  if ((st = nad_arch_input_shape(a, info->input)) != NAD_OK ||
      (st = nad_arch_num_outputs(a, &info->outputs)) != NAD_OK ||
      (st = nad_arch_num_trainable(a, &info->trainable)) != NAD_OK ||
      (st = nad_arch_num_params(a, &info->state_floats)) != NAD_OK ||
      (st = nad_arch_flops(a, &info->flops)) != NAD_OK ||
      (st = nad_arch_num_layers(a, &info->nlayers)) != NAD_OK)
    return cli_lib_error(st, "cannot describe architecture");
  info->layers = calloc((size_t)(info->nlayers > 0 ? info->nlayers : 1), sizeof *info->layers);
  if (!info->layers)
    return cli_error("out of memory");
  for (int64_t i = 0; i < info->nlayers; i++) {
    layer_info *l = &info->layers[i];
    st = nad_arch_layer(a, i, &l->desc, l->shape, &l->params, &l->flops);
    if (st != NAD_OK)
      return cli_lib_error(st, "cannot describe layer %lld", (long long)i);
    if (!l->desc)
      l->desc = "?";
  }
  return 0;
}

static void print_json(const arch_info *info) {
  cli_json j;
  cli_json_init(&j, stdout);
  cli_json_begin_object(&j, NULL);
  cli_json_string(&j, "name", info->name);
  cli_json_shape(&j, "input", info->input);
  cli_json_int(&j, "outputs", info->outputs);
  cli_json_int(&j, "parameters", info->trainable);
  cli_json_int(&j, "state_dict_floats", info->state_floats);
  cli_json_int(&j, "flops", info->flops);
  cli_json_begin_array(&j, "layers", 0);
  for (int64_t i = 0; i < info->nlayers; i++) {
    const layer_info *l = &info->layers[i];
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "desc", l->desc);
    cli_json_shape(&j, "shape", l->shape);
    cli_json_int(&j, "params", l->params);
    cli_json_int(&j, "flops", l->flops);
    cli_json_end_object(&j);
  }
  cli_json_end_array(&j);
  cli_json_end_object(&j);
  cli_json_finish(&j);
}

static void print_table(const arch_info *info) {
  char b1[64], b2[64];
  int w = 5;
  for (int64_t i = 0; i < info->nlayers; i++) {
    int n = (int)strlen(info->layers[i].desc);
    if (n > w)
      w = n;
  }
  if (w > 60)
    w = 60;
  printf("%s: input %s, %lld output%s\n", info->name, cli_shape_str(info->input, b1, sizeof b1),
         (long long)info->outputs, info->outputs == 1 ? "" : "s");
  printf("%5s  %-*s  %-14s %12s %15s\n", "#", w, "layer", "output", "params", "flops");
  for (int64_t i = 0; i < info->nlayers; i++) {
    const layer_info *l = &info->layers[i];
    char shape[64], p[32], f[32];
    printf("%5lld  %-*.*s  %-14s %12s %15s\n", (long long)i, w, w, l->desc,
           cli_shape_str(l->shape, shape, sizeof shape), thousands(l->params, p, sizeof p),
           thousands(l->flops, f, sizeof f));
  }
  printf("trainable parameters: %s\n", thousands(info->trainable, b1, sizeof b1));
  printf("state_dict floats:    %s\n", thousands(info->state_floats, b1, sizeof b1));
  if (info->flops >= 1000000000)
    snprintf(b2, sizeof b2, "%.3f GFLOP", (double)info->flops / 1e9);
  else
    snprintf(b2, sizeof b2, "%.3f MFLOP", (double)info->flops / 1e6);
  printf("FLOPs per forward:    %s (%s)\n", thousands(info->flops, b1, sizeof b1), b2);
}

static int arch_show(int argc, char **argv) {
  cli_arch_opts ao = {0};
  int json = 0;
  const cli_opt opts[] = {
      {"input", 1, &ao.input, NULL},        {"outputs", 1, &ao.outputs, NULL},
      {"spec", 1, &ao.spec_file, NULL},     {"spec-string", 1, &ao.spec_string, NULL},
      {"json", 0, NULL, &json},             {"init-rules", 1, &ao.init_rules, NULL},
  };
  const char *pos[1];
  int npos = 0;
  int rc = cli_parse("arch show", argc, argv, opts, (int)(sizeof opts / sizeof opts[0]), pos, 1,
                     &npos);
  if (rc)
    return rc < 0 ? CLI_OK : rc;
  ao.name = npos > 0 ? pos[0] : NULL;
  nad_arch *a = NULL;
  if ((rc = cli_make_arch("arch show", &ao, &a)) != 0)
    return rc;
  arch_info info;
  rc = collect(a, &info);
  if (rc == 0) {
    if (json)
      print_json(&info);
    else
      print_table(&info);
    if (fflush(stdout) != 0)
      rc = cli_error("cannot write to stdout");
  }
  free(info.layers);
  nad_arch_destroy(a);
  return rc;
}

int cli_cmd_arch(int argc, char **argv) {
  if (argc < 1)
    return cli_usage_error("arch", "missing subcommand (list, show)");
  if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
    cli_print_help(stdout, "arch");
    return CLI_OK;
  }
  if (strcmp(argv[0], "list") == 0)
    return arch_list(argc - 1, argv + 1);
  if (strcmp(argv[0], "show") == 0)
    return arch_show(argc - 1, argv + 1);
  return cli_usage_error("arch", "unknown subcommand 'arch %s'", argv[0]);
}
