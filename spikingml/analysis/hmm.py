r"""Exact inference in a two-state hidden Markov model with Poisson observations.

The abstract twin of :mod:`spikingml.circuits.bayesian_neuron` (Deneve 2008). A hidden
state :math:`x \in \{0, 1\}` switches off -> on at rate :math:`r_{on}` and on -> off at
rate :math:`r_{off}`; input ``i`` is Poisson with rate :math:`q_{on,i}` or
:math:`q_{off,i}`. On bins of width :math:`\Delta` (the state constant within a bin,
counts :math:`n_{k,i}`), the forward filter in log-odds
:math:`L_k = \log P(x_{k-1} = 1 \mid n_{<k}) / P(x_{k-1} = 0 \mid n_{<k})` alternates a
prediction through the transition matrix and an update by the Poisson likelihood ratio:

.. math::

    \tilde L = \log \frac{e^{L_k} (1 - p_{off}) + p_{on}}{e^{L_k} p_{off} + 1 - p_{on}},
    \qquad
    L_{k+1} = \tilde L + \sum_i w_i n_{k,i} - \theta \Delta,

with :math:`w_i = \log(q_{on,i} / q_{off,i})` and :math:`\theta = \sum_i (q_{on,i} -
q_{off,i})`. As :math:`\Delta \to 0` this becomes Deneve's equation, which the spiking
neuron integrates:

.. math:: \frac{dL}{dt} = r_{on} (1 + e^{-L}) - r_{off} (1 + e^{L}) - \theta
          + \sum_i w_i s_i(t).

Contents
--------
:func:`forward_logodds`
    The exact filter (log-odds after every bin).
:func:`brute_force_logodds`
    The same posterior by summing over every path of a short chain (for tests).
:func:`logodds_drift`
    :math:`\phi(L) = r_{on} (1 + e^{-L}) - r_{off} (1 + e^{L})`.
:func:`decode_output_spikes`
    The prediction :math:`G` of the circuit recomputed from its output spikes alone.
:func:`fit_threshold`, :func:`threshold_accuracy`
    A causal threshold decoder fitted on one stretch and tested on another.
:func:`readout`, :func:`decoding_metrics`
    The traces of a run of :mod:`spikingml.circuits.bayesian_neuron` aligned with the
    exact filter, and the metrics comparing them.

Reference
---------
Deneve, S. (2008). Bayesian spiking neurons I: inference. Neural Computation 20, 91-117.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import numpy as np

from spikingml.analysis.stats import pearson
from spikingml.errors import ValidationError
from spikingml.stimuli.hidden_markov import switch_probabilities

if TYPE_CHECKING:
    from spikingml.result import Result

__all__ = [
    "input_weights",
    "forward_logodds",
    "brute_force_logodds",
    "logodds_drift",
    "decode_output_spikes",
    "fit_threshold",
    "threshold_accuracy",
    "readout",
    "decoding_metrics",
]


def input_weights(q_on: np.ndarray, q_off: np.ndarray) -> tuple[np.ndarray, float]:
    r"""Weights :math:`w_i = \log(q_{on,i} / q_{off,i})` and :math:`\theta = \sum_i
    (q_{on,i} - q_{off,i})` (Hz)."""
    q_on = np.asarray(q_on, dtype=float)
    q_off = np.asarray(q_off, dtype=float)
    if q_on.shape != q_off.shape or np.any(q_on <= 0) or np.any(q_off <= 0):
        raise ValidationError("q_on, q_off", "positive rates of the same shape", q_on.shape)
    return np.log(q_on / q_off), float(np.sum(q_on - q_off))


def _check_counts(counts: np.ndarray, q_on: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[1] != len(np.atleast_1d(q_on)):
        raise ValidationError(
            "counts", f"a (bins, {len(np.atleast_1d(q_on))}) array of spike counts", counts.shape
        )
    return counts


def forward_logodds(
    counts: np.ndarray,
    q_on: np.ndarray,
    q_off: np.ndarray,
    r_on: float,
    r_off: float,
    bin_width: float,
    prior: float | None = None,
) -> np.ndarray:
    """The exact posterior log-odds of the hidden state, before and after every bin.

    Parameters
    ----------
    counts : ndarray of int, shape (n_bins, n_inputs)
        Spike counts per bin and input.
    q_on, q_off : array_like, shape (n_inputs,)
        Input rates (Hz) in the on and off state.
    r_on, r_off : float
        Switching rates (Hz).
    bin_width : float
        Bin width (s).
    prior : float, optional
        Log-odds of the state of the first bin before any observation; default the
        stationary value ``log(r_on / r_off)``.

    Returns
    -------
    ndarray, shape (n_bins + 1,)
        Entry ``k`` is the log-odds of the state of bin ``k - 1`` given the counts of
        bins ``0 .. k - 1`` (entry 0: the prior of bin 0).
    """
    counts = _check_counts(counts, q_on)
    w, theta = input_weights(q_on, q_off)
    p_on, p_off = switch_probabilities(r_on, r_off, bin_width)
    evidence = counts @ w - theta * bin_width
    out = np.empty(len(counts) + 1)
    L = math.log(r_on / r_off) if prior is None else float(prior)
    out[0] = L
    stay_on, stay_off = math.log1p(-p_off), math.log1p(-p_on)
    log_on, log_off = math.log(p_on), math.log(p_off)
    for k, e in enumerate(evidence.tolist()):
        if k > 0:  # predict the state of bin k from that of bin k - 1
            L = _logaddexp(L + stay_on, log_on) - _logaddexp(L + log_off, stay_off)
        L += e
        out[k + 1] = L
    return out


def _logaddexp(a: float, b: float) -> float:
    if a > b:
        return a + math.log1p(math.exp(b - a))
    return b + math.log1p(math.exp(a - b))


def brute_force_logodds(
    counts: np.ndarray,
    q_on: np.ndarray,
    q_off: np.ndarray,
    r_on: float,
    r_off: float,
    bin_width: float,
) -> np.ndarray:
    """The posterior log-odds of :func:`forward_logodds` by summing over every path.

    Enumerates all :math:`2^K` state sequences of a chain of ``K`` bins (so only for
    short chains, K <= 16), weighting each by its prior (stationary start, switching
    probabilities per bin) and its Poisson likelihood, and returns the log-odds of the
    last bin's state for every prefix of the counts, with the prior as entry 0.
    """
    counts = _check_counts(counts, q_on)
    n_bins = len(counts)
    if n_bins > 16:
        raise ValidationError("counts", "at most 16 bins for brute force", n_bins)
    q = np.stack([np.asarray(q_off, float), np.asarray(q_on, float)])  # (2, n_inputs)
    p_on, p_off = switch_probabilities(r_on, r_off, bin_width)
    trans = np.array([[1 - p_on, p_on], [p_off, 1 - p_off]])
    start = np.array([r_off, r_on]) / (r_on + r_off)
    # log Poisson likelihood of each bin's counts under each state (factorials cancel)
    loglik = counts @ np.log(q).T - bin_width * q.sum(axis=1)  # (n_bins, 2)
    out = [math.log(r_on / r_off)]
    for k in range(1, n_bins + 1):
        post = np.zeros(2)
        for path in itertools.product((0, 1), repeat=k):
            logp = math.log(start[path[0]]) + loglik[0, path[0]]
            for t in range(1, k):
                logp += math.log(trans[path[t - 1], path[t]]) + loglik[t, path[t]]
            post[path[-1]] += math.exp(logp)
        out.append(math.log(post[1] / post[0]))
    return np.array(out)


def logodds_drift(L: np.ndarray | float, r_on: float, r_off: float) -> np.ndarray | float:
    r""":math:`\phi(L) = r_{on} (1 + e^{-L}) - r_{off} (1 + e^{L})`, the prior's pull (Hz)."""
    return r_on * (1 + np.exp(-L)) - r_off * (1 + np.exp(L))


def decode_output_spikes(
    steps: np.ndarray,
    signs: np.ndarray,
    n_steps: int,
    dt: float,
    eta: float,
    r_on: float,
    r_off: float,
    theta_g: float,
    g0: float,
    sample_every: int,
) -> np.ndarray:
    r"""Integrate the prediction :math:`G` from the output spikes alone.

    :math:`dG/dt = \phi(G) - \theta_G`, and :math:`G \mathrel{+}= \pm\eta` at every spike
    of an on (+1) or off (-1) output neuron, with forward Euler steps of ``dt`` as in the
    circuit. Used to check that the circuit's ``G`` is a function of its output spikes.

    Parameters
    ----------
    steps : ndarray of int
        Time step of every output spike.
    signs : ndarray
        +1 or -1 for every spike.
    n_steps : int
        Number of steps to integrate.
    dt, eta, r_on, r_off, theta_g, g0 : float
        Step (s), jump per spike, switching rates (Hz), constant drift (Hz), start value.
    sample_every : int
        Return ``G`` at the start of every ``sample_every``-th step.

    Returns
    -------
    ndarray, shape (ceil(n_steps / sample_every),)
    """
    jumps = np.zeros(n_steps)
    np.add.at(jumps, np.asarray(steps, dtype=np.int64), eta * np.asarray(signs, dtype=float))
    jump_list = jumps.tolist()
    out = []
    G = float(g0)
    exp = math.exp
    for k in range(n_steps):
        if k % sample_every == 0:
            out.append(G)
        # Brian2's order within a step: state update, then the spikes' effects
        G += dt * (r_on * (1 + exp(-G)) - r_off * (1 + exp(G)) - theta_g)
        G += jump_list[k]
    return np.array(out)


def fit_threshold(values: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The threshold ``c`` for which ``values > c`` predicts ``labels`` best.

    Returns
    -------
    threshold, accuracy : float
        The best threshold (midway between neighbouring sorted values) and its accuracy
        on the data it was fitted to.
    """
    values = np.asarray(values, dtype=float).ravel()
    labels = np.asarray(labels).ravel().astype(bool)
    if values.shape != labels.shape or values.size == 0:
        raise ValidationError("values, labels", "two non-empty arrays of one length", values.shape)
    order = np.argsort(values, kind="stable")
    v, y = values[order], labels[order]
    # threshold below element k: elements < k predicted off, >= k predicted on
    off_correct = np.concatenate([[0], np.cumsum(~y)])
    on_correct = np.concatenate([np.cumsum(y[::-1])[::-1], [0]])
    correct = off_correct + on_correct
    # only cuts between distinct values are realisable
    valid = np.concatenate([[True], v[1:] > v[:-1], [True]])
    correct = np.where(valid, correct, -1)
    k = int(np.argmax(correct))
    if k == 0:
        threshold = v[0] - 1.0
    elif k == len(v):
        threshold = v[-1] + 1.0
    else:
        threshold = 0.5 * (v[k - 1] + v[k])
    return float(threshold), float(correct[k] / len(v))


def threshold_accuracy(values: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    """Fraction of samples where ``values > threshold`` equals ``labels``."""
    values = np.asarray(values, dtype=float).ravel()
    labels = np.asarray(labels).ravel().astype(bool)
    return float(np.mean((values > threshold) == labels))


# ------------------------------------------------------------------ metrics of a run
def readout(result: Result, logodds: np.ndarray, state: np.ndarray) -> dict[str, np.ndarray]:
    """A run's traces aligned with the exact filter, one entry per bin ``k >= 1``.

    Parameters
    ----------
    result : Result
        A run of :mod:`spikingml.circuits.bayesian_neuron`: signals ``L`` and ``G``
        sampled at the start of every bin.
    logodds : ndarray, shape (n_bins + 1,)
        The exact filter's log-odds (:func:`forward_logodds`; entry 0: the prior).
    state : ndarray of int, shape (n_bins,)
        The hidden state of every bin.

    Returns
    -------
    dict
        ``exact`` (the filter's log-odds of the state of bin ``k - 1``), ``L`` and ``G``
        (the circuit's, recorded at the start of bin ``k``: after the inputs of bins
        ``< k``), ``state`` (the hidden state of bin ``k - 1``) and ``t`` (the time, s).
    """
    L = result.signals["L"].values[:, 0]
    G = result.signals["G"].values[:, 0]
    n = len(L)
    return {
        "t": result.signals["L"].times[1:],
        "exact": logodds[1:n],
        "L": L[1:],
        "G": G[1:],
        "state": state[: n - 1],
    }


def decoding_metrics(
    exact: np.ndarray, L: np.ndarray, G: np.ndarray, state: np.ndarray
) -> dict[str, float]:
    """How well the circuit's log-odds follow the exact filter's, and decode the state.

    The threshold ``c`` of the causal decoder ``G > c`` is fitted on the first half of
    the bins and tested on the second, beside the exact filter's MAP decision
    ``exact > 0`` on the same bins.

    Parameters
    ----------
    exact, L, G, state : ndarray, shape (n,)
        Aligned traces (:func:`readout`).

    Returns
    -------
    dict of str to float
        ``internal_logodds_correlation`` (r of ``L`` and ``exact``),
        ``logodds_correlation`` (of ``G``), ``decoding_accuracy``, ``map_accuracy``,
        ``accuracy_gap`` (MAP minus decoding), ``decoder_threshold`` and
        ``logodds_rms_error`` (of ``G - exact``).
    """
    n = len(state)
    fit, test = slice(0, n // 2), slice(n // 2, n)
    threshold, _ = fit_threshold(G[fit], state[fit])
    decoding = threshold_accuracy(G[test], state[test], threshold)
    exact_map = threshold_accuracy(exact[test], state[test], 0.0)
    return {
        "internal_logodds_correlation": pearson(L, exact),
        "logodds_correlation": pearson(G, exact),
        "decoding_accuracy": decoding,
        "map_accuracy": exact_map,
        "accuracy_gap": exact_map - decoding,
        "decoder_threshold": threshold,
        "logodds_rms_error": float(np.sqrt(np.mean((G - exact) ** 2))),
    }
