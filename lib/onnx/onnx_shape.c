/* Static shapes of an ONNX model's tensors and the folding of its shape subgraphs
 * (nadi_onnx_infer_shapes). Nodes are visited in topological order; each known operator's rule
 * (the table at the end) gives its outputs' element type and shape from its inputs' shapes and,
 * where the shape depends on them (Reshape's shape, Slice's starts...), from constant inputs.
 * A node whose inputs are all constants (or, for Shape and Size, whose input shape is known) is
 * then evaluated (onnx_fold.c) and its outputs become constants: what torch.onnx.export writes
 * for `x.shape[0]`, `x.flatten(1)` or ViT's class token (Shape, Gather, Unsqueeze, Concat,
 * ConstantOfShape, Expand, Where, Equal...) folds away, and the mapper sees constants. Float
 * initializers are parameters and are never folded into other constants. An operator without a
 * rule leaves its outputs unknown (rank -1): the mapper names it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "onnx/onnx_model.h"

typedef struct ctx {
  nadi_onnx_model *m;
  int32_t k;
  const nadi_onnx_node *n;
} ctx;

static nad_status fail_at(const ctx *c, nad_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static nad_status fail_at(const ctx *c, nad_status st, const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return nadi_fail(st, "%s: %s: %s", c->m->name, nadi_onnx_node_label(c->m, c->k), msg);
}

/* Input i, or NULL when omitted or absent. */
static nadi_onnx_value *in(const ctx *c, int32_t i) {
  return i < c->n->n_in && c->n->in[i] >= 0 ? &c->m->values[c->n->in[i]] : NULL;
}

static int known(const nadi_onnx_value *v) {
  if (!v || v->ndim < 0)
    return 0;
  for (int32_t d = 0; d < v->ndim; d++)
    if (v->dims[d] < 0)
      return 0;
  return 1;
}

/* Sets output o (when present) to dtype and shape; a shape with more than 2^40 elements is an
 * error. */
static nad_status set_out(const ctx *c, int32_t o, int32_t dtype, int32_t ndim,
                          const int64_t *dims) {
  if (o >= c->n->n_out || c->n->out[o] < 0)
    return NAD_OK;
  nadi_onnx_value *v = &c->m->values[c->n->out[o]];
  int64_t count;
  if (ndim > NADI_ONNX_MAX_DIMS)
    return fail_at(c, NAD_ERR_UNSUPPORTED, "output rank %d (at most %d supported)", (int)ndim,
                   NADI_ONNX_MAX_DIMS);
  if (!nadi_prod_ok(dims, ndim, &count) || count > NADI_ONNX_MAX_ELEMS)
    return fail_at(c, NAD_ERR_FORMAT, "absurd output dimensions (more than 2^40 elements)");
  v->dtype = dtype;
  v->ndim = ndim;
  for (int32_t d = 0; d < NADI_ONNX_MAX_DIMS; d++)
    v->dims[d] = d < ndim ? dims[d] : -1;
  return NAD_OK;
}

/* The int64 content of constant input i into out[0..*n) (at most max): 1, or 0 when it is not
 * a constant. */
static int const_ints(const ctx *c, int32_t i, int64_t *out, int32_t *n, int32_t max) {
  const nadi_onnx_value *v = in(c, i);
  if (!v || !v->data || v->data->count > max)
    return 0;
  for (int64_t k = 0; k < v->data->count; k++)
    out[k] = nadi_onnx_get_i(v->data, k);
  *n = (int32_t)v->data->count;
  return 1;
}

/* Attribute `name` as ints into out (at most max): count, or -1 when absent. */
static int32_t attr_ints(const ctx *c, const char *name, int64_t *out, int32_t max) {
  const nadi_onnx_attr *a = nadi_onnx_attr_find(c->n, name);
  if (!a || a->type != NADI_ONNX_ATTR_INTS)
    return -1;
  int32_t n = a->n < max ? (int32_t)a->n : max;
  for (int32_t k = 0; k < n; k++)
    out[k] = a->ints[k];
  return a->n <= max ? n : -2;
}

/* Normalises axis a of a rank-r tensor (negative counts from the end) into *out. */
static nad_status norm_axis(const ctx *c, int64_t a, int32_t r, int32_t *out) {
  *out = 0;
  if (a < -r || a >= r)
    return fail_at(c, NAD_ERR_FORMAT, "axis %lld is out of range for rank %d", (long long)a,
                   (int)r);
  *out = (int32_t)(a < 0 ? a + r : a);
  return NAD_OK;
}

static int32_t out_dtype(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  return x ? x->dtype : NADI_ONNX_UNDEFINED;
}

/* ---- elementwise ------------------------------------------------------------------------- */

int nadi_onnx_broadcast(int32_t na, const int64_t *a, int32_t nb, const int64_t *b, int32_t *nout,
                        int64_t *out) {
  int32_t n = na > nb ? na : nb;
  for (int32_t k = 0; k < n; k++) {
    int64_t da = k < n - na ? 1 : a[k - (n - na)], db = k < n - nb ? 1 : b[k - (n - nb)];
    if (da != db && da != 1 && db != 1)
      return 0;
    out[k] = da == 1 ? db : da;
  }
  *nout = n;
  return 1;
}

static nad_status rule_unary(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  if (!known(x))
    return NAD_OK;
  NADI_TRY(set_out(c, 0, x->dtype, x->ndim, x->dims));
  return set_out(c, 1, NADI_ONNX_BOOL, x->ndim, x->dims); /* Dropout's mask */
}

static nad_status rule_cast(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  return known(x) ? set_out(c, 0, (int32_t)nadi_onnx_attr_int(c->n, "to", 1), x->ndim, x->dims)
                  : NAD_OK;
}

static int is_compare(const char *op) {
  return !strcmp(op, "Equal") || !strcmp(op, "Less") || !strcmp(op, "Greater") ||
         !strcmp(op, "LessOrEqual") || !strcmp(op, "GreaterOrEqual") || !strcmp(op, "And") ||
         !strcmp(op, "Or") || !strcmp(op, "Xor");
}

/* Add, Mul, Equal, Where, Max, Sum...: numpy broadcast of every input. */
static nad_status rule_broadcast(const ctx *c) {
  int where = !strcmp(c->n->op, "Where");
  if (c->n->n_in < 1 || (where && c->n->n_in != 3))
    return fail_at(c, NAD_ERR_FORMAT, "%d inputs", (int)c->n->n_in);
  int32_t n = 0;
  int64_t dims[NADI_ONNX_MAX_DIMS];
  for (int32_t i = 0; i < c->n->n_in; i++) {
    const nadi_onnx_value *x = in(c, i);
    if (!known(x))
      return NAD_OK;
    int64_t tmp[NADI_ONNX_MAX_DIMS];
    if (!nadi_onnx_broadcast(n, dims, x->ndim, x->dims, &n, tmp))
      return fail_at(c, NAD_ERR_SHAPE, "input %d does not broadcast with the inputs before it",
                     (int)i);
    memcpy(dims, tmp, sizeof tmp);
  }
  int32_t dt = is_compare(c->n->op) ? NADI_ONNX_BOOL : where ? in(c, 1)->dtype : out_dtype(c);
  return set_out(c, 0, dt, n, dims);
}

/* BatchNormalization: Y like X; training-mode outputs running mean and var like the scale. */
static nad_status rule_batchnorm(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0), *s = in(c, 1);
  if (!known(x))
    return NAD_OK;
  if (x->ndim < 2 || (known(s) && (s->ndim != 1 || s->dims[0] != x->dims[1])))
    return fail_at(c, NAD_ERR_SHAPE, "the scale does not have one value per channel");
  NADI_TRY(set_out(c, 0, x->dtype, x->ndim, x->dims));
  NADI_TRY(set_out(c, 1, x->dtype, 1, &x->dims[1]));
  return set_out(c, 2, x->dtype, 1, &x->dims[1]);
}

/* LayerNormalization: Y like X; Mean and InvStdDev with the normalised axes reduced to 1. */
static nad_status rule_layernorm(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  if (!known(x))
    return NAD_OK;
  int32_t axis;
  NADI_TRY(norm_axis(c, nadi_onnx_attr_int(c->n, "axis", -1), x->ndim, &axis));
  int64_t red[NADI_ONNX_MAX_DIMS];
  for (int32_t d = 0; d < x->ndim; d++)
    red[d] = d < axis ? x->dims[d] : 1;
  NADI_TRY(set_out(c, 0, x->dtype, x->ndim, x->dims));
  NADI_TRY(set_out(c, 1, NADI_ONNX_FLOAT, x->ndim, red));
  return set_out(c, 2, NADI_ONNX_FLOAT, x->ndim, red);
}

/* ---- convolution and pooling ------------------------------------------------------------- */

typedef struct window {
  int32_t n; /* spatial dimensions */
  int64_t k[NADI_ONNX_MAX_DIMS], s[NADI_ONNX_MAX_DIMS], d[NADI_ONNX_MAX_DIMS];
  int64_t p[2 * NADI_ONNX_MAX_DIMS];
} window;

/* kernel (given, or from kernel_shape), strides, dilations, pads of a Conv or pool. */
static nad_status read_window(const ctx *c, int32_t n, const int64_t *kernel, window *w) {
  w->n = n;
  int32_t nk = attr_ints(c, "kernel_shape", w->k, NADI_ONNX_MAX_DIMS);
  if (nk < 0 && !kernel)
    return fail_at(c, NAD_ERR_FORMAT, "no kernel_shape");
  if (nk >= 0 && nk != n)
    return fail_at(c, NAD_ERR_FORMAT, "kernel_shape has %d values for %d spatial dimensions",
                   (int)nk, (int)n);
  if (nk < 0)
    memcpy(w->k, kernel, (size_t)n * sizeof(int64_t));
  for (int32_t i = 0; i < n; i++)
    w->s[i] = w->d[i] = 1;
  for (int32_t i = 0; i < 2 * n; i++)
    w->p[i] = 0;
  int32_t ns = attr_ints(c, "strides", w->s, NADI_ONNX_MAX_DIMS);
  int32_t nd = attr_ints(c, "dilations", w->d, NADI_ONNX_MAX_DIMS);
  int32_t np = attr_ints(c, "pads", w->p, 2 * NADI_ONNX_MAX_DIMS);
  if ((ns >= 0 && ns != n) || (nd >= 0 && nd != n) || (np >= 0 && np != 2 * n) || ns == -2 ||
      nd == -2 || np == -2)
    return fail_at(c, NAD_ERR_FORMAT, "strides, dilations or pads do not have one value per "
                   "spatial dimension (pads: two)");
  for (int32_t i = 0; i < n; i++)
    if (w->k[i] < 1 || w->s[i] < 1 || w->d[i] < 1 || w->p[i] < 0 || w->p[n + i] < 0 ||
        w->k[i] > INT32_MAX || w->s[i] > INT32_MAX || w->d[i] > INT32_MAX ||
        w->p[i] > INT32_MAX || w->p[n + i] > INT32_MAX)
      return fail_at(c, NAD_ERR_FORMAT, "invalid kernel, stride, dilation or pad (dimension %d)",
                     (int)i);
  return NAD_OK;
}

/* Output size of each spatial dimension of x under w (auto_pad, ceil_mode as ONNX and
 * PyTorch: with ceil_mode, a last window that would start in the right padding is dropped). */
static nad_status window_out(const ctx *c, const nadi_onnx_value *x, const window *w,
                             int64_t *out) {
  const char *ap = nadi_onnx_attr_string(c->n, "auto_pad", "NOTSET");
  int ceil_mode = nadi_onnx_attr_int(c->n, "ceil_mode", 0) != 0;
  for (int32_t i = 0; i < w->n; i++) {
    int64_t len = x->dims[2 + i], eff = (w->k[i] - 1) * w->d[i] + 1, o;
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER"))
      o = (len + w->s[i] - 1) / w->s[i];
    else if (!strcmp(ap, "VALID"))
      o = len >= eff ? (len - eff) / w->s[i] + 1 : 0;
    else if (!strcmp(ap, "NOTSET") || !ap[0]) {
      int64_t num = len + w->p[i] + w->p[w->n + i] - eff;
      o = num < 0 ? 0 : (ceil_mode ? (num + w->s[i] - 1) / w->s[i] : num / w->s[i]) + 1;
      if (num >= 0 && ceil_mode && (o - 1) * w->s[i] >= len + w->p[i])
        o--;
    } else
      return fail_at(c, NAD_ERR_FORMAT, "unknown auto_pad '%.20s'", ap);
    if (o < 1)
      return fail_at(c, NAD_ERR_SHAPE, "the window (%lld wide with dilation) does not fit the "
                     "padded input (%lld) in spatial dimension %d", (long long)eff,
                     (long long)len, (int)i);
    out[2 + i] = o;
  }
  return NAD_OK;
}

static nad_status rule_conv(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0), *wt = in(c, 1);
  if (!known(x) || !known(wt))
    return NAD_OK;
  if (x->ndim < 3 || wt->ndim != x->ndim)
    return fail_at(c, NAD_ERR_SHAPE, "input rank %d and weight rank %d do not fit a "
                   "convolution", (int)x->ndim, (int)wt->ndim);
  int64_t g = nadi_onnx_attr_int(c->n, "group", 1);
  if (g < 1 || x->dims[1] % g != 0 || wt->dims[0] % g != 0 || wt->dims[1] * g != x->dims[1])
    return fail_at(c, NAD_ERR_SHAPE, "%lld input channels, group %lld and weight %lldx%lld do "
                   "not fit", (long long)x->dims[1], (long long)g, (long long)wt->dims[0],
                   (long long)wt->dims[1]);
  window w;
  NADI_TRY(read_window(c, x->ndim - 2, wt->dims + 2, &w));
  for (int32_t i = 0; i < w.n; i++)
    if (w.k[i] != wt->dims[2 + i])
      return fail_at(c, NAD_ERR_SHAPE, "kernel_shape differs from the weight's");
  int64_t out[NADI_ONNX_MAX_DIMS] = {x->dims[0], wt->dims[0]};
  NADI_TRY(window_out(c, x, &w, out));
  return set_out(c, 0, x->dtype, x->ndim, out);
}

static nad_status rule_pool(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  if (!known(x))
    return NAD_OK;
  if (x->ndim < 3)
    return fail_at(c, NAD_ERR_SHAPE, "pooling needs a rank-3 or higher input (rank %d)",
                   (int)x->ndim);
  window w;
  NADI_TRY(read_window(c, x->ndim - 2, NULL, &w));
  int64_t out[NADI_ONNX_MAX_DIMS] = {x->dims[0], x->dims[1]};
  NADI_TRY(window_out(c, x, &w, out));
  NADI_TRY(set_out(c, 0, x->dtype, x->ndim, out));
  return set_out(c, 1, NADI_ONNX_INT64, x->ndim, out); /* MaxPool's Indices */
}

static nad_status rule_global_pool(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  if (!known(x))
    return NAD_OK;
  if (x->ndim < 3)
    return fail_at(c, NAD_ERR_SHAPE, "global pooling needs rank 3 or more (rank %d)",
                   (int)x->ndim);
  int64_t out[NADI_ONNX_MAX_DIMS];
  for (int32_t d = 0; d < x->ndim; d++)
    out[d] = d < 2 ? x->dims[d] : 1;
  return set_out(c, 0, x->dtype, x->ndim, out);
}

/* ---- matrix products --------------------------------------------------------------------- */

static nad_status rule_gemm(const ctx *c) {
  const nadi_onnx_value *a = in(c, 0), *b = in(c, 1);
  if (!known(a) || !known(b))
    return NAD_OK;
  if (a->ndim != 2 || b->ndim != 2)
    return fail_at(c, NAD_ERR_SHAPE, "Gemm needs two matrices (ranks %d and %d)", (int)a->ndim,
                   (int)b->ndim);
  int ta = nadi_onnx_attr_int(c->n, "transA", 0) != 0;
  int tb = nadi_onnx_attr_int(c->n, "transB", 0) != 0;
  int64_t mm = a->dims[ta], ka = a->dims[!ta], kb = b->dims[tb], nn = b->dims[!tb];
  if (ka != kb)
    return fail_at(c, NAD_ERR_SHAPE, "inner dimensions differ (%lld and %lld)", (long long)ka,
                   (long long)kb);
  int64_t out[2] = {mm, nn};
  return set_out(c, 0, a->dtype, 2, out);
}

static nad_status rule_matmul(const ctx *c) {
  const nadi_onnx_value *a = in(c, 0), *b = in(c, 1);
  if (!known(a) || !known(b))
    return NAD_OK;
  if (a->ndim < 1 || b->ndim < 1)
    return fail_at(c, NAD_ERR_SHAPE, "MatMul of a scalar");
  int64_t ad[NADI_ONNX_MAX_DIMS + 1], bd[NADI_ONNX_MAX_DIMS + 1];
  int32_t na = a->ndim, nb = b->ndim;
  memcpy(ad + (na == 1), a->dims, (size_t)na * sizeof(int64_t));
  memcpy(bd, b->dims, (size_t)nb * sizeof(int64_t));
  if (na == 1)
    ad[0] = 1, na = 2;
  if (nb == 1)
    bd[1] = 1, nb = 2;
  if (ad[na - 1] != bd[nb - 2])
    return fail_at(c, NAD_ERR_SHAPE, "inner dimensions differ (%lld and %lld)",
                   (long long)ad[na - 1], (long long)bd[nb - 2]);
  int64_t out[NADI_ONNX_MAX_DIMS + 2];
  int32_t n;
  if (!nadi_onnx_broadcast(na - 2, ad, nb - 2, bd, &n, out))
    return fail_at(c, NAD_ERR_SHAPE, "batch dimensions do not broadcast");
  if (a->ndim > 1)
    out[n++] = ad[na - 2];
  if (b->ndim > 1)
    out[n++] = bd[nb - 1];
  return set_out(c, 0, a->dtype, n, out);
}

/* ---- shape manipulation ------------------------------------------------------------------ */

static nad_status rule_reshape(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  int64_t s[NADI_ONNX_MAX_DIMS + 1], total, rest = 1;
  int32_t n, infer = -1;
  if (!known(x) || !const_ints(c, 1, s, &n, NADI_ONNX_MAX_DIMS + 1))
    return NAD_OK;
  if (n > NADI_ONNX_MAX_DIMS)
    return fail_at(c, NAD_ERR_UNSUPPORTED, "target rank above %d", NADI_ONNX_MAX_DIMS);
  int allowzero = nadi_onnx_attr_int(c->n, "allowzero", 0) != 0;
  if (!nadi_prod_ok(x->dims, x->ndim, &total))
    return fail_at(c, NAD_ERR_FORMAT, "absurd input dimensions");
  for (int32_t d = 0; d < n; d++) {
    if (s[d] == 0 && !allowzero) {
      if (d >= x->ndim)
        return fail_at(c, NAD_ERR_SHAPE, "target dimension %d copies a missing dimension",
                       (int)d);
      s[d] = x->dims[d];
    }
    if (s[d] == -1 && infer < 0)
      infer = d;
    else if (s[d] < 0 || !nadi_mul_ok(rest, s[d], &rest))
      return fail_at(c, NAD_ERR_SHAPE, "invalid target dimension %lld", (long long)s[d]);
  }
  if (infer >= 0) {
    if (rest == 0 || total % rest != 0)
      return fail_at(c, NAD_ERR_SHAPE, "cannot infer the -1 dimension (%lld elements into "
                     "blocks of %lld)", (long long)total, (long long)rest);
    s[infer] = total / rest;
    rest = total;
  }
  if (rest != total)
    return fail_at(c, NAD_ERR_SHAPE, "%lld elements cannot be reshaped into %lld",
                   (long long)total, (long long)rest);
  return set_out(c, 0, x->dtype, n, s);
}

static nad_status rule_flatten(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  if (!known(x))
    return NAD_OK;
  int64_t a = nadi_onnx_attr_int(c->n, "axis", 1), out[2] = {1, 1};
  if (a < -x->ndim || a > x->ndim)
    return fail_at(c, NAD_ERR_FORMAT, "axis %lld out of range", (long long)a);
  if (a < 0)
    a += x->ndim;
  for (int32_t d = 0; d < x->ndim; d++)
    if (!nadi_mul_ok(out[d >= a], x->dims[d], &out[d >= a]))
      return fail_at(c, NAD_ERR_FORMAT, "absurd input dimensions");
  return set_out(c, 0, x->dtype, 2, out);
}

static nad_status rule_transpose(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  if (!known(x))
    return NAD_OK;
  int64_t perm[NADI_ONNX_MAX_DIMS], out[NADI_ONNX_MAX_DIMS];
  int32_t np = attr_ints(c, "perm", perm, NADI_ONNX_MAX_DIMS), seen = 0;
  if (np < 0)
    for (np = 0; np < x->ndim; np++)
      perm[np] = x->ndim - 1 - np;
  if (np != x->ndim)
    return fail_at(c, NAD_ERR_FORMAT, "perm has %d values for rank %d", (int)np, (int)x->ndim);
  for (int32_t d = 0; d < np; d++) {
    if (perm[d] < 0 || perm[d] >= np || (seen & (1 << perm[d])))
      return fail_at(c, NAD_ERR_FORMAT, "perm is not a permutation");
    seen |= 1 << perm[d];
    out[d] = x->dims[perm[d]];
  }
  return set_out(c, 0, x->dtype, np, out);
}

/* Axes of Squeeze/Unsqueeze/Reduce*: attribute `axes` (and, from opset `input_from`, input 1).
 * *n = -1 when there are none. 0 when they are an input that is not constant. */
static int read_axes(const ctx *c, int64_t input_from, int64_t *axes, int32_t *n) {
  *n = -1;
  if (c->m->opset >= input_from) {
    const nadi_onnx_value *a = in(c, 1);
    if (!a)
      return 1;
    return const_ints(c, 1, axes, n, NADI_ONNX_MAX_DIMS);
  }
  *n = attr_ints(c, "axes", axes, NADI_ONNX_MAX_DIMS);
  return *n != -2;
}

static nad_status rule_squeeze(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  int64_t axes[NADI_ONNX_MAX_DIMS], out[NADI_ONNX_MAX_DIMS];
  int32_t na, n = 0, drop = 0;
  if (!known(x) || !read_axes(c, 13, axes, &na))
    return NAD_OK;
  for (int32_t i = 0; i < na; i++) {
    int32_t a;
    NADI_TRY(norm_axis(c, axes[i], x->ndim, &a));
    if (x->dims[a] != 1)
      return fail_at(c, NAD_ERR_SHAPE, "cannot squeeze dimension %d of size %lld", (int)a,
                     (long long)x->dims[a]);
    drop |= 1 << a;
  }
  for (int32_t d = 0; d < x->ndim; d++)
    if (na < 0 ? x->dims[d] != 1 : !(drop & (1 << d)))
      out[n++] = x->dims[d];
  return set_out(c, 0, x->dtype, n, out);
}

static nad_status rule_unsqueeze(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  int64_t axes[NADI_ONNX_MAX_DIMS], out[NADI_ONNX_MAX_DIMS];
  int32_t na, add = 0, j = 0;
  if (!known(x) || !read_axes(c, 13, axes, &na))
    return NAD_OK;
  if (na < 0 || x->ndim + na > NADI_ONNX_MAX_DIMS)
    return fail_at(c, NAD_ERR_FORMAT, "no axes, or an output rank above %d", NADI_ONNX_MAX_DIMS);
  int32_t r = x->ndim + na;
  for (int32_t i = 0; i < na; i++) {
    int32_t a;
    NADI_TRY(norm_axis(c, axes[i], r, &a));
    if (add & (1 << a))
      return fail_at(c, NAD_ERR_FORMAT, "axis %d given twice", (int)a);
    add |= 1 << a;
  }
  for (int32_t d = 0; d < r; d++)
    out[d] = (add & (1 << d)) ? 1 : x->dims[j++];
  return set_out(c, 0, x->dtype, r, out);
}

static nad_status rule_concat(const ctx *c) {
  const nadi_onnx_value *x0 = in(c, 0);
  if (!known(x0))
    return NAD_OK;
  int32_t axis;
  NADI_TRY(norm_axis(c, nadi_onnx_attr_int(c->n, "axis", 0), x0->ndim, &axis));
  int64_t out[NADI_ONNX_MAX_DIMS];
  memcpy(out, x0->dims, sizeof out);
  for (int32_t i = 1; i < c->n->n_in; i++) {
    const nadi_onnx_value *x = in(c, i);
    if (!known(x))
      return NAD_OK;
    if (x->ndim != x0->ndim)
      return fail_at(c, NAD_ERR_SHAPE, "input %d has rank %d, input 0 rank %d", (int)i,
                     (int)x->ndim, (int)x0->ndim);
    for (int32_t d = 0; d < x->ndim; d++)
      if (d != axis && x->dims[d] != x0->dims[d])
        return fail_at(c, NAD_ERR_SHAPE, "input %d differs from input 0 in dimension %d",
                       (int)i, (int)d);
    if (!nadi_add_ok(out[axis], x->dims[axis], &out[axis]))
      return fail_at(c, NAD_ERR_FORMAT, "absurd dimensions");
  }
  return set_out(c, 0, x0->dtype, x0->ndim, out);
}

static nad_status rule_split(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  if (!known(x))
    return NAD_OK;
  int32_t axis, ns = -1, no = c->n->n_out;
  NADI_TRY(norm_axis(c, nadi_onnx_attr_int(c->n, "axis", 0), x->ndim, &axis));
  int64_t split[64], total = 0;
  if (no > 64)
    return fail_at(c, NAD_ERR_UNSUPPORTED, "more than 64 outputs");
  if (c->m->opset >= 13 && in(c, 1) && !const_ints(c, 1, split, &ns, 64))
    return NAD_OK;
  if (c->m->opset < 13)
    ns = attr_ints(c, "split", split, 64);
  if (ns < 0) { /* equal parts */
    if (no < 1 || x->dims[axis] % no != 0)
      return fail_at(c, NAD_ERR_SHAPE, "dimension %lld does not split into %d equal parts",
                     (long long)x->dims[axis], (int)no);
    for (ns = 0; ns < no; ns++)
      split[ns] = x->dims[axis] / no;
  }
  if (ns != no)
    return fail_at(c, NAD_ERR_FORMAT, "%d split sizes for %d outputs", (int)ns, (int)no);
  for (int32_t o = 0; o < no; o++)
    if (split[o] < 0 || !nadi_add_ok(total, split[o], &total))
      return fail_at(c, NAD_ERR_FORMAT, "negative split size");
  if (total != x->dims[axis])
    return fail_at(c, NAD_ERR_SHAPE, "split sizes add up to %lld, not %lld", (long long)total,
                   (long long)x->dims[axis]);
  for (int32_t o = 0; o < no; o++) {
    int64_t out[NADI_ONNX_MAX_DIMS];
    memcpy(out, x->dims, sizeof out);
    out[axis] = split[o];
    NADI_TRY(set_out(c, o, x->dtype, x->ndim, out));
  }
  return NAD_OK;
}

nad_status nadi_onnx_slice_plan(const nadi_onnx_model *m, int32_t k, int64_t *start,
                                int64_t *step, int64_t *len) {
  ctx c0 = {(nadi_onnx_model *)m, k, &m->nodes[k]}, *c = &c0;
  const nadi_onnx_value *x = in(c, 0);
  int64_t st[NADI_ONNX_MAX_DIMS], en[NADI_ONNX_MAX_DIMS], ax[NADI_ONNX_MAX_DIMS];
  int64_t sp[NADI_ONNX_MAX_DIMS];
  int32_t ns, ne, na = -1, nsp = -1, seen = 0;
  if (!known(x) || !const_ints(c, 1, st, &ns, x->ndim) || !const_ints(c, 2, en, &ne, x->ndim) ||
      (in(c, 3) && !const_ints(c, 3, ax, &na, x->ndim)) ||
      (in(c, 4) && !const_ints(c, 4, sp, &nsp, x->ndim)))
    return NAD_ERR_UNSUPPORTED;
  if (ne != ns || (na >= 0 && na != ns) || (nsp >= 0 && nsp != ns))
    return fail_at(c, NAD_ERR_FORMAT, "starts, ends, axes and steps differ in length");
  for (int32_t d = 0; d < x->ndim; d++)
    start[d] = 0, step[d] = 1, len[d] = x->dims[d];
  for (int32_t i = 0; i < ns; i++) {
    int32_t a;
    NADI_TRY(norm_axis(c, na >= 0 ? ax[i] : i, x->ndim, &a));
    int64_t dim = x->dims[a], s = st[i], e = en[i], p = nsp >= 0 ? sp[i] : 1;
    if (p == 0 || p == INT64_MIN || (seen & (1 << a)))
      return fail_at(c, NAD_ERR_FORMAT, "step 0 or axis %d sliced twice", (int)a);
    seen |= 1 << a;
    s = s < 0 ? (s < -dim ? 0 : s + dim) : s; /* no overflow: dim >= 0 */
    e = e < 0 ? (e < -dim ? (p > 0 ? 0 : -1) : e + dim) : e;
    if (p > 0) {
      s = s > dim ? dim : s;
      e = e > dim ? dim : e;
    } else {
      s = s > dim - 1 ? dim - 1 : s;
      e = e > dim - 1 ? dim - 1 : e;
    }
    int64_t n = p > 0 ? (e > s ? (e - s - 1) / p + 1 : 0) : (s > e ? (s - e - 1) / -p + 1 : 0);
    start[a] = s, step[a] = p, len[a] = n;
  }
  return NAD_OK;
}

static nad_status rule_slice(const ctx *c) {
  int64_t start[NADI_ONNX_MAX_DIMS], step[NADI_ONNX_MAX_DIMS], len[NADI_ONNX_MAX_DIMS];
  nad_status st = nadi_onnx_slice_plan(c->m, c->k, start, step, len);
  if (st == NAD_ERR_UNSUPPORTED)
    return NAD_OK;
  NADI_TRY(st);
  return set_out(c, 0, out_dtype(c), in(c, 0)->ndim, len);
}

static nad_status rule_gather(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0), *idx = in(c, 1);
  if (!known(x) || !known(idx))
    return NAD_OK;
  int32_t axis, n = 0;
  NADI_TRY(norm_axis(c, nadi_onnx_attr_int(c->n, "axis", 0), x->ndim, &axis));
  if (x->ndim - 1 + idx->ndim > NADI_ONNX_MAX_DIMS)
    return fail_at(c, NAD_ERR_UNSUPPORTED, "output rank above %d", NADI_ONNX_MAX_DIMS);
  int64_t out[NADI_ONNX_MAX_DIMS];
  for (int32_t d = 0; d < axis; d++)
    out[n++] = x->dims[d];
  for (int32_t d = 0; d < idx->ndim; d++)
    out[n++] = idx->dims[d];
  for (int32_t d = axis + 1; d < x->ndim; d++)
    out[n++] = x->dims[d];
  return set_out(c, 0, x->dtype, n, out);
}

/* Einsum: each output label's dimension, from the operands (every operand's labels spelled
 * out, no ellipsis; an implicit output is the labels used once, in alphabetical order). */
static nad_status rule_einsum(const ctx *c) {
  const char *eq = nadi_onnx_attr_string(c->n, "equation", "");
  int64_t dim[128];
  for (int q = 0; q < 128; q++)
    dim[q] = -1;
  int32_t op = 0, d = 0, arrow = 0;
  const char *p = eq;
  for (; *p && !arrow; p++) { /* the operands */
    if (*p == ' ')
      continue;
    if (*p == ',' || (*p == '-' && p[1] == '>')) {
      const nadi_onnx_value *x = in(c, op);
      if (!known(x))
        return NAD_OK;
      if (d != x->ndim)
        return fail_at(c, NAD_ERR_FORMAT, "equation '%s': operand %d has %d labels for rank %d",
                       eq, (int)op, (int)d, (int)x->ndim);
      arrow = *p == '-', p += arrow, op++, d = 0;
      continue;
    }
    const nadi_onnx_value *x = in(c, op);
    int l = (unsigned char)*p;
    if (!((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z')))
      return NAD_OK; /* an ellipsis: left unknown, the mapper names the node */
    if (!known(x) || d >= x->ndim)
      return NAD_OK;
    if (dim[l] >= 0 && dim[l] != x->dims[d])
      return fail_at(c, NAD_ERR_SHAPE, "equation '%s': label %c is %lld and %lld", eq, l,
                     (long long)dim[l], (long long)x->dims[d]);
    dim[l] = x->dims[d++];
  }
  if (!arrow || op != c->n->n_in)
    return NAD_OK; /* implicit output or a count mismatch: not a form libnad maps */
  int64_t out[NADI_ONNX_MAX_DIMS];
  int32_t n = 0;
  for (; *p; p++) {
    if (*p == ' ')
      continue;
    int l = (unsigned char)*p;
    if (l >= 128 || dim[l] < 0 || n >= NADI_ONNX_MAX_DIMS)
      return fail_at(c, NAD_ERR_FORMAT, "equation '%s': output label '%c'", eq, *p);
    out[n++] = dim[l];
  }
  return set_out(c, 0, out_dtype(c), n, out);
}

/* ScatterND: the data's shape (indices and updates are checked when it folds). */
static nad_status rule_scatternd(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  return known(x) ? set_out(c, 0, x->dtype, x->ndim, x->dims) : NAD_OK;
}

static nad_status rule_pad(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  int64_t p[2 * NADI_ONNX_MAX_DIMS], out[NADI_ONNX_MAX_DIMS];
  int32_t np;
  if (!known(x) || !const_ints(c, 1, p, &np, 2 * NADI_ONNX_MAX_DIMS))
    return NAD_OK;
  if (np != 2 * x->ndim)
    return fail_at(c, NAD_ERR_FORMAT, "%d pads for rank %d", (int)np, (int)x->ndim);
  for (int32_t d = 0; d < x->ndim; d++) {
    if (p[d] < -x->dims[d] || p[d] > INT32_MAX || p[x->ndim + d] > INT32_MAX)
      return fail_at(c, NAD_ERR_FORMAT, "invalid pads");
    out[d] = x->dims[d] + p[d] + p[x->ndim + d];
    if (out[d] < 0)
      return fail_at(c, NAD_ERR_SHAPE, "pads remove more than dimension %d has", (int)d);
  }
  return set_out(c, 0, x->dtype, x->ndim, out);
}

static nad_status rule_reduce(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  int64_t axes[NADI_ONNX_MAX_DIMS], out[NADI_ONNX_MAX_DIMS];
  int32_t na, n = 0, red = 0;
  int from = !strcmp(c->n->op, "ReduceSum") ? 13 : 18;
  if (!known(x) || !read_axes(c, from, axes, &na))
    return NAD_OK;
  int keep = nadi_onnx_attr_int(c->n, "keepdims", 1) != 0;
  if (na <= 0 && nadi_onnx_attr_int(c->n, "noop_with_empty_axes", 0))
    return set_out(c, 0, x->dtype, x->ndim, x->dims);
  for (int32_t i = 0; i < na; i++) {
    int32_t a;
    NADI_TRY(norm_axis(c, axes[i], x->ndim, &a));
    red |= 1 << a;
  }
  if (na <= 0)
    red = (1 << x->ndim) - 1;
  for (int32_t d = 0; d < x->ndim; d++)
    if (!(red & (1 << d)))
      out[n++] = x->dims[d];
    else if (keep)
      out[n++] = 1;
  return set_out(c, 0, x->dtype, n, out);
}

static nad_status rule_argmax(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  if (!known(x))
    return NAD_OK;
  int32_t a, n = 0;
  NADI_TRY(norm_axis(c, nadi_onnx_attr_int(c->n, "axis", 0), x->ndim, &a));
  int keep = nadi_onnx_attr_int(c->n, "keepdims", 1) != 0;
  int64_t out[NADI_ONNX_MAX_DIMS];
  for (int32_t d = 0; d < x->ndim; d++)
    if (d != a || keep)
      out[n++] = d == a ? 1 : x->dims[d];
  return set_out(c, 0, NADI_ONNX_INT64, n, out);
}

/* ---- shapes as values -------------------------------------------------------------------- */

/* Shape's [start, end) over a rank-r input (opset 15 attributes, clamped). */
static void shape_range(const ctx *c, int32_t r, int64_t *s, int64_t *e) {
  *s = nadi_onnx_attr_int(c->n, "start", 0);
  *e = nadi_onnx_attr_int(c->n, "end", r);
  *s = *s < 0 ? (*s < -r ? 0 : *s + r) : (*s > r ? r : *s);
  *e = *e < 0 ? (*e < -r ? 0 : *e + r) : (*e > r ? r : *e);
  if (*e < *s)
    *e = *s;
}

static nad_status rule_shape(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  if (!x || x->ndim < 0)
    return NAD_OK;
  int64_t s, e;
  shape_range(c, x->ndim, &s, &e);
  int64_t n = e - s;
  return set_out(c, 0, NADI_ONNX_INT64, 1, &n);
}

static nad_status rule_size(const ctx *c) {
  return in(c, 0) ? set_out(c, 0, NADI_ONNX_INT64, 0, NULL) : NAD_OK;
}

static nad_status rule_constant_of_shape(const ctx *c) {
  int64_t s[NADI_ONNX_MAX_DIMS + 1];
  int32_t n;
  const nadi_onnx_value *x = in(c, 0);
  if (x && x->data && x->data->count > NADI_ONNX_MAX_DIMS)
    return fail_at(c, NAD_ERR_UNSUPPORTED, "output rank above %d", NADI_ONNX_MAX_DIMS);
  if (!const_ints(c, 0, s, &n, NADI_ONNX_MAX_DIMS))
    return NAD_OK;
  for (int32_t d = 0; d < n; d++)
    if (s[d] < 0)
      return fail_at(c, NAD_ERR_SHAPE, "negative dimension %lld", (long long)s[d]);
  const nadi_onnx_attr *v = nadi_onnx_attr_find(c->n, "value");
  int32_t dt = v && v->type == NADI_ONNX_ATTR_TENSOR ? v->t->dtype : NADI_ONNX_FLOAT;
  return set_out(c, 0, dt, n, s);
}

static nad_status rule_expand(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  int64_t s[NADI_ONNX_MAX_DIMS], out[NADI_ONNX_MAX_DIMS];
  int32_t n, no;
  if (!known(x) || !const_ints(c, 1, s, &n, NADI_ONNX_MAX_DIMS))
    return NAD_OK;
  for (int32_t d = 0; d < n; d++)
    if (s[d] < 0)
      return fail_at(c, NAD_ERR_SHAPE, "negative dimension %lld", (long long)s[d]);
  if (!nadi_onnx_broadcast(x->ndim, x->dims, n, s, &no, out))
    return fail_at(c, NAD_ERR_SHAPE, "the input does not broadcast to the shape");
  return set_out(c, 0, x->dtype, no, out);
}

static nad_status rule_range(const ctx *c) {
  const nadi_onnx_value *a = in(c, 0), *b = in(c, 1), *d = in(c, 2);
  if (!a || !b || !d || !a->data || !b->data || !d->data)
    return NAD_OK;
  if (a->data->count != 1 || b->data->count != 1 || d->data->count != 1)
    return fail_at(c, NAD_ERR_SHAPE, "start, limit and delta must be scalars");
  double s = nadi_onnx_get_d(a->data, 0), l = nadi_onnx_get_d(b->data, 0);
  double dl = nadi_onnx_get_d(d->data, 0), n = 0;
  if (dl == 0 || dl != dl || s != s || l != l)
    return fail_at(c, NAD_ERR_FORMAT, "delta 0 or NaN bounds");
  if (a->data->i) { /* exact for integers */
    int64_t si = a->data->i[0], li = nadi_onnx_get_i(b->data, 0), di = nadi_onnx_get_i(d->data, 0);
    n = di > 0 ? (li > si ? ((double)li - (double)si + (double)di - 1) / (double)di : 0)
               : (si > li ? ((double)si - (double)li - (double)di - 1) / (double)-di : 0);
    n = (double)(int64_t)n;
  } else {
    n = (l - s) / dl;
    n = n > 0 ? __builtin_ceil(n) : 0;
  }
  if (n > (double)NADI_ONNX_MAX_ELEMS)
    return fail_at(c, NAD_ERR_FORMAT, "absurd range (%g elements)", n);
  int64_t len = (int64_t)n;
  return set_out(c, 0, a->dtype, 1, &len);
}

static nad_status rule_tile(const ctx *c) {
  const nadi_onnx_value *x = in(c, 0);
  int64_t r[NADI_ONNX_MAX_DIMS], out[NADI_ONNX_MAX_DIMS];
  int32_t n;
  if (!known(x) || !const_ints(c, 1, r, &n, NADI_ONNX_MAX_DIMS))
    return NAD_OK;
  if (n != x->ndim)
    return fail_at(c, NAD_ERR_FORMAT, "%d repeats for rank %d", (int)n, (int)x->ndim);
  for (int32_t d = 0; d < n; d++)
    if (!nadi_mul_ok(x->dims[d], r[d], &out[d]))
      return fail_at(c, NAD_ERR_FORMAT, "invalid repeats");
  return set_out(c, 0, x->dtype, n, out);
}

/* ---- the table --------------------------------------------------------------------------- */

typedef struct rule {
  const char *op;
  nad_status (*fn)(const ctx *c);
} rule;

static const rule rules[] = {
  {"Relu", rule_unary}, {"Sigmoid", rule_unary}, {"Tanh", rule_unary}, {"Erf", rule_unary},
  {"Sqrt", rule_unary}, {"Exp", rule_unary}, {"Log", rule_unary}, {"Neg", rule_unary},
  {"Abs", rule_unary}, {"Reciprocal", rule_unary}, {"Floor", rule_unary}, {"Ceil", rule_unary},
  {"Clip", rule_unary}, {"HardSwish", rule_unary}, {"HardSigmoid", rule_unary},
  {"LeakyRelu", rule_unary}, {"Elu", rule_unary}, {"Selu", rule_unary}, {"Celu", rule_unary},
  {"Softplus", rule_unary}, {"Softsign", rule_unary}, {"Mish", rule_unary}, {"Gelu", rule_unary},
  {"Softmax", rule_unary}, {"LogSoftmax", rule_unary}, {"Hardmax", rule_unary},
  {"Identity", rule_unary}, {"Dropout", rule_unary}, {"Not", rule_unary}, {"Sign", rule_unary},
  {"Round", rule_unary}, {"Sin", rule_unary}, {"Cos", rule_unary}, {"LRN", rule_unary},
  {"InstanceNormalization", rule_unary}, {"GroupNormalization", rule_unary},
  {"Cast", rule_cast}, {"BatchNormalization", rule_batchnorm},
  {"LayerNormalization", rule_layernorm},
  {"Add", rule_broadcast}, {"Sub", rule_broadcast}, {"Mul", rule_broadcast},
  {"Div", rule_broadcast}, {"Pow", rule_broadcast}, {"Mod", rule_broadcast},
  {"Max", rule_broadcast}, {"Min", rule_broadcast}, {"Sum", rule_broadcast},
  {"Mean", rule_broadcast}, {"PRelu", rule_broadcast}, {"Where", rule_broadcast},
  {"Equal", rule_broadcast}, {"Less", rule_broadcast}, {"Greater", rule_broadcast},
  {"LessOrEqual", rule_broadcast}, {"GreaterOrEqual", rule_broadcast},
  {"And", rule_broadcast}, {"Or", rule_broadcast}, {"Xor", rule_broadcast},
  {"Conv", rule_conv}, {"MaxPool", rule_pool}, {"AveragePool", rule_pool},
  {"LpPool", rule_pool}, {"GlobalAveragePool", rule_global_pool},
  {"GlobalMaxPool", rule_global_pool}, {"GlobalLpPool", rule_global_pool},
  {"Gemm", rule_gemm}, {"MatMul", rule_matmul},
  {"Reshape", rule_reshape}, {"Flatten", rule_flatten}, {"Transpose", rule_transpose},
  {"Squeeze", rule_squeeze}, {"Unsqueeze", rule_unsqueeze}, {"Concat", rule_concat},
  {"Split", rule_split}, {"Slice", rule_slice}, {"Gather", rule_gather}, {"Pad", rule_pad},
  {"ScatterND", rule_scatternd}, {"Einsum", rule_einsum},
  {"ReduceMean", rule_reduce}, {"ReduceSum", rule_reduce}, {"ReduceMax", rule_reduce},
  {"ReduceMin", rule_reduce}, {"ReduceProd", rule_reduce}, {"ReduceL1", rule_reduce},
  {"ReduceL2", rule_reduce}, {"ReduceSumSquare", rule_reduce},
  {"ReduceLogSumExp", rule_reduce}, {"ArgMax", rule_argmax}, {"ArgMin", rule_argmax},
  {"Shape", rule_shape}, {"Size", rule_size}, {"ConstantOfShape", rule_constant_of_shape},
  {"Expand", rule_expand}, {"Range", rule_range}, {"Tile", rule_tile},
};

static const rule *find_rule(const nadi_onnx_node *n) {
  if (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
    return NULL;
  for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++)
    if (!strcmp(rules[r].op, n->op))
      return &rules[r];
  return NULL;
}

/* ---- the driver -------------------------------------------------------------------------- */

/* Whether node n can be evaluated now: Shape/Size of a known shape, else every input a
 * non-parameter constant (and at least one input, except for Constant). */
static int foldable(const ctx *c) {
  const char *op = c->n->op;
  if (c->n->domain[0] && strcmp(c->n->domain, "ai.onnx") != 0)
    return 0;
  if (!strcmp(op, "Constant"))
    return 1;
  if (!strcmp(op, "Shape") || !strcmp(op, "Size"))
    return known(in(c, 0));
  int any = 0;
  for (int32_t i = 0; i < c->n->n_in; i++) {
    const nadi_onnx_value *x = in(c, i);
    if (x && (!x->data || x->is_param))
      return 0;
    any |= x != NULL;
  }
  return any;
}

/* The input shape: graph input 0 takes `shape`, every graph input must then be fully known. */
static nad_status set_inputs(nadi_onnx_model *m, const int64_t *shape, int32_t ndim) {
  if (m->n_inputs < 1)
    return nadi_fail(NAD_ERR_SHAPE, "%s: the graph has no input", m->name);
  nadi_onnx_value *x = &m->values[m->inputs[0]];
  if (shape && ndim > 0) {
    if (ndim > NADI_ONNX_MAX_DIMS || (x->ndim >= 0 && x->ndim != ndim))
      return nadi_fail(NAD_ERR_SHAPE, "%s: input '%.100s' has rank %d, an input shape of rank %d "
                       "was given", m->name, x->name, (int)x->ndim, (int)ndim);
    x->ndim = ndim;
    for (int32_t d = 0; d < ndim; d++) {
      if (shape[d] < 1 || shape[d] > NADI_ONNX_MAX_ELEMS)
        return nadi_fail(NAD_ERR_SHAPE, "%s: input dimension %d is %lld", m->name, (int)d,
                         (long long)shape[d]);
      x->dims[d] = shape[d];
    }
  }
  for (int32_t i = 0; i < m->n_inputs; i++) {
    nadi_onnx_value *v = &m->values[m->inputs[i]];
    int64_t count;
    if (v->ndim < 0)
      return nadi_fail(NAD_ERR_SHAPE, "%s: input '%.100s' has no shape in the file: give one",
                       m->name, v->name);
    for (int32_t d = 0; d < v->ndim; d++)
      if (v->dims[d] < 0)
        return nadi_fail(NAD_ERR_SHAPE, "%s: input '%.100s' has a dynamic dimension %d ('%.40s') "
                         "that cannot be resolved: give the input shape", m->name, v->name,
                         (int)d, v->sym[d] ? v->sym[d] : "?");
    if (!nadi_prod_ok(v->dims, v->ndim, &count) || count > NADI_ONNX_MAX_ELEMS)
      return nadi_fail(NAD_ERR_SHAPE, "%s: input '%.100s' has absurd dimensions", m->name,
                       v->name);
  }
  return NAD_OK;
}

/* Evaluates node k when it folds; its outputs become constants. */
static nad_status try_fold(const ctx *c, int *folded) {
  *folded = 0;
  if (c->n->n_out < 1 || c->n->n_out > 8 || !foldable(c))
    return NAD_OK;
  for (int32_t o = 0; o < c->n->n_out; o++) {
    if (c->n->out[o] < 0)
      return NAD_OK; /* an omitted output: keep the node as it is */
    const nadi_onnx_value *v = &c->m->values[c->n->out[o]];
    int64_t count;
    if (strcmp(c->n->op, "Constant") != 0 &&
        (!known(v) || !nadi_prod_ok(v->dims, v->ndim, &count) || count > NADI_ONNX_FOLD_MAX))
      return NAD_OK;
  }
  nadi_onnx_tensor *outs[8] = {0};
  nad_status st = nadi_onnx_fold_node(c->m, c->k, outs);
  if (st == NAD_ERR_UNSUPPORTED)
    return NAD_OK;
  NADI_TRY(st);
  for (int32_t o = 0; o < c->n->n_out; o++)
    if (!outs[o])
      return NAD_OK; /* an output the evaluator does not make (a node with extra outputs) */
  for (int32_t o = 0; o < c->n->n_out; o++) {
    nadi_onnx_value *v = &c->m->values[c->n->out[o]];
    v->data = outs[o];
    v->kind = NADI_ONNX_CONST;
    v->producer = -1;
    v->dtype = outs[o]->dtype;
    v->ndim = outs[o]->ndim;
    for (int32_t d = 0; d < NADI_ONNX_MAX_DIMS; d++)
      v->dims[d] = d < v->ndim ? outs[o]->dims[d] : -1;
  }
  *folded = 1;
  return NAD_OK;
}

/* Drops the folded nodes and renumbers the producers. */
static void compact(nadi_onnx_model *m, const uint8_t *gone) {
  int32_t j = 0;
  for (int32_t k = 0; k < m->n_nodes; k++) {
    if (gone[k])
      continue;
    m->nodes[j] = m->nodes[k];
    for (int32_t o = 0; o < m->nodes[j].n_out; o++)
      if (m->nodes[j].out[o] >= 0)
        m->values[m->nodes[j].out[o]].producer = j;
    j++;
  }
  m->n_nodes = j;
}

nad_status nadi_onnx_infer_shapes(nadi_onnx_model *m, const int64_t *input_shape, int32_t ndim) {
  if (m->shaped_ndim > 0) {
    int same = !input_shape || ndim <= 0 || ndim == m->shaped_ndim;
    for (int32_t d = 0; same && input_shape && d < ndim; d++)
      same = input_shape[d] == m->shaped[d];
    return same ? NAD_OK
                : nadi_fail(NAD_ERR_MISUSE, "%s: the shapes were already folded for another "
                            "input shape: read the model again", m->name);
  }
  NADI_TRY(set_inputs(m, input_shape, ndim));
  uint8_t *gone = nadi_onnx_arena_alloc(m, (size_t)m->n_nodes, 1);
  if (!gone && m->n_nodes > 0)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "%s: out of memory", m->name);
  for (int32_t k = 0; k < m->n_nodes; k++) {
    ctx c = {m, k, &m->nodes[k]};
    const rule *r = find_rule(c.n);
    if (r)
      NADI_TRY(r->fn(&c));
    int folded;
    NADI_TRY(try_fold(&c, &folded));
    gone[k] = (uint8_t)folded;
  }
  compact(m, gone);
  const nadi_onnx_value *x = &m->values[m->inputs[0]];
  m->shaped_ndim = x->ndim > 0 ? x->ndim : 1;
  memcpy(m->shaped, x->dims, sizeof m->shaped);
  return NAD_OK;
}
