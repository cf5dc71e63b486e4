#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test of libnad:
#   1. release-like build with -Werror: all suites (fast, python, slow);
#   2. ASan + UBSan build: fast and python suites;
#   3. valgrind: the fast C unit tests (memcheck, leaks are errors).
# Ends with one line "N passed, N failed" over all runs; exit status non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh --with-torch || exit 1

summary() { # $1 = JSON test log of meson: counts of passed, failed, skipped
  /usr/bin/python3 - "$1" <<'PY'
import json, sys
p = f = s = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"): p += 1
        elif r == "SKIP": s += 1
        else: f += 1
except FileNotFoundError:
    f = 1
print(p, f, s)
PY
}

total_p=0; total_f=0; total_s=0
run() { # name, build dir, test log name, setup args, test args
  local name=$1 dir=$2 log=$3 setup=$4; shift 4
  echo "=== $name"
  if [ -d "$dir" ]; then meson setup --reconfigure "$dir" $setup >/dev/null || { total_f=$((total_f+1)); return; }
  else meson setup "$dir" $setup >/dev/null || { total_f=$((total_f+1)); return; }; fi
  ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { tail -40 "$dir.ninja.log"; total_f=$((total_f+1)); return; }
  rm -f "$dir/meson-logs/$log"
  meson test -C "$dir" --print-errorlogs "$@"
  read -r p f s < <(summary "$dir/meson-logs/$log")
  echo "$name: $p passed, $f failed, $s skipped"
  total_p=$((total_p+p)); total_f=$((total_f+f)); total_s=$((total_s+s))
}

run "build (-Werror)" build testlog.json "-Dwerror=true" --num-processes 2
run "ASan+UBSan" build-asan testlog.json \
    "-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug" \
    --suite fast --suite python --num-processes 2
run "valgrind" build testlog-valgrind.json "-Dwerror=true" --setup valgrind --suite valgrind \
    --num-processes 2

echo "${total_p} passed, ${total_f} failed, ${total_s} skipped"
[ "$total_f" -eq 0 ]
