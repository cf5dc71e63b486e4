"""Build step of the libnad package (pyproject.toml has the metadata): find the libnad shared
library this package will use and make the installed package find it without NAD_LIBRARY or
LD_LIBRARY_PATH.

  1. NAD_BUILD_DIR=<meson build dir>, else the source tree's ../../build: a copy of its
     lib/libnad.so.0 is bundled into the package (libnad/libnad.so.0);
  2. else the installed library that pkg-config knows (`pkg-config --variable=libdir libnad`,
     PKG_CONFIG_PATH honoured): its path is recorded in libnad/_build_config.py;
  3. else nothing: at import the library is looked for with ctypes.util.find_library('nad').
At import, NAD_LIBRARY still overrides all of these (libnad/_ffi.py, library_path)."""
import os
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
SONAME = 'libnad.so.0'


def built_library():
    """libnad.so.0 of a meson build directory, or None."""
    candidates = []
    if os.environ.get('NAD_BUILD_DIR'):
        candidates.append(os.environ['NAD_BUILD_DIR'])
    candidates.append(os.path.join(HERE, '..', '..', 'build'))
    for build in candidates:
        path = os.path.join(build, 'lib', SONAME)
        if os.path.exists(path):
            return os.path.realpath(path)
    if os.environ.get('NAD_BUILD_DIR'):
        raise SystemExit('NAD_BUILD_DIR=%s has no lib/%s: build libnad first (ninja -C %s)'
                         % (os.environ['NAD_BUILD_DIR'], SONAME, os.environ['NAD_BUILD_DIR']))
    return None


def installed_library():
    """Path of the libnad.so.0 that pkg-config describes, or None."""
    try:
        libdir = subprocess.run(['pkg-config', '--variable=libdir', 'libnad'], check=True,
                                capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    path = os.path.join(libdir, SONAME)
    return path if os.path.exists(path) else None


class BuildWithLibrary(build_py):
    """build_py that also bundles the library or records where it is installed."""

    def run(self):
        super().run()
        pkg = os.path.join(self.build_lib, 'libnad')
        built = built_library()
        recorded = None
        stale = os.path.join(pkg, SONAME)  # from an earlier build in the same tree
        if os.path.exists(stale):
            os.remove(stale)
        if built:
            shutil.copyfile(built, os.path.join(pkg, SONAME))
            self.announce('libnad: bundling %s' % built, level=2)
        else:
            recorded = installed_library()
            self.announce('libnad: using the installed %s' % recorded, level=2)
        with open(os.path.join(pkg, '_build_config.py'), 'w', encoding='utf-8') as f:
            f.write('"""Written by setup.py: the installed libnad this package was built for."""\n')
            f.write('LIBRARY = %r\n' % recorded)


class BinaryDistribution(Distribution):
    """The package may carry a shared library: wheels get a platform tag."""

    def has_ext_modules(self):
        return True


setup(cmdclass={'build_py': BuildWithLibrary}, distclass=BinaryDistribution)
