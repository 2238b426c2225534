r"""Neural sampling: spikes as samples of a Boltzmann machine (Buesing et al. 2011).

The ML idea
-----------
A Boltzmann machine gives every state of ``n`` binary variables :math:`z` the probability
:math:`p(z) \propto \exp(b^\top z + \tfrac12 z^\top W z)`; Gibbs sampling draws one
variable at a time from its conditional :math:`\sigma(b_k + \sum_j W_{kj} z_j)`, and
clamping observed variables makes the sampler draw the missing ones from their
conditional distribution (filling in a half-seen image from a restricted Boltzmann machine,
RBM). Buesing, Bill, Nessler & Maass (2011) showed that a network of stochastic spiking
neurons with refractoriness does the same in continuous time: the spikes of neuron ``k``
are samples of :math:`z_k`.

The circuit
-----------
One neuron per variable. A spike at step ``s`` makes the neuron "on" (:math:`z_k = 1`)
for the ``tau_steps = tau / dt`` steps ``s + 1 .. s + tau_steps``; during them it is
refractory (it may fire again at the last of them, which keeps it on). Every spike of
neuron ``j`` reaches neuron ``k`` as a rectangular postsynaptic potential of height
``W_kj`` and duration ``tau`` (two synaptic pathways: ``I_syn_post += w`` at once and
``I_syn_post -= w`` after the delay ``tau``), so the membrane potential is exactly

.. math:: u_k = b_k + I_{ext,k} + \sum_j W_{kj} z_j

(Buesing et al.'s neural computability condition, with rectangular PSPs). Outside its
refractory period neuron ``k`` fires in a step of ``dt`` with probability

.. math:: P(\text{spike}) = \sigma(u_k - \log \text{tau\_steps})
          = \frac{1}{1 + \text{tau\_steps}\; e^{-u_k}},

a discrete-time form of Buesing et al.'s neuron, chosen so that for a single neuron the
fraction of time on is exactly :math:`\sigma(b_k)` at any ``dt`` (``tau_steps`` on-steps
per spike against a mean of ``tau_steps`` :math:`e^{-b_k}` off-steps before the next),
and as ``dt`` shrinks the rate becomes :math:`e^{u_k} / \tau` and the network's
stationary distribution of :math:`z` becomes :math:`p(z)` exactly. All neurons update in
parallel in each step, which makes an error of order ``dt / tau``: over 1000 s of
sampling (seeds 0-2, ``benchmarks/results/neural_sampling_long.md``) the KL of the
default model fell to 0.0027-0.0047 nats at ``dt = tau / 20`` and 0.0017-0.0021 at
``tau / 40``, where independent samples at one per ``tau`` would give 0.005. A variable is clamped
by a strong constant input, :math:`I_{ext} = \pm` ``clamp_strength``: a neuron with
:math:`u = +30` fires again at the end of each refractory period (on all the time), one
with :math:`u = -30` never fires. Brian2 draws the random numbers (``rand()`` in the
threshold), so runtime and ``cpp_standalone`` give equivalent, not identical, spikes.

One ``NeuronGroup`` (``units``) and one ``Synapses`` object (``psp``) hold every neuron and
connection. The first ``2 * n_units`` neurons (population ``boltzmann`` of the Result) are
two copies of a random model (``W_kj = W_jk ~ N(0, weight_std**2)``, ``b_k ~
N(bias_mean, bias_std**2)``, drawn from the seed): copy 0 free, copy 1 with its first
``n_clamped`` units clamped to values taken from one exact sample of the model. The rest
(population ``rbm``) are ``n_test`` copies of an RBM (64 visible + ``n_hidden`` hidden
neurons, weights only between the layers) trained by ``sklearn.neural_network.BernoulliRBM``
on binarised 8 x 8 scikit-learn digits (the images not tested); copy ``i`` has the upper
half of test digit ``i`` clamped and samples the lower half and the hidden units until
``rbm_duration`` (``t_end`` of its neurons: they stop firing then), while the Boltzmann
copies sample until ``duration``. No ``network_operation``: the same code runs under
``runtime`` and ``cpp_standalone``. The run-time fields (``Params.runtime_fields()``:
``weight_std``, ``bias_mean``, ``bias_std``, ``clamp_strength``, ``rbm_iter``,
``rbm_learning_rate``) only change values the network is given, never its shape: the
biases ``b``, the clamping inputs ``I_ext`` and the weights ``w`` (every pair of a
Boltzmann copy is wired, a weight of 0 included). Under ``cpp_standalone`` these arrays
are run arguments (:func:`run_time_values`, :func:`simulate_many`), so one program runs
any value of those fields; a seed is not one (Brian2 writes its seed of ``rand()`` into
``main.cpp``), so another seed compiles ``main.cpp`` again, not the code objects.

Twin and metrics
----------------
:mod:`spikingml.analysis.boltzmann`: the exact :math:`p(z)` and :math:`p(z_F \mid z_C)` by
enumerating every state, and Gibbs samplers of the same models. The circuit's samples are
its states at every time step after ``burn_in`` (:func:`~spikingml.analysis.boltzmann.\
state_step_counts`); their frequencies are compared with the exact probabilities by
:math:`D_{KL}(q_{spiking} \| p)` (nats). **Equal sample count**: one sample per ``tau`` of
spiking time, ``n_samples = (duration - burn_in) / tau``, against ``n_samples`` sweeps of
sequential single-site Gibbs sampling (one sweep resamples every free unit once; the state
after each sweep is one sample). The circuit's time average also uses the states between
those instants, which are correlated but not identical, so it has more than
``n_samples`` effective samples. The KL of a finite sample is biased upwards by about
:math:`(K - 1) / (2 n_{eff})` for ``K = 2**n`` states; ``kl_joint_iid_nats`` measures the
floor a perfect sampler of ``n_samples`` independent samples would reach. For the
digits, the sampled marginal of each missing pixel (its fraction of time on after
``rbm_burn_in``, or of block Gibbs sweeps, one per ``tau``) predicts the pixel
(``> 0.5``); ``fill_in_accuracy`` is the fraction of lower-half pixels predicted right.

References
----------
Buesing, L., Bill, J., Nessler, B. & Maass, W. (2011). Neural dynamics as sampling: a
model for stochastic computation in recurrent networks of spiking neurons. PLoS Comput.
Biol. 7, e1002211.

Petrovici, M. A., Bill, J., Bytschok, I., Schemmel, J. & Meier, K. (2016). Stochastic
inference with spiking neurons in the high-conductance state. Phys. Rev. E 94, 042312.

Hinton, G. E. (2002). Training products of experts by minimizing contrastive
divergence. Neural Computation 14, 1771-1800.

Geman, S. & Geman, D. (1984). Stochastic relaxation, Gibbs distributions, and the
Bayesian restoration of images. IEEE Trans. Pattern Anal. Mach. Intell. 6, 721-741.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path
from typing import Any, NamedTuple

import brian2 as b2
import numpy as np
from brian2 import ms, second

from spikingml._memo import last_comparison
from spikingml.analysis import boltzmann as bm
from spikingml.circuits._neural_sampling_runs import simulate_many
from spikingml.errors import ValidationError
from spikingml.params import CircuitParams, is_whole, param
from spikingml.result import Phase, Result, SpikeData
from spikingml.simulation import (
    SynapticEventCounter,
    brian_device,
    check_device,
    check_seed,
    progress_reporter,
    versions,
)
from spikingml.stimuli.binary_patterns import IMAGE_SIDE, binary_digits, train_test_split

__all__ = [
    "NAME",
    "DESCRIPTION",
    "METRICS",
    "Network",
    "Params",
    "Task",
    "Twin",
    "build_network",
    "compare",
    "figures",
    "prepare_inputs",
    "raster_options",
    "run_time_values",
    "sampled",
    "simulate",
    "simulate_many",
    "twin",
]

NAME = "neural-sampling"
DESCRIPTION = (
    "stochastic neurons with a refractory 'on' state sample a Boltzmann machine and fill "
    "in occluded digits from an RBM, beside exact enumeration and Gibbs sampling "
    "(Buesing et al. 2011)"
)
DEFAULT_DEVICE = "cpp_standalone"
DEVICES_IDENTICAL = False  # rand() in the threshold

#: Every metric :func:`compare` returns.
METRICS: dict[str, str] = {
    "kl_joint_nats": "D_KL(spiking state frequencies || exact p(z)) of the free copy of "
    "the random model, nats (lower is better; target <= 0.05 after 100 s)",
    "kl_joint_gibbs_nats": "the same for sequential Gibbs sampling at equal sample count "
    "(one sweep per tau of spiking time; reference)",
    "kl_joint_iid_nats": "mean KL of n_samples independent samples of the exact p(z) "
    "itself: the finite-sample floor at this count (reference)",
    "kl_joint_bias_formula_nats": "(K - 1) / (2 n_samples), K = 2**n_units: the plug-in "
    "KL's bias for n_samples independent samples when every state is seen (reference)",
    "kl_conditional_nats": "D_KL(spiking frequencies of the free units' states || exact "
    "p(z_F | z_C)) of the clamped copy, nats (lower is better)",
    "kl_conditional_gibbs_nats": "the same for Gibbs sampling of the clamped model at "
    "equal sample count (reference)",
    "kl_conditional_iid_nats": "the floor of independent exact samples at that count",
    "marginal_max_abs_error": "largest |P_spiking(z_k = 1) - P_exact(z_k = 1)| over the "
    "free copy's units (lower is better)",
    "fill_in_accuracy": "fraction of the occluded lower-half pixels of the test digits "
    "predicted right by the spiking RBM's sampled marginals (> 0.5) (higher is better)",
    "fill_in_accuracy_gibbs": "the same for block Gibbs sampling of the same RBM at equal "
    "sample count (one sweep per tau)",
    "fill_in_accuracy_difference": "fill_in_accuracy - fill_in_accuracy_gibbs (target: "
    "|difference| <= 0.02)",
    "fill_in_accuracy_gibbs_long": "block Gibbs with 10 times the sweeps (another chain): "
    "what the RBM itself reaches (reference)",
    "fill_in_accuracy_pixel_mean": "baseline without the RBM: each occluded pixel predicted "
    "by its mean over the training digits (> 0.5)",
    "fill_in_agreement": "fraction of occluded pixels where spiking and Gibbs predict the "
    "same value (higher is better)",
    "n_samples": "samples per chain: (duration - burn_in) / tau, also the Gibbs sweeps",
    "mean_rate_hz": "mean firing rate of the free copy's neurons (Hz)",
}


# --------------------------------------------------------------------------- parameters
def _time(default: Any, doc: str, **bounds: Any) -> Any:
    return param(default, doc, unit=second, low=0 * ms, low_inclusive=False, **bounds)


@dataclasses.dataclass(frozen=True)
class Params(CircuitParams):
    """Parameters of neural sampling (default preset: 10 units for 100 s, 100 digits)."""

    circuit_name = "NeuralSampling"

    n_units: int = param(
        10, "variables of the random Boltzmann machine", integer=True, low=2, high=16
    )
    weight_std: float = param(0.5, "W_kj = W_jk ~ N(0, weight_std**2)", low=0, runtime=True)
    bias_mean: float = param(-0.5, "b_k ~ N(bias_mean, bias_std**2)", runtime=True)
    bias_std: float = param(0.5, "standard deviation of the biases", low=0, runtime=True)
    n_clamped: int = param(3, "units clamped in the second copy", integer=True, low=1)
    clamp_strength: float = param(
        30.0,
        "|I_ext| of a clamped neuron (+: always on, -: never fires)",
        low=10,
        high=100,
        runtime=True,
    )
    tau: Any = _time(10 * ms, "on (refractory) time after a spike = PSP duration")
    duration: Any = _time(100 * second, "simulated time of the Boltzmann copies")
    burn_in: Any = _time(100 * ms, "start of the counted samples")
    n_test: int = param(100, "test digits filled in (one RBM copy each)", integer=True, low=1)
    n_hidden: int = param(100, "hidden units of the RBM", integer=True, low=1)
    rbm_iter: int = param(30, "training epochs of BernoulliRBM", integer=True, low=1, runtime=True)
    rbm_learning_rate: float = param(
        0.05, "learning rate of BernoulliRBM", low=0, low_inclusive=False, runtime=True
    )
    rbm_duration: Any = _time(2 * second, "sampling time of the RBM copies")
    rbm_burn_in: Any = _time(100 * ms, "start of the counted RBM samples")
    dt: Any = _time(0.5 * ms, "simulation time step", high=1 * ms)

    def check(self) -> None:
        """Cross-field checks: whole numbers of steps, burn-ins before the ends."""
        for name in ("tau", "duration", "burn_in", "rbm_duration", "rbm_burn_in"):
            steps = float(getattr(self, name) / self.dt)
            if not (is_whole(steps) and 1 <= round(steps) <= 10**9):
                raise ValidationError(
                    self.qualname(name),
                    f"a whole number of steps dt ({self.dt}), at most 1e9",
                    getattr(self, name),
                )
        if self.n_clamped >= self.n_units:
            raise ValidationError(
                self.qualname("n_clamped"), f"< n_units ({self.n_units})", self.n_clamped
            )
        for start, stop in (("burn_in", "duration"), ("rbm_burn_in", "rbm_duration")):
            if not getattr(self, start) + self.tau <= getattr(self, stop):
                raise ValidationError(
                    self.qualname(start), f"<= {stop} - tau", getattr(self, start)
                )
        if self.rbm_duration > self.duration:
            raise ValidationError(
                self.qualname("rbm_duration"), f"<= duration ({self.duration})", self.rbm_duration
            )
        if self.n_test >= 1797:
            raise ValidationError(self.qualname("n_test"), "< 1797 (the digits)", self.n_test)

    @classmethod
    def quick(cls) -> Params:
        """10 units for 10 s; 20 digits, an RBM of 50 hidden units sampled for 1 s."""
        return cls(
            duration=10 * second, n_test=20, n_hidden=50, rbm_iter=10, rbm_duration=1 * second
        )

    @classmethod
    def tiny(cls) -> Params:
        """10 units for 1 s; 4 digits, 16 hidden units, 0.2 s: the conformance test's run."""
        return cls(
            duration=1 * second,
            n_test=4,
            n_hidden=16,
            rbm_iter=2,
            rbm_duration=200 * ms,
            burn_in=50 * ms,
            rbm_burn_in=50 * ms,
        )

    def steps(self, name: str) -> int:
        """A time field in steps of ``dt``."""
        return round(float(getattr(self, name) / self.dt))

    @property
    def n_samples(self) -> float:
        """Samples per chain at one per ``tau``: ``(duration - burn_in) / tau``."""
        return float((self.duration - self.burn_in) / self.tau)

    @property
    def rbm_sweeps(self) -> tuple[int, int]:
        """Block Gibbs sweeps of the RBM at one per ``tau``: (burn-in, counted)."""
        burn = round(float(self.rbm_burn_in / self.tau))
        return burn, round(float(self.rbm_duration / self.tau)) - burn


# ------------------------------------------------------------------------------ inputs
@dataclasses.dataclass(frozen=True)
class Task:
    """The models and images of a run (:func:`prepare_inputs`), shared by circuit and twin.

    Attributes
    ----------
    W, b : ndarray
        The random Boltzmann machine (``n_units`` x ``n_units``, ``n_units``).
    clamped_values : ndarray of {0, 1}
        Values of units ``0 .. n_clamped - 1`` in the clamped copy.
    rbm_W, rbm_b_visible, rbm_b_hidden : ndarray
        The trained RBM (64 x ``n_hidden``, 64, ``n_hidden``).
    images : ndarray of uint8, shape (n_test, 64)
        The test digits (binary, row by row).
    observed : ndarray of bool, shape (64,)
        The clamped (upper-half) pixels.
    pixel_mean : ndarray, shape (64,)
        Each pixel's mean over the training digits.
    """

    W: np.ndarray
    b: np.ndarray
    clamped_values: np.ndarray
    rbm_W: np.ndarray
    rbm_b_visible: np.ndarray
    rbm_b_hidden: np.ndarray
    images: np.ndarray
    observed: np.ndarray
    pixel_mean: np.ndarray


@functools.lru_cache(maxsize=4)
def _trained_rbm(
    n_hidden: int, n_iter: int, learning_rate: float, n_test: int, seed: int
) -> tuple[np.ndarray, ...]:
    from sklearn.neural_network import BernoulliRBM

    x, _ = binary_digits()
    train, test = train_test_split(len(x), n_test, np.random.default_rng([seed, 0x5A3]))
    rbm = BernoulliRBM(
        n_components=n_hidden,
        learning_rate=learning_rate,
        n_iter=n_iter,
        batch_size=10,
        random_state=seed,
    )
    rbm.fit(x[train].astype(float))
    pixel_mean = x[train].mean(axis=0)
    return (
        rbm.components_.T.copy(),
        rbm.intercept_visible_,
        rbm.intercept_hidden_,
        x[test],
        pixel_mean,
    )


def prepare_inputs(params: Params, seed: int) -> Task:
    """The random model, its clamped values, the trained RBM and the test digits of ``seed``."""
    seed = check_seed(seed)
    rng = np.random.default_rng([seed, 0xB0172])
    W, b = bm.random_boltzmann_machine(
        params.n_units, rng, params.weight_std, params.bias_mean, params.bias_std
    )
    state = rng.choice(2**params.n_units, p=bm.exact_distribution(W, b))
    clamped = bm.all_states(params.n_units)[state, : params.n_clamped].copy()
    rbm_W, b_v, b_h, images, pixel_mean = _trained_rbm(
        params.n_hidden, params.rbm_iter, params.rbm_learning_rate, params.n_test, seed
    )
    observed = np.arange(IMAGE_SIDE**2) < IMAGE_SIDE**2 // 2
    return Task(W, b, clamped, rbm_W, b_v, b_h, images, observed, pixel_mean)


def _boltzmann_wiring(task: Task, n_copies: int) -> tuple[np.ndarray, ...]:
    """Presynaptic and postsynaptic neuron and weight of every synapse of the copies."""
    n = len(task.b)
    # every pair, whatever its weight (a weight of 0 included): the wiring is the
    # structure's, the weights are run-time values
    post, pre = np.nonzero(~np.eye(n, dtype=bool))
    offsets = n * np.repeat(np.arange(n_copies), len(pre))
    w = np.tile(task.W[post, pre], n_copies)
    return np.tile(pre, n_copies) + offsets, np.tile(post, n_copies) + offsets, w


def _rbm_wiring(task: Task, first: int) -> tuple[np.ndarray, ...]:
    """Both directions of every visible-hidden weight, within each copy of the RBM.

    Copy ``i`` occupies neurons ``first + i * (64 + n_hidden)`` onwards: the 64 visible
    units, then the hidden ones.
    """
    n_v, n_h = task.rbm_W.shape
    v, h = np.meshgrid(np.arange(n_v), n_v + np.arange(n_h), indexing="ij")
    pre, post = np.r_[v.ravel(), h.ravel()], np.r_[h.ravel(), v.ravel()]
    w = np.r_[task.rbm_W.ravel(), task.rbm_W.ravel()]
    n_copies, size = len(task.images), n_v + n_h
    offsets = first + size * np.repeat(np.arange(n_copies), len(pre))
    pre, post = np.tile(pre, n_copies) + offsets, np.tile(post, n_copies) + offsets
    return pre, post, np.tile(w, n_copies)


def _wiring(params: Params, task: Task) -> tuple[np.ndarray, ...]:
    """Presynaptic and postsynaptic neuron and weight of every synapse of ``psp``."""
    wirings = (_boltzmann_wiring(task, 2), _rbm_wiring(task, first=2 * params.n_units))
    pre, post, w = (np.concatenate(parts) for parts in zip(*wirings, strict=True))
    return pre, post, w


def run_time_values(network: Network, params: Params, task: Task) -> dict[Any, np.ndarray]:
    """The values that the run-time fields set in ``network``, as ``run_args``.

    The biases ``b`` and clamping inputs ``I_ext`` of the neurons and the weights ``w``
    of the synapses, made from the models and digits of ``task`` (drawn and trained with
    ``params``' run-time fields). ``network`` may have been built for other values of
    those fields: its sizes and wiring are the structure's.

    Parameters
    ----------
    network : Network
        The objects of :func:`build_network`.
    params : Params
        The run's parameters.
    task : Task
        Its models and digits (:func:`prepare_inputs` of ``params`` and the run's seed).

    Returns
    -------
    dict
        ``{network.units.b: ..., network.units.I_ext: ..., network.psp.w: ...}``.
    """
    values = _neuron_values(params, task)
    return {
        network.units.b: values["b"],
        network.units.I_ext: values["I_ext"],
        network.psp.w: _wiring(params, task)[2],
    }


def _neuron_values(params: Params, task: Task) -> dict[str, np.ndarray]:
    """Bias, clamping input and end of sampling of every neuron (Boltzmann copies, RBM)."""
    n, strength = params.n_units, params.clamp_strength
    ext = np.zeros(2 * n)
    ext[n : n + params.n_clamped] = np.where(task.clamped_values > 0, strength, -strength)
    clamp_v = np.where(task.images > 0, strength, -strength) * task.observed
    n_images, n_h = len(task.images), len(task.rbm_b_hidden)
    rbm_ext = np.c_[clamp_v, np.zeros((n_images, n_h))].ravel()
    rbm_b = np.tile(np.r_[task.rbm_b_visible, task.rbm_b_hidden], n_images)
    t_end = np.r_[
        np.full(2 * n, float(params.duration)), np.full(len(rbm_b), float(params.rbm_duration))
    ]
    return {"b": np.r_[np.tile(task.b, 2), rbm_b], "I_ext": np.r_[ext, rbm_ext], "t_end": t_end}


# ------------------------------------------------------------------------------ network
#: A sampling neuron: membrane potential ``u``; it samples until ``t_end``.
_NEURON = """
u = b + I_ext + I_syn : 1
b : 1 (constant)
I_ext : 1 (constant)
I_syn : 1
t_end : second (constant)
tau_steps : 1 (shared, constant)
"""
#: Outside the refractory period: a spike in this step with probability sigma(u - log tau_steps).
_FIRING = "t < t_end and rand() < 1 / (1 + tau_steps * exp(-u))"


class Network(NamedTuple):
    """The Brian2 objects of a run (:func:`build_network`)."""

    net: b2.Network
    units: b2.NeuronGroup
    psp: b2.Synapses
    spikes: b2.SpikeMonitor
    counter: SynapticEventCounter


def build_network(params: Params, task: Task) -> Network:
    """Create the sampling neurons, their rectangular-PSP synapses and the spike monitor.

    One group ``units`` holds every neuron: the free and the clamped copy of the
    Boltzmann machine (``2 * n_units``, sampling until ``duration``), then the RBM copies
    (sampling until ``rbm_duration``); one ``Synapses`` object ``psp`` holds every
    connection, each within its copy (one group and one synapse object: half the code
    objects of two, so half the compile time).

    Parameters
    ----------
    params : Params
        Circuit parameters.
    task : Task
        The models, clamped values and digits (:func:`prepare_inputs`).

    Returns
    -------
    Network
        The objects, collected in a ``brian2.Network``; nothing is run yet.
    """
    b2.defaultclock.dt = params.dt
    values = _neuron_values(params, task)
    units = b2.NeuronGroup(
        len(values["b"]),
        _NEURON,
        threshold=_FIRING,
        refractory=params.tau,  # the threshold holds only outside it
        method="exact",
        name="units",
    )
    units.b = values["b"]
    units.I_ext = values["I_ext"]
    units.t_end = values["t_end"] * second
    units.tau_steps = params.steps("tau")
    # a rectangular PSP of height w and duration tau: up at the spike, down tau later
    psp = b2.Synapses(
        units,
        units,
        "w : 1 (constant)",
        on_pre={"up": "I_syn_post += w", "down": "I_syn_post -= w"},
        delay={"up": 0 * ms, "down": params.tau},
        name="psp",
    )
    pre, post, w = _wiring(params, task)
    psp.connect(i=pre, j=post)
    psp.w = w
    spikes = b2.SpikeMonitor(units, name="spikes")
    net = b2.Network(units, psp, spikes)
    counter = SynapticEventCounter(net)
    return Network(net, units, psp, spikes, counter)


def _populations(params: Params, task: Task, network: Network) -> dict[str, SpikeData]:
    """The spikes of the Boltzmann copies and of the RBM copies, as two populations."""
    i = np.asarray(network.spikes.i[:])
    t = np.asarray(network.spikes.t[:] / second)
    first_rbm = 2 * params.n_units
    rbm = i >= first_rbm
    return {
        "boltzmann": SpikeData(i[~rbm], t[~rbm], first_rbm),
        "rbm": SpikeData(i[rbm] - first_rbm, t[rbm], len(network.units) - first_rbm),
    }


def simulate(
    params: Params | None = None, seed: int = 0, device: str = "runtime", progress: bool = True
) -> Result:
    """Sample the random model (free and clamped) and fill in the test digits.

    Parameters
    ----------
    params : Params, optional
        Circuit parameters (the default preset if omitted).
    seed : int
        Seed of every random draw (the model, the RBM, the digits, the spikes).
    device : {"runtime", "cpp_standalone"}
        Brian2 device.
    progress : bool
        Show progress of the simulation on stderr (``runtime``; a ``cpp_standalone`` run
        reports nothing until it ends).

    Returns
    -------
    Result
        Populations ``boltzmann`` (neurons ``0 .. n_units - 1`` the free copy, the next
        ``n_units`` the clamped copy) and ``rbm`` (copy ``i``, neurons ``i * (64 +
        n_hidden) + k``: ``k < 64`` the visible pixels, then the hidden units); phases
        ``fill_in`` and ``boltzmann_only``; weights ``W``, ``b``, ``clamped_values``,
        ``rbm_W``, ``rbm_b_visible``, ``rbm_b_hidden``, ``images``, ``observed``,
        ``pixel_mean``.

    Notes
    -----
    Under ``cpp_standalone`` the program is built in the persistent build directory of
    the parameters' structure (:func:`simulate_many`): run again, or with other values
    of the run-time fields, it compiles nothing; with another seed, only ``main.cpp``
    (Brian2's seed) is compiled again.

    See Also
    --------
    simulate_many : several parameter sets and seeds, one program each.
    """
    params = _check_params(params)
    check_device(device)
    seed = check_seed(seed)
    if device == "cpp_standalone":
        (result,) = simulate_many([(params, seed)], device, progress)
        return result
    task = prepare_inputs(params, seed)
    t_wall = time.perf_counter()
    with brian_device(device, seed):
        network = build_network(params, task)
        _run(network, params, device, progress)
        return _collect(params, task, network, seed, device, t_wall)


def _check_params(params: Params | None) -> Params:
    """``params``, or the default preset if ``None``; refuses another circuit's."""
    params = Params() if params is None else params
    if not isinstance(params, Params):
        raise ValidationError("params", "a neural_sampling.Params", type(params).__name__)
    return params


def _run(network: Network, params: Params, device: str, progress: bool) -> None:
    """Run the network for ``duration`` (under ``cpp_standalone`` with ``build_on_run=False``:
    only record the run; the caller builds the program and runs it)."""
    # no report under cpp_standalone: the compiled program would read the process clock
    # at every step, and its output is not shown (the runs go through simulate_many)
    report = None if device == "cpp_standalone" else progress_reporter(progress, NAME)
    network.net.run(params.duration, report=report, report_period=10 * second)


def _collect(
    params: Params, task: Task, network: Network, seed: int, device: str, t_wall: float
) -> Result:
    """Read a finished run into a :class:`Result` (wall time from ``t_wall``)."""
    populations = _populations(params, task, network)
    synaptic_events = network.counter.total()
    wall = time.perf_counter() - t_wall
    duration, rbm_duration = float(params.duration), float(params.rbm_duration)
    phases = [Phase("fill_in", 0.0, rbm_duration)]
    if duration > rbm_duration:
        phases.append(Phase("boltzmann_only", rbm_duration, duration))
    weights = {k: np.asarray(v) for k, v in dataclasses.asdict(task).items() if k != "observed"}
    weights["observed"] = task.observed.astype(np.uint8)
    return Result(
        circuit=NAME,
        params=params.to_dict(),
        seed=seed,
        device=device,
        populations=populations,
        phases=phases,
        weights=weights,
        simulated_seconds=duration,
        wall_seconds=wall,
        synaptic_events=synaptic_events,
        versions=versions(),
    )


# --------------------------------------------------------------------------------- twin
@dataclasses.dataclass(frozen=True)
class Twin:
    """Exact probabilities and Gibbs samples of the same models.

    Attributes
    ----------
    p_joint : ndarray, shape (2**n_units,)
        Exact :math:`p(z)`.
    p_conditional : ndarray, shape (2**(n_units - n_clamped),)
        Exact :math:`p(z_F \\mid z_C)` of the clamped copy's free units.
    gibbs_joint, gibbs_conditional : ndarray of int
        Gibbs sample counts of every state, ``n_samples`` sweeps each.
    gibbs_joint_codes : ndarray of int
        The joint Gibbs chain's state after every sweep (its codes, in order).
    iid_kl_joint, iid_kl_conditional : float
        KL floor of ``n_samples`` independent exact samples.
    gibbs_marginals : ndarray, shape (n_test, 64)
        Block Gibbs marginals of the visible units of the RBM (clamped ones included).
    gibbs_long_marginals : ndarray, shape (n_test, 64)
        The same from another chain with 10 times the sweeps (and burn-in).
    pixel_mean : ndarray, shape (64,)
        Each pixel's mean over the training digits (the baseline's prediction).
    images : ndarray, shape (n_test, 64)
        The test digits.
    observed : ndarray of bool, shape (64,)
        The clamped pixels.
    """

    p_joint: np.ndarray
    p_conditional: np.ndarray
    gibbs_joint: np.ndarray
    gibbs_conditional: np.ndarray
    gibbs_joint_codes: np.ndarray
    iid_kl_joint: float
    iid_kl_conditional: float
    gibbs_marginals: np.ndarray
    gibbs_long_marginals: np.ndarray
    pixel_mean: np.ndarray
    images: np.ndarray
    observed: np.ndarray


def twin(params: Params | None = None, seed: int = 0) -> Twin:
    """Enumeration and Gibbs sampling of the models of ``seed``, at the circuit's sample count."""
    params = Params() if params is None else params
    task = prepare_inputs(params, seed)
    rng = np.random.default_rng([check_seed(seed), 0x61BB5])
    n_sweeps = round(params.n_samples)
    burn = round(float(params.burn_in / params.tau))
    clamped = np.arange(params.n_clamped)
    p_joint = bm.exact_distribution(task.W, task.b)
    p_cond = bm.conditional_distribution(task.W, task.b, clamped, task.clamped_values)
    free = np.arange(params.n_clamped, params.n_units)
    # the clamped model's free units: biases shifted by the clamped units' input
    W_free = task.W[np.ix_(free, free)]
    b_free = task.b[free] + task.W[np.ix_(free, clamped)] @ task.clamped_values
    rbm_burn, rbm_sweeps = params.rbm_sweeps
    codes = bm.gibbs_state_sequence(task.W, task.b, n_sweeps, rng, burn)
    rbm = (task.rbm_W, task.rbm_b_visible, task.rbm_b_hidden, task.images, task.observed)
    return Twin(
        p_joint=p_joint,
        p_conditional=p_cond,
        gibbs_joint=np.bincount(codes, minlength=len(p_joint)),
        gibbs_conditional=bm.gibbs_state_counts(W_free, b_free, n_sweeps, rng, burn),
        gibbs_joint_codes=codes,
        iid_kl_joint=bm.iid_kl_floor(p_joint, n_sweeps, rng),
        iid_kl_conditional=bm.iid_kl_floor(p_cond, n_sweeps, rng),
        gibbs_marginals=bm.rbm_gibbs_fill_in(*rbm, rbm_sweeps, rng, rbm_burn),
        gibbs_long_marginals=bm.rbm_gibbs_fill_in(*rbm, 10 * rbm_sweeps, rng, 10 * rbm_burn),
        pixel_mean=task.pixel_mean,
        images=task.images,
        observed=task.observed,
    )


# ------------------------------------------------------------------------------ compare
def _steps(spikes: SpikeData, dt: float) -> np.ndarray:
    return np.rint(spikes.times / dt).astype(np.int64)


def sampled(result: Result) -> dict[str, np.ndarray]:
    """What the circuit sampled: state step counts of both copies and the RBM marginals.

    Returns
    -------
    dict
        ``joint`` (steps in every state of the free copy), ``conditional`` (of the clamped
        copy's free units), ``marginals`` (each free-copy unit's fraction of time on) and
        ``fill_in`` (n_test x 64: each visible unit's fraction of time on), all counted
        after the burn-ins.
    """
    p = Params.from_dict(result.params)
    dt, n, n_c = float(p.dt), p.n_units, p.n_clamped
    tau_steps = p.steps("tau")
    spikes = result.populations["boltzmann"]
    steps, idx = _steps(spikes, dt), spikes.indices
    window = (p.steps("burn_in"), p.steps("duration"))
    free = idx < n
    joint = bm.state_step_counts(idx[free], steps[free], n, tau_steps, *window)
    cond = (idx >= n + n_c) & (idx < 2 * n)
    conditional = bm.state_step_counts(
        idx[cond] - n - n_c, steps[cond], n - n_c, tau_steps, *window
    )
    marginals = bm.on_fractions(idx[free], steps[free], n, tau_steps, *window)
    rbm = result.populations["rbm"]
    on = bm.on_fractions(
        rbm.indices,
        _steps(rbm, dt),
        rbm.size,
        tau_steps,
        p.steps("rbm_burn_in"),
        p.steps("rbm_duration"),
    )
    n_images = len(result.weights["images"])
    fill_in = on.reshape(n_images, -1)[:, : IMAGE_SIDE**2]
    return {"joint": joint, "conditional": conditional, "marginals": marginals, "fill_in": fill_in}


@last_comparison  # figures() compares again: the same value, not computed twice
def compare(result: Result, twin_output: Twin) -> dict[str, float]:
    """The metrics of :data:`METRICS` for a run and its twin."""
    p = Params.from_dict(result.params)
    s = sampled(result)
    exact_marginals = bm.all_states(p.n_units).T @ twin_output.p_joint
    missing = ~twin_output.observed
    spiking_pred = s["fill_in"][:, missing] > 0.5
    gibbs_pred = twin_output.gibbs_marginals[:, missing] > 0.5
    acc = bm.fill_in_accuracy(s["fill_in"], twin_output.images, missing)
    acc_gibbs = bm.fill_in_accuracy(twin_output.gibbs_marginals, twin_output.images, missing)
    spikes = result.populations["boltzmann"]
    n_free_spikes = np.count_nonzero(spikes.indices < p.n_units)
    return {
        "kl_joint_nats": bm.kl_divergence(s["joint"], twin_output.p_joint),
        "kl_joint_gibbs_nats": bm.kl_divergence(twin_output.gibbs_joint, twin_output.p_joint),
        "kl_joint_iid_nats": float(twin_output.iid_kl_joint),
        "kl_joint_bias_formula_nats": bm.kl_bias_formula(2**p.n_units, p.n_samples),
        "kl_conditional_nats": bm.kl_divergence(s["conditional"], twin_output.p_conditional),
        "kl_conditional_gibbs_nats": bm.kl_divergence(
            twin_output.gibbs_conditional, twin_output.p_conditional
        ),
        "kl_conditional_iid_nats": float(twin_output.iid_kl_conditional),
        "marginal_max_abs_error": float(np.max(np.abs(s["marginals"] - exact_marginals))),
        "fill_in_accuracy": acc,
        "fill_in_accuracy_gibbs": acc_gibbs,
        "fill_in_accuracy_difference": acc - acc_gibbs,
        "fill_in_accuracy_gibbs_long": bm.fill_in_accuracy(
            twin_output.gibbs_long_marginals, twin_output.images, missing
        ),
        "fill_in_accuracy_pixel_mean": bm.fill_in_accuracy(
            np.tile(twin_output.pixel_mean, (len(twin_output.images), 1)),
            twin_output.images,
            missing,
        ),
        "fill_in_agreement": float(np.mean(spiking_pred == gibbs_pred)),
        "n_samples": float(p.n_samples),
        "mean_rate_hz": float(n_free_spikes / (p.n_units * result.simulated_seconds)),
    }


# ------------------------------------------------------------------------------ figures
def raster_options(result: Result) -> dict[str, Any]:
    """``raster.png``: both Boltzmann copies over the first second, 20 ms bins."""
    return {
        "populations": ["boltzmann"],
        "t_start": 0.0,
        "t_stop": min(1.0, result.t_stop),
        "bin_width": 0.02,
    }


def figures(result: Result, twin_output: Twin, outdir: Path) -> list[Path]:
    """Write ``comparison.png`` (state probabilities, KL, marginals) and ``fill_in.png``.

    Drawn by :mod:`spikingml.figures.neural_sampling`.
    """
    from spikingml.figures import neural_sampling as drawing

    metrics = compare(result, twin_output)
    return drawing.figures(result, twin_output, sampled(result), metrics, Path(outdir))
