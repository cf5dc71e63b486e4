/* Evaluation of ONNX operators on constant inputs (nadi_onnx_fold_node), for the shape
 * subgraphs that torch.onnx.export writes: Constant, Shape, Size, Gather, Concat, Unsqueeze,
 * Squeeze, Reshape, Flatten, Identity, Slice, ConstantOfShape, Expand, Where, Equal and the
 * other comparisons, Cast, Add/Sub/Mul/Div/Mod/Pow/Max/Min, Neg/Abs/Sqrt/Floor/Ceil/
 * Reciprocal/Not/Relu/Sign, Range, Transpose, ScatterND (Swin's attention mask). The output shapes are already known (onnx_shape.c
 * computed them); this file fills in the numbers. Integers are exact (an overflow, a division
 * by zero: the node is left unfolded, NAD_ERR_UNSUPPORTED); floats are computed in double and
 * stored as float32. */
#include <math.h>
#include <string.h>

#include "onnx/onnx_model.h"

typedef struct fctx {
  nadi_onnx_model *m;
  int32_t k;
  const nadi_onnx_node *n;
} fctx;

static const nadi_onnx_tensor *arg(const fctx *c, int32_t i) {
  return i < c->n->n_in && c->n->in[i] >= 0 ? c->m->values[c->n->in[i]].data : NULL;
}

static const nadi_onnx_value *arg_value(const fctx *c, int32_t i) {
  return i < c->n->n_in && c->n->in[i] >= 0 ? &c->m->values[c->n->in[i]] : NULL;
}

static nad_status oom(const fctx *c) {
  return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory folding %s", c->m->name,
                   nadi_onnx_node_label(c->m, c->k));
}

/* A new tensor for output o with the shape its value was given and element type dtype. */
static nad_status new_out(const fctx *c, int32_t o, int32_t dtype, nadi_onnx_tensor **out) {
  const nadi_onnx_value *v = &c->m->values[c->n->out[o]];
  *out = nadi_onnx_tensor_new(c->m, dtype, v->ndim, v->dims);
  return *out ? NAD_OK : oom(c);
}

static void put(nadi_onnx_tensor *t, int64_t k, const nadi_onnx_tensor *s, int64_t j) {
  if (t->f)
    t->f[k] = s->f ? s->f[j] : (float)s->i[j];
  else
    t->i[k] = nadi_onnx_get_i(s, j);
}

/* Offset in t of element k of an output of shape dims[0..n) that t broadcasts to. */
static int64_t bcast_at(const nadi_onnx_tensor *t, int32_t n, const int64_t *dims, int64_t k) {
  int64_t off = 0, stride = 1;
  for (int32_t d = n - 1, j = t->ndim - 1; d >= 0; d--, j--) {
    int64_t idx = k % dims[d];
    k /= dims[d];
    if (j >= 0) {
      if (t->dims[j] != 1)
        off += idx * stride;
      stride *= t->dims[j];
    }
  }
  return off;
}

/* ---- sources ----------------------------------------------------------------------------- */

static nad_status ev_constant(const fctx *c, nadi_onnx_tensor **outs) {
  if (c->n->n_attr != 1)
    return NAD_ERR_UNSUPPORTED;
  const nadi_onnx_attr *a = &c->n->attr[0];
  int64_t n = a->n;
  if (!strcmp(a->name, "value") && a->type == NADI_ONNX_ATTR_TENSOR) {
    outs[0] = (nadi_onnx_tensor *)a->t; /* arena memory of the same model */
    return NAD_OK;
  }
  int is_float = !strcmp(a->name, "value_float") || !strcmp(a->name, "value_floats");
  int is_list = !strcmp(a->name, "value_floats") || !strcmp(a->name, "value_ints");
  if (!is_float && strcmp(a->name, "value_int") && strcmp(a->name, "value_ints"))
    return NAD_ERR_UNSUPPORTED;
  outs[0] = nadi_onnx_tensor_new(c->m, is_float ? NADI_ONNX_FLOAT : NADI_ONNX_INT64, is_list,
                                 &n);
  if (!outs[0])
    return oom(c);
  for (int64_t k = 0; k < outs[0]->count; k++)
    if (is_float)
      outs[0]->f[k] = is_list ? a->floats[k] : a->f;
    else
      outs[0]->i[k] = is_list ? a->ints[k] : a->i;
  return NAD_OK;
}

static nad_status ev_shape(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_value *x = arg_value(c, 0);
  NADI_TRY(new_out(c, 0, NADI_ONNX_INT64, &outs[0]));
  int64_t s = nadi_onnx_attr_int(c->n, "start", 0), r = x->ndim;
  s = s < 0 ? (s < -r ? 0 : s + r) : (s > r ? r : s);
  for (int64_t k = 0; k < outs[0]->count; k++)
    outs[0]->i[k] = x->dims[s + k];
  return NAD_OK;
}

static nad_status ev_size(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_value *x = arg_value(c, 0);
  NADI_TRY(new_out(c, 0, NADI_ONNX_INT64, &outs[0]));
  return nadi_prod_ok(x->dims, x->ndim, &outs[0]->i[0]) ? NAD_OK : NAD_ERR_UNSUPPORTED;
}

static nad_status ev_constant_of_shape(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_attr *a = nadi_onnx_attr_find(c->n, "value");
  const nadi_onnx_tensor *v = a && a->type == NADI_ONNX_ATTR_TENSOR ? a->t : NULL;
  if (v && v->count != 1)
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s: the value has %lld elements, not 1", c->m->name,
                     nadi_onnx_node_label(c->m, c->k), (long long)v->count);
  NADI_TRY(new_out(c, 0, v ? v->dtype : NADI_ONNX_FLOAT, &outs[0]));
  for (int64_t k = 0; v && k < outs[0]->count; k++)
    put(outs[0], k, v, 0);
  return NAD_OK;
}

static nad_status ev_range(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *s = arg(c, 0), *d = arg(c, 2);
  NADI_TRY(new_out(c, 0, s->dtype, &outs[0]));
  for (int64_t k = 0; k < outs[0]->count; k++)
    if (outs[0]->f)
      outs[0]->f[k] = (float)(nadi_onnx_get_d(s, 0) + (double)k * nadi_onnx_get_d(d, 0));
    else if (__builtin_mul_overflow(k, nadi_onnx_get_i(d, 0), &outs[0]->i[k]) ||
             __builtin_add_overflow(outs[0]->i[k], s->i[0], &outs[0]->i[k]))
      return NAD_ERR_UNSUPPORTED;
  return NAD_OK;
}

/* ---- data movement ----------------------------------------------------------------------- */

/* Identity, Dropout, Reshape, Flatten, Squeeze, Unsqueeze: the same elements in the same order. */
static nad_status ev_copy(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *x = arg(c, 0);
  if (c->n->n_out != 1)
    return NAD_ERR_UNSUPPORTED;
  NADI_TRY(new_out(c, 0, x->dtype, &outs[0]));
  if (outs[0]->count != x->count)
    return NAD_ERR_UNSUPPORTED;
  for (int64_t k = 0; k < x->count; k++)
    put(outs[0], k, x, k);
  return NAD_OK;
}

static nad_status ev_cast(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *x = arg(c, 0);
  int32_t to = (int32_t)nadi_onnx_attr_int(c->n, "to", NADI_ONNX_FLOAT);
  if (to == NADI_ONNX_STRING || to == NADI_ONNX_UNDEFINED || to > NADI_ONNX_UINT64)
    return NAD_ERR_UNSUPPORTED;
  NADI_TRY(new_out(c, 0, to, &outs[0]));
  for (int64_t k = 0; k < x->count; k++)
    if (to == NADI_ONNX_BOOL)
      outs[0]->i[k] = nadi_onnx_get_d(x, k) != 0;
    else
      put(outs[0], k, x, k);
  return NAD_OK;
}

static nad_status ev_expand(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *x = arg(c, 0);
  NADI_TRY(new_out(c, 0, x->dtype, &outs[0]));
  for (int64_t k = 0; k < outs[0]->count; k++)
    put(outs[0], k, x, bcast_at(x, outs[0]->ndim, outs[0]->dims, k));
  return NAD_OK;
}

static nad_status ev_gather(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *x = arg(c, 0), *idx = arg(c, 1);
  int64_t axis = nadi_onnx_attr_int(c->n, "axis", 0);
  axis = axis < 0 ? axis + x->ndim : axis;
  int64_t outer = 1, inner = 1, dim = x->dims[axis];
  for (int32_t d = 0; d < x->ndim; d++)
    if (d < axis)
      outer *= x->dims[d];
    else if (d > axis)
      inner *= x->dims[d];
  NADI_TRY(new_out(c, 0, x->dtype, &outs[0]));
  int64_t k = 0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < idx->count; j++) {
      int64_t i = nadi_onnx_get_i(idx, j);
      i = i < 0 ? i + dim : i;
      if (i < 0 || i >= dim)
        return nadi_fail(NAD_ERR_FORMAT, "%s: %s: index %lld is out of range for dimension %lld",
                         c->m->name, nadi_onnx_node_label(c->m, c->k),
                         (long long)nadi_onnx_get_i(idx, j), (long long)dim);
      for (int64_t r = 0; r < inner; r++)
        put(outs[0], k++, x, (o * dim + i) * inner + r);
    }
  return NAD_OK;
}

/* ScatterND without reduction: the data with the slices the index tuples name replaced by the
 * updates, in order (a later tuple naming the same slice wins, as onnxruntime). */
static nad_status ev_scatternd(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *x = arg(c, 0), *idx = arg(c, 1), *u = arg(c, 2);
  const char *red = nadi_onnx_attr_string(c->n, "reduction", "none");
  if (strcmp(red, "none") != 0 || !idx->i || idx->ndim < 1)
    return NAD_ERR_UNSUPPORTED;
  int64_t k = idx->dims[idx->ndim - 1];
  if (k < 1 || k > x->ndim)
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s: index tuples of %lld for data of rank %d",
                     c->m->name, nadi_onnx_node_label(c->m, c->k), (long long)k, (int)x->ndim);
  int64_t tuples = idx->count / k, stride[NADI_ONNX_MAX_DIMS], s = 1;
  for (int32_t d = x->ndim - 1; d >= 0; d--) /* elements after one step along d */
    stride[d] = s, s *= x->dims[d];
  int64_t slice = stride[k - 1]; /* the elements one index tuple names */
  if (u->count != tuples * slice)
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s: %lld updates for %lld slices of %lld", c->m->name,
                     nadi_onnx_node_label(c->m, c->k), (long long)u->count, (long long)tuples,
                     (long long)slice);
  NADI_TRY(new_out(c, 0, x->dtype, &outs[0]));
  for (int64_t j = 0; j < x->count; j++)
    put(outs[0], j, x, j);
  for (int64_t t = 0; t < tuples; t++) {
    int64_t off = 0;
    for (int64_t d = 0; d < k; d++) {
      int64_t i = idx->i[t * k + d], n = x->dims[d];
      i = i < 0 ? i + n : i;
      if (i < 0 || i >= n)
        return nadi_fail(NAD_ERR_FORMAT, "%s: %s: index %lld is out of range for dimension %lld",
                         c->m->name, nadi_onnx_node_label(c->m, c->k),
                         (long long)idx->i[t * k + d], (long long)n);
      off += i * stride[d];
    }
    for (int64_t j = 0; j < slice; j++)
      put(outs[0], off + j, u, t * slice + j);
  }
  return NAD_OK;
}

static nad_status ev_concat(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *x0 = arg(c, 0);
  int64_t axis = nadi_onnx_attr_int(c->n, "axis", 0);
  axis = axis < 0 ? axis + x0->ndim : axis;
  NADI_TRY(new_out(c, 0, x0->dtype, &outs[0]));
  int64_t outer = 1, k = 0;
  for (int32_t d = 0; d < axis; d++)
    outer *= x0->dims[d];
  for (int64_t o = 0; o < outer; o++)
    for (int32_t i = 0; i < c->n->n_in; i++) {
      const nadi_onnx_tensor *x = arg(c, i);
      int64_t block = outer ? x->count / outer : 0;
      for (int64_t j = 0; j < block; j++)
        put(outs[0], k++, x, o * block + j);
    }
  return NAD_OK;
}

static nad_status ev_slice(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *x = arg(c, 0);
  int64_t start[NADI_ONNX_MAX_DIMS], step[NADI_ONNX_MAX_DIMS], len[NADI_ONNX_MAX_DIMS];
  NADI_TRY(nadi_onnx_slice_plan(c->m, c->k, start, step, len));
  NADI_TRY(new_out(c, 0, x->dtype, &outs[0]));
  for (int64_t k = 0; k < outs[0]->count; k++) {
    int64_t rest = k, off = 0, stride = 1;
    for (int32_t d = x->ndim - 1; d >= 0; d--) {
      off += (start[d] + (rest % len[d]) * step[d]) * stride;
      rest /= len[d];
      stride *= x->dims[d];
    }
    put(outs[0], k, x, off);
  }
  return NAD_OK;
}

static nad_status ev_transpose(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *x = arg(c, 0);
  int64_t perm[NADI_ONNX_MAX_DIMS], stride[NADI_ONNX_MAX_DIMS];
  const nadi_onnx_attr *a = nadi_onnx_attr_find(c->n, "perm");
  for (int32_t d = 0; d < x->ndim; d++)
    perm[d] = a && a->type == NADI_ONNX_ATTR_INTS ? a->ints[d] : x->ndim - 1 - d;
  int64_t s = 1;
  for (int32_t d = x->ndim - 1; d >= 0; d--) {
    stride[d] = s;
    s *= x->dims[d];
  }
  NADI_TRY(new_out(c, 0, x->dtype, &outs[0]));
  for (int64_t k = 0; k < outs[0]->count; k++) {
    int64_t rest = k, off = 0;
    for (int32_t d = x->ndim - 1; d >= 0; d--) {
      off += (rest % outs[0]->dims[d]) * stride[perm[d]];
      rest /= outs[0]->dims[d];
    }
    put(outs[0], k, x, off);
  }
  return NAD_OK;
}

/* ---- arithmetic -------------------------------------------------------------------------- */

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_POW, OP_MAX, OP_MIN, OP_EQ, OP_LT, OP_GT,
       OP_LE, OP_GE, OP_AND, OP_OR, OP_XOR, OP_NONE };

static int binary_op(const char *op) {
  static const char *names[] = {"Add", "Sub", "Mul", "Div", "Mod", "Pow", "Max", "Min", "Equal",
                                "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or",
                                "Xor"};
  for (int k = 0; k < OP_NONE; k++)
    if (!strcmp(op, names[k]))
      return k;
  return OP_NONE;
}

/* Integer a OP b into *r: 0 on overflow, division by zero or a negative power. */
static int int_op(int op, int64_t a, int64_t b, int fmod_mode, int64_t *r) {
  switch (op) {
  case OP_ADD: return !__builtin_add_overflow(a, b, r);
  case OP_SUB: return !__builtin_sub_overflow(a, b, r);
  case OP_MUL: return !__builtin_mul_overflow(a, b, r);
  case OP_DIV:
    if (b == 0 || (a == INT64_MIN && b == -1))
      return 0;
    *r = a / b; /* truncation, as onnxruntime; shape arithmetic is non-negative anyway */
    return 1;
  case OP_MOD:
    if (b == 0 || (a == INT64_MIN && b == -1))
      return 0;
    *r = a % b;
    if (!fmod_mode && *r != 0 && ((*r < 0) != (b < 0))) /* the divisor's sign, as Python */
      *r += b;
    return 1;
  case OP_POW:
    if (b < 0)
      return 0;
    *r = 1;
    for (int64_t k = 0; k < b; k++)
      if (__builtin_mul_overflow(*r, a, r) || k > 64)
        return 0;
    return 1;
  case OP_MAX: *r = a > b ? a : b; return 1;
  case OP_MIN: *r = a < b ? a : b; return 1;
  case OP_EQ: *r = a == b; return 1;
  case OP_LT: *r = a < b; return 1;
  case OP_GT: *r = a > b; return 1;
  case OP_LE: *r = a <= b; return 1;
  case OP_GE: *r = a >= b; return 1;
  case OP_AND: *r = a && b; return 1;
  case OP_OR: *r = a || b; return 1;
  default: *r = !a != !b; return 1; /* XOR */
  }
}

static double float_op(int op, double a, double b, int fmod_mode) {
  switch (op) {
  case OP_ADD: return a + b;
  case OP_SUB: return a - b;
  case OP_MUL: return a * b;
  case OP_DIV: return a / b;
  case OP_MOD: return fmod_mode ? fmod(a, b) : a - b * floor(a / b);
  case OP_POW: return pow(a, b);
  case OP_MAX: return a > b ? a : b;
  case OP_MIN: return a < b ? a : b;
  case OP_EQ: return a == b;
  case OP_LT: return a < b;
  case OP_GT: return a > b;
  case OP_LE: return a <= b;
  case OP_GE: return a >= b;
  case OP_AND: return a != 0 && b != 0;
  case OP_OR: return a != 0 || b != 0;
  default: return (a != 0) != (b != 0);
  }
}

static nad_status ev_binary(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *a = arg(c, 0), *b = arg(c, 1);
  int op = binary_op(c->n->op);
  if (c->n->n_in != 2 || !a || !b)
    return NAD_ERR_UNSUPPORTED;
  int cmp = op >= OP_EQ, fm = nadi_onnx_attr_int(c->n, "fmod", 0) != 0;
  NADI_TRY(new_out(c, 0, cmp ? NADI_ONNX_BOOL : a->dtype, &outs[0]));
  nadi_onnx_tensor *y = outs[0];
  int ints = a->i && b->i;
  for (int64_t k = 0; k < y->count; k++) {
    int64_t ja = bcast_at(a, y->ndim, y->dims, k), jb = bcast_at(b, y->ndim, y->dims, k), r;
    if (ints && !int_op(op, a->i[ja], b->i[jb], fm, &r))
      return NAD_ERR_UNSUPPORTED;
    double v = ints ? (double)r : float_op(op, nadi_onnx_get_d(a, ja), nadi_onnx_get_d(b, jb), fm);
    if (y->f)
      y->f[k] = (float)v;
    else if (ints)
      y->i[k] = r;
    else if (!(v > -9.2e18 && v < 9.2e18)) /* NaN or out of int64 */
      return NAD_ERR_UNSUPPORTED;
    else
      y->i[k] = (int64_t)v;
  }
  return NAD_OK;
}

static nad_status ev_where(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *cond = arg(c, 0), *x = arg(c, 1), *y = arg(c, 2);
  NADI_TRY(new_out(c, 0, x->dtype, &outs[0]));
  nadi_onnx_tensor *o = outs[0];
  for (int64_t k = 0; k < o->count; k++) {
    int take_x = nadi_onnx_get_d(cond, bcast_at(cond, o->ndim, o->dims, k)) != 0;
    const nadi_onnx_tensor *s = take_x ? x : y;
    put(o, k, s, bcast_at(s, o->ndim, o->dims, k));
  }
  return NAD_OK;
}

static nad_status ev_unary(const fctx *c, nadi_onnx_tensor **outs) {
  const nadi_onnx_tensor *x = arg(c, 0);
  const char *op = c->n->op;
  NADI_TRY(new_out(c, 0, x->dtype, &outs[0]));
  for (int64_t k = 0; k < x->count; k++) {
    double v = nadi_onnx_get_d(x, k);
    if (x->i) { /* exact integer versions */
      int64_t a = x->i[k];
      if (a == INT64_MIN && (!strcmp(op, "Neg") || !strcmp(op, "Abs")))
        return NAD_ERR_UNSUPPORTED;
      outs[0]->i[k] = !strcmp(op, "Neg") ? -a : !strcmp(op, "Abs") ? (a < 0 ? -a : a)
                      : !strcmp(op, "Not") ? !a : !strcmp(op, "Relu") ? (a > 0 ? a : 0)
                      : !strcmp(op, "Sign") ? (a > 0) - (a < 0) : a; /* Floor, Ceil */
      if (!strcmp(op, "Sqrt") || !strcmp(op, "Reciprocal"))
        return NAD_ERR_UNSUPPORTED;
      continue;
    }
    outs[0]->f[k] = (float)(!strcmp(op, "Neg") ? -v : !strcmp(op, "Abs") ? fabs(v)
                            : !strcmp(op, "Sqrt") ? sqrt(v) : !strcmp(op, "Floor") ? floor(v)
                            : !strcmp(op, "Ceil") ? ceil(v) : !strcmp(op, "Reciprocal") ? 1 / v
                            : !strcmp(op, "Relu") ? (v > 0 ? v : 0)
                            : !strcmp(op, "Sign") ? (double)((v > 0) - (v < 0)) : (double)(v == 0));
  }
  return NAD_OK;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

typedef struct evaluator {
  const char *op;
  nad_status (*fn)(const fctx *c, nadi_onnx_tensor **outs);
  int32_t min_in, max_in; /* inputs [0, min_in) must be present; at most max_in */
} evaluator;

static const evaluator evaluators[] = {
  {"Constant", ev_constant, 0, 0}, {"Shape", ev_shape, 1, 1}, {"Size", ev_size, 1, 1},
  {"ConstantOfShape", ev_constant_of_shape, 1, 1}, {"Range", ev_range, 3, 3},
  {"Identity", ev_copy, 1, 1}, {"Dropout", ev_copy, 1, 3}, {"Reshape", ev_copy, 2, 2},
  {"Flatten", ev_copy, 1, 1}, {"Squeeze", ev_copy, 1, 2}, {"Unsqueeze", ev_copy, 1, 2},
  {"Cast", ev_cast, 1, 1}, {"Expand", ev_expand, 2, 2}, {"Gather", ev_gather, 2, 2},
  {"Concat", ev_concat, 1, 1 << 20}, {"Slice", ev_slice, 3, 5},
  {"Transpose", ev_transpose, 1, 1}, {"Where", ev_where, 3, 3},
  {"ScatterND", ev_scatternd, 3, 3},
  {"Neg", ev_unary, 1, 1}, {"Abs", ev_unary, 1, 1}, {"Sqrt", ev_unary, 1, 1},
  {"Floor", ev_unary, 1, 1}, {"Ceil", ev_unary, 1, 1}, {"Reciprocal", ev_unary, 1, 1},
  {"Not", ev_unary, 1, 1}, {"Relu", ev_unary, 1, 1}, {"Sign", ev_unary, 1, 1},
};

nad_status nadi_onnx_fold_node(nadi_onnx_model *m, int32_t k, nadi_onnx_tensor **outs) {
  fctx c = {m, k, &m->nodes[k]};
  if (strcmp(c.n->op, "Constant") != 0) /* every output shape must be known */
    for (int32_t o = 0; o < c.n->n_out; o++)
      if (c.n->out[o] < 0 || m->values[c.n->out[o]].ndim < 0)
        return NAD_ERR_UNSUPPORTED;
  if (binary_op(c.n->op) != OP_NONE)
    return ev_binary(&c, outs);
  for (size_t e = 0; e < sizeof evaluators / sizeof evaluators[0]; e++) {
    const evaluator *ev = &evaluators[e];
    if (strcmp(ev->op, c.n->op) != 0)
      continue;
    if (c.n->n_in < ev->min_in || c.n->n_in > ev->max_in)
      return NAD_ERR_UNSUPPORTED;
    /* required inputs present (Concat: all of them) */
    for (int32_t i = 0; i < (ev->fn == ev_concat ? c.n->n_in : ev->min_in); i++)
      if (c.n->in[i] < 0)
        return NAD_ERR_UNSUPPORTED;
    return ev->fn(&c, outs);
  }
  return NAD_ERR_UNSUPPORTED;
}
