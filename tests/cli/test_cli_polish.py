"""The `nad` tool's manners (issue 10, section 5): usage without arguments, the missing
positional named, "did you mean" for misspelled commands and options, `estimate --json` as one
line, and `compare` taking C×H×W from the runs' summary.json. Arg: NAD_EXECUTABLE"""
import json
import os
import sys
import tempfile

import numpy as np

from nadtest import check, finish, run

nad = sys.argv[1]
tmp = tempfile.mkdtemp(prefix='nad_cli_polish_')


def errors(text):
    """stderr without the BLAS kernel warning (an environment with OPENBLAS_CORETYPE set)."""
    return '\n'.join(l for l in text.splitlines() if not l.startswith('nad: warning:'))

r = run(nad)
check('no arguments: usage, exit 2', r.rc == 2 and r.err.startswith('usage: nad COMMAND'), r.err)
for line in ('nad estimate ARCH', 'nad compare A B', 'nad arch show NAME', 'nad bias ARCH',
             'nad doctor', 'nad --version'):
    check('usage lists %r' % line, '\n  %s\n' % line in r.err, r.err)
check('no arguments: no error message', 'nad:' not in r.err, r.err)

r = run(nad, 'estmate', 'lenet')
check('misspelled command: nearest named', r.rc == 2 and "did you mean 'estimate'?" in r.err, r.err)
r = run(nad, 'frobnicate')
check('unknown command: no far-fetched hint', r.rc == 2 and 'did you mean' not in r.err, r.err)
check("unknown command: hint is 'nad help'", "(see 'nad help')" in r.err, r.err)
for args, near in ((['estimate', 'lenet', '--netwroks', '3', '--out', tmp], '--networks'),
                   (['estimate', 'lenet', '--net', '3', '--out', tmp], '--networks'),
                   (['bias', 'lenet', '--epoch', '3'], '--epochs'),
                   (['compare', 'a', 'b', '--jsno'], '--json'),
                   (['arch', 'show', 'lenet', '--inptu', '1x32x32'], '--input')):
    r = run(nad, *args)
    check('%s: did you mean %s' % (args[2] if args[0] != 'arch' else args[3], near),
          r.rc == 2 and '(did you mean %s?)' % near in r.err, r.err)
r = run(nad, 'estimate', 'lenet', '--colour', 'blue', '--out', tmp)
check('unrelated option: no hint', r.rc == 2 and 'did you mean' not in r.err, r.err)

for args, name in ((['estimate', '--out', tmp], 'missing ARCH'),
                   (['estimate', '--networks', '3'], 'missing ARCH'),
                   (['bias', '--direction', 'random'], 'missing ARCH'),
                   (['sweep', '--out', tmp], 'missing ARCH'),
                   (['net', 'init', '--seed', '1', '--out', 'x.npy'], 'missing NAME'),
                   (['train', '--data', 'fashion-mnist'], 'missing ARCH'),
                   (['poison', '--data', 'fashion-mnist', '--index', '0'], 'missing ARCH'),
                   (['flip', '--params', 'p.npy'], 'missing ARCH'),
                   (['compare'], 'missing A and B'),
                   (['compare', tmp], 'missing B')):
    r = run(nad, *args)
    check('%s: %s named first' % (' '.join(args[:2]), name),
          r.rc == 2 and errors(r.err).startswith('nad: ' + name), r.err)

# estimate --json: the summary, one line, nothing else on stdout
out1 = os.path.join(tmp, 'a')
r = run(nad, 'estimate', 'logreg', '--input', '3x8x4', '--networks', 6, '--threads', 1, '--json',
        '--out', out1)
lines = r.out.splitlines()
check('estimate --json: one line on stdout', r.rc == 0 and len(lines) == 1, r.out + r.err)
if r.rc == 0 and len(lines) == 1:
    check('estimate --json: the summary.json document',
          json.loads(lines[0]) == json.load(open(os.path.join(out1, 'summary.json'))), lines[0])

# compare: C×H×W from summary.json (3x8x4 is no square: this needed --input before)
out2 = os.path.join(tmp, 'b')
run(nad, 'estimate', 'logreg', '--input', '3x8x4', '--networks', 6, '--seed', 1, '--threads', 1,
    '--quiet', '--out', out2)
r = run(nad, 'compare', out1, out2, '--json')
check('compare of two 3x8x4 runs without --input', r.rc == 0, r.err)
if r.rc == 0:
    got = json.loads(r.out)['spectrum_corr']
    pa, pb = (np.load(os.path.join(o, 'spectrum.npy')).ravel() for o in (out1, out2))
    la, lb = np.log(pa + 1e-12 * pa.max()), np.log(pb + 1e-12 * pb.max())
    want = np.corrcoef(la, lb)[0, 1]
    # the spectra of all D eigenpairs per channel are the estimator's spectrum.npy
    check('compare uses the 3x8x4 shape (spectrum correlation of spectrum.npy)',
          abs(got - want) < 1e-4, '%r vs %r' % (got, want))
r = run(nad, 'compare', out1, os.path.join(out2, 'nads.npy'), '--json')
check('compare reads the shape next to a nads.npy too', r.rc == 0, r.err)
out3 = os.path.join(tmp, 'c')
run(nad, 'estimate', 'logreg', '--input', '1x12x8', '--networks', 6, '--quiet', '--out', out3)
r = run(nad, 'compare', out1, out3)
check('compare refuses runs of different shapes', r.rc == 1 and '3x8x4' in r.err and
      '1x12x8' in r.err, r.err)
r = run(nad, 'compare', out1, out3, '--input', '1x96x1')
check('--input still overrides the summaries', r.rc == 0, r.err)
finish()
