/* Status strings and the thread-local last-error message. */
#include <stdarg.h>
#include <stdio.h>

#include "core/core.h"

static _Thread_local char last_error[512];

nad_status nadi_fail(nad_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return st;
}

const char *nad_last_error(void) { return last_error; }

const char *nad_status_string(nad_status s) {
  switch (s) {
  case NAD_OK: return "ok";
  case NAD_ERR_INVALID_ARG: return "invalid argument";
  case NAD_ERR_OUT_OF_MEMORY: return "out of memory";
  case NAD_ERR_MISUSE: return "library misuse";
  case NAD_ERR_UNSUPPORTED: return "unsupported";
  case NAD_ERR_NUMERICAL: return "numerical failure";
  case NAD_ERR_IO: return "input/output error";
  case NAD_ERR_CANCELLED: return "cancelled";
  case NAD_ERR_OPTION_TYPE: return "wrong option type";
  case NAD_ERR_PARSE: return "parse error";
  case NAD_ERR_SHAPE: return "shape mismatch";
  case NAD_ERR_FORMAT: return "malformed or mismatched file";
  }
  return "unknown status";
}
