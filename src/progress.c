/* Progress bar on stderr: done/total, rate and ETA, redrawn in place at most ~10 times/s. */
#include <stdio.h>

#include "cli.h"

#define BAR_WIDTH 30
#define MIN_INTERVAL 0.1 /* seconds between redraws */

void cli_progress_init(cli_progress *p, int enabled) {
  p->enabled = enabled;
  p->drawn = 0;
  p->start = cli_now();
  p->last = -1.0;
  p->first_done = -1;
}

static void format_duration(double s, char *buf, size_t len) {
  if (!(s >= 0) || s > 1e8) {
    snprintf(buf, len, "--");
    return;
  }
  long t = (long)(s + 0.5);
  if (t >= 3600)
    snprintf(buf, len, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
  else
    snprintf(buf, len, "%lds", t);
}

void cli_progress_update(cli_progress *p, int64_t done, int64_t total) {
  if (!p->enabled)
    return;
  double now = cli_now();
  if (p->first_done < 0) { /* the rate counts only networks of this run (not a resumed part) */
    p->first_done = done;
    p->start = now;
  }
  if (done < total && p->last >= 0 && now - p->last < MIN_INTERVAL)
    return;
  p->last = now;
  double elapsed = now - p->start;
  double rate = elapsed > 0 ? (double)(done - p->first_done) / elapsed : 0.0;
  int filled = total > 0 ? (int)((double)BAR_WIDTH * (double)done / (double)total) : 0;
  if (filled > BAR_WIDTH)
    filled = BAR_WIDTH;
  char bar[BAR_WIDTH + 1];
  for (int i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < filled ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  char eta[32];
  if (done >= total)
    format_duration(elapsed, eta, sizeof eta);
  else
    format_duration(rate > 0 ? (double)(total - done) / rate : -1.0, eta, sizeof eta);
  /* \033[K clears what a longer previous line left behind. */
  fprintf(stderr, "\r[%s] %lld/%lld  %.*f net/s  %s %s\033[K", bar, (long long)done,
          (long long)total, rate >= 100 ? 0 : rate >= 10 ? 1 : 2, rate,
          done >= total ? "took" : "ETA", eta);
  fflush(stderr);
  p->drawn = 1;
}

void cli_progress_end(cli_progress *p) {
  if (p->enabled && p->drawn) {
    fputc('\n', stderr);
    fflush(stderr);
  }
  p->drawn = 0;
}
