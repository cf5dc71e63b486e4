/* Compiles the public header alone under strict flags (C99, C11; as C++17 via header_only.cpp). */
#include <nad/nad.h>

int main(void) {
  return nad_version() == NAD_VERSION_NUMBER ? 0 : 1;
}
