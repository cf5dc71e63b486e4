#!/usr/bin/python3
"""The benchmark protocol every published speed figure of libnad comes from (issue 19 §1).

    bench/protocol.py [options] CASE...

CASEs (any number, run in the order given):
  dipole:ARCH:N[:NT]  dipole NADs (s = 100, 1x32x32, N networks): PyTorch (the reference code,
                   ../shared/reference/tools/torch_ref.py ARCH NT OUT --fd 100 --threads T)
                   against `nad estimate ARCH --networks N --threads T`; seconds per network
                   from each contender's own timer over the same N networks (NT = N unless
                   given: PyTorch's DenseNet121 takes minutes a network, and nad's minimum is 2).
  main             the README's main job: `nad estimate lenet --networks 10000` (whole process,
                   setup and eigensolve included); one contender, no ratio.
  onnx:ARCH:N      the built-in ARCH against its PyTorch twin (tests/python/torch_models.py)
                   exported to ONNX and imported (`nad estimate twin.onnx`), N networks each;
                   the ratio is imported / built-in.
  gradient224:MODEL:N  issue 19 §4: gradient NADs of torchvision's MODEL (e.g. resnet18) at
                   3x224x224, N networks each: PyTorch (bench/tv_gradient_ref.py MODEL N
                   --threads T: per network torch.manual_seed, MODEL(num_classes=1).eval(),
                   forward at x0, input gradient of output 0) against `nad estimate M.onnx
                   --mode gradient --sketch 256 --top 64 --init-rules share/init/F.rules`
                   (M exported by bench/export_tv.py with BatchNorm kept, F the rules file of
                   MODEL's family, as docs/onnx.md lists them). libnad's timer includes its
                   sketch updates and the final eigensolve, so small N favours PyTorch.
  gradient224:MODEL:N:libnad  the libnad contender alone (the 10,000-network run: PyTorch
                   would take half an hour more); --keep DIR keeps its output (NADs, summary).
  converge:ARCH:MAX  issue 19 §3: `nad estimate ARCH --until-converged --networks MAX` at
                   1x32x32 (libnad alone, one run: a single measurement; on its own, never
                   beside other cases, and one round whatever --rounds says). Needs --keep DIR,
                   which holds the run's checkpoint, its results and a record of its segments
                   (segments.json): a run of many hours may span several invocations, each
                   resuming from the checkpoint. --budget SECONDS ends a segment cleanly (as
                   Ctrl-C does: the checkpoint holds every finished network); a segment killed
                   outright loses its time from the record and the networks since the last
                   checkpoint (every 100). Reports the networks until converged, the verdict and
                   the wall time summed over the segments, each quiet-checked like any run; once
                   finished, a further invocation reports the record without running.
  train:lenet:E[:N]  training on D(v) (issue 4's directional-bias cell, the reference setup:
                   Fourier direction (1, 0), N training and N test samples (10,000), batch
                   128, SGD lr 0.5 decayed linearly, clipping 0.5, the test set evaluated after
                   each of E epochs): bench/torch_train.py (PyTorch) against `nad bias lenet
                   --direction fourier:1,0 --epochs E`; seconds per epoch from each contender's
                   own timer over training and evaluations (data generation and start-up left
                   out of both; they are in the process wall time beside).
  (`main` reports the estimator's own seconds per network and the whole process's wall time.)

The protocol:
  - quiet machine: before every run, the CPU time that other processes take (sampled from
    /proc/stat over 2 s, steal included) must stay below --max-load cores per core (0.3); the
    script waits up to --wait seconds for it, then refuses the whole benchmark (exit 3) unless
    --allow-load is given, in which case the row is marked LOADED. During every run the foreign
    CPU (the machine's busy time minus the contender's own rusage) is measured the same way and
    a run above the bound is marked too. The 1-minute load average is recorded before and after.
  - contenders alternate (A B, then B A, ...), --rounds rounds (>= 3; 1 only when every case has
    a single contender, for runs of many minutes, reported as one measurement); min and median,
    the ratio taken pair by pair within a round (so a drifting machine speed cancels).
  - like for like: the same networks, threads and input for both; each contender's own timer
    (start-up left out), and the whole process's wall time and peak RSS beside it.
  - recorded: CPU model, cores, vector ISA, libnad's BLAS kernel set (`nad doctor --json`),
    torch version, threads, OPENBLAS_CORETYPE, date.
  - --isa-cap avx2 on an AVX-512 machine: every contender limited to AVX2 (PyTorch through
    ATEN_CPU_CAPABILITY=avx2 and DNNL_MAX_CPU_ISA=AVX2, OpenBLAS through
    OPENBLAS_CORETYPE=Haswell; libnad's own kernels go no further than AVX2 anyway): the nearest
    this machine comes to an AVX2-only one. Same cores, caches and clock: not the same as a CPU
    without AVX-512, and reported as capped.
Writes a Markdown report to stdout (and --json FILE). Needs /usr/bin/python3 with numpy and
torch for the PyTorch contenders. Not a test: it never judges.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(ROOT, '..', 'shared', 'reference', 'tools', 'torch_ref.py')
TORCH_TRAIN = os.path.join(ROOT, 'bench', 'torch_train.py')
NCPU = os.cpu_count() or 1


def cpu_busy():
    """(busy seconds, total seconds) of all CPUs since boot, from /proc/stat."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf('SC_CLK_TCK')
    idle = v[3] + v[4]  # idle + iowait
    busy = sum(v[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / hz, sum(v[:8]) / hz


def foreign_load(seconds=2.0):
    """Cores' worth of CPU that other processes used over the next `seconds`."""
    b0, _ = cpu_busy()
    time.sleep(seconds)
    b1, _ = cpu_busy()
    return (b1 - b0) / seconds


def loadavg():
    with open('/proc/loadavg') as f:
        return float(f.read().split()[0])


def wait_quiet(args):
    """Waits until other processes use < max_load per core; returns the last sample."""
    bound = args.max_load * NCPU
    deadline = time.time() + args.wait
    while True:
        fl = foreign_load()
        if fl <= bound:
            return fl, False
        if time.time() >= deadline:
            if not args.allow_load:
                sys.exit('refused: other processes use %.2f cores (bound %.2f = %.1f per core) '
                         'after waiting %d s; measure on a quiet machine or pass --allow-load '
                         '(rows are then marked LOADED)' % (fl, bound, args.max_load, args.wait))
            return fl, True
        print('  waiting for a quiet machine (others use %.2f cores)...' % fl, file=sys.stderr)


class Child:
    """subprocess with the child's own rusage (os.wait4)."""

    @staticmethod
    def run(cmd, cwd=None, budget=None):
        """Runs cmd to its end; with a budget (seconds), a resumable run gets SIGINT after it,
        saves its checkpoint and exits 130 (`cancelled` in the result)."""
        b0, _ = cpu_busy()
        t0 = time.monotonic()
        with tempfile.TemporaryFile('w+') as fo, tempfile.TemporaryFile('w+') as fe:
            p = subprocess.Popen(cmd, stdout=fo, stderr=fe, cwd=cwd)
            lock, reaped = threading.Lock(), []

            def stop():  # never signals a reaped (perhaps reused) pid
                with lock:
                    if not reaped:
                        p.send_signal(signal.SIGINT)
            timer = threading.Timer(budget, stop) if budget else None
            if timer:
                timer.start()
            _, status, ru = os.wait4(p.pid, 0)
            with lock:
                reaped.append(True)
            if timer:
                timer.cancel()
            p.returncode = os.waitstatus_to_exitcode(status)
            wall = time.monotonic() - t0
            b1, _ = cpu_busy()
            fo.seek(0)
            fe.seek(0)
            out, err = fo.read(), fe.read()
        cancelled = budget is not None and p.returncode == 128 + signal.SIGINT
        if p.returncode != 0 and not cancelled:
            sys.exit('failed (%d): %s\n%s' % (p.returncode, ' '.join(cmd), err[-2000:]))
        own = ru.ru_utime + ru.ru_stime
        foreign = max(0.0, (b1 - b0) - own) / max(wall, 1e-9)
        return dict(wall=wall, cpu=own, rss_mb=ru.ru_maxrss / 1024.0, foreign=foreign, out=out,
                    err=err, cancelled=cancelled)


def nad_seconds(outdir):
    with open(os.path.join(outdir, 'summary.json')) as f:
        return float(json.load(f)['seconds'])


def torch_seconds(out):
    for tok in out.split('\n'):
        if 'seconds' in tok:
            return float(tok.split('seconds')[1].split()[0])
    sys.exit('torch_ref.py printed no "seconds": ' + out[-500:])


def contenders(case, args, tmp):
    """[(label, function returning (timer seconds or None, networks, run dict))]"""
    kind, *rest = case.split(':')
    nad = args.nad
    th = str(args.threads)
    if kind == 'dipole':
        arch, n = rest[0], int(rest[1])
        nt = int(rest[2]) if len(rest) > 2 else n

        def torch_run():
            r = Child.run(['/usr/bin/python3', REF, arch, str(nt), os.path.join(tmp, 'ref.npz'),
                           '--fd', '100', '--threads', th])
            return torch_seconds(r['out']), nt, r

        def nad_run():
            o = os.path.join(tmp, 'nad')
            shutil.rmtree(o, ignore_errors=True)
            r = Child.run([nad, 'estimate', arch.replace('_', '-'), '--networks', str(n),
                           '--threads', th, '--quiet', '--out', o])
            return nad_seconds(o), n, r
        return [('PyTorch', torch_run), ('libnad', nad_run)]
    if kind == 'main':
        def main_run():
            o = os.path.join(tmp, 'main')
            shutil.rmtree(o, ignore_errors=True)
            r = Child.run([nad, 'estimate', 'lenet', '--networks', '10000', '--threads', th,
                           '--quiet', '--out', o])
            return nad_seconds(o), 10000, r
        return [('libnad main job', main_run)]
    if kind == 'onnx':
        arch, n = rest[0], int(rest[1])
        model = export_twin(arch, tmp)

        def make(what):
            def go():
                o = os.path.join(tmp, 'o')
                shutil.rmtree(o, ignore_errors=True)
                r = Child.run([nad, 'estimate', what, '--networks', str(n), '--threads', th,
                               '--quiet', '--out', o])
                return nad_seconds(o), n, r
            return go
        return [('imported ONNX', make(model)), ('built-in', make(arch.replace('_', '-')))]
    if kind == 'gradient224':
        cs = gradient224(rest[0], int(rest[1]), nad, th, tmp, args.keep)
        return cs[1:] if rest[2:] == ['libnad'] else cs
    if kind == 'train':
        return train_contenders(rest, args)
    if kind == 'converge':
        return converge_contender(rest, args)
    sys.exit('unknown case %r (dipole:ARCH:N, main, onnx:ARCH:N, gradient224:MODEL:N, '
             'converge:ARCH:MAX, train:lenet:E[:N])' % case)


# torchvision model families and their init-rules files (docs/onnx.md's table).
RULES = [('resnet', 'resnet'), ('resnext', 'resnet'), ('wide_resnet', 'resnet'),
         ('vgg', 'vgg'), ('densenet', 'densenet'), ('mobilenet', 'mobilenet'),
         ('efficientnet', 'efficientnet'), ('convnext', 'convnext'), ('regnet', 'regnet'),
         ('mnasnet', 'mnasnet'), ('swin', 'swin'), ('maxvit', 'maxvit')]


def gradient224(model, n, nad, th, tmp, keep=None):
    """Contenders of gradient224:MODEL:N (issue 19 §4)."""
    rules = next((os.path.join(ROOT, 'share', 'init', f + '.rules') for p, f in RULES
                  if model.startswith(p)), None)
    if rules is None:
        sys.exit('gradient224: no init-rules file for %r (families: %s)'
                 % (model, ', '.join(p for p, _ in RULES)))
    onnx = os.path.join(tmp, model + '_224.onnx')
    subprocess.run(['/usr/bin/python3', os.path.join(ROOT, 'bench', 'export_tv.py'), model,
                    onnx], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def torch_run():
        r = Child.run(['/usr/bin/python3', os.path.join(ROOT, 'bench', 'tv_gradient_ref.py'),
                       model, str(n), '--threads', th])
        return torch_seconds(r['out']), n, r

    def nad_run():
        o = os.path.join(tmp, 'g224')
        shutil.rmtree(o, ignore_errors=True)
        r = Child.run([nad, 'estimate', onnx, '--mode', 'gradient', '--sketch', '256', '--top',
                       '64', '--init-rules', rules, '--networks', str(n), '--threads', th,
                       '--quiet', '--out', o])
        if keep:
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(o, keep)
        return nad_seconds(o), n, r
    return [('PyTorch', torch_run), ('libnad', nad_run)]


def single(case):
    """Whether case has one contender (so one round can be a measurement)."""
    return (case == 'main' or case.startswith('converge:') or
            (case.startswith('gradient224:') and case.endswith(':libnad')))


def converge_contender(rest, args):
    """`converge:ARCH:MAX` (issue 19 §3): one run until converged, resumable across invocations."""
    if len(rest) != 2 or not args.keep:
        sys.exit("converge case: converge:ARCH:MAX with --keep DIR (the run's checkpoint, "
                 'results and segment record live there)')
    arch, most = rest[0], int(rest[1])
    keep = os.path.abspath(args.keep)
    ck, out = os.path.join(keep, 'checkpoint.bin'), os.path.join(keep, 'out')
    record = os.path.join(keep, 'segments.json')

    def load():
        if not os.path.exists(record):
            return dict(arch=arch, max_networks=most, threads=args.threads, segments=[],
                        finished=None)
        with open(record) as f:
            r = json.load(f)
        if (r['arch'], r['max_networks'], r['threads']) != (arch, most, args.threads):
            sys.exit('%s records %s:%d with %d threads, not this case' % (
                record, r['arch'], r['max_networks'], r['threads']))
        return r

    def total(r):
        segs = r['segments']
        fin = r['finished'] or {}
        done = fin.get('networks_used', segs[-1]['networks_after'] if segs else 0)
        note = ('%s after %d networks (overlaps %.3f, %.3f; spectrum corr %.4f)' % (
            'converged' if fin['converged'] else 'NOT converged at the maximum', done,
            fin['overlap_k1'], fin['overlap_k2'], fin['spectrum_corr']) if fin else
            'unfinished: %d of at most %d networks so far' % (done, most))
        note += '; %d segment%s: %s' % (len(segs), '' if len(segs) == 1 else 's', ', '.join(
            '%d→%d in %.0f s (load %.2f→%.2f%s)' % (
                s['networks_before'], s['networks_after'], s['wall'], s['load_before'],
                s['load_after'], ', cancelled' if s['cancelled'] else '') for s in segs))
        wall = sum(s['wall'] for s in segs)
        res = dict(wall=wall, cpu=sum(s['cpu'] for s in segs),
                   rss_mb=max((s['rss_mb'] for s in segs), default=0.0),
                   foreign=max((s['foreign'] for s in segs), default=0.0), note=note,
                   loaded_segments=any(s['loaded'] for s in segs))
        return (wall if done else None), max(done, 1), res

    def go():
        os.makedirs(keep, exist_ok=True)
        r = load()
        if r['finished'] is None:
            before = r['segments'][-1]['networks_after'] if r['segments'] else 0
            cmd = [args.nad, 'estimate', arch, '--until-converged', '--networks', str(most),
                   '--threads', str(args.threads), '--quiet', '--checkpoint', ck,
                   '--checkpoint-every', '100', '--out', out]
            if os.path.exists(ck):
                cmd += ['--resume', ck]
            lb = loadavg()
            res = Child.run(cmd, budget=args.budget)
            seg = dict(networks_before=before, load_before=lb, load_after=loadavg(),
                       loaded=res['foreign'] > args.max_load * NCPU, date=time.strftime(
                           '%Y-%m-%d %H:%M UTC', time.gmtime()),
                       **{k: res[k] for k in ('wall', 'cpu', 'rss_mb', 'foreign', 'cancelled')})
            if res['cancelled']:
                held = re.search(r'holds (\d+) networks', res['err'])
                seg['networks_after'] = int(held.group(1)) if held else before
            else:
                with open(os.path.join(out, 'summary.json')) as f:
                    u = json.load(f)['until_converged']
                seg['networks_after'] = u['networks_used']
                r['finished'] = {k: u[k] for k in ('networks_used', 'converged', 'overlap_k1',
                                                   'overlap_k2', 'spectrum_corr')}
            r['segments'].append(seg)
            tmp = record + '.tmp'
            with open(tmp, 'w') as f:
                json.dump(r, f, indent=1)
            os.replace(tmp, record)
        return total(r)
    return [('libnad until converged', go)]


def train_contenders(rest, args):
    """`train:lenet:E[:N]`: PyTorch's and libnad's D(v) training, seconds per epoch."""
    if len(rest) < 2 or rest[0] != 'lenet':
        sys.exit('train case: train:lenet:EPOCHS[:N] (the PyTorch twin is LeNet only)')
    epochs, n = int(rest[1]), int(rest[2]) if len(rest) > 2 else 10000
    th = str(args.threads)

    def torch_run():
        r = Child.run(['/usr/bin/python3', TORCH_TRAIN, str(epochs), '--train', str(n), '--test',
                       str(n), '--threads', th])
        return torch_seconds(r['out']), epochs, r

    def nad_run():
        r = Child.run([args.nad, 'bias', 'lenet', '--direction', 'fourier:1,0', '--epochs',
                       str(epochs), '--train', str(n), '--test', str(n), '--threads', th,
                       '--quiet', '--json'])
        return float(json.loads(r['out'].strip().split('\n')[-1])['seconds']), epochs, r
    return [('PyTorch', torch_run), ('libnad', nad_run)]


def export_twin(arch, tmp):
    """The built-in's PyTorch twin exported as the tests do (BatchNorm kept)."""
    f = os.path.join(tmp, arch + '.onnx')
    code = ('import sys, torch; sys.path.insert(0, %r); import torch_models as t; '
            'm = t.ARCHS[%r](1, 32, 32, 1).eval(); '
            'torch.onnx.export(m, torch.zeros(1, 1, 32, 32), %r, opset_version=17, '
            'training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)'
            % (os.path.join(ROOT, 'tests', 'python'), arch, f))
    subprocess.run(['/usr/bin/python3', '-c', code], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return f


def machine(nad):
    flags = ''
    model = '?'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name') and model == '?':
                model = line.split(':', 1)[1].strip()
            if line.startswith('flags') and not flags:
                flags = line.split(':', 1)[1].split()
    isa = 'AVX-512' if 'avx512f' in flags else 'AVX2' if 'avx2' in flags else 'SSE'
    try:
        d = json.loads(subprocess.run([nad, 'doctor', '--json'], capture_output=True, text=True,
                                      check=True).stdout)['blas']
        blas = '%s, %s kernels (best for this CPU: %s)' % (d['vendor'], d['core'],
                                                            d['best_core'] or '?')
    except (OSError, subprocess.CalledProcessError, KeyError, ValueError):
        blas = '?'
    tv = subprocess.run(['/usr/bin/python3', '-c', 'import torch; print(torch.__version__)'],
                        capture_output=True, text=True).stdout.strip() or 'not installed'
    nv = subprocess.run([nad, '--version'], capture_output=True, text=True).stdout.strip()
    return dict(date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), cpu=model, cores=NCPU,
                isa=isa, blas=blas, torch=tv, nad=nv,
                openblas_coretype=os.environ.get('OPENBLAS_CORETYPE', '(unset)'))


def fmt(v):
    return '–' if v is None else ('%.4f' % v if v < 1 else '%.3g' % v if v < 100 else '%.0f' % v)


def minmed(xs):
    xs = [x for x in xs if x is not None]
    return (min(xs), statistics.median(xs)) if xs else (None, None)


def bench_case(case, args, tmp):
    cs = contenders(case, args, tmp)
    rows = {label: [] for label, _ in cs}
    ratios = []
    for r in range(args.rounds):
        order = cs if r % 2 == 0 else cs[::-1]
        per = {}
        for label, go in order:
            before, loaded = wait_quiet(args)
            sec, n, res = go()
            res.update(before=before, loaded=loaded or res['foreign'] > args.max_load * NCPU or
                       res.get('loaded_segments', False),
                       per_net=None if sec is None else sec / n, networks=n)
            rows[label].append(res)
            per[label] = res['per_net']
            print('  %s round %d %s: %s s/%s, wall %.2f s, others %.2f cores' % (
                case, r + 1, label, fmt(res['per_net']),
                'epoch' if case.startswith('train') else 'network', res['wall'], res['foreign']),
                file=sys.stderr)
        if len(cs) == 2 and None not in per.values():
            a, b = cs[0][0], cs[1][0]
            ratios.append(per[a] / per[b])
    return cs, rows, ratios


def report(case, cs, rows, ratios, args, out):
    unit = 'epoch' if case.startswith('train') else 'network'
    out.append('\n### `%s` (%s, %d threads)\n' % (
        case, '%d rounds' % args.rounds if args.rounds > 1 else 'one run: a single measurement',
        args.threads))
    out.append('| contender | s/' + unit + ' min | median | process wall min | median | peak RSS | '
               'others during (cores, max) | marked |')
    out.append('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for label, _ in cs:
        rs = rows[label]
        pm, pmed = minmed([x['per_net'] for x in rs])
        wm, wmed = minmed([x['wall'] for x in rs])
        out.append('| %s | %s | %s | %s s | %s s | %.0f MB | %.2f | %s |' % (
            label, fmt(pm), fmt(pmed), fmt(wm), fmt(wmed), max(x['rss_mb'] for x in rs),
            max(x['foreign'] for x in rs), 'LOADED' if any(x['loaded'] for x in rs) else ''))
    for label, _ in cs:
        for x in rows[label]:
            if x.get('note'):
                out.append('\n%s: %s' % (label, x['note']))
    if ratios:
        out.append('\n%s / %s per %s, pair by pair: min %.2f×, median %.2f×, max %.2f×' % (
            cs[0][0], cs[1][0], unit, min(ratios), statistics.median(ratios), max(ratios)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('cases', nargs='+')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--max-load', type=float, default=0.3)
    ap.add_argument('--wait', type=int, default=180)
    ap.add_argument('--allow-load', action='store_true')
    ap.add_argument('--nad', default=os.path.join(ROOT, 'build', 'src', 'nad'))
    ap.add_argument('--json')
    ap.add_argument('--keep', help='gradient224:...:libnad: keep its output directory here; '
                    'converge:...: the run\'s state (checkpoint, results, segments.json)')
    ap.add_argument('--budget', type=float,
                    help='converge:...: end this segment cleanly after this many seconds')
    ap.add_argument('--isa-cap', choices=['avx2'],
                    help='limit every contender to AVX2 (see the protocol above)')
    args = ap.parse_args()
    if args.isa_cap == 'avx2':
        os.environ.update(ATEN_CPU_CAPABILITY='avx2', DNNL_MAX_CPU_ISA='AVX2',
                          OPENBLAS_CORETYPE='Haswell')
    conv = [c for c in args.cases if c.startswith('converge:')]
    if conv and len(conv) != len(args.cases):
        sys.exit('converge cases run on their own (one run each, resumable)')
    if conv:
        args.rounds = 1  # one run; a further round would only continue it
    one = args.rounds == 1 and all(single(c) for c in args.cases)
    if args.rounds < 3 and not args.allow_load and not one:
        sys.exit('the protocol takes at least 3 rounds (--rounds; 1 for single-contender cases)')
    if not os.access(args.nad, os.X_OK):
        sys.exit('no nad at %s (scripts/build.sh first, or --nad)' % args.nad)
    if any(c.startswith('dipole') for c in args.cases) and not os.path.isfile(REF):
        sys.exit('missing %s (the reference tools sit beside the repository)' % REF)
    m = machine(args.nad)
    if args.isa_cap:
        m['isa'] += ', every contender capped at AVX2 (--isa-cap: ATEN_CPU_CAPABILITY=avx2, ' \
            'DNNL_MAX_CPU_ISA=AVX2, OPENBLAS_CORETYPE=Haswell)'
    m['load_before'] = loadavg()
    out = ['# libnad benchmark protocol (bench/protocol.py)', '',
           '%(date)s; CPU: %(cpu)s, %(cores)d cores, vector ISA %(isa)s; BLAS: %(blas)s; '
           'OPENBLAS_CORETYPE=%(openblas_coretype)s; %(nad)s; torch %(torch)s' % m,
           'quiet bound: others < %.1f cores per core before and during every run; 1-minute '
           'load average before: %.2f' % (args.max_load, m['load_before'])]
    results = []
    with tempfile.TemporaryDirectory(prefix='nad-bench-') as tmp:
        for case in args.cases:
            cs, rows, ratios = bench_case(case, args, tmp)
            report(case, cs, rows, ratios, args, out)
            results.append(dict(case=case, ratios=ratios, runs={
                k: [{x: y for x, y in r.items() if x not in ('out', 'err')} for r in v]
                for k, v in rows.items()}))
    m['load_after'] = loadavg()
    out.append('\n1-minute load average after: %.2f' % m['load_after'])
    print('\n'.join(out))
    if args.json:
        with open(args.json, 'w') as f:
            a = dict(vars(args), nad=os.path.relpath(args.nad, ROOT),  # no machine's path
                     json=os.path.basename(args.json))
            json.dump(dict(machine=m, args=a, results=results), f, indent=1)


if __name__ == '__main__':
    main()
