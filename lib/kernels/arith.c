/* Broadcasting arithmetic and ReduceMean, NumPy/ONNX semantics.
 *
 * arith: y = a op b (add, sub, mul, div: hyper-parameter arith_op) of two inputs whose per-sample
 * shapes broadcast "multidirectionally": right-aligned, each axis equal or 1 on one side, the
 * output taking the larger size (rank = the larger rank). Examples: (1,C,H,W) * (1,C,1,1) (a
 * squeeze-excitation gate), (1,T,D) + (1,T,D), (1,C,H,W) + (1) (a scalar).
 * NADI_ADD (join.c) stays the kind of a sum of two EQUAL shapes (residuals; the delta forward
 * patches it as a join); arith adds anything that broadcasts and always runs densely. The rule:
 * an importer makes an Add of two equal shapes NADI_ADD, every other Add/Sub/Mul/Div arith.
 *
 * arith_param: the same with one operand a parameter tensor P of the node (an ONNX initializer:
 * ConvNeXt's layer scale (C,1,1), ViT's positional embedding (1,T,D), a constant such as
 * 1/sqrt(d) of shape () or (1)): P's shape is arith_prank and arith_pshape[], arith_side says
 * whether y = x op P (0) or P op x (1). Its one tensor is named "" (the node's prefix is the full
 * name); P is the same for every sample of a batch, so its gradient sums over the batch too.
 * Init: the neutral value for x op P (0 for add and sub, 1 for mul and div); an importer fills
 * the file's values.
 *
 * Backward sums the gradient over each operand's broadcast axes. The loops: per sample, the
 * output is walked in rows along its innermost axis after merging the axes along which both
 * operands are laid out contiguously (or both broadcast); in a row each operand either moves
 * with the output (stride 1) or stays on one value (stride 0), so every row is a simple loop
 * that GCC vectorizes. Sums into a broadcast operand's single value are taken in double.
 *
 * reducemean: mean over the axes set in the bit mask red_axes (bit i = axis i), keeping them at
 * size 1 (red_keepdims = 1) or dropping them; the same walk with y as the broadcast operand. */
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"

/* ---- the broadcast walk --------------------------------------------------------------------- */

typedef struct bc_plan {
  int r;                   /* axes after merging, >= 1; the last one is the row */
  int64_t n[NADI_MAX_RANK];  /* output sizes */
  int64_t sa[NADI_MAX_RANK]; /* operand strides, 0 on broadcast axes */
  int64_t sb[NADI_MAX_RANK];
  int64_t rows; /* product of n[0 .. r-2] */
} bc_plan;

/* Contiguous strides of s padded on the left to rank r, 0 where s has size 1 but out does not. */
static void bc_strides(const nadi_dims *s, int r, const int64_t *out, int64_t *st) {
  int64_t acc = 1;
  for (int i = r - 1; i >= 0; i--) {
    int j = i - (r - (int)s->rank);
    int64_t d = j >= 0 ? s->d[j] : 1;
    st[i] = d == 1 && out[i] != 1 ? 0 : acc;
    acc *= d;
  }
}

/* The broadcast shape of a and b into *out; 0 if they do not broadcast. */
static int bc_shape(const nadi_dims *a, const nadi_dims *b, nadi_dims *out) {
  int r = (int)(a->rank > b->rank ? a->rank : b->rank);
  out->rank = r;
  for (int i = 0; i < r; i++) {
    int ia = i - (r - (int)a->rank), ib = i - (r - (int)b->rank);
    int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return 0;
    out->d[i] = da == 1 ? db : da;
  }
  for (int i = r; i < NADI_MAX_RANK; i++)
    out->d[i] = 0;
  return 1;
}

/* The walk of out = broadcast(a, b) (shapes already checked): size-1 axes dropped, then neighbours
 * merged where both operands' strides allow. */
static void bc_plan_make(const nadi_dims *a, const nadi_dims *b, bc_plan *p) {
  nadi_dims o;
  bc_shape(a, b, &o);
  int r = (int)o.rank;
  int64_t sa[NADI_MAX_RANK], sb[NADI_MAX_RANK];
  bc_strides(a, r, o.d, sa);
  bc_strides(b, r, o.d, sb);
  p->r = 0;
  for (int i = 0; i < r; i++) {
    if (o.d[i] == 1)
      continue;
    int k = p->r - 1; /* merge axis i into the previous kept axis k */
    if (k >= 0 && p->sa[k] == sa[i] * o.d[i] && p->sb[k] == sb[i] * o.d[i]) {
      p->n[k] *= o.d[i];
      p->sa[k] = sa[i], p->sb[k] = sb[i];
      continue;
    }
    p->n[p->r] = o.d[i], p->sa[p->r] = sa[i], p->sb[p->r] = sb[i];
    p->r++;
  }
  if (p->r == 0) /* a single element */
    p->r = 1, p->n[0] = 1, p->sa[0] = p->sb[0] = 1;
  p->rows = 1;
  for (int i = 0; i < p->r - 1; i++)
    p->rows *= p->n[i];
}

/* Offsets of the current row, advanced one row at a time (an odometer over the outer axes). */
typedef struct bc_iter {
  int64_t idx[NADI_MAX_RANK];
  int64_t oa, ob;
} bc_iter;

static void bc_next(const bc_plan *p, bc_iter *it) {
  for (int i = p->r - 2; i >= 0; i--) {
    it->oa += p->sa[i], it->ob += p->sb[i];
    if (++it->idx[i] < p->n[i])
      return;
    it->oa -= p->sa[i] * p->n[i], it->ob -= p->sb[i] * p->n[i];
    it->idx[i] = 0;
  }
}

/* ---- rows ----------------------------------------------------------------------------------- */

#define ROW(expr)                                                                              \
  do {                                                                                         \
    for (int64_t i = 0; i < n; i++)                                                            \
      y[i] = (expr);                                                                           \
  } while (0)
#define ROW_OPS(A, B)                                                                          \
  do {                                                                                         \
    switch (op) {                                                                              \
    case NADI_ARITH_ADD:                                                                       \
      ROW(A + B);                                                                              \
      break;                                                                                   \
    case NADI_ARITH_SUB:                                                                       \
      ROW(A - B);                                                                              \
      break;                                                                                   \
    case NADI_ARITH_MUL:                                                                       \
      ROW(A * B);                                                                              \
      break;                                                                                   \
    default:                                                                                   \
      ROW(A / B);                                                                              \
      break;                                                                                   \
    }                                                                                          \
  } while (0)

/* y[i] = a op b along a row, each operand moving (stride 1) or fixed (stride 0). */
static void row_fwd(int64_t op, const float *restrict a, int64_t sa, const float *restrict b,
                    int64_t sb, float *restrict y, int64_t n) {
  if (sa && sb) {
    ROW_OPS(a[i], b[i]);
  } else if (sa) {
    const float bv = b[0];
    ROW_OPS(a[i], bv);
  } else {
    const float av = a[0];
    ROW_OPS(av, b[i]);
  }
}

/* One sample (or a batch sharing a parameter operand): y = a op b. */
static void walk_fwd(const bc_plan *p, int64_t op, const float *a, const float *b, float *y) {
  bc_iter it;
  memset(&it, 0, sizeof it);
  const int64_t n = p->n[p->r - 1];
  for (int64_t row = 0; row < p->rows; row++, y += n) {
    row_fwd(op, a + it.oa, p->sa[p->r - 1], b + it.ob, p->sb[p->r - 1], y, n);
    bc_next(p, &it);
  }
}

/* g[i] = dy[i] * o[i] (or o fixed) */
static void row_mul(const float *restrict dy, const float *restrict o, int64_t so,
                    float *restrict g, int64_t n) {
  if (so)
    for (int64_t i = 0; i < n; i++)
      g[i] = dy[i] * o[i];
  else
    for (int64_t i = 0; i < n; i++)
      g[i] = dy[i] * o[0];
}

/* g[i] = dy[i] / o[i] (or o fixed) */
static void row_div(const float *restrict dy, const float *restrict o, int64_t so,
                    float *restrict g, int64_t n) {
  if (so)
    for (int64_t i = 0; i < n; i++)
      g[i] = dy[i] / o[i];
  else
    for (int64_t i = 0; i < n; i++)
      g[i] = dy[i] / o[0];
}

/* g[i] = dy[i] * y[i] / o[i] (or o fixed): d(a/b)/db = -y/b up to the sign */
static void row_div_b(const float *restrict dy, const float *restrict y, const float *restrict o,
                      int64_t so, float *restrict g, int64_t n) {
  if (so)
    for (int64_t i = 0; i < n; i++)
      g[i] = dy[i] * y[i] / o[i];
  else
    for (int64_t i = 0; i < n; i++)
      g[i] = dy[i] * y[i] / o[0];
}

/* dt += sign * g along a row: elementwise if the target moves, else summed (in double) into its
 * one value. */
static void row_acc(const float *restrict g, float *restrict dt, int64_t st, float sign,
                    int64_t n) {
  if (st) {
    for (int64_t i = 0; i < n; i++)
      dt[i] += sign * g[i];
  } else {
    dt[0] += (float)(sign * nadi_plane_sum(g, n));
  }
}

/* The gradient into operand a (which = 0) or b (which = 1) of y = a op b, one sample's rows. */
static void walk_bwd(const bc_plan *p, int64_t op, int which, const float *a, const float *b,
                     const float *y, const float *dy, float *dt, float *g) {
  bc_iter it;
  memset(&it, 0, sizeof it);
  const int64_t n = p->n[p->r - 1], sa = p->sa[p->r - 1], sb = p->sb[p->r - 1];
  for (int64_t row = 0; row < p->rows; row++, y += n, dy += n) {
    const float *ra = a + it.oa, *rb = b + it.ob, *src = dy;
    float sign = which == 1 && op == NADI_ARITH_SUB ? -1.0f : 1.0f;
    if (op == NADI_ARITH_MUL) {
      row_mul(dy, which ? ra : rb, which ? sa : sb, g, n), src = g;
    } else if (op == NADI_ARITH_DIV && which == 0) { /* d(a/b)/da = 1/b */
      row_div(dy, rb, sb, g, n), src = g;
    } else if (op == NADI_ARITH_DIV) { /* d(a/b)/db = -y/b */
      row_div_b(dy, y, rb, sb, g, n);
      src = g, sign = -1.0f;
    }
    row_acc(src, dt + (which ? it.ob : it.oa), which ? sb : sa, sign, n);
    bc_next(p, &it);
  }
}

/* ---- arith and arith_param -------------------------------------------------------------------- */

/* The parameter operand's shape. */
static nadi_dims param_dims(const nadi_layer *l) {
  nadi_dims s;
  memset(&s, 0, sizeof s);
  s.rank = l->arith_prank;
  for (int64_t i = 0; i < s.rank && i < NADI_MAX_RANK; i++)
    s.d[i] = l->arith_pshape[i];
  return s;
}

/* Operands a and b of layer l: their dims and whether each is the parameter. */
typedef struct arith_operands {
  nadi_dims da, db;
  int a_is_param, b_is_param;
} arith_operands;

static arith_operands operands(const nadi_layer *l) {
  arith_operands o;
  memset(&o, 0, sizeof o);
  if (l->kind == NADI_ARITH) {
    o.da = l->in_dims[0], o.db = l->in_dims[1];
  } else if (l->arith_side == 0) {
    o.da = l->in_dims[0], o.db = param_dims(l), o.b_is_param = 1;
  } else {
    o.da = param_dims(l), o.db = l->in_dims[0], o.a_is_param = 1;
  }
  return o;
}

static size_t arith_workspace(const nadi_layer *l, int64_t batch) {
  (void)batch;
  arith_operands o = operands(l);
  bc_plan p;
  bc_plan_make(&o.da, &o.db, &p);
  return (size_t)p.n[p.r - 1]; /* one row of g */
}

static void arith_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                          nadi_ctx *ctx) {
  arith_operands o = operands(l);
  bc_plan p;
  bc_plan_make(&o.da, &o.db, &p);
  const float *a = o.a_is_param ? params : xs[0];
  const float *b = o.b_is_param ? params : l->kind == NADI_ARITH ? xs[1] : xs[0];
  int64_t na = o.a_is_param ? 0 : nadi_dims_numel(&o.da);
  int64_t nb = o.b_is_param ? 0 : nadi_dims_numel(&o.db);
  int64_t ny = nadi_dims_numel(&l->out_dims);
  for (int64_t s = 0; s < ctx->batch; s++)
    walk_fwd(&p, l->arith_op, a + s * na, b + s * nb, y + s * ny);
}

static void arith_backward(const nadi_layer *l, const float *params, const float *const *xs,
                           const float *y, const float *dy, float *const *dxs, float *dparams,
                           nadi_ctx *ctx) {
  arith_operands o = operands(l);
  bc_plan p;
  bc_plan_make(&o.da, &o.db, &p);
  const float *a = o.a_is_param ? params : xs[0];
  const float *b = o.b_is_param ? params : l->kind == NADI_ARITH ? xs[1] : xs[0];
  int64_t na = o.a_is_param ? 0 : nadi_dims_numel(&o.da);
  int64_t nb = o.b_is_param ? 0 : nadi_dims_numel(&o.db);
  int64_t ny = nadi_dims_numel(&l->out_dims);
  float *dx0 = dxs ? dxs[0] : NULL, *dx1 = dxs && l->kind == NADI_ARITH ? dxs[1] : NULL;
  float *da = o.a_is_param ? dparams : dx0;
  float *db = o.b_is_param ? dparams : l->kind == NADI_ARITH ? dx1 : dx0;
  /* one target at a time: the two may be the same buffer (x op x) */
  for (int which = 0; which < 2; which++) {
    float *dt = which ? db : da;
    int64_t nt = which ? nb : na;
    if (!dt)
      continue;
    for (int64_t s = 0; s < ctx->batch; s++)
      walk_bwd(&p, l->arith_op, which, a + s * na, b + s * nb, y + s * ny, dy + s * ny,
               dt + s * nt, ctx->ws);
  }
}

static const nadi_layer_ops arith_ops = {
    .name = "arith",
    .workspace = arith_workspace,
    .forward = arith_forward,
    .backward = arith_backward,
};

static const nadi_layer_ops arith_param_ops = {
    .name = "arith_param",
    .workspace = arith_workspace,
    .forward = arith_forward,
    .backward = arith_backward,
};

/* "(1,8,4,4)" */
static void dims_text(const nadi_dims *s, char *buf, size_t size) {
  size_t at = (size_t)snprintf(buf, size, "(");
  for (int64_t i = 0; i < s->rank && at < size; i++)
    at += (size_t)snprintf(buf + at, size - at, "%s%lld", i ? "," : "", (long long)s->d[i]);
  if (at < size)
    snprintf(buf + at, size - at, ")");
}

static const char *const op_names[4] = {"add", "sub", "mul", "div"};

static nad_status arith_shape(nadi_layer *l, int64_t index) {
  const char *kind = nadi_ops(l->kind)->name;
  NADI_CHECK(l->arith_op >= 0 && l->arith_op <= 3, NAD_ERR_INVALID_ARG,
             "layer %lld (%s): operation %lld is none of 0 add, 1 sub, 2 mul, 3 div",
             (long long)index, kind, (long long)l->arith_op);
  if (l->kind == NADI_ARITH_PARAM) {
    NADI_CHECK(l->init == NADI_INIT_TORCH || l->init == NADI_INIT_NORMAL_002 ||
                   l->init == NADI_INIT_CONST_1E6,
               NAD_ERR_INVALID_ARG, "layer %lld (%s): unknown init rule %lld", (long long)index,
               kind, (long long)l->init);
    NADI_CHECK(l->arith_side == 0 || l->arith_side == 1, NAD_ERR_INVALID_ARG,
               "layer %lld (%s): side %lld is neither 0 (x op P) nor 1 (P op x)",
               (long long)index, kind, (long long)l->arith_side);
    NADI_CHECK(l->arith_prank >= 0 && l->arith_prank <= NADI_MAX_RANK, NAD_ERR_INVALID_ARG,
               "layer %lld (%s): parameter rank %lld is not in [0, %d]", (long long)index, kind,
               (long long)l->arith_prank, NADI_MAX_RANK);
    for (int64_t i = 0; i < l->arith_prank; i++)
      NADI_CHECK(l->arith_pshape[i] >= 1 && l->arith_pshape[i] <= INT32_MAX,
                 NAD_ERR_INVALID_ARG, "layer %lld (%s): parameter dimension %lld is %lld",
                 (long long)index, kind, (long long)i, (long long)l->arith_pshape[i]);
    for (int64_t i = l->arith_prank; i < NADI_MAX_RANK; i++)
      l->arith_pshape[i] = 0; /* unused: zero, for the fingerprint */
    nadi_dims pd = param_dims(l);
    NADI_CHECK(nadi_dims_numel(&pd) >= 1, NAD_ERR_OUT_OF_MEMORY,
               "layer %lld (%s): parameter size overflows", (long long)index, kind);
  }
  arith_operands o = operands(l);
  char ta[40], tb[40];
  dims_text(&o.da, ta, sizeof ta), dims_text(&o.db, tb, sizeof tb);
  if (snprintf(l->desc, sizeof l->desc, "%s %s%s %s%s", op_names[l->arith_op],
               o.a_is_param ? "P" : "", ta, o.b_is_param ? "P" : "", tb) >= (int)sizeof l->desc)
    l->desc[sizeof l->desc - 2] = '~'; /* truncated */
  NADI_CHECK(bc_shape(&o.da, &o.db, &l->out_dims), NAD_ERR_SHAPE,
             "layer %lld (%s): shapes %s and %s do not broadcast (right-aligned, each axis "
             "must be equal or 1 on one side)",
             (long long)index, kind, ta, tb);
  return NAD_OK;
}

static int arith_param_tensors(const nadi_layer *l, nadi_tensor_desc t[NADI_MAX_TENSORS]) {
  nadi_dims pd = param_dims(l);
  t[0] = (nadi_tensor_desc){"", nadi_dims_numel(&pd), 1};
  return 1;
}

/* Along `axis` of x (rank r), when P does not vary along it: P right-aligned ends before the
 * axis, or has size 1 there (that dimension is dropped with the axis); and P must not grow
 * the output. */
static int arith_param_slice(const nadi_layer *l, int64_t axis, nadi_hparams *hp) {
  const nadi_dims *x = &l->in_dims[0], *y = &l->out_dims;
  int64_t r = x->rank, pr = l->arith_prank;
  if (axis < 0 || axis >= r || pr > r || !nadi_dims_equal(x, y))
    return 0;
  *hp = l->hp;
  int64_t at = axis - (r - pr); /* the axis in P's own dims; < 0: P does not reach it */
  if (at < 0)
    return 1;
  if (l->arith_pshape[at] != 1)
    return 0;
  for (int64_t i = at; i + 1 < pr; i++)
    hp->arith_pshape[i] = l->arith_pshape[i + 1];
  hp->arith_pshape[pr - 1] = 0;
  hp->arith_prank = pr - 1;
  return 1;
}

const nadi_kind_desc nadi_kind_arith = {
    .ops = &arith_ops,
    .n_in_min = 2,
    .n_in_max = 2,
    .shape = arith_shape,
    .flops = nadi_kind_flops_per_output,
    .slice = nadi_kind_slice_pointwise, /* refuses broadcasting */
};

const nadi_kind_desc nadi_kind_arith_param = {
    .ops = &arith_param_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = arith_shape,
    .tensors = arith_param_tensors,
    .flops = nadi_kind_flops_per_output,
    .init = nadi_init_tensor, /* P keeps its values (an imported model's: g->base_params)
                                 unless a rule says (NORMAL_002, CONST_1E6) */
    .slice = arith_param_slice,
};

/* ---- reducemean --------------------------------------------------------------------------------- */

/* y's shape with the reduced axes kept at size 1 (the walk broadcasts it over x). */
static nadi_dims reduce_kept(const nadi_layer *l) {
  nadi_dims k = l->in_dims[0];
  for (int64_t i = 0; i < k.rank; i++)
    if (l->red_axes >> i & 1)
      k.d[i] = 1;
  return k;
}

static void reduce_plan(const nadi_layer *l, bc_plan *p, int64_t *count) {
  nadi_dims k = reduce_kept(l);
  bc_plan_make(&l->in_dims[0], &k, p);
  *count = nadi_dims_numel(&l->in_dims[0]) / nadi_dims_numel(&k);
}

static void reduce_forward(const nadi_layer *l, float *params, const float *const *xs, float *y,
                           nadi_ctx *ctx) {
  (void)params;
  bc_plan p;
  int64_t count;
  reduce_plan(l, &p, &count);
  const int64_t nx = nadi_dims_numel(&l->in_dims[0]), ny = nadi_dims_numel(&l->out_dims);
  const int64_t n = p.n[p.r - 1], sy = p.sb[p.r - 1];
  memset(y, 0, (size_t)(ctx->batch * ny) * sizeof(float));
  for (int64_t s = 0; s < ctx->batch; s++) {
    const float *x = xs[0] + s * nx;
    float *ys = y + s * ny;
    bc_iter it;
    memset(&it, 0, sizeof it);
    for (int64_t row = 0; row < p.rows; row++, x += n) {
      row_acc(x, ys + it.ob, sy, 1.0f, n);
      bc_next(&p, &it);
    }
  }
  const float inv = (float)(1.0 / (double)count);
  for (int64_t i = 0; i < ctx->batch * ny; i++)
    y[i] *= inv;
}

static void reduce_backward(const nadi_layer *l, const float *params, const float *const *xs,
                            const float *y, const float *dy, float *const *dxs, float *dparams,
                            nadi_ctx *ctx) {
  (void)params, (void)xs, (void)y, (void)dparams;
  if (!dxs || !dxs[0])
    return;
  bc_plan p;
  int64_t count;
  reduce_plan(l, &p, &count);
  const int64_t nx = nadi_dims_numel(&l->in_dims[0]), ny = nadi_dims_numel(&l->out_dims);
  const int64_t n = p.n[p.r - 1], sy = p.sb[p.r - 1];
  const float inv = (float)(1.0 / (double)count);
  for (int64_t s = 0; s < ctx->batch; s++) {
    float *restrict dx = dxs[0] + s * nx;
    const float *dys = dy + s * ny;
    bc_iter it;
    memset(&it, 0, sizeof it);
    for (int64_t row = 0; row < p.rows; row++, dx += n) {
      const float *restrict g = dys + it.ob;
      if (sy)
        for (int64_t i = 0; i < n; i++)
          dx[i] += inv * g[i];
      else
        for (int64_t i = 0; i < n; i++)
          dx[i] += inv * g[0];
      bc_next(&p, &it);
    }
  }
}

static const nadi_layer_ops reducemean_ops = {
    .name = "reducemean",
    .forward = reduce_forward,
    .backward = reduce_backward,
};

static nad_status reduce_shape(nadi_layer *l, int64_t index) {
  const nadi_dims *s = &l->in_dims[0];
  NADI_CHECK(l->red_axes > 0 && (l->red_axes >> s->rank) == 0, NAD_ERR_INVALID_ARG,
             "layer %lld (reducemean): axis mask 0x%llx names no axis or one beyond the input's "
             "rank %lld",
             (long long)index, (unsigned long long)l->red_axes, (long long)s->rank);
  NADI_CHECK(l->red_keepdims == 0 || l->red_keepdims == 1, NAD_ERR_INVALID_ARG,
             "layer %lld (reducemean): keepdims %lld is neither 0 nor 1", (long long)index,
             (long long)l->red_keepdims);
  nadi_dims o;
  memset(&o, 0, sizeof o);
  for (int64_t i = 0; i < s->rank; i++) {
    if (!(l->red_axes >> i & 1))
      o.d[o.rank++] = s->d[i];
    else if (l->red_keepdims)
      o.d[o.rank++] = 1;
  }
  NADI_CHECK(o.rank >= 1, NAD_ERR_UNSUPPORTED,
             "layer %lld (reducemean): reducing every axis without keepdims makes a rank-0 "
             "tensor, which libnad does not have (keep the dimensions)",
             (long long)index);
  char t[40];
  dims_text(s, t, sizeof t);
  if (snprintf(l->desc, sizeof l->desc, "reducemean %s mask 0x%llx%s", t,
               (unsigned long long)l->red_axes, l->red_keepdims ? " keepdims" : "") >=
      (int)sizeof l->desc)
    l->desc[sizeof l->desc - 2] = '~'; /* truncated */
  l->out_dims = o;
  return NAD_OK;
}

static int64_t reduce_flops(const nadi_layer *l) { /* one addition per input element */
  return nadi_dims_numel(&l->in_dims[0]);
}

const nadi_kind_desc nadi_kind_reducemean = {
    .ops = &reducemean_ops,
    .n_in_min = 1,
    .n_in_max = 1,
    .shape = reduce_shape,
    .flops = reduce_flops,
};
