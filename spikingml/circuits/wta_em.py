r"""A stochastic winner-take-all circuit whose STDP performs EM on binary patterns.

The ML idea
-----------
Expectation-maximisation for a mixture of Bernoulli distributions (twin:
:mod:`spikingml.analysis.bernoulli_em`). Nessler, Pfeiffer, Buesing & Maass (2013)
showed that a soft winner-take-all (WTA) population under lateral inhibition, with an
STDP rule whose fixed point is a log-probability, performs an online EM: each output
spike samples a component from the posterior (E step) and the synapses of the neuron
that fired move toward the log-probabilities of the inputs that caused it (M step).

The circuit
-----------
Two data sets run side by side, each in its own block of one network: ``mixture``
(samples of a synthetic Bernoulli mixture over 8 x 8 pixels,
:func:`spikingml.stimuli.binary_patterns.bernoulli_mixture`) and ``digits``
(scikit-learn's 8 x 8 digits binarised, bundled with scikit-learn). Every image is
presented for ``presentation``; each pixel drives an "on" and an "off" input neuron
(``2 * 64`` inputs per block), and the active one of each pair fires as a Poisson
process of rate ``input_rate``::

    threshold:  rand() < input_rate * pattern(t, i) * dt        reset: t_last = t
    y = int(t - t_last < tau_epsp)                               (a rectangular EPSP)

``t_last`` is cleared at every image onset, so ``y`` only reflects the current image.
Each block has ``n_components`` output neurons ``k`` with membrane potential and
lateral-inhibition normaliser (summed over the block, both computed every step)::

    u_k = sum_i w_ki y_i                 Z = sum_j exp(u_j + b_j)
    threshold:  rand() < wta_rate * exp(u_k + b_k) / Z * dt

so the block fires at the total rate ``wta_rate`` and each spike comes from neuron
``k`` with probability :math:`\mathrm{softmax}(u + b)_k`: the posterior of component
``k`` given the inputs seen, if :math:`w_{ki}` and :math:`b_k` are log-probabilities.
The block is silent for the first ``tau_epsp`` of every image (``gate`` in the code),
while the new image's EPSP window fills, so that every spike sees a full window.

Plasticity (:mod:`spikingml.plasticity.wta_stdp`), at every output spike of neuron k::

    w_ki = clip(w_ki + eta * s(t) * (y_i * min(c exp(-w_ki), cap) - 1), w_min, log(c))
    prior_mode "prior":        b_j = clip(b_j + prior_eta * s(t) * (delta_jk exp(-b_j) - 1), -8, 0)
    prior_mode "homeostatic":  b_j = b_j + prior_eta * s(t) * (1 / K - delta_jk)

for every neuron j of the block. The STDP rule's fixed point is
:math:`e^{w_{ki}} = c\,q\,P(x_i = 1 \mid k)` (``q = 1 - exp(-input_rate tau_epsp)``, the
chance that an active input has spiked in the EPSP window: a constant that cancels in
the softmax, since every pixel drives exactly one of its two inputs) wherever
:math:`q P > 1 / cap`; below, LTP is capped and the weight sinks to ``w_min`` (a floor
on the probabilities, like EM's pseudo-counts). The "prior" rule's fixed point is
:math:`e^{b_k} = P(k)` (Nessler et al. 2013); the homeostatic rule (Habenschuss et al.
2012) gives every neuron an equal share of the spikes (EM under a posterior constraint),
which stops one neuron from taking every input, the failure of the prior rule that
measurements showed (see the README).
``s(t)`` anneals the learning rates geometrically from 1 to ``eta_final / eta`` over
training (a stochastic-approximation schedule) and is 0 during the test.

The weights start where EM starts (:func:`~spikingml.analysis.bernoulli_em.initial_params`:
parameters estimated under random responsibilities), as :math:`\log(c\,q\,p)` +
``init_boost``: neurons that have not learned yet over-predict their inputs a little,
so they win some images and start learning.

A third and fourth population per block (``<set>.em_output``) are WTA neurons that do
not learn: they receive the same input spikes during the test, with batch EM's
parameters loaded (:math:`w = \log p`, :math:`\log(1 - p)`, :math:`b = \log \pi`). Their
clustering measures what the spiking *inference* loses, apart from learning.

No ``network_operation``: the images are a ``TimedArray``, the EPSP window is reset by
``run_regularly``, the learning-rate schedule is computed from a ``TimedArray`` of the
training's progress (:math:`s = (\mathrm{eta\_final} / \mathrm{eta})^{n / (N - 1)}`
at presentation n of N), and the code runs under ``runtime`` and ``cpp_standalone``.
:func:`build_network` creates the Brian2 objects from the data, schedules and initial
weights of :func:`prepare_inputs`; :func:`simulate` runs training and test and collects
the :class:`~spikingml.result.Result`. The run-time fields (rates, ``tau_epsp``, the
learning rates and the STDP rule's constants, ``init_boost``;
``Params.runtime_fields()``) are shared constants of the groups and synapses and the
initial weights, so the compiled program runs with new values of them without being
compiled again (:func:`simulate_many`); the data, sizes and durations are structural.

Readout and metrics
-------------------
Test images (held out from training) are each presented for ``test_presentation``; the
cluster of an image is the output neuron that fired most during it. NMI with the true
labels is compared with batch EM's MAP clusters on the same images (twin: the best
training likelihood of EM from the circuit's start and ``em_restarts`` other random
starts, since a single EM run often stops in a local optimum that the circuit escapes).
The readouts are computed in :mod:`spikingml.analysis.bernoulli_em`
(:func:`~spikingml.analysis.bernoulli_em.test_clusters`,
:func:`~spikingml.analysis.bernoulli_em.matched_correlations`), the figure drawn in
:mod:`spikingml.figures.wta_em`.

References
----------
Nessler, B., Pfeiffer, M., Buesing, L. & Maass, W. (2013). Bayesian computation emerges
in generic cortical microcircuits through spike-timing-dependent plasticity. PLoS
Comput. Biol. 9, e1003037.

Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete
data via the EM algorithm. J. R. Stat. Soc. B 39, 1-38.

Habenschuss, S., Bill, J. & Nessler, B. (2012). Homeostatic plasticity in Bayesian
spiking networks as expectation maximization with posterior constraints. NIPS 25.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, NamedTuple

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, second

from spikingml.analysis import bernoulli_em as bem
from spikingml.analysis.bernoulli_em import matched_correlations
from spikingml.analysis.stats import pearson
from spikingml.circuits._wta_em_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.plasticity.wta_stdp import (
    ExcitabilityRule,
    HomeostaticExcitability,
    LogProbabilitySTDP,
)
from spikingml.result import Phase, Result, SpikeData
from spikingml.simulation import (
    SynapticEventCounter,
    brian_device,
    check_device,
    check_seed,
    constants_equations,
    progress_reporter,
    set_constants,
    versions,
)
from spikingml.stimuli import binary_patterns as bp

__all__ = [
    "DEFAULT_DEVICE",
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "DATASETS",
    "Params",
    "Data",
    "Twin",
    "Inputs",
    "Network",
    "make_data",
    "prepare_inputs",
    "build_network",
    "simulate",
    "simulate_many",
    "twin",
    "compare",
    "figures",
    "raster_options",
    "test_clusters",
]

NAME = "wta-em"
DESCRIPTION = (
    "soft winner-take-all with log-probability STDP learns a Bernoulli mixture "
    "(online EM) on synthetic patterns and binarised digits"
)
#: Compiled as one C++ program: identical spikes to ``runtime`` (``DEVICES_IDENTICAL``),
#: a first run compiles in seconds where Cython takes a minute, and later values of the
#: run-time fields run the kept program (:func:`simulate_many`).
DEFAULT_DEVICE = "cpp_standalone"

#: The data sets, each run by its own block of the network.
DATASETS = ("mixture", "digits")

#: Test presentations whose input spikes are recorded (for the raster).
RASTER_PRESENTATIONS = 12

METRICS: dict[str, str] = {
    "nmi_spiking_<set>": "normalised mutual information between the test images' clusters "
    "(output neuron firing most) and their labels (higher is better)",
    "nmi_em_<set>": "the same for batch EM's MAP components (twin: best likelihood from the "
    "circuit's start and em_restarts others)",
    "nmi_online_em_<set>": "the same for online (stepwise) EM on the circuit's training "
    "presentations, in their order",
    "nmi_gap_<set>": "nmi_em - nmi_spiking (lower is better; target <= 0.1)",
    "nmi_inference_bound_<set>": "nmi_spiking of WTA neurons with EM's parameters loaded "
    "(no learning): the ceiling set by spiking inference",
    "weight_logprob_correlation_<set>": "mean over components, matched one to one, of the "
    "Pearson r between learned weights and EM's [log p, log(1 - p)] (target >= 0.8)",
    "weight_logprob_correlation_min_<set>": "the worst matched component's r",
    "prior_logprob_correlation_<set>": "Pearson r of learned b and EM's log pi (matched; "
    "meaningful with prior_mode=prior, where b learns log priors)",
    "output_rate_hz_<set>": "mean rate of the block's output population during the test",
    "nmi_gap_max": "the largest nmi_gap over the data sets (target <= 0.1)",
    "weight_logprob_correlation": "the smallest weight_logprob_correlation over the data "
    "sets (target >= 0.8)",
}


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of the WTA-EM circuit (default preset: the full run)."""

    circuit_name = "WtaEm"

    # data
    n_components: int = param(10, "output neurons per block = EM components", integer=True, low=2)
    n_test: int = param(400, "held-out test images per data set", integer=True, low=10)
    n_train_presentations: int = param(
        4000, "training presentations per data set", integer=True, low=10
    )
    mixture_train_size: int = param(
        1400, "training samples drawn from the synthetic mixture", integer=True, low=10
    )
    mixture_p_high: float = param(
        0.85,
        "P(pixel = 1) inside a mixture component's blob",
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
    )
    mixture_p_low: float = param(
        0.15,
        "P(pixel = 1) outside a mixture component's blob",
        low=0,
        high=1,
        low_inclusive=False,
        high_inclusive=False,
    )
    em_restarts: int = param(
        4,
        "batch EM: random starts besides the circuit's (best likelihood kept)",
        integer=True,
        low=0,
    )
    digits_threshold: float = param(7.0, "grey level (0-16) above which a pixel is 1", low=0)
    # timing and rates
    presentation: Any = param(
        40 * ms, "duration of a training image", unit=second, low=0 * ms, low_inclusive=False
    )
    test_presentation: Any = param(
        80 * ms,
        "duration of a test image (a multiple of presentation)",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
    )
    input_rate: Any = param(
        100 * Hz,
        "rate of an active input neuron",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    tau_epsp: Any = param(
        10 * ms,
        "length of the rectangular EPSP",
        unit=second,
        low=0 * ms,
        low_inclusive=False,
        runtime=True,
    )
    wta_rate: Any = param(
        200 * Hz,
        "total rate of a WTA block",
        unit=Hz,
        low=0 * Hz,
        low_inclusive=False,
        runtime=True,
    )
    # plasticity
    eta: float = param(
        0.0125, "initial STDP learning rate", low=0, low_inclusive=False, runtime=True
    )
    eta_final: float = param(
        0.002, "STDP learning rate at the end", low=0, low_inclusive=False, runtime=True
    )
    stdp_c: float = param(20.0, "c of the STDP rule: w -> log(c q p)", low=1, runtime=True)
    stdp_cap: float = param(
        40.0,
        "largest LTP factor c exp(-w); weights floor at log(c / cap)",
        low=1,
        low_inclusive=False,
        runtime=True,
    )
    init_boost: float = param(
        0.1,
        "nats added to every initial weight: neurons that have not learned yet "
        "over-predict their inputs and win until they have (optimistic start)",
        low=0,
        runtime=True,
    )
    prior_mode: str = param(
        "homeostatic",
        "excitability rule: homeostatic (equal shares of spikes) or prior (log priors)",
        choices=("prior", "homeostatic"),
    )
    prior_eta: float = param(
        0.01, "initial learning rate of the excitabilities (0: off)", low=0, runtime=True
    )
    dt: Any = param(
        1 * ms, "simulation time step", unit=second, low=0 * ms, low_inclusive=False, high=2 * ms
    )

    def check(self) -> None:
        """Cross-field checks."""
        if self.mixture_p_low >= self.mixture_p_high:
            raise ValidationError(
                self.qualname("mixture_p_low"),
                f"< mixture_p_high ({self.mixture_p_high})",
                self.mixture_p_low,
            )
        if self.eta_final > self.eta:
            raise ValidationError(
                self.qualname("eta_final"), f"<= eta ({self.eta})", self.eta_final
            )
        for name in ("presentation", "test_presentation", "tau_epsp"):
            ratio = float(getattr(self, name) / self.dt)
            if not is_whole(ratio):
                raise ValidationError(
                    self.qualname(name), f"a multiple of dt ({self.dt})", getattr(self, name)
                )
        ratio = float(self.test_presentation / self.presentation)
        if not is_whole(ratio):
            raise ValidationError(
                self.qualname("test_presentation"),
                f"a multiple of presentation ({self.presentation})",
                self.test_presentation,
            )
        if self.tau_epsp >= self.presentation:
            raise ValidationError(
                self.qualname("tau_epsp"), f"< presentation ({self.presentation})", self.tau_epsp
            )
        if self.n_test >= 1797 - self.n_components:
            raise ValidationError(self.qualname("n_test"), "< 1797 - n_components", self.n_test)
        if float(self.wta_rate * self.dt) > 0.5:
            raise ValidationError(
                self.qualname("wta_rate"), f"<= 0.5 / dt ({0.5 / self.dt})", self.wta_rate
            )

    @classmethod
    def quick(cls) -> Params:
        """1200 training presentations, 200 test images: a third of the default's time."""
        return cls(n_train_presentations=1200, n_test=200)

    @classmethod
    def tiny(cls) -> Params:
        """100 training presentations, 20 test images: the conformance test's run."""
        return cls(n_train_presentations=100, n_test=20)

    @property
    def test_repeats(self) -> int:
        """Training-presentation slots per test image."""
        return round(float(self.test_presentation / self.presentation))

    @property
    def seen_fraction(self) -> float:
        """q = 1 - exp(-input_rate * tau_epsp): the chance that an active input has spiked
        within the EPSP window (the outputs are silent until the window has filled)."""
        return float(1 - np.exp(-float(self.input_rate * self.tau_epsp)))

    def stdp_rule(self) -> LogProbabilitySTDP:
        """The STDP rule with these parameters."""
        return LogProbabilitySTDP(
            eta=self.eta,
            c=self.stdp_c,
            cap=self.stdp_cap,
            # the floor where LTP reaches its cap: fixed points exist above it
            w_min=float(np.log(self.stdp_c / self.stdp_cap)),
            w_max=float(np.log(self.stdp_c)),  # the largest fixed point, log(c * 1)
        )

    def prior_rule(self) -> ExcitabilityRule | HomeostaticExcitability:
        """The excitability rule of ``prior_mode`` (``prior_eta`` 0: off)."""
        if self.prior_mode == "homeostatic":
            return HomeostaticExcitability(eta=self.prior_eta, share=1.0 / self.n_components)
        return ExcitabilityRule(eta=self.prior_eta)


# ------------------------------------------------------------------------------ data
@dataclasses.dataclass(frozen=True)
class Data:
    """One data set of a run: training and test images, the order of training, EM's start.

    Attributes
    ----------
    name : str
        ``mixture`` or ``digits``.
    x_train, x_test : ndarray of uint8, shape (n, 64)
    y_train, y_test : ndarray of int
        True labels (component or digit).
    order : ndarray of int
        Training sample shown at every training presentation.
    start : MixtureParams
        EM's (and the circuit's) starting parameters.
    truth : MixtureParams or None
        The generating mixture (synthetic data only).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    order: np.ndarray
    start: bem.MixtureParams
    truth: bem.MixtureParams | None


def make_data(params: Params, seed: int) -> dict[str, Data]:
    """The data sets of a run, every draw from ``seed`` (deterministic)."""
    out = {}
    for offset, name in enumerate(DATASETS):
        rng = np.random.default_rng([seed, offset])
        truth = None
        if name == "mixture":
            k = params.n_components
            protos = bp.mixture_prototypes(k, rng, params.mixture_p_high, params.mixture_p_low)
            weights = np.linspace(1.0, 2.0, k)
            x, y = bp.bernoulli_mixture(
                params.mixture_train_size + params.n_test, protos, weights, rng
            )
            truth = bem.MixtureParams(np.log(weights / weights.sum()), protos)
        else:
            x, y = bp.binary_digits(params.digits_threshold)
        train, test = bp.train_test_split(len(x), params.n_test, rng)
        n_train = len(train)
        n_epochs = -(-params.n_train_presentations // n_train)
        order = np.concatenate([rng.permutation(n_train) for _ in range(n_epochs)])
        order = order[: params.n_train_presentations]
        start = bem.initial_params(x[train], params.n_components, rng)
        out[name] = Data(name, x[train], y[train], x[test], y[test], order, start, truth)
    return out


_EM_CACHE: dict[str, bem.EMResult] = {}


def _batch_em(params: Params, seed: int, data: Data) -> bem.EMResult:
    """Batch EM: the best training log-likelihood from the run's start and ``em_restarts``
    further random-responsibility starts (cached per structure, seed and data set: no
    run-time field reaches the data or EM)."""
    key = json.dumps([params.structure().to_dict(), seed, data.name], sort_keys=True)
    if key not in _EM_CACHE:
        rng = np.random.default_rng([seed, 1000 + DATASETS.index(data.name)])
        starts = [data.start] + [
            bem.initial_params(data.x_train, params.n_components, rng)
            for _ in range(params.em_restarts)
        ]
        fits = [bem.em(data.x_train, start, n_iter=200) for start in starts]
        _EM_CACHE[key] = max(fits, key=lambda fit: fit.log_likelihood[-1])
    return _EM_CACHE[key]


def _progress(params: Params) -> np.ndarray:
    """Fraction of training done at every training presentation slot, 0 to 1.

    The learning-rate factor of slot ``n`` is ``s = (eta_final / eta) ** progress[n]``
    (geometric annealing), computed by the network from the run-time ratio, and 0 during
    the test.
    """
    n_train = params.n_train_presentations
    return np.arange(n_train) / max(n_train - 1, 1)


def _n_test_slots(params: Params) -> int:
    return params.n_test * params.test_repeats


def _capacity(n_rows: int) -> int:
    """Rows padded to a power of two: runs of other lengths share the compiled code."""
    return 1 << max(int(np.ceil(np.log2(n_rows))), 10)


# --------------------------------------------------------------------------- inputs
class Inputs(NamedTuple):
    """Everything :func:`build_network` needs, prepared by :func:`prepare_inputs`.

    The network's neurons are numbered block by block: inputs ``s * n_in + i`` (data
    set ``s``, ``n_in = 2 * 64``), outputs ``half * n_sets * k + s * k + j`` (``half``
    0: the learning blocks, 1: the EM-loaded ones; ``k = n_components``).

    Attributes
    ----------
    data : dict of str to Data
        The data sets (:func:`make_data`).
    em : dict of str to MixtureParams
        Batch EM's parameters, loaded into ``<set>.em_output``.
    pattern : ndarray of float32, shape (slots, n_sets * n_in)
        Which input neurons are active in every presentation slot (training, then every
        test image ``test_repeats`` times; rows padded to a power of two).
    progress, test_on : ndarray, shape (slots,)
        Fraction of training done (the exponent of the annealing, :func:`_progress`;
        0 outside training) and 1 during the test, per slot.
    w_start : ndarray, shape (n_sets, k, n_in)
        Initial weights of the learning blocks.
    b0 : ndarray, shape (2 * n_sets * k,)
        Initial ``b`` of every output neuron.
    feed_pre, feed_post, feed_w0 : ndarray
        Input -> output synapses (every input of a block to the block's learning and
        EM-loaded outputs) and their initial weights.
    lat_pre, lat_post : ndarray
        Output -> output synapses within every block (all to all, self included).
    """

    data: dict[str, Data]
    em: dict[str, bem.MixtureParams]
    pattern: np.ndarray
    progress: np.ndarray
    test_on: np.ndarray
    w_start: np.ndarray
    b0: np.ndarray
    feed_pre: np.ndarray
    feed_post: np.ndarray
    feed_w0: np.ndarray
    lat_pre: np.ndarray
    lat_post: np.ndarray

    @property
    def n_in(self) -> int:
        """Input neurons per block (an on and an off neuron per pixel)."""
        return self.w_start.shape[2]


def _slot_arrays(params: Params, data: dict[str, Data]) -> tuple[np.ndarray, ...]:
    """``pattern``, ``progress`` and ``test_on`` of :class:`Inputs`, one row per slot."""
    n_in = 2 * data["digits"].x_train.shape[1]
    n_slots = params.n_train_presentations + _n_test_slots(params)
    pattern = np.zeros((_capacity(n_slots), len(DATASETS) * n_in), dtype=np.float32)
    progress = np.zeros(_capacity(n_slots))
    progress[: params.n_train_presentations] = _progress(params)
    test_on = np.zeros(_capacity(n_slots))
    test_on[params.n_train_presentations : n_slots] = 1.0
    for s, name in enumerate(DATASETS):
        d = data[name]
        cols = slice(s * n_in, (s + 1) * n_in)
        pattern[: params.n_train_presentations, cols] = bp.on_off_code(d.x_train[d.order])
        test_code = bp.on_off_code(d.x_test).repeat(params.test_repeats, axis=0)
        pattern[params.n_train_presentations : n_slots, cols] = test_code
    return pattern, progress, test_on


def _start_weights(params: Params, data: dict[str, Data]) -> np.ndarray:
    """Initial weights of the learning blocks, shape (n_sets, k, n_in): EM's start as
    :math:`\\log(c\\,q\\,p)` + ``init_boost``, within the STDP rule's bounds.

    They depend on run-time fields (``stdp_c``, ``stdp_cap``, ``init_boost``, and
    ``input_rate`` and ``tau_epsp`` through ``q``): a compiled program takes them as a
    run argument (:mod:`spikingml.circuits._wta_em_runs`).
    """
    stdp = params.stdp_rule()
    log_cq = np.log(params.stdp_c * params.seen_fraction) + params.init_boost
    starts = [data[name].start.log_p_on_off for name in DATASETS]
    return np.clip(log_cq + np.stack(starts), stdp.w_min, stdp.w_max)


def _block_weights(
    params: Params, seed: int, data: dict[str, Data]
) -> tuple[np.ndarray, np.ndarray, dict[str, bem.MixtureParams], np.ndarray, np.ndarray]:
    """Initial weights and excitabilities of the learning blocks (:func:`_start_weights`,
    EM's start), and batch EM's for the EM-loaded ones."""
    k, n_sets = params.n_components, len(DATASETS)
    n_in = 2 * data["digits"].x_train.shape[1]
    w_init = _start_weights(params, data)
    b_init = np.zeros((n_sets, k))
    w_em = np.zeros((n_sets, k, n_in))
    b_em = np.zeros((n_sets, k))
    em_loaded = {}
    for s, name in enumerate(DATASETS):
        d = data[name]
        b_init[s] = d.start.log_pi
        em_params = _batch_em(params, seed, d).params
        em_loaded[name] = em_params
        w_em[s] = em_params.log_p_on_off
        b_em[s] = em_params.log_pi
    return w_init, b_init, em_loaded, w_em, b_em


def _feedforward(w_init: np.ndarray, w_em: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every input of a block to the block's learning and EM-loaded outputs: pre, post, w."""
    n_sets, k, n_in = w_init.shape
    pre, post, w0 = [], [], []
    for half, weights in enumerate((w_init, w_em)):
        for s in range(n_sets):
            outs = half * n_sets * k + s * k + np.arange(k)
            ins = s * n_in + np.arange(n_in)
            pre.append(np.tile(ins, k))
            post.append(np.repeat(outs, n_in))
            w0.append(weights[s].ravel())
    return np.concatenate(pre), np.concatenate(post), np.concatenate(w0)


def _lateral(n_blocks: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """All to all (self included) within every block of ``k`` outputs: Z and the prior rule."""
    lat_pre, lat_post = [], []
    for blk in range(n_blocks):
        outs = blk * k + np.arange(k)
        lat_pre.append(np.repeat(outs, k))
        lat_post.append(np.tile(outs, k))
    return np.concatenate(lat_pre), np.concatenate(lat_post)


def prepare_inputs(params: Params, seed: int) -> Inputs:
    """The data, presentation schedules, wiring and initial weights of a run.

    No Brian2 object is made; batch EM runs here (cached, see :func:`twin`).

    Parameters
    ----------
    params : Params
        Circuit parameters.
    seed : int
        Seed of the data, the training order and EM's start.

    Returns
    -------
    Inputs
        What :func:`build_network` needs.
    """
    data = make_data(params, seed)
    pattern, progress, test_on = _slot_arrays(params, data)
    w_init, b_init, em_loaded, w_em, b_em = _block_weights(params, seed, data)
    feed = _feedforward(w_init, w_em)
    lateral = _lateral(2 * len(DATASETS), params.n_components)
    b0 = np.concatenate([b_init.ravel(), b_em.ravel()])
    return Inputs(data, em_loaded, pattern, progress, test_on, w_init, b0, *feed, *lateral)


def _with_start_weights(inputs: Inputs, params: Params) -> Inputs:
    """``inputs`` with the initial weights of ``params`` (:func:`_start_weights`).

    Everything else :func:`prepare_inputs` makes depends on the seed and on structural
    fields only, so this is ``prepare_inputs(params, seed)`` for any ``params`` of the
    same structure and seed, without drawing the data again.
    """
    w_init = _start_weights(params, inputs.data)
    n_learning = w_init.size  # the learning blocks' synapses come first (_feedforward)
    feed_w0 = np.concatenate([w_init.ravel(), inputs.feed_w0[n_learning:]])
    return inputs._replace(w_start=w_init, feed_w0=feed_w0)


# --------------------------------------------------------------------------- network
class Network(NamedTuple):
    """The Brian2 objects of the circuit, made by :func:`build_network`.

    Attributes
    ----------
    net : brian2.Network
        The network holding every object below (and the counter's monitors).
    input_group, output_group : brian2.NeuronGroup
        ``inputs`` (every block's on/off input neurons) and ``outputs`` (the learning
        blocks, then the EM-loaded ones).
    feed, lateral : brian2.Synapses
        ``feedforward`` (input -> output, the STDP rule; sums ``u``) and ``lateral``
        (output -> output within a block; sums ``Z``, the excitability rule).
    output_spikes, input_spikes : brian2.SpikeMonitor
        Every output spike; the input spikes while ``input_spikes.active``.
    counter : SynapticEventCounter
        Counts the synaptic events of a run.
    """

    net: b2.Network
    input_group: b2.NeuronGroup
    output_group: b2.NeuronGroup
    feed: b2.Synapses
    lateral: b2.Synapses
    output_spikes: b2.SpikeMonitor
    input_spikes: b2.SpikeMonitor
    counter: SynapticEventCounter


def _constants(params: Params) -> dict[str, Any]:
    """The run-time fields by their names in the equations, where they are declared
    ``(shared, constant)`` variables of the groups and synapses that use them.

    Shared variables rather than namespace constants, which ``cpp_standalone`` writes
    into the generated code: the program compiled for one value runs with another
    (:func:`spikingml.simulation.constant_args`). The rules' constants (prefixed
    ``stdp_`` and ``homeo_`` or ``prior_``) are held the same way, the bounds derived
    from ``stdp_c`` and ``stdp_cap`` included.
    """
    return {
        "input_rate": params.input_rate,
        "tau_epsp": params.tau_epsp,
        "wta_rate": params.wta_rate,
        "eta_ratio": params.eta_final / params.eta,
        **params.stdp_rule().namespace(),
        **params.prior_rule().namespace(),
    }


def build_network(params: Params, inputs: Inputs) -> Network:
    """Create every Brian2 object of the circuit (populations, synapses, monitors).

    Call it inside :func:`spikingml.simulation.brian_device` (it sets
    ``defaultclock.dt``); it runs nothing.

    Parameters
    ----------
    params : Params
        Circuit parameters.
    inputs : Inputs
        Schedules, wiring and initial weights (:func:`prepare_inputs`).

    Returns
    -------
    Network
        The network and the handles a run reads.
    """
    stdp, prior = params.stdp_rule(), params.prior_rule()
    n_sets, k = len(DATASETS), params.n_components
    # the prior rule writes b_post from every output spike of a step: Brian2 warns that
    # the order may matter; it applies them one after the other (runtime and standalone)
    b2.BrianLogger.suppress_hierarchy("brian2.codegen.generators.base")
    b2.defaultclock.dt = params.dt
    ns = {
        "pattern": b2.TimedArray(inputs.pattern, dt=params.presentation),
        "progress": b2.TimedArray(inputs.progress, dt=params.presentation),
        "test_on": b2.TimedArray(inputs.test_on, dt=params.presentation),
    }
    input_group = b2.NeuronGroup(
        n_sets * inputs.n_in,
        "t_last : second\ny = int(t - t_last < tau_epsp) : 1\n"
        "input_rate : hertz (shared, constant)\ntau_epsp : second (shared, constant)\n",
        threshold="rand() < input_rate * pattern(t, i) * dt",
        reset="t_last = t",
        namespace=ns,
        name="inputs",
    )
    input_group.t_last = -1 * second
    # an image onset clears the EPSP window: y reflects the current image only
    input_group.run_regularly("t_last = -1*second", dt=params.presentation, when="start")
    output_group = b2.NeuronGroup(
        2 * n_sets * k,
        "u : 1\nZ : 1\nb : 1\nlearn : 1 (constant)\nt_onset : second\n"
        "settled = int(t - t_onset > tau_epsp - 0.5 * dt) : 1\n"
        "gate = settled * (learn + (1 - learn) * test_on(t)) : 1\n"
        "tau_epsp : second (shared, constant)\nwta_rate : hertz (shared, constant)\n"
        "eta_ratio : 1 (shared, constant)  # eta_final / eta\n",
        threshold="rand() < wta_rate * gate * exp(u + b) / Z * dt",
        namespace=ns,
        name="outputs",
    )
    output_group.learn = np.repeat([1.0, 0.0], n_sets * k)  # learning blocks first
    # silent while a new image's EPSP window fills: every spike sees a full window
    output_group.run_regularly("t_onset = t", dt=params.presentation, when="start")
    output_group.b = inputs.b0
    # the learning-rate factor s: annealed geometrically in training, 0 in the test
    scale = "learn_post * (1 - test_on(t)) * eta_ratio_post ** progress(t)"
    # the rules' constants are shared constants of the synapses: run-time values
    feed = b2.Synapses(
        input_group,
        output_group,
        stdp.synapse_model()
        + "u_post = w * y_pre : 1 (summed)\n"
        + constants_equations(stdp.namespace()),
        on_post=stdp.on_post(scale, plastic="learn_post"),
        namespace=ns,
        name="feedforward",
    )
    feed.connect(i=inputs.feed_pre, j=inputs.feed_post)
    feed.w = inputs.feed_w0
    lateral = b2.Synapses(
        output_group,
        output_group,
        "Z_post = exp(u_pre + b_pre) : 1 (summed)\n" + constants_equations(prior.namespace()),
        on_pre=prior.on_pre(scale),
        namespace=ns,
        name="lateral",
    )
    lateral.connect(i=inputs.lat_pre, j=inputs.lat_post)
    # u must be summed before Z, which reads it
    feed.summed_updaters["u_post"].order = -3
    lateral.summed_updaters["Z_post"].order = -2
    out_mon = b2.SpikeMonitor(output_group, name="output_spikes")
    in_mon = b2.SpikeMonitor(input_group, name="input_spikes")
    net = b2.Network(input_group, output_group, feed, lateral, out_mon, in_mon)
    set_constants(net, _constants(params))  # the run-time fields' values
    # in_mon records only the raster window: it cannot count the inputs' spikes
    counter = SynapticEventCounter(net, reuse=[out_mon])
    return Network(net, input_group, output_group, feed, lateral, out_mon, in_mon, counter)


# ------------------------------------------------------------------------- simulation
class _Recorded(NamedTuple):
    """What a run recorded, read from the network before the device is left."""

    out_i: np.ndarray
    out_t: np.ndarray  # s
    in_i: np.ndarray
    in_t: np.ndarray  # s
    w_final: np.ndarray
    b_final: np.ndarray
    synaptic_events: int


def _check_params(params: Params | None) -> Params:
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "a wta_em.Params", type(params).__name__)
    return params


def _durations(params: Params) -> tuple[Any, Any, Any]:
    """Training, the test images whose inputs are recorded, and the whole test."""
    train_time = params.n_train_presentations * params.presentation
    raster_time = min(RASTER_PRESENTATIONS, params.n_test) * params.test_presentation
    test_time = params.n_test * params.test_presentation
    return train_time, raster_time, test_time


def _run_phases(network: Network, params: Params, report: Any) -> None:
    """Training, the recorded first test images, the rest of the test.

    Under ``cpp_standalone`` (``build_on_run=False``) the three runs are only recorded:
    one program, which the caller builds and runs (:mod:`spikingml.circuits._wta_em_runs`).
    """
    net, in_mon = network.net, network.input_spikes
    train_time, raster_time, test_time = _durations(params)
    in_mon.active = False
    net.run(train_time, report=report, report_period=5 * second)
    in_mon.active = True
    net.run(raster_time, report=None)
    in_mon.active = False
    if test_time > raster_time:
        net.run(test_time - raster_time, report=report, report_period=5 * second)


def _read_out(network: Network) -> _Recorded:
    out_mon, in_mon = network.output_spikes, network.input_spikes
    return _Recorded(
        np.asarray(out_mon.i[:]),
        np.asarray(out_mon.t[:] / second),
        np.asarray(in_mon.i[:]),
        np.asarray(in_mon.t[:] / second),
        np.asarray(network.feed.w[:]),
        np.asarray(network.output_group.b[:]),
        network.counter.total(),
    )


def simulate(
    params: Params | None = None,
    seed: int = 0,
    device: str = "runtime",
    progress: bool = True,
) -> Result:
    """Train both blocks on their data sets, then test them and the EM-loaded neurons.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (data, training order, start, spikes).
    device : {"runtime", "cpp_standalone"}
        Brian2 device.
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone``
        run reports nothing until it ends).

    Returns
    -------
    Result
        Populations ``<set>.input`` (spikes of the first test images only),
        ``<set>.output`` and ``<set>.em_output`` (every spike); events ``image`` (test
        image onsets); phases ``train`` and ``test``; weights ``<set>.w`` (k x 128),
        ``<set>.b`` (k), ``<set>.w_start``; ``extra`` holds the test labels and the EM
        parameters loaded into ``<set>.em_output``.

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure and the run-time fields are run arguments
    (:func:`simulate_many`): a run that changes only those (``eta``, ``wta_rate``, ...)
    compiles nothing.

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
        _run_phases(network, params, progress_reporter(progress, NAME))
        recorded = _read_out(network)
    wall = time.perf_counter() - t_wall
    return _collect(params, seed, device, inputs, recorded, wall)


# --------------------------------------------------------------------------- collect
def _split_blocks(
    params: Params, inputs: Inputs, recorded: _Recorded
) -> tuple[dict[str, SpikeData], dict[str, np.ndarray]]:
    """Spikes and weights of every block, as populations ``<set>.<kind>`` (from index 0)."""
    n_sets, k, n_in = len(DATASETS), params.n_components, inputs.n_in
    in_i, in_t, out_i, out_t = recorded.in_i, recorded.in_t, recorded.out_i, recorded.out_t
    w_learned = recorded.w_final[: n_sets * k * n_in].reshape(n_sets, k, n_in)
    populations: dict[str, SpikeData] = {}
    weights: dict[str, np.ndarray] = {}
    for s, name in enumerate(DATASETS):
        sel = (in_i >= s * n_in) & (in_i < (s + 1) * n_in)
        populations[f"{name}.input"] = SpikeData(in_i[sel] - s * n_in, in_t[sel], n_in)
        for half, suffix in enumerate(("output", "em_output")):
            lo = half * n_sets * k + s * k
            sel = (out_i >= lo) & (out_i < lo + k)
            populations[f"{name}.{suffix}"] = SpikeData(out_i[sel] - lo, out_t[sel], k)
        weights[f"{name}.w"] = w_learned[s]
        weights[f"{name}.b"] = recorded.b_final[s * k : (s + 1) * k]
        weights[f"{name}.w_start"] = inputs.w_start[s]
        weights[f"{name}.em_log_p_on_off"] = inputs.em[name].log_p_on_off
        weights[f"{name}.em_log_pi"] = inputs.em[name].log_pi
    return populations, weights


def _collect(
    params: Params, seed: int, device: str, inputs: Inputs, recorded: _Recorded, wall: float
) -> Result:
    """The run as plain data (see :func:`simulate`)."""
    train_time, _, test_time = _durations(params)
    t_train = float(train_time / second)
    t_end = float((train_time + test_time) / second)
    populations, weights = _split_blocks(params, inputs, recorded)
    extra: dict[str, Any] = {"datasets": list(DATASETS)}
    for name in DATASETS:
        extra[f"{name}.test_labels"] = inputs.data[name].y_test.tolist()
    onsets = t_train + float(params.test_presentation / second) * np.arange(params.n_test)
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=int(seed),
        device=device,
        populations=populations,
        events={"image": onsets},
        phases=[Phase("train", 0.0, t_train), Phase("test", t_train, t_end)],
        weights=weights,
        extra=extra,
        simulated_seconds=t_end,
        wall_seconds=wall,
        synaptic_events=recorded.synaptic_events,
        versions=versions(),
    )


# ----------------------------------------------------------------------------- twin
@dataclasses.dataclass(frozen=True)
class Twin:
    """Batch and online EM on every data set of a run.

    Attributes
    ----------
    batch, online : dict of str to EMResult
        Per data set, from the circuit's start; online EM sees the circuit's training
        presentations in the same order.
    nmi_batch, nmi_online : dict of str to float
        NMI of their MAP components on the test images.
    data : dict of str to Data
        The data sets.
    """

    batch: dict[str, bem.EMResult]
    online: dict[str, bem.EMResult]
    nmi_batch: dict[str, float]
    nmi_online: dict[str, float]
    data: dict[str, Data]


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """Batch and online EM with ``n_components`` components on the run's data (same start)."""
    params = Params() if params is None else params
    seed = check_seed(seed)
    data = make_data(params, seed)
    batch, online, nmi_b, nmi_o = {}, {}, {}, {}
    for name, d in data.items():
        batch[name] = _batch_em(params, seed, d)
        online[name] = bem.online_em(d.x_train, d.start, d.order)
        nmi_b[name] = bem.nmi(bem.assign(d.x_test, batch[name].params), d.y_test)
        nmi_o[name] = bem.nmi(bem.assign(d.x_test, online[name].params), d.y_test)
    return Twin(batch, online, nmi_b, nmi_o, data)


# --------------------------------------------------------------------------- compare
def _params_of(result: Result) -> Params:
    return Params.from_dict(result.params)


def test_clusters(result: Result, population: str) -> np.ndarray:
    """Cluster of every test image: the neuron of ``population`` firing most during it.

    Images during which the population is silent get the cluster ``size`` (one extra);
    see :func:`spikingml.analysis.bernoulli_em.test_clusters`.
    """
    width = float(_params_of(result).test_presentation / second)
    onsets = np.asarray(result.events["image"])
    return bem.test_clusters(result.populations[population], onsets, width)


def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twin."""
    metrics: dict[str, float] = {}
    gaps, corrs = [], []
    t_test = result.phases[-1]
    for name in DATASETS:
        labels = np.asarray(result.extra[f"{name}.test_labels"])
        nmi_s = bem.nmi(test_clusters(result, f"{name}.output"), labels)
        nmi_bound = bem.nmi(test_clusters(result, f"{name}.em_output"), labels)
        em_params = twin_output.batch[name].params
        match, r = matched_correlations(result.weights[f"{name}.w"], em_params.log_p_on_off)
        metrics[f"nmi_spiking_{name}"] = nmi_s
        metrics[f"nmi_em_{name}"] = twin_output.nmi_batch[name]
        metrics[f"nmi_online_em_{name}"] = twin_output.nmi_online[name]
        metrics[f"nmi_gap_{name}"] = twin_output.nmi_batch[name] - nmi_s
        metrics[f"nmi_inference_bound_{name}"] = nmi_bound
        metrics[f"weight_logprob_correlation_{name}"] = float(np.mean(r))
        metrics[f"weight_logprob_correlation_min_{name}"] = float(np.min(r))
        metrics[f"prior_logprob_correlation_{name}"] = pearson(
            result.weights[f"{name}.b"], em_params.log_pi[match]
        )
        metrics[f"output_rate_hz_{name}"] = result.populations[f"{name}.output"].rate(
            t_test.start, t_test.stop
        )
        gaps.append(metrics[f"nmi_gap_{name}"])
        corrs.append(metrics[f"weight_logprob_correlation_{name}"])
    metrics["nmi_gap_max"] = float(max(gaps))
    metrics["weight_logprob_correlation"] = float(min(corrs))
    return metrics


# --------------------------------------------------------------------------- figures
def raster_options(result: Result) -> dict[str, Any]:
    """What ``raster.png`` shows: the digits block during the first test images."""
    params = _params_of(result)
    start = result.phases[-1].start
    n = min(RASTER_PRESENTATIONS, params.n_test)
    return {
        "populations": ["digits.input", "digits.output", "digits.em_output"],
        "t_start": start,
        "t_stop": start + n * float(params.test_presentation / second),
        "events": ("image",),
        "bin_width": 0.02,  # 10 output neurons: finer bins are mostly empty
    }


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png``: learned weights as images beside EM's components.

    For each data set, the pixel probability each output neuron's weights encode,
    :math:`\\sigma(w_{on} - w_{off})`, above EM's :math:`p_k` of the matched component
    (same grey scale, 0 to 1). Drawn by :func:`spikingml.figures.wta_em.figures`.
    """
    from spikingml.figures import wta_em as drawing

    return drawing.figures(result, twin_output, _params_of(result), DATASETS, Path(outdir))
