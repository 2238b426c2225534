r"""A spiking Rescorla-Wagner circuit: blocking, overshadowing, inhibition, overexpectation.

The ML idea
-----------
The Rescorla-Wagner rule (Rescorla & Wagner 1972) is the delta rule (LMS) of Pavlovian
conditioning: the cues present on a trial predict the US by the sum of their values,
and each of them learns from the *shared* error

.. math:: \delta = \lambda - \sum_{j \in S} V_j, \qquad \Delta V_i = \alpha_i \beta \delta.

Because the error is shared, it explains blocking (Kamin 1969), overshadowing,
conditioned inhibition and overexpectation, which a rule learning each cue on its own
cannot. Dopamine neurons signal such an error at the time of the US (Schultz, Dayan &
Montague 1997), and in the blocking paradigm they do not respond to the blocked cue
(Waelti, Dickinson & Schultz 2001).

The circuit
-----------
Every paradigm of :mod:`spikingml.stimuli.paradigms` runs as an independent group of
populations in one network, all groups in parallel (``blocking.A``, ``blocking.X``,
``blocking.value``, ...). A group has, per cue, a population of cue neurons
(``n_cue``; ``salient_cue_size`` for the salient cue of overshadowing), and
``n_value`` value neurons, ``n_inhibitory`` inhibitory interneurons and ``n_dopamine``
dopamine neurons. Every neuron is a phase integrator (``phi`` grows with the drive,
a spike subtracts 1, so the rate equals the drive; as in
:mod:`spikingml.circuits.td_conditioning`)::

    dphi/dt = max(drive, 0)

Cue neurons (cortex, excitatory) fire at ``cue_rate`` while their cue is on::

    drive = cue_rate * stim(t, col)

Value neurons (striatum; their output is GABAergic) receive the cues through plastic
excitatory synapses (``I_exc``; a cue neuron firing at ``cue_rate`` adds ``w`` Hz) and the
inhibitory interneurons through fixed synapses (``I_inh``, their mean rate)::

    drive = value_rate0 + I_exc - I_inh          V = (rate - value_rate0) / value_scale

Inhibitory interneurons receive the cues through plastic excitatory synapses (``u``)::

    drive = I_exc

so a cue's value is :math:`V_c = (\overline{\sum_{j \in c} w_j} - \overline{\sum_{j
\in c} u_j}) / \mathrm{value\_scale}`: negative values are carried by excitatory
synapses onto inhibitory interneurons, and Dale's law holds (cues excite, interneurons
and value neurons inhibit).

Dopamine neurons (VTA) fire tonically at ``dopamine_rate`` (individual rates spread by
``dopamine_spread``) and, during the US window ``[us_onset, us_onset + us_duration)`` of
every trial (``gate(t)``: the time at which the US is due), receive the US (``us(t,
grp)``, 1 on reinforced trials) and the value neurons' inhibition (``I_inh``: their mean
rate)::

    drive = f_i + dopamine_gain * gate(t) * (value_scale * lam * us(t, grp)
                                             + value_rate0 - I_inh)
          = f_i + dopamine_gain * value_scale * gate(t) * delta

with :math:`\delta = \lambda\,us - \sum_c V_c` over the cues presented: the
Rescorla-Wagner error, formed at the US.

Plasticity (:class:`spikingml.plasticity.opponent.OpponentDopamineRule`): the dopamine
concentration ``n`` at each cue neuron (``dn/dt = -n / tau_n``, ``n += 1 / (n_dopamine
* tau_n)`` per spike of its group's dopamine neurons) gates a presynaptic trace
(``tau_trace``)::

    de_int/dt = trace * (n - dopamine_rate)
    w (cue -> value, Go)          += eta * delta e_int     clipped to [0, w_max]
    u (cue -> interneuron, No-Go) -= eta * delta e_int     clipped to [0, w_max]

A positive error strengthens a cue's direct pathway and weakens its inhibitory one; a
negative error does the opposite.

Between the training cue and the next trial each cue is presented alone for
``probe_duration`` (in the order of the group's cues; no US, and the dopamine neurons
are not gated then, so nothing is learned): the value neurons' rate in the probe (after
``readout_settle``) measures each cue's value after every trial.

No ``network_operation``: the schedules are ``TimedArray`` s, plasticity is applied by
``run_regularly``; the code runs under ``runtime`` and ``cpp_standalone``. All
populations live in one ``NeuronGroup`` (subgroups by index), which at this size is much
faster than one group per population. :func:`build_network` creates these objects from
the schedules, wiring and initial phases of :func:`prepare_inputs`; :func:`simulate` runs
them and collects the :class:`~spikingml.result.Result`. The run-time fields (rates,
gains, time constants, the rule's learning rate, baseline and bound, ``lam``,
``readout_settle``; ``Params.runtime_fields()``) are shared constants of the groups and
the neurons' tonic drives rather than constants of the code, so the compiled program
runs with new values of them, and with another seed's initial phases, without being
compiled again (:func:`simulate_many`); the protocol's times, the population sizes and
``update_interval`` are structural.

Twin and the mapping of parameters
----------------------------------
The twin is the Rescorla-Wagner model (:mod:`spikingml.analysis.rescorla_wagner`) on the
same schedules. During the US window the trace of a cue neuron is on average ``cue_rate
* tau_trace`` and ``n - b = dopamine_gain * value_scale * delta``, so one trial changes a
cue of ``N_c`` neurons by

.. math:: \Delta V_c = N_c\,\eta\,\nu_{cue}\,\tau_{trace}\,g\,T_{US}\;\delta,

i.e. :math:`\alpha_c = N_c / N_{max}` (salience: the share of neurons a cue recruits,
relative to the largest cue population) and :math:`\beta = N_{max}\,\eta\,\nu_{cue}\,
\tau_{trace}\,g\,T_{US}` (:func:`twin_rates`). While both pathways of a cue are above
zero its value changes twice as fast (both move); the twin does not model that.

The metrics (values read from the probes, the paradigms' effects) are computed in
:mod:`spikingml.analysis.rescorla_wagner`, the figure drawn in
:mod:`spikingml.figures.rescorla_wagner`.

References
----------
Rescorla, R. A. & Wagner, A. R. (1972). A theory of Pavlovian conditioning: variations
in the effectiveness of reinforcement and nonreinforcement. In A. H. Black & W. F.
Prokasy (eds.), Classical Conditioning II, pp. 64-99. Appleton-Century-Crofts.

Kamin, L. J. (1969). Predictability, surprise, attention, and conditioning. In
B. A. Campbell & R. M. Church (eds.), Punishment and Aversive Behavior, pp. 279-296.

Schultz, W., Dayan, P. & Montague, P. R. (1997). A neural substrate of prediction and
reward. Science 275, 1593-1599.

Waelti, P., Dickinson, A. & Schultz, W. (2001). Dopamine responses comply with basic
assumptions of formal learning theory. Nature 412, 43-48.

Frank, M. J. (2005). Dynamic dopamine modulation in the basal ganglia. J. Cogn.
Neurosci. 17, 51-72.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, NamedTuple

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from spikingml.analysis import rescorla_wagner as rw
from spikingml.analysis.stats import pearson
from spikingml.circuits._rescorla_wagner_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.plasticity.opponent import GO, NOGO, OpponentDopamineRule
from spikingml.result import Phase, Result, SpikeData
from spikingml.simulation import (
    SynapticEventCounter,
    brian_device,
    check_device,
    check_seed,
    progress_reporter,
    set_constants,
    versions,
)
from spikingml.stimuli.paradigms import N_STAGES, PARADIGMS, GroupSchedule, paradigm_schedules

__all__ = [
    "DEFAULT_DEVICE",
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "Params",
    "Twin",
    "Inputs",
    "Network",
    "prepare_inputs",
    "initial_phases",
    "build_network",
    "simulate",
    "simulate_many",
    "twin",
    "compare",
    "figures",
    "raster_options",
    "twin_rates",
    "schedules",
    "probe_values",
]

NAME = "rescorla-wagner"
DESCRIPTION = (
    "cue -> value synapses learn from a shared dopamine error: blocking, overshadowing, "
    "conditioned inhibition, overexpectation"
)
#: Compiled as one C++ program: identical spikes to ``runtime`` (``DEVICES_IDENTICAL``),
#: a first run compiles in seconds where Cython takes a minute, and later values of the
#: run-time fields run the kept program (:func:`simulate_many`).
DEFAULT_DEVICE = "cpp_standalone"

#: Trials at the end of a stage (or of the run) whose probes are averaged into a value.
FINAL_TRIALS = 3

#: Resolution of the stimulus schedules (every protocol time is a multiple of it).
TIMING_GRID = 5 * ms

#: Every metric :func:`compare` returns (only those of the paradigms that were run).
METRICS: dict[str, str] = {
    "acquisition_value": "V_A / lambda at the end of acquisition (mean of the last 3 probes; "
    "higher is better; twin ~1)",
    "twin_acquisition_value": "the twin's acquisition_value (reference)",
    "extinction_drop": "1 - V_A(end of stage 4) / V_A(end of stage 2) in extinction "
    "(higher is better; twin ~1)",
    "twin_extinction_drop": "the twin's extinction_drop (reference)",
    "blocking_ratio": "V_X(blocking) / V_X(control) at the end (lower is better; "
    "target <= 0.3; twin ~0)",
    "twin_blocking_ratio": "the twin's blocking_ratio (reference)",
    "blocking_value_x": "V_X / lambda at the end of the blocking group",
    "control_value_x": "V_X / lambda at the end of the blocking control group (twin ~0.5)",
    "overshadowing_share": "V_A / (V_A + V_B) at the end of overshadowing, A the salient cue",
    "twin_overshadowing_share": "alpha_A / (alpha_A + alpha_B), the twin's share",
    "overshadowing_share_error": "|overshadowing_share - twin_overshadowing_share| "
    "(lower is better; target <= 0.1)",
    "conditioned_inhibitor_value": "V_X / lambda of the conditioned inhibitor at the end "
    "(lower is better; target <= -0.5; twin -> -1)",
    "twin_conditioned_inhibitor_value": "the twin's conditioned_inhibitor_value (reference)",
    "overexpectation_drop": "smallest fall of V_A, V_B / lambda from the end of separate "
    "training (stage 2) to the end of compound training (stage 4) (higher is better; "
    "target > 0; twin ~0.5)",
    "twin_overexpectation_drop": "the twin's overexpectation_drop (reference)",
    "curve_correlation_<group>": "Pearson r of the spiking and twin learning curves (values "
    "of every cue after every trial) of one group (higher is better; target >= 0.9)",
    "curve_correlation_min": "the smallest curve_correlation_<group> (target >= 0.9)",
    "twin_beta": "learning rate beta of the twin derived from the spiking parameters",
}


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the Rescorla-Wagner circuit (default preset: the full protocol)."""

    circuit_name = "RescorlaWagner"

    # protocol
    paradigm: str = param(
        "all",
        "paradigm(s) to run: all, or one of " + ", ".join(PARADIGMS),
        choices=("all", *PARADIGMS),
    )
    n_stage: int = param(15, "trials per training stage (4 stages)", integer=True, low=2)
    trial_duration: Any = param(
        1.0 * second, "duration of a trial", unit=second, low=0 * ms, low_inclusive=False
    )
    cue_onset: Any = param(
        50 * ms, "onset of the training cues in a trial", unit=second, low=0 * ms
    )
    # 0.35 * second, not 350 * ms: that is 0.35000000000000003 s, shown and saved so
    cue_duration: Any = param(
        0.35 * second,
        "duration of the training cues",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    us_onset: Any = param(
        300 * ms, "onset of the US window in a trial (inside the cue)", unit=second, low=0 * ms
    )
    us_duration: Any = param(
        100 * ms,
        "duration of the US window, in which the error is formed",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    probe_onset: Any = param(
        450 * ms, "onset of the probes (each cue alone) in a trial", unit=second, low=0 * ms
    )
    probe_duration: Any = param(
        275 * ms, "duration of each probe", unit=second, low=0 * ms, low_inclusive=False
    )
    readout_settle: Any = param(
        25 * ms,
        "start of a probe left out of the readout",
        unit=second,
        low=0 * ms,
        runtime=True,
    )
    # populations
    n_cue: int = param(20, "neurons per cue", integer=True, low=1)
    salient_cue_size: int = param(
        40, "neurons of the salient cue (overshadowing's A)", integer=True, low=1
    )
    cue_rate: Any = param(
        40 * Hz,
        "rate of a cue neuron while its cue is on",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    n_value: int = param(20, "value neurons per group", integer=True, low=1)
    value_rate0: Any = param(
        30 * Hz, "value neurons' rate at V = 0", unit=Hz, low=0 * Hz, runtime=True
    )
    value_scale: Any = param(
        20 * Hz,
        "value neurons' rate change per unit of V",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    lam: float = param(
        1.0, "lambda: the value the US supports", low=0, low_inclusive=False, runtime=True
    )
    n_inhibitory: int = param(20, "inhibitory interneurons per group", integer=True, low=1)
    n_dopamine: int = param(20, "dopamine neurons per group", integer=True, low=1)
    dopamine_rate: Any = param(
        20 * Hz,
        "mean tonic dopamine rate (also the plasticity baseline)",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    dopamine_spread: float = param(
        0.2,
        "relative spread of the tonic dopamine rates",
        low=0,
        high=1,
        high_inclusive=False,
        runtime=True,
    )
    dopamine_gain: float = param(
        0.5,
        "g: dopamine Hz per value Hz of error",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    tau_syn: Any = param(
        5 * ms,
        "synaptic time constant",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    tau_n: Any = param(
        10 * ms,
        "time constant of the dopamine concentration",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    # plasticity
    eta: float = param(
        0.1, "learning rate of the opponent rule", low=0, low_inclusive=False, runtime=True
    )
    tau_trace: Any = param(
        50 * ms,
        "presynaptic trace time constant",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    w_max: float = param(
        10.0,
        "largest weight (Hz one cue neuron adds)",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    update_interval: Any = param(
        10 * ms, "interval of the weight updates", unit=second, low=0 * ms, low_inclusive=False
    )
    dt: Any = param(
        1 * ms, "simulation time step", unit=second, low=0 * ms, low_inclusive=False, high=5 * ms
    )

    def check(self) -> None:
        """Cross-field checks: the trial's windows must fit, errors must be expressible."""
        for name in (
            "trial_duration",
            "cue_onset",
            "cue_duration",
            "us_onset",
            "us_duration",
            "probe_onset",
            "probe_duration",
        ):
            ratio = float(getattr(self, name) / TIMING_GRID)
            if not is_whole(ratio):
                raise ValidationError(
                    self.qualname(name), f"a multiple of {TIMING_GRID}", getattr(self, name)
                )
        # compared in steps of TIMING_GRID: sums of times carry rounding errors
        step = {
            name: _grid_steps(self, name)
            for name in (
                "cue_onset",
                "cue_duration",
                "us_onset",
                "us_duration",
                "probe_onset",
                "probe_duration",
                "trial_duration",
            )
        }
        cue_end = self.cue_onset + self.cue_duration
        cue_end_step = step["cue_onset"] + step["cue_duration"]
        if (
            step["us_onset"] < step["cue_onset"]
            or step["us_onset"] + step["us_duration"] > cue_end_step
        ):
            raise ValidationError(
                self.qualname("us_onset"),
                f"a US window inside the cue [{self.cue_onset}, {cue_end})",
                self.us_onset,
            )
        if step["probe_onset"] < cue_end_step:
            raise ValidationError(
                self.qualname("probe_onset"),
                f">= the end of the cue ({cue_end})",
                self.probe_onset,
            )
        if step["probe_onset"] + 2 * step["probe_duration"] > step["trial_duration"]:
            raise ValidationError(
                self.qualname("trial_duration"),
                f">= probe_onset + 2 * probe_duration = "
                f"{self.probe_onset + 2 * self.probe_duration}",
                self.trial_duration,
            )
        if self.readout_settle >= self.probe_duration:
            raise ValidationError(
                self.qualname("readout_settle"),
                f"< probe_duration ({self.probe_duration})",
                self.readout_settle,
            )
        if self.value_rate0 < self.lam * self.value_scale:
            raise ValidationError(
                self.qualname("value_rate0"),
                f">= lam * value_scale = {self.lam * self.value_scale} (so that V = -lambda "
                "is a rate >= 0)",
                self.value_rate0,
            )
        lowest = self.dopamine_rate * (1 - self.dopamine_spread)
        if lowest < self.dopamine_gain * self.lam * self.value_scale:
            raise ValidationError(
                self.qualname("dopamine_rate"),
                "a rate whose lowest individual value, dopamine_rate * (1 - dopamine_spread), "
                f"is >= dopamine_gain * lam * value_scale = "
                f"{self.dopamine_gain * self.lam * self.value_scale} (so that an error of "
                "-lambda is a rate >= 0)",
                self.dopamine_rate,
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
        """Ten trials per stage: 40 s simulated in 6-9 s (``spikingml run``: 19 s of CPU)."""
        return cls(n_stage=10)

    @classmethod
    def tiny(cls) -> Params:
        """Two trials per stage of every paradigm: the conformance test's run."""
        return cls.quick().replace(n_stage=2)

    @property
    def n_trials(self) -> int:
        """Number of trials of every group."""
        return N_STAGES * self.n_stage


# --------------------------------------------------------------------------- protocol
def schedules(params: Params) -> list[GroupSchedule]:
    """The trial schedules of every group the run simulates."""
    return paradigm_schedules(params.paradigm, params.n_stage)


def _cue_size(params: Params, salient: bool) -> int:
    return params.salient_cue_size if salient else params.n_cue


def twin_rates(params: Params, group: GroupSchedule) -> tuple[np.ndarray, float]:
    r"""Saliences :math:`\alpha_c` of a group's cues and the learning rate :math:`\beta`.

    See the module docstring: :math:`\alpha_c = N_c / N_{max}` and
    :math:`\beta = N_{max}\,\eta\,\nu_{cue}\,\tau_{trace}\,g\,T_{US}`.
    """
    n_max = max(params.n_cue, params.salient_cue_size)
    alpha = np.array([_cue_size(params, s) / n_max for s in group.salient])
    beta = (
        n_max
        * params.eta
        * float(params.cue_rate * params.tau_trace)
        * params.dopamine_gain
        * float(params.us_duration)
    )
    return alpha, float(beta)


def _grid_steps(params: Params, name: str) -> int:
    return round(float(getattr(params, name) / TIMING_GRID))


def _stimuli(params: Params, groups: list[GroupSchedule]) -> tuple[np.ndarray, ...]:
    """Cue, US and gate arrays on :data:`TIMING_GRID` for the whole run.

    Brian2 writes the shape of a ``TimedArray`` into the generated code, so rows are
    padded with zeros to a power of two and columns to those of every paradigm: runs of
    different lengths and paradigms share one compiled code object. The last column of
    the cue and US arrays is never on.
    """
    per_trial = _grid_steps(params, "trial_duration")
    n_rows = params.n_trials * per_trial
    capacity = 1 << max(int(np.ceil(np.log2(n_rows))), 10)
    stim = np.zeros((capacity, _MAX_CUE_COLUMNS + 1))
    us = np.zeros((capacity, _MAX_GROUPS + 1))
    gate = np.zeros(capacity)
    cue0, cue1 = _grid_steps(params, "cue_onset"), _grid_steps(params, "cue_duration")
    us0, us1 = _grid_steps(params, "us_onset"), _grid_steps(params, "us_duration")
    probe0, probe1 = _grid_steps(params, "probe_onset"), _grid_steps(params, "probe_duration")
    starts = np.arange(params.n_trials) * per_trial
    for k in range(us1):
        gate[starts + us0 + k] = 1.0
    col = 0
    for g_index, group in enumerate(groups):
        for k in range(us1):
            us[starts[group.us] + us0 + k, g_index] = 1.0
        for c in range(len(group.cues)):
            for k in range(cue1):
                stim[starts[group.present[:, c]] + cue0 + k, col] = 1.0
            for k in range(probe1):
                stim[starts + probe0 + c * probe1 + k, col] = 1.0
            col += 1
    return stim, us, gate


_ALL_GROUPS = paradigm_schedules("all", 2)
_MAX_CUE_COLUMNS = sum(len(g.cues) for g in _ALL_GROUPS)
_MAX_GROUPS = len(_ALL_GROUPS)


def _layout(params: Params, groups: list[GroupSchedule]) -> list[tuple[str, int, str, int, int]]:
    """Populations in display order: (name, size, kind, group index, cue column)."""
    out = []
    col = 0
    for g_index, group in enumerate(groups):
        for cue, salient in zip(group.cues, group.salient, strict=True):
            out.append((f"{group.name}.{cue}", _cue_size(params, salient), "cue", g_index, col))
            col += 1
        out.append((f"{group.name}.value", params.n_value, "value", g_index, -1))
        out.append((f"{group.name}.inhibitory", params.n_inhibitory, "inhibitory", g_index, -1))
        out.append((f"{group.name}.dopamine", params.n_dopamine, "dopamine", g_index, -1))
    return out


def _all_pairs(pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.repeat(pre, len(post)), np.tile(post, len(pre))


# --------------------------------------------------------------------------- inputs
class Populations(NamedTuple):
    """Where every population sits in the network's one ``NeuronGroup``.

    Attributes
    ----------
    layout : list of (str, int, str, int, int)
        The populations in display order: (name, size, kind, group index, cue column).
    offsets : ndarray of int
        Index in the network of each population's first neuron (in ``layout``'s order).
    index : dict of (int, str) to list of ndarray
        The neurons of every (group index, kind); one array per cue for ``"cue"``.
    f_i, col, grp, is_da : ndarray
        Per neuron: tonic drive (Hz), column of the cue array, column of the US array,
        1 for dopamine neurons (the equations' constants of the same names).
    """

    layout: list[tuple[str, int, str, int, int]]
    offsets: np.ndarray
    index: dict[tuple[int, str], list[np.ndarray]]
    f_i: np.ndarray
    col: np.ndarray
    grp: np.ndarray
    is_da: np.ndarray

    @property
    def n_total(self) -> int:
        """Number of neurons of the network."""
        return len(self.f_i)


class Connections(NamedTuple):
    """The synapses of the network, as index arrays into its one ``NeuronGroup``.

    Attributes
    ----------
    plastic_pre, plastic_post, sign : ndarray
        Cue -> value (``GO``) and cue -> inhibitory interneuron (``NOGO``) synapses.
    fixed_pre, fixed_post, c : ndarray
        Interneuron -> value and value -> dopamine synapses, ``c = 1 / (source size)``.
    release_pre, release_post : ndarray
        Dopamine neurons -> the cue neurons of their group (dopamine release ``n``).
    """

    plastic_pre: np.ndarray
    plastic_post: np.ndarray
    sign: np.ndarray
    fixed_pre: np.ndarray
    fixed_post: np.ndarray
    c: np.ndarray
    release_pre: np.ndarray
    release_post: np.ndarray


class Inputs(NamedTuple):
    """Everything :func:`build_network` needs, prepared by :func:`prepare_inputs`.

    Attributes
    ----------
    groups : list of GroupSchedule
        The schedules of the paradigms run.
    populations : Populations
        Where every population sits, and the neurons' constants.
    connections : Connections
        Who connects to whom.
    stim, us, gate : ndarray
        Cue, US and gate arrays on :data:`TIMING_GRID` (``TimedArray`` contents).
    phase0 : ndarray
        Initial phase ``phi`` of every neuron, uniform in [0, 1).
    """

    groups: list[GroupSchedule]
    populations: Populations
    connections: Connections
    stim: np.ndarray
    us: np.ndarray
    gate: np.ndarray
    phase0: np.ndarray


def _populations(params: Params, groups: list[GroupSchedule]) -> Populations:
    """Every population's neurons, and the constants of their equations."""
    layout = _layout(params, groups)
    sizes = np.array([size for _, size, _, _, _ in layout])
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    n_total = int(bounds[-1])
    f_i = np.zeros(n_total)
    col = np.full(n_total, _MAX_CUE_COLUMNS)  # an all-zero column of the cue array
    grp = np.full(n_total, _MAX_GROUPS)  # an all-zero column of the US array
    is_da = np.zeros(n_total)
    index: dict[tuple[int, str], list[np.ndarray]] = {}
    for (_, size, kind, g_index, cue_col), lo in zip(layout, bounds[:-1], strict=True):
        idx = np.arange(lo, lo + size)
        index.setdefault((g_index, kind), []).append(idx)
        if kind == "cue":
            col[idx] = cue_col
        elif kind == "value":
            f_i[idx] = float(params.value_rate0)
        elif kind == "dopamine":
            spread = np.linspace(-1, 1, size) * params.dopamine_spread
            f_i[idx] = float(params.dopamine_rate) * (1 + spread)
            is_da[idx] = 1.0
            grp[idx] = g_index
    return Populations(layout, bounds[:-1], index, f_i, col, grp, is_da)


def _connections(populations: Populations, n_groups: int) -> Connections:
    """All-to-all connections within every group (see the module docstring)."""
    index = populations.index
    plastic_pre, plastic_post, signs = [], [], []
    fixed_pre, fixed_post, fixed_c = [], [], []
    release_pre, release_post = [], []
    for g_index in range(n_groups):
        value = index[(g_index, "value")][0]
        inhibitory = index[(g_index, "inhibitory")][0]
        dopamine = index[(g_index, "dopamine")][0]
        cues = np.concatenate(index[(g_index, "cue")])
        for target, sign in ((value, GO), (inhibitory, NOGO)):
            i, j = _all_pairs(cues, target)
            plastic_pre.append(i)
            plastic_post.append(j)
            signs.append(np.full(len(i), sign))
        for source, target in ((inhibitory, value), (value, dopamine)):
            i, j = _all_pairs(source, target)
            fixed_pre.append(i)
            fixed_post.append(j)
            fixed_c.append(np.full(len(i), 1.0 / len(source)))
        i, j = _all_pairs(dopamine, cues)
        release_pre.append(i)
        release_post.append(j)
    cat = np.concatenate
    return Connections(
        cat(plastic_pre),
        cat(plastic_post),
        cat(signs),
        cat(fixed_pre),
        cat(fixed_post),
        cat(fixed_c),
        cat(release_pre),
        cat(release_post),
    )


def initial_phases(n_total: int, seed: int) -> np.ndarray:
    """The initial phase ``phi`` of every neuron, uniform in [0, 1): a seed's only draw."""
    return np.random.default_rng(seed).uniform(0, 1, n_total)


def prepare_inputs(params: Params, seed: int) -> Inputs:
    """The schedules, wiring and initial phases of a run (no Brian2 object is made).

    Parameters
    ----------
    params : Params
        Circuit parameters.
    seed : int
        Seed of the initial phases.

    Returns
    -------
    Inputs
        What :func:`build_network` needs.
    """
    groups = schedules(params)
    populations = _populations(params, groups)
    connections = _connections(populations, len(groups))
    stim, us, gate = _stimuli(params, groups)
    phase0 = initial_phases(populations.n_total, seed)
    return Inputs(groups, populations, connections, stim, us, gate, phase0)


# --------------------------------------------------------------------------- network
def _rule(params: Params) -> OpponentDopamineRule:
    """The plasticity rule of the cue synapses (its baseline: the mean tonic rate)."""
    return OpponentDopamineRule(
        eta=params.eta, tau_trace=params.tau_trace, b=params.dopamine_rate, w_max=params.w_max
    )


def _constants(params: Params) -> dict[str, Any]:
    """The run-time fields by their names in the equations, where they are declared
    ``(shared, constant)`` variables of the groups that use them.

    Shared variables rather than namespace constants, which ``cpp_standalone`` writes
    into the generated code: the program compiled for one value runs with another
    (:func:`spikingml.simulation.constant_args`). The tonic rates (``value_rate0``,
    ``dopamine_rate``, ``dopamine_spread``) also reach the network as the neurons' ``f_i``
    (:func:`prepare_inputs`), a run argument of its own.
    """
    return {
        "cue_rate": params.cue_rate,
        "value_rate0": params.value_rate0,
        "value_scale": params.value_scale,
        "lam": float(params.lam),
        "g_da": float(params.dopamine_gain),
        "tau_syn": params.tau_syn,
        "tau_n": params.tau_n,
        **_rule(params).namespace(),
    }


#: The equations of every neuron (module docstring); the rule's presynaptic trace follows.
_NEURON_EQUATIONS = (
    "drive = f_i + cue_rate * stim(t, col) + I_exc - (1 - is_da) * I_inh"
    " + is_da * g_da * gate(t) * (value_scale * lam * us_on(t, grp) + value_rate0"
    " - I_inh) : hertz\n"
    "dphi/dt = drive * int(drive > 0 * hertz) : 1\n"
    "dI_exc/dt = -I_exc / tau_syn : hertz\n"
    "dI_inh/dt = -I_inh / tau_syn : hertz\n"
    "dn/dt = -n / tau_n : hertz\n"
    "f_i : hertz (constant)\n"
    "col : integer (constant)\n"
    "grp : integer (constant)\n"
    "is_da : 1 (constant)\n"
    # run-time fields (_constants): values the compiled program takes at run time
    "cue_rate : hertz (shared, constant)\n"
    "value_rate0 : hertz (shared, constant)\n"
    "value_scale : hertz (shared, constant)\n"
    "lam : 1 (shared, constant)\n"
    "g_da : 1 (shared, constant)\n"
    "tau_syn : second (shared, constant)\n"
    "tau_n : second (shared, constant)\n"
)


class Network(NamedTuple):
    """The Brian2 objects of the circuit, made by :func:`build_network`.

    Attributes
    ----------
    net : brian2.Network
        The network holding every object below (and the counter's monitors).
    neurons : brian2.NeuronGroup
        Every neuron of every group (``neurons``).
    plastic : brian2.Synapses
        The cue synapses, Go and No-Go (``cue_synapses``).
    spikes : brian2.SpikeMonitor
        Every spike of ``neurons``.
    weights : brian2.StateMonitor
        ``w`` of ``plastic`` at the start of every trial.
    counter : SynapticEventCounter
        Counts the synaptic events of a run.
    """

    net: b2.Network
    neurons: b2.NeuronGroup
    plastic: b2.Synapses
    spikes: b2.SpikeMonitor
    weights: b2.StateMonitor
    counter: SynapticEventCounter


def build_network(params: Params, inputs: Inputs) -> Network:
    """Create every Brian2 object of the circuit (populations, synapses, monitors).

    Call it inside :func:`spikingml.simulation.brian_device` (it sets
    ``defaultclock.dt``); it runs nothing.

    Parameters
    ----------
    params : Params
        Circuit parameters.
    inputs : Inputs
        Schedules, wiring and initial phases (:func:`prepare_inputs`).

    Returns
    -------
    Network
        The network and the handles a run reads.
    """
    rule = _rule(params)
    pops, conns = inputs.populations, inputs.connections
    b2.defaultclock.dt = params.dt
    # the structural constants; the run-time fields are shared constants (_constants)
    ns = {
        "stim": b2.TimedArray(inputs.stim, dt=TIMING_GRID),
        "us_on": b2.TimedArray(inputs.us, dt=TIMING_GRID),
        "gate": b2.TimedArray(inputs.gate, dt=TIMING_GRID),
        "n_dopamine": params.n_dopamine,
    }
    neurons = b2.NeuronGroup(
        pops.n_total,
        _NEURON_EQUATIONS + rule.presynaptic_equations(shared_constants=True),
        threshold="phi > 1",
        reset="phi -= 1\n" + rule.on_spike(),
        method="euler",
        namespace=ns,
        name="neurons",
    )
    neurons.f_i = pops.f_i * Hz
    neurons.col = pops.col
    neurons.grp = pops.grp
    neurons.is_da = pops.is_da
    neurons.phi = inputs.phase0
    plastic = b2.Synapses(
        neurons,
        neurons,
        rule.synapse_model(shared_constants=True),
        on_pre="I_exc_post += w * hertz / (cue_rate_pre * tau_syn_post)",
        namespace=ns,
        name="cue_synapses",
    )
    plastic.connect(i=conns.plastic_pre, j=conns.plastic_post)
    plastic.pathway = conns.sign
    plastic.run_regularly(rule.on_update(), dt=params.update_interval, when="end")
    fixed = b2.Synapses(
        neurons,
        neurons,
        "c : 1 (constant)",
        on_pre="I_inh_post += c / tau_syn_post",
        namespace=ns,
        name="inhibitory_synapses",
    )
    fixed.connect(i=conns.fixed_pre, j=conns.fixed_post)
    fixed.c = conns.c
    release = b2.Synapses(
        neurons,
        neurons,
        on_pre="n_post += 1 / (n_dopamine * tau_n_post)",
        namespace=ns,
        name="dopamine_release",
    )
    release.connect(i=conns.release_pre, j=conns.release_post)
    spike_mon = b2.SpikeMonitor(neurons, name="spikes")
    # weights at the start of every trial (the values after the previous one)
    w_mon = b2.StateMonitor(
        plastic, "w", record=True, dt=params.trial_duration, name="weights_per_trial"
    )
    net = b2.Network(neurons, plastic, fixed, release, spike_mon, w_mon)
    set_constants(net, _constants(params))  # the run-time fields' values
    return Network(net, neurons, plastic, spike_mon, w_mon, SynapticEventCounter(net))


# ------------------------------------------------------------------------- simulation
class _Recorded(NamedTuple):
    """What a run recorded, read from the network before the device is left."""

    spike_index: np.ndarray
    spike_times: np.ndarray  # s
    w_final: np.ndarray
    w_trials: np.ndarray  # (trials, synapses): w at the start of every trial
    synaptic_events: int


def _check_params(params: Params | None) -> Params:
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "a rescorla_wagner.Params", type(params).__name__)
    return params


def _read_out(network: Network) -> _Recorded:
    return _Recorded(
        np.asarray(network.spikes.i[:]),
        np.asarray(network.spikes.t[:] / second),
        np.asarray(network.plastic.w[:]),
        np.asarray(network.weights.w[:]).T,
        network.counter.total(),
    )


def simulate(
    params: Params | None = None,
    seed: int = 0,
    device: str = "runtime",
    progress: bool = True,
) -> Result:
    """Run every chosen paradigm, each group in parallel, in one network.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (the initial phases of all neurons).
    device : {"runtime", "cpp_standalone"}
        Brian2 device.
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone`` run
        reports nothing until it ends).

    Returns
    -------
    Result
        Spikes of every population (``<group>.<cue>``, ``<group>.value``,
        ``<group>.inhibitory``, ``<group>.dopamine``); events ``CS`` (training-cue
        onsets), ``US`` (US-window onsets, every trial), ``probe`` (probe onsets) and
        ``<group>.reward`` (US deliveries); phases ``stage_1`` to ``stage_4``; weights
        ``w``, ``pre``, ``post``, ``sign`` (final weights of the plastic synapses, their
        neurons' indices in the network, +1 Go / -1 No-Go) and ``<group>.weight_value``
        (trials x cues: each cue's value decoded from the weights after every trial);
        ``extra["groups"]``, the schedules, and ``extra["offsets"]``, the index in the
        network of each population's first neuron (for ``pre`` and ``post``).

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure, and the seed's initial phases and the run-time fields are
    run arguments (:func:`simulate_many`): a run that changes only those (``eta``,
    ``dopamine_gain``, ...) compiles nothing.

    See Also
    --------
    simulate_many : several parameter sets and seeds, compiled once per structure.
    """
    params = _check_params(params)
    check_device(device)
    seed = check_seed(seed)
    if device == "cpp_standalone":
        (result,) = simulate_many([(params, seed)], device, progress)
        return result
    inputs = prepare_inputs(params, seed)
    t_wall = time.perf_counter()
    with brian_device(device, seed):
        network = build_network(params, inputs)
        _run_protocol(network, params, progress_reporter(progress, NAME))
        recorded = _read_out(network)
    wall = time.perf_counter() - t_wall
    return _collect(params, seed, device, inputs, recorded, wall)


def _run_protocol(network: Network, params: Params, report: Any = None) -> None:
    """Run every trial (under ``cpp_standalone`` with ``build_on_run=False``: only record
    the run; the caller builds the program and runs it)."""
    duration = params.n_trials * params.trial_duration
    network.net.run(duration, report=report, report_period=2 * second)


# --------------------------------------------------------------------------- collect
def _split_spikes(populations: Populations, recorded: _Recorded) -> dict[str, SpikeData]:
    """The network's spikes, population by population (indices from 0 in each)."""
    all_index, all_times = recorded.spike_index, recorded.spike_times
    spikes = {}
    order = np.argsort(all_index, kind="stable")
    sorted_index = all_index[order]
    for (name, size, _, _, _), lo in zip(populations.layout, populations.offsets, strict=True):
        a, b = np.searchsorted(sorted_index, [lo, lo + size])
        sel = np.sort(order[a:b])
        spikes[name] = SpikeData(all_index[sel] - lo, all_times[sel], size)
    return spikes


def _weights(params: Params, inputs: Inputs, recorded: _Recorded) -> dict[str, np.ndarray]:
    """Final weights of the plastic synapses, and each cue's value decoded from them."""
    conns = inputs.connections
    w_after = np.vstack([recorded.w_trials[1 : params.n_trials], recorded.w_final[None, :]])
    weights: dict[str, np.ndarray] = {
        "w": recorded.w_final,
        "pre": conns.plastic_pre,
        "post": conns.plastic_post,
        "sign": conns.sign,
    }
    n_targets = {GO: params.n_value, NOGO: params.n_inhibitory}
    for g_index, group in enumerate(inputs.groups):
        values = np.zeros((params.n_trials, len(group.cues)))
        for c, cue_idx in enumerate(inputs.populations.index[(g_index, "cue")]):
            from_cue = np.isin(conns.plastic_pre, cue_idx)
            for sign in (GO, NOGO):
                sel = from_cue & (conns.sign == sign)
                values[:, c] += sign * w_after[:, sel].sum(axis=1) / n_targets[sign]
        weights[f"{group.name}.weight_value"] = values / float(params.value_scale / Hz)
    return weights


def _events(params: Params, groups: list[GroupSchedule]) -> dict[str, np.ndarray]:
    """Onsets of the training cues, US windows and probes, and the US deliveries (s)."""
    trial = float(params.trial_duration)
    starts = trial * np.arange(params.n_trials)
    events = {
        "CS": starts + float(params.cue_onset),
        "US": starts + float(params.us_onset),
        "probe": np.sort(
            np.concatenate(
                [starts + float(params.probe_onset + k * params.probe_duration) for k in (0, 1)]
            )
        ),
    }
    for group in groups:
        events[f"{group.name}.reward"] = starts[group.us] + float(params.us_onset)
    return events


def _extra(inputs: Inputs) -> dict[str, Any]:
    """The schedules and each population's offset in the network."""
    layout, offsets = inputs.populations.layout, inputs.populations.offsets
    return {
        "groups": [
            {
                "name": g.name,
                "cues": list(g.cues),
                "salient": list(g.salient),
                "present": g.present.astype(int).tolist(),
                "us": g.us.astype(int).tolist(),
                "stage": g.stage.tolist(),
            }
            for g in inputs.groups
        ],
        "offsets": {name: int(lo) for (name, *_), lo in zip(layout, offsets, strict=True)},
    }


def _collect(
    params: Params, seed: int, device: str, inputs: Inputs, recorded: _Recorded, wall: float
) -> Result:
    """The run as plain data (see :func:`simulate`)."""
    stage_len = params.n_stage * float(params.trial_duration)
    phases = [Phase(f"stage_{k + 1}", k * stage_len, (k + 1) * stage_len) for k in range(N_STAGES)]
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=int(seed),
        device=device,
        populations=_split_spikes(inputs.populations, recorded),
        events=_events(params, inputs.groups),
        phases=phases,
        weights=_weights(params, inputs, recorded),
        extra=_extra(inputs),
        simulated_seconds=float(params.n_trials * params.trial_duration / second),
        wall_seconds=wall,
        synaptic_events=recorded.synaptic_events,
        versions=versions(),
    )


# ----------------------------------------------------------------------------- twin
@dataclasses.dataclass(frozen=True)
class Twin:
    """The Rescorla-Wagner model on every group's schedule.

    Attributes
    ----------
    curves : dict of str to RWResult
        Per group, the model's values before/after every trial.
    alphas : dict of str to ndarray
        Per group, the saliences of its cues.
    beta : float
        Learning rate of the US.
    lam : float
        Asymptote supported by the US.
    """

    curves: dict[str, rw.RWResult]
    alphas: dict[str, np.ndarray]
    beta: float
    lam: float


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """The Rescorla-Wagner equations on the circuit's schedules (:func:`twin_rates`).

    The twin is deterministic; ``seed`` is accepted for the common contract.
    """
    params = Params() if params is None else params
    curves, alphas = {}, {}
    beta = 0.0
    for group in schedules(params):
        alpha, beta = twin_rates(params, group)
        curves[group.name] = rw.rescorla_wagner(
            group.present, group.us, alpha, beta, lam=float(params.lam)
        )
        alphas[group.name] = alpha
    return Twin(curves, alphas, beta, float(params.lam))


# --------------------------------------------------------------------------- compare
def _params_of(result: Result) -> Params:
    return Params.from_dict(result.params)


def _groups_of(result: Result) -> list[dict[str, Any]]:
    return list(result.extra["groups"])


def probe_values(result: Result, params: Params | None = None) -> dict[str, np.ndarray]:
    """Each cue's value after every trial, read from the value neurons in the probes.

    ``V = (rate - value_rate0) / value_scale`` with the value neurons' mean rate from
    ``readout_settle`` after the probe's onset to its end
    (:func:`spikingml.analysis.rescorla_wagner.probe_values`).

    Returns
    -------
    dict of str to ndarray
        Per group, shape (n_trials, n_cues), in units of V (lambda = ``params.lam``).
    """
    params = _params_of(result) if params is None else params
    return {
        group["name"]: rw.probe_values(
            result.populations[f"{group['name']}.value"],
            params.n_trials,
            float(params.trial_duration),
            len(group["cues"]),
            probe_onset=float(params.probe_onset),
            probe_duration=float(params.probe_duration),
            settle=float(params.readout_settle),
            rate0=float(params.value_rate0),
            scale=float(params.value_scale),
        )
        for group in _groups_of(result)
    }


def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twin (paradigms run only)."""
    params = _params_of(result)
    spiking = probe_values(result, params)
    model = {name: curve.after for name, curve in twin_output.curves.items()}
    lam, stage = float(params.lam), params.n_stage
    metrics = rw.paradigm_metrics(spiking, lam, stage, FINAL_TRIALS)
    metrics.update(rw.paradigm_metrics(model, lam, stage, FINAL_TRIALS, prefix="twin_"))
    if "overshadowing" in model:
        alpha = twin_output.alphas["overshadowing"]
        metrics["twin_overshadowing_share"] = float(alpha[0] / alpha.sum())
        metrics["overshadowing_share_error"] = abs(
            metrics["overshadowing_share"] - metrics["twin_overshadowing_share"]
        )
    correlations = {}
    for name, values in spiking.items():
        correlations[name] = pearson(values, model[name])
        metrics[f"curve_correlation_{name}"] = correlations[name]
    metrics["curve_correlation_min"] = float(min(correlations.values()))
    metrics["twin_beta"] = float(twin_output.beta)
    return metrics


# --------------------------------------------------------------------------- figures
def raster_options(result: Result) -> dict[str, Any]:
    """What ``raster.png`` shows: one group (conditioned inhibition if run), last 3 trials."""
    params = _params_of(result)
    names = [g["name"] for g in _groups_of(result)]
    group = "conditioned_inhibition" if "conditioned_inhibition" in names else names[0]
    trial = float(params.trial_duration)
    stop = params.n_trials * trial
    return {
        "populations": [p for p in result.populations if p.split(".")[0] == group],
        "t_start": stop - 3 * trial,
        "t_stop": stop,
        "events": ("CS", "US", f"{group}.reward", "probe"),
        "bin_width": 0.05,  # regular firing of 20 neurons: finer bins only show aliasing
    }


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png``: learning curves of spiking circuit and twin, per paradigm.

    One row per paradigm, the spiking circuit (values read from the value neurons in the
    probes) on the left and the twin on the right, on the same axes; stage boundaries
    marked. Drawn by :func:`spikingml.figures.rescorla_wagner.figures`.
    """
    from spikingml.figures import rescorla_wagner as drawing

    params = _params_of(result)
    spiking = probe_values(result, params)
    return drawing.figures(result, twin_output, params, spiking, Path(outdir))
