#!/usr/bin/python3
"""The built-ins written with issue 17's layers (mobilenet-v2, convnext, vit) against their
PyTorch twins (tests/python/torch_models.py: torchvision's own classes) on identical weights.

Usage: test_torch_modern.py [--dipoles]

Default (fast suite): for each architecture at 3x32x32, the parameter layout equals the twin's
state_dict (names, sizes, order), and forward and input gradient of libnad (float32) equal
PyTorch float64 on the same weights: max |libnad - torch| / max |torch| <= 1e-5 (forward) and
<= 1e-4 (input gradient). Every parameter is made non-trivial first (BatchNorm statistics and
affine maps, LayerNorm affine maps, zero biases, ConvNeXt's 1e-6 layer scales, ViT's class
token and zero head), so no part of a block hides behind a zero.
--dipoles (heavy suite): the estimator's dipole responses of the fixed network at two points
(the delta forward, BatchNorm folding, the forward-only executor) against PyTorch float64 on a
few coordinates: (f(x + s e_i) - f(x - s e_i)) / 2s, mean over the points.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

try:
    import numpy as np
    import torch
    import torchvision  # noqa: F401
except ImportError as e:  # pragma: no cover
    print('skipped: %s' % e)
    sys.exit(nadtest.SKIP)

import libnad  # noqa: E402
import torch_models  # noqa: E402

DIPOLES = '--dipoles' in sys.argv
if DIPOLES:
    sys.argv.remove('--dipoles')
torch.set_num_threads(int(os.environ.get('NAD_TEST_THREADS', '2')))
NAMES = ['mobilenet-v2', 'convnext', 'vit']
MEASURED = []


def make_twin(name, shape, k, seed):
    torch.manual_seed(seed)
    model = torch_models.ARCHS[name](shape[0], shape[1], shape[2], k)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        for m in bns:
            m.weight.uniform_(0.5, 1.5, generator=gen)
            m.bias.uniform_(-0.2, 0.2, generator=gen)
        if bns:
            # running statistics of random inputs: at torchvision's init the eval-mode signal
            # of mobilenet_v2 all but vanishes (its depthwise weights are drawn with the
            # fan_out of a dense layer), and then every dipole is float noise
            for m in bns:
                m.reset_running_stats()
                m.momentum = None  # cumulative average
            model.train()
            model(torch.randn((16,) + tuple(shape), generator=gen))
        for pname, p in model.named_parameters():
            flat = p.reshape(-1)
            if pname.endswith('layer_scale'):
                p.uniform_(0.2, 1.0, generator=gen)
            elif p.numel() > 1 and bool((flat == 1).all()):  # norm weights
                p.uniform_(0.5, 1.5, generator=gen)
            elif bool((flat.abs() < 1e-5).all()):  # zero biases, class token, ViT's head
                p.uniform_(-0.2, 0.2, generator=gen)
    return model.eval()


def state_items(model):
    return [(n, t) for n, t in model.state_dict().items()
            if not n.endswith('num_batches_tracked')]


def torch_fwd_grad(model, x):
    md = model.double()
    xd = torch.from_numpy(x).double().requires_grad_(True)
    y = md(xd)
    (g,) = torch.autograd.grad(y[:, 0].sum(), xd)
    return y.detach().numpy(), g.numpy()


class Twins(unittest.TestCase):
    def one(self, i, name, shape=(3, 32, 32), k=1, batch=2):
        model = make_twin(name, shape, k, 300 + i)
        arch = libnad.Arch.builtin(name, shape, k)
        items = state_items(model)
        self.assertEqual([t.name for t in arch.tensors], [n for n, _ in items])
        self.assertEqual([t.numel for t in arch.tensors], [v.numel() for _, v in items])
        flat = torch_models.flat_params(model).numpy()
        net = libnad.Net(arch, params=flat)
        x = np.random.default_rng(40 + i).standard_normal((batch,) + shape).astype(np.float32)
        y_ref, g_ref = torch_fwd_grad(model, x)
        y = net.forward(x)
        g = net.input_grad(x)
        ey, eg = nadtest.rel_err(y, y_ref), nadtest.rel_err(g, g_ref)
        with torch.no_grad():  # PyTorch's own float32 error, for scale
            e32 = nadtest.rel_err(model.float()(torch.from_numpy(x)).numpy(), y_ref)
        MEASURED.append((name, 'x'.join(map(str, shape)), 'forward', ey))
        MEASURED.append((name, 'x'.join(map(str, shape)), 'forward, torch f32', e32))
        MEASURED.append((name, 'x'.join(map(str, shape)), 'input gradient', eg))
        # 1e-5 (every 3x32x32 case: 4e-7 to 2e-6), or 4x PyTorch's own float32 error where
        # float32 cannot do better (measured: mobilenet-v2 at 1x32x32 with 3 outputs, libnad
        # 1.3e-5, torch float32 6.4e-6; its 52 BatchNorms amplify rounding)
        self.assertLessEqual(ey, max(1e-5, 4 * e32), name)
        self.assertLessEqual(eg, 1e-4, name)

    def test_twins(self):
        if DIPOLES:
            self.skipTest('dipoles only')
        for i, name in enumerate(NAMES):
            with self.subTest(arch=name):
                self.one(i, name)
        with self.subTest(arch='mobilenet-v2 1x32x32, 3 outputs'):
            self.one(3, 'mobilenet-v2', (1, 32, 32), 3)


def torch_dipoles(model, x, coords, step):
    """mean over the points of (f0(x + s e_i) - f0(x - s e_i)) / 2s, float64."""
    md = model.double()
    out = np.zeros(len(coords))
    with torch.no_grad():
        for p in x:
            base = torch.from_numpy(p).double().reshape(1, -1)
            z = base.repeat(2 * len(coords), 1)
            for j, c in enumerate(coords):
                z[2 * j, c] += step
                z[2 * j + 1, c] -= step
            y = md(z.reshape((-1,) + p.shape))[:, 0].numpy()
            out += (y[0::2] - y[1::2]) / (2 * step)
    return out / len(x)


class Dipoles(unittest.TestCase):
    def test_dipoles(self):
        if not DIPOLES:
            self.skipTest('run with --dipoles')
        # ViT at 3x8x8 (5 tokens): the estimator probes every coordinate
        cases = [('mobilenet-v2', (3, 32, 32)), ('convnext', (3, 32, 32)), ('vit', (3, 8, 8))]
        for i, (name, shape) in enumerate(cases):
            with self.subTest(arch=name):
                model = make_twin(name, shape, 1, 500 + i)
                arch = libnad.Arch.builtin(name, shape, 1)
                flat = torch_models.flat_params(model).numpy()
                x = np.random.default_rng(60 + i).standard_normal((2,) + shape).astype(np.float32)
                est = libnad.Estimator(arch, num_networks=2, step=1.0, num_threads=2)
                est.set_network(flat)
                est.set_eval_data(libnad.Dataset(x, np.zeros(2, np.int32)))
                est.run()
                d = int(np.prod(shape))
                coords = list(range(0, d, d // 16)) + [d - 1]
                ref = torch_dipoles(model, x, coords, 1.0)
                err = nadtest.rel_err(est.mean()[coords], ref)
                MEASURED.append((name, 'x'.join(map(str, shape)), 'dipoles', err))
                # a dipole is a difference of two float32 outputs: their rounding, ~1e-7 of
                # |f|, divided by 2s, is allowed on top of the 1e-4
                with torch.no_grad():
                    f = model.double()(torch.from_numpy(x).double()).abs().max().item()
                tol = 1e-4 + 1e-6 * f / (2 * 1.0 * np.abs(ref).max())
                self.assertLessEqual(err, tol, name)


def summary():
    print('\nmax |libnad - torch f64| / max |torch f64|')
    for name, shape, what, err in MEASURED:
        print('  %-13s %-8s %-15s %.1e' % (name, shape, what, err))


if __name__ == '__main__':
    nadtest.main(report=summary)
