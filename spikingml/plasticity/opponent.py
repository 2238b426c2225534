r"""A Go/No-Go opponent pair of dopamine-gated synapses: values of either sign, Dale's law kept.

An excitatory presynaptic neuron (a cue) cannot inhibit its target directly. It can do so
through an inhibitory interneuron. The opponent pair lets the *net* effect of a cue on a
value neuron become negative: the direct (Go) synapse onto the value neuron is
potentiated by a positive dopamine error and depressed by a negative one, the synapse
onto the inhibitory interneuron (No-Go) the other way round, and both stay
non-negative (as D1 and D2 pathways of the striatum are potentiated by bursts and by
dips of dopamine; Frank 2005; Collins & Frank 2014).

Equations (in the symbols of the code)
--------------------------------------
On the presynaptic neuron (one trace and one running integral per neuron, not per
synapse)::

    dtrace/dt = -trace / op_tau_trace            trace += 1 at each presynaptic spike
    de_int/dt = trace * (n - op_b)

with ``n`` the dopamine concentration at the neuron (Hz) and ``op_b`` its baseline. On
each synapse, every ``update_interval`` (``run_regularly``)::

    w      = clip(w + pathway * op_eta * (e_int_pre - e_seen), 0, op_w_max)
    e_seen = e_int_pre

``pathway`` is +1 on Go synapses (cue -> value neuron) and -1 on No-Go synapses (cue ->
inhibitory interneuron), so between updates each synapse changes by exactly
``pathway * eta * integral of trace * (n - b) dt``, a presynaptic three-factor rule (pre-trace
times dopamine error). The per-synapse work is one addition per update; nothing is
integrated per synapse. ``w`` is dimensionless (the circuit gives it meaning in its
transmission code).

When the Go and No-Go weights of a cue are both above zero the net value changes twice
as fast as when one of them sits at the bound 0; starting from zero, only one of them
grows at a time until the sign of the error reverses.

References
----------
Frank, M. J. (2005). Dynamic dopamine modulation in the basal ganglia: a
neurocomputational account of cognitive deficits in medicated and nonmedicated
Parkinsonism. J. Cogn. Neurosci. 17, 51-72.

Collins, A. G. E. & Frank, M. J. (2014). Opponent actor learning (OpAL): modeling
interactive effects of striatal dopamine on reinforcement learning and choice
incentive. Psychol. Rev. 121, 337-366.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import brian2
import numpy as np
from brian2.units.fundamentalunits import Quantity

from spikingml.errors import ValidationError

__all__ = ["OpponentDopamineRule", "GO", "NOGO"]

#: ``pathway`` of a Go synapse (potentiated by a positive dopamine error).
GO = 1.0
#: ``pathway`` of a No-Go synapse (potentiated by a negative dopamine error).
NOGO = -1.0

_NAME = "OpponentDopamineRule"


@dataclasses.dataclass(frozen=True)
class OpponentDopamineRule:
    """Parameters and Brian2 code of the Go/No-Go dopamine-gated rule.

    Parameters
    ----------
    eta : float
        Learning rate: weight change per unit of ``integral trace * (n - b) dt``.
    tau_trace : Quantity (time)
        Time constant of the presynaptic trace.
    b : Quantity (1/s)
        Dopamine baseline: above it Go synapses grow and No-Go synapses shrink.
    w_max : float
        Upper bound of every weight (the lower bound is 0).

    Examples
    --------
    >>> rule = OpponentDopamineRule(eta=0.1)
    >>> cues = brian2.NeuronGroup(
    ...     20, "dn/dt = -n / (10*ms) : hertz\\n" + rule.presynaptic_equations(),
    ...     threshold="rand() < 40*Hz*dt", reset=rule.on_spike(),
    ...     namespace=rule.namespace())                                 # doctest: +SKIP
    >>> syn = brian2.Synapses(cues, value, rule.synapse_model(), on_pre="v_post += w*mV",
    ...                       namespace=rule.namespace())              # doctest: +SKIP
    >>> syn.run_regularly(rule.on_update(), dt=10 * ms)               # doctest: +SKIP
    """

    eta: float = 0.1
    tau_trace: Quantity = dataclasses.field(default_factory=lambda: 50 * brian2.ms)
    b: Quantity = dataclasses.field(default_factory=lambda: 20 * brian2.Hz)
    w_max: float = 100.0

    def __post_init__(self) -> None:
        for field in ("eta", "w_max"):
            value = getattr(self, field)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float, np.integer, np.floating))
                or not math.isfinite(float(value))
                or float(value) <= 0
            ):
                raise ValidationError(f"{_NAME}.{field}", "a finite number > 0", value)
        tau = self.tau_trace
        if not isinstance(tau, Quantity) or not tau.has_same_dimensions(brian2.second):
            raise ValidationError(f"{_NAME}.tau_trace", "a time quantity (e.g. 50*ms)", tau)
        if not (math.isfinite(float(tau)) and float(tau) > 0):
            raise ValidationError(f"{_NAME}.tau_trace", "a finite time > 0 s", tau)
        if not isinstance(self.b, Quantity) or not self.b.has_same_dimensions(brian2.Hz):
            raise ValidationError(f"{_NAME}.b", "a rate in 1/s (Hz)", self.b)
        if not (math.isfinite(float(self.b)) and float(self.b) >= 0):
            raise ValidationError(f"{_NAME}.b", "a finite rate >= 0 Hz", self.b)

    def namespace(self) -> dict[str, Any]:
        """Constants of the generated code, prefixed ``op_`` so no group variable shadows them."""
        return {
            "op_eta": float(self.eta),
            "op_tau_trace": self.tau_trace,
            "op_b": self.b,
            "op_w_max": float(self.w_max),
        }

    @staticmethod
    def presynaptic_equations(shared_constants: bool = False) -> str:
        """Equations of the presynaptic group; it must define the concentration ``n`` (Hz).

        Parameters
        ----------
        shared_constants : bool
            Also declare the constants these equations use (``op_tau_trace``, ``op_b``)
            as shared constants of the group (``(shared, constant)``) instead of taking
            them from the namespace: a compiled ``cpp_standalone`` program then runs
            with other values of them. Give them their values with
            :func:`spikingml.simulation.set_constants` and :meth:`namespace`.
        """
        eqs = "dtrace/dt = -trace / op_tau_trace : 1\nde_int/dt = trace * (n - op_b) : 1\n"
        if shared_constants:
            eqs += "op_tau_trace : second (shared, constant)\nop_b : hertz (shared, constant)\n"
        return eqs

    @staticmethod
    def on_spike() -> str:
        """Reset code of the presynaptic group: each spike raises the trace by 1."""
        return "trace += 1"

    @staticmethod
    def synapse_model(shared_constants: bool = False) -> str:
        """Per-synapse variables: weight, last integral seen, and the Go/No-Go ``pathway`` sign.

        Parameters
        ----------
        shared_constants : bool
            Also declare the constants of :meth:`on_update` (``op_eta``, ``op_w_max``)
            as shared constants of the ``Synapses`` (see :meth:`presynaptic_equations`).
        """
        model = "w : 1\ne_seen : 1\npathway : 1 (constant)\n"
        if shared_constants:
            model += "op_eta : 1 (shared, constant)\nop_w_max : 1 (shared, constant)\n"
        return model

    @staticmethod
    def on_update() -> str:
        """Code for the synapses' ``run_regularly``: apply the accumulated change."""
        return (
            "w = clip(w + pathway * op_eta * (e_int_pre - e_seen), 0, op_w_max)\n"
            "e_seen = e_int_pre\n"
        )

    def reference_update(
        self, w: np.ndarray, sign: np.ndarray, integral: np.ndarray | float
    ) -> np.ndarray:
        """The same update in NumPy (for tests): ``clip(w + sign * eta * integral, 0, w_max)``."""
        return np.clip(
            np.asarray(w, float) + np.asarray(sign, float) * self.eta * np.asarray(integral),
            0.0,
            self.w_max,
        )
