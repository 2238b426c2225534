r"""Pattern completion: a spiking attractor network beside a Hopfield network.

The ML idea
-----------
An associative memory (Hopfield 1982) stores patterns in symmetric recurrent weights
and completes a corrupted cue by letting the network settle into the nearest stored
pattern, a fixed point ("attractor") of its dynamics. How many patterns it holds per
neuron, its capacity :math:`\alpha_c = P / N`, depends on the rule and the statistics:
about 0.138 for dense :math:`\pm 1` patterns and the Hebb rule (Amit, Gutfreund &
Sompolinsky 1985), much more for sparse patterns of coding level ``f`` and the
covariance rule (Tsodyks & Feigelman 1988).

The circuit
-----------
``n_exc`` excitatory LIF neurons (group ``excitatory``; voltage ``v`` in units of the
threshold) and ``n_inh`` inhibitory neurons (``inhibitory``):

.. code-block:: text

    dv/dt = (bias + drive(t, i) + I_e - I_i - v) / tau_m + sigma sqrt(2 / tau_m) xi,
            spike when v > 1, then v = 0, refractory for tau_ref, and c += 1
    dI_e/dt = -I_e / tau_e          (slow, NMDA-like recurrent excitation)
    dI_i/dt = -I_i / tau_i
    E -> E (every pair i != j):  I_e_post += J * rec(t) * w,  J = J_E / (f n_exc),
            0 <= w <= w_max
    E -> I (each with prob. p_ei): u_post += k_ei; an inhibitory neuron fires when
            u > 1 and keeps the rest (u -= 1): it counts its inputs, so the pool fires
            k_ei p_ei n_inh spikes per excitatory spike, in proportion to the
            excitatory activity (fast-spiking interneurons driven far above threshold
            respond almost linearly)
    I -> E (every pair):         I_i_post += J_I * rec(t),
            J_I = J (w0 + eta (1 - f) theta) (tau_e / tau_i) / (k_ei p_ei n_inh)

Per excitatory spike the inhibition delivers the charge of ``J (w0 + eta (1 - f)
theta)`` (in units of an excitatory jump decaying with ``tau_e``): it removes the mean
effect of the offset ``w0`` of the excitatory weights and adds a threshold that grows
with the activity (``theta`` in the units of the twin's field; Tsodyks & Feigelman's
threshold). The net recurrent input is then :math:`J \sum_j (w_{ij} - w_0 - \eta (1 - f)
\theta) s_j(t)`: signed effective weights carried by non-negative excitatory synapses
and one inhibitory pool (Dale's law). Slow recurrent excitation keeps the persistent
states stable (Wang 1999).

Learning (phase ``learn`` of each load block, after a quench that silences the state
recalled last): each pattern (``P`` random 0/1 patterns,
exactly ``f n_exc`` active neurons each, overlapping at random) is shown once for one
segment (``segment``) by a strong external drive to its neurons, with the recurrent
synapses gated off (``rec(t) = 0``; cholinergic suppression of recurrent transmission
during encoding, Hasselmo 1993). At the end of the presentation every E -> E synapse
changes once by the bounded covariance rule
(:class:`spikingml.plasticity.covariance.BoundedCovariance`) from the two neurons' spike
counts ``c``:

.. code-block:: text

    w = clip(w + eta (clip(c_pre / c0, 0, 1) - f) (clip(c_post / c0, 0, 1) - f), 0, w_max)

starting from ``w = w0``. Nothing is written into the weights by hand.

Recall (phase ``test``): each trial starts with a quench (``quench`` of strong
inhibitory input to every excitatory neuron, long against ``tau_e``, which silences the
previous state), then a
cue (``cue_duration`` of extra drive ``cue_drive`` to the neurons of a corrupted
pattern), then ``settle`` without input. Corruption keeps the coding level: a fraction
``q`` of the pattern's active neurons is switched off and as many inactive neurons are
switched on (:func:`spikingml.analysis.hopfield.flip_sparse`). The state is read from
the spike counts of the last ``readout`` of the trial.

Loads are tested in one run: the patterns are learned in blocks, and after each block
(load ``alpha = P / n_exc``, ``P`` the patterns learned so far) ``trials_per_load``
cues with noise ``cue_noise`` test recall of randomly chosen learned patterns. After the
block at ``curve_load`` the overlap-vs-noise curve is measured with
``trials_per_noise`` cues at each level of ``noise_levels``.

The run-time fields (``Params.runtime_fields()``: time constants, ``bias``, ``sigma``,
``J_E``, ``k_ei``, ``theta``, the rule's ``eta``, ``w0``, ``w_max``, ``target_count``,
and the twins' fields) are shared constants of the groups and synapses (``w0`` the
weights' initial value), or not in the network at all, rather than constants of the
code, so the compiled program runs with new values of them without being compiled again
(:func:`simulate_many`); sizes, durations, the drives written into the schedule's
``TimedArray`` and whatever the seed draws from (patterns, cues, E -> I connections) are
structural.

Twin and metrics
----------------
Twins (:mod:`spikingml.analysis.hopfield`): (1) the sparse twin, a network of 0/1
threshold units with the same patterns, the same cues and the same rule applied to the
patterns (:func:`~spikingml.analysis.hopfield.bounded_covariance_weights`), with the
offset ``w0`` removed and normalised as the covariance rule of Tsodyks & Feigelman
(``/(eta N f (1 - f))``), and with the circuit's feedback inhibition:
``theta / (f N)`` subtracted from every weight, so the threshold is ``theta`` when the
activity is at the coding level and follows the activity, as the inhibitory pool's does.
Its units have no other threshold (``twin_rest_threshold``, 0 by default) and settle by
asynchronous updates. Its capacity is measured on its own grid of loads (new patterns,
``twin_load_step`` to ``twin_load_max``). (2) The dense twin, the classical Hopfield
network (Hebb rule, :math:`\pm 1` patterns, asynchronous sign updates) of ``dense_n``
units, whose capacity is measured on ``dense_load_min`` to ``dense_load_max`` with
cues of ``cue_noise`` flipped units (``dense_cues`` cues per stored pattern).

The overlap ``m`` of a state with a pattern is the Pearson correlation of the spike
counts (or 0/1 states) with the pattern (the normalised overlap of Tsodyks & Feigelman
for binary states of coding level ``f``; 0 for a silent network); ``alpha_c`` is the
load where the mean final overlap from cues with ``cue_noise`` corruption first falls
below 0.9, interpolated between the loads tested
(:func:`~spikingml.analysis.hopfield.critical_load`). ``recall_time_ms``: the median
over retrieved trials at the first load of the time from cue onset to the first 10 ms
bin where the overlap of the spike counts of the last 20 ms reaches 0.9 (while the cue
is on, its misplaced neurons are driven too, so this is usually after the cue ends).
Background rate: neurons outside the cued pattern during the readout window of retrieved
trials. Final states are classified as retrieved, another pattern, mixture or spurious
(:func:`~spikingml.analysis.hopfield.classify_states`).

References
----------
Hopfield, J. J. (1982). Neural networks and physical systems with emergent collective
computational abilities. PNAS 79, 2554-2558.

Amit, D. J., Gutfreund, H. & Sompolinsky, H. (1985). Storing infinite numbers of
patterns in a spin-glass model of neural networks. Phys. Rev. Lett. 55, 1530-1533.

Tsodyks, M. V. & Feigelman, M. V. (1988). The enhanced storage capacity in neural
networks with low activity level. Europhys. Lett. 6, 101-105.

Wang, X.-J. (1999). Synaptic basis of cortical persistent activity: the importance of
NMDA receptors to working memory. J. Neurosci. 19, 9587-9603.

Hasselmo, M. E. (1993). Acetylcholine and learning in a cortical associative memory.
Neural Computation 5, 32-44.

Amit, D. J. & Brunel, N. (1997). Model of global spontaneous activity and local
structured activity during delay periods in the cerebral cortex. Cerebral Cortex 7,
237-252.

Podlaski, W. F. & Machens, C. K. (2024). Storing overlapping associative memories on
latent manifolds in low-rank spiking networks. arXiv:2411.17485.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, NamedTuple

import brian2 as b2
import numpy as np
from brian2 import ms, second

from spikingml._memo import last_comparison
from spikingml.analysis import hopfield
from spikingml.circuits._attractor_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.plasticity.covariance import BoundedCovariance
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

__all__ = [
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "DEFAULT_DEVICE",
    "DEVICES_IDENTICAL",
    "Params",
    "Task",
    "Twin",
    "Network",
    "stimulus",
    "build_network",
    "simulate",
    "simulate_many",
    "twin",
    "compare",
    "trial_overlaps",
    "trial_counts",
    "recall_times",
    "figure_curves",
    "figures",
    "raster_options",
]

NAME = "attractor"
DESCRIPTION = (
    "LIF neurons learn overlapping sparse patterns with a bounded covariance rule and "
    "complete corrupted cues, beside Hopfield networks (Hopfield 1982; Tsodyks & "
    "Feigelman 1988)"
)
DEFAULT_DEVICE = "cpp_standalone"
#: the membrane noise ``xi`` is drawn by Brian2, differently on each device
DEVICES_IDENTICAL = False

#: Every metric :func:`compare` returns.
METRICS: dict[str, str] = {
    "recall_overlap": "mean overlap m of the circuit's final state with the cued pattern "
    "at the first load tested, cues with cue_noise corrupted (higher is better; target "
    ">= 0.9 at a load >= 0.02)",
    "recall_load": "that first load P / n_exc (target >= 0.02)",
    "twin_recall_overlap": "the same for the sparse twin, same patterns and cues",
    "alpha_c_circuit": "largest load with mean overlap >= 0.9 (cue_noise corrupted), "
    "interpolated; the last load tested if none fails (higher is better)",
    "alpha_c_twin_sparse": "the same for the sparse twin (same statistics and rule)",
    "alpha_c_ratio": "alpha_c_circuit / alpha_c_twin_sparse (stretch target >= 0.5)",
    "alpha_c_twin_dense": "alpha_c of the dense Hopfield twin (Hebb rule, +-1 patterns, "
    "dense_n units; target within 0.01 of 0.138)",
    "noise_curve_correlation": "Pearson r of the circuit's and the sparse twin's mean "
    "overlap vs cue noise at curve_load (target >= 0.9)",
    "recall_time_ms": "median time from cue onset until the overlap reaches 0.9 (ms; "
    "retrieved trials at the first load; lower is faster)",
    "background_rate_hz": "rate of the excitatory neurons outside the cued pattern while "
    "it is held (readout window, retrieved trials at the first load; target <= 5 Hz)",
    "pattern_rate_hz": "rate of the pattern's neurons in the same windows (Hz)",
    "spurious_fraction": "fraction of the circuit's load-test trials ending in a state "
    "related to no pattern (lower is better)",
    "mixture_fraction": "fraction ending in a mixture of patterns (lower is better)",
    "other_pattern_fraction": "fraction ending in another stored pattern",
    "twin_spurious_fraction": "spurious_fraction of the sparse twin on the same cues",
    "twin_mixture_fraction": "mixture_fraction of the sparse twin on the same cues",
    "weight_correlation": "Pearson r of the learned weights with the rule applied to the "
    "ideal patterns (how faithfully spiking presentations learn; higher is better)",
}


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the attractor circuit (default: 1000 + 250 neurons, loads to 0.2)."""

    circuit_name = "Attractor"

    n_exc: int = param(1000, "excitatory neurons (units of a pattern)", integer=True, low=20)
    n_inh: int = param(250, "inhibitory neurons", integer=True, low=1)
    coding_level: float = param(
        0.1, "fraction f of the neurons active in a pattern", low=0, high=0.5, low_inclusive=False
    )
    block_size: int = param(20, "patterns learned per block", integer=True, low=1)
    n_blocks: int = param(10, "blocks (recall tested after each)", integer=True, low=1)
    trials_per_load: int = param(12, "recall trials after each block", integer=True, low=1)
    cue_noise: float = param(0.2, "fraction of a cue's active neurons moved", low=0, high=1)
    curve_load: int = param(
        1, "block after which the noise curve is measured (1 = first)", integer=True, low=1
    )
    n_noise_levels: int = param(
        10, "cue noise levels of the noise curve (0 to noise_max)", integer=True, low=3
    )
    noise_max: float = param(0.9, "largest cue noise of the noise curve", low=0, high=1)
    trials_per_noise: int = param(12, "trials per noise level", integer=True, low=1)
    segment: Any = param(50 * ms, "presentation length (one pattern)", unit=second, low=1 * ms)
    quench: Any = param(150 * ms, "strong inhibition at a trial's start", unit=second, low=0 * ms)
    cue_duration: Any = param(100 * ms, "cue length", unit=second, low=1 * ms)
    settle: Any = param(300 * ms, "time to settle after the cue", unit=second, low=1 * ms)
    readout: Any = param(200 * ms, "last part of a trial read out", unit=second, low=1 * ms)
    tau_m: Any = param(20 * ms, "membrane time constant", unit=second, low=1 * ms, runtime=True)
    tau_e: Any = param(
        50 * ms,
        "decay of the recurrent excitatory current (NMDA-like)",
        unit=second,
        low=0.5 * ms,
        runtime=True,
    )
    tau_i: Any = param(
        50 * ms, "decay of the inhibitory current", unit=second, low=0.5 * ms, runtime=True
    )
    tau_ref: Any = param(2 * ms, "refractory period", unit=second, low=0 * ms)
    bias: float = param(0.6, "constant input (threshold 1)", runtime=True)
    sigma: float = param(0.15, "membrane noise (std of v without threshold)", low=0, runtime=True)
    learn_drive: float = param(2.5, "drive of a pattern's neurons while it is learned", low=0)
    cue_drive: float = param(1.0, "drive of a cue's neurons", low=0)
    quench_drive: float = param(-5.0, "input to every neuron during the quench", high=0)
    J_E: float = param(
        12.0,
        "excitatory jump of I_e per unit w, times the active neurons of a pattern (the "
        "jump is J_E / (f n_exc) * w, so the field of a pattern does not change with n_exc)",
        low=0,
        runtime=True,
    )
    eta: float = param(0.1, "learning rate of the covariance rule", low=0, runtime=True)
    w0: float = param(
        0.1, "initial weight (offset removed by the inhibition)", low=0, runtime=True
    )
    w_max: float = param(
        1.0, "upper bound of the weights", low=0, low_inclusive=False, runtime=True
    )
    target_count: float = param(
        3.0,
        "spike count of a fully active neuron in a presentation",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    p_ei: float = param(0.2, "E -> I connection probability", low=0, high=1, low_inclusive=False)
    k_ei: float = param(
        0.1, "jump of an inhibitory neuron's count per E spike", low=0, runtime=True
    )
    theta: float = param(
        0.4,
        "feedback inhibition per unit of activity, in the twin's field units (the "
        "covariance network's threshold at the coding level)",
        low=0,
        runtime=True,
    )
    twin_rest_threshold: float = param(
        0.0,
        "constant threshold of the sparse twin's units besides the inhibition",
        low=0,
        runtime=True,
    )
    twin_load_step: float = param(
        0.02,
        "step (and first load) of the sparse twin's load grid",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    twin_load_max: float = param(0.4, "last load of the sparse twin's grid", low=0, runtime=True)
    dense_n: int = param(
        1000, "units of the dense Hopfield twin", integer=True, low=10, runtime=True
    )
    dense_load_min: float = param(0.11, "first load of the dense twin's grid", low=0, runtime=True)
    dense_load_max: float = param(0.16, "last load of the dense twin's grid", low=0, runtime=True)
    dense_load_step: float = param(
        0.005,
        "step of the dense twin's grid",
        low=0,
        low_inclusive=False,
        runtime=True,
    )
    dense_cues: int = param(
        2, "cues per pattern in the dense twin", integer=True, low=1, runtime=True
    )
    dt: Any = param(0.1 * ms, "simulation time step", unit=second, low=0.01 * ms, high=1 * ms)

    def check(self) -> None:
        """Cross-field checks: block sizes, trial timing on the segment grid, sizes."""
        if self.curve_load > self.n_blocks:
            raise ValidationError(
                self.qualname("curve_load"), f"a block number <= {self.n_blocks}", self.curve_load
            )
        for name in ("quench", "cue_duration", "settle"):
            steps = float(getattr(self, name) / self.segment)
            if not is_whole(steps):
                raise ValidationError(
                    self.qualname(name),
                    f"a multiple of segment ({self.segment})",
                    getattr(self, name),
                )
        if self.readout > self.settle:
            raise ValidationError(
                self.qualname("readout"), f"<= settle ({self.settle})", self.readout
            )
        if not is_whole(float(self.segment / self.dt)):
            raise ValidationError(self.qualname("dt"), "a divisor of segment", self.dt)
        if round(self.coding_level * self.n_exc) < 2:
            raise ValidationError(
                self.qualname("coding_level"),
                "at least 2 active neurons per pattern",
                self.coding_level,
            )
        if self.twin_load_max < self.twin_load_step:
            raise ValidationError(
                self.qualname("twin_load_max"),
                f">= twin_load_step ({self.twin_load_step})",
                self.twin_load_max,
            )
        if self.dense_load_max < self.dense_load_min:
            raise ValidationError(
                self.qualname("dense_load_max"),
                f">= dense_load_min ({self.dense_load_min})",
                self.dense_load_max,
            )
        if self.w0 > self.w_max:
            raise ValidationError(self.qualname("w0"), f"<= w_max ({self.w_max})", self.w0)

    @classmethod
    def quick(cls) -> Params:
        """400 + 100 neurons, loads 0.05-0.3: a minute of simulated time."""
        return cls(
            n_exc=400,
            n_inh=100,
            n_blocks=6,
            trials_per_load=8,
            trials_per_noise=4,
            twin_load_step=0.05,
            twin_load_max=0.5,
            dense_n=300,
            dense_load_min=0.08,
            dense_load_max=0.2,
            dense_load_step=0.03,
            dense_cues=1,
        )

    @classmethod
    def tiny(cls) -> Params:
        """100 + 25 neurons, two blocks, three noise levels: the conformance test's run.

        Without membrane noise (``sigma = 0``), so that both Brian2 devices give the same
        spikes: the run checks the plumbing, not the science.
        """
        return cls(
            sigma=0.0,
            n_exc=100,
            n_inh=25,
            coding_level=0.2,
            block_size=3,
            n_blocks=2,
            trials_per_load=2,
            n_noise_levels=3,
            noise_max=0.8,
            trials_per_noise=1,
            settle=100 * ms,
            readout=50 * ms,
            dt=0.5 * ms,
            twin_load_step=0.03,
            twin_load_max=0.09,
            dense_n=60,
            dense_load_min=0.05,
            dense_load_max=0.15,
            dense_load_step=0.05,
            dense_cues=1,
        )

    def rule(self) -> BoundedCovariance:
        """The plasticity rule of the E -> E synapses."""
        return BoundedCovariance(
            learning_rate=self.eta,
            coding_level=self.coding_level,
            target_count=self.target_count,
            w_max=self.w_max,
        )

    @property
    def n_active(self) -> int:
        """Active neurons per pattern."""
        return round(self.coding_level * self.n_exc)

    @property
    def noise_levels(self) -> np.ndarray:
        """Cue noise levels of the noise curve."""
        return np.round(np.linspace(0.0, self.noise_max, self.n_noise_levels), 6)

    @property
    def twin_loads(self) -> np.ndarray:
        """Loads of the sparse twin's capacity curve."""
        k = int(np.floor(self.twin_load_max / self.twin_load_step + 1e-9))
        return np.round(self.twin_load_step * np.arange(1, k + 1), 6)

    @property
    def dense_loads(self) -> np.ndarray:
        """Loads of the dense twin's capacity curve."""
        k = int(
            np.floor((self.dense_load_max - self.dense_load_min) / self.dense_load_step + 1e-9)
        )
        return np.round(self.dense_load_min + self.dense_load_step * np.arange(k + 1), 6)

    @property
    def J_jump(self) -> float:
        """Jump of ``I_e`` per unit weight and presynaptic spike."""
        return self.J_E / self.n_active

    @property
    def J_I(self) -> float:
        """Inhibitory jump: cancels the offset ``w0`` and adds the threshold ``theta``.

        Per excitatory spike the pool fires ``k_ei p_ei n_inh`` spikes, whose summed
        charge (jump times ``tau_i``) equals that of ``J_E (w0 + eta (1 - f) theta)``
        decaying with ``tau_e``.
        """
        per_spike = self.J_jump * (self.w0 + self.eta * (1 - self.coding_level) * self.theta)
        ratio = float(self.tau_e / self.tau_i)
        return per_spike * ratio / (self.k_ei * self.p_ei * self.n_inh)


# ----------------------------------------------------------------------------- stimulus
@dataclasses.dataclass(frozen=True)
class Task:
    """Patterns, cues and the schedule of a run (:func:`stimulus`).

    Attributes
    ----------
    patterns : ndarray, shape (P, n_exc)
        0/1 patterns in the order they are learned.
    drive : ndarray, shape (n_segments, n_exc)
        External input of every neuron in every segment.
    rec : ndarray, shape (n_segments,)
        Gate of the recurrent synapses (0 while learning).
    learn : ndarray, shape (n_segments,)
        1 at the segment boundary that ends a presentation (the rule's rate).
    cues : ndarray, shape (n_trials, n_exc)
        The corrupted cues.
    trials : dict of str to ndarray
        Per trial: ``start`` (s), ``cue_on``, ``end``, ``pattern``, ``noise``, ``learned``
        (patterns learned so far), ``kind`` (0 load test, 1 noise curve).
    learn_phases : list of (start, stop)
        The learning intervals (s).
    """

    patterns: np.ndarray
    drive: np.ndarray
    rec: np.ndarray
    learn: np.ndarray
    cues: np.ndarray
    trials: dict[str, np.ndarray]
    learn_phases: list[tuple[float, float]]


def stimulus(params: Params, seed: int) -> Task:
    """Draw the patterns and cues of ``seed`` and lay out the schedule on the segment grid.

    The circuit and the twin call this with the same seed and get the same patterns and
    cues.
    """
    seed = check_seed(seed)
    rng = np.random.default_rng([seed, 0xA77])
    p = params
    n, seg = p.n_exc, float(p.segment)
    patterns = hopfield.sparse_patterns(n, p.block_size * p.n_blocks, p.coding_level, rng)
    n_q, n_c, n_s = (round(float(x / p.segment)) for x in (p.quench, p.cue_duration, p.settle))
    drive, rec, presenting, cues, learn_phases = [], [], [], [], []
    rows: dict[str, list[float]] = {
        k: [] for k in ("pattern", "noise", "learned", "kind", "start")
    }
    learned = 0

    def add_trial(mu: int, q: float, kind: int) -> None:
        cue = hopfield.flip_sparse(patterns[mu], q, rng)[0]
        rows["start"].append(len(drive) * seg)
        drive.extend([np.full(n, p.quench_drive)] * n_q + [cue * p.cue_drive] * n_c)
        drive.extend([np.zeros(n)] * n_s)
        rec.extend([1.0] * (n_q + n_c + n_s))
        presenting.extend([False] * (n_q + n_c + n_s))
        cues.append(cue)
        for key, value in (("pattern", mu), ("noise", q), ("learned", learned), ("kind", kind)):
            rows[key].append(value)

    for block in range(1, p.n_blocks + 1):
        size = p.block_size
        start = len(drive) * seg
        # a quench first: the state recalled last must not enter the first presentation
        drive.extend([np.full(n, p.quench_drive)] * n_q)
        rec.extend([0.0] * n_q)
        presenting.extend([False] * n_q)
        for mu in range(learned, learned + size):
            drive.append(patterns[mu] * p.learn_drive)
            rec.append(0.0)
            presenting.append(True)
        learn_phases.append((start, len(drive) * seg))
        learned += size
        for mu in rng.integers(0, learned, p.trials_per_load):
            add_trial(int(mu), p.cue_noise, 0)
        if block == p.curve_load:
            for q in p.noise_levels:
                for mu in rng.integers(0, learned, p.trials_per_noise):
                    add_trial(int(mu), float(q), 1)
    drive.append(np.zeros(n))  # one spare segment: the last boundary is inside the run
    rec.append(1.0)
    presenting.append(False)
    rec_arr = np.asarray(rec)
    # the rule runs at every segment boundary; it learns at the end of a presentation
    learn_arr = np.zeros(len(rec))
    learn_arr[1:] = np.asarray(presenting[:-1], dtype=float)
    trials = {k: np.asarray(v) for k, v in rows.items()}
    trials["cue_on"] = trials["start"] + n_q * seg
    trials["end"] = trials["cue_on"] + (n_c + n_s) * seg
    trials["pattern"] = trials["pattern"].astype(int)
    trials["learned"] = trials["learned"].astype(int)
    trials["kind"] = trials["kind"].astype(int)
    return Task(
        patterns=patterns,
        drive=np.asarray(drive),
        rec=rec_arr,
        learn=learn_arr,
        cues=np.asarray(cues),
        trials=trials,
        learn_phases=learn_phases,
    )


# --------------------------------------------------------------------------- simulation
def _check_params(params: Params | None) -> Params:
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "an attractor.Params", type(params).__name__)
    return params


_EXC_EQUATIONS = """
dv/dt = (mu - v) / tau_m + sigma * sqrt(2 / tau_m) * xi : 1 (unless refractory)
mu = bias + drive(t, i) + I_e - I_i : 1
dI_e/dt = -I_e / tau_e : 1
dI_i/dt = -I_i / tau_i : 1
c : 1
tau_m : second (shared, constant)
tau_e : second (shared, constant)
tau_i : second (shared, constant)
bias : 1 (shared, constant)
sigma : 1 (shared, constant)
"""


def _namespace(params: Params, task: Task) -> dict[str, Any]:
    """The structural constants of the equations: the schedule's ``TimedArray`` tables."""
    return {
        "drive": b2.TimedArray(task.drive, dt=params.segment),
        "rec": b2.TimedArray(task.rec, dt=params.segment),
        "learn": b2.TimedArray(task.learn, dt=params.segment),
    }


def _constants(params: Params) -> dict[str, Any]:
    """The run-time fields by their names in the equations: ``(shared, constant)``
    variables of the groups and synapses that use them rather than constants of the code,
    so the program compiled for one value runs with another
    (:func:`spikingml.simulation.constant_args`).

    ``J_E`` and ``J_I`` are the jumps derived from them (:attr:`Params.J_jump`,
    :attr:`Params.J_I`); the rule's ``cov_`` constants are held the same way (its coding
    level, structural, included).
    """
    p = params
    return {
        **{name: getattr(p, name) for name in ("tau_m", "tau_e", "tau_i", "bias", "sigma")},
        "J_E": p.J_jump,
        "J_I": p.J_I,
        "k_ei": p.k_ei,
        **p.rule().namespace(),
    }


class Network(NamedTuple):
    """The Brian2 objects of the circuit (:func:`build_network`), before its run."""

    net: b2.Network
    exc: b2.NeuronGroup
    inh: b2.NeuronGroup
    ee: b2.Synapses
    exc_spikes: b2.SpikeMonitor
    inh_spikes: b2.SpikeMonitor
    counter: SynapticEventCounter


def build_network(params: Params, task: Task, ei_pre: np.ndarray, ei_post: np.ndarray) -> Network:
    """Create every Brian2 object of the circuit (in :func:`~spikingml.simulation.brian_device`).

    Parameters
    ----------
    params : Params
        Circuit parameters.
    task : Task
        Patterns and schedule (:func:`stimulus`).
    ei_pre, ei_post : ndarray of int
        The E -> I connections (drawn from the seed by :func:`_ei_connections`).

    Returns
    -------
    Network
        The ``brian2.Network`` and the objects a run's results are read from.
    """
    p = params
    b2.defaultclock.dt = p.dt
    rule = p.rule()
    ns = _namespace(p, task)
    exc = b2.NeuronGroup(
        p.n_exc,
        _EXC_EQUATIONS,
        threshold="v > 1",
        reset="v = 0\nc += 1",
        refractory=p.tau_ref,
        method="euler",
        namespace=ns,
        name="excitatory",
    )
    # counts restart at every segment boundary, after the rule has read them
    exc.run_regularly("c = 0", dt=p.segment, when="end", order=1, name="count_reset")
    inh = b2.NeuronGroup(
        p.n_inh, "u : 1", threshold="u > 1", reset="u -= 1", namespace=ns, name="inhibitory"
    )
    ee = b2.Synapses(
        exc,
        exc,
        "w : 1\nJ_E : 1 (shared, constant)\n" + rule.shared_model(),
        on_pre="I_e_post += J_E * rec(t) * w",
        namespace=ns,
        name="ee",
    )
    ee.connect(condition="i != j")
    ee.w = p.w0  # an initial value: a run argument of the compiled program too
    ee.run_regularly(
        rule.update_code("w", rate="learn(t)", count="c"),
        dt=p.segment,
        when="end",
        order=0,
        name="covariance_rule",
    )
    ei = b2.Synapses(
        exc, inh, "k_ei : 1 (shared, constant)", on_pre="u_post += k_ei", namespace=ns, name="ei"
    )
    ei.connect(i=ei_pre, j=ei_post)
    ie = b2.Synapses(
        inh,
        exc,
        "J_I : 1 (shared, constant)",
        on_pre="I_i_post += J_I * rec(t)",
        namespace=ns,
        name="ie",
    )
    ie.connect()
    exc_mon = b2.SpikeMonitor(exc, record=True, name="exc_spikes")
    inh_mon = b2.SpikeMonitor(inh, record=True, name="inh_spikes")
    net = b2.Network(exc, inh, ee, ei, ie, exc_mon, inh_mon)
    set_constants(net, _constants(p))  # the run-time fields' values
    counter = SynapticEventCounter(net)
    return Network(net, exc, inh, ee, exc_mon, inh_mon, counter)


def _ei_connections(params: Params, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """E -> I connections, each with probability ``p_ei``, drawn from the seed."""
    rng = np.random.default_rng([check_seed(seed), 0xE1])
    mask = rng.random((params.n_exc, params.n_inh)) < params.p_ei
    pre, post = np.nonzero(mask)
    return pre, post


def _weight_matrix(network: Network, n: int) -> np.ndarray:
    w = np.zeros((n, n))
    w[np.asarray(network.ee.j[:]), np.asarray(network.ee.i[:])] = np.asarray(network.ee.w[:])
    return w  # w[post, pre]


def simulate(
    params: Params | None = None,
    seed: int = 0,
    device: str = DEFAULT_DEVICE,
    progress: bool = True,
) -> Result:
    """Learn the patterns block by block and test recall after each block.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (patterns, cues, E -> I connections, membrane noise).
    device : {"runtime", "cpp_standalone"}
        Brian2 device (default ``cpp_standalone``: one program learns and tests it all).
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone``
        program reports nothing until it ends).

    Returns
    -------
    Result
        Populations ``excitatory`` and ``inhibitory``; phases ``learn_<k>`` and
        ``test_<k>`` for every block ``k``; weights ``w`` (learned E -> E weights,
        ``w[post, pre]``) and ``patterns``; ``extra["trials"]`` the trial table and
        ``extra["cues"]`` the cues.

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure and the run-time fields are its run arguments
    (:func:`simulate_many`): a run that changes only those (``eta``, ``theta``,
    ``tau_e``, ...) compiles nothing. The seed is not a run argument (it draws the
    patterns, the cues and the E -> I connections in Python, the noise on the device).

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
    task = stimulus(params, seed)
    t_wall = time.perf_counter()
    with brian_device(device, seed):
        network = build_network(params, task, *_ei_connections(params, seed))
        _run_protocol(network, params, task, progress_reporter(progress, NAME))
        return _collect(params, task, network, seed, device, t_wall)


def _duration(params: Params, task: Task) -> float:
    """Simulated time of the whole schedule (s)."""
    return len(task.rec) * float(params.segment)


def _run_protocol(network: Network, params: Params, task: Task, report: Any = None) -> None:
    """Run the whole schedule (under ``cpp_standalone`` with ``build_on_run=False``: only
    record the run; the caller builds the program and runs it)."""
    network.net.run(_duration(params, task) * second, report=report, report_period=10 * second)


def _collect(
    params: Params, task: Task, network: Network, seed: int, device: str, t_wall: float
) -> Result:
    """Read a finished run into a :class:`Result` (wall time from ``t_wall``)."""
    exc = network.exc_spikes
    spikes_e = SpikeData(np.asarray(exc.i[:]), np.asarray(exc.t[:] / second), params.n_exc)
    inh = network.inh_spikes
    spikes_i = SpikeData(np.asarray(inh.i[:]), np.asarray(inh.t[:] / second), params.n_inh)
    w = _weight_matrix(network, params.n_exc)
    events = network.counter.total()
    duration = _duration(params, task)
    phases = []
    bounds = [s for s, _ in task.learn_phases[1:]] + [duration]
    for k, ((start, stop), end) in enumerate(zip(task.learn_phases, bounds, strict=True), 1):
        phases += [Phase(f"learn_{k}", start, stop), Phase(f"test_{k}", stop, end)]
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=seed,
        device=device,
        populations={"excitatory": spikes_e, "inhibitory": spikes_i},
        events={"cue_on": task.trials["cue_on"]},
        phases=phases,
        weights={"w": w, "patterns": task.patterns},
        extra={"trials": {k: v.tolist() for k, v in task.trials.items()}, "cues": task.cues},
        simulated_seconds=duration,
        wall_seconds=time.perf_counter() - t_wall,
        synaptic_events=events,
        versions=versions(),
    )


# ----------------------------------------------------------------------------- twin
@dataclasses.dataclass(frozen=True)
class Twin:
    """The Hopfield twins of a run (:func:`twin`).

    Attributes
    ----------
    final_states : ndarray, shape (n_trials, n_exc)
        The sparse twin's final state from every cue of the run.
    overlaps : ndarray, shape (n_trials, P)
        Their overlaps with every pattern.
    sparse_loads, sparse_overlap : ndarray
        The sparse twin's mean overlap (cue_noise) on its own grid of loads.
    dense_loads, dense_overlap : ndarray
        The dense twin's mean overlap at each load.
    weights : ndarray, shape (n_exc, n_exc)
        The rule applied to the ideal patterns (all of them, in order).
    """

    final_states: np.ndarray
    overlaps: np.ndarray
    sparse_loads: np.ndarray
    sparse_overlap: np.ndarray
    dense_loads: np.ndarray
    dense_overlap: np.ndarray
    weights: np.ndarray


def _twin_matrix(params: Params, patterns: np.ndarray, inhibition: bool = True) -> np.ndarray:
    """Weights of the sparse twin: the bounded rule, offset removed, covariance-normalised.

    With ``inhibition``, the circuit's feedback inhibition is included: ``theta / (f N)``
    subtracted from every weight (a threshold ``theta`` at the coding level that grows
    with the activity).
    """
    p = params
    w = hopfield.bounded_covariance_weights(patterns, p.coding_level, p.eta, p.w0, p.w_max)
    w = (w - p.w0) / (p.eta * p.n_exc * p.coding_level * (1 - p.coding_level))
    if inhibition:
        w -= p.theta / p.n_active
    np.fill_diagonal(w, 0.0)
    return w


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """Hopfield twins: the sparse twin on the run's cues and loads, and the dense twin."""
    params = _check_params(params)
    p = params
    task = stimulus(p, seed)
    rng = np.random.default_rng([check_seed(seed), 0x7A1])
    trials = task.trials
    finals = np.zeros_like(task.cues)
    for learned in np.unique(trials["learned"]):
        w = _twin_matrix(p, task.patterns[:learned])
        rows = np.flatnonzero(trials["learned"] == learned)
        finals[rows] = hopfield.settle(w, task.cues[rows], rng, theta=p.twin_rest_threshold)
    overlaps = hopfield.overlap_sparse(task.patterns, finals)
    # capacity of the same statistics and rule on a longer grid of loads
    sparse_means = []
    for alpha in p.twin_loads:
        n_pat = max(round(alpha * p.n_exc), 1)
        xi = hopfield.sparse_patterns(p.n_exc, n_pat, p.coding_level, rng)
        cued = rng.integers(0, n_pat, max(p.trials_per_load, 20))
        final = hopfield.settle(
            _twin_matrix(p, xi),
            hopfield.flip_sparse(xi[cued], p.cue_noise, rng),
            rng,
            p.twin_rest_threshold,
        )
        sparse_means.append(np.diag(hopfield.overlap_sparse(xi[cued], final)).mean())
    dense, _ = hopfield.dense_capacity_curve(
        p.dense_n, np.asarray(p.dense_loads), p.cue_noise, rng, cues_per_pattern=p.dense_cues
    )
    return Twin(
        final_states=finals,
        overlaps=overlaps,
        sparse_loads=np.asarray(p.twin_loads, dtype=float),
        sparse_overlap=np.asarray(sparse_means),
        dense_loads=np.asarray(p.dense_loads, dtype=float),
        dense_overlap=dense,
        weights=_twin_matrix(p, task.patterns, inhibition=False),
    )


# --------------------------------------------------------------------------- compare
def trial_counts(result: Result) -> np.ndarray:
    """Spike counts of every excitatory neuron in every trial's readout window."""
    p = result.params
    readout = _seconds(p["readout"])
    trials = result.extra["trials"]
    spikes = result.populations["excitatory"]
    counts = np.zeros((len(trials["end"]), spikes.size))
    for k, end in enumerate(trials["end"]):
        sel = (spikes.times >= end - readout) & (spikes.times < end)
        counts[k] = np.bincount(spikes.indices[sel], minlength=spikes.size)
    return counts


def _seconds(value: Any) -> float:
    """A duration from ``result.params`` (a quantity string such as ``'200. ms'``) in s."""
    if isinstance(value, str):
        number, _, unit = value.partition(" ")
        return float(number) * {"s": 1.0, "ms": 1e-3, "us": 1e-6}[unit.strip()]
    return float(value)


def trial_overlaps(result: Result) -> np.ndarray:
    """Overlap of every trial's final state (readout counts) with every pattern."""
    return hopfield.overlap_sparse(result.weights["patterns"], trial_counts(result))


def recall_times(result: Result, bin_width: float = 0.01, window: float = 0.02) -> np.ndarray:
    """Time (s) from cue onset until the overlap over the last ``window`` reaches 0.9.

    ``nan`` for a trial where it never does.
    """
    trials = result.extra["trials"]
    patterns = result.weights["patterns"]
    spikes = result.populations["excitatory"]
    # the spikes in time order: a window's spikes are one slice (found by bisection, not
    # by a pass over every spike of the run for every 10 ms of every trial)
    order = np.argsort(spikes.times, kind="stable")
    times, indices = spikes.times[order], spikes.indices[order]
    out = np.full(len(trials["end"]), np.nan)
    for k, (on, end, mu) in enumerate(
        zip(trials["cue_on"], trials["end"], trials["pattern"], strict=True)
    ):
        edges = np.arange(on, end + 1e-9, bin_width)
        for t in edges[edges >= on + window - 1e-9]:
            lo, hi = np.searchsorted(times, [t - window, t], side="left")
            counts = np.bincount(indices[lo:hi], minlength=spikes.size)
            if hopfield.overlap_sparse(patterns[mu], counts)[0, 0] >= 0.9:
                out[k] = t - on
                break
    return out


def _curve(values: np.ndarray, keys: np.ndarray, grid: np.ndarray) -> np.ndarray:
    return np.array([values[keys == g].mean() for g in grid])


@last_comparison  # figures() compares again: the same value, not computed twice
def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twins."""
    trials = {k: np.asarray(v) for k, v in result.extra["trials"].items()}
    n = result.populations["excitatory"].size
    m_all = trial_overlaps(result)
    rows = np.arange(len(m_all))
    m = m_all[rows, trials["pattern"]]
    m_twin = twin_output.overlaps[rows, trials["pattern"]]
    load = trials["kind"] == 0
    learned = np.unique(trials["learned"][load])
    circuit_curve = _curve(m[load], trials["learned"][load], learned)
    first = load & (trials["learned"] == learned[0])
    alpha_c_circuit = hopfield.critical_load(learned / n, circuit_curve)
    alpha_c_sparse = hopfield.critical_load(twin_output.sparse_loads, twin_output.sparse_overlap)
    noise = trials["kind"] == 1
    levels = np.unique(trials["noise"][noise])
    c_curve = _curve(m[noise], trials["noise"][noise], levels)
    t_curve = _curve(m_twin[noise], trials["noise"][noise], levels)
    r = np.corrcoef(c_curve, t_curve)[0, 1] if np.std(c_curve) and np.std(t_curve) else np.nan
    # rates while a memory is held: retrieved trials at the first load
    held = first & (m >= 0.9)
    readout = _seconds(result.params["readout"])
    patterns = result.weights["patterns"]
    counts = trial_counts(result)
    inside = [counts[k][patterns[trials["pattern"][k]] > 0.5].mean() for k in np.flatnonzero(held)]
    outside = [
        counts[k][patterns[trials["pattern"][k]] < 0.5].mean() for k in np.flatnonzero(held)
    ]
    times = recall_times(result)[held]
    classes = hopfield.classify_states(m_all[load], trials["pattern"][load])
    twin_classes = hopfield.classify_states(twin_output.overlaps[load], trials["pattern"][load])
    n_load = max(int(load.sum()), 1)
    w = result.weights["w"]
    off = ~np.eye(n, dtype=bool)
    metrics = {
        "recall_overlap": float(m[first].mean()),
        "recall_load": float(learned[0] / n),
        "twin_recall_overlap": float(m_twin[first].mean()),
        "alpha_c_circuit": alpha_c_circuit,
        "alpha_c_twin_sparse": alpha_c_sparse,
        "alpha_c_ratio": alpha_c_circuit / alpha_c_sparse if alpha_c_sparse else np.nan,
        "alpha_c_twin_dense": hopfield.critical_load(
            twin_output.dense_loads, twin_output.dense_overlap
        ),
        "noise_curve_correlation": float(r),
        "recall_time_ms": float(np.nanmedian(times) * 1e3) if np.isfinite(times).any() else np.nan,
        "background_rate_hz": float(np.mean(outside) / readout) if outside else np.nan,
        "pattern_rate_hz": float(np.mean(inside) / readout) if inside else np.nan,
        "spurious_fraction": classes["spurious"] / n_load,
        "mixture_fraction": classes["mixture"] / n_load,
        "other_pattern_fraction": classes["other_pattern"] / n_load,
        "twin_spurious_fraction": twin_classes["spurious"] / n_load,
        "twin_mixture_fraction": twin_classes["mixture"] / n_load,
        "weight_correlation": float(np.corrcoef(w[off], twin_output.weights[off])[0, 1]),
    }
    return {key: float(metrics[key]) for key in METRICS}


# --------------------------------------------------------------------------- figures
def raster_options(result: Result) -> dict[str, Any]:
    """What ``raster.png`` shows: the first test block (a few recall trials)."""
    test = next(ph for ph in result.phases if ph.name.startswith("test"))
    return {
        "populations": ["excitatory", "inhibitory"],
        "t_start": test.start,
        "t_stop": min(test.stop, test.start + 2.5),
        "events": ("cue_on",),
    }


def figure_curves(result: Result, twin_output: Twin) -> dict[str, Any]:
    """The curves of ``comparison.png`` (:func:`spikingml.figures.attractor.comparison_figure`)."""
    trials = {k: np.asarray(v) for k, v in result.extra["trials"].items()}
    rows = np.arange(len(trials["pattern"]))
    m = trial_overlaps(result)[rows, trials["pattern"]]
    m_twin = twin_output.overlaps[rows, trials["pattern"]]
    noise, load = trials["kind"] == 1, trials["kind"] == 0
    levels = np.unique(trials["noise"][noise])
    learned = np.unique(trials["learned"][load])
    n = result.populations["excitatory"].size
    # the first load-test trial: its spikes, the cued pattern's neurons ranked first
    k = int(np.flatnonzero(load)[0])
    pattern = result.weights["patterns"][trials["pattern"][k]] > 0.5
    rank = np.empty(n, dtype=int)
    rank[np.argsort(~pattern, kind="stable")] = np.arange(n)
    spikes = result.populations["excitatory"]
    sel = (spikes.times >= trials["start"][k]) & (spikes.times < trials["end"][k])
    cue_off = trials["cue_on"][k] + _seconds(result.params["cue_duration"])
    return {
        "noise": levels,
        "noise_circuit": _curve(m[noise], trials["noise"][noise], levels),
        "noise_twin": _curve(m_twin[noise], trials["noise"][noise], levels),
        "load": learned / n,
        "load_circuit": _curve(m[load], trials["learned"][load], learned),
        "sparse_load": twin_output.sparse_loads,
        "sparse_overlap": twin_output.sparse_overlap,
        "dense_load": twin_output.dense_loads,
        "dense_overlap": twin_output.dense_overlap,
        "trial_times": spikes.times[sel] - trials["start"][k],
        "trial_rank": rank[spikes.indices[sel]],
        "trial_pattern_size": int(pattern.sum()),
        "trial_cue": (trials["cue_on"][k] - trials["start"][k], cue_off - trials["start"][k]),
        "trial_length": trials["end"][k] - trials["start"][k],
        "trial_readout": _seconds(result.params["readout"]),
    }


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png``: recall vs cue noise and vs load, and one recall trial.

    Drawn by :func:`spikingml.figures.attractor.figures`.
    """
    from spikingml.figures import attractor as drawing

    metrics = compare(result, twin_output)
    return drawing.figures(figure_curves(result, twin_output), metrics, Path(outdir))
