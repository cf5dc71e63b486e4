#!/usr/bin/env bash
# libnad as a meson subproject: copies tests/subproject/consumer to a temporary directory, links
# subprojects/libnad to this source tree, configures it offline (no wrap, no download), builds
# and runs its tests (a C program on dependency('libnad'), the `nad` tool from find_program).
# Args: SOURCE_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp -r "$src/tests/subproject/consumer" "$work/consumer"
mkdir -p "$work/consumer/subprojects"
ln -s "$src" "$work/consumer/subprojects/libnad"
cd "$work/consumer"
if ! meson setup build --wrap-mode=nodownload > setup.log 2>&1; then
  cat setup.log; echo "0 passed, 1 failed"; exit 1
fi
if ! ninja -C build > build.log 2>&1; then
  tail -40 build.log; echo "0 passed, 1 failed"; exit 1
fi
if ! meson test -C build --print-errorlogs consumer nad-tool; then
  echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
