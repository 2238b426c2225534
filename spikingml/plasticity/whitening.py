r"""Whitening by interneurons: Hebbian excitatory <-> inhibitory synapses with decay.

A layer of principal units ``v`` (a vector of potentials, one per unit) receives its
input ``x`` and inhibition from interneurons ``z``, which are driven by the principal
units through the same synapses ``A`` (unit ``i`` <-> interneuron ``m``)::

    z_m = sum_i A_im v_i                 (interneurons)
    tau_v dv_i/dt = x_i - sum_m A_im z_m - v_i

so that at rest ``v = (I + A A^T)^{-1} x``: the circuit divides out of its input the
directions that ``A`` spans. Once per presentation, every synapse changes by the product
of its two ends minus a decay (Hebbian for ``i -> m``, and so anti-Hebbian in effect for
``m -> i``, which inhibits)::

    A_im += rate * whiten_eta * (v_i z_m - whiten_s2 * A_im) / whiten_s2

At its fixed point :math:`E[v z^T] = s_2 A`, i.e. :math:`C_v A = s_2 A`: every direction
that ``A`` spans has output variance exactly ``s2``, and a direction whose input
variance is already below ``s2`` leaves ``A`` (its growth rate is negative). The layer
caps the variance of its output at ``s2`` in every direction: a whitening of the
strongest, most shared components of its input, which is what decorrelates it, while the
weak ones pass unchanged (a regularised whitening; Pehlevan & Chklovskii 2015 derive
such Hebbian / anti-Hebbian networks from similarity matching, Lipshutz et al. 2023 the
interneuron form). Both synapses of a pair obey the same rule from the same two
quantities, so the feedback weights stay equal to the feedforward ones without weight
transport.

References
----------
Foldiak, P. (1990). Forming sparse representations by local anti-Hebbian learning.
Biol. Cybern. 64, 165-170.

Pehlevan, C. & Chklovskii, D. B. (2015). A normative theory of adaptive dimensionality
reduction in neural networks. NIPS 28.

Lipshutz, D., Pehlevan, C. & Chklovskii, D. B. (2023). Interneurons accelerate learning
dynamics in recurrent neural networks for statistical adaptation. ICLR 2023.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from spikingml.errors import ValidationError
from spikingml.params import RuleParams, param

__all__ = ["InterneuronWhitening"]

_SIDES = ("pre", "post")


@dataclasses.dataclass(frozen=True)
class InterneuronWhitening(RuleParams):
    """Parameters and Brian2 code of the interneuron whitening rule.

    Parameters
    ----------
    eta : float
        ``whiten_eta``, the change per presentation, relative to ``s2``.
    s2 : float
        ``whiten_s2``, the output variance the layer allows in any direction.

    Examples
    --------
    >>> rule = InterneuronWhitening(eta=0.01, s2=0.01)
    >>> print(rule.update_code(unit="pre", rate="learn(t)"))
    A += (learn(t)) * whiten_eta * (v_pre * z_post - whiten_s2 * A) / whiten_s2
    """

    eta: float = param(0.01, "change per presentation, relative to s2", low=0)
    s2: float = param(0.01, "output variance allowed in any direction", low=0, low_inclusive=False)

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``whiten_``."""
        return {"whiten_eta": float(self.eta), "whiten_s2": float(self.s2)}

    def update_code(
        self, weight: str = "A", *, unit: str = "pre", rate: str = "1", v: str = "v", z: str = "z"
    ) -> str:
        """``run_regularly`` statement of a unit <-> interneuron synapse.

        Parameters
        ----------
        weight : str
            The synapses' weight variable.
        unit : {"pre", "post"}
            The end where the principal unit is (``"pre"`` for unit -> interneuron,
            ``"post"`` for interneuron -> unit synapses).
        rate : str
            Expression scaling the update (a learning schedule).
        v, z : str
            The units' potential and the interneurons' activity.
        """
        if unit not in _SIDES:
            raise ValidationError(
                "InterneuronWhitening.update_code(unit)", "'pre' or 'post'", unit
            )
        for name, value in (("weight", weight), ("v", v), ("z", z)):
            if not isinstance(value, str) or not value.isidentifier():
                raise ValidationError(
                    f"InterneuronWhitening.update_code({name})", "a variable name", value
                )
        if not isinstance(rate, str) or not rate.strip():
            raise ValidationError("InterneuronWhitening.update_code(rate)", "an expression", rate)
        other = "post" if unit == "pre" else "pre"
        return (
            f"{weight} += ({rate}) * whiten_eta * ({v}_{unit} * {z}_{other} - whiten_s2 * "
            f"{weight}) / whiten_s2"
        )

    def reference_update(self, a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One presentation in NumPy: the settled ``v`` for input ``x``, and the new ``A``.

        Parameters
        ----------
        a : ndarray, shape (n_units, n_interneurons)
        x : ndarray, shape (n_units,)

        Returns
        -------
        v, a_new : ndarray
        """
        a = np.asarray(a, dtype=float)
        v = np.linalg.solve(np.eye(len(a)) + a @ a.T, np.asarray(x, dtype=float))
        z = a.T @ v
        return v, a + self.eta * (np.outer(v, z) - self.s2 * a) / self.s2

    def settled(self, a: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The layer's potentials at rest, ``(I + A A^T)^{-1} x``, for inputs ``x`` (rows)."""
        a = np.asarray(a, dtype=float)
        return np.linalg.solve(np.eye(len(a)) + a @ a.T, np.asarray(x, dtype=float).T).T
