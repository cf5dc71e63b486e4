"""Training (nad.h: Training): Trainer and its per-epoch records."""
import collections
from ctypes import byref, c_double, c_void_p

from ._ffi import EPOCH_FN, TRAINER_OPTIONS, NadError, Status, _lib
from ._buffers import output
from ._arch import _need_arch
from ._base import _Handle
from ._data import Dataset
from ._net import Net
from ._estimator import _keywords, _set_option


Epoch = collections.namedtuple('Epoch', 'epoch train_loss train_acc test_acc seconds',
                               module='libnad')


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
