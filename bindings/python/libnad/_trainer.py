"""Training (nad.h: Training): Trainer and its per-epoch records."""
import collections
from ctypes import byref, c_double, c_void_p

from ._ffi import EPOCH_FN, TRAINER_OPTIONS, NadError, Option, Status, _lib
from ._buffers import output
from ._arch import _need_arch
from ._base import _Handle
from ._data import Dataset
from ._net import Net
from ._estimator import _keywords, _option, _set_option
from ._progress import Cancel, interruptible, make_bar


Epoch = collections.namedtuple('Epoch', 'epoch train_loss train_acc test_acc seconds',
                               module='libnad')


def _epoch_info(rec):
    """The bar's postfix for an epoch: loss and accuracies."""
    info = 'loss %.4g, train %.1f %%' % (rec.train_loss, rec.train_acc)
    if rec.test_acc == rec.test_acc:  # not NaN: a test set was given
        info += ', test %.1f %%' % rec.test_acc
    return info


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
        if _option(o) == Option.EPOCHS:
            self._epoch_count = int(value)  # the total of fit()'s progress (no getter in C)

    def _epochs(self):
        return getattr(self, '_epoch_count', 20)  # nad.h: NAD_OPT_EPOCHS defaults to 20

    def _install_callback(self):
        history, errors, holder = self.history, self._cb_errors, [None, None, Cancel()]
        # holder: [the user's callback, fit's progress fn, Cancel] (no reference to self)
        self._holder = holder

        def trampoline(user_data, epoch, loss, acc, test_acc, seconds):
            try:
                rec = Epoch(epoch, loss, acc, test_acc, seconds)
                history.append(rec)
                stop = holder[0] is not None and holder[0](rec)
                if holder[1] is not None and holder[1](rec):
                    stop = True
                return 1 if stop or holder[2].requested else 0
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

    def fit(self, train, test=None, progress=None):
        """Train for the configured epochs; returns the list of Epoch records.

        progress: True draws a bar over the epochs (tqdm when importable, else one line on
        stderr, with the last epoch's loss and accuracies), False is silent, a callable
        fn(done, total) is called after each epoch (a true return value stops); None
        (default): a bar when stderr is a terminal or in a Jupyter notebook.
        Ctrl-C (KeyboardInterrupt) stops training within a chunk of a batch (libnad's
        nad_trainer_cancel): fit() raises KeyboardInterrupt, the parameters are those after
        the last whole epoch (self.history lists them) and the trainer stays usable."""
        if not isinstance(train, Dataset) or not (test is None or isinstance(test, Dataset)):
            raise TypeError('fit() takes libnad.Dataset objects')
        del self.history[:]
        del self._cb_errors[:]
        fn, bar = make_bar(progress, 'epochs')
        total = self._epochs()

        def on_epoch(rec):
            if bar is not None:
                return bar(rec.epoch, total, _epoch_info(rec))
            return fn(rec.epoch, total) if fn is not None else False
        try:
            with self._busy() as h:
                cancel = Cancel(lambda: _lib.nad_trainer_cancel(h))
                self._holder[1:] = [on_epoch, cancel]
                interruptible(lambda: _lib.nad_trainer_fit(
                    h, train._handle, None if test is None else test._handle), cancel)
        except NadError as e:
            if e.status == Status.ERR_CANCELLED and self._cb_errors:
                raise self._cb_errors.pop() from e
            raise
        finally:
            self._holder[1:] = [None, Cancel()]
            if bar is not None:
                bar.close()
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
