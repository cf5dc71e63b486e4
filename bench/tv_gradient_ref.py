#!/usr/bin/python3
"""PyTorch's side of issue 19 §4: gradient NADs' per-network work for a torchvision model.

    bench/tv_gradient_ref.py MODEL N [--input 3x224x224] [--seed S] [--threads 2] [--out G.npy]

For network j = 0..N-1, as ../shared/reference/tools/tv_ref.py builds it:
torch.manual_seed(seed * 100003 + j); net = MODEL(num_classes=1).eval() (torchvision's own
initialisation); one forward at x0 ~ N(0, I) (one x0 per run) and the input gradient of output 0
by autograd. That is what `nad estimate MODEL.onnx --mode gradient` does per network, less
libnad's streaming sketch update. The timer runs from the first network's seed to the last
gradient (imports, start-up and x0 left out); it prints
    MODEL n=N INPUT seconds T per_network P init_share I
(init_share = the share of T spent building the model, i.e. drawing its weights).
--out saves the N gradients (float32, N x C*H*W) to check them against libnad's.
"""
import argparse
import time

import numpy as np
import torch
import torchvision


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('model')
    p.add_argument('n', type=int)
    p.add_argument('--input', default='3x224x224')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    c, h, w = map(int, a.input.split('x'))
    fn = getattr(torchvision.models, a.model)
    torch.manual_seed(a.seed)
    x0 = torch.randn(1, c, h, w)
    grads = np.empty((a.n, c * h * w), np.float32) if a.out else None
    t_init = 0.0
    t = time.perf_counter()
    for j in range(a.n):
        t0 = time.perf_counter()
        torch.manual_seed(a.seed * 100003 + j)
        net = fn(num_classes=1).eval()
        t_init += time.perf_counter() - t0
        x = x0.clone().requires_grad_(True)
        net(x)[0, 0].backward()
        if grads is not None:
            grads[j] = x.grad.reshape(-1).numpy()
    t = time.perf_counter() - t
    if grads is not None:
        np.save(a.out, grads)
    print('%s n=%d %s seconds %.3f per_network %.4f init_share %.3f'
          % (a.model, a.n, a.input, t, t / a.n, t_init / t))


if __name__ == '__main__':
    main()
