#!/usr/bin/python3
"""Every layer kernel against PyTorch on identical inputs and weights.

Usage: torch_layers.py LAYER_APPLY_EXE

For each case, random inputs/weights/upstream gradient are piped to the C helper (layer_apply.c),
which runs the libnad kernel forward and backward; the same computation runs in PyTorch (float32,
CPU) and outputs, input gradients, parameter gradients and BatchNorm running statistics are
compared. Cases include ties for max-pool (quantised inputs) and ReLU (exact zeros), and a NaN in
a pooling window, where PyTorch's routing is the reference. Exit code 77 (skip) without torch.
"""
import subprocess
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover
    print("numpy/torch not available: skipping")
    sys.exit(77)

from nadtest import check, finish  # noqa: E402 (PYTHONPATH: tests/python)

torch.set_num_threads(1)
EXE = sys.argv[1]
rng = np.random.default_rng(20240601)


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return np.inf
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if (nan_a != nan_b).any():
        return np.inf
    a, b = a[~nan_a], b[~nan_b]
    if a.size == 0:
        return 0.0
    scale = max(np.abs(b).max(), 1e-30)
    return np.abs(a - b).max() / scale


def run_c(kind, b, c, h, w, c1, o, k, s, p, bias, eps, mom, training, arrays, sizes):
    header = f"{kind} {b} {c} {h} {w} {c1} {o} {k} {s} {p} {bias} {eps!r} {mom!r} {training}\n"
    payload = header.encode() + b"".join(np.ascontiguousarray(a, dtype=np.float32).tobytes()
                                         for a in arrays)
    out = subprocess.run([EXE], input=payload, capture_output=True, check=True).stdout
    vals = np.frombuffer(out, dtype=np.float32)
    if vals.size != sum(sizes):
        raise RuntimeError(f"helper returned {vals.size} floats, expected {sum(sizes)}")
    res, at = [], 0
    for n in sizes:
        res.append(vals[at:at + n])
        at += n
    return res


def case(name, kind, x, module_fn, *, x1=None, params=(), c1=0, o=0, k=0, s=1, p=0, bias=0,
         tol=2e-5):
    """x: numpy input (B,C,H,W); module_fn(x_t, x1_t, param_tensors) -> y in PyTorch."""
    b, c, h, w = x.shape
    xt = torch.tensor(x, requires_grad=True)
    x1t = torch.tensor(x1, requires_grad=True) if x1 is not None else None
    pts = [torch.tensor(q, requires_grad=True) for q in params]
    y = module_fn(xt, x1t, pts)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(torch.tensor(dy))
    flat_params = [np.asarray(q, dtype=np.float32).ravel() for q in params]
    pvec = np.concatenate(flat_params) if flat_params else np.zeros(0, np.float32)
    arrays = [x] + ([x1] if x1 is not None else []) + [pvec, dy]
    sizes = [y.numel(), x.size] + ([x1.size] if x1 is not None else []) + [pvec.size, pvec.size]
    got = run_c(kind, b, c, h, w, c1, o, k, s, p, bias, 1e-5, 0.1, 0, arrays, sizes)
    yc, dxc = got[0], got[1]
    rest = got[2:]
    if x1 is not None:
        dx1c, rest = rest[0], rest[1:]
    dpc, pafter = rest
    e = rel_err(yc, y.detach().numpy())
    check(f"{name}: forward rel err {e:.3g}", e <= tol)
    e = rel_err(dxc, xt.grad.numpy())
    check(f"{name}: dx rel err {e:.3g}", e <= tol)
    if x1 is not None:
        e = rel_err(dx1c, x1t.grad.numpy())
        check(f"{name}: dx1 rel err {e:.3g}", e <= tol)
    if pts:
        dpt = np.concatenate([q.grad.numpy().ravel() for q in pts])
        e = rel_err(dpc, dpt)
        check(f"{name}: dparams rel err {e:.3g}", e <= tol)
        check(f"{name}: forward changed the parameters", np.array_equal(pafter, pvec))


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def uniform(lo, hi, *shape):
    return rng.uniform(lo, hi, shape).astype(np.float32)


# ---- conv2d ----------------------------------------------------------------------------------
for (b, c, h, w, o, k, s, p, bias) in [
        (2, 3, 9, 7, 5, 3, 1, 1, 1), (3, 2, 11, 11, 4, 5, 2, 2, 0), (2, 4, 6, 6, 3, 1, 1, 0, 1),
        (2, 3, 8, 8, 2, 3, 2, 0, 1), (5, 1, 32, 32, 6, 5, 1, 0, 1), (3, 6, 14, 14, 16, 5, 1, 0, 1),
        (2, 8, 32, 32, 8, 3, 1, 1, 0), (9, 16, 4, 4, 8, 3, 1, 1, 0), (2, 8, 16, 16, 4, 1, 2, 0, 0),
        (20, 5, 2, 2, 3, 1, 1, 0, 1)]:
    x = randn(b, c, h, w)
    bound = 1.0 / np.sqrt(c * k * k)
    wt = uniform(-bound, bound, o, c, k, k)
    prm = [wt] + ([uniform(-bound, bound, o)] if bias else [])
    case(f"conv {b}x{c}x{h}x{w} ->{o} k{k} s{s} p{p} bias{bias}", "conv2d", x,
         lambda xt, _, q, s=s, p=p: F.conv2d(xt, q[0], q[1] if len(q) > 1 else None, s, p),
         params=prm, o=o, k=k, s=s, p=p, bias=bias)

# ---- pooling: ties (quantised inputs) and a NaN ----------------------------------------------
for (b, c, h, w, k, s) in [(2, 3, 8, 8, 2, 2), (2, 2, 7, 9, 2, 2), (2, 2, 9, 9, 3, 2),
                           (1, 2, 6, 7, 2, 1), (3, 4, 4, 4, 4, 4)]:
    xq = np.round(randn(b, c, h, w) * 1.5).astype(np.float32)  # many exact ties
    case(f"maxpool ties {b}x{c}x{h}x{w} k{k} s{s}", "maxpool", xq,
         lambda xt, _, q, k=k, s=s: F.max_pool2d(xt, k, s), k=k, s=s, tol=1e-6)
    case(f"avgpool {b}x{c}x{h}x{w} k{k} s{s}", "avgpool", randn(b, c, h, w),
         lambda xt, _, q, k=k, s=s: F.avg_pool2d(xt, k, s), k=k, s=s)
for (k, s) in [(2, 2), (3, 2), (2, 1)]:
    xn = np.round(randn(1, 2, 6, 6)).astype(np.float32)
    xn[0, 0, 1, 1] = np.nan
    xn[0, 1, 0, 1] = np.nan
    xn[0, 1, 1, 0] = np.nan  # two NaNs in one window: which one gets the gradient
    case(f"maxpool NaN k{k} s{s}", "maxpool", xn, lambda xt, _, q, k=k, s=s: F.max_pool2d(xt, k, s),
         k=k, s=s, tol=1e-6)

# ---- relu (exact zeros), linear, flatten, gap, add, concat ----------------------------------
xr = np.round(randn(3, 4, 5, 6)).astype(np.float32)
case("relu with zeros", "relu", xr, lambda xt, _, q: F.relu(xt), tol=0.0)
for (b, c, h, w, o, bias) in [(3, 3, 4, 5, 7, 1), (2, 10, 1, 1, 1, 0), (4, 16, 5, 5, 12, 1)]:
    f = c * h * w
    bound = 1.0 / np.sqrt(f)
    prm = [uniform(-bound, bound, o, f)] + ([uniform(-bound, bound, o)] if bias else [])
    case(f"linear {c}x{h}x{w}->{o} bias{bias}", "linear", randn(b, c, h, w),
         lambda xt, _, q: F.linear(xt.flatten(1), q[0], q[1] if len(q) > 1 else None),
         params=prm, o=o, bias=bias)
case("flatten", "flatten", randn(2, 3, 4, 5), lambda xt, _, q: xt.flatten(1)[:, :, None, None])
case("gap", "gap", randn(3, 4, 3, 5), lambda xt, _, q: F.adaptive_avg_pool2d(xt, 1))
case("add", "add", randn(3, 3, 4, 5), lambda xt, x1t, q: xt + x1t, x1=randn(3, 3, 4, 5), c1=3)
case("concat", "concat", randn(2, 2, 3, 3), lambda xt, x1t, q: torch.cat([xt, x1t], 1),
     x1=randn(2, 3, 3, 3), c1=3)

# ---- batchnorm: 2-D and 1-D, eval and training (running statistics updated) -------------------
for (b, c, h, w, eps, mom) in [(3, 4, 5, 6, 1e-5, 0.1), (5, 6, 1, 1, 1e-3, 0.3),
                               (1, 3, 3, 3, 1e-5, 0.1)]:
    for training in (0, 1):
        tag = f"batchnorm {b}x{c}x{h}x{w} {'train' if training else 'eval'}"
        x = randn(b, c, h, w) * 2 + 0.5
        wt, bs = uniform(0.5, 1.5, c), uniform(-0.5, 0.5, c)
        rm, rv = uniform(-0.5, 0.5, c), uniform(0.5, 2.0, c)
        shape = (b, c) if h == 1 and w == 1 else (b, c, h, w)  # BatchNorm1d on vectors
        xt = torch.tensor(x, requires_grad=True)
        pts = [torch.tensor(wt, requires_grad=True), torch.tensor(bs, requires_grad=True)]
        run_mean, run_var = torch.tensor(rm), torch.tensor(rv)  # updated in place by torch
        y = F.batch_norm(xt.reshape(shape), run_mean, run_var, pts[0], pts[1], bool(training),
                         mom, eps).reshape(x.shape)
        dy = randn(*x.shape)
        y.backward(torch.tensor(dy))
        pvec = np.concatenate([wt, bs, rm, rv]).astype(np.float32)
        yc, dxc, dpc, pafter = run_c("batchnorm", b, c, h, w, 0, 0, 0, 1, 0, 0, eps, mom,
                                     training, [x, pvec, dy], [x.size, x.size, 4 * c, 4 * c])
        e = rel_err(yc, y.detach().numpy())
        check(f"{tag}: forward rel err {e:.3g}", e <= 2e-5)
        e = rel_err(dxc, xt.grad.numpy())
        check(f"{tag}: dx rel err {e:.3g}", e <= 2e-5)
        e = rel_err(dpc[:2 * c], np.concatenate([pts[0].grad.numpy(), pts[1].grad.numpy()]))
        check(f"{tag}: dweight/dbias rel err {e:.3g}", e <= 2e-5)
        check(f"{tag}: running statistics got a gradient", np.all(dpc[2 * c:] == 0))
        e = max(rel_err(pafter[2 * c:3 * c], run_mean.numpy()),
                rel_err(pafter[3 * c:], run_var.numpy()))
        check(f"{tag}: running statistics rel err {e:.3g}", e <= 1e-6)
        check(f"{tag}: weight/bias changed", np.array_equal(pafter[:2 * c], pvec[:2 * c]))

finish()
