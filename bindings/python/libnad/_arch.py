"""Architectures (nad.h: Architectures): Arch, builtin_names."""
import collections
import os
import warnings
from ctypes import byref, c_char_p, c_int32, c_int64, c_void_p

from ._ffi import _lib
from ._base import _Handle, _i64, _prod
from ._buffers import output


Tensor = collections.namedtuple('Tensor', 'name offset numel trainable', module='libnad')


def builtin_names():
    """Names of the built-in architectures."""
    return [_lib.nad_arch_builtin_name(i).decode() for i in range(_lib.nad_arch_builtin_count())]



def _need_arch(arch):
    if not isinstance(arch, Arch):
        raise TypeError('expected a libnad.Arch, got %s' % type(arch).__name__)
    return arch._handle



def _chw(shape):
    """(c, h, w) as ints from any 3-sequence."""
    c, h, w = (int(v) for v in shape)
    return c, h, w


class Arch(_Handle):
    """An immutable network architecture (built-in, from a text spec, or an ONNX model)."""
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

    @classmethod
    def from_onnx(cls, model, input=None, name=None):
        """Architecture imported from an ONNX model: a path, or the model's bytes (then `name`
        names it). `input` (c, h, w) overrides the file's input shape. The file's own weights
        are kept (file_params()); docs/onnx.md lists the supported operators."""
        c, h, w = _chw(input) if input is not None else (0, 0, 0)
        out = c_void_p()
        if isinstance(model, (bytes, bytearray, memoryview)):
            data = bytes(model)
            _lib.nad_arch_create_onnx_buffer(data, len(data), (name or 'onnx').encode(), c, h, w,
                                             byref(out))
        else:
            _lib.nad_arch_create_onnx(os.fsencode(model), c, h, w, byref(out))
        self = cls.__new__(cls)
        self._own(out.value)
        return self

    def with_init_rules(self, rules, source=None):
        """A new Arch whose random networks follow init rules (docs/onnx.md): `rules` is a path
        (str or os.PathLike naming an existing file) or the rules' text ("PATTERN RULE [ARGS]"
        per line). Patterns that match no tensor raise a Python warning (UserWarning)."""
        out = c_void_p()
        if isinstance(rules, os.PathLike) or (isinstance(rules, str) and '\n' not in rules
                                             and os.path.isfile(rules)):
            _lib.nad_arch_with_init_rules_file(self._handle, os.fsencode(rules), byref(out))
        else:
            _lib.nad_arch_with_init_rules(self._handle, rules.encode(),
                                          (source or 'init_rules').encode(), byref(out))
        new = type(self).__new__(type(self))
        new._own(out.value)
        for line in new.init_rules_warnings.splitlines():
            warnings.warn('libnad: ' + line, UserWarning, stacklevel=2)
        return new

    @property
    def init_rules_warnings(self):
        """Warnings of this architecture's init rules (patterns matching no tensor), or ''."""
        return _lib.nad_arch_init_rules_warnings(self._handle).decode()

    def file_params(self):
        """The weights stored in the ONNX file this architecture came from (flat float32, in
        the parameter layout); ValueError for a built-in or spec architecture."""
        b = output((self.num_params,))
        _lib.nad_arch_file_params(self._handle, b.ptr, b.n)
        return b.keep

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
