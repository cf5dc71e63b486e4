"""Pictures (nad.h: Pictures, and its Deprecated png_write_* section): figure_nads,
figure_spectrum, figure_eigenvalues, figure_heatmap, figure_lines, figure_images and the
png_write_* functions."""
import os
from ctypes import c_double, c_int64

from ._ffi import FigureFormat, _lib
from ._buffers import as_input
from ._base import HAVE_NUMPY, _fspath, _shape_error
from ._compare import _nads_shape


def png_write_nads(path, nads, count=None, shape=None):
    """PNG grid of the first count NADs, each above its Fourier power (like the paper)."""
    nb = as_input(nads)
    c, h, w = _nads_shape(nads, nb, shape, 'nad_png_write_nads')
    d = c * h * w
    count = nb.n // d if count is None else int(count)
    if count < 1 or nb.n < count * d:
        raise _shape_error('nad_png_write_nads', '%d NADs of %d floats need %d, got %d', count,
                           d, count * d, nb.n)
    _lib.nad_png_write_nads(_fspath(path), nb.ptr, count, c, h, w)


def _format_of(path, format):
    """FigureFormat from a name or member, else from the extension of path (default PNG)."""
    if format is None:
        ext = os.path.splitext(os.fspath(path))[1].lower().lstrip('.')
        format = ext if ext in ('png', 'svg', 'pdf') else 'png'
    if isinstance(format, str):
        if format.upper() not in FigureFormat.__members__:
            raise ValueError("format must be 'png', 'svg' or 'pdf', got %r" % format)
        return FigureFormat[format.upper()]
    return FigureFormat(format)


def _text(s):
    return None if s is None else str(s).encode('utf-8')


def figure_nads(path, nads, shape, eigenvalues=None, show=None, title=None, not_converged=False,
                format=None):
    """NAD grid with labels, spectra, colour bars and title (nad_figure_nads). nads: K x D
    floats, shape (C, H, W); show: NAD indices to draw (default the first 16); format 'png',
    'svg' or 'pdf' (default from the extension)."""
    nb = as_input(nads)
    c, h, w = (int(v) for v in shape)
    k = nb.n // (c * h * w)
    eb = as_input(eigenvalues, 'd') if eigenvalues is not None else None
    if eb is not None and eb.n < k:
        raise _shape_error('nad_figure_nads', '%d eigenvalues for %d NADs', eb.n, k)
    sb = (c_int64 * len(show))(*[int(i) for i in show]) if show is not None else None
    _lib.nad_figure_nads(_fspath(path), _format_of(path, format), nb.ptr, k, c, h, w,
                         eb.ptr if eb is not None else None, sb, len(show) if show else 0,
                         _text(title), 1 if not_converged else 0)


def figure_spectrum(path, spectrum, shape, title=None, format=None):
    """Covariance spectrum (C x H x W, fftshifted) with axes in cycles per image."""
    sb = as_input(spectrum, 'd')
    c, h, w = (int(v) for v in shape)
    if sb.n != c * h * w:
        raise _shape_error('nad_figure_spectrum', 'shape %s needs %d values, got %d', shape,
                           c * h * w, sb.n)
    _lib.nad_figure_spectrum(_fspath(path), _format_of(path, format), sb.ptr, c, h, w,
                             _text(title))


def figure_eigenvalues(path, eigenvalues, title=None, format=None):
    """Eigenvalue decay on a log scale."""
    eb = as_input(eigenvalues, 'd')
    _lib.nad_figure_eigenvalues(_fspath(path), _format_of(path, format), eb.ptr, eb.n,
                                _text(title))


def figure_heatmap(path, values, shape, lo, hi, x0=0.0, dx=1.0, y0=0.0, dy=1.0, title=None,
                   x_label=None, y_label=None, value_label=None, format=None):
    """Heat map (row 0 at the top) with axes and a colour bar; values beyond [lo, hi] are
    clamped and the figure says so."""
    vb = as_input(values, 'd')
    rows, cols = (int(v) for v in shape)
    if vb.n != rows * cols:
        raise _shape_error('nad_figure_heatmap', '%dx%d cells, got %d values', rows, cols, vb.n)
    _lib.nad_figure_heatmap(_fspath(path), _format_of(path, format), vb.ptr, rows, cols,
                            float(lo), float(hi), float(x0), float(dx), float(y0), float(dy),
                            _text(title), _text(x_label), _text(y_label), _text(value_label))


def figure_lines(path, x, ys, y_lo, y_hi, title=None, x_label=None, y_label=None, legend=None,
                 format=None):
    """Line plot of one or more series (ys: a list of sequences, each as long as x)."""
    xb = as_input(x, 'd')
    flat = [float(v) for series in ys for v in series]
    if len(flat) != xb.n * len(ys):
        raise _shape_error('nad_figure_lines', 'each series needs %d values', xb.n)
    yb = (c_double * len(flat))(*flat)
    _lib.nad_figure_lines(_fspath(path), _format_of(path, format), xb.ptr, yb, xb.n, len(ys),
                          float(y_lo), float(y_hi), _text(title), _text(x_label), _text(y_label),
                          _text('\n'.join(legend)) if legend else None)


def png_write_heatmap(path, values, lo=None, hi=None, shape=None):
    """PNG heat map (viridis, row 0 at the top, NaN grey) of a 2-D array of values mapped from
    [lo, hi] (default: the finite min and max)."""
    vb = as_input(values, 'd')
    if shape is None:
        if vb.shape is None or len(vb.shape) != 2:
            raise _shape_error('nad_png_write_heatmap', 'give shape=(rows, cols) for values of '
                               'shape %s', vb.shape)
        shape = vb.shape
    rows, cols = (int(v) for v in shape)
    if vb.n != rows * cols:
        raise _shape_error('nad_png_write_heatmap', '%dx%d cells, got %d values', rows, cols,
                           vb.n)
    if lo is None or hi is None:
        finite = [v for v in (vb.keep.ravel() if HAVE_NUMPY else vb.keep) if v == v]
        lo = min(finite) if lo is None and finite else lo
        hi = max(finite) if hi is None and finite else hi
        if lo is None or hi is None or not lo < hi:
            lo, hi = (lo if lo is not None else 0.0), (lo if lo is not None else 0.0) + 1.0
    _lib.nad_png_write_heatmap(_fspath(path), vb.ptr, rows, cols, float(lo), float(hi))



def png_write_lineplot(path, x, y, y_lo, y_hi):
    """640x400 PNG line plot of the points (x[i], y[i]) with y clamped to [y_lo, y_hi]."""
    xb, yb = as_input(x, 'd'), as_input(y, 'd')
    if xb.n != yb.n:
        raise _shape_error('nad_png_write_lineplot', '%d x values and %d y values', xb.n, yb.n)
    _lib.nad_png_write_lineplot(_fspath(path), xb.ptr, yb.ptr, xb.n, float(y_lo), float(y_hi))


def png_write_images(path, x, cols, lo=0.0, hi=1.0):
    """PNG grid of the images x (n, c, h, w) with c = 1 (grey) or 3 (RGB), `cols` per row,
    [lo, hi] mapped to black..white."""
    xb = as_input(x)
    s = xb.shape
    if s is None or len(s) != 4:
        raise _shape_error('nad_png_write_images', 'x must be (n, c, h, w), got shape %s', s)
    n, c, h, w = (int(v) for v in s)
    _lib.nad_png_write_images(_fspath(path), xb.ptr, n, c, h, w, int(cols), float(lo), float(hi))


def figure_images(path, x, cols, lo=0.0, hi=1.0, title=None, format=None):
    """Grid of the images x (n, c, h, w), c = 1 or 3, with an optional title; format 'png',
    'svg' or 'pdf' (default from the extension)."""
    xb = as_input(x)
    s = xb.shape
    if s is None or len(s) != 4:
        raise _shape_error('nad_figure_images', 'x must be (n, c, h, w), got shape %s', s)
    n, c, h, w = (int(v) for v in s)
    _lib.nad_figure_images(_fspath(path), _format_of(path, format), xb.ptr, n, c, h, w,
                           int(cols), float(lo), float(hi), _text(title))
