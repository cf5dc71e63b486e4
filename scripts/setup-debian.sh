#!/usr/bin/env bash
# Installs everything libnad needs on a fresh Debian 12 machine (build, tests, benchmarks).
# Usage: scripts/setup-debian.sh [--with-torch]   (torch is needed for the PyTorch comparison tests)
set -euo pipefail
# clang + libfuzzer-14-dev: the bounded libFuzzer suite (scripts/test.sh, suite fuzz); abigail-tools:
# abidiff against the checked-in ABI dump (test abi-check).
# libblis-dev: the -Dblas=blis build (its BLAS alternative ranks below OpenBLAS's, so the default
# libblas.so.3 stays OpenBLAS); time: /usr/bin/time -v for the peak RSS in bench/; cairo draws
# the figures (fonts-dejavu-core: their font); libpng reads them back and poppler-utils (pdftotext)
# checks the PDFs in the tests.
# Python package (bindings/python, issue 10): pip installs it offline into a venv with the
# setuptools backend; pytest runs its tests; matplotlib draws libnad.plot's figures.
# ONNX import (lib/onnx): protoc-c generates the parser from libonnx-dev's onnx.proto at build
# time, libprotobuf-c runs it; python3-torchvision exports the models its tests read, python3-onnx
# writes the hand-made ones (unsupported operators).
# doxygen: the API reference and its check (no undocumented symbol); groff-base: the nad(1) check.
pkgs=(build-essential meson ninja-build pkg-config
      libopenblas-dev libblis-dev liblapacke-dev libfftw3-dev libpng-dev zlib1g-dev
      libcairo2-dev fonts-dejavu-core poppler-utils
      python3 python3-numpy valgrind time dataset-fashion-mnist
      python3-venv python3-pip python3-setuptools python3-wheel python3-pytest python3-matplotlib
      doxygen groff-base libopenmpi-dev openmpi-bin
      clang libfuzzer-14-dev abigail-tools
      protobuf-c-compiler libprotobuf-c-dev libonnx-dev python3-torchvision python3-onnx)
if [ "${1:-}" = "--with-torch" ]; then pkgs+=(python3-torch); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Julia binding's static check (tests/julia, issue 20): Debian has no Julia, so the test parses
# bindings/julia with tree-sitter's Julia grammar (WebAssembly) on node. nodejs and npm only when
# the commands are missing (a NodeSource nodejs already bundles npm and conflicts with Debian's);
# the two npm packages, pinned, into the git-ignored .tools/node (nothing is fetched at test time).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
node_dir="$(cd "$(dirname "$0")/.." && pwd)/.tools/node"
node_pkgs=(web-tree-sitter@0.24.7 tree-sitter-julia@0.23.1)
for p in "${node_pkgs[@]}"; do
  if ! grep -qs "\"version\": \"${p##*@}\"" "$node_dir/node_modules/${p%@*}/package.json"; then
    # --ignore-scripts: only the grammar's .wasm is used, its native addon is not built
    npm install --prefix "$node_dir" --no-audit --no-fund --ignore-scripts --save-exact "${node_pkgs[@]}"
    break
  fi
done
