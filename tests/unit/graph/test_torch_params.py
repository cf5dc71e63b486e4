#!/usr/bin/python3
"""Every libnad builtin against its PyTorch definition (tests/python/torch_models.py).

For each architecture, input shape and output count: libnad accepts the shape exactly when
PyTorch can build and run the model; then the tensor table equals the state_dict (names,
sizes, order, without num_batches_tracked), the trainable count equals
sum(p.numel() for p in model.parameters()), the output shape matches, and the conv/linear/gemm
FLOPs equal those computed from PyTorch's actual tensor shapes (attention's projections
included).
Models are built on the 'meta' device (no memory), plus one real CPU forward per small model.

usage: test_torch_params.py GRAPH_DUMP TORCH_MODELS_DIR
"""
import json
import subprocess
import sys

try:
    import torch
    import torch.nn as nn
except ImportError:
    print('torch not available: skipped')
    sys.exit(77)

sys.path.insert(0, sys.argv[2])
import torch_models  # noqa: E402
from nadtest import check, finish  # noqa: E402 (PYTHONPATH: tests/python)

DUMP = sys.argv[1]
NAD_ERR_SHAPE = 10


def dump(*args):
    out = subprocess.run([DUMP] + [str(a) for a in args], check=True, stdout=subprocess.PIPE)
    return json.loads(out.stdout)


def torch_side(name, c, h, w, k):
    """(model, output shape, conv/linear flops) or None when PyTorch refuses the shape."""
    try:
        model = torch_models.ARCHS[name](c, h, w, k, device='meta').eval()
    except (ValueError, RuntimeError):
        return None
    flops = [0]

    def linear(rows, n_in, n_out, bias):
        return rows * (2 * n_in * n_out + (n_out if bias else 0))

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            i = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
            flops[0] += 2 * out.numel() * i + (out.numel() if mod.bias is not None else 0)
        elif isinstance(mod, nn.MultiheadAttention):  # its projections are not module calls
            e = mod.embed_dim
            rows = out[0].numel() // e  # (called with keywords: inp is empty)
            flops[0] += linear(rows, e, 3 * e, True) + linear(rows, e, e, True)
        else:  # a Linear on (..., in): every row (ConvNeXt's channels-last, ViT's tokens)
            flops[0] += linear(out.numel() // mod.out_features, mod.in_features,
                               mod.out_features, mod.bias is not None)

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.MultiheadAttention)):
            m.register_forward_hook(hook)
    try:
        with torch.no_grad():
            y = model(torch.zeros(1, c, h, w, device='meta'))
    except (ValueError, RuntimeError):
        return None
    return model, tuple(y.shape), flops[0]


def compare(name, c, h, w, k):
    tag = '%s %dx%dx%d k=%d' % (name, c, h, w, k)
    nad = dump('builtin', name, c, h, w, k)
    ref = torch_side(name, c, h, w, k)
    if ref is None:
        check('%s: PyTorch refuses the shape, libnad says %d (%s)'
              % (tag, nad['status'], nad['message']), nad['status'] == NAD_ERR_SHAPE)
        return False
    check('%s: PyTorch accepts the shape, libnad says %d (%s)'
          % (tag, nad['status'], nad['message']), nad['status'] == 0)
    if nad['status'] != 0:
        return False
    model, yshape, flops = ref
    entries = torch_models.state_entries(model)
    want = [(n, t.numel()) for n, t in entries]
    got = [(t[0], t[2]) for t in nad['tensors']]
    check('%s: tensor table differs from the state_dict:\n  libnad %s\n  torch  %s'
          % (tag, got[:8], want[:8]), got == want)
    offs = [t[1] for t in nad['tensors']]
    check('%s: offsets are not the state_dict prefix sums' % tag,
          offs == [sum(n for _, n in want[:i]) for i in range(len(want))])
    trainable = {n for n, _ in model.named_parameters()}
    check('%s: trainable flags' % tag, {t[0] for t in nad['tensors'] if t[3]} == trainable)
    n_train = sum(p.numel() for p in model.parameters())
    check('%s: trainable %d, torch %d'
          % (tag, nad['n_trainable'], n_train), nad['n_trainable'] == n_train)
    n_state = sum(n for _, n in want)
    check('%s: state floats %d, torch %d'
          % (tag, nad['n_params'], n_state), nad['n_params'] == n_state)
    check('%s: output shape %s / %s' % (tag, yshape, nad['layers'][-1]['out_shape']),
          yshape == (1, k) and nad['layers'][-1]['out_shape'] == [k, 1, 1])
    nad_flops = sum(l['flops'] for l in nad['layers']
                    if l['desc'].startswith(('conv2d', 'linear', 'gemm')))
    check('%s: conv+linear flops %d, torch shapes give %d'
          % (tag, nad_flops, flops), nad_flops == flops)
    return True


def main():
    names = dump('list')
    check('builtin names %s vs torch_models %s'
          % (names, sorted(torch_models.ARCHS)), sorted(names) == sorted(torch_models.ARCHS))
    shapes = [(1, 32, 32), (3, 32, 32), (3, 64, 64), (1, 28, 28), (2, 40, 24), (1, 16, 16),
              (1, 8, 8), (3, 25, 25), (1, 24, 24)]
    accepted = refused = 0
    for name in names:
        for (c, h, w) in shapes:
            for k in (1, 10):
                if compare(name, c, h, w, k):
                    accepted += 1
                else:
                    refused += 1
    # Both branches must be exercised.
    check('coverage: %d accepted, %d refused' % (accepted, refused), accepted > 80 and refused > 20)
    print('shapes: %d accepted, %d refused by both' % (accepted, refused))

    # Real (CPU) models in eval mode run and give (1, outputs); vgg11-nopool is skipped (1 GB).
    for name in names:
        if name == 'vgg11-nopool':
            continue
        torch.manual_seed(0)
        model = torch_models.ARCHS[name](1, 32, 32, 3).eval()
        with torch.no_grad():
            y = model(torch.randn(2, 1, 32, 32))
        check('%s: CPU forward' % name, tuple(y.shape) == (2, 3) and bool(torch.isfinite(y).all()))
        flat = torch_models.flat_params(model)
        nad = dump('builtin', name, 1, 32, 32, 3)
        check('%s: flat_params size' % name, flat.numel() == nad['n_params'])
        torch_models.load_flat_params(model, torch.arange(flat.numel(), dtype=torch.float32))
        check('%s: load_flat_params round trip' % name,
              bool((torch_models.flat_params(model) ==
                    torch.arange(flat.numel(), dtype=torch.float32)).all()))

    # The spec language describes the same LeNet as the builtin.
    spec = dump('spec', 'conv 6 k5; relu; maxpool 2; conv 16 k5; relu; maxpool 2; fc 120; relu; '
                'fc 84; relu; fc 1', 1, 32, 32)
    lenet = torch_models.ARCHS['lenet'](1, 32, 32, 1, device='meta')
    check('lenet spec tensor sizes', spec['status'] == 0 and [t[2] for t in spec['tensors']] ==
          [t.numel() for _, t in torch_models.state_entries(lenet)])

    finish()


if __name__ == '__main__':
    main()
