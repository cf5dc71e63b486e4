#!/usr/bin/python3
"""`nad bias` and `nad sweep`: option validation and exit codes, the --json line, directions
from a NAD file and a .npy, determinism, and sweeps: CSV/PNG/settings files, resume after a
torn write and after Ctrl-C (finished rows kept, not recomputed), refused settings changes.

usage: test_cli_bias.py PATH/TO/nad
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

import nadtest  # noqa: E402 (PYTHONPATH: tests/python)
from nadtest import check  # noqa: E402

NAD = sys.argv[1]


def run(*args, timeout=300):
    """`nad ARGS...`: (rc, stdout, stderr)."""
    return nadtest.run(NAD, *args, timeout=timeout)


TMP = tempfile.mkdtemp(prefix="nad-cli-bias-")
SMALL = ["--input", "1x8x8", "--train", "200", "--test", "200", "--epochs", "2", "--threads", "1"]


def fails(name, code, *args):
    rc, out, err = run(*args)
    check(name, rc == code and err.startswith("nad: "), f"rc={rc} stderr={err.strip()!r}")
    return err


def tmp(*names):
    return os.path.join(TMP, *names)


# ---- nad bias: validation ---------------------------------------------------------------------
B = ["bias", "logreg"] + SMALL
fails("missing --direction", 2, *B)
err = fails("unknown direction", 2, *B, "--direction", "sideways")
check("unknown direction names the forms", "fourier:FY,FX" in err and "nad:K:DIR" in err, err)
err = fails("frequency out of range", 2, *B, "--direction", "fourier:5,0")
check("range message", "out of range" in err and "[-4, 4]" in err, err)
fails("negative frequency out of range", 2, *B, "--direction", "fourier:0,-5")
fails("vanishing sine", 2, *B, "--direction", "fourier:4,0,sin")
fails("bad part", 2, *B, "--direction", "fourier:1,2,tan")
fails("bad frequency syntax", 2, *B, "--direction", "fourier:1;2")
fails("epsilon 0", 2, *B, "--direction", "fourier:1,0", "--epsilon", "0")
fails("epsilon negative", 2, *B, "--direction", "fourier:1,0", "--epsilon", "-1")
fails("sigma negative", 2, *B, "--direction", "fourier:1,0", "--sigma", "-0.5")
fails("train 0", 2, "bias", "logreg", "--direction", "fourier:1,0", "--train", "0")
fails("test 0", 2, "bias", "logreg", "--direction", "fourier:1,0", "--test", "0")
fails("batch 0", 2, *B, "--direction", "fourier:1,0", "--batch", "0")
fails("epochs 0", 2, "bias", "logreg", "--direction", "fourier:1,0", "--epochs", "0")
fails("momentum 1", 2, *B, "--direction", "fourier:1,0", "--momentum", "1")
fails("lr nan", 2, *B, "--direction", "fourier:1,0", "--lr", "nan")
fails("clip negative", 2, *B, "--direction", "fourier:1,0", "--clip", "-1")
fails("random seed syntax", 2, *B, "--direction", "random:x")
fails("unknown architecture", 1, "bias", "nonet", "--direction", "fourier:1,0")
fails("builtin with --outputs", 2, *B, "--direction", "fourier:1,0", "--outputs", "3")
fails("spec with one output", 2, "bias", "--spec-string", "fc 1", *SMALL, "--direction", "random")
fails("missing NAD directory", 1, *B, "--direction", "nad:0:" + tmp("nowhere"))
os.makedirs(tmp("nads"))
nads = np.linalg.qr(np.random.default_rng(0).standard_normal((64, 64)))[0].T.astype(np.float32)
np.save(tmp("nads", "nads.npy"), nads[:5])
# a NAD directory must hold one complete run: summary.json (written last by `nad estimate`)
fails("NAD directory without summary.json", 1, *B, "--direction", "nad:0:" + tmp("nads"))
with open(tmp("nads", "summary.json"), "w") as f:
    f.write("{}\n")  # a summary without checksums (as before they existed) is accepted
err = fails("NAD index out of range", 2, *B, "--direction", "nad:5:" + tmp("nads"))
check("NAD range message", "0..4" in err, err)
np.save(tmp("short.npy"), np.ones(63, np.float32))
fails("direction file of the wrong size", 1, *B, "--direction", tmp("short.npy"))

# ---- nad bias: a run ----------------------------------------------------------------------------
rc, out, err = run(*B, "--direction", "fourier:1,2", "--json")
check("bias --json runs", rc == 0, err)
lines = out.strip().splitlines()
res = json.loads(lines[-1]) if lines else {}
keys = ["test_accuracy", "train_accuracy", "epochs", "epochs_to_90", "seconds", "train_loss",
        "test_accuracy_per_epoch", "arch", "direction", "epsilon", "sigma", "train", "test",
        "batch", "lr", "momentum", "weight_decay", "clip", "seed", "threads", "input"]
check("json keys", all(k in res for k in keys), f"{sorted(res)}")
check("json values", res.get("epochs") == 2 and 0 <= res.get("test_accuracy", -1) <= 100 and
      res.get("input") == [1, 8, 8] and len(res.get("test_accuracy_per_epoch", [])) == 2 and
      res.get("test_accuracy") == res["test_accuracy_per_epoch"][-1], f"{res}")
e90 = res.get("epochs_to_90", "missing")
check("epochs_to_90 null or epoch", e90 is None or (isinstance(e90, int) and 1 <= e90 <= 2), e90)
check("progress on stderr", err.count("epoch ") == 2 and "test" in err, err)
rc2, out2, _ = run(*B, "--direction", "fourier:1,2", "--json")
check("deterministic", rc2 == 0 and json.loads(out2.strip().splitlines()[-1])["test_accuracy"] ==
      res.get("test_accuracy"))
rc, out, err = run("bias", "logreg", "--input", "1x8x8", "--epochs", "20", "--train", "2000",
                   "--test", "1000", "--threads", "2", "--direction", "nad:3:" + tmp("nads"),
                   "--json", "--quiet")
r = json.loads(out.strip().splitlines()[-1]) if rc == 0 else {}
check("nad:K:DIR direction, quiet", rc == 0 and err == "", err)
check("logreg learns a NAD direction", r.get("test_accuracy", 0) >= 95, f"{r}")
check("epochs_to_90 reached", isinstance(r.get("epochs_to_90"), int), f"{r}")
np.save(tmp("v.npy"), nads[2].reshape(1, 8, 8))
rc, out, err = run(*B, "--direction", tmp("v.npy"))
check("FILE.npy direction, plain output", rc == 0 and out.startswith("test accuracy "), out + err)

# ---- nad sweep -------------------------------------------------------------------------------
S = ["sweep", "logreg", "--input", "1x4x4", "--train", "100", "--test", "100", "--epochs", "2",
     "--threads", "1", "--quiet"]
fails("sweep without --out", 2, *S, "--grid", "fourier")
fails("sweep with both kinds", 2, *S, "--grid", "fourier", "--nads", tmp("nads"), "--out", tmp("x"))
fails("sweep unknown grid", 2, *S, "--grid", "hexagonal", "--out", tmp("x"))
fails("sweep --nads without --indices", 2, *S, "--nads", tmp("nads"), "--out", tmp("x"))
fails("sweep bad indices", 2, *S, "--nads", tmp("nads"), "--indices", "3:1:1", "--out", tmp("x"))
fails("sweep step 0", 2, *S, "--grid", "fourier", "--step", "0", "--out", tmp("x"))
fails("sweep --direction is not an option", 2, *S, "--grid", "fourier", "--direction", "random",
      "--out", tmp("x"))

g = tmp("grid")
rc, out, err = run(*S, "--grid", "fourier", "--out", g)
check("grid sweep runs", rc == 0, err)
csv = open(os.path.join(g, "accuracy.csv")).read().splitlines()
check("grid csv", csv[0] == "fy,fx,accuracy" and len(csv) == 5, csv)
cells = sorted(tuple(map(int, l.split(",")[:2])) for l in csv[1:])
check("grid cells: fy, fx in {-2, 0}", cells == [(-2, -2), (-2, 0), (0, -2), (0, 0)], cells)
check("grid png", open(os.path.join(g, "accuracy.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n")
check("settings file", json.loads(open(os.path.join(g, "sweep.json")).read())["epochs"] == 2)
rc, out, err = run("bias", *S[1:], "--direction", "fourier:0,-2", "--json")
one = json.loads(out.strip().splitlines()[-1]) if rc == 0 else {}
cell = [l for l in csv if l.startswith("0,-2,")]
check("a sweep cell = nad bias on that direction", cell and
      abs(float(cell[0].split(",")[2]) - one.get("test_accuracy", -1)) < 1e-4, f"{cell} {one}")
# a finished sweep: nothing is recomputed
rc, out, err = run(*S, "--grid", "fourier", "--out", g)
check("rerun keeps the file", rc == 0 and open(os.path.join(g, "accuracy.csv")).read().splitlines()
      == csv, out + err)
# a torn write: header + two rows (one edited, to see that it is kept) + half a row
with open(os.path.join(g, "accuracy.csv"), "w") as f:
    f.write(csv[0] + "\n" + csv[1] + "\n" + ",".join(csv[2].split(",")[:2]) + ",12.5\n0,-")
rc, out, err = run("sweep", "logreg", "--input", "1x4x4", "--train", "100", "--test", "100",
                   "--epochs", "2", "--threads", "1", "--grid", "fourier", "--out", g)
after = open(os.path.join(g, "accuracy.csv")).read().splitlines()
check("resume after a torn line", rc == 0 and "incomplete last line" in err and
      "resuming: 2 of 4" in err, err)
check("resumed rows kept", after[:3] == [csv[0], csv[1], ",".join(csv[2].split(",")[:2]) + ",12.5"],
      after)
check("resumed rows complete", sorted(after[1:]) != [] and len(after) == 5 and
      sorted(after[3:]) == sorted(csv[3:]), f"{after} vs {csv}")
err = fails("resume with other settings", 1, *S[:-1], "--epochs", "3", "--grid", "fourier",
            "--out", g)
check("settings message", "other settings" in err, err)
# NAD sweep
n = tmp("nadsweep")
rc, out, err = run("sweep", "logreg", "--input", "1x8x8", "--train", "300", "--test", "300",
                   "--epochs", "3", "--threads", "2", "--quiet", "--nads", tmp("nads"),
                   "--indices", "0:9:2", "--out", n)
csv = open(os.path.join(n, "accuracy.csv")).read().splitlines() if rc == 0 else []
check("nad sweep", rc == 0 and csv[0] == "index,accuracy" and
      [l.split(",")[0] for l in csv[1:]] == ["0", "2", "4"], f"{csv} {err}")
check("nad sweep png", rc == 0 and open(os.path.join(n, "accuracy.png"), "rb").read(4) == b"\x89PNG")
# Ctrl-C during a sweep: exit 130, finished rows kept; the rerun completes the rest
c = tmp("ctrlc")
args = [NAD, "sweep", "logreg", "--input", "1x8x8", "--train", "3000", "--test", "500", "--epochs",
        "6", "--threads", "1", "--quiet", "--grid", "fourier", "--step", "4", "--out", c]
p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
path, t0 = os.path.join(c, "accuracy.csv"), time.time()
while time.time() - t0 < 120 and p.poll() is None:
    if os.path.exists(path) and len(open(path).read().splitlines()) >= 2:
        break
    time.sleep(0.02)
p.send_signal(signal.SIGINT)
out, err = p.communicate(timeout=120)
rows = open(path).read().splitlines()
check("ctrl-c exit 130", p.returncode == 130, f"rc={p.returncode} {err}")
check("ctrl-c keeps finished rows", 2 <= len(rows) < 5 and all(len(r.split(",")) == 3 for r in rows),
      rows)
rc, out, err = run(*args[1:])
rows2 = open(path).read().splitlines()
check("ctrl-c then resume", rc == 0 and len(rows2) == 5 and rows2[:len(rows)] == rows, rows2)
shutil.rmtree(TMP)
nadtest.finish()
