/* Ctrl-C and SIGTERM around a long command (estimate, bias, sweep): the first signal is only
 * recorded, and the command polls it (from the estimator's progress callback or the trainer's
 * epoch callback) to stop cleanly, keep what is finished and exit 128 + signal. SA_RESETHAND:
 * a second signal while the first one is being honoured kills the process. */
#include <signal.h>
#include <string.h>

#include "cli.h"

static volatile sig_atomic_t g_signal;
static struct sigaction g_old_int, g_old_term;

static void on_signal(int sig) { g_signal = sig; }

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
  sigaction(SIGINT, &g_old_int, NULL);
  sigaction(SIGTERM, &g_old_term, NULL);
}

int cli_signal(void) { return g_signal; }

int cli_signal_exit_code(void) { return 128 + (g_signal ? g_signal : SIGINT); }
