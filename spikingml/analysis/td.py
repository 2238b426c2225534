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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikingml.errors import ValidationError

__all__ = ["TDResult", "td_lambda", "csc_features"]


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
