#!/usr/bin/env bash
# NADs of modern architectures side by side (README "NADs of modern architectures", issue 17 §5):
# runs examples/modern_nads.py against a build tree's library and binding.
# Usage: scripts/modern_figure.sh [BUILD_DIR [OUTDIR [options of examples/modern_nads.py]]]
#   (defaults build/ and out/modern; run from the repository root). The options choose the
#   architectures and each one's network count, e.g.
#   scripts/modern_figure.sh build out/modern --networks lenet=2000,resnet18=100,vit=20
# PYTHON (default /usr/bin/python3, the one with numpy on Debian) runs it. Architectures already
# computed with the same N, seed and input are kept; the figure and the table are redrawn.
set -euo pipefail
build=${1:-build}
out=${2:-out/modern}
shift $(( $# < 2 ? $# : 2 ))
lib="$build/lib/libnad.so"
[ -e "$lib" ] || { echo "modern_figure.sh: no $lib (build first: ninja -C $build)" >&2; exit 1; }
lib="$(cd "$build" && pwd)/lib/libnad.so"
NAD_LIBRARY="$lib" PYTHONPATH="$(pwd)/bindings/python${PYTHONPATH:+:$PYTHONPATH}" \
  exec "${PYTHON:-/usr/bin/python3}" examples/modern_nads.py "$out" "$@"
