#!/usr/bin/python3
"""Real datasets and NAD poisoning through the Python binding (issue 8).

- Files numpy writes (np.save of uint8/float images and integer labels, CIFAR-10 batches and
  gzipped IDX built here) load to the values numpy computes: bytes / 255, zero-padded with
  np.pad or centre-cropped.
- Fashion-MNIST (when installed) loads to exactly what the reference's fmnist_poison_ref.py
  computes from the same files: gzip, IDX, / 255, np.pad((2, 2)).
- Carriers and the poisoned training set equal a numpy re-implementation of the reference's
  formula (poison_cifar.py, as generalised in fmnist_poison_ref.py: class t uses NAD
  i + t // (2C) on channel t % C with sign 2 (t % 2) - 1, its component replaced by sign * eps),
  for 1 and 3 channels.
- Statistics, normalisation, subsets; bad inputs raise NadError with the C status.
"""
import gzip
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nadtest  # noqa: E402
from nadtest import status_of  # noqa: E402

try:
    import numpy as np
except ImportError:
    print('skipped: numpy missing')
    sys.exit(nadtest.SKIP)

import libnad  # noqa: E402
from libnad import NadError, Status  # noqa: E402

TMP = tempfile.mkdtemp(prefix='nad-data-api-')
FMNIST = '/usr/share/datasets/fashion-mnist'


def path(name):
    return os.path.join(TMP, name)


def reference_poison(x, y, V, i, eps, C, K):
    """The reference's poison() in numpy (fmnist_poison_ref.py), float32 like torch."""
    x = x.copy()
    D = x[0].size
    for t in range(K):
        v = np.zeros(D, np.float32)
        v.reshape(C, -1)[t % C] = V[i + t // (2 * C)].astype(np.float32)
        sign = 2 * (t % 2) - 1
        m = y == t
        proj = x[m].reshape(-1, D) @ v
        x[m] += ((eps * sign - proj)[:, None] * v[None]).reshape(-1, *x.shape[1:])
    return x


def unit_rows(n, d, seed):
    V = np.random.default_rng(seed).standard_normal((n, d))
    return (V / np.linalg.norm(V, axis=1, keepdims=True)).astype(np.float32)


def idx_bytes(a):
    return bytes([0, 0, 8, a.ndim]) + b''.join(struct.pack('>I', s) for s in a.shape) + \
        a.astype(np.uint8).tobytes()


class Loading(unittest.TestCase):
    def test_npy_uint8_padded_and_cropped(self):
        rng = np.random.default_rng(1)
        x = rng.integers(0, 256, (7, 5, 6), dtype=np.uint8)
        y = rng.integers(0, 4, 7).astype(np.int64)
        np.save(path('x.npy'), x)
        np.save(path('y.npy'), y)
        src = 'npy:%s,%s' % (path('x.npy'), path('y.npy'))
        d = libnad.Dataset.load(src)
        gx, gy = d.get()
        self.assertEqual(gx.shape, (7, 1, 5, 6))
        np.testing.assert_array_equal(gx[:, 0], x.astype(np.float32) / np.float32(255))
        np.testing.assert_array_equal(gy, y)
        self.assertEqual(d.num_classes, int(y.max()) + 1)
        self.assertEqual(d.class_counts(), list(np.bincount(y, minlength=d.num_classes)))
        # 5x6 -> 8x9: 1 row above, 2 below (floor of 3/2 first); 1 column left, 2 right
        p, _ = libnad.Dataset.load(src, size=(8, 9)).get()
        want = np.pad(x.astype(np.float32) / np.float32(255), ((0, 0), (1, 2), (1, 2)))
        np.testing.assert_array_equal(p[:, 0], want)
        # 5x6 -> 3x3: rows 1..3, columns 1..3
        c, _ = libnad.Dataset.load(src, size=(3, 3)).get()
        np.testing.assert_array_equal(c[:, 0], x[:, 1:4, 1:4].astype(np.float32) / np.float32(255))
        # resizing a loaded dataset is the same operation
        np.testing.assert_array_equal(d.resize(8, 9).get()[0], p)

    def test_npy_float_nchw_and_test_split(self):
        rng = np.random.default_rng(2)
        x = rng.standard_normal((4, 3, 2, 5))
        np.save(path('xf.npy'), x)  # float64: converted to float32
        np.save(path('yf.npy'), np.array([2, 0, 1, 2], np.int32))
        np.save(path('xt.npy'), x[:2].astype(np.float32))
        np.save(path('yt.npy'), np.array([1, 1], np.uint8))
        src = 'npy:%s,%s,%s,%s' % (path('xf.npy'), path('yf.npy'), path('xt.npy'),
                                   path('yt.npy'))
        gx, gy = libnad.Dataset.load(src, 'train').get()
        np.testing.assert_array_equal(gx, x.astype(np.float32))
        tx, ty = libnad.Dataset.load(src, 'test').get()
        np.testing.assert_array_equal(tx, x[:2].astype(np.float32))
        np.testing.assert_array_equal(ty, [1, 1])

    def test_cifar10_batches(self):
        rng = np.random.default_rng(3)
        d = path('cifar')
        os.makedirs(d, exist_ok=True)
        recs = []
        for name, n in [('data_batch_%d.bin' % b, b) for b in range(1, 6)] + [('test_batch.bin', 2)]:
            lab = rng.integers(0, 10, n, dtype=np.uint8)
            img = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
            with open(os.path.join(d, name), 'wb') as f:
                for k in range(n):
                    f.write(bytes([lab[k]]) + img[k].tobytes())
            recs.append((lab, img))
        ds = libnad.Dataset.load('cifar10:' + d)
        x, y = ds.get()
        np.testing.assert_array_equal(y, np.concatenate([r[0] for r in recs[:5]]))
        np.testing.assert_array_equal(
            x, np.concatenate([r[1] for r in recs[:5]]).astype(np.float32) / np.float32(255))
        self.assertEqual(ds.num_classes, 10)
        mean, std = ds.channel_stats()
        xd = x.astype(np.float64)
        np.testing.assert_allclose(mean, xd.mean(axis=(0, 2, 3)), rtol=1e-12)
        np.testing.assert_allclose(std, xd.std(axis=(0, 2, 3)), rtol=1e-12)
        nx, _ = ds.normalize(mean, std).get()
        np.testing.assert_allclose(nx, ((xd - np.array(mean)[:, None, None]) /
                                        np.array(std)[:, None, None]), atol=2e-6)
        sx, sy = ds.subset(3, 4).get()
        np.testing.assert_array_equal(sx, x[3:7])
        np.testing.assert_array_equal(sy, y[3:7])
        os.remove(os.path.join(d, 'data_batch_2.bin'))
        self.assertEqual(status_of(libnad.Dataset.load, 'cifar10:' + d), Status.ERR_IO)

    def test_idx_gz_and_bad_files(self):
        d = path('idx')
        os.makedirs(d, exist_ok=True)
        x = np.random.default_rng(4).integers(0, 256, (6, 4, 3), dtype=np.uint8)
        y = np.array([0, 1, 2, 3, 4, 5], np.uint8)
        for split, n in [('train', 6), ('t10k', 2)]:
            with gzip.open(os.path.join(d, split + '-images-idx3-ubyte.gz'), 'wb') as f:
                f.write(idx_bytes(x[:n]))
            with open(os.path.join(d, split + '-labels-idx1-ubyte'), 'wb') as f:
                f.write(idx_bytes(y[:n]))
        gx, gy = libnad.Dataset.load('idx:' + d).get()
        np.testing.assert_array_equal(gx[:, 0], x.astype(np.float32) / np.float32(255))
        np.testing.assert_array_equal(gy, y)
        self.assertEqual(len(libnad.Dataset.load('idx:' + d, 'test')), 2)
        # a lying header: 600 images announced, 6 present
        with open(os.path.join(d, 'train-labels-idx1-ubyte'), 'wb') as f:
            f.write(idx_bytes(y)[:4] + struct.pack('>I', 600) + y.tobytes())
        try:
            libnad.Dataset.load('idx:' + d)
            self.fail('a lying IDX header was accepted')
        except NadError as e:
            self.assertEqual(e.status, Status.ERR_FORMAT)
            self.assertIn('train-labels-idx1-ubyte', e.message)
            self.assertIn('truncated', e.message)
        self.assertEqual(status_of(libnad.Dataset.load, 'mnist'), Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(libnad.Dataset.load, 'npy:a.npy,b.npy', 'test'),
                         Status.ERR_INVALID_ARG)

    @unittest.skipUnless(os.path.isdir(FMNIST), 'dataset-fashion-mnist not installed')
    def test_fashion_mnist_as_the_reference_loads_it(self):
        def idx(p):  # fmnist_poison_ref.py's reader
            with gzip.open(p) as f:
                b = f.read()
            nd = b[3]
            dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], 'big') for i in range(nd)]
            return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)
        x = idx(FMNIST + '/t10k-images-idx3-ubyte.gz').astype(np.float32) / 255
        y = idx(FMNIST + '/t10k-labels-idx1-ubyte.gz').astype(np.int64)
        x = np.pad(x, ((0, 0), (2, 2), (2, 2)))[:, None]
        d = libnad.Dataset.load('fashion-mnist', 'test', size=(32, 32))
        gx, gy = d.get()
        np.testing.assert_array_equal(gx, x)
        np.testing.assert_array_equal(gy, y)
        self.assertEqual(d.num_classes, 10)


class Poisoning(unittest.TestCase):
    def check(self, C, K, H, W, index, eps, n=300, count=12):
        rng = np.random.default_rng(C * 100 + K)
        x = rng.random((n, C, H, W), dtype=np.float32)
        y = rng.integers(0, K, n).astype(np.int32)
        y[:K] = np.arange(K)  # every class present
        V = unit_rows(count, H * W, C + K)
        d = libnad.Dataset(x, y)
        got, gy = d.poison(V, index, eps).get()
        want = reference_poison(x, y, V, index, eps, C, K)
        np.testing.assert_array_equal(gy, y)
        err = np.abs(got - want).max()
        self.assertLess(err, 2e-6, 'C=%d K=%d: max |libnad - reference| = %g' % (C, K, err))
        # and the defining property: the component along the carrier is sign * eps
        for t in range(K):
            v, sign = libnad.poison_carrier(V, (C, H, W), index, t)
            ref = np.zeros((C, H * W), np.float32)
            ref[t % C] = V[index + t // (2 * C)]
            np.testing.assert_allclose(v.reshape(C, -1), ref, atol=1e-7)
            self.assertEqual(sign, 2 * (t % 2) - 1)
            proj = got[y == t].reshape(-1, C * H * W) @ v.ravel()
            np.testing.assert_allclose(proj, sign * eps, atol=2e-6)

    def test_one_channel_ten_classes(self):  # Fashion-MNIST: NADs i..i+4
        self.check(1, 10, 8, 8, 3, 0.05)

    def test_three_channels_ten_classes(self):  # CIFAR-10: NADs i, i+1 (poison_cifar.py)
        self.check(3, 10, 6, 6, 7, 0.2)

    def test_odd_cases(self):
        self.check(2, 7, 5, 4, 0, 0.0)
        self.check(1, 3, 4, 4, 10, 1.5, count=12)  # classes 0..2 use NADs 10 and 11

    def test_bad_inputs(self):
        x = np.zeros((10, 1, 4, 4), np.float32)
        d = libnad.Dataset(x, np.arange(10, dtype=np.int32))
        V = unit_rows(8, 16, 0)
        self.assertEqual(status_of(d.poison, V, 4, 0.1), Status.ERR_INVALID_ARG)  # 4..8
        self.assertEqual(status_of(d.poison, V, 3, 0.1), Status.OK)  # 3..7
        self.assertEqual(status_of(d.poison, V, 0, -0.1), Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(d.poison, V, 0, float('nan')), Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(d.poison, V, 0, float('inf')), Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(d.poison, unit_rows(8, 25, 0), 0, 0.1), Status.ERR_SHAPE)


class TrainerSchedule(unittest.TestCase):
    def test_schedule_option(self):
        arch = libnad.Arch.from_spec('fc 3', input=(1, 4, 4))
        t = libnad.Trainer(arch, schedule='onecycle', epochs=2, lr=0.5, momentum=0.9)
        x = np.random.default_rng(6).random((40, 1, 4, 4), dtype=np.float32)
        d = libnad.Dataset(x, (np.arange(40) % 3).astype(np.int32))
        self.assertEqual(len(t.fit(d)), 2)
        self.assertEqual(status_of(t.set, 'schedule', 2), Status.ERR_INVALID_ARG)
        self.assertEqual(status_of(t.set, 'schedule', 0.5), Status.OK)  # int option: int(0.5)
        self.assertEqual(libnad.option_by_name('schedule'), libnad.Option.SCHEDULE)


class Pictures(unittest.TestCase):
    def test_png_write_images(self):
        x = np.random.default_rng(5).random((6, 3, 16, 16), dtype=np.float32)
        p = path('grid.png')
        libnad.png_write_images(p, x, 3)
        with open(p, 'rb') as f:
            head = f.read(24)
        self.assertEqual(head[:8], b'\x89PNG\r\n\x1a\n')
        w, h = struct.unpack('>II', head[16:24])
        self.assertEqual((w, h), (3 * 64 + 2, 2 * 64 + 1))  # 16 px magnified 4x, 1 px gaps


if __name__ == '__main__':
    nadtest.main()
