#!/usr/bin/python3
"""Drives `nad flip`, `nad align` and `nad estimate --params --eval-point data:...` on small
datasets the test writes (npy:IMAGES,LABELS), checking the JSON results against numpy and every
bad input against a clear error and a non-zero exit.

usage: test_cli_probe.py PATH/TO/nad        (prints "N passed, N failed"; exit 1 on any failure)
"""
import json
import os
import shutil
import subprocess

import numpy as np

import clitest
from clitest import check, fails, must_json, run, tmp


# ---- data: 3 classes of 1x6x6 images, train and test splits as .npy --------------------------
rng = np.random.default_rng(0)
C, H, W, K = 1, 6, 6, 3
D = C * H * W
centres = rng.uniform(0.2, 0.8, (K, C, H, W))


def make_split(n, seed):
    r = np.random.default_rng(seed)
    y = (np.arange(n) % K).astype(np.uint8)
    x = np.clip(centres[y] + 0.15 * r.standard_normal((n, C, H, W)), 0, 1).astype(np.float32)
    return x, y


xtr, ytr = make_split(300, 1)
xte, yte = make_split(90, 2)
for name, arr in (("xtr", xtr), ("ytr", ytr), ("xte", xte), ("yte", yte)):
    np.save(tmp(name + ".npy"), arr)
DATA = "npy:%s,%s,%s,%s" % (tmp("xtr.npy"), tmp("ytr.npy"), tmp("xte.npy"), tmp("yte.npy"))
SPEC = "fc 8; relu; fc 3"
COMMON = ["--spec-string", SPEC, "--data", DATA, "--size", "native"]

# a "trained" MLP: random weights; params in state_dict order
n_params = 8 * D + 8 + 3 * 8 + 3
params = (rng.standard_normal(n_params) * 0.5).astype(np.float32)
np.save(tmp("params.npy"), params)


def mlp(p, x):
    p = p.astype(np.float64)
    w1, b1 = p[:8 * D].reshape(8, D), p[8 * D:8 * D + 8]
    q = p[8 * D + 8:]
    w2, b2 = q[:24].reshape(3, 8), q[24:27]
    return np.maximum(x.reshape(len(x), D).astype(np.float64) @ w1.T + b1, 0) @ w2.T + b2


q, r = np.linalg.qr(rng.standard_normal((D, D)))
nads = np.ascontiguousarray((q * np.sign(np.diag(r))).T).astype(np.float32)
os.makedirs(tmp("nads"))
np.save(tmp("nads", "nads.npy"), nads)
open(tmp("nads", "summary.json"), "w").write("{}\n")  # a NAD directory holds one complete run

# ---- flip ------------------------------------------------------------------------------------
for op, alpha in (("flip", 2.0), ("remove", 1.0)):
    j = must_json("flip " + op, "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
                  tmp("nads"), "--indices", "2:9", "--op", op, "--quiet")
    v = nads[2:9].astype(np.float64)
    x = xte.reshape(len(xte), D).astype(np.float64)
    xm = x - alpha * (x @ v.T) @ v
    before, after = mlp(params, x).argmax(1), mlp(params, xm).argmax(1)
    mse = ((xm - x) ** 2).mean()
    peak = float(xte.max() - xte.min())
    check("flip %s accuracy_before" % op,
          abs(j.get("accuracy_before", -1) - 100 * (before == yte).mean()) < 1e-9, j)
    check("flip %s accuracy_after" % op,
          abs(j.get("accuracy_after", -1) - 100 * (after == yte).mean()) < 1e-9, j)
    check("flip %s changed_fraction" % op,
          abs(j.get("changed_fraction", -1) - (before != after).mean()) < 1e-9, j)
    check("flip %s l2" % op, abs(j.get("l2", -1) - np.linalg.norm(xm - x, axis=1).mean()) < 1e-4,
          j)
    check("flip %s psnr" % op, abs(j.get("psnr", -1) - 10 * np.log10(peak ** 2 / mse)) < 1e-3, j)
    check("flip %s fields" % op, j.get("indices") == [2, 9] and j.get("op") == op and
          j.get("samples") == 90 and j.get("nads") == D, j)

# --normalize: the probed images are normalised with the training split's statistics;
# --samples keeps the first N
j = must_json("flip normalize", "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
              tmp("nads"), "--indices", "0:4", "--normalize", "--samples", "50", "--quiet")
m, sd = xtr.astype(np.float64).mean(), xtr.astype(np.float64).std()
x = ((xte[:50].astype(np.float64) - m) / sd).reshape(50, D)
v = nads[:4].astype(np.float64)
xm = x - 2 * (x @ v.T) @ v
check("flip normalize accuracy", abs(j.get("accuracy_before", -1) -
                                     100 * (mlp(params, x).argmax(1) == yte[:50]).mean()) < 1e-9
      and abs(j.get("accuracy_after", -1) -
              100 * (mlp(params, xm).argmax(1) == yte[:50]).mean()) < 1e-9, j)
check("flip normalize l2", abs(j.get("l2", -1) - np.linalg.norm(xm - x, axis=1).mean()) < 1e-4
      and j.get("samples") == 50, j)

# sweep: the bands of the sweep equal separate runs; CSV, plot and pictures written
j = must_json("flip sweep", "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
              tmp("nads", "nads.npy"), "--indices", "0:36", "--sweep", "10", "--out",
              tmp("flip-out"), "--pictures", "5", "--quiet")
sw = j.get("sweep", [])
check("sweep bands", [(b["first"], b["last"]) for b in sw] == [(0, 10), (10, 20), (20, 30),
                                                                (30, 36)], sw)
one = must_json("flip band 20:30", "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
                tmp("nads"), "--indices", "20:30", "--quiet")
check("sweep band = single run", len(sw) == 4 and sw[2]["accuracy_after"] ==
      one.get("accuracy_after") and sw[2]["l2"] == one.get("l2"), (sw[2:3], one))
rows = open(tmp("flip-out", "sweep.csv")).read().strip().splitlines()
check("sweep.csv", rows[0].startswith("first,last,accuracy_before,accuracy_after") and
      len(rows) == 5 and rows[3].startswith("20,30,"), rows)
for f in ("sweep.png", "samples.png", "change.png"):
    path = tmp("flip-out", f)
    check("flip wrote " + f, os.path.exists(path) and open(path, "rb").read(8) ==
          b"\x89PNG\r\n\x1a\n")
# the same pictures as PDF and SVG (--format), titled
must_json("flip sweep pdf", "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
          tmp("nads", "nads.npy"), "--indices", "0:36", "--sweep", "10", "--out",
          tmp("flip-pdf"), "--pictures", "3", "--format", "pdf", "--quiet")
for f in ("sweep.pdf", "samples.pdf", "change.pdf"):
    path = tmp("flip-pdf", f)
    check("flip wrote " + f, os.path.exists(path) and open(path, "rb").read(5) == b"%PDF-")
if shutil.which("pdftotext"):
    txt = subprocess.run(["pdftotext", tmp("flip-pdf", "sweep.pdf"), "-"], capture_output=True,
                         text=True).stdout
    check("flip sweep.pdf text", "Accuracy with bands of 10 NADs flipped" in txt and
          "first NAD of the band" in txt, txt)
else:
    check("pdftotext is installed (apt-get install poppler-utils)", False)
# flipping the whole basis negates the images: L2 = 2·||x|| exactly
j = must_json("flip all", "flip", *COMMON, "--params", tmp("params.npy"), "--nads", tmp("nads"),
              "--indices", "0:%d" % D, "--quiet")
check("flip all: l2 = 2|x|", abs(j.get("l2", 0) - 2 * np.linalg.norm(
    xte.reshape(90, D).astype(np.float64), axis=1).mean()) < 1e-4, j)

# ---- align -------------------------------------------------------------------------------------
j = must_json("align", "align", "--nads", tmp("nads"), "--data", DATA, "--size", "native",
              "--ridge", "0.05", "--out", tmp("align-out"), "--quiet")
x = xtr.reshape(len(xtr), D).astype(np.float64)
mu = x.mean(0)
means = np.array([x[ytr == c].mean(0) for c in range(K)])
wts = np.array([np.sqrt((ytr == c).mean()) for c in range(K)])
rows_b = wts[:, None] * (means - mu)
xc = x - means[ytr]
sw_ = xc.T @ xc / len(x)
sw_ += 0.05 * np.trace(sw_) / D * np.eye(D)
rows_l = np.linalg.solve(sw_, rows_b.T).T
for key, rws in (("", rows_b), ("discriminant_", rows_l)):
    e = ((rws @ nads.astype(np.float64).T) ** 2).sum(0)
    curve = np.cumsum(e) / (rws ** 2).sum()
    got = np.array(j.get(key + "curve", []))
    check("align %scurve" % key, got.shape == (D,) and np.abs(got - curve).max() < 1e-6)
    check("align %sscore" % key, abs(j.get(key + "score", -1) - curve.mean()) < 1e-6)
check("align random_score", abs(j.get("random_score", 0) - (D + 1) / (2 * D)) < 1e-12)
check("align.csv", len(open(tmp("align-out", "align.csv")).read().splitlines()) == D + 1)
for f in ("align_between.png", "align_discriminant.png"):
    check("align wrote " + f, open(tmp("align-out", f), "rb").read(8) == b"\x89PNG\r\n\x1a\n")
must_json("align svg", "align", "--nads", tmp("nads"), "--data", DATA, "--size", "native",
          "--out", tmp("align-svg"), "--format", "svg", "--quiet")
check("align svg", all(open(tmp("align-svg", f), "rb").read(5) == b"<?xml"
                       for f in ("align_between.svg", "align_discriminant.svg")))
# with the top 5 NADs only, the rest is interpolated linearly to 1
np.save(tmp("nads5.npy"), nads[:5])
j5 = must_json("align 5 NADs", "align", "--nads", tmp("nads5.npy"), "--data", DATA, "--size",
               "native", "--quiet")
c5 = np.array(j5.get("curve", [0] * 5))
rest = np.linspace(c5[-1], 1.0, D - 5 + 1)[1:]
check("align 5 NADs score", len(c5) == 5 and abs(j5.get("score", -1) -
                                                  (c5.sum() + rest.sum()) / D) < 1e-9, j5)

# eigenvalues.npy next to nads.npy: NADs of zero eigenvalue (the null space of N − 1 networks)
# are not used; --top K limits further
os.makedirs(tmp("nads-rank"))
np.save(tmp("nads-rank", "nads.npy"), nads)
open(tmp("nads-rank", "summary.json"), "w").write("{}\n")  # a NAD directory holds one complete run
np.save(tmp("nads-rank", "eigenvalues.npy"), np.r_[np.linspace(2, 1, 7), np.zeros(D - 7)])
jr = must_json("align rank 7", "align", "--nads", tmp("nads-rank"), "--data", DATA, "--size",
               "native", "--quiet")
np.save(tmp("nads7.npy"), nads[:7])
j7 = must_json("align 7 NADs", "align", "--nads", tmp("nads7.npy"), "--data", DATA, "--size",
               "native", "--quiet")
check("align drops zero-eigenvalue NADs", jr.get("nads") == 7 and jr.get("nads_in_file") == D
      and jr.get("score") == j7.get("score"), (jr.get("nads"), jr.get("score"), j7.get("score")))
jt = must_json("align --top 7", "align", "--nads", tmp("nads"), "--data", DATA, "--size",
               "native", "--top", "7", "--quiet")
check("align --top", jt.get("nads") == 7 and jt.get("score") == j7.get("score"), jt.get("nads"))

# ---- estimate: one fixed network at data points ---------------------------------------------
est = ["estimate", "--spec-string", SPEC, "--input", "1x6x6", "--params", tmp("params.npy"),
       "--eval-point", "data:" + DATA, "--quiet", "--threads", "2"]
rc, out, err = run(*est, "--networks", "40", "--output", "label", "--out", tmp("est"))
check("estimate fixed network", rc == 0, err)
summary = json.load(open(tmp("est", "summary.json"))) if rc == 0 else {}
check("summary network fixed", summary.get("network") == "fixed" and summary.get("output") ==
      "label" and summary.get("eval_split") == "test" and summary.get("networks_done") == 40,
      summary)
g = []
s = 100.0
for jj in range(40):
    xp = xte[jj].reshape(1, D) + s * np.eye(D, dtype=np.float32)
    xn = xte[jj].reshape(1, D) - s * np.eye(D, dtype=np.float32)
    g.append((mlp(params, xp.astype(np.float32))[:, yte[jj]] -
              mlp(params, xn.astype(np.float32))[:, yte[jj]]) / (2 * s))
lam = np.linalg.eigvalsh(np.cov(np.array(g).T))[::-1]
if rc == 0:
    ev = np.load(tmp("est", "eigenvalues.npy"))
    check("estimate eigenvalues vs numpy", np.abs(ev - lam).max() / lam[0] < 1e-5,
          np.abs(ev - lam).max() / lam[0])
# --normalize: the points normalised with the training split's statistics
rc, out, err = run(*est, "--networks", "20", "--output", "1", "--normalize", "--out",
                   tmp("est-norm"))
check("estimate --normalize", rc == 0, err)
xn_all = (xte.astype(np.float64) - xtr.astype(np.float64).mean()) / xtr.astype(np.float64).std()
g = []
for jj in range(20):
    x0 = xn_all[jj].reshape(1, D).astype(np.float32)
    xp = x0 + s * np.eye(D, dtype=np.float32)
    xn = x0 - s * np.eye(D, dtype=np.float32)
    g.append((mlp(params, xp)[:, 1] - mlp(params, xn)[:, 1]) / (2 * s))
lam = np.linalg.eigvalsh(np.cov(np.array(g).T))[::-1]
if rc == 0:
    ev = np.load(tmp("est-norm", "eigenvalues.npy"))
    check("estimate --normalize vs numpy", np.abs(ev - lam).max() / lam[0] < 1e-5,
          np.abs(ev - lam).max() / lam[0])
    check("summary normalize", json.load(open(tmp("est-norm", "summary.json"))).get(
        "normalize") == 1)

# resume: a checkpoint of the fixed-network run refuses other parameters and other points
rc, out, err = run(*est, "--networks", "20", "--output", "label", "--out", tmp("est2"),
                   "--checkpoint", tmp("fixed.ckpt"))
check("estimate with checkpoint", rc == 0, err)
p2 = params.copy()
p2[0] += 1
np.save(tmp("params2.npy"), p2)
fails("resume with other params", "estimate", "--spec-string", SPEC, "--input", "1x6x6",
      "--params", tmp("params2.npy"), "--eval-point", "data:" + DATA, "--output", "label",
      "--networks", "30", "--out", tmp("est3"), "--resume", tmp("fixed.ckpt"), "--quiet",
      code=1, words=("fixed network",))
fails("resume with other points", *est, "--eval-split", "train", "--output", "label",
      "--networks", "30", "--out", tmp("est3"), "--resume", tmp("fixed.ckpt"), code=1,
      words=("eval-split test", "--eval-split train"))  # the part's run record (issue 20)
rc, out, err = run(*est, "--output", "label", "--networks", "40", "--out", tmp("est4"),
                   "--resume", tmp("fixed.ckpt"))
check("resume with the same settings", rc == 0, err)
if rc == 0 and os.path.exists(tmp("est", "eigenvalues.npy")):
    check("resumed = uninterrupted", np.array_equal(np.load(tmp("est4", "eigenvalues.npy")),
                                                     np.load(tmp("est", "eigenvalues.npy"))))

# ---- bad input ----------------------------------------------------------------------------------
np.save(tmp("nads25.npy"), nads[:5, :25])
fails("flip: NAD D != data D", "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
      tmp("nads25.npy"), "--indices", "0:2", code=1, words=("D = 25", "36"))
fails("align: NAD D != data D", "align", "--nads", tmp("nads25.npy"), "--data", DATA, "--size",
      "native", code=1, words=("D = 25",))
fails("flip: index range past the last NAD", "flip", *COMMON, "--params", tmp("params.npy"),
      "--nads", tmp("nads5.npy"), "--indices", "3:6", code=1, words=("past the last NAD",))
fails("flip: empty index range", "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
      tmp("nads"), "--indices", "5:5", code=2)
fails("flip: bad index range", "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
      tmp("nads"), "--indices", "-1:4", code=2)
fails("flip: wrong parameter count", "flip", *COMMON, "--params", tmp("nads5.npy"), "--nads",
      tmp("nads"), "--indices", "0:2", code=1, words=("parameters",))
fails("flip: shape the architecture cannot take", "flip", "lenet", "--data", DATA, "--size",
      "native", "--params", tmp("params.npy"), "--nads", tmp("nads"), "--indices", "0:2",
      code=1)
fails("flip: bad --op", "flip", *COMMON, "--params", tmp("params.npy"), "--nads", tmp("nads"),
      "--indices", "0:2", "--op", "negate", code=2)
fails("flip: missing --params", "flip", *COMMON, "--nads", tmp("nads"), "--indices", "0:2",
      code=2)
fails("flip: missing --nads", "flip", *COMMON, "--params", tmp("params.npy"), "--indices", "0:2",
      code=2)
not_orth = nads.copy()
not_orth[1] = not_orth[0]
np.save(tmp("notorth.npy"), not_orth)
fails("flip: NADs not orthonormal", "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
      tmp("notorth.npy"), "--indices", "0:3", code=1, words=("orthonormal",))
fails("flip: NAD file missing", "flip", *COMMON, "--params", tmp("params.npy"), "--nads",
      tmp("nowhere"), "--indices", "0:3", code=1)
np.save(tmp("yone.npy"), np.zeros(300, np.uint8))
fails("align: one class", "align", "--nads", tmp("nads"), "--data", "npy:%s,%s" %
      (tmp("xtr.npy"), tmp("yone.npy")), "--size", "native", code=1, words=("between-class",))
fails("align: bad ridge", "align", "--nads", tmp("nads"), "--data", DATA, "--size", "native",
      "--ridge", "-1", code=2)
fails("estimate: --params without data points", "estimate", "--spec-string", SPEC, "--input",
      "1x6x6", "--params", tmp("params.npy"), "--out", tmp("e5"), code=2)
fails("estimate: more points than the data", *est, "--networks", "91", "--out", tmp("e6"),
      code=2, words=("only 90",))
fails("estimate: --output label without data", "estimate", "lenet", "--output", "label",
      "--out", tmp("e7"), code=2)
fails("estimate: output >= outputs", *est, "--output", "3", "--networks", "10", "--out",
      tmp("e8"), code=2)
fails("estimate: wrong parameter count", "estimate", "--spec-string", "fc 8; relu; fc 4",
      "--input", "1x6x6", "--params", tmp("params.npy"), "--eval-point", "data:" + DATA,
      "--networks", "10", "--out", tmp("e9"), code=1, words=("parameters",))
fails("estimate: data channels != input", "estimate", "--spec-string", SPEC, "--input", "3x6x6",
      "--eval-point", "data:" + DATA, "--networks", "10", "--out", tmp("e10"), code=1,
      words=("architecture takes",))
fails("estimate: data:", "estimate", "lenet", "--eval-point", "data:", "--out", tmp("e11"),
      code=2)
fails("estimate: --normalize without data points", "estimate", "lenet", "--normalize", "--out",
      tmp("e12"), code=2)

clitest.finish()
