"""Bring a PyTorch model (issue 17): export it to ONNX once, import it, and stream the weights
of each random network from the model's own code, so that torchvision's and the user's own
initialisations are exact.

    arch, source = torch_arch(torchvision.models.resnet18, input=(3, 32, 32), seed=0)
    estimator.set_param_source(source, source.id)

Network j is factory() built after torch.manual_seed(seed * 100003 + j), the seeding of the
reference tool tv_ref.py, so that both compute the same networks. Its state_dict is copied into
libnad's parameter layout: each tensor of the imported graph is found by its name (torch
exports the state_dict keys when constant folding is off and BatchNorm is kept), else by its
values in the exported instance (torch stores a Linear applied to a 3-D input as a MatMul by the
transposed weight under a generated name; equal initializers are aliased), else it is a
constant of the export (GELU's 1/√2, a reshape's scale) and keeps the file's value.
torch is imported only when these functions are called."""
import io
import threading

from ._buffers import np

SEED_STRIDE = 100003  # tv_ref.py: torch.manual_seed(seed * 100003 + j)


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover
        raise ImportError('libnad: a torch model needs PyTorch (Debian: python3-torch)') from e
    return torch


def export_onnx(module, input):
    """The ONNX bytes of module (in eval mode) for inputs (1,) + input: opset 17, BatchNorm
    kept (TrainingMode.PRESERVE on an eval model) and no constant folding, so that parameters
    keep their state_dict names."""
    torch = _torch()
    module = module.eval()
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, torch.zeros((1,) + tuple(int(v) for v in input)), buf,
                          opset_version=17, training=torch.onnx.TrainingMode.PRESERVE,
                          do_constant_folding=False)
    return buf.getvalue()


def _state(module):
    """{key: float32 numpy array} of a module's state, without num_batches_tracked."""
    return {k: v.detach().cpu().float().numpy() for k, v in module.state_dict().items()
            if not k.endswith('num_batches_tracked')}


def param_map(arch, module):
    """For each tensor of arch: (offset, numel, state_dict key or None, transposed) — where
    network j's values come from (None: the export's constant)."""
    state = _state(module)
    file = arch.file_params()
    by_size = {}
    for k, v in state.items():
        by_size.setdefault(v.size, []).append(k)
    out = []
    for t in arch.tensors:
        key, tr = None, False
        vals = file[t.offset:t.offset + t.numel]
        if t.name in state and state[t.name].size == t.numel:
            key = t.name
        else:
            for k in by_size.get(t.numel, []):
                v = state[k]
                if np.array_equal(v.ravel(), vals):
                    key = k
                    break
                if v.ndim == 2 and np.array_equal(v.T.ravel(), vals):
                    key, tr = k, True
                    break
        out.append((t.offset, t.numel, key, tr))
    return out


class TorchSource:
    """fn(j, params) for Estimator.set_param_source: network j of a torch factory."""

    def __init__(self, factory, mapping, seed, id):
        self.factory, self.mapping, self.seed, self.id = factory, mapping, int(seed), id
        # libnad calls the source from several worker threads, and torch's generator is global
        # (and torch releases the GIL inside its ops): one network is built at a time
        self._lock = threading.Lock()

    def build(self, j):
        torch = _torch()
        with self._lock:
            torch.manual_seed(self.seed * SEED_STRIDE + int(j))
            return self.factory().eval()

    def __call__(self, j, params):
        state = _state(self.build(j))
        for off, n, key, tr in self.mapping:
            if key is not None:
                v = state[key]
                params[off:off + n] = (v.T if tr else v).ravel()


def torch_arch(factory, input, seed, Arch):
    """(Arch imported from factory's export, TorchSource of its random networks). The export
    is of network 0 (seed * 100003), whose values also locate the tensors."""
    name = getattr(factory, '__name__', None) or type(factory).__name__
    src = TorchSource(factory, None, seed, 'torch:%s' % name)
    module = src.build(0)
    arch = Arch.from_onnx(export_onnx(module, input), name=name)
    src.mapping = param_map(arch, module)
    return arch, src
