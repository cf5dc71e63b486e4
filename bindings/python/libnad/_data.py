"""Directions, D(v) and real datasets, poisoning (nad.h: Directions and linearly separable
datasets D(v), Real image datasets, Poisoning with NAD carriers): direction_fourier,
direction_random, Dataset, poison_carrier."""
from ctypes import byref, c_double, c_int32, c_int64, c_void_p

from ._ffi import FourierPart, Split, _lib
from ._buffers import as_input, output
from ._arch import _chw
from ._compare import _nad_rows
from ._base import _Handle, _fspath, _i64, _shape_error


def direction_fourier(shape, fy, fx, part=FourierPart.AUTO):
    """Unit-norm real 2-D Fourier basis vector of frequency (fy, fx) cycles per image, the same
    in every channel: (c, h, w) float32. part: FourierPart or 'auto'/'sin'/'cos'."""
    c, h, w = _chw(shape)
    if isinstance(part, str):
        part = FourierPart[part.upper()]
    b = output((c, h, w))
    _lib.nad_direction_fourier(c, h, w, int(fy), int(fx), int(part), b.ptr, b.n)
    return b.keep


def direction_random(seed, shape):
    """Unit-norm random (Gaussian, normalised) direction of `shape` (int or tuple) from seed."""
    shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
    b = output(shape)
    _lib.nad_direction_random(int(seed), b.ptr, b.n)
    return b.keep


class Dataset(_Handle):
    """A labelled dataset: n samples of shape (c, h, w), labels in {0, ..., K-1}. Immutable.

    Dataset(x, labels) copies x (n, c, h, w) and the n labels; Dataset.linear(...) builds the
    paper's linearly separable D(v)."""
    _destroy_name = 'nad_dataset_destroy'

    def __init__(self, x, labels, shape=None):
        xb, lb = as_input(x), as_input(labels, 'i')
        if shape is None:
            s = xb.shape
            if s is None or len(s) != 4:
                raise _shape_error('nad_dataset_create', 'give shape=(c, h, w) for x of shape %s',
                                   s)
            shape = s[1:]
        c, h, w = _chw(shape)
        n = lb.n
        if xb.n != n * c * h * w:
            raise _shape_error('nad_dataset_create', '%d labels need %d floats of x, got %d', n,
                               n * c * h * w, xb.n)
        out = c_void_p()
        _lib.nad_dataset_create(xb.ptr, lb.ptr, n, c, h, w, byref(out))
        self._own(out.value)

    @classmethod
    def linear(cls, v, n, epsilon, sigma, seed=0, shape=None):
        """D(v): ceil(n/2) samples x = +(eps/2)·v + w with label 0, the others -(eps/2)·v + w
        with label 1, w ~ N(0, sigma² I) orthogonal to v (normalised). v is (c, h, w)."""
        vb = as_input(v)
        if shape is None:
            if vb.shape is None or len(vb.shape) != 3:
                raise _shape_error('nad_dataset_create_linear',
                                   'give shape=(c, h, w) for v of shape %s', vb.shape)
            shape = vb.shape
        c, h, w = _chw(shape)
        if vb.n != c * h * w:
            raise _shape_error('nad_dataset_create_linear', 'v has %d floats, not %d', vb.n,
                               c * h * w)
        out = c_void_p()
        _lib.nad_dataset_create_linear(vb.ptr, c, h, w, int(n), float(epsilon), float(sigma),
                                       int(seed), byref(out))
        self = cls.__new__(cls)
        self._own(out.value)
        return self

    def _size(self):
        n, s = c_int64(), (c_int64 * 3)()
        _lib.nad_dataset_size(self._handle, byref(n), s)
        return n.value, tuple(s)

    def __len__(self):
        return self._size()[0]

    @property
    def shape(self):
        """Per-sample shape (c, h, w)."""
        return self._size()[1]

    def get(self):
        """(x, labels): x (n, c, h, w) float32 and labels (n,) int32, copies."""
        n, shape = self._size()
        xb, lb = output((n,) + shape), output((n,), 'i')
        _lib.nad_dataset_get(self._handle, xb.ptr, xb.n, lb.ptr, lb.n)
        return xb.keep, lb.keep

    @classmethod
    def _wrap(cls, handle):
        self = cls.__new__(cls)
        self._own(handle)
        return self

    @classmethod
    def load(cls, source, split='train', size=None):
        """Load a real image dataset (nad.h, nad_dataset_load): source is 'fashion-mnist',
        'idx:DIR', 'cifar10:DIR' or 'npy:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]', split 'train'
        or 'test' (or a Split), size None (stored size) or (h, w) to zero-pad / centre-crop."""
        sp = Split[split.upper()] if isinstance(split, str) else Split(split)
        h, w = (0, 0) if size is None else (int(size[0]), int(size[1]))
        out = c_void_p()
        _lib.nad_dataset_load(_fspath(source), int(sp), h, w, byref(out))
        return cls._wrap(out.value)

    @property
    def num_classes(self):
        """Number of classes K (labels are 0..K-1)."""
        return _i64(_lib.nad_dataset_num_classes, self._handle)

    def class_counts(self):
        """Samples per class, a list of K ints."""
        k = self.num_classes
        a = (c_int64 * k)()
        _lib.nad_dataset_class_counts(self._handle, a, k)
        return list(a)

    def channel_stats(self):
        """(mean, std) per channel, lists of c floats (population std, in double)."""
        c = self.shape[0]
        m, s = (c_double * c)(), (c_double * c)()
        _lib.nad_dataset_channel_stats(self._handle, m, s, c)
        return list(m), list(s)

    def resize(self, h, w):
        """New Dataset, every image zero-padded / centre-cropped to h x w."""
        out = c_void_p()
        _lib.nad_dataset_resize(self._handle, int(h), int(w), byref(out))
        return Dataset._wrap(out.value)

    def normalize(self, mean, std):
        """New Dataset with x[c] = (x[c] - mean[c]) / std[c] per channel."""
        c = self.shape[0]
        if len(mean) != c or len(std) != c:
            raise _shape_error('nad_dataset_normalize', 'mean and std need %d values', c)
        out = c_void_p()
        _lib.nad_dataset_normalize(self._handle, (c_double * c)(*mean), (c_double * c)(*std), c,
                                   byref(out))
        return Dataset._wrap(out.value)

    def subset(self, first, count):
        """New Dataset of samples first .. first + count - 1."""
        out = c_void_p()
        _lib.nad_dataset_subset(self._handle, int(first), int(count), byref(out))
        return Dataset._wrap(out.value)

    def poison(self, nads, index, epsilon):
        """New Dataset poisoned with NAD carriers (nad.h, nad_dataset_poison): nads is
        (count, h·w) or (count, h, w), single-channel NADs of the data's h x w."""
        nb, count, dim = _nad_rows(nads, None, 'nad_dataset_poison')
        out = c_void_p()
        _lib.nad_dataset_poison(self._handle, nb.ptr, count, dim, int(index), float(epsilon),
                                byref(out))
        return Dataset._wrap(out.value)

    def __repr__(self):
        if self.closed:
            return '<libnad.Dataset (closed)>'
        n, s = self._size()
        return '<libnad.Dataset %d x %s>' % (n, 'x'.join(map(str, s)))



def poison_carrier(nads, shape, index, t):
    """(carrier (c, h, w) float32, sign) of class t for NAD index (nad.h, nad_poison_carrier);
    nads (count, h·w) or (count, h, w), shape the data's (c, h, w)."""
    nb, count, dim = _nad_rows(nads, None, 'nad_poison_carrier')
    c, h, w = _chw(shape)
    dst = output((c, h, w))
    sign = c_int32()
    _lib.nad_poison_carrier(nb.ptr, count, dim, c, h, w, int(index), int(t), dst.ptr, dst.n,
                            byref(sign))
    return dst.keep, sign.value
