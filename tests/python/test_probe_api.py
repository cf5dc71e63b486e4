#!/usr/bin/python3
"""NAD probes of trained networks and datasets (nad_band_apply, nad_band_evaluate, nad_align)
through the Python binding, against a numpy reimplementation on small data, closed forms of the
L2 size and PSNR, the alignment's calibration (random orthonormal directions score (D + 1)/(2D);
class means that differ along NAD 0 only score 1 at k = 1) and the errors of bad input.
The fixed-network estimator is checked against numpy's dense dipole responses and eigensolve."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print('skipped: %s' % e)
    sys.exit(nadtest.SKIP)

import libnad  # noqa: E402
from libnad import NadError, Status  # noqa: E402

SHAPE = (1, 4, 4)
D = 16
K = 3
MLP = 'fc 6; relu; fc 3'


def orthonormal(rng, d, count=None):
    """count random orthonormal rows of length d (Haar: QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    return np.ascontiguousarray(q.T[:count or d]).astype(np.float32)


def status_of(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except NadError as e:
        assert e.message, 'no message for %s' % e
        return e.status, e.message
    return Status.OK, ''


def mlp_forward(params, x):
    """numpy forward of MLP = fc 6; relu; fc 3 on flattened x (state_dict order)."""
    p = params.astype(np.float64)
    w1, p = p[:6 * D].reshape(6, D), p[6 * D:]
    b1, p = p[:6], p[6:]
    w2, p = p[:18].reshape(3, 6), p[18:]
    b2 = p[:3]
    h = np.maximum(x.reshape(len(x), D).astype(np.float64) @ w1.T + b1, 0)
    return h @ w2.T + b2


def band_numpy(v, x, alpha):
    x = x.reshape(len(x), -1).astype(np.float64)
    v = v.astype(np.float64)
    return x - alpha * (x @ v.T) @ v


class Band(unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(1)
        self.v = orthonormal(self.rng, D)
        self.x = self.rng.standard_normal((10,) + SHAPE).astype(np.float32)

    def test_apply_against_numpy(self):
        for op, alpha in (('flip', 2.0), ('remove', 1.0)):
            for first, last in ((0, 1), (3, 9), (0, D)):
                got = libnad.band_apply(self.v, first, last, self.x, op=op)
                ref = band_numpy(self.v[first:last], self.x, alpha)
                with self.subTest(op=op, band=(first, last)):
                    self.assertEqual(got.shape, self.x.shape)
                    # relative to the input's scale: removing the whole basis leaves ~0
                    err = np.abs(got.reshape(10, D) - ref).max() / np.abs(self.x).max()
                    self.assertLess(err, 1e-5)
        # flipping twice is the identity, removing the full basis leaves zero
        twice = libnad.band_apply(self.v, 2, 7, libnad.band_apply(self.v, 2, 7, self.x))
        self.assertLess(np.abs(twice - self.x).max(), 1e-5)
        zero = libnad.band_apply(self.v, 0, D, self.x, op='remove')
        self.assertLess(np.abs(zero).max(), 1e-5)

    def test_bad_input(self):
        st, msg = status_of(libnad.band_apply, self.v, 5, D + 1, self.x)
        self.assertEqual(st, Status.ERR_INVALID_ARG)
        self.assertIn('past the last NAD', msg)
        st, _ = status_of(libnad.band_apply, self.v, 4, 4, self.x)
        self.assertEqual(st, Status.ERR_INVALID_ARG)
        not_orth = self.v.copy()
        not_orth[3] *= 1.1
        st, msg = status_of(libnad.band_apply, not_orth, 0, 5, self.x)
        self.assertEqual(st, Status.ERR_INVALID_ARG)
        self.assertIn('orthonormal', msg)
        out = np.zeros_like(self.x)
        p = np.ctypeslib.as_ctypes
        st, msg = status_of(libnad._lib.nad_band_apply, p(self.v.reshape(-1)), D, D, 0, 5, 7,
                            p(self.x.reshape(-1)), 10, p(out.reshape(-1)), out.size)
        self.assertEqual(st, Status.ERR_INVALID_ARG)
        self.assertIn('op must be', msg)


class Evaluate(unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(2)
        self.arch = libnad.Arch.from_spec(MLP, SHAPE)
        self.params = (self.rng.standard_normal(self.arch.num_params) * 0.7).astype(np.float32)
        self.net = libnad.Net(self.arch, params=self.params)
        self.x = self.rng.uniform(0, 1, (200,) + SHAPE).astype(np.float32)
        self.y = self.rng.integers(0, K, 200).astype(np.int32)
        # labels that the network gets right for about half of the samples
        pred = mlp_forward(self.params, self.x).argmax(1)
        self.y[::2] = pred[::2]
        self.data = libnad.Dataset(self.x, self.y)
        self.v = orthonormal(self.rng, D)

    def test_against_numpy(self):
        for op, alpha in (('flip', 2.0), ('remove', 1.0)):
            for first, last in ((0, 2), (5, 12)):
                r = libnad.band_evaluate(self.net, self.data, self.v, first, last, op=op)
                xm = band_numpy(self.v[first:last], self.x, alpha)
                before = mlp_forward(self.params, self.x).argmax(1)
                after = mlp_forward(self.params, xm).argmax(1)
                delta = xm - self.x.reshape(200, D)
                mse = (delta ** 2).mean()
                peak = float(self.x.max() - self.x.min())
                with self.subTest(op=op, band=(first, last)):
                    self.assertAlmostEqual(r.accuracy_before, 100 * (before == self.y).mean(),
                                           places=9)
                    self.assertAlmostEqual(r.accuracy_after, 100 * (after == self.y).mean(),
                                           places=9)
                    self.assertAlmostEqual(r.changed_fraction, (before != after).mean(), places=9)
                    self.assertGreater(r.changed_fraction, 0)
                    self.assertLess(abs(r.l2 - np.linalg.norm(delta, axis=1).mean()), 1e-5)
                    self.assertLess(abs(r.psnr - 10 * np.log10(peak ** 2 / mse)), 1e-4)

    def test_closed_forms(self):
        # x_i = a_i·v_3, v_3 inside the band: flip gives δ = −2a_i·v_3, so l2 = mean 2|a_i|,
        # MSE = Σ 4a_i² / (n·D), peak = max − min over all values of x.
        a = np.array([0.5, -1.5, 2.0, 0.25], dtype=np.float32)
        x = (a[:, None] * self.v[3][None, :]).reshape((4,) + SHAPE)
        data = libnad.Dataset(x, np.zeros(4, np.int32))
        r = libnad.band_evaluate(self.net, data, self.v, 2, 5, op='flip')
        peak = float(x.max() - x.min())
        self.assertAlmostEqual(r.l2, 2 * np.abs(a).mean(), places=5)
        self.assertAlmostEqual(r.psnr, 10 * np.log10(peak ** 2 / (4 * (a ** 2).sum() / (4 * D))),
                               places=4)
        r = libnad.band_evaluate(self.net, data, self.v, 2, 5, op='remove')
        self.assertAlmostEqual(r.l2, np.abs(a).mean(), places=5)
        # outside the band nothing changes: PSNR +inf, predictions unchanged
        r = libnad.band_evaluate(self.net, data, self.v, 4, 9, op='flip')
        self.assertLess(r.l2, 1e-6)
        self.assertEqual(r.changed_fraction, 0.0)
        self.assertEqual(r.accuracy_before, r.accuracy_after)

    def test_bad_input(self):
        other = libnad.Dataset(np.zeros((3, 1, 5, 5), np.float32), np.zeros(3, np.int32))
        st, msg = status_of(libnad.band_evaluate, self.net, other, orthonormal(self.rng, 25), 0, 2)
        self.assertEqual(st, Status.ERR_SHAPE)
        self.assertIn('architecture takes', msg)
        st, msg = status_of(libnad.band_evaluate, self.net, self.data, orthonormal(self.rng, 25),
                            0, 2)
        self.assertEqual(st, Status.ERR_SHAPE)
        self.assertIn('dimension 25', msg)
        st, msg = status_of(libnad.band_evaluate, self.net, self.data, self.v, 10, 17)
        self.assertEqual(st, Status.ERR_INVALID_ARG)
        self.assertIn('past the last NAD', msg)
        many = libnad.Dataset(self.x[:5], np.array([0, 1, 2, 3, 4], np.int32))
        st, msg = status_of(libnad.band_evaluate, self.net, many, self.v, 0, 2)
        self.assertEqual(st, Status.ERR_INVALID_ARG)
        self.assertIn('outputs', msg)


def align_numpy(x, y, v, kind, ridge=0.01):
    x = x.reshape(len(x), -1).astype(np.float64)
    n, d = x.shape
    mu = x.mean(0)
    rows, means = [], {}
    for c in range(y.max() + 1):
        m = y == c
        if m.any():
            means[c] = x[m].mean(0)
            rows.append(np.sqrt(m.sum() / n) * (means[c] - mu))
    r = np.array(rows)
    if kind == 'discriminant':
        xc = x - np.array([means[c] for c in y])
        sw = xc.T @ xc / n
        sw += ridge * np.trace(sw) / d * np.eye(d)
        r = np.linalg.solve(sw, r.T).T
    e = ((r @ v.astype(np.float64).T) ** 2).sum(0)
    curve = np.cumsum(e) / (r ** 2).sum()
    cnt = len(v)
    rest = np.linspace(curve[-1], 1.0, d - cnt + 1)[1:] if cnt < d else np.array([])
    return curve, (curve.sum() + rest.sum()) / d


class Align(unittest.TestCase):
    def setUp(self):
        self.rng = np.random.default_rng(3)
        n = 120
        self.y = (np.arange(n) % 4).astype(np.int32)
        centres = self.rng.standard_normal((4, D))
        self.x = (centres[self.y] + self.rng.standard_normal((n, D)) * 1.5).astype(np.float32)
        self.x = self.x.reshape((n,) + SHAPE)
        self.data = libnad.Dataset(self.x, self.y)

    def test_against_numpy(self):
        v = orthonormal(self.rng, D)
        for kind in ('between', 'discriminant'):
            for count in (D, 9):
                curve, score = libnad.align(self.data, v[:count], kind=kind, ridge=0.05)
                ref_curve, ref_score = align_numpy(self.x, self.y, v[:count], kind, 0.05)
                with self.subTest(kind=kind, count=count):
                    self.assertEqual(curve.shape, (count,))
                    self.assertLess(np.abs(curve - ref_curve).max(), 1e-6)
                    self.assertAlmostEqual(score, ref_score, places=6)
                    self.assertTrue(np.all(np.diff(curve) >= -1e-12))
                    if count == D:
                        self.assertAlmostEqual(curve[-1], 1.0, places=5)

    def test_random_directions_score_expected(self):
        # E[score] = (D + 1)/(2D) for Haar-random bases; the mean of 300 bases (D = 16) has a
        # standard error of about 0.005.
        scores = [libnad.align(self.data, orthonormal(self.rng, D))[1] for _ in range(300)]
        self.assertLess(abs(np.mean(scores) - (D + 1) / (2 * D)), 0.02, np.mean(scores))
        curves = np.array([libnad.align(self.data, orthonormal(self.rng, D))[0]
                           for _ in range(300)])
        self.assertLess(np.abs(curves.mean(0) - np.arange(1, D + 1) / D).max(), 0.03)

    def test_means_along_nad0(self):
        # class means differ along v_0 only (noise orthogonal to v_0, centred per class):
        # a(1) = 1 and score = 1, for both kinds; a basis with v_0 last scores 1/D.
        v = orthonormal(self.rng, D)
        n = 200
        y = (np.arange(n) % 2).astype(np.int32)
        noise = self.rng.standard_normal((n, D)) @ (np.eye(D) - np.outer(v[0], v[0]))
        for c in (0, 1):
            noise[y == c] -= noise[y == c].mean(0)
        x = ((2.0 * y - 1)[:, None] * 3.0 * v[0] + noise).astype(np.float32)
        data = libnad.Dataset(x.reshape((n,) + SHAPE), y)
        for kind in ('between', 'discriminant'):
            curve, score = libnad.align(data, v, kind=kind)
            with self.subTest(kind=kind):
                self.assertGreater(curve[0], 1 - 1e-4)
                self.assertGreater(score, 1 - 1e-4)
        curve, score = libnad.align(data, v[::-1].copy())
        self.assertLess(curve[-2], 1e-4)
        self.assertAlmostEqual(score, 1.0 / D, places=4)

    def test_bad_input(self):
        v = orthonormal(self.rng, 25)
        st, msg = status_of(libnad.align, self.data, v)
        self.assertEqual(st, Status.ERR_SHAPE)
        self.assertIn('dimension 25', msg)
        one = libnad.Dataset(self.x, np.zeros(len(self.x), np.int32))
        st, msg = status_of(libnad.align, one, orthonormal(self.rng, D))
        self.assertEqual(st, Status.ERR_INVALID_ARG)
        self.assertIn('between-class', msg)
        st, msg = status_of(libnad.align, self.data, orthonormal(self.rng, D), 'discriminant', 0)
        self.assertEqual(st, Status.ERR_INVALID_ARG)
        st, msg = status_of(libnad.align, self.data, orthonormal(self.rng, D) * 2)
        self.assertEqual(st, Status.ERR_INVALID_ARG)
        self.assertIn('orthonormal', msg)


class TrainedEstimator(unittest.TestCase):
    """Fixed network at data points against numpy: dense dipole responses of the numpy MLP,
    covariance, eigenpairs."""

    def test_against_numpy(self):
        rng = np.random.default_rng(4)
        arch = libnad.Arch.from_spec(MLP, SHAPE)
        params = (rng.standard_normal(arch.num_params) * 0.7).astype(np.float32)
        x = rng.standard_normal((30,) + SHAPE).astype(np.float32)
        y = (np.arange(30) % K).astype(np.int32)
        data = libnad.Dataset(x, y)
        s = 100.0
        for output in (1, libnad.OUTPUT_LABEL):
            est = libnad.Estimator(arch, num_networks=25, first_network=3, output=output, step=s)
            est.set_network(params)
            est.set_eval_data(data)
            est.run()
            g = []
            for j in range(3, 28):
                xp = np.repeat(x[j].reshape(1, D), D, 0) + s * np.eye(D, dtype=np.float32)
                xn = np.repeat(x[j].reshape(1, D), D, 0) - s * np.eye(D, dtype=np.float32)
                o = y[j] if output == libnad.OUTPUT_LABEL else output
                g.append((mlp_forward(params, xp.astype(np.float32))[:, o]
                          - mlp_forward(params, xn.astype(np.float32))[:, o]) / (2 * s))
            g = np.array(g)
            lam, vec = np.linalg.eigh(np.cov(g.T))
            lam, vec = lam[::-1], vec[:, ::-1]
            with self.subTest(output=int(output)):
                self.assertLess(nadtest.rel_err(est.mean(), g.mean(0)), 1e-5)
                self.assertLess(nadtest.rel_err(est.eigenvalues(), lam), 1e-5)
                nads = est.nads()
                for i in range(3):  # well separated leading eigenvalues: vectors up to sign
                    self.assertGreater(abs(float(nads[i] @ vec[:, i])), 1 - 1e-5)
                self.assertEqual(est.network, libnad.Network.FIXED)
                self.assertEqual(est.eval_point, libnad.EvalPoint.DATA)


if __name__ == '__main__':
    nadtest.main()
