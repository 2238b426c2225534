"""Run one output-writing task in a forked child process while the parent goes on.

The CLI runs a circuit's twin while the circuit simulates, and writes ``data.nix``
(HDF5, ~2 ms per spike train) while it draws the figures (matplotlib): independent,
CPU-bound jobs of seconds each. On a machine with two cores, running one of each pair
in a forked child halves that time; it is what brings ``spikingml run NAME --quick``
within its wall-time budget. Where ``fork`` is not available (Windows, or macOS where it
is unsafe with system frameworks), or once JAX has started its threads in this process,
the task simply runs at once, in the calling process.

The child inherits the parent's memory (the arguments are not pickled); only its outcome
travels back through a pipe: the task's return value (pickled), or the exception it
raised, which :meth:`Background.wait` raises again in the parent, with its type, so
callers handle errors exactly as if the task had run in the parent.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["Background", "Prefetch", "Worker", "fork_available"]


def fork_available() -> bool:
    """Whether tasks run in a forked child (Linux and other POSIX systems but macOS).

    Not once this process has started a runtime whose threads a fork would leave
    holding locks in the child (:func:`_fork_unsafe_runtime`): the child would hang.
    """
    return (
        sys.platform != "darwin"
        and "fork" in multiprocessing.get_all_start_methods()
        and not _fork_unsafe_runtime()
    )


def _fork_unsafe_runtime() -> bool:
    """Whether JAX has started its backends in this process.

    JAX runs thread pools once a computation has initialised a backend (JAX itself
    warns that ``os.fork()`` is then unsafe): a forked child that runs JAX code waits
    forever on a lock another thread held at the fork (seen: a twin trained with JAX in
    a child after another twin had trained in the parent). Importing JAX alone starts
    nothing. Where JAX's module keeps no ``_backends`` table, any imported JAX counts.
    """
    bridge = sys.modules.get("jax._src.xla_bridge")
    if bridge is None:
        return False
    backends = getattr(bridge, "_backends", None)
    return True if backends is None else bool(backends)


_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _start(process: Any) -> None:
    """Fork ``process`` with SIGTERM and SIGINT held back until the child has set its own
    handlers (:func:`_child_signals`).

    A handler inherited from the parent (the CLI turns SIGTERM into KeyboardInterrupt)
    could otherwise run in the child before it reaches its task, and the exception would
    unwind the copy of the parent's stack: a second copy of the program (of the test
    session) would go on running.
    """
    sys.stdout.flush()  # flush buffered output first, or the child would write it too
    sys.stderr.flush()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _child_signals() -> None:
    """In a forked child: SIGTERM ends it (``terminate``), Ctrl-C is the parent's to
    handle (it stops its children); then let the signals held back by :func:`_start` in."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...], close: bool = True) -> None:
    if close:  # a Background child (a Worker sets its signals once, in _serve)
        _child_signals()
    try:
        message: tuple[str, Any] = ("value", fn(*args))
        pickle.dumps(message)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        message = ("error", exc)
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 - an exception that cannot travel as it is
            message = (
                "error",
                RuntimeError(
                    f"{type(exc).__name__} in a background task:\n{traceback.format_exc()}"
                ),
            )
    conn.send(message)
    if close:
        conn.close()


class Background:
    """``fn(*args)`` running in a forked child process (or run at once, without fork).

    Parameters
    ----------
    fn : callable
        The task. Its return value comes back (pickled) from :meth:`wait`.
    *args
        Its arguments (inherited by the child, never pickled).

    Examples
    --------
    >>> task = Background(print, "written by the child")  # doctest: +SKIP
    >>> draw_figures()  # doctest: +SKIP
    >>> task.wait()  # raises what the task raised  # doctest: +SKIP
    """

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._process: Any = None
        self._conn: Any = None
        self._value: Any = None
        if not fork_available():
            self._value = fn(*args)
            return
        context = multiprocessing.get_context("fork")
        self._conn, child_conn = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(child_conn, fn, args), daemon=True)
        _start(self._process)
        child_conn.close()

    def wait(self) -> Any:
        """Wait for the task to finish; return its value or raise what it raised.

        Raises
        ------
        RuntimeError
            If the child died without reporting (killed by a signal, say).
        """
        if self._process is None:
            return self._value
        try:
            try:
                kind, outcome = self._conn.recv()
            except EOFError:
                self._process.join()
                raise RuntimeError(
                    f"the background task died (exit code {self._process.exitcode})"
                ) from None
            self._process.join()
        finally:
            self._conn.close()
            self._process = None
        if kind == "error":
            raise outcome
        return outcome

    def cancel(self) -> None:
        """Stop the task if it is still running (used when the parent fails)."""
        if self._process is None:
            return
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._conn.close()
        self._process = None


class Worker:
    """One forked child process that runs tasks one after another, for many tasks.

    Each :class:`Background` task forks the process anew, and every memory page either
    process then writes to is copied: a few tenths of a second of CPU per task for this
    package's processes (hundreds of MB). A series of runs (``spikingml run --seeds``)
    hands its data files to one worker instead, forked once: a task's function and
    arguments travel to it pickled (a run's spikes: milliseconds), its outcome comes
    back as with :class:`Background`. Without ``fork``, tasks run at once, in the caller.

    Examples
    --------
    >>> with Worker() as worker:  # doctest: +SKIP
    ...     task = worker.submit(write_data, result, path)
    ...     draw_figures()
    ...     task.wait()  # raises what the task raised
    """

    def __init__(self) -> None:
        self._process: Any = None
        self._conn: Any = None
        self._busy = False
        if not fork_available():
            return
        context = multiprocessing.get_context("fork")
        self._conn, child_conn = context.Pipe(duplex=True)
        self._process = context.Process(target=_serve, args=(child_conn,), daemon=True)
        _start(self._process)
        child_conn.close()

    def submit(self, fn: Callable[..., Any], *args: Any) -> _Submitted:
        """Start ``fn(*args)`` in the worker (one task at a time); return its handle.

        ``fn`` and ``args`` must pickle (a module-level function, plain data). Without
        ``fork`` the task runs here and now; what it raised is raised by ``wait``.
        """
        if self._busy:
            raise RuntimeError("the worker is still running a task: wait for it first")
        if self._process is None:
            try:
                return _Submitted(self, ("value", fn(*args)))
            except BaseException as exc:  # noqa: BLE001 - raised again by wait()
                return _Submitted(self, ("error", exc))
        self._conn.send((fn, args))
        self._busy = True
        return _Submitted(self, None)

    def _receive(self) -> tuple[str, Any]:
        try:
            message = self._conn.recv()
        except EOFError:
            self._process.join()
            code = self._process.exitcode
            self._process = None
            raise RuntimeError(f"the background worker died (exit code {code})") from None
        finally:
            self._busy = False
        return message

    def close(self) -> None:
        """Stop the worker (at once if a task is still running)."""
        if self._process is None:
            return
        if self._busy and self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=10)
            if self._process.is_alive():  # pragma: no cover - SIGTERM is not ignored
                self._process.kill()
        else:
            with contextlib.suppress(OSError):
                self._conn.send(None)
        self._process.join()
        self._conn.close()
        self._process = None
        self._busy = False

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class _Submitted:
    """A task given to a :class:`Worker`: :meth:`wait` and :meth:`cancel` as in Background."""

    def __init__(self, worker: Worker, outcome: tuple[str, Any] | None) -> None:
        self._worker = worker
        self._outcome = outcome

    def wait(self) -> Any:
        """Wait for the task to finish; return its value or raise what it raised."""
        if self._outcome is None:
            self._outcome = self._worker._receive()
        kind, outcome = self._outcome
        if kind == "error":
            raise outcome
        return outcome

    def cancel(self) -> None:
        """Stop the task if it is still running: the worker is stopped with it."""
        if self._outcome is None:
            self._worker.close()
            self._outcome = ("value", None)


def _serve(conn: Any) -> None:
    """The worker's loop: run each task received, send back its outcome."""
    # SIGTERM stops the worker (Worker.close), whatever handler the parent had installed
    # (the CLI turns it into KeyboardInterrupt, which a task would catch and report);
    # Ctrl-C is the parent's to handle: it closes the worker
    _child_signals()
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        fn, args = task
        _child(conn, fn, args, close=False)


class Prefetch:
    """Iterate over ``iterable`` one item ahead, in a thread, while the caller works.

    ``spikingml run --seeds`` writes a seed's NIX file and figures while the compiled
    program simulates the next seed (a subprocess: the thread waits without holding the
    GIL). At most one item is computed ahead. The thread changes no global state of its
    own, but the iterable may: Brian2's ``device.run`` changes the working directory
    while the program runs, so callers use absolute paths meanwhile.

    Parameters
    ----------
    iterable : iterable
        Produces the items; an exception it raises is raised again by ``next``.
    """

    def __init__(self, iterable: Any) -> None:
        import queue
        import threading

        self._it = iter(iterable)
        self._requests: queue.Queue = queue.Queue()
        self._results: queue.Queue = queue.Queue()
        self._pending = False
        self._thread = threading.Thread(target=self._work, name="spikingml-prefetch", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            while self._requests.get():
                try:
                    item = next(self._it)
                except StopIteration:
                    self._results.put(("done", None))
                    return
                except BaseException as exc:  # noqa: BLE001 - raised again in the caller
                    self._results.put(("error", exc))
                    return
                self._results.put(("item", item))
        finally:
            close = getattr(self._it, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Prefetch:
        return self

    def __next__(self) -> Any:
        if not self._thread.is_alive() and not self._pending and self._results.empty():
            raise StopIteration
        if not self._pending:
            self._requests.put(True)
        kind, value = self._results.get()
        self._pending = False
        if kind == "done":
            raise StopIteration
        if kind == "error":
            raise value
        self._requests.put(True)  # start on the next item while the caller works
        self._pending = True
        return value

    def close(self) -> None:
        """Stop after the item being computed (if any) and close the iterable."""
        self._requests.put(False)
        self._thread.join()
