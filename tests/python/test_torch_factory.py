#!/usr/bin/python3
"""libnad.estimate of a PyTorch model (issue 17 §3): a factory's random networks are built by the
model's own code and streamed into libnad (nad_estimator_set_param_source), so that libnad's NADs
are those of exactly the networks PyTorch builds with the same seeds (torch.manual_seed(seed *
100003 + j), as the reference tool tv_ref.py): the covariance eigenvalues equal those of the
dipoles PyTorch computes itself in float64 for those networks, at the same evaluation point.
Also: the same with 1 and 2 threads (the source is called from worker threads), a module
instance needs evaluation data, an exception in the source stops the run and is re-raised, and
checkpoints of a source's networks refuse to mix with libnad's own initialisation."""
import os
import sys
import tempfile
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover
    print('skipped: %s' % e)
    sys.exit(nadtest.SKIP)

import libnad  # noqa: E402
from libnad import _torch  # noqa: E402
import torch_models  # noqa: E402

torch.set_num_threads(1)
SEED, N = 2, 24


def lenet():
    return torch_models.ARCHS['lenet'](1, 16, 16, 1)


def torch_eigenvalues(factory, x0, n, seed, step=100.0):
    """Covariance eigenvalues of PyTorch's own float64 dipoles of networks 0..n-1."""
    d = x0.size
    eye = torch.eye(d, dtype=torch.float64).reshape((d,) + x0.shape)
    x = torch.as_tensor(x0, dtype=torch.float64)[None]
    g = np.zeros((n, d))
    for j in range(n):
        torch.manual_seed(seed * 100003 + j)
        m = factory().double().eval()
        with torch.no_grad():
            g[j] = ((m(x + step * eye)[:, 0] - m(x - step * eye)[:, 0]) / (2 * step)).numpy()
    g -= g.mean(0)
    return np.linalg.svd(g, compute_uv=False) ** 2 / (n - 1)


class Factory(unittest.TestCase):
    def test_same_networks_as_torch(self):
        x0 = np.random.default_rng(1).standard_normal((1, 16, 16)).astype(np.float32)
        ref = torch_eigenvalues(lenet, x0, N, SEED)
        for threads in (1, 2):
            with self.subTest(threads=threads):
                r = libnad.estimate(lenet, input=(1, 16, 16), networks=N, seed=SEED,
                                    threads=threads, eval_point=x0, progress=None)
                k = N - 1
                err = np.abs(r.eigenvalues[:k] - ref[:k]).max() / ref[0]
                self.assertLess(err, 1e-5, 'eigenvalues differ from PyTorch: %.2e' % err)

    def test_degenerate_response_warns(self):
        """A last layer scaled to 1e-9 over a bias of 1 (its dipoles are float32 rounding of 1)
        and a zero last layer (no response at all) warn; lenet does not."""
        def scaled(w):
            def factory():
                m = lenet()
                last = [mod for mod in m.modules() if isinstance(mod, torch.nn.Linear)][-1]
                with torch.no_grad():
                    last.weight.mul_(w)
                    last.bias.fill_(1.0)
                return m
            return factory
        for name, factory, want in (('1e-9', scaled(1e-9), True), ('zero', scaled(0.0), True),
                                    ('lenet', lenet, False)):
            with self.subTest(last_layer=name):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter('always')
                    r = libnad.estimate(factory, input=(1, 16, 16), networks=6, seed=SEED,
                                        progress=False)
                self.assertEqual(r.degenerate_response, want, name)
                self.assertEqual(any('degenerate response' in str(w.message) for w in caught),
                                 want, name)
                if name == 'zero':
                    self.assertEqual(float(r.eigenvalues[0]), 0.0)

    def test_instance_needs_points(self):
        with self.assertRaises(ValueError):
            libnad.estimate(lenet(), input=(1, 16, 16), networks=2)

    def test_source_exception_stops_the_run(self):
        def bad():
            raise RuntimeError('my model cannot be built')
        arch = libnad.Arch.from_onnx(_torch.export_onnx(lenet(), (1, 16, 16)))
        with libnad.Estimator(arch, num_networks=4, num_threads=2) as est:
            est.set_param_source(lambda j, p: bad(), 'bad')
            with self.assertRaises(RuntimeError):
                est.run()
            self.assertEqual(est.networks_done, 0)

    def test_checkpoint_records_the_source(self):
        arch = libnad.Arch.from_onnx(_torch.export_onnx(lenet(), (1, 16, 16)))
        path = os.path.join(tempfile.mkdtemp(prefix='nad-factory-'), 'part.ckpt')
        with libnad.Estimator(arch, num_networks=4) as est:
            est.set_param_source(lambda j, p: p.__setitem__(slice(None), 0.01 * (j + 1)), 'mine')
            est.accumulate()
            est.save(path)
        with libnad.Estimator(arch, num_networks=8) as est:  # libnad's own initialisation
            with self.assertRaises(libnad.NadError) as cm:
                est.load(path)
            self.assertIn('parameter source', str(cm.exception))


if __name__ == '__main__':
    nadtest.main()
