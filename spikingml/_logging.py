"""Logging of spikingml: module loggers under ``spikingml``, configured by the CLI.

Every module logs on ``logging.getLogger(__name__)``; the library itself installs no
handler but a :class:`logging.NullHandler`, so a program that uses spikingml decides what
is shown (``logging.getLogger("spikingml").setLevel(logging.WARNING)`` silences the
stages of a run). :func:`configure_logging` is what the command line does: stages at
INFO on stderr as ``[spikingml] message``.
"""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]

LOGGER = "spikingml"


class _StderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is when it emits."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # noqa: D401 - a property, as StreamHandler's attribute
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler sets it in __init__; ignored
        pass


def configure_logging(verbosity: int = 0) -> logging.Handler:
    """Show spikingml's log on stderr, one ``[spikingml] message`` line per record.

    Parameters
    ----------
    verbosity : int
        ``-1`` warnings and errors only (``--quiet``), ``0`` also the stages of a run
        (INFO, the default), ``1`` or more everything (DEBUG, ``-v``).

    Calling it again replaces the handler it added before.

    Returns
    -------
    logging.Handler
        The handler added to the ``spikingml`` logger; remove it with
        ``logging.getLogger("spikingml").removeHandler(handler)``.
    """
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    logger = logging.getLogger(LOGGER)
    for old in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(old)  # configured again: one line per record, not two
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("[spikingml] %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler


logging.getLogger(LOGGER).addHandler(logging.NullHandler())
