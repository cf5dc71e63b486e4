"""Passing arrays to and from libnad.

Inputs: anything with float data -- numpy arrays (any dtype/order: converted to a C-contiguous
copy when needed), array.array('f'/'d'), buffer objects (memoryview, bytes of a known format),
nested lists/tuples of numbers, torch CPU tensors (through numpy).
Outputs: numpy arrays of the requested shape when numpy is importable, else flat array.array.
Set NAD_PYTHON_NO_NUMPY=1 to force the numpy-free path (the tests use it).
"""
import array
import ctypes
import os
from ctypes import POINTER, c_double, c_float, c_int32

if os.environ.get('NAD_PYTHON_NO_NUMPY', '') not in ('', '0'):
    np = None
else:
    try:
        import numpy as np
    except ImportError:  # numpy is optional
        np = None

_CT = {'f': c_float, 'd': c_double, 'i': c_int32}
_NP = {'f': 'float32', 'd': 'float64', 'i': 'int32'}
_FORMATS = {'f': ('f', '<f', '=f', '@f'), 'd': ('d', '<d', '=d', '@d'),
            'i': ('i', '<i', '=i', '@i')}  # array typecode 'i' is a 32-bit C int here


class Buf:
    """A contiguous typed buffer: .ptr (ctypes pointer), .n (elements), .shape (tuple or None)
    and .keep (the object that owns the memory; keep the Buf alive during the call)."""
    __slots__ = ('ptr', 'n', 'shape', 'keep')

    def __init__(self, ptr, n, shape, keep):
        self.ptr, self.n, self.shape, self.keep = ptr, n, shape, keep


def _flatten(x, out, shape, depth):
    """Append the numbers of a nested list/tuple to out, recording its (rectangular) shape."""
    if isinstance(x, (list, tuple)):
        if len(shape) <= depth:
            shape.append(len(x))
        elif shape[depth] != len(x):
            raise ValueError('ragged nested sequence')
        for v in x:
            _flatten(v, out, shape, depth + 1)
    else:
        if len(shape) > depth:
            raise ValueError('ragged nested sequence')
        out.append(x)


def as_input(x, kind='f'):
    """A read-only view (or a converted copy) of x as float32 ('f') or float64 ('d')."""
    ct = _CT[kind]
    if np is not None and not isinstance(x, array.array):
        a = np.asarray(x, dtype=_NP[kind])
        if not a.flags.c_contiguous:  # (np.ascontiguousarray would also make 0-d arrays 1-d)
            a = np.ascontiguousarray(a)
        return Buf(a.ctypes.data_as(POINTER(ct)), a.size, a.shape, a)
    if isinstance(x, (list, tuple)):
        vals, shape = [], []
        _flatten(x, vals, shape, 0)
        a = array.array(kind, vals)
        return Buf(_ptr(a, ct, len(a)), len(a), tuple(shape), a)
    try:
        mv = memoryview(x)
    except TypeError:
        a = array.array(kind, list(x))  # any iterable of numbers
        return Buf(_ptr(a, ct, len(a)), len(a), (len(a),), a)
    shape = mv.shape
    if mv.format in _FORMATS[kind] and mv.c_contiguous:
        n = mv.nbytes // ctypes.sizeof(ct)
        if mv.readonly:
            c = (ct * n).from_buffer_copy(mv)
            return Buf(ctypes.cast(c, POINTER(ct)), n, shape, c)
        return Buf(_ptr(mv, ct, n), n, shape, mv)
    vals, shp = [], []
    _flatten(mv.tolist(), vals, shp, 0)
    a = array.array(kind, vals)
    return Buf(_ptr(a, ct, len(a)), len(a), shape, a)


def _ptr(obj, ct, n):
    """Pointer to the first element of a writable buffer of n elements (valid while obj lives)."""
    return ctypes.cast((ct * n).from_buffer(obj), POINTER(ct))


def output(shape, kind='f'):
    """A new zeroed output buffer: numpy array of `shape` or flat array.array."""
    n = 1
    for s in shape:
        n *= int(s)
    ct = _CT[kind]
    if np is not None:
        a = np.zeros(tuple(int(s) for s in shape), dtype=_NP[kind])
        return Buf(a.ctypes.data_as(POINTER(ct)), n, a.shape, a)
    a = array.array(kind, bytes(n * ctypes.sizeof(ct)))
    return Buf(_ptr(a, ct, n), n, tuple(shape), a)


def from_pointer(ptr, n, shape, kind='f'):
    """Copy n elements at ptr into a new output array of `shape`."""
    b = output(shape, kind)
    if n:
        ctypes.memmove(b.ptr, ptr, n * ctypes.sizeof(_CT[kind]))
    return b.keep
