#!/usr/bin/env bash
# bindings/python as a user installs it (issue 10): `pip install --no-build-isolation` into a
# fresh `python3 -m venv --system-site-packages`, offline (--no-index), then `import libnad`
# from / with neither NAD_LIBRARY nor LD_LIBRARY_PATH nor PYTHONPATH set:
#   1. from a meson build (NAD_BUILD_DIR): the package bundles that libnad.so.0;
#   2. from an installed prefix (meson install --destdir + its pkg-config file): the package
#      records and loads the installed library;
#   and NAD_LIBRARY still overrides both.
# Args: SOURCE_DIR BUILD_DIR PYTHON
set -euo pipefail
src=$1; build=$(cd "$2" && pwd); py=$3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }
clean_env=(env -u NAD_LIBRARY -u LD_LIBRARY_PATH -u PYTHONPATH -u NAD_BUILD_DIR)
# a copy far from any ../../build, so that only what the test names is found
mkdir -p "$work/a/b" && cp -r "$src/bindings/python" "$work/a/b/python"
rm -rf "$work/a/b/python/build" "$work/a/b/python/"*.egg-info

check_import() { # venv, expected library path prefix
  (cd / && "${clean_env[@]}" "$1/bin/python" - "$2" <<'PY'
import sys
import libnad
assert libnad.library.startswith(sys.argv[1]), (libnad.library, sys.argv[1])
assert libnad.__file__.startswith(sys.argv[1].split('/lib/')[0]) or 'site-packages' in libnad.__file__
r = libnad.estimate('logreg', networks=3, input=(1, 4, 4), threads=1)
assert r.nads.shape == (16, 1, 4, 4), r.nads.shape
print('import libnad from /:', libnad.__file__, '->', libnad.library)
PY
  ) || fail "import libnad in $1"
}

# 1. bundled from the meson build
"$py" -m venv --system-site-packages "$work/venv1" || fail "python3 -m venv (apt-get install python3-venv)"
NAD_BUILD_DIR="$build" "$work/venv1/bin/pip" install -q --no-build-isolation --no-index \
  "$work/a/b/python" > "$work/pip1.log" 2>&1 || { cat "$work/pip1.log"; fail "pip install (bundled)"; }
site1=$("$work/venv1/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
[ -f "$site1/libnad/libnad.so.0" ] || fail "libnad.so.0 not bundled into $site1/libnad"
check_import "$work/venv1" "$site1/libnad/libnad.so.0"
# NAD_LIBRARY overrides the bundled copy
got=$(cd / && env -u LD_LIBRARY_PATH NAD_LIBRARY="$build/lib/libnad.so" "$work/venv1/bin/python" \
  -c 'import libnad; print(libnad.library)')
[ "$got" = "$build/lib/libnad.so" ] || fail "NAD_LIBRARY override: got $got"

# 2. from an installed prefix, found through pkg-config
stage="$work/stage"
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet > /dev/null
pc=$(find "$stage" -name libnad.pc | head -n1)
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir -p "$work/pc" && sed "s|^prefix=.*|prefix=$stage$prefix|" "$pc" > "$work/pc/libnad.pc"
libdir=$(PKG_CONFIG_PATH="$work/pc" pkg-config --variable=libdir libnad)
"$py" -m venv --system-site-packages "$work/venv2"
rm -rf "$work/a/b/python" && cp -r "$src/bindings/python" "$work/a/b/python"  # a fresh tree
PKG_CONFIG_PATH="$work/pc" "${clean_env[@]}" "$work/venv2/bin/pip" install -q \
  --no-build-isolation --no-index "$work/a/b/python" > "$work/pip2.log" 2>&1 \
  || { cat "$work/pip2.log"; fail "pip install (installed prefix)"; }
check_import "$work/venv2" "$libdir/libnad.so.0"
echo "1 passed, 0 failed"
