#!/usr/bin/env bash
# The table of issue 7 in one run: seconds per network of the dipole NADs (s = 100, 1x32x32)
# for PyTorch (../shared/reference/tools/torch_ref.py ARCH N OUT --fd 100 --threads 2) and for
# `nad estimate ARCH --threads 2`, their ratio and the peak RSS of both (/usr/bin/time -v), one
# architecture after the other, with the CPU model, the BLAS kernels, the load average and the
# environment noted. Not a test: timings on a shared machine are noisy, read the ratios.
#
# usage: bench/nads_table.sh [N (2)] [N_LENET (200)] [ARCH...]
#   N networks for VGG11, ResNet18 and DenseNet121 (both contenders), N_LENET for LeNet;
#   ARCH... defaults to: lenet vgg11 resnet18 densenet121 (torch_ref names: lenet, vgg11,
#   resnet18, densenet121, logreg, lenet_nopool, vgg11_bn).
# Seconds: the contenders' own timers (torch_ref.py's loop over the networks; nad's run and
# eigensolve from summary.json), so the Python and library start-up are left out of both.
# NAD_BEFORE=path/to/an/older/nad adds its seconds per network and peak RSS (the before/after
# of a change), run under an 8 GB address-space cap (older builds peaked at 23 GB).
# Environment: as the machine has it (OPENBLAS_CORETYPE included, if set); `nad` restarts itself
# once when the library names a better BLAS kernel set (see `nad doctor`).
set -euo pipefail
cd "$(dirname "$0")/.."
n_big=${1:-2}
n_lenet=${2:-200}
shift $(( $# < 2 ? $# : 2 ))
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(lenet vgg11 resnet18 densenet121)
ref=../shared/reference/tools/torch_ref.py
[ -f "$ref" ] || { echo "missing $ref (the reference tools sit beside the repository)"; exit 1; }
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time (apt-get install time)"; exit 1; }
nad=${NAD:-build/src/nad}
[ -x "$nad" ] || scripts/build.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

blas=$("$nad" doctor --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
b = json.load(sys.stdin)["blas"]
s = "%s %s kernels, %d threads (CPU %s, best %s)" % (b["vendor"], b["core"], b["threads"],
                                                       b["cpu"], b["best_core"] or "?")
if b["restarted_from"]: s += ", restarted from " + b["restarted_from"]
print(s + ("; warning: " + b["warning"] if b["warning"] else ""))')
torch_v=$(/usr/bin/python3 -c 'import torch; print(torch.__version__)' 2>/dev/null || echo "?")
echo "# dipole NADs, seconds per network: PyTorch (torch_ref.py --fd 100 --threads 2) vs nad estimate --threads 2"
echo "date: $(date -u '+%F %H:%M UTC'); CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores;" \
     "$(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo)"
echo "nad: $("$nad" --version); BLAS: $blas"
echo "torch $torch_v; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} OMP_NUM_THREADS=${OMP_NUM_THREADS:-(unset)}"
echo
if [ -n "${NAD_BEFORE:-}" ]; then
  echo "last column: NAD_BEFORE = $NAD_BEFORE ($("$NAD_BEFORE" --version 2>/dev/null | head -1))"
  echo
fi
echo "| architecture | networks | PyTorch s/network | nad s/network | nad faster by | CPU s/network PyTorch, nad | faster by (CPU) | PyTorch peak RSS | nad peak RSS | load avg (1 min) before, after |${NAD_BEFORE:+ NAD_BEFORE s/network, peak RSS |}"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |${NAD_BEFORE:+ --- |}"

peak_mb() { # /usr/bin/time -v log -> peak RSS in MB
  awk -F: '/Maximum resident set size/ {printf "%.0f MB", $2 / 1024}' "$1"
}
cpu_s() { # /usr/bin/time -v log -> user + system CPU seconds of the whole process
  awk -F: '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1"
}

for arch in "${archs[@]}"; do
  n=$n_big
  [ "$arch" = lenet ] && n=$n_lenet
  load0=$(cut -d' ' -f1 /proc/loadavg)
  t_torch="failed"
  if /usr/bin/time -v -o "$tmp/torch.time" /usr/bin/python3 "$ref" "$arch" "$n" "$tmp/ref.npz" \
       --fd 100 --threads 2 >"$tmp/torch.out" 2>"$tmp/torch.err"; then
    t_torch=$(sed -n 's/.*seconds \([0-9.]*\).*/\1/p' "$tmp/torch.out")
  else
    tail -3 "$tmp/torch.err" >&2
  fi
  nad_arch=${arch//_/-}
  t_nad="failed"
  if /usr/bin/time -v -o "$tmp/nad.time" "$nad" estimate "$nad_arch" --networks "$n" --threads 2 \
       --quiet --out "$tmp/nad" 2>"$tmp/nad.err"; then
    t_nad=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["seconds"])' \
            "$tmp/nad/summary.json")
  else
    tail -3 "$tmp/nad.err" >&2
  fi
  before=""
  if [ -n "${NAD_BEFORE:-}" ]; then
    if ( ulimit -v 8000000; /usr/bin/time -v -o "$tmp/before.time" "$NAD_BEFORE" estimate \
           "$nad_arch" --networks "$n" --threads 2 --quiet --out "$tmp/before" \
           2>"$tmp/before.err" ); then
      before=$(/usr/bin/python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))
print("%.4g s/network, %s" % (s["seconds"] / int(sys.argv[2]), sys.argv[3]))' \
               "$tmp/before/summary.json" "$n" "$(peak_mb "$tmp/before.time")")
    else
      before="failed within 8 GB"
    fi
  fi
  load1=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/python3 - "$arch" "$n" "$t_torch" "$t_nad" "$(peak_mb "$tmp/torch.time")" \
    "$(peak_mb "$tmp/nad.time")" "$load0" "$load1" "$(cpu_s "$tmp/torch.time")" \
    "$(cpu_s "$tmp/nad.time")" "$before" <<'PY'
import sys
arch, n, tt, tn, rt, rn, l0, l1, ct, cn, before = sys.argv[1:]
n = int(n)
def per(t):
    try:
        return float(t) / n
    except ValueError:
        return None
pt, pn = per(tt), per(tn)
fmt = lambda v: "failed" if v is None else ("%.4f" % v if v < 1 else "%.2f" % v)
ratio = "%.1f×" % (pt / pn) if pt and pn else "–"
# CPU seconds of the whole processes (start-up included: Python + torch import, the plan and the
# eigensolve): what a loaded machine changes least
cpt, cpn = per(ct), per(cn)
cratio = "%.1f×" % (cpt / cpn) if cpt and cpn else "–"
print(f"| {arch} | {n} | {fmt(pt)} | {fmt(pn)} | {ratio} | {fmt(cpt)}, {fmt(cpn)} | {cratio} | "
      f"{rt or '–'} | {rn or '–'} | {l0}, {l1} |" + (f" {before} |" if before else ""))
PY
done
