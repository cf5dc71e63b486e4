#!/usr/bin/python3
"""The Python binding and the BLAS kernels (issue 7): OPENBLAS_CORETYPE is chosen from the CPU
before libnad (and with it OpenBLAS) is loaded, only around the load and never over the user's
own value; when that cannot help, the library's warning arrives as a BlasKernelWarning. Each
case runs in a fresh interpreter, since OpenBLAS chooses its kernels once per process."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

import libnad  # noqa: E402

PROBE = '''
import json, os, sys, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    %s
    import libnad
print(json.dumps({"info": libnad.blas_info(), "env": os.environ.get("OPENBLAS_CORETYPE"),
                  "warnings": [str(w.message) for w in caught
                               if issubclass(w.category, libnad.BlasKernelWarning)]}))
'''


def probe(before='pass', **env):
    """Import libnad in a new interpreter with the environment of the test minus every BLAS
    setting, plus env; returns blas_info(), OPENBLAS_CORETYPE after the import, warnings."""
    e = {k: v for k, v in os.environ.items()
         if k not in ('OPENBLAS_CORETYPE', 'NAD_TEST_BLAS_CORE', 'NAD_BLAS_RESTARTED')}
    e.update(env)
    out = subprocess.run([sys.executable, '-c', PROBE % before], env=e, capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def cpuinfo(text):
    f = tempfile.NamedTemporaryFile('w', suffix='.cpuinfo', delete=False)
    f.write(text)
    f.close()
    return f.name


class CoreForCpu(unittest.TestCase):
    def test_flags(self):
        cases = [('GenuineIntel', 'fpu sse2 avx avx2 fma avx512f avx512cd', 'SkylakeX'),
                 ('AuthenticAMD', 'fpu sse2 avx avx2 fma avx512f', 'SkylakeX'),
                 ('AuthenticAMD', 'fpu sse2 avx avx2 fma', 'Zen'),
                 ('GenuineIntel', 'fpu sse2 avx avx2 fma', 'Haswell'),
                 ('GenuineIntel', 'fpu sse2 avx', 'Sandybridge'),
                 ('GenuineIntel', 'fpu sse2 sse4_2', None),
                 ('GenuineIntel', 'fpu sse2 avx512f', None)]  # no AVX2/FMA: not judged
        for vendor, flags, want in cases:
            with self.subTest(vendor=vendor, flags=flags):
                path = cpuinfo('processor\t: 0\nvendor_id\t: %s\nflags\t\t: %s\n\n'
                               'processor\t: 1\nflags\t\t: fpu\n' % (vendor, flags))
                try:
                    self.assertEqual(libnad.blas_core_for_cpu(path), want)
                finally:
                    os.unlink(path)
        self.assertIsNone(libnad.blas_core_for_cpu('/nonexistent/cpuinfo'))

    def test_agrees_with_the_library(self):
        """/proc/cpuinfo and CPUID name the same best kernel set."""
        if libnad.blas_info()['vendor'] != 'OpenBLAS' or not os.path.exists('/proc/cpuinfo'):
            self.skipTest('not OpenBLAS on Linux')
        level = {'SkylakeX': 3, 'Haswell': 2, 'Zen': 2, 'Sandybridge': 1, None: 0, '': 0}
        self.assertEqual(level[libnad.blas_core_for_cpu()], level[libnad.blas_info()['best_core']])


class Loading(unittest.TestCase):
    def setUp(self):
        info = libnad.blas_info()
        self.best = libnad.blas_core_for_cpu()
        if info['vendor'] != 'OpenBLAS' or 'DYNAMIC_ARCH' not in info['version'] or not self.best:
            self.skipTest('needs a DYNAMIC_ARCH OpenBLAS on an x86 CPU with AVX or better')

    def test_chosen_before_loading_and_not_left_behind(self):
        r = probe()
        self.assertIn(self.best.lower(), r['info']['version'].lower())
        self.assertIsNone(r['env'])
        self.assertEqual(r['warnings'], [])

    def test_user_value_kept_with_a_warning(self):
        r = probe(OPENBLAS_CORETYPE='Prescott')
        self.assertIn('Prescott', r['info']['version'])
        self.assertEqual(r['env'], 'Prescott')
        self.assertEqual(len(r['warnings']), 1)
        self.assertIn('set explicitly', r['warnings'][0])

    def test_numpy_first_is_too_late_and_says_so(self):
        # numpy loads OpenBLAS first here (Debian's libblas.so.3 is OpenBLAS's wrapper); a
        # weak core is faked so that the case exists on every CPU
        r = probe('import numpy', NAD_TEST_BLAS_CORE='Prescott')
        self.assertEqual(r['info']['core'], 'Prescott')
        self.assertEqual(r['info']['fix'], 'OPENBLAS_CORETYPE=' + libnad.blas_info()['best_core'])
        self.assertEqual(len(r['warnings']), 1)
        self.assertIn('import libnad before numpy', r['warnings'][0])


if __name__ == '__main__':
    nadtest.main()
