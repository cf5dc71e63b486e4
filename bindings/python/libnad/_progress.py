"""Long calls from Python: Ctrl-C and progress bars (issue 20).

Ctrl-C. ctypes releases the GIL while a C function runs, and Python runs its SIGINT handler
(which raises KeyboardInterrupt) only on the main thread, between bytecodes. A call that spends
minutes inside C therefore cannot be interrupted directly. interruptible() runs the C call on a
worker thread while the main thread waits in short timed joins, so KeyboardInterrupt arrives
within a fraction of a second; it then asks the C call to stop (`cancel`: libnad's
nad_estimator_cancel / nad_trainer_cancel, which the running call polls per probe chunk and
layer or per chunk of a training batch, so it stops within about a second at any network size;
and the handle's progress or epoch callback returns non-zero at its next call), waits for the
worker to return (NAD_ERR_CANCELLED; a checkpoint, if one was set, has been saved by then) and
re-raises KeyboardInterrupt. The handle stays open and usable. The C call clears its cancel
flag when it starts, and the worker may not have got there yet when Ctrl-C comes: cancel() is
therefore repeated at every wake-up until the call has returned.

Progress. progress_reporter(progress, label) turns a `progress=` argument into a callable
fn(done, total[, info]) or None: True draws a tqdm bar when tqdm is importable, else a plain
one-line bar on stderr; False is silent; a callable is used as is; None (the default) means
True when stderr is a terminal or the code runs in a Jupyter kernel, else False."""
import os
import sys
import threading
import time

# How often the waiting main thread wakes up to let a pending KeyboardInterrupt through.
_POLL_SECONDS = 0.05


def interruptible(call, cancel):
    """call() on a worker thread, the calling (main) thread waiting so that Ctrl-C is seen at
    once; on KeyboardInterrupt, cancel() and wait for the worker, then re-raise it. Returns
    call()'s value or raises its exception. Off the main thread (no signals there), call()
    runs directly."""
    if threading.current_thread() is not threading.main_thread():
        return call()
    box, finished = {}, threading.Event()

    def work():
        try:
            box['value'] = call()
        except BaseException as e:  # noqa: B902 -- handed to the waiting thread
            box['error'] = e
        finally:
            finished.set()
    worker = threading.Thread(target=work, name='libnad-call', daemon=True)
    worker.start()
    interrupted = None
    # Waits on an Event, not on Thread.join: a KeyboardInterrupt raised inside join() can leave
    # the Thread marked as finished while it still runs (CPython gh-90882).
    while not finished.is_set():
        try:
            finished.wait(_POLL_SECONDS)
        except KeyboardInterrupt as e:
            if interrupted is None:
                interrupted = e
            # a second Ctrl-C while the C call winds down: keep waiting, the handle is in use
        if interrupted is not None:
            cancel()  # again at every wake-up: the C call may not have started (see above)
    worker.join()
    if interrupted is not None:
        raise interrupted.with_traceback(None)
    if 'error' in box:
        raise box['error']
    return box.get('value')


class Cancel:
    """A flag shared by a handle's callback trampoline (checked at each callback) and
    interruptible() (which sets it), plus `native`: a call of libnad's cancel function of the
    running handle (nad_estimator_cancel, nad_trainer_cancel), which stops the C call between
    two chunks of work instead of at the next callback."""
    __slots__ = ('requested', 'native')

    def __init__(self, native=None):
        self.requested = False
        self.native = native

    def __call__(self):
        self.requested = True
        if self.native is not None:
            self.native()


def _in_notebook():
    """True inside a Jupyter (ipykernel) kernel."""
    if 'ipykernel' not in sys.modules:
        return False
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except Exception:  # noqa: BLE001 -- any failure means: not a notebook
        return False
    return shell is not None and 'IPKernelApp' in getattr(shell, 'config', {})


def _stderr_is_tty():
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def default_progress():
    """The progress= default: on when stderr is a terminal or in a Jupyter notebook."""
    return _stderr_is_tty() or _in_notebook()


class PlainBar:
    """A one-line text bar on stderr, redrawn with '\\r' at most every 0.1 s and ended with a
    newline: 'label  12/50 [#####               ]  24%  3.1 s  info'."""
    WIDTH = 24

    def __init__(self, label, stream=None):
        self.label, self.stream = label, stream
        self.t0 = time.monotonic()
        self.last = None
        self.closed = False

    def __call__(self, done, total, info=''):
        now = time.monotonic()
        final = done >= total
        if not final and self.last is not None and now - self.last < 0.1:
            return False
        self.last = now
        frac = done / total if total > 0 else 1.0
        fill = int(round(frac * self.WIDTH))
        line = '%s %*d/%d [%s%s] %3d%% %.1f s%s' % (
            self.label, len(str(total)), done, total, '#' * fill, ' ' * (self.WIDTH - fill),
            int(frac * 100), now - self.t0, ('  ' + info) if info else '')
        stream = self.stream or sys.stderr
        stream.write('\r' + line + ('\n' if final else ''))
        stream.flush()
        self.closed = final
        return False

    def close(self):
        """End the line (an interrupted or failed run)."""
        if self.last is not None and not self.closed:
            (self.stream or sys.stderr).write('\n')
            (self.stream or sys.stderr).flush()
        self.closed = True


class TqdmBar:
    """The same, drawn by tqdm (tqdm.auto: a widget in notebooks)."""

    def __init__(self, label, tqdm):
        self.tqdm, self.label, self.bar = tqdm, label, None

    def __call__(self, done, total, info=''):
        if self.bar is None:
            self.bar = self.tqdm(total=total, desc=self.label, initial=0)
        self.bar.update(done - self.bar.n)
        if info:
            self.bar.set_postfix_str(info, refresh=False)
        return False

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _tqdm():
    if os.environ.get('LIBNAD_NO_TQDM'):
        return None
    try:
        from tqdm.auto import tqdm
    except Exception:  # noqa: BLE001 -- no tqdm (or a broken one): the plain bar
        return None
    return tqdm


def make_bar(progress, label):
    """(fn, bar) for a progress= argument: fn(done, total, info='') -> true to cancel, or None
    when silent; bar has close() (None for a user's callable)."""
    if progress is None:
        progress = default_progress()
    if progress is False:
        return None, None
    if progress is True:
        tqdm = _tqdm()
        bar = TqdmBar(label, tqdm) if tqdm is not None else PlainBar(label)
        return bar, bar
    if callable(progress):
        return progress, None
    raise TypeError('progress must be True, False, None or a callable fn(done, total); got %s'
                    % type(progress).__name__)
