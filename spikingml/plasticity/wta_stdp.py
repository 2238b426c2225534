r"""STDP and excitability rules whose fixed points are log-probabilities (Nessler et al. 2013).

In a stochastic winner-take-all circuit each output neuron ``k`` fires with probability
proportional to :math:`\exp(u_k)`, :math:`u_k = \sum_i w_{ki} y_i + b_k`, where
:math:`y_i = 1` while input ``i`` has spiked within the last ``tau_epsp``. The two rules
below make :math:`w_{ki}` and :math:`b_k` converge to log-probabilities of a generative
model, so that the circuit's firing is the posterior of a mixture model and learning is
a stochastic (online) EM.

Equations (in the symbols of the code)
--------------------------------------
:class:`LogProbabilitySTDP`, at every spike of the postsynaptic (output) neuron::

    w = clip(w + stdp_eta * eta_scale * (y_pre * min(stdp_c * exp(-w), stdp_cap) - 1),
             stdp_w_min, stdp_w_max)

LTP of size :math:`c e^{-w} - 1` if the input fired in the last ``tau_epsp`` (``y_pre``
= 1), LTD of size 1 otherwise. Its expected change is zero where
:math:`e^{w} = c\,P(y_i = 1 \mid z_k = 1)`: the weight is a log-probability plus
:math:`\log c`. ``stdp_cap`` bounds the LTP of very small weights (without it one
update can jump several nats; a feasibility study saw learning collapse). ``eta_scale``
is a time-dependent factor the circuit provides (annealing, 0 when learning is off).

:class:`ExcitabilityRule`, at every spike of *any* output neuron of the same circuit,
for every output neuron ``k`` (``delta`` = 1 for the neuron that fired, else 0)::

    b = clip(b + prior_eta * eta_scale * (delta * exp(-b) - 1), prior_b_min, prior_b_max)

Its fixed point is :math:`e^{b_k} = P(z_k = 1)`, the share of output spikes that
neuron ``k`` fires: :math:`b_k` is a log prior and :math:`\sum_k e^{b_k} = 1`.

:class:`HomeostaticExcitability` (Habenschuss, Bill & Nessler 2012), the same events::

    b = b + homeo_eta * eta_scale * (homeo_share - delta)

drives every neuron's share of output spikes to ``homeo_share`` (``1 / K``): EM under
the posterior constraint that every component explains an equal share of the data. It
prevents the rich-get-richer runaway of an online mixture learner (one neuron firing for
every input), at the price of ``b`` no longer being a log prior.

Each rule's ``namespace()`` names its constants and their values. A circuit passes them
as the synapses' namespace (constants of the generated code), or declares them shared
constants of the synapses (:func:`spikingml.simulation.constants_equations`) and sets
them with :func:`spikingml.simulation.set_constants`, as ``wta-em`` does: then a
compiled program runs with other values (run-time fields).

References
----------
Nessler, B., Pfeiffer, M., Buesing, L. & Maass, W. (2013). Bayesian computation emerges
in generic cortical microcircuits through spike-timing-dependent plasticity. PLoS
Comput. Biol. 9, e1003037.

Habenschuss, S., Bill, J. & Nessler, B. (2012). Homeostatic plasticity in Bayesian
spiking networks as expectation maximization with posterior constraints. NIPS 25.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from spikingml.errors import ValidationError

__all__ = ["LogProbabilitySTDP", "ExcitabilityRule", "HomeostaticExcitability"]


def _check_number(name: str, value: Any, positive: bool = True, zero: bool = False) -> None:
    """Refuse anything but a finite number (> 0 if ``positive``; >= 0 with ``zero``)."""
    low = zero and positive
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(float(value))
        or (positive and not low and float(value) <= 0)
        or (low and float(value) < 0)
    ):
        bound = (" >= 0" if low else " > 0") if positive else ""
        raise ValidationError(name, "a finite number" + bound, value)


@dataclasses.dataclass(frozen=True)
class LogProbabilitySTDP:
    """Parameters and Brian2 code of the log-probability STDP rule.

    Parameters
    ----------
    eta : float
        Learning rate (nats per update at ``eta_scale`` = 1).
    c : float
        Offset of the fixed point: ``w -> log(c) + log P(y = 1 | k)``.
    cap : float
        Largest LTP factor ``c exp(-w)``.
    w_min, w_max : float
        Bounds of the weights.
    """

    eta: float = 0.02
    c: float = 20.0
    cap: float = 5.0
    w_min: float = -6.0
    w_max: float = 20.0

    def __post_init__(self) -> None:
        for name in ("eta", "c", "cap"):
            _check_number(f"LogProbabilitySTDP.{name}", getattr(self, name))
        for name in ("w_min", "w_max"):
            _check_number(f"LogProbabilitySTDP.{name}", getattr(self, name), positive=False)
        if self.w_min >= self.w_max:
            raise ValidationError(
                "LogProbabilitySTDP.w_max", f"> w_min ({self.w_min})", self.w_max
            )

    def namespace(self) -> dict[str, float]:
        """Constants of the generated code, prefixed ``stdp_``."""
        return {
            "stdp_eta": float(self.eta),
            "stdp_c": float(self.c),
            "stdp_cap": float(self.cap),
            "stdp_w_min": float(self.w_min),
            "stdp_w_max": float(self.w_max),
        }

    @staticmethod
    def synapse_model() -> str:
        """Per-synapse weight (dimensionless, nats)."""
        return "w : 1\n"

    @staticmethod
    def on_post(eta_scale: str = "1", plastic: str | None = None) -> str:
        """``on_post`` code; the presynaptic group must define ``y`` (0 or 1).

        ``plastic``, an expression that is 0 or 1, leaves the synapses where it is 0
        untouched (not even clipped), e.g. neurons with fixed, loaded weights.
        """
        new = (
            f"clip(w + stdp_eta * ({eta_scale}) * (y_pre * clip(stdp_c * exp(-w), 0, "
            "stdp_cap) - 1), stdp_w_min, stdp_w_max)"
        )
        if plastic is None:
            return f"w = {new}"
        return f"w += ({plastic}) * ({new} - w)"

    def fixed_point(self, p_on: np.ndarray) -> np.ndarray:
        """Where the expected update vanishes: ``log(c p_on)`` (clipped to the bounds)."""
        p_on = np.asarray(p_on, dtype=float)
        with np.errstate(divide="ignore"):
            return np.clip(np.log(self.c * p_on), self.w_min, self.w_max)

    def reference_update(self, w: np.ndarray, y: np.ndarray, eta_scale: float = 1.0) -> np.ndarray:
        """The update of one postsynaptic spike in NumPy (for tests)."""
        w = np.asarray(w, dtype=float)
        ltp = np.minimum(self.c * np.exp(-w), self.cap)
        return np.clip(
            w + self.eta * eta_scale * (np.asarray(y) * ltp - 1), self.w_min, self.w_max
        )


@dataclasses.dataclass(frozen=True)
class ExcitabilityRule:
    """Parameters and Brian2 code of the excitability (log-prior) rule.

    Parameters
    ----------
    eta : float
        Learning rate (0: off; the code still clips ``b`` at every spike).
    b_min, b_max : float
        Bounds of the excitabilities (log priors are <= 0).
    """

    eta: float = 0.005
    b_min: float = -8.0
    b_max: float = 0.0

    def __post_init__(self) -> None:
        _check_number("ExcitabilityRule.eta", self.eta, zero=True)
        for name in ("b_min", "b_max"):
            _check_number(f"ExcitabilityRule.{name}", getattr(self, name), positive=False)
        if self.b_min >= self.b_max:
            raise ValidationError("ExcitabilityRule.b_max", f"> b_min ({self.b_min})", self.b_max)

    def namespace(self) -> dict[str, float]:
        """Constants of the generated code, prefixed ``prior_``."""
        return {
            "prior_eta": float(self.eta),
            "prior_b_min": float(self.b_min),
            "prior_b_max": float(self.b_max),
        }

    @staticmethod
    def on_pre(eta_scale: str = "1") -> str:
        """``on_pre`` code of all-to-all output -> output synapses (self-connections included).

        The output group must define ``b``; ``i == j`` marks the neuron that fired.
        """
        return (
            f"b_post = clip(b_post + prior_eta * ({eta_scale}) * (int(i == j) * exp(-b_post)"
            " - 1), prior_b_min, prior_b_max)"
        )

    def reference_update(self, b: np.ndarray, winner: int, eta_scale: float = 1.0) -> np.ndarray:
        """The update of one spike of neuron ``winner`` in NumPy (for tests)."""
        b = np.asarray(b, dtype=float)
        delta = np.zeros_like(b)
        delta[winner] = 1.0
        return np.clip(b + self.eta * eta_scale * (delta * np.exp(-b) - 1), self.b_min, self.b_max)


@dataclasses.dataclass(frozen=True)
class HomeostaticExcitability:
    """Parameters and Brian2 code of the homeostatic excitability rule.

    Parameters
    ----------
    eta : float
        Learning rate (0: off, ``b`` unchanged).
    share : float
        Target share of the output spikes of every neuron (``1 / K``), in (0, 1).
    """

    eta: float = 0.01
    share: float = 0.1

    def __post_init__(self) -> None:
        _check_number("HomeostaticExcitability.eta", self.eta, zero=True)
        _check_number("HomeostaticExcitability.share", self.share)
        if not self.share < 1:
            raise ValidationError("HomeostaticExcitability.share", "a share < 1", self.share)

    def namespace(self) -> dict[str, float]:
        """Constants of the generated code, prefixed ``homeo_``."""
        return {"homeo_eta": float(self.eta), "homeo_share": float(self.share)}

    @staticmethod
    def on_pre(eta_scale: str = "1") -> str:
        """``on_pre`` code of all-to-all output -> output synapses (self-connections included)."""
        return f"b_post = b_post + homeo_eta * ({eta_scale}) * (homeo_share - int(i == j))"

    def reference_update(self, b: np.ndarray, winner: int, eta_scale: float = 1.0) -> np.ndarray:
        """The update of one spike of neuron ``winner`` in NumPy (for tests)."""
        b = np.asarray(b, dtype=float)
        delta = np.zeros_like(b)
        delta[winner] = 1.0
        return b + self.eta * eta_scale * (self.share - delta)
