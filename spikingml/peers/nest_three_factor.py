r"""NEST's ``stdp_dopamine_synapse`` next to spikingml's :class:`DopamineSTDP`.

Both simulators get the same pre, post and dopamine spike trains, and each reports the
synapse's weight at every presynaptic spike (NEST's ``weight_recorder`` events). The
pure-NumPy :func:`~spikingml.plasticity.three_factor.reference_weight_trajectory` gives
a third, simulator-free opinion.

Contents
--------
:func:`import_nest`
    Import NEST, or raise an ``ImportError`` naming the extra to install.
:func:`nest_parameters`
    A :class:`DopamineSTDP` as NEST synapse parameters (NEST units: ms, 1/ms).
:func:`seen_times`
    The times at which the NEST synapse sees pre, post and dopamine spikes.
:func:`simulate_nest`, :func:`simulate_brian2`, :func:`reference_event_weights`
    One synapse driven by given spike trains; the weight at every presynaptic spike.
:func:`compare_event_weights`
    Largest deviation between two such trajectories, relative to the weight and to the
    weight change.
:class:`ParityCase`, :data:`PARITY_CASES`
    The parameter sets and spike trains of the parity tests and benchmark.

The NEST network
----------------
Three ``spike_generator``\ s feed three ``parrot_neuron``\ s (delay: one resolution step,
so the generators are given the parrots' spike times minus one step). The pre parrot
connects to port 1 of the post parrot (a port whose spikes the parrot does not repeat)
with the plastic synapse of delay ``delay``; the dopamine parrot connects to a
``volume_transmitter`` with delay ``dopa_delay``. Every other delay is one step, so
NEST's ``min_delay`` is one step and its volume transmitter advances the synapse every
``deliver_interval`` steps: ``update_interval = deliver_interval * resolution``.

Delay convention
----------------
NEST treats the delay ``d`` of an STDP synapse as purely dendritic. The synapse handles
a pre spike at its emission time ``t_pre`` (the ``weight_recorder`` stamps it so), a post
spike at ``t_post + d`` (back-propagation to the synapse), and a dopamine spike when it
reaches the volume transmitter, ``t_dopa + dopa_delay``. Relative to each other, pre
spikes are therefore seen ``d`` *earlier* than in a scheme without dendritic delay:
``t_post - t_pre = d`` is seen as simultaneous. In Brian2 the same is a ``post``
pathway delay ``d``, a ``pre`` pathway delay 0 and a dopamine pathway delay
``dopa_delay`` (see the module docstring of :mod:`spikingml.plasticity.three_factor`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import math
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any, NamedTuple

import brian2
import numpy as np
from brian2 import Hz, ms, second
from brian2.units.fundamentalunits import Quantity, get_dimensions

from spikingml.errors import ValidationError
from spikingml.plasticity.three_factor import DopamineSTDP, reference_weight_trajectory

__all__ = [
    "EventWeights",
    "PARITY_CASES",
    "ParityCase",
    "compare_event_weights",
    "import_nest",
    "nest_parameters",
    "reference_event_weights",
    "seen_times",
    "simulate_brian2",
    "simulate_nest",
]

#: What to install when NEST is missing.
NEST_HINT = "pip install 'spikingml[nest]' (nest-simulator>=3.10,<4)"

_SYNAPSE_MODEL = "spikingml_dopamine_synapse"


def import_nest() -> ModuleType:
    """Import and return the ``nest`` module (PyNEST), quietly.

    Returns
    -------
    module
        ``nest``.

    Raises
    ------
    ImportError
        If NEST is not installed; the message names the extra ``spikingml[nest]``.
    """
    # NEST prints a banner on import unless PYNEST_QUIET is set.
    os.environ.setdefault("PYNEST_QUIET", "1")
    try:
        return importlib.import_module("nest")
    except ImportError as exc:
        raise ImportError(
            f"comparing with NEST needs the NEST simulator (PyNEST): {NEST_HINT}"
        ) from exc


class EventWeights(NamedTuple):
    """The weight of one synapse just after each presynaptic spike it handles.

    Attributes
    ----------
    t : Quantity
        Times of the presynaptic spikes (as the synapse sees them), increasing.
    w : numpy.ndarray
        Weight at those times, after the state was advanced to them.
    """

    t: Quantity
    w: np.ndarray


def nest_parameters(rule: DopamineSTDP) -> dict[str, float]:
    """Return the NEST ``stdp_dopamine_synapse`` parameters of ``rule``.

    Parameters
    ----------
    rule : DopamineSTDP
        The rule.

    Returns
    -------
    dict
        ``A_plus``, ``A_minus``, ``tau_plus``, ``tau_c``, ``tau_n`` (ms), ``b`` (1/ms),
        ``Wmin`` and ``Wmax``. ``tau_minus`` is a parameter of NEST's postsynaptic
        neuron, not of the synapse: set it there (``rule.tau_minus`` in ms).
    """
    if not isinstance(rule, DopamineSTDP):
        raise ValidationError("rule", "a DopamineSTDP", rule)
    return {
        "A_plus": float(rule.A_plus),
        "A_minus": float(rule.A_minus),
        "tau_plus": float(rule.tau_plus / ms),
        "tau_c": float(rule.tau_c / ms),
        "tau_n": float(rule.tau_n / ms),
        "b": float(rule.b * ms),  # 1/s -> 1/ms
        "Wmin": float(rule.Wmin),
        "Wmax": float(rule.Wmax),
    }


def _steps(name: str, value: Any, resolution: Quantity, *, minimum: int = 0) -> np.ndarray:
    """Times (a time quantity) as whole numbers of resolution steps >= ``minimum``."""
    if not isinstance(value, Quantity) or get_dimensions(value) != get_dimensions(second):
        if np.size(value) == 0:
            return np.zeros(0, dtype=np.int64)
        raise ValidationError(name, "times as a Brian2 time quantity (e.g. [1, 5]*ms)", value)
    ratio = np.atleast_1d(np.asarray(value / resolution, dtype=float))
    steps = np.rint(ratio)
    if ratio.ndim != 1 or not np.all(np.isfinite(ratio)):
        raise ValidationError(name, "a one-dimensional array of finite times", value)
    if np.any(np.abs(ratio - steps) > 1e-6):
        raise ValidationError(name, f"times on the grid of the resolution ({resolution})", value)
    if steps.size and steps.min() < minimum:
        raise ValidationError(name, f"times >= {minimum * resolution}", value)
    return steps.astype(np.int64)


def _check_resolution(resolution: Any) -> Quantity:
    if not isinstance(resolution, Quantity) or get_dimensions(resolution) != get_dimensions(
        second
    ):
        raise ValidationError("resolution", "a time quantity (e.g. 0.1*ms)", resolution)
    if np.ndim(resolution) != 0 or not float(resolution) > 0:
        raise ValidationError("resolution", "a scalar time > 0 s", resolution)
    return resolution


def _train(name: str, times: Any, resolution: Quantity, t_end_steps: int) -> np.ndarray:
    # Parrots fire one step after their generators, whose spikes must come after t = 0.
    steps = _steps(name, times, resolution, minimum=2)
    if steps.size and (np.any(np.diff(steps) <= 0) or steps.max() >= t_end_steps):
        raise ValidationError(
            name, f"strictly increasing times < t_end ({t_end_steps * resolution})", times
        )
    return steps


def _delay_steps(name: str, delay: Any, resolution: Quantity) -> int:
    steps = _steps(name, delay, resolution, minimum=1)
    if steps.size != 1 or np.ndim(delay) != 0:
        raise ValidationError(name, "a scalar time", delay)
    return int(steps[0])


def seen_times(
    pre_times: Quantity,
    post_times: Quantity,
    dopa_times: Quantity,
    *,
    delay: Quantity,
    dopa_delay: Quantity,
    resolution: Quantity = 0.1 * ms,
) -> tuple[Quantity, Quantity, Quantity]:
    """Times at which a NEST ``stdp_dopamine_synapse`` handles pre, post and dopamine spikes.

    Parameters
    ----------
    pre_times, post_times, dopa_times : Quantity (time)
        Spike times of the presynaptic, postsynaptic and dopamine neurons, on the grid
        of ``resolution``.
    delay : Quantity (time)
        Delay of the plastic synapse (dendritic in NEST).
    dopa_delay : Quantity (time)
        Delay from the dopamine neuron to the volume transmitter.
    resolution : Quantity (time)
        Simulation time step; the results are exact multiples of it, so that
        coincidences (e.g. ``t_post + delay == t_pre``) stay exact in floating point.

    Returns
    -------
    pre, post, dopa : Quantity
        ``t_pre``, ``t_post + delay`` and ``t_dopa + dopa_delay``.
    """
    resolution = _check_resolution(resolution)
    d = _delay_steps("delay", delay, resolution)
    d_dopa = _delay_steps("dopa_delay", dopa_delay, resolution)
    pre = _steps("pre_times", pre_times, resolution)
    post = _steps("post_times", post_times, resolution) + d
    dopa = _steps("dopa_times", dopa_times, resolution) + d_dopa
    return tuple(np.asarray(s, dtype=float) * resolution for s in (pre, post, dopa))


@dataclasses.dataclass(frozen=True)
class _Setup:
    """Validated inputs shared by the three simulations, in resolution steps."""

    pre: np.ndarray
    post: np.ndarray
    dopa: np.ndarray
    t_end: int
    delay: int
    dopa_delay: int
    update: int | None
    resolution: Quantity


def _setup(
    pre_times: Any,
    post_times: Any,
    dopa_times: Any,
    rule: Any,
    t_end: Any,
    delay: Any,
    dopa_delay: Any,
    update_interval: Any,
    resolution: Any,
) -> _Setup:
    if not isinstance(rule, DopamineSTDP):
        raise ValidationError("rule", "a DopamineSTDP", rule)
    resolution = _check_resolution(resolution)
    end = _steps("t_end", t_end, resolution, minimum=3)
    if end.size != 1 or np.ndim(t_end) != 0:
        raise ValidationError("t_end", "a scalar time", t_end)
    t_end_steps = int(end[0])
    update = None
    if update_interval is not None:
        update = _delay_steps("update_interval", update_interval, resolution)
    return _Setup(
        pre=_train("pre_times", pre_times, resolution, t_end_steps),
        post=_train("post_times", post_times, resolution, t_end_steps),
        dopa=_train("dopa_times", dopa_times, resolution, t_end_steps),
        t_end=t_end_steps,
        delay=_delay_steps("delay", delay, resolution),
        dopa_delay=_delay_steps("dopa_delay", dopa_delay, resolution),
        update=update,
        resolution=resolution,
    )


def simulate_nest(
    pre_times: Quantity,
    post_times: Quantity,
    dopa_times: Quantity,
    rule: DopamineSTDP,
    t_end: Quantity,
    *,
    w0: float = 1.0,
    delay: Quantity = 1 * ms,
    dopa_delay: Quantity = 1 * ms,
    update_interval: Quantity = 1 * ms,
    resolution: Quantity = 0.1 * ms,
) -> EventWeights:
    """Run one NEST ``stdp_dopamine_synapse``; return its weight at every pre spike.

    Resets the NEST kernel (``nest.ResetKernel()``) first: NEST has one global network.

    Parameters
    ----------
    pre_times, post_times, dopa_times : Quantity (time)
        Spike times of the pre, post and dopamine parrot neurons: strictly increasing, on
        the grid of ``resolution``, ``>= 2 * resolution`` and ``< t_end``.
    rule : DopamineSTDP
        The rule; see :func:`nest_parameters`.
    t_end : Quantity (time)
        Duration of the simulation.
    w0 : float
        Initial weight.
    delay : Quantity (time)
        Delay of the plastic synapse (dendritic: see :func:`seen_times`), >= one step.
    dopa_delay : Quantity (time)
        Delay from the dopamine parrot to the volume transmitter, >= one step.
    update_interval : Quantity (time)
        Interval at which the volume transmitter advances (and clips) the synapse: its
        ``deliver_interval`` times ``min_delay`` (one step here), so a whole number of
        steps. NEST's default ``deliver_interval`` 1 is ``update_interval=resolution``.
    resolution : Quantity (time)
        NEST's resolution.

    Returns
    -------
    EventWeights
        Weight-recorder times and weights. A pre spike in the last step of the run is not
        delivered before the end and so not recorded.
    """
    s = _setup(
        pre_times, post_times, dopa_times, rule, t_end, delay, dopa_delay, update_interval,
        resolution,
    )  # fmt: skip
    if s.update is None:
        raise ValidationError("update_interval", "a time (NEST always updates)", None)
    nest = import_nest()
    h = float(s.resolution / ms)
    nest.ResetKernel()
    if hasattr(nest, "VerbosityLevel"):  # NEST >= 3.10
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:  # pragma: no cover
        nest.set_verbosity("M_ERROR")
    nest.set(resolution=h, local_num_threads=1, print_time=False)
    generators = nest.Create("spike_generator", 3)
    for generator, steps in zip(generators, (s.pre, s.post, s.dopa), strict=True):
        # Times on NEST's grid; the parrot repeats each spike one step later.
        generator.spike_times = [round((k - 1) * h, 10) for k in steps]
    parrots = nest.Create("parrot_neuron", 3)
    nest.Connect(generators, parrots, "one_to_one", syn_spec={"delay": h})
    pre, post, dopa = parrots[0], parrots[1], parrots[2]
    post.tau_minus = float(rule.tau_minus / ms)
    transmitter = nest.Create("volume_transmitter", params={"deliver_interval": s.update})
    recorder = nest.Create("weight_recorder")
    nest.CopyModel(
        "stdp_dopamine_synapse",
        _SYNAPSE_MODEL,
        # NEST keeps the rule's parameters per synapse model, not per connection.
        {"volume_transmitter": transmitter, "weight_recorder": recorder, **nest_parameters(rule)},
    )
    nest.Connect(dopa, transmitter, syn_spec={"delay": s.dopa_delay * h})
    nest.Connect(
        pre,
        post,
        syn_spec={
            "synapse_model": _SYNAPSE_MODEL,
            "weight": float(w0),
            "delay": s.delay * h,
            "receptor_type": 1,  # the parrot does not repeat spikes on port 1
        },
    )
    nest.Simulate(s.t_end * h)
    events = recorder.get("events")
    order = np.argsort(events["times"], kind="stable")
    return EventWeights(
        t=np.asarray(events["times"], dtype=float)[order] * ms,
        w=np.asarray(events["weights"], dtype=float)[order],
    )


@contextlib.contextmanager
def _brian2_settings(target: str, dt: Quantity) -> Iterator[None]:
    """Set Brian2's code-generation target and default clock, restoring them after."""
    old_target, old_dt = brian2.prefs.codegen.target, brian2.defaultclock.dt
    brian2.prefs.codegen.target = target
    brian2.defaultclock.dt = dt
    try:
        yield
    finally:
        brian2.prefs.codegen.target = old_target
        brian2.defaultclock.dt = old_dt


def simulate_brian2(
    pre_times: Quantity,
    post_times: Quantity,
    dopa_times: Quantity,
    rule: DopamineSTDP,
    t_end: Quantity,
    *,
    w0: float = 1.0,
    delay: Quantity = 1 * ms,
    dopa_delay: Quantity = 1 * ms,
    update_interval: Quantity | None = 1 * ms,
    resolution: Quantity = 0.1 * ms,
    codegen_target: str = "numpy",
) -> EventWeights:
    """Run spikingml's :class:`DopamineSTDP` synapse in Brian2 as NEST's would run.

    The same arguments as :func:`simulate_nest`. The plastic ``Synapses`` has a ``post``
    pathway delay ``delay`` (NEST's dendritic delay) and no ``pre`` delay, the dopamine
    pathway a delay ``dopa_delay``, and ``update_interval`` becomes a ``run_regularly``
    of :meth:`DopamineSTDP.on_update` (NEST's volume-transmitter updates).

    Parameters
    ----------
    update_interval : Quantity (time) or None
        As in :func:`simulate_nest`; ``None`` (something NEST cannot do) updates at
        events only, spikingml's default.
    codegen_target : str
        Brian2 code-generation target for this run (``"numpy"``: nothing to compile);
        the previous target and default clock are restored afterwards.

    Returns
    -------
    EventWeights
        The weight just after each pre spike (pre spikes of the last step included).
    """
    s = _setup(
        pre_times, post_times, dopa_times, rule, t_end, delay, dopa_delay, update_interval,
        resolution,
    )  # fmt: skip
    dt = s.resolution
    with _brian2_settings(codegen_target, dt):
        # Pre (0) and post (1) neurons in one generator: one object less to run per step.
        indices = np.concatenate([np.zeros(s.pre.size, int), np.ones(s.post.size, int)])
        cells = brian2.SpikeGeneratorGroup(2, indices, np.concatenate([s.pre, s.post]) * dt)
        dopa = brian2.SpikeGeneratorGroup(1, np.zeros(s.dopa.size, int), s.dopa * dt)
        plastic = brian2.Synapses(
            cells,
            cells,
            model=rule.synapse_model(),
            on_pre=rule.on_pre(),
            on_post=rule.on_post(),
            namespace=rule.namespace(),
            delay={"post": s.delay * dt},
        )
        plastic.connect(i=0, j=1)
        plastic.w = float(w0)
        if s.update is not None:
            plastic.run_regularly(rule.on_update(), dt=s.update * dt, when="start")
        volume = rule.build_dopamine_pathway(dopa, plastic, delay=s.dopa_delay * dt)
        # Recorded at the end of each step: after that step's events.
        monitor = brian2.StateMonitor(plastic, "w", record=[0], when="end")
        net = brian2.Network(cells, dopa, plastic, volume, monitor)
        net.run(s.t_end * dt)
        w = np.asarray(monitor.w[0], dtype=float)
    return EventWeights(t=s.pre * dt, w=w[s.pre])


def reference_event_weights(
    pre_times: Quantity,
    post_times: Quantity,
    dopa_times: Quantity,
    rule: DopamineSTDP,
    t_end: Quantity,
    *,
    w0: float = 1.0,
    delay: Quantity = 1 * ms,
    dopa_delay: Quantity = 1 * ms,
    update_interval: Quantity | None = 1 * ms,
    resolution: Quantity = 0.1 * ms,
) -> EventWeights:
    """The NumPy reference for the setting of :func:`simulate_nest`.

    The same arguments as :func:`simulate_nest`; the spike times are shifted with
    :func:`seen_times` and passed to :func:`reference_weight_trajectory` (post and
    dopamine spikes seen at or after ``t_end`` are left out, as in a simulation).
    ``update_interval=None`` updates at events only, as in :func:`simulate_brian2`.

    Returns
    -------
    EventWeights
        The weight just after each pre spike.
    """
    s = _setup(
        pre_times, post_times, dopa_times, rule, t_end, delay, dopa_delay, update_interval,
        resolution,
    )  # fmt: skip
    dt = s.resolution
    post = s.post + s.delay
    dopa = s.dopa + s.dopa_delay
    trajectory = reference_weight_trajectory(
        s.pre * dt,
        post[post < s.t_end] * dt,
        dopa[dopa < s.t_end] * dt,
        rule,
        s.t_end * dt,
        w0=w0,
        update_interval=None if s.update is None else s.update * dt,
    )
    rows = np.rint(np.asarray(trajectory.t[:-1] / dt)).astype(np.int64)
    return EventWeights(t=s.pre * dt, w=trajectory.w[:-1][np.isin(rows, s.pre)])


def compare_event_weights(
    measured: EventWeights, expected: EventWeights, w0: float
) -> dict[str, float]:
    """Largest deviation of ``measured`` from ``expected`` over their common events.

    Parameters
    ----------
    measured, expected : EventWeights
        Weights at the same event times (checked to within 1 ns).
    w0 : float
        Initial weight, to measure the weight change.

    Returns
    -------
    dict
        ``events`` (number compared), ``max_abs`` (largest ``|w_m - w_e|``),
        ``max_rel_weight`` (largest ``|w_m - w_e| / |w_e|``), ``max_change``
        (largest ``|w_e - w0|``, how far learning took the weight) and
        ``max_rel_change`` (``max_abs / max_change``): the last says whether a small
        relative deviation only reflects a large baseline weight.
    """
    t_m = np.asarray(measured.t / second, dtype=float)
    t_e = np.asarray(expected.t / second, dtype=float)
    if t_m.shape != t_e.shape or np.any(np.abs(t_m - t_e) > 1e-9):
        raise ValidationError(
            "measured", f"weights at the {t_e.size} event times of expected", measured.t
        )
    w_m, w_e = np.asarray(measured.w, float), np.asarray(expected.w, float)
    diff = np.abs(w_m - w_e)
    change = float(np.max(np.abs(w_e - w0))) if w_e.size else 0.0
    max_abs = float(diff.max()) if diff.size else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff / np.abs(w_e)
    return {
        "events": float(w_e.size),
        "max_abs": max_abs,
        "max_rel_weight": float(np.nanmax(rel)) if rel.size else 0.0,
        "max_change": change,
        "max_rel_change": max_abs / change if change > 0 else (math.inf if max_abs else 0.0),
    }


def _default(value: Quantity) -> Any:
    """A dataclass default for a quantity (quantities are mutable arrays)."""
    return dataclasses.field(default_factory=lambda: value)


@dataclasses.dataclass(frozen=True)
class ParityCase:
    """A parameter set and its spike trains for comparing NEST and spikingml.

    Attributes
    ----------
    rule : DopamineSTDP
        The rule's parameters.
    w0 : float
        Initial weight.
    pre_rate, post_rate, dopa_rate : Quantity (1/s)
        Rates of the independent Poisson spikes of each train.
    lag : Quantity (time) or None
        If given, every pre spike is also followed by a post spike ``lag`` later
        (``lag < 0``: preceded), as *seen by the synapse* (the dendritic delay is taken
        off), which drives the weight steadily up (or down) towards a bound.
    coincidences : bool
        Add post spikes seen at the same time as pre spikes, and dopamine spikes seen at
        the same time as pre and as post spikes (NEST's tie conventions).
    delay, dopa_delay : Quantity (time)
        Delays of the plastic synapse and of the dopamine connection.
    update_interval : Quantity (time)
        Interval of the volume transmitter's updates.
    t_end : Quantity (time)
        Duration.
    seed : int
        Seed of the spike trains.
    """

    rule: DopamineSTDP
    w0: float
    pre_rate: Quantity = _default(30 * Hz)
    post_rate: Quantity = _default(30 * Hz)
    dopa_rate: Quantity = _default(10 * Hz)
    lag: Quantity | None = None
    coincidences: bool = False
    delay: Quantity = _default(1 * ms)
    dopa_delay: Quantity = _default(1 * ms)
    update_interval: Quantity = _default(1 * ms)
    t_end: Quantity = _default(1 * second)
    seed: int = 0

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`simulate_nest` and :func:`simulate_brian2`."""
        return {
            "w0": self.w0,
            "delay": self.delay,
            "dopa_delay": self.dopa_delay,
            "update_interval": self.update_interval,
        }

    def spike_trains(self, resolution: Quantity = 0.1 * ms) -> tuple[Quantity, Quantity, Quantity]:
        """Pre, post and dopamine spike times (parrot spike times), reproducible from ``seed``.

        All spikes lie in ``[2 * resolution, t_end - 50 ms)``, so that every pre spike is
        handled, and seen, before the end of the run.
        """
        rng = np.random.default_rng(self.seed)
        h = float(resolution / second)
        first, last = 2, int(round(float((self.t_end - 50 * ms) / resolution)))
        d = int(round(float(self.delay / resolution)))
        d_dopa = int(round(float(self.dopa_delay / resolution)))

        def poisson(rate: Quantity) -> np.ndarray:
            count = rng.poisson(float(rate / Hz) * (last - first) * h)
            return rng.choice(np.arange(first, last), size=count, replace=False)

        pre, post, dopa = poisson(self.pre_rate), poisson(self.post_rate), poisson(self.dopa_rate)
        if self.lag is not None:
            # seen post = post + d = pre + lag
            post = np.union1d(post, pre + int(round(float(self.lag / resolution))) - d)
        if self.coincidences:
            some = rng.choice(pre, size=min(5, pre.size), replace=False)
            post = np.union1d(post, some - d)  # seen together with a pre spike
            dopa = np.union1d(dopa, some[:3] - d_dopa)  # dopamine together with a pre
            dopa = np.union1d(dopa, post[:3] + d - d_dopa)  # ... and with a post spike
        trains = []
        for steps in (pre, post, dopa):
            steps = np.unique(steps)
            trains.append(steps[(steps >= first) & (steps < last)] * resolution)
        return trains[0], trains[1], trains[2]


#: The parameter sets of the parity tests and of ``benchmarks/bench_nest_parity.py``.
#: Each runs 1 s of simulated time; Brian2's NumPy target takes a few seconds for it.
PARITY_CASES: dict[str, ParityCase] = {
    # NEST's defaults throughout, independent Poisson trains.
    "defaults": ParityCase(rule=DopamineSTDP(), w0=100.0, seed=1),
    # Dopamine baseline b > 0 (NEST: b = 0.003 / ms), other amplitudes and time
    # constants, dendritic and dopamine delays, ties, updates every 0.5 ms.
    "baseline-delays": ParityCase(
        rule=DopamineSTDP(
            A_plus=2.0,
            A_minus=1.2,
            tau_plus=15 * ms,
            tau_minus=25 * ms,
            tau_c=300 * ms,
            tau_n=100 * ms,
            b=3 * Hz,
        ),
        w0=50.0,
        coincidences=True,
        delay=2.5 * ms,
        dopa_delay=1.7 * ms,
        update_interval=0.5 * ms,
        seed=2,
    ),
    # Causal pairs drive w to Wmax; b > 0 pulls it down again while dopamine is low, so
    # when it is clipped matters. Updates every 0.5 ms (NEST: deliver_interval 5).
    "saturation-Wmax": ParityCase(
        rule=DopamineSTDP(b=5 * Hz, Wmax=101.0),
        w0=100.0,
        lag=5 * ms,
        pre_rate=20 * Hz,
        post_rate=10 * Hz,
        update_interval=0.5 * ms,
        seed=5,
    ),
    # Anti-causal pairs drive w to Wmin; with b > 0, low dopamine lifts it off again.
    "saturation-Wmin": ParityCase(
        rule=DopamineSTDP(b=8 * Hz, Wmin=98.0),
        w0=100.0,
        lag=-5 * ms,
        post_rate=10 * Hz,
        seed=4,
    ),
}
