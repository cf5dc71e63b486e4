"""PyTorch float64 with libnad's own ReLU decisions (issue 17: "float32 rounding near a ReLU
kink is not an error"), for test_cli_onnx.py.

A ReLU whose input lies within float32 rounding of 0 may fall on either side in any float32
computation; the side decides whether the input gradient flows through that element, and one
such element can move a deep network's input gradient by 1e-2 (densenet121 at 3x32x32: one
element of 8192 at -1.7e-8 of its layer's largest value in float64, +7.9e-8 in libnad). So when
libnad's input gradient misses PyTorch float64:
  1. libnad computes every Relu node's input: the ONNX graph is cut to those tensors, each
     flattened and all concatenated into one output, and run by `nad net forward`;
  2. libnad's ReLU inputs equal float64's to KINK_TOL times their layer's largest |v|, and
     every element whose side differs from float64's is a kink: |v| <= KINK_TOL times that
     largest |v|, in float64 and in libnad;
  3. PyTorch float64 run with libnad's sides at those elements (and float64's everywhere else)
     must give libnad's input gradient to the usual 1e-4.
A wrong backward, or a forward error that moves a decision away from a kink, still fails."""
import os

import numpy as np
import torch

# float32 rounding of a ReLU input relative to its layer's largest value: a few ulps of each
# term of its sums (measured flips: 1.7e-8 .. 8e-8)
KINK_TOL = 1e-5


class _Relu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask, None


class _Patch:
    """torch's ReLUs (module and functional) record their inputs in call order (the order of
    the exported Relu nodes) and take their sides from `sides` where given."""

    def __init__(self, sides=None):
        self.sides, self.inputs = sides or {}, []

    def relu(self, x, inplace=False):  # noqa: ARG002 (torch's signature)
        k = len(self.inputs)
        self.inputs.append(x.detach().numpy().copy())
        mask = (x > 0) if k not in self.sides else torch.from_numpy(self.sides[k])
        return _Relu.apply(x, mask.to(x.dtype))

    def __enter__(self):
        F = torch.nn.functional
        self.saved = (F.relu, torch.relu, torch.nn.ReLU.forward)
        F.relu = torch.relu = self.relu
        torch.nn.ReLU.forward = lambda mod, x: self.relu(x)
        return self

    def __exit__(self, *exc):
        torch.nn.functional.relu, torch.relu, torch.nn.ReLU.forward = self.saved


def torch_grad(m, x, sides=None):
    """Output 0's input gradient in float64, and every ReLU's input in call order."""
    md = m.to(torch.float64)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    try:
        with _Patch(sides) as p:
            md(xt)[:, 0].sum().backward()
    finally:
        m.float()
    return xt.grad.numpy(), p.inputs


def cut_model(model_path, out_path, ops=('Relu',)):
    """The graph cut to the first input of every node of the ops, flattened and concatenated (one
    output); the ops of those nodes in graph order."""
    import onnx
    from onnx import helper
    model = onnx.load(model_path)
    targets = [n.input[0] for n in model.graph.node if n.op_type in ops]
    prod = {o: n for n in model.graph.node for o in n.output}
    need, stack = set(), list(targets)
    while stack:
        v = stack.pop()
        if v not in need:
            need.add(v)
            stack.extend(i for i in (prod[v].input if v in prod else ()) if i)
    nodes = [n for n in model.graph.node if any(o in need for o in n.output)]
    flat = ['kink_flat_%d' % i for i in range(len(targets))]
    nodes += [helper.make_node('Flatten', [t], [f], axis=1) for t, f in zip(targets, flat)]
    nodes.append(helper.make_node('Concat', flat, ['kink_out'], axis=1))
    g = helper.make_graph(nodes, 'relu_inputs', [model.graph.input[0]],
                          [helper.make_tensor_value_info('kink_out', onnx.TensorProto.FLOAT,
                                                         None)],
                          [i for i in model.graph.initializer if i.name in need])
    onnx.save(helper.make_model(g, opset_imports=model.opset_import), out_path)
    return [n.op_type for n in model.graph.node if n.op_type in ops]


def check(run, nad, model_path, shape, m, x, g, tmp):
    """(ok, message): libnad's input gradient g equals PyTorch float64 with libnad's decisions at
    the ReLU kinks where they differ, and every differing decision is at a kink."""
    sub, xs, ys = (os.path.join(tmp, n) for n in ('relu_inputs.onnx', 'kx.npy', 'ky.npy'))
    try:
        n_relu = len(cut_model(model_path, sub))
    except ImportError:
        return False, 'python3-onnx is needed to compare the ReLU decisions'
    np.save(xs, x)
    shp = 'x'.join(str(d) for d in shape)
    r = run(nad, 'net', 'forward', sub, '--input', shp, '--x', xs, '--out', ys, timeout=900)
    if r.rc != 0:
        return False, 'ReLU inputs: net forward: ' + r.err
    flat = np.load(ys)
    _, ref = torch_grad(m, x)
    if len(ref) != n_relu:
        return False, '%d torch ReLU calls, %d Relu nodes' % (len(ref), n_relu)
    sides, flips, worst, rounding, at = {}, 0, 0.0, 0.0, 0
    for k, v64 in enumerate(ref):
        n = v64[0].size
        v = flat[:, at:at + n].reshape(v64.shape).astype(np.float64)
        at += n
        scale = max(np.abs(v64).max(), 1e-30)
        rounding = max(rounding, np.abs(v - v64).max() / scale)
        diff = (v > 0) != (v64 > 0)
        if diff.any():
            worst = max(worst, np.abs(v64[diff]).max() / scale, np.abs(v[diff]).max() / scale)
            flips += int(diff.sum())
            sides[k] = np.where(diff, v > 0, v64 > 0)
    gk, _ = torch_grad(m, x, sides)
    err = float(np.abs(g - gk).max() / max(np.abs(gk).max(), 1e-30))
    msg = ('ReLU inputs within %.1e of float64 (of their layer\'s largest); %d decisions of %d '
           'differ, the farthest from its kink at %.1e; with libnad\'s decisions, float64 gives '
           'libnad\'s input gradient to %.1e'
           % (rounding, flips, sum(a.size for a in ref), worst, err))
    return rounding <= KINK_TOL and worst <= KINK_TOL and err <= 1e-4, msg


def perturbed(m, heads=('head',)):
    """A model moved away from its initialisation's special values (zero heads, layer scale
    1e-6, BatchNorm identity), so that every layer shows in the output: every vector parameter
    and every parameter whose name holds one of `heads` gets N(0, 0.01) added."""
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for pn, p in m.named_parameters():
            if p.dim() <= 1 or any(h in pn for h in heads):
                p.add_(0.1 * torch.randn(p.shape, generator=g))
        for mod in m.modules():
            if hasattr(mod, 'layer_scale'):
                mod.layer_scale.fill_(0.5)
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2, generator=g)
                mod.running_var.uniform_(0.5, 1.5, generator=g)
    return m
