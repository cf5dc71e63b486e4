#!/usr/bin/env bash
# ImageNet-size NADs (README "ImageNet-size NADs", issue 19 §4): gradient-mode NADs of a
# torchvision ResNet at 3x224x224 with torchvision's own initialisation, from N random networks
# on 2 threads, and the README's pictures of them.
# Usage: scripts/imagenet_nads.sh [BUILD_DIR [OUTDIR [N [MODEL]]]]
#   defaults: build, out/imagenet, 10000, resnet18 (any torchvision resnet*/resnext*/wide_resnet*;
#   other families: INIT_RULES=share/init/FAMILY.rules, docs/onnx.md lists them). Run from the
#   repository root. The model is exported by bench/export_tv.py (random weights, nothing
#   downloaded; libnad draws its own networks by the rules anyway). 10,000 networks take about
#   13 min on a 2-core machine (BENCHMARKS.md); COPY_FIGURES=1 copies the pictures to docs/img/.
set -euo pipefail
build=${1:-build}
out=${2:-out/imagenet}
n=${3:-10000}
model=${4:-resnet18}
nad="$build/src/nad"
[ -x "$nad" ] || { echo "imagenet_nads.sh: no $nad (build first: ninja -C $build)" >&2; exit 1; }
case "$model" in
  resnet* | resnext* | wide_resnet*) rules=${INIT_RULES:-share/init/resnet.rules} ;;
  *) rules=${INIT_RULES:?"imagenet_nads.sh: $model is not a ResNet: set INIT_RULES (docs/onnx.md)"} ;;
esac
mkdir -p "$out"
onnx="$out/${model}_224.onnx"
[ -s "$onnx" ] || "${PYTHON:-/usr/bin/python3}" bench/export_tv.py "$model" "$onnx"
"$nad" estimate "$onnx" --mode gradient --sketch 256 --top 64 --init-rules "$rules" \
  --networks "$n" --threads 2 --show 0:4 --out "$out/$model"
if [ "${COPY_FIGURES:-0}" = 1 ]; then
  cp "$out/$model/spectrum.png" docs/img/imagenet_spectrum.png
  cp "$out/$model/eigenvalues.png" docs/img/imagenet_eigenvalues.png
  echo "wrote docs/img/imagenet_{spectrum,eigenvalues}.png"
fi
