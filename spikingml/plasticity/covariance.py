r"""A bounded Hebbian covariance rule that learns once per presentation, from spike counts.

The learning rule of associative memories with sparse patterns (Tsodyks & Feigelman
1988; Sejnowski 1977): a synapse grows when its two neurons are both more active than
the coding level ``f`` (or both less), and shrinks when one is and the other is not.
A pattern is shown for a while; every neuron counts its spikes ``c`` during the
presentation, and at its end each synapse changes once, from the two counts (one
``run_regularly`` statement on the presentation clock, so the rule runs unchanged
under ``runtime`` and ``cpp_standalone``):

.. code-block:: text

    a = clip(c / cov_target_count, 0, 1)        (normalised activity of a neuron)
    w = clip(w + rate * cov_learning_rate * (a_pre - cov_coding_level)
                                          * (a_post - cov_coding_level),
             0, cov_w_max)

``rate`` is an expression the circuit provides (``1``, or a ``TimedArray`` of time that
switches learning on and off). The weights stay in ``[0, w_max]``, so they can sit on
excitatory synapses (Dale's law): a circuit starts them at an offset ``w0`` and removes
the offset's mean effect with uniform feedback inhibition; while no weight reaches a
bound, ``w - w0`` is exactly the covariance rule summed over the presentations.
:meth:`BoundedCovariance.numpy_update` is the same update in NumPy (for twins and tests).
The ``cov_`` constants come from the synapses' ``namespace``
(:meth:`BoundedCovariance.namespace`) or are declared shared constants of the synapses
(:meth:`BoundedCovariance.shared_model`; the attractor's run-time fields).

References
----------
Sejnowski, T. J. (1977). Storing covariance with nonlinearly interacting neurons.
J. Math. Biol. 4, 303-321.

Tsodyks, M. V. & Feigelman, M. V. (1988). The enhanced storage capacity in neural
networks with low activity level. Europhys. Lett. 6, 101-105.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from spikingml.errors import ValidationError
from spikingml.params import RuleParams, param

__all__ = ["BoundedCovariance"]


@dataclasses.dataclass(frozen=True)
class BoundedCovariance(RuleParams):
    """Parameters and Brian2 code of the bounded covariance rule.

    Parameters
    ----------
    learning_rate : float
        ``cov_learning_rate`` (the circuit's ``eta``): change of ``w`` per presentation
        for two fully active neurons is ``eta (1 - f)**2``.
    coding_level : float
        ``cov_coding_level`` ``f``: the activity the rule takes as the mean.
    target_count : float
        ``cov_target_count``: the spike count of a neuron that is fully active during a
        presentation (counts above it count as 1).
    w_max : float
        ``cov_w_max``: upper bound of the weights (the lower bound is 0).

    Examples
    --------
    >>> rule = BoundedCovariance(learning_rate=0.01, coding_level=0.1)
    >>> print(rule.update_code("w", rate="learn(t)", count="c"))
    w = clip(w + (learn(t)) * cov_learning_rate * (clip(c_pre / cov_target_count, 0, 1) - cov_coding_level) * (clip(c_post / cov_target_count, 0, 1) - cov_coding_level), 0, cov_w_max)
    """  # noqa: E501

    learning_rate: float = param(0.01, "change per presentation at full covariance", low=0)
    coding_level: float = param(
        0.1, "reference activity f (the coding level)", low=0, high=1, high_inclusive=False
    )
    target_count: float = param(
        10.0, "spike count of a fully active neuron in a presentation", low=0, low_inclusive=False
    )
    w_max: float = param(1.0, "upper bound of the weights", low=0, low_inclusive=False)

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``cov_``."""
        return {
            "cov_learning_rate": float(self.learning_rate),
            "cov_coding_level": float(self.coding_level),
            "cov_target_count": float(self.target_count),
            "cov_w_max": float(self.w_max),
        }

    @staticmethod
    def shared_model() -> str:
        """Model lines declaring the constants of :meth:`namespace` shared constants.

        Append them to the synapses' model instead of passing :meth:`namespace`, and give
        them their values with :func:`spikingml.simulation.set_constants` (``namespace()``
        maps each name to its value): they are then values the compiled
        ``cpp_standalone`` program reads when it runs, so it runs with other values of
        them without being compiled again (:func:`spikingml.simulation.constant_args`).
        """
        names = ("cov_learning_rate", "cov_coding_level", "cov_target_count", "cov_w_max")
        return "".join(f"{name} : 1 (shared, constant)\n" for name in names)

    def update_code(self, weight: str = "w", *, rate: str = "1", count: str = "c") -> str:
        """Return the statement for ``run_regularly`` at the end of every presentation.

        Parameters
        ----------
        weight : str
            The synapses' weight variable.
        rate : str
            Expression scaling the update (0 switches learning off).
        count : str
            The neurons' spike-count variable (read at both ends of the synapse).

        Returns
        -------
        str
            One Brian2 statement.
        """
        where = f"{type(self).__name__}.update_code"
        for argument, name in (("weight", weight), ("count", count)):
            if not isinstance(name, str) or not name.isidentifier():
                raise ValidationError(f"{where}({argument})", "a variable name", name)
        if not isinstance(rate, str) or not rate.strip():
            raise ValidationError(f"{where}(rate)", "an expression such as '1' or 'eta(t)'", rate)
        a_pre = f"(clip({count}_pre / cov_target_count, 0, 1) - cov_coding_level)"
        a_post = f"(clip({count}_post / cov_target_count, 0, 1) - cov_coding_level)"
        return (
            f"{weight} = clip({weight} + ({rate}) * cov_learning_rate * {a_pre} * {a_post}, "
            "0, cov_w_max)"
        )

    def numpy_update(
        self, w: np.ndarray, count_pre: np.ndarray, count_post: np.ndarray, rate: float = 1.0
    ) -> np.ndarray:
        """The same update in NumPy: ``w[i, j]`` from presynaptic ``j`` to postsynaptic ``i``.

        Returns a new array; ``count_pre`` has one entry per column, ``count_post`` one per
        row.
        """
        f = self.coding_level
        a_pre = np.clip(np.asarray(count_pre, float) / self.target_count, 0, 1) - f
        a_post = np.clip(np.asarray(count_post, float) / self.target_count, 0, 1) - f
        dw = rate * self.learning_rate * np.outer(a_post, a_pre)
        return np.clip(np.asarray(w, float) + dw, 0.0, self.w_max)
