#!/usr/bin/env bash
# Regenerates the README's pictures (docs/img/*.png), one of each figure kind, from real runs:
# LeNet's NADs, covariance spectrum and eigenvalues (nad estimate), a Fourier-grid heat map and
# an accuracy-against-NAD-index line plot of logistic regression on 16x16 inputs (nad sweep,
# short training so that the script takes minutes, not hours).
# Usage: scripts/readme_figures.sh [BUILD_DIR]   (default build/; run from the repository root)
set -euo pipefail
build=${1:-build}
nad="$build/src/nad"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$nad" estimate lenet --networks 400 --seed 0 --quiet --show 0:8,20,100,500,1000 \
  --out "$work/lenet"
"$nad" estimate logreg --input 1x16x16 --networks 200 --quiet --out "$work/logreg"
train=(--train 2000 --test 1000 --epochs 2 --quiet)
"$nad" sweep logreg --input 1x16x16 --grid fourier --step 2 "${train[@]}" --out "$work/grid" \
  > /dev/null
"$nad" sweep logreg --input 1x16x16 --nads "$work/logreg" --indices 0:256:16 "${train[@]}" \
  --out "$work/line" > /dev/null
mkdir -p docs/img
cp "$work/lenet/nads.png" docs/img/nads.png
cp "$work/lenet/spectrum.png" docs/img/spectrum.png
cp "$work/lenet/eigenvalues.png" docs/img/eigenvalues.png
cp "$work/grid/accuracy.png" docs/img/sweep_grid.png
cp "$work/line/accuracy.png" docs/img/sweep_nads.png
echo "wrote docs/img/{nads,spectrum,eigenvalues,sweep_grid,sweep_nads}.png"
