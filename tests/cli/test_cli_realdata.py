#!/usr/bin/python3
"""`nad data info`, `nad train`, `nad poison` and `nad sweep --poison` on small datasets written
here (numpy .npy files, CIFAR-10 batches, IDX): JSON fields and values against numpy, training
that learns, determinism, files written, resuming; and every bad input of issue 8 (truncated or
lying files, wrong magic, labels out of range, mismatched counts, a directory without the
batches, NADs of another D, an index past the last NAD, a negative or non-finite epsilon, a
shape the architecture cannot take): a message on stderr and a non-zero exit each.

usage: test_cli_realdata.py PATH/TO/nad       (prints "N passed, N failed"; exit 1 on failure)
"""
import json
import os
import shutil
import struct
import sys
import tempfile

import numpy as np

import nadtest  # noqa: E402 (PYTHONPATH: tests/python)
from nadtest import check  # noqa: E402

NAD = sys.argv[1] if len(sys.argv) > 1 else "nad"
TMP = tempfile.mkdtemp(prefix="nad-cli-realdata-")
SMALL = "conv 8 k3; relu; maxpool 2; fc 4"  # 8x8 inputs, 4 classes: fast


def run(*args, timeout=300):
    """`nad ARGS...`: (rc, stdout, stderr)."""
    return nadtest.run(NAD, *args, timeout=timeout)


def tmp(*names):
    return os.path.join(TMP, *names)


def last_json(name, out):
    """The last stdout line as JSON (the contract of --json)."""
    lines = out.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        check(name + ": last stdout line is JSON", False, repr(out[-300:]))
        return {}


def must(name, *args, **kw):
    rc, out, err = run(*args, **kw)
    check(name, rc == 0, f"rc={rc} stderr={err.strip()[-800:]}")
    return out, err


def fails(name, *args, needles=(), code=None):
    rc, out, err = run(*args)
    ok = rc != 0 and err.startswith("nad: ") and (code is None or rc == code)
    ok = ok and all(n in err for n in needles)
    check(name, ok, f"rc={rc} stderr={err.strip()!r}")
    return err


# ---- data: 4 classes of 8x8 images, each class a bright square in one quadrant + noise ---------
rng = np.random.default_rng(0)


def make(n):
    y = rng.integers(0, 4, n)
    x = rng.integers(0, 90, (n, 8, 8))
    for i, t in enumerate(y):
        r, c = 4 * (t // 2), 4 * (t % 2)
        x[i, r:r + 4, c:c + 4] += 150
    return x.astype(np.uint8), y.astype(np.int64)


xtr, ytr = make(600)
xte, yte = make(200)
for name, a in [("xtr", xtr), ("ytr", ytr), ("xte", xte), ("yte", yte)]:
    np.save(tmp(name + ".npy"), a)
SRC = "npy:%s,%s,%s,%s" % (tmp("xtr.npy"), tmp("ytr.npy"), tmp("xte.npy"), tmp("yte.npy"))

# ---- data info ----------------------------------------------------------------------------------
out, _ = must("data info --json", "data", "info", SRC, "--json")
j = last_json("data info", out)
check("data info fields", j.get("count") == 600 and j.get("classes") == 4 and
      j.get("shape") == [1, 8, 8] and j.get("class_counts") == np.bincount(ytr).tolist(), str(j))
xs = xtr.astype(np.float32) / np.float32(255)
check("data info mean/std", abs(j.get("mean", [0])[0] - xs.astype(np.float64).mean()) < 1e-9 and
      abs(j.get("std", [0])[0] - xs.astype(np.float64).std()) < 1e-9, str(j))
out, _ = must("data info --split test --size 12x10", "data", "info", SRC, "--split", "test",
              "--size", "12x10", "--json")
j = last_json("data info test", out)
check("data info test split, resized", j.get("count") == 200 and j.get("shape") == [1, 12, 10] and
      abs(j["mean"][0] - (xte.astype(np.float32) / np.float32(255)).astype(np.float64).mean()
          * 64 / 120) < 1e-9, str(j))
out, _ = must("data info (text)", "data", "info", SRC)
check("data info text", "samples      600" in out and "classes      4" in out, out)

# ---- train --------------------------------------------------------------------------------------
TRAIN = ["train", "--spec-string", SMALL, "--data", SRC, "--size", "native", "--epochs", "3",
         "--lr", "0.1", "--batch", "32", "--threads", "2"]
out, err = must("train --json --save", *TRAIN, "--json", "--save", tmp("p1.npy"))
j1 = last_json("train", out)
check("train fields", all(k in j1 for k in ["test_accuracy", "train_accuracy", "epochs",
                                             "seconds"]) and j1.get("epochs") == 3, str(j1))
check("train learns the quadrants", j1.get("test_accuracy", 0) > 90 and
      j1.get("train_accuracy", 0) > 90, str(j1))
check("train: per-epoch test accuracy on stderr", err.count("test ") == 3, err)
check("train: --save writes the parameters",
      os.path.exists(tmp("p1.npy")) and np.load(tmp("p1.npy")).shape == (8 * 9 + 8 + 4 * 72 + 4,),
      str(np.load(tmp("p1.npy")).shape) if os.path.exists(tmp("p1.npy")) else "missing")
out, _ = must("train again", *TRAIN, "--json", "--save", tmp("p2.npy"), "--quiet")
j2 = last_json("train again", out)
check("train is deterministic for a seed and thread count",
      j2.get("test_accuracy") == j1.get("test_accuracy") and
      np.array_equal(np.load(tmp("p1.npy")), np.load(tmp("p2.npy"))))
out, _ = must("train --schedule linear --normalize", *TRAIN, "--schedule", "linear",
              "--normalize", "--json", "--quiet", "--train-samples", "300", "--test-samples", "50")
j = last_json("train linear", out)
check("train linear fields", j.get("schedule") == "linear" and j.get("normalize") == 1 and
      j.get("train_samples") == 300 and j.get("test_samples") == 50, str(j))
# the parameters drive 'nad net forward' on the same spec: accuracy recomputed outside
x8 = (xte.astype(np.float32) / np.float32(255))[:, None]
np.save(tmp("xte_f.npy"), x8)
must("net forward with trained parameters", "net", "forward", "spec", "--spec-string", SMALL,
     "--input", "1x8x8", "--params", tmp("p1.npy"), "--x", tmp("xte_f.npy"), "--out",
     tmp("logits.npy"))
if os.path.exists(tmp("logits.npy")):
    acc = 100.0 * np.mean(np.load(tmp("logits.npy")).argmax(1) == yte)
    check("saved parameters reproduce the test accuracy", abs(acc - j1.get("test_accuracy", -1)) < 1e-9,
          f"{acc} vs {j1.get('test_accuracy')}")

# ---- poison -------------------------------------------------------------------------------------
os.makedirs(tmp("nads"), exist_ok=True)
q, _ = np.linalg.qr(rng.standard_normal((64, 64)))
np.save(tmp("nads", "nads.npy"), np.ascontiguousarray(q.T, np.float32))  # 64 orthonormal 8x8
open(tmp("nads", "summary.json"), "w").write("{}\n")  # a NAD directory holds one complete run
POISON = ["poison", "--spec-string", SMALL, "--data", SRC, "--size", "native", "--nads",
          tmp("nads"), "--epochs", "2", "--lr", "0.1", "--batch", "32", "--quiet"]
out, _ = must("poison --json --out", *POISON, "--index", "5", "--epsilon", "2", "--json",
              "--out", tmp("pout"))
j = last_json("poison", out)
check("poison fields", all(k in j for k in ["clean_test_accuracy", "poisoned_train_accuracy",
                                             "index", "epsilon", "seconds"]) and
      j.get("index") == 5 and j.get("epsilon") == 2, str(j))
check("poison picture", os.path.getsize(tmp("pout", "poison.png")) > 100
      if os.path.exists(tmp("pout", "poison.png")) else False)
must("poison --format svg", *POISON, "--index", "5", "--epsilon", "2", "--out", tmp("psvg"),
     "--format", "svg")
check("poison picture svg", os.path.exists(tmp("psvg", "poison.svg")) and
      open(tmp("psvg", "poison.svg"), "rb").read(5) == b"<?xml")
out, _ = must("poison text", *POISON, "--index", "62", "--epsilon", "0")
check("poison text line", "clean test accuracy" in out, out)

# ---- sweep --poison -----------------------------------------------------------------------------
SWEEP = ["sweep", "--poison", "--spec-string", SMALL, "--data", SRC, "--size", "native",
         "--nads", tmp("nads"), "--epsilon", "2", "--epochs", "1", "--lr", "0.1", "--batch", "32",
         "--quiet", "--out", tmp("sweep")]
out, _ = must("sweep --poison", *SWEEP, "--indices", "0,7,62")
rows = open(tmp("sweep", "accuracy.csv")).read().splitlines() \
    if os.path.exists(tmp("sweep", "accuracy.csv")) else []
check("sweep CSV", rows[:1] == ["index,clean_test_accuracy,poisoned_train_accuracy"] and
      [r.split(",")[0] for r in rows[1:]] == ["0", "7", "62"], str(rows))
check("sweep plot", os.path.exists(tmp("sweep", "accuracy.png")))
rc, out, err = run(*SWEEP, "--indices", "0,7,62")
check("sweep resumes without training again", rc == 0 and "3 cells" in out and
      open(tmp("sweep", "accuracy.csv")).read().splitlines() == rows, err)
fails("sweep with other settings in the same directory", *SWEEP[:-2], "--out", tmp("sweep"),
      "--indices", "0,7,62", "--epochs", "2", needles=["other settings"])
out, _ = must("sweep --poison range", *SWEEP[:-1], tmp("sweep2"), "--indices", "0:40:20")
check("sweep range cells", "2 cells" in out, out)
# a range of 2^61 + 1 cells once wrapped the allocation size (heap overflow): refused before any
# allocation, as is a range whose B - A overflowed
fails("sweep --poison huge range", *SWEEP[:-1], tmp("sweep3"), "--indices",
      "0:2305843009213693953:1", needles=["--indices", "trainings"], code=2)
fails("sweep --poison range near INT64_MAX", *SWEEP[:-1], tmp("sweep3"), "--indices",
      "0:9223372036854775807:3", needles=["--indices", "trainings"], code=2)

# ---- bad input ----------------------------------------------------------------------------------


def npy_src(xa, ya, xb=None, yb=None, tag="bad"):
    np.save(tmp(tag + "_x.npy"), xa)
    np.save(tmp(tag + "_y.npy"), ya)
    return "npy:%s,%s,%s,%s" % (tmp(tag + "_x.npy"), tmp(tag + "_y.npy"), tmp("xte.npy"),
                                tmp("yte.npy"))


def idx_bytes(a):
    return bytes([0, 0, 8, a.ndim]) + b"".join(struct.pack(">I", s) for s in a.shape) + \
        a.astype(np.uint8).tobytes()


def idx_dir(name, images, labels):
    d = tmp(name)
    os.makedirs(d, exist_ok=True)
    for split in ["train", "t10k"]:
        with open(os.path.join(d, split + "-images-idx3-ubyte"), "wb") as f:
            f.write(images)
        with open(os.path.join(d, split + "-labels-idx1-ubyte"), "wb") as f:
            f.write(labels)
    return "idx:" + d


good_img, good_lab = idx_bytes(xtr[:50]), idx_bytes(ytr[:50].astype(np.uint8))
must("idx data info (good)", "data", "info", idx_dir("idx_good", good_img, good_lab))
fails("truncated IDX file", "data", "info", idx_dir("idx_trunc", good_img[:-10], good_lab),
      needles=["train-images-idx3-ubyte", "truncated"], code=1)
lying = good_img[:4] + struct.pack(">I", 50000) + good_img[8:]
fails("lying IDX header", "data", "info", idx_dir("idx_lying", lying, good_lab),
      needles=["truncated"], code=1)
fails("wrong IDX magic", "data", "info", idx_dir("idx_magic", b"\x01\x02" + good_img[2:],
                                                 good_lab), needles=["magic"], code=1)
fails("mismatched image/label counts (IDX)", "data", "info",
      idx_dir("idx_count", good_img, idx_bytes(ytr[:49].astype(np.uint8))),
      needles=["50 images but", "49 labels"], code=1)
with open(tmp("trunc.npy"), "wb") as f:
    f.write(open(tmp("xtr.npy"), "rb").read()[:-7])
fails("truncated .npy", "data", "info", "npy:%s,%s" % (tmp("trunc.npy"), tmp("ytr.npy")),
      needles=["trunc.npy", "truncated"], code=1)
bad_y = ytr.copy()
bad_y[17] = -3
fails("label out of range", "train", "--spec-string", SMALL, "--size", "native", "--data",
      npy_src(xtr, bad_y), needles=["label -3 of sample 17"], code=1)
fails("mismatched image/label counts (npy)", "train", "--spec-string", SMALL, "--size", "native",
      "--data", npy_src(xtr, ytr[:-1]), needles=["600 images but", "599 labels"], code=1)
os.makedirs(tmp("cifar_missing"), exist_ok=True)
for b in [1, 2, 4, 5]:
    with open(tmp("cifar_missing", "data_batch_%d.bin" % b), "wb") as f:
        f.write(bytes(3073))
fails("directory without the expected batches", "data", "info", "cifar10:" + tmp("cifar_missing"),
      needles=["missing data_batch_3.bin"], code=1)
fails("unknown source", "data", "info", "imagenet:/x", needles=["unknown dataset source"])
fails("npy source without a test split", "train", "--spec-string", SMALL, "--data",
      "npy:%s,%s" % (tmp("xtr.npy"), tmp("ytr.npy")), needles=["no test split"])
os.makedirs(tmp("nads_d100"), exist_ok=True)
np.save(tmp("nads_d100", "nads.npy"), np.ones((5, 100), np.float32))
open(tmp("nads_d100", "summary.json"), "w").write("{}\n")  # a NAD directory holds one complete run
fails("NAD file whose D does not match the data", *POISON[:8], tmp("nads_d100"), "--index", "0",
      "--epsilon", "0.1", needles=["D = 100", "8x8 = 64"], code=1)
fails("index range past the last NAD (poison)", *POISON, "--index", "63", "--epsilon", "0.1",
      needles=["past the last NAD"], code=1)
fails("index past the last NAD (sweep)", *SWEEP[:-1], tmp("sweep3"), "--indices", "0,63",
      needles=["past the last usable NAD"])
for eps in ["-0.1", "nan", "inf", "-inf", "1e999", "x"]:
    fails("epsilon " + eps, *POISON, "--index", "0", "--epsilon", eps, needles=["--epsilon"],
          code=2)
fails("missing epsilon", *POISON, "--index", "0", needles=["missing --epsilon"], code=2)
fails("shape the architecture cannot take", "train", "lenet", "--data", SRC, "--size", "8x8",
      needles=["lenet"], code=1)
fails("--input refused", *TRAIN, "--input", "1x8x8", needles=["--input"], code=2)
fails("bad --schedule", *TRAIN, "--schedule", "cosine", needles=["--schedule"], code=2)
fails("bad --size", *TRAIN, "--size", "8by8", needles=["--size"], code=2)
fails("missing --data", "train", "lenet", needles=["missing --data"], code=2)
fails("bad --split", "data", "info", SRC, "--split", "val", needles=["--split"], code=2)

shutil.rmtree(TMP, ignore_errors=True)
nadtest.finish()
