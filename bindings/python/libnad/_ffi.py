"""Raw ctypes layer of libnad: library loading, the function table, errors and enums.

Everything here mirrors include/nad/nad.h one to one. The idiomatic classes live in
libnad/__init__.py. Only the standard library is used.
"""
import ctypes
import ctypes.util
import enum
import operator
import os
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_float, c_int, c_int32, c_int64,
                    c_size_t, c_uint32, c_uint64, c_void_p)

# The binding speaks the ABI of this major version; a library of another major is refused.
EXPECTED_MAJOR = 0


# ---- enums (values are ABI, see nad.h; tests/python/test_symbols.py checks them) -------------

class Status(enum.IntEnum):
    OK = 0
    ERR_INVALID_ARG = 1
    ERR_OUT_OF_MEMORY = 2
    ERR_MISUSE = 3
    ERR_UNSUPPORTED = 4
    ERR_NUMERICAL = 5
    ERR_IO = 6
    ERR_CANCELLED = 7
    ERR_OPTION_TYPE = 8
    ERR_PARSE = 9
    ERR_SHAPE = 10
    ERR_FORMAT = 11


class Option(enum.IntEnum):
    NUM_NETWORKS = 100
    SEED = 101
    NUM_THREADS = 102
    TOP_K = 103
    BATCH = 104
    MODE = 105
    EVAL_POINT = 106
    FIRST_NETWORK = 107
    EPOCHS = 108
    SCHEDULE = 109
    NETWORK = 120
    OUTPUT = 121
    MEMORY = 122
    SKETCH = 123
    CONVERGE_EVERY = 124
    STEP = 200
    LR = 201
    MOMENTUM = 202
    WEIGHT_DECAY = 203
    CLIP = 204
    CONVERGE_GROWTH = 205
    SHUFFLE = 10000  # experimental (nad.h: 10000+ may change in any release)


class Owner(enum.IntEnum):
    """Bits of nad_option_owner's mask: the handles that take an option."""
    ESTIMATOR = 1
    TRAINER = 2


class Mode(enum.IntEnum):
    DIPOLE = 0
    GRADIENT = 1


class Schedule(enum.IntEnum):
    LINEAR = 0
    ONECYCLE = 1


class Split(enum.IntEnum):
    TRAIN = 0
    TEST = 1


class EvalPoint(enum.IntEnum):
    NORMAL = 0
    ZEROS = 1
    USER = 2
    DATA = 3


class Network(enum.IntEnum):
    RANDOM = 0
    FIXED = 1


class OutputKind(enum.IntEnum):
    LABEL = -1  # the response is the output of each point's label


OUTPUT_LABEL = OutputKind.LABEL


class BandOp(enum.IntEnum):
    FLIP = 0
    REMOVE = 1


class AlignKind(enum.IntEnum):
    BETWEEN = 0
    DISCRIMINANT = 1


class BlasField(enum.IntEnum):
    VENDOR = 0
    VERSION = 1
    CORE = 2
    CPU = 3
    BEST_CORE = 4
    FIX = 5
    WARNING = 6


class FourierPart(enum.IntEnum):
    AUTO = 0
    SIN = 1
    COS = 2


class FigureFormat(enum.IntEnum):
    PNG = 0
    SVG = 1
    PDF = 2


def option_is_double(o):
    """nad.h: ids 100-199 take int64, 200-299 double."""
    return 200 <= int(o) < 300


# ---- errors --------------------------------------------------------------------------------

class NadError(Exception):
    """A libnad call failed. status is a Status, function the C function's name, message the
    library's detailed message (nad_last_error) read right after the call.

    Failures raise the subclass of the status, which is also the matching built-in exception
    (NadValueError is a ValueError, NadIOError an OSError, NadMemoryError a MemoryError, ...), so
    code that catches the built-ins works; NadError(status, ...) itself builds that subclass."""

    def __new__(cls, status=None, function='', message='', *args):
        if cls is NadError:
            cls = _ERROR_CLASSES.get(status, NadError)
        # the C-level constructor of the instance layout: OSError's own, else Exception's
        return (OSError.__new__ if issubclass(cls, OSError) else Exception.__new__)(cls)

    def __init__(self, status, function, message=''):
        try:
            status = Status(status)
        except ValueError:
            pass  # a code newer than this binding: keep the int
        self.status = status
        self.function = function
        self.message = message
        Exception.__init__(self, status, function, message)
        # OSError's constructor would read (status, function, message) as (errno, strerror,
        # filename): a libnad status is not an errno.
        if isinstance(self, OSError):
            self.errno, self.strerror, self.filename = None, str(self), None

    def __reduce__(self):
        return (NadError, (int(self.status), self.function, self.message))

    def __str__(self):
        name = status_string(self.status)
        if self.message:
            return '%s: %s: %s' % (self.function, name, self.message)
        return '%s: %s' % (self.function, name)


class NadValueError(NadError, ValueError):
    """ERR_INVALID_ARG: a bad argument (NULL, out of range, unknown name)."""


class NadMemoryError(NadError, MemoryError):
    """ERR_OUT_OF_MEMORY: an allocation failed, a size overflowed, or the run does not fit the
    memory budget."""


class NadMisuseError(NadError, RuntimeError):
    """ERR_MISUSE: calls in the wrong order (e.g. results read before run)."""


class NadUnsupportedError(NadError, NotImplementedError):
    """ERR_UNSUPPORTED: a valid request this build (or this older library) cannot do."""


class NadNumericalError(NadError, ArithmeticError):
    """ERR_NUMERICAL: LAPACK failure, NaN or Inf."""


class NadIOError(NadError, OSError):
    """ERR_IO: a file cannot be opened, read or written."""


class NadCancelledError(NadError):
    """ERR_CANCELLED: a callback stopped the run."""


class NadOptionTypeError(NadError, TypeError):
    """ERR_OPTION_TYPE: an option set with the wrong typed setter."""


class NadParseError(NadValueError):
    """ERR_PARSE: an architecture spec or name not understood."""


class NadShapeError(NadValueError):
    """ERR_SHAPE: shapes or buffer lengths do not fit together."""


class NadFormatError(NadValueError):
    """ERR_FORMAT: a file exists but its content is malformed or mismatched."""


_ERROR_CLASSES = {
    Status.ERR_INVALID_ARG: NadValueError, Status.ERR_OUT_OF_MEMORY: NadMemoryError,
    Status.ERR_MISUSE: NadMisuseError, Status.ERR_UNSUPPORTED: NadUnsupportedError,
    Status.ERR_NUMERICAL: NadNumericalError, Status.ERR_IO: NadIOError,
    Status.ERR_CANCELLED: NadCancelledError, Status.ERR_OPTION_TYPE: NadOptionTypeError,
    Status.ERR_PARSE: NadParseError, Status.ERR_SHAPE: NadShapeError,
    Status.ERR_FORMAT: NadFormatError,
}
ERROR_CLASSES = tuple(_ERROR_CLASSES.values())


class LibraryNotFound(ImportError):
    """libnad could not be found or loaded (see library_path())."""


def _check(result, func, args):
    """errcheck of every function returning nad_status: raise NadError on failure. Runs on the
    calling thread immediately after the call, so the thread-local message is the call's."""
    if result != 0:
        msg = _lib.nad_last_error()
        raise NadError(result, func.__name__, msg.decode('utf-8', 'replace') if msg else '')
    return result


class ArgumentRangeError(OverflowError, ValueError):
    """An integer argument does not fit the C parameter's type (ctypes would wrap it silently:
    seed=2**64 would become seed 0)."""


def _int_param(ctype, bits, signed):
    """Converter for a C integer of `bits` bits: Python ints (and objects with __index__, such
    as numpy integers) in range only; out of range raises ArgumentRangeError."""
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    cname = '%sint%d' % ('' if signed else 'u', bits)

    def convert(obj):
        if isinstance(obj, ctype):
            return obj
        if isinstance(obj, float):
            raise TypeError('expected an integer for a %s argument, got float %r' % (cname, obj))
        v = operator.index(obj)
        if not lo <= v <= hi:
            raise ArgumentRangeError('%d is out of range for a %s argument [%d, %d]'
                                     % (v, cname, lo, hi))
        return v
    return convert


def _cstring(obj):
    """Converter for C strings: bytes (or str, UTF-8) without NUL, which would silently cut the
    string ('lenet\\0xyz' would name 'lenet'), or None."""
    if obj is None:
        return None
    if isinstance(obj, str):
        obj = obj.encode('utf-8')
    if not isinstance(obj, (bytes, c_char_p)):
        raise TypeError('expected a string or bytes, got %s' % type(obj).__name__)
    if isinstance(obj, bytes) and b'\0' in obj:
        raise ValueError('embedded NUL character in string argument %r' % obj)
    return obj


# The one conversion of scalar arguments: every parameter of these ctypes types in _FUNCS goes
# through its converter (range, NUL) before ctypes sees it, instead of being wrapped or cut by
# ctypes; the errors are the Python ones (OverflowError/ValueError/TypeError), which ctypes'
# own from_param hook would turn into ctypes.ArgumentError.
_CONVERTERS = {
    c_int64: _int_param(c_int64, 64, True),
    c_uint64: _int_param(c_uint64, 64, False),
    c_int32: _int_param(c_int32, 32, True),
    c_uint32: _int_param(c_uint32, 32, False),
    c_size_t: _int_param(c_size_t, 8 * ctypes.sizeof(c_size_t), False),
    c_char_p: _cstring,
}
if c_int not in _CONVERTERS:  # c_int is c_int32 on every platform libnad supports
    _CONVERTERS[c_int] = _int_param(c_int, 8 * ctypes.sizeof(c_int), True)


class _Checked:
    """A registered C function whose scalar arguments pass _CONVERTERS first."""

    def __init__(self, f, argtypes):
        self._f = f
        self.__name__ = f.__name__
        self._conv = [(i, _CONVERTERS[a]) for i, a in enumerate(argtypes) if a in _CONVERTERS]

    def __call__(self, *args):
        if self._conv and len(args) == len(self._f.argtypes):
            args = list(args)
            for i, conv in self._conv:
                args[i] = conv(args[i])
        return self._f(*args)


class HANDLE(c_void_p):
    """Argument type of handles: an int address or None only. Plain c_void_p would also accept
    str and bytes (passing a pointer to their characters as if it were a handle)."""

    @classmethod
    def from_param(cls, obj):
        if obj is None or (isinstance(obj, int) and not isinstance(obj, bool)):
            return c_void_p(obj)
        if isinstance(obj, c_void_p):
            return obj
        raise TypeError('expected a libnad handle (int address or None), got %s'
                        % type(obj).__name__)


P = POINTER
PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_int64, c_int64)
# parameter source: (user_data, network, params, len)
PARAM_FN = CFUNCTYPE(c_int, c_void_p, c_int64, POINTER(c_float), c_size_t)
# epoch callback: (user_data, epoch, train_loss, train_acc, test_acc, seconds)
EPOCH_FN = CFUNCTYPE(c_int, c_void_p, c_int64, c_double, c_double, c_double, c_double)

# (name, argtypes, restype[, errcheck]): every NAD_API function of nad.h, in header order.
_FUNCS = [
    ('nad_version', [], c_uint32),
    ('nad_version_string', [], c_char_p),
    ('nad_status_string', [c_int], c_char_p),
    ('nad_last_error', [], c_char_p),
    # the BLAS underneath
    ('nad_blas_info', [c_int], c_char_p),
    ('nad_blas_threads', [], c_int32),
    # architectures
    ('nad_arch_builtin_count', [], c_int32),
    ('nad_arch_builtin_name', [c_int32], c_char_p),
    ('nad_arch_create_builtin', [c_char_p, c_int64, c_int64, c_int64, c_int64, P(c_void_p)], c_int,
     _check),
    ('nad_arch_create_spec', [c_char_p, c_int64, c_int64, c_int64, P(c_void_p)], c_int, _check),
    ('nad_arch_create_onnx', [c_char_p, c_int64, c_int64, c_int64, P(c_void_p)], c_int, _check),
    ('nad_arch_create_onnx_buffer', [c_void_p, c_size_t, c_char_p, c_int64, c_int64, c_int64,
                                     P(c_void_p)], c_int, _check),
    ('nad_arch_file_params', [HANDLE, P(c_float), c_size_t], c_int, _check),
    ('nad_arch_with_init_rules', [HANDLE, c_char_p, c_char_p, P(c_void_p)], c_int, _check),
    ('nad_arch_with_init_rules_file', [HANDLE, c_char_p, P(c_void_p)], c_int, _check),
    ('nad_arch_init_rules_warnings', [HANDLE], c_char_p),
    ('nad_arch_destroy', [HANDLE], None),
    ('nad_arch_name', [HANDLE], c_char_p),
    ('nad_arch_input_shape', [HANDLE, P(c_int64)], c_int, _check),
    ('nad_arch_num_outputs', [HANDLE, P(c_int64)], c_int, _check),
    ('nad_arch_num_params', [HANDLE, P(c_int64)], c_int, _check),
    ('nad_arch_num_trainable', [HANDLE, P(c_int64)], c_int, _check),
    ('nad_arch_flops', [HANDLE, P(c_int64)], c_int, _check),
    ('nad_arch_num_layers', [HANDLE, P(c_int64)], c_int, _check),
    ('nad_arch_layer', [HANDLE, c_int64, P(c_char_p), P(c_int64), P(c_int64), P(c_int64)], c_int,
     _check),
    ('nad_arch_num_tensors', [HANDLE, P(c_int64)], c_int, _check),
    ('nad_arch_tensor', [HANDLE, c_int64, P(c_char_p), P(c_int64), P(c_int64), P(c_int32)], c_int,
     _check),
    # networks
    ('nad_net_create', [HANDLE, c_uint64, P(c_void_p)], c_int, _check),
    ('nad_net_create_from_params', [HANDLE, P(c_float), c_size_t, P(c_void_p)], c_int, _check),
    ('nad_net_destroy', [HANDLE], None),
    ('nad_net_get_params', [HANDLE, P(c_float), c_size_t], c_int, _check),
    ('nad_net_set_params', [HANDLE, P(c_float), c_size_t], c_int, _check),
    ('nad_net_set_training', [HANDLE, c_int32, c_uint64], c_int, _check),
    ('nad_net_forward', [HANDLE, P(c_float), c_int64, P(c_float), c_size_t], c_int, _check),
    ('nad_net_backward', [HANDLE, P(c_float), c_size_t, P(c_float), c_size_t, P(c_float),
                          c_size_t], c_int, _check),
    ('nad_net_input_grad', [HANDLE, P(c_float), c_int64, P(c_float), c_size_t, P(c_float),
                            c_size_t], c_int, _check),
    # .npy
    ('nad_npy_read_f32', [c_char_p, P(P(c_float)), P(c_int64), P(c_int32)], c_int, _check),
    ('nad_npy_write', [c_char_p, c_void_p, c_int32, P(c_int64), c_int32], c_int, _check),
    ('nad_free', [c_void_p], None),
    # estimator
    ('nad_estimator_create', [HANDLE, P(c_void_p)], c_int, _check),
    ('nad_estimator_destroy', [HANDLE], None),
    ('nad_estimator_set_int', [HANDLE, c_int, c_int64], c_int, _check),
    ('nad_estimator_set_double', [HANDLE, c_int, c_double], c_int, _check),
    ('nad_estimator_get_int', [HANDLE, c_int, P(c_int64)], c_int, _check),
    ('nad_estimator_get_double', [HANDLE, c_int, P(c_double)], c_int, _check),
    ('nad_option_bounds', [c_int, P(c_double), P(c_double)], c_int, _check),
    ('nad_option_by_name', [c_char_p, P(c_int)], c_int, _check),
    ('nad_option_owner', [c_int, P(c_int32)], c_int, _check),
    ('nad_estimator_set_eval_point', [HANDLE, P(c_float), c_size_t], c_int, _check),
    ('nad_estimator_set_network', [HANDLE, P(c_float), c_size_t], c_int, _check),
    ('nad_estimator_set_eval_data', [HANDLE, HANDLE], c_int, _check),
    ('nad_estimator_set_param_source', [HANDLE, PARAM_FN, c_void_p, c_char_p], c_int, _check),
    ('nad_estimator_set_progress', [HANDLE, PROGRESS_FN, c_void_p], c_int, _check),
    ('nad_estimator_set_checkpoint', [HANDLE, c_char_p, c_int64], c_int, _check),
    ('nad_estimator_checkpoint_error', [HANDLE, P(c_int64)], c_char_p),
    ('nad_estimator_run', [HANDLE], c_int, _check),
    ('nad_estimator_plan', [HANDLE, P(c_int64), P(c_int64), P(c_int64), P(c_int64)], c_int,
     _check),
    ('nad_estimator_accumulate', [HANDLE], c_int, _check),
    ('nad_estimator_cancel', [HANDLE], c_int, _check),
    ('nad_estimator_dims', [HANDLE, P(c_int64), P(c_int64)], c_int, _check),
    ('nad_estimator_networks_done', [HANDLE, P(c_int64)], c_int, _check),
    ('nad_estimator_eigenvalues', [HANDLE, P(c_double), c_size_t], c_int, _check),
    ('nad_estimator_nads', [HANDLE, P(c_float), c_size_t], c_int, _check),
    ('nad_estimator_mean', [HANDLE, P(c_double), c_size_t], c_int, _check),
    ('nad_estimator_spectrum', [HANDLE, P(c_double), c_size_t], c_int, _check),
    ('nad_estimator_convergence', [HANDLE, c_int64, P(c_double), P(c_double)], c_int, _check),
    ('nad_estimator_converged', [HANDLE, P(c_int32), P(c_double), P(c_double)], c_int, _check),
    ('nad_estimator_save', [HANDLE, c_char_p], c_int, _check),
    ('nad_estimator_load', [HANDLE, c_char_p], c_int, _check),
    ('nad_estimator_finalize', [HANDLE], c_int, _check),
    ('nad_estimator_save_buffer', [HANDLE, P(c_void_p), P(c_size_t)], c_int, _check),
    ('nad_estimator_load_buffer', [HANDLE, c_void_p, c_size_t], c_int, _check),
    ('nad_estimator_sketch_error', [HANDLE, P(c_double)], c_int, _check),
    ('nad_estimator_set_run_record', [HANDLE, c_char_p], c_int, _check),
    ('nad_checkpoint_run_record', [c_char_p, P(c_int32), P(c_char_p)], c_int, _check),
    ('nad_checkpoint_run_record_buffer', [c_void_p, c_size_t, P(c_int32), P(c_char_p)], c_int,
     _check),
    ('nad_estimator_degenerate', [HANDLE, P(c_int32), P(c_double), P(c_double)], c_int, _check),
    # comparing NAD sets
    ('nad_spectrum_from_nads', [P(c_float), P(c_double), c_int64, c_int64, c_int64, c_int64,
                                P(c_double), c_size_t], c_int, _check),
    ('nad_spectrum_correlation', [P(c_double), P(c_double), c_int64, P(c_double)], c_int, _check),
    ('nad_subspace_overlap', [P(c_float), P(c_float), c_int64, c_int64, P(c_double)], c_int,
     _check),
    # directions and datasets
    ('nad_direction_fourier', [c_int64, c_int64, c_int64, c_int64, c_int64, c_int, P(c_float),
                               c_size_t], c_int, _check),
    ('nad_direction_random', [c_uint64, P(c_float), c_size_t], c_int, _check),
    ('nad_dataset_create_linear', [P(c_float), c_int64, c_int64, c_int64, c_int64, c_double,
                                   c_double, c_uint64, P(c_void_p)], c_int, _check),
    ('nad_dataset_create', [P(c_float), P(c_int32), c_int64, c_int64, c_int64, c_int64,
                            P(c_void_p)], c_int, _check),
    ('nad_dataset_destroy', [HANDLE], None),
    ('nad_dataset_size', [HANDLE, P(c_int64), P(c_int64)], c_int, _check),
    ('nad_dataset_get', [HANDLE, P(c_float), c_size_t, P(c_int32), c_size_t], c_int, _check),
    # real image datasets
    ('nad_dataset_load', [c_char_p, c_int, c_int64, c_int64, P(c_void_p)], c_int, _check),
    ('nad_dataset_num_classes', [HANDLE, P(c_int64)], c_int, _check),
    ('nad_dataset_class_counts', [HANDLE, P(c_int64), c_size_t], c_int, _check),
    ('nad_dataset_channel_stats', [HANDLE, P(c_double), P(c_double), c_size_t], c_int, _check),
    ('nad_dataset_resize', [HANDLE, c_int64, c_int64, P(c_void_p)], c_int, _check),
    ('nad_dataset_normalize', [HANDLE, P(c_double), P(c_double), c_size_t, P(c_void_p)], c_int,
     _check),
    ('nad_dataset_subset', [HANDLE, c_int64, c_int64, P(c_void_p)], c_int, _check),
    # poisoning
    ('nad_poison_carrier', [P(c_float), c_int64, c_int64, c_int64, c_int64, c_int64, c_int64,
                            c_int64, P(c_float), c_size_t, P(c_int32)], c_int, _check),
    ('nad_dataset_poison', [HANDLE, P(c_float), c_int64, c_int64, c_int64, c_double,
                            P(c_void_p)], c_int, _check),
    # training
    ('nad_trainer_create', [HANDLE, c_uint64, P(c_void_p)], c_int, _check),
    ('nad_trainer_destroy', [HANDLE], None),
    ('nad_trainer_set_int', [HANDLE, c_int, c_int64], c_int, _check),
    ('nad_trainer_set_double', [HANDLE, c_int, c_double], c_int, _check),
    ('nad_trainer_set_epoch_callback', [HANDLE, EPOCH_FN, c_void_p], c_int, _check),
    ('nad_trainer_fit', [HANDLE, HANDLE, HANDLE], c_int, _check),
    ('nad_trainer_cancel', [HANDLE], c_int, _check),
    ('nad_trainer_evaluate', [HANDLE, HANDLE, P(c_double), P(c_double)], c_int, _check),
    ('nad_trainer_get_params', [HANDLE, P(c_float), c_size_t], c_int, _check),
    # probing trained networks and datasets with NADs
    ('nad_band_apply', [P(c_float), c_int64, c_int64, c_int64, c_int64, c_int, P(c_float), c_int64,
                        P(c_float), c_size_t], c_int, _check),
    ('nad_band_evaluate', [HANDLE, HANDLE, P(c_float), c_int64, c_int64, c_int64, c_int64, c_int,
                           P(c_double), P(c_double), P(c_double), P(c_double), P(c_double)],
     c_int, _check),
    ('nad_align', [HANDLE, P(c_float), c_int64, c_int64, c_int, c_double, P(c_double), c_size_t,
                   P(c_double)], c_int, _check),
    # pictures
    ('nad_png_write_nads', [c_char_p, P(c_float), c_int64, c_int64, c_int64, c_int64], c_int,
     _check),
    ('nad_png_write_heatmap', [c_char_p, P(c_double), c_int64, c_int64, c_double, c_double],
     c_int, _check),
    ('nad_png_write_lineplot', [c_char_p, P(c_double), P(c_double), c_int64, c_double, c_double],
     c_int, _check),
    ('nad_png_write_images', [c_char_p, P(c_float), c_int64, c_int64, c_int64, c_int64, c_int64,
                              c_double, c_double], c_int, _check),
    ('nad_figure_images', [c_char_p, c_int, P(c_float), c_int64, c_int64, c_int64, c_int64,
                           c_int64, c_double, c_double, c_char_p], c_int, _check),
    ('nad_figure_format_by_name', [c_char_p, P(c_int)], c_int, _check),
    ('nad_figure_nads', [c_char_p, c_int, P(c_float), c_int64, c_int64, c_int64, c_int64,
                         P(c_double), P(c_int64), c_int64, c_char_p, c_int32], c_int, _check),
    ('nad_figure_spectrum', [c_char_p, c_int, P(c_double), c_int64, c_int64, c_int64, c_char_p],
     c_int, _check),
    ('nad_figure_eigenvalues', [c_char_p, c_int, P(c_double), c_int64, c_char_p], c_int, _check),
    ('nad_figure_heatmap', [c_char_p, c_int, P(c_double), c_int64, c_int64, c_double, c_double,
                            c_double, c_double, c_double, c_double, c_char_p, c_char_p, c_char_p,
                            c_char_p], c_int, _check),
    ('nad_figure_lines', [c_char_p, c_int, P(c_double), P(c_double), c_int64, c_int64, c_double,
                          c_double, c_char_p, c_char_p, c_char_p, c_char_p], c_int, _check),
]


class _Missing:
    """Stands in for a function the loaded library lacks (an older minor version): calling it
    raises NadError(ERR_UNSUPPORTED) instead of failing the whole import."""

    def __init__(self, name):
        self.__name__ = name

    def __call__(self, *args):
        raise NadError(Status.ERR_UNSUPPORTED, self.__name__,
                       'the loaded libnad (%s) has no %s' % (_path, self.__name__))


def _recorded_library():
    """The installed library recorded by setup.py at install time, or None."""
    try:
        from ._build_config import LIBRARY
    except ImportError:  # running from the source tree
        return None
    return LIBRARY if LIBRARY and os.path.exists(LIBRARY) else None


def library_path():
    """Where the library is looked for: $NAD_LIBRARY (an override), else the copy bundled into
    the installed package (libnad/libnad.so.0), else the installed library recorded when the
    package was built (its pkg-config prefix), else ctypes.util.find_library('nad')."""
    if os.environ.get('NAD_LIBRARY'):
        return os.environ['NAD_LIBRARY']
    bundled = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'libnad.so.0')
    if os.path.exists(bundled):
        return bundled
    return _recorded_library() or ctypes.util.find_library('nad')


def check_version(number):
    """Raise ImportError unless the library version number has the binding's major."""
    major = int(number) // 10000
    if major != EXPECTED_MAJOR:
        raise ImportError('libnad major version %d (version number %d) is not the %d this '
                          'binding was written for' % (major, number, EXPECTED_MAJOR))


def _register(lib):
    missing = []
    for entry in _FUNCS:
        name, argtypes, restype = entry[:3]
        try:
            f = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            setattr(lib, name, _Missing(name))
            continue
        f.argtypes = argtypes
        f.restype = restype
        if len(entry) > 3:
            f.errcheck = entry[3]
        setattr(lib, name, _Checked(f, argtypes))
    return missing


def blas_core_for_cpu(cpuinfo='/proc/cpuinfo'):
    """The OpenBLAS kernel set for this CPU's vector level (nad.h: NAD_BLAS_BEST_CORE), from the
    flags of /proc/cpuinfo, which Linux clears for features the OS does not enable; None when
    unknown or nothing beats the generic kernels. On AVX2 AMD CPUs it is "Zen", the set OpenBLAS
    picks there itself; AVX-512 gets "SkylakeX", whose GEMM kernels the newer AVX-512 sets
    (Cooperlake, SapphireRapids) share."""
    try:
        with open(cpuinfo, encoding='ascii', errors='replace') as f:
            text = f.read(1 << 16)
    except OSError:
        return None
    flags, vendor = set(), ''
    for line in text.splitlines():
        key, _, value = line.partition(':')
        key = key.strip()
        if key == 'flags' and not flags:
            flags = set(value.split())
        elif key == 'vendor_id' and not vendor:
            vendor = value.strip()
    if {'avx512f', 'avx2', 'fma'} <= flags:
        return 'SkylakeX'
    if {'avx2', 'fma'} <= flags:
        return 'Zen' if vendor == 'AuthenticAMD' else 'Haswell'
    if 'avx' in flags and vendor == 'GenuineIntel':
        return 'Sandybridge'
    return None


def _open(path):
    """dlopen libnad with OPENBLAS_CORETYPE chosen for this CPU unless the user set it.

    OpenBLAS picks its kernels once, when it is loaded, and falls back to generic ones on CPUs
    it does not know (issue 7: 2-5x slower). The variable is set only around the load, so that
    nothing else started later inherits it; OpenBLAS has read it by then."""
    preset = None
    if 'OPENBLAS_CORETYPE' not in os.environ:
        preset = blas_core_for_cpu()
    if preset:
        os.environ['OPENBLAS_CORETYPE'] = preset
    try:
        return ctypes.CDLL(path)
    finally:
        if preset:
            del os.environ['OPENBLAS_CORETYPE']


def load(path=None):
    """Open the library, check its major version and register _FUNCS on it."""
    path = path or library_path()
    if not path:
        raise LibraryNotFound('libnad not found: set NAD_LIBRARY to the path of libnad.so or '
                              'install it where the dynamic linker finds it')
    try:
        lib = _open(path)
    except OSError as e:
        raise LibraryNotFound('cannot load libnad from %r: %s' % (path, e)) from e
    try:
        ver = lib.nad_version
    except AttributeError:
        raise ImportError('%r is not libnad (no nad_version)' % path) from None
    ver.argtypes, ver.restype = [], c_uint32
    check_version(ver())
    return lib, path, _register(lib)


_lib, _path, _missing = load()


def blas_warning():
    """The library's warning about the BLAS kernels ('' when there is none)."""
    if isinstance(_lib.nad_blas_info, _Missing):
        return ''
    return _lib.nad_blas_info(BlasField.WARNING).decode('utf-8', 'replace')


def status_string(s):
    """Static English name of a status ("invalid argument", ...; nad_status_string)."""
    return _lib.nad_status_string(int(s)).decode()


def last_error():
    """Message of the last failing libnad call on this thread ('' if none; nad_last_error)."""
    m = _lib.nad_last_error()
    return m.decode('utf-8', 'replace') if m else ''


def _options_of(owner):
    """The options a handle takes, in id order, as the library's option table says
    (nad_option_owner); empty with a library too old to say."""
    if 'nad_option_owner' in _missing:
        return ()
    owners = c_int32()
    out = []
    for o in Option:
        _lib.nad_option_owner(int(o), ctypes.byref(owners))
        if owners.value & owner:
            out.append(o)
    return tuple(out)


# Which options each object takes.
ESTIMATOR_OPTIONS = _options_of(Owner.ESTIMATOR)
TRAINER_OPTIONS = _options_of(Owner.TRAINER)
