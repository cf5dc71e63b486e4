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

# ---- issue 17: elementwise and normalisations -------------------------------------------------

# ---- issue 17: tensor operations --------------------------------------------------------------

sys.exit(finish())
