#!/usr/bin/python3
"""Job-array parts that describe themselves (issue 20, item 4): checkpoint format 4 records the
run (architecture, input, mode, scale, evaluation point, seed, top, sketch, ...), so
  - `nad merge a.ck b.ck c.ck --out D` (no ARCH, no options) equals the merge with the options
    given again and the uninterrupted run (eigenvalues 1e-12 relative), for lenet and for a
    spec-text architecture;
  - an option given that contradicts the parts is refused naming the setting and both values;
    parts of different runs (seeds) are refused naming both files;
  - a format-3 part (the record stripped, as the previous nad wrote it) still merges with ARCH
    and the options given, and without them is refused with the reason;
  - `nad estimate --resume PART.ck` without options continues the run bit for bit (also after
    SIGINT), and refuses a contradicting option.

usage: test_cli_parts.py PATH/TO/nad
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np

import nadtest  # noqa: E402 (PYTHONPATH: tests/python)
from nadtest import check  # noqa: E402

NAD = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="nad-parts-")
FILES = ("eigenvalues.npy", "nads.npy", "mean.npy", "spectrum.npy")


def tmp(name):
    return os.path.join(TMP, name)


def run(*args):
    return nadtest.run(NAD, *[str(a) for a in args], timeout=300)


def must(name, *args):
    rc, out, err = run(*args)
    check(name, rc == 0, "rc=%d stderr=%s" % (rc, err.strip()))
    return out


def fails(name, *args, words=()):
    rc, out, err = run(*args)
    ok = rc != 0 and "nad: " in err and all(w in err for w in words)
    check(name, ok, "rc=%d stderr=%r" % (rc, err.strip()))
    return err


def load(d, name):
    return np.load(os.path.join(d, name))


def ev_rel(a, b):
    x, y = load(a, "eigenvalues.npy"), load(b, "eigenvalues.npy")
    keep = y >= 1e-9 * y[0]
    return float(np.max(np.abs(x[keep] - y[keep]) / y[keep]))


def same_files(a, b):
    return all(np.array_equal(load(a, f), load(b, f)) for f in FILES)


def job_array(label, arch, opts, parts):
    """Parts of one run, merged from the parts alone and with the options again."""
    n = parts[-1][1]
    common = arch + opts + ["--networks", n, "--threads", 2, "--quiet"]
    full = tmp(label + "-full")
    must(label + ": uninterrupted", "estimate", *common, "--out", full)
    cks = []
    for lo, hi in parts:
        cks.append(tmp("%s-%d.ck" % (label, lo)))
        must("%s: part %d:%d" % (label, lo, hi), "estimate", *common, "--range",
             "%d:%d" % (lo, hi), "--checkpoint", cks[-1])
    alone, given = tmp(label + "-alone"), tmp(label + "-given")
    must(label + ": merge from the parts alone", "merge", *reversed(cks), "--quiet", "--out", alone)
    must(label + ": merge with the options given", "merge", *arch, *opts, *cks, "--quiet",
         "--out", given)
    e = ev_rel(alone, full)
    check(label + ": parts alone = uninterrupted (1e-12)", e <= 1e-12, "%.3g" % e)
    e = ev_rel(alone, given)
    check(label + ": parts alone = options given (1e-12)", e <= 1e-12, "%.3g" % e)
    s = nadtest.rel_err(load(alone, "spectrum.npy"), load(full, "spectrum.npy"))
    check(label + ": spectrum", s <= 1e-12, "%.3g" % s)
    return cks, full


# ---- lenet and a spec-text architecture --------------------------------------------------

LENET = ["lenet"]
LOPTS = ["--seed", 11, "--scale", 50, "--top", 40]
lcks, lfull = job_array("lenet", LENET, LOPTS, [(0, 10), (10, 21), (21, 30)])
SPEC = ["--spec-string", "conv 4 k3; relu; maxpool 2; conv 6 k3; relu; fc 1", "--input", "1x16x16"]
SOPTS = ["--seed", 5, "--eval-point", "zeros", "--mode", "gradient"]
scks, sfull = job_array("spec", SPEC, SOPTS, [(0, 17), (17, 40)])

# The record is readable text: the architecture and the options, no machine path.
with open(scks[0], "rb") as f:
    raw = f.read()
check("format 4", struct.unpack_from("<I", raw, 8)[0] == 4, str(raw[8:12]))
check("record names the spec and the settings",
      b"spec=conv 4 k3; relu; maxpool 2; conv 6 k3; relu; fc 1\n" in raw and
      b"input=1x16x16\n" in raw and b"seed=5\n" in raw and b"mode=gradient\n" in raw and
      b"eval-point=zeros\n" in raw, raw[196:600].decode(errors="replace"))
check("record stores no path", TMP.encode() not in raw)

# ---- contradictions ------------------------------------------------------------------------

bad = tmp("bad")
fails("explicit seed contradicts", "merge", *lcks, "--seed", 12, "--out", bad,
      words=("seed 11", "--seed 12", os.path.basename(lcks[0])))
fails("explicit scale contradicts", "merge", *lcks, "--scale", 60, "--out", bad,
      words=("scale 50", "--scale 60"))
fails("explicit input contradicts", "merge", "lenet", *lcks, "--input", "1x28x28", "--out", bad,
      words=("input 1x32x32", "--input 1x28x28"))
fails("explicit architecture contradicts", "merge", "logreg", *lcks, "--out", bad,
      words=("architecture lenet", "logreg"))
fails("explicit spec contradicts", "merge", *scks, "--spec-string", "conv 4 k3; relu; fc 1",
      "--out", bad, words=("spec",))
fails("explicit sketch contradicts", "merge", *scks, "--sketch", 8, "--out", bad,
      words=("sketch 0", "--sketch 8"))
check("nothing written by a refused merge", not os.path.exists(os.path.join(bad, "summary.json")))
must("parts of another seed", "estimate", *LENET, "--seed", 12, "--scale", 50, "--top", 40,
     "--networks", 40, "--range", "30:40", "--threads", 2, "--quiet", "--checkpoint",
     tmp("seed12.ck"))
fails("parts of different seeds refused", "merge", lcks[0], tmp("seed12.ck"), "--out", bad,
      words=(os.path.basename(lcks[0]), "seed12.ck", "seed"))
fails("parts of different architectures refused", "merge", lcks[0], scks[1], "--out", bad,
      words=("architecture",))


# ---- a format-3 part (what the previous nad wrote) -----------------------------------------

def as_format3(src, dst):
    """The same checkpoint without its run record: version 3, CRC recomputed."""
    with open(src, "rb") as f:
        b = bytearray(f.read())
    at = 192  # the fixed header of versions 2 to 4
    (n,) = struct.unpack_from("<I", b, at)
    b = b[:at] + b[at + 4 + n:-4]
    struct.pack_into("<I", b, 8, 3)
    b += struct.pack("<I", zlib.crc32(bytes(b)) & 0xFFFFFFFF)
    with open(dst, "wb") as f:
        f.write(b)


old = [tmp("old%d.ck" % i) for i in range(len(lcks))]
for s, d in zip(lcks, old):
    as_format3(s, d)
fails("format 3 without ARCH refused", "merge", *old, "--out", bad, words=("format 3", "ARCH"))
must("format 3 with ARCH and options", "merge", *LENET, *LOPTS, *old, "--quiet", "--out",
     tmp("old"))
e = ev_rel(tmp("old"), lfull)
check("format-3 parts merged = uninterrupted (1e-12)", e <= 1e-12, "%.3g" % e)
fails("format 3 with other options refused by the library", "merge", *LENET, *old,
      "--out", bad, words=("step",))
must("format 3 and 4 parts together", "merge", old[0], *lcks[1:], "--quiet", "--out",
     tmp("mixed"))
e = ev_rel(tmp("mixed"), lfull)
check("mixed formats merged = uninterrupted", e <= 1e-12, "%.3g" % e)

# ---- --resume ------------------------------------------------------------------------------

# A part continued into the whole run: --networks says the run, the rest comes from the part.
must("resume a part into the rest", "estimate", "--resume", scks[0], "--networks", 40,
     "--quiet", "--out", tmp("sres"))
check("resumed part = uninterrupted, bit for bit", same_files(tmp("sres"), sfull))
fails("resume with a contradicting option", "estimate", "--resume", scks[0], "--seed", 6,
      "--out", bad, words=("seed 5", "--seed 6"))
fails("resume of a format-3 part without ARCH", "estimate", "--resume", old[0], "--out", bad,
      words=("format 3",))

# An interrupted run resumed with no options at all.
N = 3000
ck = tmp("int.ck")
args = [NAD, "estimate", *[str(a) for a in SPEC + SOPTS], "--networks", str(N), "--threads",
        "2", "--checkpoint", ck, "--checkpoint-every", "20", "--quiet"]
proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
t0 = time.time()
while not os.path.exists(ck) and proc.poll() is None and time.time() - t0 < 60:
    time.sleep(0.05)
proc.send_signal(signal.SIGINT)
out, err = proc.communicate(timeout=120)
check("interrupted (or finished) with its checkpoint", proc.returncode in (0, 130) and
      os.path.exists(ck), "rc=%d %s" % (proc.returncode, err))
must("resume without options", "estimate", "--resume", ck, "--quiet", "--out", tmp("ires"))
with open(os.path.join(tmp("ires"), "summary.json")) as f:
    summ = json.load(f)
check("the resumed run continued the interrupted one",
      summ["networks_done"] == N and 0 < summ["resumed_networks"] <= N and
      (proc.returncode == 0 or summ["resumed_networks"] < N), str(summ.get("resumed_networks")))
must("uninterrupted run", "estimate", *SPEC, *SOPTS, "--networks", N, "--threads", 2, "--quiet",
     "--out", tmp("ifull"))
check("resumed without options = uninterrupted, bit for bit",
      same_files(tmp("ires"), tmp("ifull")))

nadtest.finish()
