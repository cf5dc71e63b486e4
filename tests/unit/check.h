/* The test harness shared by the C unit tests: counters, two assertion macros and the closing
 * line "N passed, N failed" that the test scripts read. Include once per test program. */
#ifndef NADT_CHECK_H
#define NADT_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int passed, failed;

static inline void check_record(int ok, const char *file, int line, const char *fmt, ...) {
  if (ok) {
    passed++;
    return;
  }
  failed++;
  va_list ap;
  va_start(ap, fmt);
  printf("FAIL %s:%d: ", file, line);
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
}

/* CHECK(cond, fmt, ...): count a check; on failure print the printf-style message. */
#define CHECK(cond, ...) check_record(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* EXPECT(cond): the same, the message is the condition's text. */
#define EXPECT(cond) check_record(!!(cond), __FILE__, __LINE__, "%s", #cond)

/* Print the closing line; returns the process exit status. */
static inline int check_summary(void) {
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}

#endif
