"""Handle lifetimes and argument conversion of the binding (issue 11 §1): close() from a callback
or another thread while a call runs must raise, never free the C object under the call (this
test also runs on the ASan build, where a use-after-free aborts); integers out of the C type's
range and strings with NUL are refused instead of being wrapped or cut. Ends with a stress loop
closing handles from callbacks and threads at random moments."""
import random
import threading
import time
import unittest

import nadtest
import libnad
from libnad import Arch, Dataset, Estimator, NadError, Net, Status, Trainer

SPEC = 'conv 2 k3 p1; relu; fc 2'
SHAPE = (1, 6, 6)


def arch():
    return Arch.from_spec(SPEC, SHAPE)


def dataset(n=32):
    v = [0.0] * 36
    v[7] = 1.0
    return Dataset.linear(v, n, 1.0, 1.0, seed=3, shape=SHAPE)


class CloseDuringCall(unittest.TestCase):
    def test_estimator_close_in_progress_callback(self):
        a = arch()
        est = Estimator(a, num_networks=20)
        seen = []

        def cb(done, total):
            if done == 2:
                try:
                    est.close()
                except NadError as e:
                    seen.append(e.status)
                    raise
        est.set_progress(cb)
        with self.assertRaises(NadError) as ctx:
            est.run()
        self.assertEqual(seen, [Status.ERR_MISUSE])
        self.assertEqual(ctx.exception.status, Status.ERR_MISUSE)
        self.assertFalse(est.closed)      # refused: still usable afterwards
        self.assertEqual(est.networks_done, 2)
        est.close()
        self.assertTrue(est.closed)
        est.close()                       # idempotent

    def test_trainer_close_in_epoch_callback(self):
        a, d = arch(), dataset()
        tr = Trainer(a, seed=1, epochs=3, batch=8)
        tr.set_epoch_callback(lambda rec: tr.close())
        with self.assertRaises(NadError) as ctx:
            tr.fit(d)
        self.assertEqual(ctx.exception.status, Status.ERR_MISUSE)
        tr.set_epoch_callback(None)
        tr.fit(d)                         # still usable
        tr.close()

    def test_estimator_close_from_thread(self):
        a = arch()
        est = Estimator(a, num_networks=100000)
        started, outcome = threading.Event(), []

        def closer():
            started.wait(10)
            try:
                est.close()
                outcome.append('closed')
            except NadError as e:
                outcome.append(e.status)
        th = threading.Thread(target=closer)
        th.start()
        stop = threading.Event()

        def cb(done, total):
            started.set()
            th.join(0.001)
            if not th.is_alive():
                return True               # cancel once the other thread has tried
            return stop.is_set()
        est.set_progress(cb)
        with self.assertRaises(NadError) as ctx:
            est.run()
        th.join()
        self.assertEqual(ctx.exception.status, Status.ERR_CANCELLED)
        self.assertEqual(outcome, [Status.ERR_MISUSE])
        est.close()


class Arguments(unittest.TestCase):
    def test_integer_range(self):
        a = arch()
        for bad in (2 ** 64, -1, -(2 ** 63)):
            with self.assertRaises(OverflowError):
                Net(a, seed=bad)
            with self.assertRaises(ValueError):  # ArgumentRangeError is both
                Net(a, seed=bad)
        n0, nmax = Net(a, seed=0), Net(a, seed=2 ** 64 - 1)
        self.assertNotEqual(list(n0.get_params())[:5], list(nmax.get_params())[:5])
        est = Estimator(a)
        with self.assertRaises(OverflowError):
            est.set('num_networks', 2 ** 63)
        with self.assertRaises(TypeError):
            libnad._ffi._lib.nad_net_create(n0._handle and a._handle, 1.5, None)

    def test_embedded_nul(self):
        with self.assertRaises(ValueError):
            Arch.builtin('lenet\x00xyz')
        with self.assertRaises(ValueError):
            Arch.from_spec('fc 1\x00 garbage', SHAPE)
        Arch.builtin('lenet').close()     # the clean name still works


class Stress(unittest.TestCase):
    def test_random_closes(self):
        """Close estimators, trainers and nets at random moments from callbacks and threads:
        every close either succeeds (idle object) or raises ERR_MISUSE (busy); nothing
        crashes."""
        rng = random.Random(11)
        a, d = arch(), dataset(16)
        x = [0.5] * 36 * 4
        rounds = 12 if nadtest_quick() else 30
        for i in range(rounds):
            kind = rng.choice(('est', 'trainer', 'net'))
            if kind == 'est':
                obj = Estimator(a, num_networks=rng.randint(2, 12), num_threads=rng.choice((1, 2)))
                when = rng.randint(1, 12)
                obj.set_progress(lambda done, total, o=obj, w=when: done == w and o.close())
                call = obj.run
            elif kind == 'trainer':
                obj = Trainer(a, seed=i, epochs=rng.randint(1, 3), batch=8)
                obj.set_epoch_callback(lambda rec, o=obj: rng.random() < 0.5 and o.close())
                call = lambda o=obj: o.fit(d)  # noqa: E731
            else:
                obj = Net(a, seed=i)
                call = lambda o=obj: [o.forward(x) for _ in range(50)]  # noqa: E731
            th = threading.Thread(target=lambda o=obj: (time.sleep(rng.random() * 0.01),
                                                        _try_close(o)))
            th.start()
            try:
                call()
            except NadError as e:
                self.assertIn(e.status, (Status.ERR_MISUSE, Status.ERR_CANCELLED), str(e))
            except ValueError as e:       # the thread closed it before the call began
                self.assertIn('closed', str(e))
            th.join()
            obj.close()
            self.assertTrue(obj.closed)


def _try_close(o):
    try:
        o.close()
    except NadError as e:
        assert e.status == Status.ERR_MISUSE, e


def nadtest_quick():
    import os
    return os.environ.get('NAD_TEST_QUICK') == '1'


if __name__ == '__main__':
    nadtest.main()
