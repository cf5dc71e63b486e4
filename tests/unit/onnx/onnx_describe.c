/* Reads an ONNX model (lib/onnx), infers its shapes for an input shape and prints a JSON
 * description for tests/unit/onnx/onnx_models.py:
 *   onnx_describe MODEL [D0 D1 ...]
 * {"opset", "producer", "ops_read": {op: count} before folding, "ops": {op: count} after,
 *  "inputs"/"outputs": [{"name", "shape"}], "values": {name: {"kind", "dtype", "shape"}}
 *  (shape null when unknown), "nodes": [{"op", "name", "inputs", "outputs"}] (null: omitted),
 *  "initializers": {name: {"dtype", "shape", "sum"}}}.
 * A model that cannot be read or shaped: {"error": status, "message": ...} and exit status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx_model.h"

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      printf("\\%c", ch);
    else if (ch < 0x20)
      printf("\\u%04x", ch);
    else
      putchar(ch);
  }
  putchar('"');
}

static void json_shape(const nadi_onnx_value *v) {
  if (v->ndim < 0) {
    printf("null");
    return;
  }
  printf("[");
  for (int32_t d = 0; d < v->ndim; d++)
    printf("%s%lld", d ? ", " : "", (long long)v->dims[d]);
  printf("]");
}

/* {op: count} of the current nodes */
static void json_ops(const nadi_onnx_model *m) {
  printf("{");
  int first = 1;
  for (int32_t k = 0; k < m->n_nodes; k++) {
    int seen = 0;
    for (int32_t j = 0; j < k && !seen; j++)
      seen = !strcmp(m->nodes[j].op, m->nodes[k].op);
    if (seen)
      continue;
    int n = 0;
    for (int32_t j = k; j < m->n_nodes; j++)
      n += !strcmp(m->nodes[j].op, m->nodes[k].op);
    printf("%s", first ? "" : ", ");
    json_str(m->nodes[k].op);
    printf(": %d", n);
    first = 0;
  }
  printf("}");
}

static void json_list(const nadi_onnx_model *m, const int32_t *idx, int32_t n) {
  printf("[");
  for (int32_t i = 0; i < n; i++) {
    printf("%s{\"name\": ", i ? ", " : "");
    json_str(m->values[idx[i]].name);
    printf(", \"shape\": ");
    json_shape(&m->values[idx[i]]);
    printf("}");
  }
  printf("]");
}

static void json_values(const nadi_onnx_model *m) {
  static const char *kinds[] = {"?", "input", "init", "node", "const"};
  printf("{");
  for (int32_t v = 0; v < m->n_values; v++) {
    const nadi_onnx_value *x = &m->values[v];
    printf("%s\n  ", v ? "," : "");
    json_str(x->name);
    printf(": {\"kind\": \"%s\", \"dtype\": \"%s\", \"shape\": ", kinds[x->kind],
           nadi_onnx_dtype_name(x->dtype));
    json_shape(x);
    printf("}");
  }
  printf("}");
}

static void json_names(const nadi_onnx_model *m, const int32_t *idx, int32_t n) {
  printf("[");
  for (int32_t i = 0; i < n; i++) {
    printf("%s", i ? ", " : "");
    if (idx[i] < 0)
      printf("null");
    else
      json_str(m->values[idx[i]].name);
  }
  printf("]");
}

/* [{"op", "name", "inputs", "outputs"}] of the nodes (after folding) */
static void json_nodes(const nadi_onnx_model *m) {
  printf("[");
  for (int32_t k = 0; k < m->n_nodes; k++) {
    const nadi_onnx_node *n = &m->nodes[k];
    printf("%s\n  {\"op\": ", k ? "," : "");
    json_str(n->op);
    printf(", \"name\": ");
    json_str(n->name);
    printf(", \"inputs\": ");
    json_names(m, n->in, n->n_in);
    printf(", \"outputs\": ");
    json_names(m, n->out, n->n_out);
    printf("}");
  }
  printf("]");
}

static void json_inits(const nadi_onnx_model *m) {
  printf("{");
  int first = 1;
  for (int32_t v = 0; v < m->n_values; v++) {
    const nadi_onnx_value *x = &m->values[v];
    if (x->kind != NADI_ONNX_INIT)
      continue;
    double sum = 0;
    for (int64_t k = 0; k < x->data->count; k++)
      sum += nadi_onnx_get_d(x->data, k);
    printf("%s\n  ", first ? "" : ",");
    json_str(x->name);
    printf(": {\"dtype\": \"%s\", \"shape\": ", nadi_onnx_dtype_name(x->dtype));
    json_shape(x);
    printf(", \"sum\": %.9g}", sum);
    first = 0;
  }
  printf("}");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: onnx_describe MODEL [D0 D1 ...]\n");
    return 2;
  }
  int64_t shape[NADI_ONNX_MAX_DIMS];
  int32_t nd = 0;
  for (int i = 2; i < argc && nd < NADI_ONNX_MAX_DIMS; i++)
    shape[nd++] = strtoll(argv[i], NULL, 10);
  nadi_onnx_model *m = NULL;
  nad_status st = nadi_onnx_read_file(argv[1], &m);
  if (st == NAD_OK) {
    printf("{\"opset\": %lld, \"producer\": ", (long long)m->opset);
    json_str(m->producer);
    printf(", \"ops_read\": ");
    json_ops(m);
    st = nadi_onnx_infer_shapes(m, nd ? shape : NULL, nd);
  }
  if (st != NAD_OK) {
    printf("%s\"error\": %d, \"message\": ", m ? ", " : "{", (int)st);
    json_str(nad_last_error());
    printf("}\n");
    nadi_onnx_model_free(m);
    return 1;
  }
  printf(",\n\"ops\": ");
  json_ops(m);
  printf(",\n\"inputs\": ");
  json_list(m, m->inputs, m->n_inputs);
  printf(",\n\"outputs\": ");
  json_list(m, m->outputs, m->n_outputs);
  printf(",\n\"values\": ");
  json_values(m);
  printf(",\n\"nodes\": ");
  json_nodes(m);
  printf(",\n\"initializers\": ");
  json_inits(m);
  printf("}\n");
  nadi_onnx_model_free(m);
  return 0;
}
