/* The response of one sample: a network (random, or the fixed one) at an evaluation point
 * (the shared x0, or the sample's data point).
 *
 * Dipole (the reference method): g_i = (f(x0 + s·e_i) − f(x0 − s·e_i)) / (2s) for every input
 * coordinate i, f = the chosen output (output 0 by default, or the point's label). The 2D
 * perturbed inputs (sample t is coordinate t/2, sign + for even t) go through the delta forward of lib/graph/delta.c in chunks of `cap` samples: it
 * reuses the activations of x0 and recomputes the local layers only where one changed
 * coordinate can reach, which equals a dense forward up to float rounding. It runs on the
 * graph with its BatchNorms folded into the convolutions before them (lib/graph/fold.c): a
 * random network's parameters are folded once before its 2D forwards, a fixed one's once.
 * Gradient: g = ∂f/∂x at x0 by one backward pass of the executor with dy = e_output.
 *
 * Everything is allocated at create: probing a sample allocates nothing. Random network j's
 * parameters depend only on (seed, j) (stream j of the counter-based generator), whichever
 * worker computes it, a fixed network is copied once per worker, and the chunks are the same
 * for every sample, so a response does not depend on the thread that computes it. */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "estimator/response.h"

struct nadi_probe {
  const nadi_graph *g;
  nadi_fold *fold;   /* dipole: the graph the delta forward runs, BatchNorms folded */
  nadi_delta *delta; /* dipole */
  nadi_exec *exec;   /* gradient */
  int64_t d, out, cap;
  int mode, fixed;
  nad_param_fn source;
  void *source_ud;
  double step;
  int64_t output;        /* >= 0, or NAD_OUTPUT_LABEL */
  const float *points;   /* data points (borrowed) or NULL */
  const int32_t *labels; /* their labels */
  float *x0;     /* d: the shared point, or the current sample's */
  float *params; /* n_params: the fixed network, or the current random one */
  float *fparams; /* parameters of the folded graph (dipole; NULL when nothing folds) */
  int64_t *coord; /* cap (dipole) */
  float *value;   /* cap (dipole) */
  float *y;       /* cap×out (dipole) */
  float *fout;    /* 2d outputs (dipole) */
  float *dy;      /* out (gradient) */
  float *dx;      /* d (gradient) */
  double fscale;  /* nadi_probe_value_scale of the last sample */
};

double nadi_probe_value_scale(const nadi_probe *p) { return p->fscale; }

void nadi_probe_destroy(nadi_probe *p) {
  if (!p)
    return;
  nadi_delta_destroy(p->delta);
  nadi_fold_destroy(p->fold);
  nadi_free(p->fparams);
  nadi_exec_destroy(p->exec);
  nadi_free(p->x0);
  nadi_free(p->params);
  nadi_free(p->coord);
  nadi_free(p->value);
  nadi_free(p->y);
  nadi_free(p->fout);
  nadi_free(p->dy);
  nadi_free(p->dx);
  nadi_free(p);
}

nad_status nadi_probe_create(const nadi_graph *g, const nadi_probe_cfg *cfg, nadi_probe **out) {
  *out = NULL;
  nadi_probe *p = nadi_calloc(1, sizeof *p);
  if (!p)
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "probe");
  const int mode = cfg->mode;
  p->g = g;
  p->d = nadi_graph_in_size(g);
  p->out = nadi_graph_out_size(g);
  p->mode = mode;
  p->step = cfg->step;
  p->output = cfg->output;
  p->points = cfg->points;
  p->labels = cfg->labels;
  p->fixed = cfg->params != NULL;
  p->source = cfg->source;
  p->source_ud = cfg->source_ud;
  p->cap = mode == NAD_MODE_DIPOLE ? (cfg->batch < 2 * p->d ? cfg->batch : 2 * p->d) : 1;
  int64_t ys;
  if (!nadi_mul_ok(p->cap, p->out, &ys)) {
    const long long cap = (long long)p->cap; /* p is freed next */
    nadi_probe_destroy(p);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "probe batch of %lld inputs is too large", cap);
  }
  p->x0 = nadi_alloc((size_t)p->d, sizeof(float));
  p->params = nadi_alloc((size_t)g->n_params, sizeof(float));
  p->coord = nadi_alloc((size_t)p->cap, sizeof(int64_t));
  p->value = nadi_alloc((size_t)p->cap, sizeof(float));
  p->y = nadi_alloc((size_t)ys, sizeof(float));
  p->fout = nadi_alloc(2 * (size_t)p->d, sizeof(float));
  p->dy = nadi_calloc((size_t)p->out, sizeof(float));
  p->dx = nadi_alloc((size_t)p->d, sizeof(float));
  if (!p->x0 || !p->params || !p->coord || !p->value || !p->y || !p->fout || !p->dy || !p->dx) {
    const long long cap = (long long)p->cap, d = (long long)p->d; /* p is freed next */
    nadi_probe_destroy(p);
    return nadi_fail(NAD_ERR_OUT_OF_MEMORY, "probe buffers (%lld inputs of %lld floats)", cap, d);
  }
  if (cfg->x0)
    memcpy(p->x0, cfg->x0, (size_t)p->d * sizeof(float));
  if (cfg->params)
    memcpy(p->params, cfg->params, (size_t)g->n_params * sizeof(float));
  nad_status st;
  if (mode == NAD_MODE_DIPOLE) {
    st = nadi_fold_create(g, &p->fold);
    if (st == NAD_OK) {
      const nadi_graph *fg = nadi_fold_graph(p->fold);
      /* Nothing folded: the folded graph has the source's parameter layout, so the delta
       * forward reads the parameters themselves (a second copy would double the probe's largest
       * buffer: 1.1 GB for VGG11-nopool at 3x32x32). */
      if (nadi_fold_count(p->fold) > 0)
        p->fparams = nadi_alloc((size_t)fg->n_params, sizeof(float));
      st = p->fparams || nadi_fold_count(p->fold) == 0
               ? nadi_delta_create(fg, p->cap, NADI_DELTA_DEFAULT, &p->delta)
               : nadi_fail(NAD_ERR_OUT_OF_MEMORY, "probe: folded parameters");
      if (st == NAD_OK && p->fparams && p->fixed)
        nadi_fold_params(p->fold, p->params, p->fparams);
    }
  } else {
    st = nadi_exec_create(g, 1, &p->exec);
  }
  if (st != NAD_OK) {
    nadi_probe_destroy(p);
    return st;
  }
  *out = p;
  return NAD_OK;
}

static nadi_probe_result run_dipole(nadi_probe *p, int64_t o, double *g, const atomic_int *stop) {
  const int64_t d = p->d, total = 2 * d;
  const float sp = (float)p->step;
  float *params = p->fparams ? p->fparams : p->params;
  if (p->fparams && !p->fixed)
    nadi_fold_params(p->fold, p->params, p->fparams);
  nadi_delta_set_base(p->delta, params, p->x0);
  nadi_delta_set_stop(p->delta, stop); /* a large network stops within a layer, not a chunk */
  for (int64_t t0 = 0; t0 < total; t0 += p->cap) {
    if (atomic_load_explicit(stop, memory_order_relaxed))
      return NADI_PROBE_STOPPED;
    const int64_t b = total - t0 < p->cap ? total - t0 : p->cap;
    for (int64_t s = 0; s < b; s++) {
      const int64_t t = t0 + s, i = t / 2;
      p->coord[s] = i;
      p->value[s] = (t & 1) ? p->x0[i] - sp : p->x0[i] + sp;
    }
    nadi_delta_forward(p->delta, params, p->coord, p->value, b, p->y);
    if (atomic_load_explicit(stop, memory_order_relaxed))
      return NADI_PROBE_STOPPED; /* the forward may have returned early: y is undefined */
    for (int64_t s = 0; s < b; s++)
      p->fout[t0 + s] = p->y[s * p->out + o];
  }
  const double inv = 1.0 / (2.0 * p->step);
  int finite = 1;
  double fsum = 0.0;
  for (int64_t i = 0; i < d; i++) {
    g[i] = ((double)p->fout[2 * i] - (double)p->fout[2 * i + 1]) * inv;
    fsum += fabs((double)p->fout[2 * i]) + fabs((double)p->fout[2 * i + 1]);
    finite &= isfinite(g[i]);
  }
  p->fscale = fsum / (double)total;
  return finite ? NADI_PROBE_OK : NADI_PROBE_NONFINITE;
}

static nadi_probe_result run_gradient(nadi_probe *p, int64_t o, double *g,
                                      const atomic_int *stop) {
  nadi_exec_set_stop(p->exec, stop); /* a large network stops within a layer */
  const float *y = nadi_exec_forward(p->exec, p->params, p->x0, 1, 0, NULL);
  p->fscale = fabs((double)y[o]);
  p->dy[o] = 1.0f;
  nadi_exec_backward(p->exec, p->params, p->dy, p->dx, NULL);
  p->dy[o] = 0.0f;
  if (atomic_load_explicit(stop, memory_order_relaxed))
    return NADI_PROBE_STOPPED; /* the passes may have returned early: dx is undefined */
  int finite = 1;
  for (int64_t i = 0; i < p->d; i++) {
    g[i] = (double)p->dx[i];
    finite &= isfinite(g[i]);
  }
  return finite ? NADI_PROBE_OK : NADI_PROBE_NONFINITE;
}

nadi_probe_result nadi_probe_run(nadi_probe *p, uint64_t seed, int64_t j, double *g,
                                 const atomic_int *stop) {
  if (atomic_load_explicit(stop, memory_order_relaxed))
    return NADI_PROBE_STOPPED;
  if (!p->fixed && p->source) { /* the caller's network j, over the graph's constants */
    const size_t n = (size_t)p->g->n_params;
    if (p->g->base_params)
      memcpy(p->params, p->g->base_params, n * sizeof(float));
    else
      memset(p->params, 0, n * sizeof(float));
    if (p->source(p->source_ud, j, p->params, n) != 0)
      return NADI_PROBE_SOURCE_FAILED;
  } else if (!p->fixed) {
    nadi_rng r;
    nadi_rng_init(&r, seed, (uint64_t)j);
    nadi_graph_init_params(p->g, p->params, &r);
  }
  if (p->points)
    memcpy(p->x0, p->points + j * p->d, (size_t)p->d * sizeof(float));
  /* The façade checked that the output and the labels used are < the number of outputs. */
  const int64_t o = p->output == NAD_OUTPUT_LABEL ? p->labels[j] : p->output;
  return p->mode == NAD_MODE_DIPOLE ? run_dipole(p, o, g, stop) : run_gradient(p, o, g, stop);
}
