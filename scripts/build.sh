#!/usr/bin/env bash
# Configure (once) and build libnad into ./build. Extra arguments go to `meson setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d build ]; then meson setup --reconfigure build "$@" >/dev/null; else meson setup build "$@" >/dev/null; fi
ninja -C build >/dev/null
