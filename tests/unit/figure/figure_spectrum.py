"""The figures' power spectrum (lib/figure/plot_nads.c, through lib/core/fft.c) against numpy's
fftshift(|fft2|^2), on random planes of odd and even sides. Usage: figure_spectrum.py TEST_FIGURE"""
import os
import subprocess
import sys
import tempfile

import numpy as np

from nadtest import check, finish

tool = sys.argv[1]
rng = np.random.default_rng(7)
with tempfile.TemporaryDirectory() as d:
    for h, w in [(32, 32), (7, 12), (1, 9), (15, 1)]:
        x = rng.standard_normal((h, w)).astype(np.float32)
        src, dst = os.path.join(d, 'x.npy'), os.path.join(d, 'p.npy')
        np.save(src, x)
        r = subprocess.run([tool, 'spectrum', src, dst], capture_output=True, text=True)
        check(f'{h}x{w} tool', r.returncode == 0, r.stdout + r.stderr)
        if r.returncode:
            continue
        got = np.load(dst)
        ref = np.fft.fftshift(np.abs(np.fft.fft2(x.astype(np.float64))) ** 2)
        err = np.max(np.abs(got - ref)) / np.max(ref)
        check(f'{h}x{w} spectrum', got.shape == ref.shape and err < 1e-5, f'max relative error {err:g}')
finish()
