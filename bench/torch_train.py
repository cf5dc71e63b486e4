#!/usr/bin/python3
"""PyTorch twin of `nad bias ARCH --direction fourier:1,0` for bench/protocol.py (`train` case).

    bench/torch_train.py EPOCHS [--train N] [--test N] [--threads T] [--seed S]

The reference setup (the NADs paper's utils.train on D(v)): LeNet with 2 logits at 1x32x32,
D(v) with v the unit Fourier vector of frequency (1, 0) (numpy's irfft2 of one imaginary
coefficient, as libnad's nad_direction_fourier), epsilon 1, sigma 3; SGD with lr 0.5 decayed
linearly to 0 per batch, momentum 0, gradient-norm clipping 0.5, batch 128, shuffled; the test
set evaluated after every epoch (batches of 128). Prints `seconds S` (training and the
per-epoch evaluations, the same span as `nad bias`'s "seconds"; data generation and imports are
left out of both) and `data_s` (the data generation), `test_accuracy`. Needs torch and numpy.
"""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):  # the reference's models.LeNet
    def __init__(self, k):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, k)

    def forward(self, x):
        o = F.max_pool2d(F.relu(self.conv1(x)), 2)
        o = F.max_pool2d(F.relu(self.conv2(o)), 2).view(x.size(0), -1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(o)))))


def direction(h=32, w=32, fy=1, fx=0):
    spec = np.zeros((h, w // 2 + 1), dtype=np.complex128)
    spec[fy % h, fx] = 1j
    v = np.fft.irfft2(spec, s=(h, w))
    return torch.tensor(v / np.linalg.norm(v), dtype=torch.float32).reshape(1, 1, h, w)


def linear_dataset(v, n, eps, sigma, gen):
    """D(v): the first ceil(n/2) samples +(eps/2)v, the others -(eps/2)v, plus noise orthogonal
    to v."""
    g = torch.randn(n, *v.shape[1:], generator=gen) * sigma
    g -= (g * v).sum(dim=(1, 2, 3), keepdim=True) * v
    n0 = n - n // 2
    y = torch.cat([torch.zeros(n0, dtype=torch.long), torch.ones(n - n0, dtype=torch.long)])
    sign = 1.0 - 2.0 * y.float()
    return g + (0.5 * eps * sign).view(-1, 1, 1, 1) * v, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('epochs', type=int)
    ap.add_argument('--train', type=int, default=10000)
    ap.add_argument('--test', type=int, default=10000)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    t0 = time.perf_counter()
    v = direction()
    xtr, ytr = linear_dataset(v, a.train, 1.0, 3.0, gen)
    xte, yte = linear_dataset(v, a.test, 1.0, 3.0, gen)
    data_s = time.perf_counter() - t0
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr), batch_size=128,
                                        shuffle=True)
    test = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xte, yte), batch_size=128)
    m = LeNet(2)
    opt, lf = torch.optim.SGD(m.parameters(), lr=0.5), nn.CrossEntropyLoss()
    nb = len(train)
    acc = float('nan')
    t0 = time.perf_counter()
    for e in range(a.epochs):
        m.train()
        for b, (xb, yb) in enumerate(train):  # utils.train's loop body
            opt.param_groups[0].update(lr=0.5 * (1 - (e * nb + b + 1) / (a.epochs * nb)))
            o = m(xb)
            loss = lf(o, yb)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(m.parameters(), 0.5)
            opt.step()
            loss.item()
            (o.max(1)[1] == yb).sum().item()
        m.eval()
        hits = 0
        with torch.no_grad():
            for xb, yb in test:
                hits += (m(xb).max(1)[1] == yb).sum().item()
        acc = 100.0 * hits / a.test
    sec = time.perf_counter() - t0
    print('data_s %.4f' % data_s)
    print('test_accuracy %.2f' % acc)
    print('seconds %.4f' % sec)


if __name__ == '__main__':
    main()
