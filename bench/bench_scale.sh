#!/usr/bin/env bash
# Issue 12 benchmarks, each side by side in one run (read the ratios; the machine is shared):
#   bench/bench_scale.sh eig [D K]      top-k eigensolve + convergence: block Krylov vs dsyevr
#                                       (build/bench/bench_eig; default D = 12,288, K = 64)
#   bench/bench_scale.sh sketch [N]     3x128x128 small conv net (two conv + pool stages),
#                                       --sketch 256: wall time and peak RSS (/usr/bin/time -v)
#   bench/bench_scale.sh mpi [N]        nad-mpi with 1 and 2 ranks (1 thread each) on LeNet,
#                                       and nad estimate --threads 1 / 2 for reference
# Prints the CPU model, the BLAS library and the load average with the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
what=${1:-}
shift || true
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores;" \
     "BLAS: $(ldd "$B/lib/libnad.so" | grep -o 'lib\(openblas\|blis\)[^ ]*' | head -1);" \
     "load: $(cut -d' ' -f1-3 /proc/loadavg)"
case "$what" in
eig)
  d=${1:-12288}; k=${2:-64}
  "$B/bench/bench_eig" "$d" "$k" 1.0 $((d / 8))
  ;;
sketch)
  n=${1:-20}; out=$(mktemp -d)
  ( ulimit -v 8000000
    /usr/bin/time -v "$B/src/nad" estimate --spec-string \
      "conv 8 k5; relu; maxpool 2; conv 16 k5; relu; maxpool 2; fc 1" --input 3x128x128 \
      --networks "$n" --sketch 256 --out "$out/sk" ) 2>"$out/time.log"
  grep -E "Elapsed|Maximum resident" "$out/time.log"
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print('networks', s['networks_done'], 'seconds', round(s['seconds'],1), 'networks/s', round(s['networks_per_second'],3), 'sketch_error:', s['sketch_error'])" "$out/sk/summary.json"
  rm -rf "$out"
  ;;
mpi)
  n=${1:-400}; out=$(mktemp -d)
  t() { local s; s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }
  [ -x "$B/src/nad-mpi" ] || { echo "nad-mpi not built (-Dmpi=enabled)"; exit 1; }
  mpi="mpirun --oversubscribe --allow-run-as-root"
  for round in 1 2; do
    echo "round $round:" \
      "nad --threads 1: $(t "$B/src/nad" estimate lenet --networks "$n" --threads 1 --quiet --out "$out/a") s;" \
      "nad-mpi -np 1: $(t $mpi -np 1 "$B/src/nad-mpi" estimate lenet --networks "$n" --threads 1 --quiet --out "$out/b") s;" \
      "nad-mpi -np 2: $(t $mpi -np 2 "$B/src/nad-mpi" estimate lenet --networks "$n" --threads 1 --quiet --out "$out/c") s;" \
      "nad --threads 2: $(t "$B/src/nad" estimate lenet --networks "$n" --threads 2 --quiet --out "$out/d") s"
  done
  rm -rf "$out"
  ;;
*)
  sed -n '2,9p' "$0"; exit 2 ;;
esac
