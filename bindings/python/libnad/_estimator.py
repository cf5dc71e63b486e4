"""The NAD estimator and its options (nad.h: NAD estimator): Estimator, option_by_name,
option_bounds, option_owner."""
import ctypes
import warnings
from ctypes import addressof, byref, c_double, c_float, c_int, c_int32, c_int64, c_size_t, c_void_p

from ._ffi import (ESTIMATOR_OPTIONS, PARAM_FN, PROGRESS_FN, EvalPoint, Mode, NadError, Network,
                   Option, Schedule, Status, _lib, option_is_double)
from ._buffers import as_input, np, output
from ._arch import _need_arch
from ._data import Dataset
from ._base import _Handle, _fspath, _i64
from ._progress import Cancel, interruptible, make_bar


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
        self._source = None        # the CFUNCTYPE object of the parameter source (kept alive)
        self._cb_errors = []       # exceptions raised inside the progress callback
        self._install_progress()
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

    def set_param_source(self, fn, id):
        """Random network j's parameters from fn(j, params): params is the flat float32 array
        of the network (a numpy view when numpy is there, else a ctypes array) holding the
        architecture's constants, which fn fills in place. An exception stops the run (run()
        re-raises it). fn must depend on j alone for reproducible results; `id` names the
        source in checkpoints. fn=None restores libnad's own initialisation."""
        if fn is None:
            _lib.nad_estimator_set_param_source(self._handle, PARAM_FN(), None, None)
            self._source = None
            return
        errors = self._cb_errors

        def trampoline(user_data, j, ptr, n):
            try:
                if np is not None:
                    view = np.ctypeslib.as_array(ptr, shape=(n,))
                else:
                    view = (c_float * n).from_address(addressof(ptr.contents))
                fn(j, view)
                return 0
            except BaseException as e:  # noqa: B902 -- KeyboardInterrupt must stop it too
                errors.append(e)
                return 1
        cb = PARAM_FN(trampoline)
        _lib.nad_estimator_set_param_source(self._handle, cb, None, str(id).encode())
        self._source = cb

    def _install_progress(self):
        """One progress trampoline for the estimator's life: it calls the user's fn
        (set_progress), the bar of the running run() and answers a Ctrl-C (cancel)."""
        errors, holder = self._cb_errors, [None, None, Cancel()]
        self._holder = holder  # [user fn, run's bar fn, Cancel]; the closure never holds self

        def trampoline(user_data, done, total):
            try:
                stop = holder[0] is not None and holder[0](done, total)
                if holder[1] is not None and holder[1](done, total):
                    stop = True
                return 1 if stop or holder[2].requested else 0
            except BaseException as e:  # noqa: B902 -- KeyboardInterrupt must cancel too
                errors.append(e)
                return 1
        self._progress = PROGRESS_FN(trampoline)  # must live as long as it is installed
        _lib.nad_estimator_set_progress(self._handle, self._progress, None)

    def set_progress(self, fn):
        """Call fn(done, total) after each network; a true return value cancels the run, as does
        an exception (run() then re-raises it). fn=None removes the callback. For a bar, pass
        run(progress=True) instead."""
        self._holder[0] = fn

    def set_checkpoint(self, path, every=100):
        """During run(), save the accumulator to `path` every `every` networks and when the
        run ends (also by cancellation or error). A killed run resumes by load(path) into a new
        estimator with the same settings, then run(). path=None disables."""
        _lib.nad_estimator_set_checkpoint(self._handle, None if path is None else _fspath(path),
                                          int(every))

    def _run(self, func, progress, label):
        del self._cb_errors[:]
        fn, bar = make_bar(progress, label)
        try:
            with self._busy() as h:
                cancel = Cancel(lambda: _lib.nad_estimator_cancel(h))
                self._holder[1:] = [fn, cancel]
                interruptible(lambda: func(h), cancel)
        except NadError as e:
            if e.status == Status.ERR_CANCELLED and self._cb_errors:
                raise self._cb_errors.pop() from e
            raise
        finally:
            self._holder[1:] = [None, Cancel()]
            if bar is not None:
                bar.close()
        return self

    def run(self, progress=None):
        """Accumulate the networks not already loaded, then eigensolve (once).

        progress: True draws a bar (tqdm when importable, else one line on stderr), False is
        silent, a callable fn(done, total) is called after each network (a true return value
        cancels); None (default): a bar when stderr is a terminal or in a Jupyter notebook.
        Ctrl-C (KeyboardInterrupt) stops the run within about a second, whatever the network's
        size (libnad's nad_estimator_cancel, polled between chunks and layers): run() raises KeyboardInterrupt, the networks accumulated so far stay
        (networks_done, save(); a checkpoint set with set_checkpoint is saved), and the
        estimator stays usable (it cannot run again: save, or finalize what it has)."""
        self._run(_lib.nad_estimator_run, progress, 'networks')
        self._warn_degenerate()
        return self

    def accumulate(self, progress=None):
        """run() without the eigensolve (a part of a job array, one worker of many): save() or
        to_bytes() keep it, finalize() gives results (once, instead of run()). progress and
        Ctrl-C as in run()."""
        return self._run(_lib.nad_estimator_accumulate, progress, 'networks')

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

    def converged(self):
        """(converged, (overlap_k1, overlap_k2), spectrum_corr): the stopping criterion of
        converge_every (nad.h, nad_estimator_converged) on the networks accumulated so far:
        overlaps at k1 = min(10, K) >= 0.9 and k2 = min(50, K) >= 0.8, and spectrum_corr
        >= 0.99."""
        yes, ovs, corr = c_int32(), (c_double * 2)(), c_double()
        with self._busy() as h:
            _lib.nad_estimator_converged(h, byref(yes), ovs, byref(corr))
        return (bool(yes.value), (ovs[0], ovs[1]), corr.value)

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
        self._warn_degenerate()

    def to_bytes(self):
        """The checkpoint save() writes, as bytes (to send to another process)."""
        buf, n = c_void_p(), c_size_t()
        _lib.nad_estimator_save_buffer(self._handle, byref(buf), byref(n))
        try:
            return ctypes.string_at(buf, n.value)
        finally:
            _lib.nad_free(buf)

    def set_run_record(self, text):
        """Store text (the run's description; None: none) in the checkpoints saved from now on
        (read back by checkpoint_run_record). The nad tool writes "key=value" lines."""
        _lib.nad_estimator_set_run_record(self._handle, None if text is None else text.encode())

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

    @property
    def degenerate(self):
        """(degenerate, trace, scale) of nad_estimator_degenerate: True when the covariance's
        trace is 0 or, in the dipole mode, its spread per coordinate is below float32 rounding
        of the outputs (16·FLT_EPSILON·scale / 2s, scale = mean |f| of the perturbed outputs):
        the NADs are then rounding noise. Needs results."""
        flag, trace, scale = c_int32(), c_double(), c_double()
        _lib.nad_estimator_degenerate(self._handle, byref(flag), byref(trace), byref(scale))
        return bool(flag.value), trace.value, scale.value

    def _warn_degenerate(self):
        flag, trace, scale = self.degenerate
        if flag:
            warnings.warn('libnad: degenerate response: the covariance\'s trace %.3g is zero or '
                          'below float32 rounding of the outputs (mean |f| %.3g): the NADs do '
                          'not describe the network' % (trace, scale), RuntimeWarning,
                          stacklevel=3)

    def __repr__(self):
        return '<libnad.Estimator of %r%s>' % (self.arch, ' (closed)' if self.closed else '')


def checkpoint_run_record(source):
    """(format version, run record text) of a checkpoint file, or of its bytes (to_bytes()),
    read without an estimator: "" for formats 1 to 3, which record none. The nad tool's record
    is "key=value" lines after a "nad-run 1" line (architecture, input, mode, scale, seed, ...)."""
    version, text = c_int32(), ctypes.c_char_p()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _lib.nad_checkpoint_run_record_buffer(data, len(data), byref(version), byref(text))
    else:
        _lib.nad_checkpoint_run_record(_fspath(source), byref(version), byref(text))
    try:
        return version.value, text.value.decode()
    finally:
        _lib.nad_free(ctypes.cast(text, c_void_p))  # malloc'd by libnad
