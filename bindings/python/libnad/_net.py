"""Networks (nad.h: Networks): Net and its parameter tensors."""
from ctypes import byref, c_void_p

from ._ffi import _lib
from ._buffers import as_input, output
from ._arch import _need_arch
from ._base import _Handle, _prod, _shape_error


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
