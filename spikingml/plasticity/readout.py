r"""A supervised three-factor rule: presynaptic eligibility x (teacher - output).

A readout layer of ``n`` units fires as a softmax of its potentials,
:math:`p_j = e^{g u_j} / \sum_l e^{g u_l}`, :math:`u_j = \sum_i w_{ji} r_i`. During the
late part of every presentation each synapse accumulates an eligibility trace from its
presynaptic activity, and the unit accumulates its mean firing probability::

    elig_i = mean over the readout window of r_i          (presynaptic, per input)
    q_j    = mean over the readout window of p_j          (postsynaptic)

At the end of the presentation a teacher signal ``target_j`` (1 for the unit of the
correct class, else 0; a neuromodulatory or top-down third factor) gates the change::

    w_ji += rate * readout_eta * (target_j - q_j) * elig_i

This is the gradient of the log-likelihood of the correct class (softmax regression,
i.e. the delta rule of a logistic output), computed from the window's averages; in the
family of three-factor rules reviewed by Fremaux & Gerstner (2016), with the output
error as the third factor as in Urbanczik & Senn (2014).

References
----------
Fremaux, N. & Gerstner, W. (2016). Neuromodulated spike-timing-dependent plasticity, and
theory of three-factor learning rules. Front. Neural Circuits 9, 85.

Urbanczik, R. & Senn, W. (2014). Learning by the dendritic prediction of somatic spiking.
Neuron 81, 521-528.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from spikingml.errors import ValidationError
from spikingml.params import RuleParams, param

__all__ = ["TeacherDeltaRule"]


@dataclasses.dataclass(frozen=True)
class TeacherDeltaRule(RuleParams):
    """Parameters and Brian2 code of the teacher-gated three-factor delta rule.

    Parameters
    ----------
    eta : float
        ``readout_eta``, the change per presentation per unit of error x eligibility.

    Examples
    --------
    >>> print(TeacherDeltaRule(eta=0.1).update_code("target", rate="learn(t)"))
    w += (learn(t)) * readout_eta * ((target) - q_post) * elig_pre
    """

    eta: float = param(0.1, "change per presentation per unit of error x eligibility", low=0)

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``readout_``."""
        return {"readout_eta": float(self.eta)}

    def update_code(
        self,
        target: str,
        *,
        weight: str = "w",
        rate: str = "1",
        eligibility: str = "elig",
        output: str = "q",
    ) -> str:
        """``run_regularly`` statement of the synapses at the end of every presentation.

        Parameters
        ----------
        target : str
            Expression of the teacher signal of the postsynaptic unit (0 or 1).
        weight, eligibility, output : str
            The synapses' weight, the presynaptic eligibility and the postsynaptic
            mean firing probability.
        rate : str
            Expression scaling the update (a learning schedule).
        """
        for name, value in (("target", target), ("rate", rate)):
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(
                    f"TeacherDeltaRule.update_code({name})", "an expression", value
                )
        for name, value in (("weight", weight), ("eligibility", eligibility), ("output", output)):
            if not isinstance(value, str) or not value.isidentifier():
                raise ValidationError(
                    f"TeacherDeltaRule.update_code({name})", "a variable name", value
                )
        error = f"(({target}) - {output}_post)"
        return f"{weight} += ({rate}) * readout_eta * {error} * {eligibility}_pre"

    def reference_update(
        self, w: np.ndarray, elig: np.ndarray, q: np.ndarray, label: int
    ) -> np.ndarray:
        """One presentation in NumPy (for tests): ``w`` is (n_out, n_in)."""
        w = np.asarray(w, dtype=float)
        target = np.zeros(len(w))
        target[label] = 1.0
        return w + self.eta * np.outer(target - np.asarray(q, float), np.asarray(elig, float))
