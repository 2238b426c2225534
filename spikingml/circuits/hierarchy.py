r"""Hierarchy: spiking layers with local rules on digits, beside a network trained by backprop.

The ML idea
-----------
Two accounts of a sensory hierarchy. In the older one, each stage removes the
redundancy of the one below (Barlow 1961; Atick & Redlich 1990): responses decorrelate
with depth. In the newer one, the stages are whatever makes the output layer good at
its task: networks trained end to end by back-propagation on labels predict the
responses of the ventral stream (Yamins & DiCarlo 2016). Does maximising the output
layer give the same decorrelation as a hierarchy that learns with local rules? This
circuit answers on scikit-learn's 8 x 8 digits, layer by layer, with the tools of
:mod:`spikingml.analysis.representations` (mean absolute pairwise correlation,
participation ratio, linear-SVM probes, RSA) and the twins of
:mod:`spikingml.analysis.hierarchy`.

The circuit
-----------
Every layer is made of integrate-and-fire units driven by a rate: a unit with rate
``rho`` integrates ``dphi/dt = rho`` and fires when ``phi > 1`` (``phi -= 1``), so it
fires regularly, and each spike adds ``1 / (rate * tau)`` to an exponential trace ``y``
(``dy/dt = -y / tau``) through which the next layer reads it (``y`` is the unit's rate
divided by its scale). Images are shown for ``window``; at an onset the traces of the
inputs and the first layer start from 0 and every layer restarts its window.

``inp`` (64 pixels): ``rho = rate_in * x_i`` (pixel intensity ``x_i`` in [0, 1]); trace
``tau_in``.

``l1`` (9 locations: 4 x 4 pixel patches at stride 2, ``k1`` units each): each location is
a soft winner-take-all block (Nessler et al. 2013) with one normaliser neuron ``norm``::

    u_k = sum_i w_ki y_i - sum_i w_ki**2 / 2        (i: the 16 pixels of the patch)
    Z = sum_{l in block} exp(gain_l1 * u_l + b_l)
    rho_k = active * rate_l1 * exp(gain_l1 * u_k + b_k) / Z,    active = t - t_on > tau_in

so the block's units fire the posterior of a Gaussian mixture of its patches. Every
spike of unit ``k`` moves its weights towards the input (instar,
:class:`~spikingml.plasticity.competitive.InstarRule`): ``w_ki += eta_l1 * (y_i - w_ki)``,
and once per window its excitability keeps its share of the block's spikes at ``1 / k1``
(:class:`~spikingml.plasticity.competitive.WindowHomeostasis`). Trace ``tau_l1``.

``l2`` (``9 * k1`` units, one per ``l1`` unit) and ``inter`` (``9 * k1`` interneurons,
graded): a decorrelating layer. Each unit receives its ``l1`` unit's trace ``y1_i`` and
inhibition from interneurons that it drives through the same synapses ``A``
(:class:`~spikingml.plasticity.whitening.InterneuronWhitening`)::

    z_m = sum_i A_im v_i
    tau_v dv_i/dt = y1_i - sum_m A_im z_m - v_i
    rho_i = rate_l2 * [1 + kappa * v_i / sqrt(s2)]_+
    A_im += eta_whiten * (v_i z_m - s2 A_im) / s2            (once per window)

At rest ``v = (I + A A^T)^{-1} y1``, and the rule caps the second moment of ``v`` at
``s2`` in every direction: the layer divides out the strongest shared components of its
input, the mean activity among them (the input is not centred: a unit's baseline is
the readout's bias). Trace ``tau_l2``; the readout's presynaptic signal is
``r_i = (y2_i - 1) / kappa`` (about ``v_i / sqrt(s2)``). A unit fires at most once per
step, so its code ``v_i / sqrt(s2)`` spans ``[-1 / kappa, (1 / (rate_l2 dt) - 1) / kappa]``:
``[-1.7, 5]`` at the defaults (250 Hz, ``kappa`` 0.6). With 400 Hz and ``kappa`` 1 the
top of the range was 1.5, and 3 % of the test responses were clipped there (measured
at ``s2`` = 0.005, seed 2: readout 0.948 against 0.965 with the wider range).

``top`` (10 units, a softmax through all-to-all normalising synapses)::

    u_j = sum_i W_ji r_i        p_j = exp(gain_top * u_j) / sum_l exp(gain_top * u_l)
    rho_j = rate_top * p_j

learns with a supervised three-factor rule
(:class:`~spikingml.plasticity.readout.TeacherDeltaRule`): over the last
``window - readout_delay`` of each window, every ``l2`` unit averages ``r_i`` into an
eligibility ``elig_i`` and every top unit averages ``p_j`` into ``q_j``; at the end of
the window the teacher (1 for the unit of the correct digit, else 0) gates
``W_ji += eta_top * (target_j - q_j) * elig_i``. No weight is set by back-propagation.

Protocol
--------
``n_train`` training digits, in a new random order each epoch: ``epochs_l1`` epochs in
which only ``l1`` learns, then ``epochs_l2`` in which only ``l2`` learns, then
``epochs_top`` in which only the readout learns (a layer learns on the settled code of
the layers below). Then ``test``: each of the ``n_test`` held-out digits for
``test_windows`` windows in a row, learning off; a layer's response to a digit is its
units' spike counts over those windows, from ``readout_delay`` after the onset (the
layers are still settling from the previous digit before). The split is stratified and
drawn from the seed (:func:`~spikingml.analysis.hierarchy.digit_split`). Spikes are kept
for the first ``raster_digits`` test digits only (the counts of all of them are recorded as the
signals ``counts_l1``, ``counts_l2``, ``counts_top``): a full test phase is tens of
millions of spikes. No ``network_operation``: one ``cpp_standalone`` program (the
default device) runs the whole protocol. The run-time fields (the rates, gains, time
constants, learning rates, ``kappa`` and ``s2`` of the layers, and the twin's
``backprop_epochs``; ``Params.runtime_fields()``) are shared constants of the groups
that read them, so the compiled program runs with new values of them without a new
compilation (:func:`simulate_many`).

The twins and the metrics
-------------------------
On the same split and digits: (a) ``backprop``, the same architecture as a rate network
(local 4 x 4 fields with ``k1`` ReLU units each, ``9 * k1`` ReLU units, 10 logits)
trained end to end by back-propagation on the labels only
(:func:`~spikingml.analysis.hierarchy.train_backprop`, JAX, extra ``hierarchy``);
(b) ``cascade``, an unsupervised cascade of the same sizes (FastICA per location, then
k-means with ``9 * k1`` and 10 centres;
:func:`~spikingml.analysis.hierarchy.train_cascade`). For every model and layer
(``l1``, ``l2``, ``top``) on the test digits: mean absolute correlation, participation
ratio and 5-fold linear-SVM probe; ``top_accuracy`` of the circuit's own readout;
RSA (Spearman correlation of correlation-distance RDMs) between the circuit's layers and
the backprop twin's, matched (layer k with layer k) and mismatched; t-SNE of the
circuit's top layer.

References
----------
Barlow, H. B. (1961). Possible principles underlying the transformation of sensory
messages. In Sensory Communication (ed. W. A. Rosenblith), MIT Press, 217-234.

Atick, J. J. & Redlich, A. N. (1990). Towards a theory of early visual processing.
Neural Computation 2, 308-320.

Yamins, D. L. K. & DiCarlo, J. J. (2016). Using goal-driven deep learning models to
understand sensory cortex. Nature Neuroscience 19, 356-365.

Nessler, B., Pfeiffer, M., Buesing, L. & Maass, W. (2013). Bayesian computation emerges
in generic cortical microcircuits through spike-timing-dependent plasticity. PLoS
Comput. Biol. 9, e1003037.

Pehlevan, C. & Chklovskii, D. B. (2015). A normative theory of adaptive dimensionality
reduction in neural networks. NIPS 28.

Fremaux, N. & Gerstner, W. (2016). Neuromodulated spike-timing-dependent plasticity, and
theory of three-factor learning rules. Front. Neural Circuits 9, 85.

Kriegeskorte, N., Mur, M. & Bandettini, P. (2008). Representational similarity
analysis: connecting the branches of systems neuroscience. Front. Syst. Neurosci. 2, 4.
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
from spikingml.analysis import hierarchy as twins
from spikingml.circuits._hierarchy_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.plasticity.competitive import InstarRule, WindowHomeostasis
from spikingml.plasticity.readout import TeacherDeltaRule
from spikingml.plasticity.whitening import InterneuronWhitening
from spikingml.result import Phase, Result, Signal, SpikeData
from spikingml.simulation import (
    SynapticEventCounter,
    check_device,
    check_seed,
    circuit_device,
    run_network,
    set_constants,
    versions,
)

__all__ = [
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "DEFAULT_DEVICE",
    "DEVICES_IDENTICAL",
    "LAYERS",
    "MODELS",
    "Inputs",
    "Network",
    "Params",
    "Twin",
    "build_network",
    "compare",
    "figures",
    "layer_responses",
    "prepare_inputs",
    "raster_options",
    "simulate",
    "simulate_many",
    "twin",
]

NAME = "hierarchy"
DESCRIPTION = (
    "digits through three spiking layers that learn with local rules (soft WTA, "
    "interneuron whitening, three-factor readout), beside backprop and an unsupervised cascade"
)
DEFAULT_DEVICE = "cpp_standalone"
#: No random number is drawn on the device, but NumPy and C++ sum the normalisers in
#: another order: a threshold crossing can move by a step in a long run, so the two
#: devices give equivalent, not identical, spikes.
DEVICES_IDENTICAL = False

#: The layers of every model, from the input up.
LAYERS = ("l1", "l2", "top")
#: The models compared: the circuit and its two twins.
MODELS = ("spiking", "backprop", "cascade")

_MODEL_NAMES = {
    "spiking": "circuit",
    "backprop": "backprop twin",
    "cascade": "unsupervised cascade",
}
_PROFILE = {
    "mean_abs_correlation": "mean |pairwise correlation| of the units' responses to the "
    "test digits (lower = more decorrelated)",
    "participation_ratio": "participation ratio of the responses' covariance (effective "
    "dimensionality; higher = less redundant)",
    "probe_accuracy": "5-fold linear-SVM probe accuracy of the digit on the responses "
    "(higher is better)",
}

#: Every metric :func:`compare` returns.
METRICS: dict[str, str] = {
    "top_accuracy": "fraction of test digits whose most active top unit is the digit: the "
    "circuit's own readout (higher is better; target >= 0.95, issue 22)",
    "backprop_accuracy": "test accuracy of the backprop twin (largest logit; reference)",
    "readout_gap": "backprop_accuracy - top_accuracy (stretch target <= 0.02)",
    "decorrelation_monotone": "1 if the circuit's mean |r| falls from l1 to l2 to top, "
    "else 0 (target 1)",
    **{f"pixels_{k}": f"{v}, of the pixels (reference)" for k, v in _PROFILE.items()},
    **{
        f"{model}_<layer>_{k}": f"{v}, of the {what}'s layer l1, l2 or top"
        for model, what in _MODEL_NAMES.items()
        for k, v in _PROFILE.items()
    },
    "rsa_matched_<layer>": "RSA (Spearman correlation of correlation-distance RDMs) of the "
    "circuit's layer with the backprop twin's same layer (stretch target >= 0.6)",
    "rsa_mismatched_max": "largest RSA of a circuit layer with a different backprop layer "
    "(stretch target: below every rsa_matched)",
    "rsa_cascade_matched_mean": "mean RSA of the circuit's layers with the cascade's same "
    "layers (reference)",
    "tsne_trustworthiness": "trustworthiness (k = 10) of a t-SNE map of the circuit's top "
    "layer responses (higher is better)",
    "tsne_knn_accuracy": "10-nearest-neighbour accuracy of the digit in that map (5-fold)",
}


# --------------------------------------------------------------------------- parameters
def _time(default: Any, doc: str, **bounds: Any) -> Any:
    return param(default, doc, unit=second, low=0 * ms, low_inclusive=False, **bounds)


def _rate(default: Any, doc: str, **options: Any) -> Any:
    return param(default, doc, unit=Hz, low=0 * Hz, low_inclusive=False, **options)


def _positive(default: float, doc: str, **options: Any) -> Any:
    return param(default, doc, low=0, low_inclusive=False, **options)


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the spiking hierarchy (default: 1257 training, 540 test digits)."""

    circuit_name = "Hierarchy"

    n_test: int = param(540, "held-out digits (stratified split)", integer=True, low=50, high=900)
    n_train: int = param(
        1257, "training digits used (of those not held out)", integer=True, low=10, high=1747
    )
    k1: int = param(16, "units per location of l1 (9 locations)", integer=True, low=2, high=16)
    window: Any = _time(80 * ms, "presentation of one digit")
    readout_delay: Any = _time(45 * ms, "start of the readout's averaging in a window")
    epochs_l1: int = param(1, "epochs in which l1 learns", integer=True, low=0)
    epochs_l2: int = param(1, "epochs in which l2 learns", integer=True, low=0)
    epochs_top: int = param(5, "epochs in which the readout learns", integer=True, low=1)
    test_windows: int = param(4, "windows per test digit", integer=True, low=1)
    raster_digits: int = param(10, "test digits whose spikes are kept", integer=True, low=1)
    rate_in: Any = _rate(500 * Hz, "input rate at pixel intensity 1", runtime=True)
    tau_in: Any = _time(10 * ms, "input traces (and l1's silence after an onset)", runtime=True)
    rate_l1: Any = _rate(1000 * Hz, "total rate of an l1 block", runtime=True)
    gain_l1: float = _positive(6.0, "gain of the l1 softmax", runtime=True)
    tau_l1: Any = _time(10 * ms, "l1 traces", runtime=True)
    eta_l1: float = param(0.0005, "instar step per l1 spike", low=0, high=1, runtime=True)
    eta_homeostasis: float = param(
        0.05, "l1 excitability change per unit of share error", low=0, runtime=True
    )
    rate_l2: Any = _rate(250 * Hz, "l2 rate at v = 0", runtime=True)
    kappa: float = _positive(0.6, "l2 rate modulation per sqrt(s2) of v", runtime=True)
    tau_v: Any = _time(8 * ms, "l2 potential time constant", runtime=True)
    tau_l2: Any = _time(10 * ms, "l2 traces", runtime=True)
    eta_whiten: float = param(0.01, "whitening rule step, relative to s2", low=0, runtime=True)
    s2: float = _positive(0.015, "variance l2 allows in any direction", runtime=True)
    a_init: float = param(0.01, "std of the initial unit <-> interneuron weights", low=0)
    rate_top: Any = _rate(500 * Hz, "total rate of the top layer", runtime=True)
    gain_top: float = _positive(1.0, "gain of the top softmax", runtime=True)
    eta_top: float = param(0.05, "readout step per window", low=0, runtime=True)
    backprop_epochs: int = param(
        60, "epochs of the backprop twin", integer=True, low=1, runtime=True
    )
    perplexity: float = _positive(30.0, "perplexity of the t-SNE map of the top layer")
    dt: Any = _time(1 * ms, "simulation time step", high=1 * ms)

    def check(self) -> None:
        """Cross-field checks: whole steps, delays inside the window, split sizes."""
        for name in ("window", "readout_delay"):
            if not is_whole(float(getattr(self, name) / self.dt)):
                raise ValidationError(
                    self.qualname(name), f"a whole number of steps dt ({self.dt})",
                    getattr(self, name),
                )  # fmt: skip
        if not self.tau_in < self.readout_delay < self.window:
            raise ValidationError(
                self.qualname("readout_delay"),
                f"between tau_in ({self.tau_in}) and window ({self.window})",
                self.readout_delay,
            )
        if self.n_train > 1797 - self.n_test:
            raise ValidationError(
                self.qualname("n_train"), f"<= 1797 - n_test ({1797 - self.n_test})", self.n_train
            )
        if not self.perplexity < self.n_test / 3:
            raise ValidationError(
                self.qualname("perplexity"), f"< n_test / 3 ({self.n_test / 3})", self.perplexity
            )
        if self.raster_digits > self.n_test:
            raise ValidationError(
                self.qualname("raster_digits"), f"<= n_test ({self.n_test})", self.raster_digits
            )
        # a unit fires at most once per step: a rate above 1 / dt would be lost, silently
        for name in ("rate_in", "rate_l1", "rate_l2", "rate_top"):
            if float(getattr(self, name) * self.dt) > 1.0 + 1e-12:
                raise ValidationError(
                    self.qualname(name),
                    f"at most 1 / dt ({float(1 / self.dt):g} Hz; a unit fires at most once "
                    "per step)",
                    getattr(self, name),
                )

    @classmethod
    def quick(cls) -> Params:
        """400 training and 200 test digits, three readout epochs: the example's run."""
        return cls(n_train=400, n_test=200, epochs_top=3, test_windows=2, backprop_epochs=40)

    @classmethod
    def tiny(cls) -> Params:
        """40 training and 50 test digits in 40 ms windows: the conformance test's run.

        40 training digits is about the fewest on which the cascade's FastICA converges
        in every field (with 20, three fields of nine fail).
        """
        return cls(
            n_train=40, n_test=50, k1=4, window=40 * ms, readout_delay=25 * ms,
            epochs_top=1, test_windows=1, raster_digits=5, backprop_epochs=5, perplexity=10.0,
        )  # fmt: skip

    def rules(self) -> dict[str, Any]:
        """The four learning rules, built from these parameters."""
        return {
            "instar": InstarRule(eta=self.eta_l1),
            "homeostasis": WindowHomeostasis(eta=self.eta_homeostasis),
            "whitening": InterneuronWhitening(eta=self.eta_whiten, s2=self.s2),
            "readout": TeacherDeltaRule(eta=self.eta_top),
        }


# ------------------------------------------------------------------------------ inputs
@dataclasses.dataclass(frozen=True)
class Inputs:
    """Digits, split, order of presentation, schedules and initial values of a run."""

    images: np.ndarray  # (1797, 64), pixels / 16
    labels: np.ndarray  # (1797,)
    train: np.ndarray  # indices of the training digits used
    test: np.ndarray  # indices of the held-out digits
    order: np.ndarray  # digit of every window: training epochs, then test
    phase: np.ndarray  # per window: 1, 2, 3 (which layer learns) or 0 (test)
    onset: np.ndarray  # per window: 1 where a new digit starts
    w1: np.ndarray  # (9 * k1, 16) initial l1 weights
    a: np.ndarray  # (9 * k1, 9 * k1) initial unit <-> interneuron weights
    phi: dict[str, np.ndarray]  # initial phase of every unit of every layer

    @property
    def n_train_windows(self) -> int:
        """Windows before the test phase."""
        return int(np.sum(self.phase > 0))


def prepare_inputs(params: Params, seed: int) -> Inputs:
    """Split the digits and draw the order, the initial weights and the units' phases."""
    rng = np.random.default_rng([check_seed(seed), 0x41E])
    images, labels = twins.load_digits_scaled()
    train, test = twins.digit_split(labels, params.n_test, check_seed(seed))
    train = np.sort(rng.permutation(train)[: params.n_train])
    epochs = (params.epochs_l1, params.epochs_l2, params.epochs_top)
    blocks = [rng.permutation(train) for _ in range(sum(epochs))]
    phase = np.repeat(np.arange(1, 4), np.array(epochs) * len(train))
    reps = params.test_windows
    order = np.concatenate([*blocks, np.repeat(test, reps)]).astype(int)
    phase = np.concatenate([phase, np.zeros(len(test) * reps, dtype=int)])
    onset = np.ones(len(order))
    onset[len(phase) - len(test) * reps :] = np.tile(np.r_[1.0, np.zeros(reps - 1)], len(test))
    n1 = 9 * params.k1
    w1 = rng.uniform(0.1, 0.5, (n1, 16))
    a = rng.normal(0.0, params.a_init, (n1, n1))
    phi = {name: rng.uniform(0, 1, n) for name, n in (("inp", 64), ("l1", n1), ("l2", n1))}
    phi["top"] = rng.uniform(0, 1, 10)
    return Inputs(images, labels, train, test, order, phase, onset, w1, a, phi)


def _schedules(params: Params, inputs: Inputs) -> dict[str, b2.TimedArray]:
    """Per-window TimedArrays: the image, onsets, and (lagged by a window) learning."""
    win = params.window
    ended = np.r_[0, inputs.phase]  # value at window k: the phase of window k - 1
    label_ended = np.r_[-1, inputs.labels[inputs.order]].astype(float)
    arrays = {
        "img": inputs.images[inputs.order],
        "onset": inputs.onset,
        "learn_ended_l1": (ended == 1) * 1.0,
        "learn_ended_l2": (ended == 2) * 1.0,
        "learn_ended_top": (ended == 3) * 1.0,
        "learn_l1": (inputs.phase == 1) * 1.0,
        "learn_top": (inputs.phase == 3) * 1.0,
        "label_ended": label_ended,
    }
    return {k: b2.TimedArray(v, dt=win, name=k) for k, v in arrays.items()}


# ------------------------------------------------------------------------------ network
_IAF = "dphi/dt = rho : 1\ndy/dt = -y / {tau} : 1\nt_on : second\n"
_COUNT = "n += int(t - t_on > readout_delay - 0.5 * dt)"  # the response: from the delay on
_RESET = "phi -= 1; y += 1 / ({rate} * {tau}); " + _COUNT + "{extra}"
# The run-time fields are shared constants (their values: _constants) of the groups that
# read them; Synapses read those of their target group (ff1: instar_eta of l1, ei:
# whiten_* of inter, ie: of l2, readout: readout_eta of top).
_INPUT = """rho = rate_in * img(t, i) : Hz
n : 1
rate_in : hertz (shared, constant)
tau_in : second (shared, constant)
"""
_L1 = """u : 1
Z : 1
b : 1
c : 1
n : 1
rho = int(t - t_on > tau_in) * rate_l1 * exp(gain_l1 * u + b) / Z : Hz
tau_in : second (shared, constant)
rate_l1 : hertz (shared, constant)
gain_l1 : 1 (shared, constant)
tau_l1 : second (shared, constant)
instar_eta : 1 (shared, constant)
homeo_eta : 1 (shared, constant)
"""
_L2 = """y1 : 1 (linked)
inh : 1
n : 1
dv/dt = (y1 - inh - v) / tau_v : 1
rho = rate_l2 * clip(1 + kappa * v / sqrt(whiten_s2), 0, inf) : Hz
r = (y - 1) / kappa : 1
delig/dt = learn_top(t) * int(t - t_on > readout_delay) * r / (window - readout_delay) : 1
rate_l2 : hertz (shared, constant)
kappa : 1 (shared, constant)
tau_v : second (shared, constant)
tau_l2 : second (shared, constant)
whiten_eta : 1 (shared, constant)
whiten_s2 : 1 (shared, constant)
"""
_INTER = """z : 1
whiten_eta : 1 (shared, constant)
whiten_s2 : 1 (shared, constant)
"""
_TOP = """u : 1
Z : 1
n : 1
p = exp(gain_top * u) / Z : 1
dq/dt = learn_top(t) * int(t - t_on > readout_delay) * p / (window - readout_delay) : 1
dphi/dt = rate_top * p : 1
t_on : second
rate_top : hertz (shared, constant)
gain_top : 1 (shared, constant)
readout_eta : 1 (shared, constant)
"""
_START = "t_on = onset(t) * t + (1 - onset(t)) * t_on\n"


def _constants(params: Params) -> dict[str, Any]:
    """The run-time fields the network reads, by their names in the equations (the
    rules' values by their rules' names), where they are ``(shared, constant)``
    variables: the program compiled for one value runs with another
    (:func:`spikingml.simulation.constant_args`)."""
    names = ("rate_in", "tau_in", "rate_l1", "gain_l1", "tau_l1", "rate_l2", "kappa",
             "tau_v", "tau_l2", "rate_top", "gain_top")  # fmt: skip
    values = {k: getattr(params, k) for k in names}
    for rule in params.rules().values():
        values.update(rule.namespace())
    return values


class Network(NamedTuple):
    """The Brian2 objects of a run (:func:`build_network`)."""

    net: b2.Network
    layers: dict[str, b2.NeuronGroup]
    ff1: b2.Synapses
    ei: b2.Synapses
    readout: b2.Synapses
    counts: dict[str, b2.StateMonitor]
    spikes: dict[str, b2.EventMonitor]


def build_network(params: Params, inputs: Inputs) -> Network:
    """Create every Brian2 object of the circuit.

    Call it inside :func:`~spikingml.simulation.circuit_device` (or a ``cpp_standalone``
    device that only records the run: :func:`simulate_many`).

    Parameters
    ----------
    params : Params
        Circuit parameters.
    inputs : Inputs
        Digits, order, schedules and initial values (:func:`prepare_inputs`).

    Returns
    -------
    Network
        The objects, collected in a ``brian2.Network`` ready to run.
    """
    p, rules, win = params, params.rules(), params.window
    b2.defaultclock.dt = p.dt
    n1, k1 = 9 * p.k1, p.k1
    ns = {"window": win, "readout_delay": p.readout_delay, "k1": float(k1)}
    ns.update(_schedules(p, inputs))  # kept spikes: the first raster digits
    ns["t_test"] = inputs.n_train_windows * win - 0.5 * p.dt
    ns["t_raster"] = ns["t_test"] + p.raster_digits * p.test_windows * win
    event = {"test_spike": "phi > 1 and t > t_test and t < t_raster"}

    def layer(n, model, tau, rate, name, extra=""):
        return b2.NeuronGroup(
            n, model + _IAF.format(tau=tau), threshold="phi > 1", events=dict(event),
            reset=_RESET.format(rate=rate, tau=tau, extra=extra), method="euler",
            namespace=ns, name=name,
        )  # fmt: skip

    inp = layer(64, _INPUT, "tau_in", "rate_in", "inp")
    l1 = layer(n1, _L1, "tau_l1", "rate_l1", "l1", extra="; c += 1")
    l2 = layer(n1, _L2, "tau_l2", "rate_l2", "l2")
    top = b2.NeuronGroup(10, _TOP, threshold="phi > 1", reset="phi -= 1; " + _COUNT,
                         events=dict(event), method="euler", namespace=ns, name="top")  # fmt: skip
    inter = b2.NeuronGroup(n1, _INTER, name="inter")
    l2.y1 = b2.linked_var(l1, "y")
    l2.y, l1.Z, top.Z = 1.0, 1.0, 1.0
    for group in (inp, l1, l2, top):
        group.phi = inputs.phi[group.name]
    # learning at the end of a window (first step of the next, before the onset resets)
    learn = {"when": "start", "order": -10, "dt": win}
    l1.run_regularly(
        rules["homeostasis"].update_code("k1", "rate_l1", "(window - tau_in)",
                                         rate="learn_ended_l1(t)"), **learn, name="l1_homeo",
    )  # fmt: skip
    # onsets: traces of inp and l1 start from 0, l2's from its baseline 1; counts restart
    for group, extra in ((inp, "y *= 1 - onset(t)"), (l1, "y *= 1 - onset(t)"),
                         (l2, "elig *= 1 - onset(t)"), (top, "q *= 1 - onset(t)")):  # fmt: skip
        group.run_regularly(_START + extra + "\nn *= 1 - onset(t)", dt=win, when="start",
                            name=f"{group.name}_onset")  # fmt: skip
    l1.run_regularly("c = 0", dt=win, when="start", order=-5, name="l1_count")
    patches = twins.patch_indices()
    ff1 = b2.Synapses(inp, l1, "w : 1\nu_post = w * y_pre - 0.5 * w**2 : 1 (summed)",
                      on_post=rules["instar"].on_post(rate="learn_l1(t)"), namespace=ns,
                      name="ff1")  # fmt: skip
    ff1.connect(i=np.repeat(patches, k1, axis=0).ravel(), j=np.repeat(np.arange(n1), 16))
    ff1.w = inputs.w1.ravel()
    norm = b2.NeuronGroup(9, "Zs : 1", name="norm")
    up = b2.Synapses(l1, norm, "Zs_post = exp(gain_l1_pre * u_pre + b_pre) : 1 (summed)",
                     namespace=ns, name="l1_norm")  # fmt: skip
    up.connect(i=np.arange(n1), j=np.arange(n1) // k1)
    down = b2.Synapses(norm, l1, "Z_post = Zs_pre : 1 (summed)", name="norm_l1")
    down.connect(i=np.arange(n1) // k1, j=np.arange(n1))
    pairs = np.indices((n1, n1)).reshape(2, -1)  # (unit i, interneuron m)
    ei = b2.Synapses(l2, inter, "A : 1\nz_post = A * v_pre : 1 (summed)", namespace=ns, name="ei")
    ie = b2.Synapses(inter, l2, "A : 1\ninh_post = A * z_pre : 1 (summed)", namespace=ns,
                     name="ie")  # fmt: skip
    ei.connect(i=pairs[0], j=pairs[1])
    ie.connect(i=pairs[1], j=pairs[0])
    ei.A = ie.A = inputs.a.ravel()
    for syn, unit in ((ei, "pre"), (ie, "post")):
        code = rules["whitening"].update_code(unit=unit, rate="learn_ended_l2(t)")
        syn.run_regularly(code, **learn, name=f"{syn.name}_learn")
    readout = b2.Synapses(l2, top, "W : 1\nu_post = W * r_pre : 1 (summed)", namespace=ns,
                          name="readout")  # fmt: skip
    readout.connect()
    target = "int(abs(label_ended(t) - j) < 0.5)"
    readout.run_regularly(rules["readout"].update_code(target, weight="W",
                          rate="learn_ended_top(t)"), **learn, name="readout_learn")  # fmt: skip
    soft = b2.Synapses(top, top, "Z_post = exp(gain_top * u_pre) : 1 (summed)", namespace=ns,
                       name="top_norm")  # fmt: skip
    soft.connect()
    for order, syns in enumerate(((ff1, readout), (up, ei), (down, ie, soft))):
        for syn in syns:
            next(iter(syn.summed_updaters.values())).order = order - 6
    groups = {"inp": inp, "l1": l1, "l2": l2, "top": top}
    counts = {k: b2.StateMonitor(groups[k], "n", record=True, dt=win, when="start", order=-20,
                                 name=f"{k}_counts") for k in LAYERS}  # fmt: skip
    spikes = {k: b2.EventMonitor(g, "test_spike", name=f"{k}_spikes") for k, g in groups.items()}
    net = b2.Network(*groups.values(), inter, norm, ff1, up, down, ei, ie, readout, soft)
    net.add(*counts.values(), *spikes.values())
    set_constants(net, _constants(p))  # the run-time fields' values
    return Network(net, groups, ff1, ei, readout, counts, spikes)


def simulate(
    params: Params | None = None,
    seed: int = 0,
    device: str = DEFAULT_DEVICE,
    progress: bool = True,
) -> Result:
    """Train the three layers in turn, then record their responses to the test digits.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of the split, the order, the initial weights and the units' phases.
    device : {"runtime", "cpp_standalone"}
        Brian2 device (default ``cpp_standalone``).
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone`` run
        reports nothing until it ends).

    Returns
    -------
    Result
        Populations ``inp``, ``l1``, ``l2``, ``top`` (spikes of the first
        ``raster_digits`` test digits); signals ``counts_l1``, ``counts_l2``,
        ``counts_top`` (spike counts of every test digit, one row per digit); events
        ``digit`` (test onsets); phases ``train`` and ``test``; weights ``w1``, ``A``,
        ``W`` (readout) and ``b1``; ``extra`` holds the split, labels, order, ``window``
        and ``readout_delay`` (in seconds).

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure, and the run-time fields are run arguments
    (:func:`simulate_many`): a run that changes only those (``eta_top``, ``s2``, ...)
    compiles nothing, and other seeds reuse the code objects.

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
    inputs = prepare_inputs(params, seed)
    t_wall = time.perf_counter()
    with circuit_device(NAME, params, device, seed) as directory:
        network = build_network(params, inputs)
        counter = SynapticEventCounter(network.net)
        run_network(network.net, _duration(params, inputs), NAME, progress, directory)
        return _collect(params, inputs, network, counter, seed, device, t_wall)


def _check_params(params: Params | None) -> Params:
    """``params``, or the default preset if ``None``; refuses another circuit's."""
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "a hierarchy.Params", type(params).__name__)
    return params


def _duration(params: Params, inputs: Inputs) -> Any:
    """The run: every window, and a closing one that stores the last counts."""
    return (len(inputs.order) + 1) * params.window


def _collect(
    params: Params,
    inputs: Inputs,
    network: Network,
    counter: SynapticEventCounter,
    seed: int,
    device: str,
    t_wall: float,
) -> Result:
    """Read a finished run into a :class:`Result` (wall time from ``t_wall``)."""
    win = float(params.window)
    t_train = inputs.n_train_windows * win
    t_total = float(_duration(params, inputs))
    pops = {
        name: SpikeData(np.asarray(m.i[:]), np.asarray(m.t[:] / second), len(m.source))
        for name, m in network.spikes.items()
    }
    # the count of test digit s is stored at the start of the window after its last
    reps, n_train_w = params.test_windows, inputs.n_train_windows
    rows = n_train_w + reps * (1 + np.arange(params.n_test))
    counts = {k: np.asarray(m.n[:]).T[rows] for k, m in network.counts.items()}
    n1 = 9 * params.k1
    weights = {
        "w1": np.asarray(network.ff1.w[:]).reshape(n1, 16),
        "b1": np.asarray(network.layers["l1"].b[:]),
        "A": np.asarray(network.ei.A[:]).reshape(n1, n1),
        "W": np.asarray(network.readout.W[:]).reshape(n1, 10).T,
    }
    synaptic_events = counter.total()
    wall = time.perf_counter() - t_wall
    onsets = t_train + win * reps * np.arange(params.n_test)
    signals = {
        f"counts_{k}": Signal(v, dt=win * reps, unit="1", t_start=t_train, population=k)
        for k, v in counts.items()
    }
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=seed,
        device=device,
        populations=pops,
        signals=signals,
        events={"digit": onsets},
        phases=[Phase("train", 0.0, t_train), Phase("test", t_train, t_total)],
        weights=weights,
        extra={
            "train": inputs.train,
            "test": inputs.test,
            "labels_test": inputs.labels[inputs.test],
            "order": inputs.order,
            "n_train_windows": inputs.n_train_windows,
            "window": win,  # seconds
            "readout_delay": float(params.readout_delay),
        },
        simulated_seconds=t_total,
        wall_seconds=wall,
        synaptic_events=synaptic_events,
        versions=versions(),
    )


def layer_responses(result: Result) -> dict[str, np.ndarray]:
    """The circuit's responses to the test digits: ``{"l1", "l2", "top"}`` spike counts.

    Each is ``(n_test, n_units)``: a unit's spikes over the digit's ``test_windows``,
    from ``readout_delay`` after its onset.
    """
    return {k: result.signals[f"counts_{k}"].values for k in LAYERS}


# --------------------------------------------------------------------------------- twin
@dataclasses.dataclass(frozen=True)
class Twin:
    """The two twins' layer responses to the test digits, and the pixels."""

    pixels: np.ndarray  # (n_test, 64)
    labels: np.ndarray  # (n_test,)
    backprop: dict[str, np.ndarray]
    cascade: dict[str, np.ndarray]
    backprop_accuracy: float


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """Train the backprop twin and the unsupervised cascade on the run's training digits."""
    params = Params() if params is None else params
    inputs = prepare_inputs(params, seed)
    x, y = inputs.images, inputs.labels
    tr, te = inputs.train, inputs.test
    k2 = 9 * params.k1
    net = twins.train_backprop(
        x[tr], y[tr], k1=params.k1, k2=k2, epochs=params.backprop_epochs, seed=seed
    )
    cascade = twins.train_cascade(x[tr], k1=params.k1, k2=min(k2, len(tr) - 1), seed=seed)
    accuracy = float(np.mean(net.predict(x[te]) == y[te]))
    return Twin(x[te], y[te], net.responses(x[te]), cascade.responses(x[te]), accuracy)


# ------------------------------------------------------------------------------ compare
@last_comparison  # figures() compares again: the same value, not computed twice
def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twins."""
    from spikingml.analysis.representations import tsne_map

    labels, seed = result.extra["labels_test"], result.seed
    models = {
        "spiking": layer_responses(result),
        "backprop": twin_output.backprop,
        "cascade": twin_output.cascade,
    }
    top = models["spiking"]["top"]
    out = {
        "top_accuracy": float(np.mean(np.argmax(top, axis=1) == labels)),
        "backprop_accuracy": twin_output.backprop_accuracy,
    }
    out["readout_gap"] = out["backprop_accuracy"] - out["top_accuracy"]
    profiles = {m: twins.layer_profile(r, labels, seed=seed) for m, r in models.items()}
    r = [profiles["spiking"][k]["mean_abs_correlation"] for k in LAYERS]
    out["decorrelation_monotone"] = float(r[0] > r[1] > r[2])
    pixels = twins.layer_profile({"x": twin_output.pixels}, labels, seed=seed)["x"]
    out.update({f"pixels_{k}": v for k, v in pixels.items()})
    for model, layers in profiles.items():
        for layer, values in layers.items():
            out.update({f"{model}_{layer}_{k}": v for k, v in values.items()})
    rdms = {m: {k: _rdm(v) for k, v in layers.items()} for m, layers in models.items()}
    ours = rdms["spiking"]
    for k in LAYERS:
        out[f"rsa_matched_{k}"] = _rsa(ours[k], rdms["backprop"][k])
    mismatched = [_rsa(ours[a], rdms["backprop"][b]) for a in LAYERS for b in LAYERS if a != b]
    out["rsa_mismatched_max"] = (
        float(np.nanmax(mismatched)) if np.isfinite(mismatched).any() else float("nan")
    )
    out["rsa_cascade_matched_mean"] = float(
        np.mean([_rsa(ours[k], rdms["cascade"][k]) for k in LAYERS])
    )
    tsne = tsne_map(top, labels, seed=seed, perplexity=float(result.params["perplexity"]))
    out["tsne_trustworthiness"] = float(tsne.trustworthiness)
    out["tsne_knn_accuracy"] = float(tsne.knn_accuracy)
    return out


def _rdm(responses: np.ndarray) -> np.ndarray | None:
    """Correlation-distance RDM, or None where a stimulus's pattern is constant (silent)."""
    from spikingml.analysis.representations import rdm

    try:
        return rdm(responses)
    except ValidationError:
        return None


def _rsa(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """RSA of two RDMs; NaN where either is undefined (a silent or constant stimulus)."""
    from spikingml.analysis.representations import rsa

    return float("nan") if a is None or b is None else float(rsa(a, b))


# ------------------------------------------------------------------------------ figures
def raster_options(result: Result) -> dict[str, Any]:
    """``raster.png``: the four layers over the first test digits."""
    test = result.phases[-1]
    win = float(result.extra["window"])
    span = int(result.params["raster_digits"]) * int(result.params["test_windows"]) * win
    return {
        "populations": ["inp", "l1", "l2", "top"],
        "t_start": test.start,
        "t_stop": test.start + span,
        "bin_width": win / 4,
    }


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png`` (the three models' profiles) and ``rsa.png``.

    Drawn by :mod:`spikingml.figures.hierarchy`.
    """
    from spikingml.figures import hierarchy as drawing

    metrics = compare(result, twin_output)
    return drawing.figures(result, twin_output, metrics, Path(outdir))
