/* Internals of the delta forward, shared by delta.c (plan, driver) and delta_patch.c (the patch
 * kernels). Never installed.
 *
 * Level 0 is the network input, level i + 1 the output of node i. A level is computed in one of
 * three ways:
 *  - PATCH: base (the activation of x0) plus, per sample, its true dirty rectangle
 *    [ly, hy) × [lx, hx) (the cells its one changed input can reach; empty when nothing
 *    changed) and its values there ("patch", stored from the origin (oy, ox) = (ly, lx) in a
 *    slot of the level's fixed size rh × rw). Everywhere else the sample equals the base.
 *    Patches and bases are HWC (channels innermost), so that every kernel works on contiguous
 *    channel vectors: a conv is a GEMM over (sample, cell) rows, a pool or a scatter-add is a
 *    vector operation per cell.
 *  - DENSE: the executor's full activation (nadi_exec_forward_node); an input that is a PATCH
 *    level is materialised into the executor's buffer first ("mat").
 *  - LINEAR: a linear layer reading a PATCH level: y = y(x0) + W[:, rectangle cells] · Δ,
 *    written into the executor's buffer, so the dense rest of the graph reads it as usual. */
#ifndef NADI_DELTA_IMPL_H
#define NADI_DELTA_IMPL_H

#include "core/blas.h"
#include "graph/graph.h"

enum { DL_PATCH = 0, DL_DENSE = 1, DL_LINEAR = 2 };
enum { CONV_SCATTER = 0, CONV_DIRECT = 1 };

typedef struct nadi_drect {
  int64_t oy, ox;         /* origin of the patch slot: (ly, lx), or (0, 0) when empty */
  int64_t ly, hy, lx, hx; /* true dirty rectangle, [l, h) per axis */
} nadi_drect;

typedef struct nadi_dlevel {
  int64_t c, h, w; /* map shape */
  int mode;        /* DL_* */
  int mat;         /* PATCH level read by a DENSE node: materialised every batch */
  int64_t rh, rw;  /* PATCH: fixed patch size */
  float *base;     /* PATCH: activation of x0, h*w*c (HWC) */
  float *base_chw; /* PATCH and mat: the same, c*h*w */
  float *patch;    /* PATCH: cap * rh*rw*c, in a buffer shared with levels of disjoint lifetime */
  nadi_drect *r;   /* PATCH: cap rectangles */
  /* convolution producing a PATCH level */
  int method;      /* CONV_* */
  float *wt;       /* SCATTER: [c_in][(ky, kw-1-kx, o)]; DIRECT: [(ky, kx, c_in)][o] */
  float *scale, *shift; /* batchnorm producing a PATCH level: y = x * scale + shift (then
                           relu(y) when the node has then_relu) */
  int skip;        /* a relu whose only reader is a max pool: computed by it */
  int64_t fused;   /* max pool level: the skipped relu level it applies first (0 = none) */
  float *ybase;    /* LINEAR: the layer's output at x0 */
  float *whwc;     /* LINEAR, when small enough (NADI_DLINEAR_HWC_MAX): the weight with its
                      input in the patches' HWC order, [o][(y, x, c)], once per network */
} nadi_dlevel;

struct nadi_delta {
  const nadi_graph *g;
  int64_t cap;
  int64_t n_patch;  /* nodes computed on patches */
  nadi_dlevel *lv;  /* n_layers + 1 levels */
  nadi_exec *exec;  /* forward-only: base forward (node by node), DENSE nodes, materialised buffers */
  float **bufs;     /* patch buffers (n_bufs), each shared by levels that are never live together */
  int64_t n_bufs;
  float *x0;        /* base input (CHW) */
  float *dense_x;   /* cap inputs, when level 0 is materialised */
  float *ws;        /* scratch of the patch kernels */
  int64_t ws_len;
  int64_t *meta;    /* 5 per GEMM row of a sub-batch: (sample, y, x) and two scratch; also
                       group ids */
  int64_t meta_len;
  const atomic_int *stop; /* polled before each node (nadi_delta_set_stop), or NULL */
};

/* GEMM rows per sub-batch of a patch kernel whose rows need per_row floats of scratch: enough
 * rows for an efficient GEMM, few enough that its operands stay in the cache. Depends on the
 * layer's shape only, so every network and thread cuts the same sub-batches. */
#define NADI_DPATCH_WS_TARGET 262144
static inline int64_t nadi_dpatch_rows(int64_t per_row) {
  int64_t r = NADI_DPATCH_WS_TARGET / (per_row > 0 ? per_row : 1);
  return r < 512 ? 512 : r;
}

/* Weights of a linear layer on patches kept once per network in HWC order (nadi_dlevel.whwc)
 * up to this many floats (16 MB); larger ones are gathered from the CHW weight per group. */
#define NADI_DLINEAR_HWC_MAX (int64_t)(4 << 20)

/* Column block of tap t = ky·kw + kx in a SCATTER level's weight: kx reversed within a row of
 * taps, so that the taps of one kernel row that land on consecutive output cells (x + pad −
 * kx, stride and dilation 1) are consecutive in the GEMM's result row: one vector add per row
 * of taps instead of one per tap. */
static inline int64_t nadi_dpatch_scatter_col(const nadi_layer *l, int64_t t) {
  return t - t % l->kw + (l->kw - 1 - t % l->kw);
}

static inline const nadi_dlevel *nadi_dlevel_in(const nadi_delta *p, const nadi_layer *l, int j) {
  return &p->lv[l->in[j] + 1];
}

/* The patch kernels (delta_patch.c). `out` is the level of node l; its rectangles are set. */
void nadi_dpatch_conv(nadi_delta *p, const nadi_layer *l, const float *bias, nadi_dlevel *out,
                      int64_t batch);
void nadi_dpatch_pool(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch);
void nadi_dpatch_pointwise(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch);
void nadi_dpatch_join(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch);
void nadi_dpatch_gap(nadi_delta *p, const nadi_layer *l, nadi_dlevel *out, int64_t batch);
/* Linear layer on a PATCH input: y (batch × out features) = ybase + W[:, true cells] · Δ. */
void nadi_dpatch_linear(nadi_delta *p, const nadi_layer *l, const float *params,
                        const nadi_dlevel *out, float *y, int64_t batch);
/* Full activations (c*h*w per sample, CHW) of a PATCH level into dst. */
void nadi_dpatch_materialise(const nadi_dlevel *v, float *dst, int64_t batch);

/* Scratch of the kernel of node l: ws_fixed floats plus ws_per_row per GEMM row (0: no GEMM);
 * it cuts its work into sub-batches of nadi_dpatch_rows(ws_per_row) rows. */
void nadi_dpatch_needs(const nadi_delta *p, const nadi_layer *l, int64_t *ws_fixed,
                       int64_t *ws_per_row);

#endif
