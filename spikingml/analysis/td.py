r"""Temporal-difference learning, TD(:math:`\lambda`), on a trial grid.

The abstract twin of :mod:`spikingml.circuits.td_conditioning` (Sutton 1988; Montague,
Dayan & Sejnowski 1996; Schultz, Dayan & Montague 1997). Each trial is cut into ``M``
time bins; bin ``m`` has a feature vector :math:`x_m` (for a complete serial compound,
a one-hot code of the time since the CS) and a reward :math:`r_m`. The value is linear,
:math:`V_m = w \cdot x_m`, and within a trial, for ``m = 0 .. M-1``:

.. math::

    e &\leftarrow \gamma \lambda e + x_{m-1} \\
    \delta_m &= r_m + \gamma V_m - V_{m-1} \\
    w &\leftarrow w + \alpha \, \delta_m \, e

with :math:`V_{-1} = 0` and :math:`x_{-1} = 0` (the agent starts each trial in a state
without features, so the trial's first error is :math:`\delta_0 = r_0 + \gamma V_0`) and
an accumulating eligibility trace ``e`` reset at the start of every trial. ``delta``
carries the reward-prediction error that dopamine neurons are thought to signal.

Contents
--------
:func:`td_lambda`, :func:`csc_features`
    The twin (:class:`TDResult`) and its complete-serial-compound features.
:func:`trial_rates`, :func:`pre_cs_rate`, :func:`conditioning_metrics`
    Metrics of a run of :mod:`spikingml.circuits.td_conditioning`: a population's rate
    on the trial grid, the tonic rate before the CS, and the conditioning effects
    compared with the twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spikingml.analysis.stats import pearson
from spikingml.errors import ValidationError

if TYPE_CHECKING:
    from spikingml.result import SpikeData

__all__ = [
    "TDResult",
    "td_lambda",
    "csc_features",
    "trial_rates",
    "pre_cs_rate",
    "conditioning_metrics",
]


@dataclass(frozen=True)
class TDResult:
    """Trajectories of TD(lambda) over a schedule.

    Attributes
    ----------
    values : ndarray, shape (n_trials, M)
        :math:`V_m` as evaluated at bin ``m`` of each trial.
    deltas : ndarray, shape (n_trials, M)
        The TD error :math:`\\delta_m` of each bin of each trial.
    weights : ndarray, shape (n_trials + 1, F)
        Weights before each trial, and after the last one.
    """

    values: np.ndarray
    deltas: np.ndarray
    weights: np.ndarray


def csc_features(n_bins: int, first: int, n_features: int) -> np.ndarray:
    """Complete-serial-compound features: bin ``first + k`` has feature ``k`` on.

    Parameters
    ----------
    n_bins : int
        Number of bins per trial (``M``).
    first : int
        Bin at which the CS starts.
    n_features : int
        Number of time cells (bins after the CS that have a feature).

    Returns
    -------
    ndarray, shape (M, n_features)
        One-hot rows; bins outside ``[first, first + n_features)`` are all zero.
    """
    x = np.zeros((n_bins, n_features))
    for k in range(n_features):
        if 0 <= first + k < n_bins:
            x[first + k, k] = 1.0
    return x


def td_lambda(
    features: np.ndarray,
    rewards: np.ndarray,
    alpha: float,
    lam: float,
    gamma: float = 1.0,
    w0: np.ndarray | None = None,
) -> TDResult:
    """Run TD(lambda) with linear values over a sequence of trials.

    Parameters
    ----------
    features : ndarray, shape (M, F)
        Feature vector of every bin (the same in every trial).
    rewards : ndarray, shape (n_trials, M)
        Reward delivered in each bin of each trial.
    alpha : float
        Learning rate, > 0.
    lam : float
        Trace decay :math:`\\lambda` in [0, 1].
    gamma : float
        Discount per bin in [0, 1].
    w0 : ndarray, shape (F,), optional
        Initial weights (zeros by default).

    Returns
    -------
    TDResult
    """
    features = np.asarray(features, dtype=float)
    rewards = np.asarray(rewards, dtype=float)
    if features.ndim != 2:
        raise ValidationError("features", "a 2-D array (bins x features)", features.shape)
    if rewards.ndim != 2 or rewards.shape[1] != features.shape[0]:
        raise ValidationError(
            "rewards", f"a 2-D array (trials x {features.shape[0]} bins)", rewards.shape
        )
    if not alpha > 0:
        raise ValidationError("alpha", "a learning rate > 0", alpha)
    if not 0 <= lam <= 1:
        raise ValidationError("lam", "a value in [0, 1]", lam)
    if not 0 <= gamma <= 1:
        raise ValidationError("gamma", "a value in [0, 1]", gamma)
    n_trials, n_bins = rewards.shape
    w = np.zeros(features.shape[1]) if w0 is None else np.array(w0, dtype=float)
    values = np.zeros((n_trials, n_bins))
    deltas = np.zeros((n_trials, n_bins))
    weights = np.zeros((n_trials + 1, features.shape[1]))
    for trial in range(n_trials):
        weights[trial] = w
        e = np.zeros_like(w)
        x_prev = np.zeros_like(w)
        v_prev = 0.0
        for m in range(n_bins):
            e = gamma * lam * e + x_prev
            v = float(features[m] @ w)
            values[trial, m] = v
            delta = rewards[trial, m] + gamma * v - v_prev
            deltas[trial, m] = delta
            w = w + alpha * delta * e
            x_prev = features[m]
            v_prev = float(features[m] @ w)
    weights[n_trials] = w
    return TDResult(values, deltas, weights)


# ------------------------------------------------------------------ metrics of a run
def trial_rates(
    spikes: SpikeData,
    cs_times: np.ndarray,
    *,
    bin_width: float,
    n_cols: int,
    first: int,
    latency: float = 0.0,
) -> np.ndarray:
    """Rate (Hz per neuron) of a population on the trial grid, trials x bins.

    Row ``i`` holds ``n_cols`` bins of ``bin_width`` (seconds), the CS of trial ``i``
    (``cs_times[i]``) at the start of bin ``first``, all shifted by ``latency``.

    Parameters
    ----------
    spikes : SpikeData
        The population's spikes.
    cs_times : ndarray
        Onset of the CS in every trial (seconds).
    bin_width : float
        Width of a bin (seconds).
    n_cols, first : int
        Bins per row, and the bin of the CS.
    latency : float
        Shift of the grid (seconds): the delay of the population's response.

    Returns
    -------
    ndarray, shape (len(cs_times), n_cols)
    """
    starts = cs_times - first * bin_width + latency
    edges = starts[:, None] + bin_width * np.arange(n_cols + 1)
    times = np.sort(spikes.times)
    cum = np.searchsorted(times, edges.ravel()).reshape(edges.shape)
    counts = np.diff(cum, axis=1)
    return counts / (spikes.size * bin_width)


def pre_cs_rate(spikes: SpikeData, cs_times: np.ndarray, *, bin_width: float, first: int) -> float:
    """Rate (Hz per neuron) in the ``first`` bins before the CS (unshifted), all trials."""
    pre = np.searchsorted(
        np.sort(spikes.times), np.stack([cs_times - first * bin_width, cs_times])
    )
    return float(np.sum(pre[1] - pre[0]) / (spikes.size * first * bin_width * len(cs_times)))


def conditioning_metrics(
    dopamine: np.ndarray,
    critic: np.ndarray,
    baseline: float,
    kind: np.ndarray,
    twin: TDResult,
    *,
    cs_col: int,
    us_col: int,
    n_acquisition: int,
) -> dict[str, float]:
    """The effects of conditioning on the dopamine response, and its agreement with TD.

    Parameters
    ----------
    dopamine, critic : ndarray, shape (n_trials, M)
        The dopamine neurons' and the critic's rates on the trial grid
        (:func:`trial_rates`).
    baseline : float
        The tonic dopamine rate (:func:`pre_cs_rate`).
    kind : ndarray of str, shape (n_trials,)
        ``acquisition`` (rewarded), ``omission`` or ``extinction`` for every trial.
    twin : TDResult
        The twin on the same grid.
    cs_col, us_col : int
        The bins of the CS and of the US.
    n_acquisition : int
        Trials of the acquisition phase (rewarded and omission trials).

    Returns
    -------
    dict of str to float
        ``baseline_hz``; the response (rate - baseline) at the CS in the last 20
        rewarded trials, at the US in the first 5 and the last 20 and their ratio
        (``transfer_ratio``); ``omission_dip_fraction`` (the fall below baseline at the
        US of omissions in the second half of acquisition); ``delta_correlation`` and
        ``value_correlation`` (Pearson r of the response with the twin's delta, of the
        critic with its V); ``extinction_drop`` of the response at the CS from the first
        5 to the last 5 extinction trials, and the twin's.
    """
    response = dopamine - baseline
    rewarded = np.flatnonzero(kind == "acquisition")
    omission = np.flatnonzero(kind == "omission")
    extinction = np.flatnonzero(kind == "extinction")
    late = rewarded[-20:]
    early = rewarded[:5]
    us_early = float(response[early, us_col].mean())
    us_late = float(response[late, us_col].mean())
    late_omissions = omission[omission >= n_acquisition / 2]
    if len(late_omissions):
        dip = 1.0 - float(dopamine[late_omissions, us_col].mean()) / baseline
    else:
        dip = float("nan")

    def drop(cs_response: np.ndarray) -> float:
        if len(extinction) < 10:
            return float("nan")
        first5 = float(cs_response[extinction[:5]].mean())
        last5 = float(cs_response[extinction[-5:]].mean())
        return 1.0 - last5 / first5 if first5 > 0 else float("nan")

    return {
        "baseline_hz": baseline,
        "cs_response_late_hz": float(response[late, cs_col].mean()),
        "us_response_early_hz": us_early,
        "us_response_late_hz": us_late,
        "transfer_ratio": us_late / us_early if us_early > 0 else float("nan"),
        "omission_dip_fraction": dip,
        "delta_correlation": pearson(response, twin.deltas),
        "value_correlation": pearson(critic, twin.values),
        "extinction_drop": drop(response[:, cs_col]),
        "twin_extinction_drop": drop(twin.deltas[:, cs_col]),
    }
