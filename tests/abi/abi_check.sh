#!/bin/sh
# ABI checks of the built libnad.so (issue 11 §4), run by meson test:
#   symbols  LIB DIR: the exported symbols (nm -D --defined-only) equal DIR/libnad.symbols;
#   abidiff  LIB DIR: abidiff against the dump of the last release, DIR/libnad.abi, finds no
#            incompatible change (added functions are fine); skipped (77) without abidiff.
#   update   LIB DIR: rewrite both files from LIB (after a deliberate ABI change or a release).
set -u
mode=$1 lib=$2 dir=$3
symbols() { nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sort -u; }
case $mode in
symbols)
  if symbols | diff -u "$dir/libnad.symbols" - ; then
    echo "exported symbols match $dir/libnad.symbols: 1 passed, 0 failed"
  else
    echo "exported symbols differ from $dir/libnad.symbols (lines with + are new, - are gone):"
    echo "add the symbol to lib/libnad.map's node of this release and run"
    echo "  tests/abi/abi_check.sh update build/lib/libnad.so tests/abi"
    echo "0 passed, 1 failed"
    exit 1
  fi ;;
abidiff)
  command -v abidiff >/dev/null 2>&1 || { echo "abidiff not installed (abigail-tools): skipped"; exit 77; }
  abidiff --no-added-syms "$dir/libnad.abi" "$lib"
  rc=$?
  # abidiff's status bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change
  if [ $((rc & 11)) -ne 0 ]; then echo "0 passed, 1 failed (abidiff status $rc)"; exit 1; fi
  echo "no incompatible ABI change against $dir/libnad.abi: 1 passed, 0 failed" ;;
update)
  symbols > "$dir/libnad.symbols"
  # no machine paths in the dump (the build directory of whoever updates it)
  abidw --no-corpus-path --no-comp-dir-path --out-file "$dir/libnad.abi" "$lib" ;;
*) echo "usage: $0 symbols|abidiff|update LIB DIR" >&2; exit 2 ;;
esac
