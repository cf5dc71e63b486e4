#!/usr/bin/python3
"""`nad` on ONNX models (issue 17 §3-4): every built-in's PyTorch twin (tests/python/
torch_models.py, libnad's tensor names and order) exported with torch.onnx.export, opset 17,
BatchNorm kept (TrainingMode.PRESERVE on an eval model), then
  - `nad net forward MODEL.onnx` (the file's own weights) equals PyTorch float64 (output and
    input gradient) and the built-in with the same weights (`--params`), layer by layer the
    same graph;
  - `nad estimate MODEL.onnx` gives the built-in's NADs for the same seed (same default
    initialisation of the same layers, in the same order): identical eigenvalues;
  - bad files are refused with the file, the node and the reason, and nothing is written;
  - torchvision's classifiers (issue 17's list; the quick run: ViT and mobilenet_v3_small)
    through `nad net forward` equal PyTorch float64, exported with BatchNorm kept and (full run,
    three models) as torch's default export folds it, at 3x32x32 and (three models) 3x224x224.
Usage: test_cli_onnx.py NAD_EXE. Exit 77 without torch."""
import json
import os
import shutil
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError:  # pragma: no cover
    print("numpy/torch not available: skipping")
    sys.exit(77)

from nadtest import check, finish, run  # noqa: E402
import torch_models  # noqa: E402
import relu_kinks  # noqa: E402

NAD = sys.argv[1]
torch.set_num_threads(1)
QUICK = os.environ.get('NAD_TEST_QUICK') == '1'
tmp = tempfile.mkdtemp(prefix='nad-onnx-')


def path(name):
    return os.path.join(tmp, name)


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def export(name, shape, seed=0):
    torch.manual_seed(seed)
    m = torch_models.ARCHS[name](shape[0], shape[1], shape[2], 1).eval()
    for mod in m.modules():  # BatchNorm away from its init, so that it is not the identity
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)
    f = path(name + '.onnx')
    torch.onnx.export(m, torch.zeros((1,) + shape), f, opset_version=17,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    return m, f


def torch_ref(m, x, dtype=torch.float64):
    md = m.to(dtype)
    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
    y = md(xt)
    y[:, 0].sum().backward()
    m.float()
    return y.detach().numpy(), xt.grad.numpy()


def check_grad(what, g, tg, m, x, f, shape):
    """Input gradient against torch float64, within 1e-4. A ReLU whose input lies within float32
    rounding of 0 may fall on the other side in libnad than in float64 and reroute the gradient
    (measured: one element of ~10^5..10^6 moves densenet121's gradient at 3x32x32 by 8e-3,
    resnet18's at 3x224x224 by 9.6e-4): then float64 with libnad's decisions at those kinks
    must give libnad's gradient within 1e-4 (relu_kinks.py)."""
    err = rel(g, tg)
    if err <= 1e-4:
        check(what, True)
        return err
    ok, msg = relu_kinks.check(run, NAD, f, shape, m, x, g, tmp)
    print(f"{what}: input gradient {err:.1e} from float64; {msg}", flush=True)
    check(f"{what}: input gradient {err:.2e} from float64; {msg}", ok)
    return err


def check_builtin(name, shape):
    m, f = export(name, shape)
    x = np.random.default_rng(5).standard_normal((2,) + shape).astype(np.float32)
    np.save(path('x.npy'), x)
    r = run(NAD, 'net', 'forward', f, '--x', path('x.npy'), '--out', path('y.npy'),
            '--grad', path('g.npy'))
    check(f"{name}: net forward: {r.err}", r.rc == 0)
    if r.rc != 0:
        return
    y, g = np.load(path('y.npy')), np.load(path('g.npy'))
    ty, tg = torch_ref(m, x)
    check(f"{name}: output vs PyTorch float64: {rel(y, ty):.2e}", rel(y, ty) <= 1e-5)
    check_grad(f"{name}: input gradient vs PyTorch float64", g, tg, m, x, f, shape)
    # the built-in with the model's weights, through torch_models' layout contract
    np.save(path('p.npy'), torch_models.flat_params(m).numpy())
    shp = 'x'.join(str(d) for d in shape)
    r = run(NAD, 'net', 'forward', name, '--input', shp, '--params', path('p.npy'), '--x',
            path('x.npy'), '--out', path('yb.npy'))
    check(f"{name}: the built-in with the same weights: {r.err}",
          r.rc == 0 and rel(np.load(path('yb.npy')), y) <= 1e-5)
    a = json.loads(run(NAD, 'arch', 'show', f, '--json').out or 'null')
    b = json.loads(run(NAD, 'arch', 'show', name, '--input', shp, '--json').out or 'null')
    # The same network up to how its layers are written: the export's Flatten before a Linear
    # is a layer of its own (a view), Dropout is gone in eval mode, ConvNeXt's layer scale is a
    # parameter of its Mul rather than a constant node. Equal parameters and FLOPs say that
    # nothing was added or lost (a GELU imported as five nodes would add FLOPs). ViT's export
    # scales q by a Div of its own in each of its 6 blocks (torch's multi-head attention): one
    # parameter (sqrt 48) and 65 x 192 divisions per block more.
    extra = {'vit': (6, 6 * 65 * 192)}.get(name, (0, 0))
    check(f"{name}: parameters and FLOPs of the import "
          f"{(a or {}).get('parameters')}, {(a or {}).get('flops')} against the built-in's "
          f"{(b or {}).get('parameters')}, {(b or {}).get('flops')} + {extra}",
          a is not None and b is not None and a['parameters'] - b['parameters'] == extra[0]
          and a['flops'] - b['flops'] == extra[1])


def check_estimate(name, shape, n):
    _, f = export(name, shape, seed=3)
    shp = 'x'.join(str(d) for d in shape)
    ra = run(NAD, 'estimate', f, '--networks', n, '--seed', 7, '--out', path('ea'), '--quiet')
    rb = run(NAD, 'estimate', name, '--input', shp, '--networks', n, '--seed', 7, '--out',
             path('eb'), '--quiet')
    check(f"{name}: estimate: {ra.err} {rb.err}", ra.rc == 0 and rb.rc == 0)
    if ra.rc == 0 and rb.rc == 0:
        ea, eb = np.load(path('ea/eigenvalues.npy')), np.load(path('eb/eigenvalues.npy'))
        check(f"{name}: NADs of the import vs the built-in: {rel(ea, eb):.2e}", rel(ea, eb) <= 1e-5)


def check_parts():
    """Issue 20: parts of an ONNX run name the model (file name, FNV-64), so the merge needs the
    file again and refuses another one."""
    _, f = export('lenet', (1, 32, 32), seed=3)
    mine = path('parts-lenet.onnx')
    shutil.copyfile(f, mine)
    _, g = export('lenet', (1, 32, 32), seed=4)  # other weights, same graph
    common = ['--networks', 20, '--seed', 7, '--threads', 2, '--quiet']
    r0 = run(NAD, 'estimate', mine, *common, '--out', path('pfull'))
    r1 = run(NAD, 'estimate', mine, *common, '--range', '0:8', '--checkpoint', path('p0.ck'))
    r2 = run(NAD, 'estimate', mine, *common, '--range', '8:20', '--checkpoint', path('p1.ck'))
    check(f"onnx parts: {r0.err} {r1.err} {r2.err}", r0.rc == 0 and r1.rc == 0 and r2.rc == 0)
    raw = open(path('p0.ck'), 'rb').read()
    check("the part names the model by its base name only",
          b'onnx=parts-lenet.onnx\n' in raw and tmp.encode() not in raw)
    r = run(NAD, 'merge', path('p0.ck'), path('p1.ck'), '--out', path('pm0'))
    check(f"onnx merge without the model: rc {r.rc}, {r.err}",
          r.rc != 0 and '--model' in r.err and 'parts-lenet.onnx' in r.err)
    r = run(NAD, 'merge', path('p0.ck'), path('p1.ck'), '--model', g, '--out', path('pm1'))
    check(f"onnx merge with another model: rc {r.rc}, {r.err}", r.rc != 0 and 'FNV-64' in r.err)
    r = run(NAD, 'merge', path('p0.ck'), path('p1.ck'), '--model', mine, '--quiet', '--out',
            path('pm'))
    check(f"onnx merge with the model: {r.err}", r.rc == 0)
    if r.rc == 0 and r0.rc == 0:
        ea, eb = np.load(path('pm/eigenvalues.npy')), np.load(path('pfull/eigenvalues.npy'))
        check(f"onnx parts merged = one run: {rel(ea, eb):.2e}", rel(ea, eb) <= 1e-12)
    r = run(NAD, 'estimate', '--resume', path('p0.ck'), '--model', mine, '--networks', 20,
            '--quiet', '--out', path('pres'))
    check(f"onnx resume with --model: {r.err}", r.rc == 0)
    if r.rc == 0 and r0.rc == 0:
        same = all(np.array_equal(np.load(path('pres/' + n)), np.load(path('pfull/' + n)))
                   for n in ('eigenvalues.npy', 'nads.npy', 'mean.npy'))
        check("onnx part resumed = one run, bit for bit", same)


def check_errors():
    _, f = export('lenet', (1, 32, 32))
    data = open(f, 'rb').read()
    bad = path('truncated.onnx')
    open(bad, 'wb').write(data[:len(data) // 2])
    r = run(NAD, 'net', 'forward', bad, '--x', path('x.npy'), '--out', path('never.npy'))
    check(f"truncated file: rc {r.rc}, {r.err}",
          r.rc != 0 and 'truncated.onnx' in r.err and not os.path.exists(path('never.npy')))
    junk = path('junk.onnx')
    open(junk, 'wb').write(b'this is not a model at all' * 10)
    r = run(NAD, 'arch', 'show', junk)
    check(f"non-ONNX bytes: {r.err}", r.rc != 0 and 'junk.onnx' in r.err)
    r = run(NAD, 'arch', 'show', path('missing.onnx'))
    check(f"missing file: {r.err}", r.rc != 0 and 'missing.onnx' in r.err)
    try:
        import onnx
        from onnx import helper, TensorProto
    except ImportError:
        print("python3-onnx not installed: the unsupported-operator check is not run")
        return
    node = helper.make_node('Bogus', ['x'], ['y'], name='my_bogus_node')
    g = helper.make_graph([node], 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT,
                                                                      [1, 1, 4, 4])],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 1, 4, 4])])
    mdl = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])
    onnx.save(mdl, path('bogus.onnx'))
    r = run(NAD, 'arch', 'show', path('bogus.onnx'))
    check(f"unsupported operator names node and operator: {r.err}",
          r.rc != 0 and 'my_bogus_node' in r.err and 'Bogus' in r.err)


def check_crafted():
    """Operators Swin and MaxViT need, on small hand-made graphs against numpy: ScatterND folded
    on constants (Swin's attention mask), Gather of a constant table by a matrix of indices
    (its relative position bias; kind gather_indices, then a reshape), Einsum as a batched
    matrix product each operand either way round (MaxViT's attention), and their refusals,
    which name the node and the reason."""
    try:
        import onnx
        from onnx import helper, numpy_helper, TensorProto
    except ImportError:
        print("python3-onnx not installed: the crafted operator checks are not run")
        return
    F = TensorProto.FLOAT
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 4)).astype(np.float32)
    np.save(path('xc.npy'), x)

    def model(name, nodes, out_shape, inits=()):
        g = helper.make_graph(nodes, name, [helper.make_tensor_value_info('x', F, [1, 3, 4, 4])],
                              [helper.make_tensor_value_info('y', F, out_shape)],
                              initializer=[numpy_helper.from_array(v, k) for k, v in inits])
        f = path(name + '.onnx')
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]), f)
        return f

    def forward(f):
        r = run(NAD, 'net', 'forward', f, '--x', path('xc.npy'), '--out', path('yc.npy'))
        return (np.load(path('yc.npy')) if r.rc == 0 else None), r

    # ScatterND on constants, then added: y = x + mask
    idx = np.array([[0, 0, 1, 2], [0, 2, 3, 3], [0, 0, 1, 2]], np.int64)  # the last one wins
    upd = np.array([5, -2, 7], np.float32)
    mask = np.zeros((1, 3, 4, 4), np.float32)
    mask[0, 0, 1, 2], mask[0, 2, 3, 3] = 7, -2

    def scatter(reduction=None, index=idx):
        kw = {'reduction': reduction} if reduction else {}
        # the updates as a Constant node, as torch writes them (a float initializer is a
        # parameter, drawn per network, never folded)
        return model('scatter', [
            helper.make_node('ConstantOfShape', ['shape'], ['zeros'],
                             value=helper.make_tensor('v', F, [1], [0.0])),
            helper.make_node('Constant', [], ['upd'], value=numpy_helper.from_array(upd)),
            helper.make_node('ScatterND', ['zeros', 'idx', 'upd'], ['mask'], name='the_scatter',
                             **kw),
            helper.make_node('Add', ['x', 'mask'], ['y'])], [1, 3, 4, 4],
            [('shape', np.array([1, 3, 4, 4], np.int64)), ('idx', index)])
    y, r = forward(scatter())
    check(f"ScatterND folded on constants: {r.err}",
          y is not None and np.allclose(y, (x + mask).reshape(2, -1), atol=1e-6))
    bad = idx.copy()
    bad[1, 3] = 4
    y, r = forward(scatter(index=bad))
    check(f"ScatterND index out of range: {r.err}",
          r.rc != 0 and 'the_scatter' in r.err and 'index 4 is out of range' in r.err)
    y, r = forward(scatter('add'))
    check(f"ScatterND with a reduction: {r.err}",
          r.rc != 0 and 'the_scatter' in r.err and 'ScatterND is not supported' in r.err)

    # Gather of a constant table by a (1, 4) matrix of indices, then added: (1, 4, 4) broadcast
    table = np.random.default_rng(6).standard_normal((5, 4)).astype(np.float32)

    def gather(index):
        return model('gather', [
            helper.make_node('Gather', ['table', 'gi'], ['bias'], name='the_gather'),
            helper.make_node('Add', ['x', 'bias'], ['y'])], [1, 3, 4, 4],
            [('table', table), ('gi', index)])
    gi = np.array([[4, 0, -1, 2]], np.int64)
    y, r = forward(gather(gi))
    check(f"Gather of a constant table by a matrix of indices: {r.err}",
          y is not None and np.allclose(y, (x + table[gi % 5]).reshape(2, -1), atol=1e-6))
    y, r = forward(gather(np.array([[4, 0, 5, 2]], np.int64)))
    check(f"Gather index out of range: {r.err}",
          r.rc != 0 and 'the_gather' in r.err and 'index 5 is out of range' in r.err)

    # Einsum: x·xᵀ over the last axis, and attention's second product, every orientation
    def einsum(eq, out_shape):
        return model('einsum', [helper.make_node('Einsum', ['x', 'x'], ['y'], equation=eq,
                                                 name='the_einsum')], out_shape)
    for eq, shape in (('bhid,bhjd->bhij', [1, 3, 4, 4]), ('bhid,bhdj->bhij', [1, 3, 4, 4]),
                      ('bhdi,bhdj->bhij', [1, 3, 4, 4]), ('bhdi,bhjd->bhij', [1, 3, 4, 4]),
                      ('B H I D , B H J D -> B H I J', [1, 3, 4, 4])):
        y, r = forward(einsum(eq, shape))
        want = np.einsum(eq.replace(' ', '').lower(), x.astype(np.float64), x.astype(np.float64))
        check(f"Einsum '{eq}': {r.err}",
              y is not None and np.allclose(y, want.reshape(2, -1), rtol=1e-5, atol=1e-5))
    for eq, why in (('bhii,bhij->bhij', 'batched matrix products'),
                    ('bhid,bhjd->bhji', 'batched matrix products'),
                    ('...id,...jd->...ij', 'batched matrix products')):
        y, r = forward(einsum(eq, [1, 3, 4, 4]))
        check(f"Einsum '{eq}': {r.err}", r.rc != 0 and 'the_einsum' in r.err and why in r.err)


def check_gelu():
    """nn.GELU as torch.onnx writes it before opset 20, Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)),
    0.5), becomes one gelu layer (each binary node's operands either way round); the same
    chain with another constant, or with an intermediate value read twice, stays node by node.
    The same for nn.SiLU, Mul(x, Sigmoid(x)). Values against float64."""
    try:
        import onnx
        from onnx import helper, numpy_helper, TensorProto
    except ImportError:
        print("python3-onnx not installed: the GELU checks are not run")
        return
    from math import erf, sqrt
    x = np.random.default_rng(7).standard_normal((2, 3, 4, 4)).astype(np.float32) * 3
    np.save(path('xg.npy'), x)
    xd = x.astype(np.float64)
    exact = xd * 0.5 * (1 + np.vectorize(erf)(xd / sqrt(2)))

    def model(name, nodes, inits):
        g = helper.make_graph(nodes, name, [helper.make_tensor_value_info(
            'x', TensorProto.FLOAT, [1, 3, 4, 4])], [helper.make_tensor_value_info(
                'y', TensorProto.FLOAT, [1, 3, 4, 4])],
            initializer=[numpy_helper.from_array(np.array(v, np.float32), k) for k, v in inits])
        f = path(name + '.onnx')
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]), f)
        return f

    def chain(swap=False, half=0.5, extra=False):
        o = (lambda a, b: [b, a]) if swap else (lambda a, b: [a, b])
        nodes = [helper.make_node('Div', ['x', 'r2'], ['d']),
                 helper.make_node('Erf', ['d'], ['e']),
                 helper.make_node('Add', o('e', 'one'), ['a']),
                 helper.make_node('Mul', o('x', 'a'), ['m']),
                 helper.make_node('Mul', o('m', 'half'), ['y' if not extra else 'g'])]
        if extra:  # the Erf's output read again: y = gelu(x) + erf(x / sqrt 2)
            nodes.append(helper.make_node('Add', ['g', 'e'], ['y']))
        return model('gelu_chain', nodes, [('r2', [sqrt(2)]), ('one', [1.0]), ('half', [half])])

    def show(f):
        r = run(NAD, 'arch', 'show', f, '--json')
        return [l['desc'].split()[0] for l in json.loads(r.out)['layers']] if r.rc == 0 else r.err

    def forward(f):
        r = run(NAD, 'net', 'forward', f, '--x', path('xg.npy'), '--out', path('yg.npy'))
        return (np.load(path('yg.npy')).astype(np.float64) if r.rc == 0 else None), r

    for swap in (False, True):
        f = chain(swap)
        kinds = show(f)
        y, r = forward(f)
        check(f"GELU chain (operands swapped: {swap}) fused: layers {kinds}, {r.err}",
              kinds == ['gelu'] and y is not None and
              np.abs(y - exact.reshape(2, -1)).max() <= 1e-6 * np.abs(exact).max())
    f = chain(half=0.6)
    kinds, (y, r) = show(f), forward(f)
    check(f"GELU chain with 0.6: node by node, layers {kinds}, {r.err}",
          isinstance(kinds, list) and 'gelu' not in kinds and len(kinds) == 5 and y is not None
          and np.allclose(y, 1.2 * exact.reshape(2, -1), rtol=1e-5, atol=1e-5))
    f = chain(extra=True)
    kinds, (y, r) = show(f), forward(f)
    want = exact + np.vectorize(erf)(xd / sqrt(2))
    check(f"GELU chain whose Erf is read twice: node by node, layers {kinds}, {r.err}",
          isinstance(kinds, list) and 'gelu' not in kinds and y is not None
          and np.allclose(y, want.reshape(2, -1), rtol=1e-5, atol=1e-5))

    # nn.SiLU as torch writes it, Mul(x, Sigmoid(x)): one silu layer; a gate x * Sigmoid(-x)
    # and a Sigmoid read twice stay node by node
    sig = 1 / (1 + np.exp(-xd))
    for swap in (False, True):
        f = model('silu', [helper.make_node('Sigmoid', ['x'], ['s']),
                           helper.make_node('Mul', ['s', 'x'] if swap else ['x', 's'], ['y'])], [])
        kinds, (y, r) = show(f), forward(f)
        check(f"SiLU (operands swapped: {swap}) fused: layers {kinds}, {r.err}",
              kinds == ['silu'] and y is not None
              and np.abs(y - (xd * sig).reshape(2, -1)).max() <= 1e-6 * np.abs(xd * sig).max())
    f = model('gate', [helper.make_node('Neg', ['x'], ['n']),
                       helper.make_node('Sigmoid', ['n'], ['s']),
                       helper.make_node('Mul', ['x', 's'], ['y'])], [])
    kinds, (y, r) = show(f), forward(f)
    check(f"a gate x * Sigmoid(-x): node by node, layers {kinds}, {r.err}",
          kinds == ['neg', 'sigmoid', 'mul'] and y is not None
          and np.allclose(y, (xd * (1 - sig)).reshape(2, -1), rtol=1e-5, atol=1e-6))
    f = model('silu2', [helper.make_node('Sigmoid', ['x'], ['s']),
                        helper.make_node('Mul', ['x', 's'], ['m']),
                        helper.make_node('Add', ['m', 's'], ['y'])], [])
    kinds, (y, r) = show(f), forward(f)
    check(f"a Sigmoid read twice: node by node, layers {kinds}, {r.err}",
          kinds == ['sigmoid', 'mul', 'add'] and y is not None
          and np.allclose(y, (xd * sig + sig).reshape(2, -1), rtol=1e-5, atol=1e-6))


def check_degenerate_response():
    """f = c * Gemm(x) + 1 (Gemm drawn by libnad, c and 1 the file's constants): c = 1e-8
    leaves only float32 rounding of 1 in the dipoles, a few ulps (a warning, NADs written;
    1e-9 leaves none at all), c = 0 no response at all (an error, as any run without a positive eigenvalue); both say
    "degenerate_response": true in summary.json, lenet false."""
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        print("python3-onnx not installed: the degenerate-response check is not run")
        return
    for c, rc_ok in ((1e-8, True), (0.0, False)):
        w = np.random.default_rng(1).standard_normal((1, 16)).astype(np.float32)
        init = [numpy_helper.from_array(w, 'fc.weight'),
                numpy_helper.from_array(np.zeros(1, np.float32), 'fc.bias'),
                numpy_helper.from_array(np.array([c], np.float32), 'c'),
                numpy_helper.from_array(np.array([1.0], np.float32), 'one')]
        nodes = [helper.make_node('Flatten', ['x'], ['f'], axis=1),
                 helper.make_node('Gemm', ['f', 'fc.weight', 'fc.bias'], ['h'], transB=1),
                 helper.make_node('Mul', ['h', 'c'], ['hc']),
                 helper.make_node('Add', ['hc', 'one'], ['y'])]
        g = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info(
            'x', onnx.TensorProto.FLOAT, [1, 1, 4, 4])], [helper.make_tensor_value_info(
                'y', onnx.TensorProto.FLOAT, [1, 1])], init)
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]),
                  path('flat.onnx'))
        r = run(NAD, 'estimate', path('flat.onnx'), '--networks', 8, '--out', path('deg'),
                '--quiet')
        s = json.load(open(path('deg/summary.json'))) if os.path.exists(
            path('deg/summary.json')) else {}
        check(f"last layer x {c}: rc {r.rc}, summary {s.get('degenerate_response')}, {r.err}",
              (r.rc == 0) == rc_ok and s.get('degenerate_response') is True
              and ('degenerate response' in r.err) == rc_ok)
    r = run(NAD, 'estimate', 'lenet', '--networks', 8, '--out', path('len'), '--quiet')
    s = json.load(open(path('len/summary.json'))) if r.rc == 0 else {}
    check(f"lenet: rc {r.rc}, degenerate_response {s.get('degenerate_response')}, {r.err}",
          r.rc == 0 and s.get('degenerate_response') is False and 'degenerate' not in r.err)


def torchvision_models():
    """name -> factory: the models issue 17 names (10 classes, so that no head is one output)."""
    try:
        import torchvision
        from torchvision.models.maxvit import MaxVit
        from torchvision.models.swin_transformer import SwinTransformer
        from torchvision.models.vision_transformer import VisionTransformer
    except ImportError:
        print("python3-torchvision not installed: torchvision's models are not checked")
        return {}
    tv = torchvision.models
    models = {
        'vit': lambda: VisionTransformer(image_size=32, patch_size=4, num_layers=6, num_heads=4,
                                         hidden_dim=192, mlp_dim=768, num_classes=10),
        'mobilenet_v3_small': lambda: tv.mobilenet_v3_small(num_classes=10),
        # small Swin and MaxViT: at 32x32 the Swin's windows of 3 pad its 8x8 and 4x4 token
        # grids and shift them (the attention masks: ScatterND on constants), and both read
        # their relative position bias tables through fixed indices (gather_indices); MaxViT's
        # attention is Einsum
        'swin': lambda: SwinTransformer(patch_size=[4, 4], embed_dim=24, depths=[2, 2],
                                        num_heads=[2, 4], window_size=[3, 3],
                                        stochastic_depth_prob=0.0, num_classes=10),
        'maxvit': lambda: MaxVit(input_size=(32, 32), stem_channels=16, partition_size=2,
                                 block_channels=[32, 64], block_layers=[1, 1], head_dim=16,
                                 stochastic_depth_prob=0.0, num_classes=10),
    }
    if not QUICK:
        for n in ('resnet18', 'resnet50', 'vgg11_bn', 'densenet121', 'mobilenet_v2',
                  'efficientnet_b0', 'convnext_tiny', 'swin_t'):
            models[n] = (lambda f: lambda: f(num_classes=10))(getattr(tv, n))
    return models


def check_torchvision(name, factory, shape, fold):
    """The model's own weights through `nad net forward` against PyTorch float64; exported as
    libnad's Python binding does (BatchNorm kept) or as torch does by default (BatchNorm folded
    into the convolutions, constants folded)."""
    torch.manual_seed(0)
    m = relu_kinks.perturbed(factory().eval())
    f = path('%s-%d.onnx' % (name, fold))
    kw = {} if fold else {'training': torch.onnx.TrainingMode.PRESERVE}
    torch.onnx.export(m, torch.zeros((1,) + shape), f, opset_version=17,
                      do_constant_folding=bool(fold), **kw)
    x = np.random.default_rng(3).standard_normal((2,) + shape).astype(np.float32)
    np.save(path('x.npy'), x)
    shp = 'x'.join(str(d) for d in shape)
    r = run(NAD, 'net', 'forward', f, '--input', shp, '--x', path('x.npy'), '--out',
            path('y.npy'), '--grad', path('g.npy'), timeout=900)
    what = '%s %s%s' % (name, shp, ' (folded export)' if fold else '')
    check(f"{what}: net forward: {r.err}", r.rc == 0)
    if r.rc != 0:
        return
    ty, tg = torch_ref(m, x)
    y, g = np.load(path('y.npy')), np.load(path('g.npy'))
    check(f"{what}: output vs PyTorch float64: {rel(y, ty):.2e}", rel(y, ty) <= 1e-5)
    err = check_grad(what, g, tg, m, x, f, shape)
    print(f"{what}: output {rel(y, ty):.1e}, input gradient {err:.1e}", flush=True)


names = ['lenet', 'resnet18'] if QUICK else list(torch_models.ARCHS)
for name in names:
    shape = (3, 32, 32) if name in ('resnet18', 'densenet121') and not QUICK else (1, 32, 32)
    try:
        check_builtin(name, shape)
    except ValueError as e:  # the twin refuses a shape
        check(f"{name}: {e}", False)
check_estimate('lenet', (1, 32, 32), 40)
check_estimate('resnet18', (1, 32, 32), 4)
check_errors()
check_crafted()
check_gelu()
check_parts()
check_degenerate_response()
for name, factory in torchvision_models().items():
    # torch 1.13 cannot export vgg11_bn's AdaptiveAvgPool2d((7, 7)) of a 1x1 map (32x32 input)
    if name != 'vgg11_bn':
        check_torchvision(name, factory, (3, 32, 32), 0)
    if not QUICK and name in ('resnet18', 'mobilenet_v2', 'efficientnet_b0'):
        check_torchvision(name, factory, (3, 32, 32), 1)  # torch's default export: BN folded
    if not QUICK and name in ('resnet18', 'mobilenet_v2', 'vgg11_bn'):
        check_torchvision(name, factory, (3, 224, 224), 0)
sys.exit(finish())
