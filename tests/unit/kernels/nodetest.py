"""Runs one node of any kind through node_apply (tests/unit/kernels/node_apply.c) and returns
its output, input gradients and parameter gradients as float64 arrays, so that a test compares
them with PyTorch float64 on the same inputs and weights.

    y, dxs, dparams, out_shape = run_node(exe, "conv2d", [x], {"out_c": 4, "k": 3}, params, dy)

x arrays carry the batch first: x.shape = (B,) + per-sample shape (batch axis included, at 1,
as ONNX has it: a feature map batch is (B, 1, C, H, W)). Hyper-parameters are nadi_hparams
fields by name; an array element is "name[i]". dy may be None (ones). A refusal of the kind's
shape rule raises NodeError with the library's message.
"""
import subprocess

import numpy as np


class NodeError(Exception):
    pass


def run_node(exe, kind, xs, hp=None, params=None, dy=None, training=0, out_shape=None):
    batch = xs[0].shape[0]
    head = [f"kind {kind}", f"batch {batch}", f"training {training}"]
    for x in xs:
        head.append("input %d %s" % (x.ndim - 1, " ".join(str(d) for d in x.shape[1:])))
    for k, v in (hp or {}).items():
        head.append(f"hp {k} {float(v)!r}")
    head.append("data")
    p = np.zeros(0) if params is None else np.asarray(params)
    # the output size is known only after the shape rule: ask once without data if needed
    if dy is None:
        probe = subprocess.run([exe], input=("\n".join(head) + "\n").encode(),
                               capture_output=True)
        first = probe.stdout.split(b"\n", 1)[0].decode()
        if first.startswith("error"):
            raise NodeError(first[6:])
        f = first.split()
        rank = int(f[1])
        dy = np.ones((batch,) + tuple(int(d) for d in f[2:2 + rank]))
    payload = ("\n".join(head) + "\n").encode()
    payload += b"".join(np.ascontiguousarray(a, dtype=np.float32).tobytes()
                        for a in list(xs) + [p.ravel(), np.asarray(dy).ravel()])
    r = subprocess.run([exe], input=payload, capture_output=True)
    first, _, body = r.stdout.partition(b"\n")
    first = first.decode()
    if first.startswith("error"):
        raise NodeError(first[6:])
    if r.returncode != 0:
        raise RuntimeError(f"node_apply failed ({r.returncode}): {r.stderr.decode()}")
    f = first.split()
    rank = int(f[1])
    oshape = tuple(int(d) for d in f[2:2 + rank])
    n_params = int(f[3 + rank])
    vals = np.frombuffer(body, dtype=np.float32).astype(np.float64)
    at = 0

    def take(n, shape):
        nonlocal at
        a = vals[at:at + n].reshape(shape)
        at += n
        return a
    y = take(batch * int(np.prod(oshape)), (batch,) + oshape)
    dxs = [take(x.size, x.shape) for x in xs]
    dparams = take(n_params, (n_params,))
    params_after = take(n_params, (n_params,))
    if at != vals.size:
        raise RuntimeError(f"node_apply returned {vals.size} floats, expected {at}")
    return y, dxs, dparams, oshape, params_after


def rel_err(a, b):
    """max |a - b| / max |b| (0 for empty arrays; inf for a shape mismatch)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    if a.size == 0:
        return 0.0
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))
