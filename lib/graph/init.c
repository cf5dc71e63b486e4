/* PyTorch's default initialisation of every layer, drawn in node (= state_dict) order.
 *
 * Conv2d / Linear (reset_parameters: kaiming_uniform_ with a = sqrt(5)): gain sqrt(2/(1+5)),
 * std = gain/sqrt(fan_in), bound = sqrt(3)*std = 1/sqrt(fan_in); the bias uses the same bound.
 * fan_in = in_channels*k*k (conv) or in_features (linear).
 * VGG convolutions (reference code): weight N(0, sqrt(2/(k*k*out_channels))), bias 0.
 * BatchNorm: weight 1, bias 0, running_mean 0, running_var 1.
 * The values differ from PyTorch's draws (another generator) but follow the same laws; the
 * order of draws (layer by layer, weight then bias) fixes the result for a given rng state. */
#include <math.h>

#include "graph/graph.h"

static void fill(float *x, int64_t n, float v) {
  for (int64_t i = 0; i < n; i++)
    x[i] = v;
}

void nadi_graph_init_params(const nadi_graph *g, float *params, nadi_rng *rng) {
  for (int64_t i = 0; i < g->n_layers; i++) {
    const nadi_layer *l = &g->layers[i];
    float *p = params + l->param_off;
    const int64_t *s = l->in_shape[0];
    switch (l->kind) {
    case NADI_CONV2D:
    case NADI_LINEAR: {
      int64_t fan_in = l->kind == NADI_CONV2D ? s[0] * l->k * l->k : s[0] * s[1] * s[2];
      int64_t n_w = l->n_params - (l->bias ? l->out_c : 0);
      if (l->kind == NADI_CONV2D && l->init == NADI_INIT_VGG_CONV) {
        double std = sqrt(2.0 / ((double)l->k * l->k * (double)l->out_c));
        nadi_rng_fill_normal(rng, p, n_w, 0.0, std);
        if (l->bias)
          fill(p + n_w, l->out_c, 0.0f);
      } else {
        double bound = 1.0 / sqrt((double)fan_in);
        nadi_rng_fill_uniform(rng, p, n_w, -bound, bound);
        if (l->bias)
          nadi_rng_fill_uniform(rng, p + n_w, l->out_c, -bound, bound);
      }
      break;
    }
    case NADI_BATCHNORM: {
      int64_t c = l->out_c;
      fill(p, c, 1.0f);         /* weight */
      fill(p + c, c, 0.0f);     /* bias */
      fill(p + 2 * c, c, 0.0f); /* running_mean */
      fill(p + 3 * c, c, 1.0f); /* running_var */
      break;
    }
    default:
      break;
    }
  }
}
