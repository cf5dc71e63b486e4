"""Shared by the CLI test scripts (test_cli*.py): the `nad` executable under test (argv[1]), a
temporary directory, pass/fail counters and the project's closing line "N passed, N failed"."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

NAD = sys.argv[1] if len(sys.argv) > 1 else "nad"
TMP = tempfile.mkdtemp(prefix="nad-cli-")
counts = {"passed": 0, "failed": 0}


def check(name, cond, detail=""):
    if cond:
        counts["passed"] += 1
    else:
        counts["failed"] += 1
        print(f"FAIL {name} {detail}", flush=True)


def run(*args, timeout=120):
    p = subprocess.run([NAD, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


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
    """Prints the closing line, removes the temporary directory (kept after a failure) and
    exits."""
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    if counts["failed"]:
        print(f"(files kept in {TMP})")
    else:
        shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(1 if counts["failed"] else 0)
