/* Ctrl-C and SIGTERM around a long command (estimate, bias, sweep): the first signal is
 * recorded and cancels the running estimator or trainer (cli_signals_target) at once: the
 * library polls the flag per probe chunk and layer, or per chunk of a training batch, so a
 * large network stops within about a second; the command then sees NAD_ERR_CANCELLED (or
 * polls cli_signal() from the callbacks), keeps what is finished and exits 128 + signal.
 * SA_RESETHAND: a second signal while the first one is being honoured kills the process. */
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "cli.h"

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
               "the signal handler needs lock-free atomics");

static volatile sig_atomic_t g_signal;
static struct sigaction g_old_int, g_old_term;
/* The handles the handler cancels, and how many handlers are using them right now (the signal
 * may run on another thread, e.g. a BLAS thread: cli_signals_target waits for it before the
 * caller may destroy a handle it has cleared). */
static _Atomic(nad_estimator *) g_est;
static _Atomic(nad_trainer *) g_tr;
static atomic_int g_in_handler;

static void on_signal(int sig) {
  g_signal = sig;
  atomic_fetch_add(&g_in_handler, 1);
  nad_estimator *e = atomic_load(&g_est);
  nad_trainer *t = atomic_load(&g_tr);
  if (e)
    (void)nad_estimator_cancel(e); /* async-signal-safe (nad.h) */
  if (t)
    (void)nad_trainer_cancel(t);
  atomic_fetch_sub(&g_in_handler, 1);
}

void cli_signals_target(nad_estimator *e, nad_trainer *t) {
  atomic_store(&g_est, e);
  atomic_store(&g_tr, t);
  while (atomic_load(&g_in_handler) > 0) /* a handler still holds the old ones */
    sched_yield();
}

void cli_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  g_signal = 0;
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

void cli_signals_restore(void) {
  cli_signals_target(NULL, NULL);
  sigaction(SIGINT, &g_old_int, NULL);
  sigaction(SIGTERM, &g_old_term, NULL);
}

int cli_signal(void) { return g_signal; }

int cli_signal_exit_code(void) { return 128 + (g_signal ? g_signal : SIGINT); }
