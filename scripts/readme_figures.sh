#!/usr/bin/env bash
# Regenerates the README's pictures (docs/img/*.png), one of each figure kind, from real runs:
# LeNet's NADs, covariance spectrum and eigenvalues (nad estimate, 400 networks: few enough that
# the "not converged" stamp shows), a Fourier-grid heat map and an accuracy-against-NAD-index line
# plot of LeNet (nad sweep with shortened training, so that the script takes about ten minutes
# on 2 cores instead of hours: accuracies are lower than the paper's).
# Usage: scripts/readme_figures.sh [BUILD_DIR]   (default build/; run from the repository root)
set -euo pipefail
build=${1:-build}
nad="$build/src/nad"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$nad" estimate lenet --networks 400 --seed 0 --quiet --show 0:8,20,100,500,1000 \
  --out "$work/lenet"
train=(--train 4000 --test 2000 --epochs 8 --quiet)
"$nad" sweep lenet --grid fourier --step 4 "${train[@]}" --out "$work/grid" > /dev/null
"$nad" sweep lenet --nads "$work/lenet" --indices 0:1024:64 "${train[@]}" --out "$work/line" \
  > /dev/null
mkdir -p docs/img
for f in nads spectrum eigenvalues; do cp "$work/lenet/$f.png" "docs/img/$f.png"; done
cp "$work/grid/accuracy.png" docs/img/sweep_grid.png
cp "$work/line/accuracy.png" docs/img/sweep_nads.png
echo "wrote docs/img/{nads,spectrum,eigenvalues,sweep_grid,sweep_nads}.png"
