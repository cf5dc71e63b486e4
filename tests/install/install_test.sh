#!/usr/bin/env bash
# Installs libnad into a staging directory (meson install --destdir) and builds every example
# against the *installed* header and pkg-config file with strict flags, then runs each:
#   - C examples as C99 and C11, linked with `pkg-config --libs libnad` (shared library);
#   - lenet_nads.c once more linked statically against libnad.a with `pkg-config --static`
#     (the program must not need libnad.so);
#   - the C++17 example with c++.
# Also checks what `meson install` ships besides the library: the example sources and nad.1.
# Args: BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1; src=$2
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null
pc=$(find "$stage" -name libnad.pc | head -n1)
[ -n "$pc" ] || fail "libnad.pc not installed"
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$stage/pc"
sed "s|^prefix=.*|prefix=$stage$prefix|" "$pc" > "$stage/pc/libnad.pc"
export PKG_CONFIG_PATH="$stage/pc"
cflags=$(pkg-config --cflags libnad); libs=$(pkg-config --libs libnad)
libdir=$(pkg-config --variable=libdir libnad)
examples="$stage$prefix/share/doc/libnad/examples"
for f in lenet_nads.c compare_architectures.c fourier_sweep.c trained_nads.c raii_nads.cpp; do
  [ -f "$examples/$f" ] || fail "example $f not installed"
done
man=$(find "$stage" -path '*/man1/nad.1*' | head -n1)
[ -n "$man" ] || fail "man page nad.1 not installed"
strict="-Wall -Wextra -Wpedantic -Werror"
for std in c99 c11; do
  for ex in lenet_nads compare_architectures fourier_sweep trained_nads; do
    cc -std=$std $strict $cflags "$examples/$ex.c" -o "$stage/${ex}_$std" $libs -lm \
      || fail "$ex.c does not build as $std against the installed libnad"
  done
done
c++ -std=c++17 $strict $cflags "$examples/raii_nads.cpp" -o "$stage/raii_nads" $libs \
  || fail "raii_nads.cpp does not build as C++17 against the installed libnad"

# Static: libnad.a plus what `pkg-config --static` lists (Requires.private, Libs.private).
libs_static=$(pkg-config --static --libs libnad); static_libs=${libs_static/-lnad/-Wl,-Bstatic -lnad -Wl,-Bdynamic}
cc -std=c11 $strict $cflags "$examples/lenet_nads.c" -o "$stage/lenet_static" $static_libs \
  || fail "static link with pkg-config --static failed: $static_libs"
if objdump -p "$stage/lenet_static" | grep -q 'NEEDED *libnad\.so'; then
  fail "the static program still needs libnad.so"
fi

export LD_LIBRARY_PATH="$libdir"
"$stage/lenet_nads_c11" 8 > "$stage/out.txt" 2>/dev/null
grep -q "LeNet NADs from 8 networks" "$stage/out.txt" || fail "lenet_nads (shared) output"
env -u LD_LIBRARY_PATH "$stage/lenet_static" 8 > "$stage/static.txt" 2>/dev/null
cmp -s "$stage/out.txt" "$stage/static.txt" || fail "static and shared lenet_nads differ"
"$stage/compare_architectures_c99" 6 logreg lenet > "$stage/cmp.txt"
grep -q "^lenet .*1.000" "$stage/cmp.txt" || fail "compare_architectures output"
"$stage/fourier_sweep_c11" logreg 100 1 > "$stage/sweep.txt"
grep -q "fy = 16: test accuracy" "$stage/sweep.txt" || fail "fourier_sweep output"
if [ -d /usr/share/datasets/fashion-mnist ]; then
  "$stage/trained_nads_c99" fashion-mnist "$stage/trained" 1 6 6 300 > "$stage/trained.txt" \
    || fail "trained_nads failed"
  [ -f "$stage/trained/spectra.png" ] || fail "trained_nads wrote no spectra.png"
else
  echo "skipped: trained_nads (needs Debian's dataset-fashion-mnist, not installed)"
fi
"$stage/raii_nads" logreg 10 > "$stage/raii.txt" || fail "raii_nads failed"
grep -q "orthonormality error" "$stage/raii.txt" || fail "raii_nads output"

# the installed soname is libnad.so.0 and only nad_* symbols are exported
objdump -p "$libdir/libnad.so" | grep -q "SONAME *libnad.so.0" || fail "soname"
if nm -D --defined-only "$libdir/libnad.so" | awk '{print $3}' | grep -v '^nad_' | grep -v '^NAD_' | grep -q .; then
  fail "non-nad symbols exported"
fi
echo "1 passed, 0 failed"
