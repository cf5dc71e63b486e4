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
    check(f"{name}: forward", rel_err(y, ty) <= tol_y, f"rel err {rel_err(y, ty):.2e}")
    for j, (a, b) in enumerate(zip(dxs, tdx)):
        check(f"{name}: dx{j}", rel_err(a, b) <= tol_g, f"rel err {rel_err(a, b):.2e}")
    if params:
        tflat = np.concatenate([g.ravel() for g in tdp])
        check(f"{name}: dparams", rel_err(dp, tflat) <= tol_g,
              f"rel err {rel_err(dp, tflat):.2e}")


def expect_refused(name, kind, xs, hp, substr):
    try:
        run_node(EXE, kind, xs, hp, None, None)
        check(f"{name}: refused", False, "accepted")
    except NodeError as e:
        check(f"{name}: message", substr in str(e), f"'{e}' lacks '{substr}'")


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
F = torch.nn.functional


def ew_x(shape, scale=3.0):
    """B = 3 samples of a per-sample shape, N(0, scale^2)."""
    return rng.standard_normal((3,) + tuple(shape)) * scale


def ew_align(t, rank):
    """A batch-first tensor with its per-sample axes padded on the left to `rank`, so that torch
    broadcasts per sample (right-aligned) as the kinds do."""
    return t.reshape((t.shape[0],) + (1,) * (rank - (t.dim() - 1)) + tuple(t.shape[1:]))


def ew_palign(p, rank):
    """A parameter (shared by the batch) as a batch-first tensor of per-sample rank `rank`."""
    return p.reshape((1,) * (rank + 1 - p.dim()) + tuple(p.shape))


# unary activations on (1, 4, 5, 6), values up to about +-9 (every branch of the piecewise ones)
xu = ew_x((1, 4, 5, 6))
unary = [
    ("relu6 as clip 0..6", "clip", {"act_lo": 0, "act_hi": 6}, lambda t: F.relu6(t)),
    ("clip -1..2.5", "clip", {"act_lo": -1, "act_hi": 2.5}, lambda t: torch.clamp(t, -1, 2.5)),
    ("clip -inf..0.5", "clip", {"act_lo": float("-inf"), "act_hi": 0.5},
     lambda t: torch.clamp(t, max=0.5)),
    ("hardsigmoid 1/6 0.5", "hardsigmoid", {"act_alpha": 1 / 6, "act_beta": 0.5},
     lambda t: F.hardsigmoid(t)),
    ("hardsigmoid onnx 0.2 0.5", "hardsigmoid", {"act_alpha": 0.2, "act_beta": 0.5},
     lambda t: torch.clamp(0.2 * t + 0.5, 0, 1)),
    ("hardswish", "hardswish", {}, lambda t: F.hardswish(t)),
    ("sigmoid", "sigmoid", {}, torch.sigmoid),
    ("tanh", "tanh", {}, torch.tanh),
    ("silu", "silu", {}, F.silu),
    ("gelu erf", "gelu", {"act_approx": 0}, F.gelu),
    ("gelu tanh", "gelu", {"act_approx": 1}, lambda t: F.gelu(t, approximate="tanh")),
    ("erf", "erf", {}, torch.erf),
    ("neg", "neg", {}, torch.neg),
    ("exp", "exp", {}, torch.exp),
]
for name, kind, hp, fn in unary:
    compare(name, kind, [xu], hp, [], lambda t, p, fn=fn: fn(t[0]))
xpos = np.abs(xu) + 0.5
compare("sqrt", "sqrt", [xpos], {}, [], lambda t, p: torch.sqrt(t[0]))
xnz = np.sign(xu) * (np.abs(xu) + 0.5)
compare("reciprocal", "reciprocal", [xnz], {}, [], lambda t, p: torch.reciprocal(t[0]))
# large |x|: sigmoid and silu stay finite and exact (no exp overflow), tanh saturates
xbig = xu * 40
for kind, fn in (("sigmoid", torch.sigmoid), ("silu", F.silu), ("tanh", torch.tanh),
                 ("gelu", F.gelu)):
    compare(kind + " large |x|", kind, [xbig], {}, [], lambda t, p, fn=fn: fn(t[0]))
y, _, _, _, _ = run_node(EXE, "sigmoid", [np.array([[-200.0, -100.0, 100.0, 200.0]])], {}, None,
                         np.ones((1, 4)))
check("sigmoid tails", y[0, 1] > 0 and abs(y[0, 1] / 3.720075976020836e-44 - 1) < 0.05
      and y[0, 2] == 1.0 and y[0, 0] == 0.0, f"{y}")
# NaN propagates through every unary kind
xnan = np.array([[0.5, np.nan, -0.5, 2.0]])
for _, kind, hp, _ in unary + [(0, "sqrt", {}, 0), (0, "reciprocal", {}, 0)]:
    y, _, _, _, _ = run_node(EXE, kind, [xnan], hp, None, np.ones(xnan.shape))
    check(f"{kind}: NaN propagates, finite values stay finite",
          np.isnan(y[0, 1]) and (np.isfinite(y[0, [0, 2, 3]]).all() or kind == "sqrt"), f"{y}")
# any rank: a vector (1, F) and (1, T, D)
compare("silu (1,F)", "silu", [ew_x((1, 7))], {}, [], lambda t, p: F.silu(t[0]))
compare("gelu (1,T,D)", "gelu", [ew_x((1, 5, 8))], {}, [], lambda t, p: F.gelu(t[0]))
expect_refused("clip lo > hi", "clip", [xu], {"act_lo": 2, "act_hi": 1}, "lo <= hi")
expect_refused("clip nan", "clip", [xu], {"act_lo": float("nan"), "act_hi": 1}, "lo <= hi")
expect_refused("hardsigmoid inf", "hardsigmoid", [xu], {"act_alpha": float("inf")}, "finite")
expect_refused("gelu approx 2", "gelu", [xu], {"act_approx": 2}, "neither 0")

# binary arithmetic with broadcasting (two inputs)
TOPS = [torch.add, torch.sub, torch.mul, torch.div]


def nonzero(a):
    return np.sign(a) * (np.abs(a) + 0.5)


bin_cases = [
    ("SE gate (1,C,H,W)*(1,C,1,1)", (1, 4, 5, 6), (1, 4, 1, 1)),
    ("tokens (1,T,D)+(1,T,D)", (1, 5, 8), (1, 5, 8)),
    ("map + scalar (1)", (1, 4, 5, 6), (1,)),
    ("ranks 4 and 2 (1,C,H,W)+(H,1)", (1, 4, 5, 6), (5, 1)),
    ("both broadcast (1,1,H,1)+(1,C,1,W)", (1, 1, 5, 1), (1, 4, 1, 6)),
    ("scalar first (1)+(1,T,D)", (1,), (1, 5, 8)),
]
for name, sa, sb in bin_cases:
    r = max(len(sa), len(sb))
    for op in range(4):
        a, b = ew_x(sa, 1.0), nonzero(ew_x(sb, 1.0))
        compare(f"arith {['add', 'sub', 'mul', 'div'][op]} {name}", "arith", [a, b],
                {"arith_op": op}, [],
                lambda t, p, op=op, r=r: TOPS[op](ew_align(t[0], r), ew_align(t[1], r)))
expect_refused("arith shapes", "arith", [ew_x((1, 4, 5, 6)), ew_x((1, 3, 1, 1))], {},
               "do not broadcast")
expect_refused("arith op 4", "arith", [ew_x((1, 4)), ew_x((1, 4))], {"arith_op": 4}, "operation")

# one operand a parameter of the node
param_cases = [  # name, x shape, P shape, side, ops
    ("layer scale P(C,1,1)*x", (1, 4, 5, 6), (4, 1, 1), 1, [2]),
    ("x*P(C,1,1)", (1, 4, 5, 6), (4, 1, 1), 0, [2]),
    ("x+pos_embedding P(1,T,D)", (1, 5, 8), (1, 5, 8), 0, [0, 1]),
    ("x/scalar P()", (1, 5, 8), (), 0, [3, 2]),
    ("P(1)-x, P(1)/x", (1, 5, 8), (1,), 1, [1, 3]),
    ("class token x(1,1,D)+P(1,T,D)", (1, 1, 8), (1, 5, 8), 0, [0, 2]),
]
for name, sx, sp, side, ops in param_cases:
    r = max(len(sx), len(sp))
    for op in ops:
        x = ew_x(sx, 1.0)
        pv = nonzero(rng.standard_normal(sp))
        hp = {"arith_op": op, "arith_side": side, "arith_prank": len(sp)}
        for i, d in enumerate(sp):
            hp[f"arith_pshape[{i}]"] = d
        if op == 3 and side == 1:
            x = nonzero(x)

        def fn(t, p, op=op, side=side, r=r):
            a, b = ew_align(t[0], r), ew_palign(p[0], r)
            return TOPS[op](b, a) if side else TOPS[op](a, b)
        compare(f"arith_param {['add', 'sub', 'mul', 'div'][op]} {name}", "arith_param", [x], hp,
                [pv], fn)
expect_refused("arith_param side 2", "arith_param", [ew_x((1, 4))],
               {"arith_side": 2, "arith_prank": 1, "arith_pshape[0]": 4}, "side")
expect_refused("arith_param rank 7", "arith_param", [ew_x((1, 4))], {"arith_prank": 7}, "rank")
expect_refused("arith_param dim 0", "arith_param", [ew_x((1, 4))],
               {"arith_prank": 1, "arith_pshape[0]": 0}, "dimension")
expect_refused("arith_param shapes", "arith_param", [ew_x((1, 4, 5))],
               {"arith_prank": 2, "arith_pshape[0]": 3, "arith_pshape[1]": 5}, "do not broadcast")

# layernorm: ViT tokens, ConvNeXt channels-last, two trailing axes
for name, shape, axis in (("tokens (1,T,D)", (1, 5, 8), -1),
                          ("channels-last (1,H,W,C)", (1, 4, 3, 6), -1),
                          ("axis 1 of (1,T,D)", (1, 5, 8), 1),
                          ("one row (1,D)", (1, 33), 1)):
    x = ew_x(shape, 2.0) + 1.5
    ns = shape[axis:] if axis >= 0 else shape[axis:]
    D = int(np.prod(ns))
    w, b = rng.standard_normal(D), rng.standard_normal(D)
    compare(f"layernorm {name}", "layernorm", [x], {"norm_axis": axis, "eps": 1e-5}, [w, b],
            lambda t, p, ns=ns: F.layer_norm(t[0], ns, p[0].reshape(ns), p[1].reshape(ns), 1e-5))
# training mode is the same function
x = ew_x((1, 5, 8))
pw = np.concatenate([rng.standard_normal(8), rng.standard_normal(8)])
dyl = rng.standard_normal(x.shape)
ev = run_node(EXE, "layernorm", [x], {"norm_axis": -1}, pw, dyl, training=0)
tr = run_node(EXE, "layernorm", [x], {"norm_axis": -1}, pw, dyl, training=1)
check("layernorm: training mode = eval mode",
      all(np.array_equal(a, b) for a, b in zip([ev[0], ev[1][0], ev[2]], [tr[0], tr[1][0], tr[2]])))
expect_refused("layernorm eps 0", "layernorm", [x], {"norm_axis": -1, "eps": 0}, "eps")
expect_refused("layernorm eps < 0", "layernorm", [x], {"norm_axis": -1, "eps": -1e-5}, "eps")
expect_refused("layernorm axis 3", "layernorm", [x], {"norm_axis": 3}, "out of range")
expect_refused("layernorm axis -4", "layernorm", [x], {"norm_axis": -4}, "out of range")

# groupnorm
for name, shape, g, eps in (("(1,C,H,W) 3 groups", (1, 6, 4, 5), 3, 1e-5),
                            ("(1,C,H,W) 1 group", (1, 6, 4, 5), 1, 1e-5),
                            ("(1,C,H,W) instance norm", (1, 6, 4, 5), 6, 1e-3),
                            ("(1,C,L) 2 groups", (1, 4, 7), 2, 1e-5)):
    x = ew_x(shape, 2.0) - 0.7
    C = shape[1]
    w, b = rng.standard_normal(C), rng.standard_normal(C)
    compare(f"groupnorm {name}", "groupnorm", [x], {"norm_groups": g, "eps": eps}, [w, b],
            lambda t, p, g=g, eps=eps: F.group_norm(t[0].squeeze(1), g, p[0], p[1], eps)
            .unsqueeze(1))
x = ew_x((1, 6, 4, 5))
expect_refused("groupnorm 4 groups of 6", "groupnorm", [x], {"norm_groups": 4}, "do not divide")
expect_refused("groupnorm 0 groups", "groupnorm", [x], {"norm_groups": 0}, "do not divide")
expect_refused("groupnorm eps 0", "groupnorm", [x], {"norm_groups": 2, "eps": 0}, "eps")
expect_refused("groupnorm rank 1", "groupnorm", [ew_x((6,))], {"norm_groups": 2}, "channel axis")

# batchnorm (eval) on BatchNorm1d's (1,C) and (1,C,L), BatchNorm2d's (1,C,H,W), 3d's
for shape in ((1, 5), (1, 5, 7), (1, 5, 4, 3), (1, 5, 2, 3, 4)):
    x = ew_x(shape, 2.0)
    C = shape[1]
    prm = [rng.standard_normal(C), rng.standard_normal(C), rng.standard_normal(C),
           rng.uniform(0.5, 2.0, C)]
    compare(f"batchnorm eval {shape}", "batchnorm", [x], {"eps": 1e-5}, prm,
            lambda t, p: F.batch_norm(t[0].squeeze(1), p[2].detach(), p[3].detach(), p[0], p[1],
                                      False, 0.0, 1e-5).unsqueeze(1))
expect_refused("batchnorm eps 0", "batchnorm", [ew_x((1, 5))], {"eps": 0}, "eps")
expect_refused("batchnorm rank 1", "batchnorm", [ew_x((5,))], {}, "channels on axis 1")
expect_refused("batchnorm (T,1,E)", "batchnorm", [ew_x((4, 1, 6))], {}, "channels on axis 1")

# softmax: attention rows (last axis), channels (an inner axis), large logits
for name, shape, axis, scale in (("attention (1,H,T,T) axis -1", (1, 2, 5, 5), -1, 2.0),
                                 ("channels (1,C,H,W) axis 1", (1, 4, 3, 5), 1, 2.0),
                                 ("large logits axis -1", (1, 5, 7), -1, 20.0),
                                 ("axis 0 of (T,D)", (6, 3), 0, 1.0)):
    x = ew_x(shape, scale)
    compare(f"softmax {name}", "softmax", [x], {"norm_axis": axis}, [],
            lambda t, p, axis=axis: torch.softmax(t[0], axis if axis < 0 else axis + 1))
# logits of +-1000: exp never overflows (the forward only: the gradient is 0 to float precision)
xs_ = ew_x((1, 5, 7), 1000.0)
y, _, _, _, _ = run_node(EXE, "softmax", [xs_], {"norm_axis": -1}, None, np.ones(xs_.shape))
ty = torch.softmax(torch.tensor(xs_), -1).numpy()
check("softmax logits 1e3: forward", rel_err(y, ty) <= 1e-5 and np.isfinite(y).all(),
      f"rel err {rel_err(y, ty):.2e}")
expect_refused("softmax axis 3", "softmax", [ew_x((1, 5, 7))], {"norm_axis": 3}, "out of range")

# reducemean
for name, shape, axes, keep in (("GAP (1,C,H,W) {2,3} keepdims", (1, 4, 5, 6), (2, 3), 1),
                                ("GAP {2,3} no keepdims", (1, 4, 5, 6), (2, 3), 0),
                                ("channels {1} keepdims", (1, 4, 5, 6), (1,), 1),
                                ("tokens (1,T,D) {1}", (1, 5, 8), (1,), 0),
                                ("{0,2} of (1,C,H,W)", (1, 4, 5, 6), (0, 2), 0),
                                ("all but none dropped", (1, 4, 5, 6), (0, 1, 2, 3), 1)):
    mask = sum(1 << a for a in axes)
    compare(f"reducemean {name}", "reducemean", [ew_x(shape)],
            {"red_axes": mask, "red_keepdims": keep}, [],
            lambda t, p, axes=axes, keep=keep: torch.mean(t[0], [a + 1 for a in axes],
                                                          keepdim=bool(keep)))
expect_refused("reducemean axis 4 of rank 4", "reducemean", [ew_x((1, 4, 5, 6))],
               {"red_axes": 1 << 4}, "beyond")
expect_refused("reducemean no axes", "reducemean", [ew_x((1, 4, 5, 6))], {"red_axes": 0},
               "names no axis")
expect_refused("reducemean to rank 0", "reducemean", [ew_x((1, 4))],
               {"red_axes": 3, "red_keepdims": 0}, "rank-0")

# ---- issue 17: tensor operations --------------------------------------------------------------

F = torch.nn.functional


def arr(name, values):
    """hyper-parameter array entries {name[i]: values[i]}"""
    return {f"{name}[{i}]": v for i, v in enumerate(values)}


def per_sample(f):
    """fn applied to each sample of the batch (inputs without their batch axis), restacked"""
    return lambda t, p: torch.stack([f([x[i] for x in t], p) for i in range(t[0].shape[0])])


def mm_case(name, sa, sb, batch=2):
    a = rng.standard_normal((batch,) + sa)
    b = rng.standard_normal((batch,) + sb)
    compare(name, "matmul", [a, b], {}, [], per_sample(lambda t, p: torch.matmul(t[0], t[1])))


mm_case("matmul attention (4,65,48)x(4,48,65)", (4, 65, 48), (4, 48, 65))
mm_case("matmul attention scores.v (4,65,65)x(4,65,48)", (4, 65, 65), (4, 65, 48), batch=1)
mm_case("matmul broadcast (2,1,5,4)x(3,4,6)", (2, 1, 5, 4), (3, 4, 6))
mm_case("matmul broadcast (1,5,4)x(3,1,4,6)", (1, 5, 4), (3, 1, 4, 6))
mm_case("matmul stacked (2,3,5,4)x(4,6)", (2, 3, 5, 4), (4, 6), batch=3)
mm_case("matmul 1-D A (4,)x(2,4,6)", (4,), (2, 4, 6))
mm_case("matmul 1-D B (2,5,4)x(4,)", (2, 5, 4), (4,))
mm_case("matmul 1-D B (5,4)x(4,)", (5, 4), (4,), batch=3)
expect_refused("matmul inner mismatch", "matmul",
               [np.zeros((1, 2, 5, 4)), np.zeros((1, 2, 3, 6))], {}, "do not multiply")
expect_refused("matmul broadcast clash", "matmul",
               [np.zeros((1, 2, 5, 4)), np.zeros((1, 3, 4, 6))], {}, "broadcast")
expect_refused("matmul 1-D x 1-D", "matmul", [np.zeros((1, 4)), np.zeros((1, 4))], {}, "scalar")

# gemm: y = alpha x op(W) + beta b; W (K, N), or (N, K) with trans_b
x = rng.standard_normal((2, 1, 65, 192))
w = rng.standard_normal((192, 576)) / np.sqrt(192)
b = rng.standard_normal(576)
compare("gemm (1,65,192)x(192,576)+bias", "gemm", [x],
        {"out_c": 576, "bias": 1, "gemm_alpha": 1, "gemm_beta": 1}, [w, b],
        lambda t, p: t[0] @ p[0] + p[1])
compare("gemm no bias", "gemm", [x[:, :, :7]], {"out_c": 576, "gemm_alpha": 1}, [w],
        lambda t, p: t[0] @ p[0])
x = rng.standard_normal((3, 1, 20))
w = rng.standard_normal((7, 20)) * 0.3
b = rng.standard_normal(7)
compare("gemm transB alpha 0.5 beta 2 on (1,F)", "gemm", [x],
        {"out_c": 7, "bias": 1, "trans_b": 1, "gemm_alpha": 0.5, "gemm_beta": 2.0}, [w, b],
        lambda t, p: 0.5 * t[0] @ p[0].T + 2.0 * p[1])
compare("gemm alpha -1.5 (K,N) rank 1", "gemm", [rng.standard_normal((2, 20))],
        {"out_c": 7, "bias": 1, "gemm_alpha": -1.5, "gemm_beta": 1}, [w.T.copy(), b],
        lambda t, p: -1.5 * t[0] @ p[0] + p[1])
# ONNX Gemm(transB=1, alpha=beta=1) on (1, F) is the linear kind (the importer maps it there)
x = rng.standard_normal((3, 1, 20))
dy = rng.standard_normal((3, 1, 7))
flat = np.concatenate([w.ravel(), b])
lin = run_node(EXE, "linear", [x], {"out_c": 7, "bias": 1}, flat, dy)
gem = run_node(EXE, "gemm", [x], {"out_c": 7, "bias": 1, "trans_b": 1, "gemm_alpha": 1,
                                  "gemm_beta": 1}, flat, dy)
for what, i in (("y", 0), ("dx", 1), ("dparams", 2)):
    check(f"gemm transB = linear: {what} differs",
          rel_err(gem[i] if i != 1 else gem[1][0], lin[i] if i != 1 else lin[1][0]) <= 1e-6)
check(f"gemm transB = linear: shapes {gem[3]} vs {lin[3]}", gem[3] == lin[3] == (1, 7))
gx = [np.zeros((1, 1, 20))]
expect_refused("gemm alpha unset", "gemm", gx, {"out_c": 7}, "alpha")
expect_refused("gemm beta unset", "gemm", gx, {"out_c": 7, "bias": 1, "gemm_alpha": 1}, "beta")
expect_refused("gemm transA", "gemm", gx, {"out_c": 7, "gemm_alpha": 1, "trans_a": 1}, "transA")
expect_refused("gemm transB 2", "gemm", gx, {"out_c": 7, "gemm_alpha": 1, "trans_b": 2},
               "transB")
expect_refused("gemm out_c 0", "gemm", gx, {"gemm_alpha": 1}, "out_c")

# transpose
x = rng.standard_normal((2, 1, 65, 192))
compare("transpose (0,2,1)", "transpose", [x], arr("perm", [0, 2, 1]), [],
        lambda t, p: t[0].permute(0, 1, 3, 2))
x = rng.standard_normal((2, 65, 1, 48))
compare("transpose (1,0,2)", "transpose", [x], arr("perm", [1, 0, 2]), [],
        lambda t, p: t[0].permute(0, 2, 1, 3))
x = rng.standard_normal((2, 1, 6, 5, 4))
compare("transpose (0,2,3,1) channels last", "transpose", [x], arr("perm", [0, 2, 3, 1]), [],
        lambda t, p: t[0].permute(0, 1, 3, 4, 2))
compare("transpose (3,1,0,2)", "transpose", [x], arr("perm", [3, 1, 0, 2]), [],
        lambda t, p: t[0].permute(0, 4, 2, 1, 3))
expect_refused("transpose repeat", "transpose", [x], arr("perm", [0, 1, 1, 3]),
               "not a permutation")
expect_refused("transpose out of range", "transpose", [x], arr("perm", [0, 1, 2, 4]),
               "not a permutation")

# reshape, flatten_axis, identity
x = rng.standard_normal((2, 1, 192, 8, 8))
compare("reshape (1,192,8,8)->(1,192,64)", "reshape", [x],
        {"reshape_rank": 3, **arr("reshape_dims", [1, 192, 64])}, [],
        lambda t, p: t[0].reshape(2, 1, 192, 64))
compare("reshape (0,-1,16) ONNX 0/-1", "reshape", [x],
        {"reshape_rank": 3, **arr("reshape_dims", [0, -1, 16])}, [],
        lambda t, p: t[0].reshape(2, 1, 768, 16))
expect_refused("reshape count", "reshape", [x],
               {"reshape_rank": 3, **arr("reshape_dims", [1, 192, 65])}, "elements")
expect_refused("reshape two -1", "reshape", [x],
               {"reshape_rank": 3, **arr("reshape_dims", [1, -1, -1])}, "at most one -1")
expect_refused("reshape rank 0", "reshape", [x], {}, "target rank")
expect_refused("reshape -1 not inferable", "reshape", [x],
               {"reshape_rank": 2, **arr("reshape_dims", [-1, 5])}, "cannot be inferred")
expect_refused("reshape 0 beyond the input rank", "reshape", [x],
               {"reshape_rank": 5, **arr("reshape_dims", [1, 192, 8, 8, 0])}, "invalid")
compare("flatten_axis 1", "flatten_axis", [x], {"tensor_axis": 1}, [],
        lambda t, p: t[0].reshape(2, 1, 12288))
compare("flatten_axis 2", "flatten_axis", [x], {"tensor_axis": 2}, [],
        lambda t, p: t[0].reshape(2, 192, 64))
compare("flatten_axis -1", "flatten_axis", [x], {"tensor_axis": -1}, [],
        lambda t, p: t[0].reshape(2, 1536, 8))
expect_refused("flatten_axis 5", "flatten_axis", [x], {"tensor_axis": 5}, "out of range")
compare("identity", "identity", [x], {}, [], lambda t, p: t[0] * 1.0)

# concat_axis
a = rng.standard_normal((2, 1, 3, 4, 5))
compare("concat_axis 1", "concat_axis", [a, rng.standard_normal((2, 1, 2, 4, 5))],
        {"tensor_axis": 1}, [], lambda t, p: torch.cat(t, 2))
compare("concat_axis 2", "concat_axis", [a, rng.standard_normal((2, 1, 3, 6, 5))],
        {"tensor_axis": 2}, [], lambda t, p: torch.cat(t, 3))
compare("concat_axis -1 (class token style)", "concat_axis",
        [a, rng.standard_normal((2, 1, 3, 4, 1))], {"tensor_axis": -1}, [],
        lambda t, p: torch.cat(t, 4))
compare("concat_axis 1 tokens (1,1,192)+(1,64,192)", "concat_axis",
        [rng.standard_normal((2, 1, 1, 192)), rng.standard_normal((2, 1, 64, 192))],
        {"tensor_axis": 1}, [], lambda t, p: torch.cat(t, 2))
expect_refused("concat_axis mismatch", "concat_axis", [a, np.zeros((2, 1, 2, 5, 5))],
               {"tensor_axis": 1}, "differ")
expect_refused("concat_axis axis 4", "concat_axis", [a, a], {"tensor_axis": 4}, "out of range")

# slice: ONNX starts/ends/steps on every axis
x = rng.standard_normal((2, 1, 6, 9, 8))
big = 2 ** 62
compare("slice step 2", "slice", [x],
        {**arr("starts", [0, 1, 0, 1]), **arr("ends", [big, 5, big, 8]),
         **arr("steps", [1, 1, 2, 3])}, [],
        lambda t, p: t[0][:, :, 1:5, 0::2, 1:8:3])
compare("slice negative and clamped", "slice", [x],
        {**arr("starts", [0, -4, -big, 2]), **arr("ends", [1, -1, 100, big]),
         **arr("steps", [1, 1, 1, 2])}, [],
        lambda t, p: t[0][:, :, 2:5, :, 2::2])
expect_refused("slice empty", "slice", [x],
               {**arr("starts", [0, 4, 0, 0]), **arr("ends", [1, 4, 9, 8]),
                **arr("steps", [1, 1, 1, 1])}, "empty")
expect_refused("slice step 0", "slice", [x],
               {**arr("starts", [0, 0, 0, 0]), **arr("ends", [1, 6, 9, 8]),
                **arr("steps", [1, 1, 0, 1])}, "steps must be >= 1")
expect_refused("slice step -1", "slice", [x],
               {**arr("starts", [0, 0, 0, 0]), **arr("ends", [1, 6, 9, 8]),
                **arr("steps", [1, 1, 1, -1])}, "steps must be >= 1")

# gather: ViT's class token x[:, 0]
x = rng.standard_normal((2, 1, 65, 192))
compare("gather axis 1 index 0", "gather", [x], {"tensor_axis": 1, "gather_index": 0}, [],
        lambda t, p: t[0][:, :, 0])
compare("gather axis -1 index -2", "gather", [x], {"tensor_axis": -1, "gather_index": -2}, [],
        lambda t, p: t[0][:, :, :, -2])
compare("gather axis 0 (batch axis of one sample)", "gather", [x],
        {"tensor_axis": 0, "gather_index": 0}, [], lambda t, p: t[0][:, 0])
expect_refused("gather index", "gather", [x], {"tensor_axis": 1, "gather_index": 65},
               "out of range")
expect_refused("gather index -66", "gather", [x], {"tensor_axis": 1, "gather_index": -66},
               "out of range")
expect_refused("gather axis", "gather", [x], {"tensor_axis": 3}, "out of range")
expect_refused("gather rank 1", "gather", [np.zeros((1, 5))], {}, "scalar")

# gather_indices: Swin's relative position bias, a (169, heads) table read through a fixed index
# of 49 * 49 entries (repeats and negative indices), and another axis of a rank-3 tensor
def take(axis, n):
    return lambda t, p: torch.index_select(t[0], axis + 1, (p[0].long() + n) % n)


table = rng.standard_normal((2, 169, 3))
idx = rng.integers(-169, 169, 49 * 49).astype(np.float64)
compare("gather_indices Swin table", "gather_indices", [table],
        {"tensor_axis": 0, "gather_index": idx.size}, [idx], take(0, 169))
x = rng.standard_normal((2, 1, 7, 5))
idx = np.array([4, -1, 0, 4, 2, 2, -7, 6, 1])
compare("gather_indices axis -2 of rank 3", "gather_indices", [x],
        {"tensor_axis": -2, "gather_index": idx.size}, [idx.astype(np.float64)], take(1, 7))
# an index that names no row (not an integer, out of range, NaN): that row is NaN, the others
# are right, and the backward leaves those rows out
bad = np.array([1, 2.5, 7, -8, np.nan, 3], dtype=np.float64)
y, dxs, dp, oshape, _ = run_node(EXE, "gather_indices", [x],
                                 {"tensor_axis": 1, "gather_index": bad.size}, bad,
                                 np.ones((2, 1, 6, 5)))
check("gather_indices bad indices: NaN rows", bool(np.isnan(y[:, :, 1:5]).all()),
      "rows 1-4 should be NaN")
check("gather_indices bad indices: good rows",
      np.array_equal(y[:, :, [0, 5]], x[:, :, [1, 3]].astype(np.float32).astype(np.float64)),
      "rows 0 and 5")
check("gather_indices bad indices: backward", bool(
      np.isfinite(dxs[0]).all() and dxs[0][:, :, [1, 3]].sum() == 2 * 5 * 2 and
      np.count_nonzero(dxs[0]) == 2 * 2 * 5), "only rows 1 and 3 get gradient")
check("gather_indices: no gradient for the indices", not np.any(dp), "dparams not 0")
expect_refused("gather_indices none", "gather_indices", [x],
               {"tensor_axis": 1, "gather_index": 0}, "at least 1")
expect_refused("gather_indices axis", "gather_indices", [x],
               {"tensor_axis": 3, "gather_index": 2}, "out of range")

# pad: ONNX pads = begins of every axis, then ends
x = rng.standard_normal((2, 1, 3, 7, 7))
compare("pad feature map (0,1,0,1)", "pad", [x], arr("pads", [0, 0, 0, 0, 0, 0, 1, 1]), [],
        lambda t, p: F.pad(t[0], (0, 1, 0, 1)))
compare("pad every axis, value 0.5", "pad", [x],
        {**arr("pads", [1, 2, 0, 3, 0, 1, 2, 1]), "pad_value": 0.5}, [],
        lambda t, p: F.pad(F.pad(t[0], (3, 1, 0, 2, 2, 1), value=0.5).unsqueeze(1),
                           (0, 0, 0, 0, 0, 0, 1, 0), value=0.5).squeeze(1))
expect_refused("pad negative", "pad", [x], arr("pads", [0, 0, 0, -1, 0, 0, 0, 0]), "negative")
expect_refused("pad reflect", "pad", [x], {"pad_mode": 1}, "constant")

sys.exit(finish())
