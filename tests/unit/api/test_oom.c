/* Allocation failure through the public API: with the address space capped at 1 GiB, requests
 * that need more must fail with NAD_ERR_OUT_OF_MEMORY and a message (never crash), and the
 * handles involved must stay usable afterwards. Not run under ASan (its shadow memory needs a
 * large address space) nor valgrind. */
#include <string.h>
#include <sys/resource.h>

#include <nad/nad.h>

#include "../check.h"

int main(void) {
#if defined(__SANITIZE_ADDRESS__)
  printf("skipped under AddressSanitizer\n");
  return 77;
#else
  struct rlimit rl = {.rlim_cur = 1UL << 30, .rlim_max = 1UL << 30};
  if (setrlimit(RLIMIT_AS, &rl) != 0) {
    printf("setrlimit failed\n");
    return 1;
  }
  nad_arch *lenet = NULL, *big = NULL;
  CHECK(nad_arch_create_builtin("lenet", 1, 32, 32, 1, &lenet) == NAD_OK, "%s", nad_last_error());
  nad_net *net = NULL;
  CHECK(nad_net_create(lenet, 1, &net) == NAD_OK, "%s", nad_last_error());

  /* a batch of 1000 small inputs whose activations need 2 x 2 GB (512 channels of 32x32) */
  static float x[1000 * 1024], y[1000];
  nad_arch *wide = NULL;
  nad_net *wnet = NULL;
  CHECK(nad_arch_create_spec("conv 512 k1; fc 1", 1, 32, 32, &wide) == NAD_OK, "%s",
        nad_last_error());
  CHECK(nad_net_create(wide, 1, &wnet) == NAD_OK, "%s", nad_last_error());
  nad_status st = nad_net_forward(wnet, x, 1000, y, 1000);
  CHECK(st == NAD_ERR_OUT_OF_MEMORY, "huge batch: %s (%s)", nad_status_string(st), nad_last_error());
  CHECK(strstr(nad_last_error(), "memory") != NULL, "message: %s", nad_last_error());
  /* the network still works with a small batch */
  st = nad_net_forward(wnet, x, 2, y, 2);
  CHECK(st == NAD_OK, "forward after failure: %s", nad_last_error());
  nad_net_destroy(wnet);
  nad_arch_destroy(wide);
  st = nad_net_forward(net, x, 2, y, 2);
  CHECK(st == NAD_OK, "lenet forward: %s", nad_last_error());

  /* an estimator whose accumulators need 3 x 800 MB */
  CHECK(nad_arch_create_builtin("logreg", 1, 100, 100, 1, &big) == NAD_OK, "%s", nad_last_error());
  nad_estimator *e = NULL;
  st = nad_estimator_create(big, &e);
  if (st == NAD_OK) {
    nad_estimator_set_int(e, NAD_OPT_NUM_NETWORKS, 2);
    st = nad_estimator_run(e);
  }
  CHECK(st == NAD_ERR_OUT_OF_MEMORY, "huge estimator: %s (%s)", nad_status_string(st),
        nad_last_error());
  nad_estimator_destroy(e);
  nad_net_destroy(net);
  nad_arch_destroy(lenet);
  nad_arch_destroy(big);
  return check_summary();
#endif
}
