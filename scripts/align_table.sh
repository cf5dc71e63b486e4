#!/usr/bin/env bash
# Alignment of architectures with Fashion-MNIST (issue 8, section 5): for each architecture,
# its NADs at initialisation (1x32x32, dipole s = 100, NETWORKS random networks, top TOP kept),
# 'nad align' of those NADs with the training split (padded to 32x32), and the test accuracy
# of networks trained with the same settings for every architecture (EPOCHS epochs on the
# first TRAIN_SAMPLES training images, the rest of 'nad train' at its defaults), one training
# per seed in SEEDS: the table gives each seed's accuracy, their mean and median (at 2 epochs the
# seed alone moves LeNet-nopool's accuracy by 9 points, and leaves VGG11 at chance for some), and
# the rank correlations of the scores with the accuracies.
# Prints the markdown table of the README. Every step writes its result into OUT and is skipped
# when the result is already there; the estimates checkpoint every 10 networks, so the same
# command resumes an interrupted run.
# usage: scripts/align_table.sh [OUT_DIR (out/align)] [THREADS (2)] [ARCH ...]
#   environment: NETWORKS (200), TOP (199), EPOCHS (2), TRAIN_SAMPLES (10000), SEEDS (0 1 2)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/align}
threads=${2:-2}
shift $(( $# < 2 ? $# : 2 ))
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(lenet lenet-nopool vgg11 resnet18)
networks=${NETWORKS:-200}
top=${TOP:-199}   # N networks determine only N - 1 NADs
epochs=${EPOCHS:-2}
train_samples=${TRAIN_SAMPLES:-10000}
read -r -a seeds <<<"${SEEDS:-0 1 2}"
nad=${NAD:-build/src/nad}
[ -x "$nad" ] || scripts/build.sh
mkdir -p "$out"

for a in "${archs[@]}"; do
  nads="$out/nads-$a" ck="$out/nads-$a.ckpt"
  if [ ! -f "$nads/summary.json" ]; then
    echo "$a: NADs of $networks random networks" >&2
    resume=()
    [ -f "$ck" ] && resume=(--resume "$ck")
    "$nad" estimate "$a" --input 1x32x32 --networks "$networks" --top "$top" \
      --threads "$threads" --quiet --checkpoint "$ck" --checkpoint-every 10 "${resume[@]}" \
      --out "$nads"
  fi
  if [ ! -s "$out/align-$a.json" ]; then
    "$nad" align --nads "$nads" --data fashion-mnist --top "$top" --json >"$out/align-$a.tmp"
    mv "$out/align-$a.tmp" "$out/align-$a.json"
  fi
  for s in "${seeds[@]}"; do
    t="$out/train-$a-seed$s"
    [ -s "$t.json" ] && continue
    echo "$a: training, seed $s, $epochs epochs on $train_samples images" >&2
    "$nad" train "$a" --data fashion-mnist --epochs "$epochs" --train-samples "$train_samples" \
      --seed "$s" --threads "$threads" --quiet --json >"$t.tmp"
    mv "$t.tmp" "$t.json"
  done
done

/usr/bin/python3 - "$out" "${seeds[*]}" "${archs[@]}" <<'PY'
import json, statistics, sys
out, seeds, archs = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
def last_json(path):
    with open(path) as f:
        return json.loads(f.read().strip().splitlines()[-1])
rows = []
for a in archs:
    al = last_json(f"{out}/align-{a}.json")
    tr = [last_json(f"{out}/train-{a}-seed{s}.json") for s in seeds]
    with open(f"{out}/nads-{a}/summary.json") as f:
        est = json.load(f)
    accs = [t["test_accuracy"] for t in tr]
    chance = 100.0 / tr[0]["classes"]
    rows.append(dict(arch=a, score=al["score"], disc=al["discriminant_score"],
                     mean=statistics.mean(accs), median=statistics.median(accs), accs=accs,
                     chance=chance, networks=est["networks_done"], est_s=est["seconds"],
                     train_s=sum(t["seconds"] for t in tr)))

def acc_text(x, chance):
    # a network left at chance (it did not train) is marked: its accuracy measures the
    # optimiser, not the architecture
    return f"{x:.2f}" + (" (chance)" if x <= chance + 0.5 else "")

print(f"| architecture | score | discriminant score | test accuracy % of seeds {', '.join(seeds)} "
      f"| mean | median | NADs from (networks) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for r in rows:
    per = ", ".join(acc_text(x, r["chance"]) for x in r["accs"])
    print(f"| {r['arch']} | {r['score']:.3f} | {r['disc']:.3f} | {per} | {r['mean']:.2f} "
          f"| {r['median']:.2f} | {r['networks']} |")
print()
for r in rows:
    print(f"{r['arch']}: estimate {r['est_s']:.0f} s, trainings {r['train_s']:.0f} s")

def ranks(v):
    # ranks 1..n of v (largest first), ties sharing their mean rank
    order = sorted(range(len(v)), key=lambda i: -v[i])
    rk = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for t in range(i, j + 1):
            rk[order[t]] = (i + j) / 2 + 1
        i = j + 1
    return rk

def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.mean(rx), statistics.mean(ry)
    num = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return num / den if den else float("nan")

def order(key):
    return " > ".join(r["arch"] for r in sorted(rows, key=lambda r: -r[key]))
for key, name in (("score", "score"), ("disc", "discriminant score"),
                  ("mean", "mean test accuracy"), ("median", "median test accuracy")):
    print(f"by {name}: {order(key)}")
if len(rows) > 2:
    for key, name in (("score", "score"), ("disc", "discriminant score")):
        x = [r[key] for r in rows]
        print(f"Spearman rank correlation of the {name} with the mean test accuracy "
              f"{spearman(x, [r['mean'] for r in rows]):+.2f}, with the median "
              f"{spearman(x, [r['median'] for r in rows]):+.2f} ({len(rows)} architectures)")
PY

# Where the class differences and the NADs lie in frequency: the fraction of the between-class
# scatter (sum over classes of n_c/n |FFT(mu_c - mu)|^2, images padded to 32x32 as 'nad align'
# does) at |f| <= 4 cycles/image, and the same fraction of the energy of each architecture's top
# 10 NADs. Debian's dataset-fashion-mnist location (lib/data/source.c); skipped without it.
/usr/bin/python3 - "$out" "${archs[@]}" <<'PY'
import gzip, os, sys
import numpy as np
out, archs = sys.argv[1], sys.argv[2:]
d = "/usr/share/datasets/fashion-mnist"
f = np.fft.fftfreq(32) * 32
low = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2) <= 4
if os.path.isdir(d):
    def idx(name):
        b = gzip.open(os.path.join(d, name)).read()
        dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(b[3])]
        return np.frombuffer(b, np.uint8, offset=4 + 4 * b[3]).reshape(dims)
    x = np.pad(idx("train-images-idx3-ubyte.gz").astype(np.float64) / 255, ((0, 0), (2, 2), (2, 2)))
    y = idx("train-labels-idx1-ubyte.gz")
    mu = x.mean(0)
    p = sum((y == c).mean() * np.abs(np.fft.fft2(x[y == c].mean(0) - mu)) ** 2 for c in range(10))
    print(f"between-class scatter at |f| <= 4 cycles/image: {p[low].sum() / p.sum():.3f} "
          f"(those frequencies are {low.mean():.3f} of all)")
for a in archs:
    v = np.load(f"{out}/nads-{a}/nads.npy").reshape(-1, 32, 32)[:10]
    q = (np.abs(np.fft.fft2(v)) ** 2).sum(0)
    print(f"{a}: energy of the top 10 NADs at |f| <= 4: {q[low].sum() / q.sum():.3f}")
PY
