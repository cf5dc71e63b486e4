/* Built against libnad as a meson subproject: the header and library come from the subproject. */
#include <stdio.h>
#include <string.h>

#include <nad/nad.h>

int main(void) {
  nad_arch *arch = NULL;
  int64_t params = 0;
  if (strcmp(nad_version_string(), NAD_VERSION_STRING) != 0) {
    fprintf(stderr, "header %s, library %s\n", NAD_VERSION_STRING, nad_version_string());
    return 1;
  }
  if (nad_arch_create_builtin("lenet", 1, 32, 32, 1, &arch) != NAD_OK ||
      nad_arch_num_params(arch, &params) != NAD_OK) {
    fprintf(stderr, "%s\n", nad_last_error());
    return 1;
  }
  nad_arch_destroy(arch);
  printf("lenet has %lld parameters\n", (long long)params);
  return params == 60941 ? 0 : 1;
}
