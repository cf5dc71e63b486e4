/* ONNX ModelProto -> IR (onnx_model.h): the only file that sees the protobuf-c code generated
 * at build time from the system's onnx.proto. Every pointer of the IR lives in one arena owned
 * by the model, so freeing a model (half-built ones included) is one walk over its blocks.
 * Sizes are overflow-checked (core/checked.h) and compared with the bytes that exist before
 * anything is copied. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/io.h"
#include "onnx/onnx.pb-c.h"
#include "onnx/onnx_model.h"

/* ---- arena ------------------------------------------------------------------------------- */

typedef struct block {
  struct block *next;
  size_t used, cap;
  max_align_t data[]; /* cap bytes */
} block;

struct nadi_onnx_arena {
  block *head;
  int32_t *hash; /* open addressing over values: index + 1, 0 = empty */
  uint32_t hash_cap;
};

#define BLOCK_BYTES ((size_t)1 << 16)

void *nadi_onnx_arena_alloc(nadi_onnx_model *m, size_t n, size_t size) {
  if (size != 0 && n > (SIZE_MAX - 64) / size)
    return NULL;
  size_t bytes = (n * size + 15) & ~(size_t)15;
  block *b = m->arena->head;
  if (!b || b->cap - b->used < bytes) {
    size_t cap = bytes > BLOCK_BYTES ? bytes : BLOCK_BYTES;
    block *nb = nadi_alloc(1, sizeof(block) + cap);
    if (!nb)
      return NULL;
    nb->used = 0;
    nb->cap = cap;
    if (b && bytes > BLOCK_BYTES) { /* a big one: keep filling the current small block */
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      m->arena->head = nb;
    }
    b = nb;
  }
  void *p = (char *)b->data + b->used;
  b->used += bytes;
  memset(p, 0, bytes);
  return p;
}

void nadi_onnx_model_free(nadi_onnx_model *m) {
  if (!m)
    return;
  if (m->arena) {
    for (block *b = m->arena->head, *next; b; b = next) {
      next = b->next;
      nadi_free(b);
    }
    nadi_free(m->arena->hash);
    nadi_free(m->arena);
  }
  nadi_free(m);
}

static char *dup_str(nadi_onnx_model *m, const char *s) {
  s = s ? s : "";
  size_t n = strlen(s);
  char *d = nadi_onnx_arena_alloc(m, n + 1, 1);
  if (d)
    memcpy(d, s, n);
  return d;
}

#define OOM(m) nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory reading the model", (m)->name)

/* ---- small helpers ----------------------------------------------------------------------- */

const char *nadi_onnx_node_label(const nadi_onnx_model *m, int32_t k) {
  static _Thread_local char buf[4][160];
  static _Thread_local unsigned next;
  char *b = buf[next++ % 4];
  const nadi_onnx_node *n = &m->nodes[k];
  if (n->name && n->name[0])
    snprintf(b, sizeof buf[0], "node '%.80s' (%.40s)", n->name, n->op);
  else
    snprintf(b, sizeof buf[0], "node #%d (%.40s)", (int)k, n->op);
  return b;
}

const char *nadi_onnx_dtype_name(int32_t t) {
  static const char *names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16",
                                "int32", "int64", "string", "bool", "float16", "double",
                                "uint32", "uint64"};
  static _Thread_local char other[24];
  if (t >= 0 && t < (int32_t)(sizeof names / sizeof names[0]))
    return names[t];
  snprintf(other, sizeof other, "type %d", (int)t);
  return other;
}

int nadi_onnx_dtype_is_float(int32_t t) {
  return t == NADI_ONNX_FLOAT || t == NADI_ONNX_DOUBLE || t == NADI_ONNX_FLOAT16;
}

int64_t nadi_onnx_get_i(const nadi_onnx_tensor *t, int64_t k) {
  if (t->i)
    return t->i[k];
  double v = t->f[k];
  return v != v ? 0 : v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? INT64_MIN : (int64_t)v;
}

double nadi_onnx_get_d(const nadi_onnx_tensor *t, int64_t k) {
  return t->i ? (double)t->i[k] : (double)t->f[k];
}

nadi_onnx_tensor *nadi_onnx_tensor_new(nadi_onnx_model *m, int32_t dtype, int32_t ndim,
                                       const int64_t *dims) {
  int64_t count = 0;
  if (ndim < 0 || ndim > NADI_ONNX_MAX_DIMS || !nadi_prod_ok(dims, ndim, &count) ||
      count > NADI_ONNX_MAX_ELEMS)
    return NULL;
  nadi_onnx_tensor *t = nadi_onnx_arena_alloc(m, 1, sizeof *t);
  if (!t)
    return NULL;
  t->dtype = dtype;
  t->ndim = ndim;
  for (int32_t k = 0; k < ndim; k++)
    t->dims[k] = dims[k];
  t->count = count;
  if (nadi_onnx_dtype_is_float(dtype))
    t->f = nadi_onnx_arena_alloc(m, (size_t)count, sizeof(float));
  else
    t->i = nadi_onnx_arena_alloc(m, (size_t)count, sizeof(int64_t));
  return t->f || t->i ? t : NULL;
}

/* ---- value table ------------------------------------------------------------------------- */

static uint32_t hash_str(const char *s) { /* FNV-1a */
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

int32_t nadi_onnx_find_value(const nadi_onnx_model *m, const char *name) {
  const struct nadi_onnx_arena *a = m->arena;
  if (!a || !a->hash)
    return -1;
  for (uint32_t h = hash_str(name) & (a->hash_cap - 1);; h = (h + 1) & (a->hash_cap - 1)) {
    int32_t v = a->hash[h] - 1;
    if (v < 0)
      return -1;
    if (strcmp(m->values[v].name, name) == 0)
      return v;
  }
}

/* Add a value named `name` of kind `kind`; *idx its index. A name already there is an error
 * naming `what`. */
static nad_status add_value(nadi_onnx_model *m, const char *name, int32_t kind, int32_t producer,
                            const char *what, int32_t *idx) {
  int32_t old = nadi_onnx_find_value(m, name);
  if (old >= 0)
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s defines '%.100s', which is already defined (%s)",
                     m->name, what, name,
                     m->values[old].kind == NADI_ONNX_INIT ? "an initializer"
                     : m->values[old].kind == NADI_ONNX_INPUT ? "a graph input"
                     : nadi_onnx_node_label(m, m->values[old].producer));
  nadi_onnx_value *v = &m->values[m->n_values];
  v->name = dup_str(m, name);
  if (!v->name)
    return OOM(m);
  v->kind = kind;
  v->producer = producer;
  v->ndim = -1;
  for (int k = 0; k < NADI_ONNX_MAX_DIMS; k++)
    v->dims[k] = -1;
  *idx = m->n_values++;
  struct nadi_onnx_arena *a = m->arena;
  uint32_t h = hash_str(name) & (a->hash_cap - 1);
  while (a->hash[h])
    h = (h + 1) & (a->hash_cap - 1);
  a->hash[h] = *idx + 1;
  return NAD_OK;
}

/* ---- tensors ----------------------------------------------------------------------------- */

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, man = h & 1023u, bits;
  if (e == 0) { /* zero or subnormal: man * 2^-24 */
    float v = (float)man * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  bits = e == 31 ? sign | 0x7f800000u | man << 13 : sign | (e + 112) << 23 | man << 13;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* Bytes per element in raw_data, 0 for types this reader does not convert. */
static int elem_size(int32_t t) {
  switch (t) {
  case NADI_ONNX_FLOAT: case NADI_ONNX_INT32: case NADI_ONNX_UINT32: return 4;
  case NADI_ONNX_DOUBLE: case NADI_ONNX_INT64: case NADI_ONNX_UINT64: return 8;
  case NADI_ONNX_FLOAT16: case NADI_ONNX_INT16: case NADI_ONNX_UINT16: return 2;
  case NADI_ONNX_INT8: case NADI_ONNX_UINT8: case NADI_ONNX_BOOL: return 1;
  default: return 0;
  }
}

/* Element k of little-endian raw bytes of type t into the tensor. */
static void raw_elem(nadi_onnx_tensor *t, const uint8_t *p, int64_t k) {
  union { float f; double d; int64_t i64; uint64_t u64; int32_t i32; uint32_t u32; int16_t i16;
          uint16_t u16; int8_t i8; uint8_t u8; } u;
  memcpy(&u, p, (size_t)elem_size(t->dtype));
  switch (t->dtype) {
  case NADI_ONNX_FLOAT: t->f[k] = u.f; break;
  case NADI_ONNX_DOUBLE: t->f[k] = (float)u.d; break;
  case NADI_ONNX_FLOAT16: t->f[k] = half_to_float(u.u16); break;
  case NADI_ONNX_INT64: t->i[k] = u.i64; break;
  case NADI_ONNX_UINT64: t->i[k] = (int64_t)u.u64; break;
  case NADI_ONNX_INT32: t->i[k] = u.i32; break;
  case NADI_ONNX_UINT32: t->i[k] = u.u32; break;
  case NADI_ONNX_INT16: t->i[k] = u.i16; break;
  case NADI_ONNX_UINT16: t->i[k] = u.u16; break;
  case NADI_ONNX_INT8: t->i[k] = u.i8; break;
  default: t->i[k] = u.u8; break; /* UINT8, BOOL */
  }
}

/* Number of values in the typed field that holds data of type t. */
static size_t typed_count(const Onnx__TensorProto *p, int32_t t) {
  switch (t) {
  case NADI_ONNX_FLOAT: return p->n_float_data;
  case NADI_ONNX_DOUBLE: return p->n_double_data;
  case NADI_ONNX_INT64: return p->n_int64_data;
  case NADI_ONNX_UINT32: case NADI_ONNX_UINT64: return p->n_uint64_data;
  default: return p->n_int32_data; /* int32, int16, int8, uint16, uint8, bool, float16 */
  }
}

/* The typed field's values (typed_count(p) == t->count) into t. */
static void typed_fields(const Onnx__TensorProto *p, nadi_onnx_tensor *t) {
  for (int64_t k = 0; k < t->count; k++)
    switch (t->dtype) {
    case NADI_ONNX_FLOAT: t->f[k] = p->float_data[k]; break;
    case NADI_ONNX_DOUBLE: t->f[k] = (float)p->double_data[k]; break;
    case NADI_ONNX_FLOAT16: t->f[k] = half_to_float((uint16_t)p->int32_data[k]); break;
    case NADI_ONNX_INT64: t->i[k] = p->int64_data[k]; break;
    case NADI_ONNX_UINT32: case NADI_ONNX_UINT64: t->i[k] = (int64_t)p->uint64_data[k]; break;
    default: t->i[k] = p->int32_data[k]; break;
    }
}

/* Reads the external data of p (keys location, offset, length) into a malloc'ed buffer of
 * exactly `need` bytes. */
static nad_status external_bytes(const Onnx__TensorProto *p, const char *base_dir, size_t need,
                                 const char *where, const nadi_onnx_model *m, uint8_t **out) {
  const char *loc = NULL;
  long long off = 0, len = -1;
  for (size_t k = 0; k < p->n_external_data; k++) {
    const char *key = p->external_data[k]->key, *val = p->external_data[k]->value;
    if (!key || !val)
      continue;
    if (strcmp(key, "location") == 0)
      loc = val;
    else if (strcmp(key, "offset") == 0)
      off = strtoll(val, NULL, 10);
    else if (strcmp(key, "length") == 0)
      len = strtoll(val, NULL, 10);
  }
  if (!loc || !loc[0] || loc[0] == '/' || strstr(loc, ".."))
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s: external data needs a relative location without "
                     "'..' (got '%.100s')", m->name, where, loc ? loc : "");
  if (!base_dir)
    return nadi_fail(NAD_ERR_IO, "%s: %s: external data '%.100s' is missing (a model read from "
                     "memory has no directory)", m->name, where, loc);
  if (off < 0 || (len >= 0 && (unsigned long long)len != need))
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s: external data '%.100s' has offset %lld and "
                     "length %lld, %zu bytes expected", m->name, where, loc, off, len, need);
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", base_dir, loc) >= (int)sizeof path)
    return nadi_fail(NAD_ERR_IO, "%s: %s: external data path too long", m->name, where);
  FILE *f = fopen(path, "rb");
  if (!f)
    return nadi_fail(NAD_ERR_IO, "%s: %s: external data '%s' is missing: %s", m->name, where,
                     path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < off ||
      (unsigned long long)(sb.st_size - off) < need) {
    fclose(f);
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s: external data '%s' is not a file of at least "
                     "%lld + %zu bytes", m->name, where, path, off, need);
  }
  uint8_t *b = malloc(need ? need : 1);
  int ok = b && fseeko(f, (off_t)off, SEEK_SET) == 0 && fread(b, 1, need, f) == need;
  fclose(f);
  if (!ok) {
    free(b);
    return nadi_fail(b ? NAD_ERR_FORMAT : NAD_ERR_OUT_OF_MEMORY, "%s: %s: external data '%s' "
                     "holds fewer than %lld + %zu bytes", m->name, where, path, off, need);
  }
  *out = b;
  return NAD_OK;
}

typedef struct reader {
  nadi_onnx_model *m;
  const char *base_dir;
} reader;

/* TensorProto -> tensor; `where` names it in messages ("initializer 'w'"). */
static nad_status read_tensor(reader *r, const Onnx__TensorProto *p, const char *where,
                              nadi_onnx_tensor **out) {
  nadi_onnx_model *m = r->m;
  int32_t dt = p->has_data_type ? p->data_type : NADI_ONNX_UNDEFINED;
  int es = elem_size(dt);
  if (es == 0)
    return nadi_fail(NAD_ERR_UNSUPPORTED, "%s: %s has element type %s, which is not supported",
                     m->name, where, nadi_onnx_dtype_name(dt));
  if (p->n_dims > NADI_ONNX_MAX_DIMS)
    return nadi_fail(NAD_ERR_UNSUPPORTED, "%s: %s has rank %zu (at most %d supported)", m->name,
                     where, p->n_dims, NADI_ONNX_MAX_DIMS);
  if (p->segment)
    return nadi_fail(NAD_ERR_UNSUPPORTED, "%s: %s is a segment of a tensor", m->name, where);
  int64_t count = 0, bytes = 0;
  if (!nadi_prod_ok(p->dims, (int)p->n_dims, &count) || count > NADI_ONNX_MAX_ELEMS ||
      !nadi_mul_ok(count, es, &bytes))
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s has absurd dimensions (negative or more than 2^40 "
                     "elements)", m->name, where);
  /* the data's length is checked before anything is allocated for it */
  int external =
      p->has_data_location && p->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (!external && p->has_raw_data && p->raw_data.len != (size_t)bytes)
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s: raw_data has %zu bytes, %lld expected (%lld "
                     "elements of %s)", m->name, where, p->raw_data.len, (long long)bytes,
                     (long long)count, nadi_onnx_dtype_name(dt));
  if (!external && !p->has_raw_data && typed_count(p, dt) != (size_t)count)
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s has %zu values for %lld elements", m->name, where,
                     typed_count(p, dt), (long long)count);
  uint8_t *ext = NULL;
  if (external)
    NADI_TRY(external_bytes(p, r->base_dir, (size_t)bytes, where, m, &ext));
  nadi_onnx_tensor *t = nadi_onnx_tensor_new(m, dt, (int32_t)p->n_dims, p->dims);
  if (!t) {
    free(ext);
    return OOM(m);
  }
  const uint8_t *raw = external ? ext : p->has_raw_data ? p->raw_data.data : NULL;
  for (int64_t k = 0; raw && k < count; k++)
    raw_elem(t, raw + k * es, k);
  if (!raw)
    typed_fields(p, t);
  free(ext);
  *out = t;
  return NAD_OK;
}

/* ---- graph ------------------------------------------------------------------------------- */

/* Element type and shape of a ValueInfoProto into v (absurd dimensions are an error). */
static nad_status read_value_info(nadi_onnx_model *m, const Onnx__ValueInfoProto *vi,
                                  nadi_onnx_value *v) {
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    return NAD_OK;
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  v->dtype = tt->has_elem_type ? tt->elem_type : NADI_ONNX_UNDEFINED;
  if (!tt->shape)
    return NAD_OK;
  if (tt->shape->n_dim > NADI_ONNX_MAX_DIMS)
    return nadi_fail(NAD_ERR_UNSUPPORTED, "%s: '%.100s' has rank %zu (at most %d supported)",
                     m->name, v->name, tt->shape->n_dim, NADI_ONNX_MAX_DIMS);
  v->ndim = (int32_t)tt->shape->n_dim;
  int64_t count = 1;
  for (int32_t k = 0; k < v->ndim; k++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
    v->dims[k] = -1;
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      if (d->dim_value < 0 || !nadi_mul_ok(count, d->dim_value, &count) ||
          count > NADI_ONNX_MAX_ELEMS)
        return nadi_fail(NAD_ERR_FORMAT, "%s: '%.100s' has absurd dimensions (dimension %d is "
                         "%lld)", m->name, v->name, (int)k, (long long)d->dim_value);
      v->dims[k] = d->dim_value;
    } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
      v->sym[k] = dup_str(m, d->dim_param);
      if (!v->sym[k])
        return OOM(m);
    }
  }
  return NAD_OK;
}

static nad_status read_attr(reader *r, const Onnx__AttributeProto *p, int32_t node,
                            nadi_onnx_attr *a) {
  nadi_onnx_model *m = r->m;
  a->name = dup_str(m, p->name);
  if (!a->name)
    return OOM(m);
  a->type = p->has_type ? (int32_t)p->type : NADI_ONNX_ATTR_OTHER;
  switch (a->type) {
  case NADI_ONNX_ATTR_FLOAT: a->f = p->f; break;
  case NADI_ONNX_ATTR_INT: a->i = p->i; break;
  case NADI_ONNX_ATTR_STRING: {
    char *s = nadi_onnx_arena_alloc(m, p->s.len + 1, 1);
    if (!s)
      return OOM(m);
    if (p->s.len)
      memcpy(s, p->s.data, p->s.len);
    a->s = s;
    a->s_len = (int64_t)p->s.len;
    break;
  }
  case NADI_ONNX_ATTR_INTS: a->n = (int64_t)p->n_ints; a->ints = p->ints; break;
  case NADI_ONNX_ATTR_FLOATS: a->n = (int64_t)p->n_floats; a->floats = p->floats; break;
  case NADI_ONNX_ATTR_TENSOR: {
    if (!p->t)
      return nadi_fail(NAD_ERR_FORMAT, "%s: %s: tensor attribute '%s' has no tensor", m->name,
                       nadi_onnx_node_label(m, node), a->name);
    char where[200];
    snprintf(where, sizeof where, "%s attribute '%.40s'", nadi_onnx_node_label(m, node), a->name);
    nadi_onnx_tensor *t = NULL;
    NADI_TRY(read_tensor(r, p->t, where, &t));
    a->t = t;
    break;
  }
  default: break;
  }
  /* ints and floats point into the protobuf message: copy them into the arena */
  if (a->n > 0) {
    size_t es = a->ints ? sizeof(int64_t) : sizeof(float);
    void *c = nadi_onnx_arena_alloc(m, (size_t)a->n, es);
    if (!c)
      return OOM(m);
    memcpy(c, a->ints ? (const void *)a->ints : (const void *)a->floats, (size_t)a->n * es);
    if (a->ints)
      a->ints = c;
    else
      a->floats = c;
  }
  return NAD_OK;
}

/* Strings, attributes and outputs of node k (inputs are resolved once all outputs exist). */
static nad_status read_node(reader *r, const Onnx__NodeProto *p, int32_t k) {
  nadi_onnx_model *m = r->m;
  nadi_onnx_node *n = &m->nodes[k];
  n->op = dup_str(m, p->op_type);
  n->domain = dup_str(m, p->domain);
  n->name = dup_str(m, p->name);
  if (!n->op || !n->domain || !n->name)
    return OOM(m);
  if (!n->op[0])
    return nadi_fail(NAD_ERR_FORMAT, "%s: node #%d has no op_type", m->name, (int)k);
  if (p->n_input > INT32_MAX / 2 || p->n_output > INT32_MAX / 2 || p->n_attribute > INT32_MAX / 2)
    return nadi_fail(NAD_ERR_FORMAT, "%s: %s: too many inputs, outputs or attributes", m->name,
                     nadi_onnx_node_label(m, k));
  n->n_in = (int32_t)p->n_input;
  n->n_out = (int32_t)p->n_output;
  n->n_attr = (int32_t)p->n_attribute;
  n->in = nadi_onnx_arena_alloc(m, p->n_input, sizeof(int32_t));
  n->out = nadi_onnx_arena_alloc(m, p->n_output, sizeof(int32_t));
  n->attr = nadi_onnx_arena_alloc(m, p->n_attribute, sizeof(nadi_onnx_attr));
  if (!n->in || !n->out || !n->attr)
    return OOM(m);
  for (int32_t a = 0; a < n->n_attr; a++)
    NADI_TRY(read_attr(r, p->attribute[a], k, &n->attr[a]));
  for (int32_t o = 0; o < n->n_out; o++) {
    n->out[o] = -1;
    if (p->output[o] && p->output[o][0])
      NADI_TRY(add_value(m, p->output[o], NADI_ONNX_NODE_OUT, k, nadi_onnx_node_label(m, k),
                         &n->out[o]));
  }
  return NAD_OK;
}

static nad_status resolve_inputs(nadi_onnx_model *m, const Onnx__NodeProto *p, int32_t k) {
  nadi_onnx_node *n = &m->nodes[k];
  for (int32_t i = 0; i < n->n_in; i++) {
    n->in[i] = -1;
    if (!p->input[i] || !p->input[i][0])
      continue;
    n->in[i] = nadi_onnx_find_value(m, p->input[i]);
    if (n->in[i] < 0)
      return nadi_fail(NAD_ERR_FORMAT, "%s: %s: input %d '%.100s' is not defined (no graph "
                       "input, initializer or node output has that name)", m->name,
                       nadi_onnx_node_label(m, k), (int)i, p->input[i]);
  }
  return NAD_OK;
}

/* ---- topological order ------------------------------------------------------------------- */

/* Min-heap of node indices: among the ready nodes the earliest in the file goes first, so a
 * file already in order keeps it. */
static void heap_push(int32_t *h, int32_t *n, int32_t v) {
  int32_t i = (*n)++;
  for (; i > 0 && h[(i - 1) / 2] > v; i = (i - 1) / 2)
    h[i] = h[(i - 1) / 2];
  h[i] = v;
}

static int32_t heap_pop(int32_t *h, int32_t *n) {
  int32_t top = h[0], v = h[--*n], i = 0;
  for (;;) {
    int32_t c = 2 * i + 1;
    if (c >= *n)
      break;
    if (c + 1 < *n && h[c + 1] < h[c])
      c++;
    if (h[c] >= v)
      break;
    h[i] = h[c];
    i = c;
  }
  if (*n > 0)
    h[i] = v;
  return top;
}

/* Names a node on a cycle among the nodes not emitted (done[k] == 0): following unfinished
 * producers n times from any unfinished node ends on a cycle. */
static nad_status cycle_error(nadi_onnx_model *m, const uint8_t *done) {
  int32_t k = 0;
  while (done[k])
    k++;
  for (int32_t step = 0; step < m->n_nodes; step++) {
    const nadi_onnx_node *n = &m->nodes[k];
    for (int32_t i = 0; i < n->n_in; i++) {
      int32_t p = n->in[i] < 0 ? -1 : m->values[n->in[i]].producer;
      if (p >= 0 && !done[p]) {
        k = p;
        break;
      }
    }
  }
  return nadi_fail(NAD_ERR_FORMAT, "%s: the graph has a cycle through %s", m->name,
                   nadi_onnx_node_label(m, k));
}

/* Orders m->nodes topologically (Kahn), renumbering producers; a cycle is an error. */
static nad_status topo_sort(nadi_onnx_model *m) {
  int32_t nn = m->n_nodes, nv = m->n_values, heap_n = 0, emitted = 0;
  int32_t *indeg = nadi_onnx_arena_alloc(m, (size_t)nn, sizeof(int32_t));
  int32_t *first = nadi_onnx_arena_alloc(m, (size_t)nv + 1, sizeof(int32_t)); /* consumers CSR */
  int32_t *order = nadi_onnx_arena_alloc(m, (size_t)nn, sizeof(int32_t));
  int32_t *heap = nadi_onnx_arena_alloc(m, (size_t)nn, sizeof(int32_t));
  uint8_t *done = nadi_onnx_arena_alloc(m, (size_t)nn, 1);
  nadi_onnx_node *sorted = nadi_onnx_arena_alloc(m, (size_t)nn, sizeof(nadi_onnx_node));
  if (!indeg || !first || !order || !heap || !done || !sorted)
    return OOM(m);
  int64_t edges = 0;
  for (int32_t k = 0; k < nn; k++)
    for (int32_t i = 0; i < m->nodes[k].n_in; i++) {
      int32_t v = m->nodes[k].in[i];
      if (v >= 0 && m->values[v].producer >= 0) {
        indeg[k]++;
        first[v + 1]++;
        edges++;
      }
    }
  for (int32_t v = 0; v < nv; v++)
    first[v + 1] += first[v];
  int32_t *cons = nadi_onnx_arena_alloc(m, (size_t)edges, sizeof(int32_t));
  int32_t *fill = nadi_onnx_arena_alloc(m, (size_t)nv, sizeof(int32_t));
  if (!cons || !fill)
    return OOM(m);
  for (int32_t k = 0; k < nn; k++)
    for (int32_t i = 0; i < m->nodes[k].n_in; i++) {
      int32_t v = m->nodes[k].in[i];
      if (v >= 0 && m->values[v].producer >= 0)
        cons[first[v] + fill[v]++] = k;
    }
  for (int32_t k = 0; k < nn; k++)
    if (indeg[k] == 0)
      heap_push(heap, &heap_n, k);
  while (heap_n > 0) {
    int32_t k = heap_pop(heap, &heap_n);
    done[k] = 1;
    order[emitted++] = k;
    for (int32_t o = 0; o < m->nodes[k].n_out; o++) {
      int32_t v = m->nodes[k].out[o];
      for (int32_t c = v < 0 ? 0 : first[v]; v >= 0 && c < first[v + 1]; c++)
        if (--indeg[cons[c]] == 0)
          heap_push(heap, &heap_n, cons[c]);
    }
  }
  if (emitted < nn)
    return cycle_error(m, done);
  for (int32_t j = 0; j < nn; j++) {
    sorted[j] = m->nodes[order[j]];
    for (int32_t o = 0; o < sorted[j].n_out; o++)
      if (sorted[j].out[o] >= 0)
        m->values[sorted[j].out[o]].producer = j;
  }
  m->nodes = sorted;
  return NAD_OK;
}

/* ---- the model --------------------------------------------------------------------------- */

static nad_status read_opset(nadi_onnx_model *m, const Onnx__ModelProto *p) {
  m->opset = -1;
  for (size_t k = 0; k < p->n_opset_import; k++) {
    const Onnx__OperatorSetIdProto *o = p->opset_import[k];
    if (o && (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0))
      m->opset = o->has_version ? o->version : -1;
  }
  if (m->opset < 0)
    return nadi_fail(NAD_ERR_FORMAT, "%s: not an ONNX model (no opset of the default domain)",
                     m->name);
  if (m->opset < NADI_ONNX_OPSET_MIN || m->opset > NADI_ONNX_OPSET_MAX)
    return nadi_fail(NAD_ERR_UNSUPPORTED, "%s: opset %lld is not supported (opsets %d to %d are; "
                     "torch.onnx.export(..., opset_version=17) makes one)", m->name,
                     (long long)m->opset, NADI_ONNX_OPSET_MIN, NADI_ONNX_OPSET_MAX);
  return NAD_OK;
}

/* Graph inputs (those that are no initializers) and initializers, as values. */
static nad_status read_sources(reader *r, const Onnx__GraphProto *g) {
  nadi_onnx_model *m = r->m;
  for (size_t k = 0; k < g->n_initializer; k++) {
    const Onnx__TensorProto *t = g->initializer[k];
    char where[160];
    snprintf(where, sizeof where, "initializer '%.100s'", t->name ? t->name : "");
    if (!t->name || !t->name[0])
      return nadi_fail(NAD_ERR_FORMAT, "%s: initializer #%zu has no name", m->name, k);
    int32_t v;
    NADI_TRY(add_value(m, t->name, NADI_ONNX_INIT, -1, where, &v));
    NADI_TRY(read_tensor(r, t, where, &m->values[v].data));
    nadi_onnx_value *val = &m->values[v];
    val->dtype = val->data->dtype;
    val->ndim = val->data->ndim;
    memcpy(val->dims, val->data->dims, sizeof val->dims);
    val->is_param = val->data->f != NULL;
  }
  m->inputs = nadi_onnx_arena_alloc(m, g->n_input, sizeof(int32_t));
  if (!m->inputs)
    return OOM(m);
  for (size_t k = 0; k < g->n_input; k++) {
    const char *name = g->input[k]->name;
    if (!name || !name[0])
      return nadi_fail(NAD_ERR_FORMAT, "%s: graph input #%zu has no name", m->name, k);
    if (nadi_onnx_find_value(m, name) >= 0 &&
        m->values[nadi_onnx_find_value(m, name)].kind == NADI_ONNX_INIT)
      continue; /* older exports list initializers among the inputs */
    int32_t v;
    char where[160];
    snprintf(where, sizeof where, "graph input '%.100s'", name);
    NADI_TRY(add_value(m, name, NADI_ONNX_INPUT, -1, where, &v));
    NADI_TRY(read_value_info(m, g->input[k], &m->values[v]));
    m->inputs[m->n_inputs++] = v;
  }
  return NAD_OK;
}

static nad_status read_graph(reader *r, const Onnx__GraphProto *g) {
  nadi_onnx_model *m = r->m;
  size_t nv = g->n_input + g->n_initializer;
  for (size_t k = 0; k < g->n_node; k++)
    nv += g->node[k]->n_output;
  if (nv >= INT32_MAX / 4 || g->n_node >= INT32_MAX / 4)
    return nadi_fail(NAD_ERR_FORMAT, "%s: too many values", m->name);
  uint32_t cap = 16;
  while (cap < 2 * nv)
    cap *= 2;
  m->values = nadi_onnx_arena_alloc(m, nv, sizeof(nadi_onnx_value));
  m->nodes = nadi_onnx_arena_alloc(m, g->n_node, sizeof(nadi_onnx_node));
  m->arena->hash = nadi_calloc(cap, sizeof(int32_t));
  if (!m->values || !m->nodes || !m->arena->hash)
    return OOM(m);
  m->arena->hash_cap = cap;
  NADI_TRY(read_sources(r, g));
  m->n_nodes = (int32_t)g->n_node;
  for (int32_t k = 0; k < m->n_nodes; k++)
    NADI_TRY(read_node(r, g->node[k], k));
  for (int32_t k = 0; k < m->n_nodes; k++)
    NADI_TRY(resolve_inputs(m, g->node[k], k));
  m->outputs = nadi_onnx_arena_alloc(m, g->n_output, sizeof(int32_t));
  if (!m->outputs)
    return OOM(m);
  for (size_t k = 0; k < g->n_output; k++) {
    const char *name = g->output[k]->name ? g->output[k]->name : "";
    int32_t v = nadi_onnx_find_value(m, name);
    if (v < 0)
      return nadi_fail(NAD_ERR_FORMAT, "%s: graph output '%.100s' is not defined", m->name, name);
    if (m->values[v].is_output)
      return nadi_fail(NAD_ERR_FORMAT, "%s: graph output '%.100s' is listed twice", m->name, name);
    m->values[v].is_output = 1;
    nadi_onnx_value tmp = m->values[v]; /* the file's declared type, where the value has none */
    NADI_TRY(read_value_info(m, g->output[k], &tmp));
    if (m->values[v].dtype == NADI_ONNX_UNDEFINED)
      m->values[v].dtype = tmp.dtype;
    m->outputs[m->n_outputs++] = v;
  }
  if (m->n_outputs == 0)
    return nadi_fail(NAD_ERR_FORMAT, "%s: the graph has no output", m->name);
  return topo_sort(m);
}

/* ---- nesting depth ----------------------------------------------------------------------- */

#define MAX_DEPTH 64 /* messages within messages: ONNX needs about 8 (subgraphs add some) */

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return 1;
  }
  return 0;
}

/* 1 when the wire-format message [p, end) of type d nests at most MAX_DEPTH - depth deep.
 * protobuf-c unpacks recursively without a limit: a crafted file of a few hundred kB nested
 * thousands deep would exhaust the stack, so the depth is measured first (recursion bounded by
 * MAX_DEPTH). Malformed bytes answer 1: unpacking refuses them. */
static int depth_ok(const uint8_t *p, const uint8_t *end, const ProtobufCMessageDescriptor *d,
                    int depth) {
  if (depth > MAX_DEPTH)
    return 0;
  while (p < end) {
    uint64_t key, len;
    if (!varint(&p, end, &key))
      return 1;
    switch (key & 7) {
    case 0: if (!varint(&p, end, &len)) return 1; break;
    case 1: p += end - p < 8 ? end - p : 8; break;
    case 5: p += end - p < 4 ? end - p : 4; break;
    case 2: {
      if (!varint(&p, end, &len) || len > (uint64_t)(end - p))
        return 1;
      const ProtobufCFieldDescriptor *f =
          key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3))
                                 : NULL;
      if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
          !depth_ok(p, p + len, (const ProtobufCMessageDescriptor *)f->descriptor, depth + 1))
        return 0;
      p += len;
      break;
    }
    default: return 1; /* groups and invalid wire types: unpacking refuses them */
    }
  }
  return 1;
}

static nad_status read_proto(const uint8_t *data, size_t len, const char *name,
                             const char *base_dir, nadi_onnx_model *m) {
  m->name = dup_str(m, name);
  if (!m->name)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory reading an ONNX model");
  if (len == 0)
    return nadi_fail(NAD_ERR_FORMAT, "%s: empty file, not an ONNX model", m->name);
  if (!depth_ok(data, data + len, &onnx__model_proto__descriptor, 0))
    return nadi_fail(NAD_ERR_FORMAT, "%s: not an ONNX model (messages nested more than %d deep)",
                     m->name, MAX_DEPTH);
  Onnx__ModelProto *p = onnx__model_proto__unpack(NULL, len, data);
  if (!p)
    return nadi_fail(NAD_ERR_FORMAT, "%s: not an ONNX model (the protobuf encoding is truncated "
                     "or invalid)", m->name);
  nad_status st = NAD_OK;
  if (!p->graph)
    st = nadi_fail(NAD_ERR_FORMAT, "%s: not an ONNX model (no graph)", m->name);
  if (st == NAD_OK)
    st = read_opset(m, p);
  if (st == NAD_OK) {
    m->ir_version = p->has_ir_version ? p->ir_version : 0;
    m->producer = dup_str(m, p->producer_name);
    reader r = {m, base_dir};
    st = m->producer ? read_graph(&r, p->graph) : OOM(m);
  }
  onnx__model_proto__free_unpacked(p, NULL);
  return st;
}

nad_status nadi_onnx_read_memory(const uint8_t *data, size_t len, const char *name,
                                 const char *base_dir, nadi_onnx_model **out) {
  *out = NULL;
  nadi_onnx_model *m = nadi_calloc(1, sizeof *m);
  struct nadi_onnx_arena *a = nadi_calloc(1, sizeof *a);
  if (!m || !a) {
    nadi_free(m);
    nadi_free(a);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "out of memory reading an ONNX model");
  }
  m->arena = a;
  nad_status st = read_proto(data, len, name ? name : "<memory>", base_dir, m);
  if (st != NAD_OK) {
    nadi_onnx_model_free(m);
    return st;
  }
  *out = m;
  return NAD_OK;
}

nad_status nadi_onnx_read_file(const char *path, nadi_onnx_model **out) {
  *out = NULL;
  nadi_blob b;
  NADI_TRY(nadi_blob_read(path, &b));
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
  nad_status st = nadi_onnx_read_memory(b.data, b.len, path, dir, out);
  nadi_blob_free(&b);
  return st;
}

/* ---- attributes -------------------------------------------------------------------------- */

const nadi_onnx_attr *nadi_onnx_attr_find(const nadi_onnx_node *node, const char *name) {
  for (int32_t a = 0; a < node->n_attr; a++)
    if (strcmp(node->attr[a].name, name) == 0)
      return &node->attr[a];
  return NULL;
}

int64_t nadi_onnx_attr_int(const nadi_onnx_node *node, const char *name, int64_t def) {
  const nadi_onnx_attr *a = nadi_onnx_attr_find(node, name);
  return a && a->type == NADI_ONNX_ATTR_INT ? a->i : def;
}

float nadi_onnx_attr_float(const nadi_onnx_node *node, const char *name, float def) {
  const nadi_onnx_attr *a = nadi_onnx_attr_find(node, name);
  return a && a->type == NADI_ONNX_ATTR_FLOAT ? a->f : def;
}

const char *nadi_onnx_attr_string(const nadi_onnx_node *node, const char *name, const char *def) {
  const nadi_onnx_attr *a = nadi_onnx_attr_find(node, name);
  return a && a->type == NADI_ONNX_ATTR_STRING ? a->s : def;
}
