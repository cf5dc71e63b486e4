#!/usr/bin/python3
"""NADs of torchvision's architectures at their own initialisation, with libnad's Python binding.

    examples/torchvision_nads.py OUTDIR [--models resnet18,convnext_tiny,...] [--networks 20]
                                 [--seed 0] [--input 3x32x32] [--x0 libnad|torch]
                                 [--compare A.npz B.npz]

For each model, libnad.estimate(factory, ...) with factory = lambda: torchvision.models.M(
num_classes=1) (network j is built after torch.manual_seed(seed * 100003 + j), so its weights
are torchvision's own initialisation), dipole s = 100, response = output 0. Writes
OUTDIR/M.npz with the keys of ../shared/reference/tools/tv_ref.py (spectrum: the covariance's
per-channel Fourier power, fftshifted; eigenvalues; seconds) plus the top 8 NADs, seconds per
network and peak RSS (each model runs in its own process, so the peak is its own).
--x0 torch takes the evaluation point tv_ref.py takes for the same seed (torch.manual_seed(seed);
torch.randn), so the two computations see identical networks and point and must agree to
float32 rounding; --x0 libnad (default) draws it with libnad's own generator.
--compare A.npz B.npz prints the log-spectrum correlation (as tools/spectrum.py: log of the
power + 1e-12 of its peak), the ratio of the covariance traces and each one's isotropy
(λ1/λ10, spectrum max/min) — for nearly isotropic networks (convnext_tiny at initialisation)
the trace and isotropy are what can be compared, not the spectrum's shape.
--figure OUT.png draws OUTDIR's models side by side (libnad.figure_images): one column per
model in the order of --models; top row the covariance's Fourier power summed over the channels
(log10, six decades below each model's peak, frequency 0 in the middle), then NADs 1-3 as RGB
images (each scaled to its largest magnitude, grey = 0).
MODEL names: torchvision.models classifiers, or vit_small (VisionTransformer(image_size=32,
patch_size=4, num_layers=6, num_heads=4, hidden_dim=192, mlp_dim=768), as tv_ref.py).
"""
import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np


def factory(name):
    import torchvision
    if name == 'vit_small':
        from torchvision.models.vision_transformer import VisionTransformer
        return lambda: VisionTransformer(image_size=32, patch_size=4, num_layers=6, num_heads=4,
                                         hidden_dim=192, mlp_dim=768, num_classes=1)
    fn = getattr(torchvision.models, name)
    return lambda: fn(num_classes=1)


def one(a):
    """One model in this process: estimate and write OUTDIR/MODEL.npz."""
    import torch
    import libnad
    c, h, w = map(int, a.input.split('x'))
    point = 'normal'
    if a.x0 == 'torch':
        torch.manual_seed(a.seed)
        point = torch.randn(1, c, h, w)[0].numpy()
    t = time.perf_counter()
    r = libnad.estimate(factory(a.one), input=(c, h, w), networks=a.networks, seed=a.seed,
                        eval_point=point, threads=a.threads, progress=False)
    t = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    np.savez(os.path.join(a.outdir, a.one + '.npz'), spectrum=r.spectrum,
             eigenvalues=r.eigenvalues, nads=r.nads[:8], seconds=t,
             seconds_per_network=t / a.networks, peak_rss_mb=rss)
    print('%s: %d networks in %.1f s (%.3g s/network), peak RSS %.0f MB'
          % (a.one, a.networks, t, t / a.networks, rss))


def compare(pa, pb):
    za, zb = np.load(pa), np.load(pb)
    sa, sb = za['spectrum'].astype(np.float64), zb['spectrum'].astype(np.float64)
    la, lb = np.log(sa + 1e-12 * sa.max()), np.log(sb + 1e-12 * sb.max())
    corr = float(np.corrcoef(la.ravel(), lb.ravel())[0, 1])
    ea, eb = za['eigenvalues'], zb['eigenvalues']

    def iso(e, s):
        return '%.3g' % (e[0] / e[9]) if len(e) > 9 and e[9] > 0 else '–', s.max() / s.min()
    print('log-spectrum correlation %.3f; trace ratio %.3f (%.4g / %.4g)'
          % (corr, ea.sum() / eb.sum(), ea.sum(), eb.sum()))
    for p, e, s in ((pa, ea, sa), (pb, eb, sb)):
        i, r = iso(e, s)
        print('  %s: λ1/λ10 %s, spectrum max/min %.3g' % (os.path.basename(p), i, r))


def figure(a, path):
    import libnad
    models = a.models.split(',')
    tiles = []
    for row in range(4):
        for m in models:
            z = np.load(os.path.join(a.outdir, m + '.npz'))
            if row == 0:
                p = z['spectrum'].sum(0)
                t = np.clip((np.log10(p + 1e-30 * p.max()) - np.log10(p.max())) / 6 + 1, 0, 1)
                tiles.append(np.repeat(t[None], 3, 0))
            else:
                v = z['nads'][row - 1].reshape(z['spectrum'].shape).astype(np.float64)
                v = v / max(np.abs(v).max(), 1e-30)
                if v.shape[0] == 1:
                    v = np.repeat(v, 3, 0)
                tiles.append(0.5 + 0.5 * v)
    libnad.figure_images(path, np.asarray(tiles, np.float32), cols=len(models),
                         title='columns: ' + ', '.join(models) + '; rows: log power, NAD 1-3')
    print('wrote', path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('outdir', nargs='?')
    ap.add_argument('--models', default='resnet18,convnext_tiny')
    ap.add_argument('--networks', type=int, default=20)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--input', default='3x32x32')
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--x0', choices=('libnad', 'torch'), default='libnad')
    ap.add_argument('--compare', nargs=2, metavar='NPZ')
    ap.add_argument('--figure', metavar='OUT.png')
    ap.add_argument('--one', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.compare:
        return compare(*a.compare)
    if not a.outdir:
        ap.error('OUTDIR is required (or --compare A.npz B.npz)')
    if a.figure:
        return figure(a, a.figure)
    os.makedirs(a.outdir, exist_ok=True)
    if a.one:
        return one(a)
    for m in a.models.split(','):
        cmd = [sys.executable, os.path.abspath(__file__), a.outdir, '--one', m,
               '--networks', str(a.networks), '--seed', str(a.seed), '--input', a.input,
               '--threads', str(a.threads), '--x0', a.x0]
        subprocess.run(cmd, check=True)


if __name__ == '__main__':
    sys.exit(main())
