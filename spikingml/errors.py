"""Exceptions raised by spikingml.

One small hierarchy, as in Nengo: everything spikingml raises on purpose derives from
:class:`SpikingMLError`; bad user input raises :class:`ValidationError`, which is also a
:class:`ValueError` so that generic ``except ValueError`` handlers keep working.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SpikingMLError", "ValidationError", "OutputExistsError"]


class SpikingMLError(Exception):
    """Base class of every error spikingml raises on purpose."""


class ValidationError(SpikingMLError, ValueError):
    """A value given by the user is not acceptable.

    The message always names the parameter (``Circuit.Params.field`` for circuit
    parameters), what was expected and what was given, e.g.
    ``TDConditioning.Params.n_trials: expected an integer >= 1, got 0``.
    """

    def __init__(self, name: str, expected: str, given: object) -> None:
        self.name = name
        self.expected = expected
        self.given = given
        super().__init__(f"{name}: expected {expected}, got {_shown(given)}")

    def __reduce__(self) -> tuple[type, tuple[str, str, object]]:
        # picklable (sent back from worker processes) despite the three-argument init
        return type(self), (self.name, self.expected, self.given)


#: Longest ``repr`` of a given value shown in a message (a pasted file stays one short line).
MAX_SHOWN = 200


def _shown(given: object) -> str:
    """``repr(given)`` on one line, cut to :data:`MAX_SHOWN` characters."""
    try:
        with np.errstate(all="ignore"):  # a huge quantity overflows while being formatted
            text = repr(given)
    except Exception:  # a repr that fails must not hide the error being reported
        text = f"<{type(given).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else f"{text[: MAX_SHOWN - 3]}..."


class OutputExistsError(SpikingMLError, FileExistsError):
    """An output file already exists and overwriting it was not asked for."""
