#!/usr/bin/env bash
# Every built-in on CIFAR-sized colour inputs (3x32x32, D = 3,072) with the default settings of
# `nad estimate` (2 threads, default memory budget): seconds per network, peak RSS, the memory
# plan (batch x concurrent networks), with the CPU, BLAS kernels and load noted. Issue 7 asks
# that 3x32x32 works for every built-in within 2 GB; tests/unit/estimator/test_colour.c checks
# the plans and runs the cheap ones, this runs them all.
# usage: bench/colour_inputs.sh [N (2)] [ARCH...]   (default: every built-in; vgg11-nopool costs
#        about 120 TFLOP per network at 3x32x32, some 20 minutes on 2 cores: name it to run it)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2}
shift $(( $# < 1 ? $# : 1 ))
nad=${NAD:-build/src/nad}
[ -x "$nad" ] || scripts/build.sh
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time (apt-get install time)"; exit 1; }
archs=("$@")
if [ ${#archs[@]} -eq 0 ]; then
  mapfile -t archs < <("$nad" arch list | grep -vx vgg11-nopool)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# nad estimate ARCH --input 3x32x32 --networks $n --threads 2 (default memory budget)"
echo "date: $(date -u '+%F %H:%M UTC'); CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
"$nad" doctor | sed -n 's/^blas kernel: */BLAS kernels: /p'
echo
echo "| architecture | s/network | peak RSS | memory plan | load avg before, after |"
echo "| --- | --- | --- | --- | --- |"
for arch in "${archs[@]}"; do
  load0=$(cut -d' ' -f1 /proc/loadavg)
  if /usr/bin/time -v -o "$tmp/time" "$nad" estimate "$arch" --input 3x32x32 --networks "$n" \
       --threads 2 --quiet --out "$tmp/out" 2>"$tmp/err"; then
    row=$(/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1])); m = s["memory"]
print("%.2f | %s | %.0f MB planned, batch %d x %d" % (s["seconds"] / s["networks_done"],
      sys.argv[2], m["planned"] / 1e6, s["batch"], m["concurrent_networks"]))' \
      "$tmp/out/summary.json" "$(awk -F: '/Maximum resident/ {printf "%.0f MB", $2 / 1024}' "$tmp/time")")
  else
    row="failed: $(tail -1 "$tmp/err") | | "
  fi
  echo "| $arch | $row | $load0, $(cut -d' ' -f1 /proc/loadavg) |"
done
