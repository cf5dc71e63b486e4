"""What every part of the binding shares (nad.h: Versions, Errors, The BLAS underneath):
versions, the BLAS report, argument helpers and _Handle, the owner of one C handle."""
import contextlib
import os
import threading
import weakref
from ctypes import byref, c_int64

from ._ffi import BlasField, NadError, Status, _lib
from . import _buffers


HAVE_NUMPY = _buffers.np is not None


class BlasKernelWarning(RuntimeWarning):
    """The BLAS under libnad runs kernels weaker than the CPU allows (see blas_info())."""


def blas_info():
    """What libnad computes with: {'vendor', 'version', 'core' (kernel set in use), 'cpu'
    (vector level), 'best_core', 'fix', 'warning', 'threads'} (nad.h: nad_blas_info)."""
    info = {f.name.lower(): _lib.nad_blas_info(f).decode('utf-8', 'replace') for f in BlasField}
    info['threads'] = _lib.nad_blas_threads()
    return info


# The binding chose OPENBLAS_CORETYPE before loading (_ffi._open); when that could not help (an
# OpenBLAS already loaded in this process, a user's own setting, a BLAS that cannot switch), the

def version():
    """Version string of the loaded library, e.g. "0.2.0"."""
    return _lib.nad_version_string().decode()


def version_info():
    """(major, minor, patch) of the loaded library."""
    n = _lib.nad_version()
    return (n // 10000, n // 100 % 100, n % 100)


def _shape_error(func, msg, *args):
    return NadError(Status.ERR_SHAPE, func, msg % args)


def _i64(f, *args):
    v = c_int64()
    f(*args, byref(v))
    return v.value


def _prod(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n

def _fspath(path):
    return os.fsencode(os.fspath(path))


# Guards the in-use counters of all handles: taken only for a few instructions, never while a
# C call runs.
_BUSY_LOCK = threading.Lock()


class _Handle:
    """Owns one C handle; destroy is called exactly once (close, with-exit or GC)."""
    _destroy_name = None

    def _own(self, handle, *parents):
        self._h = handle
        self._parents = parents  # Python-side references, so e.g. net.arch stays usable
        self._fin = weakref.finalize(self, getattr(_lib, self._destroy_name), handle)

    @property
    def _handle(self):
        h = getattr(self, '_h', None)
        if h is None:
            raise ValueError('%s is closed' % type(self).__name__)
        return h

    @property
    def closed(self):
        return getattr(self, '_h', None) is None

    @contextlib.contextmanager
    def _busy(self):
        """Mark a call that may run long or call back into Python (run, fit, forward, ...):
        close() meanwhile, from the call's own callback or from another thread, is refused
        instead of freeing the C object under the running call (issue 11). The library defers
        such a destroy as well; this guard makes the refusal visible where it happens."""
        with _BUSY_LOCK:
            h = self._handle  # raises if closed
            self._in_use = getattr(self, '_in_use', 0) + 1
        try:
            yield h
        finally:
            with _BUSY_LOCK:
                self._in_use -= 1

    def close(self):
        """Release the C object now (idempotent). Raises NadError(ERR_MISUSE) while a call on
        this object is running (from its callback or another thread): close it afterwards."""
        with _BUSY_LOCK:
            if getattr(self, '_in_use', 0):
                raise NadError(Status.ERR_MISUSE, '%s.close' % type(self).__name__,
                               'a call on this object is running (close() from its callback '
                               'or from another thread): close it after the call returns')
            fin = getattr(self, '_fin', None)
            self._h = None
        if fin is not None:
            fin()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
