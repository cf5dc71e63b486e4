#!/usr/bin/python3
"""nad_trainer against a PyTorch re-implementation of the reference's utils.train on identical
weights and identical data order (shuffling off): SGD with momentum and weight decay, linear
learning-rate decay per batch, gradient-norm clipping (checked to be active), the last batch
partial, BatchNorm in training mode, 1 and 2 threads; and K-class training (issue 8) with
torch.optim.lr_scheduler.OneCycleLR (cycled momentum, weight decay), as the reference's
poisoning script trains LeNet on Fashion-MNIST. Final parameters (BatchNorm running
statistics included) and per-epoch training loss/accuracy must agree to 1e-4 relative.

usage: test_trainer_torch.py PATH/TO/train_helper      (exit 77 when torch is missing)
"""
import os
import sys
import tempfile

import numpy as np

try:
    import torch
    import torch.nn as nn
except ImportError:
    print("torch not available: skipped")
    sys.exit(77)

from nadtest import check, finish, run  # noqa: E402 (PYTHONPATH: tests/python)

HELPER = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="nad-train-torch-")
torch.set_num_threads(1)


def torch_model(spec, c, h, w):
    """nn.Sequential for the spec subset used here (conv/relu/maxpool/bn/fc), registered in the
    order libnad lays its parameters out (state_dict order)."""
    layers, shape = [], (c, h, w)
    for item in [s.split() for s in spec.split(";")]:
        if item[0] == "conv":
            out, k = int(item[1]), int(item[2][1:])
            layers.append(nn.Conv2d(shape[0], out, k))
            shape = (out, shape[1] - k + 1, shape[2] - k + 1)
        elif item[0] == "relu":
            layers.append(nn.ReLU())
        elif item[0] == "maxpool":
            k = int(item[1])
            layers.append(nn.MaxPool2d(k))
            shape = (shape[0], shape[1] // k, shape[2] // k)
        elif item[0] == "bn":
            layers.append(nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0]))
        elif item[0] == "fc":
            if len(shape) == 3:
                layers.append(nn.Flatten())
            layers.append(nn.Linear(int(np.prod(shape)), int(item[1])))
            shape = (int(item[1]),)
        else:
            raise ValueError(item)
    return nn.Sequential(*layers)


def entries(model):
    return [(k, v) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]


def load_flat(model, flat):
    sd, off = model.state_dict(), 0
    for k, v in entries(model):
        n = v.numel()
        sd[k] = torch.from_numpy(flat[off:off + n].reshape(v.shape).copy())
        off += n
    assert off == flat.size, (off, flat.size)
    model.load_state_dict(sd)


def torch_train(model, x, y, epochs, batch, lr, momentum, wd, clip, schedule="linear"):
    """utils.train with DataLoader(shuffle=False) (or, schedule "onecycle", the poisoning
    script's OneCycleLR stepped after every batch): returns per-epoch (loss, acc) and the
    gradient norms seen before clipping."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    loss_fun = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    nb = (len(x) + batch - 1) // batch
    sched = None
    if schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * nb)
    hist, norms = [], []
    for epoch in range(epochs):
        model.train()
        ls = acc = n = 0
        for b in range(nb):
            inputs, targets = xt[b * batch:(b + 1) * batch], yt[b * batch:(b + 1) * batch]
            if sched is None:
                opt.param_groups[0].update(lr=np.interp([epoch + (b + 1) / nb], [0, epochs],
                                                        [lr, 0])[0])
            output = model(inputs)
            loss = loss_fun(output, targets)
            opt.zero_grad()
            loss.backward()
            if clip > 0:
                norms.append(float(nn.utils.clip_grad_norm_(model.parameters(), clip)))
            opt.step()
            if sched is not None:
                sched.step()
            ls += loss.item() * targets.size(0)
            acc += (output.max(1)[1] == targets).sum().item()
            n += targets.size(0)
        hist.append((ls / n, 100.0 * acc / n))
    return np.array(hist), norms


def case(name, spec, shape, n, epochs, batch, lr, momentum, wd, clip, threads, seed=3,
         classes=2, schedule="linear"):
    c, h, w = shape
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n).astype(np.float32)
    if classes == 2:
        v = rng.standard_normal((c, h, w))
        v /= np.linalg.norm(v)
        x = (rng.standard_normal((n, c, h, w)) + 2.0 * (1 - 2 * y)[:, None, None, None] * v)
    else:  # one random mean per class
        means = rng.standard_normal((classes, c, h, w))
        x = rng.standard_normal((n, c, h, w)) + 0.5 * means[y.astype(int)]
    x = x.astype(np.float32)
    paths = {k: os.path.join(TMP, f"{name}_{k}.npy") for k in ["x", "y", "init", "final", "hist"]}
    np.save(paths["x"], x)
    np.save(paths["y"], y)
    p = run(HELPER, "train", spec, c, h, w, paths["x"], paths["y"], paths["init"], paths["final"],
            paths["hist"], epochs, batch, lr, momentum, wd, clip, threads, seed, schedule)
    check(f"{name}: helper runs", p.rc == 0, p.err)
    if p.rc != 0:
        return
    model = torch_model(spec, c, h, w)
    load_flat(model, np.load(paths["init"]))
    hist, norms = torch_train(model, x, y, epochs, batch, lr, momentum, wd, clip, schedule)
    if clip > 0:
        check(f"{name}: clipping is active", sum(nm > clip for nm in norms) >= 3,
              f"norms {np.round(norms, 3)}")
    ours = np.load(paths["final"])
    off, worst = 0, 0.0
    for k, t in entries(model):
        ref = t.detach().numpy().ravel()
        got = ours[off:off + ref.size]
        off += ref.size
        err = np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-3)
        worst = max(worst, err)
        check(f"{name}: {k}", err <= 1e-4, f"relative error {err:.3g}")
    check(f"{name}: parameter count", off == ours.size, f"{off} vs {ours.size}")
    got_hist = np.load(paths["hist"])
    check(f"{name}: per-epoch loss", np.allclose(got_hist[:, 0], hist[:, 0], rtol=1e-4, atol=0),
          f"{got_hist[:, 0]} vs {hist[:, 0]}")
    check(f"{name}: per-epoch accuracy", np.all(np.abs(got_hist[:, 1] - hist[:, 1]) <= 100.0 / n + 1e-9),
          f"{got_hist[:, 1]} vs {hist[:, 1]}")
    print(f"{name}: worst relative parameter error {worst:.2e}", flush=True)


SMALL = "conv 4 k3; relu; maxpool 2; fc 2"
SMALL_BN = "conv 4 k3; bn; relu; maxpool 2; fc 2"
LENET = ("conv 6 k5; relu; maxpool 2; conv 16 k5; relu; maxpool 2; fc 120; relu; fc 84; relu; "
         "fc 2")
# 200 samples in batches of 16: 12 full batches and a last one of 8
case("small", SMALL, (1, 8, 8), 200, 2, 16, 0.05, 0.9, 1e-3, 0.5, 1)
# batches above the 32-sample chunk: split over the threads (200 = 4 x 48 + 8; 2 x 96 + 8)
case("small-2threads", SMALL, (1, 8, 8), 200, 2, 48, 0.05, 0.9, 1e-3, 0.5, 2)
case("small-3threads", SMALL, (1, 8, 8), 200, 3, 96, 0.1, 0.9, 1e-3, 0.3, 3)
case("small-bn", SMALL_BN, (1, 8, 8), 200, 2, 16, 0.05, 0.9, 1e-3, 0.5, 1)
case("small-bn-2threads", SMALL_BN, (1, 8, 8), 200, 2, 48, 0.05, 0.9, 1e-3, 0.5, 2)
case("logreg", "fc 2", (1, 8, 8), 200, 2, 16, 0.05, 0.9, 1e-3, 0.5, 1)
case("bn1d", "fc 8; bn; relu; fc 2", (1, 6, 6), 100, 2, 16, 0.05, 0.5, 1e-3, 0.5, 1)
# LeNet, batch 64 (chunks of 32 over two threads), reference learning rate, no momentum
case("lenet", LENET, (1, 32, 32), 300, 2, 64, 0.5, 0.0, 0.0, 0.1, 2)
# K classes (issue 8): the poisoning script's optimiser (OneCycleLR, momentum cycled 0.95 ->
# 0.85 -> 0.95, weight decay 5e-4, no clipping); 10-class LeNet on two threads, 5-class small
# net with BatchNorm, and the linear schedule with 3 classes
case("lenet-10class-onecycle", LENET[:-len("fc 2")] + "fc 10", (1, 32, 32), 300, 2, 64, 0.05,
     0.9, 5e-4, 0.0, 2, classes=10, schedule="onecycle")
case("small-bn-5class-onecycle", SMALL_BN[:-1] + "5", (1, 8, 8), 200, 3, 16, 0.1, 0.9, 5e-4,
     0.0, 1, classes=5, schedule="onecycle")
case("small-3class-linear", SMALL[:-1] + "3", (1, 8, 8), 200, 2, 16, 0.05, 0.9, 1e-3, 0.5, 1,
     classes=3)
finish()
