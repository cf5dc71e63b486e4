/* Gradient-norm clipping (torch.nn.utils.clip_grad_norm_) and the torch.optim.SGD update, over
 * the trainable tensors only (BatchNorm running statistics are parameters of the flat array but
 * not of model.parameters()). */
#include <math.h>

#include "train/train.h"

double nadi_grad_norm(const nadi_graph *g, const float *grad) {
  double s = 0.0;
  for (int64_t t = 0; t < g->n_tensors; t++) {
    const nadi_tensor_info *ti = &g->tensors[t];
    if (!ti->trainable)
      continue;
    const float *p = grad + ti->offset;
    for (int64_t i = 0; i < ti->numel; i++)
      s += (double)p[i] * p[i];
  }
  return sqrt(s);
}

/* The per-element formulas of torch.optim.SGD (torch 1.13 _single_tensor_sgd), each operation
 * rounded to float as PyTorch does: grad.mul_(clip), d_p = grad.add(p, alpha=wd),
 * buf.mul_(m).add_(d_p), p.add_(d_p, alpha=-lr). */
static void step_tensor(float *restrict p, const float *restrict g, float *restrict buf,
                        int64_t n, int first, float gs, float lr, float m, float wd) {
  for (int64_t i = 0; i < n; i++) {
    float d = g[i] * gs;
    if (wd != 0.0f)
      d = d + wd * p[i];
    if (m != 0.0f) {
      buf[i] = first ? d : m * buf[i] + d;
      d = buf[i];
    }
    p[i] = p[i] - lr * d;
  }
}

void nadi_sgd_step(const nadi_graph *g, float *params, const float *grad, float *buf, int first,
                   float grad_scale, float lr, float momentum, float weight_decay) {
  for (int64_t t = 0; t < g->n_tensors; t++) {
    const nadi_tensor_info *ti = &g->tensors[t];
    if (ti->trainable)
      step_tensor(params + ti->offset, grad + ti->offset, buf + ti->offset, ti->numel, first,
                  grad_scale, lr, momentum, weight_decay);
  }
}
