#!/usr/bin/python3
"""What gradient mode gives up against the dipole, per built-in (issue 19 §4, last point).

    bench/gradient_vs_dipole.py [ARCH...] [--networks 500] [--gradient-networks M] [--seed 0]
                                [--threads 2] [--nad PATH] [--dipole-run ARCH=DIR]
                                [--gradient-run ARCH=DIR]

For each built-in ARCH at its own input (1x32x32 for the default list: lenet, lenet-nopool,
logreg), runs `nad estimate ARCH` in both modes (dipole s = 100, and --mode gradient) with the
same seed, networks and x0, and prints a Markdown table: the correlation of the two log Fourier
power spectra and the top-1/top-16 subspace overlaps (`nad compare --k 16`), and each mode's
estimator seconds. The same networks are probed in both modes, so the difference is the
response (a finite difference of step 100 against the derivative at x0), not sampling noise
between network sets; the halves of one mode (their agreement is in summary.json) give the
noise floor to read it against. --gradient-networks M (default N) gives gradient mode its own
count: its NADs settle far more slowly per network than the dipole's, and cost far less (the
first M networks include the dipole's N). --dipole-run ARCH=DIR takes ARCH's dipole NADs from an
earlier `nad estimate ARCH --out DIR` (e.g. a run until converged, hours for VGG11) instead of
computing them; its seed and mode must match, and its networks count replaces N for that ARCH.
--gradient-run ARCH=DIR does the same for the gradient side (an earlier `nad estimate ARCH --mode
gradient --seed S --out DIR`, e.g. one resumed from a checkpoint across sessions); its networks
count replaces M.
Not a test: it never judges.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def estimate(nad, arch, mode, a, out, n):
    subprocess.run([nad, 'estimate', arch, '--mode', mode, '--networks', str(n),
                    '--seed', str(a.seed), '--threads', str(a.threads), '--quiet', '--out', out],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, 'summary.json')) as f:
        return json.load(f)


def halves(summary):
    """The run's own noise floor: its two halves' spectrum correlation and top-10 overlap."""
    c = summary.get('convergence') or {}
    top = c.get('10') or {}
    if not top:
        return '–'
    return '%.4f, %.4f' % (top['spectrum_corr'], top['overlap'])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('archs', nargs='*', default=['lenet', 'lenet-nopool', 'logreg'])
    ap.add_argument('--networks', type=int, default=500)
    ap.add_argument('--gradient-networks', type=int)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--nad', default=os.path.join(ROOT, 'build', 'src', 'nad'))
    ap.add_argument('--dipole-run', action='append', default=[], metavar='ARCH=DIR')
    ap.add_argument('--gradient-run', action='append', default=[], metavar='ARCH=DIR')
    a = ap.parse_args()
    earlier = {'dipole': {}, 'gradient': {}}
    for mode, specs in (('dipole', a.dipole_run), ('gradient', a.gradient_run)):
        for spec in specs:
            arch, _, d = spec.partition('=')
            try:
                with open(os.path.join(d, 'summary.json')) as f:
                    s = json.load(f)
            except (OSError, ValueError) as e:
                sys.exit('--%s-run %s: no readable summary.json (%s)' % (mode, spec, e))
            # the gradient ignores the step: only the dipole's must be the reference's 100
            if (s['arch'], s['mode'], s['seed'], s['eval_point']) != (
                    arch, mode, a.seed, 'normal') or (mode == 'dipole' and s['scale'] != 100.0):
                sys.exit('--%s-run %s: a %s run of %s with seed %d, scale %g, eval point %s; '
                         'wanted %s, seed %d, %snormal' % (
                             mode, spec, s['mode'], s['arch'], s['seed'], s['scale'],
                             s['eval_point'], mode, a.seed,
                             'scale 100, ' if mode == 'dipole' else ''))
            earlier[mode][arch] = (os.path.abspath(d), s)
    if not os.access(a.nad, os.X_OK):
        sys.exit('no nad at %s (build first, or --nad)' % a.nad)
    ng = a.gradient_networks or a.networks
    rows = ['| built-in | N (dipole, gradient) | spectrum correlation | top-1 overlap | top-16 overlap | '
            'halves (dipole): spectrum corr, top-10 | halves (gradient) | dipole s | gradient s |',
            '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
    with tempfile.TemporaryDirectory(prefix='nad-gvd-') as tmp:
        for arch in a.archs:
            dd, dg = os.path.join(tmp, arch + '-dipole'), os.path.join(tmp, arch + '-gradient')
            if arch in earlier['dipole']:
                dd, sd = earlier['dipole'][arch]
                nd = sd['networks_done']
            else:
                sd, nd = estimate(a.nad, arch, 'dipole', a, dd, a.networks), a.networks
            if arch in earlier['gradient']:
                dg, sg = earlier['gradient'][arch]
                ngi = sg['networks_done']
            else:
                sg, ngi = estimate(a.nad, arch, 'gradient', a, dg, ng), ng
            c = json.loads(subprocess.run([a.nad, 'compare', dd, dg, '--k', '16', '--json'],
                                          check=True, capture_output=True, text=True).stdout)
            ov = c['overlap']
            rows.append('| %s | %d, %d | %.4f | %.4f | %.4f | %s | %s | %s | %s |' % (
                arch, nd, ngi, c['spectrum_corr'], ov['1'], ov['16'], halves(sd), halves(sg),
                'earlier run' if arch in earlier['dipole'] else '%.2f' % sd['seconds'],
                'earlier run' if arch in earlier['gradient'] else '%.2f' % sg['seconds']))
            print('  %s done' % arch, file=sys.stderr)
    print('\n'.join(rows))


if __name__ == '__main__':
    main()
