r"""The Rescorla-Wagner model of Pavlovian conditioning, and its closed-form predictions.

The abstract twin of :mod:`spikingml.circuits.rescorla_wagner` (Rescorla & Wagner 1972).
Each cue ``i`` has an associative strength :math:`V_i`. On a trial on which the cues of
the set :math:`S` are presented, the US of strength :math:`\lambda` (0 if it is
omitted) is compared with the summed prediction, and every presented cue is updated by
the same error, scaled by its salience :math:`\alpha_i` and the learning rate of the US
:math:`\beta`:

.. math::

    \delta = \lambda - \sum_{j \in S} V_j, \qquad
    \Delta V_i = \alpha_i \, \beta \, \delta \quad (i \in S), \qquad
    \Delta V_i = 0 \quad (i \notin S).

Because the error is shared, a cue that is already predicted *blocks* learning about a
new one (Kamin 1969), a salient cue *overshadows* a weak one, a cue paired with the
absence of a predicted US becomes a *conditioned inhibitor* (:math:`V < 0`), and two
separately trained cues *overexpect* the US when combined and lose value.

Contents
--------
:func:`rescorla_wagner`
    The model over a sequence of trials.
Closed-form curves
    Solutions for single cues and for compounds (used by the tests):
    :func:`acquisition_curve`, :func:`extinction_curve`, :func:`compound_curves`,
    :func:`overexpectation_curves`.
Metrics of a run of :mod:`spikingml.circuits.rescorla_wagner`
    :func:`probe_values` (each cue's value after every trial, read from the value
    neurons' rate in the probes), :func:`stage_end` and :func:`paradigm_metrics` (the
    paradigms' effects from values after every trial, spiking or twin).

References
----------
Rescorla, R. A. & Wagner, A. R. (1972). A theory of Pavlovian conditioning: variations
in the effectiveness of reinforcement and nonreinforcement. In A. H. Black & W. F.
Prokasy (eds.), Classical Conditioning II, pp. 64-99. Appleton-Century-Crofts.

Kamin, L. J. (1969). Predictability, surprise, attention, and conditioning. In B. A.
Campbell & R. M. Church (eds.), Punishment and Aversive Behavior, pp. 279-296.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spikingml.errors import ValidationError
from spikingml.stimuli.paradigms import N_STAGES

if TYPE_CHECKING:
    from spikingml.result import SpikeData

__all__ = [
    "RWResult",
    "rescorla_wagner",
    "acquisition_curve",
    "extinction_curve",
    "compound_curves",
    "overexpectation_curves",
    "probe_values",
    "stage_end",
    "paradigm_metrics",
]


@dataclass(frozen=True)
class RWResult:
    """Trajectories of the Rescorla-Wagner model over a schedule.

    Attributes
    ----------
    values : ndarray, shape (n_trials + 1, n_cues)
        :math:`V_i` before each trial (row ``n``) and after the last one (row
        ``n_trials``); row ``n + 1`` is the value after trial ``n``.
    errors : ndarray, shape (n_trials,)
        The error :math:`\\delta` of each trial.
    """

    values: np.ndarray
    errors: np.ndarray

    @property
    def after(self) -> np.ndarray:
        """Values after each trial, shape (n_trials, n_cues)."""
        return self.values[1:]


def _rate(name: str, value: float, low_open: bool = True) -> float:
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value):
        raise ValidationError(name, "a finite number", value)
    if not (value > 0 if low_open else value >= 0):
        raise ValidationError(name, "a number > 0", value)
    return float(value)


def rescorla_wagner(
    present: np.ndarray,
    us: np.ndarray,
    alpha: np.ndarray | float,
    beta: float,
    lam: float = 1.0,
    v0: np.ndarray | None = None,
) -> RWResult:
    """Run the Rescorla-Wagner model over a sequence of trials.

    Parameters
    ----------
    present : array_like of bool, shape (n_trials, n_cues)
        Cues presented on each trial.
    us : array_like, shape (n_trials,)
        1 (or True) where the US follows, 0 where it does not; the US's strength on a
        trial is ``lam * us``.
    alpha : float or array_like, shape (n_cues,)
        Salience of each cue, > 0.
    beta : float
        Learning rate of the US, > 0.
    lam : float
        Asymptote :math:`\\lambda` supported by the US.
    v0 : array_like, shape (n_cues,), optional
        Initial values (zeros by default).

    Returns
    -------
    RWResult
    """
    present = np.asarray(present, dtype=bool)
    if present.ndim != 2:
        raise ValidationError("present", "a 2-D array (trials x cues)", present.shape)
    n_trials, n_cues = present.shape
    us = np.asarray(us, dtype=float)
    if us.shape != (n_trials,):
        raise ValidationError("us", f"an array of {n_trials} trials", us.shape)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), (n_cues,)).copy()
    if not np.all(np.isfinite(alpha)) or np.any(alpha <= 0):
        raise ValidationError("alpha", "saliences > 0", alpha)
    beta = _rate("beta", beta)
    lam = float(lam)
    v = np.zeros(n_cues) if v0 is None else np.array(v0, dtype=float)
    if v.shape != (n_cues,):
        raise ValidationError("v0", f"an array of {n_cues} values", v.shape)
    values = np.zeros((n_trials + 1, n_cues))
    errors = np.zeros(n_trials)
    for n in range(n_trials):
        values[n] = v
        delta = lam * us[n] - float(v[present[n]].sum())
        errors[n] = delta
        v = v + alpha * beta * delta * present[n]
    values[n_trials] = v
    return RWResult(values, errors)


def acquisition_curve(n: np.ndarray | int, alpha: float, beta: float, lam: float = 1.0):
    """Value of a single cue after ``n`` reinforced trials from 0.

    :math:`V_n = \\lambda (1 - (1 - \\alpha\\beta)^n)`.
    """
    return lam * (1.0 - (1.0 - alpha * beta) ** np.asarray(n, dtype=float))


def extinction_curve(n: np.ndarray | int, v0: float, alpha: float, beta: float):
    """Value of a single cue after ``n`` non-reinforced trials from ``v0``.

    :math:`V_n = V_0 (1 - \\alpha\\beta)^n`.
    """
    return v0 * (1.0 - alpha * beta) ** np.asarray(n, dtype=float)


def compound_curves(
    n: np.ndarray | int, alphas: np.ndarray, beta: float, lam: float = 1.0
) -> np.ndarray:
    """Values of cues always presented together, from 0, after ``n`` reinforced trials.

    Every cue gets the same error, so the sum obeys the acquisition curve with the summed
    salience and each cue holds the share :math:`\\alpha_i / \\sum_j \\alpha_j` of it
    (overshadowing)::

        V_i(n) = alpha_i / sum(alpha) * lam * (1 - (1 - sum(alpha) * beta) ** n)

    Returns
    -------
    ndarray, shape (len(n), n_cues) (or (n_cues,) for a scalar ``n``)
    """
    alphas = np.asarray(alphas, dtype=float)
    total = acquisition_curve(n, alphas.sum(), beta, lam)
    return np.multiply.outer(total, alphas / alphas.sum())


def overexpectation_curves(
    n: np.ndarray | int, v0: np.ndarray, alphas: np.ndarray, beta: float, lam: float = 1.0
) -> np.ndarray:
    """Values of cues trained apart (values ``v0``) then together for ``n`` reinforced trials.

    The sum relaxes to :math:`\\lambda` with rate :math:`\\beta \\sum_j \\alpha_j`; each
    cue moves by its share of that change::

        S(n)   = lam + (sum(v0) - lam) * (1 - sum(alpha) * beta) ** n
        V_i(n) = v0_i + alpha_i / sum(alpha) * (S(n) - sum(v0))

    With ``v0 = (lam, lam)`` and equal saliences each value falls to ``lam / 2``.
    """
    v0 = np.asarray(v0, dtype=float)
    alphas = np.asarray(alphas, dtype=float)
    total0 = float(v0.sum())
    total = lam + (total0 - lam) * (1.0 - alphas.sum() * beta) ** np.asarray(n, dtype=float)
    return v0 + np.multiply.outer(total - total0, alphas / alphas.sum())


# ------------------------------------------------------------------ metrics of a run
def probe_values(
    spikes: SpikeData,
    n_trials: int,
    trial_duration: float,
    n_cues: int,
    *,
    probe_onset: float,
    probe_duration: float,
    settle: float,
    rate0: float,
    scale: float,
) -> np.ndarray:
    """Each cue's value after every trial, read from the value neurons in the probes.

    Cue ``c`` is presented alone from ``probe_onset + c * probe_duration`` into every
    trial, for ``probe_duration``; its value is ``V = (rate - rate0) / scale`` with the
    value neurons' mean rate from ``settle`` after the probe's onset to its end.

    Parameters
    ----------
    spikes : SpikeData
        The spikes of one group's value neurons.
    n_trials : int
        Trials of the run, each ``trial_duration`` long (seconds), the first at 0.
    n_cues : int
        Cues of the group, probed in their order.
    probe_onset, probe_duration, settle : float
        The first probe's onset in a trial, a probe's length, and the time from a
        probe's onset to the start of the readout (seconds).
    rate0, scale : float
        The value neurons' rate at ``V = 0`` and the rate of one unit of ``V`` (Hz).

    Returns
    -------
    ndarray, shape (n_trials, n_cues)
        The values, in units of the US's ``lambda``.
    """
    starts = trial_duration * np.arange(n_trials)
    times = np.sort(spikes.times)
    values = np.zeros((n_trials, n_cues))
    for c in range(n_cues):
        lo = starts + (probe_onset + c * probe_duration)
        hi = lo + probe_duration
        lo = lo + settle
        counts = np.searchsorted(times, hi) - np.searchsorted(times, lo)
        rate = counts / (spikes.size * (hi - lo))
        values[:, c] = (rate - rate0) / scale
    return values


def stage_end(values: np.ndarray, stage_trials: int, stage: int, final_trials: int) -> np.ndarray:
    """Mean of the last ``final_trials`` rows of ``stage`` (1-based, ``stage_trials`` rows)."""
    stop = stage * stage_trials
    return values[max(0, stop - final_trials) : stop].mean(axis=0)


def paradigm_metrics(
    curves: dict[str, np.ndarray],
    lam: float,
    stage_trials: int,
    final_trials: int,
    prefix: str = "",
) -> dict[str, float]:
    """The paradigms' effects from every group's values after every trial.

    Parameters
    ----------
    curves : dict of str to ndarray
        Per group that was run, its cues' values after every trial, shape (n_trials,
        n_cues), spiking (:func:`probe_values`) or twin (:attr:`RWResult.after`).
    lam : float
        The value the US supports; values are divided by it.
    stage_trials : int
        Trials per stage (:data:`~spikingml.stimuli.paradigms.N_STAGES` stages).
    final_trials : int
        Trials at the end of a stage averaged into its value (:func:`stage_end`).
    prefix : str
        Put before every key (``"twin_"`` for the twin, which also leaves out the raw
        values of the blocking groups).

    Returns
    -------
    dict of str to float
        ``acquisition_value``, ``extinction_drop``, ``blocking_ratio`` (and
        ``blocking_value_x``, ``control_value_x``), ``overshadowing_share``,
        ``conditioned_inhibitor_value``, ``overexpectation_drop``: those whose groups
        are in ``curves``.
    """
    end = {
        name: stage_end(v, stage_trials, N_STAGES, final_trials) / lam
        for name, v in curves.items()
    }
    mid = {name: stage_end(v, stage_trials, 2, final_trials) / lam for name, v in curves.items()}
    m: dict[str, float] = {}
    if "acquisition" in curves:
        m["acquisition_value"] = float(end["acquisition"][0])
    if "extinction" in curves:
        before = float(mid["extinction"][0])
        m["extinction_drop"] = 1.0 - float(end["extinction"][0]) / before if before > 0 else np.nan
    if "blocking" in curves:
        x_blocked, x_control = float(end["blocking"][1]), float(end["blocking_control"][1])
        m["blocking_ratio"] = x_blocked / x_control if x_control > 0 else float("nan")
        if not prefix:
            m["blocking_value_x"] = x_blocked
            m["control_value_x"] = x_control
    if "overshadowing" in curves:
        a, b = end["overshadowing"]
        m["overshadowing_share"] = float(a / (a + b)) if a + b > 0 else float("nan")
    if "conditioned_inhibition" in curves:
        m["conditioned_inhibitor_value"] = float(end["conditioned_inhibition"][1])
    if "overexpectation" in curves:
        m["overexpectation_drop"] = float(np.min(mid["overexpectation"] - end["overexpectation"]))
    return {prefix + k: v for k, v in m.items()}
