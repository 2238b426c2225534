"""Response matrices of a circuit's layer: spike counts per stimulus window.

Turns a :class:`spikingml.Result` into the ``(n_stimuli, n_units)`` matrix that
:mod:`spikingml.analysis.representations` analyses: row ``s`` holds, for every unit of a
population, the number of its spikes in the window ``[onset_s, onset_s + duration)`` of
stimulus ``s``. The onsets are one of the Result's events (``patch_onset`` of v1-ica,
``image`` of wta-em). Silent units keep their column (all zeros). Spikes outside every
window are ignored; windows must not overlap, so each spike is counted at most once.
Spike times are moved ``tol`` (1 ns) later before they are binned: a spike recorded at
the time step of an onset belongs to that onset's window even when the onset, computed
as ``index * duration``, and the spike time, ``step * dt``, round to different floats.
Pure NumPy: nothing here imports Brian2.
"""

from __future__ import annotations

import numpy as np

from spikingml.errors import ValidationError
from spikingml.result import Result, SpikeData

__all__ = ["window_counts", "layer_responses"]


def window_counts(
    spikes: SpikeData, onsets: np.ndarray, duration: float, tol: float = 1e-9
) -> np.ndarray:
    """Spike counts of every unit in every stimulus window.

    Parameters
    ----------
    spikes : SpikeData
        Spikes of one population (times in seconds).
    onsets : ndarray of float, shape (n_stimuli,)
        Start of every window in seconds, strictly increasing.
    duration : float
        Length of every window in seconds, at most the smallest gap between onsets.
    tol : float
        Seconds added to every spike time before binning (rounding of the float times),
        far below any simulation time step.

    Returns
    -------
    ndarray of float, shape (n_stimuli, spikes.size)
        Spikes of unit ``k`` in ``[onsets[s], onsets[s] + duration)`` at ``[s, k]``.

    Raises
    ------
    ValidationError
        If the onsets are not a strictly increasing 1-d array, the duration is not
        positive or the windows overlap.
    """
    onsets = np.asarray(onsets, dtype=float)
    if onsets.ndim != 1 or onsets.size == 0:
        raise ValidationError("window_counts: onsets", "a non-empty 1-d array", onsets.shape)
    duration = float(duration)
    if not np.isfinite(duration) or duration <= 0:
        raise ValidationError("window_counts: duration", "a positive number of seconds", duration)
    gaps = np.diff(onsets)
    if np.any(gaps <= 0):
        raise ValidationError("window_counts: onsets", "strictly increasing times", onsets[:5])
    if gaps.size and duration > gaps.min() * (1 + 1e-9):
        raise ValidationError(
            "window_counts: duration",
            f"at most the smallest gap between onsets ({gaps.min()} s), so that the windows "
            "do not overlap",
            duration,
        )
    counts = np.zeros((onsets.size, int(spikes.size)))
    times = np.asarray(spikes.times, dtype=float) + float(tol)
    window = np.searchsorted(onsets, times, side="right") - 1
    inside = window >= 0
    inside[inside] = times[inside] < onsets[window[inside]] + duration
    np.add.at(counts, (window[inside], np.asarray(spikes.indices)[inside]), 1.0)
    return counts


def layer_responses(
    result: Result, population: str, event: str, duration: float | None = None
) -> np.ndarray:
    """The response matrix of one population of a run: spike counts per stimulus.

    Parameters
    ----------
    result : Result
        A circuit's run.
    population : str
        Key of ``result.populations`` (``"v1"``, ``"digits.output"``).
    event : str
        Key of ``result.events`` holding the stimulus onsets (``"patch_onset"``, ``"image"``).
    duration : float, optional
        Window length in seconds; by default the smallest gap between onsets (which
        needs at least two onsets).

    Returns
    -------
    ndarray of float, shape (n_stimuli, n_units)
        See :func:`window_counts`.

    Raises
    ------
    KeyError
        If the Result has no such population or event.
    ValidationError
        If ``duration`` is omitted with fewer than two onsets, or see :func:`window_counts`.
    """
    if population not in result.populations:
        raise KeyError(f"layer_responses: no population {population!r} in the Result")
    if event not in result.events:
        raise KeyError(f"layer_responses: no event {event!r} in the Result")
    onsets = np.asarray(result.events[event], dtype=float)
    if duration is None:
        if onsets.size < 2:
            raise ValidationError(
                "layer_responses: duration", "a window length when there is a single onset", None
            )
        duration = float(np.diff(onsets).min())
    return window_counts(result.populations[population], onsets, duration)
