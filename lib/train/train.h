/* Directional-bias experiments: Fourier/random directions and the mini-batch SGD trainer
 * (issue 4; the linearly separable dataset D(v) is data: lib/data/separable.c). Never installed.
 *
 * Who does what:
 *   fourier.c    Fourier basis vectors (through lib/core/fft.c) and random unit directions
 *   loss.c       cross-entropy over K logits: loss, accuracy and the logit gradient
 *   sgd.c        gradient-norm clipping and the PyTorch SGD step (momentum, weight decay)
 *   schedule.c   learning rate (and momentum) per step: linear decay, one-cycle
 *   loop.c       the training loop: shuffling, data-parallel batches, evaluation, callback
 * The public façades (validation, options, messages) are lib/api/direction.c and trainer.c. */
#ifndef NADI_TRAIN_H
#define NADI_TRAIN_H

#include <stdatomic.h>

#include "core/guard.h"
#include "core/threads.h"
#include "data/data.h"
#include "graph/graph.h"

/* ---- directions (fourier.c) ------------------------------------------------------------------ */

/* Unit-norm Fourier basis vector of frequency (fy, fx) into dst (c·h·w floats), the same
 * pattern in every channel. Trusts: |fy| <= h/2, |fx| <= w/2, and part != SIN where the sine
 * vanishes (see nadi_fourier_sine_vanishes). Convention (numpy's irfft2 of a half spectrum with
 * one coefficient's imaginary part set to 1, then normalised):
 *   sine   v ∝ −sin(2π(fy·y/h + fx·x/w))   (for fx >= 0: imag part 1 at rfft2 index
 *                                          [fy mod h, fx]; for fx < 0 the conjugate index
 *                                          [−fy mod h, −fx] with imag part −1, same formula)
 *   cosine v ∝ +cos(2π(fy·y/h + fx·x/w))   (real part 1)
 * AUTO is the sine unless it vanishes, then the cosine. */
nad_status nadi_direction_fourier(int64_t c, int64_t h, int64_t w, int64_t fy, int64_t fx,
                                  nad_fourier_part part, float *dst);
/* 1 when sin(2π(fy·y/h + fx·x/w)) is identically 0 on the h×w grid: 2fy ≡ 0 (mod h) and
 * 2fx ≡ 0 (mod w), i.e. the DFT coefficient is its own conjugate. */
int nadi_fourier_sine_vanishes(int64_t h, int64_t w, int64_t fy, int64_t fx);
/* Gaussian direction from (seed), normalised to unit L2 norm (in double). */
void nadi_direction_random(uint64_t seed, float *dst, int64_t len);

/* ---- loss (loss.c) --------------------------------------------------------------------------- */

/* Cross-entropy of n samples with k logits z (row-major) and labels y: adds Σ loss to *loss_sum
 * and the number of samples whose first maximal logit is the label to *correct; when dz is not
 * NULL writes dz = scale·(softmax(z) − onehot(y)) (scale = 1/batch gives the mean's gradient). */
void nadi_xent(const float *z, const int32_t *y, int64_t n, int64_t k, double scale, float *dz,
               double *loss_sum, int64_t *correct);

/* ---- SGD (sgd.c) ----------------------------------------------------------------------------- */

/* L2 norm of the gradient over the trainable tensors of g (BatchNorm running statistics are not
 * trainable), accumulated in double. */
double nadi_grad_norm(const nadi_graph *g, const float *grad);
/* One torch.optim.SGD step on the trainable tensors, after scaling the gradient by grad_scale
 * (the clipping factor; 1 = none): d = grad_scale·grad + wd·p; with momentum m:
 * buf = d on the first step (first != 0), else buf = m·buf + d, and d = buf; p −= lr·d.
 * Float arithmetic in PyTorch's order. */
void nadi_sgd_step(const nadi_graph *g, float *params, const float *grad, float *buf, int first,
                   float grad_scale, float lr, float momentum, float weight_decay);

/* ---- trainer (loop.c) ------------------------------------------------------------------------ */

/* Per-thread state: an executor for `cap` samples and its gradient buffers. */
typedef struct nadi_worker {
  nadi_exec *exec;
  float *x;      /* cap·d gathered inputs */
  int32_t *y;    /* cap labels */
  float *dz;     /* cap·k logit gradients */
  float *grad;   /* n_params: gradient summed over this worker's chunks of the batch */
  float *gtmp;   /* n_params: one chunk's gradient (exec_backward overwrites) */
  nadi_rng rng;  /* dropout masks, reseeded per chunk */
  double loss;   /* per job: Σ cross-entropy */
  int64_t correct;
  int has_grad;  /* per job: grad holds something */
} nadi_worker;

struct nad_trainer {
  const nad_arch *arch;
  const nadi_graph *g;
  int64_t d, k, n_params;
  float *params;
  float *mbuf; /* momentum buffers (n_params, trainable slots used) */
  /* options */
  int64_t epochs, batch, threads, shuffle, schedule;
  uint64_t seed;
  double lr, momentum, weight_decay, clip;
  nad_epoch_fn epoch_fn;
  void *epoch_ud;
  int busy;   /* inside fit/evaluate: options and callback are frozen */
  nadi_guard guard; /* running façade calls; destroy waits for them (lib/core/guard.h) */
  int has_bn; /* BatchNorm present: a training batch is never split (batch statistics) */
  atomic_int cancel; /* set by nad_trainer_cancel (any thread, signal handlers), polled before
                        each chunk of samples; cleared when fit or evaluate starts */
  /* buffers for the current (threads, chunk) configuration */
  int nworkers;
  int64_t cap; /* samples per chunk */
  nadi_worker *workers;
};

/* Default options and the initial parameters of graph g (those of nad_net_create(a, seed)).
 * t->arch is the façade's business (it retains and releases it). */
nad_status nadi_trainer_init(nad_trainer *t, const nadi_graph *g, uint64_t seed);
void nadi_trainer_free(nad_trainer *t); /* frees the buffers, not t nor t->arch */
/* The training loop and the evaluation; arguments already validated by the façade. */
nad_status nadi_trainer_fit(nad_trainer *t, const nad_dataset *train, const nad_dataset *test);
nad_status nadi_trainer_evaluate(nad_trainer *t, const nad_dataset *d, double *accuracy,
                                 double *loss);
/* Learning rate and momentum of batch b (of nb) in epoch e under t's schedule (nad.h,
 * nad_trainer_create), in double as PyTorch's schedulers compute them. */
void nadi_schedule_at(const nad_trainer *t, int64_t e, int64_t b, int64_t nb, double *lr,
                      double *momentum);

#endif
