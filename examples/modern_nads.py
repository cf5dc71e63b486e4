#!/usr/bin/python3
"""NADs of modern architectures side by side (issue 17 §5): one figure, one table.

    examples/modern_nads.py OUTDIR [--archs lenet,resnet18,mobilenet-v2,convnext,vit]
                            [--networks lenet=2000,resnet18=100,...] [--seed 0]
                            [--threads 2] [--top 6] [--input 3x32x32] [--redraw]

Run it with the Python that has numpy (/usr/bin/python3 on Debian) and the binding on the path,
e.g. from a build tree:
    NAD_LIBRARY=build/lib/libnad.so PYTHONPATH=bindings/python \\
        /usr/bin/python3 examples/modern_nads.py out/modern
(scripts/modern_figure.sh does exactly that.)

For each built-in architecture, in its own process (so that its peak RSS is its own): dipole
NADs (s = 100, x0 ~ N(0, I) from the seed, response = output 0) of N random networks
(PyTorch's initialisation, libnad's built-in) at --input, --threads worker threads. The
accumulation (the networks) and the eigensolve are timed apart: "s/network" is the
accumulation's wall time over N, "eigensolve" the finalisation's (top-K Krylov when N is well
below D, else the full eigensolve). Writes OUTDIR/ARCH/: result.npz (eigenvalues, the top NADs,
spectrum, timings, peak RSS) and libnad's own per-architecture figures nads.png, spectrum.png,
eigenvalues.png. An architecture whose OUTDIR/ARCH/result.npz exists with the same N, seed and
input is not recomputed (delete it, or change N, to recompute); --redraw only redraws.

Then, from all result.npz files:
  OUTDIR/modern_nads.png   the figure (libnad.figure_images). Two grid rows per architecture,
      in the order of --archs. Upper row: NADs 1..K as colour images (the three channels as R,
      G, B; each NAD scaled by its largest magnitude over all channels, mid grey = 0), then the
      covariance's Fourier power summed over the channels (log10, six decades below its peak
      -> black, peak -> white, frequency 0 in the middle), then the eigenvalue decay:
      log10(λ_i/λ_1) from 0 (top) to -6 (bottom) against log10 i from 1 (left) to D (right),
      grid lines at every decade (the curve ends at i = N - 1: N networks span at most N - 1
      directions; for the same reason NADs beyond N - 1 are left blank). Lower row: under each
      NAD its Fourier magnitude |DFT| summed over the channels (linear, scaled to its peak,
      frequency 0 in the middle), as the paper shows.
      Tiles are magnified to at most 64 pixels a side (32x32 inputs: 2x).
  OUTDIR/modern_eigenvalues.png   the eigenvalue decays with axes and a legend
      (libnad.figure_lines): log10(λ_i/λ_1) against log10 i.
  OUTDIR/modern_table.md, modern_table.json   per architecture: N, s/network, eigensolve s,
      peak RSS (MB, the whole process: Python, numpy and libnad), λ1/λ2 (N >= 3), λ1/λ10
      (N >= 11: N networks give N - 1 non-zero eigenvalues), effective number of directions
      (Σλ)²/Σλ² over those, spectrum flatness (geometric over arithmetic mean of the
      channel-summed Fourier power of the covariance: 1 = white) and the low-frequency fraction
      (share of that power at radius <= H/8 cycles per image; the white-noise value is in the
      table's notes).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

ARCHS = 'lenet,resnet18,mobilenet-v2,convnext,vit'
# Per-network wall times with 2 threads at 3x32x32 (idle machine, 2026-12-06): lenet 0.015 s,
# convnext 3.5 s, mobilenet-v2 3.9 s, resnet18 13.5 s, vit > 60 s. These N take about an hour.
NETWORKS = 'lenet=2000,resnet18=100,mobilenet-v2=100,convnext=100,vit=20'
TILE = 64      # tiles are magnified by the largest integer that keeps them within this side
DECADES = 6.0  # the log scales of the figure span this many decades below the peak


def parse_networks(text, archs):
    """'lenet=2000,vit=20' or one number for all -> {arch: N}; every arch gets one."""
    out = {}
    for item in (t for t in text.split(',') if t):
        if '=' in item:
            k, v = item.split('=', 1)
            out[k.strip()] = int(v)
        else:
            out.update({a: int(item) for a in archs})
    defaults = dict(i.split('=') for i in NETWORKS.split(','))
    for a in archs:
        out.setdefault(a, int(defaults.get(a, 100)))
        if out[a] < 2:
            raise ValueError('%s: N = %d, at least 2 networks are needed' % (a, out[a]))
    return out


def one(a):
    """One architecture in this process: estimate, write OUTDIR/ARCH/result.npz and figures."""
    import libnad
    c, h, w = map(int, a.input.split('x'))
    d, n = c * h * w, a.n
    arch = libnad.Arch(a.one, input=(c, h, w))
    top = n if n < d // 4 else 0  # rank <= N - 1: a Krylov top-N loses nothing
    est = libnad.Estimator(arch, num_networks=n, seed=a.seed, num_threads=a.threads, top_k=top)
    t0 = time.perf_counter()
    est.accumulate(progress=False)
    t1 = time.perf_counter()
    est.finalize()
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    ev, nads, spec = est.eigenvalues(), est.nads(), est.spectrum()
    k = min(max(a.top, 16), nads.shape[0])
    out = os.path.join(a.outdir, a.one)
    os.makedirs(out, exist_ok=True)
    np.savez(os.path.join(out, 'result.npz'), eigenvalues=ev, nads=nads[:k], spectrum=spec,
             networks=n, seed=a.seed, input=(c, h, w), threads=a.threads,
             seconds_accumulate=t1 - t0, seconds_finalize=t2 - t1,
             seconds_per_network=(t1 - t0) / n, peak_rss_mb=rss)
    title = '%s %s, %d networks' % (a.one, a.input, n)
    libnad.figure_nads(os.path.join(out, 'nads.png'), nads[:k], (c, h, w), eigenvalues=ev[:k],
                       show=list(range(min(8, k))), title=title)
    libnad.figure_spectrum(os.path.join(out, 'spectrum.png'), spec, (c, h, w), title=title)
    libnad.figure_eigenvalues(os.path.join(out, 'eigenvalues.png'), ev, title=title)
    print('%s: %d networks in %.1f s (%.3g s/network), eigensolve %.1f s, peak RSS %.0f MB'
          % (a.one, n, t1 - t0, (t1 - t0) / n, t2 - t1, rss), flush=True)


def metrics(z):
    """The table's numbers for one result.npz."""
    n = int(z['networks'])
    ev = np.asarray(z['eigenvalues'], np.float64)[:n - 1]  # the rest: rounding (rank N - 1)
    p = np.asarray(z['spectrum'], np.float64).sum(0)
    h, w = p.shape
    fy, fx = np.meshgrid(np.arange(h) - h // 2, np.arange(w) - w // 2, indexing='ij')
    low = np.hypot(fy, fx) <= h / 8.0
    pf = np.maximum(p, 1e-12 * p.max())
    pos = ev[ev > 0]
    return {
        'networks': n,
        'seconds_per_network': float(z['seconds_per_network']),
        'seconds_eigensolve': float(z['seconds_finalize']),
        'peak_rss_mb': float(z['peak_rss_mb']),
        'l1_l2': float(ev[0] / ev[1]) if len(ev) > 1 and ev[1] > 0 else None,
        'l1_l10': float(ev[0] / ev[9]) if len(ev) > 9 and ev[9] > 0 else None,
        'effective_directions': float(pos.sum() ** 2 / (pos ** 2).sum()) if len(pos) else None,
        'spectrum_flatness': float(np.exp(np.log(pf).mean()) / pf.mean()),
        'low_frequency_fraction': float(p[low].sum() / p.sum()),
        'low_frequency_white': float(low.sum() / low.size),
    }


def fmt(v, f='%.3g'):
    return '–' if v is None else f % v


def write_table(outdir, archs, rows, command):
    """modern_table.md and modern_table.json (rows: {arch: metrics})."""
    head = ('| architecture | N | s/network | eigensolve s | peak RSS MB | λ1/λ2 | λ1/λ10 | '
            'effective directions | spectrum flatness | low-frequency fraction |\n'
            '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n')
    lines = ['| %s | %d | %s | %s | %.0f | %s | %s | %s | %s | %s |'
             % (a, r['networks'], fmt(r['seconds_per_network']), fmt(r['seconds_eigensolve']),
                r['peak_rss_mb'], fmt(r['l1_l2']), fmt(r['l1_l10']),
                fmt(r['effective_directions']), fmt(r['spectrum_flatness'], '%.3f'),
                fmt(r['low_frequency_fraction'], '%.3f')) for a, r in rows.items()]
    white = next(iter(rows.values()))['low_frequency_white']
    notes = ('\nLow-frequency fraction: share of the covariance\'s Fourier power at radius <= '
             'H/8 cycles per image (white noise: %.3f). Made by `%s`.\n' % (white, command))
    with open(os.path.join(outdir, 'modern_table.md'), 'w') as f:
        f.write(head + '\n'.join(lines) + '\n' + notes)
    with open(os.path.join(outdir, 'modern_table.json'), 'w') as f:
        json.dump({'command': command, 'archs': archs, 'rows': rows}, f, indent=1)
        f.write('\n')


def zoom_of(h, w):
    """The figure's magnification of an h x w input (32x32: 2)."""
    return max(1, TILE // max(h, w))


def upsample(img, zoom):
    """(c, h, w) -> (c, zoom h, zoom w) by pixel repetition."""
    return np.repeat(np.repeat(img, zoom, 1), zoom, 2)


def log_tile(p):
    """Log10 of a non-negative map, DECADES below its peak -> 0, peak -> 1."""
    p = np.asarray(p, np.float64)
    m = max(p.max(), 1e-300)
    return np.clip((np.log10(np.maximum(p, 1e-300 * m)) - np.log10(m)) / DECADES + 1, 0, 1)


def plot_tile(ev, d, n, th, tw):
    """The eigenvalue decay (the first n - 1: the rank of n networks' covariance) drawn into a
    white th x tw RGB tile (see the module text)."""
    t = np.ones((3, th, tw))
    for e in range(int(np.log10(d)) + 1):       # grid: decades of the index
        t[:, :, int(round(e / np.log10(d) * (tw - 1)))] = 0.8
    for e in range(int(DECADES) + 1):             # grid: decades of the eigenvalue
        t[:, int(round(e / DECADES * (th - 1))), :] = 0.8
    ev = np.asarray(ev, np.float64)[:max(n - 1, 1)]
    i = np.arange(1, len(ev) + 1)
    ok = (ev > 0) & np.isfinite(ev)
    if not ok.any():
        return t
    x = np.log10(i[ok]) / np.log10(d) * (tw - 1)
    y = np.clip(-np.log10(ev[ok] / ev[0]) / DECADES, 0, 1) * (th - 1)
    for k in range(len(x)):                        # line segments, sampled per pixel
        x0, y0 = (x[k - 1], y[k - 1]) if k else (x[k], y[k])
        m = int(max(abs(x[k] - x0), abs(y[k] - y0))) + 2
        xs, ys = np.linspace(x0, x[k], m), np.linspace(y0, y[k], m)
        t[:, np.rint(ys).astype(int), np.rint(xs).astype(int)] = np.array([[0.1], [0.2], [0.8]])
    return t


def arch_tiles(z, k):
    """The two grid rows of one architecture: 2 x (k + 2) tiles of 3 x zoom h x zoom w."""
    c, h, w = (int(v) for v in z['input'])
    nads = np.asarray(z['nads'], np.float64).reshape(-1, c, h, w)
    upper, lower = [], []
    zoom = zoom_of(h, w)
    blank = np.ones((3, zoom * h, zoom * w))
    for i in range(k):
        if i >= min(len(nads), int(z['networks']) - 1):  # beyond the rank: rounding, left blank
            upper.append(blank)
            lower.append(blank)
            continue
        v = nads[i] / max(np.abs(nads[i]).max(), 1e-30)
        v = np.repeat(v, 3, 0) if c == 1 else v[:3]
        upper.append(upsample(0.5 + 0.5 * v, zoom))
        f = np.fft.fftshift(np.abs(np.fft.fft2(nads[i])).sum(0))
        lower.append(upsample(np.repeat((f / max(f.max(), 1e-30))[None], 3, 0), zoom))
    upper.append(upsample(np.repeat(log_tile(z['spectrum'].sum(0))[None], 3, 0), zoom))
    upper.append(plot_tile(z['eigenvalues'], c * h * w, int(z['networks']), zoom * h, zoom * w))
    lower += [blank, blank]
    return upper + lower


def draw(a, archs, results):
    """The figure and the eigenvalue plot from the results {arch: npz}."""
    import libnad
    k = a.top
    tiles = []
    for arch in archs:
        tiles += arch_tiles(results[arch], k)
    title = 'two rows each: ' + ', '.join(archs)
    path = os.path.join(a.outdir, 'modern_nads.png')
    libnad.figure_images(path, np.asarray(tiles, np.float32), cols=k + 2, title=title)
    d = max(int(np.prod(results[x]['input'])) for x in archs)
    m = max(len(results[x]['eigenvalues']) for x in archs)
    xs = np.log10(np.arange(1, m + 1))
    ys = []
    for arch in archs:
        ev = np.asarray(results[arch]['eigenvalues'], np.float64)
        y = np.full(m, np.nan)
        r = min(len(ev), int(results[arch]['networks']) - 1)  # the rest is zero (rounding)
        ok = ev[:r] > 0
        y[:r][ok] = np.log10(ev[:r][ok] / ev[0])
        ys.append(y)
    libnad.figure_lines(os.path.join(a.outdir, 'modern_eigenvalues.png'), xs, ys, -DECADES,
                        0.0, title='Covariance eigenvalues, D = %d' % d,
                        x_label='log10 index i', y_label='log10 λi/λ1', legend=archs)
    print('wrote', path, 'and modern_eigenvalues.png')


def load_result(outdir, arch, n, seed, shape):
    """OUTDIR/ARCH/result.npz if it was made with these settings, else None."""
    p = os.path.join(outdir, arch, 'result.npz')
    if not os.path.exists(p):
        return None
    z = dict(np.load(p))
    same = (int(z['networks']) == n and int(z['seed']) == seed and
            tuple(int(v) for v in z['input']) == shape)
    return z if same else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('outdir')
    ap.add_argument('--archs', default=ARCHS)
    ap.add_argument('--networks', default='', help='ARCH=N,... or one N for all (defaults: '
                    + NETWORKS + ')')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--top', type=int, default=6, help='NADs per row of the figure')
    ap.add_argument('--input', default='3x32x32')
    ap.add_argument('--redraw', action='store_true', help='only redraw from OUTDIR')
    ap.add_argument('--one', help=argparse.SUPPRESS)
    ap.add_argument('--n', type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.top < 1:
        ap.error('--top must be >= 1')
    os.makedirs(a.outdir, exist_ok=True)
    if a.one:
        return one(a)
    archs = [x for x in a.archs.split(',') if x]
    try:
        nets = parse_networks(a.networks, archs)
    except ValueError as e:
        ap.error(str(e))
    shape = tuple(int(v) for v in a.input.split('x'))
    results = {}
    for arch in archs:
        z = load_result(a.outdir, arch, nets[arch], a.seed, shape)
        if z is None and not a.redraw:
            cmd = [sys.executable, os.path.abspath(__file__), a.outdir, '--one', arch,
                   '--n', str(nets[arch]), '--seed', str(a.seed), '--threads', str(a.threads),
                   '--top', str(a.top), '--input', a.input]
            subprocess.run(cmd, check=True)
            z = load_result(a.outdir, arch, nets[arch], a.seed, shape)
        if z is None:
            sys.exit('%s: no result with N = %d in %s' % (arch, nets[arch], a.outdir))
        results[arch] = z
    command = ' '.join(['examples/modern_nads.py', 'OUTDIR', '--archs', ','.join(archs),
                        '--networks', ','.join('%s=%d' % (x, nets[x]) for x in archs),
                        '--seed', str(a.seed), '--threads', str(a.threads), '--input', a.input])
    write_table(a.outdir, archs, {x: metrics(results[x]) for x in archs}, command)
    draw(a, archs, results)
    with open(os.path.join(a.outdir, 'modern_table.md')) as f:
        sys.stdout.write(f.read())


if __name__ == '__main__':
    sys.exit(main())
