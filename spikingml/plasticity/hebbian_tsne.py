r"""Hebbian t-SNE: a three-factor Hebbian rule that embeds successive inputs like t-SNE.

Contents
--------
:class:`HebbianTsneRule`
    The plastic synapses from a sparse expansion layer (``z``, Kenyon cells) to a
    low-dimensional output (``y``, two coordinates) and the global third factor that a
    modulatory neuron computes once per input window from the last two inputs.
:func:`reference_update`
    The same rule in NumPy on rates: one window's weight change and the modulator's new
    state (the tests check the Brian2 code against it).

The idea (Yoshida & Toyoizumi 2025)
-----------------------------------
t-SNE (van der Maaten & Hinton 2008) places points ``y_i`` so that the similarities
``q_ij`` of the embedding, a Cauchy kernel ``1 / (1 + |y_i - y_j|^2)`` normalised over
all pairs, match the similarities ``p_ij`` of the data. The gradient of its cost
``KL(P || Q)`` with respect to a pair's difference ``y_i - y_j`` is
``4 (p_ij - q_ij) (1 + |y_i - y_j|^2)^-1 (y_i - y_j)``. If ``y = W z`` is a linear readout
of a fixed expansion ``z`` of the input, the pair's share of the gradient with respect
to ``W`` is that vector times ``(z_i - z_j)^T``: the product of the change of the
postsynaptic activity and the change of the presynaptic activity between the two
inputs, scaled by one number common to every synapse. Yoshida & Toyoizumi made that
number a global (neuromodulatory) third factor, computed from two *successive* inputs,
so that the network sees one pair per input: a three-factor Hebbian rule that learns a
t-SNE-like embedding online.

Equations (in the symbols of the code)
--------------------------------------
Once per window, after window ``k`` ended, with ``z`` and ``z_prev`` the expansion
layer's spike counts of windows ``k`` and ``k - 1`` and ``y``, ``y_prev`` the decoded
output coordinates of the same windows, the modulator computes::

    dz2   = sum_j (z_j - z_prev_j)^2                 change in the expansion layer
    dy_a  = y_a - y_prev_a  (a = 0, 1)               change in the output
    ky    = 1 / (1 + dy_0^2 + dy_1^2)                output similarity (Cauchy kernel)
    m_dz2 <- m_dz2 + (dz2 - m_dz2) / ht_tau           running mean of dz2
    kx    = exp(-dz2 / (ht_bandwidth * m_dz2))        input similarity (Gaussian kernel)
    m_kx  <- m_kx + (kx - m_kx) / ht_tau              running means: the normalisers
    m_ky  <- m_ky + (ky - m_ky) / ht_tau
    D     = clip(exaggeration * kx / m_kx - ky / m_ky, -ht_clip, ht_clip)
    g_a   = -ht_eta * learning * D * ky * dy_a / (dz2 + ht_eps)

and every synapse from expansion neuron ``j`` to an output neuron of axis ``a``::

    w += g_a * (z_j - z_prev_j)

``kx / m_kx`` and ``ky / m_ky`` estimate ``p_ij`` and ``q_ij`` up to the common factor
``N (N - 1)`` (each kernel divided by its mean over the pairs seen recently), so ``D``
is t-SNE's ``p_ij - q_ij`` for the pair of successive inputs: positive (attract, an
anti-Hebbian change on the differences) when the two inputs are more similar in the
expansion layer than their outputs are, negative (repel) otherwise. ``exaggeration``
(t-SNE's early exaggeration, > 1 early in learning) and ``learning`` (a learning-rate
schedule, 0 at test) are schedules the circuit provides as ``ht_exaggeration(t)`` and
``ht_learning(t)``. Two departures from the plain gradient make the online rule stable
with one pair per step: the change is divided by ``dz2`` (as the normalised LMS rule
divides by the input's power: the pair's own output difference then changes by exactly
``-ht_eta * learning * D * ky * dy``, whatever the size of the expansion), and ``D`` is
clipped. Without them a learning rate large enough to learn in a few hundred passes
overshoots on pairs with large ``dz2`` (measured in a NumPy model: 0.62-0.72
trustworthiness instead of 0.87-0.89 on 500 digits, 100-400 passes).

The first two windows only fill ``z_prev`` and ``y_prev``: learning starts with the
third (``n_seen >= 2``), and the running means start at the first pair's values.

References
----------
Yoshida, K. & Toyoizumi, T. (2025). A biological model of nonlinear dimensionality
reduction. Science Advances 11(6), eadp9048.

van der Maaten, L. & Hinton, G. (2008). Visualizing data using t-SNE. Journal of
Machine Learning Research 9, 2579-2605.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from spikingml.params import RuleParams, param

__all__ = ["HebbianTsneRule", "ModulatorState", "reference_update"]


@dataclasses.dataclass(frozen=True)
class HebbianTsneRule(RuleParams):
    """Parameters and Brian2 code of the Hebbian t-SNE rule.

    Parameters
    ----------
    learning_rate : float
        ``ht_eta``: the pair's output difference shrinks or grows by this fraction of
        ``D * ky`` per window (the normalised step).
    bandwidth : float
        ``ht_bandwidth``: width of the input kernel, in units of the running mean of
        ``dz2`` (smaller: fewer pairs count as neighbours, as a lower perplexity).
    clip : float
        ``ht_clip``: ``D`` is clipped to ``[-clip, clip]``.
    tau_windows : float
        ``ht_tau``: windows over which the running means average.

    Examples
    --------
    >>> rule = HebbianTsneRule(learning_rate=0.2)
    >>> rule.synapse_update()
    'w += gate_post * (z_pre - z_prev_pre)'
    """

    learning_rate: float = param(0.2, "ht_eta: normalised learning rate", low=0)
    bandwidth: float = param(
        0.1, "ht_bandwidth: input kernel width / mean dz2", low=0, low_inclusive=False
    )
    clip: float = param(
        20.0, "ht_clip: bound of the third factor, abs(D)", low=0, low_inclusive=False
    )
    tau_windows: float = param(
        100.0, "ht_tau: windows of the running means", low=1, low_inclusive=True
    )

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``ht_``."""
        return {
            "ht_eta": float(self.learning_rate),
            "ht_bandwidth": float(self.bandwidth),
            "ht_clip": float(self.clip),
            "ht_tau": float(self.tau_windows),
            "ht_eps": 1e-9,
        }

    @staticmethod
    def modulator_model() -> str:
        """Model of the modulatory neuron: sums it receives and the state it keeps.

        ``dz2``, ``y0`` and ``y1`` are targets of summed variables that the circuit
        provides (from the expansion layer and from the output neurons).
        """
        return (
            "dz2 : 1\ny0 : 1\ny1 : 1\n"
            "y0_prev : 1\ny1_prev : 1\n"
            "m_dz2 : 1\nm_kx : 1\nm_ky : 1\n"
            "kx : 1\nky : 1\nD : 1\ng0 : 1\ng1 : 1\nn_seen : 1\n"
        )

    @staticmethod
    def modulator_update() -> str:
        """Code the modulator runs once per window (after its sums are updated)."""
        return (
            "valid = int(n_seen >= 2)\n"
            "first = int(n_seen == 2)\n"
            "dy0 = y0 - y0_prev\n"
            "dy1 = y1 - y1_prev\n"
            "ky = 1 / (1 + dy0**2 + dy1**2)\n"
            "m_dz2 = first * dz2 + (1 - first) * (m_dz2 + valid * (dz2 - m_dz2) / ht_tau)\n"
            "kx = exp(-dz2 / (ht_bandwidth * m_dz2 + ht_eps))\n"
            "m_kx = first * kx + (1 - first) * (m_kx + valid * (kx - m_kx) / ht_tau)\n"
            "m_ky = first * ky + (1 - first) * (m_ky + valid * (ky - m_ky) / ht_tau)\n"
            "D = ht_exaggeration(t) * kx / (m_kx + ht_eps) - ky / (m_ky + ht_eps)\n"
            "D = clip(D, -ht_clip, ht_clip)\n"
            "gate = -valid * ht_eta * ht_learning(t) * D * ky / (dz2 + ht_eps)\n"
            "g0 = gate * dy0\n"
            "g1 = gate * dy1\n"
            "y0_prev = y0\n"
            "y1_prev = y1\n"
            "n_seen += 1\n"
        )

    @staticmethod
    def output_model() -> str:
        """What an output neuron reads from the modulator and declares of itself."""
        return "g0 : 1 (linked)\ng1 : 1 (linked)\naxis0 : 1 (constant)\ngate : 1\n"

    @staticmethod
    def output_update() -> str:
        """An output neuron's gate, once per window: the modulator's value for its axis."""
        return "gate = axis0 * g0 + (1 - axis0) * g1"

    @staticmethod
    def synapse_model() -> str:
        """Model of the plastic synapses: the weight (in output coordinates per spike)."""
        return "w : 1\n"

    @staticmethod
    def synapse_update() -> str:
        """The synapse's change once per window: third factor x post x pre change."""
        return "w += gate_post * (z_pre - z_prev_pre)"


@dataclasses.dataclass
class ModulatorState:
    """The modulator's state between windows (:func:`reference_update`)."""

    y_prev: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(2))
    m_dz2: float = 0.0
    m_kx: float = 0.0
    m_ky: float = 0.0
    n_seen: int = 0


def reference_update(
    rule: HebbianTsneRule,
    state: ModulatorState,
    z: np.ndarray,
    z_prev: np.ndarray,
    y: np.ndarray,
    exaggeration: float = 1.0,
    learning: float = 1.0,
) -> tuple[np.ndarray, dict[str, float]]:
    """One window of the rule in NumPy: the weight change and the modulator's values.

    Parameters
    ----------
    rule : HebbianTsneRule
        The rule's parameters.
    state : ModulatorState
        The modulator's state, updated in place.
    z, z_prev : ndarray, shape (n_expansion,)
        Expansion layer's activity in this window and the previous one.
    y : ndarray, shape (2,)
        Output coordinates in this window.
    exaggeration, learning : float
        The schedules' values in this window.

    Returns
    -------
    dW : ndarray, shape (2, n_expansion)
        Change of the weights from every expansion neuron to each axis.
    values : dict
        ``kx``, ``ky``, ``D``, ``dz2`` of this window.
    """
    ns = rule.namespace()
    z, z_prev, y = (np.asarray(a, dtype=float) for a in (z, z_prev, y))
    valid, first = float(state.n_seen >= 2), float(state.n_seen == 2)
    dz = z - z_prev
    dz2 = float(dz @ dz)
    dy = y - state.y_prev
    ky = 1.0 / (1.0 + float(dy @ dy))
    lam = 1.0 / ns["ht_tau"]
    state.m_dz2 = first * dz2 + (1 - first) * (state.m_dz2 + valid * (dz2 - state.m_dz2) * lam)
    kx = float(np.exp(-dz2 / (ns["ht_bandwidth"] * state.m_dz2 + ns["ht_eps"])))
    state.m_kx = first * kx + (1 - first) * (state.m_kx + valid * (kx - state.m_kx) * lam)
    state.m_ky = first * ky + (1 - first) * (state.m_ky + valid * (ky - state.m_ky) * lam)
    d = exaggeration * kx / (state.m_kx + ns["ht_eps"]) - ky / (state.m_ky + ns["ht_eps"])
    d = float(np.clip(d, -ns["ht_clip"], ns["ht_clip"]))
    gate = -valid * ns["ht_eta"] * learning * d * ky / (dz2 + ns["ht_eps"])
    state.y_prev = y.copy()
    state.n_seen += 1
    return gate * np.outer(dy, dz), {"kx": kx, "ky": ky, "D": d, "dz2": dz2}
