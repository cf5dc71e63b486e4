#!/usr/bin/python3
"""The `nad` tool against hostile inputs and concurrent use (issue 11): each check reproduces a
failure that was observed (exit 0 with garbage, a crash, a replaced device) and asserts the
clear refusal that replaced it.

usage: test_cli_hardening.py PATH/TO/nad
"""
import fcntl
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import nadtest
from nadtest import check

NAD = sys.argv[1] if len(sys.argv) > 1 else "nad"
TMP = tempfile.mkdtemp(prefix="nad-hard-")


def tmp(*p):
    return os.path.join(TMP, *p)


def run(*args, **kw):
    return nadtest.run(NAD, *args, **kw)


def fails(name, *args, code=None, says=()):
    rc, out, err = run(*args)
    ok = rc != 0 and err.startswith("nad: ") and (code is None or rc == code)
    check(name, ok, f"rc={rc} stderr={err.strip()!r}")
    for s in says:
        check(f"{name}: says '{s}'", s in err, err.strip())
    return err


SMALL = ["logreg", "--input", "1x8x8", "--quiet"]


def estimate(out, *extra):
    rc, _, err = run("estimate", *SMALL, "--networks", 8, "--out", out, *extra)
    check(f"estimate into {os.path.basename(out)}", rc == 0, err)


# ---- standard output is checked at exit (every command) -------------------------------------------
estimate(tmp("a"), "--seed", 1)
estimate(tmp("b"), "--seed", 2)
for name, args in [("compare --json", ["compare", tmp("a"), tmp("b"), "--json"]),
                   ("arch list", ["arch", "list"]), ("--version", ["--version"]),
                   ("help", ["help"])]:
    with open("/dev/full", "w") as full:
        p = subprocess.run([NAD, *args], stdout=full, stderr=subprocess.PIPE, text=True)
    check(f"{name} > /dev/full fails", p.returncode != 0 and "standard output" in p.stderr,
          f"rc={p.returncode} {p.stderr!r}")

# ---- spec files ----------------------------------------------------------------------------------
with open(tmp("nul.spec"), "wb") as f:
    f.write(b"fc 1\0 garbage")
fails("spec file with a NUL byte", "arch", "show", "--spec", tmp("nul.spec"), "--input", "1x8x8",
      says=["NUL"])
fails("directory as spec", "arch", "show", "--spec", TMP, "--input", "1x8x8",
      says=["directory"])

# ---- output sets: readers require one complete run ----------------------------------------------
with open(tmp("a", "summary.json")) as f:
    summ = json.load(f)
ck = summ.get("checksums", {})
check("summary lists size and CRC-32 of each file",
      all(n in ck and ck[n]["bytes"] == os.path.getsize(tmp("a", n)) for n in
          ["eigenvalues.npy", "nads.npy", "mean.npy", "spectrum.npy"]), f"{ck}")
rc, _, err = run("compare", tmp("a"), tmp("b"))
check("compare of two complete runs", rc == 0, err)
# a mix: seed 2's eigenvalues beside seed 1's summary (same sizes: only the checksum tells)
estimate(tmp("mix"), "--seed", 1)
os.replace(tmp("b", "eigenvalues.npy"), tmp("mix", "eigenvalues.npy"))
fails("compare refuses a mix of two runs", "compare", tmp("mix"), tmp("a"),
      says=["does not match"])
os.remove(tmp("mix", "summary.json"))
fails("compare refuses a directory without summary.json", "compare", tmp("mix"), tmp("a"),
      says=["no complete"])
fails("bias nad:K:DIR refuses it too", "bias", "logreg", "--input", "1x8x8", "--direction",
      "nad:0:" + tmp("mix"), says=["no complete"])

# ---- locks: a second writer fails at once ---------------------------------------------------------
os.makedirs(tmp("busy"))
fd = os.open(tmp("busy"), os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)           # as a running `nad estimate --out busy` holds it
fails("second estimate into a locked --out", "estimate", *SMALL, "--networks", 4, "--out",
      tmp("busy"), says=["in use"])
check("nothing written into the locked directory", os.listdir(tmp("busy")) == [])
fails("sweep into a locked --out", "sweep", "logreg", "--input", "1x8x8", "--grid", "fourier",
      "--step", "4", "--train", "20", "--test", "20", "--epochs", "1", "--out", tmp("busy"),
      says=["in use"])
os.close(fd)
with open(tmp("ck.bin.lock"), "w") as lk:
    fcntl.flock(lk, fcntl.LOCK_EX)       # as a running estimator checkpointing to ck.bin
    fails("second run on a locked checkpoint", "estimate", *SMALL, "--networks", 4,
          "--checkpoint", tmp("ck.bin"), "--out", tmp("c1"), says=["in use"])

# ---- checkpoint paths are checked before the first network ---------------------------------------
fails("checkpoint in a missing directory", "estimate", *SMALL, "--networks", 4, "--checkpoint",
      tmp("nowhere", "ck.bin"), "--out", tmp("c2"), says=["No such file"])
os.symlink(tmp("real.bin"), tmp("link.bin"))
fails("checkpoint that is a symbolic link", "estimate", *SMALL, "--networks", 4, "--checkpoint",
      tmp("link.bin"), "--out", tmp("c3"), says=["symbolic link"])
check("the link is kept", os.path.islink(tmp("link.bin")))
os.mkfifo(tmp("fifo.bin"))
fails("checkpoint that is a FIFO", "estimate", *SMALL, "--networks", 4, "--checkpoint",
      tmp("fifo.bin"), "--out", tmp("c4"), says=["not a regular file"])
check("the FIFO is kept", not os.path.isfile(tmp("fifo.bin")) and os.path.exists(tmp("fifo.bin")))
os.symlink(tmp("a", "eigenvalues.npy"), tmp("c5_target"))
os.makedirs(tmp("c5"))
os.symlink(tmp("c5_target"), tmp("c5", "nads.npy"))
fails("--out holding a symbolic link as a result file", "estimate", *SMALL, "--networks", 4,
      "--out", tmp("c5"), says=["symbolic link"])

# ---- stale temporaries of dead writers are removed -------------------------------------------------
dead = 4194303
while dead > 1000:
    try:
        os.kill(dead, 0)
        dead -= 1
    except ProcessLookupError:
        break
    except PermissionError:
        dead -= 1
stale = tmp(f"ck6.bin.tmp.{dead}")
with open(stale, "wb") as f:
    f.write(b"x" * 1000)
live = tmp(f"ck6.bin.tmp.{os.getpid()}")   # a writer that still runs: kept
with open(live, "wb") as f:
    f.write(b"y")
estimate(tmp("c6"), "--checkpoint", tmp("ck6.bin"), "--checkpoint-every", "4")
check("stale temporary of a dead writer removed", not os.path.exists(stale))
check("temporary of a live writer kept", os.path.exists(live))
check("checkpoint written", os.path.isfile(tmp("ck6.bin")))

# ---- no undefined behaviour on any input (§3) ----------------------------------------------------
fails("compare --input whose product overflows", "compare", tmp("a"), tmp("a"), "--input",
      "16777216x16777216x16777216", code=2, says=["2^31"])
rc, out, err = run("sweep", "logreg", "--input", "1x8x8", "--nads", tmp("a"), "--indices",
                   "0:16:9223372036854775797", "--train", "20", "--test", "20", "--epochs", "1",
                   "--out", tmp("sw1"), "--quiet")
rows = open(tmp("sw1", "accuracy.csv")).read().split() if rc == 0 else []
check("sweep with a huge index step: one cell", rc == 0 and rows[1:2] and
      rows[1].startswith("0,") and len(rows) == 2, f"{rc} {rows} {err}")
rc, out, err = run("sweep", "logreg", "--input", "1x8x8", "--nads", tmp("a"), "--indices",
                   "60:100:1", "--train", "20", "--test", "20", "--epochs", "1",
                   "--out", tmp("sw2"), "--quiet")
check("sweep past the last NAD says so", rc == 0 and "stops at 64" in err, f"{rc} {err}")

# degenerate results are not successes
rc, out, err = run("estimate", *SMALL, "--networks", 4, "--scale", "1e-10", "--out", tmp("deg"))
summ = json.load(open(tmp("deg", "summary.json"))) if os.path.exists(tmp("deg", "summary.json")) else {}
check("--scale 1e-10: all-zero eigenvalues flagged", rc == 1 and "degenerate" in err and
      summ.get("degenerate") is True and "positive" in summ.get("degenerate_reason", ""),
      f"{rc} {err} {summ.get('degenerate')}")
check("normal run: degenerate false", json.load(open(tmp("a", "summary.json")))["degenerate"]
      is False)
fails("--scale above the library's bound names it", "estimate", *SMALL, "--networks", 4,
      "--scale", "1e308", "--out", tmp("deg2"), code=2, says=["1e+300"])
P = tmp("p.npy")
rc, _, err = run("net", "init", "logreg", "--input", "1x8x8", "--seed", 1, "--out", P)
check("net init", rc == 0, err)
np.save(tmp("huge.npy"), np.full(np.load(P).shape, 1e37, np.float32))  # 64 x 1e37 > FLT_MAX
np.save(tmp("x1.npy"), np.ones((1, 8, 8), np.float32))
fails("huge weights: inf outputs refused", "net", "forward", "logreg", "--input", "1x8x8",
      "--params", tmp("huge.npy"), "--x", tmp("x1.npy"), "--out", tmp("y.npy"), says=["inf"])
rc, _, err = run("net", "forward", "logreg", "--input", "1x8x8", "--params", P, "--x",
                 tmp("x1.npy"), "--out", tmp("y1.npy"))
check("one sample CxHxW is a batch of one", rc == 0 and np.load(tmp("y1.npy")).shape == (1, 1),
      err)
# negative eigenvalues are said to be negative, not "zero"
os.makedirs(tmp("neg"))
np.save(tmp("neg", "nads.npy"), np.eye(64, dtype=np.float32)[:4])
np.save(tmp("neg", "eigenvalues.npy"), -np.ones(4))
with open(tmp("neg", "summary.json"), "w") as f:
    f.write("{}\n")
fails("negative eigenvalues are called negative", "compare", tmp("neg"), tmp("a"),
      says=["negative"])
# a summary.json whose input shape overflows when multiplied (undefined behaviour before; the
# sanitizer pass runs this)
os.makedirs(tmp("huge"))
for n in ["eigenvalues.npy", "nads.npy", "mean.npy", "spectrum.npy"]:
    with open(tmp("a", n), "rb") as src, open(tmp("huge", n), "wb") as dst:
        dst.write(src.read())
with open(tmp("huge", "summary.json"), "w") as f:
    f.write('{"input": [4294967296, 4294967296, 4294967296]}\n')
fails("a summary.json shape whose product overflows", "compare", tmp("huge"), tmp("huge"),
      says=["summary.json says"])
np.save(tmp("few_NADs.npy"), np.eye(64, dtype=np.float32)[:16])
np.save(tmp("few_eigenvals.npy"), np.ones(5))
rc, _, err = run("compare", tmp("few_NADs.npy"), tmp("a"))
check("16 NADs, 5 eigenvalues: said", rc == 0 and "first 5" in err, f"{rc} {err}")
fails("--seed above the library's bound: usage error (2)", "estimate", *SMALL, "--networks", 4,
      "--seed", "9007199254740993", "--out", tmp("s"), code=2)
fails("--outputs above the library's bound: usage error (2)", "estimate", "logreg", "--input",
      "1x8x8", "--outputs", "1040000", "--networks", 4, "--out", tmp("s"), code=2)

nadtest.finish()
