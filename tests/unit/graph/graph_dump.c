/* Print a graph as JSON, for the PyTorch comparison in test_torch_params.py.
 *   graph_dump list                       -> ["logreg", ...]
 *   graph_dump builtin NAME C H W OUTPUTS -> {"status": 0, "n_params": ..., ...}
 *   graph_dump spec SPEC C H W            -> same
 * Exit status 0 whenever the JSON was printed (status inside), 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void shape(const int64_t s[3]) {
  printf("[%lld, %lld, %lld]", (long long)s[0], (long long)s[1], (long long)s[2]);
}

static void dump(nad_status st, const nadi_graph *g) {
  printf("{\"status\": %d, \"message\": ", (int)st);
  json_string(st == NAD_OK ? "" : nad_last_error());
  if (st == NAD_OK) {
    printf(", \"n_params\": %lld, \"n_trainable\": %lld, \"flops\": %lld, \"in_shape\": ",
           (long long)g->n_params, (long long)g->n_trainable, (long long)g->flops);
    shape(g->in_shape);
    printf(",\n \"layers\": [");
    for (int64_t i = 0; i < g->n_layers; i++) {
      const nadi_layer *l = &g->layers[i];
      printf("%s\n  {\"desc\": ", i ? "," : "");
      json_string(l->desc);
      printf(", \"prefix\": ");
      json_string(l->prefix);
      printf(", \"inputs\": [%d", l->in[0]);
      if (l->n_in > 1)
        printf(", %d", l->in[1]);
      printf("], \"out_shape\": ");
      shape(l->out_shape);
      printf(", \"n_params\": %lld, \"flops\": %lld}", (long long)l->n_params,
             (long long)nadi_layer_flops(l));
    }
    printf("],\n \"tensors\": [");
    for (int64_t t = 0; t < g->n_tensors; t++) {
      const nadi_tensor_info *ti = &g->tensors[t];
      printf("%s\n  [", t ? "," : "");
      json_string(ti->name);
      printf(", %lld, %lld, %d]", (long long)ti->offset, (long long)ti->numel, ti->trainable);
    }
    printf("]");
  }
  printf("}\n");
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "list") == 0) {
    printf("[");
    for (int32_t i = 0; i < nadi_builtin_count(); i++) {
      printf("%s", i ? ", " : "");
      json_string(nadi_builtin_name(i));
    }
    printf("]\n");
    return 0;
  }
  nadi_graph *g = NULL;
  nad_status st;
  if (argc == 7 && strcmp(argv[1], "builtin") == 0)
    st = nadi_builtin_build(argv[2], atoll(argv[3]), atoll(argv[4]), atoll(argv[5]),
                            atoll(argv[6]), &g);
  else if (argc == 6 && strcmp(argv[1], "spec") == 0)
    st = nadi_spec_build(argv[2], atoll(argv[3]), atoll(argv[4]), atoll(argv[5]), &g);
  else {
    fprintf(stderr, "usage: graph_dump list | builtin NAME C H W OUTPUTS | spec SPEC C H W\n");
    return 2;
  }
  dump(st, g);
  nadi_graph_destroy(g);
  return 0;
}
