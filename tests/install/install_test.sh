#!/usr/bin/env bash
# Installs libnad into a staging directory and builds examples/lenet_nads.c against the
# *installed* header and pkg-config file with strict flags, then runs it.
# Args: BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1; src=$2
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null
pc=$(find "$stage" -name libnad.pc | head -n1)
[ -n "$pc" ] || { echo "libnad.pc not installed"; echo "0 passed, 1 failed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$stage/pc"
sed "s|^prefix=.*|prefix=$stage$prefix|" "$pc" > "$stage/pc/libnad.pc"
export PKG_CONFIG_PATH="$stage/pc"
cflags=$(pkg-config --cflags libnad); libs=$(pkg-config --libs libnad)
for std in c99 c11; do
  cc -std=$std -Wall -Wextra -Wpedantic -Werror $cflags "$src/examples/lenet_nads.c" -o "$stage/ex_$std" $libs
done
libdir=$(pkg-config --variable=libdir libnad)
LD_LIBRARY_PATH="$libdir" "$stage/ex_c11" 8 > "$stage/out.txt"
grep -q "LeNet NADs from 8 networks" "$stage/out.txt"
# the installed soname is libnad.so.0 and only nad_* symbols are exported
objdump -p "$libdir/libnad.so" | grep -q "SONAME *libnad.so.0"
if nm -D --defined-only "$libdir/libnad.so" | awk '{print $3}' | grep -v '^nad_' | grep -v '^NAD_' | grep -q .; then
  echo "non-nad symbols exported"; echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
