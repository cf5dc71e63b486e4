#!/usr/bin/env bash
# Alignment of architectures with Fashion-MNIST (issue 8, section 5): for each architecture,
# its NADs at initialisation (1x32x32, dipole s = 100, NETWORKS random networks, top TOP kept),
# 'nad align' of those NADs with the training split (padded to 32x32), and the test accuracy
# of networks trained with the same settings for every architecture (EPOCHS epochs on the
# first TRAIN_SAMPLES training images, the rest of 'nad train' at its defaults), one training
# per seed in SEEDS: the table gives their mean and range (at 2 epochs the seed alone moves
# LeNet-nopool's accuracy by 9 points, more than the gap between architectures).
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
import json, sys
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
    rows.append((a, al["score"], al["discriminant_score"], sum(accs) / len(accs), accs,
                 est["networks_done"], est["seconds"], sum(t["seconds"] for t in tr)))
print(f"| architecture | score | discriminant score | test accuracy, mean (min–max) of seeds "
      f"{', '.join(seeds)} | NADs from (networks) |")
print("| --- | --- | --- | --- | --- |")
for a, s, ds, acc, accs, n, es, ts in rows:
    print(f"| {a} | {s:.3f} | {ds:.3f} | {acc:.2f} % ({min(accs):.2f}–{max(accs):.2f}) | {n} |")
print()
for a, s, ds, acc, accs, n, es, ts in rows:
    print(f"{a}: test accuracy per seed {accs}; estimate {es:.0f} s, trainings {ts:.0f} s")
def order(i):
    return [r[0] for r in sorted(rows, key=lambda r: -r[i])]
print("by score:", " > ".join(order(1)))
print("by discriminant score:", " > ".join(order(2)))
print("by test accuracy:", " > ".join(order(3)))
PY
