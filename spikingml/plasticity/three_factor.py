r"""Dopamine-modulated STDP: the three-factor rule of NEST's ``stdp_dopamine_synapse``.

Pre- and postsynaptic spike pairings do not change the weight directly: they tag the
synapse with an *eligibility trace* ``c``, and the weight follows ``c`` only while the
dopamine concentration ``n`` differs from its baseline ``b`` (Izhikevich 2007). This is
the rule of NEST's ``stdp_dopamine_synapse`` (Potjans, Morrison & Diesmann 2010), with the
same parameter names, meanings and defaults.

Contents
--------
:class:`DopamineSTDP`
    The rule's parameters and the Brian2 code that implements it (pair-STDP
    eligibility, per-synapse dopamine events; the NEST synapse).
:class:`PresynapticDopamineRule`
    The same ``dw/dt = c (n - b)`` with an eligibility tagged by presynaptic spikes
    alone and one dopamine concentration shared by all synapses (TD-LTP, critics).
:func:`reference_weight_trajectory`
    The same exact solution computed event by event in NumPy, for tests and for
    comparisons with NEST (see :mod:`spikingml.peers.nest_three_factor`).

Equations (in the symbols of the code)
--------------------------------------
Between events every variable relaxes::

    dc/dt       = -c / tau_c                    eligibility trace
    dn/dt       = -n / tau_n                    dopamine concentration (1/s)
    dK_plus/dt  = -K_plus / tau_plus            presynaptic trace
    dK_minus/dt = -K_minus / tau_minus          postsynaptic trace
    dw/dt       = c * (n - b)                   weight

and at events::

    pre spike:       c -= A_minus * K_minus;  K_plus  += 1
    post spike:      c += A_plus  * K_plus;   K_minus += 1
    dopamine spike:  n += 1 / tau_n

The weight is clipped to ``[Wmin, Wmax]`` at every event.

Integration is exact and event-driven; nothing is integrated clock-driven. Each synapse
stores its state at the time ``t_last`` of its last event. At an event at time ``t`` the
state is first advanced by ``delta = t - t_last`` with the closed form (``c0``, ``n0``:
values at ``t_last``; ``1/tau_s = 1/tau_c + 1/tau_n``)::

    w = clip(w + c0*n0*tau_s*(1 - exp(-delta/tau_s))
               - b*c0*tau_c*(1 - exp(-delta/tau_c)), Wmin, Wmax)
    c = c0*exp(-delta/tau_c);  n = n0*exp(-delta/tau_n)
    K_plus = K_plus*exp(-delta/tau_plus);  K_minus = K_minus*exp(-delta/tau_minus)
    t_last = t

and then the event's jump is applied. Dopamine spikes reach every plastic synapse
through a second Brian2 ``Synapses`` object whose *target is the plastic* ``Synapses``
(synapses on synapses), the counterpart of NEST's ``volume_transmitter``.

Conventions (the same as NEST's)
--------------------------------
- A pre and a post spike at the same time do not pair: the post spike is facilitated
  with ``K_plus`` as it was just before the pre spike, and the pre spike is depressed
  with ``K_minus`` as it was just before the post spike. (Brian2 runs the ``pre``
  pathway before the ``post`` pathway within a time step; the ``post`` code subtracts
  the jump of a same-step pre spike, see :meth:`DopamineSTDP.on_post`.)
- Dopamine spikes coinciding with a pre or post spike: the order does not matter,
  since the jumps of ``c`` and ``n`` commute and ``w`` only changes between events.
- The weight is clipped at events only, as in NEST (``update_weight_``). NEST also
  advances every synapse at the volume transmitter's delivery interval; use
  :meth:`DopamineSTDP.on_update` with ``run_regularly`` for the same effect, and
  ``reference_weight_trajectory(..., update_interval=...)`` in the reference. Both
  only matter when ``w`` crosses a bound.
- Times are those at which the synapse sees the spikes. Brian2 pathway delays shift
  them: the code runs when a spike *arrives*. NEST treats a plastic synapse's delay
  ``d`` as purely dendritic: the synapse sees pre spikes at ``t_pre`` and post spikes at
  ``t_post + d``, which in Brian2 is a ``post`` pathway delay of ``d`` (and a ``pre``
  pathway delay of 0); it sees dopamine spikes when they reach the volume transmitter,
  the ``delay`` of :meth:`DopamineSTDP.build_dopamine_pathway`. With all delays 0 (the
  default), times are spike times.
- Units: ``w``, ``c``, ``K_plus``, ``K_minus`` are dimensionless, ``n`` and ``b`` are in
  1/s. NEST uses ms and 1/ms: ``c*n*tau_s`` is the same number in both systems, but a
  NEST ``b`` of ``x`` (1/ms) is ``x * 1000`` 1/s (``x * kHz``) here.

References
----------
Izhikevich, E. M. (2007). Solving the distal reward problem through linkage of STDP and
dopamine signaling. Cerebral Cortex 17(10), 2443-2452.

Potjans, W., Morrison, A. & Diesmann, M. (2010). Enabling functional neural circuit
simulations with distributed computing of neuromodulated plasticity. Frontiers in
Computational Neuroscience 4, 141.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from typing import Any, NamedTuple

import brian2
import numpy as np
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions

from spikingml.errors import ValidationError
from spikingml.simulation import constants_equations

__all__ = [
    "DopamineSTDP",
    "PresynapticDopamineRule",
    "WeightTrajectory",
    "reference_weight_trajectory",
]

_NAME = "DopamineSTDP"

#: Prefix of the constants in :meth:`DopamineSTDP.namespace`. Brian2 resolves a
#: group's own variables (and the unsuffixed variables of the postsynaptic group)
#: before the namespace, so plain names such as ``b`` would be silently shadowed by,
#: e.g., the ``b`` of an Izhikevich neuron.
_PREFIX = "da_"


_ADVANCE_DOPAMINE_FIRST_LINE = "delta_da := t - t_last_post"


class _WellDefinedDopamineCode(logging.Filter):
    """Drop Brian2's order-dependence warning for the dopamine pathway's code only.

    Brian2 warns whenever synaptic code writes non-additively to ``_post`` variables
    that several synapses may share (here: two dopamine neurons spiking in the same time
    step reach the same plastic synapse). For this code the order does not matter: the
    second update advances by ``delta = 0`` and adds the same ``1/tau_n``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return _ADVANCE_DOPAMINE_FIRST_LINE not in record.getMessage()


def _silence_dopamine_order_warning() -> None:
    logger = logging.getLogger("brian2.codegen.generators.base")
    if not any(isinstance(f, _WellDefinedDopamineCode) for f in logger.filters):
        logger.addFilter(_WellDefinedDopamineCode())


#: Dopamine pathways built on a clock of their own (``dt``), by the name of their pathway.
_COARSE_PATHWAYS: set[str] = set()


class _IntendedCoarseClock(logging.Filter):
    """Drop Brian2's clock-mismatch warning for dopamine pathways given a ``dt``.

    Brian2 warns when a pathway's source, synapses and target do not share a ``dt``
    (here the plastic synapses are on the network's clock). For a dopamine pathway built
    with ``dt`` that is the intent, and the delay is checked to be a multiple of it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(f"pathway '{name}'" in message for name in _COARSE_PATHWAYS)


def _silence_coarse_clock_warning(pathway_name: str) -> None:
    _COARSE_PATHWAYS.add(pathway_name)
    logger = logging.getLogger("brian2.synapses.synapses")
    if not any(isinstance(f, _IntendedCoarseClock) for f in logger.filters):
        logger.addFilter(_IntendedCoarseClock())


def _check_time(name: str, value: Any) -> None:
    if not isinstance(value, Quantity) or get_dimensions(value) != get_dimensions(brian2.second):
        raise ValidationError(name, "a time quantity (e.g. 20*ms)", value)
    if not np.ndim(value) == 0 or not (math.isfinite(float(value)) and float(value) > 0):
        raise ValidationError(name, "a finite scalar time > 0 s", value)


def _check_number(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating, Quantity)
    ):
        raise ValidationError(name, "a finite number", value)
    if isinstance(value, Quantity) and get_dimensions(value) is not DIMENSIONLESS:
        raise ValidationError(name, "a dimensionless number", value)
    if np.ndim(value) != 0 or not math.isfinite(float(value)):
        raise ValidationError(name, "a finite number", value)
    return float(value)


@dataclasses.dataclass(frozen=True)
class DopamineSTDP:
    """Parameters and Brian2 code of dopamine-modulated STDP (NEST ``stdp_dopamine_synapse``).

    Parameters
    ----------
    A_plus : float
        Amplitude of facilitation: ``c += A_plus * K_plus`` at a post spike.
    A_minus : float
        Amplitude of depression: ``c -= A_minus * K_minus`` at a pre spike.
    tau_plus : Quantity (time)
        Time constant of the presynaptic trace ``K_plus``.
    tau_minus : Quantity (time)
        Time constant of the postsynaptic trace ``K_minus`` (in NEST a property of the
        postsynaptic neuron; here part of the rule).
    tau_c : Quantity (time)
        Time constant of the eligibility trace ``c``.
    tau_n : Quantity (time)
        Time constant of the dopamine concentration ``n``; each dopamine spike adds
        ``1/tau_n``.
    b : Quantity (1/s)
        Dopamine baseline concentration: the weight grows when ``n > b`` and ``c > 0``.
        NEST gives it in 1/ms; ``b_here = b_NEST * kHz``.
    Wmin, Wmax : float
        Bounds of the weight ``w``, applied at every event.

    Notes
    -----
    The plastic ``Synapses`` stores, per synapse, ``w``, ``c``, ``n``, ``K_plus``,
    ``K_minus``, ``t_last`` and ``pre_spike_step``; it has no differential equations.
    Brian2 refuses a postsynaptic group with a variable of one of these names (for
    instance ``w`` of an AdEx neuron or ``n`` of a Hodgkin-Huxley neuron): rename the
    neuron's variable.

    Examples
    --------
    >>> import brian2
    >>> from brian2 import mV, ms
    >>> rule = DopamineSTDP(tau_c=500 * ms)
    >>> pre = brian2.SpikeGeneratorGroup(1, [0], [1] * ms)
    >>> post = brian2.NeuronGroup(1, "v : volt", threshold="v > 10*mV", reset="v = 0*mV")
    >>> dopamine = brian2.SpikeGeneratorGroup(1, [0], [5] * ms)
    >>> plastic = brian2.Synapses(pre, post, model=rule.synapse_model(),
    ...                           on_pre=rule.on_pre("v_post += w*mV"),
    ...                           on_post=rule.on_post(), namespace=rule.namespace())
    >>> plastic.connect()
    >>> plastic.w = 1.0
    >>> volume = rule.build_dopamine_pathway(dopamine, plastic)
    >>> net = brian2.Network(pre, post, dopamine, plastic, volume)
    """

    A_plus: float = 1.0
    A_minus: float = 1.5
    tau_plus: Quantity = dataclasses.field(default_factory=lambda: 20 * brian2.ms)
    tau_minus: Quantity = dataclasses.field(default_factory=lambda: 20 * brian2.ms)
    tau_c: Quantity = dataclasses.field(default_factory=lambda: 1000 * brian2.ms)
    tau_n: Quantity = dataclasses.field(default_factory=lambda: 200 * brian2.ms)
    b: Quantity = dataclasses.field(default_factory=lambda: 0 * brian2.Hz)
    Wmin: float = 0.0
    Wmax: float = 200.0

    def __post_init__(self) -> None:
        for field in ("A_plus", "A_minus", "Wmin", "Wmax"):
            _check_number(f"{_NAME}.{field}", getattr(self, field))
        for field in ("tau_plus", "tau_minus", "tau_c", "tau_n"):
            _check_time(f"{_NAME}.{field}", getattr(self, field))
        b = self.b
        if not isinstance(b, Quantity) or get_dimensions(b) != get_dimensions(brian2.Hz):
            raise ValidationError(f"{_NAME}.b", "a concentration in 1/s (e.g. 0.1*Hz)", b)
        if np.ndim(b) != 0 or not (math.isfinite(float(b)) and float(b) >= 0):
            raise ValidationError(f"{_NAME}.b", "a finite scalar >= 0 Hz", b)
        if float(self.Wmin) > float(self.Wmax):
            raise ValidationError(f"{_NAME}.Wmax", f"a value >= Wmin ({self.Wmin})", self.Wmax)

    # -- derived constants ---------------------------------------------------------------
    @property
    def tau_s(self) -> Quantity:
        """Time constant of the product ``c*n``: ``1/tau_s = 1/tau_c + 1/tau_n``."""
        return self.tau_c * self.tau_n / (self.tau_c + self.tau_n)

    def namespace(self) -> dict[str, Any]:
        """Return the constants used by the generated code.

        Returns
        -------
        dict
            ``{"da_A_plus": ..., "da_tau_c": ..., ...}``: every parameter and ``tau_s``,
            prefixed with ``da_`` so that no variable of the connected groups shadows
            them. Pass it as ``namespace=`` to the plastic ``Synapses`` (merged with your
            own constants if the transmission code needs any).
        """
        values = {
            "A_plus": float(self.A_plus),
            "A_minus": float(self.A_minus),
            "tau_plus": self.tau_plus,
            "tau_minus": self.tau_minus,
            "tau_c": self.tau_c,
            "tau_n": self.tau_n,
            "tau_s": self.tau_s,
            "b": self.b,
            "Wmin": float(self.Wmin),
            "Wmax": float(self.Wmax),
        }
        return {_PREFIX + key: value for key, value in values.items()}

    # -- Brian2 code ---------------------------------------------------------------------
    def synapse_model(self, shared_constants: bool = False) -> str:
        """Return the model string of the plastic ``Synapses``.

        Parameters
        ----------
        shared_constants : bool
            Also declare the rule's constants (the names of :meth:`namespace`) as
            shared constants of the plastic ``Synapses`` (``da_tau_c : second (shared,
            constant)``, :func:`spikingml.simulation.constants_equations`) instead of
            taking them from the namespace: a compiled ``cpp_standalone`` program then
            runs with other values of them (run-time fields). Give them their values with
            :func:`spikingml.simulation.set_constants` and the ``namespace()`` as values,
            and pass no ``namespace=`` of the rule to the plastic ``Synapses``; the
            dopamine pathway (:meth:`build_dopamine_pathway`) reads them from there.

        Returns
        -------
        str
            Per-synapse state, all updated at events only (no differential equations):
            weight ``w``, eligibility ``c``, dopamine concentration ``n`` (1/s), traces
            ``K_plus``/``K_minus``, time of the last update ``t_last`` and
            ``pre_spike_step`` (time step of the last pre spike plus one, 0 before any),
            used to keep simultaneous pre and post spikes from pairing; with
            ``shared_constants``, the rule's constants.
        """
        model = (
            "w : 1\n"
            "c : 1\n"
            "n : hertz\n"
            "K_plus : 1\n"
            "K_minus : 1\n"
            "t_last : second\n"
            "pre_spike_step : integer\n"
        )
        if shared_constants:
            model += constants_equations(self.namespace()).lstrip("\n") + "\n"
        return model

    @staticmethod
    def _advance(suffix: str = "") -> str:
        s = suffix
        p = _PREFIX
        return (
            f"delta_da = t - t_last{s}\n"
            f"w{s} = clip(w{s} + c{s}*n{s}*{p}tau_s*(-expm1(-delta_da/{p}tau_s))"
            f" - {p}b*c{s}*{p}tau_c*(-expm1(-delta_da/{p}tau_c)), {p}Wmin, {p}Wmax)\n"
            f"c{s} = c{s}*exp(-delta_da/{p}tau_c)\n"
            f"n{s} = n{s}*exp(-delta_da/{p}tau_n)\n"
            f"K_plus{s} = K_plus{s}*exp(-delta_da/{p}tau_plus)\n"
            f"K_minus{s} = K_minus{s}*exp(-delta_da/{p}tau_minus)\n"
            f"t_last{s} = t\n"
        )

    def on_pre(self, transmit: str = "") -> str:
        """Return the ``on_pre`` code: advance, depress, raise ``K_plus``, transmit.

        Parameters
        ----------
        transmit : str
            Code appended at the end, e.g. ``"v_post += w*mV"``. It sees the weight
            advanced to the spike time (the depression acts on ``c``, not on ``w``).

        Returns
        -------
        str
            Brian2 abstract code.
        """
        p = _PREFIX
        code = (
            self._advance()
            + f"c = c - {p}A_minus*K_minus\n"
            + "K_plus = K_plus + 1\n"
            + "pre_spike_step = t_in_timesteps + 1\n"
        )
        if transmit.strip():
            code += transmit.strip() + "\n"
        return code

    def on_post(self) -> str:
        """Return the ``on_post`` code: advance, facilitate, raise ``K_minus``.

        Returns
        -------
        str
            Brian2 abstract code. Brian2 runs a ``Synapses``' ``pre`` pathway before its
            ``post`` pathway within a time step, so a pre spike in the same step has
            already added 1 to ``K_plus``; that jump is left out of the facilitation
            (NEST's convention: simultaneous pre and post spikes do not pair).
        """
        p = _PREFIX
        return (
            self._advance()
            + f"c = c + {p}A_plus*(K_plus - int(pre_spike_step == t_in_timesteps + 1))\n"
            + "K_minus = K_minus + 1\n"
        )

    def on_dopamine(self) -> str:
        """Return the code of the dopamine pathway (its target is the plastic ``Synapses``).

        Returns
        -------
        str
            Brian2 abstract code for the ``on_pre`` of a ``Synapses`` from the dopamine
            neurons to the plastic synapses: the target synapse's variables carry the
            ``_post`` suffix. Advances the target synapse and adds ``1/tau_n`` to ``n``.
        """
        _silence_dopamine_order_warning()
        return self._advance("_post") + f"n_post = n_post + 1/{_PREFIX}tau_n\n"

    def on_update(self) -> str:
        """Return code that only advances the state to the current time (no jump).

        Returns
        -------
        str
            Brian2 abstract code for ``plastic.run_regularly(rule.on_update(), dt=...)``,
            e.g. to read ``w`` at regular times or to clip as often as NEST's volume
            transmitter updates. The exact solution is unchanged unless ``w`` hits a bound.
        """
        return self._advance()

    def build_dopamine_pathway(
        self,
        dopamine_source: brian2.Group,
        plastic_synapses: brian2.Synapses,
        *,
        delay: Quantity | None = None,
        name: str | None = None,
        dt: Quantity | None = None,
    ) -> brian2.Synapses:
        """Connect every dopamine neuron to every plastic synapse (a volume transmitter).

        Parameters
        ----------
        dopamine_source : brian2.Group
            Neurons whose spikes release dopamine (any spiking group).
        plastic_synapses : brian2.Synapses
            Synapses built with this rule's :meth:`synapse_model`, already connected
            (the dopamine pathway needs their number). Where they declare the rule's
            constants (``shared_constants=True``) the pathway reads them from there.
        delay : Quantity (time), optional
            Delay from a dopamine spike to its effect on the synapses (default 0).
        name : str, optional
            Name of the returned ``Synapses``.
        dt : Quantity (time), optional
            Time step of the pathway (default: the network's). With a sparse dopamine
            source on a coarser clock (``dt`` a multiple of the network's, ``delay`` a
            multiple of ``dt``) the pathway costs a code object per coarse step only;
            the synapses' event-driven variables are advanced to the exact time of each
            delivery either way.

        Returns
        -------
        brian2.Synapses
            The dopamine pathway, connected all-to-all (``N_dopamine * N_synapses``
            synapses: with many synapses, use a single dopamine source). Add it to the
            ``Network``.

        Notes
        -----
        Its code writes to the plastic synapses' variables in a way Brian2 cannot
        vectorise, so under the ``numpy`` code-generation target it runs as a Python loop
        over the synapses reached by a spike (Brian2 says so at ``INFO`` level); Cython
        and ``cpp_standalone`` are unaffected. It is checked under ``cpp_standalone``
        without OpenMP threads (spikingml's default); with several dopamine neurons
        spiking in one step, the same synapse is updated once per spike, in turn.
        """
        missing = [v for v in ("w", "c", "n", "t_last") if v not in plastic_synapses.variables]
        if not isinstance(plastic_synapses, brian2.Synapses) or missing:
            raise ValidationError(
                "plastic_synapses",
                "a brian2.Synapses built with DopamineSTDP.synapse_model()",
                plastic_synapses,
            )
        kwargs: dict[str, Any] = {}
        if delay is not None:
            if not isinstance(delay, Quantity) or get_dimensions(delay) != get_dimensions(
                brian2.second
            ):
                raise ValidationError("delay", "a time quantity >= 0 s", delay)
            if np.ndim(delay) != 0 or not float(delay) >= 0:
                raise ValidationError("delay", "a scalar time >= 0 s", delay)
            kwargs["delay"] = delay
        if name is not None:
            kwargs["name"] = name
        if dt is not None:
            if not isinstance(dt, Quantity) or get_dimensions(dt) != get_dimensions(brian2.second):
                raise ValidationError("dt", "a time quantity > 0 s", dt)
            if np.ndim(dt) != 0 or not float(dt) > 0:
                raise ValidationError("dt", "a scalar time > 0 s", dt)
            steps = float(kwargs.get("delay", 0 * brian2.second) / dt)
            if abs(steps - round(steps)) > 1e-9:
                raise ValidationError("delay", f"a multiple of dt ({dt})", delay)
            kwargs["dt"] = dt
        # constants the plastic synapses declare (synapse_model(shared_constants=True))
        # are read from them: the pathway's code sees its target's variables unsuffixed
        namespace = {
            k: v for k, v in self.namespace().items() if k not in plastic_synapses.variables
        }
        pathway = brian2.Synapses(
            dopamine_source,
            plastic_synapses,
            on_pre=self.on_dopamine(),
            namespace=namespace,
            **kwargs,
        )
        pathway.connect()
        if dt is not None:
            _silence_coarse_clock_warning(pathway.pre.name)
        return pathway

    # -- exact solution in NumPy --------------------------------------------------------
    @functools.cached_property
    def _advance_constants(self) -> tuple[float, float, float, float]:
        """``tau_c``, ``tau_n``, ``tau_s`` (s) and ``b`` (1/s) as floats, once: the
        reference calls :meth:`advance` at every event, and Brian2's unit arithmetic
        costs far more than the closed form itself."""
        return (
            float(self.tau_c / brian2.second),
            float(self.tau_n / brian2.second),
            float(self.tau_s / brian2.second),
            float(self.b / brian2.Hz),
        )

    def advance(
        self, w: Any, c: Any, n: Any, delta: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance ``(w, c, n)`` by ``delta`` with the closed form (NumPy arrays).

        Parameters
        ----------
        w, c : array_like
            Weight and eligibility at the start (dimensionless).
        n : array_like
            Dopamine concentration at the start, in 1/s (a plain float array).
        delta : array_like
            Elapsed time in seconds (plain floats, >= 0).

        Returns
        -------
        w, c, n : numpy.ndarray
            The state ``delta`` later; ``w`` clipped to ``[Wmin, Wmax]``.
        """
        w, c, n, delta = (np.asarray(x, dtype=float) for x in (w, c, n, delta))
        tau_c, tau_n, tau_s, b = self._advance_constants
        dw = c * n * tau_s * -np.expm1(-delta / tau_s) - b * c * tau_c * -np.expm1(-delta / tau_c)
        w_new = np.clip(w + dw, self.Wmin, self.Wmax)
        return w_new, c * np.exp(-delta / tau_c), n * np.exp(-delta / tau_n)


class WeightTrajectory(NamedTuple):
    """State of one synapse after each distinct event time, and at ``t_end``.

    Attributes
    ----------
    t : Quantity
        Event times (merged, sorted, distinct) followed by ``t_end``.
    w, c : numpy.ndarray
        Weight and eligibility just after the events at each time.
    n : Quantity
        Dopamine concentration (1/s) just after the events at each time.
    K_plus, K_minus : numpy.ndarray
        Pre- and postsynaptic traces just after the events at each time.
    """

    t: Quantity
    w: np.ndarray
    c: np.ndarray
    n: Quantity
    K_plus: np.ndarray
    K_minus: np.ndarray


def _times_in_seconds(name: str, times: Any, t_end: float) -> np.ndarray:
    if isinstance(times, Quantity):
        if get_dimensions(times) != get_dimensions(brian2.second):
            raise ValidationError(name, "times as a Brian2 time quantity", times)
        values = np.asarray(times / brian2.second, dtype=float).ravel()
    elif np.size(times) == 0:
        values = np.zeros(0)
    else:
        raise ValidationError(name, "times as a Brian2 time quantity (e.g. [1, 5]*ms)", times)
    if values.size and not (np.all(np.isfinite(values)) and values.min() >= 0):
        raise ValidationError(name, "finite times >= 0 s", times)
    if values.size and values.max() >= t_end:
        raise ValidationError(name, f"times < t_end ({t_end} s)", times)
    return values


def _update_ticks(update_interval: Any, t_stop: float) -> np.ndarray:
    """Multiples of ``update_interval`` in ``(0, t_stop)``, in seconds (none if ``None``)."""
    if update_interval is None:
        return np.zeros(0)
    _check_time("update_interval", update_interval)
    interval = float(update_interval / brian2.second)
    # Integer multiples, not a running sum, so that the ticks fall exactly on the grid
    # of time steps when ``update_interval`` is a whole number of steps.
    count = math.ceil(t_stop / interval)
    ticks = np.arange(1, count + 1) * interval
    return ticks[ticks < t_stop]


def reference_weight_trajectory(
    pre_times: Quantity,
    post_times: Quantity,
    dopa_times: Quantity,
    rule: DopamineSTDP,
    t_end: Quantity,
    *,
    w0: float = 1.0,
    update_interval: Quantity | None = None,
) -> WeightTrajectory:
    """Exact solution of :class:`DopamineSTDP` for one synapse, computed event by event.

    Starts at ``t = 0`` with ``w = w0`` and ``c = n = K_plus = K_minus = 0``, as a Brian2
    synapse built with :meth:`DopamineSTDP.synapse_model` and ``w = w0``. At each event
    time the state is advanced with the closed form and then every event at that time is
    applied (dopamine, then depression and facilitation with the traces as they were just
    before that time, then the trace jumps), following NEST's conventions (see the module
    docstring).

    Parameters
    ----------
    pre_times, post_times, dopa_times : Quantity (time)
        Times at which the synapse sees pre, post and dopamine spikes, in ``[0, t_end)``
        (a Brian2 run of duration ``t_end`` handles exactly these). Repeated dopamine
        times count once each (several dopamine neurons).
    rule : DopamineSTDP
        The rule's parameters.
    t_end : Quantity (time)
        End of the run; the last row of the result is the state advanced to ``t_end``.
    w0 : float
        Initial weight (NEST's default weight is 1.0).
    update_interval : Quantity (time), optional
        If given, the state is also advanced (and ``w`` clipped) at every multiple of
        ``update_interval`` in ``(0, t_end)``, as NEST's volume transmitter does every
        ``deliver_interval * min_delay`` and as :meth:`DopamineSTDP.on_update` in a
        ``run_regularly`` with this ``dt`` does in Brian2. These updates add no rows to
        the result and change nothing unless ``w`` reaches a bound. By default the state
        is advanced at events only.

    Returns
    -------
    WeightTrajectory
        One row per distinct event time, plus one at ``t_end``.
    """
    if not isinstance(rule, DopamineSTDP):
        raise ValidationError("rule", "a DopamineSTDP", rule)
    if not isinstance(t_end, Quantity) or get_dimensions(t_end) != get_dimensions(brian2.second):
        raise ValidationError("t_end", "a time quantity > 0 s", t_end)
    t_stop = float(t_end / brian2.second)
    if not (math.isfinite(t_stop) and t_stop > 0):
        raise ValidationError("t_end", "a finite time > 0 s", t_end)
    w = _check_number("w0", w0)
    pre = _times_in_seconds("pre_times", pre_times, t_stop)
    post = _times_in_seconds("post_times", post_times, t_stop)
    dopa = _times_in_seconds("dopa_times", dopa_times, t_stop)

    tau_plus = float(rule.tau_plus / brian2.second)
    tau_minus = float(rule.tau_minus / brian2.second)
    tau_n = float(rule.tau_n / brian2.second)
    times = np.unique(np.concatenate([pre, post, dopa]))
    ticks = _update_ticks(update_interval, t_stop)
    # (time, is an event) in time order; a tick at an event's time advances by 0.
    schedule = sorted([(float(t), True) for t in times] + [(float(t), False) for t in ticks])
    c = n = k_plus = k_minus = 0.0
    t_last = 0.0
    rows = []
    for t, event in [*schedule, (t_stop, True)]:
        delta = t - t_last
        w, c, n = (float(x) for x in rule.advance(w, c, n, delta))
        k_plus *= math.exp(-delta / tau_plus)
        k_minus *= math.exp(-delta / tau_minus)
        t_last = t
        if not event:
            continue
        if t < t_stop:
            n_pre = int(np.count_nonzero(pre == t))
            n_post = int(np.count_nonzero(post == t))
            n += np.count_nonzero(dopa == t) / tau_n
            # Simultaneous pre and post spikes do not pair: both use the traces from
            # before this time.
            c += rule.A_plus * k_plus * n_post - rule.A_minus * k_minus * n_pre
            k_plus += n_pre
            k_minus += n_post
        rows.append((t, w, c, n, k_plus, k_minus))
    table = np.array(rows, dtype=float).reshape(-1, 6)
    return WeightTrajectory(
        t=table[:, 0] * brian2.second,
        w=table[:, 1],
        c=table[:, 2],
        n=table[:, 3] * brian2.Hz,
        K_plus=table[:, 4],
        K_minus=table[:, 5],
    )


@dataclasses.dataclass(frozen=True)
class PresynapticDopamineRule:
    r"""The three-factor rule with a presynaptic eligibility trace and a global dopamine.

    The same weight dynamics as :class:`DopamineSTDP`, ``dw/dt = c (n - b)``, but the
    eligibility ``c`` of a synapse is tagged by the presynaptic neuron's own (possibly
    delayed) spikes alone, as in TD-LTP and in the critic of actor-critic models
    (Fremaux, Sprekeler & Gerstner 2013), and ``n`` is one dopamine concentration shared
    by every synapse (a volume transmitter that low-pass filters a dopamine population).

    Since ``c`` then belongs to the presynaptic neuron and ``n`` to nobody in particular,
    the integral of ``c (n - b)`` is the same for every synapse leaving a neuron, so it is
    accumulated once per *presynaptic neuron* (``e_int``) rather than once per synapse::

        presynaptic neuron:   dc/dt     = -c / tau_c        (c += A_plus per tagging spike)
                              de_int/dt = c * (n - b)
        synapse (every update_interval):
                              w      = clip(w + e_int_pre - e_seen, Wmin, Wmax)
                              e_seen = e_int_pre

    so each synapse adds exactly ``integral of c (n - b) dt`` since its previous update; the
    per-synapse work is one addition per ``update_interval`` and nothing is integrated per
    synapse. ``w`` is dimensionless, ``n`` and ``b`` are in 1/s.

    Parameters
    ----------
    A_plus : float
        Jump of ``c`` per tagging spike (sets the learning rate).
    tau_c : Quantity
        Decay time constant of the eligibility trace.
    b : Quantity
        Dopamine baseline (1/s): ``n`` above ``b`` potentiates eligible synapses.
    Wmin, Wmax : float
        Bounds of the weight.
    """

    A_plus: float = 1.0
    tau_c: Quantity = dataclasses.field(default_factory=lambda: 15 * brian2.ms)
    b: Quantity = dataclasses.field(default_factory=lambda: 5 * brian2.Hz)
    Wmin: float = 0.0
    Wmax: float = 200.0

    def __post_init__(self) -> None:
        _check_number("PresynapticDopamineRule.A_plus", self.A_plus)
        _check_time("PresynapticDopamineRule.tau_c", self.tau_c)
        if not isinstance(self.b, Quantity) or not self.b.has_same_dimensions(brian2.Hz):
            raise ValidationError("PresynapticDopamineRule.b", "a rate in 1/s (Hz)", self.b)
        wmin = _check_number("PresynapticDopamineRule.Wmin", self.Wmin)
        wmax = _check_number("PresynapticDopamineRule.Wmax", self.Wmax)
        if wmin > wmax:
            raise ValidationError(
                "PresynapticDopamineRule.Wmax", f"a value >= Wmin ({wmin})", wmax
            )

    def namespace(self) -> dict[str, Any]:
        """Constants used by the generated code (prefixed ``pe_`` to avoid clashes)."""
        return {
            "pe_A_plus": float(self.A_plus),
            "pe_tau_c": self.tau_c,
            "pe_b": self.b,
            "pe_Wmin": float(self.Wmin),
            "pe_Wmax": float(self.Wmax),
        }

    @staticmethod
    def presynaptic_equations(linked: bool = True) -> str:
        """Equations to add to the presynaptic ``NeuronGroup``.

        Parameters
        ----------
        linked : bool
            If true (default), ``n`` is declared as a linked variable, to be linked to the
            volume transmitter's concentration with
            ``brian2.linked_var(volume_transmitter, "n", index=...)``. If false, the
            group must define the dopamine concentration ``n`` (in Hz) itself.
        """
        eqs = "dc/dt = -c / pe_tau_c : 1\nde_int/dt = c * (n - pe_b) : 1\n"
        return eqs + "n : hertz (linked)\n" if linked else eqs

    @staticmethod
    def on_tag(suffix: str = "_post") -> str:
        """Code for a pathway that tags the eligibility (``c += A_plus``).

        With the default ``suffix`` it is meant for a one-to-one synapse from the
        presynaptic group onto itself, whose delay sets when eligibility starts.
        """
        return f"c{suffix} += pe_A_plus"

    @staticmethod
    def synapse_model() -> str:
        """Per-synapse variables: the weight and the last integral it has seen."""
        return "w : 1\ne_seen : 1\n"

    @staticmethod
    def on_update() -> str:
        """Code for the synapses' ``run_regularly`` that applies the accumulated change."""
        return "w = clip(w + e_int_pre - e_seen, pe_Wmin, pe_Wmax)\ne_seen = e_int_pre\n"
