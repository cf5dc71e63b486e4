"""lib/onnx on torchvision's exports: each model is exported with torch.onnx.export (opset 17,
eval mode, input 1x3x32x32, do_constant_folding=True; resnet18 also with
training=TrainingMode.PRESERVE, which keeps BatchNormalization) into a scratch directory, read
and shaped by onnx_describe (argv[1]), and compared with
  - the model's output shape (1, 1000), computed by torch on the same input;
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
            ('efficientnet_b0', torchvision.models.efficientnet_b0, {})]


def export(factory, kw, path):
    torch.manual_seed(0)
    m = factory().eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        y = m(x)
    torch.onnx.export(m, x, path, opset_version=17, do_constant_folding=True, **kw)
    return m, tuple(y.shape)


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


def check_onnx(name, d, path):
    shapes, inits = onnx_shapes(path)
    vals = d['values']
    node_outs = [v for v, x in vals.items() if x['kind'] in ('node', 'const')]
    compared = [v for v in node_outs if v in shapes]
    wrong = [(v, vals[v]['shape'], shapes[v]) for v in compared if vals[v]['shape'] != shapes[v]]
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


def check_torch(name, d, module, yshape):
    outs = d['outputs']
    check(name + ' output shape = torch', len(outs) == 1 and tuple(outs[0]['shape']) == yshape,
          '%s vs %s' % (outs, yshape))
    check(name + ' input shape', d['inputs'][0]['shape'] == [1, 3, 32, 32], str(d['inputs']))
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
    check(name + ' initializers = torch parameters of that name', not off and len(same) >= 2,
          '%d compared, %s' % (len(same), off[:3]))
    return len(same)


def main():
    scratch = tempfile.mkdtemp(prefix='onnx-models-', dir=os.environ.get('TMPDIR') or None)
    try:
        for name, factory, kw in models():
            path = os.path.join(scratch, name + '.onnx')
            module, yshape = export(factory, kw, path)
            r = nadtest.run(DESCRIBE, path, 1, 3, 32, 32)
            check(name + ' read and shaped', r.rc == 0, r.out[-400:] + r.err[-400:])
            if r.rc != 0:
                continue
            d = json.loads(r.out)
            check(name + ' opset', d['opset'] == 17, str(d['opset']))
            check_folding(name, d)
            n_torch = check_torch(name, d, module, yshape)
            n_onnx = check_onnx(name, d, path) if onnx else 0
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
