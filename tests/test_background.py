"""The forked background tasks used by the CLI to write data.nix while drawing figures."""

import os
import signal
import threading
import time

import numpy as np
import pytest

from spikingml import ValidationError, _background
from spikingml._background import Background, fork_available

needs_fork = pytest.mark.skipif(not fork_available(), reason="no fork on this platform")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _fail_validation():
    raise ValidationError("TDConditioning.Params.n_bins", "an integer >= 2", 1)


class _Unpicklable(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")
        # a lock cannot be pickled, even once tblib (imported by Dask) has made
        # exceptions with other constructors picklable
        self.lock = threading.Lock()


def _fail_unpicklable():
    raise _Unpicklable(1, 2)


def _pid_to(path):
    _write(path, str(os.getpid()))


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def _sleep_forever(path):
    _write(path, "started")
    time.sleep(60)


def _wait_for(flag, timeout=10.0):
    """Wait until the task has written ``flag`` (it has started), at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not flag.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


@needs_fork
def test_task_runs_in_a_child_and_its_files_are_there(tmp_path):
    out = tmp_path / "pid"
    task = Background(_pid_to, out)
    task.wait()
    assert int(out.read_text()) != os.getpid()


@needs_fork
def test_exception_comes_back_with_its_type_and_fields(tmp_path):
    task = Background(_fail_validation)
    with pytest.raises(ValidationError, match="n_bins: expected an integer >= 2") as info:
        task.wait()
    assert info.value.name == "TDConditioning.Params.n_bins"
    assert info.value.given == 1


@needs_fork
def test_unpicklable_exception_becomes_runtime_error_with_traceback():
    task = Background(_fail_unpicklable)
    with pytest.raises(RuntimeError, match=r"_Unpicklable in a background task(.|\n)*1/2"):
        task.wait()


@needs_fork
def test_child_killed_without_reporting():
    task = Background(_die)
    with pytest.raises(RuntimeError, match="died"):
        task.wait()


@needs_fork
def test_cancel_stops_a_running_task(tmp_path):
    flag = tmp_path / "flag"
    task = Background(_sleep_forever, flag)
    _wait_for(flag)
    t0 = time.monotonic()
    task.cancel()
    assert time.monotonic() - t0 < 5  # terminated, not waited for (it sleeps 60 s)
    task.cancel()  # a second cancel is harmless
    task.wait()  # and so is waiting afterwards


def test_without_fork_the_task_runs_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(_background, "fork_available", lambda: False)
    out = tmp_path / "pid"
    task = Background(_pid_to, out)
    assert int(out.read_text()) == os.getpid()  # done before wait
    task.wait()
    with pytest.raises(ValidationError):
        Background(_fail_validation)


def test_validation_error_pickles():
    import pickle

    err = ValidationError("x", "a number", "abc")
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), str(back), back.name, back.expected, back.given) == (
        ValidationError,
        str(err),
        "x",
        "a number",
        "abc",
    )


def _square(x):
    return {"value": x * x, "array": np.arange(3) * x}


@pytest.mark.parametrize("fork", [True, False])
def test_return_value_comes_back(monkeypatch, fork):
    if fork and not fork_available():
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(_background, "fork_available", lambda: fork)
    out = Background(_square, 3).wait()
    assert out["value"] == 9
    np.testing.assert_array_equal(out["array"], [0, 3, 6])


def test_prefetch_yields_in_order_one_item_ahead():
    from spikingml._background import Prefetch

    started = []
    began = [threading.Event() for _ in range(4)]

    def produce():
        for i in range(4):
            started.append(i)
            began[i].set()
            yield i

    items = Prefetch(produce())
    assert next(items) == 0
    # the next item is computed while the caller works: item 1 begins without a next()
    assert began[1].wait(timeout=60), "item 1 was not computed ahead"
    # ... and only that one. Item 2 cannot begin before the next next(); were it computed
    # ahead too, it would begin right after item 1 (waiting longer on a slow machine
    # could only miss such a fault, never fail a correct Prefetch)
    assert not began[2].wait(timeout=0.5)
    assert started == [0, 1]
    assert list(items) == [1, 2, 3]
    items.close()


def test_prefetch_raises_the_producers_error_and_closes_it():
    from spikingml._background import Prefetch

    closed = []

    def produce():
        try:
            yield 1
            raise ValueError("bad seed")
        finally:
            closed.append(True)

    items = Prefetch(produce())
    assert next(items) == 1
    with pytest.raises(ValueError, match="bad seed"):
        next(items)
    items.close()
    assert closed == [True]


def test_prefetch_close_early_closes_the_producer():
    from spikingml._background import Prefetch

    closed = []

    def produce():
        try:
            yield from range(100)
        finally:
            closed.append(True)

    items = Prefetch(produce())
    assert next(items) == 0
    items.close()
    assert closed == [True]


# -- Worker: one forked child for many tasks -------------------------------------------


@needs_fork
def test_worker_runs_every_task_in_one_child(tmp_path):
    from spikingml._background import Worker

    with Worker() as worker:
        pids = []
        for k in range(3):
            worker.submit(_pid_to, tmp_path / f"pid{k}").wait()
            pids.append(int((tmp_path / f"pid{k}").read_text()))
        assert worker.submit(_square, 4).wait()["value"] == 16
    assert len(set(pids)) == 1 and pids[0] != os.getpid()


@needs_fork
def test_worker_error_comes_back_and_the_worker_goes_on():
    from spikingml._background import Worker

    with Worker() as worker:
        with pytest.raises(ValidationError, match="n_bins") as info:
            worker.submit(_fail_validation).wait()
        assert info.value.given == 1
        with pytest.raises(RuntimeError, match=r"_Unpicklable in a background task"):
            worker.submit(_fail_unpicklable).wait()
        np.testing.assert_array_equal(worker.submit(_square, 2).wait()["array"], [0, 2, 4])


@needs_fork
def test_worker_one_task_at_a_time(tmp_path):
    from spikingml._background import Worker

    with Worker() as worker:
        task = worker.submit(_pid_to, tmp_path / "pid")
        with pytest.raises(RuntimeError, match="still running a task"):
            worker.submit(_square, 2)
        task.wait()
        assert worker.submit(_square, 2).wait()["value"] == 4


@needs_fork
def test_worker_killed_without_reporting():
    from spikingml._background import Worker

    worker = Worker()
    with pytest.raises(RuntimeError, match="worker died"):
        worker.submit(_die).wait()
    worker.close()  # harmless after its death


@needs_fork
def test_worker_cancel_stops_a_running_task(tmp_path):
    from spikingml._background import Worker

    worker = Worker()
    flag = tmp_path / "flag"
    task = worker.submit(_sleep_forever, flag)
    _wait_for(flag)
    t0 = time.monotonic()
    task.cancel()
    assert time.monotonic() - t0 < 5  # terminated, not waited for (it sleeps 60 s)
    task.cancel()  # a second cancel is harmless
    assert task.wait() is None  # and so is waiting afterwards
    worker.close()


def test_worker_without_fork_runs_tasks_at_once(tmp_path, monkeypatch):
    from spikingml._background import Worker

    monkeypatch.setattr(_background, "fork_available", lambda: False)
    with Worker() as worker:
        out = tmp_path / "pid"
        task = worker.submit(_pid_to, out)
        assert int(out.read_text()) == os.getpid()  # done before wait
        task.wait()
        failed = worker.submit(_fail_validation)  # raised by wait, as with a child
        with pytest.raises(ValidationError):
            failed.wait()


@needs_fork
def test_worker_is_stopped_even_where_sigterm_raises(tmp_path):
    # the CLI turns SIGTERM into KeyboardInterrupt; the worker must still stop at once
    from spikingml._background import Worker

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        worker = Worker()
    finally:
        signal.signal(signal.SIGTERM, previous)
    flag = tmp_path / "flag"
    task = worker.submit(_sleep_forever, flag)
    _wait_for(flag)
    t0 = time.monotonic()
    task.cancel()
    assert time.monotonic() - t0 < 5


@needs_fork
@pytest.mark.parametrize("kind", ["background", "worker"])
def test_a_child_stopped_at_once_never_runs_the_parents_code(tmp_path, kind):
    # The CLI turns SIGTERM into KeyboardInterrupt. A child cancelled right after the
    # fork must die, not raise that in the copy of the parent's stack (it would go on
    # running the caller's code: here, the rest of this test; in the suite, the session).
    from spikingml._background import Worker

    parent = os.getpid()

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        for k in range(20):
            try:
                if kind == "background":
                    Background(time.sleep, 30).cancel()
                else:
                    worker = Worker()
                    worker.submit(time.sleep, 30).cancel()
                    worker.close()
            except KeyboardInterrupt:
                pass
            if os.getpid() != parent:  # an escaped child: leave a mark and vanish
                (tmp_path / f"escaped-{os.getpid()}").write_text(str(k))
                os._exit(0)
    finally:
        signal.signal(signal.SIGTERM, previous)
    time.sleep(0.2)
    assert list(tmp_path.iterdir()) == []


def test_no_fork_once_jax_runs_threads():
    # a forked child running JAX code after the parent has run some hangs on a lock one
    # of JAX's threads held at the fork (seen with two twins trained with JAX); once JAX
    # has started, a background task runs in the calling process. In a process of its
    # own: JAX started here would stop every later test's fork.
    import subprocess
    import sys

    pytest.importorskip("jax")
    script = (
        "import os\n"
        "from spikingml._background import Background, fork_available\n"
        "before = fork_available()\n"
        "import jax.numpy as jnp\n"
        "imported = fork_available()\n"
        "float(jnp.ones(3).sum())\n"
        "task = Background(os.getpid)\n"
        "print(before, imported, fork_available(), task.wait() == os.getpid())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    expected = "True True False True" if fork_available() else "False False False True"
    assert out.stdout.split("\n")[0] == expected
