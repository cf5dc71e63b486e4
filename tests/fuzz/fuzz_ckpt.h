/* The estimator the checkpoint seeds are written for and read back into. */
#define FUZZ_CKPT_SPEC "conv 2 k3 p1; relu; fc 2"
#define FUZZ_CKPT_SEED 7
