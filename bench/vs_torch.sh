#!/usr/bin/env bash
# Side-by-side, in one run: PyTorch reference dipole NADs (../shared/reference/tools/torch_ref.py,
# CPU) against `nad estimate`, per-network time and the ratio. Not a test (timings are noisy).
# Usage: bench/vs_torch.sh [ARCH] [TORCH_NETWORKS] [NAD_NETWORKS]   (default lenet 50 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-lenet}; nt=${2:-50}; nn=${3:-2000}
ref=../shared/reference/tools/torch_ref.py
[ -f "$ref" ] || { echo "missing $ref (the reference tools sit beside the repository)"; exit 1; }
[ -x build/src/nad ] || scripts/build.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%F)"
build/src/nad doctor | sed -n 's/^blas kernel: */BLAS kernels: /p'
t_torch=$(/usr/bin/python3 "$ref" "$arch" "$nt" "$tmp/ref.npz" --fd 100 | sed -n 's/.*seconds \([0-9.]*\)/\1/p')
start=$(date +%s.%N)
build/src/nad estimate "$arch" --networks "$nn" --threads 2 --quiet --out "$tmp/nad"
end=$(date +%s.%N)
/usr/bin/python3 - "$t_torch" "$nt" "$start" "$end" "$nn" <<'PY'
import sys
tt, nt = float(sys.argv[1]), int(sys.argv[2])
tn, nn = float(sys.argv[4]) - float(sys.argv[3]), int(sys.argv[5])
pt, pn = tt / nt * 1e3, tn / nn * 1e3
print(f"torch_ref --fd 100: {nt} networks in {tt:.1f} s = {pt:.1f} ms/network")
print(f"nad estimate      : {nn} networks in {tn:.1f} s = {pn:.2f} ms/network ({nn/tn:.1f} networks/s)")
print(f"speed-up: {pt/pn:.1f}x;  N = 10,000 would take {pn*10:.0f} s with nad, {pt*10:.0f} s with torch")
PY
