"""Reuse a circuit's comparison when it is asked for again with the same run and twin.

``pipeline.run`` computes a run's metrics with ``compare(result, twin_output)``; most
circuits' ``figures`` then call ``compare`` again on the same two objects to label their
panels. For some circuits the comparison is the longest step after the simulation (the
hierarchy's probes, RSA and t-SNE: about 20 s), so computing it twice lengthened every
run. :func:`last_comparison` keeps the last value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["last_comparison"]


def last_comparison(
    compare: Callable[[Any, Any], dict[str, float]],
) -> Callable[[Any, Any], dict[str, float]]:
    """Wrap ``compare(result, twin_output)`` so that a repeated call reuses its value.

    The value of the last call is kept with its two arguments; a call with the very same
    two objects (``is``, not equality: a ``Result`` and a twin output are not changed
    once made) returns a copy of it instead of comparing again. Every other call
    compares and becomes the last.

    Parameters
    ----------
    compare : callable
        A circuit's ``compare``.

    Returns
    -------
    callable
        The same function, documented as ``compare``, that reuses its last value.
    """
    last: list[Any] = []

    @functools.wraps(compare)
    def reusing(result: Any, twin_output: Any) -> dict[str, float]:
        if last and last[0] is result and last[1] is twin_output:
            return dict(last[2])
        metrics = compare(result, twin_output)
        last[:] = [result, twin_output, metrics]
        return dict(metrics)

    return reusing
