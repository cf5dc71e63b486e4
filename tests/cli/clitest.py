"""CLI helpers shared by the test scripts of the `nad` tool (test_cli*.py), on top of the
project's script-test helpers (tests/python/nadtest.py: check, run, finish): the executable
under test (argv[1]), a temporary directory, and commands that must succeed or fail."""
import json
import os
import shutil
import sys
import tempfile

import nadtest  # noqa: E402 (PYTHONPATH: tests/python)
from nadtest import check  # noqa: F401 (re-exported)

NAD = sys.argv[1] if len(sys.argv) > 1 else "nad"
TMP = tempfile.mkdtemp(prefix="nad-cli-")


def run(*args, timeout=120):
    """`nad ARGS...`: (rc, stdout, stderr)."""
    return nadtest.run(NAD, *args, timeout=timeout)


def tmp(*names):
    return os.path.join(TMP, *names)


def must(name, *args, **kw):
    """Runs a command that must succeed; returns stdout."""
    rc, out, err = run(*args, **kw)
    check(name, rc == 0, f"rc={rc} stderr={err.strip()}")
    return out


def must_json(name, *args, **kw):
    """Runs a command that must succeed with --json; returns its last stdout line parsed."""
    lines = must(name, *args, "--json", **kw).strip().splitlines()
    try:
        return json.loads(lines[-1]) if lines else {}
    except ValueError as ex:
        check(name + " json", False, f"{ex}: {lines[-1]!r}")
        return {}


def fails(name, *args, code=None, files_absent=(), words=()):
    """Runs a command that must fail with 'nad: ...' on stderr (exit `code` if given, the message
    containing every word); returns stderr."""
    rc, out, err = run(*args)
    ok = rc != 0 and err.startswith("nad: ") and (code is None or rc == code)
    check(name, ok and all(w in err for w in words), f"rc={rc} stderr={err.strip()!r}")
    for f in files_absent:
        check(name + " leaves no " + os.path.basename(f), not os.path.exists(f))
    return err


def finish():
    """Removes the temporary directory (kept after a failure, and said so), then
    nadtest.finish(): the closing line and the exit status."""
    if nadtest.failures():
        print(f"(files kept in {TMP})")
    else:
        shutil.rmtree(TMP, ignore_errors=True)
    nadtest.finish()
