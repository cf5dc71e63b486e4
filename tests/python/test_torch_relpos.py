#!/usr/bin/python3
"""libnad.estimate of Swin and MaxViT factories (torchvision's classes, small configurations at
3x16x16): transformers whose export reads a parameter table through fixed indices (relative
position bias: the table is drawn per network by the model's code, the indices are the module's
buffer; kind gather_indices), with shifted-window attention masks (Swin: ScatterND on constants,
padded token grids) and Einsum attention (MaxViT). The covariance eigenvalues must equal those
of PyTorch's own float64 dipoles of the same networks (test_torch_factory's reference).
Also share/init/swin.rules and maxvit.rules: the C side's random networks of the exported models
draw every tensor with the spread torch's own constructors give it (the bias tables included),
and the indices keep the buffer's values.
'heavy' (not under the sanitizers): ~1 min, most of it PyTorch float64."""
import os
import sys
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

try:
    import numpy as np
    import torch
    from torchvision.models.maxvit import MaxVit
    from torchvision.models.swin_transformer import SwinTransformer
except ImportError as e:  # pragma: no cover
    print('skipped: %s' % e)
    sys.exit(nadtest.SKIP)

import libnad  # noqa: E402
import tempfile  # noqa: E402
from test_torch_factory import SEED, torch_eigenvalues  # noqa: E402

torch.set_num_threads(1)
ROOT = os.environ.get('NAD_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))
TMP = tempfile.mkdtemp(prefix='nad-relpos-')


def swin():
    """8 tokens a side at 16x16 (patches of 4) in windows of 3: padded to 6 and shifted by 1."""
    return SwinTransformer(patch_size=[4, 4], embed_dim=24, depths=[2, 2], num_heads=[2, 4],
                           window_size=[3, 3], stochastic_depth_prob=0.0, num_classes=1)


def maxvit():
    return MaxVit(input_size=(16, 16), stem_channels=16, partition_size=2,
                  block_channels=[32, 64], block_layers=[1, 1], head_dim=16,
                  stochastic_depth_prob=0.0, num_classes=1)


class RelativePositionBias(unittest.TestCase):
    def test_same_networks_as_torch(self):
        x0 = np.random.default_rng(4).standard_normal((3, 16, 16)).astype(np.float32)
        n = 8
        for factory in (swin, maxvit):
            with self.subTest(model=factory.__name__), warnings.catch_warnings():
                warnings.simplefilter('ignore')  # torch's export warnings
                ref = torch_eigenvalues(factory, x0, n, SEED)
                r = libnad.estimate(factory, input=(3, 16, 16), networks=n, seed=SEED,
                                    threads=2, eval_point=x0, progress=None)
                err = np.abs(r.eigenvalues[:n - 1] - ref[:n - 1]).max() / ref[0]
                self.assertLess(err, 1e-5, '%s: eigenvalues differ from PyTorch: %.2e'
                                % (factory.__name__, err))


class Rules(unittest.TestCase):
    """Spreads of libnad's draws under the shipped rules against torch's own networks (the
    same count of each): within 6 relative standard errors of a standard deviation, as
    test_init_rules.py; constant tensors (zeros, ones, BatchNorm's statistics, the indices)
    exactly."""
    SEEDS = 6

    def check_rules(self, factory, rules):
        torch.manual_seed(0)
        path = os.path.join(TMP, factory.__name__ + '.onnx')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(factory().eval(), torch.zeros(1, 3, 16, 16), path, opset_version=17,
                              training=torch.onnx.TrainingMode.PRESERVE,
                              do_constant_folding=False)
        arch = libnad.Arch.from_onnx(path).with_init_rules(
            os.path.join(ROOT, 'share', 'init', rules))
        ours, theirs = {}, {}
        for s in range(self.SEEDS):
            p = libnad.Net(arch, seed=s).get_params()
            for t in arch.tensors:
                ours.setdefault(t.name, []).append(p[t.offset:t.offset + t.numel])
            torch.manual_seed(s)
            for k, v in factory().state_dict().items():
                theirs.setdefault(k, []).append(v.detach().double().numpy().ravel())
        seen = {'table': 0, 'index': 0}
        file = arch.file_params()
        for t in arch.tensors:
            a = np.concatenate(ours[t.name]).astype(np.float64)
            if not t.trainable and 'running_' not in t.name:  # indices: the file's, always
                seen['index'] += 1
                self.assertTrue(np.array_equal(a, np.tile(file[t.offset:t.offset + t.numel],
                                                          self.SEEDS)), t.name)
            if t.name not in theirs:  # the export's own constants (GELU's, the scale)
                continue
            b = np.concatenate(theirs[t.name])
            self.assertEqual(a.size, b.size, t.name)
            seen['table'] += t.name.endswith('relative_position_bias_table')
            name = t.name
            if b.std() == 0 or not t.trainable:  # constants, statistics, indices: exactly
                self.assertTrue(np.array_equal(a, b), '%s: %s, torch %s' % (name, a[:4], b[:4]))
                continue
            self.assertFalse(np.array_equal(ours[name][0], ours[name][1]),
                             '%s: the same values in two networks' % name)
            rel = abs(a.std() / b.std() - 1)
            self.assertLess(rel, 6 / np.sqrt(a.size), '%s: std %.4g, torch %.4g'
                            % (name, a.std(), b.std()))
        self.assertEqual(seen['table'], seen['index'])
        self.assertGreaterEqual(seen['table'], 2)

    def test_swin(self):
        self.check_rules(swin, 'swin.rules')

    def test_maxvit(self):
        self.check_rules(maxvit, 'maxvit.rules')


if __name__ == '__main__':
    nadtest.main()
