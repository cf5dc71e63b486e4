#!/usr/bin/env bash
# Regenerates the README's pictures (docs/img/*.png), one of each figure kind, from real runs:
# LeNet's NADs, covariance spectrum and eigenvalues (nad estimate, 400 networks: few enough that
# the "not converged" stamp shows), a Fourier-grid heat map and an accuracy-against-NAD-index line
# plot of LeNet (nad sweep with the paper's training, on a coarse grid: step 8 and every 128th
# NAD, so that the script takes about 20 minutes on 2 cores instead of hours).
# Usage: scripts/readme_figures.sh [BUILD_DIR]   (default build/; run from the repository root)
set -euo pipefail
build=${1:-build}
nad="$(cd "$build" && pwd)/src/nad"
img="$(pwd)/docs/img"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" # relative paths: the titles name 'lenet', not a temporary directory
"$nad" estimate lenet --networks 400 --seed 0 --quiet --show 0:8,20,100,500,1000 --out lenet
"$nad" sweep lenet --grid fourier --step 8 --quiet --out grid > /dev/null
"$nad" sweep lenet --nads lenet --indices 0:1024:128 --quiet --out line > /dev/null
mkdir -p "$img"
for f in nads spectrum eigenvalues; do cp "lenet/$f.png" "$img/$f.png"; done
cp grid/accuracy.png "$img/sweep_grid.png"
cp line/accuracy.png "$img/sweep_nads.png"
echo "wrote docs/img/{nads,spectrum,eigenvalues,sweep_grid,sweep_nads}.png"
