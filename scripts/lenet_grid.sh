#!/usr/bin/env bash
# Reproduces the paper's Figure 1 for LeNet with the reference setup (D(v) with epsilon 1,
# sigma 3, 10,000 training and 10,000 test samples, 20 epochs, batch 128, SGD lr 0.5 decayed
# linearly to 0, no momentum, no weight decay, gradient-norm clip 0.5) on every Fourier
# direction fy, fx in {-16, -14, ..., 14} of 1x32x32 inputs: 256 trainings.
# Writes OUT/accuracy.csv (fy,fx,accuracy), OUT/accuracy.png (heat map, DC in the centre,
# viridis 50..100 %) and OUT/sweep.json. Interrupted, the same command resumes.
# With /usr/bin/python3 (numpy) and the official data beside the repository, it also compares
# the grid with the paper's numbers (../shared/reference/official/lenet_logreg_dft_accuracy.csv).
# usage: scripts/lenet_grid.sh [OUT_DIR (lenet-grid)] [THREADS (all CPUs)] [SEED (0)]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-lenet-grid}
threads=${2:-$(nproc)}
seed=${3:-0}
nad=${NAD:-build/src/nad}
[ -x "$nad" ] || scripts/build.sh
start=$(date +%s)
"$nad" sweep lenet --grid fourier --step 2 --threads "$threads" --seed "$seed" --out "$out"
echo "wall time: $(( $(date +%s) - start )) s"
ref=../shared/reference/official/lenet_logreg_dft_accuracy.csv
if [ -f "$ref" ] && [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 - "$out/accuracy.csv" "$ref" <<'PY'
import sys
import numpy as np
ours = np.genfromtxt(sys.argv[1], delimiter=",", names=True)
ref = np.genfromtxt(sys.argv[2], delimiter=",", names=True)
a, b = np.full((16, 16), np.nan), np.full((16, 16), np.nan)
for r in ours:
    a[int(r["fy"]) // 2 + 8, int(r["fx"]) // 2 + 8] = r["accuracy"]
for r in ref:  # grid index k = 0..15 is frequency 2 (k - 8); x is fx, y is fy
    b[int(r["y"]), int(r["x"])] = r["lenet"]
ok = ~np.isnan(a)
print(f"cells: {ok.sum()} of 256; mean accuracy {np.nanmean(a):.1f} % (paper {b[ok].mean():.1f} %)")
if ok.sum() > 2:
    print(f"correlation with the paper's grid: {np.corrcoef(a[ok], b[ok])[0, 1]:.3f}")
alias = np.zeros((16, 16), bool)
for k in (0, 4, 12):  # frequencies -16, -8, 8
    alias[k, :] = alias[:, k] = True
for name, m in (("aliased (|f| = 8 or 16)", alias & ok), ("other", ~alias & ok)):
    if m.any():
        print(f"{name:26s} ours {a[m].mean():5.1f} %  paper {b[m].mean():5.1f} %")
PY
fi
