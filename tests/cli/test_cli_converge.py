"""`nad estimate --until-converged` (issue 19 §3): the stopping point is the same for --threads 1
and 2, a converging case stops well below --networks, a case that cannot converge within
--networks runs them all and says so, the NADs equal a plain run of the same number of
networks, and the option's misuses are refused."""
import json
import os

import numpy as np

from clitest import check, fails, finish, must, tmp

ARGS = ('lenet', '--input', '1x16x16', '--seed', '3', '--quiet')


def summary(d):
    with open(os.path.join(d, 'summary.json')) as f:
        return json.load(f)


runs = {}
for threads in (1, 2):
    out = tmp('conv%d' % threads)
    must('until-converged, %d threads' % threads, 'estimate', *ARGS, '--networks', '8000',
         '--until-converged', '--check-every', '100', '--threads', str(threads), '--out', out,
         timeout=600)
    runs[threads] = out
s1, s2 = summary(runs[1]), summary(runs[2])
u1, u2 = s1.get('until_converged', {}), s2.get('until_converged', {})
print('lenet 1x16x16: stopped at %s of %s networks' % (u1.get('networks_used'),
                                                     u1.get('max_networks')))
check('summary records the stop', u1.get('networks_used') == s1.get('networks_done') and
      u1.get('max_networks') == 8000 and u1.get('check_every') == 100 and
      u1.get('check_growth') == 1.25, str(u1))
SCHEDULE = (100, 200, 300, 400, 500, 700, 900, 1200, 1500, 1900, 2400, 3000, 3800)
check('converges well below the maximum, at a check point of the geometric schedule',
      u1.get('converged') is True and u1.get('networks_used') in SCHEDULE, str(u1))
check('same stopping point for 1 and 2 threads', u1.get('networks_used') ==
      u2.get('networks_used'), '%s vs %s' % (u1, u2))
e1, e2 = (np.load(os.path.join(d, 'eigenvalues.npy')) for d in (runs[1], runs[2]))
check('same eigenvalues for 1 and 2 threads', np.array_equal(e1, e2))
used = u1.get('networks_used', 0)
plain = tmp('plain')
must('plain run of as many networks', 'estimate', *ARGS, '--networks', str(used), '--threads',
     '2', '--out', plain, timeout=600)
check('equal to a plain run of the same networks', np.array_equal(
    e1, np.load(os.path.join(plain, 'eigenvalues.npy'))) and np.array_equal(
    np.load(os.path.join(runs[1], 'nads.npy')), np.load(os.path.join(plain, 'nads.npy'))))
check('a plain run has no until_converged', 'until_converged' not in summary(plain))
# one criterion: the verdict of the stopped run and of the plain run of as many networks is the
# stop's (converged), and the 24-network run's is not
check('verdict is the stopping criterion', s1.get('verdict', '').startswith('converged:') and
      summary(plain).get('verdict', '').startswith('converged:'),
      '%s / %s' % (s1.get('verdict'), summary(plain).get('verdict')))
check('the verdict reports the criterion\'s overlaps',
      'top-10 subspace overlap %.3f, top-50 %.3f' % (u1.get('overlap_k1', -1),
                                                     u1.get('overlap_k2', -1))
      in s1.get('verdict', ''), '%s / %s' % (s1.get('verdict'), u1))

few = tmp('few')
must('cannot converge in 24 networks', 'estimate', *ARGS, '--networks', '24',
     '--until-converged', '--check-every', '8', '--threads', '2', '--out', few)
uf = summary(few).get('until_converged', {})
check('not converged: all networks used', uf.get('converged') is False and
      uf.get('networks_used') == 24, str(uf))
check('not converged: the verdict says so too', summary(few).get('verdict', '').startswith(
    'not converged:'), summary(few).get('verdict'))
check('its hint does not suggest the option it used',
      'use --until-converged' not in summary(few).get('verdict', ''), summary(few).get('verdict'))
three = tmp('three')
out = must('3 networks: too few for the criterion', 'estimate', *ARGS[:-1], '--networks', '3',
           '--until-converged', '--out', three)
u3 = summary(three).get('until_converged', {})
check('criterion unknown: no overlaps recorded, the verdict says why', u3.get('converged') is
      False and 'overlap_k1' not in u3 and summary(three).get('verdict', '').startswith(
          'unknown:'), '%s / %s' % (u3, summary(three).get('verdict')))
check('criterion unknown: the human line quotes no overlaps',
      'NOT converged after 3 of at most 3 networks\n' in out, out)
out = must('human summary says it', 'estimate', *ARGS[:-1], '--networks', '24',
           '--until-converged', '--check-every', '8', '--out', tmp('few2'))
check('human summary: NOT converged', 'NOT converged after 24 of at most 24' in out and
      'growing by 1.25' in out, out)

fails('--check-every needs --until-converged', 'estimate', *ARGS, '--networks', '10',
      '--check-every', '5', '--out', tmp('x'), words=('--until-converged',))
fails('--until-converged with --range', 'estimate', *ARGS, '--networks', '10', '--range',
      '0:5', '--until-converged', '--checkpoint', tmp('x.ck'), words=('--range',))
fails('--check-growth needs --until-converged', 'estimate', *ARGS, '--networks', '10',
      '--check-growth', '2', '--out', tmp('x'), words=('--until-converged',))
fails('--check-growth below 1', 'estimate', *ARGS, '--networks', '10', '--until-converged',
      '--check-growth', '0.5', '--out', tmp('z'), words=('--check-growth',))
g2 = tmp('g2')
must('--check-growth 2', 'estimate', *ARGS, '--networks', '40', '--until-converged',
     '--check-every', '8', '--check-growth', '2', '--out', g2)
check('--check-growth recorded', summary(g2).get('until_converged', {}).get('check_growth') == 2,
      str(summary(g2).get('until_converged')))
fails('--check-every 0', 'estimate', *ARGS, '--networks', '10', '--until-converged',
      '--check-every', '0', '--out', tmp('y'))
finish()
