#!/usr/bin/python3
"""The forward-only executor (the dipole's path: Winograd and tiny-map convolutions, see
lib/kernels/conv_algo.h) against PyTorch float64 on identical weights, for every built-in.

Usage: test_torch_forward_only.py FORWARD_ONLY_APPLY_EXE

The helper (tests/unit/graph/forward_only_apply.c) runs the same batch through a forward-only
executor and through a full executor (im2col, the path test_torch_compare.py checks). The
batch (33: odd, and at least the dispatch thresholds, so that every fast algorithm engages on
every layer it applies to; 9 for densenet121, whose smallest 3x3 maps are 4x4 (F(2x2) from 8
images on) and whose full executor keeps ~0.1 GB of activations per image). Asserted: max |y - y64| / max |y64| <= TOL for both paths, TOL the
project's whole-network tolerance of test_torch_compare.py. The summary prints both errors per
architecture: the fast path's stays within a small factor of im2col's (measured, DESIGN.md).
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover
    print('skipped: %s' % e)
    sys.exit(nadtest.SKIP)

import test_torch_compare as tc  # noqa: E402  (models, weight randomisation, CASES)

EXE = sys.argv.pop(1) if len(sys.argv) > 1 else None
TOL = tc.TOL
BATCH = 33
MEASURED = []


def run_helper(name, shape, k, flat, x):
    args = [EXE, name] + [str(v) for v in shape] + [str(k), str(x.shape[0])]
    payload = flat.astype(np.float32).tobytes() + np.ascontiguousarray(x, np.float32).tobytes()
    out = subprocess.run(args, input=payload, capture_output=True, check=True).stdout
    y = np.frombuffer(out, dtype=np.float32)
    n = x.shape[0] * k
    if y.size != 2 * n:
        raise AssertionError('helper returned %d floats, expected %d' % (y.size, 2 * n))
    return y[:n].reshape(x.shape[0], k), y[n:].reshape(x.shape[0], k)


class ForwardOnly(unittest.TestCase):
    def test_all_builtins(self):
        self.assertIsNotNone(EXE, 'usage: test_torch_forward_only.py FORWARD_ONLY_APPLY_EXE')
        for i, (name, shape, k, _) in enumerate(tc.CASES):
            with self.subTest(case=tc.case_name(name, shape, k)):
                model = tc.make_model(name, shape, k, 2000 + i)
                flat = tc.flatten(model)
                batch = 9 if name == 'densenet121' else BATCH
                x = np.random.default_rng(200 + i).standard_normal(
                    (batch,) + shape).astype(np.float32)
                with torch.no_grad():
                    y64 = model.double()(torch.from_numpy(x).double()).numpy()
                fast, full = run_helper(name, shape, k, flat, x)
                e_fast, e_full = nadtest.rel_err(fast, y64), nadtest.rel_err(full, y64)
                MEASURED.append((tc.case_name(name, shape, k), e_fast, e_full))
                self.assertLessEqual(e_full, TOL)
                self.assertLessEqual(e_fast, TOL)


def summary():
    print('\nmax |y - y64| / max |y64|: forward-only executor / full executor')
    for case, e_fast, e_full in MEASURED:
        print('  %-32s %.1e / %.1e' % (case, e_fast, e_full))


if __name__ == '__main__':
    nadtest.main(report=summary)
