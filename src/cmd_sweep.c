/* `nad sweep`: test accuracy of D(v) training over a set of directions, written incrementally
 * so that an interrupted sweep resumes where it stopped.
 *   --grid fourier: v = Fourier basis vectors over the frequency grid (fy, fx), CSV rows
 *     "fy,fx,accuracy" and a heat map (fftshifted: DC in the centre), like the paper's Fig. 1;
 *   --nads DIR --indices A:B:STEP: v = NAD number k of DIR/nads.npy, CSV rows "index,accuracy"
 *     and a line plot, like the paper's Fig. 2;
 *   --poison --data SOURCE --nads DIR --indices LIST --epsilon E: `nad poison` per NAD index,
 *     CSV rows "index,clean_test_accuracy,poisoned_train_accuracy" and a line plot of the clean
 *     test accuracy, like the paper's Fig. 3.
 * Every cell trains a fresh network from the same seed on data from the same seeds: only v
 * changes between cells, and a cell's result does not depend on the order or on a restart.
 * A cell's test accuracy is measured once, after its last epoch (the same number as 'nad bias'
 * reports, without its per-epoch evaluations).
 *
 * Files in --out DIR: sweep.json (the settings, one line; a resumed sweep must match it),
 * accuracy.csv (one row appended, flushed and fsync'ed per finished cell; a torn last line
 * from a crash is cut off on restart) and accuracy.png (or .svg/.pdf by --format; rewritten
 * atomically after each cell). */
#include <string.h>

#include "sweep.h"

int cli_cmd_sweep(int argc, char **argv) {
  for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "--poison") == 0)
      return sweep_poison_main(argc, argv);
  return sweep_dv_main(argc, argv);
}
