#!/usr/bin/python3
"""Which of torchvision's classifiers libnad imports, and whether they compute what PyTorch does.

For every classification model of the installed torchvision (`torchvision.models.list_models`)
but those above --max-params parameters:
  1. build it with random weights (torch.manual_seed(0)), move BatchNorm statistics and
     zero-initialised tensors away from their initial values (so that every layer shows);
  2. export it with torch.onnx.export, opset 17, BatchNorm kept (as libnad's Python binding
     does), at the smallest of --sizes the model and the exporter accept;
  3. `nad net forward MODEL.onnx --x X --grad G` on two N(0, 1) inputs, against PyTorch float64
     on the same weights: output to 1e-5, input gradient to 1e-4 (where the gradient differs by
     more, tests/cli/relu_kinks.py checks that only ReLU decisions within float32 rounding of 0
     differ, as test_cli_onnx.py does, and where that is not enough tests/cli/pool_ties.py
     also takes libnad's max-pool picks at near-ties).
Prints one line per model and a markdown table (--table FILE). A tool, not a test: the
torchvision models of issue 17's list are checked by tests/cli/test_cli_onnx.py.

Usage: scripts/onnx_zoo.py NAD_EXE [--models a,b,...] [--max-params 150e6] [--sizes 32,64,224]
       [--table FILE]. Needs python3-torch and python3-torchvision. Downloads nothing."""
import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision.models as tvm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'cli'))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'python'))
from nadtest import run  # noqa: E402
import relu_kinks  # noqa: E402
import pool_ties  # noqa: E402

def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def build(name):
    kw = {'aux_logits': False, 'init_weights': True} if name in ('googlenet', 'inception_v3') \
        else {}
    torch.manual_seed(0)
    m = relu_kinks.perturbed(tvm.get_model(name, weights=None, **kw).eval(),
                             ('head', 'classifier', 'fc'))
    if name.startswith('squeezenet'):  # its last conv ends in a ReLU: keep output 0 active
        with torch.no_grad():
            m.classifier[1].bias[0] += 1.0
    return m


def torch_ref(m, x):
    md = m.double()
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = md(xt)
    y[:, 0].sum().backward()
    m.float()
    return y.detach().numpy(), xt.grad.numpy()


def export(m, name, sizes, tmp):
    """The smallest size of `sizes` that the model runs at and torch exports; (size, file) or
    (None, reason)."""
    reason = ''
    for s in sizes:
        f = os.path.join(tmp, '%s-%d.onnx' % (name, s))
        try:
            with torch.no_grad():
                m(torch.zeros(1, 3, s, s))
            torch.onnx.export(m, torch.zeros(1, 3, s, s), f, opset_version=17,
                              training=torch.onnx.TrainingMode.PRESERVE,
                              do_constant_folding=False)
            return s, f
        except Exception as e:  # the model or the exporter refuses this size
            reason = '%s: %s' % (type(e).__name__, str(e).splitlines()[0][:120])
    return None, reason


def check(nad, name, sizes, tmp):
    """One model: (status, size, output error, gradient error, note)."""
    m = build(name)
    s, f = export(m, name, sizes, tmp)
    if s is None:
        return 'not exported', None, None, None, f
    shape = (3, s, s)
    x = np.random.default_rng(3).standard_normal((2,) + shape).astype(np.float32)
    xf, yf, gf = (os.path.join(tmp, n) for n in ('x.npy', 'y.npy', 'g.npy'))
    np.save(xf, x)
    r = run(nad, 'net', 'forward', f, '--input', '3x%dx%d' % (s, s), '--x', xf, '--out', yf,
            '--grad', gf, timeout=1800)
    if r.rc != 0:
        return 'refused', s, None, None, r.err.strip().splitlines()[-1][:200]
    ty, tg = torch_ref(m, x)
    y, g = np.load(yf), np.load(gf)
    ey, eg = rel(y, ty), rel(g, tg)
    note = '' if np.abs(tg).max() > 0 else 'output 0 has no input gradient'
    if eg > 1e-4:
        ok, note = relu_kinks.check(run, nad, f, shape, m, x, g, tmp)
        if not ok:  # max-pool picks at near-ties as well
            ok, note = pool_ties.check(run, nad, f, shape, m, x, g, tmp)
        if not ok:
            return 'differs', s, ey, eg, note
    if ey > 1e-5:
        return 'differs', s, ey, eg, 'output'
    return 'equal', s, ey, eg, note


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('nad')
    ap.add_argument('--models', default='')
    ap.add_argument('--max-params', type=float, default=150e6)
    ap.add_argument('--sizes', default='32,64,224')
    ap.add_argument('--table', default='')
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('NAD_ZOO_THREADS', '2')))
    names = a.models.split(',') if a.models else tvm.list_models(module=tvm)
    sizes = [int(v) for v in a.sizes.split(',')]
    rows = []
    tmp = tempfile.mkdtemp(prefix='nad-zoo-')
    try:
        for name in names:
            n_params = sum(p.numel() for p in build(name).parameters())
            if n_params > a.max_params:
                rows.append((name, 'not tried (%.0f M parameters)' % (n_params / 1e6), None,
                             None, None, '', n_params, 0))
                continue
            t0 = time.time()
            try:
                st, s, ey, eg, note = check(a.nad, name, sizes, tmp)
            except Exception as e:  # report, go on with the next model
                st, s, ey, eg, note = 'error', None, None, None, '%s: %s' % (type(e).__name__, e)
            rows.append((name, st, s, ey, eg, note, n_params, time.time() - t0))
            print('%-20s %-14s %s %s %s %s' % (
                name, st, s or '-', '%.1e' % ey if ey is not None else '-',
                '%.1e' % eg if eg is not None else '-', note), flush=True)
            for fn in os.listdir(tmp):
                os.remove(os.path.join(tmp, fn))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = ['| model | parameters | result | input | output rel. error | input-gradient rel. '
             'error | note |', '| --- | --- | --- | --- | --- | --- | --- |']
    for name, st, s, ey, eg, note, n_params, _ in rows:
        lines.append('| %s | %s | %s | %s | %s | %s | %s |' % (
            name, '%.1f M' % (n_params / 1e6) if n_params else '', st,
            '3×%d×%d' % (s, s) if s else '', '%.1e' % ey if ey is not None else '',
            '%.1e' % eg if eg is not None else '', note.replace('|', '/')))
    print('\n'.join(lines))
    if a.table:
        with open(a.table, 'w') as fh:
            fh.write('\n'.join(lines) + '\n')
    bad = [r for r in rows if r[1] in ('refused', 'differs', 'error')]
    print('%d tried, %d equal, %d refused or different' % (
        sum(1 for r in rows if r[1] in ('equal', 'refused', 'differs', 'error', 'not exported')),
        sum(1 for r in rows if r[1] == 'equal'), len(bad)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
