#!/usr/bin/python3
"""Init rules on imported torchvision models (issue 17 §3 (b); lib/graph/init_rules.c,
share/init): torchvision's resnet18 exported at 3x32x32 with BatchNorm kept and as torch's
default eval-mode export (BatchNorm folded into the convolutions), re-initialised by
share/init/resnet.rules for many seeds:
  - every convolution weight's spread is kaiming_normal fan_out relu's, sqrt(2/(O*kh*kw)), as
    torch's own resnet18() gives it (measured here over the same number of torch networks);
    fc keeps PyTorch's default U(+-1/sqrt 512); BatchNorm 1, 0, 0, 1 exactly;
  - in the folded export, the convolutions' biases (a BatchNorm's shift, 0 at initialisation)
    stay exactly 0 even under a rule that draws every other bias at random; `file` keeps them;
  - a truncated normal stays within its bounds with the truncated spread;
  - the Python keyword init_rules=, its warnings, and the rules as part of a checkpoint's
    identity (nad merge refuses parts made with other rules).
The folded export names its convolutions as torchvision does (from the nodes' module paths).
Tolerances: the relative standard error of a sample standard deviation of n values is
1/sqrt(2n) for a normal law and 1/sqrt(5n/4)... < 1/sqrt(n) for a uniform one; each check allows
6 of them (n: the tensor's size times the number of networks)."""
import os
import subprocess
import sys
import tempfile
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:  # pragma: no cover
    print('skipped: %s' % e)
    sys.exit(nadtest.SKIP)

import libnad  # noqa: E402

torch.set_num_threads(1)
ROOT = os.environ.get('NAD_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))
RESNET_RULES = os.path.join(ROOT, 'share', 'init', 'resnet.rules')
SEEDS = 6
TMP = tempfile.mkdtemp(prefix='nad-init-rules-')


def export(model, shape, name, preserve):
    model.eval()
    path = os.path.join(TMP, name)
    kw = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False) \
        if preserve else {}
    torch.onnx.export(model, torch.randn(1, *shape), path, opset_version=17, **kw)
    return path


def draws(arch, seeds):
    """{tensor name: values of all seeds concatenated} of arch's networks 0..seeds-1."""
    out = {t.name: [] for t in arch.tensors}
    for s in range(seeds):
        p = libnad.Net(arch, seed=s).get_params()
        for t in arch.tensors:
            out[t.name].append(p[t.offset:t.offset + t.numel])
    return {k: np.concatenate(v).astype(np.float64) for k, v in out.items()}


def tol(n):
    return 6.0 / np.sqrt(n)


class ResnetRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.kept = export(torchvision.models.resnet18(), (3, 32, 32), 'r18_bn.onnx', True)
        cls.folded = export(torchvision.models.resnet18(), (3, 32, 32), 'r18_eval.onnx', False)
        # torch's own resnet18 over as many networks, for the spreads it really draws
        sd = {}
        for s in range(SEEDS):
            torch.manual_seed(s)
            for k, v in torchvision.models.resnet18().state_dict().items():
                sd.setdefault(k, []).append(v.detach().double().numpy().ravel())
        cls.torch = {k: np.concatenate(v) for k, v in sd.items()}

    def test_bn_kept(self):
        with warnings.catch_warnings():
            warnings.simplefilter('error')  # every rule matches something here
            arch = libnad.Arch.from_onnx(self.kept).with_init_rules(RESNET_RULES)
        got = draws(arch, SEEDS)
        self.assertEqual(set(got), set(k for k in self.torch if 'num_batches' not in k))
        n_conv = 0
        shapes = {k: v.shape for k, v in torchvision.models.resnet18().state_dict().items()}
        for name, v in got.items():
            t = self.torch[name]
            if len(shapes[name]) == 4:
                o, _, kh, kw = shapes[name]
                want = np.sqrt(2.0 / (o * kh * kw))
                self.assertLess(abs(v.std() / want - 1), tol(2 * v.size), name)
                self.assertLess(abs(t.std() / want - 1), tol(2 * t.size), name + ' (torch)')
                self.assertLess(abs(v.mean()), 6 * want / np.sqrt(v.size), name)
                n_conv += 1
            elif name.startswith('fc.'):  # PyTorch's default: U(+-1/sqrt(512))
                bound = 1 / np.sqrt(512)
                self.assertLessEqual(np.abs(v).max(), bound, name)
                self.assertLess(abs(v.std() * np.sqrt(3) / bound - 1), tol(v.size), name)
                self.assertLess(abs(t.std() * np.sqrt(3) / bound - 1), tol(t.size), name)
            else:  # BatchNorm: exactly torch's constants
                np.testing.assert_array_equal(v, t, err_msg=name)
        self.assertEqual(n_conv, 20)

    def test_bn_folded(self):
        arch = libnad.Arch.from_onnx(self.folded).with_init_rules(RESNET_RULES)
        got = draws(arch, SEEDS)
        convs = [t for t in arch.tensors if t.name.endswith('.weight') and t.name != 'fc.weight']
        # the folded convolutions' anonymous initializers (onnx::Conv_N) are named after the
        # module path in their node's name: torchvision's own names
        shapes = {k: v.shape for k, v in torchvision.models.resnet18().state_dict().items()}
        self.assertEqual([t.name for t in convs],
                         [k for k, v in shapes.items() if len(v) == 4])
        for t in convs:
            # the folded scale 1/sqrt(1 + 1e-5) is far below the tolerance
            o, _, kh, kw = shapes[t.name]
            v, want = got[t.name], np.sqrt(2.0 / (o * kh * kw))
            self.assertLess(abs(v.std() / want - 1), tol(2 * v.size), t.name)
            bias = got[t.name[:-len('weight')] + 'bias']
            self.assertEqual(bias.size, o * SEEDS)
            self.assertTrue(np.all(bias == 0), t.name + ': a bias it never had')
        # names work in rules, also on the folded export
        named = libnad.Arch.from_onnx(self.folded).with_init_rules(
            'layer2.0.downsample.0.weight ones\n')
        self.assertTrue(np.all(draws(named, 1)['layer2.0.downsample.0.weight'] == 1))

    def test_folded_bias_never_random(self):
        plain = libnad.Arch.from_onnx(self.folded)
        arch = plain.with_init_rules('*.bias uniform a=-1 b=1\n')
        got = draws(arch, 2)
        folded = [k for k in got if k.endswith('.bias') and k != 'fc.bias']
        self.assertEqual(len(folded), 20)
        for k in folded:
            self.assertTrue(np.all(got[k] == 0), k)
        fc = got['fc.bias']
        self.assertTrue(np.abs(fc).max() <= 1 and fc.std() > 0.4, 'fc.bias is drawn')
        # without rules too (PyTorch's defaults), and `file` keeps the file's folded values
        self.assertTrue(all(np.all(v == 0) for k, v in draws(plain, 1).items() if k in folded))
        kept = plain.with_init_rules('*.bias file')
        p, file = libnad.Net(kept, seed=0).get_params(), plain.file_params()
        for t in kept.tensors:
            if t.name in folded:
                np.testing.assert_array_equal(p[t.offset:t.offset + t.numel],
                                              file[t.offset:t.offset + t.numel])
        self.assertGreater(np.abs(file).max(), 0)

    def test_trunc_normal(self):
        arch = libnad.Arch.from_onnx(self.kept).with_init_rules(
            'conv2d:*.weight trunc_normal std=0.02 a=-0.03 b=0.03\n')
        v = np.concatenate([x for k, x in draws(arch, 2).items() if k.endswith('conv1.weight')])
        self.assertTrue(v.min() >= -0.03 and v.max() <= 0.03 and v.max() > 0.0299)
        # N(0, 0.02^2) truncated to +-1.5 sd: sd = 0.02 * sqrt(1 - 2*1.5*phi(1.5)/(2Phi(1.5)-1))
        phi = np.exp(-1.125) / np.sqrt(2 * np.pi)
        z = 0.8663855974622838  # 2 Phi(1.5) - 1
        want = 0.02 * np.sqrt(1 - 3.0 * phi / z)
        self.assertLess(abs(v.std() / want - 1), tol(2 * v.size))


class Surfaces(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(1)
        m = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4),
                                torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(144, 2))
        cls.path = export(m, (3, 8, 8), 'tiny.onnx', False)
        cls.rules = os.path.join(TMP, 'tiny.rules')
        with open(cls.rules, 'w') as f:
            f.write('conv2d:*.weight kaiming_normal fan_out relu\nlinear:*.weight normal '
                    'std=0.01\nnothing.* zeros\n')

    def test_python_keyword(self):
        with self.assertWarnsRegex(UserWarning, "tiny.rules:3: pattern 'nothing.\\*' matches"):
            r = libnad.estimate(self.path, networks=4, top=2, progress=False,
                                init_rules=self.rules)
        with self.assertWarns(UserWarning):
            r0 = libnad.estimate(self.path, networks=4, top=2, progress=False,
                                 init_rules=open(self.rules).read())
        self.assertTrue(np.array_equal(r.eigenvalues, r0.eigenvalues))  # path or text alike
        plain = libnad.estimate(self.path, networks=4, top=2, progress=False)
        self.assertFalse(np.allclose(r.eigenvalues, plain.eigenvalues))
        with self.assertRaises(ValueError):
            libnad.estimate(lambda: torch.nn.Linear(3, 1), input=(3, 1, 1), init_rules='* zeros')
        with self.assertRaisesRegex(libnad.NadError, 'bad.rules:1: unknown rule'):
            libnad.Arch.from_onnx(self.path).with_init_rules('* zero\n', source='bad.rules')

    def test_cli_identity(self):
        nad = os.environ['NAD_EXECUTABLE']
        ck = os.path.join(TMP, 'part.ck')
        run = subprocess.run([nad, 'estimate', self.path, '--networks', '4', '--range', '0:4',
                              '--checkpoint', ck, '--init-rules', self.rules, '--quiet'],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("tiny.rules:3: pattern 'nothing.*' matches no tensor", run.stderr)
        out = os.path.join(TMP, 'merged')
        bad = subprocess.run([nad, 'merge', self.path, ck, '--out', out, '--quiet'],
                             capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0, 'merge without the rules must refuse the part')
        good = subprocess.run([nad, 'merge', self.path, ck, '--init-rules', self.rules,
                               '--out', out, '--quiet'], capture_output=True, text=True)
        self.assertEqual(good.returncode, 0, good.stderr)
        err = subprocess.run([nad, 'net', 'init', self.path, '--seed', '1', '--out',
                              os.path.join(TMP, 'p.npy'), '--init-rules', self.path],
                             capture_output=True, text=True)
        self.assertNotEqual(err.returncode, 0)
        self.assertIn('tiny.onnx', err.stderr)


if __name__ == '__main__':
    nadtest.main()
