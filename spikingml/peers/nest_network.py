r"""A balanced LIF network with three-factor plasticity, built alike in NEST and Brian2.

The network of ``benchmarks/bench_nest_network.py`` (issue "Side by side with NEST"):
``N_E`` excitatory and ``N_I`` inhibitory current-based LIF neurons with exponential
synaptic currents (NEST's ``iaf_psc_exp``), each neuron with ``outdegree`` outgoing
synapses to random targets (the same connectivity in both simulators, drawn once from
the seed), independent Poisson drive to every neuron, and one Poisson dopamine source.
Excitatory synapses follow the three-factor rule (NEST: ``stdp_dopamine_synapse`` with a
``volume_transmitter``; Brian2: :class:`~spikingml.plasticity.three_factor.DopamineSTDP`,
event-driven); inhibitory synapses are static.

Contents
--------
:class:`NetworkParams`
    Sizes, neuron, synapse, drive and plasticity parameters (``quick()`` for tests).
:func:`connectivity`
    The random fixed-outdegree connectivity (sources, targets) of a seed.
:func:`simulate_nest`, :func:`simulate_brian2`
    Build and run the network in one simulator; a :class:`NetworkRun` of rates, weights
    and the wall and CPU seconds of each phase.

Equations (both simulators; ``I`` is the sum of ``iaf_psc_exp``'s ``I_syn_ex`` and
``I_syn_in``, which obey the same equation since ``tau_syn_ex == tau_syn_in``)::

    dV/dt = -(V - E_L)/tau_m + I/C_m       (V clamped to V_reset for t_ref after a spike)
    dI/dt = -I/tau_syn                      I += w at each incoming spike

Delays
------
NEST's plastic synapse of delay ``d`` sees a pre spike at ``t_pre``, a post spike at
``t_post + d`` and a dopamine spike at ``t_dopa + dopa_delay``, and transmits the weight
it has at ``t_pre`` to arrive at ``t_pre + d``. In Brian2 the same is a ``pre`` pathway
delay ``d`` (plasticity and transmission together, at ``t_pre + d``), a ``post`` pathway
delay ``2 d`` and a dopamine delay ``dopa_delay + d``: every event the synapse sees is
shifted by ``d``, so its state at ``t + d`` equals NEST's at ``t`` and the transmitted
weight is the same, with one ``Synapses`` pathway fewer than a separate transmission
pathway would need.

Dopamine clock
--------------
In Brian2 the dopamine source and its pathway run on a clock of ``dopa_dt`` = 1 ms (the
network: ``dt`` = 0.1 ms): the 1 Hz Poisson source draws its spikes on a 1 ms grid, and
the pathway, which delivers about one spike a second, costs a code object per
millisecond instead of per step (each step of a code object costs the runtime device a
few microseconds of Python, whatever it does: 14% of the run on the 0.1 ms clock, 3% on
the 1 ms one). The plastic synapses are advanced to the exact time of each delivery, so
only the grid of the dopamine spikes differs from NEST's (0.1 ms).
"""

from __future__ import annotations

import dataclasses
import resource
import time
from typing import Any, NamedTuple

import brian2
import numpy as np
from brian2 import Hz, ms, mV, pF, second
from brian2.units.fundamentalunits import Quantity

from spikingml.errors import ValidationError
from spikingml.peers.nest_three_factor import import_nest, nest_parameters
from spikingml.plasticity.three_factor import DopamineSTDP

__all__ = ["NetworkParams", "NetworkRun", "connectivity", "simulate_brian2", "simulate_nest"]


def _q(value: Quantity) -> Any:
    return dataclasses.field(default_factory=lambda: value)


@dataclasses.dataclass(frozen=True)
class NetworkParams:
    """Parameters of the network (NEST's ``iaf_psc_exp`` defaults for the neuron).

    Weights are in pA (NEST's unit for current-based synapses); the plastic weight ``w``
    of :class:`DopamineSTDP` is that number.
    """

    N_E: int = 800
    N_I: int = 200
    outdegree: int = 100
    C_m: Quantity = _q(250 * pF)
    tau_m: Quantity = _q(10 * ms)
    tau_syn: Quantity = _q(2 * ms)
    t_ref: Quantity = _q(2 * ms)
    E_L: Quantity = _q(-70 * mV)
    V_th: Quantity = _q(-55 * mV)
    V_reset: Quantity = _q(-70 * mV)
    J_E: float = 40.0  # pA, initial excitatory weight
    g: float = 5.0  # inhibitory weight is -g * J_E
    delay: Quantity = _q(1.5 * ms)
    #: Poisson drive: every neuron receives independent spikes of weight J_E at this rate.
    nu_ext: Quantity = _q(3900 * Hz)
    dopa_rate: Quantity = _q(1 * Hz)
    dopa_delay: Quantity = _q(1.5 * ms)
    #: Brian2 only: time step of the dopamine source and its pathway, a multiple of
    #: ``dt`` (a 1 Hz Poisson process on a 1 ms grid; each step of a code object costs
    #: Brian2's runtime device microseconds, whatever it does).
    dopa_dt: Quantity = _q(1 * ms)
    rule: DopamineSTDP = _q(
        DopamineSTDP(A_plus=0.1, A_minus=0.15, tau_c=1000 * ms, tau_n=200 * ms, Wmax=100.0)
    )
    duration: Quantity = _q(60 * second)
    dt: Quantity = _q(0.1 * ms)

    def __post_init__(self) -> None:
        for name in ("N_E", "N_I", "outdegree"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValidationError(f"NetworkParams.{name}", "an integer >= 1", value)
        if self.outdegree >= self.N:
            raise ValidationError("NetworkParams.outdegree", f"< N ({self.N})", self.outdegree)
        steps = float(self.delay / self.dt)
        if abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
            raise ValidationError("NetworkParams.delay", "a whole number >= 1 of dt", self.delay)
        steps = float(self.dopa_dt / self.dt)
        if abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
            raise ValidationError(
                "NetworkParams.dopa_dt", "a whole number >= 1 of dt", self.dopa_dt
            )
        steps = float((self.dopa_delay + self.delay) / self.dopa_dt)
        if abs(steps - round(steps)) > 1e-9:
            raise ValidationError(
                "NetworkParams.dopa_dt",
                f"a divisor of dopa_delay + delay ({self.dopa_delay + self.delay})",
                self.dopa_dt,
            )

    @property
    def N(self) -> int:
        """Number of neurons."""
        return self.N_E + self.N_I

    @classmethod
    def quick(cls) -> NetworkParams:
        """200 neurons, outdegree 10, 2 s: a few seconds in each simulator (tests).

        The same drive and weights: with ten times fewer inputs, the recurrent input is
        weaker and the rates are set mostly by the drive.
        """
        return cls(N_E=160, N_I=40, outdegree=10, duration=2 * second)


class NetworkRun(NamedTuple):
    """What one simulator produced.

    Attributes
    ----------
    rate_E, rate_I : float
        Mean firing rates (Hz) of the excitatory and inhibitory neurons.
    w_mean_start, w_mean_end : float
        Mean plastic weight (pA) before and after the run.
    n_spikes : int
        Number of spikes of the network.
    seconds : dict
        Wall and CPU seconds of each phase (``build_wall``, ``run_wall``, ``run_cpu``,
        and device-specific ones such as ``compile_wall``), and ``profile`` (Brian2's
        profiling summary, a text) when asked for.
    """

    rate_E: float
    rate_I: float
    w_mean_start: float
    w_mean_end: float
    n_spikes: int
    seconds: dict[str, float]


def connectivity(params: NetworkParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sources and targets: ``outdegree`` random targets per neuron, no autapses.

    Multiple synapses between a pair are allowed (as NEST's ``fixed_outdegree``
    default). Synapses are ordered by source, excitatory sources first.
    """
    rng = np.random.default_rng([seed, 1])
    n, k = params.N, params.outdegree
    sources = np.repeat(np.arange(n), k)
    targets = rng.integers(0, n - 1, size=n * k)
    targets += targets >= sources  # skip the source itself
    return sources, targets


def _cpu_self() -> float:
    return time.process_time()


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def simulate_nest(
    params: NetworkParams, seed: int = 0, *, deliver_interval: int = 1
) -> NetworkRun:
    """Build and run the network in NEST with one thread.

    Parameters
    ----------
    params : NetworkParams
        The network.
    seed : int
        Seeds the connectivity (shared with Brian2) and NEST's random numbers.
    deliver_interval : int
        The volume transmitter's ``deliver_interval`` (in units of NEST's ``min_delay``):
        how often it advances every plastic synapse. NEST's default 1 is used unless
        said otherwise.
    """
    nest = import_nest()
    p = params
    t0, c0 = time.perf_counter(), _cpu_self()
    nest.ResetKernel()
    if hasattr(nest, "VerbosityLevel"):  # NEST >= 3.10
        nest.verbosity = nest.VerbosityLevel.ERROR
    else:  # pragma: no cover
        nest.set_verbosity("M_ERROR")
    nest.set(resolution=float(p.dt / ms), local_num_threads=1, rng_seed=seed + 1, print_time=False)
    d = float(p.delay / ms)
    neurons = nest.Create(
        "iaf_psc_exp",
        p.N,
        params={
            "C_m": float(p.C_m / pF),
            "tau_m": float(p.tau_m / ms),
            "tau_syn_ex": float(p.tau_syn / ms),
            "tau_syn_in": float(p.tau_syn / ms),
            "t_ref": float(p.t_ref / ms),
            "E_L": float(p.E_L / mV),
            "V_th": float(p.V_th / mV),
            "V_reset": float(p.V_reset / mV),
            "V_m": float(p.E_L / mV),
            "I_e": 0.0,
            "tau_minus": float(p.rule.tau_minus / ms),
        },
    )
    drive = nest.Create("poisson_generator", params={"rate": float(p.nu_ext / Hz)})
    nest.Connect(drive, neurons, syn_spec={"weight": p.J_E, "delay": d})
    dopa_gen = nest.Create("poisson_generator", params={"rate": float(p.dopa_rate / Hz)})
    dopa = nest.Create("parrot_neuron")
    nest.Connect(dopa_gen, dopa, syn_spec={"delay": d})
    vt = nest.Create("volume_transmitter", params={"deliver_interval": int(deliver_interval)})
    nest.Connect(dopa, vt, syn_spec={"delay": float(p.dopa_delay / ms)})
    nest.CopyModel(
        "stdp_dopamine_synapse",
        "spikingml_network_dopamine",
        {"volume_transmitter": vt, **nest_parameters(p.rule)},
    )
    sources, targets = connectivity(p, seed)
    ids = np.asarray(neurons.tolist())
    exc = sources < p.N_E
    nest.Connect(
        ids[sources[exc]],
        ids[targets[exc]],
        "one_to_one",
        syn_spec={
            "synapse_model": "spikingml_network_dopamine",
            "weight": np.full(exc.sum(), p.J_E),
            "delay": np.full(exc.sum(), d),
        },
    )
    nest.Connect(
        ids[sources[~exc]],
        ids[targets[~exc]],
        "one_to_one",
        syn_spec={
            "synapse_model": "static_synapse",
            "weight": np.full((~exc).sum(), -p.g * p.J_E),
            "delay": np.full((~exc).sum(), d),
        },
    )
    recorder = nest.Create("spike_recorder")
    nest.Connect(neurons, recorder)
    plastic = nest.GetConnections(synapse_model="spikingml_network_dopamine")
    w_start = float(np.mean(plastic.get("weight")))
    t1, c1 = time.perf_counter(), _cpu_self()
    nest.Simulate(float(p.duration / ms))
    t2, c2 = time.perf_counter(), _cpu_self()
    w_end = float(np.mean(plastic.get("weight")))
    senders = np.asarray(recorder.get("events")["senders"]) - ids[0]
    return _result(
        p,
        np.bincount(senders, minlength=p.N),
        w_start,
        w_end,
        {"build_wall": t1 - t0, "build_cpu": c1 - c0, "run_wall": t2 - t1, "run_cpu": c2 - c1},
    )


def _result(p: NetworkParams, counts: np.ndarray, w0: float, w1: float, secs) -> NetworkRun:
    """Rates from the spike count of each neuron."""
    duration = float(p.duration / second)
    n_e, n_i = int(counts[: p.N_E].sum()), int(counts[p.N_E :].sum())
    return NetworkRun(
        rate_E=n_e / p.N_E / duration,
        rate_I=n_i / p.N_I / duration,
        w_mean_start=w0,
        w_mean_end=w1,
        n_spikes=n_e + n_i,
        seconds=secs,
    )


def poisson_count_code(variable: str, weight: str, mean: float, tail: float = 1e-15) -> str:
    """Brian2 code adding ``weight`` times a Poisson(``mean``) count to ``variable``.

    Inversion with one uniform number ``u_drive`` and the Poisson CDF ``F`` of the mean,
    written into the code as constants: the count is the number of ``k`` with
    ``u_drive > F(k)``, branch-free. The CDF is tabled up to the first ``K`` with
    ``1 - F(K) < tail`` (a larger count, rarer than ``tail`` per draw, counts as ``K +
    1``): 13 comparisons at a mean of 0.39. Per neuron and step it costs a fraction of
    :class:`brian2.PoissonInput`'s binomial draw (an inversion loop), the largest part
    of the drive's cost in this network.

    Parameters
    ----------
    variable : str
        The variable the input adds to.
    weight : str
        Brian2 expression of one input's weight (with units).
    mean : float
        Expected count per step (rate times dt), > 0.
    tail : float
        Probability per draw left out of the table.

    Returns
    -------
    str
        Brian2 abstract code, e.g. for ``group.run_regularly``.
    """
    from scipy.stats import poisson

    if not mean > 0 or not np.isfinite(mean):
        raise ValidationError("mean", "a finite number > 0", mean)
    cdf = []
    k = 0
    while True:
        value = float(poisson.cdf(k, mean))
        cdf.append(value)
        if 1.0 - value < tail or value >= 1.0:
            break
        k += 1
    count = " + ".join(f"int(u_drive > {value!r})" for value in cdf)
    return f"u_drive = rand()\n{variable} += {weight} * ({count})"


def build_brian2(params: NetworkParams, seed: int = 0) -> dict[str, Any]:
    """Create the Brian2 objects of the network (inside :func:`brian_device`).

    Returns
    -------
    dict
        ``network`` (a :class:`brian2.Network`), ``neurons`` (spikes counted in their
        ``spike_count``) and ``plastic``.
    """
    p = params
    rule = p.rule
    eqs = """
    dv/dt = -(v - E_L)/tau_m + I/C_m : volt (unless refractory)
    dI/dt = -I/tau_syn : amp
    spike_count : integer
    """
    constants = {
        "E_L": p.E_L,
        "tau_m": p.tau_m,
        "C_m": p.C_m,
        "tau_syn": p.tau_syn,
        "V_th": p.V_th,
        "V_reset": p.V_reset,
    }
    neurons = brian2.NeuronGroup(
        p.N,
        eqs,
        threshold="v >= V_th",
        # Counting in the reset instead of a SpikeMonitor: one code object less per step.
        reset="v = V_reset\nspike_count += 1",
        refractory=p.t_ref,
        method="exact",
        namespace=constants,
        name="neurons",
    )
    neurons.v = p.E_L
    # The Poisson drive, as NEST's poisson_generator: each neuron's input count in a
    # step is Poisson(nu_ext * dt), drawn by inversion with one uniform number
    neurons.run_regularly(
        poisson_count_code("I", f"{p.J_E}*pA", float(p.nu_ext * p.dt)),
        when="synapses",
        name="drive",
    )
    sources, targets = connectivity(p, seed)
    exc = sources < p.N_E
    plastic = brian2.Synapses(
        neurons,
        neurons,
        model=rule.synapse_model(),
        on_pre=rule.on_pre("I_post += w*pA"),
        on_post=rule.on_post(),
        namespace=rule.namespace(),
        delay={"pre": p.delay, "post": 2 * p.delay},
        name="plastic",
    )
    plastic.connect(i=sources[exc], j=targets[exc])
    plastic.w = p.J_E
    inhibitory = brian2.Synapses(
        neurons,
        neurons,
        on_pre=f"I_post += {-p.g * p.J_E}*pA",
        delay=p.delay,
        name="inhibitory",
    )
    inhibitory.connect(i=sources[~exc], j=targets[~exc])
    dopa = brian2.PoissonGroup(1, p.dopa_rate, dt=p.dopa_dt, name="dopamine")
    volume = rule.build_dopamine_pathway(
        dopa, plastic, delay=p.dopa_delay + p.delay, name="volume", dt=p.dopa_dt
    )
    net = brian2.Network(neurons, plastic, inhibitory, dopa, volume)
    return {"network": net, "neurons": neurons, "plastic": plastic}


def simulate_brian2(
    params: NetworkParams,
    seed: int = 0,
    *,
    device: str = "runtime",
    directory: str | None = None,
    profile: bool = False,
) -> NetworkRun:
    """Build and run the network in Brian2 (spikingml), one thread.

    Parameters
    ----------
    params : NetworkParams
        The network.
    seed : int
        Seeds the connectivity (shared with NEST) and Brian2's random numbers.
    device : {"runtime", "cpp_standalone"}
        ``runtime``: Cython. The network first runs for one step (code generation and
        compilation, or loading from Brian2's cache: ``compile_wall``), then for the
        rest of the duration (``run_wall``). ``cpp_standalone``: ``compile_wall`` is
        code generation and compilation, ``run_wall`` the program's run (``run_cpu``:
        its CPU seconds) and ``network_run`` the time the program reports for the
        simulation loop alone.
    directory : str, optional
        ``cpp_standalone`` build directory (a temporary one by default).
    profile : bool
        Brian2's ``profile=True``; ``seconds["profile"]`` then holds
        Brian2's profiling summary (text).
    """
    from spikingml.simulation import brian_device

    p = params
    secs: dict[str, Any] = {}
    standalone = device == "cpp_standalone"
    with brian_device(device, seed, directory=directory, build_on_run=False):
        brian2.defaultclock.dt = p.dt
        t0, c0 = time.perf_counter(), _cpu_self()
        objects = build_brian2(p, seed)
        net, plastic, neurons = objects["network"], objects["plastic"], objects["neurons"]
        # standalone cannot read values before the program runs: the value set is J_E
        w_start = float(np.mean(plastic.w[:])) if not standalone else p.J_E
        t1, c1 = time.perf_counter(), _cpu_self()
        secs.update(build_wall=t1 - t0, build_cpu=c1 - c0)
        if standalone:
            net.run(p.duration, profile=profile)
            project = brian2.device.project_dir
            t2, c2, k2 = time.perf_counter(), _cpu_self(), _cpu_children()
            brian2.device.build(run=False, directory=project)
            t3, c3, k3 = time.perf_counter(), _cpu_self(), _cpu_children()
            brian2.device.run(directory=project)
            t4, k4 = time.perf_counter(), _cpu_children()
            secs.update(
                compile_wall=t3 - t2,
                compile_cpu=(c3 - c2) + (k3 - k2),  # code generation + the compiler
                run_wall=t4 - t3,
                run_cpu=k4 - k3,  # the program's CPU seconds
                network_run=float(brian2.device._last_run_time),
            )
            if profile:
                secs["profile"] = str(brian2.profiling_summary(net, show=15))
        else:
            net.run(p.dt)
            t2, c2 = time.perf_counter(), _cpu_self()
            net.run(p.duration - p.dt, profile=profile)
            t3, c3 = time.perf_counter(), _cpu_self()
            secs.update(compile_wall=t2 - t1, compile_cpu=c2 - c1)
            secs.update(run_wall=t3 - t2, run_cpu=c3 - c2)
            if profile:
                secs["profile"] = str(brian2.profiling_summary(net, show=15))
        counts = np.asarray(neurons.spike_count[:])
        w_end = float(np.mean(plastic.w[:]))
    return _result(p, counts, w_start, w_end, secs)
