#!/usr/bin/python3
"""The public surface is exactly nad.h's: exported symbols of libnad.so = NAD_API functions of
include/nad/nad.h (none internal), every one bound by the Python _FUNCS table with matching
argument types, named by the generated Julia layer (which is up to date), and the Python enums
equal nad.h's. Parses nad.h on its own (not with the Julia generator's parser)."""
import ctypes
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

import libnad  # noqa: E402
from libnad import _ffi  # noqa: E402

HEADER = os.path.join(nadtest.SOURCE_ROOT, 'include', 'nad', 'nad.h')
JULIA_GEN = os.path.join(nadtest.SOURCE_ROOT, 'bindings', 'julia', 'LibNAD', 'src', 'gen',
                         'libnad.jl')
JULIA_SRC = os.path.join(nadtest.SOURCE_ROOT, 'bindings', 'julia', 'LibNAD', 'src', 'LibNAD.jl')
GENERATOR = os.path.join(nadtest.SOURCE_ROOT, 'bindings', 'julia', 'gen', 'generate.py')


def header_text():
    with open(HEADER, encoding='utf-8') as f:
        return f.read()


def code_only(text):
    """Without comments and preprocessor lines."""
    text = re.sub(r'//[^\n]*', ' ', re.sub(r'/\*.*?\*/', ' ', text, flags=re.S))
    return re.sub(r'^\s*#[^\n]*', ' ', text, flags=re.M)


def norm(ctype):
    return ' '.join(ctype.replace('*', ' * ').split())


def header_functions():
    """{name: (return type, [param types])} of the NAD_API declarations."""
    out = {}
    for m in re.finditer(r'NAD_API\s+([\w\s\*]*?)\b(nad_\w+)\s*\(([^)]*)\)\s*;', code_only(
            header_text())):
        params = [] if m.group(3).strip() in ('', 'void') else [
            re.sub(r'\s*\b\w+\s*((\[\s*\w*\s*\])*)$', lambda a: ' *' * a.group(1).count('['),
                   p.strip()).strip() for p in m.group(3).split(',')]
        out[m.group(2)] = (norm(m.group(1)), [norm(p) for p in params])
    return out


def header_enums():
    """{enum name: {constant: value}}."""
    out = {}
    for m in re.finditer(r'typedef\s+enum\s+\w+\s*\{(.*?)\}\s*(\w+)\s*;', code_only(header_text()),
                         re.S):
        out[m.group(2)] = {k: int(v) for k, v in re.findall(r'(\w+)\s*=\s*(-?\d+)', m.group(1))}
    return out


def exported_symbols(path):
    """{name: type letter} of the dynamic symbols defined by the library."""
    nm = shutil.which('nm')
    syms = {}
    if nm:
        out = subprocess.run([nm, '-D', '--defined-only', path], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 3:
                syms[parts[2].split('@')[0]] = parts[1]
        return syms
    out = subprocess.run(['readelf', '--dyn-syms', '-W', path], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) >= 8 and p[6] != 'UND' and p[3] in ('FUNC', 'OBJECT'):
            syms[p[7].split('@')[0]] = 'T' if p[3] == 'FUNC' else 'D'
    return syms


SCALAR_CTYPES = {'int64_t': ctypes.c_int64, 'int32_t': ctypes.c_int32, 'uint64_t': ctypes.c_uint64,
                 'uint32_t': ctypes.c_uint32, 'size_t': ctypes.c_size_t, 'double': ctypes.c_double,
                 'float': ctypes.c_float, 'int': ctypes.c_int, 'char': ctypes.c_char}


def header_fnptrs():
    """Names of the function-pointer typedefs (callbacks)."""
    return set(re.findall(r'typedef\s+[\w\s\*]+\(\s*\*\s*(\w+)\s*\)', code_only(header_text())))


def header_handles():
    return set(re.findall(r'typedef\s+struct\s+(\w+)\s+\1\s*;', code_only(header_text())))


def expected_ok(ctype, pytype, enums, handles, fnptrs=('nad_progress_fn',)):
    """Does the ctypes type fit the C type (same size and kind)?"""
    words = ctype.replace('*', ' * ').split()
    depth = words.count('*')
    base = [w for w in words if w not in ('*', 'const')][0]
    if depth == 0:
        if base == 'void':
            return pytype is None
        if base in enums:
            return pytype is ctypes.c_int
        if base in fnptrs:
            return isinstance(pytype, type) and issubclass(pytype, ctypes._CFuncPtr)
        return pytype is SCALAR_CTYPES[base]
    if base == 'char' and depth == 1:
        return pytype is ctypes.c_char_p
    if depth == 1 and (base in handles or base == 'void'):
        return isinstance(pytype, type) and issubclass(pytype, ctypes.c_void_p)
    # T* -> POINTER(T) (T** -> POINTER(POINTER(T)), handle** -> POINTER(c_void_p))
    if not (isinstance(pytype, type) and issubclass(pytype, ctypes._Pointer)):
        return False
    inner = ' '.join(words[:-1]) if words[-1] == '*' else None
    return expected_ok(inner, pytype._type_, enums, handles, fnptrs)


class Symbols(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.funcs = header_functions()
        cls.names = set(cls.funcs)

    def test_header_parsed(self):
        self.assertGreater(len(self.names), 50)
        self.assertIn('nad_version', self.names)
        self.assertEqual(self.funcs['nad_arch_input_shape'][1], ['const nad_arch *', 'int64_t *'])
        self.assertEqual(self.funcs['nad_npy_read_f32'][1],
                         ['const char *', 'float * *', 'int64_t *', 'int32_t *'])

    def test_every_function_bound(self):
        self.assertEqual(libnad._missing, [], 'functions missing from the loaded library')

    def test_exported_equals_header(self):
        syms = exported_symbols(libnad.library)
        exported = {s for s, t in syms.items() if t != 'A'}  # 'A': the version node NAD_0.1
        self.assertEqual(sorted(exported - self.names), [], 'exported but not in nad.h')
        self.assertEqual(sorted(self.names - exported), [], 'in nad.h but not exported')
        self.assertFalse([s for s in exported if s.startswith('nadi_')])
        self.assertTrue(all(syms[s] == 'T' for s in exported), 'only functions are exported')

    def test_python_table(self):
        bound = [f[0] for f in _ffi._FUNCS]
        self.assertEqual(len(bound), len(set(bound)), 'a function is bound twice')
        self.assertEqual(sorted(set(bound) - self.names), [], 'bound but not in nad.h')
        self.assertEqual(sorted(self.names - set(bound)), [], 'in nad.h but not bound')
        enums = set(header_enums())
        handles, fnptrs = header_handles(), header_fnptrs()
        self.assertTrue({'nad_arch', 'nad_net', 'nad_estimator'} <= handles)
        self.assertIn('nad_progress_fn', fnptrs)
        for entry in _ffi._FUNCS:
            name, argtypes, restype = entry[:3]
            ret, params = self.funcs[name]
            with self.subTest(function=name):
                self.assertEqual(len(argtypes), len(params))
                for i, (c, py) in enumerate(zip(params, argtypes)):
                    self.assertTrue(expected_ok(c, py, enums, handles, fnptrs),
                                    'parameter %d: C %r vs ctypes %r' % (i, c, py))
                self.assertTrue(expected_ok(ret, restype, enums, handles, fnptrs),
                                'return: C %r vs ctypes %r' % (ret, restype))
                # every status-returning function raises NadError through _check
                self.assertEqual(ret == 'nad_status', len(entry) > 3 and entry[3] is _ffi._check)

    def test_enums(self):
        enums = header_enums()
        mirror = {'nad_status': (libnad.Status, 'NAD_'), 'nad_option': (libnad.Option, 'NAD_OPT_'),
                  'nad_mode': (libnad.Mode, 'NAD_MODE_'),
                  'nad_eval_point': (libnad.EvalPoint, 'NAD_EVAL_'),
                  'nad_fourier_part': (libnad.FourierPart, 'NAD_FOURIER_'),
                  'nad_blas_field': (libnad.BlasField, 'NAD_BLAS_'),
                  'nad_network': (libnad.Network, 'NAD_NETWORK_'),
                  'nad_output_kind': (libnad.OutputKind, 'NAD_OUTPUT_'),
                  'nad_band_op': (libnad.BandOp, 'NAD_BAND_'),
                  'nad_align_kind': (libnad.AlignKind, 'NAD_ALIGN_'),
                  'nad_schedule': (libnad.Schedule, 'NAD_SCHEDULE_'),
                  'nad_split': (libnad.Split, 'NAD_SPLIT_'),
                  'nad_owner': (libnad.Owner, 'NAD_OWNER_'),
                  'nad_figure_format': (libnad.FigureFormat, 'NAD_FIGURE_')}
        self.assertEqual(set(enums), set(mirror))
        for cname, (py, prefix) in mirror.items():
            with self.subTest(enum=cname):
                want = {k[len(prefix):]: v for k, v in enums[cname].items()}
                self.assertEqual({m.name: int(m) for m in py}, want)

    def test_julia_generated(self):
        with open(JULIA_GEN, encoding='utf-8') as f:
            jl = f.read()
        called = re.findall(r'ccall\(\(:(\w+),\s*libnad\)', jl)
        defined = re.findall(r'^function (\w+)\(', jl, re.M)
        self.assertEqual(len(called), len(set(called)))
        self.assertEqual(set(called), self.names)
        self.assertEqual(set(defined), self.names)
        consts = dict((k, int(v)) for k, v in re.findall(r'^const (NAD_\w+) = \w+\((-?\d+)\)', jl,
                                                          re.M))
        self.assertEqual(consts, {k: v for e in header_enums().values() for k, v in e.items()})
        r = subprocess.run([sys.executable, GENERATOR, '--check', '--output', JULIA_GEN],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_julia_idiomatic_layer_uses_real_functions(self):
        # Julia is not installable here: at least every raw function and constant the
        # hand-written layer names must exist.
        with open(JULIA_SRC, encoding='utf-8') as f:
            src = f.read()
        src = re.sub(r'""".*?"""', ' ', src, flags=re.S)  # docstrings
        src = re.sub(r'"(\\.|[^"\\])*"', ' ', src)  # strings
        src = re.sub(r'#[^\n]*', ' ', src)  # comments
        used = set(re.findall(r'\b(nad_[a-z0-9_]+)\(', src))
        self.assertGreater(len(used & self.names), 40)
        types = set(header_enums())  # nad_option(x) converts
        self.assertEqual(sorted(used - self.names - types), [])
        consts = set(re.findall(r'\b(NAD_[A-Z0-9_]+)\b', src))
        known = {k for e in header_enums().values() for k in e}
        self.assertEqual(sorted(consts - known), [])


if __name__ == '__main__':
    nadtest.main()
