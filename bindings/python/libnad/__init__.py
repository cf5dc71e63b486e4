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
import warnings

# re-exported: the enums, errors and library-wide functions of _ffi
from ._ffi import (  # noqa: F401
    EPOCH_FN, ESTIMATOR_OPTIONS, EXPECTED_MAJOR, OUTPUT_LABEL, PROGRESS_FN, TRAINER_OPTIONS,
    AlignKind, BandOp, BlasField, EvalPoint, FigureFormat, FourierPart, LibraryNotFound, Mode,
    NadCancelledError, NadError, NadFormatError, NadIOError, NadMemoryError, NadMisuseError,
    NadNumericalError, NadOptionTypeError, NadParseError, NadShapeError, NadUnsupportedError,
    NadValueError, Network, Option, OutputKind, Owner, Schedule, Split, Status, _lib, _path,
    blas_core_for_cpu, blas_warning, last_error, library_path, option_is_double, status_string)
# for tests and introspection: the function table, functions the library lacks, the version check
from ._ffi import _FUNCS, _missing, check_version  # noqa: F401
# after _ffi: numpy loads OpenBLAS too, and the first load decides its kernels (_ffi._open)
from . import _buffers  # noqa: E402,F401
from ._buffers import as_input, output  # noqa: E402,F401
# The parts, one module per section of nad.h (their names are re-exported here, and report
# 'libnad' as their module, so the public surface is the package's alone).
from ._base import (HAVE_NUMPY, BlasKernelWarning, blas_info, version,  # noqa: E402
                    version_info)
from ._arch import Arch, Tensor, builtin_names  # noqa: E402
from ._net import Net  # noqa: E402
from ._estimator import (Estimator, checkpoint_run_record, option_bounds,  # noqa: E402
                         option_by_name, option_owner)
from ._data import Dataset, direction_fourier, direction_random, poison_carrier  # noqa: E402
from ._trainer import Epoch, Trainer  # noqa: E402
from ._compare import (read_npy, spectrum_correlation, spectrum_from_nads,  # noqa: E402
                       subspace_overlap, write_npy)
from ._probe import BandResult, align, band_apply, band_evaluate  # noqa: E402
from ._figures import (figure_eigenvalues, figure_heatmap, figure_images,  # noqa: E402
                       figure_lines, figure_nads, figure_spectrum, png_write_heatmap,
                       png_write_images, png_write_lineplot, png_write_nads)


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
           'option_owner', 'checkpoint_run_record',
           'status_string', 'last_error', 'library_path', 'LibraryNotFound', 'EXPECTED_MAJOR',
           'ESTIMATOR_OPTIONS', 'TRAINER_OPTIONS', 'HAVE_NUMPY', 'blas_info', 'BlasField',
           'blas_core_for_cpu', 'BlasKernelWarning',
           # one-call helpers (_helpers.py)
           'estimate', 'Result', 'bias', 'BiasResult', 'poison', 'PoisonResult',
           # NadError's subclasses, one per status, each also the matching built-in exception
           'NadValueError', 'NadMemoryError', 'NadMisuseError', 'NadUnsupportedError',
           'NadNumericalError', 'NadIOError', 'NadCancelledError', 'NadOptionTypeError',
           'NadParseError', 'NadShapeError', 'NadFormatError']

__version__ = '0.2.0'
#: path of the loaded shared library
library = _path

# The binding chose OPENBLAS_CORETYPE before loading (_ffi._open); when that could not help (an
# OpenBLAS already loaded in this process, a user's own setting, a BLAS that cannot switch), the
# library says so here, once, through Python's warning machinery.
if blas_warning():
    warnings.warn('libnad: ' + blas_warning() + (
        ' (in Python: import libnad before numpy, or set it in the environment)'
        if _lib.nad_blas_info(BlasField.FIX) else ''), BlasKernelWarning, stacklevel=2)

# ---- one-call helpers; what dir(libnad) shows ---------------------------------------------
from ._helpers import (BiasResult, PoisonResult, Result, bias, estimate,  # noqa: E402
                       poison)  # (needs the classes above)

# Names defined in the parts say they are libnad's, as when they were defined here.
for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, '__module__', '') in ('libnad._base', 'libnad._arch', 'libnad._net',
                                           'libnad._estimator', 'libnad._data', 'libnad._trainer',
                                           'libnad._compare', 'libnad._probe', 'libnad._figures'):
        _obj.__module__ = __name__
del _name, _obj


def __dir__():
    """The public names only (PEP 562): no ctypes or helper modules in dir(libnad)."""
    return sorted(set(__all__) | {'plot', 'library', '__version__'})


def __getattr__(name):
    """libnad.plot is imported on first use (it needs matplotlib, which libnad does not)."""
    if name == 'plot':
        import importlib
        return importlib.import_module('.plot', __name__)
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
