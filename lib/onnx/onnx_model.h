/* ONNX import, first half: an ONNX ModelProto read into a small IR that knows nothing of
 * protobuf (onnx_model.c, the only file that sees the generated protobuf-c code), and the
 * static shapes of every tensor with the shape subgraphs folded to constants (onnx_shape.c,
 * onnx_fold.c). The mapping of the IR to libnad layers is not here. Never installed.
 *
 * Who does what:
 *   onnx_model.c  bytes -> IR: protobuf-c decode, tensors converted (float types to float32,
 *                 integer and bool types to int64), external data, checks, topological order.
 *   onnx_shape.c  shape rules of the operators, the folding driver (nadi_onnx_infer_shapes).
 *   onnx_fold.c   evaluation of the operators that fold on constants (Shape, Gather, Concat...).
 *
 * Errors name the file (the model's `name`), the node (its name, else its op and index) and the
 * reason: NAD_ERR_FORMAT for bytes that are not a well-formed model (truncated, not ONNX, raw
 * data of the wrong length, undefined input, duplicate output, cycle, absurd dimensions),
 * NAD_ERR_UNSUPPORTED for a valid model this reader does not take (opset outside 11..17, rank
 * above NADI_ONNX_MAX_DIMS, an element type it cannot convert), NAD_ERR_IO for external data that
 * cannot be read, NAD_ERR_SHAPE when a shape rule finds inputs that do not fit. Unknown
 * operators are not an error here: their outputs get no shape, the mapper names them. */
#ifndef NADI_ONNX_MODEL_H
#define NADI_ONNX_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define NADI_ONNX_MAX_DIMS 8
#define NADI_ONNX_OPSET_MIN 11
#define NADI_ONNX_OPSET_MAX 17
/* Largest element count of one tensor (initializer, folded constant, or inferred shape): 2^40. */
#define NADI_ONNX_MAX_ELEMS ((int64_t)1 << 40)

/* ONNX TensorProto.DataType numbers (element types), as in the file. */
enum {
  NADI_ONNX_UNDEFINED = 0, NADI_ONNX_FLOAT = 1, NADI_ONNX_UINT8 = 2, NADI_ONNX_INT8 = 3,
  NADI_ONNX_UINT16 = 4, NADI_ONNX_INT16 = 5, NADI_ONNX_INT32 = 6, NADI_ONNX_INT64 = 7,
  NADI_ONNX_STRING = 8, NADI_ONNX_BOOL = 9, NADI_ONNX_FLOAT16 = 10, NADI_ONNX_DOUBLE = 11,
  NADI_ONNX_UINT32 = 12, NADI_ONNX_UINT64 = 13
};

/* ONNX AttributeProto.AttributeType numbers. */
enum {
  NADI_ONNX_ATTR_FLOAT = 1, NADI_ONNX_ATTR_INT = 2, NADI_ONNX_ATTR_STRING = 3,
  NADI_ONNX_ATTR_TENSOR = 4, NADI_ONNX_ATTR_GRAPH = 5, NADI_ONNX_ATTR_FLOATS = 6,
  NADI_ONNX_ATTR_INTS = 7, NADI_ONNX_ATTR_STRINGS = 8, NADI_ONNX_ATTR_OTHER = 99
};

/* Where a value comes from. */
enum {
  NADI_ONNX_INPUT = 1,    /* a graph input that is no initializer */
  NADI_ONNX_INIT = 2,     /* an initializer (a parameter when float) */
  NADI_ONNX_NODE_OUT = 3, /* an output of nodes[producer] */
  NADI_ONNX_CONST = 4     /* a Constant node's output or a folded value (its node is gone) */
};

/* Constant content. Float element types (FLOAT, DOUBLE, FLOAT16) are held as float32 in f;
 * integer and bool types as int64 in i; exactly one of f, i is non-NULL. dtype stays the
 * file's type. A scalar has ndim 0 and count 1. */
typedef struct nadi_onnx_tensor {
  int32_t dtype;
  int32_t ndim;
  int64_t dims[NADI_ONNX_MAX_DIMS];
  int64_t count;
  float *f;
  int64_t *i;
} nadi_onnx_tensor;

/* One named tensor of the graph. Shape: ndim -1 when the rank is unknown; dims[k] -1 when that
 * dimension is unknown, sym[k] its dim_param name when the file gave one (symbolic). */
typedef struct nadi_onnx_value {
  const char *name;
  int32_t kind;     /* NADI_ONNX_INPUT, _INIT, _NODE_OUT, _CONST */
  int32_t producer; /* node index for NADI_ONNX_NODE_OUT, else -1 */
  int32_t dtype;    /* element type, NADI_ONNX_UNDEFINED when unknown */
  int32_t ndim;
  int64_t dims[NADI_ONNX_MAX_DIMS];
  const char *sym[NADI_ONNX_MAX_DIMS];
  int32_t is_output; /* a graph output */
  int32_t is_param;  /* float data that comes from an initializer (never folded into a constant) */
  nadi_onnx_tensor *data; /* content of an initializer, Constant or folded value, else NULL */
} nadi_onnx_value;

typedef struct nadi_onnx_attr {
  const char *name;
  int32_t type;       /* NADI_ONNX_ATTR_* (GRAPH, STRINGS and the rest: type only) */
  int64_t i;          /* INT */
  float f;            /* FLOAT */
  const char *s;      /* STRING (NUL-terminated; s_len bytes before the NUL) */
  int64_t s_len;
  int64_t n;          /* element count of INTS / FLOATS */
  const int64_t *ints;
  const float *floats;
  const nadi_onnx_tensor *t; /* TENSOR */
} nadi_onnx_attr;

typedef struct nadi_onnx_node {
  const char *op, *domain, *name; /* domain "" is the default (ai.onnx); name may be "" */
  int32_t n_in, n_out, n_attr;
  int32_t *in;  /* value indices; -1 for an omitted optional input ("") */
  int32_t *out; /* value indices; -1 for an omitted optional output */
  nadi_onnx_attr *attr;
} nadi_onnx_node;

/* A model: nodes in topological order (a node's inputs are graph inputs, initializers,
 * constants or outputs of earlier nodes). */
typedef struct nadi_onnx_model {
  const char *name; /* the file (or the name given to a buffer), for messages */
  int64_t ir_version;
  int64_t opset;    /* of the default domain */
  const char *producer;
  int32_t n_values, n_nodes, n_inputs, n_outputs;
  nadi_onnx_value *values;
  nadi_onnx_node *nodes;
  int32_t *inputs;  /* value indices of the graph inputs that are no initializers, in order */
  int32_t *outputs; /* value indices of the graph outputs, in order */
  int32_t shaped_ndim; /* the input shape nadi_onnx_infer_shapes folded with (0: not yet) */
  int64_t shaped[NADI_ONNX_MAX_DIMS];
  struct nadi_onnx_arena *arena; /* owns every pointer above */
} nadi_onnx_model;

/* Read a model from a file. External data (data_location EXTERNAL) is read from files next to
 * the model (a relative `location` without ".."); a missing one is NAD_ERR_IO naming it. */
nad_status nadi_onnx_read_file(const char *path, nadi_onnx_model **out);
/* The same from bytes in memory (copied as needed: data may go once this returns). `name` is
 * used in messages; external data is looked for in base_dir (NULL: external data is an error). */
nad_status nadi_onnx_read_memory(const uint8_t *data, size_t len, const char *name,
                                 const char *base_dir, nadi_onnx_model **out);
void nadi_onnx_model_free(nadi_onnx_model *m); /* NULL is fine */

/* Value index of `name`, or -1. */
int32_t nadi_onnx_find_value(const nadi_onnx_model *m, const char *name);
/* The attribute `name` of node, or NULL. */
const nadi_onnx_attr *nadi_onnx_attr_find(const nadi_onnx_node *node, const char *name);
/* Typed attribute reads with a default when absent (or of another type). */
int64_t nadi_onnx_attr_int(const nadi_onnx_node *node, const char *name, int64_t def);
float nadi_onnx_attr_float(const nadi_onnx_node *node, const char *name, float def);
const char *nadi_onnx_attr_string(const nadi_onnx_node *node, const char *name, const char *def);
/* "node 'NAME' (OP)" or "node #K (OP)" for messages, in one of 4 rotating static buffers. */
const char *nadi_onnx_node_label(const nadi_onnx_model *m, int32_t k);
/* Name of an element type ("float", "int64", ...; "type N" for others). */
const char *nadi_onnx_dtype_name(int32_t dtype);

/* Static shapes. input_shape gives the shape of graph input 0 (ndim entries; NULL or ndim 0:
 * the file's own shape, which must then be fully known); other graph inputs must have fully
 * known shapes in the file. Every value gets its shape where the operator's rule is known (the
 * list is in onnx_shape.c); values computed only from constants, integer shapes and Shape of
 * known shapes are evaluated and become NADI_ONNX_CONST values; the nodes that made them are
 * removed from m->nodes (node indices change; producers are renumbered). Float parameters are
 * never folded. Folding bakes the input shape in: calling it again with the same shape changes
 * nothing, with another one is NAD_ERR_MISUSE (read the model again). NAD_ERR_SHAPE (naming
 * the node) when inputs do not fit an operator, NAD_ERR_FORMAT for invalid attributes; after
 * a failure the model is only fit for nadi_onnx_model_free. */
nad_status nadi_onnx_infer_shapes(nadi_onnx_model *m, const int64_t *input_shape, int32_t ndim);

/* ---- shared by onnx_shape.c and onnx_fold.c ---------------------------------------------- */

/* A new tensor (arena memory, zeroed data: f for float types, i otherwise) of that shape;
 * NULL when out of memory or the count exceeds NADI_ONNX_MAX_ELEMS. */
nadi_onnx_tensor *nadi_onnx_tensor_new(nadi_onnx_model *m, int32_t dtype, int32_t ndim,
                                       const int64_t *dims);
/* 1 for float element types (held in f). */
int nadi_onnx_dtype_is_float(int32_t dtype);
/* Element k of a tensor as int64 (floats truncated) / as double. */
int64_t nadi_onnx_get_i(const nadi_onnx_tensor *t, int64_t k);
double nadi_onnx_get_d(const nadi_onnx_tensor *t, int64_t k);
/* Arena memory of the model (zeroed), NULL on failure. */
void *nadi_onnx_arena_alloc(nadi_onnx_model *m, size_t n, size_t size);

/* Numpy broadcast of two shapes into out (*nout dims): 1, or 0 when they do not broadcast. */
int nadi_onnx_broadcast(int32_t na, const int64_t *a, int32_t nb, const int64_t *b, int32_t *nout,
                        int64_t *out);
/* Slice of node k (Slice) over data value `data` of known shape: first index, step and length
 * per dimension (an axis not sliced: 0, 1, dim). NAD_ERR_UNSUPPORTED when starts/ends/axes/
 * steps are not constants; errors (with message) for invalid ones. */
nad_status nadi_onnx_slice_plan(const nadi_onnx_model *m, int32_t k, int64_t *start,
                                int64_t *step, int64_t *len);
/* Largest tensor the folder makes (elements): a bigger one stays a node. */
#define NADI_ONNX_FOLD_MAX ((int64_t)1 << 22)

/* Evaluate node k of m on constant inputs (every non-omitted input has data; Shape and Size
 * need only a known input shape) into new tensors outs[0..n_out), whose shapes are those the
 * shape rules gave the output values. Returns NAD_OK; NAD_ERR_UNSUPPORTED when the operator
 * does not fold (not an error: the caller leaves it); other statuses are errors with their
 * message. */
nad_status nadi_onnx_fold_node(nadi_onnx_model *m, int32_t k, nadi_onnx_tensor **outs);

#endif
