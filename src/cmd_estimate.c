/* `nad estimate`: one estimation run on this machine (estimate_run.c, without distribution). */
#include "estimate.h"

int cli_cmd_estimate(int argc, char **argv) { return estimate_main(argc, argv, NULL); }
