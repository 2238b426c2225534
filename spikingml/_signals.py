"""SIGTERM handled as Ctrl-C, in one place.

A batch system's time limit or ``kill`` sends SIGTERM, which by default ends the process
at once: every write is atomic, so earlier outputs stay intact, but a run's hidden
temporary directory would be left behind, checkpoints would get no chance to close and a
sweep's workers would be orphaned. Inside :func:`sigterm_as_interrupt` SIGTERM raises
:class:`KeyboardInterrupt` instead, so the same clean-up as for Ctrl-C runs.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["sigterm_as_interrupt"]


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[bool]:
    """Within the block, SIGTERM raises ``KeyboardInterrupt`` in the main thread.

    The previous handler is put back on exit. Only the main thread can install signal
    handlers; elsewhere (called from a thread) this does nothing and yields ``False``.
    """
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield True
    finally:
        signal.signal(signal.SIGTERM, previous)
