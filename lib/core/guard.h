/* Handle lifetime guard: a destroy that arrives while a call on the handle is running (from the
 * call's own callback, or from another thread) is deferred to the end of that call instead of
 * freeing memory the call still uses (issue 11: Python's close() from a progress callback was a
 * use-after-free). The pattern is SQLite's sqlite3_close_v2 "zombie": the handle is marked, new
 * calls are refused, and the last running call frees it. Never installed. */
#ifndef NADI_GUARD_H
#define NADI_GUARD_H

#include <stdatomic.h>
#include <stdint.h>

/* Low bits: running calls; NADI_GUARD_DOOMED: destroy was requested. Zero-initialised = idle. */
typedef atomic_uint_fast32_t nadi_guard;
#define NADI_GUARD_DOOMED ((uint_fast32_t)1 << 30)

/* Enter a call: 0 when the handle is being destroyed (the caller refuses with NAD_ERR_MISUSE),
 * else 1 and the call must end with nadi_guard_leave. */
static inline int nadi_guard_enter(nadi_guard *g) {
  uint_fast32_t s = atomic_load(g);
  do {
    if (s & NADI_GUARD_DOOMED)
      return 0;
  } while (!atomic_compare_exchange_weak(g, &s, s + 1));
  return 1;
}

/* Leave a call: 1 when destroy was requested meanwhile and this was the last running call (the
 * caller frees the handle now). */
static inline int nadi_guard_leave(nadi_guard *g) {
  return atomic_fetch_sub(g, 1) == (NADI_GUARD_DOOMED | 1);
}

/* Request destruction: 1 when no call is running (the caller frees now), 0 when the last
 * running call will (or destroy was already requested: a second destroy is ignored). */
static inline int nadi_guard_destroy(nadi_guard *g) {
  return atomic_fetch_or(g, NADI_GUARD_DOOMED) == 0;
}

/* Has destroy been requested? Long calls poll it and stop early (NAD_ERR_CANCELLED). */
static inline int nadi_guard_doomed(const nadi_guard *g) {
  return (atomic_load((nadi_guard *)g) & NADI_GUARD_DOOMED) != 0;
}

#endif
