#!/usr/bin/python3
"""libnad's .npy reader/writer against numpy (run by meson: npy_roundtrip.py NPY_HELPER).

C writes -> numpy reads: dtype, shape, values, and byte-identical to np.save.
numpy writes (format 1.0, 2.0, 3.0; f4 and f8; 0-d to 8-d; NaN, inf, -0, subnormals)
-> C reads (as float32 and as float64) -> C writes -> numpy compares bit for bit.
Files numpy writes that libnad must refuse (Fortran order, big-endian, int) -> NAD_ERR_FORMAT.
"""
import io
import os
import subprocess
import sys
import tempfile

import numpy as np

NAD_ERR_FORMAT = 11
helper = sys.argv[1]
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def run(*args):
    return subprocess.run([helper, *args], capture_output=True, text=True)


def same_bits(a, b):
    """Equal dtype, shape and bit patterns (so NaN == NaN and -0 != +0)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    view = np.uint32 if a.dtype == np.float32 else np.uint64
    return np.array_equal(np.ascontiguousarray(a).view(view), np.ascontiguousarray(b).view(view))


# Same list as npy_helper.c
GEN_SHAPES = [(), (0,), (7,), (3, 5), (2, 3, 4), (2, 0, 3), (1, 2, 1, 2, 1, 2, 1, 2)]

with tempfile.TemporaryDirectory(prefix="nad-npy-py-") as d:
    # ---- C writes, numpy reads ----
    r = run("gen", d)
    check(r.returncode == 0, "npy_helper gen: " + r.stderr)
    for k, shape in enumerate(GEN_SHAPES):
        n = int(np.prod(shape))
        want64 = (((np.arange(n, dtype=np.int64) * 37 + 11 * k) % 101) / 7.0 - 5.0).reshape(shape)
        for tag, dtype in (("f4", np.float32), ("f8", np.float64)):
            path = os.path.join(d, "c_%s_%d.npy" % (tag, k))
            a = np.load(path)
            want = want64.astype(dtype)
            check(a.dtype == dtype, "%s dtype %s" % (path, a.dtype))
            check(a.shape == shape, "%s shape %s != %s" % (path, a.shape, shape))
            check(same_bits(a, want), "%s values" % path)
            buf = io.BytesIO()
            np.save(buf, want)
            with open(path, "rb") as f:
                check(f.read() == buf.getvalue(), "%s is not byte-identical to np.save" % path)

    # ---- numpy writes, C reads ----
    rng = np.random.default_rng(7)
    shapes = [(), (0,), (1,), (7,), (3, 5), (2, 3, 4), (4, 0), (1, 1, 1, 1, 1, 1, 1, 2),
              (2, 3, 2, 3, 2, 1, 2, 2), (1000,)]
    count = 0
    for version in ((1, 0), (2, 0), (3, 0)):
        for dtype in (np.float32, np.float64):
            for shape in shapes:
                with np.errstate(over="ignore"):
                    a = np.asarray(rng.standard_normal(shape)
                                   * 10.0 ** rng.integers(-40, 40, shape)).astype(dtype)
                if a.size >= 7:
                    flat = a.reshape(-1)
                    flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 1e-45, 3e38]
                src = os.path.join(d, "np_%d%d_%s_%d.npy" % (version[0], version[1],
                                                            np.dtype(dtype).str[1:], count))
                count += 1
                with open(src, "wb") as f:
                    np.lib.format.write_array(f, a, version=version)
                for mode, out_dtype in (("copy32", np.float32), ("copy64", np.float64)):
                    out = src + "." + mode
                    r = run(mode, src, out)
                    check(r.returncode == 0, "%s %s: %s" % (mode, src, r.stderr.strip()))
                    if r.returncode == 0:
                        with np.errstate(over="ignore"):
                            want = a.astype(out_dtype)
                        b = np.load(out)
                        check(same_bits(b, want), "%s %s (shape %s): values/shape/dtype differ"
                              % (mode, src, shape))
    # np.save's default path and a Fortran array with one non-unit axis (same bytes as C)
    for a in (np.arange(12, dtype=np.float32).reshape(3, 4),
              np.asfortranarray(np.arange(5, dtype=np.float64).reshape(1, 5))):
        src = os.path.join(d, "save_%d.npy" % count)
        count += 1
        np.save(src, a)
        r = run("copy64", src, src + ".out")
        check(r.returncode == 0 and same_bits(np.load(src + ".out"), a.astype(np.float64)),
              "np.save %s" % src)

    # ---- files numpy writes that libnad refuses ----
    refused = {
        "fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "bigendian": np.arange(6, dtype=">f4"),
        "int32": np.arange(6, dtype=np.int32),
        "float16": np.arange(6, dtype=np.float16),
        "structured": np.zeros(3, dtype=[("a", "<f4"), ("b", "<f4")]),
    }
    for name, a in refused.items():
        src = os.path.join(d, "refused_%s.npy" % name)
        np.save(src, a)
        r = run("status", src)
        st = int(r.stdout.split()[0]) if r.stdout else -1
        check(st == NAD_ERR_FORMAT and src in r.stdout,
              "%s: expected NAD_ERR_FORMAT naming the file, got %r" % (name, r.stdout))
    # truncated copy of a valid numpy file
    src = os.path.join(d, "truncated.npy")
    buf = io.BytesIO()
    np.save(buf, np.ones((4, 4), np.float32))
    with open(src, "wb") as f:
        f.write(buf.getvalue()[:-3])
    r = run("status", src)
    check(r.stdout.startswith("%d " % NAD_ERR_FORMAT) and "truncated" in r.stdout,
          "truncated: %r" % r.stdout)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
