#!/usr/bin/python3
"""Issue 12 through the Python binding: the sketching option, accumulate() + finalize(),
checkpoints as bytes (to_bytes / load_bytes: equal to the file, merged like load), the sketch
bound, and the bad input the binding passes on (L > D, K > L)."""
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402
from nadtest import status_of  # noqa: E402

import libnad  # noqa: E402
from libnad import Option, Status  # noqa: E402

SPEC = "conv 4 k3; relu; maxpool 2; conv 6 k3; relu; fc 1"
SHAPE = (1, 16, 16)


def arch():
    return libnad.Arch.from_spec(SPEC, SHAPE)


def est(lo, hi, **kw):
    return libnad.Estimator(arch(), seed=2, num_threads=2, first_network=lo,
                            num_networks=hi - lo, **kw)


class Scale(unittest.TestCase):
    def test_parts_as_bytes(self):
        full = est(0, 80).run()
        a, b = est(0, 33).accumulate(), est(33, 80).accumulate()
        with self.assertRaises(libnad.NadError):
            a.eigenvalues()  # accumulate gives no results
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'a.ck')
            a.save(path)
            with open(path, 'rb') as f:
                self.assertEqual(f.read(), a.to_bytes())
        m = est(0, 80)
        m.load_bytes(b.to_bytes())
        m.load_bytes(a.to_bytes())
        self.assertEqual(status_of(m.load_bytes, a.to_bytes()), Status.ERR_FORMAT)  # overlap
        m.finalize()
        ev, ref = m.eigenvalues(), full.eigenvalues()
        keep = ref >= 1e-9 * ref[0]
        self.assertLessEqual(np.max(np.abs(ev[keep] - ref[keep]) / ref[keep]), 1e-12)
        self.assertLessEqual(nadtest.rel_err(m.spectrum(), full.spectrum()), 1e-12)
        self.assertEqual(m.networks_done, 80)
        self.assertEqual(full.sketch_error, 0.0)

    def test_run_record(self):
        """Issue 20: the run record is stored in checkpoints and read back without an
        estimator, from a file and from bytes; none set: ""."""
        a = est(0, 10)
        a.set_run_record("nad-run 1\nseed=2\n")
        a.accumulate()
        self.assertEqual(libnad.checkpoint_run_record(a.to_bytes()), (4, "nad-run 1\nseed=2\n"))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'a.ck')
            a.save(path)
            self.assertEqual(libnad.checkpoint_run_record(path)[1], "nad-run 1\nseed=2\n")
            a.set_run_record(None)
            a.save(path)
            self.assertEqual(libnad.checkpoint_run_record(path), (4, ""))
            with self.assertRaises(libnad.NadError):
                libnad.checkpoint_run_record(os.path.join(d, 'missing.ck'))

    def test_sketch(self):
        ex = est(0, 80, top_k=6).run()
        sk = est(0, 80, sketch=10, top_k=6).run()
        self.assertEqual(sk.sketch, 10)
        self.assertEqual(sk.dims, (256, 6))
        eps = sk.sketch_error
        e, s = ex.eigenvalues(), sk.eigenvalues()
        self.assertGreater(eps, 0)
        self.assertTrue(np.all(s <= e * (1 + 1e-9)) and np.all(s >= e - eps * (1 + 1e-9)))
        self.assertLessEqual(nadtest.rel_err(sk.spectrum(), ex.spectrum()), 1e-10)
        self.assertLessEqual(nadtest.rel_err(sk.mean(), ex.mean()), 1e-12)
        # round trip of a sketch through bytes: the same results
        again = est(0, 80, sketch=10, top_k=6)
        again.load_bytes(sk.to_bytes())
        again.finalize()
        self.assertTrue(np.array_equal(again.nads(), sk.nads()))

    def test_bad_input(self):
        e = est(0, 10)
        self.assertEqual(status_of(e.set, Option.SKETCH, 257), Status.ERR_INVALID_ARG)
        e.sketch = 8
        with self.assertRaises(libnad.NadError) as cm:
            e.set('top_k', 9)
        self.assertEqual(cm.exception.status, Status.ERR_INVALID_ARG)
        self.assertIn('sketch size L = 8', cm.exception.message)
        self.assertEqual(status_of(e.to_bytes), Status.ERR_MISUSE)  # nothing accumulated


if __name__ == '__main__':
    nadtest.main()
