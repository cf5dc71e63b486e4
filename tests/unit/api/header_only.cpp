// The public header must be usable from C++ (extern "C", no C-only constructs).
#include <nad/nad.h>

int main() { return nad_version() == NAD_VERSION_NUMBER ? 0 : 1; }
