r"""A balanced LIF network with three-factor plasticity, built alike in NEST and Brian2.

The network of ``benchmarks/bench_nest_network.py`` (issue "Side by side with NEST"):
``N_E`` excitatory and ``N_I`` inhibitory current-based LIF neurons with exponential
synaptic currents (NEST's ``iaf_psc_exp``), each neuron with ``outdegree`` outgoing
synapses to random targets (the same connectivity in both simulators, drawn once from
the seed), independent Poisson drive to every neuron, and one dopamine source firing as
a Poisson process (the same spike times in both simulators, drawn once from the seed).
Excitatory synapses follow the three-factor rule (NEST: ``stdp_dopamine_synapse`` with a
``volume_transmitter``; Brian2: :class:`~spikingml.plasticity.three_factor.DopamineSTDP`,
event-driven); inhibitory synapses are static.

Contents
--------
:class:`NetworkParams`
    Sizes, neuron, synapse, drive and plasticity parameters (``quick()`` for tests).
:func:`connectivity`
    The random fixed-outdegree connectivity (sources, targets) of a seed.
:func:`dopamine_times`
    The dopamine source's spike times of a seed.
:func:`poisson_cdf_table`, :func:`poisson_drive_function`
    Brian2's Poisson drive: a Poisson count per neuron and step, as NEST's
    ``poisson_generator`` draws it, from compiled code with a generator of its own.
:func:`psc_exp_update`
    The neurons' exact state update, written out.
:func:`quick_build`
    Merges a ``cpp_standalone`` program's code objects into two sources before
    compilation.
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

Dopamine
--------
The mean weight change is the dopamine-weighted eligibility: with ``b = 0`` the weights
move only while dopamine is present, each dopamine spike by about the mean eligibility
``c`` at that time. The change therefore scales with the number (and timing) of the
dopamine spikes, a Poisson count (60 +- 8 in 60 s at 1 Hz). With two independent dopamine
trains the weight changes scattered by 22-40% of their mean from seed to seed (6 seeds
of 20 s), the issue's 18% between NEST and Brian2 was 22% more dopamine in Brian2's
train, and per unit of dopamine the two agreed within 0.6%: chance, not a difference of
the simulators. Both simulators are therefore given the same dopamine train
(:func:`dopamine_times`, a Bernoulli process on the grid of ``dopa_dt`` = 1 ms, as Brian2's
``PoissonGroup`` draws one), as they are given the same connectivity: NEST through a
``spike_generator`` and a ``parrot_neuron``, Brian2 through a ``SpikeGeneratorGroup``.
Only the Poisson drive is each simulator's own (its chaos remains: the two weight
changes of a seed then differ by 1-4%).

In Brian2 the dopamine source and its pathway run on a clock of ``dopa_dt`` (the network:
``dt`` = 0.1 ms): the pathway, which delivers about one spike a second, costs a code
object per millisecond instead of per step (each step of a code object costs the runtime
device a few microseconds of Python, whatever it does: 14% of the run on the 0.1 ms
clock, 3% on the 1 ms one). The plastic synapses are advanced to the exact time of each
delivery.

Spike times
-----------
A Brian2 spike in the step ``[t, t + dt)`` has the time ``t``; NEST stamps the same spike
``t + dt``, the end of its step. Both simulators see pre and post spikes of the network in
their own convention, so their intervals are the same; the dopamine train, given from
outside, is stamped ``t + dt`` in NEST for a Brian2 spike at ``t`` (the generator's spike
times are those less the generator-parrot delay).

Speed (Brian2)
--------------
The drive is :func:`poisson_drive_function` (a generator of its own and an inverted
Poisson CDF: a third of the cost of ``rand()`` and a comparison with every CDF value),
the neurons are advanced by :func:`psc_exp_update` (Brian2's ``exact`` update, without
the two seconds of SymPy that derive it), and a ``cpp_standalone`` program is compiled as
:func:`quick_build` arranges it (its code objects merged into two sources: a quarter of
the compiler's CPU time). A fresh ``cpp_standalone`` run of the 60 s network, compilation
included, takes about 12 CPU seconds, NEST's (``deliver_interval`` 1000) 32 (see
``benchmarks/results/nest_network.md``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
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

__all__ = [
    "NetworkParams",
    "NetworkRun",
    "connectivity",
    "dopamine_times",
    "poisson_cdf_table",
    "poisson_drive_function",
    "simulate_brian2",
    "simulate_nest",
]


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
    #: Grid of the dopamine spike times (both simulators) and time step of Brian2's
    #: dopamine source and pathway: a multiple of ``dt`` (each step of a code object
    #: costs Brian2's runtime device microseconds, whatever it does).
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
        if abs(float(self.tau_m / self.tau_syn) - 1) < 1e-9:
            raise ValidationError(
                "NetworkParams.tau_syn", "a value other than tau_m", self.tau_syn
            )
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
    n_dopamine : int
        Number of dopamine spikes (:func:`dopamine_times`, the same in both simulators).
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
    n_dopamine: int
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


def dopamine_times(params: NetworkParams, seed: int) -> Quantity:
    """Spike times of the dopamine source, given to both simulators.

    A Bernoulli process on the grid of ``dopa_dt`` with probability ``dopa_rate *
    dopa_dt`` per step (a Poisson process of rate ``dopa_rate``, as Brian2's
    ``PoissonGroup`` draws it), from ``delay`` on (NEST's generator fires ``delay`` before
    its parrot) until the end of the run. Times in Brian2's convention (the start of the
    step); NEST stamps them one ``dt`` later (see the module docstring).

    Parameters
    ----------
    params : NetworkParams
        The network (``dopa_rate``, ``dopa_dt``, ``delay``, ``duration``).
    seed : int
        Seeds the train (a stream of its own: the connectivity's is not disturbed).

    Returns
    -------
    Quantity
        Increasing spike times.
    """
    p = params
    rng = np.random.default_rng([seed, 2])
    n_steps = int(round(float(p.duration / p.dopa_dt)))
    first = int(np.ceil(float(p.delay / p.dopa_dt) - 1e-9))
    prob = float(p.dopa_rate * p.dopa_dt)
    steps = np.flatnonzero(rng.random(n_steps) < prob)
    return steps[steps >= first] * p.dopa_dt


def _cpu_self() -> float:
    return time.process_time()


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def simulate_nest(
    params: NetworkParams, seed: int = 0, *, deliver_interval: int = 1
) -> NetworkRun:
    """Build and run the network in NEST with one thread.

    Seconds: ``build_wall`` (creating and connecting), ``run_wall`` (``Simulate``),
    ``total_wall`` (the whole call, results read back included).

    Parameters
    ----------
    params : NetworkParams
        The network.
    seed : int
        Seeds the connectivity and the dopamine train (shared with Brian2) and NEST's
        random numbers (the drive).
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
    # The shared dopamine train: the parrot fires at each time + dt (NEST's stamp), its
    # generator a delay d earlier
    h_steps = float(p.dt / ms)
    dopa_steps = np.rint(np.asarray(dopamine_times(p, seed) / p.dt)).astype(np.int64)
    dopa_gen = nest.Create(
        "spike_generator",
        params={"spike_times": np.round((dopa_steps + 1) * h_steps - d, 10).tolist()},
    )
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
    secs = {"build_wall": t1 - t0, "build_cpu": c1 - c0, "run_wall": t2 - t1, "run_cpu": c2 - c1}
    secs["total_wall"] = time.perf_counter() - t0
    return _result(p, np.bincount(senders, minlength=p.N), w_start, w_end, len(dopa_steps), secs)


def _result(
    p: NetworkParams, counts: np.ndarray, w0: float, w1: float, n_dopamine: int, secs
) -> NetworkRun:
    """Rates from the spike count of each neuron."""
    duration = float(p.duration / second)
    n_e, n_i = int(counts[: p.N_E].sum()), int(counts[p.N_E :].sum())
    return NetworkRun(
        rate_E=n_e / p.N_E / duration,
        rate_I=n_i / p.N_I / duration,
        w_mean_start=w0,
        w_mean_end=w1,
        n_spikes=n_e + n_i,
        n_dopamine=n_dopamine,
        seconds=secs,
    )


def poisson_cdf_table(mean: float, tail: float = 1e-15) -> list[float]:
    """The Poisson CDF ``F(0), F(1), ..., F(K)`` of ``mean``, up to ``1 - F(K) < tail``.

    Parameters
    ----------
    mean : float
        The Poisson mean, > 0.
    tail : float
        Probability left out of the table (a count above ``K`` counts as ``K + 1``).

    Returns
    -------
    list of float
        Increasing CDF values: 13 of them at a mean of 0.39 and a tail of 1e-15.
    """
    if not mean > 0 or not np.isfinite(mean) or mean > 100:
        raise ValidationError("mean", "a number in (0, 100]", mean)
    if not 0 < tail < 1:
        raise ValidationError("tail", "a probability in (0, 1)", tail)
    # probabilities by recurrence until they vanish; the tails 1 - F(k) summed from the
    # far end, so that they stay exact where F(k) rounds to 1 (no scipy: its import
    # costs a second)
    pmf = [math.exp(-mean)]
    while pmf[-1] > 1e-300 or len(pmf) <= mean:
        pmf.append(pmf[-1] * mean / len(pmf))
    upper = np.cumsum(pmf[::-1])[::-1]  # upper[k] = P(count >= k)
    cdf = []
    for k in range(len(pmf)):
        cdf.append(float(1.0 - upper[k + 1]) if k + 1 < len(pmf) else 1.0)
        if k + 1 >= len(pmf) or upper[k + 1] < tail:
            return cdf
    return cdf


#: xoshiro256+ (Blackman & Vigna 2018): the next 64-bit number of the drive's generator.
_DRIVE_NEXT_CPP = """
static uint64_t _poisson_drive_state[4];
static inline uint64_t _poisson_drive_next()
{
    uint64_t* s = _poisson_drive_state;
    const uint64_t result = s[0] + s[3];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}
static inline int32_t _poisson_drive(const int64_t step, const int _vectorisation_idx)
{
    if (step == 0 && _vectorisation_idx == 0)
    {
        // seeded from Brian2's generator (brian2.seed), through splitmix64
        for (int k = 0; k < 4; k++)
        {
            uint64_t z = (uint64_t)(_rand(_vectorisation_idx) * 9007199254740992.0);
            z += 0x9E3779B97F4A7C15ULL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            _poisson_drive_state[k] = z ^ (z >> 31);
        }
    }
    const double u = (double)(_poisson_drive_next() >> 11) * 1.1102230246251565e-16;
"""

_DRIVE_NEXT_CYTHON = """
cdef unsigned long long _poisson_drive_state[4]

cdef inline unsigned long long _poisson_drive_next():
    cdef unsigned long long result = _poisson_drive_state[0] + _poisson_drive_state[3]
    cdef unsigned long long t = _poisson_drive_state[1] << 17
    _poisson_drive_state[2] ^= _poisson_drive_state[0]
    _poisson_drive_state[3] ^= _poisson_drive_state[1]
    _poisson_drive_state[1] ^= _poisson_drive_state[2]
    _poisson_drive_state[0] ^= _poisson_drive_state[3]
    _poisson_drive_state[2] ^= t
    _poisson_drive_state[3] = (_poisson_drive_state[3] << 45) | (_poisson_drive_state[3] >> 19)
    return result

cdef int32_t _poisson_drive(long long step, int _vectorisation_idx):
    cdef int k
    cdef unsigned long long z
    cdef double u
    if step == 0 and _vectorisation_idx == 0:
        for k in range(4):
            z = <unsigned long long>(_rand(_vectorisation_idx) * 9007199254740992.0)
            z += 0x9E3779B97F4A7C15ULL
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
            _poisson_drive_state[k] = z ^ (z >> 31)
    u = <double>(_poisson_drive_next() >> 11) * 1.1102230246251565e-16
"""


def poisson_drive_function(mean: float, tail: float = 1e-15) -> brian2.Function:
    """A Brian2 function ``poisson_drive(t_in_timesteps)``: a Poisson(``mean``) count.

    The drive's count per neuron and step, as NEST's ``poisson_generator`` draws it.
    Compiled code (C++ and Cython, the same numbers in both) draws one uniform number
    from a generator of its own (xoshiro256+, 53 bits; Brian2's ``rand()`` combines two
    outputs of a Mersenne twister) and inverts the Poisson CDF
    (:func:`poisson_cdf_table`, written into the code): counts 0 and 1 without a branch,
    larger ones by one comparison each. It replaced ``rand()`` and a sum of comparisons
    with all 13 CDF values: 5.7 against 23 ns a draw in a C++ micro-benchmark, and in
    this network's ``cpp_standalone`` profile 36 against 118 ms per simulated second.
    The generator is seeded from Brian2's random numbers (``brian2.seed``) when it is
    called at step 0 for index 0, so a run starting at ``t = 0`` is reproducible. Under
    the ``numpy`` target it draws with NumPy's ``poisson`` (other numbers, the same
    distribution).

    Parameters
    ----------
    mean : float
        Expected count per call (rate times ``dt``), > 0.
    tail : float
        Probability per draw left out of the CDF table (a larger count counts as the
        table's length).

    Returns
    -------
    brian2.Function
        To put into a group's namespace as ``poisson_drive``; call it with the time step
        ``t_in_timesteps`` (every index of a group once per step, index 0 first).
    """
    from brian2.codegen.generators.cpp_generator import CPPCodeGenerator
    from brian2.codegen.generators.cython_generator import CythonCodeGenerator
    from brian2.core.functions import DEFAULT_FUNCTIONS

    cdf = poisson_cdf_table(mean, tail)
    cpp = _DRIVE_NEXT_CPP
    cython = _DRIVE_NEXT_CYTHON
    # counts 0 and 1 (94% of the draws at a mean of 0.39) without a branch that the
    # processor mispredicts one time in three; larger counts one comparison each
    first = 1
    if len(cdf) > 1:
        first = 2
        cpp += f"    if (u <= {cdf[1]!r}) return (int32_t)(u > {cdf[0]!r});\n"
        cython += f"    if u <= {cdf[1]!r}:\n        return <int32_t>(u > {cdf[0]!r})\n"
    else:
        cpp += f"    if (u <= {cdf[0]!r}) return 0;\n"
        cython += f"    if u <= {cdf[0]!r}:\n        return 0\n"
    for k, value in enumerate(cdf[first:], start=first):
        cpp += f"    if (u <= {value!r}) return {k};\n"
        cython += f"    if u <= {value!r}:\n        return {k}\n"
    cpp += f"    return {len(cdf)};\n}}\n"
    cython += f"    return {len(cdf)}\n"

    def numpy_drive(step, _vectorisation_idx):
        # as Brian2's rand(): an array of indices, or their number; NumPy's global
        # generator, which brian2.seed seeds
        try:
            size = len(_vectorisation_idx)
        except TypeError:
            size = int(_vectorisation_idx)
        counts = np.random.poisson(mean, size=size)  # noqa: NPY002
        return np.minimum(counts, len(cdf)).astype(np.int32)

    function = brian2.Function(
        numpy_drive,
        arg_units=[1],
        arg_types=["integer"],
        return_unit=1,
        return_type="integer",
        stateless=False,
        auto_vectorise=True,
    )
    for generator, code in ((CPPCodeGenerator, cpp), (CythonCodeGenerator, cython)):
        function.implementations.add_implementation(
            generator,
            code=code,
            name="_poisson_drive",
            dependencies={"_rand": DEFAULT_FUNCTIONS["rand"]},
        )
    return function


#: Code objects of a ``cpp_standalone`` program that run once (spike-queue set-up,
#: end-of-run bookkeeping, synapse creation): compiled at ``-O0``.
_COLD_SOURCE = re.compile(
    r"^(before_run_|after_run_)|_create_(array|generator)_codeobject\.cpp$"
    r"|_group_variable_set(_conditional)?_codeobject\.cpp$"
)

#: Top-level lines a code object's source may have to be merged (Brian2 2.9: includes,
#: preprocessor lines, one anonymous namespace of support code, ``void f()``
#: definitions); another source is compiled on its own.
_MERGEABLE_LINE = re.compile(r"^(\s*(#.*|//.*)?|namespace \{\s*|void \w+\(\)\s*\{?\s*|[{}]\s*)$")

#: Make rules added to Brian2's makefile by the quick build (``make -f makefile -f
#: spikingml.mk DEPS= OBJS=...``; Brian2 2.9's makefile names ``OPTIMISATIONS`` and
#: ``H_SRCS``).
QUICK_BUILD_MAKEFILE = """\
# written by spikingml.peers.nest_network (quick build): run-once code at -O0; every
# object depends on every header (no make.deps)
SPIKINGML_COLD := $(filter-out -O%,$(OPTIMISATIONS)) -O0
$(OBJS): objects.h $(H_SRCS)
objects.o main.o run.o code_objects/spikingml_cold.o: private OPTIMISATIONS := $(SPIKINGML_COLD)
"""


def _mergeable(text: str) -> bool:
    """Whether a code object's source has only the top-level lines a merge can wrap."""
    depth = 0
    for line in text.splitlines():
        if depth == 0 and not _MERGEABLE_LINE.match(line):
            return False
        code = line.split("//", 1)[0]
        if '"' in code or "'" in code:  # braces in literals: count none of them
            code = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'', "", code)
        depth += code.count("{") - code.count("}")
        if depth < 0:
            return False
    return depth == 0


def _write_if_changed(path: str, text: str) -> None:
    """Write ``text`` to ``path`` unless it holds it already (``make`` goes by times)."""
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    with open(path, "w") as f:
        f.write(text)


def quick_build(directory: str) -> list[str]:
    """Prepare a generated ``cpp_standalone`` project for a quick compilation.

    Compiling Brian2's program of this network (26 sources) took 15 CPU seconds, of
    which about 11 went to parsing ``objects.h`` and the standard headers it includes,
    once per source (0.4 of every source's 0.5 s). The code objects' sources are merged
    into two: ``code_objects/spikingml_hot.cpp`` (the simulation's code, optimised as
    Brian2 asks) and ``code_objects/spikingml_cold.cpp`` (code that runs once, with
    ``objects.cpp``, ``main.cpp`` and ``run.cpp`` at ``-O0``). Each source goes into a
    namespace of its own (so that the support code every source defines, ``_rand``,
    ``_clip``, ..., does not clash), and each of its functions is called from a
    global function of the name ``main.cpp`` calls. ``make.deps`` (a serial pass of the
    preprocessor over every source before any compilation) is not made: every object
    depends on every header. The program computes the same numbers (same compiler
    flags for the simulation's code); it compiles in 4 CPU seconds.

    Parameters
    ----------
    directory : str
        The project directory, after ``device.build(compile=False)``.

    Returns
    -------
    list of str
        Arguments to add to ``make`` (Brian2's preference
        ``devices.cpp_standalone.extra_make_args_unix``). Sources of an unexpected shape
        are compiled on their own, as Brian2 would.
    """
    with open(os.path.join(directory, "makefile")) as f:
        sources = next(line for line in f if line.startswith("SRCS =")).split()[2:]
    units: dict[str, list[str]] = {"hot": [], "cold": []}
    objects = []
    for source in sources:
        name = os.path.basename(source)
        text = ""
        if source == f"code_objects/{name}" and name.endswith(".cpp"):
            with open(os.path.join(directory, source)) as f:
                text = f.read()
        if text and _mergeable(text):
            units["cold" if _COLD_SOURCE.search(name) else "hot"].append(text)
        else:  # compiled on its own, as Brian2 would
            objects.append(re.sub(r"\.(cpp|c)$", ".o", source))
    for unit, texts in units.items():
        if not texts:
            continue
        includes: list[str] = []
        parts = []
        for k, text in enumerate(texts):
            body = []
            for line in text.splitlines():
                if line.lstrip().startswith("#include"):
                    if line.replace(" ", "") not in (i.replace(" ", "") for i in includes):
                        includes.append(line)
                else:
                    body.append(line)
            ns = f"_spikingml_{unit}_{k}"
            functions = re.findall(r"^void (\w+)\(\)", text, re.M)
            calls = "".join(f"void {f}() {{ {ns}::{f}(); }}\n" for f in functions)
            parts.append(f"namespace {ns} {{\n" + "\n".join(body) + f"\n}}\n{calls}")
        _write_if_changed(
            os.path.join(directory, "code_objects", f"spikingml_{unit}.cpp"),
            "// written by spikingml.peers.nest_network.quick_build\n"
            + "\n".join(includes)
            + "\n"
            + "\n".join(parts),
        )
        objects.append(f"code_objects/spikingml_{unit}.o")
    _write_if_changed(os.path.join(directory, "spikingml.mk"), QUICK_BUILD_MAKEFILE)
    return ["-f", "makefile", "-f", "spikingml.mk", "DEPS=", f'"OBJS={" ".join(objects)}"']


def psc_exp_update(equations, variables=None, method_options=None) -> str:
    """Brian2 state updater of the neurons: exact, as NEST's ``iaf_psc_exp`` propagators.

    Pass as ``method=`` to the ``NeuronGroup`` of :func:`build_brian2`. The same update
    as Brian2's ``method="exact"`` for these linear equations, written out: Brian2
    derives it with SymPy (a matrix exponential), two seconds of every fresh process,
    which the ``cpp_standalone`` run pays with its compilation. Over a step ``dt``,
    with ``v`` held while refractory (``unless refractory``)::

        I <- I exp(-dt/tau_syn)
        v <- v + (E_L - v)(1 - exp(-dt/tau_m))
               + I tau_m tau_syn / (C_m (tau_syn - tau_m)) (exp(-dt/tau_syn) - exp(-dt/tau_m))

    Parameters
    ----------
    equations : brian2.Equations
        The neurons' equations: differential equations for ``v`` and ``I`` alone.
    variables, method_options
        Unused (Brian2's state-updater signature).

    Returns
    -------
    str
        Brian2 abstract code.

    Raises
    ------
    brian2.stateupdaters.base.UnsupportedEquationsException
        For other equations.
    """
    from brian2.stateupdaters.base import UnsupportedEquationsException

    if set(equations.diff_eq_names) != {"v", "I"}:
        raise UnsupportedEquationsException(
            f"psc_exp_update integrates dv/dt and dI/dt only, not {equations.diff_eq_names}"
        )
    return (
        "_I = I*exp(-dt/tau_syn)\n"
        "_v = v + int(not_refractory)*((E_L - v)*(-expm1(-dt/tau_m))"
        " + I*tau_m*tau_syn/(C_m*(tau_syn - tau_m))*(exp(-dt/tau_syn) - exp(-dt/tau_m)))\n"
        "I = _I\n"
        "v = _v\n"
    )


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
    # The Poisson drive, as NEST's poisson_generator: each neuron's input count in a
    # step is Poisson(nu_ext * dt)
    constants["poisson_drive"] = poisson_drive_function(float(p.nu_ext * p.dt))
    neurons = brian2.NeuronGroup(
        p.N,
        eqs,
        threshold="v >= V_th",
        # Counting in the reset instead of a SpikeMonitor: one code object less per step.
        reset="v = V_reset\nspike_count += 1",
        refractory=p.t_ref,
        method=psc_exp_update,
        namespace=constants,
        name="neurons",
    )
    neurons.v = p.E_L
    neurons.run_regularly(
        f"I += {p.J_E}*pA * poisson_drive(t_in_timesteps)", when="synapses", name="drive"
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
    times = dopamine_times(p, seed)
    dopa = brian2.SpikeGeneratorGroup(
        1, np.zeros(len(times), dtype=int), times, dt=p.dopa_dt, sorted=True, name="dopamine"
    )
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
    quick: bool = True,
) -> NetworkRun:
    """Build and run the network in Brian2 (spikingml), one thread.

    Parameters
    ----------
    params : NetworkParams
        The network.
    seed : int
        Seeds the connectivity and the dopamine train (shared with NEST) and Brian2's
        random numbers.
    device : {"runtime", "cpp_standalone"}
        ``runtime``: Cython. The network first runs for one step (code generation and
        compilation, or loading from Brian2's cache: ``compile_wall``), then for the
        rest of the duration (``run_wall``). ``cpp_standalone``: ``compile_wall`` is
        code generation and compilation (``make_wall``: the compiler alone),
        ``run_wall`` the program's run (``run_cpu``: its CPU seconds) and
        ``network_run`` the time the program reports for the simulation loop alone.
        ``total_wall``: the whole call, from building the network to reading the
        results.
    directory : str, optional
        ``cpp_standalone`` build directory (a temporary one by default, removed
        afterwards).
    profile : bool
        Brian2's ``profile=True``; ``seconds["profile"]`` then holds
        Brian2's profiling summary (text).
    quick : bool
        ``cpp_standalone``: compile as :func:`quick_build` prepares it (the code
        objects merged into two sources, run-once code unoptimised, no ``make.deps``):
        the same program, compiled with a quarter of the CPU time. False: as Brian2
        compiles it.
    """
    from spikingml.simulation import brian_device

    p = params
    secs: dict[str, Any] = {}
    standalone = device == "cpp_standalone"
    t0, c0 = time.perf_counter(), _cpu_self()
    with brian_device(device, seed, directory=directory, build_on_run=False):
        brian2.defaultclock.dt = p.dt
        objects = build_brian2(p, seed)
        net, plastic, neurons = objects["network"], objects["plastic"], objects["neurons"]
        # standalone cannot read values before the program runs: the value set is J_E
        w_start = float(np.mean(plastic.w[:])) if not standalone else p.J_E
        t1, c1 = time.perf_counter(), _cpu_self()
        secs.update(build_wall=t1 - t0, build_cpu=c1 - c0)
        if standalone:
            dev = brian2.get_device()
            # brian_device's directory (a temporary one unless given)
            project = dev.build_options["directory"]
            make_prefs = brian2.prefs.devices.cpp_standalone
            make_args = list(make_prefs.extra_make_args_unix)
            k1 = _cpu_children()
            net.run(p.duration, profile=profile)  # code generation
            dev.build(run=False, compile=not quick, directory=project, with_output=False)
            if quick:
                from brian2.codegen.cpp_prefs import get_compiler_and_args

                make_prefs.extra_make_args_unix = [*make_args, *quick_build(project)]
                try:
                    dev.compile_source(project, get_compiler_and_args()[0], False, False)
                finally:
                    make_prefs.extra_make_args_unix = make_args
            t3, c3, k3 = time.perf_counter(), _cpu_self(), _cpu_children()
            dev.run(directory=project, with_output=False)
            t4, k4 = time.perf_counter(), _cpu_children()
            secs.update(
                compile_wall=t3 - t1,
                compile_cpu=(c3 - c1) + (k3 - k1),  # code generation + the compiler
                make_wall=float(dev.timers["compile"]["make"]),
                run_wall=t4 - t3,
                run_cpu=k4 - k3,  # the program's CPU seconds
                network_run=float(dev._last_run_time),
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
    secs["total_wall"] = time.perf_counter() - t0
    return _result(p, counts, w_start, w_end, len(dopamine_times(p, seed)), secs)
