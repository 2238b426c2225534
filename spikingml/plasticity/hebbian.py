r"""Hebbian and anti-Hebbian rules that learn once per presentation, from summed activity.

The rules of a layer that learns sparse, decorrelated features of its input (Foldiak
1990; Olshausen & Field 1996; Zylberberg, Murphy & DeWeese 2011). An input is shown for
a while (an image patch); every neuron counts its spikes during the presentation, and at
its end each synapse changes once, from quantities its two ends hold. The code of each
rule is one ``run_regularly`` statement on the presentation clock, so it runs unchanged
under ``runtime`` and ``cpp_standalone``.

Contents
--------
:class:`NonlinearPCA`
    Feedforward: Hebbian between a unit's spike count and its input's prediction error
    (the rule of sparse coding and of nonlinear PCA; Oja's rule for a unit alone).
:class:`VoltageAntiHebbian`
    Feedforward: anti-Hebbian between a unit's drive (a dendritic potential), gated by
    the lateral spikes it received, and its input.
:class:`AntiHebbianDecorrelation`
    Lateral: inhibition grows between units that fire together more than chance.

Equations (in the symbols of the code)
--------------------------------------
Each rule's update is scaled by ``rate``, an expression the circuit provides (a
learning-rate schedule such as a ``TimedArray`` of time, or ``1``). For a synapse
between unit ``i`` (spike count ``c_i``, clipped by the circuit) and input ``k`` (value
``x_k``, prediction ``R_k = sum_i B_ki c_i`` fed back from the units)::

    NonlinearPCA, residual=True:   Q_ik += rate * nlpca_learning_rate * c_i * (x_k - R_k)
    NonlinearPCA, residual=False:  Q_ik += rate * nlpca_learning_rate * c_i * (x_k - c_i Q_ik)
    VoltageAntiHebbian:            Q_ik -= rate * vah_learning_rate
                                           * clip(m_i, 0, vah_received_clip) * I_i * x_k

with ``I_i = sum_k Q_ik x_k`` the unit's feedforward drive and ``m_i`` the spikes it
received from the other units during the presentation. Between units ``i`` and ``j``::

    AntiHebbianDecorrelation:      W_ij = clip(W_ij + rate * ahd_learning_rate
                                               * (c_i c_j - ahd_target_count**2), 0, inf)

The feedforward rules are written for a synapse whose unit is at one end (``unit="post"``
for input -> unit synapses, ``"pre"`` for unit -> input feedback synapses): applying the
same rule at both ends of a feedforward and a feedback pathway keeps the feedback weights
equal to the feedforward ones, without weight transport.

Why these rules
---------------
- :class:`NonlinearPCA` with the residual is the learning rule of sparse coding
  (Olshausen & Field 1996), of the form of the nonlinear-PCA rule
  :math:`\Delta Q = \beta\, c\, (x - Q^T c)^T` that separates independent components of
  white data (Karhunen & Joutsensalo 1994; Oja 1997). When unit ``i`` fires alone,
  ``R = c_i Q_i`` and it is Oja's (1982) rule; when several fire, each learns only what
  the others did not already predict ("explaining away"). ``residual=False`` is Oja's
  rule for every unit alone, as in SAILnet (Zylberberg et al. 2011).
- :class:`VoltageAntiHebbian` moves ``Q_i`` on average along
  :math:`-\sum_j \langle c_j\, x x^T \rangle Q_i`, away from the filters of the units that
  fire, whatever the sign of the correlation (a voltage-based rule, cf. Clopath et al.
  2010): spike-based inhibition cannot separate two units with opposite filters, which
  never fire together.
- :class:`AntiHebbianDecorrelation` (Foldiak 1990): units that fire together more often
  than chance (``ahd_target_count**2`` at the target count) inhibit each other more, and
  so decorrelate. The weights stay inhibitory (``>= 0``, subtracted by the circuit).

References
----------
Foldiak, P. (1990). Forming sparse representations by local anti-Hebbian learning.
Biol. Cybern. 64, 165-170.

Oja, E. (1982). A simplified neuron model as a principal component analyzer. J. Math.
Biol. 15, 267-273.

Karhunen, J. & Joutsensalo, J. (1994). Representation and separation of signals using
nonlinear PCA type learning. Neural Netw. 7, 113-127.

Oja, E. (1997). The nonlinear PCA learning rule in independent component analysis.
Neurocomputing 17, 25-45.

Olshausen, B. A. & Field, D. J. (1996). Emergence of simple-cell receptive field
properties by learning a sparse code for natural images. Nature 381, 607-609.

Zylberberg, J., Murphy, J. T. & DeWeese, M. R. (2011). A sparse coding model with
synaptically local plasticity and spiking neurons can account for the diverse shapes of
V1 simple cell receptive fields. PLoS Comput. Biol. 7, e1002250.

Clopath, C., Busing, L., Vasilaki, E. & Gerstner, W. (2010). Connectivity reflects
coding: a model of voltage-based STDP with homeostasis. Nat. Neurosci. 13, 344-352.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from spikingml.errors import ValidationError
from spikingml.params import RuleParams, param

__all__ = ["AntiHebbianDecorrelation", "NonlinearPCA", "VoltageAntiHebbian"]

_SIDES = {"post": "pre", "pre": "post"}


def _ends(rule: RuleParams, unit: str) -> tuple[str, str]:
    """The suffixes of the unit's end and of the input's end of a synapse."""
    if unit not in _SIDES:
        raise ValidationError(f"{type(rule).__name__}.update_code(unit)", "'pre' or 'post'", unit)
    return unit, _SIDES[unit]


def _names(rule: RuleParams, rate: str, **names: str) -> None:
    """Variable names passed to a code method must be identifiers, ``rate`` an expression."""
    where = f"{type(rule).__name__}.update_code"
    for argument, name in names.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValidationError(f"{where}({argument})", "a variable name", name)
    if not isinstance(rate, str) or not rate.strip():
        raise ValidationError(f"{where}(rate)", "an expression such as '1' or 'eta(t)'", rate)


@dataclasses.dataclass(frozen=True)
class NonlinearPCA(RuleParams):
    """Parameters and Brian2 code of the error-driven Hebbian (nonlinear-PCA) rule.

    Parameters
    ----------
    learning_rate : float
        ``nlpca_learning_rate`` (the circuit's ``beta``): change per unit count and unit
        error at ``rate`` 1.
    residual : bool
        Learn from the input's prediction error ``x - R`` (sparse coding); if false, from
        ``x - c Q`` (Oja's rule for every unit alone).

    Examples
    --------
    >>> rule = NonlinearPCA(learning_rate=0.01)
    >>> print(rule.update_code("Q", unit="post", rate="eta_at(t)", input="x_prev"))
    Q += (eta_at(t)) * nlpca_learning_rate * c_post * (x_prev_pre - R_pre)
    """

    learning_rate: float = param(0.01, "change per unit count and unit error", low=0)
    residual: bool = param(True, "learn from the prediction error x - R (else x - c Q)")

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``nlpca_``."""
        return {"nlpca_learning_rate": float(self.learning_rate)}

    def update_code(
        self,
        weight: str = "w",
        unit: str = "post",
        *,
        rate: str = "1",
        count: str = "c",
        input: str = "x",
        prediction: str = "R",
    ) -> str:
        """Return the statement for ``run_regularly`` at the end of every presentation.

        Parameters
        ----------
        weight : str
            The synapses' weight variable.
        unit : {"post", "pre"}
            The end of the synapse where the unit is: ``"post"`` for input -> unit
            synapses, ``"pre"`` for unit -> input (feedback) synapses.
        rate : str
            Expression scaling the update (a learning-rate schedule, 0 to switch off).
        count : str
            The unit's (clipped) spike count in the presentation.
        input : str
            The input's value during the presentation.
        prediction : str
            The input's prediction from the units (``residual=True`` only).

        Returns
        -------
        str
            One Brian2 statement.
        """
        _names(self, rate, weight=weight, count=count, input=input, prediction=prediction)
        u, s = _ends(self, unit)
        error = (
            f"{input}_{s} - {prediction}_{s}"
            if self.residual
            else f"{input}_{s} - {count}_{u} * {weight}"
        )
        return f"{weight} += ({rate}) * nlpca_learning_rate * {count}_{u} * ({error})"


@dataclasses.dataclass(frozen=True)
class VoltageAntiHebbian(RuleParams):
    """Parameters and Brian2 code of the drive-gated anti-Hebbian (decorrelation) rule.

    Parameters
    ----------
    learning_rate : float
        ``vah_learning_rate`` (the circuit's ``kappa``).
    received_clip : float
        ``vah_received_clip``: the lateral spikes a unit received in a presentation are
        clipped at this in the update.

    Examples
    --------
    >>> rule = VoltageAntiHebbian(learning_rate=1e-4, received_clip=10.0)
    >>> print(rule.update_code("Q", unit="post"))
    Q -= (1) * vah_learning_rate * clip(m_post, 0, vah_received_clip) * I_post * x_pre
    """

    learning_rate: float = param(1e-4, "change per received spike, unit drive and input", low=0)
    received_clip: float = param(
        10.0, "lateral spikes received per presentation, clipped at this", low=0
    )

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``vah_``."""
        return {
            "vah_learning_rate": float(self.learning_rate),
            "vah_received_clip": float(self.received_clip),
        }

    def update_code(
        self,
        weight: str = "w",
        unit: str = "post",
        *,
        rate: str = "1",
        received: str = "m",
        drive: str = "I",
        input: str = "x",
    ) -> str:
        """Return the statement for ``run_regularly`` at the end of every presentation.

        Parameters
        ----------
        weight : str
            The synapses' weight variable.
        unit : {"post", "pre"}
            The end of the synapse where the unit is (see :meth:`NonlinearPCA.update_code`).
        rate : str
            Expression scaling the update.
        received : str
            Lateral spikes the unit received in the presentation.
        drive : str
            The unit's feedforward drive ``I = sum_k Q_k x_k``.
        input : str
            The input's value during the presentation.

        Returns
        -------
        str
            One Brian2 statement.
        """
        _names(self, rate, weight=weight, received=received, drive=drive, input=input)
        u, s = _ends(self, unit)
        return (
            f"{weight} -= ({rate}) * vah_learning_rate * clip({received}_{u}, 0, "
            f"vah_received_clip) * {drive}_{u} * {input}_{s}"
        )


@dataclasses.dataclass(frozen=True)
class AntiHebbianDecorrelation(RuleParams):
    """Parameters and Brian2 code of Foldiak's anti-Hebbian lateral rule.

    Parameters
    ----------
    learning_rate : float
        ``ahd_learning_rate`` (the circuit's ``alpha``).
    target_count : float
        ``ahd_target_count``, the spikes per unit and presentation of the target code
        (``p``): units firing together more often than ``p**2`` inhibit each other more.

    Examples
    --------
    >>> rule = AntiHebbianDecorrelation(learning_rate=0.05, target_count=0.05)
    >>> print(rule.update_code("W"))
    W = clip(W + (1) * ahd_learning_rate * (c_pre * c_post - ahd_target_count**2), 0, inf)
    """

    learning_rate: float = param(0.05, "change per coincident count", low=0)
    target_count: float = param(
        0.05, "target spikes per unit and presentation (p)", low=0, low_inclusive=False
    )

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``ahd_``."""
        return {
            "ahd_learning_rate": float(self.learning_rate),
            "ahd_target_count": float(self.target_count),
        }

    def update_code(self, weight: str = "w", *, rate: str = "1", count: str = "c") -> str:
        """Return the statement for ``run_regularly`` at the end of every presentation.

        Parameters
        ----------
        weight : str
            The lateral synapses' (inhibitory, ``>= 0``) weight variable.
        rate : str
            Expression scaling the update.
        count : str
            The units' (clipped) spike counts in the presentation.

        Returns
        -------
        str
            One Brian2 statement; the weight is kept ``>= 0``.
        """
        _names(self, rate, weight=weight, count=count)
        return (
            f"{weight} = clip({weight} + ({rate}) * ahd_learning_rate * "
            f"({count}_pre * {count}_post - ahd_target_count**2), 0, inf)"
        )
