/* Crafting small ONNX models in C with the protobuf-c code generated from onnx.proto (for the
 * error-path tests and the fuzz seeds). Every message comes from craft_alloc, which records it;
 * craft_free_all releases them all. Not thread-safe; test code only. */
#ifndef NADT_ONNX_CRAFT_H
#define NADT_ONNX_CRAFT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx.pb-c.h"

static void *craft_ptrs[4096];
static int craft_n;

static inline void *craft_alloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p || craft_n == 4096)
    abort();
  craft_ptrs[craft_n++] = p;
  return p;
}

static inline void craft_free_all(void) {
  while (craft_n > 0)
    free(craft_ptrs[--craft_n]);
}

static inline char *craft_str(const char *s) {
  char *d = craft_alloc(strlen(s) + 1);
  strcpy(d, s);
  return d;
}

/* A tensor value info: elem type, ndim dims (a negative dim: symbolic "N"). */
static inline Onnx__ValueInfoProto *craft_vi(const char *name, int32_t elem, int ndim,
                                             const int64_t *dims) {
  Onnx__ValueInfoProto *vi = craft_alloc(sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = craft_str(name);
  Onnx__TypeProto *tp = craft_alloc(sizeof *tp);
  onnx__type_proto__init(tp);
  Onnx__TypeProto__Tensor *tt = craft_alloc(sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  Onnx__TensorShapeProto *sh = craft_alloc(sizeof *sh);
  onnx__tensor_shape_proto__init(sh);
  sh->n_dim = (size_t)ndim;
  sh->dim = craft_alloc(sizeof(void *) * (size_t)ndim);
  for (int k = 0; k < ndim; k++) {
    Onnx__TensorShapeProto__Dimension *d = craft_alloc(sizeof *d);
    onnx__tensor_shape_proto__dimension__init(d);
    if (dims[k] < 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = craft_str("N");
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[k];
    }
    sh->dim[k] = d;
  }
  tt->has_elem_type = 1;
  tt->elem_type = elem;
  tt->shape = sh;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  return vi;
}

/* A float tensor with raw_data (count floats from data, or zeros when data is NULL). */
static inline Onnx__TensorProto *craft_float_tensor(const char *name, int ndim, const int64_t *dims,
                                                    const float *data) {
  Onnx__TensorProto *t = craft_alloc(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = craft_str(name);
  t->n_dims = (size_t)ndim;
  t->dims = craft_alloc(sizeof(int64_t) * (size_t)ndim);
  size_t count = 1;
  for (int k = 0; k < ndim; k++) {
    t->dims[k] = dims[k];
    count *= dims[k] > 0 && dims[k] < (1 << 20) ? (size_t)dims[k] : 1;
  }
  t->has_data_type = 1;
  t->data_type = 1; /* FLOAT */
  t->has_raw_data = 1;
  t->raw_data.len = count * sizeof(float);
  t->raw_data.data = craft_alloc(t->raw_data.len);
  if (data)
    memcpy(t->raw_data.data, data, t->raw_data.len);
  return t;
}

/* An int64 tensor in int64_data (typed field). */
static inline Onnx__TensorProto *craft_int_tensor(const char *name, int ndim, const int64_t *dims,
                                                  const int64_t *data, size_t count) {
  Onnx__TensorProto *t = craft_alloc(sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = craft_str(name);
  t->n_dims = (size_t)ndim;
  t->dims = craft_alloc(sizeof(int64_t) * (size_t)(ndim ? ndim : 1));
  if (ndim > 0)
    memcpy(t->dims, dims, sizeof(int64_t) * (size_t)ndim);
  t->has_data_type = 1;
  t->data_type = 7; /* INT64 */
  t->n_int64_data = count;
  t->int64_data = craft_alloc(sizeof(int64_t) * (count ? count : 1));
  memcpy(t->int64_data, data, sizeof(int64_t) * count);
  return t;
}

static inline Onnx__AttributeProto *craft_attr_int(const char *name, int64_t v) {
  Onnx__AttributeProto *a = craft_alloc(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = craft_str(name);
  a->has_type = 1;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  a->has_i = 1;
  a->i = v;
  return a;
}

static inline Onnx__AttributeProto *craft_attr_ints(const char *name, const int64_t *v, size_t n) {
  Onnx__AttributeProto *a = craft_alloc(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = craft_str(name);
  a->has_type = 1;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  a->n_ints = n;
  a->ints = craft_alloc(sizeof(int64_t) * (n ? n : 1));
  memcpy(a->ints, v, sizeof(int64_t) * n);
  return a;
}

static inline Onnx__AttributeProto *craft_attr_tensor(const char *name, Onnx__TensorProto *t) {
  Onnx__AttributeProto *a = craft_alloc(sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = craft_str(name);
  a->has_type = 1;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  a->t = t;
  return a;
}

/* A node: inputs and outputs as NULL-terminated lists of names, attributes likewise. */
static inline Onnx__NodeProto *craft_node(const char *op, const char *name, const char **in,
                                          const char **out, Onnx__AttributeProto **attrs) {
  Onnx__NodeProto *n = craft_alloc(sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = craft_str(op);
  n->name = craft_str(name);
  while (in && in[n->n_input])
    n->n_input++;
  while (out && out[n->n_output])
    n->n_output++;
  while (attrs && attrs[n->n_attribute])
    n->n_attribute++;
  n->input = craft_alloc(sizeof(char *) * (n->n_input + 1));
  n->output = craft_alloc(sizeof(char *) * (n->n_output + 1));
  for (size_t k = 0; k < n->n_input; k++)
    n->input[k] = craft_str(in[k]);
  for (size_t k = 0; k < n->n_output; k++)
    n->output[k] = craft_str(out[k]);
  n->attribute = attrs;
  return n;
}

/* A model of opset `opset` around a graph; the caller fills the graph's lists. */
static inline Onnx__ModelProto *craft_model(int64_t opset, Onnx__GraphProto **graph) {
  Onnx__ModelProto *m = craft_alloc(sizeof *m);
  onnx__model_proto__init(m);
  m->has_ir_version = 1;
  m->ir_version = 8;
  m->producer_name = craft_str("libnad-test");
  Onnx__OperatorSetIdProto *o = craft_alloc(sizeof *o);
  onnx__operator_set_id_proto__init(o);
  o->domain = craft_str("");
  o->has_version = 1;
  o->version = opset;
  m->n_opset_import = 1;
  m->opset_import = craft_alloc(sizeof(void *));
  m->opset_import[0] = o;
  Onnx__GraphProto *g = craft_alloc(sizeof *g);
  onnx__graph_proto__init(g);
  g->name = craft_str("g");
  m->graph = g;
  *graph = g;
  return m;
}

/* Lists for a graph (NULL-terminated arrays of pointers, counted). */
#define CRAFT_LIST(field, ...)                                                                     \
  do {                                                                                             \
    void *items_[] = {__VA_ARGS__};                                                                \
    g->n_##field = sizeof items_ / sizeof items_[0];                                               \
    g->field = craft_alloc(sizeof items_);                                                         \
    memcpy(g->field, items_, sizeof items_);                                                       \
  } while (0)

/* The packed bytes of a model (craft_alloc'ed), their count in *len. */
static inline uint8_t *craft_pack(const Onnx__ModelProto *m, size_t *len) {
  *len = onnx__model_proto__get_packed_size(m);
  uint8_t *b = craft_alloc(*len);
  onnx__model_proto__pack(m, b);
  return b;
}

/* x[1,3,8,8] -> Conv(w[4,3,3,3], b[4], pads 1) -> Relu -> y[1,4,8,8]: a valid small model. */
static inline Onnx__ModelProto *craft_conv_relu(int64_t opset) {
  Onnx__GraphProto *g;
  Onnx__ModelProto *m = craft_model(opset, &g);
  static const int64_t xd[] = {1, 3, 8, 8}, wd[] = {4, 3, 3, 3}, bd[] = {4}, pads[] = {1, 1, 1, 1};
  float w[108], b[4] = {0.5f, -0.5f, 1.0f, 2.0f};
  for (int k = 0; k < 108; k++)
    w[k] = (float)(k % 7) - 3.0f;
  CRAFT_LIST(input, craft_vi("x", 1, 4, xd));
  CRAFT_LIST(initializer, craft_float_tensor("w", 4, wd, w), craft_float_tensor("b", 1, bd, b));
  Onnx__AttributeProto **attrs = craft_alloc(2 * sizeof(void *));
  attrs[0] = craft_attr_ints("pads", pads, 4);
  CRAFT_LIST(
      node,
      craft_node("Conv", "conv", (const char *[]){"x", "w", "b", NULL}, (const char *[]){"c", NULL},
                 attrs),
      craft_node("Relu", "relu", (const char *[]){"c", NULL}, (const char *[]){"y", NULL}, NULL));
  CRAFT_LIST(output, craft_vi("y", 1, 0, NULL));
  return m;
}

static inline Onnx__NodeProto *craft_const_node(const char *out, int ndim, const int64_t *dims,
                                                const int64_t *data, size_t n) {
  Onnx__AttributeProto **a = craft_alloc(2 * sizeof(void *));
  a[0] = craft_attr_tensor("value", craft_int_tensor("", ndim, dims, data, n));
  return craft_node("Constant", out, NULL, (const char *[]){out, NULL}, a);
}

/* torch.onnx.export's shape idioms on x[2,3,4,5]:
 *   y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0), [0]), [-1]))          -> [2, 60]
 *   e = Expand(tok[1,1,4], Where(Equal(tgt, -ones), ones, tgt)), tgt = [2,-1,-1] -> [2, 1, 4]
 *   sl = Slice(Shape(x), [1], [INT64_MAX]) = [3, 4, 5];  r = Range(0, 5, 2) = [0, 2, 4] */
static inline Onnx__ModelProto *craft_fold_model(void) {
  Onnx__GraphProto *g;
  Onnx__ModelProto *pm = craft_model(17, &g);
  static const int64_t xd[] = {2, 3, 4, 5}, one[] = {1}, three[] = {3}, tokd[] = {1, 1, 4};
  static const int64_t zero[] = {0}, m1[] = {-1}, tgt[] = {2, -1, -1}, big[] = {INT64_MAX};
  static const int64_t five[] = {5}, two[] = {2};
  CRAFT_LIST(input, craft_vi("x", 1, 4, xd));
  CRAFT_LIST(initializer, craft_int_tensor("ax0", 1, one, zero, 1),
             craft_float_tensor("tok", 3, tokd, (const float[]){1, 2, 3, 4}),
             craft_int_tensor("r0", 0, NULL, zero, 1), craft_int_tensor("r1", 0, NULL, five, 1),
             craft_int_tensor("r2", 0, NULL, two, 1));
  Onnx__AttributeProto **cat = craft_alloc(2 * sizeof(void *)),
                       **cos = craft_alloc(2 * sizeof(void *));
  cat[0] = craft_attr_int("axis", 0);
  cos[0] = craft_attr_tensor("value", craft_int_tensor("", 1, one, one, 1));
  CRAFT_LIST(
      node,
      craft_node("Shape", "shape", (const char *[]){"x", NULL}, (const char *[]){"s", NULL}, NULL),
      craft_const_node("i0", 0, NULL, zero, 1), craft_const_node("c", 1, one, m1, 1),
      craft_node("Gather", "gather", (const char *[]){"s", "i0", NULL}, (const char *[]){"n", NULL},
                 NULL),
      craft_node("Unsqueeze", "unsq", (const char *[]){"n", "ax0", NULL},
                 (const char *[]){"n1", NULL}, NULL),
      craft_node("Concat", "cat", (const char *[]){"n1", "c", NULL}, (const char *[]){"shp", NULL},
                 cat),
      craft_node("Reshape", "reshape", (const char *[]){"x", "shp", NULL},
                 (const char *[]){"y", NULL}, NULL),
      craft_const_node("three", 1, one, three, 1), craft_const_node("tgt", 1, three, tgt, 3),
      craft_const_node("m1", 0, NULL, m1, 1),
      craft_node("ConstantOfShape", "cos", (const char *[]){"three", NULL},
                 (const char *[]){"ones", NULL}, cos),
      craft_node("Mul", "mul", (const char *[]){"ones", "m1", NULL}, (const char *[]){"neg", NULL},
                 NULL),
      craft_node("Equal", "eq", (const char *[]){"tgt", "neg", NULL}, (const char *[]){"eq", NULL},
                 NULL),
      craft_node("Where", "where", (const char *[]){"eq", "ones", "tgt", NULL},
                 (const char *[]){"shape2", NULL}, NULL),
      craft_node("Expand", "expand", (const char *[]){"tok", "shape2", NULL},
                 (const char *[]){"e", NULL}, NULL),
      craft_const_node("st", 1, one, one, 1), craft_const_node("en", 1, one, big, 1),
      craft_node("Slice", "slice", (const char *[]){"s", "st", "en", NULL},
                 (const char *[]){"sl", NULL}, NULL),
      craft_node("Range", "range", (const char *[]){"r0", "r1", "r2", NULL},
                 (const char *[]){"r", NULL}, NULL));
  CRAFT_LIST(output, craft_vi("y", 1, 0, NULL), craft_vi("e", 1, 0, NULL));
  return pm;
}

/* Swin's and MaxViT's idioms on x[1,2,3,3]:
 *   mask = ScatterND(ConstantOfShape([1,2,3,3]), [[0,1,2,2],[0,0,0,1],[0,1,2,2]], [5,-2,7])
 *        -> zeros but mask[0,1,2,2] = 7 (the later tuple wins), mask[0,0,0,1] = -2
 *   att = Einsum("bhid,bhjd->bhij", x, x) -> [1,2,3,3];  y = att + mask */
static inline Onnx__ModelProto *craft_scatter_einsum_model(void) {
  Onnx__GraphProto *g;
  Onnx__ModelProto *pm = craft_model(17, &g);
  static const int64_t xd[] = {1, 2, 3, 3}, four[] = {4}, idd[] = {3, 4}, three[] = {3};
  static const int64_t idx[] = {0, 1, 2, 2, 0, 0, 0, 1, 0, 1, 2, 2};
  CRAFT_LIST(input, craft_vi("x", 1, 4, xd));
  Onnx__AttributeProto **upd = craft_alloc(2 * sizeof(void *)),
                       **eq = craft_alloc(2 * sizeof(void *));
  upd[0] = craft_attr_tensor("value", craft_float_tensor("", 1, three, (const float[]){5, -2, 7}));
  eq[0] = craft_alloc(sizeof *eq[0]);
  onnx__attribute_proto__init(eq[0]);
  eq[0]->name = craft_str("equation");
  eq[0]->has_type = 1;
  eq[0]->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  eq[0]->has_s = 1;
  eq[0]->s.data = (uint8_t *)craft_str("bhid,bhjd->bhij");
  eq[0]->s.len = strlen("bhid,bhjd->bhij");
  CRAFT_LIST(
      node, craft_const_node("shape", 1, four, xd, 4), craft_const_node("idx", 2, idd, idx, 12),
      craft_node("Constant", "upd", NULL, (const char *[]){"upd", NULL}, upd),
      craft_node("ConstantOfShape", "zeros", (const char *[]){"shape", NULL},
                 (const char *[]){"zeros", NULL}, NULL),
      craft_node("ScatterND", "scatter", (const char *[]){"zeros", "idx", "upd", NULL},
                 (const char *[]){"mask", NULL}, NULL),
      craft_node("Einsum", "einsum", (const char *[]){"x", "x", NULL},
                 (const char *[]){"att", NULL}, eq),
      craft_node("Add", "add", (const char *[]){"att", "mask", NULL}, (const char *[]){"y", NULL},
                 NULL));
  CRAFT_LIST(output, craft_vi("y", 1, 0, NULL));
  return pm;
}

#endif
