#!/usr/bin/python3
"""Unix file conventions of the `nad` tool (issue 20, items 3 and 5): `-` as standard output
for single-file outputs and standard input for single-file inputs (pipes, a redirected file;
refused on a terminal and for directory outputs), symbolic links whose target is replaced,
FIFOs and /proc/self/fd/N written through, no lock file left behind, temporaries of other
hosts left alone, a failing checkpoint save warned about while the run goes on.

usage: test_cli_files.py PATH/TO/nad
"""
import io
import os
import pty
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading

import numpy as np

import nadtest
from nadtest import check

NAD = sys.argv[1] if len(sys.argv) > 1 else "nad"
TMP = tempfile.mkdtemp(prefix="nad-files-")
INIT = ["net", "init", "logreg", "--input", "1x8x8", "--seed", "3"]


def tmp(*p):
    return os.path.join(TMP, *p)


def nad(*args, stdin=None, stdout=subprocess.PIPE, inp=None, **kw):
    return subprocess.run([NAD, *[str(a) for a in args]], stdin=stdin, stdout=stdout,
                          stderr=subprocess.PIPE, input=inp, timeout=300, **kw)


def npy(data):
    return np.load(io.BytesIO(data))


# the reference: a plain file
p = nad(*INIT, "--out", tmp("ref.npy"))
check("net init --out FILE", p.returncode == 0, p.stderr)
ref = np.load(tmp("ref.npy"))
ref_bytes = open(tmp("ref.npy"), "rb").read()

# ---- `-` is standard output ----------------------------------------------------------------------
p = nad(*INIT, "--out", "-")
check("--out - into a pipe: the .npy bytes", p.returncode == 0 and p.stdout == ref_bytes,
      p.stderr)
check("--out -: no file named '-'", not os.path.exists("-") and not os.path.exists(tmp("-")))
p = nad(*INIT, "--out", "/dev/stdout")
check("--out /dev/stdout into a pipe", p.returncode == 0 and p.stdout == ref_bytes, p.stderr)
with open(tmp("redirected.npy"), "wb") as f:
    p = nad(*INIT, "--out", "-", stdout=f)
check("--out - > FILE", p.returncode == 0 and open(tmp("redirected.npy"), "rb").read() ==
      ref_bytes, p.stderr)
a, b = socket.socketpair()
p = nad(*INIT, "--out", "-", stdout=a)
a.close()
got = b""
b.settimeout(10)
while True:
    chunk = b.recv(65536)
    if not chunk:
        break
    got += chunk
b.close()
check("--out - into a socket", p.returncode == 0 and got == ref_bytes, p.stderr)
# binary data is not written to a terminal
master, slave = pty.openpty()
p = nad(*INIT, "--out", "-", stdout=slave)
check("--out - on a terminal refused", p.returncode != 0 and b"terminal" in p.stderr,
      p.stderr)
p = nad(*INIT, "--out", "/dev/stdout", stdout=slave)
check("--out /dev/stdout on a terminal refused", p.returncode != 0 and b"terminal" in p.stderr,
      p.stderr)
os.close(master)
os.close(slave)

# net forward: --x - and --params - read standard input; --out - writes standard output
x = np.random.default_rng(1).standard_normal((3, 1, 8, 8)).astype(np.float32)
np.save(tmp("x.npy"), x)
xb = open(tmp("x.npy"), "rb").read()
p = nad("net", "forward", "logreg", "--input", "1x8x8", "--params", tmp("ref.npy"), "--x",
        tmp("x.npy"), "--out", tmp("y.npy"))
check("net forward with files", p.returncode == 0, p.stderr)
y = np.load(tmp("y.npy"))
p = nad("net", "forward", "logreg", "--input", "1x8x8", "--params", tmp("ref.npy"), "--x", "-",
        "--out", "-", inp=xb)
check("net forward --x - --out -: a pipe through", p.returncode == 0 and
      np.array_equal(npy(p.stdout), y), p.stderr)
p = nad("net", "forward", "logreg", "--input", "1x8x8", "--params", "-", "--x", tmp("x.npy"),
        "--out", tmp("y2.npy"), inp=ref_bytes)
check("--params -", p.returncode == 0 and np.array_equal(np.load(tmp("y2.npy")), y), p.stderr)
p = nad("net", "forward", "logreg", "--input", "1x8x8", "--params", "-", "--x", "-",
        "--out", tmp("y3.npy"), inp=xb)
check("--params - and --x - refused", p.returncode != 0 and b"already read" in p.stderr,
      p.stderr)
p = nad("net", "forward", "logreg", "--input", "1x8x8", "--params", tmp("ref.npy"), "--x",
        tmp("x.npy"), "--out", "-", "--grad", "-")
check("--out - and --grad - refused", p.returncode != 0 and b"already carries" in p.stderr,
      p.stderr)
master, slave = pty.openpty()
p = nad("net", "forward", "logreg", "--input", "1x8x8", "--params", tmp("ref.npy"), "--x", "-",
        "--out", tmp("y4.npy"), stdin=slave)
check("--x - from a terminal refused", p.returncode != 0 and b"terminal" in p.stderr, p.stderr)
os.close(master)
os.close(slave)

# ---- symbolic links: the target is replaced, the link kept -------------------------------------
os.makedirs(tmp("elsewhere"))
with open(tmp("elsewhere", "params.npy"), "wb") as f:
    f.write(b"old")
os.symlink(os.path.join("elsewhere", "params.npy"), tmp("link.npy"))   # relative
os.symlink(tmp("link.npy"), tmp("link2.npy"))                          # a chain
p = nad(*INIT, "--out", tmp("link2.npy"))
check("--out LINK -> LINK -> FILE", p.returncode == 0, p.stderr)
check("the links are kept", os.path.islink(tmp("link.npy")) and os.path.islink(tmp("link2.npy")))
check("the target holds the new file", open(tmp("elsewhere", "params.npy"), "rb").read() ==
      ref_bytes)
check("no temporary left beside the link or the target",
      not [n for n in os.listdir(TMP) + os.listdir(tmp("elsewhere")) if ".tmp." in n])
os.symlink("made.npy", tmp("dangling.npy"))
p = nad(*INIT, "--out", tmp("dangling.npy"))
check("a dangling link creates its target", p.returncode == 0 and
      open(tmp("made.npy"), "rb").read() == ref_bytes, p.stderr)
os.symlink(tmp("elsewhere"), tmp("dirlink"))
p = nad(*INIT, "--out", tmp("dirlink"))
check("a link to a directory refused", p.returncode != 0 and b"directory" in p.stderr, p.stderr)

# ---- FIFOs, devices, /proc/self/fd/N: written through -------------------------------------------


def read_all(path, into):
    with open(path, "rb") as f:
        into.append(f.read())


os.mkfifo(tmp("fifo"))
got = []
t = threading.Thread(target=read_all, args=(tmp("fifo"), got))
t.start()
p = nad(*INIT, "--out", tmp("fifo"))
t.join(30)
check("--out FIFO (a reader thread)", p.returncode == 0 and got == [ref_bytes], p.stderr)
check("the FIFO is kept", not os.path.isfile(tmp("fifo")) and os.path.exists(tmp("fifo")))
got = []
t = threading.Thread(target=read_all, args=(tmp("fifo"), got))
t.start()
p = nad("net", "forward", "logreg", "--input", "1x8x8", "--params", tmp("ref.npy"), "--x",
        tmp("x.npy"), "--out", tmp("fifo"))
t.join(30)
check("net forward --out FIFO", p.returncode == 0 and len(got) == 1 and
      np.array_equal(npy(got[0]), y), p.stderr)
p = nad(*INIT, "--out", "/dev/null")
check("--out /dev/null", p.returncode == 0, p.stderr)
r, w = os.pipe()
got = []


def read_fd():
    with os.fdopen(r, "rb") as f:
        got.append(f.read())


t = threading.Thread(target=read_fd)
t.start()
p = nad(*INIT, "--out", f"/proc/self/fd/{w}", pass_fds=(w,))
os.close(w)
t.join(30)
check("--out /proc/self/fd/N (a pipe)", p.returncode == 0 and got == [ref_bytes], p.stderr)
# --x from a FIFO
def write_fifo():
    with open(tmp("fifo"), "wb") as f:
        f.write(xb)


t = threading.Thread(target=write_fifo)
t.start()
p = nad("net", "forward", "logreg", "--input", "1x8x8", "--params", tmp("ref.npy"), "--x",
        tmp("fifo"), "--out", tmp("y5.npy"))
t.join(30)
check("--x FIFO", p.returncode == 0 and np.array_equal(np.load(tmp("y5.npy")), y), p.stderr)

# ---- output sets stay strict ---------------------------------------------------------------------
SMALL = ["logreg", "--input", "1x8x8", "--quiet"]
p = nad("estimate", *SMALL, "--networks", 4, "--out", "-")
check("estimate --out - refused", p.returncode != 0 and b"directory" in p.stderr and
      p.stdout == b"", p.stderr)
p = nad("sweep", "logreg", "--input", "1x8x8", "--grid", "fourier", "--step", "4", "--train",
        "20", "--test", "20", "--epochs", "1", "--out", "-")
check("sweep --out - refused", p.returncode != 0 and b"directory" in p.stderr, p.stderr)
check("no directory named '-'", not os.path.exists("-"))
os.makedirs(tmp("set"))
os.symlink(tmp("elsewhere", "params.npy"), tmp("set", "nads.npy"))
p = nad("estimate", *SMALL, "--networks", 4, "--out", tmp("set"))
check("a set's member that is a link: still refused", p.returncode != 0 and
      b"symbolic link" in p.stderr, p.stderr)
check("the link's target untouched", open(tmp("elsewhere", "params.npy"), "rb").read() ==
      ref_bytes)

# ---- leftovers: lock files, temporaries of other hosts -------------------------------------------
host = socket.gethostname()
dead = subprocess.Popen(["true"])
dead.wait()
mine = tmp(f"ck.bin.tmp.{host}.{dead.pid}")
other = tmp(f"ck.bin.tmp.node-b.cluster.{dead.pid}")
old = tmp(f"ck.bin.tmp.{dead.pid}")
for n in (mine, other, old):
    with open(n, "wb") as f:
        f.write(b"partial")
p = nad("estimate", *SMALL, "--networks", 6, "--checkpoint", tmp("ck.bin"),
        "--checkpoint-every", 2, "--out", tmp("e1"))
check("estimate with a checkpoint", p.returncode == 0, p.stderr)
check("no lock file left", not os.path.exists(tmp("ck.bin.lock")), os.listdir(TMP))
check("this host's dead writer's temporary removed", not os.path.exists(mine))
check("old-style temporary of a dead writer removed", not os.path.exists(old))
check("another host's temporary left alone", os.path.exists(other))
check("no temporary of this run left",
      not [n for n in os.listdir(TMP) if n.startswith("ck.bin.tmp.") and
           not n.startswith("ck.bin.tmp.node-b")])
p = nad("estimate", *SMALL, "--networks", 8, "--resume", tmp("ck.bin"), "--checkpoint",
        tmp("ck.bin"), "--out", tmp("e2"))
check("resume with the same checkpoint: no lock file left", p.returncode == 0 and
      not os.path.exists(tmp("ck.bin.lock")), p.stderr)

# ---- a failing checkpoint save is said at once, once ---------------------------------------------


def small_files():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))   # the checkpoint needs more


p = subprocess.run([NAD, "estimate", *SMALL, "--networks", "6", "--top", "4", "--checkpoint",
                    tmp("ckf.bin"), "--checkpoint-every", "1", "--out", tmp("ef")],
                   preexec_fn=small_files, capture_output=True, text=True, timeout=300)
lines = p.stderr.splitlines()
at_once = [i for i, s in enumerate(lines) if "checkpoint save to" in s and "run goes on" in s]
after = [i for i, s in enumerate(lines) if "checkpoint saves to" in s]
check("checkpoint failure warned once while running", len(at_once) == 1, p.stderr)
check("... before the summary after the run", len(after) == 1 and at_once and
      at_once[0] < after[0] and "7 checkpoint saves" in lines[after[0]], p.stderr)
check("no lock file left after failed saves", not os.path.exists(tmp("ckf.bin.lock")))

nadtest.finish()
