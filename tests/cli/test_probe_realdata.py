#!/usr/bin/python3
"""SLOW: the NAD probes of issue 8 on Fashion-MNIST, end to end through the `nad` tool.

LeNet's NADs at initialisation (500 networks), a LeNet trained for 2 epochs on 20,000 images,
then the properties the README reports, with margins (measured at 2,000 networks and 10 epochs:
alignment score 0.95, flipping NADs 0..31 takes the accuracy from 90 % to 8 %, NADs 992..1023
leave it at 90 %):
  - the top NADs hold far more of the class-mean energy than random directions;
  - flipping the first band of NADs destroys the accuracy, a band of late NADs barely moves it;
  - the trained network's NADs (fixed network at test images) are computed and differ from the
    initial ones.
Exit 77 (skipped) when Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist).

usage: test_probe_realdata.py PATH/TO/nad
"""
import json
import os
import sys

import numpy as np

import clitest
from clitest import check, must, must_json, run, tmp

if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
    print("skipped: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    sys.exit(77)

DATA = ["--data", "fashion-mnist"]
must("estimate lenet", "estimate", "lenet", "--networks", "500", "--out", tmp("nads"), "--quiet",
     timeout=1800)
tr = must_json("train lenet", "train", "lenet", *DATA, "--epochs", "2", "--train-samples",
               "20000", "--save", tmp("lenet.npy"), "--quiet", timeout=1800)
print("trained LeNet: test accuracy %s %%" % tr.get("test_accuracy"), flush=True)
check("trained LeNet learns", tr.get("test_accuracy", 0) > 70, tr)

al = must_json("align", "align", "--nads", tmp("nads"), *DATA, "--out", tmp("align"), "--quiet",
               timeout=1800)
print("alignment: score %.4f (random %.4f), discriminant %.4f, %d NADs used" % (
    al.get("score", 0), al.get("random_score", 0), al.get("discriminant_score", 0),
    al.get("nads", 0)), flush=True)
check("align uses the 499 determined NADs", al.get("nads") == 499, al.get("nads"))
check("LeNet NADs align with the class means", al.get("score", 0) > 0.85, al.get("score"))
curve = np.array(al.get("curve", [0] * 10))
check("top-10 NADs: > 10x the random share", curve[9] > 10 * 10 / 1024, curve[9])
check("discriminant variant above random",
      al.get("discriminant_score", 0) > al.get("random_score", 1) + 0.02,
      al.get("discriminant_score"))

flips = {}
for band in ("0:32", "400:432"):
    j = must_json("flip " + band, "flip", "lenet", "--params", tmp("lenet.npy"), *DATA, "--nads",
                  tmp("nads"), "--indices", band, "--out", tmp("flip"), "--quiet", timeout=1800)
    flips[band] = j
    print("flip %s: accuracy %.2f -> %.2f %%, changed %.3f, L2 %.3f, PSNR %.2f dB" % (
        band, j.get("accuracy_before", 0), j.get("accuracy_after", 0),
        j.get("changed_fraction", 0), j.get("l2", 0), j.get("psnr", 0)), flush=True)
a, b = flips["0:32"], flips["400:432"]
check("flipping NADs 0..31 destroys the accuracy",
      a.get("accuracy_after", 100) < a.get("accuracy_before", 0) - 30, a)
check("flipping NADs 400..431 barely moves it",
      abs(b.get("accuracy_after", 0) - b.get("accuracy_before", 100)) < 5, b)
check("flip pictures", os.path.exists(tmp("flip", "samples.png")))

rc, out, err = run("estimate", "lenet", "--outputs", "10", "--params", tmp("lenet.npy"),
                   "--eval-point", "data:fashion-mnist", "--output", "label", "--networks", "300",
                   "--out", tmp("trained-nads"), "--quiet", timeout=1800)
check("estimate the trained network's NADs", rc == 0, err)
if rc == 0:
    s = json.load(open(tmp("trained-nads", "summary.json")))
    check("trained NADs summary", s.get("network") == "fixed" and s.get("networks_done") == 300
          and s.get("output") == "label", s)
    ev = np.load(tmp("trained-nads", "eigenvalues.npy"))
    check("trained eigenvalues finite, descending", np.all(np.isfinite(ev)) and
          np.all(np.diff(ev) <= 1e-12 * ev[0]))
    out = must("compare init / trained", "compare", tmp("nads"), tmp("trained-nads"))
    print(out.strip(), flush=True)
clitest.finish()
