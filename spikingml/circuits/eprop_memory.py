r"""A recurrent spiking network that learns to remember with e-prop, beside an LSTM.

The ML idea
-----------
Back-propagation through time made recurrent networks such as the LSTM learn tasks that
need memory over seconds. e-prop (Bellec et al. 2020) trains a recurrent *spiking*
network on the same tasks online, with what a synapse can know: an eligibility trace of
its own activity, multiplied by a learning signal broadcast to its neuron (the output
error through fixed random weights), a three-factor rule. Neurons with spike-frequency
adaptation (ALIF: a threshold that rises with every spike and decays over a second)
give the network a slow variable, the spiking analogue of the LSTM's cell state (LSNN:
Bellec et al. 2018).

The tasks (:mod:`spikingml.stimuli.memory_tasks`)
-------------------------------------------------
Four channels of ``per_channel`` Poisson neurons (``input_rate`` while on).
``task="store-recall"`` (the default; :func:`~spikingml.stimuli.memory_tasks.store_recall`):
channels *value 0*, *value 1*, *store*, *recall*. A trial shows ``n_symbols`` symbols of
``symbol``: a random value, then the value to store with the store cue, then ``d``
random distractor values (``distractors_min <= d <= distractors_max``), then the recall
cue, during which the network must report the stored value. The delay (recall onset
minus store onset) is ``(d + 1) symbol``: 0.8-1.6 s in the default preset.
``task="evidence"`` (:func:`~spikingml.stimuli.memory_tasks.evidence_accumulation`,
Bellec et al. 2020's version of Morcos & Harvey 2016): channels *left*, *right*,
*decide* and background noise (``background_rate``); ``n_cues`` cues of ``cue``, every
``cue_interval``, each on the left or the right; ``evidence_delay`` after the last cue
the decide cue (``decision``) asks for the side that had more cues.

The circuit
-----------
``n_lif`` LIF and ``n_alif`` ALIF neurons (at most 100), all-to-all recurrent, two
leaky readouts, trained by :class:`spikingml.plasticity.eprop.EProp` (equations in its
docstring, in the symbols of the code)::

    v_j = alpha v_j + sum_i w_in[j,i] x_i + sum_i w_rec[j,i] z_i - v_th z_j
    a_j = rho a_j + z_j;   spike when v_j > v_th + beta_j a_j (beta_j = 0: LIF)
    y_k = kappa y_k + sum_j w_out[k,j] z_j;   err_k = mask (softmax(y)_k - target_k)
    L_j = sum_k B[j,k] err_k;   dw_ji ~ sum_t L_j ebar_ji   (eligibility traces)

``n_copies`` trials run at once as copies of the network in one group, sharing their
weights; at the end of every trial (a batch) Adam updates the weights with the batch
mean of the gradients. After ``iterations`` batches learning stops (Adam's step size
0) and ``test_batches`` batches of new trials, the delays cycling through every value,
measure the recall accuracy per delay. The same program, run a second time with every
``beta`` set to 0, trains the *LIF-only ablation*: every neuron a LIF neuron, the same
size, inputs, initial weights and rule. The run-time fields (the rule's time constants,
``v_th``, ``beta``, ``gamma``, ``t_ref``, ``learning_rate``, ``c_reg``, ``f_target``, and the
twin's ``lstm_iterations``; ``Params.runtime_fields()``) are shared variables of the
rule's groups (``beta`` a per-neuron constant), so the compiled program runs with new
values of them as run arguments, as it runs the ablation (:func:`simulate_many`).

The twin
--------
An LSTM of ``n_lif + n_alif`` units (:mod:`spikingml.analysis.lstm`, JAX, the extra
``lstm``) trained by back-propagation through time and Adam on the same trials (inputs
counted in bins of ``lstm_bin``), with the same loss, in epochs over the same training
batches (at most ``lstm_iterations`` updates: it sits on a plateau for hundreds of
batches before it learns), and tested on the same test trials. ``compare`` puts the
three side by side: recall accuracy per delay, the longest delay recalled at 95%, and
the learning curves.

References
----------
Bellec, G., Scherr, F., Subramoney, A., Hajek, E., Salaj, D., Legenstein, R. & Maass, W.
(2020). A solution to the learning dilemma for recurrent networks of spiking neurons.
Nat. Commun. 11, 3625.

Bellec, G., Salaj, D., Subramoney, A., Legenstein, R. & Maass, W. (2018). Long
short-term memory and learning-to-learn in networks of spiking neurons. NeurIPS 31.

Hochreiter, S. & Schmidhuber, J. (1997). Long short-term memory. Neural Comput. 9,
1735-1780.
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
from spikingml.circuits._eprop_memory_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.plasticity.eprop import EProp, EPropNetwork, build_eprop_network
from spikingml.result import Phase, Result, SpikeData
from spikingml.simulation import (
    SynapticEventCounter,
    brian_device,
    check_device,
    check_seed,
    constant_args,
    progress_reporter,
    versions,
)
from spikingml.stimuli.memory_tasks import (
    EVIDENCE_START,
    MemoryTrials,
    evidence_accumulation,
    store_recall,
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
    "compare",
    "figures",
    "raster_options",
    "simulate",
    "simulate_many",
    "stimulus",
    "trial_batch",
    "twin",
]

NAME = "eprop-memory"
DESCRIPTION = (
    "a recurrent LIF + ALIF network trained online with e-prop to store and recall a bit "
    "over seconds, beside a LIF-only ablation and an LSTM trained by BPTT (Bellec et al. "
    "2018, 2020)"
)
DEFAULT_DEVICE = "cpp_standalone"

#: The networks of a run: the circuit, its ablation (metric prefixes "" and "lif_").
VARIANTS = ("alif", "lif")

METRICS: dict[str, str] = {
    "recall_accuracy_<delay>": "fraction of test trials with delay <delay> (ms) recalled "
    "correctly by the LIF + ALIF network (higher is better; target >= 0.95 at delays "
    ">= 1200 ms; chance 0.5)",
    "lif_recall_accuracy_<delay>": "the same for the LIF-only ablation (target <= 0.70 at "
    "delays >= 1200 ms: adaptation is what remembers)",
    "lstm_recall_accuracy_<delay>": "the same for the LSTM twin (target >= 0.95 at delays "
    ">= 1200 ms)",
    "recall_accuracy_long": "LIF + ALIF accuracy over the test trials of the longer half "
    "of the delays (>= the median tested delay: 1.2 s in the default preset, 0.6 s in the "
    "quick one; higher is better; target >= 0.95)",
    "lif_recall_accuracy_long": "the same for the LIF-only ablation (target <= 0.70)",
    "lstm_recall_accuracy_long": "the same for the LSTM (target >= 0.95)",
    "longest_delay_95": "longest tested delay (s) recalled with >= 95% accuracy by the "
    "LIF + ALIF network, 0 if none (higher is better)",
    "lif_longest_delay_95": "the same for the LIF-only ablation",
    "lstm_longest_delay_95": "the same for the LSTM",
    "final_training_error": "LIF + ALIF error over the last 10% of training batches "
    "(lower is better)",
    "lif_final_training_error": "the same for the LIF-only ablation",
    "lstm_final_training_error": "the same for the LSTM",
    "trials_to_95": "training trials until the error over 10 consecutive batches first "
    "falls to <= 5% (LIF + ALIF; lower is better; nan if never)",
    "lstm_trials_to_95": "the same for the LSTM",
    "firing_rate_hz": "mean firing rate of the LIF + ALIF network during the test (reported)",
    "evidence_error": "task 'evidence': fraction of test trials the LIF + ALIF network "
    "answers wrongly (lower is better; stretch target <= 0.10); NaN for store-recall",
    "lif_evidence_error": "the same for the LIF-only ablation",
    "lstm_evidence_error": "the same for the LSTM",
    "lstm_training_seconds": "wall time of the LSTM's training (reported)",
}


_EVIDENCE_START = EVIDENCE_START * second


def _time(default: Any, doc: str, **bounds: Any) -> Any:
    return param(default, doc, unit=second, low=0 * ms, low_inclusive=False, **bounds)


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the e-prop memory circuit (default: 20 LIF + 20 ALIF, 250 batches)."""

    circuit_name = "EpropMemory"

    n_lif: int = param(20, "LIF neurons", integer=True, low=0)
    n_alif: int = param(20, "ALIF neurons (adaptive threshold)", integer=True, low=0)
    per_channel: int = param(10, "input neurons per channel (4 channels)", integer=True, low=1)
    input_rate: Any = param(50 * Hz, "rate of an input neuron while its channel is on", unit=Hz)
    symbol: Any = _time(200 * ms, "duration of one symbol")
    n_symbols: int = param(10, "symbols per trial", integer=True, low=4)
    distractors_min: int = param(3, "fewest distractor symbols", integer=True, low=0)
    distractors_max: int = param(7, "most distractor symbols", integer=True, low=0)
    task: str = param("store-recall", "the task", choices=("store-recall", "evidence"))
    n_cues: int = param(7, "evidence: cues per trial (odd)", integer=True, low=1)
    cue: Any = _time(100 * ms, "evidence: duration of a cue")
    cue_interval: Any = _time(150 * ms, "evidence: onset to onset of the cues")
    evidence_delay: Any = _time(1200 * ms, "evidence: end of the last cue to the decide cue")
    decision: Any = _time(150 * ms, "evidence: the decide cue (the loss window)")
    background_rate: Any = param(
        10 * Hz, "evidence: rate of the background-noise channel", unit=Hz, low=0 * Hz
    )
    n_copies: int = param(32, "copies of the network: trials per batch", integer=True, low=1)
    iterations: int = param(250, "training batches", integer=True, low=1)
    test_batches: int = param(8, "test batches (learning off)", integer=True, low=1)
    tau_m: Any = _time(20 * ms, "membrane time constant", runtime=True)
    tau_a: Any = _time(1200 * ms, "adaptation time constant (ALIF)", runtime=True)
    tau_out: Any = _time(20 * ms, "readout time constant", runtime=True)
    v_th: float = param(0.6, "threshold (dimensionless)", low=0, low_inclusive=False, runtime=True)
    beta: float = param(1.8, "adaptation strength of the ALIF neurons", low=0, runtime=True)
    gamma: float = param(0.3, "height of the pseudo-derivative", low=0, runtime=True)
    t_ref: Any = param(5 * ms, "refractory period", unit=second, low=0 * ms, runtime=True)
    learning_rate: float = param(0.01, "Adam's step size (e-prop and LSTM)", low=0, runtime=True)
    c_reg: float = param(1.0, "strength of the firing-rate regulariser", low=0, runtime=True)
    f_target: Any = param(
        10 * Hz, "target rate of the regulariser", unit=Hz, low=0 * Hz, runtime=True
    )
    feedback: str = param("random", "feedback weights B", choices=("random", "symmetric"))
    lstm_bin: Any = _time(20 * ms, "bin of the LSTM's input counts")
    lstm_iterations: int = param(
        2500,
        "most LSTM updates (epochs over the training batches)",
        integer=True,
        low=1,
        runtime=True,
    )
    dt: Any = _time(1 * ms, "time step", high=2 * ms)

    def check(self) -> None:
        """Sizes, the trial layout and whole numbers of steps."""
        n = self.n_lif + self.n_alif
        if not 2 <= n <= 100:
            raise ValidationError(self.qualname("n_alif"), "2 <= n_lif + n_alif <= 100", n)
        if not self.distractors_min <= self.distractors_max <= self.n_symbols - 3:
            raise ValidationError(
                self.qualname("distractors_max"),
                f"in [distractors_min, n_symbols - 3 = {self.n_symbols - 3}]",
                self.distractors_max,
            )
        if self.n_cues % 2 == 0:
            raise ValidationError(self.qualname("n_cues"), "an odd number (no ties)", self.n_cues)
        if not self.cue <= self.cue_interval:
            raise ValidationError(self.qualname("cue"), "<= cue_interval", self.cue)
        for name in ("symbol", "t_ref", "lstm_bin", "cue", "cue_interval"):
            if not is_whole(float(getattr(self, name) / self.dt)):
                raise ValidationError(
                    self.qualname(name), "a whole number of dt", getattr(self, name)
                )
        if not is_whole(float(self.symbol / self.lstm_bin)):
            raise ValidationError(self.qualname("lstm_bin"), "a divisor of symbol", self.lstm_bin)
        if not is_whole(self.trial_steps * float(self.dt / self.lstm_bin)):
            raise ValidationError(
                self.qualname("lstm_bin"),
                f"a divisor of the trial ({self.trial_steps * self.dt})",
                self.lstm_bin,
            )
        if not float(self.input_rate * self.dt) < 1:
            raise ValidationError(self.qualname("input_rate"), "< 1 / dt", self.input_rate)

    @classmethod
    def quick(cls) -> Params:
        """Symbols of 100 ms (delays 0.4-0.8 s), 100 batches of 16 copies: learned in
        about two minutes."""
        return cls(
            symbol=100 * ms, n_copies=16, iterations=100, test_batches=4, lstm_iterations=200
        )

    @classmethod
    def tiny(cls) -> Params:
        """3 + 3 neurons, 2 copies, 2 short batches: the conformance test's run."""
        return cls(
            n_lif=3,
            n_alif=3,
            per_channel=2,
            symbol=20 * ms,
            n_symbols=5,
            distractors_min=1,
            distractors_max=2,
            n_copies=2,
            iterations=2,
            test_batches=1,
            lstm_iterations=2,
        )

    @property
    def n(self) -> int:
        """Neurons per network."""
        return self.n_lif + self.n_alif

    @property
    def trial_duration(self) -> Any:
        """One trial: ``n_symbols symbol`` (store-recall); cues, delay and decision
        (evidence)."""
        if self.task == "store-recall":
            return self.n_symbols * self.symbol
        cues = _EVIDENCE_START + (self.n_cues - 1) * self.cue_interval + self.cue
        return cues + self.evidence_delay + self.decision

    @property
    def trial_steps(self) -> int:
        """Steps per trial."""
        return round(float(self.trial_duration / self.dt))

    def rule(self) -> EProp:
        """The e-prop rule of both networks."""
        names = ("tau_m", "tau_a", "tau_out", "v_th", "beta", "gamma", "t_ref")
        names += ("learning_rate", "c_reg", "f_target")
        return EProp(**{k: getattr(self, k) for k in names})


# ----------------------------------------------------------------------------- stimulus
def trial_batch(params: Params, seed: int, k: int) -> MemoryTrials:
    """Batch ``k`` of the run of ``seed`` (training for ``k < iterations``, else test).

    Test batches give copy ``c`` of batch ``k`` the ``(c + k)``-th delay in turn, so that
    every delay is tested about equally often.
    """
    rng = np.random.default_rng([check_seed(seed), 0xE960, k])
    if params.task == "evidence":
        return evidence_accumulation(
            rng,
            params.n_copies,
            dt=float(params.dt),
            n_cues=params.n_cues,
            cue=float(params.cue),
            cue_interval=float(params.cue_interval),
            delay=float(params.evidence_delay),
            decision=float(params.decision),
            per_channel=params.per_channel,
            rate=float(params.input_rate),
            background=float(params.background_rate),
        )
    lo, hi = params.distractors_min, params.distractors_max
    fixed = None
    if k >= params.iterations:
        fixed = lo + (np.arange(params.n_copies) + k) % (hi - lo + 1)
    return store_recall(
        rng,
        params.n_copies,
        dt=float(params.dt),
        symbol=float(params.symbol),
        n_symbols=params.n_symbols,
        distractors=(lo, hi),
        per_channel=params.per_channel,
        rate=float(params.input_rate),
        distractor_values=fixed,
    )


@dataclasses.dataclass(frozen=True)
class Stimulus:
    """Every batch's input spikes (sparse), labels, loss windows and delays."""

    indices: np.ndarray  # input neuron (copy-major) of every spike
    steps: np.ndarray  # global step at which Brian2 delivers it
    labels: np.ndarray  # (batches, copies)
    windows: np.ndarray  # (batches, copies, 2), s from the trial's start
    delays: np.ndarray  # (batches, copies), s


def stimulus(params: Params, seed: int) -> Stimulus:
    """All batches of ``seed`` (:func:`trial_batch`), as input spikes for Brian2.

    The input of a trial's step ``t`` is delivered at the step before (``t - 1``).
    """
    n_in, steps = 4 * params.per_channel, params.trial_steps
    parts, labels, windows, delays = [], [], [], []
    for k in range(params.iterations + params.test_batches):
        tr = trial_batch(params, seed, k)
        t, c, i = np.nonzero(tr.x)
        parts.append((c * n_in + i, k * steps + t - 1))
        labels.append(tr.labels)
        windows.append(tr.windows)
        delays.append(tr.delays)
    order = [np.argsort(s, kind="stable") for _, s in parts]
    return Stimulus(
        indices=np.concatenate([ix[o] for (ix, _), o in zip(parts, order, strict=True)]),
        steps=np.concatenate([s[o] for (_, s), o in zip(parts, order, strict=True)]),
        labels=np.array(labels),
        windows=np.array(windows),
        delays=np.array(delays),
    )


def initial_weights(params: Params, seed: int) -> dict[str, np.ndarray]:
    """``w_in``, ``w_rec`` (zero diagonal), ``w_out`` ~ N(0, 1 / fan-in) and ``B``."""
    rng = np.random.default_rng([check_seed(seed), 0xE961])
    n, n_in = params.n, 4 * params.per_channel
    w_rec = rng.normal(0, 1, (n, n)) / np.sqrt(n)
    np.fill_diagonal(w_rec, 0)
    w_out = rng.normal(0, 1, (2, n)) / np.sqrt(n)
    random_b = rng.normal(0, 1, (n, 2)) / np.sqrt(n)
    return {
        "w_in": rng.normal(0, 1, (n, n_in)) / np.sqrt(n_in),
        "w_rec": w_rec,
        "w_out": w_out,
        "feedback": w_out.T.copy() if params.feedback == "symmetric" else random_b,
    }


# ------------------------------------------------------------------------------ network
class Network(NamedTuple):
    """The Brian2 objects of a run (:func:`build_network`)."""

    net: b2.Network
    eprop: EPropNetwork
    votes: b2.StateMonitor  # every trial's vote, read at the next trial's start
    spikes: b2.SpikeMonitor  # copy 0's neurons
    events: SynapticEventCounter

    def run_args(self, params: Params, variant: str) -> dict[Any, Any]:
        """The values that make the program run ``params``'s network ``variant``.

        The rule's shared values (:meth:`~spikingml.plasticity.eprop.EProp.shared_values`)
        and ``beta`` of the neurons and of the eligibility groups that read it:
        ``params.beta`` for the ALIF neurons of ``"alif"``, 0 for every neuron of the
        LIF-only ablation ``"lif"`` (the eligibility groups read the neurons' ``beta``).
        """
        if variant not in VARIANTS:
            raise ValidationError("variant", f"one of {VARIANTS}", variant)
        args = constant_args(self.net, params.rule().shared_values(params.dt))
        alif = np.full(params.n_alif, params.beta if variant == "alif" else 0.0)
        beta = np.tile(np.r_[np.zeros(params.n_lif), alif], params.n_copies)
        args[self.eprop.neurons.beta] = beta
        return args


def build_network(params: Params, stim: Stimulus, weights: dict[str, np.ndarray]) -> Network:
    """The LIF + ALIF e-prop network and its monitors; runs nothing.

    The LIF-only ablation is the same network with ``beta = 0``
    (:meth:`Network.run_args`): one program, run twice.
    """
    b2.defaultclock.dt = params.dt
    T = params.trial_steps * params.dt
    # one more row: the step after the last trial reads its vote
    ep = build_eprop_network(
        params.rule(),
        n_copies=params.n_copies,
        n_lif=params.n_lif,
        n_alif=params.n_alif,
        input_indices=stim.indices,
        input_times=stim.steps * params.dt,
        targets=np.concatenate([stim.labels, stim.labels[:1]]),
        windows=np.concatenate([stim.windows, stim.windows[:1]]),
        trial_duration=T,
        dt=params.dt,
        n_trials=params.iterations + params.test_batches + 1,
        # Adam applies trial k - 1's gradients at trial k's start: training batches only
        learning=np.r_[np.ones(params.iterations + 1), np.zeros(params.test_batches)],
        **weights,
    )
    votes = b2.StateMonitor(ep.readouts, "vote", record=True, dt=T, when="start", name="votes")
    spikes = b2.SpikeMonitor(ep.neurons[: params.n], name="spikes")
    net = b2.Network(*ep.objects, votes, spikes)
    return Network(net, ep, votes, spikes, SynapticEventCounter(net))


def _duration(params: Params) -> Any:
    """The run: every batch, then one step more (the last trial's vote is read at the
    first step after it)."""
    T = params.trial_steps * params.dt
    return (params.iterations + params.test_batches) * T + params.dt


def _run_protocol(network: Network, params: Params, progress: bool) -> dict[str, Any]:
    """Train, then test with learning off, once per variant (runtime device); returns
    what was recorded.

    One ``run`` per variant (the weights stop through the rule's ``learning`` schedule),
    the network restored to its initial state between them and given the variant's
    values (:meth:`Network.run_args`). Under ``cpp_standalone`` the program takes them
    as run arguments instead, both variants side by side (:func:`simulate_many`).
    """
    report = progress_reporter(progress, NAME)
    out: dict[str, Any] = {}
    network.net.store("initial")
    for variant in VARIANTS:
        network.net.restore("initial")
        for var, value in network.run_args(params, variant).items():
            var[:] = value
        network.net.run(_duration(params), report=report, report_period=10 * second)
        out.update(_read(network, variant))
    return out


def simulate(
    params: Params | None = None,
    seed: int = 0,
    device: str = "cpp_standalone",
    progress: bool = True,
) -> Result:
    """Train both networks on the trials of ``seed`` with e-prop, then test them.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of the trials and the initial weights.
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone`` run
        reports nothing until it ends).

    Returns
    -------
    Result
        Populations ``alif`` and ``lif`` (copy 0's neurons, test phase) and ``input``
        (copy 0's inputs, test phase); phases ``train`` and ``test``; weights: every
        network's final ``w_in``, ``w_rec``, ``w_out``; ``extra``: per variant the
        decisions of every trial (``<variant>_correct``, batches x copies), ``labels``,
        ``delays``, and the simulated spike count for the test rates.

    Notes
    -----
    Under ``cpp_standalone`` one program, built in the persistent build directory of the
    parameters' structure, runs both networks (:func:`simulate_many`); the run-time
    fields are run arguments, so a run that changes only those (``learning_rate``,
    ``tau_a``, ``beta``, ...) compiles nothing.

    See Also
    --------
    simulate_many : several parameter sets and seeds, compiled once per structure and seed.
    """
    params = _check_params(params)
    check_device(device)
    seed = check_seed(seed)
    if device == "cpp_standalone":
        (result,) = simulate_many([(params, seed)], device, progress)
        return result
    stim = stimulus(params, seed)
    weights = initial_weights(params, seed)
    t_wall = time.perf_counter()
    with brian_device(device, seed):
        network = build_network(params, stim, weights)
        recorded = _run_protocol(network, params, progress)
    return _collect(params, seed, device, stim, recorded, time.perf_counter() - t_wall)


def _check_params(params: Params | None) -> Params:
    """``params``, or the default preset if ``None``; refuses another circuit's."""
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "an eprop_memory.Params", type(params).__name__)
    return params


def _read(network: Network, variant: str) -> dict[str, Any]:
    """What one run of the program recorded, under the variant's names (copies: the
    runtime device's arrays are views that the next run overwrites)."""
    vote = np.array(network.votes.vote[:])[:, 1:]  # (2 copies, batches)
    out: dict[str, Any] = {f"{variant}_vote": vote[1::2] - vote[0::2]}  # > 0 -> 1
    for key, grp in network.eprop.weights.items():
        out[f"{variant}.w_{key}"] = np.array(grp.w[:])
    mon = network.spikes
    out[f"{variant}_spikes"] = (np.array(mon.i[:]), np.array(mon.t[:] / second))
    out[f"{variant}_events"] = network.events.total()
    return out


def _collect(params, seed, device, stim, rec, wall) -> Result:
    T = float(params.trial_steps * params.dt)
    t_train = params.iterations * T
    t_end = t_train + params.test_batches * T + float(params.dt)
    n, n_in = params.n, 4 * params.per_channel
    shapes = {"in": (n, n_in), "rec": (n, n), "out": (2, n)}
    weights = {
        f"{v}.w_{key}": rec[f"{v}.w_{key}"].reshape(shape)
        for v in VARIANTS
        for key, shape in shapes.items()
    }
    populations = {}
    for v in VARIANTS:
        idx, times = rec[f"{v}_spikes"]
        test = times >= t_train - 1e-9
        populations[v] = SpikeData(idx[test], times[test], n)
    # copy 0's inputs in the test phase, as Brian2 delivered them
    keep = (stim.indices < n_in) & (stim.steps * float(params.dt) >= t_train - 1e-9)
    populations["input"] = SpikeData(stim.indices[keep], stim.steps[keep] * float(params.dt), n_in)
    extra = {f"{v}_correct": ((rec[f"{v}_vote"].T > 0) == stim.labels) for v in VARIANTS}
    extra.update(
        labels=stim.labels, delays=stim.delays, iterations=params.iterations, trial_duration=T
    )
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=seed,
        device=device,
        populations=populations,
        phases=[Phase("train", 0.0, t_train), Phase("test", t_train, t_end)],
        weights=weights,
        extra=extra,
        simulated_seconds=t_end,
        wall_seconds=wall,
        synaptic_events=sum(rec[f"{v}_events"] for v in VARIANTS),
        versions=versions(),
    )


# --------------------------------------------------------------------------------- twin
@dataclasses.dataclass(frozen=True)
class Twin:
    """The LSTM's test decisions (correct or not, test batches x copies), its learning
    curve (batch error) and training time."""

    correct: np.ndarray
    learning_curve: np.ndarray
    wall_seconds: float


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """An LSTM of ``n_lif + n_alif`` units trained by BPTT on the same training batches."""
    from spikingml.analysis import lstm

    params = Params() if params is None else params
    bin_steps = round(float(params.lstm_bin / params.dt))

    def batch(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        tr = trial_batch(params, seed, k)
        x, mask = lstm.bin_inputs(tr.x, tr.mask, bin_steps)
        return x, tr.labels, mask

    # epochs over the circuit's training batches; stop once 30 batches in a row are
    # >= 99% correct (the LSTM sits at chance for 200-1900 batches before it learns)
    trained = lstm.train(
        lambda k: batch(k % params.iterations),
        n_in=4 * params.per_channel,
        n_hidden=params.n,
        iterations=params.lstm_iterations,
        learning_rate=params.learning_rate,
        seed=seed,
        stop_error=0.01,
        stop_patience=30,
    )
    correct = []
    for k in range(params.iterations, params.iterations + params.test_batches):
        x, labels, mask = batch(k)
        correct.append(lstm.decisions(trained.params, x, mask) == labels)
    return Twin(np.array(correct), trained.learning_curve, trained.wall_seconds)


# ------------------------------------------------------------------------------ compare
def _per_delay(correct: np.ndarray, delays: np.ndarray) -> dict[float, float]:
    keys = np.round(delays, 6)
    return {float(d): float(correct[keys == d].mean()) for d in np.unique(keys)}


def _trials_to_95(curve: np.ndarray, copies: int) -> float:
    if len(curve) < 10:
        return float("nan")
    run = np.convolve(curve, np.ones(10) / 10, mode="valid")
    hit = np.flatnonzero(run <= 0.05)
    return float((hit[0] + 10) * copies) if len(hit) else float("nan")


def learning_curves(result: Result, twin_output: Twin) -> dict[str, np.ndarray]:
    """Batch error during training: ``alif``, ``lif`` and ``lstm``."""
    it = result.extra["iterations"]
    curves = {v: 1 - result.extra[f"{v}_correct"][:it].mean(axis=1) for v in VARIANTS}
    curves["lstm"] = np.asarray(twin_output.learning_curve)
    return curves


@last_comparison  # figures() compares again: the same value, not computed twice
def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twin."""
    it = result.extra["iterations"]
    delays = result.extra["delays"][it:]
    tests = {v: result.extra[f"{v}_correct"][it:] for v in VARIANTS}
    tests["lstm"] = twin_output.correct
    curves = learning_curves(result, twin_output)
    prefix = {"alif": "", "lif": "lif_", "lstm": "lstm_"}
    out: dict[str, float] = {}
    for model, correct in tests.items():
        for d, acc in _per_delay(correct, delays).items():
            out[f"{prefix[model]}recall_accuracy_{round(d * 1000)}ms"] = acc
    for model, correct in tests.items():
        long = delays >= np.median(np.unique(np.round(delays, 6))) - 1e-9
        out[f"{prefix[model]}recall_accuracy_long"] = (
            float(correct[long].mean()) if long.any() else float("nan")
        )
    for model, correct in tests.items():
        good = [d for d, acc in _per_delay(correct, delays).items() if acc >= 0.95]
        out[f"{prefix[model]}longest_delay_95"] = max(good, default=0.0)
    for model, correct in tests.items():
        evidence = result.params.get("task") == "evidence"
        out[f"{prefix[model]}evidence_error"] = (
            float(1 - correct.mean()) if evidence else float("nan")
        )
    for model, curve in curves.items():
        tail = curve[-max(1, len(curve) // 10) :]
        out[f"{prefix[model]}final_training_error"] = float(np.mean(tail))
    copies = result.extra["labels"].shape[1]
    out["trials_to_95"] = _trials_to_95(curves["alif"], copies)
    out["lstm_trials_to_95"] = _trials_to_95(curves["lstm"], copies)
    pop = result.populations["alif"]
    test = result.phases[1]
    out["firing_rate_hz"] = pop.rate(test.start, test.stop)
    out["lstm_training_seconds"] = float(twin_output.wall_seconds)
    return out


# ------------------------------------------------------------------------------ figures
def raster_options(result: Result) -> dict[str, Any]:
    """``raster.png``: copy 0's inputs and both networks in the first test trial."""
    test = result.phases[1]
    return {
        "populations": ["input", "alif", "lif"],
        "t_start": test.start,
        "t_stop": test.start + result.extra["trial_duration"],
        "events": (),
        "bin_width": 0.05,
    }


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png``: learning curves and recall accuracy per delay.

    Drawn by :func:`spikingml.figures.eprop_memory.comparison_figure`.
    """
    from spikingml.figures import eprop_memory as drawing
    from spikingml.plotting import save_figure

    fig = drawing.comparison_figure(result, twin_output, compare(result, twin_output))
    return [save_figure(fig, Path(outdir) / "comparison.png")]
