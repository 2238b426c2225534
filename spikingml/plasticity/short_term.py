r"""Short-term synaptic plasticity: the Tsodyks-Markram dynamic synapse.

A dynamic synapse does not transmit every presynaptic spike with the same strength: each
spike uses a fraction ``u`` of the synapse's available resources ``x``, the resources
recover slowly (depression, time constant ``D``) and the fraction used grows with every
spike and decays back between spikes (facilitation, time constant ``F``). The synapse is
then a filter with a memory of the last few hundred milliseconds of its input, the
"dynamic synapses" of Maass, Natschläger & Markram's (2002) liquid state machine.

Contents
--------
:class:`TsodyksMarkram`
    The rule's parameters (``U``, ``D``, ``F``) and the Brian2 code of the synapse:
    per-synapse state updated at presynaptic spikes only (event-driven, exact).
:func:`release_sequence`
    The same model evaluated spike by spike in NumPy (the reference of the tests).
:func:`steady_state`
    The closed-form fixed point of ``u`` and ``x`` for a regular spike train.

Equations (in the symbols of the code)
--------------------------------------
The form of Markram, Wang & Tsodyks (1998), used by Maass et al. (2002). Per synapse, ``u``
(facilitation) decays to 0 and ``x`` (available resources) recovers to 1 between
spikes::

    du/dt = -u / F            dx/dt = (1 - x) / D

and at a presynaptic spike, after an interval ``delta`` since the last one::

    u = u * exp(-delta / F)                 decay since the last spike (exact)
    x = 1 + (x - 1) * exp(-delta / D)       recovery since the last spike (exact)
    u = u + U * (1 - u)                     facilitation: the use of this spike
    release = u * x                         fraction of the resources released
    x = x - release                         depression

and the spike is transmitted with ``w * release``. From rest (``u = 0``, ``x = 1``) the
first spike releases ``U``. This is the recursion of the paper: with ``u_n`` and ``R_n``
the use and the resources at spike ``n`` and ``delta_n`` the interval to spike ``n + 1``,

.. math:: u_{n+1} = U + u_n (1 - U) e^{-\Delta_n / F}, \qquad
          R_{n+1} = 1 + (R_n - u_n R_n - 1) e^{-\Delta_n / D},

``u_1 = U``, ``R_1 = 1``, amplitude ``A_n = w u_n R_n``. For a regular train of interval
``T`` both converge to (:func:`steady_state`)

.. math:: u^* = \frac{U}{1 - (1 - U) e^{-T/F}}, \qquad
          R^* = \frac{1 - e^{-T/D}}{1 - (1 - u^*) e^{-T/D}}.

``U``, ``D`` and ``F`` are per-synapse variables (``U``, ``tau_d``, ``tau_f``), not
constants of the code: Maass et al. draw them per synapse from distributions that depend
on the types of the pre- and postsynaptic neurons (:data:`MAASS_2002`), and other values
do not recompile a standalone program.

References
----------
Markram, H., Wang, Y. & Tsodyks, M. (1998). Differential signaling via the same axon of
neocortical pyramidal neurons. PNAS 95, 5323-5328.

Tsodyks, M., Pawelzik, K. & Markram, H. (1998). Neural networks with dynamic synapses.
Neural Computation 10, 821-835.

Maass, W., Natschläger, T. & Markram, H. (2002). Real-time computing without stable
states: a new framework for neural computation based on perturbations. Neural
Computation 14, 2531-2560.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from brian2 import ms, second

from spikingml.errors import ValidationError
from spikingml.params import RuleParams, param

__all__ = ["MAASS_2002", "TsodyksMarkram", "release_sequence", "steady_state"]


def _positive_time(default: Any, doc: str) -> Any:
    return param(default, doc, unit=second, low=0 * ms, low_inclusive=False)


@dataclasses.dataclass(frozen=True)
class TsodyksMarkram(RuleParams):
    """Parameters and Brian2 code of the Tsodyks-Markram dynamic synapse.

    Parameters
    ----------
    U : float
        Use of the first spike from rest, in ``(0, 1]``: the release of a spike after a
        long silence, and the step of facilitation.
    D : Quantity (time)
        Recovery time constant of the resources ``x`` (depression).
    F : Quantity (time)
        Decay time constant of the facilitation ``u``.

    Notes
    -----
    The ``Synapses`` stores, per synapse, ``u``, ``x``, ``release`` (the fraction released
    by the last spike), ``t_spike`` (time of the last spike) and the constants ``U``,
    ``tau_d`` and ``tau_f``; it has no differential equations. Assign
    :meth:`initial_values` before the run.

    Examples
    --------
    >>> from brian2 import ms
    >>> rule = TsodyksMarkram(U=0.5, D=1100 * ms, F=50 * ms)  # Maass et al.'s E -> E
    >>> print(rule.on_pre("I_post += w * release").splitlines()[-1])
    I_post += w * release
    >>> u, R = steady_state(0.5, 1.1, 0.05, interval=0.05)
    >>> round(u * R, 4)
    0.0432
    """

    U: float = param(
        0.5, "use of the first spike from rest (0 < U <= 1)", low=0, high=1, low_inclusive=False
    )
    D: Any = _positive_time(1100 * ms, "recovery time constant of the resources x (depression)")
    F: Any = _positive_time(50 * ms, "decay time constant of the use u (facilitation)")

    # -- Brian2 code ---------------------------------------------------------------------
    @staticmethod
    def synapse_model() -> str:
        """Per-synapse state and constants (append the circuit's own, e.g. ``w : 1``)."""
        return (
            "u : 1\n"
            "x : 1\n"
            "release : 1\n"
            "t_spike : second\n"
            "U : 1 (constant)\n"
            "tau_d : second (constant)\n"
            "tau_f : second (constant)\n"
        )

    @staticmethod
    def on_pre(transmit: str = "") -> str:
        """Return the ``on_pre`` code: relax since the last spike, facilitate, release.

        Parameters
        ----------
        transmit : str
            Code appended at the end, e.g. ``"I_post += w * release"``: it sees
            ``release``, the fraction of the resources this spike releases.

        Returns
        -------
        str
            Brian2 abstract code.
        """
        code = (
            "u = u * exp(-(t - t_spike) / tau_f)\n"
            "x = 1 + (x - 1) * exp(-(t - t_spike) / tau_d)\n"
            "u = u + U * (1 - u)\n"
            "release = u * x\n"
            "x = x - release\n"
            "t_spike = t\n"
        )
        if transmit.strip():
            code += transmit.strip() + "\n"
        return code

    def initial_values(self, n: int | None = None) -> dict[str, Any]:
        """Values to assign to the synapses before the run: rest, and this rule's constants.

        Parameters
        ----------
        n : int, optional
            Number of synapses: arrays of that length instead of scalars (for instance
            to overwrite some of them with values drawn per synapse).

        Returns
        -------
        dict
            ``u`` (0), ``x`` (1), ``release`` (0), ``U``, ``tau_d``, ``tau_f``; e.g.
            ``for k, v in rule.initial_values().items(): setattr(syn, k, v)``.
        """
        values = {
            "u": 0.0,
            "x": 1.0,
            "release": 0.0,
            "U": float(self.U),
            "tau_d": self.D,
            "tau_f": self.F,
        }
        if n is None:
            return values
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValidationError("TsodyksMarkram.initial_values(n)", "an integer >= 0", n)
        return {
            k: np.full(n, float(v)) * (second if k.startswith("tau") else 1)
            for k, v in values.items()
        }

    def releases(self, spike_times: Any) -> np.ndarray:
        """:func:`release_sequence` with this rule's parameters (times in seconds)."""
        return release_sequence(spike_times, float(self.U), float(self.D), float(self.F))

    def steady_release(self, rate: Any) -> float:
        """``u* R*``, the release per spike of a regular train at ``rate`` (Hz) in steady state."""
        u, R = steady_state(float(self.U), float(self.D), float(self.F), 1.0 / float(rate))
        return u * R


#: Maass, Natschläger & Markram (2002), from Markram et al. (1998) and Gupta, Wang &
#: Markram (2000): mean ``U``, ``D`` (s) and ``F`` (s) by connection type (presynaptic,
#: postsynaptic): E -> E depressing, E -> I facilitating.
MAASS_2002: dict[str, tuple[float, float, float]] = {
    "EE": (0.5, 1.1, 0.05),
    "EI": (0.05, 0.125, 1.2),
    "IE": (0.25, 0.7, 0.02),
    "II": (0.32, 0.144, 0.06),
}


def release_sequence(spike_times: Any, U: float, D: float, F: float) -> np.ndarray:
    """Fraction ``u_n R_n`` released by each spike of a train, from rest (NumPy reference).

    Parameters
    ----------
    spike_times : array_like of float
        Sorted presynaptic spike times (s).
    U, D, F : float
        Use, recovery and facilitation time constants (s), as :class:`TsodyksMarkram`.

    Returns
    -------
    ndarray
        ``A_n / w`` for every spike (the paper's recursion, module docstring).
    """
    times = np.asarray(spike_times, dtype=float)
    if times.ndim != 1 or np.any(np.diff(times) < 0):
        raise ValidationError("release_sequence(spike_times)", "sorted times (1-D)", spike_times)
    out = np.empty(len(times))
    u, R = U, 1.0
    for n in range(len(times)):
        if n:
            delta = times[n] - times[n - 1]
            u, R = U + u * (1 - U) * np.exp(-delta / F), 1 + (R - u * R - 1) * np.exp(-delta / D)
        out[n] = u * R
    return out


def steady_state(U: Any, D: Any, F: Any, interval: float) -> tuple[Any, Any]:
    """Fixed point ``(u*, R*)`` of the use and the resources at the spikes of a regular train.

    Parameters
    ----------
    U, D, F : float or array_like
        Use, recovery and facilitation time constants (s); arrays give one fixed point per
        synapse.
    interval : float
        Interval ``T`` between spikes (s).

    Returns
    -------
    tuple of float (or of ndarray for array input)
        ``u* = U / (1 - (1 - U) exp(-T/F))`` and
        ``R* = (1 - exp(-T/D)) / (1 - (1 - u*) exp(-T/D))``.
    """
    if not interval > 0:
        raise ValidationError("steady_state(interval)", "an interval > 0 s", interval)
    U, D, F = (np.asarray(v, dtype=float) for v in (U, D, F))
    a, d = np.exp(-interval / F), np.exp(-interval / D)
    u = U / (1 - (1 - U) * a)
    R = (1 - d) / (1 - (1 - u) * d)
    if u.ndim == 0:
        return float(u), float(R)
    return u, R
