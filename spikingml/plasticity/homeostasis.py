r"""Homeostatic plasticity: neurons adapt their own excitability to a target activity.

Contents
--------
:class:`HomeostaticThreshold`
    A neuron's firing threshold rises when it fired more than its target number of
    spikes in a presentation and falls when it fired fewer, so every neuron settles at
    the target: a sparse code whose sparseness is set, not learned by accident.

Equation (in the symbols of the code)
-------------------------------------
At the end of every presentation (a ``run_regularly`` operation on its clock), with
``n`` the spikes the neuron fired during it and ``rate`` a factor the circuit provides
(a learning-rate schedule, or ``1``)::

    theta += rate * hth_learning_rate * (n - hth_target_count)

On average :math:`\Delta\theta \propto \langle n \rangle - p`: the fixed point is
:math:`\langle n \rangle = p`, stable because a higher threshold lowers the count. The
circuit resets ``n`` (and whatever else it accumulates) after the update. Savin, Joshi &
Triesch (2010) derive such intrinsic plasticity from information maximisation; SAILnet
(Zylberberg, Murphy & DeWeese 2011) uses this form.

References
----------
Savin, C., Joshi, P. & Triesch, J. (2010). Independent component analysis in spiking
neurons. PLoS Comput. Biol. 6, e1000757.

Zylberberg, J., Murphy, J. T. & DeWeese, M. R. (2011). A sparse coding model with
synaptically local plasticity and spiking neurons can account for the diverse shapes of
V1 simple cell receptive fields. PLoS Comput. Biol. 7, e1002250.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from spikingml.errors import ValidationError
from spikingml.params import RuleParams, param

__all__ = ["HomeostaticThreshold"]


@dataclasses.dataclass(frozen=True)
class HomeostaticThreshold(RuleParams):
    """Parameters and Brian2 code of the homeostatic threshold rule.

    Parameters
    ----------
    learning_rate : float
        ``hth_learning_rate`` (the v1-ica circuit's ``gamma``): threshold change per
        spike above the target, at ``rate`` 1.
    target_count : float
        ``hth_target_count``: spikes per neuron and presentation that the rule holds
        (``p``).

    Examples
    --------
    >>> rule = HomeostaticThreshold(learning_rate=0.05, target_count=0.05)
    >>> print(rule.update_code("theta", count="n"))
    theta += (1) * hth_learning_rate * (n - hth_target_count)
    """

    learning_rate: float = param(0.05, "threshold change per spike above the target", low=0)
    target_count: float = param(
        0.05, "target spikes per neuron and presentation (p)", low=0, low_inclusive=False
    )

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``hth_``."""
        return {
            "hth_learning_rate": float(self.learning_rate),
            "hth_target_count": float(self.target_count),
        }

    def update_code(self, threshold: str = "theta", *, rate: str = "1", count: str = "n") -> str:
        """Return the statement for the neurons' ``run_regularly`` at every presentation's end.

        Parameters
        ----------
        threshold : str
            The neurons' threshold variable (dimensionless, as the count).
        rate : str
            Expression scaling the update (a learning-rate schedule, 0 to switch off).
        count : str
            The spikes the neuron fired in the presentation (reset by the circuit after
            this statement).

        Returns
        -------
        str
            One Brian2 statement.
        """
        for argument, name in (("threshold", threshold), ("count", count)):
            if not isinstance(name, str) or not name.isidentifier():
                raise ValidationError(
                    f"HomeostaticThreshold.update_code({argument})", "a variable name", name
                )
        if not isinstance(rate, str) or not rate.strip():
            raise ValidationError("HomeostaticThreshold.update_code(rate)", "an expression", rate)
        return f"{threshold} += ({rate}) * hth_learning_rate * ({count} - hth_target_count)"
