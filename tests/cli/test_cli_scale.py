#!/usr/bin/python3
"""`nad estimate --range/--sketch` and `nad merge` (issue 12), and, given a second argument, the
MPI driver `nad-mpi` under `mpirun --oversubscribe --allow-run-as-root -np 3`:
  - two ranges merged equal one uninterrupted run (eigenvalues 1e-12 relative), a part resumed
    into the rest equals it bit for bit, parts merge in any order;
  - the sketching mode: spectrum and mean equal the exact run's (1e-10), summary.json reports
    the bound, eigenvalues within it;
  - every bad input: a range outside [0, N) or empty, overlapping or empty parts, parts of
    another architecture, input, seed, mode or sketch size, L < K, L > D, nad-mpi without
    mpirun; each a message and a non-zero exit, and nothing written;
  - MPI: 3 ranks equal the single process (1e-12), per-rank checkpoints, a failing rank.

usage: test_cli_scale.py PATH/TO/nad [PATH/TO/nad-mpi PATH/TO/mpirun]
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np

import nadtest  # noqa: E402 (PYTHONPATH: tests/python)
from nadtest import check  # noqa: E402

NAD = sys.argv[1]
NAD_MPI = sys.argv[2] if len(sys.argv) > 3 else None
MPIRUN = sys.argv[3] if len(sys.argv) > 3 else None
TMP = tempfile.mkdtemp(prefix="nad-scale-")
# A small network on 1×16×16 (D = 256) keeps every run well under a second.
ARCH = ["--spec-string", "conv 4 k3; relu; maxpool 2; conv 6 k3; relu; fc 1", "--input", "1x16x16"]
COMMON = ARCH + ["--networks", "90", "--seed", "3", "--threads", "2", "--quiet"]


def tmp(name):
    return os.path.join(TMP, name)


def run(*args, prog=None):
    return nadtest.run(prog or NAD, *args, timeout=300)


def must(name, *args, prog=None):
    rc, out, err = run(*args, prog=prog)
    check(name, rc == 0, "rc=%d stderr=%s" % (rc, err.strip()))
    return out


def fails(name, *args, words=(), absent=(), prog=None, prefix="nad: "):
    rc, out, err = run(*args, prog=prog)
    ok = rc != 0 and prefix in err and all(w in err for w in words)
    check(name, ok, "rc=%d stderr=%r" % (rc, err.strip()))
    for f in absent:
        check(name + ": nothing written at " + os.path.basename(f), not os.path.exists(f))
    return err


def load(d, name):
    return np.load(os.path.join(d, name))


def ev_rel(a, b):
    keep = b >= 1e-9 * b[0]
    return float(np.max(np.abs(a[keep] - b[keep]) / b[keep]))


def same_files(a, b):
    return all(np.array_equal(load(a, f), load(b, f))
               for f in ("eigenvalues.npy", "nads.npy", "mean.npy", "spectrum.npy"))


# ---- job arrays ------------------------------------------------------------------------------

must("uninterrupted", "estimate", *COMMON, "--out", tmp("full"))
must("part 0:37", "estimate", *COMMON, "--range", "0:37", "--checkpoint", tmp("a.ck"))
out = must("part 37:90 with its own outputs", "estimate", *COMMON, "--range", "37:90",
           "--checkpoint", tmp("b.ck"), "--out", tmp("b"))
summ_b = json.load(open(tmp("b/summary.json")))
check("part's summary records its range", summ_b["range"] == [37, 90] and
      summ_b["networks_done"] == 53, str(summ_b.get("range")))
check("part without --out writes no directory", not os.path.exists(tmp("a")))
must("merge", "merge", *ARCH, "--seed", "3", "--quiet", tmp("b.ck"), tmp("a.ck"),
     "--out", tmp("merged"))
e = ev_rel(load(tmp("merged"), "eigenvalues.npy"), load(tmp("full"), "eigenvalues.npy"))
check("two ranges merged = uninterrupted (eigenvalues 1e-12)", e <= 1e-12, "%.3g" % e)
s = nadtest.rel_err(load(tmp("merged"), "spectrum.npy"), load(tmp("full"), "spectrum.npy"))
check("merged spectrum", s <= 1e-12, "%.3g" % s)
summ = json.load(open(tmp("merged/summary.json")))
check("merge summary", summ["command"] == "merge" and summ["networks_done"] == 90 and
      len(summ["parts"]) == 2, json.dumps(summ)[:200])
# A part resumed into the rest folds exactly like the uninterrupted run.
must("resume part into the rest", "estimate", *COMMON, "--resume", tmp("a.ck"),
     "--out", tmp("resumed"))
check("resumed = uninterrupted, bit for bit", same_files(tmp("resumed"), tmp("full")))

# ---- sketching mode ----------------------------------------------------------------------------

must("exact top 8", "estimate", *COMMON, "--top", "8", "--out", tmp("ex8"))
must("sketch 12", "estimate", *COMMON, "--sketch", "12", "--top", "8", "--out", tmp("sk"))
summ = json.load(open(tmp("sk/summary.json")))
bound = summ.get("sketch_error", -1)
ex, sk = load(tmp("ex8"), "eigenvalues.npy"), load(tmp("sk"), "eigenvalues.npy")
check("sketch summary", summ["sketch"] == 12 and bound > 0, str(summ.get("sketch")))
check("sketch eigenvalues within the bound",
      bool(np.all(sk <= ex * (1 + 1e-9)) and np.all(sk >= ex - bound * (1 + 1e-9))),
      "%s %s %g" % (sk[:3], ex[:3], bound))
s = nadtest.rel_err(load(tmp("sk"), "spectrum.npy"), load(tmp("ex8"), "spectrum.npy"))
check("sketch spectrum exact (1e-10)", s <= 1e-10, "%.3g" % s)
# Shrinks on the worker pool (sketch.c): bit for bit the same on 1, 2 and 3 threads and after a
# resume (L = 4: a shrink is due after nearly every block of 64 rows).
SHR = ARCH + ["--networks", "300", "--seed", "5", "--quiet", "--mode", "gradient", "--sketch",
              "4", "--top", "4"]
for t in ("1", "2", "3"):
    must("sketch shrinks, %s threads" % t, "estimate", *SHR, "--threads", t, "--out",
         tmp("shr" + t))
must("sketch shrinks, first part", "estimate", *[a if a != "300" else "130" for a in SHR],
     "--threads", "2", "--checkpoint", tmp("shr.ck"), "--checkpoint-every", "37",
     "--out", tmp("shr-a"))
must("sketch shrinks, resumed", "estimate", *SHR, "--threads", "2", "--resume", tmp("shr.ck"),
     "--out", tmp("shr-r"))
for other in ("shr2", "shr3", "shr-r"):
    for f in ("nads.npy", "eigenvalues.npy"):
        with open(os.path.join(tmp("shr1"), f), "rb") as a, open(os.path.join(tmp(other), f),
                                                                 "rb") as b:
            check("sketch shrinks: %s of %s equals 1 thread's" % (f, other), a.read() == b.read())
must("sketch part", "estimate", *COMMON, "--sketch", "12", "--range", "0:50",
     "--checkpoint", tmp("s1.ck"))
must("sketch part 2", "estimate", *COMMON, "--sketch", "12", "--range", "50:90",
     "--checkpoint", tmp("s2.ck"))
must("sketch merge", "merge", *ARCH, "--seed", "3", "--sketch", "12", "--quiet", tmp("s1.ck"),
     tmp("s2.ck"), "--out", tmp("skm"))
s = nadtest.rel_err(load(tmp("skm"), "spectrum.npy"), load(tmp("ex8"), "spectrum.npy"))
check("merged sketch spectrum exact", s <= 1e-10, "%.3g" % s)

# ---- bad input -----------------------------------------------------------------------------------

bad = tmp("bad")
fails("range outside [0, N)", "estimate", *COMMON, "--range", "80:91", "--out", bad,
      words=("outside",), absent=(bad,))
fails("empty range", "estimate", *COMMON, "--range", "5:5", "--out", bad, words=("empty",),
      absent=(bad,))
fails("malformed range", "estimate", *COMMON, "--range", "5", "--out", bad, words=("A:B",))
fails("neither --out nor --checkpoint", "estimate", *COMMON, words=("--checkpoint",))
fails("overlapping parts", "merge", *ARCH, "--seed", "3", tmp("a.ck"), tmp("a.ck"), "--out", bad,
      words=("twice",), absent=(bad,))
must("overlapping part", "estimate", *COMMON, "--range", "30:40", "--checkpoint", tmp("c.ck"))
fails("overlapping ranges", "merge", *ARCH, "--seed", "3", tmp("a.ck"), tmp("c.ck"),
      "--out", bad, words=("overlap",), absent=(os.path.join(bad, "summary.json"),
                                                 os.path.join(bad, "nads.npy")))
# (the parts record their run, issue 20: the tool names a contradicting option before the
# library's own checks, which format-3 parts still meet: test_cli_parts.py)
fails("other seed", "merge", *ARCH, "--seed", "4", tmp("a.ck"), "--out", bad,
      words=("seed 3", "--seed 4"), absent=(os.path.join(bad, "nads.npy"),))
fails("other architecture", "merge", "lenet", "--input", "1x16x16", "--seed", "3", tmp("a.ck"),
      "--out", bad)
fails("other input", "merge", ARCH[0], ARCH[1], "--input", "1x18x18", "--seed", "3",
      tmp("a.ck"), "--out", bad, words=("input 1x16x16", "--input 1x18x18"))
fails("other mode", "merge", *ARCH, "--seed", "3", "--mode", "gradient", tmp("a.ck"),
      "--out", bad, words=("mode",))
fails("exact part into a sketch", "merge", *ARCH, "--seed", "3", "--sketch", "12", tmp("a.ck"),
      "--out", bad, words=("sketch 0", "--sketch 12"))
fails("other sketch size", "merge", *ARCH, "--seed", "3", "--sketch", "10", tmp("s1.ck"),
      "--out", bad, words=("sketch 12", "--sketch 10"))
fails("not a checkpoint", "merge", *ARCH, "--seed", "3", tmp("sk/summary.json"), "--out", bad,
      words=("not a libnad checkpoint",))
fails("no parts", "merge", *ARCH, "--seed", "3", "--out", bad, words=("PART",))
fails("L < K", "estimate", *COMMON, "--sketch", "8", "--top", "9", "--out", bad,
      words=("sketch size L = 8",), absent=(os.path.join(bad, "nads.npy"),))
fails("L > D", "estimate", *COMMON, "--sketch", "257", "--out", bad, words=("exceeds D = 256",))
# An empty part (a checkpoint of a run cancelled before its first network) cannot be made from
# the CLI; a part whose networks were all already merged is an overlap (above).
shutil.rmtree(bad, ignore_errors=True)

# ---- MPI ---------------------------------------------------------------------------------------

if NAD_MPI:
    fails("nad-mpi without mpirun", "estimate", *COMMON, "--out", bad, prog=NAD_MPI,
          words=("mpirun",), prefix="nad-mpi: ", absent=(bad,))
    mpi = [MPIRUN, "--oversubscribe", "--allow-run-as-root", "-np", "3", NAD_MPI]
    env_common = [c for c in COMMON if c not in ("--threads", "2")] + ["--threads", "1"]
    must("mpirun -np 3", *mpi[1:], "estimate", *env_common, "--checkpoint", tmp("m.ck"),
         "--out", tmp("mpi"), prog=MPIRUN)
    e = ev_rel(load(tmp("mpi"), "eigenvalues.npy"), load(tmp("full"), "eigenvalues.npy"))
    check("3 ranks = single process (eigenvalues 1e-12)", e <= 1e-12, "%.3g" % e)
    s = nadtest.rel_err(load(tmp("mpi"), "spectrum.npy"), load(tmp("full"), "spectrum.npy"))
    check("3 ranks: spectrum", s <= 1e-12, "%.3g" % s)
    summ = json.load(open(tmp("mpi/summary.json")))
    check("summary records the ranks", summ.get("mpi_ranks") == 3 and
          summ["networks_done"] == 90, str(summ.get("mpi_ranks")))
    check("per-rank checkpoints", all(os.path.exists(tmp("m.ck.rank%d" % r)) for r in range(3)))
    # The rank checkpoints are parts: nad merge of them equals the run too.
    must("merge the rank checkpoints", "merge", *ARCH, "--seed", "3", "--quiet",
         *[tmp("m.ck.rank%d" % r) for r in range(3)], "--out", tmp("mpim"))
    check("rank checkpoints merged = MPI result", same_files(tmp("mpim"), tmp("mpi")))
    must("mpirun sketch", *mpi[1:], "estimate", *env_common, "--sketch", "12", "--top", "8",
         "--out", tmp("mpisk"), prog=MPIRUN)
    s = nadtest.rel_err(load(tmp("mpisk"), "spectrum.npy"), load(tmp("ex8"), "spectrum.npy"))
    check("3 ranks, sketch: exact spectrum", s <= 1e-10, "%.3g" % s)
    # A failing rank: its resume file is missing; every rank stops, rank 0 says which.
    os.remove(tmp("m.ck.rank1"))
    rc, out, err = run(*mpi[1:], "estimate", *env_common, "--resume", tmp("m.ck"),
                       "--out", tmp("mpibad"), prog=MPIRUN)
    check("failing rank: non-zero exit, message names it",
          rc != 0 and "rank 1" in err and "m.ck.rank1" in err, "rc=%d %r" % (rc, err[-400:]))
    check("failing rank: nothing written", not os.path.exists(tmp("mpibad/summary.json")))

shutil.rmtree(TMP, ignore_errors=True)
nadtest.finish()
