#!/usr/bin/env bash
# Main job on a fresh Debian 12 machine: install dependencies, build, compute LeNet's NADs
# (1x32x32, dipole s = 100, N networks; default 10,000 as in the paper) and write
# out/lenet/{eigenvalues,nads,mean,spectrum}.npy, summary.json and nads.png.
# Usage: scripts/main.sh [NETWORKS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh
scripts/build.sh
n=${1:-10000}
build/src/nad estimate lenet --networks "$n" --out out/lenet
ref=../shared/reference/official
if [ -f "$ref/LeNet_NADs.npy" ]; then
  echo "against the paper's official LeNet NADs:"
  build/src/nad compare out/lenet "$ref/LeNet_NADs.npy"
fi
