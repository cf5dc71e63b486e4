/* Cross-entropy over K logits (torch.nn.CrossEntropyLoss on class indices), in double: the
 * log-sum-exp is shifted by the largest logit so that it never overflows. */
#include <math.h>

#include "train/train.h"

void nadi_xent(const float *z, const int32_t *y, int64_t n, int64_t k, double scale, float *dz,
               double *loss_sum, int64_t *correct) {
  double loss = 0.0;
  int64_t hits = 0;
  for (int64_t i = 0; i < n; i++) {
    const float *zi = z + i * k;
    int64_t arg = 0; /* first maximal logit, as torch's max(1) */
    for (int64_t j = 1; j < k; j++)
      if (zi[j] > zi[arg])
        arg = j;
    hits += arg == y[i];
    double m = zi[arg], s = 0.0;
    for (int64_t j = 0; j < k; j++)
      s += exp((double)zi[j] - m);
    double lse = m + log(s);
    loss += lse - zi[y[i]];
    if (!dz)
      continue;
    for (int64_t j = 0; j < k; j++) {
      double p = exp((double)zi[j] - lse);
      dz[i * k + j] = (float)(scale * (p - (j == y[i] ? 1.0 : 0.0)));
    }
  }
  *loss_sum += loss;
  *correct += hits;
}
