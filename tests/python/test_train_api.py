#!/usr/bin/python3
"""Directions, datasets D(v) and the trainer through the Python binding.

Fourier directions are checked against numpy's sines/cosines, D(v) against its definition
(x·v = ±ε/2 exactly, noise orthogonal to v with variance σ²), and nad_trainer_fit against a
PyTorch replica of the schedule documented in nad.h (SGD with momentum, weight decay, gradient
clipping and the per-batch linear learning-rate decay), without shuffling.
"""
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

try:
    import numpy as np
except ImportError:
    print('skipped: numpy missing')
    sys.exit(nadtest.SKIP)

import libnad  # noqa: E402
from nadtest import status_of  # noqa: E402
from libnad import FourierPart, NadError, Option, Status  # noqa: E402

try:
    import torch
    import torch.nn as nn
except ImportError:
    torch = None


class Directions(unittest.TestCase):
    def test_fourier(self):
        c, h, w = 2, 8, 12
        yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing='ij')
        for fy, fx in [(1, 0), (0, 3), (2, -3), (-4, 5), (3, 6), (-4, -6)]:
            with self.subTest(fy=fy, fx=fx):
                theta = 2 * np.pi * (fy * yy / h + fx * xx / w)
                sine_vanishes = np.abs(np.sin(theta)).max() < 1e-9
                co = libnad.direction_fourier((c, h, w), fy, fx, 'cos')
                auto = libnad.direction_fourier((c, h, w), fy, fx)
                self.assertEqual(co.shape, (c, h, w))
                if sine_vanishes:  # DC/Nyquist in both axes: SIN refused, AUTO is the cosine
                    self.assertEqual(status_of(libnad.direction_fourier, (c, h, w), fy, fx,
                                               FourierPart.SIN), Status.ERR_INVALID_ARG)
                    np.testing.assert_array_equal(auto, co)
                    pairs = [(co, np.cos(theta))]
                else:
                    s = libnad.direction_fourier((c, h, w), fy, fx, FourierPart.SIN)
                    np.testing.assert_array_equal(auto, s)
                    self.assertLess(abs(float(np.sum(s * co))), 1e-5)
                    pairs = [(s, np.sin(theta)), (co, np.cos(theta))]
                for v, ref in pairs:
                    self.assertAlmostEqual(float(np.sum(v.astype(np.float64) ** 2)), 1, places=5)
                    np.testing.assert_allclose(v[1], v[0])  # the same in every channel
                    ref = np.broadcast_to(ref, (c, h, w))
                    ref = ref / np.linalg.norm(ref)
                    self.assertAlmostEqual(abs(float(np.sum(v * ref))), 1, places=5)
        dc = libnad.direction_fourier((1, 4, 4), 0, 0)
        np.testing.assert_allclose(np.abs(dc), 0.25, rtol=1e-6)
        self.assertEqual(status_of(libnad.direction_fourier, (1, 4, 4), 0, 0, 'sin'),
                         Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(libnad.direction_fourier, (1, 4, 4), 3, 0),
                         Status.ERR_INVALID_ARG)

    def test_random(self):
        a = libnad.direction_random(5, (3, 4, 4))
        self.assertEqual(a.shape, (3, 4, 4))
        self.assertAlmostEqual(float(np.sum(a.astype(np.float64) ** 2)), 1, places=5)
        np.testing.assert_array_equal(a, libnad.direction_random(5, 48).reshape(3, 4, 4))
        self.assertFalse(np.array_equal(a, libnad.direction_random(6, (3, 4, 4))))


class Datasets(unittest.TestCase):
    def test_linear(self):
        shape, n, eps, sigma = (1, 8, 8), 101, 0.5, 2.0
        v = np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 3
        d = libnad.Dataset.linear(v, n, eps, sigma, seed=4)
        self.assertEqual((len(d), d.shape), (n, shape))
        x, y = d.get()
        self.assertEqual((x.shape, x.dtype, y.shape, y.dtype),
                         ((n,) + shape, np.float32, (n,), np.int32))
        half = (n + 1) // 2
        np.testing.assert_array_equal(y, [0] * half + [1] * (n - half))
        u = (v / np.linalg.norm(v)).ravel().astype(np.float64)
        proj = x.reshape(n, -1).astype(np.float64) @ u
        np.testing.assert_allclose(proj[:half], eps / 2, atol=1e-5)
        np.testing.assert_allclose(proj[half:], -eps / 2, atol=1e-5)
        noise = x.reshape(n, -1) - np.outer(proj, u)
        dof = n * (u.size - 1)  # noise lives in the orthogonal complement of v
        var = float(np.sum(noise.astype(np.float64) ** 2)) / dof
        self.assertLess(abs(var - sigma ** 2), 4 * sigma ** 2 * math.sqrt(2 / dof))
        again = libnad.Dataset.linear(v, n, eps, sigma, seed=4).get()[0]
        np.testing.assert_array_equal(again, x)
        self.assertEqual(status_of(libnad.Dataset.linear, np.zeros(shape), 4, 1.0, 1.0),
                         Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(libnad.Dataset.linear, v, 4, 0.0, 1.0),
                         Status.ERR_INVALID_ARG)

    def test_from_arrays(self):
        rng = np.random.default_rng(1)
        x = rng.standard_normal((5, 2, 3, 4)).astype(np.float32)
        y = np.array([0, 2, 1, 1, 0])
        d = libnad.Dataset(x, y)
        self.assertEqual((len(d), d.shape), (5, (2, 3, 4)))
        gx, gy = d.get()
        np.testing.assert_array_equal(gx, x)
        np.testing.assert_array_equal(gy, y)
        self.assertIn('5 x 2x3x4', repr(d))
        self.assertEqual(status_of(libnad.Dataset, x, y[:4]), Status.ERR_SHAPE)
        self.assertEqual(status_of(libnad.Dataset, x, [0, 1, -1, 0, 0]), Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(libnad.Dataset, x.ravel(), y), Status.ERR_SHAPE)  # no shape
        d2 = libnad.Dataset(x.ravel().tolist(), y.tolist(), shape=(2, 3, 4))
        np.testing.assert_array_equal(d2.get()[0], x)


SPEC = 'conv 4 k3; relu; maxpool 2; fc 2'
SHAPE = (1, 8, 8)


def torch_replica(params, x, y, epochs, batch, lr, momentum, wd, clip):
    """nad.h's schedule in PyTorch (float64), no shuffling. Returns (params, per-epoch (mean
    loss, running accuracy))."""
    class FlatLinear(nn.Linear):  # libnad's fc flattens its input
        def forward(self, x):
            return super().forward(x.flatten(1))

    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), FlatLinear(36, 2))
    sd, off = {}, 0
    for k, v in model.state_dict().items():
        sd[k] = torch.from_numpy(np.array(params[off:off + v.numel()])).reshape(v.shape)
        off += v.numel()
    model.load_state_dict(sd)
    model = model.double()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    xt, yt = torch.from_numpy(x).double(), torch.from_numpy(y).long()
    n = len(y)
    nb = (n + batch - 1) // batch
    hist = []
    for e in range(epochs):
        losses, correct = [], 0
        for b in range(nb):
            xb, yb = xt[b * batch:(b + 1) * batch], yt[b * batch:(b + 1) * batch]
            for g in opt.param_groups:
                g['lr'] = lr * (1 - (e + (b + 1) / nb) / epochs)
            out = model(xb)
            loss = nn.functional.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            if clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses.append(float(loss) * len(yb))
            correct += int((out.argmax(1) == yb).sum())
        hist.append((sum(losses) / n, 100.0 * correct / n))
    flat = np.concatenate([v.detach().reshape(-1).numpy() for v in model.state_dict().values()])
    return flat, hist


class Training(unittest.TestCase):
    def setUp(self):
        v = libnad.direction_fourier(SHAPE, 1, 2)
        self.train = libnad.Dataset.linear(v, 256, 2.0, 0.5, seed=1)
        self.test = libnad.Dataset.linear(v, 128, 2.0, 0.5, seed=2)
        self.arch = libnad.Arch.from_spec(SPEC, SHAPE)

    def test_learns_and_reports(self):
        seen = []
        t = libnad.Trainer(self.arch, seed=3, epochs=5, batch=16, lr=0.5)
        t.set_epoch_callback(lambda rec: seen.append(rec))
        hist = t.fit(self.train, self.test)
        self.assertEqual([r.epoch for r in hist], [1, 2, 3, 4, 5])
        self.assertEqual(hist, seen)
        for r in hist:
            self.assertTrue(0 <= r.train_acc <= 100 and 0 <= r.test_acc <= 100, r)
            self.assertTrue(r.train_loss > 0 and r.seconds >= 0, r)
        acc, loss = t.evaluate(self.test)
        self.assertAlmostEqual(acc, hist[-1].test_acc, places=9)
        self.assertGreater(acc, 90)  # D(v) is linearly separable (margin eps/2 = 1)
        p = t.get_params()
        self.assertEqual(p.shape, (self.arch.num_params,))
        net = t.net()
        x, y = self.test.get()
        pred = net.forward(x).argmax(1)
        self.assertAlmostEqual(100.0 * np.mean(pred == y), acc, places=6)
        # without a test set, test_acc is NaN
        t2 = libnad.Trainer(self.arch, seed=3, epochs=1, batch=16)
        self.assertTrue(math.isnan(t2.fit(self.train)[0].test_acc))

    def test_cancel_and_errors(self):
        t = libnad.Trainer(self.arch, seed=3, epochs=5, batch=16)
        t.set_epoch_callback(lambda rec: rec.epoch >= 2)
        with self.assertRaises(NadError) as cm:
            t.fit(self.train)
        self.assertEqual(cm.exception.status, Status.ERR_CANCELLED)
        self.assertEqual(len(t.history), 2)

        def boom(rec):
            raise RuntimeError('stop here')
        t.set_epoch_callback(boom)
        with self.assertRaises(RuntimeError) as cm:
            t.fit(self.train)
        self.assertEqual(cm.exception.__cause__.status, Status.ERR_CANCELLED)
        self.assertEqual(status_of(t.set, Option.LR, -1.0), Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(t.set, 'num_networks', 5), Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(libnad._lib.nad_trainer_set_int, t._handle, int(Option.LR), 1),
                         Status.ERR_OPTION_TYPE)
        wrong = libnad.Dataset.linear(libnad.direction_fourier((1, 9, 9), 1, 1), 8, 1.0, 1.0)
        self.assertEqual(status_of(t.fit, wrong), Status.ERR_SHAPE)
        x, _ = self.train.get()
        three = libnad.Dataset(x, np.arange(len(x)) % 3)  # label 2 >= 2 outputs
        self.assertEqual(status_of(t.fit, three), Status.ERR_INVALID_ARG)

    def test_deterministic(self):
        a = libnad.Trainer(self.arch, seed=3, epochs=2, batch=8)
        b = libnad.Trainer(self.arch, seed=3, epochs=2, batch=8)
        a.fit(self.train)
        b.fit(self.train)
        np.testing.assert_array_equal(a.get_params(), b.get_params())
        np.testing.assert_array_equal(libnad.Trainer(self.arch, seed=3).get_params(),
                                      libnad.Net(self.arch, seed=3).get_params())

    @unittest.skipIf(torch is None, 'torch missing')
    def test_against_torch(self):
        epochs, batch, lr, mom, wd, clip = 3, 16, 0.2, 0.9, 1e-3, 0.5
        t = libnad.Trainer(self.arch, seed=5, epochs=epochs, batch=batch, lr=lr, momentum=mom,
                           weight_decay=wd, clip=clip, shuffle=0)
        p0 = t.get_params()
        hist = t.fit(self.train)
        x, y = self.train.get()
        ref, ref_hist = torch_replica(p0, x, y, epochs, batch, lr, mom, wd, clip)
        err = nadtest.rel_err(t.get_params(), ref)
        print('trainer vs torch: params rel err %.2e' % err)
        self.assertLessEqual(err, 1e-4)
        np.testing.assert_allclose([r.train_loss for r in hist], [h[0] for h in ref_hist],
                                   rtol=1e-4)
        np.testing.assert_allclose([r.train_acc for r in hist], [h[1] for h in ref_hist])


if __name__ == '__main__':
    nadtest.main()
