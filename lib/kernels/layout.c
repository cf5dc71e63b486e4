/* Layout kinds with ONNX semantics, on the per-sample dims (batch axis included): transpose,
 * reshape, flatten_axis, concat_axis, slice, gather (one constant index), pad (constant mode)
 * and identity. None computes anything: each maps input elements one to one onto output
 * elements, described as a "box" (a count per axis, and the element strides of that walk on the
 * input side and on the output side). Forward copies x[box] to y[box]; backward adds dy[box]
 * into dx[box]. The batch is one more outer axis of the box. Pad fills y with its constant
 * first; concat_axis runs one box per input; reshape, flatten_axis and identity are plain
 * copies (the element order never changes).
 *
 * shape() validates every hyper-parameter against the input's rank and resets the array
 * entries beyond it to 0, so that equal layers hash equal in the fingerprint. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"

#define BOX_RANK (NADI_MAX_RANK + 1)

typedef struct box {
  int64_t rank;
  int64_t count[BOX_RANK];
  int64_t xs[BOX_RANK], ys[BOX_RANK]; /* strides on the input and output sides */
  int64_t x_off, y_off;               /* element offset of the box's origin, per sample */
} box;

/* A planner describes input j's box for one sample. */
typedef void (*box_planner)(const nadi_layer *l, int j, box *b);

static void strides_of(const nadi_dims *s, int64_t st[NADI_MAX_RANK]) {
  int64_t m = 1;
  for (int64_t i = s->rank - 1; i >= 0; i--)
    st[i] = m, m *= s->d[i];
}

/* dst[walk(dst_st)] = or += src[walk(src_st)] over the box's counts; the last axis is the inner
 * loop. */
static void box_walk(const box *b, const float *src, const int64_t *src_st, float *dst,
                     const int64_t *dst_st, int acc) {
  int64_t r = b->rank, idx[BOX_RANK] = {0}, outer = 1;
  for (int64_t i = 0; i < r - 1; i++)
    outer *= b->count[i];
  int64_t n = b->count[r - 1], ss = src_st[r - 1], ds = dst_st[r - 1];
  for (int64_t o = 0; o < outer; o++) {
    int64_t so = 0, dso = 0;
    for (int64_t i = 0; i < r - 1; i++)
      so += idx[i] * src_st[i], dso += idx[i] * dst_st[i];
    const float *s = src + so;
    float *d = dst + dso;
    if (acc)
      for (int64_t q = 0; q < n; q++)
        d[q * ds] += s[q * ss];
    else if (ss == 1 && ds == 1)
      memcpy(d, s, (size_t)n * sizeof(float));
    else
      for (int64_t q = 0; q < n; q++)
        d[q * ds] = s[q * ss];
    for (int64_t i = r - 2; i >= 0 && ++idx[i] == b->count[i]; i--)
      idx[i] = 0;
  }
}

/* Input j's per-sample box with the batch prepended as its outer axis. */
static void batched_box(const nadi_layer *l, box_planner plan, int j, int64_t batch, box *b) {
  box p;
  memset(&p, 0, sizeof p);
  plan(l, j, &p);
  b->rank = p.rank + 1;
  b->count[0] = batch;
  b->xs[0] = nadi_dims_numel(&l->in_dims[j]);
  b->ys[0] = nadi_dims_numel(&l->out_dims);
  for (int64_t i = 0; i < p.rank; i++)
    b->count[i + 1] = p.count[i], b->xs[i + 1] = p.xs[i], b->ys[i + 1] = p.ys[i];
  b->x_off = p.x_off, b->y_off = p.y_off;
}

static void box_forward(const nadi_layer *l, box_planner plan, const float *const *xs, float *y,
                        int64_t batch) {
  for (int j = 0; j < l->n_in; j++) {
    box b;
    batched_box(l, plan, j, batch, &b);
    box_walk(&b, xs[j] + b.x_off, b.xs, y + b.y_off, b.ys, 0);
  }
}

static void box_backward(const nadi_layer *l, box_planner plan, const float *dy,
                         float *const *dxs, int64_t batch) {
  for (int j = 0; dxs && j < l->n_in; j++) {
    if (!dxs[j])
      continue;
    box b;
    batched_box(l, plan, j, batch, &b);
    box_walk(&b, dy + b.y_off, b.ys, dxs[j] + b.x_off, b.xs, 1);
  }
}

/* ---- the boxes ------------------------------------------------------------------------------- */

/* Output axis i walks input axis perm[i]. */
static void transpose_plan(const nadi_layer *l, int j, box *b) {
  int64_t xs[NADI_MAX_RANK], ys[NADI_MAX_RANK];
  (void)j;
  strides_of(&l->in_dims[0], xs), strides_of(&l->out_dims, ys);
  b->rank = l->out_dims.rank;
  for (int64_t i = 0; i < b->rank; i++)
    b->count[i] = l->out_dims.d[i], b->xs[i] = xs[l->perm[i]], b->ys[i] = ys[i];
}

/* ONNX Slice on axis i (positive step): start and end clamped to [0, d]; count of the taken. */
static void slice_axis(const nadi_layer *l, int64_t i, int64_t *start, int64_t *count) {
  int64_t d = l->in_dims[0].d[i], s = l->starts[i], e = l->ends[i], st = l->steps[i];
  s = s < 0 ? s + d : s, e = e < 0 ? e + d : e;
  s = s < 0 ? 0 : s > d ? d : s;
  e = e < 0 ? 0 : e > d ? d : e;
  *start = s;
  *count = e > s ? (e - s - 1) / st + 1 : 0;
}

static void slice_plan(const nadi_layer *l, int j, box *b) {
  int64_t xs[NADI_MAX_RANK];
  (void)j;
  const nadi_dims *in = &l->in_dims[0];
  strides_of(in, xs);
  b->rank = in->rank;
  int64_t yst = 1;
  for (int64_t i = b->rank - 1; i >= 0; i--) {
    int64_t start;
    slice_axis(l, i, &start, &b->count[i]);
    b->xs[i] = xs[i] * l->steps[i];
    b->x_off += start * xs[i];
    b->ys[i] = yst, yst *= b->count[i];
  }
}

/* A slice of width 1 at the index; the output has the same elements in the same order. */
static void gather_plan(const nadi_layer *l, int j, box *b) {
  int64_t xs[NADI_MAX_RANK];
  (void)j;
  const nadi_dims *in = &l->in_dims[0];
  strides_of(in, xs);
  b->rank = in->rank;
  int64_t yst = 1;
  for (int64_t i = b->rank - 1; i >= 0; i--) {
    b->count[i] = i == l->tensor_axis ? 1 : in->d[i];
    b->xs[i] = xs[i];
    b->ys[i] = yst, yst *= b->count[i];
  }
  b->x_off = l->gather_index * xs[l->tensor_axis];
}

/* Input j lands at offset (0, ..., d0[axis] for j = 1, ..., 0) of the output. */
static void concat_plan(const nadi_layer *l, int j, box *b) {
  int64_t xs[NADI_MAX_RANK], ys[NADI_MAX_RANK];
  strides_of(&l->in_dims[j], xs), strides_of(&l->out_dims, ys);
  b->rank = l->out_dims.rank;
  for (int64_t i = 0; i < b->rank; i++)
    b->count[i] = l->in_dims[j].d[i], b->xs[i] = xs[i], b->ys[i] = ys[i];
  b->y_off = j ? l->in_dims[0].d[l->tensor_axis] * ys[l->tensor_axis] : 0;
}

/* The input lands at offset (begin pads) of the output. */
static void pad_plan(const nadi_layer *l, int j, box *b) {
  int64_t xs[NADI_MAX_RANK], ys[NADI_MAX_RANK];
  (void)j;
  strides_of(&l->in_dims[0], xs), strides_of(&l->out_dims, ys);
  b->rank = l->out_dims.rank;
  for (int64_t i = 0; i < b->rank; i++) {
    b->count[i] = l->in_dims[0].d[i], b->xs[i] = xs[i], b->ys[i] = ys[i];
    b->y_off += l->pads[i] * ys[i];
  }
}

/* ---- ops ------------------------------------------------------------------------------------- */

#define BOX_OPS(kind, plan)                                                                    \
  static void kind##_forward(const nadi_layer *l, float *params, const float *const *xs,       \
                             float *y, nadi_ctx *ctx) {                                        \
    (void)params;                                                                              \
    box_forward(l, plan, xs, y, ctx->batch);                                                   \
  }                                                                                            \
  static void kind##_backward(const nadi_layer *l, const float *params, const float *const *xs, \
                              const float *y, const float *dy, float *const *dxs,              \
                              float *dparams, nadi_ctx *ctx) {                                 \
    (void)params, (void)xs, (void)y, (void)dparams;                                            \
    box_backward(l, plan, dy, dxs, ctx->batch);                                                \
  }                                                                                            \
  static const nadi_layer_ops kind##_ops = {                                                   \
      .name = #kind, .forward = kind##_forward, .backward = kind##_backward};

BOX_OPS(transpose, transpose_plan)
BOX_OPS(slice, slice_plan)
BOX_OPS(gather, gather_plan)
BOX_OPS(concat_axis, concat_plan)

static void pad_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                        nadi_ctx *ctx) {
  (void)params;
  nadi_init_fill(y, ctx->batch * nadi_dims_numel(&l->out_dims), (float)l->pad_value);
  box_forward(l, pad_plan, xs, y, ctx->batch);
}

static void pad_backward(const nadi_layer *l, const float *params, const float *const *xs,
                         const float *y, const float *dy, float *const *dxs, float *dparams,
                         nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  box_backward(l, pad_plan, dy, dxs, ctx->batch);
}

static const nadi_layer_ops pad_ops = {.name = "pad", .forward = pad_forward,
                                       .backward = pad_backward};

/* reshape, flatten_axis, identity: the same elements in the same order */
static void copy_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                         nadi_ctx *ctx) {
  (void)params;
  memcpy(y, xs[0], (size_t)(ctx->batch * nadi_dims_numel(&l->out_dims)) * sizeof(float));
}

static void copy_backward(const nadi_layer *l, const float *params, const float *const *xs,
                          const float *y, const float *dy, float *const *dxs, float *dparams,
                          nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  float *dx = dxs ? dxs[0] : NULL;
  int64_t n = ctx->batch * nadi_dims_numel(&l->out_dims);
  for (int64_t i = 0; dx && i < n; i++)
    dx[i] += dy[i];
}

static const nadi_layer_ops reshape_ops = {.name = "reshape", .forward = copy_forward,
                                           .backward = copy_backward};
static const nadi_layer_ops flatten_axis_ops = {.name = "flatten_axis", .forward = copy_forward,
                                                .backward = copy_backward};
static const nadi_layer_ops identity_ops = {.name = "identity", .forward = copy_forward,
                                            .backward = copy_backward};

/* ---- descriptions ---------------------------------------------------------------------------- */

/* NADI_CHECK stated as the refusal's condition */
#define FAIL_IF(cond, st, ...) NADI_CHECK(!(cond), st, __VA_ARGS__)

static void dims_text(const nadi_dims *s, char *buf, size_t n) {
  int at = snprintf(buf, n, "(");
  for (int64_t i = 0; i < s->rank && at > 0 && (size_t)at < n; i++)
    at += snprintf(buf + at, n - (size_t)at, i ? ",%lld" : "%lld", (long long)s->d[i]);
  if (at > 0 && (size_t)at < n)
    snprintf(buf + at, n - (size_t)at, ")");
}

static void zero_from(int64_t *a, int64_t from, int64_t n) {
  for (int64_t i = from; i < n; i++)
    a[i] = 0;
}

/* axis in [-r, r - 1 + extra] (extra = 1: flatten's axis may be r), made non-negative */
static nad_status check_axis(nadi_layer *l, int64_t index, int64_t r, int extra) {
  const char *name = nadi_ops(l->kind)->name;
  FAIL_IF(l->tensor_axis < -r || l->tensor_axis > r - 1 + extra, NAD_ERR_INVALID_ARG,
          "layer %lld (%s): axis %lld is out of range for a rank-%lld input (valid: %lld..%lld)",
          (long long)index, name, (long long)l->tensor_axis, (long long)r, (long long)-r,
          (long long)(r - 1 + extra));
  if (l->tensor_axis < 0)
    l->tensor_axis += r;
  return NAD_OK;
}

static nad_status transpose_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *in = &l->in_dims[0];
  int seen[NADI_MAX_RANK] = {0};
  zero_from(l->perm, in->rank, NADI_MAX_RANK);
  snprintf(l->desc, sizeof l->desc, "transpose");
  for (int64_t i = 0; i < in->rank; i++) {
    int64_t p = l->perm[i];
    FAIL_IF(p < 0 || p >= in->rank || seen[p], NAD_ERR_INVALID_ARG,
            "layer %lld (transpose): perm is not a permutation of 0..%lld (perm[%lld] = %lld %s)",
            (long long)index, (long long)in->rank - 1, (long long)i, (long long)p,
            p < 0 || p >= in->rank ? "is out of range" : "repeats");
    seen[p] = 1;
  }
  l->out_dims.rank = in->rank;
  int at = snprintf(l->desc, sizeof l->desc, "transpose (");
  for (int64_t i = 0; i < in->rank; i++) {
    l->out_dims.d[i] = in->d[l->perm[i]];
    at += snprintf(l->desc + at, sizeof l->desc - (size_t)at, i ? ",%lld" : "%lld",
                   (long long)l->perm[i]);
  }
  snprintf(l->desc + at, sizeof l->desc - (size_t)at, ")");
  return NAD_OK;
}

static nad_status reshape_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *in = &l->in_dims[0];
  int64_t r = l->reshape_rank, n = nadi_dims_numel(in), known = 1, infer = -1;
  snprintf(l->desc, sizeof l->desc, "reshape");
  FAIL_IF(r < 1 || r > NADI_MAX_RANK, NAD_ERR_INVALID_ARG,
          "layer %lld (reshape): target rank %lld is not in [1, %d]", (long long)index,
          (long long)r, NADI_MAX_RANK);
  zero_from(l->reshape_dims, r, NADI_MAX_RANK);
  nadi_dims o = {r, {0}};
  for (int64_t i = 0; i < r; i++) {
    int64_t d = l->reshape_dims[i];
    FAIL_IF(d < -1 || (d == -1 && infer >= 0) || (d == 0 && i >= in->rank), NAD_ERR_INVALID_ARG,
            "layer %lld (reshape): target dim %lld = %lld is invalid (>= 1; 0 copies an input "
            "dim that exists; at most one -1)", (long long)index, (long long)i, (long long)d);
    o.d[i] = d == 0 ? in->d[i] : d;
    if (d == -1)
      infer = i;
    else
      FAIL_IF(!nadi_mul_ok(known, o.d[i], &known), NAD_ERR_SHAPE,
              "layer %lld (reshape): target size overflows", (long long)index);
  }
  char ti[96], to[96];
  dims_text(in, ti, sizeof ti);
  FAIL_IF(infer >= 0 && n % known != 0, NAD_ERR_SHAPE,
          "layer %lld (reshape): %s has %lld elements, not a multiple of %lld: the -1 of the "
          "target cannot be inferred", (long long)index, ti, (long long)n, (long long)known);
  if (infer >= 0)
    o.d[infer] = n / known;
  dims_text(&o, to, sizeof to);
  FAIL_IF(nadi_dims_numel(&o) != n, NAD_ERR_SHAPE,
          "layer %lld (reshape): %s has %lld elements, the target %s has %lld", (long long)index,
          ti, (long long)n, to, (long long)known);
  snprintf(l->desc, sizeof l->desc, "reshape %.48s", to);
  l->out_dims = o;
  return NAD_OK;
}

static nad_status flatten_axis_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *in = &l->in_dims[0];
  snprintf(l->desc, sizeof l->desc, "flatten_axis");
  NADI_TRY(check_axis(l, index, in->rank, 1));
  nadi_dims o = {2, {1, 1}};
  for (int64_t i = 0; i < in->rank; i++)
    o.d[i >= l->tensor_axis] *= in->d[i]; /* no overflow: the producer's size was checked */
  snprintf(l->desc, sizeof l->desc, "flatten_axis %lld", (long long)l->tensor_axis);
  l->out_dims = o;
  return NAD_OK;
}

static nad_status concat_axis_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *a = &l->in_dims[0], *b = &l->in_dims[1];
  char ta[96], tb[96];
  dims_text(a, ta, sizeof ta), dims_text(b, tb, sizeof tb);
  snprintf(l->desc, sizeof l->desc, "concat_axis");
  NADI_TRY(check_axis(l, index, a->rank, 0));
  int64_t ax = l->tensor_axis;
  int same = a->rank == b->rank;
  for (int64_t i = 0; same && i < a->rank; i++)
    same = i == ax || a->d[i] == b->d[i];
  FAIL_IF(!same, NAD_ERR_SHAPE,
          "layer %lld (concat_axis): %s and %s differ on an axis other than %lld",
          (long long)index, ta, tb, (long long)ax);
  FAIL_IF(a->d[ax] > INT64_MAX - b->d[ax], NAD_ERR_SHAPE,
          "layer %lld (concat_axis): the size along axis %lld overflows", (long long)index,
          (long long)ax);
  l->out_dims = *a;
  l->out_dims.d[ax] += b->d[ax];
  snprintf(l->desc, sizeof l->desc, "concat_axis %lld", (long long)ax);
  return NAD_OK;
}

static nad_status slice_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *in = &l->in_dims[0];
  snprintf(l->desc, sizeof l->desc, "slice");
  zero_from(l->starts, in->rank, NADI_MAX_RANK), zero_from(l->ends, in->rank, NADI_MAX_RANK);
  zero_from(l->steps, in->rank, NADI_MAX_RANK);
  l->out_dims.rank = in->rank;
  for (int64_t i = 0; i < in->rank; i++) {
    FAIL_IF(l->steps[i] < 1, NAD_ERR_INVALID_ARG,
            "layer %lld (slice): step %lld on axis %lld is not supported (steps must be >= 1)",
            (long long)index, (long long)l->steps[i], (long long)i);
    int64_t start;
    slice_axis(l, i, &start, &l->out_dims.d[i]);
    FAIL_IF(l->out_dims.d[i] < 1, NAD_ERR_SHAPE,
            "layer %lld (slice): axis %lld (size %lld) sliced [%lld:%lld:%lld] is empty",
            (long long)index, (long long)i, (long long)in->d[i], (long long)l->starts[i],
            (long long)l->ends[i], (long long)l->steps[i]);
  }
  char to[96];
  dims_text(&l->out_dims, to, sizeof to);
  snprintf(l->desc, sizeof l->desc, "slice -> %.48s", to);
  return NAD_OK;
}

static nad_status gather_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *in = &l->in_dims[0];
  snprintf(l->desc, sizeof l->desc, "gather");
  FAIL_IF(in->rank < 2, NAD_ERR_SHAPE,
          "layer %lld (gather): a rank-%lld input would give a scalar", (long long)index,
          (long long)in->rank);
  NADI_TRY(check_axis(l, index, in->rank, 0));
  int64_t ax = l->tensor_axis, d = in->d[ax];
  FAIL_IF(l->gather_index < -d || l->gather_index >= d, NAD_ERR_INVALID_ARG,
          "layer %lld (gather): index %lld is out of range for axis %lld of size %lld",
          (long long)index, (long long)l->gather_index, (long long)ax, (long long)d);
  if (l->gather_index < 0)
    l->gather_index += d;
  l->out_dims.rank = in->rank - 1;
  for (int64_t i = 0, o = 0; i < in->rank; i++)
    if (i != ax)
      l->out_dims.d[o++] = in->d[i];
  snprintf(l->desc, sizeof l->desc, "gather axis %lld index %lld", (long long)ax,
           (long long)l->gather_index);
  return NAD_OK;
}

static nad_status pad_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *in = &l->in_dims[0];
  int64_t r = in->rank;
  snprintf(l->desc, sizeof l->desc, "pad");
  FAIL_IF(l->pad_mode != 0, NAD_ERR_UNSUPPORTED,
          "layer %lld (pad): mode %lld is not supported (only 0 = 'constant')", (long long)index,
          (long long)l->pad_mode);
  zero_from(l->pads, 2 * r, 2 * NADI_MAX_RANK);
  l->out_dims.rank = r;
  for (int64_t i = 0; i < r; i++) {
    int64_t b = l->pads[i], e = l->pads[r + i];
    FAIL_IF(b < 0 || e < 0, NAD_ERR_INVALID_ARG,
            "layer %lld (pad): pads of axis %lld are negative (%lld, %lld): cropping is not "
            "supported", (long long)index, (long long)i, (long long)b, (long long)e);
    FAIL_IF(b > INT64_MAX - in->d[i] || e > INT64_MAX - in->d[i] - b, NAD_ERR_SHAPE,
            "layer %lld (pad): the padded size of axis %lld overflows", (long long)index,
            (long long)i);
    l->out_dims.d[i] = in->d[i] + b + e;
  }
  FAIL_IF(nadi_dims_numel(&l->out_dims) < 0, NAD_ERR_SHAPE,
          "layer %lld (pad): the padded size overflows", (long long)index);
  char to[96];
  dims_text(&l->out_dims, to, sizeof to);
  snprintf(l->desc, sizeof l->desc, "pad -> %.48s", to);
  return NAD_OK;
}

#define LAYOUT_KIND(kind, n_in, shape_fn, slice_fn, is_view)                                   \
  const nadi_kind_desc nadi_kind_##kind = {                                                    \
      .ops = &kind##_ops,                                                                      \
      .n_in_min = n_in,                                                                        \
      .n_in_max = n_in,                                                                        \
      .shape = shape_fn,                                                                       \
      .flops = nadi_kind_flops_none,                                                           \
      .delta = NADI_DELTA_DENSE,                                                               \
      .slice = slice_fn,                                                                       \
      .view = is_view,                                                                         \
  };

/* reshape, flatten_axis and identity keep the element order: views in the full executor */
LAYOUT_KIND(transpose, 1, transpose_shape, NULL, 0)
LAYOUT_KIND(reshape, 1, reshape_shape, NULL, 1)
LAYOUT_KIND(flatten_axis, 1, flatten_axis_shape, NULL, 1)
LAYOUT_KIND(concat_axis, 2, concat_axis_shape, NULL, 0)
LAYOUT_KIND(slice, 1, slice_shape, NULL, 0)
LAYOUT_KIND(gather, 1, gather_shape, NULL, 0)
LAYOUT_KIND(pad, 1, pad_shape, NULL, 0)
LAYOUT_KIND(identity, 1, nadi_kind_same_shape, nadi_kind_slice_pointwise, 1)
