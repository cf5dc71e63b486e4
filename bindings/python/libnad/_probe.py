"""Probing trained networks and datasets with NADs (nad.h: the section of that name):
band_apply, band_evaluate, align."""
import collections
from ctypes import byref, c_double

from ._ffi import AlignKind, BandOp, _lib
from ._buffers import as_input, output
from ._base import _prod, _shape_error
from ._compare import _nad_rows
from ._data import Dataset
from ._net import Net


BandResult = collections.namedtuple('BandResult',
                                    'accuracy_before accuracy_after changed_fraction l2 psnr',
                                    module='libnad')


def _band_op(op):
    return BandOp[op.upper()] if isinstance(op, str) else BandOp(op)


def band_apply(nads, first, last, x, op='flip', d=None):
    """x − 2·P x ('flip') or x − P x ('remove') for every sample of x, P the projector onto
    NADs [first, last) (rows of nads, orthonormal). x is (n, ...) with d values per sample;
    returns float32 of x's shape."""
    nb, count, d = _nad_rows(nads, d, 'nad_band_apply')
    xb = as_input(x)
    n = xb.n // d
    if n < 1 or xb.n != n * d:
        raise _shape_error('nad_band_apply', '%d floats of x are not whole samples of %d', xb.n,
                           d)
    shape = xb.shape if xb.shape is not None and _prod(xb.shape) == xb.n else (n, d)
    dst = output(shape)
    _lib.nad_band_apply(nb.ptr, count, d, int(first), int(last), int(_band_op(op)), xb.ptr, n,
                        dst.ptr, dst.n)
    return dst.keep


def band_evaluate(net, dataset, nads, first, last, op='flip'):
    """Classify every sample of `dataset` with `net` before and after band_apply: a
    BandResult (accuracies in percent, changed_fraction in [0, 1], mean L2 size of the change,
    PSNR in dB with the data's max − min as peak)."""
    if not isinstance(net, Net) or not isinstance(dataset, Dataset):
        raise TypeError('band_evaluate() takes a libnad.Net and a libnad.Dataset')
    nb, count, d = _nad_rows(nads, _prod(dataset.shape), 'nad_band_evaluate')
    r = [c_double() for _ in range(5)]
    _lib.nad_band_evaluate(net._handle, dataset._handle, nb.ptr, count, d, int(first),
                           int(last), int(_band_op(op)), *[byref(v) for v in r])
    return BandResult(*(v.value for v in r))


def align(dataset, nads, kind='between', ridge=0.01):
    """(curve, score): curve[k-1] = fraction of the dataset's class-discriminative energy in
    the first k NADs (kind 'between': between-class scatter of the class means;
    'discriminant': linear-discriminant directions, ridge relative to trace(S_w)/d), and the
    area under it over k = 1..D (random directions: (D + 1) / (2D))."""
    if not isinstance(dataset, Dataset):
        raise TypeError('align() takes a libnad.Dataset')
    nb, count, d = _nad_rows(nads, _prod(dataset.shape), 'nad_align')
    kind = AlignKind[kind.upper()] if isinstance(kind, str) else AlignKind(kind)
    curve, score = output((count,), 'd'), c_double()
    _lib.nad_align(dataset._handle, nb.ptr, count, d, int(kind), float(ridge), curve.ptr,
                   curve.n, byref(score))
    return curve.keep, score.value
