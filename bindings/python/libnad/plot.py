"""Optional matplotlib figures of libnad results (Debian: python3-matplotlib). libnad itself
never imports matplotlib; `import libnad.plot` (or the first use of libnad.plot) does, and says
what to install when it is missing.

    r = libnad.estimate('lenet', networks=1000)
    libnad.plot.nads(r).savefig('nads.png')          # NADs above their Fourier magnitude
    libnad.plot.spectrum(r).savefig('spectrum.png')  # covariance power, cycles per image
    libnad.plot.grid('out/grid/accuracy.csv')        # a `nad sweep` result

Each function returns the matplotlib Figure (pass ax= or fig= to draw into your own)."""
import csv
import math

try:
    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError('libnad.plot needs matplotlib and numpy (Debian: apt-get install '
                      'python3-matplotlib python3-numpy): %s' % e) from e

__all__ = ['nads', 'spectrum', 'grid']


def _arrays(result):
    """(nads (K, C, H, W), eigenvalues (K,), spectrum (C, H, W)) from a Result or an
    estimate output directory (nads.npy K×D, eigenvalues.npy, spectrum.npy)."""
    if isinstance(result, str):
        import os
        spec = np.load(os.path.join(result, 'spectrum.npy'))
        flat = np.load(os.path.join(result, 'nads.npy'))
        return flat.reshape((flat.shape[0],) + spec.shape), \
            np.load(os.path.join(result, 'eigenvalues.npy')), spec
    return np.asarray(result.nads), np.asarray(result.eigenvalues), np.asarray(result.spectrum)


def nads(result, count=16, channel=0, fig=None):
    """The first `count` NADs of a Result (or an estimate directory) in the paper's layout: each
    NAD (channel `channel`, diverging colours symmetric around 0) above the log magnitude of its
    2-D DFT (fftshifted), titled with its index and eigenvalue."""
    v, lam, _ = _arrays(result)
    count = min(int(count), v.shape[0])
    cols = min(count, 8)
    rows = math.ceil(count / cols)
    fig = fig or plt.figure(figsize=(1.6 * cols, 3.3 * rows))
    for i in range(count):
        img = v[i, channel]
        r, c = divmod(i, cols)
        ax = fig.add_subplot(2 * rows, cols, 2 * r * cols + c + 1)
        m = float(np.abs(img).max()) or 1.0
        ax.imshow(img, cmap='RdBu_r', vmin=-m, vmax=m)
        ax.set_title('%d: %.3g' % (i, lam[i]), fontsize=8)
        ax.axis('off')
        ax = fig.add_subplot(2 * rows, cols, (2 * r + 1) * cols + c + 1)
        ax.imshow(np.log10(np.abs(np.fft.fftshift(np.fft.fft2(img))) + 1e-6), cmap='viridis')
        ax.axis('off')
    fig.suptitle('NADs (index: eigenvalue) and their Fourier magnitude (log)')
    return fig


def spectrum(result, channel=0, ax=None):
    """The covariance's Fourier power (log10) of one channel, with axes in cycles per image
    (frequency 0 in the centre) and a colour bar."""
    _, _, p = _arrays(result)
    p = p[channel]
    h, w = p.shape
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 4.2))
    else:
        fig = ax.figure
    extent = (-(w // 2) - 0.5, w - w // 2 - 0.5, h - h // 2 - 0.5, -(h // 2) - 0.5)
    im = ax.imshow(np.log10(p + 1e-12 * p.max()), cmap='viridis', extent=extent)
    ax.set_xlabel('fx (cycles per image)')
    ax.set_ylabel('fy (cycles per image)')
    ax.set_title('Fourier power of the NAD covariance (log10)')
    fig.colorbar(im, ax=ax)
    return fig


def grid(csv_path, ax=None, lo=50.0, hi=100.0):
    """A `nad sweep` accuracy.csv: the Fourier grid (columns fy,fx,accuracy) as a heat map with
    frequency axes and the paper's colour range (50-100 %), or NAD sweeps (index,accuracy) as a
    line plot of accuracy against NAD index."""
    with open(csv_path, newline='') as f:
        rows = list(csv.DictReader(f))
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
    else:
        fig = ax.figure
    if rows and 'fy' in rows[0]:
        fys = sorted({int(r['fy']) for r in rows})
        fxs = sorted({int(r['fx']) for r in rows})
        acc = np.full((len(fys), len(fxs)), np.nan)
        for r in rows:
            acc[fys.index(int(r['fy'])), fxs.index(int(r['fx']))] = float(r['accuracy'])
        im = ax.imshow(acc, cmap='viridis', vmin=lo, vmax=hi, origin='upper')
        ax.set_xticks(range(len(fxs)), [str(x) for x in fxs], fontsize=7)
        ax.set_yticks(range(len(fys)), [str(y) for y in fys], fontsize=7)
        ax.set_xlabel('fx (cycles per image)')
        ax.set_ylabel('fy (cycles per image)')
        fig.colorbar(im, ax=ax, label='test accuracy (%)')
        ax.set_title('Test accuracy on D(v), v a Fourier direction')
    else:
        idx = [int(r['index']) for r in rows]
        acc = [float(r['accuracy']) for r in rows]
        ax.plot(idx, acc, marker='o')
        ax.set_ylim(lo, hi)
        ax.set_xlabel('NAD index')
        ax.set_ylabel('test accuracy (%)')
        ax.set_title('Test accuracy on D(v), v a NAD')
        ax.grid(True, alpha=0.3)
    return fig
