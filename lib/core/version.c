#include "core/core.h"

uint32_t nad_version(void) { return NAD_VERSION_NUMBER; }
const char *nad_version_string(void) { return NAD_VERSION_STRING; }
