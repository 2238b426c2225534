r"""Three-factor synapses beside their closed form: the template of a circuit.

This module is the smallest complete circuit, written to be copied: a new circuit starts
as a copy of it (``docs/guide/adding_a_circuit.rst`` walks through the copy). Its parts
come in the order of the circuit contract (:mod:`spikingml.circuits.contract`):
parameters, stimulus, the network (``build_network``: every Brian2 object, on one screen;
``simulate``: the outline of a run), twin, compare, figures. Comments marked
``TEMPLATE:`` say what a new circuit changes.

The ML idea
-----------
Reinforcement learning with an eligibility trace: an action (here a pre-before-post
pairing) is remembered by a decaying trace, and a later reward signal turns the trace
into a weight change (Izhikevich 2007; the three-factor rules reviewed by Frémaux &
Gerstner 2016). The twin is not an approximation but the rule's exact solution, so the
comparison checks that the Brian2 synapses compute what the equations say.

The circuit
-----------
``n_synapses`` independent pairs: presynaptic neuron ``k`` (group ``pre``) -> postsynaptic
neuron ``k`` (group ``post``) through one plastic synapse of :class:`DopamineSTDP`
(NEST's ``stdp_dopamine_synapse``, Potjans et al. 2010); one dopamine neuron
(``dopamine``) reaches every synapse through the rule's dopamine pathway. Pre, post and
dopamine spikes are Poisson trains (``pre_rate``, ``post_rate``, ``dopamine_rate``)
drawn with NumPy from the seed on the grid of ``dt`` and replayed by
``SpikeGeneratorGroup`` objects. Between events, per synapse::

    dc/dt = -c / tau_c        dn/dt = -n / tau_n        dw/dt = c * (n - b)
    dK_plus/dt = -K_plus / tau_plus                     dK_minus/dt = -K_minus / tau_minus

and at events::

    pre spike:       c -= A_minus * K_minus;  K_plus  += 1
    post spike:      c += A_plus  * K_plus;   K_minus += 1
    dopamine spike:  n += 1 / tau_n

with ``w`` clipped to ``[Wmin, Wmax]`` at events and ``w = w0`` at ``t = 0``. The
synapses integrate exactly between events (event-driven); a synapse stores its state at
its last event, which :func:`simulate` advances to ``duration`` with the same closed form.

The rule's parameters and ``w0`` are run-time fields (``Params.runtime_fields()``):
shared constants of the plastic synapses and the initial weight, not constants of the
code, so the ``cpp_standalone`` program compiled for one set of values runs with another
without being compiled again (:func:`simulate_many`); the rates, which draw the spike
trains in Python, and the sizes and durations are structural.

Twin and comparison
-------------------
:func:`~spikingml.plasticity.three_factor.reference_weight_trajectory` solves the same
equations event by event in NumPy on the same spike trains (:func:`stimulus`). Circuit
and twin agree to float rounding (``METRICS``): any larger difference is a bug.

References
----------
Izhikevich, E. M. (2007). Solving the distal reward problem through linkage of STDP and
dopamine signaling. Cerebral Cortex 17(10), 2443-2452.

Frémaux, N. & Gerstner, W. (2016). Neuromodulated spike-timing-dependent plasticity, and
theory of three-factor learning rules. Frontiers in Neural Circuits 9, 85.

Potjans, W., Morrison, A. & Diesmann, M. (2010). Enabling functional neural circuit
simulations with distributed computing of neuromodulated plasticity. Frontiers in
Computational Neuroscience 4, 141.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, NamedTuple

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from spikingml._memo import last_comparison
from spikingml.analysis.stats import pearson
from spikingml.circuits._three_factor_synapse_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.plasticity.three_factor import (
    DopamineSTDP,
    WeightTrajectory,
    reference_weight_trajectory,
)
from spikingml.result import Phase, Result, Signal, SpikeData
from spikingml.simulation import (
    SynapticEventCounter,
    brian_device,
    check_device,
    check_seed,
    progress_reporter,
    set_constants,
    versions,
)

__all__ = [
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "Network",
    "Params",
    "Stimulus",
    "Twin",
    "build_network",
    "closed_form_trace",
    "compare",
    "figures",
    "raster_options",
    "simulate",
    "simulate_many",
    "stimulus",
    "twin",
]

# TEMPLATE: the registry key (also add it to spikingml/circuits/__init__.py REGISTRY),
# one line for `spikingml list`, and every metric compare() returns: what it measures,
# which direction is better, the target.
NAME = "three-factor-synapse"
DESCRIPTION = (
    "dopamine-modulated STDP synapses on Poisson spike trains beside the rule's exact "
    "solution (Izhikevich 2007); the template of a circuit"
)
DEFAULT_DEVICE = "runtime"

#: Every metric :func:`compare` returns.
METRICS: dict[str, str] = {
    "weight_max_abs_error": "largest |w_circuit - w_closed_form| at the end of the run over "
    "all synapses (lower is better; target <= 1e-9: float rounding)",
    "trajectory_max_abs_error": "largest |w_circuit - w_closed_form| of the recorded "
    "synapses over every sample of the run (lower is better; target <= 1e-9)",
    "weight_change_correlation": "Pearson r of the weight changes of circuit and closed "
    "form across synapses (higher is better; target >= 0.999)",
    "mean_weight_change": "mean weight change of the circuit's synapses (reported)",
    "twin_mean_weight_change": "mean weight change of the closed form (reference)",
}


# --------------------------------------------------------------------------- parameters
# TEMPLATE: one param() per field, with its unit and bounds: Params validates itself and
# its errors name "ThreeFactorSynapse.Params.field". Cross-field checks go in check().
# runtime=True marks a run-time field: its value reaches the network only as the value of
# a variable (here the rule's constants and the initial weight; _constants below), so a
# compiled cpp_standalone program runs with new values of it. Sizes, durations, dt and
# whatever draws the inputs in Python (the rates) are structural.
def _time(default: Any, doc: str, **options: Any) -> Any:
    return param(default, doc, unit=second, low=0 * ms, low_inclusive=False, **options)


def _rate(default: Any, doc: str) -> Any:
    return param(default, doc, unit=Hz, low=0 * Hz)


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the three-factor synapses (default preset: 200 synapses, 10 s)."""

    circuit_name = "ThreeFactorSynapse"

    duration: Any = _time(10 * second, "simulated time")
    n_synapses: int = param(200, "number of independent pre -> post synapses", integer=True, low=1)
    n_recorded: int = param(3, "synapses whose w(t) is recorded", integer=True, low=1)
    pre_rate: Any = _rate(10 * Hz, "Poisson rate of each presynaptic neuron")
    post_rate: Any = _rate(10 * Hz, "Poisson rate of each postsynaptic neuron")
    dopamine_rate: Any = _rate(5 * Hz, "Poisson rate of the dopamine neuron")
    A_plus: float = param(
        1.0, "facilitation: c += A_plus * K_plus at a post spike", low=0, runtime=True
    )
    A_minus: float = param(
        1.5, "depression: c -= A_minus * K_minus at a pre spike", low=0, runtime=True
    )
    tau_plus: Any = _time(20 * ms, "time constant of the presynaptic trace K_plus", runtime=True)
    tau_minus: Any = _time(
        20 * ms, "time constant of the postsynaptic trace K_minus", runtime=True
    )
    tau_c: Any = _time(1 * second, "time constant of the eligibility trace c", runtime=True)
    tau_n: Any = _time(200 * ms, "time constant of the dopamine concentration n", runtime=True)
    b: Any = param(
        0 * Hz, "dopamine baseline: dw/dt = c (n - b)", unit=Hz, low=0 * Hz, runtime=True
    )
    w0: float = param(100.0, "initial weight of every synapse", runtime=True)
    Wmin: float = param(0.0, "lower bound of w (applied at events)", runtime=True)
    Wmax: float = param(200.0, "upper bound of w (applied at events)", runtime=True)
    dt: Any = _time(0.1 * ms, "simulation time step (every spike sits on a step)", high=1 * ms)

    def check(self) -> None:
        """Cross-field checks: bounds ordered, whole number of steps, rates below 1/dt."""
        if not self.Wmin <= self.w0 <= self.Wmax:
            raise ValidationError(
                self.qualname("w0"),
                f"a value in [Wmin, Wmax] = [{self.Wmin}, {self.Wmax}]",
                self.w0,
            )
        if self.n_recorded > self.n_synapses:
            raise ValidationError(
                self.qualname("n_recorded"), f"<= n_synapses ({self.n_synapses})", self.n_recorded
            )
        if not is_whole(float(self.duration / self.dt)):
            raise ValidationError(
                self.qualname("duration"), f"a whole number of steps dt ({self.dt})", self.duration
            )
        for name in ("pre_rate", "post_rate", "dopamine_rate"):
            if not float(getattr(self, name) * self.dt) < 1:
                raise ValidationError(
                    self.qualname(name), f"< 1/dt ({1 / self.dt})", getattr(self, name)
                )

    # TEMPLATE: quick() runs in seconds (examples, docs); tiny() is the smallest run that
    # still goes through every part of the protocol (the conformance test, both devices).
    @classmethod
    def quick(cls) -> Params:
        """50 synapses for 5 s."""
        return cls(duration=5 * second, n_synapses=50)

    @classmethod
    def tiny(cls) -> Params:
        """4 synapses for 1 s: the conformance test's run."""
        return cls(duration=1 * second, n_synapses=4)

    @property
    def n_steps(self) -> int:
        """Number of simulation steps."""
        return round(float(self.duration / self.dt))

    def rule(self) -> DopamineSTDP:
        """The learning rule of the synapses, built from these parameters."""
        names = ("A_plus", "A_minus", "tau_plus", "tau_minus", "tau_c", "tau_n", "b")
        return DopamineSTDP(Wmin=self.Wmin, Wmax=self.Wmax, **{k: getattr(self, k) for k in names})


# ----------------------------------------------------------------------------- stimulus
# TEMPLATE: draw every random input with NumPy from the seed, in one function that the
# circuit and the twin both call: they then see the same task.
@dataclasses.dataclass(frozen=True)
class Stimulus:
    """Spike trains of a run, as sorted time steps (multiply by ``dt`` for times)."""

    pre: list[np.ndarray]  # one array per synapse
    post: list[np.ndarray]
    dopamine: np.ndarray


def stimulus(params: Params, seed: int) -> Stimulus:
    """The Poisson spike trains of ``seed``: at most one spike per neuron and step."""
    rng = np.random.default_rng([check_seed(seed), 0x3FAC])
    n_steps, dt = params.n_steps, float(params.dt)

    def train(rate: Any) -> np.ndarray:
        count = min(rng.poisson(float(rate) * n_steps * dt), n_steps)
        return np.sort(rng.choice(n_steps, size=count, replace=False))

    pre = [train(params.pre_rate) for _ in range(params.n_synapses)]
    post = [train(params.post_rate) for _ in range(params.n_synapses)]
    return Stimulus(pre=pre, post=post, dopamine=train(params.dopamine_rate))


def _generator(trains: list[np.ndarray], dt: Any, name: str) -> b2.SpikeGeneratorGroup:
    indices = np.repeat(np.arange(len(trains)), [len(s) for s in trains])
    steps = np.concatenate(trains) if trains else np.zeros(0, dtype=int)
    return b2.SpikeGeneratorGroup(len(trains), indices, steps * dt, name=name)


# ------------------------------------------------------------------------------ network
# TEMPLATE: the circuit itself, on one screen: build_network creates every Brian2 object
# (populations, synapses with their plasticity rules, monitors) and runs nothing. Name
# every object (stable names keep Brian2's compiled code cached across runs) and compose
# learning rules from spikingml.plasticity.
class Network(NamedTuple):
    """The Brian2 objects of a run (:func:`build_network`)."""

    net: b2.Network
    groups: tuple[b2.SpikeGeneratorGroup, ...]  # pre, post, dopamine
    plastic: b2.Synapses
    spikes: tuple[b2.SpikeMonitor, ...]  # one per group
    w_mon: b2.StateMonitor
    counter: SynapticEventCounter


# TEMPLATE: the run-time fields by their names in the code. Each is a shared constant
# ("name : unit (shared, constant)") of the groups whose code reads it, not a constant of
# the namespace (which cpp_standalone writes into the generated code): build_network
# gives the values with set_constants, and a rerun of the compiled program gives new ones
# as run arguments (constant_args, in _three_factor_synapse_runs.py). An initial value
# (w0) is a run argument of its variable itself.
def _constants(params: Params) -> dict[str, Any]:
    """The rule's constants (``da_A_plus``, ``da_tau_c``, ..., and the derived
    ``da_tau_s``), shared constants of the plastic synapses."""
    return params.rule().namespace()


def build_network(params: Params, stim: Stimulus) -> Network:
    """Create the synapses, their spike sources and monitors (inside :func:`brian_device`).

    Parameters
    ----------
    params : Params
        Circuit parameters.
    stim : Stimulus
        The spike trains to replay (:func:`stimulus`).

    Returns
    -------
    Network
        The objects, collected in a ``brian2.Network`` ready to run.
    """
    rule = params.rule()
    b2.defaultclock.dt = params.dt
    pre = _generator(stim.pre, params.dt, "pre")
    post = _generator(stim.post, params.dt, "post")
    dopamine = _generator([stim.dopamine], params.dt, "dopamine")
    plastic = b2.Synapses(
        pre,
        post,
        rule.synapse_model(shared_constants=True),  # the rule's constants: _constants
        on_pre=rule.on_pre(),
        on_post=rule.on_post(),
        name="plastic",
    )
    plastic.connect(j="i")  # synapse k: pre k -> post k
    plastic.w = params.w0
    volume = rule.build_dopamine_pathway(dopamine, plastic, name="volume")
    spikes = tuple(b2.SpikeMonitor(g, name=f"{g.name}_spikes") for g in (pre, post, dopamine))
    w_mon = b2.StateMonitor(plastic, "w", record=np.arange(params.n_recorded), name="w_mon")
    net = b2.Network(pre, post, dopamine, plastic, volume, w_mon, *spikes)
    set_constants(net, _constants(params))  # the run-time fields' values
    counter = SynapticEventCounter(net)
    return Network(net, (pre, post, dopamine), plastic, spikes, w_mon, counter)


def _check_params(params: Params | None) -> Params:
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "a three_factor_synapse.Params", type(params).__name__)
    return params


def simulate(
    params: Params | None = None, seed: int = 0, device: str = "runtime", progress: bool = True
) -> Result:
    """Run the plastic synapses on the spike trains of ``seed``.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (the spike trains).
    device : {"runtime", "cpp_standalone"}
        Brian2 device.
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone``
        run takes a fraction of a second and reports nothing).

    Returns
    -------
    Result
        Populations ``pre``, ``post`` and ``dopamine``; signal ``w`` (the stored weight
        of the first ``n_recorded`` synapses at every step); weights ``w`` (every
        synapse's weight at the end of the run) and ``w0``; events ``dopamine`` (the
        dopamine spikes); one phase, ``learning``.

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure and the run-time fields are run arguments
    (:func:`simulate_many`): a run that changes only those (``tau_c``, ``A_plus``,
    ``w0``, ...) compiles nothing.

    See Also
    --------
    simulate_many : several parameter sets and seeds, compiled once per structure.
    """
    # TEMPLATE: simulate is the outline: check, inputs, device, build, run, collect.
    params = _check_params(params)
    check_device(device)
    seed = check_seed(seed)
    # TEMPLATE: under cpp_standalone a run goes through simulate_many: the program of
    # the parameters' structure, compiled once, run with their run-time fields.
    if device == "cpp_standalone":
        (result,) = simulate_many([(params, seed)], device, progress)
        return result
    stim = stimulus(params, seed)
    t_wall = time.perf_counter()
    with brian_device(device, seed):
        network = build_network(params, stim)
        report = progress_reporter(progress, NAME)
        network.net.run(params.duration, report=report, report_period=2 * second)
        return _collect(params, seed, device, network, t_wall)


def _collect(params: Params, seed: int, device: str, network: Network, t_wall: float) -> Result:
    """Read a finished run into its Result (wall time from ``t_wall``); each synapse's
    weight advanced from its last event to the end."""
    populations = {
        g.name: SpikeData(np.asarray(m.i[:]), np.asarray(m.t[:] / second), len(g))
        for g, m in zip(network.groups, network.spikes, strict=True)
    }
    state = {v: np.asarray(getattr(network.plastic, v)[:]) for v in ("w", "c", "n", "t_last")}
    w_trace = np.asarray(network.w_mon.w[:]).T  # (samples, n_recorded)
    synaptic_events = network.counter.total()
    wall = time.perf_counter() - t_wall
    # a synapse stores its state at its last event: advance it to the end of the run
    duration = float(params.duration)
    w_end, _, _ = params.rule().advance(
        state["w"], state["c"], state["n"], duration - state["t_last"]
    )
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=seed,
        device=device,
        populations=populations,
        signals={"w": Signal(w_trace, dt=float(params.dt), unit="1", population="plastic")},
        events={"dopamine": populations["dopamine"].times},
        phases=[Phase("learning", 0.0, duration)],
        weights={"w": w_end, "w0": np.full(params.n_synapses, float(params.w0))},
        simulated_seconds=duration,
        wall_seconds=wall,
        synaptic_events=synaptic_events,
        versions=versions(),
    )


# --------------------------------------------------------------------------------- twin
# TEMPLATE: the abstract algorithm on the same inputs (stimulus(params, seed)), written
# without Brian2 (spikingml.analysis, or here the rule's own NumPy solution).
@dataclasses.dataclass(frozen=True)
class Twin:
    """The exact solution: every synapse's final weight, the recorded ones' trajectories."""

    w_end: np.ndarray
    recorded: list[WeightTrajectory]


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """:func:`reference_weight_trajectory` of every synapse on the spike trains of ``seed``."""
    params = Params() if params is None else params
    stim, rule, dt = stimulus(params, seed), params.rule(), float(params.dt) * second
    trajectories = [
        reference_weight_trajectory(
            pre * dt, post * dt, stim.dopamine * dt, rule, params.duration, w0=params.w0
        )
        for pre, post in zip(stim.pre, stim.post, strict=True)
    ]
    w_end = np.array([tr.w[-1] for tr in trajectories])
    return Twin(w_end=w_end, recorded=trajectories[: params.n_recorded])


# ------------------------------------------------------------------------------ compare
def closed_form_trace(trajectory: WeightTrajectory, w0: float, dt: float, n: int) -> np.ndarray:
    """The closed form's stored weight at the ``n`` samples of the circuit's monitor.

    The monitor samples at the start of a step, so sample ``k`` holds the events of the
    steps before ``k``: the weight after the last event of a step ``< k`` (``w0`` before).
    """
    steps = np.rint(np.asarray(trajectory.t[:-1] / second) / dt).astype(int)
    last = np.searchsorted(steps, np.arange(n), side="left") - 1
    return np.where(last >= 0, trajectory.w[:-1][np.maximum(last, 0)], w0)


@last_comparison  # figures() compares again: the same value, not computed twice
def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twin."""
    w, w0 = result.weights["w"], result.weights["w0"]
    trace = result.signals["w"]
    expected = [
        closed_form_trace(tr, w0[k], trace.dt, len(trace.values))
        for k, tr in enumerate(twin_output.recorded)
    ]
    return {
        "weight_max_abs_error": float(np.max(np.abs(w - twin_output.w_end))),
        "trajectory_max_abs_error": float(np.max(np.abs(trace.values - np.array(expected).T))),
        "weight_change_correlation": pearson(w - w0, twin_output.w_end - w0),
        "mean_weight_change": float(np.mean(w - w0)),
        "twin_mean_weight_change": float(np.mean(twin_output.w_end - w0)),
    }


# ------------------------------------------------------------------------------ figures
# TEMPLATE: optional, what raster.png shows (the default: every population, whole run).
def raster_options(result: Result) -> dict[str, Any]:
    """``raster.png``: the pre and post neurons, dopamine spikes as lines, 50 ms bins."""
    return {"populations": ["pre", "post"], "events": ("dopamine",), "bin_width": 0.05}


# TEMPLATE: comparison.png puts circuit and twin on the same axes, units on every axis;
# the layout lives in spikingml/figures/<circuit>.py, apart from the network.
def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png``: weight changes of circuit vs closed form, and ``w(t)``.

    Drawn by :func:`spikingml.figures.three_factor_synapse.comparison_figure`.
    """
    from spikingml.figures import three_factor_synapse as drawing
    from spikingml.plotting import save_figure

    fig = drawing.comparison_figure(result, twin_output, compare(result, twin_output))
    return [save_figure(fig, Path(outdir) / "comparison.png")]
