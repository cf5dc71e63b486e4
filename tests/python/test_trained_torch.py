#!/usr/bin/python3
"""NADs of one fixed network at data points (nad_estimator_set_network + set_eval_data) against
PyTorch on identical weights: LeNet with 10 outputs at 1x16x16 (torch's float64 convolutions are
slow: 1x32x32 would take a minute), a few points, the dipole
g_i = (f(x + s·e_i) − f(x − s·e_i)) / (2s) of one output (and of each point's label) computed by
torch in float64 from the same float32 weights; mean, eigenvalues and the leading NADs compared.
Also a network with BatchNorm (non-trivial running statistics, eval mode) and gradient mode."""
import os
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

import libnad  # noqa: E402
import torch_models  # noqa: E402

torch.set_num_threads(int(os.environ.get('NAD_TEST_THREADS', '2')))
STEP = 100.0


def torch_dipoles(model, x, outputs, step=STEP):
    """(N, D) float64 dipole responses of the model at the points x (N, c, h, w)."""
    model = model.double().eval()
    n = x.shape[0]
    d = int(np.prod(x.shape[1:]))
    g = np.zeros((n, d))
    eye = torch.eye(d, dtype=torch.float64).reshape((d,) + tuple(x.shape[1:]))
    with torch.no_grad():
        for j in range(n):
            x0 = torch.as_tensor(x[j], dtype=torch.float64)[None]
            fp = model(x0 + step * eye)[:, outputs[j]]
            fm = model(x0 - step * eye)[:, outputs[j]]
            g[j] = ((fp - fm) / (2 * step)).numpy()
    return g


def torch_grads(model, x, outputs):
    model = model.double().eval()
    xs = torch.as_tensor(x, dtype=torch.float64).requires_grad_(True)
    y = model(xs)
    y[torch.arange(len(x)), torch.as_tensor(outputs)].sum().backward()
    return xs.grad.reshape(len(x), -1).numpy()


def pca(g):
    lam, vec = np.linalg.eigh(np.cov(g.T))
    return lam[::-1], vec[:, ::-1].T


class FlatLinear(torch.nn.Linear):
    """libnad's fc flattens its input itself."""

    def forward(self, x):
        return super().forward(x.flatten(1))


BN_SPEC = 'conv 4 k3 p1; bn; relu; maxpool 2; fc 6; bn; relu; fc 4'


def bn_model(c, h, w):
    """torch twin of BN_SPEC: module i is libnad node i (same state_dict order)."""
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(c, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), FlatLinear(4 * (h // 2) * (w // 2), 6),
                         nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 4))


class Trained(unittest.TestCase):
    def run_case(self, name, shape, k, n, output, mode='dipole', randomize_bn=False):
        torch.manual_seed(0)
        if name == 'spec':
            model = bn_model(*shape)
            arch = libnad.Arch.from_spec(BN_SPEC, shape)
        else:
            model = torch_models.ARCHS[name](*shape, k)
            arch = libnad.Arch.builtin(name, shape, k)
        if randomize_bn:
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                        m.running_mean.uniform_(-0.3, 0.3)
                        m.running_var.uniform_(0.5, 1.5)
                        m.weight.uniform_(0.5, 1.5)
                        m.bias.uniform_(-0.2, 0.2)
        params = torch_models.flat_params(model).numpy()
        rng = np.random.default_rng(5)
        x = rng.uniform(0, 1, (n,) + shape).astype(np.float32)
        y = (np.arange(n) * 3 % k).astype(np.int32)
        est = libnad.Estimator(arch, num_networks=n, output=output, mode=mode, num_threads=2)
        est.set_network(params)
        est.set_eval_data(libnad.Dataset(x, y))
        est.run()
        outs = y if output == libnad.OUTPUT_LABEL else np.full(n, output)
        g = (torch_dipoles(model, x, outs) if mode == 'dipole' else torch_grads(model, x, outs))
        lam, vec = pca(g)
        nads, ev = est.nads(), est.eigenvalues()
        top = min(n - 1, 3)
        self.assertLess(nadtest.rel_err(est.mean(), g.mean(0)), 1e-4)
        self.assertLess(nadtest.rel_err(ev[:top], lam[:top]), 1e-4)
        for i in range(top):
            self.assertGreater(abs(float(nads[i].astype(np.float64) @ vec[i])), 1 - 1e-4,
                               'NAD %d' % i)

    def test_lenet_output(self):
        self.run_case('lenet', (1, 16, 16), 10, 5, 3)

    def test_lenet_label(self):
        self.run_case('lenet', (1, 16, 16), 10, 5, libnad.OUTPUT_LABEL)

    def test_lenet_gradient(self):
        self.run_case('lenet', (1, 16, 16), 10, 5, 7, mode='gradient')

    def test_batchnorm(self):
        self.run_case('spec', (2, 8, 8), 4, 5, libnad.OUTPUT_LABEL, randomize_bn=True)


if __name__ == '__main__':
    nadtest.main()
