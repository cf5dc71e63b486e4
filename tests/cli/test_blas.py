#!/usr/bin/python3
"""The `nad` tool's BLAS kernel restart (issue 7) and its reports.

A BLAS that does not recognise the CPU is faked with NAD_TEST_BLAS_CORE (the library then
reports that core name instead of the real one), so the restart is exercised on any x86 CPU
with AVX or better: the tool must execute itself exactly once with OPENBLAS_CORETYPE set,
never when the user set that variable, and say so in `nad doctor --json` and summary.json.

usage: test_blas.py PATH/TO/nad        (prints "N passed, N failed"; exit 1 on any failure)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import nadtest  # noqa: E402 (PYTHONPATH: tests/python)
from nadtest import check  # noqa: E402

NAD = sys.argv[1] if len(sys.argv) > 1 else "nad"
TMP = tempfile.mkdtemp(prefix="nad-blas-")


def env_with(**kw):
    """The environment without any BLAS or restart settings of the caller, plus kw."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "NAD_TEST_BLAS_CORE", "NAD_BLAS_RESTARTED")}
    env.update(kw)
    return env


def doctor(**kw):
    """`nad doctor --json` in an environment; a restart loop would end in the timeout."""
    p = subprocess.run([NAD, "doctor", "--json"], capture_output=True, text=True, timeout=60,
                       env=env_with(**kw))
    check(f"doctor {kw} exits 0", p.returncode == 0, p.stderr)
    try:
        return json.loads(p.stdout)["blas"]
    except (ValueError, KeyError):
        check(f"doctor {kw} prints JSON", False, p.stdout)
        return {}


b = doctor()
for key in ("vendor", "version", "core", "cpu", "best_core", "threads", "restarted_from",
            "warning"):
    check(f"doctor reports {key}", key in b, f"{b}")
check("threads >= 1", b.get("threads", 0) >= 1, f"{b}")
out = subprocess.run([NAD, "--version", "--verbose"], capture_output=True, text=True,
                     env=env_with()).stdout
check("--version --verbose names the BLAS kernels", "blas kernel:" in out and
      b.get("core", "?") in out, out)

if b.get("vendor") != "OpenBLAS" or not b.get("best_core") or \
        "DYNAMIC_ARCH" not in b.get("version", ""):
    print(f"(no restart to test here: {b.get('vendor')} {b.get('version')}, CPU {b.get('cpu')})")
else:
    best = b["best_core"]
    # Generic kernels reported: the tool restarts once with the better set. The fake core
    # survives the restart, so the second process still sees a weak core: it must not restart
    # again (the test would time out) and must say that the switch did not help.
    r = doctor(NAD_TEST_BLAS_CORE="Prescott")
    check("restart happened, from the reported core", r.get("restarted_from") == "Prescott", f"{r}")
    check("restarted process runs the best kernels", best.lower() in r.get("version", "").lower(),
          f"{r}")
    check("second process does not restart again but warns", "cannot switch" in
          r.get("warning", ""), f"{r}")
    # The user's own setting is kept, even a weak one: no restart, a warning that says so.
    u = doctor(NAD_TEST_BLAS_CORE="Prescott", OPENBLAS_CORETYPE="Prescott")
    check("explicit OPENBLAS_CORETYPE: no restart", u.get("restarted_from") == "", f"{u}")
    check("explicit OPENBLAS_CORETYPE kept", "Prescott" in u.get("version", ""), f"{u}")
    check("explicit OPENBLAS_CORETYPE: warning says so", "set explicitly" in u.get("warning", ""),
          f"{u}")
    # The marker alone prevents a restart (what the second process relies on).
    # The kernels it runs are those loaded at start: the real core, which can itself be weak
    # (OpenBLAS 0.3.21 gives a 2023 Xeon its Prescott kernels; `b` then restarted from them).
    m = doctor(NAD_TEST_BLAS_CORE="Prescott", NAD_BLAS_RESTARTED="Prescott")
    loaded = b.get("restarted_from") or b.get("core", "?")
    check("marker prevents the restart", loaded in m.get("version", "") and
          (loaded == best or best not in m.get("version", "")), f"{m}; loaded {loaded}")
    # A command that computes warns on stderr and records the BLAS in summary.json.
    out_dir = os.path.join(TMP, "est")
    p = subprocess.run([NAD, "estimate", "logreg", "--input", "1x4x4", "--networks", "4",
                        "--threads", "1", "--out", out_dir],
                       capture_output=True, text=True, timeout=120,
                       env=env_with(NAD_TEST_BLAS_CORE="Prescott", OPENBLAS_CORETYPE="Prescott"))
    check("estimate with weak kernels runs", p.returncode == 0, p.stderr)
    check("estimate warns about the kernels", "nad: warning:" in p.stderr and "Prescott" in
          p.stderr, p.stderr)
    q = subprocess.run([NAD, "estimate", "logreg", "--input", "1x4x4", "--networks", "4",
                        "--threads", "1", "--quiet", "--out", out_dir + "q"],
                       capture_output=True, text=True, timeout=120,
                       env=env_with(NAD_TEST_BLAS_CORE="Prescott", OPENBLAS_CORETYPE="Prescott"))
    check("--quiet keeps stderr empty", q.returncode == 0 and q.stderr == "", q.stderr)
    try:
        with open(os.path.join(out_dir, "summary.json")) as f:
            s = json.load(f)["blas"]
        check("summary.json records the BLAS", s.get("core") == "Prescott" and
              s.get("vendor") == "OpenBLAS" and s.get("threads", 0) >= 1 and s.get("warning"),
              f"{s}")
    except (OSError, ValueError, KeyError) as e:
        check("summary.json has a blas object", False, str(e))

shutil.rmtree(TMP, ignore_errors=True)
nadtest.finish()
