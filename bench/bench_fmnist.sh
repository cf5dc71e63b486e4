#!/usr/bin/env bash
# Real-data training benchmark (issue 8), libnad against PyTorch in the same run: one epoch of
# LeNet (10 logits) over the 60,000 Fashion-MNIST training images (1x32x32), batch 128, SGD lr 0.05
# momentum 0.9 weight decay 5e-4 with OneCycleLR: the loop of the reference's
# fmnist_poison_ref.py (tensors in memory, randperm batches). Best of REPS epochs each, the two
# alternated ROUNDS times so that both see the same machine load. PyTorch: /usr/bin/python3
# (Debian python3-torch, CPU) with torch.set_num_threads(THREADS). Needs dataset-fashion-mnist.
# Not a test (timings are noisy). usage: bench/bench_fmnist.sh [THREADS (2)] [REPS (2)] [ROUNDS (2)]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}; reps=${2:-2}; rounds=${3:-2}
build=${BUILD:-build}
[ -f "$build/lib/libnad.so" ] || scripts/build.sh
build=$(cd "$build" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -I"$build/include" bench/bench_fmnist.c -L"$build/lib" -lnad \
  -Wl,-rpath,"$build/lib" -o "$tmp/bench_fmnist"
cat > "$tmp/torch_epoch.py" <<'PY'
import gzip, sys, time
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1])); reps = int(sys.argv[2])
def idx(p):
    b = gzip.open(p).read(); nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], 'big') for i in range(nd)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)
d = '/usr/share/datasets/fashion-mnist/'
x = np.pad(idx(d + 'train-images-idx3-ubyte.gz').astype(np.float32) / 255, ((0, 0), (2, 2), (2, 2)))
x, y = torch.from_numpy(x[:, None]), torch.from_numpy(idx(d + 'train-labels-idx1-ubyte.gz').astype(np.int64))
class LeNet(nn.Module):  # fmnist_poison_ref.py's LeNet
    def __init__(s):
        super().__init__(); s.c1 = nn.Conv2d(1, 6, 5); s.c2 = nn.Conv2d(6, 16, 5)
        s.f1 = nn.Linear(400, 120); s.f2 = nn.Linear(120, 84); s.f3 = nn.Linear(84, 10)
    def forward(s, x):
        x = F.max_pool2d(F.relu(s.c1(x)), 2); x = F.max_pool2d(F.relu(s.c2(x)), 2)
        return s.f3(F.relu(s.f2(F.relu(s.f1(x.flatten(1))))))
best = 1e9
for r in range(reps):
    net = LeNet(); opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    steps = (len(x) + 127) // 128; sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.05, total_steps=steps)
    t0 = time.perf_counter(); perm = torch.randperm(len(x))
    for k in range(0, len(x), 128):
        b = perm[k:k + 128]; opt.zero_grad(); F.cross_entropy(net(x[b]), y[b]).backward(); opt.step(); sched.step()
    best = min(best, time.perf_counter() - t0)
print(f"{best:.4f}")
PY
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
echo "BLAS: $(OPENBLAS_VERBOSE=2 "$tmp/bench_fmnist" 1 0 2>&1 | sed -n 's/.*Core: *//p' | head -1) (OpenBLAS core as reported by OPENBLAS_VERBOSE=2)"
best_t=1e9; best_n=1e9
for r in $(seq "$rounds"); do
  t=$(/usr/bin/python3 "$tmp/torch_epoch.py" "$threads" "$reps")
  line=$("$tmp/bench_fmnist" "$threads" "$reps")
  n=$(echo "$line" | sed 's/.*"epoch_s": \([0-9.]*\).*/\1/')
  echo "round $r: torch $t s/epoch, libnad $n s/epoch  ($line)"
  best_t=$(/usr/bin/python3 -c "print(min($best_t, $t))")
  best_n=$(/usr/bin/python3 -c "print(min($best_n, $n))")
done
/usr/bin/python3 -c "t, n = $best_t, $best_n; print(f'best epoch over 60,000 images: PyTorch {t:.2f} s, libnad {n:.2f} s -> libnad is {t / n:.2f}x faster')"
