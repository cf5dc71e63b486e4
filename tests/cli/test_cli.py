#!/usr/bin/python3
"""Drives the built `nad` tool and checks its outputs against closed forms and numpy.

usage: test_cli.py PATH/TO/nad        (prints "N passed, N failed"; exit 1 on any failure)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import numpy as np

import clitest
from clitest import NAD, check, fails, must, run, tmp


# ---- version, help ----------------------------------------------------------------------------
out = must("version", "--version")
m = re.fullmatch(r"nad (\d+\.\d+\.\d+) \(libnad (\d+\.\d+\.\d+)\)\n", out)
check("version format", m is not None, repr(out))
check("version tool = library", m is not None and m.group(1) == m.group(2), repr(out))
out = must("help", "help")
check("help lists commands", all(w in out for w in ["arch show", "net forward", "estimate",
                                                    "compare", "EXIT STATUS"]))
out = must("estimate --help", "estimate", "--help")
check("estimate --help", "--checkpoint-every" in out and "summary.json" in out)
rc, out, err = run()
check("no command is a usage error", rc == 2 and "usage:" in err, f"rc={rc}")
rc, out, err = run("frobnicate")
check("unknown command", rc == 2 and "unknown command" in err, f"rc={rc}")

# ---- arch -------------------------------------------------------------------------------------
BUILTINS = ["logreg", "lenet", "lenet-nopool", "vgg11", "vgg11-bn", "vgg11-nopool", "resnet18",
            "resnet18-noshortcut", "densenet121", "allconv"]
out = must("arch list", "arch", "list")
names = out.split()
check("arch list has all builtins", all(b in names for b in BUILTINS), f"{names}")

# LeNet for 1x32x32 and one output, counted by hand.
LENET = (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 1 + 1)
out = must("arch show lenet --json", "arch", "show", "lenet", "--json")
try:
    info = json.loads(out)
except ValueError as ex:
    info = {}
    check("arch show json parses", False, str(ex))
check("lenet parameters", info.get("parameters") == LENET == 60941, f"{info.get('parameters')}")
check("lenet state_dict = parameters", info.get("state_dict_floats") == LENET)
check("lenet name/input/outputs", info.get("name") == "lenet" and info.get("input") == [1, 32, 32]
      and info.get("outputs") == 1, f"{ {k: info.get(k) for k in ('name', 'input', 'outputs')} }")
layers = info.get("layers", [])
check("lenet layers sum to the totals",
      sum(l["params"] for l in layers) == LENET and sum(l["flops"] for l in layers) == info.get("flops"))
check("lenet first conv output 6x28x28", any(l["shape"] == [6, 28, 28] for l in layers))
check("lenet last layer 1x1x1", layers and layers[-1]["shape"] == [1, 1, 1])
# The two convolutions alone: 2·(6·28·28·25 + 16·10·10·150) multiply-adds.
check("lenet flops >= conv multiply-adds", info.get("flops", 0) >= 2 * (6 * 784 * 25 + 16 * 100 * 150))
out = must("arch show lenet 10 outputs", "arch", "show", "lenet", "--outputs", "10", "--json")
check("lenet 10 outputs = 61,706", json.loads(out)["parameters"] == 61706)
out = must("arch show lenet table", "arch", "show", "lenet")
check("table totals", "trainable parameters: 60,941" in out and "6x28x28" in out, out[-300:])

# VGG11-bn: state_dict adds running mean and var of every BN channel.
out = must("arch show vgg11-bn", "arch", "show", "vgg11-bn", "--json")
v = json.loads(out)
bn_channels = 64 + 128 + 256 + 256 + 512 + 512 + 512 + 512
check("vgg11-bn running statistics", v["state_dict_floats"] - v["parameters"] == 2 * bn_channels,
      f"{v['state_dict_floats']} - {v['parameters']}")

SPEC = "conv 2 k3; relu; fc 1"
out = must("arch show --spec-string", "arch", "show", "--spec-string", SPEC, "--input", "1x8x8",
           "--json")
s = json.loads(out)
check("spec parameters", s["parameters"] == (2 * 9 + 2) + (2 * 6 * 6 + 1), f"{s['parameters']}")
with open(tmp("net.spec"), "w") as f:
    f.write("# a small net\nconv 2 k3;   # first layer\nrelu;\n\tfc 1\n")
out = must("arch show --spec FILE", "arch", "show", "spec", "--spec", tmp("net.spec"), "--input",
           "1x8x8", "--json")
check("spec file = spec string", json.loads(out)["parameters"] == s["parameters"])
fails("unknown arch", "arch", "show", "nosuchnet", code=1)
fails("bad --input 1x0x8", "arch", "show", "lenet", "--input", "1x0x8", code=2)
fails("bad --input text", "arch", "show", "lenet", "--input", "32x32", code=2)
fails("bad --outputs", "arch", "show", "lenet", "--outputs", "1.5", code=2)
fails("unknown option", "arch", "show", "lenet", "--bogus", code=2)
fails("bad spec", "arch", "show", "--spec-string", "conv k3 zz", "--input", "1x8x8", code=1)

# ---- net init / forward ---------------------------------------------------------------------------
P = tmp("logreg.npy")
must("net init", "net", "init", "logreg", "--seed", "3", "--input", "1x8x8", "--outputs", "3",
     "--out", P)
p = np.load(P)
check("params dtype/shape", p.dtype == np.float32 and p.shape == (3 * 64 + 3,), f"{p.dtype} {p.shape}")
W, b = p[:192].reshape(3, 64).astype(np.float64), p[192:].astype(np.float64)
check("logreg init bound 1/sqrt(64)", np.abs(p).max() <= 0.125 and np.abs(p).max() > 0.1)
must("net init again", "net", "init", "logreg", "--seed", "3", "--input", "1x8x8", "--outputs", "3",
     "--out", tmp("logreg2.npy"))
check("init deterministic", np.array_equal(np.load(tmp("logreg2.npy")), p))
must("net init seed 4", "net", "init", "logreg", "--seed", "4", "--input", "1x8x8", "--outputs", "3",
     "--out", tmp("logreg4.npy"))
check("init depends on seed", not np.array_equal(np.load(tmp("logreg4.npy")), p))
fails("net init without --seed", "net", "init", "logreg", "--out", tmp("x.npy"), code=2)

rng = np.random.default_rng(0)
x = rng.standard_normal((5, 1, 8, 8)).astype(np.float32)
np.save(tmp("x.npy"), x)
must("net forward", "net", "forward", "logreg", "--params", P, "--x", tmp("x.npy"), "--input",
     "1x8x8", "--outputs", "3", "--out", tmp("y.npy"), "--grad", tmp("g.npy"))
y, g = np.load(tmp("y.npy")), np.load(tmp("g.npy"))
ref = x.reshape(5, 64).astype(np.float64) @ W.T + b
check("forward shape/dtype", y.shape == (5, 3) and y.dtype == np.float32, f"{y.shape} {y.dtype}")
check("forward = x W^T + b", np.abs(y - ref).max() < 1e-5, f"{np.abs(y - ref).max()}")
check("grad shape", g.shape == (5, 1, 8, 8) and g.dtype == np.float32, f"{g.shape}")
check("grad of output 0 = W[0]", np.abs(g.reshape(5, 64) - W[0]).max() < 1e-6)
np.save(tmp("x64.npy"), x.reshape(5, 64).astype(np.float64))
must("net forward flat float64", "net", "forward", "logreg", "--params", P, "--x", tmp("x64.npy"),
     "--input", "1x8x8", "--outputs", "3", "--out", tmp("y2.npy"))
check("flat float64 input = 4-D input", np.array_equal(np.load(tmp("y2.npy")), y))
err = fails("params of the wrong length", "net", "forward", "logreg", "--params", P, "--x",
            tmp("x.npy"), "--input", "1x8x8", "--out", tmp("y3.npy"))
check("params message names the sizes", "195" in err and "65" in err, err)
err = fails("x shape vs --input", "net", "forward", "logreg", "--params", P, "--x", tmp("x.npy"),
            "--outputs", "3", "--out", tmp("y3.npy"))
check("x shape message", "5x1x8x8" in err and "--input" in err, err)
check("failed forward writes nothing", not os.path.exists(tmp("y3.npy")))

try:  # LeNet against PyTorch on the same weights (state_dict order)
    import torch
    import torch.nn as nn
    must("net init lenet", "net", "init", "lenet", "--seed", "7", "--out", tmp("lenet.npy"))
    lp = np.load(tmp("lenet.npy"))
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(),
                          nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 1)).double()
    off = 0
    with torch.no_grad():
        for t in model.state_dict().values():
            t.copy_(torch.from_numpy(lp[off:off + t.numel()].astype(np.float64)).view_as(t))
            off += t.numel()
    xl = rng.standard_normal((4, 1, 32, 32)).astype(np.float32)
    np.save(tmp("xl.npy"), xl)
    must("net forward lenet", "net", "forward", "lenet", "--params", tmp("lenet.npy"), "--x",
         tmp("xl.npy"), "--out", tmp("yl.npy"), "--grad", tmp("gl.npy"))
    xt = torch.from_numpy(xl.astype(np.float64)).requires_grad_(True)
    yt = model(xt)
    yt[:, 0].sum().backward()
    check("lenet forward = torch", off == lp.size and
          np.abs(np.load(tmp("yl.npy")) - yt.detach().numpy()).max() < 1e-4)
    check("lenet grad = torch", np.abs(np.load(tmp("gl.npy")) - xt.grad.numpy()).max() < 1e-4)
except ImportError:
    print("(torch not available: LeNet forward comparison skipped)")

# ---- estimate -----------------------------------------------------------------------------------
D = tmp("est")
must("estimate logreg", "estimate", "logreg", "--input", "1x8x8", "--networks", 20, "--threads", 2,
     "--seed", 5, "--quiet", "--out", D)
files = {n: os.path.join(D, n) for n in ["eigenvalues.npy", "nads.npy", "mean.npy", "spectrum.npy",
                                         "nads.png", "spectrum.png", "eigenvalues.png",
                                         "summary.json"]}
check("estimate writes all files", all(os.path.exists(f) for f in files.values()))
ev, nads = np.load(files["eigenvalues.npy"]), np.load(files["nads.npy"])
mean, spec = np.load(files["mean.npy"]), np.load(files["spectrum.npy"])
check("eigenvalues float64 (64,)", ev.dtype == np.float64 and ev.shape == (64,))
check("nads float32 (64, 64)", nads.dtype == np.float32 and nads.shape == (64, 64))
check("mean float64 (64,)", mean.dtype == np.float64 and mean.shape == (64,))
check("spectrum float64 (1, 8, 8)", spec.dtype == np.float64 and spec.shape == (1, 8, 8))
for n in ["nads.png", "spectrum.png", "eigenvalues.png"]:
    with open(files[n], "rb") as f:
        check(f"{n} is a PNG", f.read(8) == b"\x89PNG\r\n\x1a\n")
check("eigenvalues descending", np.all(np.diff(ev) <= 1e-12 * ev[0]))
check("NADs orthonormal", np.abs(nads.astype(np.float64) @ nads.T - np.eye(64)).max() < 1e-4)
# logreg's dipole response is W[0] ~ U(-1/8, 1/8)^64: trace of the covariance = 64/(3·64).
check("trace = 64 var(U(-1/8, 1/8))", abs(ev.sum() - 1 / 3) < 0.05, f"{ev.sum()}")
check("rank <= N - 1", np.all(ev[19:] < 1e-6 * ev[0]), f"{ev[18:22]}")
check("mean response small", np.abs(mean).max() < 0.1, f"{np.abs(mean).max()}")
spec_ref = sum(ev[i] * np.abs(np.fft.fftshift(np.fft.fft2(nads[i].reshape(8, 8).astype(np.float64))))**2
               for i in range(64))
check("spectrum = sum lambda |FFT2(NAD)|^2", np.allclose(spec[0], spec_ref, rtol=1e-4, atol=1e-9 * spec_ref.max()),
      f"{np.abs(spec[0] - spec_ref).max()}")
with open(files["summary.json"]) as f:
    summ = json.load(f)
for key in ["arch", "input", "outputs", "networks", "scale", "mode", "eval_point", "seed",
            "threads", "top", "batch", "networks_done", "seconds", "networks_per_second",
            "convergence", "verdict", "libnad_version", "blas"]:
    check(f"summary has {key}", key in summ)
check("summary values", summ.get("arch") == "logreg" and summ.get("input") == [1, 8, 8]
      and summ.get("networks") == 20 and summ.get("networks_done") == 20 and summ.get("scale") == 100
      and summ.get("mode") == "dipole" and summ.get("eval_point") == "normal" and summ.get("seed") == 5
      and summ.get("threads") == 2, f"{summ}")
conv = summ.get("convergence", {})
check("convergence k = 1 and 10", set(conv) == {"1", "10"} and
      all(0 <= conv[k]["overlap"] <= 1 + 1e-9 for k in conv), f"{conv}")
check("verdict is words", isinstance(summ.get("verdict"), str) and "converged" in summ["verdict"])

must("estimate again", "estimate", "logreg", "--input", "1x8x8", "--networks", 20, "--threads", 2,
     "--seed", 5, "--quiet", "--out", tmp("est2"))
check("estimate reproducible", np.array_equal(np.load(os.path.join(tmp("est2"), "eigenvalues.npy")), ev))
out = must("estimate --top, spec, zeros", "estimate", "spec", "--spec-string", "fc 1", "--input",
           "1x8x8", "--networks", 8, "--top", 5, "--eval-point", "zeros", "--threads", 1,
           "--out", tmp("est3/sub"))
e3 = np.load(os.path.join(tmp("est3/sub"), "nads.npy"))
check("--top 5 keeps 5 NADs", e3.shape == (5, 64), f"{e3.shape}")

# ---- figures: --format, --show, the title and the "not converged" stamp (pdftotext reads them) --
for fmt, magic in [("svg", b"<?xml"), ("pdf", b"%PDF-")]:
    Df = tmp(f"est_{fmt}")
    must(f"estimate --format {fmt}", "estimate", "logreg", "--input", "1x8x8", "--networks", 6,
         "--threads", 1, "--quiet", "--format", fmt, "--show", "0:3,10,63", "--out", Df)
    for n in ["nads", "spectrum", "eigenvalues"]:
        p = os.path.join(Df, f"{n}.{fmt}")
        with open(p, "rb") as f:
            check(f"{n}.{fmt} has its header", os.path.exists(p) and f.read(5) == magic)
    with open(os.path.join(Df, "summary.json")) as f:
        check(f"summary lists the .{fmt} figures", f"nads.{fmt}" in json.load(f)["files"])
    if fmt == "pdf" and shutil.which("pdftotext"):
        r = subprocess.run(["pdftotext", os.path.join(Df, "nads.pdf"), "-"], capture_output=True,
                           text=True)
        txt = r.stdout
        check("nads.pdf: title, labels, stamp", "logreg, input 1x8x8, N = 6, dipole" in txt and
              "#10" in txt and "#63" in txt and "#4" not in txt and "NOT CONVERGED" in txt, txt)
        r = subprocess.run(["pdftotext", os.path.join(Df, "spectrum.pdf"), "-"],
                           capture_output=True, text=True)
        check("spectrum.pdf: axis labels", "cycles per image" in r.stdout, r.stdout)
    elif fmt == "pdf":
        check("pdftotext is installed (apt-get install poppler-utils)", False)
fails("--format jpg", "estimate", "logreg", "--input", "1x8x8", "--networks", 4, "--format", "jpg",
      "--out", tmp("est_jpg"), code=2)
fails("--show out of range", "estimate", "logreg", "--input", "1x8x8", "--networks", 4, "--show",
      "64", "--out", tmp("est_show"), code=2)
fails("--show bad syntax", "estimate", "logreg", "--input", "1x8x8", "--networks", 4, "--show",
      "3:1", "--out", tmp("est_show"), code=2)
check("human summary printed", "top eigenvalues" in out and "summary.json" in out, out)
np.save(tmp("x0.npy"), np.ones((1, 8, 8), np.float32))
must("estimate --eval-point FILE", "estimate", "logreg", "--input", "1x8x8", "--networks", 4,
     "--eval-point", tmp("x0.npy"), "--quiet", "--out", tmp("est4"))
with open(os.path.join(tmp("est4"), "summary.json")) as f:
    check("eval_point file recorded", json.load(f)["eval_point"] == tmp("x0.npy"))

BAD = tmp("bad")
SUMMARY = os.path.join(BAD, "summary.json")
base = ["estimate", "--input", "1x8x8", "--networks", 4, "--quiet", "--out", BAD]
fails("estimate unknown arch", *base, "nosuchnet", files_absent=[SUMMARY])
fails("estimate --input 1x0x8", *base[:2], "1x0x8", *base[3:], "logreg", code=2, files_absent=[SUMMARY])
fails("estimate --networks 1", *base, "logreg", "--networks", 1, code=2, files_absent=[SUMMARY])
fails("estimate negative scale", "estimate", "logreg", "--scale", "-1", "--out", BAD, code=2,
      files_absent=[SUMMARY])
fails("estimate --scale nan", "estimate", "logreg", "--scale", "nan", "--out", BAD, code=2)
fails("estimate --threads -1", "estimate", "logreg", "--threads", "-1", "--out", BAD, code=2)
err = fails("estimate missing eval-point file", *base, "logreg", "--eval-point", tmp("none.npy"),
            code=1, files_absent=[SUMMARY])
check("eval-point message names the file", "none.npy" in err, err)
fails("estimate unknown option", *base, "logreg", "--frobnicate", code=2, files_absent=[SUMMARY])
fails("estimate --mode", *base, "logreg", "--mode", "tripole", code=2, files_absent=[SUMMARY])
fails("estimate --top > D", *base, "logreg", "--top", 65, code=2, files_absent=[SUMMARY])
fails("estimate without --out", "estimate", "logreg", code=2)
fails("estimate --checkpoint-every alone", *base, "logreg", "--checkpoint-every", 5, code=2)
fails("estimate --memory bad suffix", *base, "logreg", "--memory", "2X", code=2)
fails("estimate --memory negative", *base, "logreg", "--memory", "-1G", code=2)
# the accumulators of D = 12,288 (3.4 GiB) do not fit 1 GiB: refused at once, with the numbers
t0 = time.time()
err = fails("estimate refuses an oversized accumulator", "estimate", "logreg", "--input", "3x64x64",
            "--networks", 4, "--top", 10, "--memory", "1G", "--quiet", "--out", BAD, code=1,
            files_absent=[SUMMARY])
check("oversized accumulator message", "D = 12288" in err and "1.00 GiB" in err and
      "--memory" in err, err)
check("refused before working", time.time() - t0 < 30, f"{time.time() - t0:.1f} s")
with open(files["summary.json"]) as f:
    mem = json.load(f).get("memory", {})
check("summary memory plan", mem.get("budget", 0) > 0 and 0 < mem.get("planned", 0) <= mem["budget"]
      and mem.get("concurrent_networks") == 2, f"{mem}")
must("estimate --memory 64M", "estimate", "logreg", "--input", "1x8x8", "--networks", 4,
     "--memory", "64M", "--quiet", "--out", tmp("estmem"))
with open(os.path.join(tmp("estmem"), "summary.json")) as f:
    check("--memory 64M is the budget", json.load(f)["memory"]["budget"] == 64 << 20)

# ---- compare ------------------------------------------------------------------------------------
out = must("compare dir with itself", "compare", D, D, "--json")
cmp = json.loads(out)
check("self overlap = 1", all(abs(v - 1) < 1e-6 for v in cmp["overlap"].values()) and
      set(cmp["overlap"]) == {"1", "2", "5", "10", "20", "50"}, f"{cmp}")
check("self spectrum corr = 1", abs(cmp["spectrum_corr"] - 1) < 1e-9, f"{cmp}")
check("compare k", cmp.get("k") == 50)
# A reference-style pair holds singular values: compare must square them to match λ.
np.save(tmp("ref_NADs.npy"), nads)
np.save(tmp("ref_eigenvals.npy"), np.sqrt(np.clip(ev, 0, None) * 19))
out = must("compare official-style pair", "compare", tmp("ref_NADs.npy"), D, "--k", 3, "--json")
cmp = json.loads(out)
check("singular values are squared", abs(cmp["spectrum_corr"] - 1) < 1e-6, f"{cmp}")
check("--k 3 keys", set(cmp["overlap"]) == {"1", "2", "3"} and cmp["k"] == 3, f"{cmp}")
out = must("compare two runs", "compare", D, tmp("est4"))
check("compare text", "log-spectrum correlation" in out, out)
fails("compare --k too large", "compare", D, tmp("est3/sub/nads.npy"), "--k", 6, code=2)
np.save(tmp("d16_NADs.npy"), np.eye(16, dtype=np.float32))
np.save(tmp("d16_eigenvals.npy"), np.ones(16))
err = fails("compare different D", "compare", D, tmp("d16_NADs.npy"), code=1)
check("different D message", "64" in err and "16" in err, err)
fails("compare missing", "compare", D, tmp("nothing"))
fails("compare one argument", "compare", D, code=2)

# ---- checkpoint, resume, Ctrl-C -----------------------------------------------------------------
CK = tmp("run.ckpt")
must("estimate with checkpoint", "estimate", "logreg", "--input", "1x8x8", "--networks", 20,
     "--threads", 2, "--seed", 9, "--checkpoint", CK, "--checkpoint-every", 5, "--quiet",
     "--out", tmp("ck20"))
check("checkpoint written", os.path.exists(CK))
must("estimate --resume", "estimate", "logreg", "--input", "1x8x8", "--networks", 40, "--threads", 2,
     "--seed", 9, "--resume", CK, "--quiet", "--out", tmp("ck40"))
must("estimate 40 straight", "estimate", "logreg", "--input", "1x8x8", "--networks", 40,
     "--threads", 2, "--seed", 9, "--quiet", "--out", tmp("st40"))
with open(os.path.join(tmp("ck40"), "summary.json")) as f:
    s40 = json.load(f)
check("resume reaches the total", s40["networks_done"] == 40 and s40["resumed_networks"] == 20, f"{s40}")
a40 = np.load(os.path.join(tmp("ck40"), "eigenvalues.npy"))
b40 = np.load(os.path.join(tmp("st40"), "eigenvalues.npy"))
check("resumed = straight run", np.allclose(a40, b40, rtol=1e-10, atol=1e-15),
      f"{np.abs(a40 - b40).max()}")
# a checkpoint that already holds every network: its results again, no rate of 0 (a stall)
out = must("estimate --resume, nothing left", "estimate", "logreg", "--input", "1x8x8",
           "--networks", 20, "--threads", 2, "--seed", 9, "--resume", CK, "--out", tmp("ck20b"))
check("nothing left is said", "no networks left to run (all came from" in out and
      "networks/s" not in out, out)
a20 = np.load(os.path.join(tmp("ck20"), "eigenvalues.npy"))
b20 = np.load(os.path.join(tmp("ck20b"), "eigenvalues.npy"))
check("nothing left = the run's results", np.array_equal(a20, b20), f"{np.abs(a20 - b20).max()}")
# fewer networks than the checkpoint holds: refused (they cannot be taken out of the sums), not
# the results of all 20 under a summary that says 10
fails("resume with fewer networks than held", "estimate", "logreg", "--input", "1x8x8",
      "--networks", 10, "--seed", 9, "--resume", CK, "--quiet", "--out", tmp("ck10"),
      files_absent=[os.path.join(tmp("ck10"), "summary.json")],
      words=("holds 20 networks, more than the 10 asked for", "--networks 20"))
fails("resume with another seed", "estimate", "logreg", "--input", "1x8x8", "--networks", 40,
      "--seed", 10, "--resume", CK, "--quiet", "--out", tmp("ckbad"),
      files_absent=[os.path.join(tmp("ckbad"), "summary.json")])

CK2, OUT = tmp("int.ckpt"), tmp("interrupted")
proc = subprocess.Popen([NAD, "estimate", "lenet", "--networks", "1000000", "--threads", "2",
                         "--checkpoint", CK2, "--out", OUT], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
time.sleep(1.5)
proc.send_signal(signal.SIGINT)
try:
    out, err = proc.communicate(timeout=60)
    check("SIGINT exits 130", proc.returncode == 130, f"rc={proc.returncode} {err}")
    check("SIGINT says cancelled", "cancelled" in err, err)
    check("SIGINT writes no results", not os.path.exists(os.path.join(OUT, "summary.json")))
    check("SIGINT saves the checkpoint", os.path.exists(CK2))
    m = re.search(r"holds (\d+) networks", err)
    check("SIGINT reports the networks saved", m is not None, err)
    if m:  # the interrupted run continues from its checkpoint
        done = int(m.group(1))
        check("SIGINT says how to write the results now",
              f"--resume {CK2} --networks {done})" in err, err)
        must("results now, as the message says", "estimate", "--resume", CK2, "--networks", done,
             "--quiet", "--out", tmp("now"))
        with open(os.path.join(tmp("now"), "summary.json")) as f:
            sn = json.load(f)
        check("results now: the checkpoint's networks", sn["networks_done"] == done and
              sn["resumed_networks"] == done and sn["arch"] == "lenet", f"{sn}")
        must("resume after SIGINT", "estimate", "lenet", "--networks", done + 2, "--threads", 2,
             "--resume", CK2, "--quiet", "--out", OUT)
        with open(os.path.join(OUT, "summary.json")) as f:
            si = json.load(f)
        check("resume after SIGINT counts", si["resumed_networks"] == done and
              si["networks_done"] == done + 2, f"{si}")
except subprocess.TimeoutExpired:
    proc.kill()
    check("SIGINT stops the run", False, "still running after 60 s")

clitest.finish()
