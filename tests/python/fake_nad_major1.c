/* A stand-in "libnad" of major version 1, which the Python binding (major 0) must refuse. */
#include <stdint.h>

uint32_t nad_version(void);

uint32_t nad_version(void) { return 10203; /* 1.2.3 */ }
