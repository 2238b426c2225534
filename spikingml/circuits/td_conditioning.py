r"""Dopamine neurons compute a temporal-difference error during classical conditioning.

The ML idea
-----------
Temporal-difference learning (Sutton 1988) learns a value :math:`V` from the error
:math:`\delta_m = r_m + V_m - V_{m-1}` between successive predictions. Montague, Dayan &
Sejnowski (1996) and Schultz, Dayan & Montague (1997) showed that midbrain dopamine
neurons fire like :math:`\delta`: before learning they burst at the reward (US); after
learning they burst at the conditioned stimulus (CS) and no longer respond to the
predicted reward; when a predicted reward is omitted they pause at the time it was due.

The circuit
-----------
Populations (all integrate-and-fire *phase integrators*: ``phi`` grows with the drive
and a spike is emitted, and 1 subtracted, each time it passes 1, so the firing rate
equals the drive and rate codes are read without Poisson noise):

Time cells (``time_cells``, ``n_bins`` groups of ``cells_per_bin``)
    A complete serial compound: group ``k`` fires regularly at ``time_cell_rate`` while
    the time since the CS lies in ``[k, k + 1) * bin_width`` (sequence cells of
    hippocampus / striatum, Ludvig, Sutton & Kehoe 2008)::

        dphi/dt = time_cell_rate * cs_drive(t_trial, k)

Critic (``critic``, ``n_critic`` neurons)
    Striatal value neurons::

        dphi/dt = f_i + I                      f_i = critic_rate0
        dI/dt   = -I / tau_critic             I += w * Hz / (time_cell_rate * tau_critic)

    so a time cell that fires at ``time_cell_rate`` adds ``w`` Hz to the critic's rate:
    the critic fires at :math:`V(t) = \mathrm{critic\_rate0} + \sum_j w_j` (active j).

Dopamine neurons (``dopamine``, ``n_dopamine``)
    The VTA's dopamine neurons::

        dphi/dt  = f_i + g * (I_exc - I_inh) + I_us       (phi >= phase_floor)
        dI_exc/dt = -I_exc / tau_da    I_exc += 1 / (n_critic * tau_da)   per critic spike
        dI_inh/dt = -I_inh / tau_da    I_inh += 1 / (n_critic * tau_da)   same, delayed by
                                                                          bin_width
        dI_us/dt  = (reward_drive * reward(t) - I_us) / tau_da

    The critic excites dopamine neurons directly and inhibits them through a pathway
    delayed by :math:`\Delta` = ``bin_width`` (striatal patch neurons onto VTA, or via VTA
    GABA interneurons), so their rate is

    .. math:: \nu_{DA}(t) \approx f + R(t) + g\,[V(t) - V(t - \Delta)],

    a TD error on top of the tonic rate ``f`` (``tonic_rate``; the individual rates
    ``f_i`` are spread evenly by ``tonic_spread`` around it so the population does not
    synchronise). The phase may fall below 0, down to ``phase_floor``: a negative error
    becomes a pause whose length encodes its size (Bayer & Glimcher 2005).
    ``critic_gain`` :math:`g` scales value (in critic Hz) to dopamine Hz: errors of
    ``reward_drive`` = 10 Hz stay within what a 5 Hz tonic rate can express as a pause.

Volume transmitter (``n``): the dopamine concentration, the population rate low-pass
filtered, the same for every synapse it reaches (it is kept on each time cell)::

        dn/dt = -n / tau_n       n += 1 / (n_dopamine * tau_n)   per dopamine spike

All equations are integrated with the forward Euler method at ``dt``. For ``n`` this
matters: with Euler each spike adds exactly ``1 / n_dopamine`` to the time integral of
``n``, so the tonic concentration equals the tonic rate ``b`` and tonic firing changes no
weight; sampling the exact exponential at the end of each step instead adds
``(dt / tau_n) / (1 - exp(-dt / tau_n))`` = 1.05 times as much, a bias that slowly
potentiates every eligible synapse (it inflated the CS response by about 30% and slowed
extinction in an earlier version of this circuit).

The three populations live in one ``NeuronGroup`` (``neurons``: time cells, then critic,
then dopamine neurons): the equations above are one set of equations whose inputs are
zero where a population has none (``f_i`` is ``critic_rate0``, the dopamine neurons'
``f_i`` or 0; ``cs_drive(t_trial, k)`` is 1 where ``k`` is the group active in the
current bin of the trial, ``cs_group(t_trial)``, else 0, written ``1 - clip(abs(k -
cs_group(t_trial)), 0, 1)``, and ``k = n_bins`` of non-time cells is never active;
``us_input`` is 1 only for dopamine neurons). What a whole population receives
alike is held once: ``I_exc``, ``I_inh`` (every critic neuron reaches every dopamine
neuron with the same weight) and ``n`` live in a one-neuron group ``shared_inputs``
that the neurons read as linked variables; the critic and dopamine spikes reach it
through synapses ``critic_to_dopamine`` and ``dopamine_release``. These are the same
equations as one copy per neuron, updated in the same order, with the same spikes; at
this size Brian2's cost is per object, time step and synaptic event, so one group
instead of three, and 350 synaptic events per critic and dopamine spike fewer, halve a
run's cost.

Plasticity: the three-factor rule (:class:`spikingml.plasticity.three_factor.
PresynapticDopamineRule`) on time cell -> critic synapses,

.. math:: \frac{dw_{ij}}{dt} = c_j(t)\,(n(t) - b), \qquad b = f,

with a presynaptic eligibility :math:`c_j` (``tau_c``) tagged by cell j's own spikes
delayed by ``eligibility_delay`` :math:`= \Delta` + the pipeline latency (time cell ->
critic -> dopamine -> n, about 25 ms). A cell active in bin k is thus eligible during
bin k + 1, when the dopamine carries :math:`r_{k+1} + V_{k+1} - V_k`: exactly the TD(0)
update of :math:`V_k`. Eligibility that overlapped bin k's own dopamine transient would
feed back on itself: the weight runs away (measured while the circuit was designed).

No ``network_operation`` is used: the CS is a periodic ``TimedArray``, the rewards a
``TimedArray`` over the whole run, plasticity is applied by ``run_regularly``, so the same
code runs under ``runtime`` and ``cpp_standalone``. The run-time fields (time constants,
rates, gains, the learning rate; ``Params.runtime_fields()``) are shared constants of the
groups rather than constants of the code, so the compiled program runs with new values
of them, and with another seed's initial phases, without being compiled again
(:func:`simulate_many`).

Twin and the mapping of parameters
----------------------------------
The twin is TD(:math:`\lambda`) (:func:`spikingml.analysis.td.td_lambda`) on bins of
``bin_width`` with one feature per time-cell group, reward 1 in the US bin of rewarded
trials and :math:`\gamma = 1`. One unit of twin value is ``reward_drive / critic_gain`` Hz
of critic rate. A weight changes by :math:`\int c_j (n - b)\,dt`; with the cell's
``time_cell_rate * bin_width`` tagging spikes, :math:`\int c_j\,dt = A_+\,\nu\,\Delta\,
\tau_c` and :math:`n - b = g\,\delta` (critic Hz), so

.. math:: \alpha = \mathrm{cells\_per\_bin}\; A_+\,\nu_{tc}\,\Delta\,\tau_c\,g\,\cdot
          \kappa, \qquad \lambda = \kappa_2 / \kappa

where :math:`\kappa` and :math:`\kappa_2` are the fractions of :math:`\int c_j` that fall
in the first and second bin after the cell's own (computed by :func:`twin_rates`).

The metrics (rates on the trial grid, the conditioning effects) are computed in
:mod:`spikingml.analysis.td`, the figures drawn in :mod:`spikingml.figures.td_conditioning`.

References
----------
Montague, P. R., Dayan, P. & Sejnowski, T. J. (1996). A framework for mesencephalic
dopamine systems based on predictive Hebbian learning. J. Neurosci. 16, 1936-1947.

Schultz, W., Dayan, P. & Montague, P. R. (1997). A neural substrate of prediction and
reward. Science 275, 1593-1599.

Izhikevich, E. M. (2007). Solving the distal reward problem through linkage of STDP and
dopamine signaling. Cereb. Cortex 17, 2443-2452.

Bayer, H. M. & Glimcher, P. W. (2005). Midbrain dopamine neurons encode a quantitative
reward prediction error signal. Neuron 47, 129-141.

Ludvig, E. A., Sutton, R. S. & Kehoe, E. J. (2008). Stimulus representation and the
timing of reward-prediction errors in models of the dopamine system. Neural Comput. 20,
3034-3054.
"""

from __future__ import annotations

import dataclasses
import time
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from spikingml.analysis import td as td_analysis
from spikingml.circuits._td_conditioning_runs import simulate_many, simulate_seeds
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.plasticity.three_factor import PresynapticDopamineRule
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
from spikingml.stimuli.conditioning import ConditioningSchedule, conditioning_schedule

__all__ = [
    "DEFAULT_DEVICE",
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "Params",
    "simulate",
    "simulate_seeds",
    "simulate_many",
    "build_network",
    "Network",
    "initial_phases",
    "twin",
    "compare",
    "figures",
    "twin_rates",
    "schedule",
]

NAME = "td-conditioning"
DESCRIPTION = "dopamine neurons learn a TD error; the burst moves from reward to cue"
#: Compiled as one C++ program: identical spikes to ``runtime`` (``DEVICES_IDENTICAL``),
#: a first run compiles in seconds where Cython takes a minute, and later values of the
#: run-time fields run the kept program (:func:`simulate_many`).
DEFAULT_DEVICE = "cpp_standalone"

#: Every metric :func:`compare` returns: what it measures, direction, target.
METRICS: dict[str, str] = {
    "baseline_hz": "tonic dopamine rate before the CS, all trials (Hz; target 3-8)",
    "cs_response_late_hz": "dopamine rate above baseline in the CS bin, last 20 rewarded "
    "trials (Hz; higher is better; target >= baseline_hz)",
    "us_response_early_hz": "dopamine rate above baseline in the US bin, first 5 rewarded "
    "trials (Hz)",
    "us_response_late_hz": "dopamine rate above baseline in the US bin, last 20 rewarded "
    "trials (Hz)",
    "transfer_ratio": "us_response_late_hz / us_response_early_hz (lower is better; "
    "target <= 0.3)",
    "omission_dip_fraction": "1 - rate in the US bin of omission trials in the second half "
    "of acquisition / baseline_hz (higher is better; target >= 0.5)",
    "delta_correlation": "Pearson r of the dopamine response (trials x bins, baseline "
    "subtracted) with the twin's delta (higher is better; target >= 0.85, quick >= 0.8)",
    "value_correlation": "Pearson r of the critic rate (trials x bins) with the twin's V "
    "(higher is better; target >= 0.8)",
    "extinction_drop": "1 - CS response in the last 5 / first 5 extinction trials "
    "(higher is better; target >= 0.5)",
    "twin_extinction_drop": "extinction_drop of the twin's delta (reference)",
    "twin_alpha": "learning rate of the twin derived from the spiking parameters",
    "twin_lambda": "trace decay of the twin derived from the spiking parameters",
}


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the TD-conditioning circuit (default preset: the full protocol)."""

    circuit_name = "TDConditioning"

    # protocol
    n_acquisition: int = param(150, "acquisition trials (CS then US)", integer=True, low=1)
    omission_every: int = param(
        15, "every n-th acquisition trial omits the reward (0: never)", integer=True, low=0
    )
    n_extinction: int = param(30, "extinction trials (CS alone)", integer=True, low=0)
    trial_duration: Any = param(
        1.0 * second, "duration of a trial", unit=second, low=0 * ms, low_inclusive=False
    )
    cs_onset: Any = param(0.2 * second, "CS onset within a trial", unit=second, low=0 * ms)
    us_delay: Any = param(
        0.5 * second, "US time after the CS", unit=second, low=0 * ms, low_inclusive=False
    )
    # time cells and US cells
    n_bins: int = param(14, "time-cell groups (bins after the CS)", integer=True, low=2)
    cells_per_bin: int = param(20, "time cells per group", integer=True, low=1)
    bin_width: Any = param(
        50 * ms,
        "duration of a time bin; also the delay Delta of the inhibitory critic->dopamine path",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    time_cell_rate: Any = param(
        100 * Hz,
        "rate of an active time cell",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    # critic
    n_critic: int = param(50, "critic (value) neurons", integer=True, low=1)
    critic_rate0: Any = param(2 * Hz, "critic rate without input", unit=Hz, low=0 * Hz)
    tau_critic: Any = param(
        5 * ms,
        "time constant of the critic's synaptic current",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    w_max: float = param(
        4.0,
        "largest weight (Hz one time cell adds to the critic)",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    # dopamine
    n_dopamine: int = param(300, "dopamine neurons", integer=True, low=2)
    tonic_rate: Any = param(
        5 * Hz,
        "mean tonic dopamine rate f (also the baseline b)",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
    )
    tonic_spread: float = param(
        0.2, "relative spread of individual tonic rates", low=0, high=1, high_inclusive=False
    )
    tau_da: Any = param(
        10 * ms,
        "time constant of the dopamine neurons' synaptic currents",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    critic_gain: float = param(
        0.25,
        "g: dopamine Hz per critic Hz of value change",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    reward_drive: Any = param(
        10 * Hz,
        "drive of the US to dopamine neurons",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    phase_floor: float = param(
        -2.0, "lowest phase of a dopamine neuron (pause depth)", high=0, runtime=True
    )
    # plasticity
    A_plus: float = param(
        1.6,
        "eligibility jump per tagging spike (learning rate)",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    tau_c: Any = param(
        15 * ms,
        "eligibility time constant",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    tau_n: Any = param(
        10 * ms,
        "time constant of the dopamine concentration n",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    eligibility_delay: Any = param(
        75 * ms,
        "delay from a time-cell spike to its eligibility tag (bin_width + pipeline latency)",
        unit=second,
        low=0 * ms,
    )
    update_interval: Any = param(
        10 * ms, "interval of the weight updates", unit=second, low=0 * ms, low_inclusive=False
    )
    # simulation and analysis
    dt: Any = param(
        1 * ms, "simulation time step", unit=second, low=0 * ms, low_inclusive=False, high=5 * ms
    )
    readout_latency: Any = param(
        15 * ms,
        "shift of the analysis bins (time cell -> critic -> dopamine latency)",
        unit=second,
        low=0 * ms,
        runtime=True,
    )

    def check(self) -> None:
        """Cross-field checks: the protocol must fit the bin grid and the trial."""
        bins = {}
        for name in ("trial_duration", "cs_onset", "us_delay"):
            ratio = float(getattr(self, name) / self.bin_width)
            if not is_whole(ratio):
                raise ValidationError(
                    self.qualname(name),
                    f"a multiple of bin_width ({self.bin_width})",
                    getattr(self, name),
                )
            bins[name] = round(ratio)
        if bins["us_delay"] >= self.n_bins:
            raise ValidationError(
                self.qualname("us_delay"),
                f"a US inside the time-cell sequence (< n_bins * bin_width = "
                f"{self.n_bins * self.bin_width})",
                self.us_delay,
            )
        if bins["cs_onset"] + self.n_bins + 2 > bins["trial_duration"]:
            raise ValidationError(
                self.qualname("trial_duration"),
                f">= cs_onset + (n_bins + 2) * bin_width = "
                f"{self.cs_onset + (self.n_bins + 2) * self.bin_width}",
                self.trial_duration,
            )
        if bins["cs_onset"] < 2:
            raise ValidationError(
                self.qualname("cs_onset"),
                f">= 2 * bin_width = {2 * self.bin_width}",
                self.cs_onset,
            )
        ratio = float(self.update_interval / self.dt)
        if not is_whole(ratio):
            raise ValidationError(
                self.qualname("update_interval"),
                f"a multiple of dt ({self.dt})",
                self.update_interval,
            )

    @classmethod
    def quick(cls) -> Params:
        """A short protocol (about 10 s of wall time) for tests, docs and demos."""
        return cls(n_acquisition=40, omission_every=8, n_extinction=10, A_plus=2.0)

    @classmethod
    def tiny(cls) -> Params:
        """Eight trials with an omission probe and extinction: the conformance test's run
        (every part of the protocol, not a meaningful amount of learning)."""
        return cls.quick().replace(n_acquisition=6, n_extinction=2, omission_every=3)

    @property
    def n_trials(self) -> int:
        """Total number of trials."""
        return self.n_acquisition + self.n_extinction


# --------------------------------------------------------------------------- protocol
def schedule(params: Params) -> ConditioningSchedule:
    """The trial schedule of a run (acquisition with omission probes, extinction)."""
    return conditioning_schedule(
        params.n_acquisition,
        params.omission_every,
        params.n_extinction,
        float(params.trial_duration),
        float(params.cs_onset),
        float(params.us_delay),
    )


def _cs_group(params: Params) -> np.ndarray:
    """The time-cell group active in each ``bin_width`` bin of a trial (-1: none).

    ``cs_drive(t_trial, k)`` of the equations is ``1 - clip(abs(k - cs_group(t_trial)),
    0, 1)``: 1 if ``k`` is the active group, else 0. One lookup per time step serves
    every neuron.
    """
    n_trial_bins = round(float(params.trial_duration / params.bin_width))
    first = round(float(params.cs_onset / params.bin_width))
    group = np.full(n_trial_bins, -1.0)
    group[first + np.arange(params.n_bins)] = np.arange(params.n_bins)
    return group


def _reward_drive(params: Params, sched: ConditioningSchedule) -> np.ndarray:
    """1 during the US bin of rewarded trials, per ``bin_width``, for the whole run.

    The array is padded with zeros to a power-of-two number of trials: Brian2 writes the
    length of a ``TimedArray`` into the generated code, so padding lets runs of different
    lengths share one compiled code object.
    """
    per_trial = round(float(params.trial_duration / params.bin_width))
    us_bin = round(float((params.cs_onset + params.us_delay) / params.bin_width))
    capacity = 1 << max(int(np.ceil(np.log2(sched.n_trials))), 6)
    drive = np.zeros((capacity, per_trial))
    drive[np.flatnonzero(sched.rewarded), us_bin] = 1.0
    return drive.ravel()


def twin_rates(params: Params) -> tuple[float, float]:
    r"""TD learning rate :math:`\alpha` and trace decay :math:`\lambda` of the circuit.

    The eligibility of a time cell is the sum of exponentials (``tau_c``) started by its
    ``time_cell_rate * bin_width`` tagging spikes (uniform random phase). The part of its
    integral falling in the first bin after the cell's own gives :math:`\alpha`, the
    ratio of the second bin's part to the first gives :math:`\lambda` (module docstring).

    Returns
    -------
    alpha, lam : float
    """
    width = float(params.bin_width)
    tau = float(params.tau_c)
    period = float(1 / params.time_cell_rate)
    # tagging spikes start bin_width after the cell's bin opens (eligibility_delay -
    # pipeline latency), averaged over the random phase of the cell
    phases = (np.arange(64) + 0.5) / 64 * period
    edges = width * np.array([1.0, 2.0, 3.0])
    parts = np.zeros(2)
    for phase in phases:
        spikes = width + phase + period * np.arange(int(np.ceil(width / period)))
        spikes = spikes[spikes < 2 * width]
        for s in spikes:
            lo = np.clip(edges[:-1] - s, 0, None)
            hi = np.clip(edges[1:] - s, 0, None)
            parts += tau * (np.exp(-lo / tau) - np.exp(-hi / tau))
    parts *= params.A_plus / len(phases)
    per_bin = parts * params.cells_per_bin * params.critic_gain
    alpha = float(per_bin[0])
    lam = float(per_bin[1] / per_bin[0])
    return alpha, min(lam, 1.0)


# ------------------------------------------------------------------------- simulation
def _check_params(params: Params | None) -> Params:
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "a td_conditioning.Params", type(params).__name__)
    return params


def _populations(params: Params) -> dict[str, int]:
    n_tc = params.n_bins * params.cells_per_bin
    return {"time_cells": n_tc, "critic": params.n_critic, "dopamine": params.n_dopamine}


def initial_phases(params: Params, seed: int) -> np.ndarray:
    """The seed's only random draw: initial phases of every neuron, in ``neurons`` order.

    Time cells, then critic, then dopamine neurons, each uniform in [0, 1). Everything
    else in a run is deterministic, so these phases are all that distinguishes seeds;
    :func:`simulate_seeds` passes them to a compiled program as a run argument.
    """
    rng = np.random.default_rng(check_seed(seed))
    return np.concatenate([rng.uniform(0, 1, n) for n in _populations(params).values()])


def _rule(params: Params) -> PresynapticDopamineRule:
    """The three-factor rule of the time cell -> critic synapses (baseline b = f)."""
    return PresynapticDopamineRule(
        A_plus=params.A_plus,
        tau_c=params.tau_c,
        b=params.tonic_rate,
        Wmin=0.0,
        Wmax=params.w_max,
    )


def _namespace(params: Params, sched: ConditioningSchedule) -> dict[str, Any]:
    """The structural constants of the equations, the CS and reward tables as ``TimedArray``."""
    return {
        "trial_duration": params.trial_duration,
        "cs_group": b2.TimedArray(_cs_group(params), dt=params.bin_width),
        "n_critic": params.n_critic,
        "n_dopamine": params.n_dopamine,
        "reward": b2.TimedArray(_reward_drive(params, sched), dt=params.bin_width),
    }


def _constants(params: Params) -> dict[str, Any]:
    """The run-time fields by their names in the equations, where they are declared
    ``(shared, constant)`` variables of the groups that use them.

    Shared variables rather than namespace constants, which ``cpp_standalone`` writes
    into the generated code: the program compiled for one value runs with another
    (:func:`spikingml.simulation.constant_args`). The rule's baseline ``pe_b`` (the
    structural ``tonic_rate``) is held the same way.
    """
    rule = _rule(params)
    return {
        "time_cell_rate": params.time_cell_rate,
        "tau_critic": params.tau_critic,
        "g": params.critic_gain,
        "tau_da": params.tau_da,
        "phase_floor": params.phase_floor,
        "tau_n": params.tau_n,
        "reward_drive": params.reward_drive,
        **rule.namespace(),
    }


#: The equations of every neuron (module docstring); the rule's presynaptic eligibility
#: equations follow them.
_NEURON_EQUATIONS = (
    "t_trial = t - trial_duration * floor(t / trial_duration) : second\n"
    "drive = f_i + time_cell_rate * (1 - clip(abs(k - cs_group(t_trial)), 0, 1)) + I"
    " + g * us_input * (I_exc - I_inh) + I_us : hertz\n"
    "dphi/dt = drive * int(phi > phase_floor or drive > 0 * hertz) : 1\n"
    "dI/dt = -I / tau_critic : hertz\n"
    "dI_us/dt = (us_input * reward_drive * reward(t) - I_us) / tau_da : hertz\n"
    "I_exc : hertz (linked)\n"
    "I_inh : hertz (linked)\n"
    "f_i : hertz (constant)\n"
    "k : integer (constant)\n"
    "us_input : 1 (constant)\n"
    # run-time fields (_constants): values the compiled program takes at run time
    "time_cell_rate : hertz (shared, constant)\n"
    "tau_critic : second (shared, constant)\n"
    "g : 1 (shared, constant)\n"
    "tau_da : second (shared, constant)\n"
    "phase_floor : 1 (shared, constant)\n"
    "reward_drive : hertz (shared, constant)\n"
    "pe_tau_c : second (shared, constant)\n"
    "pe_b : hertz (shared, constant)\n"
)

#: The inputs a whole population shares (``shared_inputs``, one neuron).
_SHARED_EQUATIONS = (
    "dI_exc/dt = -I_exc / tau_da : hertz\n"
    "dI_inh/dt = -I_inh / tau_da : hertz\n"
    "dn/dt = -n / tau_n : hertz\n"
    "tau_da : second (shared, constant)\n"
    "tau_n : second (shared, constant)\n"
)


class Network(NamedTuple):
    """The Brian2 objects of the circuit (:func:`build_network`), before its run."""

    net: b2.Network
    #: the three populations in one group: time cells, critic, dopamine neurons
    neurons: b2.NeuronGroup
    #: the plastic time cell -> critic synapses (weight ``w``)
    learning: b2.Synapses
    spikes: b2.SpikeMonitor
    #: ``w`` onto critic neuron 0, once per trial
    weights: b2.StateMonitor
    #: the dopamine concentration ``n``
    concentration: b2.StateMonitor
    counter: SynapticEventCounter


def build_network(params: Params, sched: ConditioningSchedule, phases: np.ndarray) -> Network:
    """Create every Brian2 object of the circuit (in :func:`~spikingml.simulation.brian_device`).

    Parameters
    ----------
    params : Params
        Circuit parameters.
    sched : ConditioningSchedule
        The trial schedule (:func:`schedule`): the rewards' ``TimedArray``.
    phases : ndarray
        Initial ``phi`` of every neuron, in ``neurons`` order (:func:`initial_phases`).

    Returns
    -------
    Network
        The ``brian2.Network`` and the objects a run's results are read from; nothing is
        run yet.

    Notes
    -----
    One ``NeuronGroup`` holds the three populations: every neuron is a phase integrator
    of its drive, and the populations differ only in which inputs are non-zero. One group
    costs one state update, threshold and reset per time step instead of three: at this
    size Brian2's per-object cost dominates.

    The inputs every neuron of a population shares live once, in ``shared_inputs``: the
    critic's excitation and delayed inhibition of the dopamine neurons (every critic
    neuron reaches every dopamine neuron with the same weight) and the volume
    transmitter's concentration ``n``. The neurons read them as linked variables: the
    same equations as one copy per neuron, updated in the same order (``shared_inputs``
    after ``neurons`` in each step), at a fraction of the synaptic events. Linked without
    an index to a group of one neuron, Brian2 reads the shared value once per step (index
    0), not through a per-neuron index array: the state update then has no indirect
    loads, and the compiler can vectorise it.
    """
    bounds = np.cumsum([0, *_populations(params).values()])  # time cells, critic, dopamine
    rule = _rule(params)
    b2.defaultclock.dt = params.dt
    ns = _namespace(params, sched)
    # the three populations in one group of phase integrators (Notes)
    neurons = b2.NeuronGroup(
        int(bounds[-1]),
        _NEURON_EQUATIONS + rule.presynaptic_equations(linked=True),
        threshold="phi > 1",
        reset="phi -= 1",
        method="euler",
        namespace=ns,
        name="neurons",
    )
    # what a whole population receives alike, held once (Notes)
    shared = b2.NeuronGroup(
        1, _SHARED_EQUATIONS, method="euler", namespace=ns, order=1, name="shared_inputs"
    )
    # linked without an index: one load per step, a vectorisable state update (Notes)
    neurons.I_exc = b2.linked_var(shared, "I_exc")
    neurons.I_inh = b2.linked_var(shared, "I_inh")
    neurons.n = b2.linked_var(shared, "n")
    # the populations as index ranges of ``neurons`` (Brian2's subgroups cannot hold
    # linked variables with an index)
    tc_range, critic_range, da_range = (slice(lo, hi) for lo, hi in pairwise(bounds))
    time_cells, critic, dopamine = (np.arange(lo, hi) for lo, hi in pairwise(bounds))
    # k selects the time-cell group; k = n_bins (other neurons) is never active
    neurons.k = params.n_bins
    neurons.k[tc_range] = np.repeat(np.arange(params.n_bins), params.cells_per_bin)
    neurons.f_i[critic_range] = params.critic_rate0
    spread = np.linspace(-1, 1, params.n_dopamine) * params.tonic_spread
    neurons.f_i[da_range] = params.tonic_rate * (1 + spread)
    neurons.us_input[da_range] = 1.0
    neurons.phi = phases
    tagging = b2.Synapses(
        neurons,
        neurons,
        "pe_A_plus : 1 (shared, constant)",
        on_pre=rule.on_tag(),
        delay=params.eligibility_delay,
        namespace=ns,
        name="eligibility_tag",
    )
    tagging.connect(i=time_cells, j=time_cells)
    learning = b2.Synapses(
        neurons,
        neurons,
        rule.synapse_model() + "pe_Wmin : 1 (shared, constant)\npe_Wmax : 1 (shared, constant)",
        on_pre="I_post += w * hertz / (time_cell_rate_pre * tau_critic_post)",
        namespace=ns,
        name="critic_synapses",
    )
    # all to all, ordered by time cell: synapse index = time cell * n_critic + critic
    learning.connect(i=np.repeat(time_cells, len(critic)), j=np.tile(critic, len(time_cells)))
    learning.run_regularly(rule.on_update(), dt=params.update_interval, when="end")
    # critic -> dopamine neurons (all to all, the same weight): the shared input
    critic_da = b2.Synapses(
        neurons,
        shared,
        on_pre={
            "pre": "I_exc_post += 1 / (n_critic * tau_da_post)",
            "delayed": "I_inh_post += 1 / (n_critic * tau_da_post)",
        },
        namespace=ns,
        name="critic_to_dopamine",
    )
    critic_da.connect(i=critic, j=np.zeros_like(critic))
    critic_da.delayed.delay = params.bin_width
    # volume transmission: every time cell sees the same concentration n
    release = b2.Synapses(
        neurons,
        shared,
        on_pre="n_post += 1 / (n_dopamine * tau_n_post)",
        namespace=ns,
        name="dopamine_release",
    )
    release.connect(i=dopamine, j=np.zeros_like(dopamine))
    spike_mon = b2.SpikeMonitor(neurons, name="spikes")
    # weights onto critic neuron 0, once per trial (synapse index = j * n_critic)
    onto_first = np.arange(bounds[1]) * params.n_critic
    w_mon = b2.StateMonitor(
        learning, "w", record=onto_first, dt=params.trial_duration, name="weights_per_trial"
    )
    n_mon = b2.StateMonitor(shared, "n", record=0, dt=5 * ms, name="concentration")
    net = b2.Network(
        neurons, shared, tagging, learning, critic_da, release, spike_mon, w_mon, n_mon
    )
    set_constants(net, _constants(params))  # the run-time fields' values
    return Network(net, neurons, learning, spike_mon, w_mon, n_mon, SynapticEventCounter(net))


def _run_protocol(
    network: Network, sched: ConditioningSchedule, device: str, progress: bool
) -> None:
    """Run the whole schedule (under ``cpp_standalone`` with ``build_on_run=False``: only
    record the run; the caller builds the program and runs it)."""
    # No report under cpp_standalone: the compiled program then reads the process clock
    # (a system call) before every object of every step, which doubled this program's
    # run (1.8 s -> 3.2-3.9 s for the default preset); its runs take seconds.
    report = None if device == "cpp_standalone" else progress_reporter(progress, NAME)
    network.net.run(sched.duration * second, report=report, report_period=2 * second)


def _collect(
    params: Params,
    sched: ConditioningSchedule,
    network: Network,
    seed: int,
    device: str,
    t_wall: float,
) -> Result:
    """Read a finished run's recordings into a :class:`Result` (wall time from ``t_wall``)."""
    n_pop = _populations(params)
    n_tc = n_pop["time_cells"]
    bounds = np.cumsum([0, *n_pop.values()])
    spike_mon, learning = network.spikes, network.learning
    index = np.asarray(spike_mon.i[:])
    times = np.asarray(spike_mon.t[:] / second)
    spikes = {}
    for (name, size), lo in zip(n_pop.items(), bounds[:-1], strict=True):
        mine = (index >= lo) & (index < lo + size)
        spikes[name] = SpikeData(index[mine] - lo, times[mine], size)
    w_final = np.zeros((n_tc, params.n_critic))
    critic_index = np.asarray(learning.j[:]) - n_tc  # critic neurons follow the time cells
    w_final[np.asarray(learning.i[:]), critic_index] = np.asarray(learning.w[:])
    w_trials = np.asarray(network.weights.w[:]).T  # (trials, n_tc)
    n_signal = np.asarray(network.concentration.n[0] / Hz)
    wall = time.perf_counter() - t_wall
    per_group = w_trials.reshape(len(w_trials), params.n_bins, params.cells_per_bin)
    phases = [Phase(name, start, stop) for name, start, stop in sched.phase_bounds()]
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=int(seed),
        device=device,
        populations=spikes,
        signals={
            "dopamine_concentration": Signal(
                n_signal, dt=0.005, unit="Hz", population="volume_transmitter"
            )
        },
        events={"CS": sched.cs_times, "US": sched.us_times, "reward": sched.reward_times},
        phases=phases,
        weights={"critic_w": w_final, "value_per_trial": per_group.sum(axis=2)},
        extra={"trial_kind": sched.kind.tolist()},
        simulated_seconds=float(sched.duration),
        wall_seconds=wall,
        synaptic_events=network.counter.total(),
        versions=versions(),
    )


def simulate(
    params: Params | None = None,
    seed: int = 0,
    device: str = "runtime",
    progress: bool = True,
) -> Result:
    """Run the conditioning protocol on the spiking circuit.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (the initial phases, :func:`initial_phases`).
    device : {"runtime", "cpp_standalone"}
        Brian2 device.
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone`` run
        takes a few seconds and reports nothing until it ends).

    Returns
    -------
    Result
        Spikes of ``time_cells``, ``critic`` and ``dopamine``; the signal
        ``dopamine_concentration``; events ``CS``, ``US`` (expected US times) and
        ``reward``; phases ``acquisition`` and ``extinction``; weights ``critic_w``
        (time cells x critic neurons, final) and ``value_per_trial`` (trials x bins:
        summed weights of each group onto critic neuron 0 at the start of each trial).

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure, and the seed's phases and the run-time fields are run
    arguments (:func:`simulate_many`): a run that changes only those (``A_plus``,
    ``critic_gain``, ...) compiles nothing.

    See Also
    --------
    simulate_seeds : several seeds under ``cpp_standalone``, compiled once.
    simulate_many : several parameter sets and seeds, compiled once per structure.
    """
    params = _check_params(params)
    check_device(device)
    seed = check_seed(seed)
    if device == "cpp_standalone":
        (result,) = simulate_many([(params, seed)], device, progress)
        return result
    sched = schedule(params)
    phases = initial_phases(params, seed)
    t_wall = time.perf_counter()
    with brian_device(device, seed):
        network = build_network(params, sched, phases)
        _run_protocol(network, sched, device, progress)
        return _collect(params, sched, network, seed, device, t_wall)


# ----------------------------------------------------------------------------- twin
def _grid(params: Params) -> tuple[int, int, int]:
    """Analysis grid: (bins per trial row M, bin index of the CS, of the US)."""
    first = 2
    return params.n_bins + 4, first, first + round(float(params.us_delay / params.bin_width))


def twin(params: Params | None = None, seed: int = 0) -> td_analysis.TDResult:
    """TD(lambda) on the circuit's bins and schedule, alpha and lambda from :func:`twin_rates`.

    The twin is deterministic; ``seed`` is accepted for the common contract.
    """
    params = Params() if params is None else params
    sched = schedule(params)
    n_cols, first, us_col = _grid(params)
    rewards = np.zeros((sched.n_trials, n_cols))
    rewards[sched.rewarded, us_col] = 1.0
    alpha, lam = twin_rates(params)
    features = td_analysis.csc_features(n_cols, first, params.n_bins)
    return td_analysis.td_lambda(features, rewards, alpha=alpha, lam=lam)


# --------------------------------------------------------------------------- compare
def trial_rates(result: Result, population: str, params: Params | None = None) -> np.ndarray:
    """Rate (Hz per neuron) of ``population`` on the analysis grid, trials x bins.

    Row ``i`` holds bins of ``bin_width`` from two bins before the CS of trial ``i`` to
    two bins after the last time-cell bin, shifted by ``readout_latency``
    (:func:`spikingml.analysis.td.trial_rates`).
    """
    params = _params_of(result) if params is None else params
    n_cols, first, _ = _grid(params)
    return td_analysis.trial_rates(
        result.populations[population],
        result.events["CS"],
        bin_width=float(params.bin_width),
        n_cols=n_cols,
        first=first,
        latency=float(params.readout_latency),
    )


def _params_of(result: Result) -> Params:
    return Params.from_dict(result.params)


def _baseline(result: Result, params: Params) -> float:
    """Dopamine rate (Hz) in the bins before the CS (before its latency shift), all trials."""
    return td_analysis.pre_cs_rate(
        result.populations["dopamine"],
        result.events["CS"],
        bin_width=float(params.bin_width),
        first=_grid(params)[1],
    )


def compare(result: Result, twin_output: td_analysis.TDResult) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twin."""
    params = _params_of(result)
    _, cs_col, us_col = _grid(params)
    metrics = td_analysis.conditioning_metrics(
        trial_rates(result, "dopamine", params),
        trial_rates(result, "critic", params),
        _baseline(result, params),
        np.asarray(result.extra["trial_kind"]),
        twin_output,
        cs_col=cs_col,
        us_col=us_col,
        n_acquisition=params.n_acquisition,
    )
    metrics["twin_alpha"], metrics["twin_lambda"] = twin_rates(params)
    return metrics


# --------------------------------------------------------------------------- figures
def raster_window(result: Result) -> tuple[float, float]:
    """A readable raster window: the last three acquisition trials and first extinction."""
    params = _params_of(result)
    trial = float(params.trial_duration)
    stop = params.n_acquisition * trial + (trial if params.n_extinction else 0.0)
    return max(0.0, stop - 4 * trial), stop


def figures(result: Result, twin_output: td_analysis.TDResult, outdir: Path) -> list[Path]:
    """Write ``comparison.png`` and ``learning_curves.png`` into ``outdir``.

    ``comparison.png``: the dopamine response (rate minus baseline) and the twin's delta
    as trial x time heat maps side by side, CS and US marked, omission trials ticked.
    ``learning_curves.png``: CS- and US-bin responses trial by trial, spiking and twin.
    Drawn by :func:`spikingml.figures.td_conditioning.figures`.
    """
    from spikingml.figures import td_conditioning as drawing

    params = _params_of(result)
    response = trial_rates(result, "dopamine", params) - _baseline(result, params)
    return drawing.figures(result, twin_output, params, response, _grid(params), Path(outdir))
