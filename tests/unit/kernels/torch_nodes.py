#!/usr/bin/python3
"""Kinds through node_apply against PyTorch float64 on identical inputs and weights: output,
input gradients and parameter gradients (float32 kernels, so relative 1e-5 / 1e-4).

Usage: torch_nodes.py NODE_APPLY_EXE. Families add their cases in their own sections below.
Exit code 77 (skip) without torch."""
import sys

try:
    import numpy as np
    import torch
except ImportError:  # pragma: no cover
    print("numpy/torch not available: skipping")
    sys.exit(77)

from nadtest import check, finish  # noqa: E402 (PYTHONPATH: tests/python)
from nodetest import NodeError, rel_err, run_node  # noqa: E402

torch.set_num_threads(1)
EXE = sys.argv[1]
rng = np.random.default_rng(20261206)


def torch_grads(fn, xs, params, dy):
    """y = fn(xs, params) in float64, then its gradients against dy."""
    tx = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    tp = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    y = fn(tx, tp)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return (y.detach().numpy(), [t.grad.numpy() for t in tx],
            [p.grad.numpy() if p.grad is not None else np.zeros(p.shape) for p in tp])


def compare(name, kind, xs, hp, params, fn, tol_y=1e-5, tol_g=1e-4):
    """Runs kind on xs (batch first) with the flat parameters `params` (a list of arrays in
    state_dict order) and compares with fn(torch inputs, torch params) in float64."""
    flat = np.concatenate([p.ravel() for p in params]) if params else np.zeros(0)
    with torch.no_grad():
        ty = fn([torch.tensor(x, dtype=torch.float64) for x in xs],
                [torch.tensor(p, dtype=torch.float64) for p in params]).numpy()
    dy = rng.standard_normal(ty.shape)
    y, dxs, dp, _, _ = run_node(EXE, kind, xs, hp, flat, dy)
    ty, tdx, tdp = torch_grads(fn, xs, params, dy)
    check(rel_err(y, ty) <= tol_y, f"{name}: forward rel err {rel_err(y, ty):.2e}")
    for j, (a, b) in enumerate(zip(dxs, tdx)):
        check(rel_err(a, b) <= tol_g, f"{name}: dx{j} rel err {rel_err(a, b):.2e}")
    if params:
        tflat = np.concatenate([g.ravel() for g in tdp])
        check(rel_err(dp, tflat) <= tol_g, f"{name}: dparams rel err {rel_err(dp, tflat):.2e}")


def expect_refused(name, kind, xs, hp, substr):
    try:
        run_node(EXE, kind, xs, hp, None, None)
        check(False, f"{name}: accepted")
    except NodeError as e:
        check(substr in str(e), f"{name}: message '{e}' lacks '{substr}'")


# ---- the existing kinds, through the generic path --------------------------------------------
x = rng.standard_normal((3, 1, 2, 7, 6))
w = rng.standard_normal((4, 2, 3, 3)) * 0.3
b = rng.standard_normal(4)
compare("conv2d k3 s2 p1", "conv2d", [x], {"out_c": 4, "k": 3, "stride": 2, "pad": 1, "bias": 1},
        [w, b], lambda t, p: torch.nn.functional.conv2d(t[0].squeeze(1), p[0], p[1], 2, 1)
        .unsqueeze(1))
compare("relu", "relu", [x], {}, [], lambda t, p: torch.relu(t[0]))
expect_refused("conv too big", "conv2d", [x], {"out_c": 4, "k": 9, "stride": 1, "bias": 1},
               "too small")

# ---- issue 17: windows ------------------------------------------------------------------------
F = torch.nn.functional


def conv_case(name, c, h, w, o, kh, kw, s=(1, 1), pads=(0, 0, 0, 0), d=(1, 1), groups=1,
              bias=True, batch=2, hp_extra=None):
    """conv2d in the general form; pads = (top, left, bottom, right)."""
    x = rng.standard_normal((batch, 1, c, h, w))
    params = [rng.standard_normal((o, c // groups, kh, kw)) * 0.3]
    if bias:
        params.append(rng.standard_normal(o))
    hp = {"out_c": o, "kh": kh, "kw": kw, "sh": s[0], "sw": s[1], "pad_t": pads[0],
          "pad_l": pads[1], "pad_b": pads[2], "pad_r": pads[3], "dh": d[0], "dw": d[1],
          "groups": groups, "bias": int(bias)}
    hp.update(hp_extra or {})

    def fn(t, p):
        xi = F.pad(t[0].squeeze(1), (pads[1], pads[3], pads[0], pads[2]))
        return F.conv2d(xi, p[0], p[1] if bias else None, s, 0, d, groups).unsqueeze(1)
    compare(name, "conv2d", [x], hp, params, fn)


conv_case("depthwise 3x3 s1", 8, 9, 7, 8, 3, 3, pads=(1, 1, 1, 1), groups=8)
conv_case("depthwise 3x3 s2 odd", 6, 11, 9, 6, 3, 3, s=(2, 2), pads=(1, 1, 1, 1), groups=6)
conv_case("depthwise x2 multiplier 5x5", 4, 10, 10, 8, 5, 5, pads=(2, 2, 2, 2), groups=4)
conv_case("depthwise s2 same-pad (0,0,1,1)", 5, 8, 8, 5, 3, 3, s=(2, 2), pads=(0, 0, 1, 1),
          groups=5, bias=False)
conv_case("depthwise dilation 2", 4, 9, 9, 4, 3, 3, pads=(2, 2, 2, 2), d=(2, 2), groups=4)
conv_case("grouped g2", 6, 7, 8, 4, 3, 3, pads=(1, 1, 1, 1), groups=2)
conv_case("grouped g4 s2", 8, 9, 9, 12, 3, 3, s=(2, 2), pads=(1, 1, 1, 1), groups=4)
conv_case("grouped g4 1x1", 8, 5, 6, 8, 1, 1, groups=4, bias=False)
conv_case("grouped g2 batch 40 (image groups)", 4, 6, 6, 6, 3, 3, pads=(1, 1, 1, 1), groups=2,
          batch=40)
conv_case("dilation 2", 3, 12, 11, 5, 3, 3, pads=(2, 2, 2, 2), d=(2, 2))
conv_case("dilation (2,3) s2", 3, 13, 14, 4, 3, 3, s=(2, 2), pads=(1, 3, 1, 3), d=(2, 3))
conv_case("1x7 inception", 4, 9, 9, 6, 1, 7, pads=(0, 3, 0, 3))
conv_case("7x1 inception", 4, 9, 9, 6, 7, 1, pads=(3, 0, 3, 0))
conv_case("asymmetric pads", 3, 8, 7, 4, 3, 4, pads=(0, 2, 1, 1))
conv_case("no bias", 3, 8, 8, 5, 3, 3, pads=(1, 1, 1, 1), bias=False)
conv_case("stride 2 odd sizes", 3, 15, 13, 4, 3, 3, s=(2, 2), pads=(1, 1, 1, 1))
conv_case("strides (1,2) 2x3", 3, 9, 10, 4, 2, 3, s=(1, 2), pads=(1, 0, 0, 1))
conv_case("stem 7x7 s2 p3", 3, 17, 17, 8, 7, 7, s=(2, 2), pads=(3, 3, 3, 3), bias=False)
conv_case("general form with agreeing legacy fields", 3, 8, 8, 4, 3, 3, pads=(1, 1, 1, 1),
          hp_extra={"k": 3, "stride": 1, "pad": 1})
# legacy square form with groups
x = rng.standard_normal((2, 1, 6, 8, 8))
wd = rng.standard_normal((6, 1, 3, 3)) * 0.3
bd = rng.standard_normal(6)
compare("legacy k3 s1 p1 groups 6", "conv2d", [x],
        {"out_c": 6, "k": 3, "stride": 1, "pad": 1, "groups": 6, "bias": 1}, [wd, bd],
        lambda t, p: F.conv2d(t[0].squeeze(1), p[0], p[1], 1, 1, 1, 6).unsqueeze(1))


def pool_case(name, kind, c, h, w, k, s, pad=(0, 0), ceil=False, cip=False, batch=2):
    x = rng.standard_normal((batch, 1, c, h, w))
    hp = {"kh": k[0], "kw": k[1], "sh": s[0], "sw": s[1], "pad_t": pad[0], "pad_l": pad[1],
          "pad_b": pad[0], "pad_r": pad[1], "ceil_mode": int(ceil), "count_include_pad": int(cip)}
    if kind == "maxpool":
        def fn(t, p):
            return F.max_pool2d(t[0].squeeze(1), k, s, pad, ceil_mode=ceil).unsqueeze(1)
    else:
        def fn(t, p):
            return F.avg_pool2d(t[0].squeeze(1), k, s, pad, ceil_mode=ceil,
                                count_include_pad=cip).unsqueeze(1)
    compare(name, kind, [x], hp, [], fn)


pool_case("maxpool 3x3 s2 p1 (resnet stem)", "maxpool", 3, 16, 16, (3, 3), (2, 2), (1, 1))
pool_case("maxpool 3x3 s2 p1 odd", "maxpool", 3, 15, 13, (3, 3), (2, 2), (1, 1))
pool_case("maxpool 3x3 s2 ceil (squeezenet)", "maxpool", 4, 14, 14, (3, 3), (2, 2), ceil=True)
pool_case("maxpool 3x3 s2 ceil odd", "maxpool", 2, 13, 12, (3, 3), (2, 2), ceil=True)
pool_case("maxpool 2x2 s2 ceil odd", "maxpool", 2, 7, 9, (2, 2), (2, 2), ceil=True)
pool_case("maxpool 3x3 s1 p1 ceil (googlenet)", "maxpool", 2, 8, 8, (3, 3), (1, 1), (1, 1),
          ceil=True)
pool_case("maxpool 3x3 s2 p1 ceil", "maxpool", 2, 10, 11, (3, 3), (2, 2), (1, 1), ceil=True)
pool_case("maxpool 2x3 s(1,2)", "maxpool", 2, 7, 9, (2, 3), (1, 2))
pool_case("avgpool 3x3 s2 p1 exclude pad", "avgpool", 3, 11, 10, (3, 3), (2, 2), (1, 1))
pool_case("avgpool 3x3 s2 p1 include pad", "avgpool", 3, 11, 10, (3, 3), (2, 2), (1, 1),
          cip=True)
pool_case("avgpool 3x3 s1 p1 include pad", "avgpool", 3, 6, 7, (3, 3), (1, 1), (1, 1),
          cip=True)
pool_case("avgpool 3x3 s2 ceil include pad", "avgpool", 2, 10, 10, (3, 3), (2, 2), (1, 1),
          ceil=True, cip=True)
pool_case("avgpool 3x3 s2 ceil exclude pad", "avgpool", 2, 10, 10, (3, 3), (2, 2), (1, 1),
          ceil=True)
pool_case("avgpool 2x2 s2 ceil odd", "avgpool", 2, 7, 9, (2, 2), (2, 2), ceil=True, cip=True)
pool_case("avgpool 2x4 s(2,3)", "avgpool", 2, 8, 11, (2, 4), (2, 3))
for hw in [(1, 1), (2, 2), (5, 5), (9, 9), (14, 14), (6, 11)]:
    xa = rng.standard_normal((2, 1, 3) + hw)
    compare(f"adaptive_avgpool 7x7 from {hw}", "adaptive_avgpool", [xa],
            {"pool_oh": 7, "pool_ow": 7}, [],
            lambda t, p: F.adaptive_avg_pool2d(t[0].squeeze(1), (7, 7)).unsqueeze(1))
xa = rng.standard_normal((2, 1, 3, 10, 4))
compare("adaptive_avgpool 3x5 from 10x4", "adaptive_avgpool", [xa],
        {"pool_oh": 3, "pool_ow": 5}, [],
        lambda t, p: F.adaptive_avg_pool2d(t[0].squeeze(1), (3, 5)).unsqueeze(1))

xr = rng.standard_normal((1, 1, 6, 8, 8))
expect_refused("groups not dividing channels", "conv2d", [xr],
               {"out_c": 8, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "groups": 4}, "must divide")
expect_refused("groups not dividing out channels", "conv2d", [xr],
               {"out_c": 8, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "groups": 3}, "must divide")
expect_refused("kernel larger than padded input", "conv2d", [xr],
               {"out_c": 2, "kh": 9, "kw": 3, "sh": 1, "sw": 1, "pad_t": 0}, "too small")
expect_refused("dilated kernel larger than input", "conv2d", [xr],
               {"out_c": 2, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "dh": 4, "dw": 1}, "too small")
expect_refused("zero stride", "conv2d", [xr],
               {"out_c": 2, "kh": 3, "kw": 3, "sh": 0, "sw": 1}, "strides >= 1")
expect_refused("legacy zero stride", "conv2d", [xr],
               {"out_c": 2, "k": 3, "stride": 0}, "stride >= 1")
expect_refused("negative pad", "conv2d", [xr],
               {"out_c": 2, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "pad_l": -1}, "paddings >= 0")
expect_refused("negative dilation", "conv2d", [xr],
               {"out_c": 2, "kh": 3, "kw": 3, "sh": 1, "sw": 1, "dh": -1}, "dilations >= 1")
expect_refused("legacy and general disagree", "conv2d", [xr],
               {"out_c": 2, "k": 5, "stride": 1, "kh": 3, "kw": 3, "sh": 1, "sw": 1}, "differ")
expect_refused("conv ceil_mode", "conv2d", [xr],
               {"out_c": 2, "k": 3, "stride": 1, "ceil_mode": 1}, "ceil_mode")
expect_refused("maxpool zero stride", "maxpool", [xr], {"kh": 2, "kw": 2, "sh": 0, "sw": 2},
               "strides >= 1")
expect_refused("maxpool negative pad", "maxpool", [xr],
               {"kh": 3, "kw": 3, "sh": 1, "sw": 1, "pad_t": -1}, "paddings >= 0")
expect_refused("maxpool pad over half kernel", "maxpool", [xr],
               {"kh": 3, "kw": 3, "sh": 1, "sw": 1, "pad_t": 2, "pad_b": 2}, "at most half")
expect_refused("avgpool kernel larger than input", "avgpool", [xr],
               {"kh": 9, "kw": 2, "sh": 1, "sw": 1}, "too small")
expect_refused("pool with groups", "avgpool", [xr],
               {"kh": 2, "kw": 2, "sh": 2, "sw": 2, "groups": 2}, "no dilation or groups")
expect_refused("adaptive zero output", "adaptive_avgpool", [xr], {"pool_oh": 0, "pool_ow": 7},
               "output size >= 1")

# ---- issue 17: elementwise and normalisations -------------------------------------------------

# ---- issue 17: tensor operations --------------------------------------------------------------

sys.exit(finish())
