r"""Dropout as unreliable synapses: a spiking classifier trained with release probability p.

The ML idea
-----------
Dropout (Srivastava et al. 2014) and DropConnect (Wan et al. 2013) regularise a network
by silencing units or weights at random during training; at test every weight is used,
scaled by the probability ``p`` that it was kept. Synapses are unreliable in the same
way: a presynaptic spike releases transmitter with a probability well below one, and
Neftci et al. (2016) built learning machines on that noise (synaptic sampling machines).
Here a small spiking classifier learns binarised digits from few examples, which it
overfits when every spike is transmitted (``p = 1``); with release probability
``p < 1`` during training it generalises better, as DropConnect does.

The circuit
-----------
Inputs: scikit-learn's 8 x 8 digits binarised at ``pixel_threshold``, one input neuron
per pixel (``inputs``, a ``SpikeGeneratorGroup``); an example is shown in a window of
``window`` (a few steps) in which every active pixel sends ``spikes_per_input`` spikes
(``n``) at its first steps. Outputs (``output``): one integrate-and-fire neuron per class
(``n_classes`` = 10) for each release probability of the run (``copies``: the classifiers
learn side by side from the same input spikes, one copy per ``p``). Synapses
(``plastic``, all-to-all from the inputs to each copy's outputs) release every spike
with probability ``q`` (a fresh ``rand()`` per spike and synapse) and transmit::

    released = int(rand() < q)         q = learning * p + (1 - learning)
    v_post  += s * alive * w * released / n      s = learning + (1 - learning) * p
    c       += learning * released / n           alive = int(rank >= deleted(t))

so that during training (``learning = 1``) a spike is released with probability ``p``
and transmits ``w``, and at test (``learning = 0``) every spike is transmitted, scaled
by ``p`` (as dropout scales its weights at test: the drive an output receives equals
its mean during training). ``c`` counts the released spikes of the example. The output
potential ``v`` integrates without leak within a window (a window of 2 ms is far
shorter than a membrane time constant). At the window's last step every output takes a
*decision* (custom event ``decide``): its synapses learn by the delta rule
(:class:`spikingml.plasticity.release_delta.ReleaseDeltaRule`)::

    w += eta * learning * (target - v) * c        c = 0        target = [label == class]

and ``v`` is reset to 0. The class read out is that of the copy's output with the
largest ``v`` at the decision (ties: the lowest class): the outputs are
integrate-and-decide readout neurons, as the non-spiking readouts of many trained
spiking networks; the spikes, their failures and the learning are in the synapses.
``learning``, the label and the deleted fraction are ``TimedArray`` schedules with one
value per window. Weights start at 0. The release noise is per spike, not per example as
DropConnect's mask: with ``n`` spikes per active input the mask is the released fraction
``Binomial(n, p) / n`` (variance ``p (1 - p) / n``), so averaging over spikes regularises
less; ``n = 1`` (the default) makes the circuit's mask exactly DropConnect's. No
``network_operation``: the code runs under ``runtime`` and ``cpp_standalone``. The run-time
field ``learning_rate`` (``Params.runtime_fields()``) is a shared constant of the
synapses rather than a constant of the code, so the compiled program runs with another
learning rate without being compiled again (:func:`simulate_many`); the release
probabilities (the copies), the examples and the schedule are structural.

Protocol
--------
1. ``train``: ``n_epochs`` epochs over the ``n_train_per_class`` x 10 training examples
   (a new random order every epoch, the same for every copy);
2. ``evaluate``: learning off, every synapse transmitting: the training, validation
   (``n_validation``) and test (``n_test``) examples, once each;
3. ``deletion``: the test examples again for each deleted fraction (``deletion_step``,
   ``2 deletion_step``, ... and ``deletion_fraction``)
   with that fraction of the synapses deleted (those with ``rank < fraction``: one
   uniform rank per input-class pair, drawn from the seed, so every copy loses the same
   synapses, and a synapse deleted at 20% stays deleted at 40%).

Twin and metrics
----------------
The twin (:mod:`spikingml.analysis.dropconnect`) is the same classifier in NumPy: the
delta rule on the same examples in the same order with DropConnect masks
(``Binomial(n, p) / n``) at the same ``p`` (each copy's masks from a random stream of its
own), tested with weights scaled by ``p``. The circuit's releases come from Brian2's one
stream for all synapses, so adding a copy changes the others' draws (not their
distribution). For each ``p`` the metrics are train and test accuracy and the
generalisation gap (train accuracy minus test accuracy, both with every synapse
transmitting). The best ``p`` is chosen on
the validation examples (never the test examples). The deletion metrics compare the
copy trained at ``p = 1`` with the copy at the best ``p``: test accuracy lost when
``deletion_fraction`` of the synapses are deleted.

Releasing a fraction ``p`` of the spikes also slows learning: the effective weights ``p
w`` change on average at the rate ``eta p^2``, and slower learning is itself a
regulariser (early stopping). The twin therefore trains, for every copy, a *control*
without noise: the delta rule at ``p = 1`` with the learning rate ``eta p^2``
(``control_gap_<p>``, ``noise_gap_reduction``). 600 epochs let every copy but the
slowest approach where its learning leads, so that the noise, not the epoch budget,
makes the difference (at seed 0, with 150 epochs, the copies at ``p`` = 0.6 and 0.8 had
gaps 0.10-0.13 below their controls; with 600 epochs the twin's are 0.21-0.23 below).

Measured (default preset, seeds 0-2, ``benchmarks/results/stochastic_synapses.md``): gap
at ``p = 1`` 0.49, 0.48, 0.53 (train accuracy 1.0, test 0.52, 0.52, 0.47); best ``p``
0.4, 0.1, 0.6 with the gap 58%, 39%, 43% smaller (the twin: 47%, 45%, 39%); gap curves of
circuit and twin r = 0.90, 0.98, 0.96; at the best ``p`` the gap is 49% and 37% below
the control's at seeds 0 and 2, and 45% above it at seed 1 (``p`` = 0.1, where the
slowed learning, not the noise, regularises); deletion loss ratio 0.87, 0.54, 0.81. With
150 epochs: gap reduction 0.44, 0.18, 0.51.

References
----------
Srivastava, N., Hinton, G., Krizhevsky, A., Sutskever, I. & Salakhutdinov, R. (2014).
Dropout: a simple way to prevent neural networks from overfitting. Journal of Machine
Learning Research 15, 1929-1958.

Wan, L., Zeiler, M., Zhang, S., LeCun, Y. & Fergus, R. (2013). Regularization of neural
networks using DropConnect. Proceedings of ICML 2013, PMLR 28(3), 1058-1066.

Neftci, E. O., Pedroni, B. U., Joshi, S., Al-Shedivat, M. & Cauwenberghs, G. (2016).
Stochastic synapses enable efficient brain-inspired learning machines. Frontiers in
Neuroscience 10, 241.

Widrow, B. & Hoff, M. E. (1960). Adaptive switching circuits. IRE WESCON Convention
Record 4, 96-104.
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
from spikingml.analysis import dropconnect as dc
from spikingml.analysis.stats import pearson
from spikingml.circuits._stochastic_synapses_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.plasticity.release_delta import ReleaseDeltaRule
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
from spikingml.stimuli.binary_patterns import binary_digits

__all__ = [
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "Inputs",
    "Network",
    "Params",
    "Twin",
    "build_network",
    "compare",
    "figures",
    "p_label",
    "prepare_inputs",
    "raster_options",
    "simulate",
    "simulate_many",
    "twin",
]

NAME = "stochastic-synapses"
DESCRIPTION = (
    "a spiking digit classifier whose synapses release with probability p while it "
    "learns (dropout as unreliable synapses) beside DropConnect (Wan et al. 2013)"
)
#: one program per run: the default preset simulates 84,000 steps (45-51 s with its
#: compilation on the loaded 2-core machine; 150 epochs took 75 s under runtime Cython)
DEFAULT_DEVICE = "cpp_standalone"
#: rand() draws the releases on the device: runtime and cpp_standalone differ in detail
DEVICES_IDENTICAL = False

#: Every metric :func:`compare` returns (``<p>``: ``p100`` for p = 1.0, ``p040`` for 0.4).
METRICS: dict[str, str] = {
    "train_accuracy_<p>": "circuit trained at release probability p: accuracy on its "
    "training examples, every synapse transmitting (reported)",
    "test_accuracy_<p>": "the same on the held-out test examples (higher is better)",
    "gap_<p>": "generalisation gap train_accuracy - test_accuracy of the circuit at p "
    "(lower is better)",
    "twin_test_accuracy_<p>": "the DropConnect twin's test accuracy at p (reference)",
    "twin_gap_<p>": "the twin's generalisation gap at p (reference)",
    "control_gap_<p>": "gap of the control without release noise whose learning is slowed "
    "as release at p slows it on average (delta rule at p = 1, learning rate eta p^2)",
    "best_p": "release probability with the circuit's highest validation accuracy",
    "gap_reduction": "1 - gap(best p) / gap(p = 1) of the circuit (higher is better; "
    "target >= 0.3)",
    "twin_best_p": "the twin's best p (validation accuracy)",
    "twin_gap_reduction": "1 - gap(best p) / gap(p = 1) of the twin (reference)",
    "gap_curve_correlation": "Pearson r of the gap-vs-p curves of circuit and twin "
    "(higher is better; target >= 0.8)",
    "noise_gap_reduction": "1 - gap(best p) / control_gap(best p): the part of the "
    "circuit's gap removed by the release noise itself, beyond slowed learning (> 0: "
    "the noise regularises; reported)",
    "test_accuracy": "test accuracy of the copy at release_probability (for sweeps)",
    "gap": "generalisation gap of the copy at release_probability (for sweeps)",
    "twin_gap": "the twin's gap at release_probability (for sweeps)",
    "deletion_loss_deterministic": "test accuracy lost by the copy trained at p = 1 when "
    "deletion_fraction of its synapses are deleted (lower is better)",
    "deletion_loss_stochastic": "the same for the copy at the best p (lower is better)",
    "deletion_loss_ratio": "deletion_loss_stochastic / deletion_loss_deterministic "
    "(lower is better; stretch target <= 0.5)",
    "twin_deletion_loss_ratio": "the same ratio for the twin (reference)",
    "spikes_per_synapse_per_example": "presynaptic spikes per synapse per training "
    "example (spikes_per_input x fraction of active pixels): the number of release "
    "draws one example's mask averages over",
}


# --------------------------------------------------------------------------- parameters
def _grid(step: float, top: float) -> list[float]:
    """``top, top - step, ...`` while above 0, rounded to 0.01."""
    n = int(np.floor(top / step + 1e-9))
    return [round(top - k * step, 2) for k in range(n) if round(top - k * step, 2) > 0]


def _hundredths(default: float, doc: str, low: float = 0.01, high: float = 1.0) -> Any:
    return param(default, doc + " (a multiple of 0.01)", low=low, high=high)


_HUNDREDTHS = ("p_step", "p_min", "release_probability", "deletion_step", "deletion_fraction")


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the stochastic-synapses circuit (default: 60 digits, 600 epochs)."""

    circuit_name = "StochasticSynapses"

    p_step: float = _hundredths(
        0.2, "release probabilities of the copies trained side by side: 1, 1 - p_step, ..."
    )
    p_min: float = _hundredths(0.1, "one more copy at this release probability")
    release_probability: float = _hundredths(
        0.4,
        "one more copy, whose test accuracy and gap are the metrics test_accuracy and gap "
        "(for sweeps)",
    )
    n_train_per_class: int = param(6, "training examples per digit", integer=True, low=1)
    n_validation: int = param(850, "held-out validation examples (choose p)", integer=True, low=1)
    n_test: int = param(850, "held-out test examples (the gap)", integer=True, low=1)
    n_epochs: int = param(600, "passes over the training examples", integer=True, low=1)
    learning_rate: float = param(
        0.02, "eta of the delta rule", low=0, low_inclusive=False, runtime=True
    )
    pixel_threshold: float = param(
        7.0, "grey level above which a pixel is on", low=0, high=16, high_inclusive=False
    )
    spikes_per_input: int = param(
        1, "spikes an active pixel sends per example (n)", integer=True, low=1, high=100
    )
    deletion_step: float = _hundredths(
        0.2, "fractions of synapses deleted after training: deletion_step, 2 deletion_step, ..."
    )
    deletion_fraction: float = _hundredths(
        0.5, "fraction deleted for the deletion_loss metrics", high=0.99
    )
    window: Any = param(
        2 * ms,
        "time per example (decision at its last step)",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        high=1 * second,
    )
    dt: Any = param(
        1 * ms, "simulation time step", unit=second, low=0 * ms, low_inclusive=False, high=1 * ms
    )

    def check(self) -> None:
        """Cross-field checks: hundredths, enough digits, steps per window."""
        for name in (
            "p_step",
            "p_min",
            "release_probability",
            "deletion_step",
            "deletion_fraction",
        ):
            if not is_whole(100 * getattr(self, name)):
                raise ValidationError(
                    self.qualname(name), "a multiple of 0.01", getattr(self, name)
                )
        steps = float(self.window / self.dt)
        if not is_whole(steps) or round(steps) < self.spikes_per_input + 1:
            raise ValidationError(
                self.qualname("window"),
                f"a whole number of steps dt ({self.dt}), at least spikes_per_input + 1",
                self.window,
            )
        needed = 10 * self.n_train_per_class + self.n_validation + self.n_test
        if needed > 1797 or self.n_train_per_class > 170:
            raise ValidationError(
                self.qualname("n_test"),
                "train + validation + test examples within the 1797 digits (<= 170 per digit)",
                needed,
            )

    @classmethod
    def quick(cls) -> Params:
        """100 epochs, 300 validation and 300 test digits: seconds once compiled."""
        return cls(n_epochs=100, n_validation=300, n_test=300)

    @classmethod
    def tiny(cls) -> Params:
        """Two copies, 3 epochs on 20 digits: the conformance test's run."""
        return cls(
            p_step=0.5,
            p_min=0.5,
            release_probability=0.5,
            n_train_per_class=2,
            n_validation=20,
            n_test=20,
            n_epochs=3,
            deletion_step=0.5,
        )

    # -- derived -------------------------------------------------------------------------
    @property
    def grid(self) -> list[float]:
        """The swept release probabilities (``1, 1 - p_step, ...`` and ``p_min``), decreasing."""
        return sorted({*_grid(self.p_step, 1.0), round(self.p_min, 2)}, reverse=True)

    @property
    def copies(self) -> list[float]:
        """Release probabilities of the copies: the grid and ``release_probability``."""
        return sorted({*self.grid, round(self.release_probability, 2)}, reverse=True)

    @property
    def fractions(self) -> list[float]:
        """Deleted fractions of the deletion phase, increasing (deletion_fraction in)."""
        steps = _grid(self.deletion_step, 1.0 - self.deletion_step)
        return sorted({*(f for f in steps if f < 1), round(self.deletion_fraction, 2)})

    @property
    def window_steps(self) -> int:
        """Simulation steps per example."""
        return round(float(self.window / self.dt))

    def rule(self) -> ReleaseDeltaRule:
        """The synapses' release and learning rule, built from these parameters."""
        return ReleaseDeltaRule(
            learning_rate=self.learning_rate, spikes_per_input=self.spikes_per_input
        )


def p_label(p: float) -> str:
    """The ``<p>`` of metric names: ``p100`` for 1.0, ``p040`` for 0.4."""
    return f"p{round(100 * p):03d}"


# ------------------------------------------------------------------------------- inputs
@dataclasses.dataclass(frozen=True)
class Inputs:
    """The examples of a run, drawn from the seed (shared by circuit and twin).

    ``x`` holds every digit (binary, (1797, 64)); the index arrays select the training,
    validation and test examples; ``order`` (n_epochs, n_train) the training order;
    ``rank`` (64, 10) the deletion rank of every input-class pair; ``windows`` the
    example shown in every window of the run and ``learning`` / ``deleted`` its schedule.
    """

    x: np.ndarray
    labels: np.ndarray
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    order: np.ndarray
    rank: np.ndarray
    windows: np.ndarray
    learning: np.ndarray
    deleted: np.ndarray

    @property
    def n_train_windows(self) -> int:
        """Windows of the training phase."""
        return self.order.size


def prepare_inputs(params: Params, seed: int) -> Inputs:
    """Split the digits, order the training and lay out every window of the run."""
    rng = np.random.default_rng([check_seed(seed), 0x5709])
    x, labels = binary_digits(params.pixel_threshold)
    train = np.concatenate(
        [
            rng.choice(np.flatnonzero(labels == c), params.n_train_per_class, replace=False)
            for c in range(10)
        ]
    )
    rest = rng.permutation(np.setdiff1d(np.arange(len(labels)), train))
    validation = rest[: params.n_validation]
    test = rest[params.n_validation : params.n_validation + params.n_test]
    order = np.array([rng.permutation(train) for _ in range(params.n_epochs)])
    rank = rng.random((x.shape[1], 10))
    fractions = params.fractions
    windows = np.concatenate([order.ravel(), train, validation, test, *[test for _ in fractions]])
    n_eval = len(train) + len(validation) + len(test)
    learning = np.r_[np.ones(order.size), np.zeros(n_eval + len(fractions) * len(test))]
    deleted = np.r_[np.zeros(order.size + n_eval), np.repeat(fractions, len(test))]
    return Inputs(x, labels, train, validation, test, order, rank, windows, learning, deleted)


def _spike_steps(params: Params, inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """Input neuron and step of every spike: active pixels at the window's first steps."""
    w_steps, n = params.window_steps, params.spikes_per_input
    example, pixel = np.nonzero(inputs.x[inputs.windows])
    steps = (example * w_steps)[:, None] + np.arange(n)[None, :]
    return np.repeat(pixel, n), steps.ravel()


# ------------------------------------------------------------------------------ network
class Network(NamedTuple):
    """The Brian2 objects of a run (:func:`build_network`)."""

    net: b2.Network
    inputs: b2.SpikeGeneratorGroup
    output: b2.NeuronGroup
    plastic: b2.Synapses
    decisions: b2.EventMonitor
    input_spikes: b2.SpikeMonitor


def build_network(params: Params, inputs: Inputs) -> Network:
    """Create the inputs, the copies' outputs, the stochastic synapses and the monitors.

    Parameters
    ----------
    params : Params
        Circuit parameters.
    inputs : Inputs
        The run's examples and schedule (:func:`prepare_inputs`).

    Returns
    -------
    Network
        The objects in a ``brian2.Network``; nothing is run.
    """
    rule = params.rule()
    b2.defaultclock.dt = params.dt
    window = params.window_steps * params.dt
    copies = np.array(params.copies)
    n_in, n_classes = inputs.x.shape[1], 10
    pixel, steps = _spike_steps(params, inputs)
    source = b2.SpikeGeneratorGroup(n_in, pixel, steps * params.dt, name="inputs")
    schedules = {
        "rd_learning": b2.TimedArray(inputs.learning, dt=window),
        "rd_deleted": b2.TimedArray(inputs.deleted, dt=window),
        "rd_label": b2.TimedArray(inputs.labels[inputs.windows].astype(float), dt=window),
        "window_steps": params.window_steps,
    }
    decide = "(t_in_timesteps % window_steps) == window_steps - 1"
    output = b2.NeuronGroup(
        len(copies) * n_classes,
        rule.output_model(),
        threshold=None,
        events={"decide": decide},
        namespace=schedules,
        name="output",
    )
    output.run_on_event("decide", rule.output_reset())
    output.p_release = np.repeat(copies, n_classes)
    output.klass = np.tile(np.arange(n_classes), len(copies)).astype(float)
    plastic = b2.Synapses(
        source,
        output,
        rule.synapse_model(shared=True),
        on_pre={"pre": rule.on_pre()},
        on_post={"learn": rule.on_decision()},
        on_event={"pre": "spike", "learn": "decide"},
        namespace={**schedules, **rule.namespace(shared=True)},
        name="plastic",
    )
    plastic.connect()  # synapse (i, k): input i -> output k, ordered by input
    plastic.w = 0.0
    plastic.rank = np.repeat(inputs.rank, len(copies), axis=0).ravel()
    decisions = b2.EventMonitor(output, "decide", variables=["v"], name="decisions")
    input_spikes = b2.SpikeMonitor(source, name="input_spikes")
    net = b2.Network(source, output, plastic, decisions, input_spikes)
    set_constants(net, rule.shared_constants())  # the run-time field learning_rate
    return Network(net, source, output, plastic, decisions, input_spikes)


def simulate(
    params: Params | None = None,
    seed: int = 0,
    device: str = "cpp_standalone",
    progress: bool = True,
) -> Result:
    """Train every copy on the examples of ``seed``, then evaluate and delete synapses.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (the examples, their order, the deletion ranks, the
        releases).
    device : {"cpp_standalone", "runtime"}
        Brian2 device.
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone``
        program reports nothing until it ends).

    Returns
    -------
    Result
        Population ``inputs`` (the readout neurons do not spike);
        phases ``train``, ``evaluate`` and ``deletion``; weights ``w`` (inputs x copies x
        classes); ``extra``: ``potentials`` (windows x outputs: every output's ``v`` at
        every decision), ``copies`` and the example of every window.

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure and the learning rate is its run argument
    (:func:`simulate_many`): a run that changes only ``learning_rate`` compiles nothing.
    The seed is not a run argument (it draws the examples in Python and the releases on
    the device).

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
    _silence_order_warning()
    with brian_device(device, seed):
        network = build_network(params, inputs)
        counter = SynapticEventCounter(network.net)
        _run_protocol(network, params, inputs, progress_reporter(progress, NAME))
        recorded = _read(network, len(inputs.windows), counter)
    return _collect(params, seed, device, inputs, recorded, time.perf_counter() - t_wall)


def _check_params(params: Params | None) -> Params:
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "a stochastic_synapses.Params", type(params).__name__)
    return params


def _run_protocol(network: Network, params: Params, inputs: Inputs, report: Any = None) -> None:
    """Run every window of the protocol (under ``cpp_standalone`` with
    ``build_on_run=False``: only record the run; the caller builds the program and runs
    it)."""
    duration = len(inputs.windows) * params.window_steps * params.dt
    network.net.run(duration, report=report, report_period=10 * second)


def _silence_order_warning() -> None:
    """Silence Brian2's warning that the synapses' ``on_pre`` may depend on their order.

    It fires because the statement draws ``rand()`` and writes the post variable ``v``:
    every synapse adds its own term to ``v_post`` and the release draws are independent,
    so the sum, and its distribution, do not depend on the order of the synapses.
    """
    b2.BrianLogger.suppress_hierarchy("brian2.codegen.generators.base")


def _read(network: Network, n_windows: int, counter: SynapticEventCounter) -> dict[str, Any]:
    """Copies of what the run recorded (the runtime device's arrays are views)."""
    mon = network.decisions
    n_out = len(network.output)
    order = np.lexsort((np.asarray(mon.i[:]), np.asarray(mon.t[:] / second)))
    potentials = np.asarray(mon.v[:])[order].reshape(n_windows, n_out)
    m = network.input_spikes
    spikes = {"inputs": SpikeData(np.array(m.i[:]), np.array(m.t[:] / second), len(m.source))}
    return {
        "potentials": potentials,
        "w": np.array(network.plastic.w[:]),
        "spikes": spikes,
        "events": counter.total(),
    }


def _collect(
    params: Params, seed: int, device: str, inputs: Inputs, rec: dict[str, Any], wall: float
) -> Result:
    """The run's Result."""
    window = float(params.window_steps * params.dt)
    n_copies, n_in = len(params.copies), inputs.x.shape[1]
    n_train, n_eval = inputs.n_train_windows, len(inputs.train) + len(inputs.validation)
    n_eval += len(inputs.test)
    t_train, t_eval = n_train * window, (n_train + n_eval) * window
    t_end = len(inputs.windows) * window
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=seed,
        device=device,
        populations=rec["spikes"],
        phases=[
            Phase("train", 0.0, t_train),
            Phase("evaluate", t_train, t_eval),
            Phase("deletion", t_eval, t_end),
        ],
        weights={"w": rec["w"].reshape(n_in, n_copies, 10), "rank": inputs.rank},
        extra={
            "potentials": rec["potentials"],
            "copies": np.array(params.copies),
            "windows": inputs.windows,
        },
        simulated_seconds=t_end,
        wall_seconds=wall,
        synaptic_events=rec["events"],
        versions=versions(),
    )


# --------------------------------------------------------------------------------- twin
@dataclasses.dataclass(frozen=True)
class Twin:
    """The DropConnect twin: weights per copy and the predictions they make.

    ``w`` (inputs x copies x classes); ``predictions[name]`` (copies x examples) for the
    sets ``train``, ``validation``, ``test`` and ``deleted_<fraction>``; ``inputs``;
    ``control`` (copies x examples, sets ``train``, ``validation``, ``test``): the
    slowed-learning control of every copy (:func:`twin`).
    """

    w: np.ndarray
    predictions: dict[str, np.ndarray]
    inputs: Inputs
    control: dict[str, np.ndarray]


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """:func:`~spikingml.analysis.dropconnect.train_delta_rule` at every copy's ``p``
    (trained side by side: :func:`~spikingml.analysis.dropconnect.train_delta_rules`).

    Beside each copy, a *control* without release noise: the delta rule at ``p = 1``
    with the learning rate ``eta p^2``, the rate at which DropConnect at ``p`` changes
    the effective weights ``p w`` on average (a release in ``p`` drives, and ``c``
    teaches, only a fraction ``p`` of the time). What the noise adds is the difference
    between the copy and its control.
    """
    params = Params() if params is None else params
    inputs = prepare_inputs(params, seed)
    x, labels = inputs.x, inputs.labels
    copies = list(params.copies)
    # each copy and its control trained side by side (dc.train_delta_rules: the same
    # weights as one at a time); the masks of a copy come from a stream of its own, so
    # adding a copy (a swept release_probability) leaves the others' masks as they were
    rngs = [np.random.default_rng([check_seed(seed), 0x7781, round(100 * p)]) for p in copies]
    trained = dc.train_delta_rules(
        x,
        labels,
        inputs.order,
        copies + [1.0] * len(copies),
        [params.learning_rate] * len(copies) + [params.learning_rate * p * p for p in copies],
        rngs + [np.random.default_rng(0)] * len(copies),
        spikes_per_input=params.spikes_per_input,
    )
    ws, preds, control = [], {}, {}
    for k, p in enumerate(copies):
        slow, w = trained[len(copies) + k], trained[k]
        for name in ("train", "validation", "test"):
            control.setdefault(name, []).append(dc.predict(slow, x[getattr(inputs, name)], 1.0))
        ws.append(w)
        for name in ("train", "validation", "test"):
            preds.setdefault(name, []).append(dc.predict(w, x[getattr(inputs, name)], p))
        for f in params.fractions:
            alive = dc.deletion_mask(inputs.rank, f)
            preds.setdefault(f"deleted_{f}", []).append(dc.predict(w, x[inputs.test], p, alive))
    predictions = {k: np.array(v) for k, v in preds.items()}
    control = {k: np.array(v) for k, v in control.items()}
    return Twin(np.stack(ws, axis=1), predictions, inputs, control)


# ------------------------------------------------------------------------------ compare
def circuit_predictions(result: Result, inputs: Inputs) -> dict[str, np.ndarray]:
    """The circuit's predicted classes (copies x examples), named as :class:`Twin`'s.

    A copy's prediction in a window is its output with the largest ``v`` at the decision.
    """
    params = Params.from_dict(result.params)
    copies = result.extra["copies"]
    v = result.extra["potentials"].reshape(-1, len(copies), 10)
    predicted = np.argmax(v, axis=2).T  # copies x windows
    start = inputs.n_train_windows
    out = {}
    for name in ("train", "validation", "test"):
        n = len(getattr(inputs, name))
        out[name] = predicted[:, start : start + n]
        start += n
    for f in params.fractions:
        out[f"deleted_{f}"] = predicted[:, start : start + len(inputs.test)]
        start += len(inputs.test)
    return out


def _summary(
    copies: list[float], preds: dict[str, np.ndarray], inputs: Inputs, fraction: float
) -> dict[str, Any]:
    labels = inputs.labels
    acc = {
        name: np.array([dc.accuracy(p, labels[getattr(inputs, name)]) for p in preds[name]])
        for name in ("train", "validation", "test")
    }
    gap = acc["train"] - acc["test"]
    best = dc.best_probability(copies, acc["validation"])
    deleted = np.array([dc.accuracy(p, labels[inputs.test]) for p in preds[f"deleted_{fraction}"]])
    loss = acc["test"] - deleted
    return {"acc": acc, "gap": gap, "best": best, "loss": loss}


@last_comparison  # figures() compares again: the same value, not computed twice
def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twin."""
    params = Params.from_dict(result.params)
    copies, inputs = params.copies, twin_output.inputs
    f = round(params.deletion_fraction, 2)
    spiking = _summary(copies, circuit_predictions(result, inputs), inputs, f)
    ref = _summary(copies, twin_output.predictions, inputs, f)
    listed = params.grid
    m: dict[str, float] = {}
    labels = inputs.labels
    control_gap = np.array(
        [
            dc.accuracy(tr, labels[inputs.train]) - dc.accuracy(te, labels[inputs.test])
            for tr, te in zip(
                twin_output.control["train"], twin_output.control["test"], strict=True
            )
        ]
    )
    for key in (
        "train_accuracy",
        "test_accuracy",
        "gap",
        "twin_test_accuracy",
        "twin_gap",
        "control_gap",
    ):
        for p in listed:
            k = copies.index(p)
            value = {
                "train_accuracy": spiking["acc"]["train"][k],
                "test_accuracy": spiking["acc"]["test"][k],
                "gap": spiking["gap"][k],
                "twin_test_accuracy": ref["acc"]["test"][k],
                "twin_gap": ref["gap"][k],
                "control_gap": control_gap[k],
            }[key]
            m[f"{key}_{p_label(p)}"] = float(value)
    one, stochastic = copies.index(1.0), copies.index(round(params.release_probability, 2))
    m["best_p"] = copies[spiking["best"]]
    m["gap_reduction"] = dc.gap_reduction(spiking["gap"][one], spiking["gap"][spiking["best"]])
    m["twin_best_p"] = copies[ref["best"]]
    m["twin_gap_reduction"] = dc.gap_reduction(ref["gap"][one], ref["gap"][ref["best"]])
    m["gap_curve_correlation"] = pearson(spiking["gap"], ref["gap"])
    m["noise_gap_reduction"] = dc.gap_reduction(
        control_gap[spiking["best"]], spiking["gap"][spiking["best"]]
    )
    m["test_accuracy"] = float(spiking["acc"]["test"][stochastic])
    m["gap"] = float(spiking["gap"][stochastic])
    m["twin_gap"] = float(ref["gap"][stochastic])
    m["deletion_loss_deterministic"] = float(spiking["loss"][one])
    m["deletion_loss_stochastic"] = float(spiking["loss"][spiking["best"]])
    m["deletion_loss_ratio"] = _ratio(spiking["loss"][spiking["best"]], spiking["loss"][one])
    m["twin_deletion_loss_ratio"] = _ratio(ref["loss"][ref["best"]], ref["loss"][one])
    active = inputs.x[inputs.train].mean()
    m["spikes_per_synapse_per_example"] = float(params.spikes_per_input * active)
    return m


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


# ------------------------------------------------------------------------------ figures
def raster_options(result: Result) -> dict[str, Any]:
    """``raster.png``: the input spikes of the first 40 training examples."""
    window = float(Params.from_dict(result.params).window)
    return {"populations": ["inputs"], "t_start": 0.0, "t_stop": 40 * window}


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png`` (accuracy and gap vs p, deletion curves) and
    ``weights.png`` (the learned weights of the copies at p = 1 and the best p).

    Drawn by :mod:`spikingml.figures.stochastic_synapses`.
    """
    from spikingml.figures import stochastic_synapses as drawing

    metrics = compare(result, twin_output)
    return drawing.figures(result, twin_output, metrics, Path(outdir))
