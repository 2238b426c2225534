r"""Competitive learning in a soft winner-take-all layer: the instar rule and homeostasis.

In a block of ``K`` units that share one normaliser (a soft winner-take-all), unit ``k``
fires at the rate :math:`R\,e^{g u_k + b_k} / \sum_l e^{g u_l + b_l}` with
:math:`u_k = \sum_i w_{ki} y_i - \tfrac12 \sum_i w_{ki}^2` (the log-likelihood, up to a
constant, of the input ``y`` under a Gaussian centred on the unit's weights). Its spikes
are samples of the posterior of a Gaussian mixture, and the two rules below make the
block learn that mixture online, as k-means with soft assignments (Nowlan 1990).

Equations (in the symbols of the code)
--------------------------------------
:class:`InstarRule`, at every spike of the postsynaptic unit::

    w += rate * instar_eta * (y_pre - w)

Grossberg's (1976) instar: the weights move towards the input that made the unit fire,
so each unit's weights converge to the mean of the inputs it wins (the mixture's
centre; Rumelhart & Zipser 1985). Its expected change per unit time is proportional to
the posterior of the unit, as the M-step of online EM.

:class:`WindowHomeostasis`, once per presentation of ``duration`` in which the unit
fired ``c`` spikes::

    b += rate * homeo_eta * (1 / K - c / (R * duration))

drives every unit's share of its block's spikes to ``1 / K`` (Habenschuss, Bill & Nessler
2012): no unit wins every input, none is never used.

References
----------
Grossberg, S. (1976). Adaptive pattern classification and universal recoding: I.
Parallel development and coding of neural feature detectors. Biol. Cybern. 23, 121-134.

Rumelhart, D. E. & Zipser, D. (1985). Feature discovery by competitive learning.
Cognitive Science 9, 75-112.

Nowlan, S. J. (1990). Maximum likelihood competitive learning. NIPS 2, 574-582.

Habenschuss, S., Bill, J. & Nessler, B. (2012). Homeostatic plasticity in Bayesian
spiking networks as expectation maximization with posterior constraints. NIPS 25.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from spikingml.errors import ValidationError
from spikingml.params import RuleParams, param

__all__ = ["InstarRule", "WindowHomeostasis"]


def _expression(rule: RuleParams, method: str, argument: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{type(rule).__name__}.{method}({argument})", "a Brian2 expression", value
        )


@dataclasses.dataclass(frozen=True)
class InstarRule(RuleParams):
    """Parameters and Brian2 code of the instar rule (competitive learning).

    Parameters
    ----------
    eta : float
        ``instar_eta``, the step towards the input at every postsynaptic spike.

    Examples
    --------
    >>> print(InstarRule(eta=0.001).on_post(rate="learn(t)"))
    w += (learn(t)) * instar_eta * (y_pre - w)
    """

    eta: float = param(0.001, "step towards the input per postsynaptic spike", low=0, high=1)

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``instar_``."""
        return {"instar_eta": float(self.eta)}

    def on_post(self, weight: str = "w", *, rate: str = "1", trace: str = "y") -> str:
        """``on_post`` statement: ``weight`` moves towards the presynaptic ``trace``."""
        for name, value in (("weight", weight), ("trace", trace)):
            if not isinstance(value, str) or not value.isidentifier():
                raise ValidationError(f"InstarRule.on_post({name})", "a variable name", value)
        _expression(self, "on_post", "rate", rate)
        return f"{weight} += ({rate}) * instar_eta * ({trace}_pre - {weight})"

    def reference_update(self, w: np.ndarray, y: np.ndarray, rate: float = 1.0) -> np.ndarray:
        """The update of one postsynaptic spike in NumPy (for tests)."""
        w = np.asarray(w, dtype=float)
        return w + rate * self.eta * (np.asarray(y, dtype=float) - w)


@dataclasses.dataclass(frozen=True)
class WindowHomeostasis(RuleParams):
    """Parameters and Brian2 code of per-presentation excitability homeostasis.

    Parameters
    ----------
    eta : float
        ``homeo_eta``, the change of ``b`` per unit of share error.

    Examples
    --------
    >>> print(WindowHomeostasis(eta=0.05).update_code("K", "R", "T_on", rate="learn(t)"))
    b += (learn(t)) * homeo_eta * (1 / K - c / (R * T_on))
    """

    eta: float = param(0.05, "excitability change per unit of share error", low=0)

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``homeo_``."""
        return {"homeo_eta": float(self.eta)}

    def update_code(
        self, block_size: str, rate_max: str, duration: str, *, rate: str = "1", count: str = "c"
    ) -> str:
        """``run_regularly`` statement at the end of every presentation.

        Parameters
        ----------
        block_size, rate_max, duration : str
            Expressions of ``K`` (units per block), ``R`` (the block's total rate) and
            the time the block was allowed to fire in the presentation.
        rate : str
            Expression scaling the update (a learning schedule).
        count : str
            The unit's spike count in the presentation.
        """
        for name, value in (("block_size", block_size), ("rate_max", rate_max)):
            _expression(self, "update_code", name, value)
        _expression(self, "update_code", "duration", duration)
        _expression(self, "update_code", "rate", rate)
        if not isinstance(count, str) or not count.isidentifier():
            raise ValidationError("WindowHomeostasis.update_code(count)", "a variable name", count)
        return (
            f"b += ({rate}) * homeo_eta * (1 / {block_size} - {count} / ({rate_max} * {duration}))"
        )

    def reference_update(
        self, b: np.ndarray, counts: np.ndarray, rate_max: float, duration: float
    ) -> np.ndarray:
        """The update of one presentation in NumPy (for tests); ``K = len(b)``."""
        b = np.asarray(b, dtype=float)
        return b + self.eta * (1 / len(b) - np.asarray(counts, float) / (rate_max * duration))
