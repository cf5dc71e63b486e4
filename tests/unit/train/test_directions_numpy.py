#!/usr/bin/python3
"""nad_direction_fourier against numpy: for fx >= 0 the reference's construction
(irfft2 of a half spectrum whose coefficient [fy mod h, fx] has imaginary part 1, normalised)
exactly, the cosine (real part 1) likewise, and for fx < 0 the conjugate coefficient
[-fy mod h, -fx] with imaginary part -1. Even and odd sizes, negative, DC and Nyquist
frequencies, several channels.

usage: test_directions_numpy.py PATH/TO/train_helper
"""
import os
import sys
import tempfile

import numpy as np

from nadtest import check, finish, run  # noqa: E402 (PYTHONPATH: tests/python)

HELPER = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="nad-dir-")


def numpy_direction(c, h, w, fy, fx, part):
    vanishes = (2 * fy) % h == 0 and (2 * fx) % w == 0
    cosine = part == "cos" or (part == "auto" and vanishes)
    X = np.zeros((h, w // 2 + 1), complex)
    if fx >= 0:
        X[fy % h, fx] = 1 if cosine else 1j
    else:
        X[(-fy) % h, -fx] = 1 if cosine else -1j
    v = np.fft.irfft2(X, s=(h, w))
    v /= np.linalg.norm(v)
    return np.repeat(v[None], c, axis=0) / np.sqrt(c)


def ours(c, h, w, fy, fx, part):
    out = os.path.join(TMP, "v.npy")
    p = run(HELPER, "direction", c, h, w, fy, fx, part, out)
    if p.rc != 0:
        return None, p.err
    return np.load(out), ""


cases = [(1, 32, 32, fy, fx, "auto") for fy, fx in
         [(3, 4), (2, 0), (0, 2), (2, 2), (8, 0), (0, 8), (16, 16), (-16, -16), (0, 0), (16, 0),
          (0, 16), (-2, 6), (5, -7), (-14, -2), (-3, 16), (16, -5), (0, -16), (-16, 0)]]
cases += [(1, 32, 32, 2, 3, "cos"), (1, 32, 32, -4, -9, "cos"), (1, 32, 32, 7, 0, "sin"),
          (1, 32, 32, 16, 16, "cos")]
cases += [(1, 7, 5, fy, fx, part) for fy in range(-3, 4) for fx in range(-2, 3)
          for part in ("auto", "cos")]
cases += [(3, 8, 6, 1, -2, "auto"), (2, 6, 8, 3, 4, "auto"), (1, 1, 8, 0, 3, "auto"),
          (1, 9, 1, -4, 0, "sin")]
for c, h, w, fy, fx, part in cases:
    name = f"{c}x{h}x{w} ({fy},{fx}) {part}"
    got, err = ours(c, h, w, fy, fx, part)
    if got is None:
        check(name, False, err)
        continue
    ref = numpy_direction(c, h, w, fy, fx, part)
    check(name, got.shape == ref.shape and np.max(np.abs(got - ref)) < 2e-6,
          f"max diff {np.max(np.abs(got - ref)) if got.shape == ref.shape else got.shape}")
finish()
