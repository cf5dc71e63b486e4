""".npy files and comparing NAD sets (nad.h: .npy files, Comparing NAD sets): read_npy,
write_npy, spectrum_from_nads, spectrum_correlation, subspace_overlap."""
import ctypes
from ctypes import byref, c_double, c_int32, c_int64, c_void_p

from ._ffi import _lib
from . import _buffers
from ._buffers import as_input, output
from ._base import HAVE_NUMPY, _fspath, _prod, _shape_error


def read_npy(path):
    """Read a .npy file (float32 or float64) as float32: a numpy array, or without numpy a
    tuple (array.array('f'), shape)."""
    data = ctypes.POINTER(ctypes.c_float)()
    shape, ndim = (c_int64 * 8)(), c_int32()
    _lib.nad_npy_read_f32(_fspath(path), byref(data), shape, byref(ndim))
    try:
        shp = tuple(shape[:ndim.value])
        a = _buffers.from_pointer(data, _prod(shp), shp)
    finally:
        _lib.nad_free(data)
    return a if HAVE_NUMPY else (a, shp)


def write_npy(path, data, shape=None, dtype=None):
    """Write data as a .npy file of `shape` (default: data's own shape, else 1-D) with dtype
    'f4' or 'f8' (default: f8 for float64 input, else f4)."""
    if dtype is None:
        src = getattr(data, 'dtype', None)
        if src is not None:
            f64 = str(src) in ('float64', 'torch.float64')
        else:
            f64 = getattr(data, 'typecode', 'f') == 'd'
    else:
        f64 = str(dtype) in ('f8', '<f8', 'float64', 'd', "<class 'numpy.float64'>")
    b = as_input(data, 'd' if f64 else 'f')
    if shape is None:
        shape = b.shape if b.shape is not None else (b.n,)
    shape = tuple(int(s) for s in shape)
    if _prod(shape) != b.n:
        raise _shape_error('nad_npy_write', 'shape %s does not hold %d elements', shape, b.n)
    s = (c_int64 * max(len(shape), 1))(*shape)
    _lib.nad_npy_write(_fspath(path), ctypes.cast(b.ptr, c_void_p), 1 if f64 else 0, s,
                       len(shape))


def _nads_shape(nads, b, shape, func):
    if shape is None:
        s = getattr(nads, 'shape', None)
        if s is None or len(s) != 4:
            raise _shape_error(func, 'give shape=(c, h, w) for NADs of shape %s', s)
        shape = tuple(s[1:])
    c, h, w = (int(v) for v in shape)
    return c, h, w


def spectrum_from_nads(nads, eigenvalues, shape=None):
    """Fourier power spectrum (c, h, w) float64, fftshifted, of the covariance given by the
    eigenpairs (eigenvalues[i], nads[i]); nads is (count, c·h·w) or (count, c, h, w)."""
    nb, eb = as_input(nads), as_input(eigenvalues, 'd')
    c, h, w = _nads_shape(nads, nb, shape, 'nad_spectrum_from_nads')
    count = eb.n
    if nb.n != count * c * h * w:
        raise _shape_error('nad_spectrum_from_nads', '%d NADs of %dx%dx%d need %d floats, got %d',
                           count, c, h, w, count * c * h * w, nb.n)
    dst = output((c, h, w), 'd')
    _lib.nad_spectrum_from_nads(nb.ptr, eb.ptr, count, c, h, w, dst.ptr, dst.n)
    return dst.keep


def spectrum_correlation(pa, pb):
    """Correlation of the log power spectra pa and pb (same number of entries)."""
    a, b = as_input(pa, 'd'), as_input(pb, 'd')
    if a.n != b.n:
        raise _shape_error('nad_spectrum_correlation', 'spectra of %d and %d entries', a.n, b.n)
    r = c_double()
    _lib.nad_spectrum_correlation(a.ptr, b.ptr, a.n, byref(r))
    return r.value


def subspace_overlap(a, b, k, d=None):
    """Mean squared cosine of the principal angles between the spans of the first k rows of a
    and of b (rows of d floats; d is taken from a 2-D array's shape when omitted)."""
    ab, bb = as_input(a), as_input(b)
    if d is None:
        s = ab.shape
        if s is None or len(s) < 2:
            raise _shape_error('nad_subspace_overlap', 'give d for 1-D inputs')
        d = _prod(s[1:])
    k, d = int(k), int(d)
    if k < 1 or d < 1 or ab.n < k * d or bb.n < k * d:
        raise _shape_error('nad_subspace_overlap', 'need k*d = %d floats in a and b, got %d '
                           'and %d', k * d, ab.n, bb.n)
    r = c_double()
    _lib.nad_subspace_overlap(ab.ptr, bb.ptr, k, d, byref(r))
    return r.value


def _nad_rows(nads, d, func):
    """(buffer, count, d) of a NAD array (count, D) or (count, c, h, w); a flat array is cut
    into rows of d (an error when d is None)."""
    nb = as_input(nads)
    s = nb.shape
    if s is not None and len(s) >= 2:
        d = _prod(s[1:])
    elif d is None:
        raise _shape_error(func, 'NADs must be (count, D) or (count, c, h, w), got shape %s', s)
    d = int(d)
    if d < 1 or nb.n % d != 0 or nb.n == 0:
        raise _shape_error(func, '%d floats are not whole NADs of dimension %d', nb.n, d)
    return nb, nb.n // d, d
