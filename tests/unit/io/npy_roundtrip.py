#!/usr/bin/python3
"""libnad's .npy reader/writer against numpy (run by meson: npy_roundtrip.py NPY_HELPER).

C writes -> numpy reads: dtype, shape, values, and byte-identical to np.save.
numpy writes (format 1.0, 2.0, 3.0; f4 and f8; 0-d to 8-d; NaN, inf, -0, subnormals)
-> C reads (as float32 and as float64) -> C writes -> numpy compares bit for bit.
Files numpy writes that libnad must refuse (Fortran order, big-endian, int) -> NAD_ERR_FORMAT.
"""
import io
import os
import sys
import tempfile

import numpy as np

from nadtest import check, finish, run  # noqa: E402 (PYTHONPATH: tests/python)

NAD_ERR_FORMAT = 11
helper = sys.argv[1]


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
    r = run(helper, "gen", d)
    check("npy_helper gen: " + r.err, r.rc == 0)
    for k, shape in enumerate(GEN_SHAPES):
        n = int(np.prod(shape))
        want64 = (((np.arange(n, dtype=np.int64) * 37 + 11 * k) % 101) / 7.0 - 5.0).reshape(shape)
        for tag, dtype in (("f4", np.float32), ("f8", np.float64)):
            path = os.path.join(d, "c_%s_%d.npy" % (tag, k))
            a = np.load(path)
            want = want64.astype(dtype)
            check("%s dtype %s" % (path, a.dtype), a.dtype == dtype)
            check("%s shape %s != %s" % (path, a.shape, shape), a.shape == shape)
            check("%s values" % path, same_bits(a, want))
            buf = io.BytesIO()
            np.save(buf, want)
            with open(path, "rb") as f:
                check("%s is not byte-identical to np.save" % path, f.read() == buf.getvalue())

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
                    r = run(helper, mode, src, out)
                    check("%s %s: %s" % (mode, src, r.err.strip()), r.rc == 0)
                    if r.rc == 0:
                        with np.errstate(over="ignore"):
                            want = a.astype(out_dtype)
                        b = np.load(out)
                        check("%s %s (shape %s): values/shape/dtype differ"
                              % (mode, src, shape), same_bits(b, want))
    # np.save's default path and a Fortran array with one non-unit axis (same bytes as C)
    for a in (np.arange(12, dtype=np.float32).reshape(3, 4),
              np.asfortranarray(np.arange(5, dtype=np.float64).reshape(1, 5))):
        src = os.path.join(d, "save_%d.npy" % count)
        count += 1
        np.save(src, a)
        r = run(helper, "copy64", src, src + ".out")
        check("np.save %s" % src,
              r.rc == 0 and same_bits(np.load(src + ".out"), a.astype(np.float64)))

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
        r = run(helper, "status", src)
        st = int(r.out.split()[0]) if r.out else -1
        check("%s: expected NAD_ERR_FORMAT naming the file, got %r" % (name, r.out),
              st == NAD_ERR_FORMAT and src in r.out)
    # truncated copy of a valid numpy file
    src = os.path.join(d, "truncated.npy")
    buf = io.BytesIO()
    np.save(buf, np.ones((4, 4), np.float32))
    with open(src, "wb") as f:
        f.write(buf.getvalue()[:-3])
    r = run(helper, "status", src)
    check("truncated: %r" % r.out,
          r.out.startswith("%d " % NAD_ERR_FORMAT) and "truncated" in r.out)

finish()
