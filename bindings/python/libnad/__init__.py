"""Python binding of libnad (neural anisotropy directions), stdlib ctypes only.

    import libnad
    arch = libnad.Arch.builtin('lenet', input=(1, 32, 32), outputs=1)
    net = libnad.Net(arch, seed=0)
    y = net.forward(x)                       # x: (batch, c, h, w) float32
    with libnad.Estimator(arch, num_networks=1000, num_threads=0) as est:
        est.run()
        nads, lam = est.nads(), est.eigenvalues()

The library is loaded from $NAD_LIBRARY, else found by ctypes.util.find_library('nad'); a
library whose major version differs from the binding's is refused at import. Every failing call
raises NadError(status, function, message). numpy is optional: with it, results are numpy arrays
(float32 C order for tensors, float64 for eigenvalues, means and spectra); without it, flat
array.array('f'/'d') (read_npy then returns (array, shape)). Inputs may be numpy arrays,
array.array, buffers, nested lists or torch CPU tensors.

Handles (Arch, Net, Estimator, Dataset, Trainer) free their C object exactly once, on close(), on
leaving a `with` block or when garbage-collected. C objects retain their parents, so closing an
Arch while a Net made from it is alive is fine.
"""
import collections
import contextlib
import ctypes
import os
import threading
import warnings
import weakref
from ctypes import byref, c_char_p, c_double, c_int, c_int32, c_int64, c_size_t, c_void_p

from ._ffi import (EPOCH_FN, ESTIMATOR_OPTIONS, EXPECTED_MAJOR, OUTPUT_LABEL, PROGRESS_FN,
                   TRAINER_OPTIONS, AlignKind, BandOp, BlasField, EvalPoint, FigureFormat, FourierPart,
                   LibraryNotFound, Mode, NadCancelledError, NadError, NadFormatError, NadIOError,
                   NadMemoryError, NadMisuseError, NadNumericalError, NadOptionTypeError,
                   NadParseError, NadShapeError, NadUnsupportedError, NadValueError, Network,
                   Option, OutputKind, Owner, Schedule, Split, Status, _lib, _path,
                   blas_core_for_cpu, blas_warning, last_error, library_path, option_is_double,
                   status_string)
# for tests and introspection: the function table, functions the library lacks, the version check
from ._ffi import _FUNCS, _missing, check_version  # noqa: F401
# after _ffi: numpy loads OpenBLAS too, and the first load decides its kernels (_ffi._open)
from . import _buffers  # noqa: E402
from ._buffers import as_input, output  # noqa: E402

__all__ = ['Arch', 'Net', 'Estimator', 'Dataset', 'Trainer', 'NadError', 'Status', 'Option',
           'Owner', 'Mode', 'EvalPoint', 'Network', 'OutputKind', 'OUTPUT_LABEL', 'BandOp',
           'AlignKind', 'BandResult', 'band_apply', 'band_evaluate', 'align', 'FourierPart',
           'Schedule', 'Split', 'Tensor', 'Epoch', 'read_npy', 'write_npy', 'poison_carrier',
           'png_write_images',
           'spectrum_from_nads', 'spectrum_correlation', 'subspace_overlap', 'png_write_nads',
           'png_write_heatmap', 'png_write_lineplot', 'FigureFormat', 'figure_nads',
           'figure_spectrum', 'figure_eigenvalues', 'figure_heatmap', 'figure_lines',
           'figure_images',
           'direction_fourier', 'direction_random',
           'version', 'version_info', 'builtin_names', 'option_bounds', 'option_by_name',
           'option_owner',
           'status_string', 'last_error', 'library_path', 'LibraryNotFound', 'EXPECTED_MAJOR',
           'ESTIMATOR_OPTIONS', 'TRAINER_OPTIONS', 'HAVE_NUMPY', 'blas_info', 'BlasField',
           'blas_core_for_cpu', 'BlasKernelWarning',
           # one-call helpers (_helpers.py)
           'estimate', 'Result', 'bias', 'BiasResult', 'poison', 'PoisonResult',
           # NadError's subclasses, one per status, each also the matching built-in exception
           'NadValueError', 'NadMemoryError', 'NadMisuseError', 'NadUnsupportedError',
           'NadNumericalError', 'NadIOError', 'NadCancelledError', 'NadOptionTypeError',
           'NadParseError', 'NadShapeError', 'NadFormatError']

__version__ = '0.1.0'
HAVE_NUMPY = _buffers.np is not None
#: path of the loaded shared library
library = _path

Tensor = collections.namedtuple('Tensor', 'name offset numel trainable')


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
# library says so here, once, through Python's warning machinery.
if blas_warning():
    warnings.warn('libnad: ' + blas_warning() + (
        ' (in Python: import libnad before numpy, or set it in the environment)'
        if _lib.nad_blas_info(BlasField.FIX) else ''), BlasKernelWarning, stacklevel=2)
Epoch = collections.namedtuple('Epoch', 'epoch train_loss train_acc test_acc seconds')
BandResult = collections.namedtuple('BandResult',
                                    'accuracy_before accuracy_after changed_fraction l2 psnr')


def version():
    """Version string of the loaded library, e.g. "0.1.0"."""
    return _lib.nad_version_string().decode()


def version_info():
    """(major, minor, patch) of the loaded library."""
    n = _lib.nad_version()
    return (n // 10000, n // 100 % 100, n % 100)


def builtin_names():
    """Names of the built-in architectures."""
    return [_lib.nad_arch_builtin_name(i).decode() for i in range(_lib.nad_arch_builtin_count())]


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


def _need_arch(arch):
    if not isinstance(arch, Arch):
        raise TypeError('expected a libnad.Arch, got %s' % type(arch).__name__)
    return arch._handle


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


# ---- architectures -------------------------------------------------------------------------

def _chw(shape):
    """(c, h, w) as ints from any 3-sequence."""
    c, h, w = (int(v) for v in shape)
    return c, h, w


class Arch(_Handle):
    """An immutable network architecture (built-in or from a text spec)."""
    _destroy_name = 'nad_arch_destroy'

    def __init__(self, name, input=(1, 32, 32), outputs=1):
        """Built-in architecture `name` (see builtin_names()) for inputs c×h×w."""
        c, h, w = _chw(input)
        out = c_void_p()
        _lib.nad_arch_create_builtin(name.encode(), c, h, w, int(outputs), byref(out))
        self._own(out.value)

    @classmethod
    def builtin(cls, name, input=(1, 32, 32), outputs=1):
        """Built-in architecture `name` (see builtin_names()) for inputs (c, h, w)."""
        return cls(name, input, outputs)

    @classmethod
    def from_spec(cls, spec, input=(1, 32, 32)):
        """Architecture from a spec such as "conv 6 k5; relu; maxpool 2; fc 1"."""
        c, h, w = _chw(input)
        out = c_void_p()
        _lib.nad_arch_create_spec(spec.encode(), c, h, w, byref(out))
        self = cls.__new__(cls)
        self._own(out.value)
        return self

    builtin_names = staticmethod(builtin_names)

    @property
    def name(self):
        """Name given at creation ('lenet', or 'spec' for a spec)."""
        return _lib.nad_arch_name(self._handle).decode()

    @property
    def input_shape(self):
        """Input shape per sample, (c, h, w)."""
        s = (c_int64 * 3)()
        _lib.nad_arch_input_shape(self._handle, s)
        return tuple(s)

    @property
    def input_size(self):
        """D = c·h·w, the number of input coordinates."""
        return _prod(self.input_shape)

    @property
    def outputs(self):
        """Number of outputs per sample."""
        return _i64(_lib.nad_arch_num_outputs, self._handle)

    @property
    def num_params(self):
        """Floats in the flat parameter array (PyTorch state_dict order)."""
        return _i64(_lib.nad_arch_num_params, self._handle)

    @property
    def num_trainable(self):
        """Trainable parameters (PyTorch's sum of p.numel() over parameters())."""
        return _i64(_lib.nad_arch_num_trainable, self._handle)

    @property
    def flops(self):
        """Floating-point operations of one forward pass of one sample."""
        return _i64(_lib.nad_arch_flops, self._handle)

    @property
    def num_layers(self):
        """Number of layers (graph nodes, in execution order)."""
        return _i64(_lib.nad_arch_num_layers, self._handle)

    def layer(self, i):
        """{'index', 'desc', 'out_shape', 'params', 'flops'} of layer i (execution order)."""
        desc, shape, params, flops = c_char_p(), (c_int64 * 3)(), c_int64(), c_int64()
        _lib.nad_arch_layer(self._handle, int(i), byref(desc), shape, byref(params), byref(flops))
        return {'index': int(i), 'desc': desc.value.decode(), 'out_shape': tuple(shape),
                'params': params.value, 'flops': flops.value}

    @property
    def layers(self):
        """Every layer as a dict (index, desc, out_shape, params, flops)."""
        return [self.layer(i) for i in range(self.num_layers)]

    @property
    def num_tensors(self):
        """Number of parameter tensors (state_dict entries)."""
        return _i64(_lib.nad_arch_num_tensors, self._handle)

    def tensor(self, t):
        """Tensor(name, offset, numel, trainable) of parameter tensor t (state_dict order)."""
        name, off, numel, tr = c_char_p(), c_int64(), c_int64(), c_int32()
        _lib.nad_arch_tensor(self._handle, int(t), byref(name), byref(off), byref(numel),
                             byref(tr))
        return Tensor(name.value.decode(), off.value, numel.value, bool(tr.value))

    @property
    def tensors(self):
        """Every parameter tensor as a Tensor(name, offset, numel, trainable)."""
        return [self.tensor(t) for t in range(self.num_tensors)]

    def unflatten(self, params):
        """Split a flat parameter array into an ordered {name: slice} dict (views for numpy)."""
        return collections.OrderedDict((t.name, params[t.offset:t.offset + t.numel])
                                       for t in self.tensors)

    def __repr__(self):
        if self.closed:
            return '<libnad.Arch (closed)>'
        return '<libnad.Arch %s %s -> %d, %d params>' % (
            self.name, 'x'.join(map(str, self.input_shape)), self.outputs, self.num_params)


# ---- networks ------------------------------------------------------------------------------

class Net(_Handle):
    """An architecture plus parameters: forward, backward, input gradients.

    Net(arch, seed=0) draws PyTorch's default initialisation from seed; Net(arch, params=p)
    copies a flat parameter array (PyTorch state_dict order, see Arch.tensors)."""
    _destroy_name = 'nad_net_destroy'

    def __init__(self, arch, seed=0, params=None):
        h, out = _need_arch(arch), c_void_p()
        if params is not None:
            b = as_input(params)
            _lib.nad_net_create_from_params(h, b.ptr, b.n, byref(out))
        else:
            _lib.nad_net_create(h, int(seed), byref(out))
        self._own(out.value, arch)
        self.arch = arch
        # Cached so the net stays usable after arch.close() (the C net retains the arch).
        self.input_shape = arch.input_shape
        self.input_size = _prod(self.input_shape)
        self.outputs = arch.outputs
        self.num_params = arch.num_params
        self.training = False

    def get_params(self):
        """Copy of the flat parameter array (num_params float32)."""
        b = output((self.num_params,))
        _lib.nad_net_get_params(self._handle, b.ptr, b.n)
        return b.keep

    def set_params(self, params):
        """Overwrite the parameters from a flat array of num_params floats."""
        b = as_input(params)
        _lib.nad_net_set_params(self._handle, b.ptr, b.n)

    params = property(get_params, set_params)

    def set_training(self, training=True, seed=0):
        """Training mode: BatchNorm uses batch statistics and updates its running averages,
        Dropout masks come from `seed`. Eval mode (the default) otherwise."""
        _lib.nad_net_set_training(self._handle, 1 if training else 0, int(seed))
        self.training = bool(training)

    def _batch_of(self, b, func):
        """Batch size of input buffer b, whose shape must be (n*D,), (B, D), (c, h, w) or
        (B, c, h, w)."""
        d, shp = self.input_size, tuple(b.shape or (b.n,))
        ok = (len(shp) == 1 and b.n % d == 0 and b.n > 0) or \
             (len(shp) == 2 and shp[1] == d) or \
             (len(shp) == 3 and shp == self.input_shape) or \
             (len(shp) == 4 and shp[1:] == self.input_shape)
        if not ok:
            raise _shape_error(func, 'input of shape %s does not fit (batch, %s)', shp,
                               ', '.join(map(str, self.input_shape)))
        return b.n // d

    def forward(self, x):
        """Outputs (batch, outputs) for inputs x (batch, c, h, w); kept for backward()."""
        b = as_input(x)
        batch = self._batch_of(b, 'nad_net_forward')
        y = output((batch, self.outputs))
        with self._busy() as h:
            _lib.nad_net_forward(h, b.ptr, batch, y.ptr, y.n)
        self._last_batch = batch
        return y.keep

    __call__ = forward

    def backward(self, dy, input_grad=True, param_grad=True):
        """Reverse pass through the last forward for output gradients dy (batch, outputs).
        Returns (dx, dparams): input gradient (batch, c, h, w) and parameter gradient summed over
        the batch (num_params, zero for running statistics); either is None when not asked for."""
        b = as_input(dy)
        batch = max(b.n // max(self.outputs, 1), 1)
        dx = output((batch,) + self.input_shape) if input_grad else None
        dp = output((self.num_params,)) if param_grad else None
        with self._busy() as h:
            _lib.nad_net_backward(h, b.ptr, b.n, dx.ptr if dx else None,
                                  dx.n if dx else 0, dp.ptr if dp else None, dp.n if dp else 0)
        return (dx.keep if dx else None, dp.keep if dp else None)

    def input_grad(self, x, w=None):
        """Gradient of sum_k w[k]·f_k(x) with respect to each sample of x (same shape as x).
        w defaults to (1, 0, ..., 0): the gradient of the first output."""
        b = as_input(x)
        batch = self._batch_of(b, 'nad_net_input_grad')
        if w is None:
            w = [1.0] + [0.0] * (self.outputs - 1)
        wb = as_input(w)
        dx = output(b.shape if b.shape and _prod(b.shape) == b.n else (b.n,))
        with self._busy() as h:
            _lib.nad_net_input_grad(h, b.ptr, batch, wb.ptr, wb.n, dx.ptr, dx.n)
        return dx.keep

    def __repr__(self):
        return '<libnad.Net of %r%s>' % (self.arch, ' (closed)' if self.closed else '')


# ---- estimator -----------------------------------------------------------------------------

def option_by_name(name):
    """Option id of an option name ("num_networks", "step", ...)."""
    o = c_int()
    _lib.nad_option_by_name(name.encode(), byref(o))
    try:
        return Option(o.value)
    except ValueError:
        return o.value


def _option(o):
    if isinstance(o, str):
        try:
            return Option[o.upper()]
        except KeyError:
            return option_by_name(o)
    try:
        return Option(int(o))
    except ValueError:
        return int(o)


def option_bounds(o):
    """(lo, hi) valid range of an option."""
    lo, hi = c_double(), c_double()
    _lib.nad_option_bounds(int(_option(o)), byref(lo), byref(hi))
    return (lo.value, hi.value)


def option_owner(o):
    """The handles that take an option, as an Owner bit mask (int)."""
    owners = c_int32()
    _lib.nad_option_owner(int(_option(o)), byref(owners))
    return owners.value


_ENUM_VALUES = {Option.MODE: Mode, Option.EVAL_POINT: EvalPoint, Option.NETWORK: Network,
                Option.SCHEDULE: Schedule}


def _keywords(function, options, allowed):
    """Option keywords of a constructor: a misspelled one is a TypeError naming the closest
    option the handle takes (the check lives in _helpers.check_keywords)."""
    if allowed:  # empty with a library too old to list its options: the library checks
        from ._helpers import check_keywords
        check_keywords(function, options, {o.name.lower() for o in allowed})


def _set_option(func_int, func_double, handle, o, value):
    o = _option(o)
    if o in _ENUM_VALUES and isinstance(value, str):
        value = _ENUM_VALUES[o][value.upper()]
    if option_is_double(o):
        func_double(handle, int(o), float(value))
    else:
        func_int(handle, int(o), int(value))


def _opt_property(o):
    def get(self):
        return self.get(o)

    def set(self, v):
        self.set(o, v)
    return property(get, set, doc='estimator option %s' % o.name.lower())


class Estimator(_Handle):
    """One NAD computation for an architecture (its first output is the response).

    Options can be given as keyword arguments (Estimator(arch, num_networks=100, step=100.0)),
    with set(name_or_Option, value) or as attributes (est.num_threads = 0)."""
    _destroy_name = 'nad_estimator_destroy'

    def __init__(self, arch, **options):
        out = c_void_p()
        _lib.nad_estimator_create(_need_arch(arch), byref(out))
        self._own(out.value, arch)
        self.arch = arch
        self.input_shape = arch.input_shape
        self._progress = None      # the CFUNCTYPE object: must live as long as it is installed
        self._cb_errors = []       # exceptions raised inside the progress callback
        _keywords('Estimator', options, ESTIMATOR_OPTIONS)
        for k, v in options.items():
            self.set(k, v)

    def set(self, o, value):
        """Set an option by name ('num_networks'), Option or id; the value type follows the
        option."""
        _set_option(_lib.nad_estimator_set_int, _lib.nad_estimator_set_double, self._handle, o,
                    value)

    def get(self, o):
        """Value of an option (by name, Option or id); enums come back as Mode/EvalPoint."""
        o = _option(o)
        if option_is_double(o):
            v = c_double()
            _lib.nad_estimator_get_double(self._handle, int(o), byref(v))
            return v.value
        v = c_int64()
        _lib.nad_estimator_get_int(self._handle, int(o), byref(v))
        if o in _ENUM_VALUES:
            try:
                return _ENUM_VALUES[o](v.value)
            except ValueError:
                pass
        return v.value

    def options(self):
        """{name: value} of every estimator option."""
        return {o.name.lower(): self.get(o) for o in ESTIMATOR_OPTIONS}

    bounds = staticmethod(option_bounds)

    num_networks = _opt_property(Option.NUM_NETWORKS)
    seed = _opt_property(Option.SEED)
    num_threads = _opt_property(Option.NUM_THREADS)
    top_k = _opt_property(Option.TOP_K)
    batch = _opt_property(Option.BATCH)
    mode = _opt_property(Option.MODE)
    eval_point = _opt_property(Option.EVAL_POINT)
    first_network = _opt_property(Option.FIRST_NETWORK)
    memory = _opt_property(Option.MEMORY)
    sketch = _opt_property(Option.SKETCH)
    step = _opt_property(Option.STEP)
    network = _opt_property(Option.NETWORK)
    output = _opt_property(Option.OUTPUT)

    def plan(self):
        """Memory plan of run() with the current options: {'budget', 'bytes', 'batch',
        'concurrent'} (bytes; nad.h: nad_estimator_plan). Raises NadError(ERR_OUT_OF_MEMORY)
        with the numbers when the run cannot fit the budget (option memory)."""
        v = [c_int64() for _ in range(4)]
        _lib.nad_estimator_plan(self._handle, *map(byref, v))
        return dict(zip(('budget', 'bytes', 'batch', 'concurrent'), (x.value for x in v)))

    def set_eval_point(self, x0):
        """Use x0 (c×h×w floats) as evaluation point (sets eval_point to USER)."""
        b = as_input(x0)
        _lib.nad_estimator_set_eval_point(self._handle, b.ptr, b.n)

    def set_network(self, params):
        """Evaluate this one network (flat parameters, state_dict order, e.g. a trained one)
        instead of random networks (sets network to FIXED); needs set_eval_data."""
        b = as_input(params)
        _lib.nad_estimator_set_network(self._handle, b.ptr, b.n)

    def set_eval_data(self, points):
        """Evaluate sample j at point j of the Dataset `points` (sets eval_point to DATA);
        num_networks is then the number of points used."""
        if not isinstance(points, Dataset):
            raise TypeError('set_eval_data() takes a libnad.Dataset')
        _lib.nad_estimator_set_eval_data(self._handle, points._handle)

    def set_progress(self, fn):
        """Call fn(done, total) after each network; a true return value cancels the run, as does
        an exception (run() then re-raises it). fn=None removes the callback."""
        if fn is None:
            _lib.nad_estimator_set_progress(self._handle, PROGRESS_FN(), None)
            self._progress = None
            return
        errors = self._cb_errors  # the closure must not hold self (no reference cycle)

        def trampoline(user_data, done, total):
            try:
                return 1 if fn(done, total) else 0
            except BaseException as e:  # noqa: B902 -- KeyboardInterrupt must cancel too
                errors.append(e)
                return 1
        cb = PROGRESS_FN(trampoline)
        _lib.nad_estimator_set_progress(self._handle, cb, None)
        self._progress = cb

    def set_checkpoint(self, path, every=100):
        """During run(), save the accumulator to `path` every `every` networks and when the
        run ends (also by cancellation or error). A killed run resumes by load(path) into a new
        estimator with the same settings, then run(). path=None disables."""
        _lib.nad_estimator_set_checkpoint(self._handle, None if path is None else _fspath(path),
                                          int(every))

    def _run(self, func):
        del self._cb_errors[:]
        try:
            with self._busy() as h:
                func(h)
        except NadError as e:
            if e.status == Status.ERR_CANCELLED and self._cb_errors:
                raise self._cb_errors.pop() from e
            raise
        return self

    def run(self):
        """Accumulate the networks not already loaded, then eigensolve (once)."""
        return self._run(_lib.nad_estimator_run)

    def accumulate(self):
        """run() without the eigensolve (a part of a job array, one worker of many): save() or
        to_bytes() keep it, finalize() gives results (once, instead of run())."""
        return self._run(_lib.nad_estimator_accumulate)

    @property
    def dims(self):
        """(D, K): input dimension and number of NADs kept."""
        d, k = c_int64(), c_int64()
        _lib.nad_estimator_dims(self._handle, byref(d), byref(k))
        return (d.value, k.value)

    @property
    def networks_done(self):
        """Networks accumulated so far."""
        return _i64(_lib.nad_estimator_networks_done, self._handle)

    def eigenvalues(self):
        """Covariance eigenvalues, descending (K float64)."""
        b = output((self.dims[1],), 'd')
        _lib.nad_estimator_eigenvalues(self._handle, b.ptr, b.n)
        return b.keep

    def nads(self):
        """NADs as (K, D) float32, unit rows, sorted by eigenvalue."""
        d, k = self.dims
        b = output((k, d))
        _lib.nad_estimator_nads(self._handle, b.ptr, b.n)
        return b.keep

    def mean(self):
        """Mean response (D float64)."""
        b = output((self.dims[0],), 'd')
        _lib.nad_estimator_mean(self._handle, b.ptr, b.n)
        return b.keep

    def spectrum(self):
        """Fourier power spectrum of the covariance, (c, h, w) float64, fftshifted."""
        b = output(self.input_shape, 'd')
        _lib.nad_estimator_spectrum(self._handle, b.ptr, b.n)
        return b.keep

    def convergence(self, k):
        """(overlap, spectrum_corr) between the even- and odd-indexed networks' results."""
        ov, corr = c_double(), c_double()
        _lib.nad_estimator_convergence(self._handle, int(k), byref(ov), byref(corr))
        return (ov.value, corr.value)

    def save(self, path):
        """Save the accumulator to a checkpoint file (atomically)."""
        with self._busy() as h:
            _lib.nad_estimator_save(h, _fspath(path))

    def load(self, path):
        """Add the networks of a checkpoint file (same settings; before run, or to merge)."""
        with self._busy() as h:
            _lib.nad_estimator_load(h, _fspath(path))

    def finalize(self):
        """Recompute eigenpairs and spectrum from the accumulator (after load)."""
        with self._busy() as h:
            _lib.nad_estimator_finalize(h)

    def to_bytes(self):
        """The checkpoint save() writes, as bytes (to send to another process)."""
        buf, n = c_void_p(), c_size_t()
        _lib.nad_estimator_save_buffer(self._handle, byref(buf), byref(n))
        try:
            return ctypes.string_at(buf, n.value)
        finally:
            _lib.nad_free(buf)

    def load_bytes(self, data):
        """load() from bytes made by to_bytes() (merged as load() merges)."""
        data = bytes(data)
        _lib.nad_estimator_load_buffer(self._handle, data, len(data))

    @property
    def sketch_error(self):
        """Sketching mode: bound on the spectral norm of covariance − sketched covariance
        (0 in the exact mode)."""
        v = c_double()
        _lib.nad_estimator_sketch_error(self._handle, byref(v))
        return v.value

    def __repr__(self):
        return '<libnad.Estimator of %r%s>' % (self.arch, ' (closed)' if self.closed else '')


# ---- directions, datasets, training ---------------------------------------------------------

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


class Trainer(_Handle):
    """Mini-batch SGD training (cross-entropy over the outputs as logits) of a fresh network of
    `arch` initialised from `seed`. Options (TRAINER_OPTIONS): epochs, batch, seed, num_threads,
    lr, momentum, weight_decay, clip, schedule ('linear' or 'onecycle'), as keywords or with
    set()."""
    _destroy_name = 'nad_trainer_destroy'

    def __init__(self, arch, seed=0, **options):
        out = c_void_p()
        _lib.nad_trainer_create(_need_arch(arch), int(seed), byref(out))
        self._own(out.value, arch)
        self.arch = arch
        self.num_params = arch.num_params
        self.history = []          # Epoch records of the last fit()
        self._user_cb = None
        self._cb_errors = []
        self._install_callback()
        _keywords('Trainer', options, TRAINER_OPTIONS)
        for k, v in options.items():
            self.set(k, v)

    def set(self, o, value):
        """Set an option by name, Option or id (libnad has no trainer getters)."""
        _set_option(_lib.nad_trainer_set_int, _lib.nad_trainer_set_double, self._handle, o, value)

    def _install_callback(self):
        history, errors, holder = self.history, self._cb_errors, [None]
        self._holder = holder  # holder[0]: the user's callback (no reference to self)

        def trampoline(user_data, epoch, loss, acc, test_acc, seconds):
            try:
                rec = Epoch(epoch, loss, acc, test_acc, seconds)
                history.append(rec)
                return 1 if holder[0] is not None and holder[0](rec) else 0
            except BaseException as e:  # noqa: B902
                errors.append(e)
                return 1
        self._epoch_cb = EPOCH_FN(trampoline)  # kept alive with the trainer
        _lib.nad_trainer_set_epoch_callback(self._handle, self._epoch_cb, None)

    def set_epoch_callback(self, fn):
        """Call fn(Epoch(epoch, train_loss, train_acc, test_acc, seconds)) after each epoch; a
        true return value stops training (NadError ERR_CANCELLED), an exception stops it and is
        re-raised by fit(). None removes it (self.history is recorded either way)."""
        self._holder[0] = fn

    def fit(self, train, test=None):
        """Train for the configured epochs; returns the list of Epoch records."""
        if not isinstance(train, Dataset) or not (test is None or isinstance(test, Dataset)):
            raise TypeError('fit() takes libnad.Dataset objects')
        del self.history[:]
        del self._cb_errors[:]
        try:
            with self._busy() as h:
                _lib.nad_trainer_fit(h, train._handle, None if test is None else test._handle)
        except NadError as e:
            if e.status == Status.ERR_CANCELLED and self._cb_errors:
                raise self._cb_errors.pop() from e
            raise
        return list(self.history)

    def evaluate(self, dataset):
        """(accuracy in percent, mean cross-entropy) of the current network, eval mode."""
        acc, loss = c_double(), c_double()
        with self._busy() as h:
            _lib.nad_trainer_evaluate(h, dataset._handle, byref(acc), byref(loss))
        return acc.value, loss.value

    def get_params(self):
        """Copy of the flat parameter array (num_params float32)."""
        b = output((self.num_params,))
        _lib.nad_trainer_get_params(self._handle, b.ptr, b.n)
        return b.keep

    def net(self):
        """A Net with the current parameters."""
        return Net(self.arch, params=self.get_params())


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


# ---- files and comparisons -----------------------------------------------------------------

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


def png_write_nads(path, nads, count=None, shape=None):
    """PNG grid of the first count NADs, each above its Fourier power (like the paper)."""
    nb = as_input(nads)
    c, h, w = _nads_shape(nads, nb, shape, 'nad_png_write_nads')
    d = c * h * w
    count = nb.n // d if count is None else int(count)
    if count < 1 or nb.n < count * d:
        raise _shape_error('nad_png_write_nads', '%d NADs of %d floats need %d, got %d', count,
                           d, count * d, nb.n)
    _lib.nad_png_write_nads(_fspath(path), nb.ptr, count, c, h, w)


def _format_of(path, format):
    """FigureFormat from a name or member, else from the extension of path (default PNG)."""
    if format is None:
        ext = os.path.splitext(os.fspath(path))[1].lower().lstrip('.')
        format = ext if ext in ('png', 'svg', 'pdf') else 'png'
    if isinstance(format, str):
        if format.upper() not in FigureFormat.__members__:
            raise ValueError("format must be 'png', 'svg' or 'pdf', got %r" % format)
        return FigureFormat[format.upper()]
    return FigureFormat(format)


def _text(s):
    return None if s is None else str(s).encode('utf-8')


def figure_nads(path, nads, shape, eigenvalues=None, show=None, title=None, not_converged=False,
                format=None):
    """NAD grid with labels, spectra, colour bars and title (nad_figure_nads). nads: K x D
    floats, shape (C, H, W); show: NAD indices to draw (default the first 16); format 'png',
    'svg' or 'pdf' (default from the extension)."""
    nb = as_input(nads)
    c, h, w = (int(v) for v in shape)
    k = nb.n // (c * h * w)
    eb = as_input(eigenvalues, 'd') if eigenvalues is not None else None
    if eb is not None and eb.n < k:
        raise _shape_error('nad_figure_nads', '%d eigenvalues for %d NADs', eb.n, k)
    sb = (c_int64 * len(show))(*[int(i) for i in show]) if show is not None else None
    _lib.nad_figure_nads(_fspath(path), _format_of(path, format), nb.ptr, k, c, h, w,
                         eb.ptr if eb is not None else None, sb, len(show) if show else 0,
                         _text(title), 1 if not_converged else 0)


def figure_spectrum(path, spectrum, shape, title=None, format=None):
    """Covariance spectrum (C x H x W, fftshifted) with axes in cycles per image."""
    sb = as_input(spectrum, 'd')
    c, h, w = (int(v) for v in shape)
    if sb.n != c * h * w:
        raise _shape_error('nad_figure_spectrum', 'shape %s needs %d values, got %d', shape,
                           c * h * w, sb.n)
    _lib.nad_figure_spectrum(_fspath(path), _format_of(path, format), sb.ptr, c, h, w,
                             _text(title))


def figure_eigenvalues(path, eigenvalues, title=None, format=None):
    """Eigenvalue decay on a log scale."""
    eb = as_input(eigenvalues, 'd')
    _lib.nad_figure_eigenvalues(_fspath(path), _format_of(path, format), eb.ptr, eb.n,
                                _text(title))


def figure_heatmap(path, values, shape, lo, hi, x0=0.0, dx=1.0, y0=0.0, dy=1.0, title=None,
                   x_label=None, y_label=None, value_label=None, format=None):
    """Heat map (row 0 at the top) with axes and a colour bar; values beyond [lo, hi] are
    clamped and the figure says so."""
    vb = as_input(values, 'd')
    rows, cols = (int(v) for v in shape)
    if vb.n != rows * cols:
        raise _shape_error('nad_figure_heatmap', '%dx%d cells, got %d values', rows, cols, vb.n)
    _lib.nad_figure_heatmap(_fspath(path), _format_of(path, format), vb.ptr, rows, cols,
                            float(lo), float(hi), float(x0), float(dx), float(y0), float(dy),
                            _text(title), _text(x_label), _text(y_label), _text(value_label))


def figure_lines(path, x, ys, y_lo, y_hi, title=None, x_label=None, y_label=None, legend=None,
                 format=None):
    """Line plot of one or more series (ys: a list of sequences, each as long as x)."""
    xb = as_input(x, 'd')
    flat = [float(v) for series in ys for v in series]
    if len(flat) != xb.n * len(ys):
        raise _shape_error('nad_figure_lines', 'each series needs %d values', xb.n)
    yb = (c_double * len(flat))(*flat)
    _lib.nad_figure_lines(_fspath(path), _format_of(path, format), xb.ptr, yb, xb.n, len(ys),
                          float(y_lo), float(y_hi), _text(title), _text(x_label), _text(y_label),
                          _text('\n'.join(legend)) if legend else None)


def png_write_heatmap(path, values, lo=None, hi=None, shape=None):
    """PNG heat map (viridis, row 0 at the top, NaN grey) of a 2-D array of values mapped from
    [lo, hi] (default: the finite min and max)."""
    vb = as_input(values, 'd')
    if shape is None:
        if vb.shape is None or len(vb.shape) != 2:
            raise _shape_error('nad_png_write_heatmap', 'give shape=(rows, cols) for values of '
                               'shape %s', vb.shape)
        shape = vb.shape
    rows, cols = (int(v) for v in shape)
    if vb.n != rows * cols:
        raise _shape_error('nad_png_write_heatmap', '%dx%d cells, got %d values', rows, cols,
                           vb.n)
    if lo is None or hi is None:
        finite = [v for v in (vb.keep.ravel() if HAVE_NUMPY else vb.keep) if v == v]
        lo = min(finite) if lo is None and finite else lo
        hi = max(finite) if hi is None and finite else hi
        if lo is None or hi is None or not lo < hi:
            lo, hi = (lo if lo is not None else 0.0), (lo if lo is not None else 0.0) + 1.0
    _lib.nad_png_write_heatmap(_fspath(path), vb.ptr, rows, cols, float(lo), float(hi))


# ---- probing trained networks and datasets with NADs --------------------------------------

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


def png_write_lineplot(path, x, y, y_lo, y_hi):
    """640x400 PNG line plot of the points (x[i], y[i]) with y clamped to [y_lo, y_hi]."""
    xb, yb = as_input(x, 'd'), as_input(y, 'd')
    if xb.n != yb.n:
        raise _shape_error('nad_png_write_lineplot', '%d x values and %d y values', xb.n, yb.n)
    _lib.nad_png_write_lineplot(_fspath(path), xb.ptr, yb.ptr, xb.n, float(y_lo), float(y_hi))


def png_write_images(path, x, cols, lo=0.0, hi=1.0):
    """PNG grid of the images x (n, c, h, w) with c = 1 (grey) or 3 (RGB), `cols` per row,
    [lo, hi] mapped to black..white."""
    xb = as_input(x)
    s = xb.shape
    if s is None or len(s) != 4:
        raise _shape_error('nad_png_write_images', 'x must be (n, c, h, w), got shape %s', s)
    n, c, h, w = (int(v) for v in s)
    _lib.nad_png_write_images(_fspath(path), xb.ptr, n, c, h, w, int(cols), float(lo), float(hi))


def figure_images(path, x, cols, lo=0.0, hi=1.0, title=None, format=None):
    """Grid of the images x (n, c, h, w), c = 1 or 3, with an optional title; format 'png',
    'svg' or 'pdf' (default from the extension)."""
    xb = as_input(x)
    s = xb.shape
    if s is None or len(s) != 4:
        raise _shape_error('nad_figure_images', 'x must be (n, c, h, w), got shape %s', s)
    n, c, h, w = (int(v) for v in s)
    _lib.nad_figure_images(_fspath(path), _format_of(path, format), xb.ptr, n, c, h, w,
                           int(cols), float(lo), float(hi), _text(title))


# ---- one-call helpers; what dir(libnad) shows ---------------------------------------------
from ._helpers import (BiasResult, PoisonResult, Result, bias, estimate,  # noqa: E402
                       poison)  # (needs the classes above)


def __dir__():
    """The public names only (PEP 562): no ctypes or helper modules in dir(libnad)."""
    return sorted(set(__all__) | {'plot', 'library', '__version__'})


def __getattr__(name):
    """libnad.plot is imported on first use (it needs matplotlib, which libnad does not)."""
    if name == 'plot':
        import importlib
        return importlib.import_module('.plot', __name__)
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
