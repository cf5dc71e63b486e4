"""PyTorch float64 with libnad's own ReLU decisions *and* max-pool picks, for scripts/onnx_zoo.py
(issue 17: "float32 rounding near a ReLU kink or a max-pool tie is not an error").

relu_kinks.py explains a deviating input gradient by ReLU inputs that lie within float32
rounding of 0. A max pool has the same kind of decision: when two values of a window are equal
to within rounding, float32 and float64 may pick different elements, and the gradient then
flows to the other one. This module extends the check to both:
  1. libnad computes every Relu node's and every MaxPool node's input (the ONNX graph cut to
     those tensors, run by `nad net forward`);
  2. every ReLU decision that differs from float64's is a kink (as relu_kinks.py), and every
     window whose pick differs holds a near-tie: float64's values of the two picks differ by at
     most KINK_TOL times the layer's largest |value|;
  3. PyTorch float64 run with libnad's ReLU sides and libnad's picks must give libnad's input
     gradient to 1e-4.
nn.MaxPool2d modules and F.max_pool2d calls are followed (torchvision uses both)."""
import os

import numpy as np
import torch
import torch.nn.functional as F

import relu_kinks
from relu_kinks import KINK_TOL, _Relu


class _Patch(relu_kinks._Patch):
    """relu_kinks' patch, plus max pooling (nn.MaxPool2d and F.max_pool2d): records inputs and
    arguments in call order and, where `picks` gives libnad's flat indices, takes them instead
    of float64's."""

    def __init__(self, sides=None, picks=None):
        super().__init__(sides)
        self.picks, self.pool_inputs = picks or {}, []

    def relu(self, x, inplace=False):  # noqa: ARG002
        k = len(self.inputs)
        if k in self.sides:
            self.inputs.append(x.detach().numpy().copy())
            mask, value = (torch.from_numpy(a) for a in self.sides[k])
            y = _Relu.apply(x, mask.to(x.dtype))
            on = ~torch.isnan(value)  # libnad's tiny positive value where its side is 'on'
            return y + torch.where(on, value.to(x.dtype) - y.detach(), torch.zeros_like(y))
        return super().relu(x)

    def pool(self, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
             return_indices=False):
        k = len(self.pool_inputs)
        args = (kernel_size, stride if stride is not None else kernel_size, padding, dilation,
                ceil_mode)
        self.pool_inputs.append(x.detach().numpy().copy())
        self.pool_args.append(args)
        y, idx = self.max_pool2d(x, *args, return_indices=True)
        if k in self.picks:
            idx = torch.from_numpy(self.picks[k])
            y = x.flatten(2).gather(2, idx.flatten(2)).view_as(y)
        return (y, idx) if return_indices else y

    def __enter__(self):
        super().__enter__()
        self.pool_args = []
        self.saved_pool = (torch.nn.MaxPool2d.forward, F.max_pool2d)
        self.max_pool2d = F.max_pool2d
        torch.nn.MaxPool2d.forward = lambda mod, x: self.pool(
            x, mod.kernel_size, mod.stride, mod.padding, mod.dilation, mod.ceil_mode)
        F.max_pool2d = self.pool
        return self

    def __exit__(self, *exc):
        torch.nn.MaxPool2d.forward, F.max_pool2d = self.saved_pool
        super().__exit__(*exc)


def torch_grad(m, x, sides=None, picks=None):
    md = m.to(torch.float64)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    try:
        with _Patch(sides, picks) as p:
            md(xt)[:, 0].sum().backward()
    finally:
        m.float()
    return xt.grad.numpy(), p.inputs, p.pool_inputs, p.pool_args


def check(run, nad, model_path, shape, m, x, g, tmp):
    """(ok, message) as relu_kinks.check, with max-pool picks as a second kind of decision."""
    sub, xs, ys = (os.path.join(tmp, n) for n in ('cut.onnx', 'kx.npy', 'ky.npy'))
    kinds = relu_kinks.cut_model(model_path, sub, ('Relu', 'MaxPool'))
    np.save(xs, x)
    r = run(nad, 'net', 'forward', sub, '--input', 'x'.join(str(d) for d in shape), '--x', xs,
            '--out', ys, timeout=900)
    if r.rc != 0:
        return False, 'cut graph: net forward: ' + r.err
    flat = np.load(ys)
    _, relus, pools, pool_args = torch_grad(m, x)
    if kinds.count('Relu') != len(relus) or kinds.count('MaxPool') != len(pools):
        return False, 'torch calls %d ReLU / %d max pool, the graph has %d / %d' % (
            len(relus), len(pools), kinds.count('Relu'), kinds.count('MaxPool'))
    sides, picks, flips, ties, worst, rounding, at = {}, {}, 0, 0, 0.0, 0.0, 0
    ri = pi = 0
    for kind in kinds:
        v64 = relus[ri] if kind == 'Relu' else pools[pi]
        n = v64[0].size
        v = flat[:, at:at + n].reshape(v64.shape).astype(np.float64)
        at += n
        scale = max(np.abs(v64).max(), 1e-30)
        rounding = max(rounding, np.abs(v - v64).max() / scale)
        if kind == 'Relu':
            diff = (v > 0) != (v64 > 0)
            if diff.any():
                worst = max(worst, np.abs(v64[diff]).max() / scale,
                            np.abs(v[diff]).max() / scale)
                flips += int(diff.sum())
                sides[ri] = (np.where(diff, v > 0, v64 > 0),
                             np.where(diff & (v > 0), v, np.nan))
            ri += 1
            continue
        args = pool_args[pi]
        _, i64 = F.max_pool2d(torch.from_numpy(v64), *args, return_indices=True)
        _, i32 = F.max_pool2d(torch.from_numpy(v), *args, return_indices=True)
        diff = (i64 != i32).numpy()
        if diff.any():
            f64 = v64.reshape(v64.shape[0], v64.shape[1], -1)
            a = np.take_along_axis(f64, i64.numpy().reshape(f64.shape[0], f64.shape[1], -1), 2)
            b = np.take_along_axis(f64, i32.numpy().reshape(f64.shape[0], f64.shape[1], -1), 2)
            gap = np.abs(a - b).reshape(diff.shape)[diff]
            worst = max(worst, gap.max() / scale)
            ties += int(diff.sum())
            picks[pi] = i32.numpy()
        pi += 1
    gk, _, _, _ = torch_grad(m, x, sides, picks)
    err = float(np.abs(g - gk).max() / max(np.abs(gk).max(), 1e-30))
    msg = ('ReLU and max-pool inputs within %.1e of float64; %d ReLU decisions and %d max-pool '
           'picks differ, each within %.1e of a kink or tie; with libnad\'s decisions and picks, '
           'float64 gives libnad\'s input gradient to %.1e' % (rounding, flips, ties, worst, err))
    return rounding <= KINK_TOL and worst <= KINK_TOL and err <= 1e-4, msg
