"""The one helper module of the Python tests. Two styles, one final line 'N passed, N failed'
(exit 1 on any failure):
  - unittest tests (tests/python/test_*.py): main() runs the TestCase classes of __main__;
  - script tests (tests/unit/*/*.py, tests/cli/*.py; meson puts this folder on PYTHONPATH):
    check() records one check, run() runs a program, finish() prints the line and exits.
Plus small numeric utilities."""
import collections
import os
import subprocess
import sys
import time
import unittest

SOURCE_ROOT = os.environ.get('NAD_SOURCE_ROOT') or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))

# meson's "skipped" exit code, for a test that cannot run here (e.g. no torch)
SKIP = 77


class _Result(unittest.TextTestResult):
    """Counts every test and every subtest (an architecture of a loop) once."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.n_pass = 0
        self.n_fail = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.n_pass += 1

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.n_fail += 1

    def addError(self, test, err):
        super().addError(test, err)
        self.n_fail += 1

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is None:
            self.n_pass += 1
        else:
            self.n_fail += 1

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.n_fail += 1


def main(report=None):
    """Run the unittest.TestCase classes of __main__ and exit like the C tests do; report() may
    print measurements before the final line."""
    t0 = time.perf_counter()
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=_Result)
    prog = unittest.main(module='__main__', testRunner=runner, exit=False)
    r = prog.result
    if report is not None:
        report()
    print('time %.1f s' % (time.perf_counter() - t0))
    print('%d passed, %d failed' % (r.n_pass, r.n_fail))
    sys.exit(1 if r.n_fail or not r.wasSuccessful() else 0)


def rel_err(got, ref):
    """max |got - ref| / max |ref| (numpy arrays). A zero reference fails loudly: a comparison
    against all zeros would prove nothing."""
    import numpy as np
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if got.shape != ref.shape:
        raise AssertionError('shapes differ: %s vs %s' % (got.shape, ref.shape))
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    if not scale > 0 or not np.all(np.isfinite(got)):
        raise AssertionError('reference is all zero or result not finite (max |ref| = %g)'
                             % scale)
    return float(np.max(np.abs(got - ref))) / scale


def status_of(fn, *args, **kw):
    """Status of a libnad call through the binding (Status.OK, or the NadError's status, which
    must come with a message)."""
    import libnad
    try:
        fn(*args, **kw)
    except libnad.NadError as e:
        assert e.message, 'no message for %s' % e
        return e.status
    return libnad.Status.OK


# ---- script tests ----------------------------------------------------------------------------

_counts = {'passed': 0, 'failed': 0}


def check(name, cond, detail=''):
    """Record one check; a failure prints 'FAIL <name> <detail>' at once.

    `name` says what is checked (a str) and `cond` whether it held (its truth value). The
    arguments the other way round, check(cond, 'message'), would pass whatever cond is (a
    non-empty message is true): a name that is not a str is refused with a TypeError, which
    fails the test."""
    if not isinstance(name, str):
        raise TypeError('check(name, cond, detail): name must be a str, not a %s (arguments '
                        'swapped?)' % type(name).__name__)
    if cond:
        _counts['passed'] += 1
    else:
        _counts['failed'] += 1
        print(('FAIL %s %s' % (name, detail)).rstrip(), flush=True)


def failures():
    """Number of failed checks so far."""
    return _counts['failed']


def finish():
    """Print 'N passed, N failed' and exit (1 on any failure)."""
    print('%d passed, %d failed' % (_counts['passed'], _counts['failed']))
    sys.exit(1 if _counts['failed'] else 0)


Ran = collections.namedtuple('Ran', 'rc out err')


def run(*cmd, timeout=300):
    """Run a program (arguments made strings) with text output captured: Ran(rc, out, err),
    which also unpacks as (rc, out, err)."""
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout)
    return Ran(p.returncode, p.stdout, p.stderr)

