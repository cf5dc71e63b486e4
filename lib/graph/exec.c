/* Executor: runs a graph forward (and backward) on a batch, with all buffers allocated once.
 *
 * Two modes, fixed at creation:
 *  - full (nadi_exec_create): every node output is kept, because backward needs them, plus
 *    the kernels' saved state (dropout masks, BatchNorm batch statistics) and gradient buffers.
 *    Backward walks nodes in reverse and lets each kernel ACCUMULATE into its inputs'
 *    gradients, so a node that feeds several consumers (residual blocks) sums correctly. A
 *    gradient is needed only from its node's last reader (the first to add into it; it is
 *    zeroed just before) to its node's own backward, so the gradients share slots as the
 *    forward-only mode's activations do (plan_grads): a few layers' worth instead of one per
 *    node, which was half the executor (maxvit_t at 3x224x224: 760 MB of gradients, now 41 MB;
 *    the same bits, tested against a reference that keeps them all).
 *    A view node (its kind's `view`: reshape, flatten, flatten_axis, identity; not the input's
 *    nor the output node) shares its input's activation and gradient buffers and runs no
 *    kernel: its readers' gradients accumulate straight into its input's, which is what its
 *    backward would have added. Transformer exports are full of such reshapes (window
 *    partitions, head splits): copies, and twice the memory, where PyTorch has views.
 *  - forward-only (nadi_exec_create_forward_only): eval mode, no gradients, no state, and a
 *    node's buffer is reused by later nodes once its last consumer has run. The dipole needs
 *    2·D forwards of up to hundreds of inputs per network and nothing backwards; keeping every
 *    activation made DenseNet121 (whose concatenations copy ever wider maps) take 23 GB.
 *
 * Buffer plan of the forward-only mode (computed once, static): node i lives from its own step
 * to the step of its last reader (the output node forever). Walking the nodes in order, the
 * buffers ("slots") of nodes whose last reader has run are free; node i takes the free slot
 * that fits best (the smallest big enough, else the largest, grown), or a new one. A node's
 * inputs are alive during its step, so its output never aliases them. The kernels never read
 * their output before writing it, so the values are the same as in the full mode, bit for bit
 * (tested on every built-in). */
#include <assert.h>
#include <string.h>

#include "graph/graph.h"

struct nadi_exec {
  const nadi_graph *g;
  int64_t cap;       /* batch capacity */
  int64_t batch;     /* batch of the last forward, 0 = none */
  int training;
  int forward_only;  /* no backward follows any forward: liveness-shared buffers */
  int eval_kernels;  /* kernels may use the eval-only algorithms (forward-only mode, or
                        nadi_exec_use_eval_kernels on a full executor) */
  nadi_rng *rng;
  const float *x;    /* input of the last forward (borrowed; must outlive backward) */
  float **act;       /* per node: cap * out size (forward-only: points into a slot) */
  float **grad;      /* per node: cap * out size (full mode only; points into a slot) */
  float **state;     /* per node: ops->state_size(l, cap) floats (full mode; may be NULL) */
  uint8_t *view;     /* per node: 1 = a view of input 0's buffers (full mode), owns nothing */
  float *ws;         /* shared workspace: max over nodes of ops->workspace(l, cap) */
  int64_t n_slots;   /* buffers shared by the nodes: activations (forward-only mode) or */
  float **slots;     /* gradients (full mode) */
  int64_t *zero_off; /* full mode: node j's backward is preceded by zeroing the gradients */
  int64_t *zero_idx; /* zero_idx[zero_off[j] .. zero_off[j + 1]) (the plan's first writes) */
  size_t bytes;      /* everything allocated for buffers */
  const atomic_int *stop; /* polled before each node (nadi_exec_set_stop), or NULL */
};

static int stopped(const nadi_exec *e) {
  return e->stop && atomic_load_explicit(e->stop, memory_order_relaxed);
}

void nadi_exec_set_stop(nadi_exec *e, const atomic_int *stop) { e->stop = stop; }

static int64_t shape_size(const int64_t s[3]) { return s[0] * s[1] * s[2]; }

/* Interval plan (both buffer plans): item k is alive from step begin[k] through step end[k]
 * and needs need[k] floats per sample (0: not planned, slot -1). Walking the items by their
 * first step, the slots of items whose last step has passed are free; an item takes the free
 * slot that fits best (the smallest big enough, else the largest, grown), or a new one. Items
 * alive at one step never share a slot. Fills slot_of (n) and slot_size (up to n); returns the
 * number of slots, -1 when out of memory. */
static int64_t plan_intervals(int64_t n, const int64_t *begin, const int64_t *end,
                              const int64_t *need, int64_t *slot_of, int64_t *slot_size) {
  int64_t *order = nadi_alloc((size_t)n, sizeof(int64_t));
  int64_t *live = nadi_alloc((size_t)n, sizeof(int64_t));
  char *busy = nadi_calloc((size_t)n, 1); /* per slot */
  int64_t n_slots = -1, n_live = 0;
  if (!order || !live || !busy)
    goto done;
  /* by first step, then index (a counting sort: steps are node indices, 0 .. n) */
  int64_t *count = nadi_calloc((size_t)n + 2, sizeof(int64_t));
  if (!count)
    goto done;
  for (int64_t k = 0; k < n; k++)
    count[begin[k] + 1]++;
  for (int64_t t = 0; t <= n; t++)
    count[t + 1] += count[t];
  for (int64_t k = 0; k < n; k++)
    order[count[begin[k]]++] = k;
  nadi_free(count);
  n_slots = 0;
  for (int64_t o = 0; o < n; o++) {
    const int64_t k = order[o];
    slot_of[k] = -1;
    if (need[k] <= 0)
      continue;
    for (int64_t a = 0; a < n_live;) /* free the slots of items that have ended */
      if (end[live[a]] < begin[k])
        busy[slot_of[live[a]]] = 0, live[a] = live[--n_live];
      else
        a++;
    int64_t fit = -1, largest = -1;
    for (int64_t s = 0; s < n_slots; s++) {
      if (busy[s])
        continue;
      if (slot_size[s] >= need[k] && (fit < 0 || slot_size[s] < slot_size[fit]))
        fit = s;
      if (largest < 0 || slot_size[s] > slot_size[largest])
        largest = s;
    }
    int64_t s = fit >= 0 ? fit : largest;
    if (s < 0) {
      s = n_slots++;
      slot_size[s] = 0;
    }
    if (slot_size[s] < need[k])
      slot_size[s] = need[k];
    slot_of[k] = s;
    busy[s] = 1;
    live[n_live++] = k;
  }
done:
  nadi_free(order);
  nadi_free(live);
  nadi_free(busy);
  return n_slots;
}

/* Forward-only plan: node i lives from its own step to the step of its last reader (the
 * output node forever). */
static int64_t plan_slots(const nadi_graph *g, int64_t *slot_of, int64_t *slot_size) {
  const int64_t n = g->n_layers;
  int64_t *begin = nadi_alloc((size_t)n, sizeof(int64_t));
  int64_t *last = nadi_alloc((size_t)n, sizeof(int64_t));
  int64_t *need = nadi_alloc((size_t)n, sizeof(int64_t));
  int64_t n_slots = -1;
  if (begin && last && need) {
    for (int64_t i = 0; i < n; i++)
      begin[i] = last[i] = i, need[i] = shape_size(g->layers[i].out_shape);
    for (int64_t i = 0; i < n; i++)
      for (int32_t q = 0; q < g->layers[i].n_in; q++)
        if (g->layers[i].in[q] != NADI_INPUT_NODE && last[g->layers[i].in[q]] < i)
          last[g->layers[i].in[q]] = i;
    last[n - 1] = n; /* the output is read by the caller */
    n_slots = plan_intervals(n, begin, last, need, slot_of, slot_size);
  }
  nadi_free(begin);
  nadi_free(last);
  nadi_free(need);
  return n_slots;
}

/* Full mode's gradient plan. The backward walks the nodes from the last (step 0) to the
 * first (step n - 1). A node that owns buffers (not a view) has its gradient alive from the
 * step of its last non-view reader, the first to add into it (through any views of it),
 * through its own step, which reads it; a node nobody reads, from its own step. So only the
 * gradients between a node and its readers exist at once, not one per node: the activations
 * stay (the kernels' backward reads them) but the gradients shrink to a few layers' worth.
 * first[i] = the node before whose backward gradient i is zeroed. */
static int64_t plan_grads(const nadi_graph *g, const uint8_t *view, int64_t *first,
                          int64_t *slot_of, int64_t *slot_size) {
  const int64_t n = g->n_layers;
  int64_t *owner = nadi_alloc((size_t)n, sizeof(int64_t));
  int64_t *begin = nadi_alloc((size_t)n, sizeof(int64_t));
  int64_t *end = nadi_alloc((size_t)n, sizeof(int64_t));
  int64_t *need = nadi_alloc((size_t)n, sizeof(int64_t));
  int64_t n_slots = -1;
  if (owner && begin && end && need) {
    for (int64_t i = 0; i < n; i++) {
      owner[i] = view[i] ? owner[g->layers[i].in[0]] : i; /* in[0] < i */
      first[i] = i;
      need[i] = view[i] ? 0 : shape_size(g->layers[i].out_shape);
    }
    for (int64_t i = 0; i < n; i++)
      for (int32_t q = 0; q < g->layers[i].n_in && !view[i]; q++)
        if (g->layers[i].in[q] != NADI_INPUT_NODE && first[owner[g->layers[i].in[q]]] < i)
          first[owner[g->layers[i].in[q]]] = i;
    for (int64_t i = 0; i < n; i++)
      begin[i] = n - 1 - first[i], end[i] = n - 1 - i;
    n_slots = plan_intervals(n, begin, end, need, slot_of, slot_size);
  }
  nadi_free(owner);
  nadi_free(begin);
  nadi_free(end);
  nadi_free(need);
  return n_slots;
}

/* Allocates the planned slots (cap samples each) and points bufs[i] at node i's (slot -1:
 * left alone). */
static int alloc_slots(nadi_exec *e, int64_t ns, const int64_t *slot_of, const int64_t *slot_size,
                       float **bufs) {
  int64_t sz;
  e->slots = ns > 0 ? nadi_calloc((size_t)ns, sizeof *e->slots) : NULL;
  if (!e->slots)
    return 0;
  e->n_slots = ns;
  for (int64_t s = 0; s < ns; s++) {
    if (!nadi_mul_ok(e->cap, slot_size[s], &sz) ||
        !(e->slots[s] = nadi_alloc((size_t)sz, sizeof(float))))
      return 0;
    e->bytes += (size_t)sz * sizeof(float);
  }
  for (int64_t i = 0; i < e->g->n_layers; i++)
    if (slot_of[i] >= 0)
      bufs[i] = e->slots[slot_of[i]];
  return 1;
}

/* The zero schedule of the gradient plan as lists per node (zero_off, zero_idx). */
static int zero_schedule(nadi_exec *e, const int64_t *first) {
  const int64_t n = e->g->n_layers;
  e->zero_off = nadi_calloc((size_t)n + 1, sizeof(int64_t));
  e->zero_idx = nadi_alloc((size_t)n, sizeof(int64_t));
  if (!e->zero_off || !e->zero_idx)
    return 0;
  for (int64_t i = 0; i < n - 1; i++) /* the output's gradient is dy, copied in */
    if (!e->view[i])
      e->zero_off[first[i] + 1]++;
  for (int64_t j = 0; j < n; j++)
    e->zero_off[j + 1] += e->zero_off[j];
  int64_t *fill = nadi_alloc((size_t)n, sizeof(int64_t));
  if (!fill)
    return 0;
  memcpy(fill, e->zero_off, sizeof(int64_t) * (size_t)n);
  for (int64_t i = 0; i < n - 1; i++)
    if (!e->view[i])
      e->zero_idx[fill[first[i]]++] = i;
  nadi_free(fill);
  return 1;
}

static nad_status create(const nadi_graph *g, int64_t cap, int forward_only, nadi_exec **out) {
  *out = NULL;
  NADI_CHECK(cap >= 1, NAD_ERR_INVALID_ARG, "batch must be >= 1, got %lld", (long long)cap);
  nadi_exec *e = nadi_calloc(1, sizeof *e);
  if (!e)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "executor: out of memory");
  e->g = g;
  e->cap = cap;
  e->forward_only = forward_only;
  e->eval_kernels = forward_only;
  const int64_t n = g->n_layers;
  int64_t sz;
  e->act = nadi_calloc((size_t)n, sizeof *e->act);
  e->grad = nadi_calloc((size_t)n, sizeof *e->grad);
  e->state = nadi_calloc((size_t)n, sizeof *e->state);
  e->view = nadi_calloc((size_t)n, 1);
  if (!e->act || !e->grad || !e->state || !e->view)
    goto oom;
  size_t ws = 0;
  for (int64_t i = 0; i < n; i++) {
    const nadi_layer *l = &g->layers[i];
    const nadi_layer_ops *ops = nadi_ops(l->kind);
    size_t w = ops->workspace ? ops->workspace(l, cap) : 0;
    if (w > ws)
      ws = w;
    if (forward_only)
      continue;
    if (nadi_kind_of(l->kind)->view && l->in[0] != NADI_INPUT_NODE && i != n - 1) {
      e->view[i] = 1; /* in[0] < i: its buffers (or those it views) exist */
      e->act[i] = e->act[l->in[0]];
      continue;
    }
    if (!nadi_mul_ok(cap, shape_size(l->out_shape), &sz))
      goto oom;
    e->act[i] = nadi_alloc((size_t)sz, sizeof(float));
    if (!e->act[i])
      goto oom;
    e->bytes += (size_t)sz * sizeof(float);
    size_t st = ops->state_size ? ops->state_size(l, cap) : 0;
    if (st) {
      e->state[i] = nadi_calloc(st, sizeof(float));
      if (!e->state[i])
        goto oom;
      e->bytes += st * sizeof(float);
    }
  }
  {
    /* forward-only: the activations share slots; full: the gradients do */
    int64_t *slot_of = nadi_alloc((size_t)n, sizeof(int64_t));
    int64_t *slot_size = nadi_alloc((size_t)n, sizeof(int64_t));
    int64_t *first = forward_only ? NULL : nadi_alloc((size_t)n, sizeof(int64_t));
    int ok = slot_of && slot_size && (forward_only || first);
    int64_t ns = !ok ? -1
                 : forward_only ? plan_slots(g, slot_of, slot_size)
                                : plan_grads(g, e->view, first, slot_of, slot_size);
    ok = ns > 0 && alloc_slots(e, ns, slot_of, slot_size, forward_only ? e->act : e->grad);
    for (int64_t i = 0; ok && !forward_only && i < n; i++)
      if (e->view[i]) /* in[0] < i: its gradient (or the one it views) is set */
        e->grad[i] = e->grad[g->layers[i].in[0]];
    if (ok && !forward_only)
      ok = zero_schedule(e, first);
    nadi_free(slot_of);
    nadi_free(slot_size);
    nadi_free(first);
    if (!ok)
      goto oom;
  }
  e->ws = nadi_alloc(ws ? ws : 1, sizeof(float));
  if (!e->ws)
    goto oom;
  e->bytes += (ws ? ws : 1) * sizeof(float);
  *out = e;
  return NAD_OK;
oom:
  nadi_exec_destroy(e);
  return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "executor: out of memory for batch %lld",
                   (long long)cap);
}

nad_status nadi_exec_create(const nadi_graph *g, int64_t cap, nadi_exec **out) {
  return create(g, cap, 0, out);
}

nad_status nadi_exec_create_forward_only(const nadi_graph *g, int64_t cap, nadi_exec **out) {
  return create(g, cap, 1, out);
}

void nadi_exec_destroy(nadi_exec *e) {
  if (!e)
    return;
  for (int64_t i = 0; !e->forward_only && i < e->g->n_layers; i++) {
    if (e->view && e->view[i])
      continue; /* its buffers are its input's */
    if (e->act)
      nadi_free(e->act[i]);
    if (e->state)
      nadi_free(e->state[i]);
  }
  for (int64_t s = 0; e->slots && s < e->n_slots; s++)
    nadi_free(e->slots[s]);
  nadi_free(e->slots);
  nadi_free(e->act);
  nadi_free(e->grad);
  nadi_free(e->state);
  nadi_free(e->view);
  nadi_free(e->zero_off);
  nadi_free(e->zero_idx);
  nadi_free(e->ws);
  nadi_free(e);
}

int64_t nadi_exec_batch_cap(const nadi_exec *e) { return e->cap; }

size_t nadi_exec_bytes(const nadi_exec *e) { return e->bytes; }

static void make_ctx(nadi_exec *e, int64_t i, nadi_ctx *ctx) {
  ctx->batch = e->batch;
  ctx->training = e->training;
  ctx->ws = e->ws;
  ctx->state = e->state[i];
  ctx->rng = e->rng;
  ctx->forward_only = e->eval_kernels && !e->training;
}

static const float *node_out(const nadi_exec *e, int32_t idx) {
  return idx == NADI_INPUT_NODE ? e->x : e->act[idx];
}

float *nadi_exec_act(nadi_exec *e, int64_t node) { return e->act[node]; }

static void run_node(nadi_exec *e, float *params, int64_t i) {
  if (e->view[i])
    return; /* its output is its input's buffer */
  const nadi_layer *l = &e->g->layers[i];
  const float *in[NADI_MAX_INPUTS] = {NULL, NULL};
  for (int32_t j = 0; j < l->n_in; j++)
    in[j] = node_out(e, l->in[j]);
  nadi_ctx ctx;
  make_ctx(e, i, &ctx);
  nadi_ops(l->kind)->forward(l, params + l->param_off, in, e->act[i], &ctx);
}

const float *nadi_exec_forward_range(nadi_exec *e, float *params, const float *x, int64_t start,
                                     int64_t batch, int training, nadi_rng *rng) {
  const nadi_graph *g = e->g;
  assert(!(e->forward_only && training) && 0 <= start && start < g->n_layers);
  e->batch = batch;
  e->training = training;
  e->rng = rng;
  e->x = x;
  for (int64_t i = start; i < g->n_layers && !stopped(e); i++)
    run_node(e, params, i);
  return e->act[g->n_layers - 1];
}

const float *nadi_exec_forward_node(nadi_exec *e, float *params, const float *x, int64_t node,
                                    int64_t batch) {
  assert(0 <= node && node < e->g->n_layers);
  e->batch = batch;
  e->training = 0;
  e->rng = NULL;
  e->x = x;
  run_node(e, params, node);
  return e->act[node];
}

const float *nadi_exec_forward(nadi_exec *e, float *params, const float *x, int64_t batch,
                               int training, nadi_rng *rng) {
  return nadi_exec_forward_range(e, params, x, 0, batch, training, rng);
}

void nadi_exec_use_eval_kernels(nadi_exec *e) { e->eval_kernels = 1; }

void nadi_exec_backward(nadi_exec *e, const float *params, const float *dy, float *dx,
                        float *dparams) {
  const nadi_graph *g = e->g;
  assert(!e->forward_only && !e->eval_kernels);
  int64_t last = g->n_layers - 1;
  memcpy(e->grad[last], dy, sizeof(float) * (size_t)(e->batch * shape_size(g->layers[last].out_shape)));
  int64_t insz = e->batch * shape_size(g->in_shape);
  if (dx)
    memset(dx, 0, sizeof(float) * (size_t)insz);
  if (dparams)
    memset(dparams, 0, sizeof(float) * (size_t)g->n_params);
  for (int64_t i = last; i >= 0 && !stopped(e); i--) {
    if (e->view[i])
      continue; /* its readers added into its input's gradient directly */
    for (int64_t z = e->zero_off[i]; z < e->zero_off[i + 1]; z++) /* first written here */
      memset(e->grad[e->zero_idx[z]], 0,
             sizeof(float) * (size_t)(e->batch * shape_size(g->layers[e->zero_idx[z]].out_shape)));
    const nadi_layer *l = &g->layers[i];
    const float *in[NADI_MAX_INPUTS] = {NULL, NULL};
    float *din[NADI_MAX_INPUTS] = {NULL, NULL};
    for (int32_t j = 0; j < l->n_in; j++) {
      in[j] = node_out(e, l->in[j]);
      din[j] = l->in[j] == NADI_INPUT_NODE ? dx : e->grad[l->in[j]];
    }
    nadi_ctx ctx;
    make_ctx(e, i, &ctx);
    nadi_ops(l->kind)->backward(l, params + l->param_off, in, e->act[i], e->grad[i], din,
                                dparams ? dparams + l->param_off : NULL, &ctx);
  }
}
