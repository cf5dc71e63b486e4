#!/usr/bin/env bash
# Training benchmark, libnad against PyTorch in the same run: one epoch of LeNet (2 outputs)
# over 10,000 1x32x32 samples, batch 128, SGD + gradient clipping as in the reference's
# utils.train, best of REPS epochs each, the two alternated so that both see the same machine
# load. PyTorch: /usr/bin/python3 (torch, CPU) with torch.set_num_threads(THREADS). Also the
# time of one 'nad bias' cell (data generation + 20 x (epoch + evaluation of 10,000)) and of a
# 16x16 grid ('nad sweep', scripts/lenet_grid.sh) estimated from it. Not a test (timings are
# noisy). usage: bench/bench_train.sh [THREADS (2)] [REPS (3)] [ROUNDS (3)]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}; reps=${2:-3}; rounds=${3:-3}
build=${BUILD:-build}
[ -f "$build/lib/libnad.so" ] || scripts/build.sh
build=$(cd "$build" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Ibench -I"$build/include" bench/bench_train.c -L"$build/lib" -lnad \
  -Wl,-rpath,"$build/lib" -o "$tmp/bench_train"
cat > "$tmp/torch_epoch.py" <<'PY'
import sys, time
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]))
reps = int(sys.argv[2])
class LeNet(nn.Module):  # the reference's models.LeNet
    def __init__(s):
        super().__init__()
        s.conv1, s.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        s.fc1, s.fc2, s.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 2)
    def forward(s, x):
        o = F.max_pool2d(F.relu(s.conv1(x)), 2)
        o = F.max_pool2d(F.relu(s.conv2(o)), 2).view(x.size(0), -1)
        return s.fc3(F.relu(s.fc2(F.relu(s.fc1(o)))))
x, y = torch.randn(10000, 1, 32, 32) * 3, torch.randint(0, 2, (10000,))
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=128,
                                     shuffle=True)
best = 1e9
for r in range(reps):
    m = LeNet(); m.train()
    opt, lf = torch.optim.SGD(m.parameters(), lr=0.5), nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for b, (xb, yb) in enumerate(loader):  # utils.train's loop body
        opt.param_groups[0].update(lr=0.5 * (1 - (b + 1) / len(loader)))
        o = m(xb); loss = lf(o, yb); opt.zero_grad(); loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), 0.5); opt.step()
        loss.item(); (o.max(1)[1] == yb).sum().item()
    best = min(best, time.perf_counter() - t0)
print(f"{best:.4f}")
PY
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
best_t=1e9; best_n=1e9; line=""
for r in $(seq "$rounds"); do
  t=$(/usr/bin/python3 "$tmp/torch_epoch.py" "$threads" "$reps")
  line=$("$tmp/bench_train" "$threads" "$reps")
  n=$(echo "$line" | sed 's/.*"epoch_s": \([0-9.]*\).*/\1/')
  echo "round $r: torch $t s/epoch, libnad $n s/epoch  ($line)"
  best_t=$(/usr/bin/python3 -c "print(min($best_t, $t))")
  best_n=$(/usr/bin/python3 -c "print(min($best_n, $n))")
done
/usr/bin/python3 - "$best_t" "$best_n" "$line" <<'PY'
import json, sys
t, n, last = float(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
print(f"best epoch: PyTorch {t:.3f} s, libnad {n:.3f} s -> libnad is {t / n:.2f}x faster")
cell = last["data_20k_s"] + 20 * (n + last["eval_10k_s"])
print(f"one reference cell ~ {cell:.1f} s; a 16x16 LeNet grid ~ {cell * 256 / 60:.0f} min "
      f"(nad sweep evaluates once per cell: ~ {(last['data_20k_s'] + 20 * n + last['eval_10k_s']) * 256 / 60:.0f} min)")
PY
