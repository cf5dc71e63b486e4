/* Fuzz target of the ONNX reader and shape folder (lib/onnx) through nadi_onnx_read_memory and
 * nadi_onnx_infer_shapes. Input: one option byte, then the model bytes. Bit 0 of the option
 * byte: the file's own input shape (0) or 1 x (1 + bits 1-2) x h x h with h = 1 + bits 3-7.
 * An accepted model must satisfy the IR's invariants before and after shape inference: nodes in
 * topological order, every node output's producer is that node, every value findable by its
 * name, every known shape within 2^40 elements, every constant's data matching its shape. */
#include <stdlib.h>

#include "fuzz.h"
#include "onnx/onnx_model.h"

static void check_model(const nadi_onnx_model *m) {
  for (int32_t v = 0; v < m->n_values; v++) {
    const nadi_onnx_value *x = &m->values[v];
    if (nadi_onnx_find_value(m, x->name) != v)
      __builtin_trap();
    if ((x->kind == NADI_ONNX_NODE_OUT) != (x->producer >= 0) || x->producer >= m->n_nodes)
      __builtin_trap();
    int64_t count = 1;
    for (int32_t d = 0; d < x->ndim; d++)
      if (x->dims[d] >= 0 && !nadi_mul_ok(count, x->dims[d], &count))
        __builtin_trap();
    if (x->ndim > NADI_ONNX_MAX_DIMS || count > NADI_ONNX_MAX_ELEMS)
      __builtin_trap();
    if (x->data && (!x->data->f == !x->data->i || !nadi_prod_ok(x->data->dims, x->data->ndim,
                                                               &count) || count != x->data->count))
      __builtin_trap();
  }
  for (int32_t k = 0; k < m->n_nodes; k++) {
    const nadi_onnx_node *n = &m->nodes[k];
    for (int32_t i = 0; i < n->n_in; i++)
      if (n->in[i] >= m->n_values || (n->in[i] >= 0 && m->values[n->in[i]].producer >= k))
        __builtin_trap();
    for (int32_t o = 0; o < n->n_out; o++)
      if (n->out[o] >= 0 && m->values[n->out[o]].kind == NADI_ONNX_NODE_OUT &&
          m->values[n->out[o]].producer != k)
        __builtin_trap();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > (1 << 16))
    return 0;
  nadi_onnx_model *m = NULL;
  if (nadi_onnx_read_memory(data + 1, size - 1, "fuzz.onnx", NULL, &m) != NAD_OK)
    return 0;
  fuzz_accepted++;
  check_model(m);
  const int64_t h = 1 + (data[0] >> 3), shape[4] = {1, 1 + ((data[0] >> 1) & 3), h, h};
  if (nadi_onnx_infer_shapes(m, (data[0] & 1) ? shape : NULL, (data[0] & 1) ? 4 : 0) == NAD_OK)
    check_model(m);
  nadi_onnx_model_free(m);
  return 0;
}
