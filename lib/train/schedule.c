/* Learning-rate schedules of the trainer, computed in double as PyTorch computes them:
 *   linear    the reference's utils.train: np.interp(e + (b+1)/nb, [0, epochs], [lr, 0]),
 *             set before batch b (so the first batch already uses a slightly decayed rate);
 *   onecycle  torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs·nb) with
 *             its defaults (pct_start 0.3, cosine annealing, div_factor 25, final_div_factor
 *             1e4, cycle_momentum between 0.85 and 0.95), stepped after every batch, so batch
 *             s uses the value of step s (the scheduler's constructor sets step 0).
 * OneCycleLR cycles an SGD optimiser's momentum whatever its value; here the cycle is used only
 * when the trainer has momentum (> 0), so that momentum 0 stays plain SGD. */
#include <math.h>

#include "train/train.h"

#define PCT_START 0.3
#define DIV_FACTOR 25.0
#define FINAL_DIV_FACTOR 1e4
#define BASE_MOMENTUM 0.85
#define MAX_MOMENTUM 0.95

/* torch's _annealing_cos */
static double anneal_cos(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (cos(M_PI * pct) + 1.0);
}

void nadi_schedule_at(const nad_trainer *t, int64_t e, int64_t b, int64_t nb, double *lr,
                      double *momentum) {
  if (t->schedule != NAD_SCHEDULE_ONECYCLE) {
    const double slope = -t->lr / (double)t->epochs;
    *lr = slope * ((double)e + (double)(b + 1) / (double)nb) + t->lr;
    *momentum = t->momentum;
    return;
  }
  const double total = (double)(t->epochs * nb), step = (double)(e * nb + b);
  const double initial = t->lr / DIV_FACTOR, min_lr = initial / FINAL_DIV_FACTOR;
  const double end1 = PCT_START * total - 1.0, end2 = total - 1.0;
  double pct, m;
  if (step <= end1) {
    pct = step / end1;
    *lr = anneal_cos(initial, t->lr, pct);
    m = anneal_cos(MAX_MOMENTUM, BASE_MOMENTUM, pct);
  } else {
    pct = (step - end1) / (end2 - end1);
    *lr = anneal_cos(t->lr, min_lr, pct);
    m = anneal_cos(BASE_MOMENTUM, MAX_MOMENTUM, pct);
  }
  *momentum = t->momentum > 0 ? m : 0.0;
}
