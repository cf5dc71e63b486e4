/* Shared by the ONNX importer's driver (onnx_import.c: graph, parameters) and its operator
 * table (onnx_ops.c: one mapping per ONNX operator). Never installed. */
#ifndef NADI_ONNX_MAP_H
#define NADI_ONNX_MAP_H

#include "graph/graph.h"
#include "onnx/onnx_model.h"

#define NADI_ONNX_NO_NODE (-2) /* a value that is not (yet) a computed tensor */

/* Where a parameter tensor of a built node comes from. */
typedef struct nadi_onnx_src {
  const nadi_onnx_tensor *t; /* the file's values (NULL: zeros) */
  int transpose;             /* a 2-D tensor stored transposed (Gemm transB = 0 into linear) */
} nadi_onnx_src;

/* The state of one import. */
typedef struct nadi_onnx_imp {
  nadi_onnx_model *m;
  nadi_builder *b;
  int32_t k;        /* the ONNX node being mapped */
  int32_t *node_of; /* per value: builder node, NADI_INPUT_NODE, or NADI_ONNX_NO_NODE */
  int32_t *readers; /* per value: how many node inputs read it */
  char *skip;       /* per ONNX node: already mapped as part of another (a fused bias Add) */
  int32_t *transposed_of; /* per value: the 2-D initializer it is the transpose of, or -1 */
  nadi_onnx_src (*src)[NADI_MAX_TENSORS]; /* per builder node */
  int32_t n_built, cap;
} nadi_onnx_imp;

/* NAD_ERR_* with "FILE: node 'NAME' (OP): message". */
nad_status nadi_onnx_fail_node(const nadi_onnx_imp *c, nad_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Input j of n, or NULL when omitted. */
const nadi_onnx_value *nadi_onnx_in(const nadi_onnx_imp *c, const nadi_onnx_node *n, int32_t j);
/* Input j as a computed tensor: its builder node (or NADI_INPUT_NODE). */
nad_status nadi_onnx_act(const nadi_onnx_imp *c, const nadi_onnx_node *n, int32_t j,
                         int32_t *node);
/* 1 when input j is a computed tensor. */
int nadi_onnx_is_act(const nadi_onnx_imp *c, const nadi_onnx_node *n, int32_t j);
/* Input j as a float constant (an initializer or a folded constant). */
nad_status nadi_onnx_param(const nadi_onnx_imp *c, const nadi_onnx_node *n, int32_t j,
                           const nadi_onnx_tensor **t);
/* The module name of an initializer read by node n: "layer1.0.conv1.weight" -> "layer1.0.conv1";
 * torch's anonymous "onnx::..." initializers get the module path of n's name (NULL: none). */
void nadi_onnx_module_prefix(const nadi_onnx_node *n, const char *name, char *out, size_t size);
/* Adds a node of `kind` for the current ONNX node (its tensors from src) and makes it the
 * producer of the ONNX node's output 0. */
nad_status nadi_onnx_add(nadi_onnx_imp *c, const nadi_onnx_node *n, nadi_kind kind,
                         const int32_t *in, int32_t n_in, const nadi_hparams *hp,
                         const char *prefix, const nadi_onnx_src *src, int32_t n_src);
/* Maps the current ONNX node through the operator table (onnx_ops.c). */
nad_status nadi_onnx_map_node(nadi_onnx_imp *c);

#endif
