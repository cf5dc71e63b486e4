"""lib/onnx on torchvision's exports: each model is exported with torch.onnx.export (opset 17,
eval mode, input 1x3x32x32, do_constant_folding=True; resnet18 also with
training=TrainingMode.PRESERVE, which keeps BatchNormalization) into a scratch directory, read
and shaped by onnx_describe (argv[1]), and compared with
  - the model's output shape (1, 1000), computed by torch on the same input (and the 12 outputs
    of a module of shape corner cases at 1x3x11x13: ceil_mode pools, dilation, groups, pads,
    steps, split, reductions, attention, views from x.shape);
  - onnx's own shape inference (python3-onnx, data_prop=True), value by value, where onnx knows
    the shape: at least 80 % of the node outputs must have been compared;
  - the initializers read by onnx's numpy_helper (shape and sum, i.e. the raw_data decoding),
    and the torch parameters of the same name (shape and sum);
  - what folding must leave: no Shape, Constant, ConstantOfShape, Equal, Where, Range, Cast node,
    every remaining node input a float tensor or a constant, every value shape known.
usage: onnx_models.py ONNX_DESCRIBE"""
import json
import os
import shutil
import sys
import tempfile

import nadtest
from nadtest import check

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:
    print('SKIP: torch, torchvision or numpy missing (%s): apt-get install python3-torchvision' % e)
    sys.exit(nadtest.SKIP)
try:
    import onnx
    import onnx.numpy_helper
    import onnx.shape_inference
except ImportError:
    onnx = None
    print('note: python3-onnx is not installed: shapes are checked against torch only')

DESCRIBE = sys.argv[1]
SHAPE_OPS = {'Shape', 'Constant', 'ConstantOfShape', 'Equal', 'Where', 'Range', 'Cast', 'Size'}


def models():
    """(name, factory, export keyword arguments)"""
    vit = lambda: torchvision.models.VisionTransformer(  # noqa: E731
        image_size=32, patch_size=4, num_layers=6, num_heads=4, hidden_dim=192, mlp_dim=768)
    preserve = {'training': torch.onnx.TrainingMode.PRESERVE}
    return [('resnet18', torchvision.models.resnet18, {}),
            ('resnet18_bn', torchvision.models.resnet18, preserve),
            ('mobilenet_v2', torchvision.models.mobilenet_v2, {}),
            ('convnext_tiny', torchvision.models.convnext_tiny, {}),
            ('vit', vit, {}),
            ('efficientnet_b0', torchvision.models.efficientnet_b0, {}),
            ('shapes', Shapes, {})]


class Shapes(torch.nn.Module):
    """The shape rules' corner cases, each an output whose shape torch computes: odd sizes,
    asymmetric padding, dilation, groups, ceil_mode (with a last window dropped), pads,
    reductions, slicing with steps, split, shape-dependent views."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=(1, 2), dilation=2)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.pool_a = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.pool_b = nn.MaxPool2d(2, 2, padding=1, ceil_mode=True)
        self.pool_c = nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(8, 5)
        self.ln = nn.LayerNorm(8)

    def forward(self, x):
        c = self.dw(self.conv(x))
        t = c.flatten(2).transpose(1, 2)                      # tokens [1, HW, 8]
        att = torch.softmax(t @ t.transpose(1, 2) / 8 ** 0.5, dim=-1) @ t
        a, b = torch.split(c, [3, 5], dim=1)
        return (self.pool_a(x), self.pool_b(x), self.pool_c(x), c,
                self.fc(self.ln(att)), x[:, :, 1::3, ::2],
                torch.nn.functional.pad(x, (1, 2, 0, 3)), a, b,
                x.mean(dim=(2, 3)), x.view(x.shape[0], -1),
                torch.cat([a, b, a], dim=1).reshape(x.shape[0], 5, -1))


def export(factory, kw, path):
    torch.manual_seed(0)
    m = factory().eval()
    x = torch.randn(*input_shape(factory))
    with torch.no_grad():
        y = m(x)
    torch.onnx.export(m, x, path, opset_version=17, do_constant_folding=True, **kw)
    ys = y if isinstance(y, tuple) else (y,)
    return m, [list(t.shape) for t in ys]


def input_shape(factory):
    return (1, 3, 11, 13) if factory is Shapes else (1, 3, 32, 32)


def onnx_shapes(path):
    """{value name: shape} for every tensor whose shape onnx's inference knows fully."""
    model = onnx.shape_inference.infer_shapes(onnx.load(path), data_prop=True)
    out = {}
    for vi in list(model.graph.value_info) + list(model.graph.output) + list(model.graph.input):
        t = vi.type.tensor_type
        if t.HasField('shape') and all(d.HasField('dim_value') for d in t.shape.dim):
            out[vi.name] = [d.dim_value for d in t.shape.dim]
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    return out, inits


def check_folding(name, d):
    left = sorted({n['op'] for n in d['nodes']} & SHAPE_OPS)
    check(name + ' shape ops folded', not left, 'left: %s' % left)
    vals = d['values']
    unknown = [v for v, x in vals.items() if x['shape'] is None]
    check(name + ' every shape known', not unknown, '%d unknown, e.g. %s' % (len(unknown), unknown[:3]))
    bad = []
    for n in d['nodes']:
        for i in n['inputs']:
            if i is not None and vals[i]['dtype'] != 'float' and vals[i]['kind'] != 'const' \
                    and vals[i]['kind'] != 'init':
                bad.append('%s <- %s (%s)' % (n['op'], i, vals[i]['dtype']))
    check(name + ' node inputs are float or constant', not bad, str(bad[:3]))


def check_onnx(name, d, path, yshapes):
    shapes, inits = onnx_shapes(path)
    vals = d['values']
    node_outs = [v for v, x in vals.items() if x['kind'] in ('node', 'const')]
    compared = [v for v in node_outs if v in shapes]
    wrong = [(v, vals[v]['shape'], shapes[v]) for v in compared if vals[v]['shape'] != shapes[v]]
    # onnx 1.12's inference keeps a ceil_mode pool's last window even when it starts in the
    # right padding; torch (and onnxruntime) drop it. Where torch computed the value (an output)
    # and agrees with us, onnx is the one that differs.
    outs = {o['name']: s for o, s in zip(d['outputs'], yshapes)}
    torch_right = [w for w in wrong if outs.get(w[0]) == w[1]]
    wrong = [w for w in wrong if w not in torch_right]
    if torch_right:
        print('note: %s: onnx differs from torch (and libnad) on %s' % (name, torch_right))
    check(name + ' shapes = onnx shape inference', not wrong, str(wrong[:3]))
    check(name + ' most shapes compared with onnx', len(compared) >= 0.8 * len(node_outs),
          '%d of %d' % (len(compared), len(node_outs)))
    mine = d['initializers']
    check(name + ' same initializers as onnx', set(mine) == set(inits),
          str(sorted(set(mine) ^ set(inits))[:5]))
    off = []
    for k, a in inits.items():
        if k in mine:
            ref = float(np.sum(a.astype(np.float64)))
            if mine[k]['shape'] != list(a.shape) or \
                    abs(mine[k]['sum'] - ref) > 1e-6 * max(1.0, float(np.sum(np.abs(a)))):
                off.append((k, mine[k]['shape'], list(a.shape), mine[k]['sum'], ref))
    check(name + ' initializer values = numpy_helper', not off, str(off[:3]))
    return len(compared)


def check_torch(name, d, module, yshapes, xshape):
    outs = [o['shape'] for o in d['outputs']]
    check(name + ' output shapes = torch', outs == yshapes, '%s vs %s' % (outs, yshapes))
    check(name + ' input shape', d['inputs'][0]['shape'] == list(xshape), str(d['inputs']))
    params = dict(module.named_parameters())
    params.update(dict(module.named_buffers()))
    mine = d['initializers']
    same = [k for k in mine if k in params]
    off = []
    for k in same:
        p = params[k].detach().double()
        ref, scale = float(p.sum()), float(p.abs().sum())
        if mine[k]['shape'] != list(p.shape) or abs(mine[k]['sum'] - ref) > 1e-6 * max(1, scale):
            off.append((k, mine[k]['shape'], list(p.shape), mine[k]['sum'], ref))
    check(name + ' initializers = torch parameters of that name', not off and len(same) >= 1,
          '%d compared, %s' % (len(same), off[:3]))
    return len(same)


def main():
    scratch = tempfile.mkdtemp(prefix='onnx-models-', dir=os.environ.get('TMPDIR') or None)
    try:
        for name, factory, kw in models():
            path = os.path.join(scratch, name + '.onnx')
            module, yshape = export(factory, kw, path)
            r = nadtest.run(DESCRIBE, path, *input_shape(factory))
            check(name + ' read and shaped', r.rc == 0, r.out[-400:] + r.err[-400:])
            if r.rc != 0:
                continue
            d = json.loads(r.out)
            check(name + ' opset', d['opset'] == 17, str(d['opset']))
            check_folding(name, d)
            n_torch = check_torch(name, d, module, yshape, input_shape(factory))
            n_onnx = check_onnx(name, d, path, yshape) if onnx else 0
            ops = d['ops']
            print('%-16s %4d nodes read, %4d after folding, %3d shapes = onnx, %3d tensors = torch; '
                  'ops %s' % (name, sum(d['ops_read'].values()), sum(ops.values()), n_onnx,
                              n_torch, ' '.join('%s:%d' % kv for kv in sorted(ops.items()))))
            if name == 'resnet18_bn':
                check(name + ' keeps BatchNormalization', ops.get('BatchNormalization') == 20,
                      str(ops))
            if name == 'vit':  # the class token joins the 8x8 patches: 65 tokens of 192
                cat = [n for n in d['nodes'] if n['op'] == 'Concat']
                check('vit class token concat', len(cat) == 1 and
                      d['values'][cat[0]['outputs'][0]]['shape'] == [1, 65, 192], str(cat))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    nadtest.finish()


main()
