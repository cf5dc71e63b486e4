"""One-call helpers in the numpy style: estimate() and bias(), with the CLI's defaults and
seeds (the same settings give the numbers of `nad estimate` / `nad bias`), and the keyword
check that names the close match of a misspelled option."""
import difflib
import os
import sys

from ._buffers import np

# The package itself (libnad/__init__.py imports this module last, when Arch, Estimator, ...
# exist); a module object rather than names, so the helpers see the package's classes.
_core = sys.modules[__name__.rpartition('.')[0]]


def check_keywords(function, given, allowed):
    """Raise TypeError for a keyword `function` does not take, naming the closest one."""
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
            hint = " (did you mean '%s'?)" % close[0] if close else ''
            raise TypeError('%s() got an unexpected keyword argument %r%s'
                            % (function, key, hint))


def _shape(input):
    c, h, w = (int(s) for s in input)
    return (c, h, w)


class Result:
    """What estimate() computed.

    eigenvalues  (K,) float64, descending covariance eigenvalues
    nads         (K, C, H, W) float32, unit-norm NADs in eigenvalue order (a view of the
                 K×D array that `nad estimate` writes as nads.npy: nads.reshape(K, -1))
    spectrum     (C, H, W) float64, Fourier power of the covariance, fftshifted (frequency 0 at
                 (H//2, W//2))
    mean         (D,) float64, mean response over the networks
    convergence  {'overlap_1', 'overlap_10', 'spectrum_corr', 'converged'}: the networks split
                 into two halves by parity (as summary.json's convergence); None where it
                 cannot be computed (fewer than 4 networks, fewer than 10 NADs, a degenerate
                 response); 'converged' is the criterion of Estimator.converged() (nad.h,
                 nad_estimator_converged; the CLI's verdict); with until_converged also
                 'until_converged': {'converged', 'overlaps', 'spectrum_corr',
                 'max_networks'} (the stopping criterion, nad.h)
    degenerate_response  True when the responses do not vary beyond float32 rounding of the
                 outputs (Estimator.degenerate; run() then warns): the NADs mean nothing
    arch, input, networks, seed: the settings (networks: those used, with until_converged
                 where the run stopped)."""

    def __init__(self, arch, input, networks, seed, eigenvalues, nads, spectrum, mean,
                 convergence):
        self.arch, self.input, self.networks, self.seed = arch, input, networks, seed
        self.eigenvalues, self.nads, self.spectrum, self.mean = eigenvalues, nads, spectrum, mean
        self.convergence = convergence
        self.degenerate_response = False

    def __repr__(self):
        return ('<libnad.Result %s %s: %d NADs from %d networks, %s>'
                % (self.arch, 'x'.join(map(str, self.input)), len(self.eigenvalues),
                   self.networks, 'converged' if self.convergence['converged']
                   else 'not converged'))


_ESTIMATE_KEYWORDS = {'networks', 'input', 'outputs', 'seed', 'threads', 'top', 'step', 'mode',
                      'eval_point', 'batch', 'memory', 'progress', 'spec', 'output', 'eval_data',
                      'init_rules', 'until_converged', 'check_every',
                      'check_growth'}


def _is_torch_module(obj):
    return hasattr(obj, 'state_dict') and hasattr(obj, 'forward') and not isinstance(obj, type)


def _arch_of(arch, options, input):
    """(Arch, parameter source or None, fixed parameters or None) of estimate()'s `arch`."""
    if isinstance(arch, _core.Arch):
        return arch, None, None
    if isinstance(arch, str) and options.get('spec'):
        return _core.Arch.from_spec(arch, input), None, None
    if isinstance(arch, (str, os.PathLike)) and os.fspath(arch).endswith('.onnx'):
        a = _core.Arch.from_onnx(arch, input if 'input' in options else None)
        return a, None, None
    if isinstance(arch, str):
        return _core.Arch.builtin(arch, input=input, outputs=int(options.get('outputs', 1))), \
            None, None
    from . import _torch
    if _is_torch_module(arch):  # a module instance: its own, fixed weights
        a = _core.Arch.from_onnx(_torch.export_onnx(arch, input),
                                 name=type(arch).__name__)
        return a, None, a.file_params()
    if callable(arch):  # a factory: random networks drawn by the model's own code
        a, src = _torch.torch_arch(arch, input, int(options.get('seed', 0)), _core.Arch)
        return a, src, None
    raise TypeError('estimate() takes a built-in name, an Arch, a .onnx path, a torch module '
                    'or a factory of torch modules; got %s' % type(arch).__name__)


def estimate(arch, **options):
    """Estimate the NADs of an architecture in one call: libnad.estimate('lenet', networks=1000,
    input=(1, 32, 32)) -> Result.

    arch        a built-in name ('lenet', see builtin_names()), an Arch, a path to an ONNX
                model ('model.onnx'), with spec=True a layer spec ("conv 6 k5; relu; ..."),
                or a PyTorch model:
                - a factory (a torch.nn.Module class, or any callable that builds a freshly
                  initialised module with no arguments: torchvision.models.resnet18,
                  lambda: MyNet(width=2)): network j is factory() after
                  torch.manual_seed(seed * 100003 + j) (as the reference tool tv_ref.py), its
                  weights streamed into libnad, so the model's own initialisation is exact;
                  the graph is exported to ONNX once;
                - a module instance: its own fixed weights (a trained network), evaluated at
                  the points of eval_data (a Dataset; one sample per point).
    networks    random initialisations (default 1000)
    input       (C, H, W) per sample (default (1, 32, 32); ignored for an Arch)
    outputs     outputs of a built-in (default 1; the first is the response)
    seed        network j's weights depend only on (seed, j) (default 0)
    threads     worker threads (default 0: all cores, as the CLI)
    top         NADs to keep (default 0: all C·H·W)
    step        dipole step (default 100); mode 'dipole' (default) or 'gradient';
                eval_point 'normal' (default), 'zeros' or a (C, H, W) array
    batch, memory   as the Estimator options (memory in bytes; default half the free RAM)
    output      the output whose dipole is the response (default 0; 'label' with eval_data)
    eval_data   a Dataset of evaluation points (sample j at point j)
    init_rules  init rules for the random networks (a file path or the rules' text;
                Arch.with_init_rules, docs/onnx.md), e.g. share/init/resnet.rules
    until_converged  True: stop when the two halves agree (nad.h, nad_estimator_converged),
                `networks` the maximum; checked first at check_every networks (default 100),
                then whenever the count has grown by check_growth (default 1.25; multiples of
                check_every: 100, 200, 300, 400, 500, 700, 900, 1200, ..., 17 checks up to
                10,000; check_growth=1 checks every check_every networks); the stopping point
                depends only on the seed and these settings, the same for every thread count
    progress    True: a bar (tqdm when importable, else one line on stderr); False: silent;
                fn(done, total): called after each network, a true return value cancels;
                default: a bar when stderr is a terminal or in a Jupyter notebook
    Misspelled keywords raise TypeError naming the close match. Ctrl-C raises
    KeyboardInterrupt within about a second at any network size (libnad stops the networks
    being probed between two layers) and returns nothing."""
    check_keywords('estimate', options, _ESTIMATE_KEYWORDS)
    input = _shape(options.get('input', (1, 32, 32)))
    rules = options.get('init_rules')
    if rules is not None and not isinstance(arch, (str, os.PathLike, _core.Arch)):
        raise ValueError('init_rules= is for architectures whose random networks libnad draws '
                         '(built-ins, specs, ONNX files); a torch model brings its own '
                         'initialisation')
    a, source, fixed = _arch_of(arch, options, input)
    if rules is not None:
        a = a.with_init_rules(rules)
    if fixed is not None and options.get('eval_data') is None:
        raise ValueError('estimate() of a module instance (fixed weights) needs eval_data, the '
                         'points to evaluate it at; pass a factory for random networks')
    networks = int(options.get('networks', 1000))
    seed = int(options.get('seed', 0))
    eval_point = options.get('eval_point', 'normal')
    with _core.Estimator(a, num_networks=networks, seed=seed,
                         num_threads=int(options.get('threads', 0)),
                         top_k=int(options.get('top', 0)), step=float(options.get('step', 100.0)),
                         mode=options.get('mode', 'dipole')) as est:
        for key, opt in (('batch', 'batch'), ('memory', 'memory')):
            if options.get(key) is not None:
                est.set(opt, int(options[key]))
        if options.get('eval_data') is not None:
            est.set_eval_data(options['eval_data'])
        elif isinstance(eval_point, str):
            est.set('eval_point', eval_point)
        else:
            est.set_eval_point(eval_point)
        if options.get('output') is not None:
            est.set('output', -1 if options['output'] == 'label' else int(options['output']))
        for key in ('check_every', 'check_growth'):
            if options.get(key) is not None and not options.get('until_converged'):
                raise ValueError('%s needs until_converged=True' % key)
        if options.get('until_converged'):
            est.set('converge_every', int(options.get('check_every', 100)))
            if options.get('check_growth') is not None:
                est.set('converge_growth', float(options['check_growth']))
        if fixed is not None:
            est.set_network(fixed)
        if source is not None:
            est.set_param_source(source, source.id)
        est.run(progress=options.get('progress'))
        max_networks, networks = networks, est.networks_done
        d, k = est.dims
        nads = est.nads()
        if np is not None:
            nads = nads.reshape((k,) + tuple(a.input_shape))
        conv = {'overlap_1': None, 'overlap_10': None, 'spectrum_corr': None}
        degenerate = est.degenerate[0]
        for kk, name in ((1, 'overlap_1'), (10, 'overlap_10')):
            if kk <= k and networks >= 4 and not degenerate:  # each half needs 2 networks
                conv[name], conv['spectrum_corr'] = est.convergence(kk)
        # the CLI's verdict (src/estimate_out.c): the criterion --until-converged stops on
        crit = None
        if conv['spectrum_corr'] is not None or (options.get('until_converged') and
                                                 networks >= 4):
            crit = est.converged()
        conv['converged'] = bool(conv['spectrum_corr'] is not None and crit[0])
        if options.get('until_converged') and networks >= 4:
            yes, ovs, corr = crit
            conv['until_converged'] = {'converged': yes, 'overlaps': ovs,
                                       'spectrum_corr': corr, 'max_networks': max_networks}
        r = Result(a.name, tuple(a.input_shape), networks, seed, est.eigenvalues(), nads,
                   est.spectrum(), est.mean(), conv)
        r.degenerate_response = degenerate
        return r


class BiasResult:
    """What bias() measured: test_accuracy and train_accuracy (percent, after the last epoch),
    train_loss, history (one Epoch per epoch), direction (the unit v used, (C, H, W))."""

    def __init__(self, test_accuracy, train_accuracy, train_loss, history, direction):
        self.test_accuracy, self.train_accuracy = test_accuracy, train_accuracy
        self.train_loss, self.history, self.direction = train_loss, history, direction

    def __repr__(self):
        return '<libnad.BiasResult test %.2f %%, train %.2f %% after %d epochs>' % (
            self.test_accuracy, self.train_accuracy, len(self.history))


_BIAS_KEYWORDS = {'input', 'epsilon', 'sigma', 'train', 'test', 'epochs', 'batch', 'lr',
                  'momentum', 'weight_decay', 'clip', 'seed', 'threads', 'spec', 'callback',
                  'progress'}


def _direction(direction, shape, seed):
    """v from a spec string like the CLI's --direction, or an array of C·H·W values."""
    if isinstance(direction, (str, os.PathLike)) and str(direction).endswith('.npy'):
        arr = _core.read_npy(direction)
        return arr[0] if isinstance(arr, tuple) else arr
    if isinstance(direction, str):
        kind, _, rest = direction.partition(':')
        if kind == 'fourier':
            parts = rest.split(',')
            part = parts[2] if len(parts) > 2 else 'auto'
            return _core.direction_fourier(shape, int(parts[0]), int(parts[1]), part)
        if kind == 'random':
            return _core.direction_random(int(rest) if rest else seed, shape)
        if kind == 'nad':
            index, _, folder = rest.partition(':')
            nads = _core.read_npy(os.path.join(folder, 'nads.npy'))
            if isinstance(nads, tuple):  # no numpy: (flat array, shape)
                flat, s = nads
                d = s[1]
                return flat[int(index) * d:(int(index) + 1) * d]
            return nads[int(index)]
        raise ValueError("direction %r: expected 'fourier:FY,FX[,sin|cos]', 'random[:SEED]', "
                         "'nad:K:DIR', a .npy file or an array" % direction)
    return direction


def bias(arch, direction, **options):
    """Directional bias (the paper's first experiment) in one call: train a fresh network of
    `arch` (2 outputs) on the linearly separable D(v) and return a BiasResult with its test
    accuracy. The defaults and seeds are those of `nad bias` (same settings, same numbers).

    direction   'fourier:FY,FX[,sin|cos]', 'random[:SEED]', 'nad:K:DIR' (row K of DIR/nads.npy),
                a .npy file, or an array of C·H·W values (normalised)
    input (1, 32, 32), epsilon 1, sigma 3, train 10000, test 10000 samples, epochs 20,
    batch 128, lr 0.5 (linear decay), momentum 0, weight_decay 0, clip 0.5, seed 0 (network;
    the data come from seeds 2·seed+1 and 2·seed+2), threads 0 (all cores); spec=True reads
    arch as a layer spec; callback fn(Epoch) after each epoch (a true return value stops);
    progress True/False/fn(done, total) over the epochs, as in Trainer.fit (default: a bar on
    a terminal or in a notebook). Ctrl-C raises KeyboardInterrupt at the end of the running
    epoch. Misspelled keywords raise TypeError naming the close match."""
    check_keywords('bias', options, _BIAS_KEYWORDS)
    o = dict(input=(1, 32, 32), epsilon=1.0, sigma=3.0, train=10000, test=10000, epochs=20,
             batch=128, lr=0.5, momentum=0.0, weight_decay=0.0, clip=0.5, seed=0, threads=0)
    o.update(options)
    shape = _shape(o['input'])
    seed = int(o['seed'])
    if isinstance(arch, _core.Arch):
        a = arch
    elif o.get('spec'):
        a = _core.Arch.from_spec(arch, shape)
    else:
        a = _core.Arch.builtin(arch, input=shape, outputs=2)
    v = _direction(direction, shape, seed)
    train = _core.Dataset.linear(v, int(o['train']), float(o['epsilon']), float(o['sigma']),
                                 seed=2 * seed + 1, shape=shape)
    test = _core.Dataset.linear(v, int(o['test']), float(o['epsilon']), float(o['sigma']),
                                seed=2 * seed + 2, shape=shape)
    with train, test, _core.Trainer(a, seed=seed, epochs=int(o['epochs']), batch=int(o['batch']),
                                    num_threads=int(o['threads']), lr=float(o['lr']),
                                    momentum=float(o['momentum']),
                                    weight_decay=float(o['weight_decay']),
                                    clip=float(o['clip'])) as t:
        if o.get('callback') is not None:
            t.set_epoch_callback(o['callback'])
        history = t.fit(train, progress=o.get('progress'))
        test_acc, _ = t.evaluate(test)
        last = history[-1]
        vv = v
        if np is not None:
            vv = np.asarray(v, dtype=np.float32).reshape(shape)
            vv = vv / np.linalg.norm(vv)
        return BiasResult(test_acc, last.train_acc, last.train_loss, list(history), vv)


class PoisonResult:
    """What poison() measured: test_accuracy (percent, the *clean* test split, after the last
    epoch), train_accuracy (percent, the *poisoned* training set), train_loss, history (one
    Epoch per epoch, test_acc on the clean test split). A network that latched onto the NAD
    carriers fits the poisoned training set but fails the clean test set."""

    def __init__(self, test_accuracy, train_accuracy, train_loss, history):
        self.test_accuracy, self.train_accuracy = test_accuracy, train_accuracy
        self.train_loss, self.history = train_loss, history

    def __repr__(self):
        return '<libnad.PoisonResult clean test %.2f %%, poisoned train %.2f %% after %d epochs>' \
            % (self.test_accuracy, self.train_accuracy, len(self.history))


_POISON_KEYWORDS = {'size', 'normalize', 'train_samples', 'test_samples', 'epochs', 'batch', 'lr',
                    'momentum', 'weight_decay', 'schedule', 'clip', 'seed', 'threads', 'spec',
                    'callback', 'progress'}


def _nad_array(nads):
    """(K, D) NADs from a Result, an estimate directory, a .npy file or an array."""
    if isinstance(nads, Result):
        return nads.nads.reshape(len(nads.eigenvalues), -1)
    if isinstance(nads, (str, os.PathLike)):
        path = os.fspath(nads)
        if os.path.isdir(path):
            path = os.path.join(path, 'nads.npy')
        arr = _core.read_npy(path)
        return arr if not isinstance(arr, tuple) else arr[0]
    return nads


def poison(arch, data, nads, index, epsilon, **options):
    """The paper's poisoning experiment in one call, as `nad poison` (same defaults, seeds and
    numbers): the training split of `data` gets class t's component along NAD index + t // (2C)
    (channel t % C) replaced by ±epsilon, a fresh network of `arch` (one output per class)
    trains on it, and the result tells the accuracy on the poisoned training set and on the
    clean test split.

    data        'fashion-mnist', 'idx:DIR', 'cifar10:DIR' or 'npy:IMAGES,LABELS,...'
    nads        a Result (1×H×W), an estimate output directory, a nads.npy file or a (K, H·W)
                array: single-channel NADs of the data's H×W
    index, epsilon   first NAD used and the poison strength
    size (32, 32) (None: as stored), normalize False, train_samples/test_samples (default all;
    the first ones), epochs 10, batch 128, lr 0.05, momentum 0.9, weight_decay 5e-4,
    schedule 'onecycle' (or 'linear'), clip 0, seed 0, threads 0 (all cores); spec=True reads
    arch as a layer spec; callback fn(Epoch) after each epoch (a true return value stops);
    progress True/False/fn(done, total) over the epochs, as in Trainer.fit (default: a bar on
    a terminal or in a notebook). Ctrl-C raises KeyboardInterrupt at the end of the running
    epoch. Misspelled keywords raise TypeError naming the close match."""
    check_keywords('poison', options, _POISON_KEYWORDS)
    o = dict(size=(32, 32), normalize=False, train_samples=0, test_samples=0, epochs=10,
             batch=128, lr=0.05, momentum=0.9, weight_decay=5e-4, schedule='onecycle', clip=0.0,
             seed=0, threads=0)
    o.update(options)
    train = _core.Dataset.load(data, 'train', o['size'])
    test = _core.Dataset.load(data, 'test', o['size'])
    for name, key in (('train', 'train_samples'), ('test', 'test_samples')):
        ds = train if name == 'train' else test
        if o[key] and int(o[key]) < len(ds):
            sub = ds.subset(0, int(o[key]))
            ds.close()
            if name == 'train':
                train = sub
            else:
                test = sub
    if o['normalize']:
        mean, std = train.channel_stats()
        train, test = train.normalize(mean, std), test.normalize(mean, std)
    shape = train.shape
    if isinstance(arch, _core.Arch):
        a = arch
    elif o.get('spec'):
        a = _core.Arch.from_spec(arch, shape)
    else:
        a = _core.Arch.builtin(arch, input=shape, outputs=train.num_classes)
    poisoned = train.poison(_nad_array(nads), int(index), float(epsilon))
    with poisoned, train, test, _core.Trainer(
            a, seed=int(o['seed']), epochs=int(o['epochs']), batch=int(o['batch']),
            num_threads=int(o['threads']), schedule=o['schedule'], lr=float(o['lr']),
            momentum=float(o['momentum']), weight_decay=float(o['weight_decay']),
            clip=float(o['clip'])) as t:
        if o.get('callback') is not None:
            t.set_epoch_callback(o['callback'])
        history = t.fit(poisoned, test, progress=o.get('progress'))
        train_acc, _ = t.evaluate(poisoned)
        last = history[-1]
        return PoisonResult(last.test_acc, train_acc, last.train_loss, list(history))
