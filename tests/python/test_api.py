#!/usr/bin/python3
"""The Python binding's contract: errors surface as NadError with the right status and message,
versions are checked, handles are released once in any order, arrays go in and out with and
without numpy, and a spec equal to a builtin gives the same network."""
import array
import ctypes
import gc
import json
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402

# libnad before numpy, as the binding asks: where the BLAS misreads the CPU (OpenBLAS 0.3.21
# gives a 2023 Xeon its Prescott kernels), only a library loaded after libnad's choice of
# OPENBLAS_CORETYPE runs the kernels the nad tool and a numpy-free process run, bit for bit.
import libnad  # noqa: E402

try:
    import numpy as np
except ImportError:
    print('skipped: numpy missing')
    sys.exit(nadtest.SKIP)

from libnad import NadError, Status  # noqa: E402
from libnad import _lib as raw  # noqa: E402

LENET_SPEC = ('conv 6 k5; relu; maxpool 2; conv 16 k5; relu; maxpool 2; fc 120; relu; fc 84; '
              'relu; fc 1')


def project_version():
    v = os.environ.get('NAD_EXPECTED_VERSION')
    if v:
        return v
    with open(os.path.join(nadtest.SOURCE_ROOT, 'meson.build')) as f:
        return re.search(r"version:\s*'([0-9.]+)'", f.read()).group(1)


class Errors(unittest.TestCase):
    def expect(self, status, fn, *args, **kw):
        with self.assertRaises(NadError) as cm:
            fn(*args, **kw)
        e = cm.exception
        self.assertEqual(e.status, status, str(e))
        self.assertIsInstance(e.status, Status)
        self.assertTrue(e.message, 'a failure must come with a message')
        self.assertTrue(e.function.startswith('nad_'), e.function)
        self.assertIn(e.message, str(e))
        return e

    def test_unknown_arch(self):
        e = self.expect(Status.ERR_PARSE, libnad.Arch.builtin, 'lenet5000')
        self.assertEqual(e.function, 'nad_arch_create_builtin')
        self.assertIn('lenet5000', e.message)
        # the message is this thread's last error, read right after the call
        self.assertEqual(libnad.last_error(), e.message)

    def test_bad_spec_names_position(self):
        for spec, bad in [('conv 6 k5; relu; bogus 3', 'bogus'),
                          ('conv 6 k5; relu; conv x', 'x'),
                          ('conv 6 k5; fc 1; }', '}')]:
            with self.subTest(spec=spec):
                e = self.expect(Status.ERR_PARSE, libnad.Arch.from_spec, spec)
                pos = spec.index(bad)
                nums = [int(n) for n in re.findall(r'\d+', e.message)]
                self.assertTrue(pos in nums or pos + 1 in nums,
                                'position %d (or %d) not in %r' % (pos, pos + 1, e.message))

    def test_shape_and_args(self):
        e = self.expect(Status.ERR_SHAPE, libnad.Arch.builtin, 'lenet', (1, 4, 4))
        self.assertIn('lenet', e.message)
        self.expect(Status.ERR_INVALID_ARG, libnad.Arch.builtin, 'lenet', (0, 32, 32))
        self.expect(Status.ERR_INVALID_ARG, libnad.Arch.builtin, 'lenet', (1, 32, 32), 0)

    def test_net_misuse(self):
        arch = libnad.Arch.builtin('lenet')
        n = arch.num_params
        self.expect(Status.ERR_SHAPE, libnad.Net, arch, params=np.zeros(n - 1, np.float32))
        net = libnad.Net(arch, seed=1)
        self.expect(Status.ERR_SHAPE, net.set_params, np.zeros(n + 1, np.float32))
        e = self.expect(Status.ERR_MISUSE, net.backward, np.ones((1, 1), np.float32))
        self.assertEqual(e.function, 'nad_net_backward')
        x = np.zeros((2, 1, 32, 32), np.float32)
        net.forward(x)
        net.backward(np.ones((2, 1), np.float32))  # fine after a forward
        self.expect(Status.ERR_SHAPE, net.backward, np.ones((3, 1), np.float32))
        net.set_params(net.get_params())  # new parameters invalidate the stored forward
        self.expect(Status.ERR_MISUSE, net.backward, np.ones((2, 1), np.float32))
        # inputs that do not fit (batch, 1, 32, 32) are refused before reaching C
        for bad in [np.zeros((2, 3, 32, 32), np.float32), np.zeros(1023, np.float32),
                    np.zeros((2, 32, 32, 1), np.float32)]:
            with self.subTest(shape=bad.shape):
                self.expect(Status.ERR_SHAPE, net.forward, bad)
        self.expect(Status.ERR_INVALID_ARG, net.forward, np.zeros((0, 1, 32, 32)))  # batch 0
        self.expect(Status.ERR_SHAPE, net.input_grad, x, [1.0, 2.0])

    def test_raw_null_and_wrong_types(self):
        n = ctypes.c_int64()
        with self.assertRaises(NadError) as cm:
            raw.nad_arch_num_params(None, ctypes.byref(n))
        self.assertEqual(cm.exception.status, Status.ERR_INVALID_ARG)
        arch = libnad.Arch.builtin('logreg')
        with self.assertRaises(NadError) as cm:
            raw.nad_arch_num_params(arch._handle, None)
        self.assertEqual(cm.exception.status, Status.ERR_INVALID_ARG)
        with self.assertRaises(NadError) as cm:
            raw.nad_net_set_training(None, 1, 0)
        self.assertEqual(cm.exception.status, Status.ERR_INVALID_ARG)
        net = libnad.Net(arch)
        with self.assertRaises(NadError) as cm:
            raw.nad_net_set_training(net._handle, 2, 0)
        self.assertEqual(cm.exception.status, Status.ERR_INVALID_ARG)
        with self.assertRaises(NadError) as cm:
            raw.nad_arch_layer(arch._handle, 99, None, None, None, None)
        self.assertEqual(cm.exception.status, Status.ERR_INVALID_ARG)
        # ctypes refuses wrong Python types before anything reaches C
        for bad in ['not a handle', b'bytes', 1.5, True]:
            with self.assertRaises(ctypes.ArgumentError):
                raw.nad_arch_num_params(bad, ctypes.byref(n))
        with self.assertRaises(ctypes.ArgumentError):
            raw.nad_net_forward(net._handle, [1.0], 1, None, 0)
        with self.assertRaises((TypeError, AttributeError)):
            libnad.Arch.builtin(42)
        with self.assertRaises(TypeError):
            libnad.Net('lenet')
        with self.assertRaises(TypeError):
            libnad.Estimator(net)
        # destroy(NULL) is a no-op
        raw.nad_arch_destroy(None)
        raw.nad_net_destroy(None)
        raw.nad_free(None)

    def test_status_strings(self):
        names = [libnad.status_string(s) for s in Status]
        self.assertTrue(all(names))
        self.assertEqual(len(set(names)), len(names))
        self.assertTrue(raw.nad_status_string(12345))  # never NULL
        self.assertTrue(raw.nad_status_string(-1))
        self.assertIn('nad_net_forward', str(NadError(Status.ERR_SHAPE, 'nad_net_forward', 'm')))


IMPORT_SCRIPT = '''
import sys
try:
    import libnad
except ImportError as e:
    print(e)
    sys.exit(3)
'''


class Versions(unittest.TestCase):
    def test_version(self):
        info = libnad.version_info()
        self.assertEqual(info[0], libnad.EXPECTED_MAJOR)
        self.assertEqual(libnad.version(), '%d.%d.%d' % info)
        self.assertEqual(libnad.version(), project_version())
        self.assertEqual(libnad.__version__, project_version())  # the package says the same
        self.assertEqual(raw.nad_version(), info[0] * 10000 + info[1] * 100 + info[2])

    def test_major_check(self):
        libnad._ffi.check_version(libnad.EXPECTED_MAJOR * 10000 + 99 * 100 + 7)
        for bad in [(libnad.EXPECTED_MAJOR + 1) * 10000, 990000]:
            with self.assertRaises(ImportError):
                libnad._ffi.check_version(bad)

    def test_library_lookup(self):
        env = dict(os.environ, NAD_LIBRARY='/nonexistent/libnad.so')
        r = subprocess.run([sys.executable, '-c', IMPORT_SCRIPT], env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 3, r.stderr)  # an ImportError
        self.assertIn('/nonexistent/libnad.so', r.stdout)
        # a shared library that is not libnad is refused too
        env['NAD_LIBRARY'] = ctypes.util.find_library('m') or 'libm.so.6'
        r = subprocess.run([sys.executable, '-c', IMPORT_SCRIPT], env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn('not libnad', r.stdout)
        self.assertEqual(libnad.library, os.environ.get('NAD_LIBRARY', libnad.library))

    @unittest.skipUnless(os.environ.get('NAD_FAKE_MAJOR1_LIBRARY'), 'built by meson only')
    def test_other_major_refused(self):
        env = dict(os.environ, NAD_LIBRARY=os.environ['NAD_FAKE_MAJOR1_LIBRARY'])
        r = subprocess.run([sys.executable, '-c', IMPORT_SCRIPT], env=env,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn('major version 1', r.stdout)


class Handles(unittest.TestCase):
    def test_arch_closed_before_net(self):
        arch = libnad.Arch.builtin('lenet')
        net = libnad.Net(arch, seed=3)
        x = np.random.default_rng(0).standard_normal((2, 1, 32, 32)).astype(np.float32)
        y = net.forward(x)
        arch.close()
        self.assertTrue(arch.closed)
        with self.assertRaises(ValueError):
            arch.num_params
        np.testing.assert_array_equal(net.forward(x), y)  # the C net retained the arch
        self.assertEqual(net.input_grad(x).shape, x.shape)
        net.close()
        net.close()  # idempotent
        with self.assertRaises(ValueError):
            net.forward(x)

    def test_estimator_outlives_arch(self):
        arch = libnad.Arch.builtin('logreg', (1, 4, 4))
        est = libnad.Estimator(arch, num_networks=4)
        arch.close()
        est.run()
        self.assertEqual(est.dims, (16, 16))
        est.close()

    def test_context_managers_and_gc(self):
        with libnad.Arch.builtin('logreg') as arch:
            with libnad.Net(arch) as net:
                fin = net._fin
                self.assertTrue(fin.alive)
            self.assertFalse(fin.alive)
            self.assertTrue(net.closed)
        self.assertTrue(arch.closed)
        # dropped objects are destroyed by their finalizer, in whatever order the GC picks
        fins = []
        for i in range(50):
            a = libnad.Arch.builtin('lenet')
            n = libnad.Net(a, seed=i)
            fins += [a._fin, n._fin]
            if i % 2:
                del n
                del a
            else:
                del a
                del n
        gc.collect()
        self.assertFalse(any(f.alive for f in fins))

    def test_reprs(self):
        arch = libnad.Arch.builtin('lenet')
        self.assertIn('lenet', repr(arch))
        self.assertIn('lenet', repr(libnad.Net(arch)))
        arch.close()
        self.assertIn('closed', repr(arch))


class ArchAndNet(unittest.TestCase):
    def test_properties(self):
        self.assertEqual(libnad.builtin_names(), libnad.Arch.builtin_names())
        self.assertEqual(len(libnad.builtin_names()), raw.nad_arch_builtin_count())
        self.assertIsNone(raw.nad_arch_builtin_name(raw.nad_arch_builtin_count()))
        self.assertIsNone(raw.nad_arch_builtin_name(-1))
        arch = libnad.Arch.builtin('lenet', (3, 32, 32), 10)
        self.assertEqual(arch.name, 'lenet')
        self.assertEqual(arch.input_shape, (3, 32, 32))
        self.assertEqual(arch.outputs, 10)
        # LeNet by hand: conv 3->6 k5, conv 6->16 k5, fc 400->120->84->10
        n = (6 * 3 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + \
            (84 * 10 + 10)
        self.assertEqual(arch.num_params, n)
        self.assertEqual(arch.num_trainable, n)
        layers = arch.layers
        self.assertEqual(len(layers), arch.num_layers)
        self.assertEqual(sum(l['params'] for l in layers), n)
        self.assertEqual(sum(l['flops'] for l in layers), arch.flops)
        self.assertEqual(layers[0]['out_shape'], (6, 28, 28))
        self.assertEqual(layers[-1]['out_shape'], (10, 1, 1))
        self.assertEqual(layers[0]['flops'], 2 * 6 * 28 * 28 * 3 * 25 + 6 * 28 * 28)
        ts = arch.tensors
        self.assertEqual(ts[0], ('c1.weight', 0, 450, True))
        self.assertEqual(sum(t.numel for t in ts), n)
        d = arch.unflatten(np.arange(n))
        self.assertEqual(list(d), [t.name for t in ts])
        self.assertEqual(int(d['c1.bias'][0]), 450)

    def test_spec_equals_builtin_lenet(self):
        a, b = libnad.Arch.builtin('lenet'), libnad.Arch.from_spec(LENET_SPEC)
        self.assertEqual(b.name, 'spec')
        for prop in ['input_shape', 'outputs', 'num_params', 'num_trainable', 'flops',
                     'num_layers', 'num_tensors']:
            self.assertEqual(getattr(a, prop), getattr(b, prop), prop)
        strip = [dict(l, desc=l['desc']) for l in a.layers]
        self.assertEqual(strip, b.layers)
        self.assertEqual([t[1:] for t in a.tensors], [t[1:] for t in b.tensors])
        pa, pb = libnad.Net(a, seed=9).get_params(), libnad.Net(b, seed=9).get_params()
        np.testing.assert_array_equal(pa, pb)
        x = np.random.default_rng(1).standard_normal((3, 1, 32, 32)).astype(np.float32)
        na, nb = libnad.Net(a, params=pa), libnad.Net(b, params=pa)
        np.testing.assert_array_equal(na.forward(x), nb.forward(x))
        np.testing.assert_array_equal(na.input_grad(x), nb.input_grad(x))

    def test_forward_shapes_and_backward(self):
        arch = libnad.Arch.builtin('lenet', (1, 32, 32), 3)
        net = libnad.Net(arch, seed=2)
        rng = np.random.default_rng(2)
        x = rng.standard_normal((4, 1, 32, 32)).astype(np.float32)
        y = net.forward(x)
        self.assertEqual(y.shape, (4, 3))
        self.assertEqual(y.dtype, np.float32)
        np.testing.assert_array_equal(net(x.reshape(4, 1024)), y)
        np.testing.assert_array_equal(net(x.ravel()), y)
        # (c, h, w) = one sample; BLAS blocking may differ with the batch size (last bit)
        np.testing.assert_allclose(net(x[1])[0], y[1], rtol=1e-5)
        np.testing.assert_array_equal(net(x.astype(np.float64)), y)  # converted
        xf = np.asfortranarray(x)
        np.testing.assert_array_equal(net(xf), y)  # made C-contiguous
        np.testing.assert_allclose(net(x[::-1])[::-1], y, rtol=1e-5)  # negative strides
        # input_grad(x, w) == backward(w per sample)
        w = rng.standard_normal(3).astype(np.float32)
        g = net.input_grad(x, w)
        net.forward(x)
        dx, dp = net.backward(np.tile(w, (4, 1)))
        np.testing.assert_array_equal(g, dx)
        self.assertEqual(dp.shape, (arch.num_params,))
        # the parameter gradient is summed over the batch
        parts = []
        for b in range(4):
            net.forward(x[b:b + 1])
            parts.append(net.backward(w[None, :], input_grad=False)[1])
        np.testing.assert_allclose(sum(parts), dp, rtol=1e-4, atol=1e-6 * np.abs(dp).max())
        # finite differences in a random direction, on a network without kinks (all layers
        # linear: exact whatever the step, so only float32 rounding remains)
        lin_arch = libnad.Arch.from_spec('conv 4 k3 p1; bn; avgpool 2; conv 3 k3; gap; fc 2',
                                         (2, 12, 10))
        lnet = libnad.Net(lin_arch, seed=8)
        x = rng.standard_normal((3, 2, 12, 10)).astype(np.float32)
        v = rng.standard_normal(x.shape).astype(np.float32)
        w = np.array([0.5, -2.0], np.float32)
        g = lnet.input_grad(x, w).astype(np.float64)
        fd = (lnet(x + v).astype(np.float64) - lnet(x - v)) / 2
        np.testing.assert_allclose(fd @ w, (g * v).reshape(3, -1).sum(1), rtol=1e-4)

    def test_params_roundtrip_and_training_flag(self):
        arch = libnad.Arch.builtin('vgg11-bn', (1, 32, 32))
        net = libnad.Net(arch, seed=4)
        p = net.params
        p2 = p * 0.5
        net.params = p2
        np.testing.assert_array_equal(net.get_params(), p2)
        x = np.random.default_rng(3).standard_normal((2, 1, 32, 32)).astype(np.float32)
        net.set_training(True, seed=1)
        self.assertTrue(net.training)
        y1 = net.forward(x)
        net.set_params(p2)
        net.set_training(True, seed=1)
        np.testing.assert_array_equal(net.forward(x), y1)  # dropout masks come from the seed
        self.assertFalse(np.array_equal(net.get_params(), p2))  # running stats were updated
        net.set_training(False)
        self.assertFalse(net.training)


NO_NUMPY_SCRIPT = r'''
import array, json, sys
import libnad
assert not libnad.HAVE_NUMPY
arch = libnad.Arch.builtin('lenet', (1, 8, 8), 2) if False else libnad.Arch.from_spec(
    'conv 2 k3; relu; fc 2', (1, 4, 4))
net = libnad.Net(arch, seed=5)
p = net.get_params()
assert isinstance(p, array.array) and p.typecode == 'f' and len(p) == arch.num_params
x = [[[[0.1 * (i * 4 + j) - 0.5 for j in range(4)] for i in range(4)]]] * 2   # nested lists
y = net.forward(x)
assert isinstance(y, array.array) and len(y) == 4
y2 = net.forward(array.array('f', [v for s in x for c in s for r in c for v in r]))
assert list(y2) == list(y)
y3 = net.forward(array.array('d', [v for s in x for c in s for r in c for v in r]))
assert list(y3) == list(y)
g = net.input_grad(x, [1.0, -2.0])
dx, dp = net.backward(array.array('f', [1, 0, 0, 1]))
net2 = libnad.Net(arch, params=list(p))
assert list(net2.get_params()) == list(p)
json.dump({'y': list(y), 'g': list(g), 'dp': list(dp), 'p': list(p)}, sys.stdout)
'''


class NoNumpy(unittest.TestCase):
    def test_without_numpy(self):
        env = dict(os.environ, NAD_PYTHON_NO_NUMPY='1')
        r = subprocess.run([sys.executable, '-c', NO_NUMPY_SCRIPT], env=env, capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        arch = libnad.Arch.from_spec('conv 2 k3; relu; fc 2', (1, 4, 4))
        net = libnad.Net(arch, params=np.array(out['p'], np.float32))
        x = np.array([[[[0.1 * (i * 4 + j) - 0.5 for j in range(4)] for i in range(4)]]] * 2,
                     np.float32)
        np.testing.assert_array_equal(net.forward(x).ravel(), np.float32(out['y']))
        np.testing.assert_array_equal(net.input_grad(x, [1.0, -2.0]).ravel(),
                                      np.float32(out['g']))
        net.forward(x)
        np.testing.assert_array_equal(net.backward(np.eye(2, dtype=np.float32))[1],
                                      np.float32(out['dp']))

    def test_buffer_inputs(self):
        arch = libnad.Arch.from_spec('fc 3', (1, 2, 2))
        net = libnad.Net(arch, seed=1)
        x = np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2)
        y = net.forward(x)
        np.testing.assert_array_equal(net.forward(memoryview(x)), y)
        np.testing.assert_array_equal(net.forward(x.tobytes() and array.array('f', x.ravel())),
                                      y)
        np.testing.assert_array_equal(net.forward(x.tolist()), y)
        ro = x.copy()
        ro.flags.writeable = False
        np.testing.assert_array_equal(net.forward(ro), y)


if __name__ == '__main__':
    nadtest.main()
