"""Small statistics shared by the circuits' comparisons with their twins.

pearson
    Pearson correlation of two arrays.
firing_rates
    Mean firing rate of every neuron of a population in an interval.
isi_cv
    Coefficient of variation of every neuron's inter-spike intervals in an interval.

``firing_rates`` and ``isi_cv`` compute what ``elephant.statistics.mean_firing_rate`` and
``elephant.statistics.cv(elephant.statistics.isi(train))`` compute on the NEO spike
trains of :func:`spikingml.export.to_neo` (tests/test_td_conditioning.py checks it).
"""

from __future__ import annotations

import numpy as np

__all__ = ["pearson", "firing_rates", "isi_cv"]


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two arrays (flattened); NaN if either is constant."""
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _in_window(spikes, t_start: float, t_stop: float) -> tuple[np.ndarray, np.ndarray]:
    if not t_stop > t_start:
        raise ValueError(f"t_stop must be after t_start, got [{t_start}, {t_stop})")
    sel = (spikes.times >= t_start) & (spikes.times < t_stop)
    return spikes.indices[sel], spikes.times[sel]


def firing_rates(spikes, t_start: float, t_stop: float) -> np.ndarray:
    """Mean firing rate (Hz) of every neuron of a population in ``[t_start, t_stop)``.

    Parameters
    ----------
    spikes : spikingml.result.SpikeData
        Spikes of one population.
    t_start, t_stop : float
        The interval, in seconds.

    Returns
    -------
    ndarray, shape (spikes.size,)
        Spike count of each neuron divided by ``t_stop - t_start``; silent neurons give 0.
    """
    idx, _ = _in_window(spikes, t_start, t_stop)
    counts = np.bincount(idx, minlength=int(spikes.size))
    return counts / (t_stop - t_start)


def isi_cv(spikes, t_start: float, t_stop: float) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of every neuron.

    Only spikes in ``[t_start, t_stop)`` count. The CV is the standard deviation of a
    neuron's intervals (``ddof=0``, as ``scipy.stats.variation`` and Elephant's ``cv``)
    divided by their mean: 1 for a Poisson process, 0 for a regular one.

    Returns
    -------
    ndarray, shape (spikes.size,)
        NaN for neurons with fewer than two intervals (three spikes) in the interval.
    """
    idx, times = _in_window(spikes, t_start, t_stop)
    order = np.lexsort((times, idx))
    idx, times = idx[order], times[order]
    out = np.full(int(spikes.size), np.nan)
    bounds = np.searchsorted(idx, np.arange(int(spikes.size) + 1))
    for i in range(int(spikes.size)):
        intervals = np.diff(times[bounds[i] : bounds[i + 1]])
        if len(intervals) >= 2:
            out[i] = intervals.std() / intervals.mean()
    return out
