"""The Python package as a user sees it (pytest; issue 10): the one-call helpers give the
numbers of the `nad` tool for the same settings, failures are the built-in exceptions too,
misspelled keywords name the close match, every public name is documented, dir(libnad) shows
no ctypes, the README examples run, and libnad.plot draws the arrays it is given.
Run by meson (suite python) as `python3 -m pytest`; NAD_LIBRARY and NAD_EXECUTABLE name the
built library and tool."""
import inspect
import json
import os
import re
import subprocess
import sys

import libnad  # before numpy: its OPENBLAS_CORETYPE choice must come first (test_api.py)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

NAD = os.environ.get('NAD_EXECUTABLE')
ROOT = os.environ.get('NAD_SOURCE_ROOT') or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
needs_tool = pytest.mark.skipif(not NAD, reason='NAD_EXECUTABLE not set')


def nad(*args):
    return subprocess.run([NAD] + [str(a) for a in args], check=True, capture_output=True,
                          text=True).stdout


# ---- one-call helpers ----------------------------------------------------------------------

@needs_tool
def test_estimate_gives_the_numbers_of_nad_estimate(tmp_path):
    # results are bit-for-bit reproducible for a seed whatever the thread count (nad.h)
    nad('estimate', 'lenet', '--networks', 12, '--seed', 3, '--threads', 1, '--quiet',
        '--out', tmp_path)
    r = libnad.estimate('lenet', networks=12, input=(1, 32, 32), seed=3)
    assert r.eigenvalues.shape == (1024,)
    assert r.nads.shape == (1024, 1, 32, 32) and r.nads.dtype == np.float32
    assert r.spectrum.shape == (1, 32, 32)
    assert np.array_equal(r.eigenvalues, np.load(tmp_path / 'eigenvalues.npy'))
    # nads.npy keeps the official K×D layout; the Result's (K, C, H, W) is a reshape of it
    assert np.array_equal(r.nads.reshape(1024, -1), np.load(tmp_path / 'nads.npy'))
    assert np.array_equal(r.spectrum, np.load(tmp_path / 'spectrum.npy'))
    summary = json.load(open(tmp_path / 'summary.json'))
    conv = summary['convergence']
    assert r.convergence['overlap_1'] == pytest.approx(conv['1']['overlap'], abs=1e-12)
    assert r.convergence['overlap_10'] == pytest.approx(conv['10']['overlap'], abs=1e-12)
    assert r.convergence['spectrum_corr'] == pytest.approx(conv['1']['spectrum_corr'], abs=1e-12)
    assert r.convergence['converged'] is False  # 12 networks are far too few


def test_estimate_top_and_channels():
    r = libnad.estimate('logreg', networks=4, input=(3, 8, 8), top=5, threads=1)
    assert r.nads.shape == (5, 3, 8, 8) and r.eigenvalues.shape == (5,)
    assert r.spectrum.shape == (3, 8, 8)
    flat = r.nads.reshape(5, -1)
    assert np.allclose(flat @ flat.T, np.eye(5), atol=1e-5)
    assert np.all(np.diff(r.eigenvalues) <= 0)


@needs_tool
def test_bias_gives_the_accuracy_of_nad_bias():
    out = nad('bias', 'logreg', '--direction', 'fourier:1,0', '--train', 300, '--test', 300,
              '--epochs', 2, '--threads', 1, '--seed', 4, '--json', '--quiet')
    cli = json.loads(out.strip().splitlines()[-1])
    b = libnad.bias('logreg', 'fourier:1,0', train=300, test=300, epochs=2, threads=1, seed=4)
    assert b.test_accuracy == pytest.approx(cli['test_accuracy'], abs=1e-9)
    assert b.train_accuracy == pytest.approx(cli['train_accuracy'], abs=1e-9)
    assert b.train_loss == pytest.approx(cli['train_loss'], rel=1e-9)
    assert len(b.history) == 2
    assert b.direction.shape == (1, 32, 32)
    assert np.allclose(b.direction, libnad.direction_fourier((1, 32, 32), 1, 0))


def test_bias_accepts_an_array_and_learns_an_easy_direction():
    v = libnad.direction_fourier((1, 8, 8), 0, 1)
    b = libnad.bias('logreg', v, input=(1, 8, 8), train=400, test=400, epochs=5, sigma=0.5)
    assert b.test_accuracy > 90  # low noise, D = 64: linearly separable and learnt


@needs_tool
def test_poison_gives_the_accuracies_of_nad_poison(tmp_path):
    if not os.path.isdir('/usr/share/datasets/fashion-mnist'):
        pytest.skip('dataset-fashion-mnist not installed (scripts/setup-debian.sh installs it)')
    nad('estimate', 'lenet', '--networks', 6, '--quiet', '--out', tmp_path)
    args = dict(epochs=2, train_samples=400, test_samples=200, threads=1, seed=1)
    out = nad('poison', 'logreg', '--data', 'fashion-mnist', '--nads', tmp_path, '--index', 0,
              '--epsilon', 0.2, '--epochs', 2, '--train-samples', 400, '--test-samples', 200,
              '--threads', 1, '--seed', 1, '--json', '--quiet')
    cli = json.loads(out.strip().splitlines()[-1])
    r = libnad.poison('logreg', 'fashion-mnist', str(tmp_path), 0, 0.2, **args)
    assert r.test_accuracy == pytest.approx(cli['clean_test_accuracy'], abs=1e-9)
    assert r.train_accuracy == pytest.approx(cli['poisoned_train_accuracy'], abs=1e-9)
    assert [e.test_acc for e in r.history] == pytest.approx(cli['clean_test_accuracy_per_epoch'])
    # the NADs as an array give the same run
    nads = np.load(tmp_path / 'nads.npy')
    r2 = libnad.poison('logreg', 'fashion-mnist', nads, 0, 0.2, **args)
    assert r2.test_accuracy == r.test_accuracy and r2.train_accuracy == r.train_accuracy


# ---- errors --------------------------------------------------------------------------------

def test_failures_are_builtin_exceptions(tmp_path):
    with pytest.raises(ValueError) as e:
        libnad.Arch('no-such-arch')
    assert isinstance(e.value, libnad.NadParseError) and isinstance(e.value, libnad.NadError)
    assert e.value.status == libnad.Status.ERR_PARSE
    with pytest.raises(OSError) as e:
        libnad.read_npy(tmp_path / 'missing.npy')
    assert isinstance(e.value, libnad.NadIOError) and e.value.errno is None
    assert 'missing.npy' in str(e.value)
    with pytest.raises(MemoryError) as e:
        libnad.estimate('logreg', networks=2, input=(1, 64, 64), memory=1 << 20)
    assert isinstance(e.value, libnad.NadMemoryError)
    est = libnad.Estimator(libnad.Arch('logreg'))
    with pytest.raises(RuntimeError) as e:
        est.eigenvalues()
    assert isinstance(e.value, libnad.NadMisuseError)
    with pytest.raises(ValueError) as e:
        est.set('num_networks', 1)  # below the bound 2
    assert type(e.value) is libnad.NadValueError


def test_status_to_class_is_complete():
    for s in libnad.Status:
        if s == libnad.Status.OK:
            continue
        err = libnad.NadError(s, 'f', 'm')
        assert isinstance(err, libnad.NadError) and type(err) is not libnad.NadError
        assert err.status == s and str(err) == 'f: %s: m' % libnad.status_string(s)


def test_misspelled_keywords_name_the_close_match():
    arch = libnad.Arch('logreg')
    cases = [(lambda: libnad.estimate('logreg', netwroks=3), 'networks'),
             (lambda: libnad.bias('logreg', 'random', epoch=1), 'epochs'),
             (lambda: libnad.poison('lenet', 'fashion-mnist', [], 0, 0.1, normalise=True),
              'normalize'),
             (lambda: libnad.Estimator(arch, num_netwoks=3), 'num_networks'),
             (lambda: libnad.Trainer(arch, lrr=0.1), 'lr')]
    for call, right in cases:
        with pytest.raises(TypeError, match="did you mean '%s'" % right):
            call()
    with pytest.raises(TypeError, match='unexpected keyword argument'):
        libnad.estimate('logreg', colour='blue')


# ---- the public surface --------------------------------------------------------------------

def _public(obj):
    return [n for n in dir(obj) if not n.startswith('_')]


def test_every_public_name_has_a_docstring():
    missing = []
    constants = (int, float, str, bool, tuple, type(None))
    for name in dir(libnad):
        if name.startswith('_'):
            continue
        obj = getattr(libnad, name)
        if isinstance(obj, constants):
            continue
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj) and obj.__module__.startswith('libnad'):
            for attr, member in vars(obj).items():
                if attr.startswith('_') or not (callable(member) or isinstance(
                        member, (property, staticmethod, classmethod))):
                    continue
                if not inspect.getdoc(getattr(obj, attr)):
                    missing.append('%s.%s' % (name, attr))
    assert not missing, 'undocumented: ' + ', '.join(missing)


def test_no_ctypes_names_in_dir():
    import ctypes
    ctypes_names = set(dir(ctypes))
    leaked = [n for n in dir(libnad) if n in ctypes_names and not n.startswith('__')]
    assert not leaked
    for n in dir(libnad):
        obj = getattr(libnad, n)
        assert getattr(obj, '__module__', '') != 'ctypes', n
        assert not inspect.ismodule(obj) or obj.__name__.startswith('libnad'), n
    assert set(libnad.__all__) <= set(dir(libnad))


# ---- the README examples -------------------------------------------------------------------

def _python_blocks(path):
    return re.findall(r'```python\n(.*?)```', open(path, encoding='utf-8').read(), re.S)


def test_readme_python_quick_start_runs(capsys):
    blocks = _python_blocks(os.path.join(ROOT, 'README.md'))
    assert blocks, 'README.md has no ```python block'
    for code in blocks:
        exec(compile(code, 'README.md', 'exec'), {})
    out = capsys.readouterr().out
    assert 'libnad.Result lenet 1x32x32' in out


def test_binding_readme_example_runs():
    blocks = _python_blocks(os.path.join(ROOT, 'bindings', 'python', 'README.md'))
    assert blocks
    exec(compile(blocks[0], 'bindings/python/README.md', 'exec'), {})


# ---- examples/modern_nads.py (README "NADs of modern architectures") -----------------------

def _modern():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'modern_nads', os.path.join(ROOT, 'examples', 'modern_nads.py'))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def test_modern_nads_table_numbers():
    m = _modern()
    # a white spectrum and one dominant direction: flatness 1, the white low-frequency share
    # (radius <= 4 of 32: 49 of 1024 frequencies), effective directions (Σλ)²/Σλ²
    z = {'eigenvalues': np.array([4.0, 1.0, 1.0, 0.0]), 'networks': 4,
         'spectrum': np.ones((3, 32, 32)), 'seconds_per_network': 0.5,
         'seconds_finalize': 2.0, 'peak_rss_mb': 100.0}
    r = m.metrics(z)
    assert r['spectrum_flatness'] == pytest.approx(1.0)
    assert r['low_frequency_fraction'] == pytest.approx(49 / 1024)
    assert r['low_frequency_white'] == pytest.approx(49 / 1024)
    assert r['l1_l2'] == pytest.approx(4.0) and r['l1_l10'] is None
    assert r['effective_directions'] == pytest.approx(36 / 18)
    # 2 networks span one direction: λ2 is rounding, no ratio is given
    z['networks'], z['eigenvalues'] = 2, np.array([4.0, 1e-16, 1e-17])
    r = m.metrics(z)
    assert r['l1_l2'] is None and r['effective_directions'] == pytest.approx(1.0)
    # all the power at frequency 0 (fftshifted: the centre): fraction 1, flatness ~0
    z['spectrum'] = np.full((1, 32, 32), 1e-30)
    z['spectrum'][0, 16, 16] = 1.0
    r = m.metrics(z)
    assert r['low_frequency_fraction'] == pytest.approx(1.0)
    assert r['spectrum_flatness'] < 1e-3
    assert m.parse_networks('lenet=7,3', ['lenet', 'vit']) == {'lenet': 3, 'vit': 3}
    assert m.parse_networks('vit=5', ['lenet', 'vit']) == {'lenet': 2000, 'vit': 5}
    with pytest.raises(ValueError, match='lenet: N = 1'):
        m.parse_networks('lenet=1', ['lenet'])


def test_modern_nads_script_runs(tmp_path):
    # one small architecture: its result, the figure (2 grid rows of 4 + 2 tiles of 64 + 1 px),
    # the eigenvalue plot and the table
    subprocess.run([sys.executable,
                    os.path.join(ROOT, 'examples', 'modern_nads.py'), str(tmp_path),
                    '--archs', 'lenet', '--networks', '3', '--input', '1x32x32', '--top', '4',
                    '--threads', '1'], check=True, capture_output=True, text=True)
    with open(tmp_path / 'modern_nads.png', 'rb') as f:
        head = f.read(24)
    assert head[:8] == b'\x89PNG\r\n\x1a\n'
    assert int.from_bytes(head[16:20], 'big') == 6 * 65 - 1
    assert int.from_bytes(head[20:24], 'big') == 2 * 65 - 1 + 26  # + the title line
    assert (tmp_path / 'modern_eigenvalues.png').stat().st_size > 1000
    t = json.load(open(tmp_path / 'modern_table.json'))
    row = t['rows']['lenet']
    assert row['networks'] == 3 and row['seconds_per_network'] > 0 and row['peak_rss_mb'] > 10
    assert 0 < row['spectrum_flatness'] <= 1
    z = np.load(tmp_path / 'lenet' / 'result.npz')
    assert z['nads'].shape[1] == 1024
    assert np.allclose((z['nads'][:2].astype(np.float64) ** 2).sum(1), 1.0, atol=1e-5)
    assert '| lenet | 3 |' in open(tmp_path / 'modern_table.md').read()


# ---- plots ---------------------------------------------------------------------------------

def test_plots_draw_the_results(tmp_path):
    plot = pytest.importorskip('libnad.plot')
    import matplotlib
    matplotlib.use('Agg')
    r = libnad.estimate('logreg', networks=4, input=(1, 8, 8), threads=1)
    fig = plot.nads(r, count=4)
    images = [ax.get_images()[0].get_array() for ax in fig.axes]
    assert len(images) == 8  # each NAD above its Fourier magnitude
    assert np.allclose(images[0], r.nads[0, 0])
    fig.savefig(tmp_path / 'nads.png')
    fig = plot.spectrum(r)
    shown = fig.axes[0].get_images()[0].get_array()
    p = r.spectrum[0]
    assert np.allclose(shown, np.log10(p + 1e-12 * p.max()))
    assert 'cycles per image' in fig.axes[0].get_xlabel() and len(fig.axes) == 2  # colour bar
    csv = tmp_path / 'accuracy.csv'
    csv.write_text('fy,fx,accuracy\n-2,0,55\n0,0,50\n2,0,80\n-2,2,60\n0,2,90\n2,2,70\n')
    fig = plot.grid(csv)
    grid = fig.axes[0].get_images()[0].get_array()
    assert np.allclose(grid, [[55, 60], [50, 90], [80, 70]])
    assert fig.axes[0].get_images()[0].get_clim() == (50.0, 100.0)
    csv.write_text('index,accuracy\n0,90\n64,70\n128,55\n')
    line = plot.grid(csv).axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [0, 64, 128] and list(line.get_ydata()) == [90, 70, 55]
    fig.savefig(tmp_path / 'grid.png')
    assert (tmp_path / 'grid.png').stat().st_size > 1000
