#!/usr/bin/env bash
# Regenerates the README's pictures (docs/img/*.png), one of each figure kind, from real runs:
# LeNet's NADs, covariance spectrum and eigenvalues (nad estimate, 400 networks: few enough that
# the "not converged" stamp shows), a Fourier-grid heat map and an accuracy-against-NAD-index line
# plot of LeNet (nad sweep on a coarse grid, step 8 and every 128th NAD, with shortened training,
# 4000 samples and 8 epochs, so that the script takes minutes on 2 cores instead of hours; the
# paper's training takes about 40 s a cell: drop the `train` options for it).
# Usage: scripts/readme_figures.sh [BUILD_DIR]   (default build/; run from the repository root)
set -euo pipefail
build=${1:-build}
nad="$(cd "$build" && pwd)/src/nad"
img="$(pwd)/docs/img"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" # relative paths: the titles name 'lenet', not a temporary directory
"$nad" estimate lenet --networks 400 --seed 0 --quiet --show 0:8,20,100,500,1000 --out lenet
train=(--train 4000 --test 2000 --epochs 8 --quiet)
"$nad" sweep lenet --grid fourier --step 8 "${train[@]}" --out grid > /dev/null
"$nad" sweep lenet --nads lenet --indices 0:1024:128 "${train[@]}" --out line > /dev/null
mkdir -p "$img"
for f in nads spectrum eigenvalues; do cp "lenet/$f.png" "$img/$f.png"; done
cp grid/accuracy.png "$img/sweep_grid.png"
cp line/accuracy.png "$img/sweep_nads.png"
echo "wrote docs/img/{nads,spectrum,eigenvalues,sweep_grid,sweep_nads}.png"
